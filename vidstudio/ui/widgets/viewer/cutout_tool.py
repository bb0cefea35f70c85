"""The Viewer's Cut Out tool (cut-and-drag, the "motion brush"): draw an outline on a still picture, get a
Sprite of that region following a new Trajectory whose first point is the region's centre, ready to drag.

* :class:`CutOutDrawOverlay`: the tool while it is armed over a still image (a Load Image, a Cut Out's
  background, any IMAGE output). Click points for a polygon (double-click or Enter closes it, Backspace removes
  the last point, Esc cancels), or press and drag for a freehand lasso (released: closed).
* :func:`make_cut_out`: what closing the outline does, as one undo step: a Cut Out node (the outline as data on
  its ``outline`` parameter, in image pixels), a Trajectory with one path starting at the region's centre, a
  Sprite of the cut-out following it, and the Animatic Render that shows the photo takes the Cut Out's
  background (the hole filled by inpainting, or left, by the tool's option); an animatic is added when none
  shows the photo yet.
* :class:`CutOutEditOverlay`: a selected Cut Out node's outline over the picture; its vertices are dragged
  (one undo step per drag) and the sprite's size and its path's first point follow (:func:`set_outline`).
* :class:`CutOutTool`: owns both overlays for one Viewer.

Coordinates: outlines are image pixels of the photo (origin top-left, y down). Over the photo itself (or a Cut
Out's background) they are the Viewer's pixels; over an Animatic Render they are placed in world pixels by the
animatic's ``fit`` (:func:`vidstudio.motion.cutout.place_in_world`) and through its camera.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPolygonF, QTransform
from PySide6.QtWidgets import QGraphicsSceneHoverEvent, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem, QWidget

from vidstudio.motion import pathedit
from vidstudio.motion.camera import fit_matrix
from vidstudio.motion.cutout import crop_box, place_in_world, validate_outline
from vidstudio.project import edits
from vidstudio.ui.widgets.viewer.motion_overlays import map_points
from vidstudio.ui.widgets.viewer.overlays import ViewerOverlay

if TYPE_CHECKING:  # pragma: no cover
    from vidstudio.ui.state.session import Session
    from vidstudio.ui.widgets.viewer.viewer import Viewer

#: Hit radius of a vertex, in screen pixels.
HIT = 8.0
#: A press that moves this far (screen pixels) before release draws a lasso instead of placing a point.
LASSO_START = 6.0
#: Spacing of lasso points in screen pixels.
LASSO_STEP = 3.0
_HUGE = 1.0e5
OUTLINE_COLOR = QColor(90, 220, 255)


def _poly(pts: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in pts])


def _draw_outline(
    painter: QPainter,
    dev: np.ndarray,
    closed: bool,
    vertices: bool,
    hover: int | None = None,
    selected: int | None = None,
) -> None:
    """An outline in viewport pixels: a dark edge, a cyan dashed line, and the vertices as small squares."""
    if len(dev) == 0:
        return
    poly = _poly(dev)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for pen_color, width, style in (
        (QColor(0, 0, 0, 160), 3.0, Qt.PenStyle.SolidLine),
        (OUTLINE_COLOR, 1.5, Qt.PenStyle.DashLine),
    ):
        pen = ViewerOverlay.cosmetic_pen(pen_color, width, style)
        painter.setPen(pen)
        if closed and len(dev) > 2:
            painter.drawPolygon(poly)
        else:
            painter.drawPolyline(poly)
    if vertices:
        for i, (x, y) in enumerate(dev):
            big = i in (hover, selected)
            r = 4.5 if big else (3.2 if len(dev) <= 24 else 2.2)  # a lasso's many vertices: smaller
            painter.setPen(ViewerOverlay.cosmetic_pen(QColor(0, 0, 0, 220), 1.0))
            painter.setBrush(QColor(255, 255, 255) if big else OUTLINE_COLOR)
            painter.drawRect(QRectF(x - r, y - r, 2 * r, 2 * r))


class _DeviceOverlay(ViewerOverlay):
    """Draws in viewport pixels (lines keep their width whatever the zoom) and covers the whole plane."""

    def boundingRect(self) -> QRectF:
        return QRectF(-_HUGE, -_HUGE, 2 * _HUGE, 2 * _HUGE)

    def device_transform(self) -> QTransform:
        """Item pixels to viewport pixels."""
        views = self.scene().views() if self.scene() is not None else []
        return self.deviceTransform(views[0].viewportTransform()) if views else self.sceneTransform()

    def device_pos(self, event: QGraphicsSceneMouseEvent | QGraphicsSceneHoverEvent) -> np.ndarray:
        """The event's position in viewport pixels ``(2,)``."""
        return map_points(self.device_transform(), np.array([[event.pos().x(), event.pos().y()]]))[0]

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        try:
            self.draw(painter, t)
        finally:
            painter.restore()

    def draw(self, painter: QPainter, t: QTransform) -> None:
        """Draws in viewport pixels; ``t`` maps item pixels there."""


