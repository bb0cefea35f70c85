"""The Viewer overlays of the motion layer: drawn paths (edited with the mouse), tracks, boxes and the physics
scene, over the frame at the playhead.

* :class:`TrajectoryEditOverlay`: a Trajectory node's paths. Click on the frame to add control points, drag
  them, drag Bezier handles, click on a curve to insert a point, right-click to delete; every path in its own
  colour with a dot for each frame it travels, numbered points and the object where it is at the playhead.
  Every edit is one undo step (a drag included) and the animatic re-renders while dragging.
* :class:`TrackSetOverlay`: any other TRAJECTORY output (Simulate, Object Boxes, plugins): each track's
  course, per-frame dots, and the object (its box or physics shape) at the playhead.
* :class:`BoxesOverlay`: BOXES outputs, the boxes at the playhead.
* :class:`PhysicsSceneOverlay`: a PHYSICS_SCENE: the walls, gravity and every body at its start with its
  velocity; a Physics Scene node's bodies are placed and thrown with the mouse.

All of them draw in world pixels mapped through the camera behind the viewed picture (see
:mod:`vidstudio.ui.widgets.viewer.overlays`), except boxes and tracks that their node already computed through a camera
(frame pixels). Lines, markers and labels keep their size on screen whatever the zoom: geometry is mapped to
viewport pixels in ``paint`` and drawn there.

:func:`register_builtin_overlays` registers them (the Viewer calls it; registrations made before, e.g. by a
plugin or a test, are kept).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QPainter, QPainterPath, QPen, QPixmap, QPolygonF, QTransform
from PySide6.QtWidgets import (
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from vidstudio.graph.types import PortType
from vidstudio.motion import pathedit
from vidstudio.motion.physics import Body, validate_bodies
from vidstudio.motion.trajectory import (
    MotionPath,
    compile_path,
    evaluate_path,
    frame_ticks,
    path_handles,
    validate_document,
)
from vidstudio.project import edits
from vidstudio.ui.state.motion_edit import EditState
from vidstudio.ui.widgets.viewer.overlays import OverlayContext, ViewerOverlay, overlay_factory, register_overlay

#: Seconds of travel a velocity arrow shows (its tip is where the body would be after this long, without
#: gravity or contacts).
ARROW_SECONDS = 0.25
#: Hit radius of points and handles, in screen pixels.
HIT = 8.0
#: How close (screen pixels) a click must be to a curve to insert a point on it.
CURVE_HIT = 6.0
_HUGE = 1.0e5


# ------------------------------------------------------------------------------------------------ helpers
def _affine(t: QTransform) -> np.ndarray:
    """The ``(2, 3)`` affine of a QTransform (x' = m11 x + m21 y + dx; y' = m12 x + m22 y + dy)."""
    return np.array([[t.m11(), t.m21(), t.dx()], [t.m12(), t.m22(), t.dy()]], dtype=np.float64)


def map_points(t: QTransform | np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Maps ``(N, 2)`` points through a QTransform (or a ``(2, 3)`` affine): ``(N, 2)`` float64."""
    a = _affine(t) if isinstance(t, QTransform) else t
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    return p @ a[:, :2].T + a[:, 2]


def _scale_of(t: QTransform) -> float:
    """Screen pixels per item pixel of a similarity transform."""
    return math.sqrt(abs(t.m11() * t.m22() - t.m12() * t.m21())) or 1.0


def qcolor(rgb: Any, alpha: float = 1.0) -> QColor:
    """A QColor from ``[r, g, b]`` in 0..1 (anything else: orange)."""
    try:
        r, g, b = (min(max(float(c), 0.0), 1.0) for c in list(rgb)[:3])
    except (TypeError, ValueError):
        r, g, b = pathedit.PATH_COLORS[0]
    c = QColor.fromRgbF(r, g, b)
    c.setAlphaF(alpha)
    return c


def _polygon(pts: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in pts])


def _label(
    painter: QPainter, x: float, y: float, text: str, color: QColor, bold: bool = True, size: float = 8.5
) -> None:
    """Text with a dark shadow, its baseline-left at viewport ``(x, y)``."""
    f = QFont(painter.font())
    f.setPointSizeF(size)
    f.setBold(bold)
    painter.setFont(f)
    painter.setPen(QColor(0, 0, 0, 200))
    painter.drawText(QPointF(x + 1, y + 1), text)
    painter.setPen(color)
    painter.drawText(QPointF(x, y), text)


def _pen(color: QColor, width: float = 1.5, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    p = QPen(color, width, style)
    p.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return p


def _outlined_polyline(painter: QPainter, pts: np.ndarray, color: QColor, width: float) -> None:
    """A polyline with a dark edge under it, readable over bright and dark pictures alike."""
    if len(pts) < 2:
        return
    poly = _polygon(pts)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(_pen(QColor(0, 0, 0, 120), width + 2.0))
    painter.drawPolyline(poly)
    painter.setPen(_pen(color, width))
    painter.drawPolyline(poly)


def _object_outline(center: np.ndarray, size: tuple[float, float], angle: float, scale: float) -> np.ndarray:
    """The 4 corners (world px) of an object of ``size`` at ``scale``, turned by ``angle`` radians about
    ``center``."""
    w, h = size[0] * scale / 2.0, size[1] * scale / 2.0
    c, s = math.cos(angle), math.sin(angle)
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]])
    rot = np.array([[c, -s], [s, c]])
    return corners @ rot.T + center


def _frame_space(ctx: OverlayContext) -> bool:
    """True when the node computed its TRAJECTORY through a linked camera (its tracks are frame pixels)."""
    s = ctx.session
    cls = s.node_class(ctx.node_id)
    if cls is None:
        return False
    return any(str(i.type) == PortType.CAMERA and s.project.links_into(ctx.node_id, i.name) for i in cls.inputs)


@dataclass
class Hit:
    """What lies under the mouse: ``kind`` is ``"point"``, ``"handle_in"``, ``"handle_out"``, ``"curve"``,
    ``"body"``, ``"velocity"`` or ``"empty"``; ``item`` the path or body id; ``index`` the control point;
    ``at`` the spot on a curve (world px) and ``insert`` the index a point inserted there takes."""

    kind: str
    item: str | None = None
    index: int | None = None
    at: tuple[float, float] | None = None
    insert: int | None = None


