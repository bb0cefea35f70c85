"""Graph evaluation and frame rendering on worker threads, for a responsive GUI.

:class:`Evaluator` validates and runs the graph (the session's one :class:`~vidstudio.graph.engine.Engine`,
so its cache pays off across edits) on its own thread. Requests coalesce: while one runs, only the newest
waiting request is kept, and a newer request cancels the running one at its next node boundary. Results
arrive on the GUI thread as :class:`EvalResult`.

:class:`FrameCache` turns the frames of the viewed :class:`~vidstudio.media.Clip` into ``QImage`` on its own
thread (the frame at the playhead first, then the rest for instant scrubbing) and keeps them within a
memory budget. It conforms a clip at another rate (its ``vidstudio_fps``, e.g. an Interpolate output) to the
project's timebase by time (:func:`vidstudio.media.timecode.conform_frame`), so that playback at the project's
rate plays it at its real speed.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from vidstudio.errors import Cancelled, GraphError, NodeError, VidStudioError
from vidstudio.graph.engine import Engine, NodeExecutionError, NodeReport
from vidstudio.graph.validate import GraphIssue
from vidstudio.media.clip import Clip, as_clip, clip_fps
from vidstudio.media.timecode import conform_frame, conformed_length
from vidstudio.progress import CancelToken
from vidstudio.project import Project
from vidstudio.project.view import ViewTarget
from vidstudio.ui.genops import server_only_message, server_side_issues
from vidstudio.ui.state.tasks import error_text


@dataclass
class EvalRequest:
    """A request to evaluate: a private copy of the document and the node ids whose outputs are wanted."""

    serial: int
    project: Project
    targets: list[str]
    view: ViewTarget | None


@dataclass
class EvalResult:
    """The outcome of one evaluation.

    Attributes:
        serial: the request's serial number (the session ignores results older than its latest request).
        issues: every validation issue of the whole graph (errors and warnings).
        report: ``{node_id: NodeReport}`` of the nodes that were needed: cached, or ran and why.
        values: ``{node_id: {port: value}}`` of the requested targets.
        view: what the Viewer shows; clip: its frames (a still image is shown as a clip of the project's
            length), or None when it could not be computed.
        error: why the run failed, in words (a node's error names the node), or None.
        error_node: the node the error belongs to, when known.
        seconds: wall time of the evaluation.
        server_only: generating nodes the picture needs, which only the generation server runs (the GUI never
            runs a diffusion model: :mod:`vidstudio.ui.genops`); ``error`` then says to press Generate.
    """

    serial: int
    issues: list[GraphIssue] = field(default_factory=list)
    report: dict[str, NodeReport] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    view: ViewTarget | None = None
    clip: Clip | None = None
    error: str | None = None
    error_node: str | None = None
    seconds: float = 0.0
    server_only: list[str] = field(default_factory=list)
    error_is_server_only: bool = False


def checkerboard_composite(image: np.ndarray, square: int = 16) -> np.ndarray:
    """Composites a straight-alpha ``(H, W, 4)`` float32 image over a grey checkerboard (for showing a
    cut-out); ``(H, W, 3)`` images pass through. Returns ``(H, W, 3)`` float32 in [0, 1]."""
    if image.ndim != 3 or image.shape[2] != 4:
        return np.asarray(image[..., :3], dtype=np.float32)
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    board = np.where(((yy // square) + (xx // square)) % 2 == 0, 0.42, 0.30).astype(np.float32)[..., None]
    a = image[..., 3:4]
    return (image[..., :3] * a + board * (1.0 - a)).astype(np.float32)


class Evaluator(QObject):
    """Runs graph evaluations on a dedicated thread (see the module docstring).

    Signal ``finished(EvalResult)`` is delivered on the GUI thread.
    """

    finished = Signal(object)

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self._cond = threading.Condition()
        self._pending: EvalRequest | None = None
        self._token: CancelToken | None = None
        self._stop = False
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="vidstudio-evaluator", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """True while a request waits or runs."""
        with self._cond:
            return self._busy or self._pending is not None

    def request(self, req: EvalRequest) -> None:
        """Queues ``req``, replacing a waiting request and cancelling a running one."""
        with self._cond:
            self._pending = req
            if self._token is not None:
                self._token.cancel("superseded by a newer edit")
            self._cond.notify_all()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancels running work and stops the thread."""
        with self._cond:
            self._stop = True
            self._pending = None
            if self._token is not None:
                self._token.cancel("closing")
            self._cond.notify_all()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                req, self._pending = self._pending, None
                token = self._token = CancelToken()
                self._busy = True
            try:
                result = self.evaluate(req, token)
            except Exception:  # never let the thread die; report the failure instead
                result = EvalResult(
                    req.serial,
                    view=req.view,
                    error="internal error while evaluating:\n" + traceback.format_exc(limit=4),
                )
            with self._cond:
                self._token = None
                self._busy = False
                stopping = self._stop
            if result is not None and not stopping:
                self.finished.emit(result)

    def evaluate(self, req: EvalRequest, token: CancelToken) -> EvalResult | None:
        """Validates the document and runs the targets (on the calling thread).

        Returns:
            the :class:`EvalResult`, or None when cancelled.
        """
        t0 = time.perf_counter()
        doc = req.project
        registry = self.engine.registry
        out = EvalResult(req.serial, view=req.view)
        targets = [t for t in req.targets if doc.has_node(t)]
        # One plan per evaluation: the whole graph is validated once (every node's issues are shown) and each
        # group below runs a part of it without validating again.
        plan = self.engine.plan(doc, doc.settings, targets, scope="graph")
        plan.issues = out.issues = server_side_issues(plan.issues, doc, registry)
        if not targets:
            out.seconds = time.perf_counter() - t0
            return out
        # Overlay targets (selected nodes' trajectories, scenes, boxes, and the camera) run apart from the
        # viewed picture, so that a path can still be drawn while what it feeds fails (a Sprite without tracks).
        view_node = req.view.node_id if req.view is not None else None
        groups = [[t for t in targets if t != view_node], [t for t in targets if t == view_node]]
        errors: list[tuple[str, str | None, bool]] = []  # (message, node, of the view)
        values: dict[str, dict[str, Any]] = {}
        server_msgs: set[str] = set()
        for group in groups:
            if not group:
                continue
            is_view = view_node in group
            try:
                part = plan.narrow(group)
            except GraphError as e:
                errors.append((str(e), None, is_view))
                continue
            blocking = part.errors
            if blocking:
                first = blocking[0]
                errors.append(
                    (
                        str(first) + (f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else ""),
                        first.node_id,
                        is_view,
                    )
                )
                continue
            gens = [n.id for n in doc.nodes if n.id in set(part.backend_only)]  # document order, as before
            if gens:  # diffusion runs on the server (Generate, Ctrl+G), never in the GUI process
                out.server_only += [g for g in gens if g not in out.server_only]
                server_msgs.add(server_only_message(gens, doc))
                errors.append((server_only_message(gens, doc), None, is_view))
                continue
            try:
                run = self.engine.run(part, project_dir=doc.project_dir, cancel=token)
            except Cancelled:
                return None
            except (NodeError, NodeExecutionError) as e:
                errors.append((str(e), e.node_id, is_view))
                continue
            except VidStudioError as e:
                errors.append((str(e), None, is_view))
                continue
            for k, rep in run.report.items():  # a node the first group ran shows as cached in the second: keep "ran"
                out.report.setdefault(k, rep)
            values.update({t: run.values[t] for t in group if t in run.values})
        if errors:
            errors.sort(key=lambda e: not e[2])  # the picture's error first: it is what the Viewer says
            out.error, out.error_node = errors[0][0], errors[0][1]
            out.error_is_server_only = out.error in server_msgs
        out.values = values
        if req.view is not None and req.view.node_id in values:
            value = values[req.view.node_id].get(req.view.port)
            try:
                if req.view.kind == "IMAGE":
                    still = checkerboard_composite(np.asarray(value, dtype=np.float32))
                    out.clip = Clip.still(still, doc.settings.frame_count, label=req.view.ref)
                else:
                    out.clip = as_clip(value, label=req.view.ref)
            except (ValueError, TypeError) as e:
                out.error = f"node '{req.view.node_id}' output '{req.view.port}' cannot be shown: {e}"
                out.error_node = req.view.node_id
        out.seconds = time.perf_counter() - t0
        return out


def frame_to_qimage(frame: np.ndarray) -> QImage:
    """Converts an ``(H, W, 3)`` float32 frame in [0, 1] to a ``QImage`` in ``Format_RGB32`` (the format
    Qt paints fastest), rounding to 8 bits."""
    h, w = frame.shape[:2]
    bgra = np.empty((h, w, 4), dtype=np.uint8)
    u8 = np.clip(frame * np.float32(255.0) + np.float32(0.5), 0, 255).astype(np.uint8)
    bgra[..., 0] = u8[..., 2]
    bgra[..., 1] = u8[..., 1]
    bgra[..., 2] = u8[..., 0]
    bgra[..., 3] = 255
    img = QImage(bgra.data, w, h, 4 * w, QImage.Format.Format_RGB32)
    return img.copy()


class FrameCache(QObject):
    """Rendered frames of one clip as ``QImage``, produced on a worker thread.

    Frames are asked for by project frame (the Timeline's frame numbers): project frame ``f`` shows clip frame
    :meth:`clip_frame` ``(f)``, the one on screen at ``f / fps`` seconds when the clip has its own rate
    (:func:`~vidstudio.media.clip.clip_fps`), else frame ``f`` itself. Images are kept per clip frame, so
    project frames that show the same clip frame share it. The clip spans :attr:`length` project frames; past
    them nothing is shown.

    Args:
        budget_bytes: memory for cached images; prefetching stops when it is full, and the frames least
            recently shown are dropped first.
        prefetch: after a clip is set, render every frame in the background, starting at the playhead.
        fps: the project's frame rate (frames per second); :meth:`set_timebase` changes it.

    Signals (GUI thread): ``frame_ready(clip_frame)`` and ``frame_failed(clip_frame, message)`` name the clip
    frame (compare with :meth:`clip_frame` of the playhead; the same number at the project's rate),
    ``changed()`` (the set of ready frames changed, the clip was replaced or the timebase changed).
    """

    frame_ready = Signal(int)
    frame_failed = Signal(int, str)
    changed = Signal()
    _rendered = Signal(int, int, object, str)

    def __init__(
        self,
        budget_bytes: int = 1 << 30,
        prefetch: bool = True,
        parent: QObject | None = None,
        fps: Fraction | int = Fraction(24),
    ):
        super().__init__(parent)
        self.budget_bytes = budget_bytes
        self.prefetch_enabled = prefetch
        self._fps = Fraction(fps)
        self._clip: Clip | None = None
        self._clip_fps: Fraction | None = None  # the clip's own rate when it differs from the project's
        self._conformed: np.ndarray | None = None  # (length,) clip frame of each project frame, made when needed
        self._gen = 0
        self._images: OrderedDict[int, QImage] = OrderedDict()
        self._bytes = 0
        self._failed: dict[int, str] = {}
        self._cond = threading.Condition()
        self._urgent: list[int] = []
        self._prefetch: list[int] = []
        self._claimed: set[int] = set()
        self._stop = False
        self._rendered.connect(self._on_rendered)
        self._thread = threading.Thread(target=self._loop, name="vidstudio-frames", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------------------------------ GUI side
    @property
    def clip(self) -> Clip | None:
        """The clip whose frames are cached."""
        return self._clip

    @property
    def generation(self) -> int:
        """Increments each time the clip is replaced."""
        return self._gen

    @property
    def fps(self) -> Fraction:
        """The project's frame rate."""
        return self._fps

    @property
    def clip_fps(self) -> Fraction | None:
        """The clip's own frame rate when it has one (``vidstudio_fps``) that differs from the project's, else
        None (its frames are the project's frames)."""
        return self._clip_fps if self._clip_fps != self._fps else None

    def _conform_map(self) -> np.ndarray | None:
        """``(length,)`` int64 clip frame of each project frame when the clip has its own rate, else None."""
        clip, rate = self._clip, self.clip_fps
        if clip is None or rate is None:
            return None
        if self._conformed is None:
            n = conformed_length(clip.frame_count, rate, self._fps)
            self._conformed = np.asarray(
                [conform_frame(f, self._fps, rate, clip.frame_count) for f in range(n)], dtype=np.int64
            )
        return self._conformed

    @property
    def length(self) -> int:
        """Project frames the clip spans (:func:`~vidstudio.media.timecode.conformed_length`; its frame count at
        the project's rate); 0 without a clip."""
        if self._clip is None:
            return 0
        m = self._conform_map()
        return self._clip.frame_count if m is None else len(m)

    def clip_frame(self, index: int) -> int | None:
        """The clip frame shown at project frame ``index`` (:func:`~vidstudio.media.timecode.conform_frame`), or
        None without a clip or outside ``[0, length)``."""
        if self._clip is None or not 0 <= index < self.length:
            return None
        m = self._conform_map()
        return int(index) if m is None else int(m[index])

    def set_timebase(self, fps: Fraction | int) -> None:
        """The project's frame rate changed: the clip's frames are conformed to it from now on (the images are
        kept; they belong to clip frames). Emits ``changed`` when it differs."""
        fps = Fraction(fps)
        if fps == self._fps:
            return
        self._fps = fps
        self._conformed = None
        self.changed.emit()

    def set_clip(self, clip: Clip | None, start: int = 0) -> None:
        """Shows ``clip`` from now on (prefetching from project frame ``start``); the cache is kept when it is the
        same clip object.

        A clip whose ``vidstudio_fps`` metadata is not a positive rate is shown at the project's rate.
        """
        if clip is self._clip:
            return
        try:
            rate = clip_fps(clip) if clip is not None else None
        except ValueError:
            rate = None
        with self._cond:
            self._clip = clip
            self._clip_fps = rate
            self._conformed = None
            self._gen += 1
            self._urgent.clear()
            self._prefetch.clear()
            self._claimed = set()
        self._images.clear()
        self._failed.clear()
        self._bytes = 0
        if clip is not None and self.prefetch_enabled:
            self.prefetch_from(start)
        self.changed.emit()

    def image(self, index: int) -> QImage | None:
        """The cached image shown at project frame ``index``, or None."""
        k = self.clip_frame(index)
        img = self._images.get(k) if k is not None else None
        if img is not None:
            self._images.move_to_end(k)
        return img

    def error(self, index: int) -> str | None:
        """Why the frame shown at project frame ``index`` could not be rendered, or None."""
        k = self.clip_frame(index)
        return self._failed.get(k) if k is not None else None

    def request(self, index: int) -> QImage | None:
        """Returns the image of project frame ``index`` when cached, else asks for it ahead of everything else
        and returns None (``frame_ready`` of its :meth:`clip_frame` follows)."""
        img = self.image(index)
        k = self.clip_frame(index)
        if img is not None or k is None:
            return img
        if k in self._failed:
            return None
        with self._cond:
            if k in self._urgent:
                self._urgent.remove(k)
            self._urgent.append(k)
            del self._urgent[:-4]  # while scrubbing only the latest few matter
            self._cond.notify_all()
        return None

    def prefetch_from(self, start: int) -> None:
        """Queues the frames of every project frame not yet cached for background rendering, from project frame
        ``start`` onwards, wrapping (a clip at a higher rate than the project's: only the frames shown)."""
        n = self.length
        if n == 0:
            return
        order = dict.fromkeys(self.clip_frame((start + j) % n) for j in range(n))
        with self._cond:
            self._prefetch = [i for i in order if i is not None and i not in self._images and i not in self._failed]
            self._cond.notify_all()

    def ready_mask(self) -> np.ndarray:
        """``(length,)`` bool over project frames: which of them show a cached frame (empty without a clip)."""
        n = self.length
        if self.clip_fps is None:
            mask = np.zeros(n, dtype=bool)
            for i in self._images:
                if i < n:
                    mask[i] = True
            return mask
        cached = np.zeros(self._clip.frame_count if self._clip is not None else 0, dtype=bool)
        cached[[i for i in self._images if i < len(cached)]] = True
        return cached[self._conform_map()]

    @property
    def nbytes(self) -> int:
        """Bytes held by cached images."""
        return self._bytes

    def idle(self) -> bool:
        """True when nothing is queued or being rendered."""
        with self._cond:
            return not self._urgent and not self._prefetch and not self._claimed

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stops the worker thread."""
        with self._cond:
            self._stop = True
            self._urgent.clear()
            self._prefetch.clear()
            self._cond.notify_all()
        self._thread.join(timeout)

    @Slot(int, int, object, str)
    def _on_rendered(self, gen: int, index: int, image: object, error: str) -> None:
        with self._cond:
            if gen == self._gen:
                self._claimed.discard(index)
        if gen != self._gen:
            return
        if image is None:
            self._failed[index] = error
            self.frame_failed.emit(index, error)
            return
        assert isinstance(image, QImage)
        if index not in self._images:
            self._bytes += image.sizeInBytes()
        self._images[index] = image
        self._images.move_to_end(index)
        while self._bytes > self.budget_bytes and len(self._images) > 1:
            _, old = self._images.popitem(last=False)
            self._bytes -= old.sizeInBytes()
        self.frame_ready.emit(index)
        self.changed.emit()

    # ------------------------------------------------------------------------------------------ worker
    def _next(self) -> tuple[int, int, Clip] | None:
        """Picks the next frame to render (called with the lock held)."""
        clip = self._clip
        if clip is None:
            self._urgent.clear()
            self._prefetch.clear()
            return None
        while self._urgent:
            i = self._urgent.pop()
            if i not in self._images and i not in self._claimed:
                self._claimed.add(i)
                return self._gen, i, clip
        if self._bytes >= self.budget_bytes:
            self._prefetch.clear()
            return None
        while self._prefetch:
            i = self._prefetch.pop(0)
            if i not in self._images and i not in self._claimed and i not in self._failed:
                self._claimed.add(i)
                return self._gen, i, clip
        return None

    def _loop(self) -> None:
        while True:
            with self._cond:
                job = None
                while not self._stop:
                    job = self._next()
                    if job is not None:
                        break
                    self._cond.wait()
                if self._stop:
                    return
            assert job is not None
            gen, index, clip = job
            try:
                image = frame_to_qimage(clip.frame(index))
                error = ""
            except Exception as e:
                image, error = None, error_text(e)
            with self._cond:
                stale = gen != self._gen or self._stop
            if not stale:
                self._rendered.emit(gen, index, image, error)