# ================================================================================================ drawing
class CutOutDrawOverlay(_DeviceOverlay):
    """The armed Cut Out tool over a still picture (item pixels = image pixels). See the module docstring.

    ``on_done(points)`` is called with the closed outline (``(N, 2)`` image px, N >= 3); ``on_cancel()`` when
    Esc is pressed.
    """

    hint = "Cut Out: click points, double-click or Enter closes · drag: freehand lasso · Backspace: undo point · Esc: cancel"

    def __init__(self, on_done, on_cancel):
        super().__init__()
        self.on_done = on_done
        self.on_cancel = on_cancel
        self.points: list[tuple[float, float]] = []
        self.lasso = False
        self._press: np.ndarray | None = None
        self._press_item: tuple[float, float] | None = None
        self._cursor: tuple[float, float] | None = None
        self.setZValue(60)
        self.setAcceptHoverEvents(True)
        self.setFlag(self.GraphicsItemFlag.ItemIsFocusable, True)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def draw(self, painter: QPainter, t: QTransform) -> None:
        pts = list(self.points)
        if self._cursor is not None and pts and not self.lasso:
            pts.append(self._cursor)
        if pts:
            _draw_outline(painter, map_points(t, np.array(pts)), closed=self.lasso, vertices=not self.lasso)

    def finish(self) -> bool:
        """Closes the outline (when it has 3 points or more) and hands it on; returns whether it did."""
        pts = _dedupe(self.points)
        if len(pts) < 3:
            return False
        self.points, self.lasso = [], False
        self.update()
        self.on_done(np.array(pts, dtype=np.float64))
        return True

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        self.setFocus()
        self._press = self.device_pos(event)
        self._press_item = (float(event.pos().x()), float(event.pos().y()))
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._press is None:
            return
        dev = self.device_pos(event)
        p = (float(event.pos().x()), float(event.pos().y()))
        if not self.lasso and not self.points and np.hypot(*(dev - self._press)) >= LASSO_START:
            self.lasso = True
            assert self._press_item is not None
            self.points = [self._press_item]
        if self.lasso:
            last = map_points(self.device_transform(), np.array([self.points[-1]]))[0]
            if np.hypot(*(dev - last)) >= LASSO_STEP:
                self.points.append(p)
                self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._press is None:
            return
        self._press = None
        if self.lasso:
            self.points.append((float(event.pos().x()), float(event.pos().y())))
            if not self.finish():
                self.points, self.lasso = [], False
        else:
            self.points.append((float(event.pos().x()), float(event.pos().y())))
        self.update()
        event.accept()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        # (the double click's first press and release placed its point already, if they came: _dedupe drops
        # the repeat)
        self._press = None
        if event.button() == Qt.MouseButton.LeftButton and not self.lasso:
            self.points.append((float(event.pos().x()), float(event.pos().y())))
        self.finish()
        event.accept()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._cursor = (float(event.pos().x()), float(event.pos().y()))
        if self.points:
            self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        k = event.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish()
        elif k == Qt.Key.Key_Backspace and self.points and not self.lasso:
            self.points.pop()
            self.update()
        elif k == Qt.Key.Key_Escape:
            self.points, self.lasso = [], False
            self.on_cancel()
        else:
            event.ignore()
            return
        event.accept()


