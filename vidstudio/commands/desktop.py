"""``vidstudio install-desktop [--uninstall]``: VidStudio in the desktop's application menu, with its icon,
and ``.vidproj`` files that open in it with a double-click.

Installs, for the current user only (the freedesktop.org locations under ``$XDG_DATA_HOME``, default
``~/.local/share``): the desktop entry ``applications/io.github.vidstudio.VidStudio.desktop`` (its ``Exec``
is this installation's own ``vidstudio``, so a virtual environment need not be on the desktop's PATH), the
MIME type ``application/x-vidstudio-project`` (``*.vidproj``) in ``mime/packages``, the icons in
``icons/hicolor``, the AppStream metainfo in ``metainfo``; and makes VidStudio the default application for
projects in ``$XDG_CONFIG_HOME/mimeapps.list``. The desktop's caches are refreshed when their tools
(``update-mime-database``, ``update-desktop-database``, ``gtk-update-icon-cache``) are installed.
``--uninstall`` removes exactly what was installed and the default-application line.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from vidstudio.datafiles import APP_ID, desktop_dir

MIME_TYPE = "application/x-vidstudio-project"
_RECORD = "vidstudio/desktop-install.json"


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio install-desktop`` to the subcommand parser ``sub``."""
    p = sub.add_parser(
        "install-desktop",
        help="add VidStudio to the desktop's menu and open .vidproj files with it",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--uninstall", action="store_true", help="remove what an earlier install-desktop installed")
    p.add_argument("--data-home", metavar="DIR", help="instead of $XDG_DATA_HOME (default ~/.local/share)")
    p.add_argument("--config-home", metavar="DIR", help="instead of $XDG_CONFIG_HOME (default ~/.config)")
    p.set_defaults(func=run)


def data_home(given: str | None = None) -> Path:
    """The user's XDG data folder: ``given``, else ``$XDG_DATA_HOME``, else ``~/.local/share``."""
    return Path(given or os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def config_home(given: str | None = None) -> Path:
    """The user's XDG config folder: ``given``, else ``$XDG_CONFIG_HOME``, else ``~/.config``."""
    return Path(given or os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def launcher() -> list[str]:
    """The command that starts this installation's VidStudio: the ``vidstudio`` script next to the running
    interpreter when there is one, else ``python -m vidstudio`` with this interpreter."""
    script = Path(sys.executable).with_name("vidstudio")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "vidstudio"]


def desktop_entry(template: str) -> str:
    """The desktop file ``template`` with ``Exec`` and ``TryExec`` pointing at :func:`launcher`."""
    exe = launcher()
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(shlex.quote(a) for a in exe) + " gui %f"
        elif line.startswith("TryExec="):
            line = "TryExec=" + exe[0]
        lines.append(line)
    return "\n".join(lines) + "\n"


def _plan(data: Path) -> list[tuple[Path, Path]]:
    """(source, destination) pairs of every file to install."""
    src = desktop_dir()
    pairs = [
        (src / f"{APP_ID}.desktop", data / "applications" / f"{APP_ID}.desktop"),
        (src / "vidstudio-mime.xml", data / "mime" / "packages" / "vidstudio.xml"),
        (src / f"{APP_ID}.metainfo.xml", data / "metainfo" / f"{APP_ID}.metainfo.xml"),
        (src / "icons" / "vidstudio.svg", data / "icons" / "hicolor" / "scalable" / "apps" / "vidstudio.svg"),
        (
            src / "icons" / f"{MIME_TYPE.replace('/', '-')}.svg",
            data / "icons" / "hicolor" / "scalable" / "mimetypes" / f"{MIME_TYPE.replace('/', '-')}.svg",
        ),
    ]
    for png in sorted((src / "icons" / "hicolor").glob("*/*/*.png")):
        pairs.append((png, data / "icons" / "hicolor" / png.relative_to(src / "icons" / "hicolor")))
    return pairs


def _set_default(mimeapps: Path, add: bool) -> None:
    """Adds (or removes) ``MIME_TYPE=APP_ID.desktop`` in the ``[Default Applications]`` group of
    ``mimeapps``, keeping every other line as it is."""
    lines = mimeapps.read_text(encoding="utf-8").splitlines() if mimeapps.is_file() else []
    entry = f"{MIME_TYPE}={APP_ID}.desktop"
    lines = [l for l in lines if not l.startswith(f"{MIME_TYPE}=")]
    if add:
        if "[Default Applications]" not in lines:
            lines += ([""] if lines else []) + ["[Default Applications]"]
        lines.insert(lines.index("[Default Applications]") + 1, entry)
    if lines or mimeapps.is_file():
        mimeapps.parent.mkdir(parents=True, exist_ok=True)
        mimeapps.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _refresh(data: Path) -> list[str]:
    """Runs the desktop's cache tools that are installed; returns what ran."""
    ran = []
    for tool, folder in (
        ("update-mime-database", data / "mime"),
        ("update-desktop-database", data / "applications"),
        ("gtk-update-icon-cache", data / "icons" / "hicolor"),
    ):
        exe = shutil.which(tool)
        if exe and folder.is_dir():
            args = [exe, "-f", "-t", str(folder)] if tool == "gtk-update-icon-cache" else [exe, str(folder)]
            subprocess.run(args, capture_output=True, timeout=60)
            ran.append(tool)
    return ran


def install(data: Path, config: Path) -> list[Path]:
    """Installs the desktop integration into ``data`` (an XDG data folder) and sets the default application
    for projects in ``config/mimeapps.list``. Returns the files written.

    Raises:
        VidStudioError: when the data files are missing from this installation.
        OSError: when a destination cannot be written.
    """
    written = []
    for src, dst in _plan(data):
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".desktop":
            dst.write_text(desktop_entry(src.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copyfile(src, dst)
        written.append(dst)
    _set_default(config / "mimeapps.list", add=True)
    record = data / _RECORD
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"files": [str(p) for p in written]}, indent=1), encoding="utf-8")
    _refresh(data)
    return written


def uninstall(data: Path, config: Path) -> list[Path]:
    """Removes what :func:`install` put into ``data`` (by its record, else by the known names) and the
    default-application line from ``config/mimeapps.list``. Returns the files removed."""
    record = data / _RECORD
    try:
        files = [Path(p) for p in json.loads(record.read_text(encoding="utf-8"))["files"]]
    except (OSError, ValueError, KeyError):
        files = [dst for _, dst in _plan(data)]
    removed = []
    for f in files:
        if f.is_file():
            f.unlink()
            removed.append(f)
    record.unlink(missing_ok=True)
    _set_default(config / "mimeapps.list", add=False)
    _refresh(data)
    return removed


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio install-desktop``; returns the exit status."""
    data, config = data_home(args.data_home), config_home(args.config_home)
    if args.uninstall:
        removed = uninstall(data, config)
        print(f"removed {len(removed)} file(s) from {data}; .vidproj files no longer open in VidStudio")
        return 0
    written = install(data, config)
    print(
        f"installed {len(written)} file(s) into {data}: VidStudio is in the application menu and opens .vidproj "
        f"files (runs {' '.join(launcher())})"
    )
    return 0