class MotionOverlay(ViewerOverlay):
    """Shared machinery: the session and node, drawing in viewport pixels, hit testing and undoable edits."""

    uses_camera = True

    def __init__(self, ctx: OverlayContext):
        super().__init__()
        self.session = ctx.session
        self.node_id = ctx.node_id
        self.port = ctx.port
        self.value = ctx.value
        self.menu: QMenu | None = None
        self._dragging = False

    # ------------------------------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        # Paths and bodies may leave the frame: the overlay covers the whole plane (it draws only its items).
        return QRectF(-_HUGE, -_HUGE, 2 * _HUGE, 2 * _HUGE)

    def _view(self):
        views = self.scene().views() if self.scene() is not None else []
        return views[0] if views else None

    def device_transform(self) -> QTransform:
        """Item (world px) to viewport pixels."""
        v = self._view()
        return self.deviceTransform(v.viewportTransform()) if v is not None else self.sceneTransform()

    def device_pos(self, event: QGraphicsSceneMouseEvent | QGraphicsSceneHoverEvent) -> np.ndarray:
        """The event's position in viewport pixels ``(2,)``."""
        return map_points(self.device_transform(), np.array([[event.pos().x(), event.pos().y()]]))[0]

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        try:
            self.draw(painter, t)
        finally:
            painter.restore()

    def draw(self, painter: QPainter, t: QTransform) -> None:
        """Draws the overlay in viewport pixels; ``t`` maps world (item) pixels there."""

    def set_value(self, value: Any) -> None:
        self.value = value
        self.update()

    # ------------------------------------------------------------------------------------ editing
    def _edit(self, name: str, value: Any, text: str) -> bool:
        """Sets parameter ``name`` of the node as one undo step (merged into the drag in progress).
        Returns False, with the reason in the status bar, when the value is refused."""
        try:
            self.session.set_param(self.node_id, name, value, merge=("overlay-edit", self.node_id, name), text=text)
        except (ValueError, KeyError) as e:
            self.session.message.emit(str(e))
            return False
        return True

    def _begin(self) -> None:
        if not self._dragging:
            self._dragging = True
            self.session.begin_interaction()

    def _end(self) -> None:
        if self._dragging:
            self._dragging = False
            self.session.end_interaction()

    def detach(self) -> None:
        self._end()
        if self.menu is not None:
            self.menu.close()
            self.menu.deleteLater()
            self.menu = None

    def _popup(self, event: QGraphicsSceneMouseEvent, actions: list[tuple[str, Any]]) -> QMenu:
        if self.menu is not None:
            self.menu.deleteLater()
        menu = QMenu(self._view())
        for text, slot in actions:
            if text == "-":
                menu.addSeparator()
            else:
                menu.addAction(text, slot)
        self.menu = menu
        menu.popup(event.screenPos())
        return menu