def _dedupe(points: list[tuple[float, float]], tol: float = 0.5) -> list[tuple[float, float]]:
    """The points without consecutive repeats (closer than ``tol`` px), the closing repeat included."""
    out: list[tuple[float, float]] = []
    for p in points:
        if not out or np.hypot(p[0] - out[-1][0], p[1] - out[-1][1]) >= tol:
            out.append(p)
    while len(out) > 1 and np.hypot(out[0][0] - out[-1][0], out[0][1] - out[-1][1]) < tol:
        out.pop()
    return out


# ================================================================================================ document
def image_source(session: Session, node_id: str, port: str) -> tuple[str, str]:
    """The photo behind an IMAGE output: a Cut Out's outputs lead back to its ``image`` input (so that a cut
    made over a Cut Out's background cuts the photo itself); anything else is its own source."""
    p = session.project
    seen = set()
    while p.has_node(node_id) and p.node(node_id).type == "CutOut" and node_id not in seen:
        seen.add(node_id)
        links = p.links_into(node_id, "image")
        if not links:
            break
        node_id, port = links[0].source_node, links[0].source_port
    return node_id, port


def _animatic_of(session: Session, source: tuple[str, str]) -> tuple[str | None, tuple[str, str] | None]:
    """The Animatic Render whose background is ``source`` or a chain of Cut Outs of it, and the output that
    feeds its background now."""
    p = session.project
    for n in p.nodes:
        if n.type != "AnimaticRender":
            continue
        for l in p.links_into(n.id, "background"):
            if (
                image_source(session, l.source_node, l.source_port) == source
                or (l.source_node, l.source_port) == source
            ):
                return n.id, (l.source_node, l.source_port)
    return None, None


def _param(session: Session, node_id: str, name: str) -> Any:
    return edits.param_value(session.project, session.registry, node_id, name)


def _placement(session: Session, anim: str | None, points: np.ndarray, photo_size: tuple[int, int], feather: float):
    """``(centre, size)`` in world px of the cut-out of ``points``, as the animatic ``anim`` shows it."""
    box, _ = crop_box(points, photo_size[0], photo_size[1], feather)
    fit = _param(session, anim, "fit") if anim is not None else "cover"
    s = session.settings
    return place_in_world(box, photo_size, (s.width, s.height), fit)


def make_cut_out(
    session: Session,
    source: tuple[str, str],
    points: np.ndarray,
    photo_size: tuple[int, int],
    *,
    feather: float = 2.0,
    fill_hole: bool = True,
) -> dict[str, str]:
    """Cuts ``points`` out of the photo at output ``source`` (``(node, port)``) as one undo step (see the module
    docstring).

    Args:
        points: ``(N, 2)`` outline in the photo's pixels, N >= 3.
        photo_size: ``(width, height)`` of the photo in pixels.

    Returns:
        the new nodes' ids: ``{"cutout", "trajectory", "sprite", "animatic", "path"}`` (``path``: the path id).

    Raises:
        ValueError: for an outline that is not at least 3 finite points.
    """
    outline = validate_outline(np.asarray(points, dtype=np.float64).tolist())
    if len(outline) < 3:
        raise ValueError("an outline needs at least 3 points")
    p = session.project
    anim, feeding = _animatic_of(session, source)
    src_node = p.node(source[0])
    x0, y0 = src_node.position
    stack = session.undo_stack
    stack.beginMacro("Cut Out")
    try:
        cut = session.add_node(
            "CutOut",
            (x0 + 260.0, y0),
            select=False,
            params={"outline": outline, "feather": float(feather), "fill_hole": bool(fill_hole)},
        )
        session.connect_ports(source[0], source[1], cut, "image")
        if anim is None:
            anim = session.add_node("AnimaticRender", (x0 + 780.0, y0), select=False)
        elif feeding is not None and feeding != source:
            session.connect_ports(feeding[0], feeding[1], cut, "background")  # chain the holes of several cuts
        session.connect_ports(cut, "background", anim, "background")
        (cx, cy), (sw, sh) = _placement(session, anim, np.asarray(outline), photo_size, feather)
        doc, pid = pathedit.add_path({"version": 1, "paths": [], "anchors": []}, cx, cy, name=cut, size=[sw, sh])
        traj = session.add_node("Trajectory", (x0 + 260.0, y0 + 220.0), select=False, params={"paths": doc})
        spr = session.add_node(
            "Sprite", (x0 + 520.0, y0 + 110.0), select=False, params={"track": cut, "width": sw, "height": sh}
        )
        session.connect_ports(cut, "cutout", spr, "image")
        session.connect_ports(traj, "trajectory", spr, "trajectory")
        session.connect_ports(spr, "sprite", anim, "sprites")
    finally:
        stack.endMacro()
    session.view.set_selection([traj])
    session.motion_edit.set(node_id=traj, item=pid, point=0, armed=False)
    session.message.emit(f"Cut Out '{cut}': drag from the centre of the region (or click) to draw where it goes")
    return {"cutout": cut, "trajectory": traj, "sprite": spr, "animatic": anim, "path": pid}


