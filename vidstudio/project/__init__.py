"""The project document: JSON with a format version, migrations, atomic saves, backups and recovery files.

Headless: no Qt, no torch.
"""

from vidstudio.project.document import FORMAT_VERSION, SUFFIX, Asset, Project
from vidstudio.project.io import dumps_project, embeddable_json, load_project, loads_project, save_project
from vidstudio.project.migrations import MIGRATIONS, migration
from vidstudio.project.recovery import (
    discard_recovery,
    find_recovery,
    list_recoveries,
    load_recovery,
    recovery_path,
    write_recovery,
)

__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "Asset",
    "Project",
    "dumps_project",
    "embeddable_json",
    "load_project",
    "loads_project",
    "save_project",
    "MIGRATIONS",
    "migration",
    "discard_recovery",
    "find_recovery",
    "list_recoveries",
    "load_recovery",
    "recovery_path",
    "write_recovery",
]
