"""Process facts shared by the server, the client and the GUI (no third-party imports)."""

from __future__ import annotations

import os
import sys


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs.

    POSIX: ``kill(pid, 0)``; a zombie (ended, not yet reaped) counts as ended where ``/proc`` says so. Windows:
    ``OpenProcess`` + ``GetExitCodeProcess`` (``STILL_ACTIVE``). Never raises; a pid of 0 or less is not alive.
    """
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return bool(ok) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