# ================================================================================================ paths
class TrajectoryEditOverlay(MotionOverlay):
    """A Trajectory node's paths, drawn and edited over the frame (see the module docstring).

    Mouse (left): on empty frame, add a point at the end of the active path (or start a new path when none is
    active or New Path is armed); on a point, select it and drag it; on a curve, insert a point there and drag
    it; on a Bezier handle, drag it (the opposite handle mirrors; Ctrl breaks the symmetry; a Catmull-Rom path
    becomes a Bezier path with the same shape first). Right: on a point, delete it; on a handle, make it
    automatic again; elsewhere, a menu (new path, delete path). Keys: Delete deletes the selected point, N arms
    a new path, Escape cancels. A press-drag-release is one undo step.
    """

    HINT = (
        "click: add point · drag: move · click on a curve: insert · right-click: delete · "
        "Ctrl+drag handle: break · N: new path"
    )
    ARMED_HINT = "click on the frame to start a new path · Esc: cancel"

    def __init__(self, ctx: OverlayContext):
        super().__init__(ctx)
        self.state: EditState = self.session.motion_edit
        self.setAcceptHoverEvents(True)
        self.setFlag(self.GraphicsItemFlag.ItemIsFocusable, True)
        self.doc: dict[str, Any] = {}
        self.models: dict[str, MotionPath] = {}
        self.compiled: dict[str, Any] = {}
        self._ticks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._polys: dict[str, np.ndarray] = {}
        self._handles: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._tracks: dict[str, Any] = {}
        # curves and ticks as QPainterPaths in world px, drawn through the painter's transform with cosmetic
        # pens (one C++ call each per paint); the ticks' length is set for the zoom they were built at
        self._paths: dict[str, tuple[QPainterPath, QPainterPath, QPainterPath]] = {}
        self._paths_scale = 0.0
        self._doc_serial = 0  # counts documents loaded: the drawn layers belong to one
        self._layers: tuple[tuple, QPixmap, QPixmap] | None = None
        self._last_key: tuple | None = None
        self._hover: Hit = Hit("empty")
        self._drag: Hit | None = None
        self._press_dev: np.ndarray | None = None
        self._moved = False
        self.reload()
        if not self.state.is_for(self.node_id):
            self.state.set(node_id=self.node_id, item=next(iter(self.models), None))
        elif self.state.item not in self.models:
            self.state.set(item=next(iter(self.models), None))
        self.session.graph_changed.connect(self._graph_changed)
        self.state.changed.connect(self.update)

    @property
    def hint(self) -> str:  # type: ignore[override]
        return self.ARMED_HINT if self.state.armed else self.HINT

    # ------------------------------------------------------------------------------------ document
    def reload(self) -> None:
        """Reads the node's document and recomputes what is drawn."""
        s = self.session
        if not s.project.has_node(self.node_id):
            return
        raw = edits.param_value(s.project, s.registry, self.node_id, "paths")
        self._load(pathedit.as_document(raw))

    def _load(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._doc_serial += 1
        self._layers = None
        self.models, self.compiled, self._ticks, self._polys, self._handles = {}, {}, {}, {}, {}
        self._tracks, self._paths = {}, {}
        n = self.session.frame_count
        for p in doc.get("paths", []):
            try:
                m = MotionPath.model_validate(p)
                cp = compile_path(m)
            except ValueError:
                continue
            self.models[m.id] = m
            self.compiled[m.id] = cp
            self._polys[m.id] = cp.chain.polyline(24)
            self._handles[m.id] = path_handles(m, cp)
            try:
                self._ticks[m.id] = frame_ticks(m, n, cp)
                self._tracks[m.id] = evaluate_path(m, n, compiled=cp)  # the object at every frame, once
            except ValueError:  # time keys out of order: the node reports it; draw the curve without ticks
                self._ticks[m.id] = (np.zeros(0, dtype=int), np.zeros((0, 2)))
        self.update()

    def _graph_changed(self, change) -> None:
        if self.node_id in change.removed:
            return
        if self.node_id in change.nodes or change.settings:
            s = self.session
            if not s.project.has_node(self.node_id):
                return
            raw = pathedit.as_document(edits.param_value(s.project, s.registry, self.node_id, "paths"))
            if raw != self.doc or change.settings:
                self._load(raw)
            if self.state.is_for(self.node_id) and self.state.item is not None and self.state.item not in self.models:
                self.state.set(item=next(iter(self.models), None))

    def _world_paths(self, pid: str, scale: float) -> tuple[QPainterPath, QPainterPath, QPainterPath]:
        """(curve, ticks, every-5th-frame ticks) of a path in world px, ticks across the path sized for
        ``scale`` screen px per world px."""
        cached = self._paths.get(pid)
        if cached is not None:
            return cached
        curve = QPainterPath()
        poly = self._polys[pid]
        curve.addPolygon(_polygon(poly))
        small, big = QPainterPath(), QPainterPath()
        frames, pos = self._ticks.get(pid, (np.zeros(0, dtype=int), np.zeros((0, 2))))
        if len(frames):
            d = np.gradient(pos, axis=0) if len(pos) > 1 else np.array([[1.0, 0.0]])
            nrm = np.stack([-d[:, 1], d[:, 0]], axis=1)
            nrm /= np.maximum(np.hypot(nrm[:, 0], nrm[:, 1]), 1e-9)[:, None]
            for f, p, nv in zip(frames, pos, nrm):
                half = (5.0 if f % 5 == 0 else 2.8) / scale
                target = big if f % 5 == 0 else small
                target.moveTo(float(p[0] - nv[0] * half), float(p[1] - nv[1] * half))
                target.lineTo(float(p[0] + nv[0] * half), float(p[1] + nv[1] * half))
        self._paths[pid] = (curve, small, big)
        return self._paths[pid]

    @property
    def active(self) -> str | None:
        """The path being edited (the state's item when it is one of this node's paths)."""
        st = self.state
        return st.item if st.is_for(self.node_id) and st.item in self.models else None

    # ------------------------------------------------------------------------------------ drawing
    # What does not move with the playhead (curves and ticks below the objects; handles, points, labels and
    # anchors above them) is drawn into two viewport-sized layers once the view, the document, the active path,
    # the selected point and the hovered item were the same for two paints in a row (the camera is still), and
    # kept while they stay so: scrubbing then draws two pixmaps and each path's object at the playhead. While
    # the camera moves (the view changes every frame) the same three parts are drawn directly.
    def draw(self, painter: QPainter, t: QTransform) -> None:
        active = self.active
        order = [pid for pid in self.models if pid != active] + ([active] if active else [])
        dev = painter.device()
        dpr = dev.devicePixelRatioF() if hasattr(dev, "devicePixelRatioF") else 1.0
        hover = (self._hover.kind, self._hover.item, self._hover.index)
        key = (
            (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy()),
            dev.width(),
            dev.height(),
            dpr,
            active,
            self.state.point,
            hover,
            self._doc_serial,
            painter.font().key(),
        )
        still, self._last_key = key == self._last_key, key
        if still and (self._layers is None or self._layers[0] != key):
            self._layers = (
                key,
                self._layer(painter, dpr, lambda lp: self._draw_below(lp, t, order, active)),
                self._layer(painter, dpr, lambda lp: self._draw_above(lp, t, order, active)),
            )
        layers = self._layers if self._layers is not None and self._layers[0] == key else None
        if layers is not None:
            painter.drawPixmap(0, 0, layers[1])
        else:
            self._draw_below(painter, t, order, active)
        for pid in order:
            self._draw_object(painter, t, pid)
        if layers is not None:
            painter.drawPixmap(0, 0, layers[2])
        else:
            self._draw_above(painter, t, order, active)

    @staticmethod
    def _layer(painter: QPainter, dpr: float, draw: Callable[[QPainter], None]) -> QPixmap:
        """A transparent pixmap of the painter's device size with ``draw`` painted on it (viewport pixels)."""
        dev = painter.device()
        pix = QPixmap(max(1, int(round(dev.width() * dpr))), max(1, int(round(dev.height() * dpr))))
        pix.setDevicePixelRatio(dpr)
        pix.fill(Qt.GlobalColor.transparent)
        lp = QPainter(pix)
        lp.setRenderHints(painter.renderHints())
        lp.setFont(painter.font())
        try:
            draw(lp)
        finally:
            lp.end()
        return pix

    def _draw_below(self, painter: QPainter, t: QTransform, order: list[str], active: str | None) -> None:
        for pid in order:
            self._draw_curve(painter, t, pid, pid == active)

    def _draw_above(self, painter: QPainter, t: QTransform, order: list[str], active: str | None) -> None:
        for pid in order:
            self._draw_marks(painter, t, pid, pid == active)
        for a in self.doc.get("anchors", []):
            try:
                p = map_points(t, np.array([[float(a["x"]), float(a["y"])]]))[0]
            except (KeyError, TypeError, ValueError):
                continue
            d = 6.0
            painter.setPen(_pen(QColor(0, 0, 0, 160), 3.0))
            diamond = _polygon(np.array([[p[0], p[1] - d], [p[0] + d, p[1]], [p[0], p[1] + d], [p[0] - d, p[1]]]))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolygon(diamond)
            painter.setPen(_pen(QColor(235, 235, 235), 1.5))
            painter.drawPolygon(diamond)
            _label(
                painter, p[0] + 9, p[1] + 4, str(a.get("name") or a.get("id", "")), QColor(235, 235, 235), bold=False
            )

    def _draw_curve(self, painter: QPainter, t: QTransform, pid: str, active: bool) -> None:
        """A path's curve with its dark edge and its per-frame ticks."""
        m = self.models[pid]
        color = qcolor(m.color, 1.0 if active else 0.6)
        scale = _scale_of(t)
        if self._paths_scale <= 0 or abs(scale / self._paths_scale - 1.0) > 0.2:
            self._paths, self._paths_scale = {}, scale  # ticks sized for this zoom
        curve, small, big = self._world_paths(pid, self._paths_scale)
        # the curve, its dark edge and the per-frame ticks: cached world-px paths through the painter's
        # transform with cosmetic pens (their spacing shows the speed, as the motion paths of After Effects)
        painter.save()
        painter.setTransform(t)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        width = 2.4 if active else 1.6
        # (flat caps and miter joins: the raster engine strokes them several times faster than round ones)
        for pen in (QPen(QColor(0, 0, 0, 120), width + 2.0), QPen(color, width)):
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.drawPath(curve)
        tick = QColor(255, 255, 255, 235 if active else 150)
        for c, extra in ((QColor(0, 0, 0, 150), 1.6), (tick, 0.0)):
            pen = QPen(c, 1.2 + extra)
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            painter.drawPath(small)
            painter.drawPath(big)
        painter.restore()

    def _draw_object(self, painter: QPainter, t: QTransform, pid: str) -> None:
        """The path's object at the playhead: its outline and a dot on its centre."""
        m = self.models[pid]
        solid = qcolor(m.color)
        track = self._tracks.get(pid)
        if track is not None:
            i = int(min(max(self.frame, 0), track.frame_count - 1))
            pos = track.position[i]
            c = map_points(t, pos[None])[0]
            outline = map_points(t, _object_outline(pos, m.size, float(track.angle[i]), float(track.scale[i])))
            vis = bool(track.visible[i])
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(_pen(QColor(0, 0, 0, 110), 3.0))
            painter.drawPolygon(_polygon(outline))
            painter.setPen(_pen(solid if vis else QColor(150, 150, 150), 1.3))  # solid: dashes cost a lot per frame
            painter.drawPolygon(_polygon(outline))
            painter.setPen(_pen(QColor(0, 0, 0, 180), 1.0))
            painter.setBrush(QColor(255, 255, 255) if vis else QColor(120, 120, 120))
            painter.drawEllipse(QPointF(c[0], c[1]), 4.0, 4.0)

    def _draw_marks(self, painter: QPainter, t: QTransform, pid: str, active: bool) -> None:
        """The active path's handles, every path's control points with their numbers, and its name."""
        m = self.models[pid]
        color = qcolor(m.color, 1.0 if active else 0.6)
        solid = qcolor(m.color)
        # handles of the active path
        pts = np.array([[p.x, p.y] for p in m.points])
        dpts = map_points(t, pts)
        if active:
            hin, hout = self._handles[pid]
            st = self.state
            show_all = m.interpolation == "bezier"
            for i in range(len(m.points)):
                if not (show_all or st.point == i):
                    continue
                for which, h in (("handle_in", hin[i]), ("handle_out", hout[i])):
                    if not np.all(np.isfinite(h)):
                        continue
                    hd = map_points(t, h[None])[0]
                    style = Qt.PenStyle.SolidLine if show_all else Qt.PenStyle.DashLine
                    painter.setPen(_pen(QColor(230, 230, 230, 200), 1.0, style))
                    painter.drawLine(QPointF(*dpts[i]), QPointF(*hd))
                    hovered = self._hover.kind == which and self._hover.item == pid and self._hover.index == i
                    painter.setPen(_pen(QColor(0, 0, 0, 200), 1.0))
                    painter.setBrush(QColor(255, 255, 255) if hovered else solid)
                    painter.drawRect(QRectF(hd[0] - 3.5, hd[1] - 3.5, 7.0, 7.0))
        # control points with their numbers
        keyed = m.timing == "keys"
        for i, (x, y) in enumerate(dpts):
            selected = active and self.state.point == i
            hovered = self._hover.kind == "point" and self._hover.item == pid and self._hover.index == i
            r = 6.0 if selected else 5.0 if active else 4.0
            painter.setPen(_pen(QColor(0, 0, 0, 220), 1.2))
            painter.setBrush(
                QColor(255, 255, 255) if (selected or hovered) else (solid if active else QColor(30, 30, 30, 200))
            )
            painter.drawEllipse(QPointF(x, y), r, r)
            if not active:
                painter.setPen(_pen(color, 1.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(QPointF(x, y), r, r)
            text = str(i + 1)
            f = m.points[i].frame
            if keyed and f is not None:
                text += f" · f{f:g}"
            _label(painter, x + 7, y - 7, text, QColor(255, 255, 255) if active else color, size=8.5 if active else 7.5)
        # the path's name and frames next to its first point
        x, y = dpts[0]
        end = "end" if m.end_frame is None else f"{m.end_frame:g}"
        _label(painter, x - 8, y + 20, f"{m.track_name}  f{m.start_frame:g}–{end}", color, bold=active, size=8.0)

    # ------------------------------------------------------------------------------------ hit testing
    def hit_test(self, dev: np.ndarray) -> Hit:
        """What lies under viewport position ``dev``: handles and points of the active path first, then the
        other paths' points, then the curves."""
        t = self.device_transform()
        active = self.active
        order = ([active] if active else []) + [pid for pid in self.models if pid != active]
        if active:
            m = self.models[active]
            hin, hout = self._handles[active]
            for i in range(len(m.points)):
                if not (m.interpolation == "bezier" or self.state.point == i):
                    continue
                for which, h in (("handle_out", hout[i]), ("handle_in", hin[i])):
                    if np.all(np.isfinite(h)) and np.hypot(*(map_points(t, h[None])[0] - dev)) <= HIT:
                        return Hit(which, active, i)
        for pid in order:
            m = self.models[pid]
            d = map_points(t, np.array([[p.x, p.y] for p in m.points]))
            dist = np.hypot(d[:, 0] - dev[0], d[:, 1] - dev[1])
            i = int(np.argmin(dist))
            if dist[i] <= HIT:
                return Hit("point", pid, i)
        inv, ok = t.inverted()
        if ok:
            w = map_points(inv, dev[None])[0]
            scale = _scale_of(t)
            for pid in order:
                cp = self.compiled[pid]
                if len(self.models[pid].points) < 2:
                    continue
                index, dist, at = pathedit.nearest_on_path(cp, float(w[0]), float(w[1]))
                if dist * scale <= CURVE_HIT:
                    return Hit("curve", pid, None, (float(at[0]), float(at[1])), index)
        return Hit("empty")

    # ------------------------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.setFocus()
        dev = self.device_pos(event)
        hit = self.hit_test(dev)
        wx, wy = float(event.pos().x()), float(event.pos().y())
        st = self.state
        self._press_dev, self._moved, self._drag = dev, False, None
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin()
            if hit.kind in ("handle_in", "handle_out"):
                st.set(node_id=self.node_id, item=hit.item, point=hit.index)
                self._drag = hit
            elif hit.kind == "point":
                st.set(node_id=self.node_id, item=hit.item, point=hit.index, armed=False)
                self._drag = hit
            elif hit.kind == "curve":
                assert hit.item is not None and hit.insert is not None and hit.at is not None
                doc = pathedit.insert_point(self.doc, hit.item, hit.insert, *hit.at)
                if self._edit("paths", doc, f"Insert point {hit.insert + 1} into path '{self._name(hit.item)}'"):
                    st.set(node_id=self.node_id, item=hit.item, point=hit.insert, armed=False)
                    self._drag = Hit("point", hit.item, hit.insert)
                    self._moved = True
            else:
                self._add_at(wx, wy)
            event.accept()
            return
        if event.button() == Qt.MouseButton.RightButton:
            if hit.kind == "point":
                self.delete_point(hit.item, hit.index)  # type: ignore[arg-type]
            elif hit.kind in ("handle_in", "handle_out"):
                doc = pathedit.reset_handles(self.doc, hit.item, hit.index)  # type: ignore[arg-type]
                self._edit("paths", doc, f"Automatic handles on point {hit.index + 1} of '{self._name(hit.item)}'")  # type: ignore[operator]
            else:
                pid = hit.item if hit.kind == "curve" else self.active
                actions: list[tuple[str, Any]] = [("New Path", self.arm_new_path)]
                if pid is not None:
                    name = self._name(pid)
                    actions += [
                        ("-", None),
                        (f"Duplicate Path '{name}'", lambda pid=pid: self.duplicate_path(pid)),
                        (f"Delete Path '{name}'", lambda pid=pid: self.delete_path(pid)),
                    ]
                    start = self.models[pid].start_frame
                    actions += [
                        ("-", None),
                        (
                            f"Go to Its Start Frame ({start:g})",
                            lambda f=start: self.session.transport.set_playhead(int(round(f))),
                        ),
                    ]
                self._popup(event, actions)
            event.accept()
            return
        event.ignore()

    def _add_at(self, wx: float, wy: float) -> None:
        st = self.state
        active = self.active
        if st.armed or active is None:
            doc, pid = pathedit.add_path(self.doc, wx, wy)
            if self._edit("paths", doc, f"New path '{pid}'"):
                st.set(node_id=self.node_id, item=pid, point=0, armed=False)
                self._drag = Hit("point", pid, 0)
                self._moved = True
            return
        doc, i = pathedit.append_point(self.doc, active, wx, wy)
        if self._edit("paths", doc, f"Add point {i + 1} to path '{self._name(active)}'"):
            st.set(point=i)
            self._drag = Hit("point", active, i)
            self._moved = True

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        drag = self._drag
        if drag is None or drag.item not in self.models:
            event.accept()
            return
        dev = self.device_pos(event)
        if not self._moved and self._press_dev is not None and np.hypot(*(dev - self._press_dev)) < 3.0:
            return  # a click, not a drag yet
        self._moved = True
        wx, wy = float(event.pos().x()), float(event.pos().y())
        name = self._name(drag.item)
        assert drag.index is not None
        if drag.kind == "point":
            doc = pathedit.move_point(self.doc, drag.item, drag.index, wx, wy)
            self._edit("paths", doc, f"Move point {drag.index + 1} of path '{name}'")
        else:
            p = self.models[drag.item].points[drag.index]
            which = "out" if drag.kind == "handle_out" else "in"
            mirror = not (event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            doc, converted = pathedit.set_handle(
                self.doc, drag.item, drag.index, which, wx - p.x, wy - p.y, mirror=mirror
            )
            if self._edit("paths", doc, f"Drag a handle of point {drag.index + 1} of path '{name}'") and converted:
                self.session.message.emit(f"path '{name}' is a Bezier path now (its shape is kept; undo reverts)")
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._drag = None
        self._end()
        event.accept()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        hit = self.hit_test(self.device_pos(event))
        if (hit.kind, hit.item, hit.index) != (self._hover.kind, self._hover.item, self._hover.index):
            self._hover = hit
            cursor = {
                "point": Qt.CursorShape.SizeAllCursor,
                "handle_in": Qt.CursorShape.PointingHandCursor,
                "handle_out": Qt.CursorShape.PointingHandCursor,
                "curve": Qt.CursorShape.PointingHandCursor,
            }
            self.setCursor(cursor.get(hit.kind, Qt.CursorShape.CrossCursor))
            self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hover = Hit("empty")
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        st = self.state
        k = event.key()
        if k in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.active is not None and st.point is not None:
            self.delete_point(self.active, st.point)
        elif k == Qt.Key.Key_Escape:
            st.set(armed=False, point=None)
        elif k == Qt.Key.Key_N:
            self.arm_new_path()
        else:
            event.ignore()
            return
        event.accept()

    # ------------------------------------------------------------------------------------ commands
    def _name(self, pid: str) -> str:
        m = self.models.get(pid)
        return m.track_name if m is not None else pid

    def arm_new_path(self) -> None:
        """The next click on the frame starts a new path."""
        self.state.set(node_id=self.node_id, armed=True)
        self.update()

    def delete_point(self, pid: str, index: int) -> None:
        """Deletes control point ``index`` of path ``pid`` (the path too when it was its only point)."""
        name = self._name(pid)
        doc, removed = pathedit.delete_point(self.doc, pid, index)
        text = f"Delete path '{name}'" if removed else f"Delete point {index + 1} of path '{name}'"
        if self._edit("paths", doc, text):
            n = len(self.models.get(pid).points) if pid in self.models else 0
            self.state.set(point=None if removed or n == 0 else min(index, n - 1))

    def delete_path(self, pid: str) -> None:
        """Deletes path ``pid``."""
        self._edit("paths", pathedit.delete_path(self.doc, pid), f"Delete path '{self._name(pid)}'")

    def duplicate_path(self, pid: str) -> None:
        """Duplicates path ``pid`` (a little offset) and makes the copy active."""
        doc, new = pathedit.duplicate_path(self.doc, pid)
        if self._edit("paths", doc, f"Duplicate path '{self._name(pid)}'"):
            self.state.set(node_id=self.node_id, item=new, point=None)

    def detach(self) -> None:
        super().detach()
        try:
            self.session.graph_changed.disconnect(self._graph_changed)
            self.state.changed.disconnect(self.update)
        except (RuntimeError, TypeError):
            pass


# ================================================================================================ tracks
class TrackSetOverlay(MotionOverlay):
    """Any TRAJECTORY value (read-only): each track's course with a dot per frame, and the object at the
    playhead (its box, or its physics shape from ``meta``)."""

    def __init__(self, ctx: OverlayContext, frame_space: bool = False):
        super().__init__(ctx)
        self.uses_camera = not frame_space
        self._courses: list[np.ndarray] = []
        self.set_value(ctx.value)

    def set_value(self, value: Any) -> None:
        self.value = value
        self._courses = []
        for tr in getattr(value, "tracks", []) or []:
            self._courses.append(tr.position[tr.visible] if tr.visible.any() else tr.position[:0])
        self.update()

    def draw(self, painter: QPainter, t: QTransform) -> None:
        tracks = getattr(self.value, "tracks", []) or []
        for k, tr in enumerate(tracks):
            color = qcolor(tr.meta.get("color", pathedit.PATH_COLORS[k % len(pathedit.PATH_COLORS)]), 0.85)
            course = map_points(t, self._courses[k]) if k < len(self._courses) else np.zeros((0, 2))
            _outlined_polyline(painter, course, qcolor(tr.meta.get("color", pathedit.PATH_COLORS[k % 8]), 0.5), 1.2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            for x, y in course:
                painter.drawEllipse(QPointF(x, y), 1.3, 1.3)
            i = int(min(max(self.frame, 0), tr.frame_count - 1))
            if not tr.visible[i]:
                continue
            draw_body_shape(
                painter,
                t,
                tr.meta,
                tr.position[i],
                float(tr.angle[i]),
                float(tr.scale[i]),
                tr.size,
                qcolor(tr.meta.get("color", pathedit.PATH_COLORS[k % 8])),
            )
            c = map_points(t, tr.position[i][None])[0]
            _label(painter, c[0] + 8, c[1] - 8, tr.name, QColor(255, 255, 255), size=8.0)


def body_outline(
    meta: dict[str, Any], center: np.ndarray, angle: float, scale: float, size: tuple[float, float]
) -> tuple[str, np.ndarray]:
    """The outline of an object in world px: ``("circle", (48, 2))``, ``("segment", (2, 2))`` or
    ``("polygon", (K, 2))``; from a physics ``meta`` (shape, radius, width/height, vertices), else the box of
    ``size``. ``angle`` radians clockwise."""
    shape = meta.get("shape")
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]]) * scale
    if shape == "circle":
        r = float(meta.get("radius", max(size) / 2.0))
        a = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        return "circle", np.stack([np.cos(a), np.sin(a)], axis=1) * r * scale + center
    if shape == "box":
        w, h = float(meta.get("width", size[0])) / 2.0, float(meta.get("height", size[1])) / 2.0
        return "polygon", np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) @ rot.T + center
    if shape in ("polygon", "segment") and meta.get("vertices"):
        v = np.asarray(meta["vertices"], dtype=np.float64).reshape(-1, 2)
        return ("segment" if shape == "segment" else "polygon"), v @ rot.T + center
    return "polygon", _object_outline(center, size, angle, scale)


def draw_body_shape(
    painter: QPainter,
    t: QTransform,
    meta: dict[str, Any],
    center: np.ndarray,
    angle: float,
    scale: float,
    size: tuple[float, float],
    color: QColor,
    *,
    fill_alpha: float = 0.28,
    style: Qt.PenStyle = Qt.PenStyle.SolidLine,
    width: float = 1.6,
) -> np.ndarray:
    """Draws an object's outline (see :func:`body_outline`) in viewport pixels, with a spoke showing its
    angle for circles; returns the outline in viewport pixels."""
    kind, outline = body_outline(meta, np.asarray(center, dtype=np.float64), angle, scale, size)
    dev = map_points(t, outline)
    fill = QColor(color)
    fill.setAlphaF(fill_alpha)
    if kind == "segment":
        thick = max(2.0, 2.0 * float(meta.get("radius", 2.0)) * scale * _scale_of(t))
        painter.setPen(_pen(QColor(0, 0, 0, 140), thick + 2))
        painter.drawLine(QPointF(*dev[0]), QPointF(*dev[-1]))
        painter.setPen(_pen(color, thick))
        painter.drawLine(QPointF(*dev[0]), QPointF(*dev[-1]))
        return dev
    poly = _polygon(dev)
    painter.setPen(_pen(QColor(0, 0, 0, 140), width + 2))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPolygon(poly)
    painter.setPen(_pen(color, width, style))
    painter.setBrush(fill)
    painter.drawPolygon(poly)
    if kind == "circle":
        c = map_points(t, np.asarray(center, dtype=np.float64)[None])[0]
        r = float(meta.get("radius", max(size) / 2.0)) * scale
        tip = map_points(t, (np.asarray(center) + r * np.array([math.cos(angle), math.sin(angle)]))[None])[0]
        painter.drawLine(QPointF(*c), QPointF(*tip))
    return dev


# ================================================================================================ boxes
class BoxesOverlay(MotionOverlay):
    """BOXES ``(T, N, 4)`` frame px ``(x0, y0, x1, y1)``: the boxes at the playhead, named after the tracks of
    the same node's TRAJECTORY output when there is one."""

    uses_camera = False

    def draw(self, painter: QPainter, t: QTransform) -> None:
        try:
            boxes = np.asarray(self.value, dtype=np.float64)
        except (TypeError, ValueError):
            return
        if boxes.ndim != 3 or boxes.shape[-1] != 4 or boxes.shape[0] == 0:
            return
        names: list[str] = []
        r = self.session.evaluation.last_result
        if r is not None:
            for v in r.values.get(self.node_id, {}).values():
                if hasattr(v, "tracks"):
                    names = [tr.name for tr in v.tracks]
        i = int(min(max(self.frame, 0), boxes.shape[0] - 1))
        for k, b in enumerate(boxes[i]):
            if not np.all(np.isfinite(b)):
                continue
            color = qcolor(pathedit.PATH_COLORS[k % len(pathedit.PATH_COLORS)])
            a, c = map_points(t, np.array([[b[0], b[1]], [b[2], b[3]]]))
            rect = QRectF(QPointF(*a), QPointF(*c)).normalized()
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(_pen(QColor(0, 0, 0, 150), 3.2))
            painter.drawRect(rect)
            painter.setPen(_pen(color, 1.6))
            painter.drawRect(rect)
            _label(painter, rect.left() + 3, rect.top() - 4, names[k] if k < len(names) else f"#{k}", color, size=8.0)


# ================================================================================================ physics
class PhysicsSceneOverlay(MotionOverlay):
    """A physics scene over the frame: walls on the frame's borders, the gravity, and every body at its start
    with its velocity (an arrow to where it would be :data:`ARROW_SECONDS` later).

    On a Physics Scene node the bodies are edited with the mouse: drag a body to place it, drag its arrow's
    tip to set its velocity (throw it), right-click a body to delete or duplicate it or stop it, right-click
    empty frame to add a ball or a box there; Delete removes the selected body. Each drag is one undo step.
    """

    HINT = "drag a body: place it · drag the arrow tip: throw it · right-click: add, delete"

    def __init__(self, ctx: OverlayContext):
        super().__init__(ctx)
        cls = self.session.node_class(self.node_id)
        p = cls.param("bodies") if cls is not None else None
        self.editable = p is not None and p.validator is validate_bodies
        self.state = self.session.motion_edit
        self.setAcceptHoverEvents(self.editable)
        self.setFlag(self.GraphicsItemFlag.ItemIsFocusable, self.editable)
        self.bodies: list[dict[str, Any]] = []
        self.models: list[Body] = []
        self._drag: Hit | None = None
        self._grab = np.zeros(2)
        self.reload()
        if self.editable:
            self.session.graph_changed.connect(self._graph_changed)
            self.state.changed.connect(self.update)

    @property
    def hint(self) -> str:  # type: ignore[override]
        return self.HINT if self.editable else ""

    def reload(self) -> None:
        """Reads the bodies (the node's parameter when editable, else the scene value)."""
        s = self.session
        if self.editable and s.project.has_node(self.node_id):
            raw = pathedit.as_bodies(edits.param_value(s.project, s.registry, self.node_id, "bodies"))
        else:
            raw = pathedit.as_bodies(getattr(self.value, "bodies", []))
        self.bodies = raw
        self.models = []
        for b in raw:
            try:
                self.models.append(Body.model_validate(b))
            except ValueError:
                continue
        self.update()

    def set_value(self, value: Any) -> None:
        self.value = value
        if not self.editable:
            self.reload()
        self.update()

    def _graph_changed(self, change) -> None:
        if self.node_id in change.nodes and self.node_id not in change.removed:
            self.reload()

    def _world(self) -> tuple[float, float]:
        v = self.value
        if v is not None and hasattr(v, "width"):
            return float(v.width), float(v.height)
        return float(self.session.settings.width), float(self.session.settings.height)

    def draw(self, painter: QPainter, t: QTransform) -> None:
        W, H = self._world()
        walls = getattr(self.value, "walls", None)
        if walls is not None:
            corners = {
                "ground": ((0, H), (W, H), (0, 1)),
                "ceiling": ((0, 0), (W, 0), (0, -1)),
                "left": ((0, 0), (0, H), (-1, 0)),
                "right": ((W, 0), (W, H), (1, 0)),
            }
            brush = QBrush(QColor(200, 200, 200, 150), Qt.BrushStyle.BDiagPattern)
            for name, (a, b, n) in corners.items():
                if not getattr(walls, name, False):
                    continue
                da, db = map_points(t, np.array([a, b], dtype=np.float64))
                # outward normal in viewport pixels (the camera may roll)
                on = map_points(t, np.array([[a[0] + n[0], a[1] + n[1]]], dtype=np.float64))[0] - da
                on = on / (float(np.hypot(*on)) or 1.0) * 7.0
                band = _polygon(np.array([da, db, db + on, da + on]))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(brush)
                painter.drawPolygon(band)
                painter.setPen(_pen(QColor(220, 220, 220, 200), 1.2))
                painter.drawLine(QPointF(*da), QPointF(*db))
        g = getattr(self.value, "gravity", None)
        if g is not None and (g[0] or g[1]):
            base = map_points(t, np.array([[28.0, 28.0]]))[0]
            gd = np.array(g, dtype=np.float64)
            tip = base + gd / (np.hypot(*gd) or 1.0) * 26.0
            self._arrow(painter, base, tip, QColor(220, 220, 220, 220))
            _label(
                painter,
                base[0] + 8,
                base[1] + 4,
                f"g {math.hypot(*g):.0f} px/s²",
                QColor(220, 220, 220),
                bold=False,
                size=7.5,
            )
        sel = self.state.item if self.state.is_for(self.node_id) else None
        for b in self.models:
            color = qcolor(b.color) if b.kind != "static" else QColor(190, 190, 190)
            meta = {
                "shape": b.shape,
                "radius": b.radius,
                "width": b.width,
                "height": b.height,
                "vertices": [list(v) for v in b.vertices],
            }
            pos = np.array(b.position, dtype=np.float64)
            style = Qt.PenStyle.DashLine if b.kind == "kinematic" else Qt.PenStyle.SolidLine
            chosen = b.id == sel
            draw_body_shape(
                painter,
                t,
                meta,
                pos,
                math.radians(b.angle),
                1.0,
                (b.width, b.height),
                color,
                fill_alpha=0.45 if chosen else 0.28,
                style=style,
                width=2.6 if chosen else 1.6,
            )
            c = map_points(t, pos[None])[0]
            if b.kind == "dynamic" or b.kind == "kinematic" and b.follow is None:
                tip = self._velocity_tip(b, t)
                if np.hypot(*(np.array(b.velocity) * ARROW_SECONDS)) * _scale_of(t) >= 10.0:
                    self._arrow(painter, c, tip, color)
                painter.setPen(_pen(QColor(0, 0, 0, 200), 1.0))
                painter.setBrush(QColor(255, 255, 255) if chosen else color)
                diamond = np.array([[0, -5], [5, 0], [0, 5], [-5, 0]], dtype=np.float64) + tip
                painter.drawPolygon(_polygon(diamond))
            label = b.track_name + ("" if b.kind == "dynamic" else f" ({b.kind})")
            _label(painter, c[0] + 8, c[1] - 8, label, QColor(255, 255, 255), size=8.0)

    def _velocity_tip(self, b: Body, t: QTransform) -> np.ndarray:
        """The velocity handle in viewport pixels: the arrow's tip, or beside the body when it barely moves."""
        pos = np.array(b.position, dtype=np.float64)
        c = map_points(t, pos[None])[0]
        tip = map_points(t, (pos + np.array(b.velocity) * ARROW_SECONDS)[None])[0]
        if np.hypot(*(tip - c)) < 10.0:
            r = (b.radius if b.shape == "circle" else max(b.width, b.height) / 2.0) * _scale_of(t)
            tip = c + np.array([r + 14.0, 0.0])
        return tip

    @staticmethod
    def _arrow(painter: QPainter, a: np.ndarray, b: np.ndarray, color: QColor) -> None:
        d = b - a
        n = float(np.hypot(*d))
        if n < 1e-6:
            return
        u = d / n
        head = (
            np.array([-u[0] * 8 - u[1] * 4, -u[1] * 8 + u[0] * 4]),
            np.array([-u[0] * 8 + u[1] * 4, -u[1] * 8 - u[0] * 4]),
        )
        for pen in (_pen(QColor(0, 0, 0, 150), 3.4), _pen(color, 1.6)):
            painter.setPen(pen)
            painter.drawLine(QPointF(*a), QPointF(*b))
            painter.drawLine(QPointF(*b), QPointF(*(b + head[0])))
            painter.drawLine(QPointF(*b), QPointF(*(b + head[1])))

    # ------------------------------------------------------------------------------------ editing
    def hit_test(self, dev: np.ndarray) -> Hit:
        """Velocity handles first, then bodies (the top-most, last drawn, first)."""
        t = self.device_transform()
        for b in reversed(self.models):
            if b.kind == "dynamic" or b.kind == "kinematic" and b.follow is None:
                if np.hypot(*(self._velocity_tip(b, t) - dev)) <= HIT:
                    return Hit("velocity", b.id)
        for b in reversed(self.models):
            meta = {
                "shape": b.shape,
                "radius": b.radius,
                "width": b.width,
                "height": b.height,
                "vertices": [list(v) for v in b.vertices],
            }
            kind, outline = body_outline(
                meta, np.array(b.position, dtype=np.float64), math.radians(b.angle), 1.0, (b.width, b.height)
            )
            d = map_points(t, outline)
            c = map_points(t, np.array([b.position], dtype=np.float64))[0]
            if np.hypot(*(c - dev)) <= HIT:
                return Hit("body", b.id)
            if kind != "segment":
                path = QPainterPath()
                path.addPolygon(_polygon(d))
                if path.contains(QPointF(*dev)):
                    return Hit("body", b.id)
            else:
                a, e = d[0], d[-1]
                ab = e - a
                u = float(np.clip(np.dot(dev - a, ab) / (np.dot(ab, ab) or 1.0), 0, 1))
                if np.hypot(*(a + u * ab - dev)) <= HIT:
                    return Hit("body", b.id)
        return Hit("empty")

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if not self.editable:
            event.ignore()
            return
        self.setFocus()
        hit = self.hit_test(self.device_pos(event))
        wx, wy = float(event.pos().x()), float(event.pos().y())
        if event.button() == Qt.MouseButton.LeftButton:
            if hit.kind in ("body", "velocity"):
                self.state.set(node_id=self.node_id, item=hit.item)
                self._drag = hit
                b = self.models[[m.id for m in self.models].index(hit.item)]
                self._grab = np.array([wx, wy]) - np.array(b.position)
                self._begin()
            else:
                self.state.set(node_id=self.node_id, item=None)
            event.accept()
            return
        if event.button() == Qt.MouseButton.RightButton:
            if hit.kind in ("body", "velocity"):
                bid = hit.item
                assert bid is not None
                self.state.set(node_id=self.node_id, item=bid)
                self._popup(
                    event,
                    [
                        (
                            "Stop (Zero Velocity)",
                            lambda: self._edit(
                                "bodies",
                                pathedit.update_body(self.bodies, bid, velocity=[0.0, 0.0], angular_velocity=0.0),
                                f"Stop body '{bid}'",
                            ),
                        ),
                        ("Duplicate Body", lambda: self._duplicate(bid)),
                        ("-", None),
                        ("Delete Body", lambda: self.delete_body(bid)),
                    ],
                )
            else:
                self._popup(
                    event,
                    [
                        ("Add Ball Here", lambda: self._add("circle", wx, wy)),
                        ("Add Box Here", lambda: self._add("box", wx, wy)),
                    ],
                )
            event.accept()
            return
        event.ignore()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        drag = self._drag
        if drag is None or drag.item is None:
            event.accept()
            return
        wx, wy = float(event.pos().x()), float(event.pos().y())
        ids = [m.id for m in self.models]
        if drag.item not in ids:
            return
        b = self.models[ids.index(drag.item)]
        if drag.kind == "body":
            p = np.array([wx, wy]) - self._grab
            self._edit(
                "bodies",
                pathedit.update_body(self.bodies, b.id, position=[round(float(p[0]), 3), round(float(p[1]), 3)]),
                f"Move body '{b.id}'",
            )
        else:
            v = (np.array([wx, wy]) - np.array(b.position)) / ARROW_SECONDS
            self._edit(
                "bodies",
                pathedit.update_body(self.bodies, b.id, velocity=[round(float(v[0]), 2), round(float(v[1]), 2)]),
                f"Throw body '{b.id}'",
            )
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._drag = None
        self._end()
        event.accept()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        hit = self.hit_test(self.device_pos(event))
        self.setCursor(
            {"body": Qt.CursorShape.SizeAllCursor, "velocity": Qt.CursorShape.PointingHandCursor}.get(
                hit.kind, Qt.CursorShape.ArrowCursor
            )
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        st = self.state
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and st.is_for(self.node_id) and st.item:
            self.delete_body(st.item)
            event.accept()
            return
        event.ignore()

    def _add(self, shape: str, x: float, y: float) -> None:
        bodies, bid = pathedit.add_body(self.bodies, shape, x, y)
        if self._edit("bodies", bodies, f"Add {shape} '{bid}'"):
            self.state.set(node_id=self.node_id, item=bid)

    def _duplicate(self, bid: str) -> None:
        bodies, new = pathedit.duplicate_body(self.bodies, bid)
        if self._edit("bodies", bodies, f"Duplicate body '{bid}'"):
            self.state.set(node_id=self.node_id, item=new)

    def delete_body(self, bid: str) -> None:
        """Deletes body ``bid``."""
        if self._edit("bodies", pathedit.remove_body(self.bodies, bid), f"Delete body '{bid}'"):
            self.state.set(item=None)

    def detach(self) -> None:
        super().detach()
        if self.editable:
            try:
                self.session.graph_changed.disconnect(self._graph_changed)
                self.state.changed.disconnect(self.update)
            except (RuntimeError, TypeError):
                pass


# ================================================================================================ registration
def _is_trajectory_editor(ctx: OverlayContext) -> bool:
    cls = ctx.session.node_class(ctx.node_id)
    p = cls.param("paths") if cls is not None else None
    return p is not None and p.kind == "json" and p.validator is validate_document


def trajectory_overlay(ctx: OverlayContext) -> ViewerOverlay:
    """The TRAJECTORY factory: the path editor for a Trajectory node, the track display otherwise."""
    if _is_trajectory_editor(ctx):
        return TrajectoryEditOverlay(ctx)
    return TrackSetOverlay(ctx, frame_space=_frame_space(ctx))


BUILTIN_OVERLAYS = {
    PortType.TRAJECTORY.value: trajectory_overlay,
    PortType.BOXES.value: BoxesOverlay,
    PortType.PHYSICS_SCENE.value: PhysicsSceneOverlay,
}


def register_builtin_overlays() -> None:
    """Registers the overlays of this module for TRAJECTORY, BOXES and PHYSICS_SCENE, keeping any
    registration already made for those types."""
    for port_type, factory in BUILTIN_OVERLAYS.items():
        if overlay_factory(port_type) is None:
            register_overlay(port_type, factory)


__all__ = [
    "TrajectoryEditOverlay",
    "TrackSetOverlay",
    "BoxesOverlay",
    "PhysicsSceneOverlay",
    "Hit",
    "map_points",
    "qcolor",
    "body_outline",
    "draw_body_shape",
    "trajectory_overlay",
    "register_builtin_overlays",
    "BUILTIN_OVERLAYS",
    "ARROW_SECONDS",
]
