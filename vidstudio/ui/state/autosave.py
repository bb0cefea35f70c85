"""Autosave: a recovery file written a while after the first unsaved edit, never in the middle of a drag.

Blender's and Krita's rule: the timer starts at the first edit after the document was last saved or
autosaved (so a burst of edits costs one write); when it fires during a drag, the write waits for the drag
to end. The file is written on a worker thread from a copy of the document
(:func:`vidstudio.project.write_recovery`). A successful save, or closing without saving on purpose,
deletes it (:meth:`Autosaver.discard`).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from vidstudio.project import discard_recovery, write_recovery
from vidstudio.ui.state.session import Session
from vidstudio.ui.state.tasks import TaskRunner

#: Delay between the first unsaved edit and the autosave.
DEFAULT_DELAY_MS = 120_000


def owner_running(recovery_file: Path) -> bool:
    """True when the recovery file of an untitled project belongs to a VidStudio process that is still
    running (its name is ``untitled-<pid>-...``), so that a second window does not offer another's work.
    Always False on Windows, where probing a process id is not harmless."""
    m = re.match(r"untitled-(\d+)-", recovery_file.name)
    if m is None or os.name == "nt":
        return False
    pid = int(m.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


class Autosaver(QObject):
    """Writes the session's recovery file (see the module docstring).

    Args:
        session: the document; runner: where the file is written.
        delay_ms: time from the first unsaved edit to the write.
        session_name: the recovery file's name for a project never saved (one per window).

    Signals: ``autosaved(path)``, ``failed(message)``.
    """

    autosaved = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        session: Session,
        runner: TaskRunner,
        delay_ms: int = DEFAULT_DELAY_MS,
        session_name: str | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.session_name = session_name or f"untitled-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self._due)
        self.pending = False
        self.last_path: Path | None = None
        self._writing = False
        self._discards_after_write: list[Path | None] = []
        session.undo_stack.indexChanged.connect(self._edited)
        session.dirty_changed.connect(self._dirty_changed)
        session.interaction_finished.connect(self._interaction_finished)
        session.project_replaced.connect(self._replaced)

    @property
    def delay_ms(self) -> int:
        """The delay from the first unsaved edit to the write."""
        return self.timer.interval()

    def _edited(self, _index: int) -> None:
        if self.session.is_dirty and not self.timer.isActive() and not self.pending:
            self.timer.start()

    def _dirty_changed(self, dirty: bool) -> None:
        if dirty:
            self._edited(0)
        else:
            self.timer.stop()
            self.pending = False

    def _replaced(self) -> None:
        self.timer.stop()
        self.pending = False
        if self.session.is_dirty:  # a recovered document: protect it again
            self.timer.start()

    def _due(self) -> None:
        if self.session.interacting:
            self.pending = True  # never in the middle of a drag
            return
        self.write_now()

    def _interaction_finished(self) -> None:
        if self.pending:
            self.pending = False
            self.write_now()

    def write_now(self) -> bool:
        """Writes the recovery file now (on a worker thread) if the document has unsaved changes.

        Returns:
            True when a write was started.
        """
        self.timer.stop()
        if not self.session.is_dirty or self._writing:
            return False
        doc = self.session.project.copy_document()
        self._writing = True

        def done(path: Path) -> None:
            self._writing = False
            if self._run_deferred_discards():  # saved, or closed on purpose, while the file was written
                return
            self.last_path = Path(path)
            self.autosaved.emit(str(path))

        def error(e: BaseException) -> None:
            self._writing = False
            if self._run_deferred_discards():
                return
            self.failed.emit(f"autosave failed: {e}")

        self.runner.submit(write_recovery, doc, self.session_name, on_done=done, on_error=error)
        return True

    def discard(self, project_path: Path | None = None) -> None:
        """Deletes the recovery file of ``project_path`` (default: the session's project) and stops the timer.
        Call after a successful save or a deliberate close."""
        self.timer.stop()
        self.pending = False
        path = project_path if project_path is not None else self.session.project.path
        self.last_path = None
        if self._writing:
            # a recovery write is under way on another worker thread: a deletion now could finish before it and
            # leave a stale recovery file behind, so the deletion waits for the write to end
            self._discards_after_write.append(path)
            return
        self._discard_now(path)

    def _discard_now(self, path: Path | None) -> None:
        self.runner.submit(discard_recovery, path, self.session_name)
        if path is not None:
            self.runner.submit(discard_recovery, None, self.session_name)  # the untitled one, after a first Save As

    def _run_deferred_discards(self) -> bool:
        """Runs the deletions asked for while a write was under way; True when there were any."""
        paths, self._discards_after_write = self._discards_after_write, []
        for path in paths:
            self._discard_now(path)
        return bool(paths)
