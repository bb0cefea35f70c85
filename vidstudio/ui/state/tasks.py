"""Work off the GUI thread: a small task runner for file I/O and a job list for long work with progress.

The GUI thread never reads or writes project files, videos or recovery files, and never evaluates the graph:
it hands a function to :class:`TaskRunner`, which runs it on a worker thread and calls back on the GUI
thread with the result or the exception. Long work that the user watches (an export, a render, later a
generation on the server) is a :class:`Job` in the :class:`JobList` that the Jobs pane shows.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from vidstudio.errors import Cancelled, VidStudioError
from vidstudio.progress import CancelToken


class TaskRunner(QObject):
    """Runs functions on worker threads and delivers their outcome on the GUI thread.

    Args:
        max_workers: worker threads (2: one slow export does not hold up a save).
        name: thread name prefix (for leak checks and debugging).

    ``submit(fn, *args, on_done=..., on_error=...)``: ``on_done(result)`` or ``on_error(exception)`` is called on
    the thread that owns the runner (the GUI thread) after ``fn`` returns or raises; nothing is called after
    :meth:`shutdown`.
    """

    _deliver = Signal(object)

    def __init__(self, max_workers: int = 2, name: str = "vidstudio-task", parent: QObject | None = None):
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._pending = 0
        self._closed = False
        self._deliver.connect(self._on_deliver)

    @property
    def pending(self) -> int:
        """Tasks submitted whose callbacks have not run yet."""
        return self._pending

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> concurrent.futures.Future:
        """Runs ``fn(*args)`` on a worker thread.

        Raises:
            RuntimeError: after :meth:`shutdown`.
        """
        if self._closed:
            raise RuntimeError("the task runner was shut down")
        self._pending += 1

        def work() -> Any:
            try:
                result = fn(*args)
            except BaseException as e:  # delivered to on_error on the GUI thread
                if on_error is None:
                    traceback.print_exc()
                self._deliver.emit((on_error, e, False))
                raise
            self._deliver.emit((on_done, result, True))
            return result

        return self._pool.submit(work)

    @Slot(object)
    def _on_deliver(self, item: tuple) -> None:
        callback, value, _ok = item
        self._pending -= 1
        if self._closed or callback is None:
            return
        callback(value)

    def shutdown(self, wait: bool = True) -> None:
        """Stops accepting work, waits for running tasks (when ``wait``) and drops their callbacks."""
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)


def error_text(e: BaseException) -> str:
    """An exception in words for the user: a :class:`VidStudioError`'s own message (it names what and where),
    else ``"Type: message"`` (an internal error)."""
    return str(e) if isinstance(e, VidStudioError) else f"{e.__class__.__name__}: {e}"


class Job(QObject):
    """One piece of long work the user can watch and cancel (an export, a render, a generation).

    Attributes:
        title: what it is (``"Export ken_burns.mp4"``).
        kind: ``"export"``, ``"render"``, ``"generate"``.
        status: ``"queued"``, ``"running"``, ``"done"``, ``"failed"`` or ``"cancelled"``.
        progress: fraction in [0, 1], or None when unknown.
        message: the latest progress message or the error in words.
        output: the file or folder written (when done).
        seconds_per_step: for step-based work (generation), the latest seconds per denoising step.
        step, total: the denoising step reached and the number of steps (None when not step-based).
        node: the node running now (generation), or None.
        eta: estimated seconds left, or None when unknown.
        preview: the latest preview image (a QImage) or None.
        token: the cancel token the work checks.

    Signals ``changed`` (any attribute) and ``finished`` (status became final). Thread-safe: a worker
    thread calls :meth:`update`; the signals arrive on the GUI thread.
    """

    changed = Signal()
    finished = Signal()

    FINAL = ("done", "failed", "cancelled")

    def __init__(self, title: str, kind: str = "export", parent: QObject | None = None):
        super().__init__(parent)
        self.title = title
        self.kind = kind
        self.status = "queued"
        self.progress: float | None = 0.0
        self.message = "queued"
        self.output: str | None = None
        self.seconds_per_step: float | None = None
        self.step: int | None = None
        self.total: int | None = None
        self.node: str | None = None
        self.eta: float | None = None
        self.preview: Any = None
        self.token = CancelToken()
        self.created = time.time()
        self._last_emit = 0.0
        self._lock = threading.Lock()

    @property
    def is_final(self) -> bool:
        """True once the job is done, failed or cancelled."""
        return self.status in self.FINAL

    def update(
        self,
        progress: float | None = None,
        message: str | None = None,
        status: str | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Records progress (from any thread); emits ``changed`` at most 20 times a second unless ``force``."""
        with self._lock:
            if progress is not None:
                self.progress = min(max(float(progress), 0.0), 1.0)
            if message is not None:
                self.message = message
            if status is not None:
                self.status = status
            now = time.monotonic()
            if not force and status is None and now - self._last_emit < 0.05:
                return
            self._last_emit = now
        self.changed.emit()

    def finish(self, status: str, message: str, output: str | None = None) -> None:
        """Marks the job done, failed or cancelled (from any thread)."""
        self.output = output
        if status == "done":
            self.progress = 1.0
        self.update(message=message, status=status, force=True)
        self.finished.emit()

    def fail(self, e: BaseException) -> None:
        """Finishes the job from the exception its work raised: ``cancelled`` for :class:`Cancelled` (the work
        writes nothing then), else ``failed`` with the error in words (:func:`error_text`)."""
        if isinstance(e, Cancelled):
            self.finish("cancelled", "cancelled; nothing was written")
        else:
            self.finish("failed", error_text(e))

    def cancel(self) -> None:
        """Asks the work to stop (it stops at its next check)."""
        if not self.is_final:
            self.token.cancel("cancelled by the user")
            self.update(message="cancelling...", force=True)


class JobList(QObject):
    """The jobs of a session, newest last. Signal ``added(job)``."""

    added = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs: list[Job] = []

    def add(self, job: Job) -> Job:
        """Adds a job and returns it."""
        job.setParent(self)
        self.jobs.append(job)
        self.added.emit(job)
        return job

    def active(self) -> list[Job]:
        """Jobs that are queued or running."""
        return [j for j in self.jobs if not j.is_final]

    def cancel_all(self) -> None:
        """Cancels every active job."""
        for j in self.active():
            j.cancel()
