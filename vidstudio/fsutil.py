"""File-system rules every layer shares: what counts as a readable input file, which mode a written file gets,
and how the temporary files of an atomic write are named and cleaned up after a process that was killed.

Standard library only, so that the core, the client and the server may all use it.

Temporary names carry the writing process's id: ``.NAME.<pid>-<random>.saving`` (a project being saved),
``.NAME.partial-<pid>-<random>.mp4`` (a video being encoded), ``.NAME.<pid>-<random>.part`` (a download),
``.NAME.partial-<pid>-<random>`` (a PNG sequence folder). :func:`clean_strays` removes those of ``NAME`` whose
process no longer runs, so that the next save or render of a target cleans what a killed one left; files of a
process that is still running (another window saving the same file right now) are left alone.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
from pathlib import Path

#: What :func:`regular_file_problem` calls each kind of special file.
_KINDS = (
    (stat.S_ISDIR, "is a folder, not a file"),
    (stat.S_ISFIFO, "is a FIFO (named pipe), not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def regular_file_problem(path: str | os.PathLike) -> str | None:
    """Says why ``path`` cannot be read as an input file, without opening it (so a FIFO never blocks).

    Returns:
        ``None`` for an existing regular file (symlinks followed); otherwise a phrase to put after the file
        name: ``"file not found"``, ``"is a symlink loop"``, ``"is a folder, not a file"``, ``"is a FIFO (named
        pipe), not a regular file"``, ``"is a character device, ..."``, ``"permission denied"``, ...
    """
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symlink loop (a link that points back at itself)"
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            if os.path.islink(path):
                return f"is a broken symlink (it points at {os.readlink(path)}, which does not exist)"
            return "file not found"
        if e.errno == errno.EACCES:
            return "permission denied"
        if e.errno == errno.ENAMETOOLONG:
            return "the file name is too long"
        return f"cannot be read ({e.strerror or e})"
    except ValueError as e:  # an embedded NUL byte
        return f"is not a valid file name ({e})"
    for test, why in _KINDS:
        if test(st.st_mode):
            return why
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    return None


def default_file_mode() -> int:
    """The mode a new file of this user gets (``0o666`` less the umask), read without changing the umask."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # not thread-safe, hence only where /proc is missing
    os.umask(mask)
    return 0o666 & ~mask


def match_mode(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Gives ``tmp`` (a ``mkstemp`` file, mode 0600) the mode it should have once renamed over ``target``:
    ``target``'s own permission bits when it exists, else the user's default mode. Best effort: a file system
    without modes (FAT, some network shares) is left as it is."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = default_file_mode()
    try:
        os.chmod(tmp, mode)
    except OSError:
        pass


def temp_prefix(name: str, kind: str = "") -> str:
    """The prefix of a temporary sibling of the file ``name``: ``.NAME.<pid>-`` (or ``.NAME.<kind>-<pid>-``)."""
    return f".{name}.{kind + '-' if kind else ''}{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_strays(folder: str | os.PathLike, name: str) -> list[Path]:
    """Removes the temporary files and folders that a killed process left next to ``folder/name``.

    Only names written by :func:`temp_prefix` (``.NAME.<pid>-...``, ``.NAME.partial-<pid>-...``) whose process
    is no longer running are removed. Errors are ignored (cleaning is best effort).

    Returns:
        the paths removed.
    """
    pattern = re.compile(
        r"^\." + re.escape(name) + r"\.(?:bak\.)?(?:partial-)?(\d+)-[A-Za-z0-9_]+(?:\.saving|\.part|\.mp4)?\Z"
    )
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        p = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def human_bytes(n: float) -> str:
    """``n`` bytes in words, binary units: ``"512 B"``, ``"3.4 MiB"``, ``"9.8 GiB"`` (sizes on disk, downloads)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def folder_size(folder: str | os.PathLike) -> int:
    """Bytes of the files under ``folder`` (links followed to what they point at; unreadable entries skipped);
    0 for a folder that cannot be read."""
    total = 0
    for dirpath, _, files in os.walk(folder):
        for f in files:
            try:
                total += os.stat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total
