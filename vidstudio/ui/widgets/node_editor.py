"""The node editor: the graph on a ``QGraphicsView`` canvas (NodeGraphQt's item split: node, port, link).

What the user does here goes to the session as one undo step each: add a node from the palette (Tab or
right-click), drag from an output to an input to link (an incompatible port is refused and the reason is
shown where the link was dropped), drag a linked input away to move or remove its link, box-select, move,
delete, duplicate, copy and paste (as a project document on the clipboard), frame all (F), zoom and pan
(wheel, middle button or Alt+drag, trackpad scroll and pinch). Each node shows its validation problems and,
after a run, whether it came from the cache or why it ran. Dropped images become Load Image nodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneHoverEvent,
    QGraphicsView,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from vidstudio.errors import ProjectError
from vidstudio.graph.engine import NodeReport
from vidstudio.graph.model import Link
from vidstudio.graph.types import DESCRIPTIONS
from vidstudio.graph.validate import GraphIssue
from vidstudio.project import clipboard, edits
from vidstudio.ui.state.session import GraphChange, Session
from vidstudio.ui.widgets import theme
from vidstudio.ui.widgets.canvas import PanZoomView
from vidstudio.ui.widgets.colors import category_color, port_color
from vidstudio.ui.widgets.palette import NodePalette

NODE_WIDTH = 196.0
HEADER = 26.0
ROW = 21.0
FOOTER = 20.0
PORT_RADIUS = 5.5
PORT_HIT = 10.0


class PortItem(QGraphicsItem):
    """A port: a coloured dot on the node's edge (outputs right, inputs left).

    Attributes:
        node_id, name, port_type: what it is; is_output: its side; help: its declaration's help.
    """

    def __init__(
        self,
        parent: NodeItem,
        name: str,
        port_type: str,
        is_output: bool,
        help_text: str = "",
        multi: bool = False,
        optional: bool = False,
    ):
        super().__init__(parent)
        self.node_item = parent
        self.name = name
        self.port_type = port_type
        self.is_output = is_output
        self.dimmed = False
        self._hover = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        kind = "output" if is_output else "input"
        extra = " (several links)" if multi else " (optional)" if optional else ""
        desc = DESCRIPTIONS.get(port_type, "a plugin type")
        self.setToolTip(
            f"<b>{name}</b>: {port_type} {kind}{extra}<br>{help_text}<br><span style='color:#999'>{desc}</span>"
        )
        self.setZValue(2)

    @property
    def node_id(self) -> str:
        """The id of the node this port belongs to."""
        return self.node_item.node_id

    def boundingRect(self) -> QRectF:
        return QRectF(-PORT_HIT, -PORT_HIT, 2 * PORT_HIT, 2 * PORT_HIT)

    def shape(self) -> QPainterPath:
        p = QPainterPath()
        p.addEllipse(QPointF(0, 0), PORT_HIT, PORT_HIT)
        return p

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = QColor(port_color(self.port_type))
        if self.dimmed:
            c.setAlpha(60)
        r = PORT_RADIUS + (1.5 if self._hover else 0.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#111111") if not self.dimmed else QColor(0, 0, 0, 60), 1.5))
        painter.setBrush(c)
        painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hover = False
        self.update()

    def scene_center(self) -> QPointF:
        """The port's centre in scene coordinates."""
        return self.scenePos()


