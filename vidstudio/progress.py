"""Cancellation tokens and progress callbacks shared by the engine, the exporters and the backend.

Progress is reported as ``callback(fraction, message)`` with ``fraction`` in [0, 1] (``None`` when unknown);
the graph engine adds the node id in front. Cancellation is cooperative: long loops call
:meth:`CancelToken.raise_if_cancelled` between units of work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from vidstudio.errors import Cancelled

#: ``progress(fraction, message)``: fraction in [0, 1] or None when unknown.
ProgressFn = Callable[[float | None, str], None]


class CancelToken:
    """A thread-safe flag that asks running work to stop.

    ``cancel()`` may be called from any thread (a signal handler, a GUI button, a server request); the
    worker notices at its next :meth:`raise_if_cancelled`, which raises :class:`vidstudio.errors.Cancelled`.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason = "cancelled"

    def cancel(self, reason: str = "cancelled") -> None:
        """Requests cancellation, with a reason shown to the user."""
        self._reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    @property
    def reason(self) -> str:
        """The reason given to :meth:`cancel`."""
        return self._reason

    def raise_if_cancelled(self) -> None:
        """Raises :class:`vidstudio.errors.Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled(self._reason)

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until cancelled or ``timeout`` seconds pass; returns :attr:`cancelled`."""
        return self._event.wait(timeout)


def no_progress(fraction: float | None, message: str) -> None:
    """A progress callback that ignores its reports."""