def _followers(session: Session, cut: str) -> list[tuple[str, str | None, str | None]]:
    """``(sprite, trajectory, path id)`` of each Sprite that shows Cut Out ``cut``'s cut-out."""
    p = session.project
    out = []
    for l in p.links_from(cut, "cutout"):
        spr = l.target_node
        if not p.has_node(spr) or p.node(spr).type != "Sprite":
            continue
        tl = p.links_into(spr, "trajectory")
        traj = tl[0].source_node if tl and p.node(tl[0].source_node).type == "Trajectory" else None
        pid = None
        if traj is not None:
            doc = pathedit.as_document(_param(session, traj, "paths"))
            track = _param(session, spr, "track")
            for path in doc["paths"]:
                if (path.get("name") or path["id"]) == track or (not track and path is doc["paths"][0]):
                    pid = path["id"]
                    break
        out.append((spr, traj, pid))
    return out


def set_outline(
    session: Session, cut: str, points: Any, photo_size: tuple[int, int] | None = None, *, text: str = "Edit outline"
) -> None:
    """Sets Cut Out ``cut``'s outline and keeps what it feeds in place: every Sprite of its cut-out gets the new
    crop's size, and the first point of the path it follows moves with the crop's centre (one undo step;
    inside :meth:`Session.begin_interaction` the edits of a drag merge).

    Args:
        points: ``(N, 2)`` image px. photo_size: ``(width, height)`` of the photo (None: the sprites are left).

    Raises:
        ValueError: for an invalid outline.
    """
    outline = validate_outline(np.asarray(points, dtype=np.float64).tolist())
    old = validate_outline(_param(session, cut, "outline"))
    feather = float(_param(session, cut, "feather"))
    stack = session.undo_stack
    stack.beginMacro(text)
    try:
        session.set_param(cut, "outline", outline, merge=("cutout-outline", cut), text=text)
        if photo_size is None or len(outline) < 3 or len(old) < 3:
            return
        anim = next(
            (
                l.target_node
                for l in session.project.links_from(cut, "background")
                if session.project.node(l.target_node).type == "AnimaticRender"
            ),
            None,
        )
        (ocx, ocy), _ = _placement(session, anim, np.asarray(old), photo_size, feather)
        (cx, cy), (sw, sh) = _placement(session, anim, np.asarray(outline), photo_size, feather)
        for spr, traj, pid in _followers(session, cut):
            session.set_param(spr, "width", sw, merge=("cutout-w", spr), text=text)
            session.set_param(spr, "height", sh, merge=("cutout-h", spr), text=text)
            if traj is None or pid is None:
                continue
            doc = pathedit.as_document(_param(session, traj, "paths"))
            first = doc["paths"][pathedit.path_index(doc, pid)]["points"][0]
            doc = pathedit.move_point(doc, pid, 0, float(first["x"]) + cx - ocx, float(first["y"]) + cy - ocy)
            doc = pathedit.update_path(doc, pid, size=[sw, sh])
            session.set_param(traj, "paths", doc, merge=("cutout-path", traj), text=text)
    finally:
        stack.endMacro()


