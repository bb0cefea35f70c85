"""Autosave and recovery files: a crash, a killed process or a power cut costs at most the last minutes.

Recovery files live in the user data folder (``platformdirs``; ``VIDSTUDIO_RECOVERY_DIR`` overrides it), one
per project file (named after the file and a hash of its absolute path) or per unsaved session. Each is a
complete project document with an extra top-level ``recovery`` record (which file it belongs to and when it
was written), written atomically. The application offers to recover when a recovery file is newer than its
project file, and deletes it after a successful save or a deliberate close.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from vidstudio.errors import ProjectError
from vidstudio.project.document import Project
from vidstudio.project.io import atomic_write_text, dumps_project, loads_project

RECOVERY_SUFFIX = ".vidproj.autosave"
RECOVERY_KEY = "recovery"


def recovery_dir() -> Path:
    """The folder that holds recovery files (created on demand)."""
    env = os.environ.get("VIDSTUDIO_RECOVERY_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("vidstudio", "VidStudio")) / "recovery"


def recovery_path(project_path: str | os.PathLike | None, session: str = "untitled") -> Path:
    """The recovery file for a project file, or for an unsaved project of ``session``."""
    if project_path is None:
        return recovery_dir() / f"{session}{RECOVERY_SUFFIX}"
    p = Path(project_path).expanduser().resolve()
    digest = hashlib.sha1(str(p).encode("utf-8")).hexdigest()[:10]
    return recovery_dir() / f"{p.stem}-{digest}{RECOVERY_SUFFIX}"


def write_recovery(project: Project, session: str = "untitled") -> Path:
    """Writes the project's recovery file atomically and returns its path.

    Raises:
        OSError: when the recovery folder cannot be written.
    """
    target = recovery_path(project.path, session)
    data = json.loads(dumps_project(project))
    data[RECOVERY_KEY] = {
        "project_path": str(project.path) if project.path else None,
        "project_dir": str(project.project_dir) if project.project_dir else None,
        "written_at": time.time(),
    }
    return atomic_write_text(target, json.dumps(data, indent=1, ensure_ascii=False))


@dataclass(frozen=True)
class RecoveryInfo:
    """A recovery file found on disk: ``path``, the project file it belongs to (None: never saved), when."""

    path: Path
    project_path: Path | None
    written_at: float


def read_recovery_info(path: Path) -> RecoveryInfo | None:
    """Reads the ``recovery`` record of a recovery file, or None when the file is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rec = data.get(RECOVERY_KEY) or {}
        pp = rec.get("project_path")
        return RecoveryInfo(path, Path(pp) if pp else None, float(rec.get("written_at", path.stat().st_mtime)))
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def find_recovery(project_path: str | os.PathLike | None, session: str = "untitled") -> RecoveryInfo | None:
    """Returns the recovery file of a project when it is newer than the project file, else None."""
    rp = recovery_path(project_path, session)
    info = read_recovery_info(rp) if rp.exists() else None
    if info is None:
        return None
    if project_path is not None:
        try:
            if Path(project_path).stat().st_mtime >= rp.stat().st_mtime:
                return None
        except OSError:
            pass  # the project file is gone: the recovery file is all there is
    return info


def list_recoveries() -> list[RecoveryInfo]:
    """Every recovery file in the recovery folder, newest first."""
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    found = [read_recovery_info(p) for p in folder.glob(f"*{RECOVERY_SUFFIX}")]
    return sorted((f for f in found if f is not None), key=lambda r: r.written_at, reverse=True)


def load_recovery(path: str | os.PathLike) -> Project:
    """Loads a recovery file as a project bound to the file it belongs to (so Save writes there).

    Raises:
        ProjectError: when the file cannot be read.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ProjectError(str(p), f"cannot read the recovery file ({e})") from None
    rec = data.pop(RECOVERY_KEY, None) or {}
    project = loads_project(json.dumps(data), str(p))
    pp, pd = rec.get("project_path"), rec.get("project_dir")
    return project.bind(Path(pp) if pp else None, Path(pd) if (pd and not pp) else None)


def discard_recovery(project_path: str | os.PathLike | None, session: str = "untitled") -> None:
    """Deletes the recovery file of a project (after a save or a deliberate close)."""
    recovery_path(project_path, session).unlink(missing_ok=True)
