"""The Graph Editor (Blender's): the F-curves of the selected nodes' animated parameters drawn over frames,
and the timing of their trajectories' paths, edited with the mouse.

* Channels (the list on the left, each can be hidden): every keyed parameter of the selected nodes
  (``node.param``), and for a selected Trajectory node each path's timing: the share of the path travelled
  (0-100 %) over frames, whose keys are the path's time keys (its start and end, or its keyed points).
* Keys: click to select (Shift adds), drag a box to select several, drag selected keys to move them in frame
  and value (snapped to whole frames while Snap is on; a timing key moves in frame only), drag a Bezier handle
  of a selected key (automatic handles become aligned, vector ones free). Handle type (V), interpolation (T)
  and easing (E) apply to the selected keys (for a timing key, the path's easing). Delete removes keys.
* View: Home frames all, F (or .) frames the selection, the wheel zooms about the pointer (Ctrl: values only,
  Shift: frames only), a middle drag pans, a click on the ruler moves the playhead.

Every edit is one undo step on the session's stack (a drag included), and the Viewer re-renders while
dragging because each move is an edit the session evaluates. The curve maths is :mod:`vidstudio.motion.curves`
and :mod:`vidstudio.motion.curve_edit`; this module only draws and maps the mouse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QMouseEvent, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vidstudio.motion import curve_edit, pathedit
from vidstudio.motion.curves import HANDLE_TYPES, INTERPOLATIONS, FCurve
from vidstudio.motion.easing import FAMILIES
from vidstudio.motion.trajectory import MotionPath, compile_path, path_arc_length, timing_keys, validate_document
from vidstudio.project import edits
from vidstudio.ui.state.session import Session
from vidstudio.ui.widgets import theme

RULER = 22.0  # frame ruler height (px)
GUTTER = 46.0  # value labels width (px)
KEY_HIT = 7.0  # px
HANDLE_HIT = 6.0  # px
DRAG_START = 3.0  # px a press must move to become a drag
CHANNEL_COLORS = ("#e8694a", "#5fb0ef", "#8fd16a", "#e6c350", "#c68ae8", "#4fd1c1", "#ef8fb8", "#b0b0b0")
EASINGS = ("auto", "in", "out", "in_out")
PATH_EASINGS = ("linear", *FAMILIES)


# ================================================================================================ channels
@dataclass
class Channel:
    """One curve of the editor.

    Attributes:
        id: ``"node.param"`` for a parameter's F-curve, ``"timing:node:path"`` for a path's timing.
        label: shown in the list; color: its colour; node_id: the node it belongs to.
        param: the parameter (F-curves) or None; path_id: the path (timing) or None.
        visible: drawn and editable (the list's check box).
    """

    id: str
    label: str
    color: QColor
    node_id: str
    param: str | None = None
    path_id: str | None = None
    visible: bool = True

    @property
    def is_timing(self) -> bool:
        """True for a path's timing channel."""
        return self.path_id is not None


@dataclass
class _Drag:
    kind: str  # "keys", "handle", "box", "pan", "scrub"
    press: QPointF
    moved: bool = False
    origin: tuple[float, float] = (0.0, 0.0)  # (frame, value) under the press
    start: dict[str, Any] = field(default_factory=dict)  # channel id -> curve / document at the press
    keys: dict[str, list[int]] = field(default_factory=dict)  # channel id -> selected key indices at the press
    handle: tuple[str, int, str] | None = None  # (channel id, key, side)
    view: tuple[float, float, float, float] = (0, 0, 0, 0)


class GraphCanvas(QWidget):
    """The drawing and the mouse of the Graph Editor (see the module docstring).

    View: ``f0`` (frame at the left edge of the plot), ``fs`` (px per frame), ``vc`` (value at the plot's
    vertical centre), ``vs`` (px per value unit).

    Signal ``selection_changed()`` when the selected keys change.
    """

    selection_changed = Signal()

    def __init__(self, editor: GraphEditor):
        super().__init__(editor)
        self.editor = editor
        self.session: Session = editor.session
        self.setObjectName("GraphCanvas")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(240, 120)
        self.f0, self.fs, self.vc, self.vs = -2.0, 8.0, 0.5, 100.0
        self.selected: dict[str, set[int]] = {}
        self.snap = True
        self._drag: _Drag | None = None
        self._box: QRectF | None = None
        self._framed_once = False

    # ------------------------------------------------------------------------------------ mapping
    def plot_rect(self) -> QRectF:
        """The plotting area in widget pixels (right of the value gutter, below the ruler)."""
        return QRectF(GUTTER, RULER, max(self.width() - GUTTER, 1.0), max(self.height() - RULER, 1.0))

    def to_screen(self, frame: float, value: float) -> QPointF:
        """Widget pixels of ``(frame, value)``."""
        r = self.plot_rect()
        return QPointF(r.left() + (frame - self.f0) * self.fs, r.center().y() - (value - self.vc) * self.vs)

    def to_curve(self, p: QPointF) -> tuple[float, float]:
        """``(frame, value)`` under widget pixel ``p``."""
        r = self.plot_rect()
        return self.f0 + (p.x() - r.left()) / self.fs, self.vc - (p.y() - r.center().y()) / self.vs

    def norm(self, ch: Channel) -> tuple[float, float]:
        """``(offset, scale)`` that maps the channel's values to what is drawn (``(v - offset) * scale``):
        identity unless Normalize is on, which fits each channel's range into -1..1."""
        return self.editor.norms.get(ch.id, (0.0, 1.0)) if self.editor.normalize else (0.0, 1.0)

    def disp(self, ch: Channel, v):
        """A channel's value(s) as drawn."""
        off, sc = self.norm(ch)
        return (v - off) * sc

    def undisp(self, ch: Channel, v: float) -> float:
        """The channel's value drawn at ``v``."""
        off, sc = self.norm(ch)
        return v / sc + off

    def ch_screen(self, ch: Channel, frame: float, value: float) -> QPointF:
        """Widget pixels of a channel's ``(frame, value)``."""
        return self.to_screen(frame, float(self.disp(ch, value)))

    # ------------------------------------------------------------------------------------ data
    def channels(self) -> list[Channel]:
        """The visible channels."""
        return [c for c in self.editor.channels if c.visible]

    def curve(self, ch: Channel) -> FCurve | None:
        """The F-curve of a parameter channel, or None."""
        return self.session.project.animation.get(ch.id) if not ch.is_timing else None

    def path(self, ch: Channel) -> tuple[MotionPath, Any] | None:
        """``(path, compiled)`` of a timing channel, or None when it is gone or invalid."""
        s = self.session
        if not s.project.has_node(ch.node_id):
            return None
        doc = pathedit.as_document(edits.param_value(s.project, s.registry, ch.node_id, "paths"))
        for p in doc.get("paths", []):
            if p.get("id") == ch.path_id:
                try:
                    m = MotionPath.model_validate(p)
                    return m, compile_path(m)
                except ValueError:
                    return None
        return None

    def keys(self, ch: Channel) -> np.ndarray:
        """``(K, 2)`` ``(frame, value)`` of a channel's keys (a timing channel: % of the path travelled)."""
        c = self.curve(ch)
        if c is not None:
            return np.array([[k.frame, k.value] for k in c.keys], dtype=np.float64)
        pc = self.path(ch) if ch.is_timing else None
        if pc is None:
            return np.zeros((0, 2))
        m, cp = pc
        try:
            t, s, _ = timing_keys(cp, self.session.frame_count)
        except ValueError:
            return np.zeros((0, 2))
        return np.stack([t, 100.0 * s / max(cp.length, 1e-9)], axis=1)

    def values(self, ch: Channel, frames: np.ndarray) -> np.ndarray:
        """The channel's values at ``frames`` (float64, same shape)."""
        c = self.curve(ch)
        if c is not None:
            return c.evaluate(frames)
        pc = self.path(ch) if ch.is_timing else None
        if pc is None:
            return np.full(frames.shape, np.nan)
        m, cp = pc
        try:
            return 100.0 * path_arc_length(cp, frames, self.session.frame_count) / max(cp.length, 1e-9)
        except ValueError:
            return np.full(frames.shape, np.nan)

    def _handles_shown(self, ch: Channel, c: FCurve, i: int) -> bool:
        """Whether key ``i``'s handles matter and are drawn: it is selected and a Bezier segment touches it."""
        if i not in self.selected.get(ch.id, set()):
            return False
        right = c.keys[i].interpolation == "bezier" and i < len(c.keys) - 1
        left = i > 0 and c.keys[i - 1].interpolation == "bezier"
        return right or left

    # ------------------------------------------------------------------------------------ view
    def frame_all(self) -> None:
        """Fits every visible channel (keys and curve) and the clip's frames in the view."""
        self._fit(selected_only=False)

    def frame_selected(self) -> None:
        """Fits the selected keys (and their handles); all when none is selected."""
        if not any(self.selected.values()):
            self._fit(selected_only=False)
        else:
            self._fit(selected_only=True)

    def _fit(self, selected_only: bool) -> None:
        fs, vs = [], []
        n = self.session.frame_count
        for ch in self.channels():
            k = self.keys(ch)
            if selected_only:
                sel = sorted(i for i in self.selected.get(ch.id, set()) if i < len(k))
                if not sel:
                    continue
                pts = k[sel]
                c = self.curve(ch)
                if c is not None:
                    left, right = c.handles()
                    for i in sel:
                        if self._handles_shown(ch, c, i):
                            pts = np.vstack([pts, left[i], right[i]])
                fs += list(pts[:, 0])
                vs += list(self.disp(ch, pts[:, 1]))
            else:
                lo = min([0.0, *k[:, 0]]) if len(k) else 0.0
                hi = max([float(n - 1), *k[:, 0]]) if len(k) else float(n - 1)
                grid = np.linspace(lo, hi, 200)
                vals = self.values(ch, grid)
                vals = vals[np.isfinite(vals)]
                fs += [lo, hi]
                vs += list(self.disp(ch, vals)) + list(self.disp(ch, k[:, 1]))
        if not fs:
            fs, vs = [0.0, float(max(n - 1, 1))], [0.0, 1.0]
        f_lo, f_hi, v_lo, v_hi = min(fs), max(fs), min(vs), max(vs)
        if f_hi - f_lo < 2:
            f_lo, f_hi = f_lo - 5, f_hi + 5
        if v_hi - v_lo < 1e-6:
            pad = max(abs(v_hi) * 0.5, 0.5)
            v_lo, v_hi = v_lo - pad, v_hi + pad
        r = self.plot_rect()
        mf, mv = 0.06 * (f_hi - f_lo), 0.12 * (v_hi - v_lo)
        self.fs = r.width() / (f_hi - f_lo + 2 * mf)
        self.f0 = f_lo - mf
        self.vs = r.height() / (v_hi - v_lo + 2 * mv)
        self.vc = (v_lo + v_hi) / 2
        self._framed_once = True
        self.update()

    def zoom(self, factor_f: float, factor_v: float, anchor: QPointF) -> None:
        """Zooms frames and values by the factors about widget pixel ``anchor``."""
        f, v = self.to_curve(anchor)
        self.fs = min(max(self.fs * factor_f, 1e-3), 2000.0)
        self.vs = min(max(self.vs * factor_v, 1e-6), 1e7)
        f2, v2 = self.to_curve(anchor)
        self.f0 += f - f2
        self.vc += v - v2
        self.update()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._framed_once:
            self.frame_all()

    # ------------------------------------------------------------------------------------ drawing
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.fillRect(self.rect(), QColor("#1b1b1d"))
        r = self.plot_rect()
        self._draw_grid(p, r)
        p.save()
        p.setClipRect(r)
        frames_px = np.arange(r.left(), r.right() + 2, 2.0)
        frames = self.f0 + (frames_px - r.left()) / self.fs
        for ch in self.channels():
            self._draw_channel(p, ch, frames)
        # playhead
        x = self.to_screen(self.session.transport.playhead, 0).x()
        p.setPen(QPen(QColor(theme.ACCENT), 1.5))
        p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
        if self._box is not None:
            p.setPen(QPen(QColor(255, 255, 255, 180), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(255, 255, 255, 25))
            p.drawRect(self._box)
        p.restore()
        if not self.editor.channels:
            p.setPen(QColor(theme.TEXT_DIM))
            p.drawText(
                r,
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                "No curves: select a node with keyed parameters (key one in the Inspector or the Timeline),\n"
                "or a Trajectory node to edit its paths' timing",
            )
        p.end()

    def _nice_step(self, px_per_unit: float, min_px: float) -> float:
        raw = min_px / max(px_per_unit, 1e-12)
        e = 10 ** math.floor(math.log10(raw))
        for m in (1, 2, 5, 10):
            if m * e >= raw:
                return m * e
        return 10 * e

    def _draw_grid(self, p: QPainter, r: QRectF) -> None:
        f = QFont(self.font())
        f.setPointSizeF(7.5)
        p.setFont(f)
        p.fillRect(QRectF(0, 0, self.width(), RULER), QColor("#232326"))
        p.fillRect(QRectF(0, RULER, GUTTER, self.height()), QColor("#202023"))
        # frames
        step = max(1.0, self._nice_step(self.fs, 48.0))
        first = math.ceil(self.f0 / step) * step
        fr = first
        while True:
            x = self.to_screen(fr, 0).x()
            if x > r.right():
                break
            p.setPen(QPen(QColor(255, 255, 255, 22), 1))
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
            p.setPen(QColor(170, 170, 170))
            p.drawText(QRectF(x - 30, 2, 60, RULER - 4), int(Qt.AlignmentFlag.AlignCenter), f"{fr:g}")
            fr += step
        # clip range
        n = self.session.frame_count
        x0, x1 = self.to_screen(0, 0).x(), self.to_screen(n - 1, 0).x()
        p.fillRect(QRectF(r.left(), r.top(), max(0.0, x0 - r.left()), r.height()), QColor(0, 0, 0, 50))
        p.fillRect(QRectF(x1, r.top(), max(0.0, r.right() - x1), r.height()), QColor(0, 0, 0, 50))
        # values
        vstep = self._nice_step(self.vs, 28.0)
        top_v = self.to_curve(QPointF(0, r.top()))[1]
        bottom_v = self.to_curve(QPointF(0, r.bottom()))[1]
        v = math.floor(bottom_v / vstep) * vstep
        while v <= top_v + vstep:
            y = self.to_screen(0, v).y()
            if r.top() <= y <= r.bottom():
                zero = abs(v) < vstep * 1e-6
                p.setPen(QPen(QColor(255, 255, 255, 50 if zero else 18), 1))
                p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
                p.setPen(QColor(160, 160, 160))
                p.drawText(
                    QRectF(2, y - 8, GUTTER - 6, 16),
                    int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                    f"{0.0 if zero else v:.4g}",
                )
            v += vstep

    def _draw_channel(self, p: QPainter, ch: Channel, frames: np.ndarray) -> None:
        vals = self.values(ch, frames)
        r = self.plot_rect()
        path = QPainterPath()
        started = False
        for f, v in zip(frames, vals, strict=True):
            if not np.isfinite(v):
                started = False
                continue
            pt = self.ch_screen(ch, float(f), float(v))
            pt.setY(min(max(pt.y(), r.top() - 2000), r.bottom() + 2000))
            if started:
                path.lineTo(pt)
            else:
                path.moveTo(pt)
                started = True
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 140), 3.5))
        p.drawPath(path)
        p.setPen(QPen(ch.color, 1.6, Qt.PenStyle.DashLine if ch.is_timing else Qt.PenStyle.SolidLine))
        p.drawPath(path)
        keys = self.keys(ch)
        sel = self.selected.get(ch.id, set())
        c = self.curve(ch)
        if c is not None:
            left, right = c.handles()
            for i in range(len(keys)):
                if not self._handles_shown(ch, c, i):
                    continue
                k = self.ch_screen(ch, *keys[i])
                for h in (left[i], right[i]):
                    hp = self.ch_screen(ch, float(h[0]), float(h[1]))
                    p.setPen(QPen(QColor(220, 220, 220, 190), 1))
                    p.drawLine(k, hp)
                    p.setPen(QPen(QColor(0, 0, 0, 200), 1))
                    p.setBrush(QColor(230, 230, 230))
                    p.drawEllipse(hp, 3.2, 3.2)
        for i, (f, v) in enumerate(keys):
            pt = self.ch_screen(ch, float(f), float(v))
            d = 5.0 if i in sel else 4.0
            poly = QPolygonF(
                [
                    QPointF(pt.x(), pt.y() - d),
                    QPointF(pt.x() + d, pt.y()),
                    QPointF(pt.x(), pt.y() + d),
                    QPointF(pt.x() - d, pt.y()),
                ]
            )
            p.setPen(QPen(QColor(0, 0, 0, 230), 1.2))
            p.setBrush(QColor("#ffb020") if i in sel else (QColor(235, 235, 235) if not ch.is_timing else ch.color))
            p.drawPolygon(poly)

    # ------------------------------------------------------------------------------------ hit testing
    def hit(self, pos: QPointF) -> tuple[str, str, int, str | None] | None:
        """``(kind, channel id, key, side)`` under ``pos``: ``("handle", ...)`` for a shown handle of a selected
        key (``side`` left/right), ``("key", ..., None)`` for a key; None for empty space."""
        for ch in reversed(self.channels()):
            c = self.curve(ch)
            if c is None:
                continue
            left, right = c.handles()
            for i in range(len(c.keys)):
                if not self._handles_shown(ch, c, i):
                    continue
                for side, h in (("right", right[i]), ("left", left[i])):
                    hp = self.ch_screen(ch, float(h[0]), float(h[1]))
                    if math.hypot(hp.x() - pos.x(), hp.y() - pos.y()) <= HANDLE_HIT:
                        return ("handle", ch.id, i, side)
        best = None
        for ch in reversed(self.channels()):
            for i, (f, v) in enumerate(self.keys(ch)):
                pt = self.ch_screen(ch, float(f), float(v))
                d = math.hypot(pt.x() - pos.x(), pt.y() - pos.y())
                if d <= KEY_HIT and (best is None or d < best[0]):
                    best = (d, ch.id, i)
        return ("key", best[1], best[2], None) if best is not None else None

    # ------------------------------------------------------------------------------------ selection
    def set_selected(self, sel: dict[str, set[int]]) -> None:
        """Replaces the selection (``{channel id: key indices}``)."""
        sel = {k: set(v) for k, v in sel.items() if v}
        if sel != self.selected:
            self.selected = sel
            self.selection_changed.emit()
        self.update()

    def selected_keys(self) -> list[tuple[Channel, int]]:
        """``(channel, key index)`` of every selected key of a visible channel."""
        out = []
        for ch in self.channels():
            n = len(self.keys(ch))
            out += [(ch, i) for i in sorted(self.selected.get(ch.id, set())) if i < n]
        return out

    def prune(self) -> None:
        """Drops selected keys that no longer exist."""
        ids = {c.id: len(self.keys(c)) for c in self.editor.channels}
        sel = {cid: {i for i in keys if i < ids[cid]} for cid, keys in self.selected.items() if cid in ids}
        self.set_selected(sel)

    # ------------------------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        pos = event.position()
        if event.button() == Qt.MouseButton.MiddleButton:
            self._drag = _Drag("pan", pos, view=(self.f0, self.fs, self.vc, self.vs))
            return
        if event.button() == Qt.MouseButton.RightButton:
            h = self.hit(pos)
            if h is not None and h[2] not in self.selected.get(h[1], set()):
                self.set_selected({h[1]: {h[2]}})
            self.editor.context_menu(event.globalPosition().toPoint())
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if pos.y() < RULER:
            self._drag = _Drag("scrub", pos)
            self.session.transport.set_playhead(int(round(self.to_curve(pos)[0])))
            return
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        h = self.hit(pos)
        d = _Drag("box", pos, origin=self.to_curve(pos))
        if h is not None and h[0] == "handle":
            d.kind, d.handle = "handle", (h[1], h[2], h[3] or "right")
        elif h is not None:
            cid, i = h[1], h[2]
            sel = {k: set(v) for k, v in self.selected.items()}
            if shift:
                if i in sel.get(cid, set()):
                    sel[cid].discard(i)
                else:
                    sel.setdefault(cid, set()).add(i)
            elif i not in sel.get(cid, set()):
                sel = {cid: {i}}
            self.set_selected(sel)
            if i in self.selected.get(cid, set()):
                d.kind = "keys"
                ch = self._channel(cid)
                kf, kv = self.keys(ch)[i]
                d.origin = (float(kf), float(self.disp(ch, kv)))
        elif not shift:
            self.set_selected({})
        for ch in self.channels():
            d.start[ch.id] = self._snapshot(ch)
            d.keys[ch.id] = sorted(self.selected.get(ch.id, set()))
        self._drag = d

    def _channel(self, cid: str) -> Channel:
        return next(c for c in self.editor.channels if c.id == cid)

    def _snapshot(self, ch: Channel) -> Any:
        if ch.is_timing:
            s = self.session
            return pathedit.as_document(edits.param_value(s.project, s.registry, ch.node_id, "paths"))
        return self.curve(ch)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        d = self._drag
        pos = event.position()
        if d is None:
            h = self.hit(pos)
            self.setCursor(Qt.CursorShape.SizeAllCursor if h is not None else Qt.CursorShape.ArrowCursor)
            return
        if not d.moved and math.hypot(pos.x() - d.press.x(), pos.y() - d.press.y()) < DRAG_START:
            return
        if not d.moved:
            d.moved = True
            if d.kind in ("keys", "handle"):
                self.session.begin_interaction()
        if d.kind == "pan":
            f0, fs, vc, vs = d.view
            self.f0 = f0 - (pos.x() - d.press.x()) / fs
            self.vc = vc + (pos.y() - d.press.y()) / vs
            self.update()
        elif d.kind == "scrub":
            self.session.transport.set_playhead(int(round(self.to_curve(pos)[0])))
        elif d.kind == "box":
            self._box = QRectF(d.press, pos).normalized()
            self.update()
        elif d.kind == "keys":
            f, v = self.to_curve(pos)
            free = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self._move_keys(d, f - d.origin[0], v - d.origin[1], snap=self.snap and not free)
        elif d.kind == "handle":
            f, v = self.to_curve(pos)
            self._move_handle(d, f, v)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        d, self._drag = self._drag, None
        if d is None:
            return
        if d.kind == "box" and self._box is not None:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            sel = {k: set(v) for k, v in self.selected.items()} if shift else {}
            for ch in self.channels():
                for i, (f, v) in enumerate(self.keys(ch)):
                    if self._box.contains(self.ch_screen(ch, float(f), float(v))):
                        sel.setdefault(ch.id, set()).add(i)
            self._box = None
            self.set_selected(sel)
        if d.moved and d.kind in ("keys", "handle"):
            self.session.end_interaction()
        self.update()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        k = 1.15**steps
        mods = event.modifiers()
        ff = 1.0 if mods & Qt.KeyboardModifier.ControlModifier else k
        fv = 1.0 if mods & Qt.KeyboardModifier.ShiftModifier else k
        self.zoom(ff, fv, event.position())

    def keyPressEvent(self, event) -> None:
        k = event.key()
        if k == Qt.Key.Key_Home:
            self.frame_all()
        elif k in (Qt.Key.Key_F, Qt.Key.Key_Period):
            self.frame_selected()
        elif k in (Qt.Key.Key_Delete, Qt.Key.Key_X, Qt.Key.Key_Backspace):
            self.editor.delete_selected()
        elif k == Qt.Key.Key_A and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_selected({ch.id: set(range(len(self.keys(ch)))) for ch in self.channels()})
        elif k in (Qt.Key.Key_V, Qt.Key.Key_T, Qt.Key.Key_E):
            self.editor.context_menu(
                self.mapToGlobal(self.rect().center()),
                {Qt.Key.Key_V: "handles", Qt.Key.Key_T: "interpolation", Qt.Key.Key_E: "easing"}[k],
            )
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # ------------------------------------------------------------------------------------ edits
    def _move_keys(self, d: _Drag, dframe: float, dvalue: float, snap: bool) -> None:
        if snap:
            dframe = float(round(d.origin[0] + dframe) - d.origin[0])
        new_sel = dict(self.selected)
        for cid, idx in d.keys.items():
            if not idx:
                continue
            ch = self._channel(cid)
            start = d.start[cid]
            if ch.is_timing:
                doc = retime_path(start, ch.path_id, idx, dframe, self.session.frame_count, self._timing_of(start, ch))
                if doc is not None:
                    self.session.set_param(
                        ch.node_id, "paths", doc, merge=("graph-drag", cid), text=f"Retime path '{ch.path_id}'"
                    )
                continue
            if start is None:
                continue
            moved = curve_edit.move_keys(start, idx, dframe, dvalue / self.norm(ch)[1], snap=snap)
            if moved is None:
                continue  # a key would land on another: wait for the next move
            curve, where = moved
            try:
                self.session.set_curve(
                    ch.node_id, ch.param or "", curve, merge=("graph-drag", cid), text=f"Move keys of {ch.label}"
                )
            except ValueError as e:
                self.session.message.emit(str(e))
                continue
            new_sel[cid] = set(where)
        self.set_selected(new_sel)

    def _timing_of(self, doc: dict, ch: Channel) -> list[int]:
        """The point index of each timing key of the path at the drag's start."""
        for p in doc.get("paths", []):
            if p.get("id") == ch.path_id:
                m = MotionPath.model_validate(p)
                return [int(i) for i in timing_keys(compile_path(m), self.session.frame_count)[2]]
        return []

    def _move_handle(self, d: _Drag, frame: float, value: float) -> None:
        assert d.handle is not None
        cid, i, side = d.handle
        ch = self._channel(cid)
        start = d.start.get(cid)
        if start is None or ch.is_timing:
            return
        curve = curve_edit.drag_handle(start, i, side, frame, self.undisp(ch, value))
        self.session.set_curve(
            ch.node_id, ch.param or "", curve, merge=("graph-drag", cid), text=f"Drag a handle of {ch.label}"
        )