# ================================================================================================ editing
class CutOutEditOverlay(_DeviceOverlay):
    """The outline of Cut Out node ``node_id``, its vertices dragged with the mouse (see the module docstring).

    ``to_item``: the ``(3, 3)`` affine from image pixels to the overlay's item pixels; ``world``: whether item
    pixels are world pixels (an animatic's view: the overlay follows its camera).
    """

    hint = "Cut Out outline: drag a vertex · right-click a vertex: delete it"

    def __init__(self, session: Session, node_id: str, to_item: np.ndarray, world: bool, photo_size: tuple[int, int]):
        super().__init__()
        self.session = session
        self.node_id = node_id
        self.to_item = np.asarray(to_item, dtype=np.float64)
        self.uses_camera = world
        self.photo_size = photo_size
        self.outline = np.zeros((0, 2))
        self.hover: int | None = None
        self._drag: int | None = None
        self._press: np.ndarray | None = None
        self._interacting = False
        self.setZValue(30)
        self.setAcceptHoverEvents(True)
        self.reload()
        session.graph_changed.connect(self._graph_changed)

    def reload(self) -> None:
        """Reads the node's outline."""
        s = self.session
        if not s.project.has_node(self.node_id):
            return
        try:
            pts = validate_outline(_param(s, self.node_id, "outline"))
        except ValueError:
            pts = []
        self.outline = np.array(pts, dtype=np.float64).reshape(-1, 2)
        self.update()

    def _graph_changed(self, change) -> None:
        if self.node_id in change.nodes and self.node_id not in change.removed:
            self.reload()

    def item_points(self) -> np.ndarray:
        """The outline in item pixels ``(N, 2)``."""
        if len(self.outline) == 0:
            return self.outline
        h = np.c_[self.outline, np.ones(len(self.outline))] @ self.to_item.T
        return h[:, :2]

    def _to_image(self, x: float, y: float) -> tuple[float, float]:
        inv = np.linalg.inv(self.to_item)
        v = inv @ np.array([x, y, 1.0])
        return float(v[0]), float(v[1])

    def draw(self, painter: QPainter, t: QTransform) -> None:
        pts = self.item_points()
        if len(pts):
            _draw_outline(
                painter, map_points(t, pts), closed=True, vertices=True, hover=self.hover, selected=self._drag
            )

    def vertex_at(self, dev: np.ndarray) -> int | None:
        """The vertex under viewport position ``dev``, or None."""
        pts = self.item_points()
        if len(pts) == 0:
            return None
        d = map_points(self.device_transform(), pts)
        dist = np.hypot(d[:, 0] - dev[0], d[:, 1] - dev[1])
        i = int(np.argmin(dist))
        return i if dist[i] <= HIT else None

    def shape(self):
        from PySide6.QtGui import QPainterPath

        path = QPainterPath()
        pts = self.item_points()
        if len(pts):
            t = self.device_transform()
            r = HIT / max(np.sqrt(abs(t.determinant())), 1e-9)
            for x, y in pts:
                path.addEllipse(QPointF(float(x), float(y)), r, r)
        return path

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        i = self.vertex_at(self.device_pos(event))
        if i is None:
            event.ignore()
            return
        if event.button() == Qt.MouseButton.RightButton:
            if len(self.outline) > 3:
                pts = np.delete(self.outline, i, axis=0)
                set_outline(self.session, self.node_id, pts, self.photo_size, text=f"Delete outline vertex {i + 1}")
            else:
                self.session.message.emit("an outline keeps at least 3 vertices")
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag, self._press = i, self.device_pos(event)
            event.accept()
            return
        event.ignore()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is None:
            return
        if not self._interacting:
            if self._press is not None and np.hypot(*(self.device_pos(event) - self._press)) < 2.0:
                return
            self._interacting = True
            self.session.begin_interaction()
            # one undo step for the whole drag (each move's edit of the outline, sprite and path is inside it)
            self.session.undo_stack.beginMacro(f"Move outline vertex {self._drag + 1}")
        pts = self.outline.copy()
        pts[self._drag] = self._to_image(float(event.pos().x()), float(event.pos().y()))
        set_outline(self.session, self.node_id, pts, self.photo_size, text=f"Move outline vertex {self._drag + 1}")
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._drag = None
        self._end()
        self.update()
        event.accept()

    def _end(self) -> None:
        if self._interacting:
            self._interacting = False
            self.session.undo_stack.endMacro()
            self.session.end_interaction()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        i = self.vertex_at(self.device_pos(event))
        if i != self.hover:
            self.hover = i
            self.setCursor(Qt.CursorShape.SizeAllCursor if i is not None else Qt.CursorShape.ArrowCursor)
            self.update()

    def detach(self) -> None:
        self._end()
        try:
            self.session.graph_changed.disconnect(self._graph_changed)
        except (RuntimeError, TypeError):
            pass


