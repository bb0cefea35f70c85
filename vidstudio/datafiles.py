"""Where VidStudio's data files are: example projects and the desktop integration files.

In a source checkout (an editable install) they are the repository's ``resources/examples`` and
``packaging/linux``; an installed wheel carries copies under ``<prefix>/share/vidstudio/`` (the wheel's data
files, see ``[tool.setuptools.data-files]`` in ``pyproject.toml``). Every function answers a folder that
exists, or raises :class:`~vidstudio.errors.VidStudioError` saying where it looked.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from vidstudio.errors import VidStudioError

#: The application's id (reverse DNS): the desktop file's and the AppStream component's name.
APP_ID = "io.github.vidstudio.VidStudio"


def source_root() -> Path | None:
    """The repository folder when VidStudio runs from a source checkout (it has ``pyproject.toml`` beside the
    package), else None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "vidstudio").is_dir() else None


def _share() -> list[Path]:
    """Installed data folders: ``$VIDSTUDIO_SHARE_DIR`` (the desktop bundle's AppRun sets it), then
    ``share/vidstudio`` under the install prefixes."""
    given = [Path(os.environ["VIDSTUDIO_SHARE_DIR"])] if os.environ.get("VIDSTUDIO_SHARE_DIR") else []
    prefixes = dict.fromkeys([Path(sysconfig.get_paths()["data"]), Path(sys.prefix), Path(sys.base_prefix)])
    return given + [p / "share" / "vidstudio" for p in prefixes]


def _find(kind: str, in_source: str, in_share: str) -> Path:
    candidates = []
    root = source_root()
    if root is not None:
        candidates.append(root / in_source)
    candidates += [s / in_share for s in _share()]
    for c in candidates:
        if c.is_dir():
            return c
    raise VidStudioError(
        f"{kind} not found; looked in " + ", ".join(str(c) for c in candidates) + " (reinstall VidStudio)"
    )


def examples_dir() -> Path:
    """The folder of example projects (``bouncing_ball.vidproj`` and friends, with ``assets/``).

    Raises:
        VidStudioError: when neither the source checkout nor the installed data files have it.
    """
    return _find("the example projects", "resources/examples", "examples")


def desktop_dir() -> Path:
    """The folder with the desktop file, the MIME type, the AppStream metainfo and ``icons/``.

    Raises:
        VidStudioError: when neither the source checkout nor the installed data files have it.
    """
    return _find("the desktop integration files", "packaging/linux", "linux")


def app_icon() -> Path | None:
    """The application icon (scalable SVG) for window icons, or None when the data files are missing."""
    try:
        svg = desktop_dir() / "icons" / "vidstudio.svg"
    except VidStudioError:
        return None
    return svg if svg.is_file() else None