def retime_path(
    doc: dict, path_id: str | None, keys: list[int], dframe: float, frame_count: int, points_of_keys: list[int]
) -> dict | None:
    """The trajectory document with time keys of path ``path_id`` moved by ``dframe`` frames.

    Args:
        doc: the trajectory document (JSON data; not changed).
        keys: indices into the path's timing keys (:func:`vidstudio.motion.trajectory.timing_keys`).
        frame_count: the clip's frames (an open end frame is its last one).
        points_of_keys: unused (kept for the caller's bookkeeping).

    Returns:
        the new document, or None when the result is not valid (keys out of order, end before start). A key
        of the first or last point without its own frame moves ``start_frame`` / ``end_frame``; a keyed point
        moves its ``frame`` (widening the path's range when it passes its start or end); in
        ``constant_speed`` timing the two keys are ``start_frame`` and ``end_frame``.
    """
    d = pathedit.as_document(doc)
    try:
        i = pathedit.path_index(d, path_id or "")
    except (KeyError, ValueError):
        return None
    path = d["paths"][i]
    m = MotionPath.model_validate(path)
    try:
        t, _, idx = timing_keys(compile_path(m), frame_count)
    except ValueError:
        return None
    n = len(path["points"])
    for k in keys:
        if k >= len(t):
            continue
        f = float(t[k] + dframe)
        pi = int(idx[k])
        if m.timing == "constant_speed" or n == 1:
            path["start_frame" if k == 0 else "end_frame"] = f
            continue
        pt = path["points"][pi]
        if pi == 0 and pt.get("frame") is None:
            path["start_frame"] = f
        elif pi == n - 1 and pt.get("frame") is None:
            path["end_frame"] = f
        else:
            pt["frame"] = f
            if pi == 0:
                path["start_frame"] = min(float(path.get("start_frame", 0.0)), f)
            if pi == n - 1 and path.get("end_frame") is not None:
                path["end_frame"] = max(float(path["end_frame"]), f)
    if path.get("end_frame") is not None and float(path["end_frame"]) < float(path.get("start_frame", 0.0)):
        return None
    try:
        validate_document(d)
        timing_keys(compile_path(MotionPath.model_validate(path)), frame_count)
    except ValueError:
        return None
    return d