# ================================================================================================ the tool
class CutOutTool(QObject):
    """The Cut Out tool of one Viewer: arms the drawing overlay, makes the cut-out, and shows the outline of
    selected Cut Out nodes for editing.

    Attributes:
        feather: the new Cut Out's ``feather`` (px); fill_hole: its ``fill_hole`` (inpaint the hole).
    """

    DRAW = "cutout-draw"

    def __init__(self, viewer: Viewer):
        super().__init__(viewer)
        self.viewer = viewer
        self.session = viewer.session
        self.feather = 2.0
        self.fill_hole = True
        self.source: tuple[str, str] | None = None
        self._edit_names: set[str] = set()
        s = self.session
        s.view.selection_changed.connect(self.refresh)
        s.view.view_changed.connect(self.refresh)
        s.graph_changed.connect(self._graph_changed)
        s.project_replaced.connect(self.cancel)
        viewer.frame_painted.connect(self._painted)

    @property
    def armed(self) -> bool:
        """Whether the drawing overlay is up."""
        return self.viewer.overlay(self.DRAW) is not None

    def _photo_size(self) -> tuple[int, int]:
        return self.viewer._frame_size()

    def arm(self) -> bool:
        """Arms the tool over the still image the Viewer shows. Returns False (with the reason in the status
        bar) when the Viewer shows no still image."""
        s = self.session
        t = s.view.view_target
        if t is None or t.kind != "IMAGE" or s.view.view_result is not None:
            s.message.emit("Cut Out: show a still picture in the Viewer first (select a Load Image node)")
            return False
        self.source = image_source(s, t.node_id, t.port)
        ov = CutOutDrawOverlay(self._done, self.cancel)
        self.viewer.add_overlay(self.DRAW, ov)
        ov.setFocus()
        self.viewer.view.setFocus()
        self.viewer.view.viewport().update()
        s.message.emit(f"Cut Out: draw the outline of the region to cut out of '{self.source[0]}'")
        return True

    def cancel(self) -> None:
        """Disarms the tool."""
        if self.armed:
            self.viewer.remove_overlay(self.DRAW)
            self.viewer.view.viewport().update()

    def _done(self, points: np.ndarray) -> None:
        source, size = self.source, self._photo_size()
        self.cancel()
        if source is None or not self.session.project.has_node(source[0]):
            return
        try:
            make_cut_out(self.session, source, points, size, feather=self.feather, fill_hole=self.fill_hole)
        except ValueError as e:
            self.session.message.emit(str(e))

    # ---------------------------------------------------------------------------------------- editing
    def _graph_changed(self, change) -> None:
        if change.removed or change.links or change.added:
            self.refresh()

    def _painted(self, _frame: int) -> None:
        # the frame size may only be known once a picture is shown
        if not self._edit_names and any(
            self.session.project.has_node(n) and self.session.project.node(n).type == "CutOut"
            for n in self.session.view.selection
        ):
            self.refresh()

    def _space(self, cut: str) -> tuple[np.ndarray, bool, tuple[int, int]] | None:
        """``(image -> item affine, world?, photo size)`` of Cut Out ``cut`` over what the Viewer shows, or None
        when the Viewer shows something else."""
        s = self.session
        t = s.view.view_target
        if t is None or s.view.view_result is not None:
            return None
        src = image_source(s, cut, "background")
        size = self._photo_size()
        if t.kind == "IMAGE" and image_source(s, t.node_id, t.port) == src:
            return np.eye(3), False, size
        if s.project.node(t.node_id).type == "AnimaticRender":
            anim, _ = _animatic_of(s, src)
            if anim != t.node_id:
                return None
            photo = self._source_size(cut)
            if photo is None:
                return None
            st = s.settings
            return fit_matrix(photo[0], photo[1], st.width, st.height, _param(s, anim, "fit")), True, photo
        return None

    def _source_size(self, cut: str) -> tuple[int, int] | None:
        """The photo's size from the last evaluation of the Cut Out's mask, or None."""
        r = self.session.evaluation.last_result
        v = r.values.get(cut, {}).get("mask") if r is not None else None
        return (int(v.shape[2]), int(v.shape[1])) if v is not None and np.ndim(v) == 3 else None

    def refresh(self) -> None:
        """Shows the outline of every selected Cut Out node over the picture (when the Viewer shows its photo,
        its background or its animatic)."""
        s = self.session
        wanted: dict[str, tuple[str, tuple]] = {}
        for nid in s.view.selection:
            if s.project.has_node(nid) and s.project.node(nid).type == "CutOut":
                space = self._space(nid)
                if space is not None:
                    wanted[f"cutout-edit.{nid}"] = (nid, space)
        for name in list(self._edit_names):
            if name not in wanted:
                self.viewer.remove_overlay(name)
                self._edit_names.discard(name)
        for name, (nid, (m, world, size)) in wanted.items():
            ov = self.viewer.overlay(name)
            if isinstance(ov, CutOutEditOverlay) and np.allclose(ov.to_item, m) and ov.uses_camera == world:
                ov.photo_size = size
                continue
            self.viewer.add_overlay(name, CutOutEditOverlay(s, nid, m, world, size))
            self._edit_names.add(name)

    def edit_overlay(self, node_id: str) -> CutOutEditOverlay | None:
        """The outline editor of Cut Out ``node_id``, when it is up."""
        ov = self.viewer.overlay(f"cutout-edit.{node_id}")
        return ov if isinstance(ov, CutOutEditOverlay) else None


