"""The Timeline: a ruler in frames and timecode, the playhead, transport, the in/out loop range, one row
of keyframe diamonds per animated parameter (drag to retime, right-click for interpolation), the cache
bar (which frames are ready to show at once), and a track per generated result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetricsF,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollBar,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vidstudio.media import timecode
from vidstudio.media.clip import clip_fps
from vidstudio.motion.curves import INTERPOLATIONS
from vidstudio.motion.easing import FAMILIES
from vidstudio.project import edits
from vidstudio.ui.state.session import Session
from vidstudio.ui.widgets import theme

LEFT = 150.0  # track label column
RULER = 36.0
CACHE_BAR = 6.0
ROW = 20.0
MEDIA_NODES = ("LoadVideo", "LoadAudio")  # nodes with a media track
PLACEHOLDER = "#3a4150"  # where a thumbnail (or a waveform) being decoded will be
WAVEFORM = "#7cc47f"
SOUND_LANE = "#1b231c"  # the band of a Load Video's sound lane (a green tint: sound, not picture)
WAVE_BUCKETS = 256  # min/max pairs of a waveform across its span
MARGIN = 12.0
KEY_HIT = 7.0


def make_transport_actions(session: Session, parent: QObject) -> dict[str, QAction]:
    """The transport actions with their shortcuts (window-wide): ``play`` (Space), ``step_back`` /
    ``step_forward`` (Left / Right), ``shuttle_back`` / ``pause`` / ``shuttle_forward`` (J / K / L),
    ``go_start`` / ``go_end`` (Home / End), ``set_in`` / ``set_out`` (I / O), ``clear_range`` (Alt+X),
    ``loop`` (checkable)."""
    spec = [
        ("play", "Play / Pause", "Space", session.transport.toggle_play, "mdi6.play"),
        ("step_back", "Step Back", "Left", lambda: session.transport.step(-1), "mdi6.step-backward"),
        ("step_forward", "Step Forward", "Right", lambda: session.transport.step(1), "mdi6.step-forward"),
        ("shuttle_back", "Play Backward (J)", "J", lambda: session.transport.shuttle("j"), "mdi6.rewind"),
        ("pause", "Pause (K)", "K", lambda: session.transport.shuttle("k"), "mdi6.pause"),
        ("shuttle_forward", "Play Forward (L)", "L", lambda: session.transport.shuttle("l"), "mdi6.fast-forward"),
        ("go_start", "Go to Start", "Home", session.transport.go_start, "mdi6.skip-backward"),
        ("go_end", "Go to End", "End", session.transport.go_end, "mdi6.skip-forward"),
        ("set_in", "Set In Point", "I", lambda: session.transport.set_in(), "mdi6.contain-start"),
        ("set_out", "Set Out Point", "O", lambda: session.transport.set_out(), "mdi6.contain-end"),
        ("clear_range", "Clear In/Out", "Alt+X", session.transport.clear_in_out, "mdi6.close-box-outline"),
    ]
    actions: dict[str, QAction] = {}
    for name, text, key, slot, icon in spec:
        a = QAction(theme.icon(icon), text, parent)
        a.setShortcut(QKeySequence(key))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.setToolTip(f"{text} ({key})")
        a.triggered.connect(slot)
        actions[name] = a
    loop = QAction(theme.icon("mdi6.repeat"), "Loop Playback", parent)
    loop.setCheckable(True)
    loop.setChecked(session.transport.loop)
    loop.setToolTip("Loop playback over the in/out range")
    loop.toggled.connect(lambda on: setattr(session, "loop", on))
    actions["loop"] = loop

    def playing(on: bool) -> None:
        actions["play"].setIcon(theme.icon("mdi6.pause" if on else "mdi6.play"))

    session.transport.playing_changed.connect(playing)
    return actions


@dataclass
class _KeyDrag:
    node_id: str
    param: str
    origin: float
    current: float


class TimelineCanvas(QWidget):
    """The painted part of the Timeline (ruler, cache bar, tracks, playhead).

    Signal ``rows_scrolled(offset)`` when the track rows scroll (or their number changes).
    """

    rows_scrolled = Signal(int)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setMouseTracking(True)
        self.setMinimumHeight(int(RULER + CACHE_BAR + 2 * ROW + 8))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._scrubbing = False
        self._key_drag: _KeyDrag | None = None
        self._row_offset = 0
        self._cache_dirty = False
        self._ruler: QPixmap | None = None  # the ruler, drawn once per width / frame count / fps
        self._ruler_key: tuple | None = None
        self._cache_timer = QTimer(self)
        self._cache_timer.setSingleShot(True)
        self._cache_timer.setInterval(60)
        self._cache_timer.timeout.connect(
            lambda: self.update(QRect(0, int(RULER), self.width(), int(math.ceil(CACHE_BAR))))
        )
        self._head_strip: QRect | None = None  # where the playhead was painted last
        session.transport.playhead_changed.connect(self._playhead_moved)
        session.transport.range_changed.connect(self.update)
        session.graph_changed.connect(lambda _c: self.update())
        session.project_replaced.connect(self.update)
        session.view.selection_changed.connect(self.update)
        session.view.results_changed.connect(self.update)
        session.view.view_changed.connect(self.update)
        session.frames.changed.connect(self._cache_changed)
        session.previews.changed.connect(self.update)

    def _head_rect(self, frame: int) -> QRect:
        """The strip the playhead at ``frame`` covers: its line, its frame-number box and the keys on it."""
        small = QFont(self.font())
        small.setPointSizeF(8.0)
        half = max(QFontMetricsF(small).horizontalAdvance(str(frame)) / 2 + 5, 8.0) + 3
        x = self.x_of(frame)
        return QRect(int(math.floor(x - half)), 0, int(math.ceil(2 * half)) + 1, self.height())

    def _playhead_moved(self, frame: int) -> None:
        # only the strips under the old and the new playhead change (the line, its box, the keys it lights)
        if self._head_strip is not None:
            self.update(self._head_strip)
        self.update(self._head_rect(frame))

    def _cache_changed(self) -> None:
        if not self._cache_timer.isActive():
            self._cache_timer.start()

    # ================================================================================== geometry
    @property
    def x0(self) -> float:
        """The x of frame 0, in widget pixels."""
        return LEFT + MARGIN

    @property
    def x1(self) -> float:
        """The x of the last frame, in widget pixels."""
        return max(self.width() - MARGIN, self.x0 + 10)

    @property
    def ppf(self) -> float:
        """Pixels per frame."""
        n = self.session.frame_count
        return (self.x1 - self.x0) / max(n - 1, 1)

    def x_of(self, frame: float) -> float:
        """The x of a frame."""
        return self.x0 + frame * self.ppf

    def frame_at(self, x: float) -> int:
        """The frame nearest to ``x`` (clamped to the clip)."""
        f = round((x - self.x0) / self.ppf)
        return int(min(max(f, 0), self.session.frame_count - 1))

    def rows(self) -> list[tuple[str, object]]:
        """The track rows: ``("key", AnimatedParam)``, ``("result", index)``, ``("media", node_id)`` (a Load
        Video's thumbnails, a Load Audio's waveform) and, under a Load Video whose file has sound, ``("sound",
        node_id)``: its waveform in a lane of its own, as video editors put a clip's audio under its picture (the
        lane appears once the sound has been read and lasts: a file without an audio stream has
        none)."""
        s = self.session
        rows: list[tuple[str, object]] = [("key", a) for a in edits.animated_params(s.project, s.registry)]
        rows += [("result", i) for i in range(len(s.view.results))]
        for n in s.project.nodes:
            if n.type in MEDIA_NODES and n.params.get("path"):
                rows.append(("media", n.id))
                if n.type == "LoadVideo" and self._has_sound(n.id):
                    rows.append(("sound", n.id))
        return rows

    def _media_source(self, node_id: str) -> tuple[Path, float, float]:
        """``(path, trim_in, trim_out)`` of a media node's file (a relative path from the project folder)."""
        s = self.session
        node = s.project.node(node_id)
        params = (
            {**s.registry.get(node.type).default_params(), **node.params} if node.type in s.registry else node.params
        )
        path = Path(params["path"])
        if not path.is_absolute() and s.project.project_dir is not None:
            path = s.project.project_dir / path
        return path, float(params.get("trim_in", 0.0)), float(params.get("trim_out", 0.0))

    def _has_sound(self, node_id: str) -> bool:
        """True when a media node's sound has been read (or a stand-in of an earlier trim is shown) and lasts."""
        path, trim_in, trim_out = self._media_source(node_id)
        got = self.session.previews.peaks(path, trim_in, trim_out, WAVE_BUCKETS)
        return got.error is None and got.value is not None and got.value[0] > 0

    def row_top(self, index: int) -> float:
        """The y (widget pixels) of the top of track row ``index``, with the rows' scroll applied."""
        return RULER + CACHE_BAR + 2 + (index - self._row_offset) * ROW

    def key_at(self, pos: QPointF) -> tuple[str, str, float] | None:
        """``(node_id, param, frame)`` of the keyframe diamond under ``pos``, or None."""
        for i, (kind, obj) in enumerate(self.rows()):
            if kind != "key":
                continue
            top = self.row_top(i)
            if not top <= pos.y() < top + ROW:
                continue
            best = None
            for k in obj.curve.keys:  # type: ignore[attr-defined]
                d = abs(self.x_of(k.frame) - pos.x())
                if d <= KEY_HIT and (best is None or d < best[0]):
                    best = (d, k.frame)
            if best is not None:
                return obj.node_id, obj.param, best[1]  # type: ignore[attr-defined]
        return None

    def key_pos(self, node_id: str, param: str, frame: float) -> QPointF:
        """Where the diamond of a key is drawn (for tests)."""
        for i, (kind, obj) in enumerate(self.rows()):
            if kind == "key" and obj.node_id == node_id and obj.param == param:  # type: ignore[attr-defined]
                return QPointF(self.x_of(frame), self.row_top(i) + ROW / 2)
        raise KeyError(f"{node_id}.{param} has no track")

    def result_at(self, pos: QPointF) -> int | None:
        """The index of the result track under ``pos`` (widget pixels), or None."""
        for i, (kind, obj) in enumerate(self.rows()):
            if kind == "result" and self.row_top(i) <= pos.y() < self.row_top(i) + ROW and pos.x() >= LEFT:
                return int(obj)  # type: ignore[arg-type]
        return None

    # ================================================================================== painting
    def paintEvent(self, event) -> None:
        s = self.session
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), QColor("#1d1d1d"))
        p.fillRect(QRectF(0, 0, LEFT, h), QColor("#262626"))
        n = s.frame_count
        fps = s.settings.fps
        small = QFont(self.font())
        small.setPointSizeF(8.0)
        p.setFont(small)
        fm = QFontMetricsF(small)

        # ruler: ticks, frame numbers and timecodes depend on the width, the frame count and the fps only, so
        # they are drawn once into a pixmap and reused while the playhead moves --------------------------
        ppf = self.ppf
        dpr = self.devicePixelRatioF()
        key = (w, n, str(fps), dpr, small.toString())
        if self._ruler_key != key or self._ruler is None:
            self._ruler = QPixmap(int(round(w * dpr)), int(round(RULER * dpr)))
            self._ruler.setDevicePixelRatio(dpr)
            self._ruler.fill(QColor("#1d1d1d"))
            rp = QPainter(self._ruler)
            rp.setRenderHint(QPainter.RenderHint.Antialiasing)
            rp.setFont(small)
            self._paint_ruler(rp, w, n, fps, ppf)
            rp.end()
            self._ruler_key = key
        p.drawPixmap(0, 0, self._ruler)

        # cache bar -----------------------------------------------------------------------------------
        top = RULER
        p.fillRect(QRectF(LEFT, top, w - LEFT, CACHE_BAR), QColor("#151515"))
        mask = s.frames.ready_mask()
        if len(mask):
            col = QColor(theme.CACHED)
            run_start = None
            for f in range(len(mask) + 1):
                on = f < len(mask) and mask[f]
                if on and run_start is None:
                    run_start = f
                elif not on and run_start is not None:
                    a = self.x_of(run_start) - ppf / 2
                    b = self.x_of(f - 1) + ppf / 2
                    p.fillRect(QRectF(max(a, LEFT), top + 1, max(b - max(a, LEFT), 1.0), CACHE_BAR - 2), col)
                    run_start = None

        # rows ----------------------------------------------------------------------------------------
        rows = self.rows()
        sel = set(s.view.selection)
        p.save()
        p.setClipRect(QRectF(0, RULER + CACHE_BAR, w, h))
        for i, (kind, obj) in enumerate(rows):
            y = self.row_top(i)
            if y + ROW < RULER + CACHE_BAR or y > h:
                continue
            band = QColor("#222222") if i % 2 == 0 else QColor("#1f1f1f")
            if kind == "key" and obj.node_id in sel:  # type: ignore[attr-defined]
                band = QColor("#2d281f")
            p.fillRect(QRectF(LEFT, y, w - LEFT, ROW), band)
            p.setPen(QColor("#2c2c2c"))
            p.drawLine(QPointF(0, y + ROW), QPointF(w, y + ROW))
            if kind == "key":
                a = obj  # AnimatedParam
                p.setPen(QColor(theme.TEXT_DIM))
                label = fm.elidedText(a.node_id, Qt.TextElideMode.ElideMiddle, 64)  # type: ignore[attr-defined]
                p.drawText(QRectF(8, y, 66, ROW), Qt.AlignmentFlag.AlignVCenter, label)
                p.setPen(QColor(theme.TEXT))
                p.drawText(
                    QRectF(76, y, LEFT - 80, ROW),
                    Qt.AlignmentFlag.AlignVCenter,
                    fm.elidedText(a.param, Qt.TextElideMode.ElideRight, LEFT - 80),
                )  # type: ignore[attr-defined]
                keys = a.curve.keys  # type: ignore[attr-defined]
                if len(keys) > 1:
                    p.setPen(QPen(QColor("#4a4a4a"), 1.5))
                    p.drawLine(
                        QPointF(self.x_of(keys[0].frame), y + ROW / 2), QPointF(self.x_of(keys[-1].frame), y + ROW / 2)
                    )
                for k in keys:
                    on_head = abs(k.frame - s.transport.playhead) < 1e-6
                    dragging = (
                        self._key_drag is not None
                        and self._key_drag.node_id == a.node_id
                        and self._key_drag.param == a.param
                        and abs(self._key_drag.current - k.frame) < 1e-6
                    )  # type: ignore[attr-defined]
                    fill = QColor(theme.ACCENT) if (dragging or on_head) else QColor("#e6e6e6")
                    if k.interpolation == "constant":
                        fill = fill.darker(130)
                    self._diamond(p, QPointF(self.x_of(k.frame), y + ROW / 2), 5.5, fill)
            elif kind == "media":
                self._paint_media(p, str(obj), y, fm)
            elif kind == "sound":
                self._paint_sound(p, str(obj), y, fm)
            else:
                idx = int(obj)  # type: ignore[arg-type]
                r = s.view.results[idx]
                viewed = s.view.view_result == idx
                p.setPen(QColor(theme.TEXT))
                p.drawText(
                    QRectF(8, y, LEFT - 12, ROW),
                    Qt.AlignmentFlag.AlignVCenter,
                    fm.elidedText(f"▶ {r.label}", Qt.TextElideMode.ElideRight, LEFT - 12),
                )
                span = timecode.conformed_length(r.clip.frame_count, clip_fps(r.clip, fps), fps)  # its seconds
                a, b = self.x_of(0) - ppf / 2, self.x_of(min(span, n) - 1) + ppf / 2
                bar = QRectF(max(a, LEFT + 1), y + 3, b - max(a, LEFT + 1), ROW - 6)
                p.setPen(QPen(QColor(theme.ACCENT) if viewed else QColor("#6d5a8f"), 1.2))
                p.setBrush(QColor("#4a3d66") if not viewed else QColor("#5e4b2a"))
                p.drawRoundedRect(bar, 3, 3)
                p.setPen(QColor("#e8e8e8"))
                p.drawText(
                    bar.adjusted(6, 0, -4, 0),
                    Qt.AlignmentFlag.AlignVCenter,
                    fm.elidedText(r.label, Qt.TextElideMode.ElideRight, bar.width() - 10),
                )
        if not rows:
            p.setPen(QColor(theme.TEXT_DIM))
            p.drawText(
                QRectF(LEFT + 12, RULER + CACHE_BAR + 4, w - LEFT - 24, ROW * 1.6),
                Qt.AlignmentFlag.AlignVCenter,
                "No animated parameters: press the ◆ key button next to a parameter in the Inspector to key it at the playhead.",
            )
        p.restore()

        # in/out --------------------------------------------------------------------------------------
        shade = QColor(0, 0, 0, 110)
        a_x = self.x_of(s.transport.in_point) - ppf / 2
        b_x = self.x_of(s.transport.out_point) + ppf / 2
        if s.transport.in_point > 0:
            p.fillRect(QRectF(LEFT, 0, max(a_x - LEFT, 0), h), shade)
        if s.transport.out_point < n - 1:
            p.fillRect(QRectF(b_x, 0, max(w - b_x, 0), h), shade)
        if s.transport.in_point > 0 or s.transport.out_point < n - 1:
            p.setPen(QPen(QColor(theme.ACCENT), 2))
            for x, d in ((a_x, 1), (b_x, -1)):
                p.drawLine(QPointF(x, 0), QPointF(x, RULER))
                p.drawLine(QPointF(x, 1), QPointF(x + 6 * d, 1))
                p.drawLine(QPointF(x, RULER - 1), QPointF(x + 6 * d, RULER - 1))

        # playhead ------------------------------------------------------------------------------------
        self._head_strip = self._head_rect(s.transport.playhead)
        x = self.x_of(s.transport.playhead)
        p.setPen(QPen(QColor(theme.ACCENT), 1.5))
        p.drawLine(QPointF(x, RULER - 2), QPointF(x, h))
        label = str(s.transport.playhead)
        tw = fm.horizontalAdvance(label) + 10
        box = QRectF(x - tw / 2, RULER - 15, tw, 14)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(theme.ACCENT))
        p.drawRoundedRect(box, 3, 3)
        p.setPen(QColor("#1a1a1a"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        p.setPen(QColor("#3a3a3a"))
        p.drawLine(QPointF(LEFT, 0), QPointF(LEFT, h))
        p.end()

    def _paint_media(self, p: QPainter, node_id: str, y: float, fm: QFontMetricsF) -> None:
        """One media track: the node's name, then thumbnails of a Load Video's frames where they fall on the
        project's frames (its sound has the lane under it, :meth:`_paint_sound`), or a Load Audio's waveform; a
        file that cannot be decoded shows why. Both come from :attr:`Session.previews
        <vidstudio.ui.state.session.Session.previews>`, made on a worker: until a thumbnail arrives its place
        shows a placeholder box (and the sound a dim line), and the track repaints when it does. Nothing here
        reads the file."""
        s = self.session
        node = s.project.node(node_id)
        path, trim_in, trim_out = self._media_source(node_id)
        p.setPen(QColor(theme.TEXT))
        icon = "▦" if node.type == "LoadVideo" else "♪"
        p.drawText(
            QRectF(8, y, LEFT - 12, ROW),
            Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(f"{icon} {node_id}", Qt.TextElideMode.ElideRight, LEFT - 12),
        )
        n, ppf = s.frame_count, self.ppf
        error = None
        height = int(ROW - 4)
        if node.type == "LoadVideo":
            count = min(max(1, int((self.x1 - self.x0) // max(ROW * 1.6, 1))), 24)
            got = s.previews.thumbnails(path, s.settings.fps, trim_in, trim_out, count, height)
            error = got.error
            if got.value is not None:
                _frames, thumbs = got.value
                for f, qimg in thumbs:
                    if f >= n:
                        break
                    p.drawImage(QPointF(self.x_of(f) - ppf / 2, y + 2), qimg)
            elif error is None:  # nothing decoded yet: a box where each thumbnail will be
                spots = sorted({int(round(k * (n - 1) / max(count - 1, 1))) for k in range(count)})
                width = min(height * 16 / 9, (self.x1 - self.x0) / max(count, 1) - 2)
                p.save()
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(PLACEHOLDER))
                for f in spots:
                    p.drawRoundedRect(QRectF(self.x_of(f) - ppf / 2, y + 2, max(width, 2.0), height), 2, 2)
                p.restore()
        peaks = None
        if error is None:
            sound = s.previews.peaks(path, trim_in, trim_out, WAVE_BUCKETS)  # asked for a video too: its lane
            error = sound.error
            peaks = sound.value
        if error is not None:
            p.setPen(QColor(theme.TEXT_DIM))
            p.drawText(
                QRectF(LEFT + 6, y, self.width() - LEFT - 12, ROW),
                Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(error, Qt.TextElideMode.ElideRight, self.width() - LEFT - 12),
            )
            return
        if node.type == "LoadAudio":
            self._paint_waveform(p, y, peaks)

    def _paint_sound(self, p: QPainter, node_id: str, y: float, fm: QFontMetricsF) -> None:
        """The sound lane of a Load Video: its waveform across the row, under the row of its thumbnails."""
        p.fillRect(QRectF(LEFT, y, self.width() - LEFT, ROW), QColor(SOUND_LANE))
        p.setPen(QColor(theme.TEXT_DIM))
        p.drawText(
            QRectF(20, y, LEFT - 24, ROW),
            Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(f"♪ {node_id} sound", Qt.TextElideMode.ElideRight, LEFT - 24),
        )
        path, trim_in, trim_out = self._media_source(node_id)
        self._paint_waveform(p, y, self.session.previews.peaks(path, trim_in, trim_out, WAVE_BUCKETS).value)

    def _paint_waveform(self, p: QPainter, y: float, peaks: tuple[float, object] | None) -> None:
        """A waveform across the row at ``y``: ``peaks`` is ``(seconds, (buckets, 2) min/max levels in [-1, 1])``
        (:func:`vidstudio.media.preview.audio_peaks`), drawn over the project frames its seconds cover; None (the
        sound is being read): a dim line."""
        n, ppf = self.session.frame_count, self.ppf
        mid, half = y + ROW / 2, ROW / 2 - 2
        if peaks is None:
            p.setPen(QPen(QColor(PLACEHOLDER), 1.0))
            p.drawLine(QPointF(self.x_of(0), mid), QPointF(self.x_of(n - 1), mid))
            return
        seconds, levels = peaks
        if seconds <= 0:
            return
        span = min(seconds * float(self.session.settings.fps), n)
        a, b = self.x_of(0) - ppf / 2, self.x_of(span - 1) + ppf / 2
        p.setPen(QPen(QColor(WAVEFORM), 1.0))
        k = len(levels)
        for i in range(k):
            x = a + (b - a) * (i + 0.5) / k
            p.drawLine(QPointF(x, mid - half * float(levels[i, 1])), QPointF(x, mid - half * float(levels[i, 0])))

    def _paint_ruler(self, p: QPainter, w: int, n: int, fps, ppf: float) -> None:
        """Draws the ruler (frame ticks, frame numbers, timecodes and the row header's captions)."""
        p.fillRect(QRectF(0, 0, LEFT, RULER), QColor("#262626"))
        p.fillRect(QRectF(LEFT, 0, w - LEFT, RULER), QColor("#2a2a2a"))
        step = next(
            (
                st
                for st in (1, 2, 5, 10, 12, 24, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000)
                if st * ppf >= 52
            ),
            50000,
        )
        minor = next((m for m in (1, 2, 5, 10, 50, 100, 500) if step % m == 0 and m * ppf >= 6 and m < step), None)
        if minor:
            p.setPen(QPen(QColor("#4a4a4a"), 1))
            for f in range(0, n, minor):
                x = self.x_of(f)
                p.drawLine(QPointF(x, RULER - 5), QPointF(x, RULER))
        tc_every = 1 if step * ppf >= 84 else 2
        for k, f in enumerate(range(0, n, step)):
            x = self.x_of(f)
            p.setPen(QPen(QColor("#6a6a6a"), 1))
            p.drawLine(QPointF(x, RULER - 11), QPointF(x, RULER))
            p.setPen(QColor(theme.TEXT))
            p.drawText(QPointF(x + 3, 13), str(f))
            if k % tc_every == 0:
                p.setPen(QColor(theme.TEXT_DIM))
                p.drawText(QPointF(x + 3, 25), timecode.timecode(f, fps))
        p.setPen(QColor(theme.TEXT_DIM))
        p.drawText(QRectF(8, 0, LEFT - 12, RULER / 2 + 2), Qt.AlignmentFlag.AlignVCenter, "frame")
        p.drawText(
            QRectF(8, RULER / 2 - 4, LEFT - 12, RULER / 2),
            Qt.AlignmentFlag.AlignVCenter,
            f"timecode @ {timecode.fps_text(fps)}",
        )

    @staticmethod
    def _diamond(p: QPainter, c: QPointF, r: float, fill: QColor) -> None:
        poly = QPolygonF(
            [QPointF(c.x(), c.y() - r), QPointF(c.x() + r, c.y()), QPointF(c.x(), c.y() + r), QPointF(c.x() - r, c.y())]
        )
        p.setPen(QPen(QColor("#111111"), 1))
        p.setBrush(fill)
        p.drawPolygon(poly)

    # ================================================================================== mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            hit = self.key_at(pos)
            if hit is not None:
                self._key_menu(hit, event.globalPosition().toPoint())
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if pos.x() < LEFT:
            return
        hit = self.key_at(pos)
        if hit is not None:
            self.session.transport.stop()
            self.session.begin_interaction()
            self._key_drag = _KeyDrag(hit[0], hit[1], hit[2], hit[2])
            self.update()
            event.accept()
            return
        res = self.result_at(pos)
        if res is not None and self.session.view.view_result != res:
            self.session.view.set_view_result(res)
        self._scrubbing = True
        self.session.transport.stop()
        self.session.transport.set_playhead(self.frame_at(pos.x()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._key_drag is not None:
            d = self._key_drag
            f = float(self.frame_at(pos.x()))
            if f != d.current and self.session.move_key(
                d.node_id, d.param, d.current, f, merge=("retime", d.node_id, d.param)
            ):
                d.current = f
                self.update()
            event.accept()
            return
        if self._scrubbing:
            self.session.transport.set_playhead(self.frame_at(pos.x()))
            event.accept()
            return
        hit = self.key_at(pos)
        if hit is not None:
            nid, name, frame = hit
            k = self.session.project.curve(nid, name).key_at(frame)
            if k is not None:
                ease = f" {k.easing}" if k.interpolation in FAMILIES else ""
                self.setToolTip(
                    f"{nid}.{name} = {k.value:g} at frame {frame:g}\n{k.interpolation}{ease} to the next key\ndrag to retime, right-click for options"
                )
        elif pos.y() < RULER:
            f = self.frame_at(pos.x())
            self.setToolTip(f"frame {f}  ·  {timecode.timecode(f, self.session.settings.fps)}")
        else:
            self.setToolTip("")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._key_drag is not None:
            d, self._key_drag = self._key_drag, None
            self.session.end_interaction()
            if d.current != d.origin:
                self.session.message.emit(
                    f"moved key of {d.node_id}.{d.param} from frame {d.origin:g} to {d.current:g}"
                )
            self.update()
        self._scrubbing = False

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self.key_at(event.position())
        if hit is not None:
            self.session.transport.set_playhead(int(round(hit[2])))

    def max_row_offset(self) -> int:
        """How many rows can be scrolled away (0 when every row fits)."""
        visible = max(int((self.height() - RULER - CACHE_BAR - 2) // ROW), 1)
        return max(len(self.rows()) - visible, 0)

    def set_row_offset(self, offset: int) -> None:
        """Scrolls the track rows (the ruler and cache bar stay)."""
        offset = int(min(max(offset, 0), self.max_row_offset()))
        if offset != self._row_offset:
            self._row_offset = offset
            self.rows_scrolled.emit(offset)
            self.update()

    def wheelEvent(self, event) -> None:
        self.set_row_offset(self._row_offset + (-1 if event.angleDelta().y() > 0 else 1))
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.set_row_offset(self._row_offset)
        self.rows_scrolled.emit(self._row_offset)

    def _key_menu(self, hit: tuple[str, str, float], global_pos) -> None:
        nid, name, frame = hit
        s = self.session
        key = s.project.curve(nid, name).key_at(frame)
        if key is None:
            return
        menu = QMenu(self)
        menu.addAction(f"Go to Frame {frame:g}", lambda: s.transport.set_playhead(int(round(frame))))
        interp = menu.addMenu("Interpolation")
        for it in INTERPOLATIONS:
            a = interp.addAction(it, lambda it=it: s.set_key_fields(nid, name, frame, interpolation=it))
            a.setCheckable(True)
            a.setChecked(key.interpolation == it)
        if key.interpolation in FAMILIES:
            ease = menu.addMenu("Easing")
            for e in ("auto", "in", "out", "in_out"):
                a = ease.addAction(e, lambda e=e: s.set_key_fields(nid, name, frame, easing=e))
                a.setCheckable(True)
                a.setChecked(key.easing == e)
        menu.addSeparator()
        menu.addAction("Delete Key", lambda: s.remove_key(nid, name, frame))
        menu.popup(global_pos)


class Timeline(QWidget):
    """The Timeline pane: transport bar over the :class:`TimelineCanvas`.

    Args:
        actions: the transport actions from :func:`make_transport_actions` (their buttons appear here).
    """

    def __init__(self, session: Session, actions: dict[str, QAction], parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("Timeline")
        self.canvas = TimelineCanvas(session, self)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 3, 6, 3)
        bar.setSpacing(2)
        for name in (
            "go_start",
            "step_back",
            "shuttle_back",
            "play",
            "shuttle_forward",
            "step_forward",
            "go_end",
            None,
            "loop",
            None,
            "set_in",
            "set_out",
            "clear_range",
        ):
            if name is None:
                sep = QWidget(self)
                sep.setFixedWidth(10)
                bar.addWidget(sep)
                continue
            b = QToolButton(self)
            b.setDefaultAction(actions[name])
            b.setAutoRaise(True)
            bar.addWidget(b)
        bar.addSpacing(10)
        self.frame_box = QSpinBox(self)
        self.frame_box.setToolTip("Current frame")
        self.frame_box.setRange(0, max(session.frame_count - 1, 0))
        self.frame_box.setKeyboardTracking(False)
        self.frame_box.setMinimumWidth(70)
        self.frame_box.valueChanged.connect(lambda v: session.transport.set_playhead(v))
        bar.addWidget(self.frame_box)
        self.timecode = QLabel(self)
        self.timecode.setMinimumWidth(90)
        self.timecode.setAlignment(Qt.AlignmentFlag.AlignCenter)
        f = QFont("DejaVu Sans Mono")
        f.setStyleHint(QFont.StyleHint.Monospace)
        self.timecode.setFont(f)
        bar.addWidget(self.timecode)
        self.range_label = QLabel(self)
        self.range_label.setProperty("role", "dim")
        bar.addWidget(self.range_label, 1)
        self.speed_label = QLabel(self)
        self.speed_label.setProperty("role", "dim")
        bar.addWidget(self.speed_label)
        self.scroll = QScrollBar(Qt.Orientation.Vertical, self)
        self.scroll.setToolTip("Scroll the tracks (or use the wheel over them)")
        self.scroll.valueChanged.connect(self.canvas.set_row_offset)
        self.canvas.rows_scrolled.connect(self._sync_scroll)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.canvas, 1)
        body.addWidget(self.scroll)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addLayout(body, 1)
        for sig in (session.graph_changed, session.view.results_changed, session.project_replaced):
            sig.connect(lambda *_: self._sync_scroll(self.canvas._row_offset))
        session.transport.playhead_changed.connect(lambda _f: self._sync())
        session.transport.range_changed.connect(self._sync)
        session.project_replaced.connect(self._sync)
        session.graph_changed.connect(lambda c: self._sync() if c.settings else None)
        session.transport.playing_changed.connect(lambda _p: self._sync())
        session.frames.changed.connect(self._sync_cache)
        self._sync()

    def _sync(self) -> None:
        s = self.session
        self.frame_box.blockSignals(True)
        self.frame_box.setRange(0, max(s.frame_count - 1, 0))
        self.frame_box.setValue(s.transport.playhead)
        self.frame_box.blockSignals(False)
        self.timecode.setText(timecode.timecode(s.transport.playhead, s.settings.fps))
        rng = (
            f"in {s.transport.in_point} · out {s.transport.out_point}"
            if (s.transport.in_point > 0 or s.transport.out_point < s.frame_count - 1)
            else "whole clip"
        )
        self._range_text = f"{s.frame_count} frames @ {timecode.fps_text(s.settings.fps)} fps  ·  {rng}"
        self._sync_cache()
        if s.transport.playing:
            arrow = "◀" if s.transport.play_direction < 0 else "▶"
            self.speed_label.setText(f"{arrow} {s.transport.play_speed:g}×")
        else:
            self.speed_label.setText("")

    def _sync_scroll(self, offset: int) -> None:
        top = self.canvas.max_row_offset()
        self.scroll.blockSignals(True)
        self.scroll.setRange(0, top)
        self.scroll.setPageStep(max(len(self.canvas.rows()) - top, 1))
        self.scroll.setValue(min(offset, top))
        self.scroll.blockSignals(False)
        self.scroll.setVisible(top > 0)
        if self.canvas._row_offset > top:
            self.canvas.set_row_offset(top)

    def _sync_cache(self) -> None:
        mask = self.session.frames.ready_mask()
        cached = f"  ·  {int(mask.sum())}/{len(mask)} frames ready" if len(mask) else ""
        self.range_label.setText(getattr(self, "_range_text", "") + cached)
