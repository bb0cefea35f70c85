"""The Viewer: the frame at the playhead (the graph's picture, or a generated result), with fit / 100 % /
zoom and pan, and overlay layers in image-pixel coordinates (:mod:`vidstudio.ui.widgets.viewer.overlays`): drawn paths,
tracks, boxes and the physics scene of the selected nodes (:mod:`vidstudio.ui.widgets.viewer.motion_overlays`), the Draw
Path tool and the Cut Out tool (:mod:`vidstudio.ui.widgets.viewer.cutout_tool`).

Frames come from the session's :class:`~vidstudio.ui.state.evaluation.FrameCache`: a cached frame is painted at
once; an uncached one is rendered on a worker thread while the previous picture stays up (no flicker). A clip at
another rate than the project's (an Interpolate output) is conformed by time: at project frame ``f`` the Viewer
shows the clip frame on screen at ``f / fps`` seconds, and the info line names the clip's rate and frame.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QImage, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QStyleOptionGraphicsItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vidstudio.media import timecode
from vidstudio.ui.state.evaluation import EvalResult
from vidstudio.ui.state.session import Session
from vidstudio.ui.widgets import theme
from vidstudio.ui.widgets.canvas import PanZoomView
from vidstudio.ui.widgets.viewer.cutout_tool import CutOutTool, tool_button
from vidstudio.ui.widgets.viewer.motion_overlays import register_builtin_overlays
from vidstudio.ui.widgets.viewer.overlays import (
    GuidesOverlay,
    OverlayContext,
    ViewerOverlay,
    overlay_factory,
    registered_types,
)


class FrameItem(QGraphicsItem):
    """The picture: an image drawn into the rectangle ``(0, 0, width, height)`` of the scene, so that scene
    coordinates are image pixels."""

    def __init__(self, view: FrameView):
        super().__init__()
        self.view = view
        self.image: QImage | None = None
        self.frame_index = -1
        self.size = (0, 0)
        self.setZValue(0)

    def set_size(self, w: int, h: int) -> None:
        """Sets the frame's size in image pixels ``(w, h)``."""
        if (w, h) != self.size:
            self.prepareGeometryChange()
            self.size = (w, h)

    def boundingRect(self) -> QRectF:
        return QRectF(-1, -1, self.size[0] + 2, self.size[1] + 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        w, h = self.size
        if w <= 0:
            return
        rect = QRectF(0, 0, w, h)
        if self.image is not None:
            smooth = self.view.zoom < 2.0
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawImage(rect, self.image)
        else:
            painter.fillRect(rect, QColor("#101010"))
        painter.setPen(QPen(QColor(0, 0, 0, 200), 0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self.image is not None:
            self.view.painted(self.frame_index)


class FrameView(PanZoomView):
    """The zoomable, pannable canvas of the Viewer (scene units = image pixels)."""

    def __init__(self, viewer: Viewer):
        super().__init__(viewer)
        self.viewer = viewer
        self.setObjectName("FrameView")
        self.scene_ = QGraphicsScene(self)
        self.setScene(self.scene_)
        self.frame_item = FrameItem(self)
        self.scene_.addItem(self.frame_item)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.fit_mode = True
        self.message = ""
        self.message_error = False
        self.setMinimumSize(160, 120)

    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def painted(self, index: int) -> None:
        """Called when frame ``index`` has been painted: emits the Viewer's ``frame_painted``."""
        self.viewer.frame_painted.emit(index)

    def _update_scene_rect(self) -> None:
        w, h = self.frame_item.size
        m = max(w, h, 64) * 4
        self.scene_.setSceneRect(QRectF(-m, -m, w + 2 * m, h + 2 * m))

    def fit(self) -> None:
        """Fits the frame in the view with a margin and keeps fitting when the view resizes."""
        self.fit_mode = True
        w, h = self.frame_item.size
        if w <= 0 or h <= 0:
            return
        vw, vh = max(self.viewport().width() - 24, 16), max(self.viewport().height() - 24, 16)
        s = min(vw / w, vh / h)
        self.resetTransform()
        self.scale(s, s)
        self.centerOn(QPointF(w / 2, h / 2))
        self.viewer.zoom_changed.emit(self.zoom)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Sets the zoom (1: one image pixel per screen pixel), about ``anchor`` (viewport coordinates)."""
        zoom = min(max(zoom, 0.02), 64.0)
        self.fit_mode = False
        if anchor is None:
            center = self.mapToScene(self.viewport().rect().center())
            self.resetTransform()
            self.scale(zoom, zoom)
            self.centerOn(center)
        else:
            self.scale_about(zoom / self.zoom, anchor)
        self.viewer.zoom_changed.emit(self.zoom)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zooms by ``factor`` about ``anchor`` (viewport pixels), within 2 %..6400 %."""
        self.set_zoom(self.zoom * factor, anchor)

    def pan_by(self, dx: float, dy: float) -> None:
        """Scrolls by ``(dx, dy)`` viewport pixels (the view stops fitting the frame)."""
        self.fit_mode = False
        super().pan_by(dx, dy)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()

    def mousePressEvent(self, event) -> None:
        if not self.start_pan(event):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self.continue_pan(event):
            return
        p = self.mapToScene(event.position().toPoint())
        self.viewer.cursor_moved(p)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if not self.end_pan(event):
            super().mouseReleaseEvent(event)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, QColor("#161616"))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        hint = self.viewer.overlay_hint()
        if hint:
            painter.save()
            painter.resetTransform()
            f = QFont(self.font())
            f.setPointSizeF(8.5)
            painter.setFont(f)
            vp = QRectF(self.viewport().rect())
            box = painter.boundingRect(
                vp.adjusted(10, 0, -10, -8), int(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft), hint
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(16, 16, 16, 200))
            painter.drawRoundedRect(box.adjusted(-6, -3, 6, 3), 4, 4)
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(box, int(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft), hint)
            painter.restore()
        if not self.message:
            return
        painter.save()
        painter.resetTransform()
        vp = QRectF(self.viewport().rect()).adjusted(24, 24, -24, -24)
        f = QFont(self.font())
        f.setPointSizeF(10.5)
        painter.setFont(f)
        bound = painter.boundingRect(vp, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
        box = bound.adjusted(-12, -8, 12, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 20, 20, 215))
        painter.drawRoundedRect(box, 5, 5)
        painter.setPen(QColor(theme.ERROR if self.message_error else theme.TEXT))
        painter.drawText(vp, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
        painter.restore()


class Viewer(QWidget):
    """The Viewer pane of a :class:`~vidstudio.ui.state.session.Session`.

    Signals: ``frame_painted(frame)`` each time a frame's picture is painted (for tests and the benchmark),
    ``zoom_changed(zoom)``.

    Overlay API: :meth:`add_overlay`, :meth:`remove_overlay`, :meth:`overlay`, :attr:`overlays` (see
    :mod:`vidstudio.ui.widgets.viewer.overlays`).
    """

    frame_painted = Signal(int)
    zoom_changed = Signal(float)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("Viewer")
        self.view = FrameView(self)
        self.overlays: dict[str, ViewerOverlay] = {}
        self._value_overlays: set[str] = set()
        self.camera: np.ndarray | None = None  # (T, 3, 3) world-to-frame matrices behind the viewed picture
        self.shown_frame = -1

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 4)
        bar.setSpacing(4)
        self.source = QComboBox(self)
        self.source.setToolTip("What the Viewer shows: the graph's picture, or a generated result")
        self.source.setMinimumWidth(220)
        self.source.activated.connect(self._source_chosen)
        self.pin_button = self._tool(
            "mdi6.pin-outline", "Pin the Viewer to this node (double-click a node in the editor)", True
        )
        self.pin_button.toggled.connect(self._pin_toggled)
        bar.addWidget(self.source)
        bar.addWidget(self.pin_button)
        bar.addSpacing(8)
        self.draw_button = self._tool(
            "mdi6.vector-curve",
            "Draw Path (P): pick a Trajectory node (or make one) and click on the frame to start a new path",
        )
        self.draw_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.draw_button.setText("Draw Path")
        self.draw_button.clicked.connect(self.draw_path_tool)
        bar.addWidget(self.draw_button)
        self.cutout_tool = CutOutTool(self)
        self.cutout_button = tool_button(self, self.cutout_tool)
        bar.addWidget(self.cutout_button)
        bar.addStretch(1)
        self.guides_button = self._tool("mdi6.grid", "Safe areas and rule-of-thirds guides", True)
        self.guides_button.toggled.connect(self.set_guides)
        bar.addWidget(self.guides_button)
        self.fit_button = self._tool("mdi6.fit-to-screen-outline", "Fit (F)")
        self.fit_button.clicked.connect(self.view.fit)
        self.one_button = self._tool("mdi6.numeric-1-box-outline", "100 % (1)")
        self.one_button.clicked.connect(lambda: self.view.set_zoom(1.0))
        out_b = self._tool("mdi6.magnify-minus-outline", "Zoom out (-)")
        out_b.clicked.connect(lambda: self.view.set_zoom(self.view.zoom / 1.25))
        in_b = self._tool("mdi6.magnify-plus-outline", "Zoom in (+)")
        in_b.clicked.connect(lambda: self.view.set_zoom(self.view.zoom * 1.25))
        self.zoom_label = QLabel("fit", self)
        self.zoom_label.setMinimumWidth(44)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for w in (self.fit_button, self.one_button, out_b, in_b, self.zoom_label):
            bar.addWidget(w)

        self.info = QLabel(self)
        self.info.setProperty("role", "dim")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pixel_info = QLabel(self)
        self.pixel_info.setProperty("role", "dim")
        info_row = QHBoxLayout()
        info_row.setContentsMargins(8, 2, 8, 4)
        info_row.addWidget(self.info, 1)
        info_row.addWidget(self.pixel_info)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        lay.addLayout(info_row)

        for name, keys, slot in (
            ("fit", "F", self.view.fit),
            ("one", "1", lambda: self.view.set_zoom(1.0)),
            ("draw_path", "P", self.draw_path_tool),
            ("cut_out", "C", self.cutout_tool.arm),
            ("zoom_in", ["+", "="], lambda: self.view.set_zoom(self.view.zoom * 1.25)),
            ("zoom_out", "-", lambda: self.view.set_zoom(self.view.zoom / 1.25)),
        ):
            a = QAction(name, self)
            a.setShortcuts([QKeySequence(k) for k in (keys if isinstance(keys, list) else [keys])])
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            a.triggered.connect(slot)
            self.addAction(a)

        self.zoom_changed.connect(
            lambda z: self.zoom_label.setText("fit" if self.view.fit_mode else f"{z * 100:.0f} %")
        )
        register_builtin_overlays()
        session.view.overlay_types = session.view.overlay_types | registered_types()
        session.transport.playhead_changed.connect(self._playhead_changed)
        session.frames.frame_ready.connect(self._frame_ready)
        session.frames.frame_failed.connect(self._frame_failed)
        session.frames.changed.connect(self._frames_changed)
        session.evaluation.evaluated.connect(self._evaluated)
        session.evaluation.evaluation_started.connect(self._update_info)
        session.view.view_changed.connect(self._view_changed)
        session.view.results_changed.connect(self._fill_sources)
        session.project_replaced.connect(self._project_replaced)
        session.view.selection_changed.connect(self._selection_changed)
        session.graph_changed.connect(lambda _c: self._fill_sources())
        self._fill_sources()
        self._view_changed()

    def _tool(self, icon: str, tip: str, checkable: bool = False) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(theme.icon(icon))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setCheckable(checkable)
        return b

    # ================================================================================== overlays
    def add_overlay(self, name: str, overlay: ViewerOverlay) -> ViewerOverlay:
        """Adds (or replaces) the overlay called ``name`` over the frame."""
        self.remove_overlay(name)
        self.overlays[name] = overlay
        self.view.scene_.addItem(overlay)
        overlay.set_frame_size(*self.view.frame_item.size)
        overlay.set_camera(self.camera)
        overlay.set_frame(self.session.transport.playhead)
        return overlay

    def remove_overlay(self, name: str) -> None:
        """Removes the overlay called ``name`` (unknown names are ignored)."""
        ov = self.overlays.pop(name, None)
        self._value_overlays.discard(name)
        if ov is not None:
            ov.detach()
            if ov.scene() is self.view.scene_:
                self.view.scene_.removeItem(ov)

    def overlay(self, name: str) -> ViewerOverlay | None:
        """The overlay called ``name``, or None."""
        return self.overlays.get(name)

    def set_guides(self, on: bool) -> None:
        """Shows or hides the safe-area and thirds guides."""
        if on:
            self.add_overlay("guides", GuidesOverlay())
        else:
            self.remove_overlay("guides")
        if self.guides_button.isChecked() != on:
            self.guides_button.setChecked(on)

    def overlay_hint(self) -> str:
        """How to edit the top-most overlay that says (shown at the bottom of the frame), or ""."""
        for ov in sorted(self.overlays.values(), key=lambda o: -o.zValue()):
            h = ov.hint
            if h:
                return h
        return ""

    def _update_camera(self, result: EvalResult) -> None:
        cam = self.session.view.view_camera
        value = result.values.get(cam[0], {}).get(cam[1]) if cam is not None else None
        mats = None
        if value is not None:
            try:
                mats = np.asarray(value, dtype=np.float64).reshape(-1, 3, 3)
            except (TypeError, ValueError):
                mats = None
        self.camera = mats
        for ov in self.overlays.values():
            ov.set_camera(mats)

    def _update_value_overlays(self, result: EvalResult) -> None:
        s = self.session
        self._update_camera(result)
        wanted: dict[str, OverlayContext] = {}
        for nid in s.view.selection:
            if nid not in result.values or not s.project.has_node(nid):
                continue
            cls = s.node_class(nid)
            for o in cls.outputs if cls is not None else ():
                if overlay_factory(str(o.type)) is not None and o.name in result.values[nid]:
                    wanted[f"{nid}.{o.name}"] = OverlayContext(s, nid, o.name, str(o.type), result.values[nid][o.name])
        failed = result.error is not None or any(i.severity == "error" for i in result.issues)
        for name in list(self._value_overlays):
            nid = name.split(".")[0]
            if name not in wanted and not (failed and nid in s.view.selection and s.project.has_node(nid)):
                # (an overlay of a selected node stays up while the graph has an error: its editor is how
                # the artist fixes a path that went wrong)
                self.remove_overlay(name)
        for name, ctx in wanted.items():
            existing = self.overlays.get(name)
            if existing is not None and name in self._value_overlays:
                existing.set_value(ctx.value)
                continue
            factory = overlay_factory(ctx.port_type)
            assert factory is not None
            self.add_overlay(name, factory(ctx))
            self._value_overlays.add(name)

    def _selection_changed(self) -> None:
        # overlays registered after start-up (a plugin loaded later) count from the next selection on
        self.session.view.overlay_types = self.session.view.overlay_types | registered_types()
        sel = set(self.session.view.selection)
        for name in list(self._value_overlays):
            if name.split(".")[0] not in sel:
                self.remove_overlay(name)

    # ================================================================================== frames
    def _frame_size(self) -> tuple[int, int]:
        clip = self.session.frames.clip
        if clip is not None:
            return clip.width, clip.height
        s = self.session.settings
        return s.width, s.height

    def _apply_size(self) -> None:
        w, h = self._frame_size()
        if (w, h) != self.view.frame_item.size:
            self.view.frame_item.set_size(w, h)
            self.view._update_scene_rect()
            for ov in self.overlays.values():
                ov.set_frame_size(w, h)
            if self.view.fit_mode:
                self.view.fit()

    def show_frame(self, index: int) -> bool:
        """Shows frame ``index`` if it is cached, else asks for it. Returns True when it is shown now."""
        img = self.session.frames.request(index)
        if img is None:
            err = self.session.frames.error(index)
            if err:
                self._set_message(f"frame {index}: {err}", True)
            return False
        self._apply_size()
        item = self.view.frame_item
        item.image = img
        item.frame_index = index
        self.shown_frame = index
        item.update()
        self._sync_overlays(index)
        if self.view.message and not self._eval_error():
            self._set_message("")
        return True

    def _sync_overlays(self, frame: int) -> None:
        for ov in self.overlays.values():
            if ov.frame != frame:
                ov.set_frame(frame)

    def _playhead_changed(self, frame: int) -> None:
        # Overlays follow the picture: while frame ``frame`` is rendered the previous picture stays up with its
        # own overlay (a path's marker is never drawn ahead of the sprite), and the viewport is not repainted
        # twice for one move. Without a picture to wait for, they follow the playhead at once.
        if not self.show_frame(frame) and (
            self.session.frames.clip is None
            or self.view.frame_item.image is None
            or self.session.frames.error(frame) is not None
        ):
            self._sync_overlays(frame)
        self._update_info()

    def _frame_ready(self, index: int) -> None:
        # ``index`` is a clip frame: the one at the playhead is the playhead's own frame at the project's rate
        playhead = self.session.transport.playhead
        if index == self.session.frames.clip_frame(playhead):
            self.show_frame(playhead)

    def _frame_failed(self, index: int, message: str) -> None:
        playhead = self.session.transport.playhead
        if index == self.session.frames.clip_frame(playhead):
            self._set_message(f"frame {playhead} could not be rendered: {message}", True)

    def _frames_changed(self) -> None:
        if self.session.frames.clip is None:
            return
        self._apply_size()

    def _eval_error(self) -> str | None:
        r = self.session.evaluation.last_result
        return r.error if (r is not None and self.session.view.view_result is None) else None

    def _evaluated(self, result: EvalResult) -> None:
        self._update_value_overlays(result)
        if result.error and self.session.view.view_result is None:
            stale = "\n(the Viewer keeps the last picture that worked)" if self.session.evaluation.showing_stale else ""
            self._set_message(result.error + stale, not result.error_is_server_only)
        elif self.session.view.view_target is None and self.session.view.view_result is None:
            self._set_message(self._nothing_message())
        elif self.view.message:
            self._set_message("")
        if result.clip is None and self.session.view.view_result is None and not self.session.evaluation.showing_stale:
            self.view.frame_item.image = None
            self.view.frame_item.update()
        else:
            self.show_frame(self.session.transport.playhead)
        self._update_info()

    def _nothing_message(self) -> str:
        if not self.session.project.nodes:
            return "Nothing to view yet.\nPress Tab in the Node Editor to add a Load Image and a Camera Move,\nor drop an image there."
        return "Nothing to view: select a node with a VIDEO or IMAGE output,\nor link one to an Export node."

    def _set_message(self, text: str, error: bool = False) -> None:
        self.view.message = text
        self.view.message_error = error
        self.view.viewport().update()

    def _view_changed(self) -> None:
        s = self.session
        self.pin_button.blockSignals(True)
        self.pin_button.setChecked(s.view.pinned is not None)
        self.pin_button.blockSignals(False)
        self._fill_sources()
        if s.view.view_target is None and s.view.view_result is None:
            self._set_message(self._nothing_message())
            self.view.frame_item.image = None
            self.view.frame_item.update()
        self._update_info()

    def _project_replaced(self) -> None:
        for name in list(self._value_overlays):
            self.remove_overlay(name)
        self.view.frame_item.image = None
        self.view.fit_mode = True
        self._apply_size()
        self.view.fit()

    def _fill_sources(self) -> None:
        s = self.session
        self.source.blockSignals(True)
        self.source.clear()
        t = s.view.view_target
        self.source.addItem(theme.icon("mdi6.graph-outline"), f"Graph: {t.ref}" if t else "Graph: nothing to view")
        for r in s.view.results:
            self.source.addItem(theme.icon("mdi6.movie-open-outline"), f"Result: {r.label}")
        self.source.setCurrentIndex(0 if s.view.view_result is None else s.view.view_result + 1)
        self.source.blockSignals(False)

    def _source_chosen(self, index: int) -> None:
        self.session.view.set_view_result(None if index <= 0 else index - 1)

    def _pin_toggled(self, on: bool) -> None:
        s = self.session
        s.view.pin_view(s.view.view_target.node_id if (on and s.view.view_target is not None) else None)

    def _update_info(self) -> None:
        s = self.session
        w, h = self._frame_size()
        f = s.transport.playhead
        src = (
            s.view.results[s.view.view_result].label
            if s.view.view_result is not None
            else (s.view.view_target.ref if s.view.view_target else "—")
        )
        busy = "  ·  evaluating…" if s.evaluation.evaluating else ""
        self.info.setText(
            f"{src}  ·  {w}×{h}  ·  frame {f}  ·  {timecode.timecode(f, s.settings.fps)}{self._clip_rate_text()}{busy}"
        )

    def _clip_rate_text(self) -> str:
        """``"  ·  60 fps clip · frame 125 of 300"`` when the viewed clip has another rate than the project's."""
        frames = self.session.frames
        clip, rate = frames.clip, frames.clip_fps
        if clip is None or rate is None:
            return ""
        k = frames.clip_frame(self.session.transport.playhead)
        where = f"frame {k} of {clip.frame_count}" if k is not None else f"ended ({clip.frame_count} frames)"
        return f"  ·  {timecode.fps_text(rate)} fps clip · {where}"

    def cursor_moved(self, p: QPointF) -> None:
        """Shows the pixel under the mouse (image coordinates, RGB)."""
        img = self.view.frame_item.image
        x, y = int(p.x() // 1), int(p.y() // 1)
        if img is None or not (0 <= x < img.width() and 0 <= y < img.height()):
            self.pixel_info.setText("")
            return
        c = img.pixelColor(x, y)
        self.pixel_info.setText(f"x {x}  y {y}   R {c.red()}  G {c.green()}  B {c.blue()}")

    # ================================================================================== tools
    def draw_path_tool(self) -> str | None:
        """The Draw Path tool: picks the selected Trajectory node, else the first one in the project, else
        adds one; selects it and arms a new path (the next click on the frame starts it).

        Returns:
            the Trajectory node's id, or None when the project cannot hold one.
        """
        s = self.session
        is_traj = lambda nid: s.project.has_node(nid) and s.project.node(nid).type == "Trajectory"  # noqa: E731
        nid = next((n for n in reversed(s.view.selection) if is_traj(n)), None)
        if nid is None:
            nid = next((n.id for n in s.project.nodes if n.type == "Trajectory"), None)
        if nid is None:
            try:
                xs = [n.position[0] for n in s.project.nodes] or [0.0]
                ys = [n.position[1] for n in s.project.nodes] or [0.0]
                nid = s.add_node("Trajectory", (min(xs), max(ys) + 160.0), select=False)
            except ValueError as e:
                s.message.emit(str(e))
                return None
        s.view.set_selection([nid])
        s.motion_edit.set(node_id=nid, armed=True)
        self.view.setFocus()
        self.view.viewport().update()
        s.message.emit(f"Draw Path: click on the frame to start a new path in '{nid}'")
        return nid

    def grab_frame_image(self) -> QImage | None:
        """The image currently shown (for tests)."""
        return self.view.frame_item.image