# ================================================================================================ the pane
class GraphEditor(QWidget):
    """The Graph Editor pane of a session (see the module docstring).

    Attributes:
        canvas: the :class:`GraphCanvas`; channels: the :class:`Channel` list of the selected nodes.
    """

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("GraphEditor")
        self.channels: list[Channel] = []
        self.normalize = False
        self.norms: dict[str, tuple[float, float]] = {}
        self.canvas = GraphCanvas(self)

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 4)
        bar.setSpacing(4)

        def tool(icon: str, text: str, tip: str, slot, checkable=False) -> QToolButton:
            b = QToolButton(self)
            b.setIcon(theme.icon(icon))
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setCheckable(checkable)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            (b.toggled if checkable else b.clicked).connect(slot)
            bar.addWidget(b)
            return b

        tool("mdi6.fit-to-screen-outline", "All", "Frame all (Home)", self.canvas.frame_all)
        tool("mdi6.selection-search", "Selected", "Frame selected keys (F)", self.canvas.frame_selected)
        self.snap_button = tool(
            "mdi6.magnet",
            "Snap",
            "Snap keys to whole frames while dragging (Ctrl: off)",
            lambda on: setattr(self.canvas, "snap", bool(on)),
            True,
        )
        self.snap_button.setChecked(True)
        self.normalize_button = tool(
            "mdi6.arrow-expand-vertical",
            "Normalize",
            "Draw every curve in -1..1 (curves of different units side by side)",
            self.set_normalize,
            True,
        )
        bar.addSpacing(10)
        self.handle_box = self._combo(
            bar, "Handles", HANDLE_TYPES, "Handle type of the selected keys (V)", lambda t: self.apply(handle_type=t)
        )
        self.interp_box = self._combo(
            bar,
            "Interpolation",
            INTERPOLATIONS,
            "Interpolation of the selected keys' segments (T)",
            lambda t: self.apply(interpolation=t),
        )
        self.easing_box = self._combo(
            bar, "Easing", EASINGS, "Easing mode of the selected keys (E)", lambda t: self.apply(easing=t)
        )
        bar.addStretch(1)
        self.info = QLabel("", self)
        self.info.setProperty("role", "dim")
        bar.addWidget(self.info)

        self.list = QListWidget(self)
        self.list.setObjectName("GraphChannels")
        self.list.setMaximumWidth(260)
        self.list.itemChanged.connect(self._item_changed)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.list)
        split.addWidget(self.canvas)
        split.setStretchFactor(1, 1)
        split.setSizes([170, 800])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(split, 1)

        for name, keys, slot in (
            ("frame_all", "Home", self.canvas.frame_all),
            ("frame_selected", "F", self.canvas.frame_selected),
        ):
            a = QAction(name, self)
            a.setShortcut(QKeySequence(keys))
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            a.triggered.connect(slot)
            self.addAction(a)

        session.view.selection_changed.connect(self.rebuild)
        session.graph_changed.connect(self._graph_changed)
        session.project_replaced.connect(self.rebuild)
        session.transport.playhead_changed.connect(lambda _f: self.canvas.update())
        self.canvas.selection_changed.connect(self._sync_boxes)
        self.rebuild()

    def set_normalize(self, on: bool) -> None:
        """Draws each channel fitted into -1..1 (on) or in its own values (off), and frames all."""
        self.normalize = bool(on)
        self.norms = {}
        if on:
            for ch in self.channels:
                self.norms[ch.id] = self._norm_of(ch)
        if self.normalize_button.isChecked() != self.normalize:
            self.normalize_button.setChecked(self.normalize)
        self.canvas.frame_all()

    def _norm_of(self, ch: Channel) -> tuple[float, float]:
        k = self.canvas.keys(ch)
        n = self.session.frame_count
        lo = min([0.0, *k[:, 0]]) if len(k) else 0.0
        hi = max([float(n - 1), *k[:, 0]]) if len(k) else float(n - 1)
        vals = self.canvas.values(ch, np.linspace(lo, hi, 200))
        vals = np.concatenate([vals[np.isfinite(vals)], k[:, 1]]) if len(k) else vals[np.isfinite(vals)]
        if len(vals) == 0:
            return (0.0, 1.0)
        a, b = float(vals.min()), float(vals.max())
        return ((a + b) / 2, 2.0 / (b - a) if b - a > 1e-9 else 1.0)

    def _combo(self, bar: QHBoxLayout, label: str, items, tip: str, slot) -> QComboBox:
        lab = QLabel(label, self)
        lab.setProperty("role", "dim")
        bar.addWidget(lab)
        box = QComboBox(self)
        box.addItems(list(items))
        box.setToolTip(tip)
        box.setEnabled(False)
        box.activated.connect(lambda i, box=box: slot(box.itemText(i)))
        bar.addWidget(box)
        return box

    # ------------------------------------------------------------------------------------ channels
    def rebuild(self) -> None:
        """Lists the curves of the selected nodes (keeps the view; frames all when the set of curves changed)."""
        s = self.session
        hidden = {c.id for c in self.channels if not c.visible}
        old = [c.id for c in self.channels]
        chans: list[Channel] = []
        for nid in s.view.selection:
            if not s.project.has_node(nid):
                continue
            node = s.project.node(nid)
            for key in sorted(s.project.animation):
                if key.split(".", 1)[0] == nid:
                    param = key.split(".", 1)[1]
                    color = QColor(CHANNEL_COLORS[len(chans) % len(CHANNEL_COLORS)])
                    chans.append(Channel(key, f"{nid} · {param}", color, nid, param=param))
            if node.type == "Trajectory":
                doc = pathedit.as_document(edits.param_value(s.project, s.registry, nid, "paths"))
                for p in doc.get("paths", []):
                    pid = str(p.get("id"))
                    rgb = p.get("color") or [1.0, 0.55, 0.1]
                    try:
                        color = QColor.fromRgbF(*[min(max(float(c), 0.0), 1.0) for c in list(rgb)[:3]])
                    except (TypeError, ValueError):
                        color = QColor(CHANNEL_COLORS[0])
                    chans.append(
                        Channel(
                            f"timing:{nid}:{pid}", f"{nid} · {p.get('name') or pid} timing (%)", color, nid, path_id=pid
                        )
                    )
        for c in chans:
            c.visible = c.id not in hidden
        self.channels = chans
        if self.normalize:
            self.norms = {c.id: self.norms.get(c.id) or self._norm_of(c) for c in chans}
        self.list.blockSignals(True)
        self.list.clear()
        for c in chans:
            it = QListWidgetItem(c.label)
            it.setData(Qt.ItemDataRole.UserRole, c.id)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if c.visible else Qt.CheckState.Unchecked)
            it.setForeground(c.color)
            self.list.addItem(it)
        self.list.blockSignals(False)
        self.canvas.prune()
        if [c.id for c in chans] != old and chans and self.canvas.isVisible():
            self.canvas.frame_all()
        self._sync_boxes()
        self.canvas.update()

    def _graph_changed(self, change) -> None:
        sel = set(self.session.view.selection)
        touched = {k.split(".", 1)[0] for k in change.animation} | set(change.nodes)
        if not (sel & touched) and not change.settings:
            return
        ids = [c.id for c in self.channels]
        if self.session.interacting and ids:
            # while a drag edits existing curves the channel list stays as it is
            self.canvas.prune()
            self.canvas.update()
            self._sync_boxes()
            return
        self.rebuild()

    def _item_changed(self, it: QListWidgetItem) -> None:
        cid = it.data(Qt.ItemDataRole.UserRole)
        for c in self.channels:
            if c.id == cid:
                c.visible = it.checkState() == Qt.CheckState.Checked
        self.canvas.prune()
        self.canvas.update()

    def _sync_boxes(self) -> None:
        keys = self.canvas.selected_keys()
        curves = [(ch, i) for ch, i in keys if not ch.is_timing]
        timing = [(ch, i) for ch, i in keys if ch.is_timing]
        self.handle_box.setEnabled(bool(curves))
        self.interp_box.setEnabled(bool(keys))
        self.easing_box.setEnabled(bool(keys))
        for box in (self.handle_box, self.interp_box, self.easing_box):
            box.blockSignals(True)
        if curves:
            ch, i = curves[0]
            c = self.canvas.curve(ch)
            if c is not None and i < len(c.keys):
                k = c.keys[i]
                self.handle_box.setCurrentText(k.handle_type)
                self._set_items(self.interp_box, INTERPOLATIONS)
                self.interp_box.setCurrentText(k.interpolation)
                self._set_items(self.easing_box, EASINGS)
                self.easing_box.setCurrentText(k.easing)
        elif timing:
            pc = self.canvas.path(timing[0][0])
            self._set_items(self.interp_box, PATH_EASINGS)
            self._set_items(self.easing_box, ("in", "out", "in_out"))
            if pc is not None:
                self.interp_box.setCurrentText(pc[0].easing.family)
                self.easing_box.setCurrentText(pc[0].easing.mode)
        for box in (self.handle_box, self.interp_box, self.easing_box):
            box.blockSignals(False)
        n = len(keys)
        self.info.setText(f"{n} key{'s' if n != 1 else ''} selected" if n else "")

    @staticmethod
    def _set_items(box: QComboBox, items) -> None:
        if [box.itemText(i) for i in range(box.count())] != list(items):
            box.clear()
            box.addItems(list(items))

    # ------------------------------------------------------------------------------------ commands
    def apply(self, **fields: str) -> None:
        """Sets ``handle_type``, ``interpolation`` or ``easing`` on the selected keys, one undo step per curve.
        For a path's timing, ``interpolation`` is its easing family (``linear``, ``sine``...) and ``easing`` its
        mode (``in``, ``out``, ``in_out``)."""
        s = self.session
        by_channel: dict[str, list[int]] = {}
        for ch, i in self.canvas.selected_keys():
            by_channel.setdefault(ch.id, []).append(i)
        stack = s.undo_stack
        stack.beginMacro("Change keys")
        try:
            for cid, idx in by_channel.items():
                ch = self.canvas._channel(cid)
                if ch.is_timing:
                    self._apply_timing(ch, fields)
                    continue
                c = self.canvas.curve(ch)
                if c is None:
                    continue
                try:
                    if "handle_type" in fields:
                        c = curve_edit.set_handle_type(c, idx, fields["handle_type"])
                    other = {k: v for k, v in fields.items() if k != "handle_type"}
                    if other:
                        c = curve_edit.set_key_fields(c, idx, **other)
                    s.set_curve(ch.node_id, ch.param or "", c, text=f"Change keys of {ch.label}")
                except ValueError as e:
                    s.message.emit(str(e))
        finally:
            stack.endMacro()
        self._sync_boxes()

    def _apply_timing(self, ch: Channel, fields: dict[str, str]) -> None:
        s = self.session
        doc = pathedit.as_document(edits.param_value(s.project, s.registry, ch.node_id, "paths"))
        try:
            i = pathedit.path_index(doc, ch.path_id or "")
        except (KeyError, ValueError):
            return
        easing = dict(doc["paths"][i].get("easing") or {"family": "linear", "mode": "in_out"})
        if fields.get("interpolation") in PATH_EASINGS:
            easing["family"] = fields["interpolation"]
        if fields.get("easing") in ("in", "out", "in_out"):
            easing["mode"] = fields["easing"]
        doc = pathedit.update_path(doc, ch.path_id or "", easing=easing)
        try:
            s.set_param(ch.node_id, "paths", doc, text=f"Easing of path '{ch.path_id}'")
        except ValueError as e:
            s.message.emit(str(e))

    def delete_selected(self) -> None:
        """Deletes the selected keys of parameter curves (one undo step); a curve left without keys makes its
        parameter static at the value of its last key. Timing keys are not deleted here."""
        s = self.session
        by_channel: dict[str, list[int]] = {}
        for ch, i in self.canvas.selected_keys():
            if not ch.is_timing:
                by_channel.setdefault(ch.id, []).append(i)
        if not by_channel:
            return
        stack = s.undo_stack
        stack.beginMacro("Delete keys")
        try:
            for cid, idx in by_channel.items():
                ch = self.canvas._channel(cid)
                c = self.canvas.curve(ch)
                if c is None:
                    continue
                rest = curve_edit.delete_keys(c, idx)
                if rest is None:  # every key: the parameter stays static at the last key's value
                    s.clear_animation(ch.node_id, ch.param or "", frame=int(round(c.keys[-1].frame)))
                else:
                    s.set_curve(ch.node_id, ch.param or "", rest, text=f"Delete keys of {ch.label}")
        finally:
            stack.endMacro()
        self.canvas.set_selected({})

    def context_menu(self, at, only: str | None = None) -> QMenu:
        """The keys' menu (handle type, interpolation, easing, delete, view) at global position ``at``."""
        menu = QMenu(self)
        keys = self.canvas.selected_keys()
        has_curve = any(not ch.is_timing for ch, _ in keys)
        has_timing = any(ch.is_timing for ch, _ in keys)
        if only in (None, "handles") and has_curve:
            m = menu.addMenu("Handle Type") if only is None else menu
            for t in HANDLE_TYPES:
                m.addAction(t.replace("_", " "), lambda t=t: self.apply(handle_type=t))
        if only in (None, "interpolation") and keys:
            m = menu.addMenu("Interpolation") if only is None else menu
            for t in PATH_EASINGS if has_timing and not has_curve else INTERPOLATIONS:
                m.addAction(t, lambda t=t: self.apply(interpolation=t))
        if only in (None, "easing") and keys:
            m = menu.addMenu("Easing") if only is None else menu
            for t in ("in", "out", "in_out") if has_timing and not has_curve else EASINGS:
                m.addAction(t.replace("_", "-"), lambda t=t: self.apply(easing=t))
        if only is None:
            if has_curve:
                menu.addSeparator()
                menu.addAction("Delete Keys", self.delete_selected)
            menu.addSeparator()
            menu.addAction("Frame All", self.canvas.frame_all)
            menu.addAction("Frame Selected", self.canvas.frame_selected)
        menu.popup(at)
        return menu
