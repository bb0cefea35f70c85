"""Upgrades of older project documents to the current format version.

A migration is a function from the raw JSON dict of version ``v`` to that of version ``v + 1``, registered
with :func:`migration`. Loading applies them in order; a document newer than :data:`FORMAT_VERSION` is
refused. Version 1 is the first released format, so no migration is registered yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vidstudio.errors import Problem, ProjectError
from vidstudio.project import document

Migration = Callable[[dict[str, Any]], dict[str, Any]]

#: ``{from_version: function}``; each function returns the document at ``from_version + 1``.
MIGRATIONS: dict[int, Migration] = {}


def migration(from_version: int) -> Callable[[Migration], Migration]:
    """Registers a migration from ``from_version`` to ``from_version + 1`` (a decorator)."""

    def register(fn: Migration) -> Migration:
        MIGRATIONS[from_version] = fn
        return fn

    return register


def migrate(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Brings a raw document to :data:`vidstudio.project.document.FORMAT_VERSION`.

    Raises:
        ProjectError: when ``format_version`` is missing, not a whole number, newer than this code reads, or
            has no migration path.
    """
    current = document.FORMAT_VERSION
    version = data.get("format_version")
    if version is None:
        raise ProjectError(source, Problem("$.format_version", "missing; this does not look like a VidStudio project"))
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ProjectError(source, Problem("$.format_version", f"must be a whole number, not {version!r}"))
    if version > current:
        raise ProjectError(
            source,
            Problem(
                "$.format_version",
                f"the file is format {version}, newer than this VidStudio reads (up to {current}); "
                "update VidStudio to open it",
            ),
        )
    while version < current:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ProjectError(
                source, Problem("$.format_version", f"no upgrade from format {version} to {version + 1}")
            )
        data = step(dict(data))
        version += 1
        data["format_version"] = version
    return data
