"""A guard against a reference-counting defect of some PySide6 builds on CPython 3.11 and older.

PySide6-Essentials 6.12.0 (abi3 wheels) returns ``None`` from every C++ function returning ``void``
(``QCoreApplication.processEvents``, ``QTimer.start``, ``QPainter.drawLine``...) without taking a reference
to it, as if ``None`` were immortal, which it is only from CPython 3.12 on (PEP 683). On 3.11 each such
call lowers ``None``'s reference count by one, and after a few thousand calls (a second of painting) the
interpreter aborts with "Fatal Python error: none_dealloc: deallocating None".

:func:`ensure` measures one ``void`` call; when it loses a reference, it gives ``None`` the effectively
immortal reference count that CPython 3.12 gives it, so that the defect can never reach zero. It changes
nothing on a correct build or on CPython 3.12+. Every module of :mod:`vidstudio.ui` that uses Qt imports
this module first.
"""

from __future__ import annotations

import platform
import sys

#: True when the defect was found and worked around in this process.
APPLIED = False
_CHECKED = False


def _loses_none_reference() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")  # returns void
    return sys.getrefcount(None) < before


def ensure() -> bool:
    """Checks the installed PySide6 once and applies the guard when needed.

    Returns:
        True when the guard is active.
    """
    global APPLIED, _CHECKED
    if _CHECKED:
        return APPLIED
    _CHECKED = True
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    if not _loses_none_reference():
        return False
    import ctypes

    # ob_refcnt is the first field of every PyObject (a Py_ssize_t): raise it far beyond any session's
    # number of Qt calls, as CPython 3.12 does for immortal objects.
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 60
    APPLIED = True
    return True


ensure()