def tool_button(parent: QWidget, tool: CutOutTool):
    """The Viewer bar's Cut Out button (C): arms the tool; its menu holds the options of the next cut-out."""
    from PySide6.QtWidgets import QMenu, QToolButton

    from vidstudio.ui.widgets import theme

    b = QToolButton(parent)
    b.setIcon(theme.icon("mdi6.content-cut"))
    b.setText("Cut Out")
    b.setToolTip(
        "Cut Out (C): draw an outline on a still picture (click points, or drag a lasso) to cut that "
        "region out as a sprite with a path to drag"
    )
    b.setAutoRaise(True)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    b.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
    menu = QMenu(b)
    fill = menu.addAction("Fill the Hole Left Behind (inpaint)")
    fill.setCheckable(True)
    fill.setChecked(tool.fill_hole)
    fill.toggled.connect(lambda on: setattr(tool, "fill_hole", bool(on)))
    feathers = menu.addMenu("Feather")
    for px in (0.0, 1.0, 2.0, 4.0, 8.0, 16.0):
        a = feathers.addAction(f"{px:g} px")
        a.setCheckable(True)
        a.setChecked(px == tool.feather)
        a.triggered.connect(
            lambda _c=False, px=px, menu=feathers: (
                setattr(tool, "feather", px),
                [x.setChecked(x.text() == f"{px:g} px") for x in menu.actions()],
            )
        )
    b.setMenu(menu)
    b.clicked.connect(tool.arm)
    return b
