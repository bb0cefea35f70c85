"""What Qt's platform plugin needs from the system, checked with the dynamic loader before Qt starts.

Qt's own message when its xcb plugin cannot load names ``libxcb-cursor0`` whatever is really missing, and
then the process aborts. This module asks the loader instead: ``ldd`` on the platform plugin that Qt would
load (and on the Qt libraries it links) lists every shared library that cannot be found, and Qt's xcb plugin
also opens ``libxcb-cursor.so.0`` at run time (Qt 6.5 and later), which ``ldd`` cannot see, so that one is
looked up with :func:`ctypes.util.find_library`. Each missing library is named with the Debian/Ubuntu and
Fedora packages that provide it.

No Qt is imported here (it is what may not load); PySide6 is only located on disk. Linux only: elsewhere
:func:`missing_platform_libraries` answers an empty list.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: soname -> (Debian/Ubuntu package, Fedora package) for the libraries Qt's platform plugins link.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libXext.so.6": ("libxext6", "libXext"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
}

#: Platforms that draw into memory and need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


@dataclass(frozen=True)
class MissingLibrary:
    """A shared library the platform plugin needs that the loader cannot find.

    Attributes:
        soname: the library's name as the loader looks for it, e.g. ``"libxcb-icccm.so.4"``.
        needed_by: the file that needs it (the plugin, or a Qt library it links).
        debian: the Debian/Ubuntu package that provides it, or ``""`` when unknown.
        fedora: the Fedora package that provides it, or ``""`` when unknown.
    """

    soname: str
    needed_by: str
    debian: str
    fedora: str


def qt_platform() -> str:
    """The platform plugin Qt will try first, as Qt chooses it.

    ``QT_QPA_PLATFORM`` (its first entry; Qt tries ``a;b`` in order), else ``wayland`` in a Wayland session,
    else ``xcb`` on Linux. Returns a lower-case name such as ``"xcb"``, ``"wayland"`` or ``"offscreen"``.
    """
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip().lower()
    if chosen:
        return chosen
    if os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return "wayland"
    return "xcb"


def plugin_dirs() -> list[Path]:
    """Folders where Qt looks for platform plugins: ``QT_QPA_PLATFORM_PLUGIN_PATH`` first, then PySide6's own
    ``Qt/plugins/platforms``. Empty when PySide6 is not installed."""
    dirs = [Path(p) for p in os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.submodule_search_locations:
        dirs.append(Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms")
    return dirs


def plugin_file(platform: str) -> Path | None:
    """The platform plugin's shared library for ``platform`` (``libq<platform>.so``), or None when not found."""
    for d in plugin_dirs():
        candidate = d / f"libq{platform}.so"
        if candidate.is_file():
            return candidate
    return None


_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)


def unresolved(path: Path, ldd: str | None = None) -> list[str]:
    """Sonames that the dynamic loader cannot resolve for the shared library ``path`` (``ldd``'s "not found"
    lines; ``ldd`` follows the library's RUNPATH, so the Qt libraries next to the plugin are found).

    Args:
        path: a shared library (ELF).
        ldd: the ``ldd`` program to run; default: the one on ``PATH``.

    Returns:
        The missing sonames in ``ldd``'s order, without repeats; empty when ``ldd`` is not available.
    """
    exe = ldd or shutil.which("ldd")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return list(dict.fromkeys(_NOT_FOUND.findall(out)))


def _named(soname: str, needed_by: Path | str) -> MissingLibrary:
    debian, fedora = PACKAGES.get(soname, ("", ""))
    return MissingLibrary(soname, str(needed_by), debian, fedora)


def missing_platform_libraries(platform: str | None = None) -> list[MissingLibrary]:
    """The system libraries that Qt's platform plugin ``platform`` needs and the loader cannot find.

    Args:
        platform: a Qt platform name; default :func:`qt_platform`. Headless platforms (``offscreen``,
            ``minimal``, ``vnc``) are checked too: they need fontconfig and friends.

    Returns:
        One :class:`MissingLibrary` per missing soname; empty when all are there, when the plugin is not
        found (Qt will say so itself) or off Linux.
    """
    if not sys.platform.startswith("linux"):
        return []
    platform = platform or qt_platform()
    plugin = plugin_file(platform)
    if plugin is None:
        return []
    missing = [_named(name, plugin) for name in unresolved(plugin)]
    if platform == "xcb" and ctypes.util.find_library("xcb-cursor") is None:
        # Qt 6.5+ opens it with dlopen when the xcb plugin starts, so ldd does not list it.
        missing.append(_named("libxcb-cursor.so.0", plugin))
    return missing


def install_hint(missing: list[MissingLibrary]) -> str:
    """The commands that install ``missing`` on Debian/Ubuntu and on Fedora, in one line each.

    Libraries with no known package are named for ``apt-file search`` / ``dnf provides``.
    """
    debian = sorted({m.debian for m in missing if m.debian})
    fedora = sorted({m.fedora for m in missing if m.fedora})
    unknown = sorted({m.soname for m in missing if not m.debian})
    lines = []
    if debian:
        lines.append("Debian/Ubuntu: sudo apt install " + " ".join(debian))
    if fedora:
        lines.append("Fedora: sudo dnf install " + " ".join(fedora))
    if unknown:
        lines.append(
            "find the package of " + ", ".join(unknown) + " with `apt-file search NAME` or `dnf provides '*/NAME'`"
        )
    return "\n".join(lines)


def platform_problem(platform: str | None = None) -> str | None:
    """A message saying why Qt's platform plugin cannot start here and how to fix it, or None when it can.

    Used by ``vidstudio gui`` before Qt is imported (Qt would abort the process) and by ``vidstudio doctor``.
    """
    platform = platform or qt_platform()
    missing = missing_platform_libraries(platform)
    if not missing:
        return None
    names = ", ".join(m.soname for m in missing)
    return (
        f"the desktop application cannot start: Qt's {platform!r} platform plugin needs {names}, which "
        f"this system does not have.\n" + install_hint(missing)
    )