class NodeItem(QGraphicsObject):
    """A node: header (category colour, title, id), output rows, input rows and a status line."""

    def __init__(self, editor: NodeEditor, node_id: str):
        super().__init__()
        self.editor = editor
        self.node_id = node_id
        self.title = node_id
        self.type_id = ""
        self.category = ""
        self.available = True
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.issues: list[GraphIssue] = []
        self.status: NodeReport | None = None
        self.viewed = False
        self.pinned = False
        self._height = HEADER + FOOTER
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setZValue(1)

    # ------------------------------------------------------------------------------------------ content
    def rebuild_ports(self, session: Session) -> None:
        """Creates the port items from the node type's declarations (or, for an unknown type, from its links)."""
        for p in [*self.inputs.values(), *self.outputs.values()]:
            p.setParentItem(None)
            if p.scene() is not None:
                p.scene().removeItem(p)
        self.inputs, self.outputs = {}, {}
        node = session.project.node(self.node_id)
        cls = session.registry.find(node.type)
        self.type_id = node.type
        self.available = cls is not None
        if cls is not None:
            self.title = node.title or cls.title or node.type
            self.category = cls.category
            outs = [(o.name, str(o.type), o.help, False, False) for o in cls.outputs]
            ins = [(i.name, str(i.type), i.help, i.multi, i.optional) for i in cls.inputs]
        else:
            reason = session.registry.unavailable_reason(node.type) or f"unknown node type {node.type!r}"
            self.title = node.title or node.type
            self.category = ""
            outs = [
                (p, "ANY", reason, False, False)
                for p in dict.fromkeys(l.source_port for l in session.project.links_from(self.node_id))
            ]
            ins = [
                (p, "ANY", reason, False, False)
                for p in dict.fromkeys(l.target_port for l in session.project.links_into(self.node_id))
            ]
        y = HEADER + ROW / 2
        for name, t, h, multi, opt in outs:
            item = PortItem(self, name, t, True, h, multi, opt)
            item.setPos(NODE_WIDTH, y)
            self.outputs[name] = item
            y += ROW
        for name, t, h, multi, opt in ins:
            item = PortItem(self, name, t, False, h, multi, opt)
            item.setPos(0, y)
            self.inputs[name] = item
            y += ROW
        self.prepareGeometryChange()
        self._height = HEADER + ROW * (len(outs) + len(ins)) + FOOTER + 4
        tip = f"<b>{self.title}</b> ({self.type_id})"
        if cls is not None and cls.description:
            tip += f"<br>{cls.description}"
        self.setToolTip(tip)
        self.update()

    def set_state(self, issues: list[GraphIssue], status: NodeReport | None, viewed: bool, pinned: bool) -> None:
        """Updates the status line (problems, cached / ran and why) and the viewed badge."""
        self.issues, self.status, self.viewed, self.pinned = issues, status, viewed, pinned
        self.update()

    def status_text(self) -> tuple[str, str, str]:
        """``(text, colour, tooltip)`` of the status line."""
        errors = [i for i in self.issues if i.severity == "error"]
        warnings = [i for i in self.issues if i.severity != "error"]
        if not self.available:
            return "⚠ type unavailable", theme.ERROR, "<br>".join(str(i) for i in self.issues)
        if errors:
            first = errors[0]
            text = f"⚠ {first.where + ': ' if first.where else ''}{first.message}"
            more = f" (+{len(errors) - 1})" if len(errors) > 1 else ""
            return text + more, theme.ERROR, "<br>".join(str(i) for i in self.issues)
        if self.status is not None:
            s = self.status
            tip = "<br>".join(str(w) for w in warnings)
            if s.status == "cached":
                return (
                    "● cached",
                    theme.CACHED,
                    ("from the cache: nothing it depends on changed" + ("<br>" + tip if tip else "")),
                )
            why = "; ".join(s.reasons) or "ran"
            tip2 = (
                f"ran in {s.seconds:.2f} s because: "
                + "; ".join(s.reasons)
                + "".join(f"<br>note: {n}" for n in s.notes)
            )
            return f"● ran: {why}", theme.OK, tip2 + ("<br>" + tip if tip else "")
        if warnings:
            return f"⚠ {warnings[0].message}", theme.WARNING, "<br>".join(str(w) for w in warnings)
        return "not evaluated", theme.TEXT_DIM, "not needed for the picture in the Viewer yet"

    # ------------------------------------------------------------------------------------------ painting
    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, NODE_WIDTH + 4, self._height + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = QRectF(0, 0, NODE_WIDTH, self._height)
        errors = any(i.severity == "error" for i in self.issues) or not self.available
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 90))
        painter.drawRoundedRect(body.translated(2, 3), 6, 6)
        painter.setBrush(QColor("#303030"))
        painter.drawRoundedRect(body, 6, 6)
        head = QPainterPath()
        head.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER), 6, 6)
        head.addRect(QRectF(0, HEADER - 6, NODE_WIDTH, 6))
        painter.setBrush(QColor(category_color(self.category)) if self.available else QColor("#5a3030"))
        painter.drawPath(head.simplified())
        # outline: selection, error, viewed
        if self.isSelected():
            pen = QPen(QColor(theme.ACCENT), 2.0)
        elif errors:
            pen = QPen(QColor(theme.ERROR), 1.6)
        else:
            pen = QPen(QColor("#151515"), 1.0)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(body, 6, 6)
        # header text
        f = QFont(painter.font())
        f.setPointSizeF(9.5)
        f.setBold(True)
        painter.setFont(f)
        fm = QFontMetricsF(f)
        painter.setPen(QColor("#f2f2f2"))
        badge = 18.0 if self.viewed else 0.0
        id_font = QFont(f)
        id_font.setBold(False)
        id_font.setPointSizeF(8.0)
        id_w = min(QFontMetricsF(id_font).horizontalAdvance(self.node_id) + 6, 70)
        title = fm.elidedText(self.title, Qt.TextElideMode.ElideRight, NODE_WIDTH - 16 - id_w - badge)
        painter.drawText(
            QRectF(8, 0, NODE_WIDTH - 16, HEADER), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title
        )
        painter.setFont(id_font)
        painter.setPen(QColor(255, 255, 255, 150))
        idt = QFontMetricsF(id_font).elidedText(self.node_id, Qt.TextElideMode.ElideMiddle, 66)
        painter.drawText(
            QRectF(8, 0, NODE_WIDTH - 14 - badge, HEADER),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            idt,
        )
        if self.viewed:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.ACCENT) if self.pinned else QColor(255, 255, 255, 200))
            cx, cy = NODE_WIDTH - 11, HEADER / 2
            eye = QPainterPath()
            eye.moveTo(cx - 7, cy)
            eye.quadTo(cx, cy - 7, cx + 7, cy)
            eye.quadTo(cx, cy + 7, cx - 7, cy)
            painter.drawPath(eye)
            painter.setBrush(QColor("#202020"))
            painter.drawEllipse(QPointF(cx, cy), 2.4, 2.4)
        # port labels
        lf = QFont(painter.font())
        lf.setPointSizeF(8.5)
        painter.setFont(lf)
        painter.setPen(QColor(theme.TEXT))
        for name, port in self.outputs.items():
            r = QRectF(10, port.y() - ROW / 2, NODE_WIDTH - 20, ROW)
            painter.drawText(r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
        for name, port in self.inputs.items():
            r = QRectF(12, port.y() - ROW / 2, NODE_WIDTH - 20, ROW)
            painter.drawText(r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        # status line
        text, color, _tip = self.status_text()
        sf = QFont(lf)
        sf.setPointSizeF(8.0)
        painter.setFont(sf)
        painter.setPen(QColor("#3a3a3a"))
        painter.drawLine(QPointF(1, self._height - FOOTER - 1), QPointF(NODE_WIDTH - 1, self._height - FOOTER - 1))
        painter.setPen(QColor(color))
        el = QFontMetricsF(sf).elidedText(text, Qt.TextElideMode.ElideRight, NODE_WIDTH - 14)
        painter.drawText(
            QRectF(7, self._height - FOOTER, NODE_WIDTH - 14, FOOTER - 1),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            el,
        )

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if event.pos().y() > self._height - FOOTER:
            self.setToolTip(self.status_text()[2] or self.title)
        else:
            node_tip = f"<b>{self.title}</b> ({self.type_id}, id {self.node_id})"
            self.setToolTip(node_tip)
        super().hoverMoveEvent(event)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            self.editor.update_links_of(self.node_id)
        return super().itemChange(change, value)


class LinkItem(QGraphicsPathItem):
    """A link: a horizontal-tangent cubic from an output to an input, in the output's type colour."""

    def __init__(self, link: Link, src: PortItem, dst: PortItem, problem: str = ""):
        super().__init__()
        self.link = link
        self.src = src
        self.dst = dst
        self.problem = problem
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.setToolTip(
            f"{link.source} → {link.target}"
            + (f"<br><span style='color:{theme.ERROR}'>{problem}</span>" if problem else "")
        )
        self.update_path()

    @staticmethod
    def curve(a: QPointF, b: QPointF) -> QPainterPath:
        """The link's path from ``a`` to ``b`` (scene coordinates)."""
        dx = max(abs(b.x() - a.x()) * 0.5, 40.0)
        p = QPainterPath(a)
        p.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
        return p

    def update_path(self) -> None:
        """Redraws the link's curve between its two ports' current scene positions."""
        self.setPath(self.curve(self.src.scene_center(), self.dst.scene_center()))

    def shape(self) -> QPainterPath:
        s = QPainterPathStroker()
        s.setWidth(10)
        return s.createStroke(self.path())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = (
            QColor(theme.ACCENT)
            if self.isSelected()
            else QColor(theme.ERROR)
            if self.problem
            else QColor(port_color(self.src.port_type))
        )
        pen = QPen(color, 3.0 if self.isSelected() else 2.2)
        if self.problem:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())


class CanvasMessage(QGraphicsItem):
    """A short message in the canvas (a refused link's reason): a dark box with the text on two lines
    (what, then why), drawn at screen size whatever the zoom."""

    def __init__(self, text: str, error: bool = True):
        super().__init__()
        self.text = text
        self.error = error
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._font = QFont()
        self._font.setPointSizeF(9.5)
        head, _, why = text.partition(": ")
        self._lines = [head + ":", why] if why else [text]
        fm = QFontMetricsF(self._font)
        self._w = max(fm.horizontalAdvance(line) for line in self._lines) + 20
        self._h = fm.height() * len(self._lines) + 12

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._w, self._h)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(theme.ERROR if self.error else theme.BORDER), 1.2))
        painter.setBrush(QColor(24, 18, 18, 235) if self.error else QColor(24, 24, 24, 235))
        painter.drawRoundedRect(self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        painter.setFont(self._font)
        fm = QFontMetricsF(self._font)
        y = 6 + fm.ascent()
        for k, line in enumerate(self._lines):
            painter.setPen(
                QColor(theme.TEXT if (k == 0 and len(self._lines) > 1) else (theme.ERROR if self.error else theme.TEXT))
            )
            painter.drawText(QPointF(10, y), line)
            y += fm.height()


class _LinkDrag:
    """State of a link being dragged from a port."""

    def __init__(self, port: PortItem, detached: Link | None, path: QGraphicsPathItem):
        self.port = port  # the fixed end
        self.detached = detached  # a link picked up from an input, removed unless dropped back
        self.path = path


class NodeEditor(PanZoomView):
    """The node editor view of a :class:`~vidstudio.ui.state.session.Session`.

    Signals: ``open_requested(path)`` when a project or VidStudio MP4 is dropped.

    Attributes:
        palette: the :class:`~vidstudio.ui.widgets.palette.NodePalette` popup.
        actions_by_name: the editor's actions (``delete``, ``duplicate``, ``copy``, ``cut``, ``paste``,
            ``select_all``, ``frame_all``, ``add_node``), which the main window also puts in its menus.
    """

    open_requested = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("NodeEditor")
        self.scene_ = QGraphicsScene(self)
        self.scene_.setSceneRect(-50000, -50000, 100000, 100000)
        self.setScene(self.scene_)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.nodes: dict[str, NodeItem] = {}
        self.links: list[LinkItem] = []
        self._drag: _LinkDrag | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        self._syncing = False
        self._pending_link: tuple[PortItem, QPointF] | None = None
        self._messages: list[CanvasMessage] = []
        self.palette = NodePalette(session.registry, self)
        self.palette.chosen.connect(self._palette_chosen)
        self._palette_scene_pos = QPointF(0, 0)
        self._build_actions()
        self.scene_.selectionChanged.connect(self._scene_selection_changed)
        session.project_replaced.connect(self.rebuild)
        session.graph_changed.connect(self._graph_changed)
        session.view.selection_changed.connect(self._session_selection_changed)
        session.evaluation.evaluated.connect(lambda _r: self.refresh_states())
        session.view.view_changed.connect(self.refresh_states)
        session.registry_changed.connect(self._registry_changed)
        self.rebuild()
        QTimer.singleShot(0, self, self.frame_all)

    # ================================================================================== actions
    def _build_actions(self) -> None:
        def act(name: str, text: str, keys, slot, icon: str | None = None) -> QAction:
            a = QAction(text, self)
            if icon:
                a.setIcon(theme.icon(icon))
            seqs = keys if isinstance(keys, list) else [keys]
            a.setShortcuts([QKeySequence(k) for k in seqs if k is not None])
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.actions_by_name = {
            "add_node": act("add_node", "Add Node…", None, self.open_palette_at_cursor, "mdi6.plus-box-outline"),
            "delete": act(
                "delete",
                "Delete",
                [QKeySequence.StandardKey.Delete, "Backspace"],
                self.delete_selected,
                "mdi6.delete-outline",
            ),
            "duplicate": act("duplicate", "Duplicate", "Ctrl+D", self.duplicate_selected, "mdi6.content-duplicate"),
            "copy": act("copy", "Copy", QKeySequence.StandardKey.Copy, self.copy_selected, "mdi6.content-copy"),
            "cut": act("cut", "Cut", QKeySequence.StandardKey.Cut, self.cut_selected, "mdi6.content-cut"),
            "paste": act("paste", "Paste", QKeySequence.StandardKey.Paste, self.paste, "mdi6.content-paste"),
            "select_all": act("select_all", "Select All", QKeySequence.StandardKey.SelectAll, self.select_all),
            "frame_all": act("frame_all", "Frame All", "F", self.frame_all, "mdi6.fit-to-screen-outline"),
        }

    # ================================================================================== building
    def rebuild(self) -> None:
        """Recreates every item from the document."""
        self._syncing = True
        try:
            self.scene_.clear()
            self._messages = []
            self.nodes, self.links = {}, []
            for n in self.session.project.nodes:
                self._add_item(n.id)
            self._rebuild_links()
            self._session_selection_changed()
        finally:
            self._syncing = False
        self.refresh_states()

    def _registry_changed(self) -> None:
        """New node types (a plugin enabled, disabled or installed): the palette lists them and every node
        shows its ports again (a node whose plugin went away keeps its links and says why)."""
        self.palette.registry = self.session.registry
        self.rebuild()

    def _add_item(self, node_id: str) -> NodeItem:
        item = NodeItem(self, node_id)
        self.nodes[node_id] = item
        self.scene_.addItem(item)
        item.rebuild_ports(self.session)
        x, y = self.session.project.node(node_id).position
        item.setPos(x, y)
        return item

    def _rebuild_links(self) -> None:
        for l in self.links:
            self.scene_.removeItem(l)
        self.links = []
        problems: dict[str, str] = {}
        for issue in self.session.evaluation.issues:
            # a mismatch is reported on the target node as "port 'name'"
            if issue.code == "type-mismatch" and issue.node_id and issue.where.count("'") == 2:
                problems[f"{issue.node_id}.{issue.where.split(chr(39))[1]}"] = issue.message
        for l in self.session.project.links:
            src = self.nodes.get(l.source_node)
            dst = self.nodes.get(l.target_node)
            if src is None or dst is None:
                continue
            sp = src.outputs.get(l.source_port)
            dp = dst.inputs.get(l.target_port)
            if sp is None or dp is None:
                continue
            item = LinkItem(l, sp, dp, problems.get(l.target, ""))
            self.scene_.addItem(item)
            self.links.append(item)

    def _graph_changed(self, change: GraphChange) -> None:
        self._syncing = True
        try:
            for nid in change.removed:
                item = self.nodes.pop(nid, None)
                if item is not None:
                    self.scene_.removeItem(item)
            for nid in change.nodes - change.removed:
                if not self.session.project.has_node(nid):
                    continue
                item = self.nodes.get(nid)
                if item is None:
                    self._add_item(nid)
                    continue
                node = self.session.project.node(nid)
                if (item.pos().x(), item.pos().y()) != tuple(node.position):
                    item.setPos(*node.position)
                cls = self.session.registry.find(node.type)
                title = node.title or (cls.title if cls is not None else "") or node.type
                if node.type != item.type_id or title != item.title or not item.available:
                    item.rebuild_ports(self.session)  # only when what it shows changed (not on every value)
                else:
                    item.update()
            if change.links:
                for item in self.nodes.values():
                    if not item.available:  # an unknown type's ports come from its links
                        item.rebuild_ports(self.session)
            if (
                change.links
                or change.added
                or change.removed
                or any(not self.nodes[n].available for n in change.nodes if n in self.nodes)
            ):
                self._rebuild_links()
            else:
                for nid in change.nodes:
                    self.update_links_of(nid)
            self._session_selection_changed()
        finally:
            self._syncing = False
        self.refresh_states()

    def refresh_states(self) -> None:
        """Updates every node's status line and viewed badge from the session."""
        s = self.session
        viewed = s.view.view_target.node_id if (s.view.view_target is not None and s.view.view_result is None) else None
        for nid, item in self.nodes.items():
            item.set_state(
                s.evaluation.node_issues(nid), s.evaluation.node_status.get(nid), nid == viewed, nid == s.view.pinned
            )
        if any(l.problem for l in self.links) or any(i.code == "type-mismatch" for i in s.evaluation.issues):
            self._rebuild_links()

    def update_links_of(self, node_id: str) -> None:
        """Re-routes the links of a node that moves."""
        for l in self.links:
            if l.link.source_node == node_id or l.link.target_node == node_id:
                l.update_path()

    # ================================================================================== selection
    def selected_ids(self) -> list[str]:
        """Ids of the selected nodes, in document order."""
        sel = {i.node_id for i in self.scene_.selectedItems() if isinstance(i, NodeItem)}
        return [n.id for n in self.session.project.nodes if n.id in sel]

    def _scene_selection_changed(self) -> None:
        if self._syncing:
            return
        self.session.view.set_selection(self.selected_ids())

    def _session_selection_changed(self) -> None:
        was = self._syncing
        self._syncing = True
        try:
            sel = set(self.session.view.selection)
            for nid, item in self.nodes.items():
                if item.isSelected() != (nid in sel):
                    item.setSelected(nid in sel)
        finally:
            self._syncing = was

    def select_all(self) -> None:
        """Selects every node."""
        self.session.view.set_selection(list(self.nodes))

    # ================================================================================== editing
    def delete_selected(self) -> None:
        """Deletes the selected nodes and links (one undo step each)."""
        links = [i.link for i in self.scene_.selectedItems() if isinstance(i, LinkItem)]
        ids = self.selected_ids()
        if ids:
            self.session.remove_nodes(ids)
        if links:
            self.session.disconnect_links(links)

    def duplicate_selected(self) -> None:
        """Duplicates the selected nodes, with the links among them, and selects the copies."""
        ids = self.selected_ids()
        if ids:
            self.session.duplicate(ids)

    def copy_selected(self) -> bool:
        """Puts the selected nodes on the clipboard as a project document (text and a VidStudio MIME type)."""
        ids = self.selected_ids()
        if not ids:
            return False
        text = self.session.copy_text(ids)
        mime = QMimeData()
        mime.setText(text)
        mime.setData(clipboard.CLIPBOARD_MIME, text.encode("utf-8"))
        QGuiApplication.clipboard().setMimeData(mime)
        self.session.message.emit(f"copied {len(ids)} node{'s' if len(ids) > 1 else ''}")
        return True

    def cut_selected(self) -> None:
        """Copy, then delete."""
        if self.copy_selected():
            self.session.remove_nodes(self.selected_ids())

    def paste(self) -> list[str]:
        """Pastes nodes from the clipboard at the mouse (or beside the originals); shows why when it cannot."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return []
        if mime.hasFormat(clipboard.CLIPBOARD_MIME):
            text = bytes(mime.data(clipboard.CLIPBOARD_MIME).data()).decode("utf-8")
        else:
            text = mime.text()
        if not text.strip():
            return []
        at = self._cursor_scene_pos() if self.underMouse() else None
        try:
            return self.session.paste(text, at=(at.x(), at.y()) if at is not None else None)
        except ProjectError as e:
            self.session.message.emit(f"cannot paste: {e}")
            return []

    def frame_all(self) -> None:
        """Zooms and scrolls so that every node is in view (F)."""
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isNull():
            rect = QRectF(-200, -150, 400, 300)
        rect.adjust(-60, -60, 60, 60)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        s = self.transform().m11()
        if s > 1.25:
            self.scale(1.25 / s, 1.25 / s)
            self.centerOn(rect.center())

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zooms by ``factor`` about ``anchor`` (viewport coordinates; default the centre), within 10 %..400 %."""
        s = self.transform().m11()
        factor = min(max(factor, 0.1 / s), 4.0 / s)
        if anchor is None:
            self.scale(factor, factor)
            return
        self.scale_about(factor, anchor)

    @property
    def zoom(self) -> float:
        """The current scale (1: 100 %)."""
        return self.transform().m11()

    # ================================================================================== palette
    def _cursor_scene_pos(self) -> QPointF:
        from PySide6.QtGui import QCursor

        vp = self.viewport().mapFromGlobal(QCursor.pos())
        if not self.viewport().rect().contains(vp):
            vp = self.viewport().rect().center()
        return self.mapToScene(vp)

    def open_palette(self, scene_pos: QPointF, port_filter: tuple[str, bool] | None = None) -> NodePalette:
        """Opens the node palette; the chosen node is placed at ``scene_pos``."""
        self._palette_scene_pos = scene_pos
        self.palette.open_at(self.mapToGlobal(self.mapFromScene(scene_pos)), port_filter)
        return self.palette

    def open_palette_at_cursor(self) -> NodePalette:
        """Tab: the palette at the mouse (or the middle of the view)."""
        self._pending_link = None
        return self.open_palette(self._cursor_scene_pos())

    def _palette_chosen(self, type_id: str) -> None:
        pos = self._palette_scene_pos
        pending, self._pending_link = self._pending_link, None
        try:
            if pending is not None:
                self.session.undo_stack.beginMacro("Add and link node")
            nid = self.session.add_node(type_id, (pos.x() - 10, pos.y() - HEADER / 2))
            if pending is not None:
                port, _ = pending
                self._link_new_node(port, nid)
        except ValueError as e:
            self.session.message.emit(str(e))
        finally:
            if pending is not None:
                self.session.undo_stack.endMacro()

    def _link_new_node(self, port: PortItem, nid: str) -> None:
        cls = self.session.node_class(nid)
        if cls is None:
            return
        if port.is_output:
            for i in cls.inputs:
                if self.session.connect_ports(port.node_id, port.name, nid, i.name).ok:
                    return
        else:
            for o in cls.outputs:
                if self.session.connect_ports(nid, o.name, port.node_id, port.name).ok:
                    return

    # ================================================================================== mouse
    def port_at(self, view_pos, exclude: PortItem | None = None) -> PortItem | None:
        """The port under (or within a few pixels of) a viewport position."""
        sp = self.mapToScene(view_pos)
        best, best_d = None, (PORT_HIT + 4) / max(self.zoom, 0.2)
        for item in self.scene_.items(QRectF(sp.x() - best_d, sp.y() - best_d, 2 * best_d, 2 * best_d)):
            if isinstance(item, PortItem) and item is not exclude:
                d = (item.scene_center() - sp).manhattanLength()
                if d < best_d:
                    best, best_d = item, d
        return best

    def mousePressEvent(self, event) -> None:
        if self.start_pan(event):
            return
        if event.button() == Qt.MouseButton.LeftButton:
            port = self.port_at(event.position().toPoint())
            if port is not None:
                self._start_link_drag(port, event.position())
                event.accept()
                return
            self._press_positions = {nid: (it.pos().x(), it.pos().y()) for nid, it in self.nodes.items()}
        if event.button() == Qt.MouseButton.RightButton:
            event.accept()
            return
        super().mousePressEvent(event)

    def _start_link_drag(self, port: PortItem, pos: QPointF) -> None:
        detached = None
        fixed = port
        if not port.is_output:
            existing = self.session.project.links_into(port.node_id, port.name)
            if existing:
                detached = existing[-1]
                src_item = self.nodes.get(detached.source_node)
                fixed = src_item.outputs.get(detached.source_port) if src_item else port
                fixed = fixed or port
        path = QGraphicsPathItem()
        path.setPen(QPen(QColor(port_color(fixed.port_type)), 2.2, Qt.PenStyle.DashLine))
        path.setZValue(5)
        self.scene_.addItem(path)
        self._drag = _LinkDrag(fixed, detached, path)
        if detached is not None:
            for l in self.links:
                if l.link.source == detached.source and l.link.target == detached.target:
                    l.setVisible(False)
        self._dim_ports(fixed)
        self._update_drag(pos)

    def _dim_ports(self, fixed: PortItem | None) -> None:
        from vidstudio.graph.types import can_connect

        for item in self.nodes.values():
            for p in [*item.inputs.values(), *item.outputs.values()]:
                if fixed is None:
                    p.dimmed = False
                elif p.is_output == fixed.is_output or p.node_item is fixed.node_item:
                    p.dimmed = True
                else:
                    o, i = (fixed, p) if fixed.is_output else (p, fixed)
                    p.dimmed = not can_connect(o.port_type, i.port_type)[0]
                p.update()

    def _update_drag(self, pos: QPointF) -> None:
        assert self._drag is not None
        a = self._drag.port.scene_center()
        target = self.port_at(pos.toPoint(), exclude=self._drag.port)
        b = target.scene_center() if target is not None else self.mapToScene(pos.toPoint())
        path = LinkItem.curve(a, b) if self._drag.port.is_output else LinkItem.curve(b, a)
        self._drag.path.setPath(path)

    def _finish_link_drag(self, pos: QPointF) -> None:
        drag, self._drag = self._drag, None
        assert drag is not None
        self.scene_.removeItem(drag.path)
        self._dim_ports(None)
        for l in self.links:
            l.setVisible(True)
        target = self.port_at(pos.toPoint(), exclude=drag.port)
        fixed = drag.port
        s = self.session
        if target is None:
            if drag.detached is not None:
                s.disconnect_links([drag.detached])
            else:
                # Dropped on empty space: offer the node types that can take this link, Blender-style.
                self._pending_link = (fixed, self.mapToScene(pos.toPoint()))
                self._palette_scene_pos = self.mapToScene(pos.toPoint())
                self.palette.open_at(self.mapToGlobal(pos.toPoint()), (fixed.port_type, fixed.is_output))
            return
        if target.is_output == fixed.is_output:
            self.show_message("link an output to an input", self.mapToScene(pos.toPoint()))
            return
        src, dst = (fixed, target) if fixed.is_output else (target, fixed)
        if (
            drag.detached is not None
            and drag.detached.target == f"{dst.node_id}.{dst.name}"
            and drag.detached.source == f"{src.node_id}.{src.name}"
        ):
            return  # dropped back where it was
        check = edits.check_link(s.project, s.registry, src.node_id, src.name, dst.node_id, dst.name)
        if not check.ok:
            self.show_message(check.reason, self.mapToScene(pos.toPoint()))
            s.message.emit(check.reason)
            return
        if drag.detached is not None:
            s.undo_stack.beginMacro(f"Relink {drag.detached.source} → {dst.node_id}.{dst.name}")
            s.disconnect_links([drag.detached])
            s.connect_ports(src.node_id, src.name, dst.node_id, dst.name)
            s.undo_stack.endMacro()
        else:
            s.connect_ports(src.node_id, src.name, dst.node_id, dst.name)

    def mouseMoveEvent(self, event) -> None:
        if self.continue_pan(event):
            return
        if self._drag is not None:
            self._update_drag(event.position())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.end_pan(event):
            return
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_link_drag(event.position())
            event.accept()
            return
        if event.button() == Qt.MouseButton.RightButton:
            self._context_menu(event.position())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._press_positions:
            moved = {}
            for nid, item in self.nodes.items():
                p = (item.pos().x(), item.pos().y())
                if nid in self._press_positions and self._press_positions[nid] != p:
                    moved[nid] = (round(p[0], 1), round(p[1], 1))
            self._press_positions = {}
            if moved:
                self.session.move_nodes(moved)

    def mouseDoubleClickEvent(self, event) -> None:
        item = self.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()
        if isinstance(item, NodeItem):
            self.session.view.pin_view(None if self.session.view.pinned == item.node_id else item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _context_menu(self, pos: QPointF) -> None:
        item = self.itemAt(pos.toPoint())
        while item is not None and not isinstance(item, (NodeItem, LinkItem)):
            item = item.parentItem()
        if item is None:
            self._pending_link = None
            self.open_palette(self.mapToScene(pos.toPoint()))
            return
        menu = QMenu(self)
        if isinstance(item, LinkItem):
            menu.addAction("Delete Link", lambda: self.session.disconnect_links([item.link]))
        else:
            if not item.isSelected():
                self.session.view.set_selection([item.node_id])
            nid = item.node_id
            pinned = self.session.view.pinned == nid
            menu.addAction(
                "Follow Selection in Viewer" if pinned else "View This Node",
                lambda: self.session.view.pin_view(None if pinned else nid),
            )
            menu.addSeparator()
            for name in ("duplicate", "copy", "cut", "delete"):
                menu.addAction(self.actions_by_name[name])
            links = self.session.project.links_into(nid)
            if links:
                menu.addAction("Disconnect Inputs", lambda: self.session.disconnect_links(links))
        menu.popup(self.mapToGlobal(pos.toPoint()))

    # ================================================================================== keys
    def event(self, event) -> bool:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.open_palette_at_cursor()
            return True
        return super().event(event)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, QColor("#1e1e1e"))
        if self.zoom < 0.35:
            return
        for step, color in ((20, QColor("#252525")), (100, QColor("#2d2d2d"))):
            left = int(rect.left()) - (int(rect.left()) % step)
            top = int(rect.top()) - (int(rect.top()) % step)
            painter.setPen(QPen(color, 0))
            x = left
            while x < rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += step
            y = top
            while y < rect.bottom():
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                y += step

    # ================================================================================== messages
    def show_message(self, text: str, scene_pos: QPointF, error: bool = True, ms: int = 3500) -> CanvasMessage:
        """Shows ``text`` in the canvas near ``scene_pos`` for ``ms`` milliseconds (a refused link's reason),
        kept inside the visible part of the canvas."""
        item = CanvasMessage(text, error)
        item.setZValue(20)
        self.scene_.addItem(item)
        vp = self.mapFromScene(scene_pos) + QPoint(14, 10)
        r = item.boundingRect()
        area = self.viewport().rect()
        x = min(vp.x(), area.right() - int(r.width()) - 6)
        y = min(vp.y(), area.bottom() - int(r.height()) - 6)
        item.setPos(self.mapToScene(QPoint(max(x, 6), max(y, 6))))
        self._messages.append(item)
        QTimer.singleShot(ms, self, lambda: self._drop_message(item))
        return item

    def _drop_message(self, item: CanvasMessage) -> None:
        if item in self._messages:
            self._messages.remove(item)
            if item.scene() is self.scene_:
                self.scene_.removeItem(item)

    @property
    def messages(self) -> list[str]:
        """Texts of the messages shown in the canvas now."""
        return [m.text for m in self._messages]

    # ================================================================================== drops
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        if not event.mimeData().hasUrls():
            return super().dropEvent(event)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.drop_files(paths, self.mapToScene(event.position().toPoint()))

    def drop_files(self, paths: list[Path], scene_pos: QPointF) -> list[str]:
        """Handles dropped files: images, videos and sound files become Load Image, Load Video and Load Audio
        nodes at ``scene_pos`` (one undo step); a project, or a video that embeds one, asks the window to open
        it. Returns the new node ids."""
        kinds = {p: edits.dropped_file_kind(p) for p in paths}
        media = [p for p in paths if kinds[p][0] == "node" and kinds[p][1] in self.session.registry]
        projects = [p for p in paths if kinds[p][0] == "project"]
        others = [p for p in paths if p not in media and p not in projects]
        if others:
            self.session.message.emit(
                f"cannot use {others[0].name}: drop an image, a video, a sound file or a .vidproj"
            )
        ids: list[str] = []
        if media:
            from vidstudio.graph.model import NodeInstance

            taken = set(self.session.project.iter_ids())
            plan = clipboard.PastePlan()
            for k, p in enumerate(media):
                nid = edits.unique_id(edits.node_id_base(p.stem) or "media", taken)
                taken.add(nid)
                path = edits.relative_to_project(p, self.session.project.project_dir)
                plan.nodes.append(
                    NodeInstance(
                        id=nid,
                        type=kinds[p][1],
                        params={"path": path},
                        position=(scene_pos.x() + 24 * k, scene_pos.y() + 90 * k),
                    )
                )
            types = {kinds[p][1] for p in media}
            one, many = {
                "LoadImage": ("image", "images"),
                "LoadVideo": ("video", "videos"),
                "LoadAudio": ("sound file", "sound files"),
            }[kinds[media[0]][1]]
            label = f"Drop {one}" if len(media) == 1 else f"Drop {len(media)} {many if len(types) == 1 else 'files'}"
            ids = self.session.add_plan(plan, label)
        if projects:
            self.open_requested.emit(str(projects[0]))
        return ids
