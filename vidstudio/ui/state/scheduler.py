"""Evaluation scheduling of one session: when to evaluate, what, and what the latest result says; QtCore only.

After every change that matters to the picture the session (or its view state) calls
:meth:`EvaluationScheduler.schedule`; requests coalesce on a zero-time timer, and the
:class:`~vidstudio.ui.state.evaluation.Evaluator` validates and runs a private copy of the document on its
worker thread. The result's issues and node reports are kept here, and the viewed clip goes to the session's
:class:`~vidstudio.ui.state.evaluation.FrameCache`. The Node Editor's badges, the Inspector's status and the
Viewer's error line subscribe to it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from vidstudio.graph.engine import Engine, NodeReport
from vidstudio.graph.validate import GraphIssue
from vidstudio.media.clip import Clip
from vidstudio.project.view import ViewTarget
from vidstudio.ui.state.evaluation import EvalRequest, EvalResult, Evaluator

if TYPE_CHECKING:
    from vidstudio.ui.state.session import Session


class EvaluationScheduler(QObject):
    """Evaluates the document of ``session`` in the background whenever asked, newest request wins.

    Args:
        session: whose project, view state (what to compute) and frame cache (where the picture goes) it uses.
        engine: the engine to evaluate with (its cache pays off across edits).

    Attributes:
        issues: every validation issue of the latest evaluation; issues_by_node: the same by node id.
        node_status: ``{node_id: NodeReport}`` of the nodes evaluated so far (cached, or ran and why).
        last_result: the latest :class:`~vidstudio.ui.state.evaluation.EvalResult`, or None.
        showing_stale: the Viewer shows the last good picture of a view that now fails.

    Signals: ``evaluation_started()``, ``evaluated(EvalResult)``.
    """

    evaluation_started = Signal()
    evaluated = Signal(object)  # EvalResult

    def __init__(self, session: Session, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self.issues: list[GraphIssue] = []
        self.issues_by_node: dict[str | None, list[GraphIssue]] = {}
        self.node_status: dict[str, NodeReport] = {}
        self.last_result: EvalResult | None = None
        self.showing_stale = False
        self._clip_view: ViewTarget | None = None
        self._serial = 0
        self._evaluating = False
        self._closed = False
        self.evaluator = Evaluator(engine, parent=self)
        self.evaluator.finished.connect(self._on_evaluated)
        self._eval_timer = QTimer(self)
        self._eval_timer.setSingleShot(True)
        self._eval_timer.setInterval(0)
        self._eval_timer.timeout.connect(self._start_evaluation)

    def set_engine(self, engine: Engine) -> None:
        """Evaluates with ``engine`` from now on (a running evaluation finishes with the old one; its result is
        dropped) and forgets the node reports."""
        self.evaluator.engine = engine
        self.node_status = {}

    def reset(self) -> None:
        """Another document: forgets issues, reports and the last result; the Viewer shows nothing."""
        self.issues, self.issues_by_node, self.node_status = [], {}, {}
        self.last_result = None
        self.showing_stale = False
        self._clip_view = None
        self._session.frames.set_clip(None)

    def forget(self, removed: Iterable[str]) -> None:
        """Nodes were deleted: drops their reports."""
        gone = set(removed)
        self.node_status = {k: v for k, v in self.node_status.items() if k not in gone}

    def show(self, clip: Clip | None) -> None:
        """Puts ``clip`` (a result track) in the frame cache, or, for None, the graph's latest picture."""
        self.showing_stale = False
        s = self._session
        if clip is None:
            clip = self.last_result.clip if self.last_result else None
        s.frames.set_clip(clip, s.transport.playhead)

    # ------------------------------------------------------------------------------------- scheduling
    def schedule(self) -> None:
        """Asks for a re-evaluation soon (coalesced)."""
        if not self._closed:
            self._eval_timer.start()

    @property
    def evaluating(self) -> bool:
        """True from a request until its result arrives."""
        return self._evaluating or self._eval_timer.isActive()

    def targets(self) -> list[str]:
        """Node ids the next evaluation computes: the viewed node, selected nodes with overlay outputs, and,
        when there are such, the camera behind the viewed picture (the view state's ``view_camera``, which
        places their world-pixel drawings on the frame)."""
        view = self._session.view
        targets = []
        if view.view_target is not None:
            targets.append(view.view_target.node_id)
        overlays = False
        for s in view.selection:
            if view.overlay_node(s):
                overlays = True
                if s not in targets:
                    targets.append(s)
        if overlays and view.view_camera is not None and view.view_camera[0] not in targets:
            targets.append(view.view_camera[0])
        return targets

    @Slot()
    def _start_evaluation(self) -> None:
        if self._closed:
            return
        self._serial += 1
        s = self._session
        req = EvalRequest(self._serial, s.project.copy_document(), self.targets(), s.view.view_target)
        self._evaluating = True
        self.evaluator.request(req)
        self.evaluation_started.emit()

    @Slot(object)
    def _on_evaluated(self, result: EvalResult) -> None:
        if self._closed or result.serial != self._serial:
            return
        self._evaluating = False
        self.last_result = result
        self.issues = list(result.issues)
        by: dict[str | None, list[GraphIssue]] = {}
        for i in result.issues:
            by.setdefault(i.node_id, []).append(i)
        self.issues_by_node = by
        self.node_status.update(result.report)
        s = self._session
        frames = s.frames
        if s.view.view_result is None:
            # A failed picture of the same node keeps the last one that worked on screen (under the error), so
            # that a path being drawn keeps its frame underneath while what it feeds cannot render yet.
            self.showing_stale = (
                result.clip is None
                and result.error is not None
                and frames.clip is not None
                and result.view is not None
                and result.view == self._clip_view
            )
            if not self.showing_stale:
                frames.set_clip(result.clip, s.transport.playhead)
                self._clip_view = result.view
                if result.clip is not None:
                    frames.request(s.transport.playhead)
        self.evaluated.emit(result)

    def node_issues(self, node_id: str) -> list[GraphIssue]:
        """Validation issues of a node from the latest evaluation, plus its run error when it failed."""
        out = list(self.issues_by_node.get(node_id, []))
        r = self.last_result
        if r is not None and r.error and r.error_node == node_id and not any(i.severity == "error" for i in out):
            out.append(
                GraphIssue(
                    node_id, "", r.error.split(": ", 1)[-1] if r.error.startswith("node '") else r.error, "run-error"
                )
            )
        return out

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Processes events until the evaluation settles (for tests and ``--screenshot``).

        Returns:
            True when it settled within ``timeout`` seconds.
        """
        from PySide6.QtCore import QCoreApplication

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            QCoreApplication.processEvents()
            if not self.evaluating and not self.evaluator.busy:
                QCoreApplication.processEvents()
                return True
            time.sleep(0.002)
        return False

    def shutdown(self) -> None:
        """Stops the timer and the worker thread."""
        if self._closed:
            return
        self._closed = True
        self._eval_timer.stop()
        self.evaluator.shutdown()
