"""Inspector editors for the motion documents: a Trajectory node's ``paths`` and a Physics Scene node's
``bodies`` (both ``json`` parameters), instead of raw JSON.

* :class:`PathsEditor`: the list of paths (colour, name, frames, number of points) with New / Duplicate /
  Delete, and the chosen path's name, colour, start and end frame, interpolation, timing, easing, rotation
  and scale (a number, or an F-curve keyed at the playhead with the diamond button), object size, what
  happens outside its frames, and its control points (x, y and time key) in a table.
* :class:`BodiesEditor`: the list of bodies with Ball / Box / Duplicate / Delete, and the chosen body's id,
  name, kind, shape and size, mass, elasticity, friction, start position, velocity, angle, spin, the track it
  follows and its colour.

Both keep the rest of the document (anchors, hidden ranges, vertices, unknown keys) and show it in a raw JSON
box under the form. They share the session's :class:`~vidstudio.ui.state.motion_edit.EditState` with the Viewer:
choosing a path here makes it the one the Viewer edits, and picking a point there selects its row here.
Each change is one undo step named after what changed.

Registered for parameters whose validator is the trajectory document's or the bodies list's
(:func:`register_motion_editors`; :mod:`vidstudio.ui.widgets.inspector` calls it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

from vidstudio.graph.node import Param
from vidstudio.motion import pathedit
from vidstudio.motion.curves import FCurve, Keyframe
from vidstudio.motion.easing import FAMILIES
from vidstudio.motion.physics import validate_bodies
from vidstudio.motion.trajectory import validate_document
from vidstudio.ui.state.motion_edit import EditState
from vidstudio.ui.widgets import theme
from vidstudio.ui.widgets.param_editors import ColorEditor, JsonEditor, ParamEditor, register_param_editor

INTERPOLATIONS = (
    ("catmull_rom", "Catmull-Rom (through the points)"),
    ("bezier", "Bezier (with handles)"),
    ("bspline", "B-spline (smooth, near the points)"),
    ("linear", "Linear"),
)
TIMINGS = (("constant_speed", "Constant speed"), ("keys", "Keyed frames (points with a frame)"))
EASE_MODES = (("in_out", "in-out"), ("in", "in"), ("out", "out"))
ROTATIONS = (("fixed", "Fixed angle"), ("tangent", "Along the path (+ angle)"), ("keyed", "Keyed angle"))
OUTSIDE = (("hold", "Hold (stay visible)"), ("hide", "Hide"))
KINDS = (("dynamic", "Dynamic"), ("kinematic", "Kinematic"), ("static", "Static"))
SHAPES = (("circle", "Circle"), ("box", "Box"), ("polygon", "Polygon"), ("segment", "Segment"))


def _swatch(rgb: Any, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    try:
        c = QColor.fromRgbF(*(min(max(float(x), 0.0), 1.0) for x in list(rgb)[:3]))
    except (TypeError, ValueError):
        c = QColor(theme.ACCENT)
    pm.fill(c)
    return QIcon(pm)


def _spin(lo: float, hi: float, step: float = 1.0, decimals: int = 1, suffix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setDecimals(decimals)
    s.setKeyboardTracking(False)
    s.setAccelerated(True)
    if suffix:
        s.setSuffix(suffix)
    s.setMinimumWidth(70)
    return s


def _combo(items: tuple[tuple[str, str], ...]) -> QComboBox:
    c = QComboBox()
    for data, text in items:
        c.addItem(text, data)
    return c


def _set_combo(c: QComboBox, value: Any) -> None:
    with QSignalBlocker(c):
        i = c.findData(value)
        if i < 0:
            c.addItem(f"{value} (?)", value)
            i = c.count() - 1
        c.setCurrentIndex(i)


def _set_spin(s: QDoubleSpinBox, value: float) -> None:
    if s.hasFocus() and abs(s.value() - value) > 1e-9 and s.lineEdit().isModified():
        return  # the user is typing
    with QSignalBlocker(s):
        s.setValue(float(value))


def _row(*widgets: QWidget, stretch_last: bool = False) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(4)
    for i, x in enumerate(widgets):
        lay.addWidget(x, 1 if (stretch_last and i == len(widgets) - 1) else 0)
    if not stretch_last:
        lay.addStretch(1)
    return w


def _tool(icon: str, tip: str, text: str = "") -> QToolButton:
    b = QToolButton()
    b.setIcon(theme.icon(icon))
    b.setToolTip(tip)
    b.setAutoRaise(True)
    if text:
        b.setText(text)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    return b


class KeyedNumber(QWidget):
    """A number that may be an F-curve over clip frames (a path's rotation angle or scale): the spin box shows
    the value at the playhead; when it is a curve, editing keys the playhead's frame; the diamond sets or
    removes a key there (removing the last key leaves a plain number). Signal-free: calls ``on_change(value)``
    with the new JSON value (a number or a curve's JSON)."""

    def __init__(
        self, lo: float, hi: float, step: float, decimals: int, suffix: str, on_change: Callable[[Any, str], None]
    ):
        super().__init__()
        self.on_change = on_change
        self.spin = _spin(lo, hi, step, decimals, suffix)
        self.key = QToolButton()
        self.key.setAutoRaise(True)
        self.key.setFixedSize(22, 22)
        self.info = QLabel()
        self.info.setProperty("role", "dim")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.spin)
        lay.addWidget(self.key)
        lay.addWidget(self.info, 1)
        self.value: Any = 0.0
        self.frame = 0
        self._parsed: FCurve | None = None  # the curve of ``value`` (parsed once per value, not per frame)
        self._state: tuple[str, str, str] | None = None
        self.spin.valueChanged.connect(self._edited)
        self.key.clicked.connect(self._toggle_key)

    def _curve(self) -> FCurve | None:
        return self._parsed

    def _parse(self, value: Any) -> FCurve | None:
        if isinstance(value, dict) and "keys" in value:
            try:
                return FCurve.model_validate(value)
            except ValueError:
                return None
        return None

    def display(self, value: Any, frame: int) -> None:
        """Shows ``value`` (number or curve JSON) at clip frame ``frame``."""
        if type(value) is not type(self.value) or value != self.value:  # runs on every playhead move: parse once
            self.value = copy.deepcopy(value)
            self._parsed = self._parse(self.value)
        self.frame = frame
        curve = self._curve()
        v = curve.value_at(frame) if curve is not None else (float(value) if isinstance(value, (int, float)) else 0.0)
        _set_spin(self.spin, v)
        if curve is None:
            state = ("none", "Set a key at the playhead (animates it)", "")
        else:
            here = curve.key_at(frame) is not None
            state = (
                "key" if here else "animated",
                "Remove the key at the playhead" if here else "Set a key at the playhead",
                f"F-curve, {len(curve.keys)} key{'s' if len(curve.keys) != 1 else ''}",
            )
        if state != self._state:  # icons are made only when the state changes (this runs on every playhead move)
            self._state = state
            self.key.setIcon(
                theme.icon(
                    "mdi6.rhombus" if state[0] == "key" else "mdi6.rhombus-outline",
                    "#777777" if state[0] == "none" else theme.ACCENT,
                )
            )
            self.key.setToolTip(state[1])
            self.info.setText(state[2])

    def _edited(self, v: float) -> None:
        curve = self._curve()
        if curve is None:
            self.on_change(float(v), "set")
        else:
            self.on_change(curve.with_key(float(self.frame), float(v)).model_dump(mode="json"), "key")

    def _toggle_key(self) -> None:
        curve = self._curve()
        f = float(self.frame)
        if curve is None:
            self.on_change(
                FCurve(keys=[Keyframe(frame=f, value=float(self.spin.value()))]).model_dump(mode="json"), "key"
            )
        elif curve.key_at(f) is not None:
            rest = curve.without_key(f)
            self.on_change(float(curve.value_at(f)) if rest is None else rest.model_dump(mode="json"), "unkey")
        else:
            self.on_change(curve.with_key(f, float(curve.value_at(f))).model_dump(mode="json"), "key")


class DocumentEditor(ParamEditor):
    """Shared machinery of the list-and-form editors: a list of items with tool buttons, a form for the
    chosen item, a raw JSON box (collapsed), and edits committed as named undo steps once bound."""

    item_word = "item"
    #: the Inspector gives the editor the pane's whole width, under the parameter's name
    wide = True

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self._lay.setDirection(QHBoxLayout.Direction.TopToBottom)
        self.session: Any = None
        self.node_id: str | None = None
        self.state: EditState | None = None
        self.doc: Any = None
        self._raw: Any = None  # the parameter value last given to set_value, as it was
        self._syncing = False
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setFixedHeight(74)
        self.list.currentRowChanged.connect(self._row_chosen)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(2)
        self.form_box = QWidget()
        self.form = QFormLayout(self.form_box)
        self.form.setContentsMargins(0, 4, 0, 0)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.form.setHorizontalSpacing(8)
        self.form.setVerticalSpacing(4)
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.raw_toggle = QToolButton()
        self.raw_toggle.setText("JSON")
        self.raw_toggle.setToolTip("The whole document as JSON (anchors, hidden ranges, vertices...)")
        self.raw_toggle.setCheckable(True)
        self.raw_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.raw_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.raw_toggle.setAutoRaise(True)
        self.raw = JsonEditor(param, project_dir, self)
        self.raw.hide()
        self.raw.edited.connect(lambda v, _f: self.commit(v, "Edit the JSON"))
        self.raw_toggle.toggled.connect(self._toggle_raw)
        self._lay.addWidget(self.list)
        self._lay.addLayout(self.buttons)
        self._lay.addWidget(self.form_box)
        self._lay.addWidget(self.error)
        self._lay.addWidget(self.raw_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self._lay.addWidget(self.raw)

    def _toggle_raw(self, on: bool) -> None:
        self.raw_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.raw.setVisible(on)

    def add_button(self, icon: str, tip: str, slot: Callable[[], None], text: str = "") -> QToolButton:
        """Adds a tool button (qtawesome ``icon``, tooltip ``tip``) to the editor's bar, calling ``slot``; returns it."""
        b = _tool(icon, tip, text)
        b.clicked.connect(slot)
        self.buttons.addWidget(b)
        return b

    def bind(self, session: Any, node_id: str) -> None:
        """Edits the parameter of ``node_id`` in ``session`` from now on (edits become undo steps), following the
        Viewer's edit state and the playhead."""
        self.session = session
        self.node_id = node_id
        self.state = session.motion_edit
        self.state.changed.connect(self._state_changed)
        session.transport.playhead_changed.connect(self._playhead_changed)
        self._state_changed()

    @property
    def frame(self) -> int:
        """The playhead's frame (0 when not bound)."""
        return int(self.session.transport.playhead) if self.session is not None else 0

    def commit(self, value: Any, text: str) -> bool:
        """Hands a new document to the session as one undo step named ``text`` (or emits ``edited`` when not
        bound). Returns False, showing why, when it is refused."""
        if self.session is None or self.node_id is None:
            self.edited.emit(value, True)
            return True
        try:
            self.session.set_param(self.node_id, self.param.name, value, text=f"{text} ({self.node_id})")
        except (ValueError, KeyError) as e:
            self.error.setText(str(e))
            self.error.show()
            self._refresh_quietly()  # the form shows the document as it still is
            return False
        self.error.hide()
        return True

    def set_value(self, value: Any) -> None:
        if self._raw is not None and type(value) is type(self._raw) and value == self._raw:
            return  # the same document again (every playhead move): not even copied
        self._raw = copy.deepcopy(value)
        doc = self.normalise(value)
        if doc == self.doc:
            return  # the Inspector refreshes on every playhead move: nothing to redo for the same document
        self.doc = doc
        self._syncing = True
        try:
            self.refresh()
            self.raw.set_value(self.doc)
        finally:
            self._syncing = False

    def value(self) -> Any:
        return copy.deepcopy(self.doc)

    def _refresh_quietly(self) -> None:
        """Refreshes the form without its widgets' change signals being taken for edits."""
        self._syncing = True
        try:
            self.refresh()
        finally:
            self._syncing = False

    def _select(self, item: str | None) -> None:
        """Makes ``item`` (a path or body id, or None) the chosen one here and in the Viewer's edit state."""
        self.current = item
        if self.state is not None and self.node_id is not None:
            self.state.set(node_id=self.node_id, item=item)

    def _current_item(self) -> dict[str, Any] | None:
        """The chosen item (a path or body dict), or None."""
        return next((i for i in self.items() if i.get("id") == self.current), None)

    def _fill_list(self, label: Callable[[dict[str, Any]], str], color: Callable[[dict[str, Any]], Any]) -> None:
        """Keeps the chosen item (else the Viewer's, else the first) and shows one list row per item, with
        ``label(item)`` and a swatch of ``color(item)`` (an RGB tuple in [0, 1]), without emitting selections."""
        items = self.items()
        ids = [i.get("id") for i in items]
        if self.current not in ids:
            st = self.state
            self.current = (
                st.item
                if (st is not None and st.is_for(self.node_id or "") and st.item in ids)
                else (ids[0] if ids else None)
            )
        with QSignalBlocker(self.list):
            if self.list.count() != len(items):
                self.list.clear()
                for _ in items:
                    self.list.addItem(QListWidgetItem())
            for row, it in enumerate(items):
                entry = self.list.item(row)
                entry.setText(label(it))
                entry.setIcon(_swatch(color(it)))
                entry.setData(Qt.ItemDataRole.UserRole, it.get("id"))
            self.list.setCurrentRow(ids.index(self.current) if self.current in ids else -1)

    def _row_chosen(self, row: int) -> None:
        if self._syncing:
            return
        items = self.items()
        if 0 <= row < len(items):
            self._select(items[row].get("id"))
            self._refresh_quietly()

    # hooks
    def items(self) -> list[dict[str, Any]]:
        """The listed items (paths or bodies) of the document, in order."""
        raise NotImplementedError

    def normalise(self, value: Any) -> Any:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def _state_changed(self) -> None:
        pass

    def _playhead_changed(self, _frame: int) -> None:
        pass


class PathsEditor(DocumentEditor):
    """The ``paths`` parameter of a Trajectory node (see the module docstring)."""

    item_word = "path"

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.current: str | None = None
        self.new_button = self.add_button(
            "mdi6.vector-polyline-plus", "New path: click on the frame in the Viewer to start it", self.new_path, "New"
        )
        self.new_button.setCheckable(True)
        self.dup_button = self.add_button("mdi6.content-duplicate", "Duplicate the path", self.duplicate_path)
        self.del_button = self.add_button("mdi6.delete-outline", "Delete the path", self.delete_path)
        self.buttons.addStretch(1)
        self.start_button = self.add_button(
            "mdi6.skip-previous", "Put the playhead on the path's start frame", self.go_start
        )
        f = self.form
        self.name = QLineEdit()
        self.name.editingFinished.connect(lambda: self._set("name", self.name.text().strip(), "Rename path"))
        self.color = ColorEditor(Param("color", "color", [1.0, 0.55, 0.1]))
        self.color.edited.connect(lambda v, _f: self._set("color", v[:3], "Path colour"))
        f.addRow("Name", self.name)
        f.addRow("Colour", self.color)
        self.start = _spin(-100000, 100000, 1, 1)
        self.start.valueChanged.connect(lambda v: self._set("start_frame", float(v), "Path start frame"))
        self.end = _spin(-100000, 100000, 1, 1)
        self.end.valueChanged.connect(lambda v: self._set("end_frame", float(v), "Path end frame"))
        self.to_end = QCheckBox("clip end")
        self.to_end.setToolTip("End on the clip's last frame, whatever its length")
        self.to_end.toggled.connect(self._to_end)
        f.addRow("Frames", _row(self.start, QLabel("to"), self.end, self.to_end))
        self.interp = _combo(INTERPOLATIONS)
        self.interp.activated.connect(lambda _i: self._set("interpolation", self.interp.currentData(), "Path curve"))
        f.addRow("Curve", self.interp)
        self.timing = _combo(TIMINGS)
        self.timing.activated.connect(lambda _i: self._set("timing", self.timing.currentData(), "Path timing"))
        f.addRow("Timing", self.timing)
        self.ease_family = _combo((("linear", "linear"),) + tuple((x, x) for x in FAMILIES))
        self.ease_mode = _combo(EASE_MODES)
        self.ease_family.activated.connect(lambda _i: self._set_easing())
        self.ease_mode.activated.connect(lambda _i: self._set_easing())
        f.addRow("Easing", _row(self.ease_family, self.ease_mode))
        self.rot_mode = _combo(ROTATIONS)
        self.rot_mode.activated.connect(lambda _i: self._set_rotation(mode=self.rot_mode.currentData()))
        self.angle = KeyedNumber(-36000, 36000, 1, 1, " °", lambda v, how: self._set_rotation(angle=v, how=how))
        f.addRow("Rotation", self.rot_mode)
        f.addRow("Angle", self.angle)
        self.scale = KeyedNumber(
            0.001,
            1000,
            0.05,
            3,
            " ×",
            lambda v, how: self._set("scale", v, "Path scale" if how == "set" else f"Path scale {how}"),
        )
        f.addRow("Scale", self.scale)
        self.size_w = _spin(0, 100000, 1, 1, " px")
        self.size_h = _spin(0, 100000, 1, 1, " px")
        self.size_w.valueChanged.connect(
            lambda _v: self._set("size", [self.size_w.value(), self.size_h.value()], "Object size")
        )
        self.size_h.valueChanged.connect(
            lambda _v: self._set("size", [self.size_w.value(), self.size_h.value()], "Object size")
        )
        f.addRow("Size", _row(self.size_w, QLabel("×"), self.size_h))
        self.outside = _combo(OUTSIDE)
        self.outside.activated.connect(
            lambda _i: self._set("outside", self.outside.currentData(), "Outside the frames")
        )
        f.addRow("Outside", self.outside)
        self.points = QTableWidget(0, 4)
        self.points.setHorizontalHeaderLabels(["#", "x", "y", "frame"])
        self.points.verticalHeader().hide()
        hh = self.points.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.points.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.points.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.points.setFixedHeight(120)
        self.points.itemChanged.connect(self._point_cell)
        self.points.currentCellChanged.connect(lambda r, _c, _pr, _pc: self._point_row(r))
        f.addRow("Points", self.points)
        self.empty = QLabel("No paths yet: press New (or Draw Path in the Viewer) and click on the frame.")
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "dim")
        self._lay.insertWidget(2, self.empty)

    # ------------------------------------------------------------------------------------ showing
    def normalise(self, value: Any) -> Any:
        return pathedit.as_document(value)

    def items(self) -> list[dict[str, Any]]:
        return self.doc.get("paths", []) if isinstance(self.doc, dict) else []

    def refresh(self) -> None:
        paths = self.items()

        def label(p: dict[str, Any]) -> str:
            end = "end" if p.get("end_frame") is None else f"{float(p['end_frame']):g}"
            n = len(p.get("points", []))
            return f"{p.get('name') or p.get('id')}    f{float(p.get('start_frame', 0)):g}–{end}  ·  {n} point{'s' if n != 1 else ''}"

        self._fill_list(label, lambda p: p.get("color", pathedit.PATH_COLORS[0]))
        has = self.current is not None
        self.form_box.setVisible(has)
        self.empty.setVisible(not paths)
        for b in (self.dup_button, self.del_button, self.start_button):
            b.setEnabled(has)
        if has:
            self._show_path(self._current_item() or {})

    def _show_path(self, p: dict[str, Any]) -> None:
        if not self.name.hasFocus():
            self.name.setText(str(p.get("name", "")))
        self.name.setPlaceholderText(str(p.get("id", "")))
        self.color.set_value(list(p.get("color", pathedit.PATH_COLORS[0])))
        _set_spin(self.start, float(p.get("start_frame", 0.0)))
        end = p.get("end_frame")
        n = self.session.frame_count if self.session is not None else 1
        with QSignalBlocker(self.to_end):
            self.to_end.setChecked(end is None)
        self.end.setEnabled(end is not None)
        _set_spin(self.end, float(end) if end is not None else float(n - 1))
        _set_combo(self.interp, p.get("interpolation", "catmull_rom"))
        _set_combo(self.timing, p.get("timing", "constant_speed"))
        e = p.get("easing") or {}
        _set_combo(self.ease_family, e.get("family", "linear"))
        _set_combo(self.ease_mode, e.get("mode", "in_out"))
        self.ease_mode.setEnabled(e.get("family", "linear") != "linear")
        r = p.get("rotation") or {}
        _set_combo(self.rot_mode, r.get("mode", "fixed"))
        self.angle.display(r.get("angle", 0.0), self.frame)
        self.scale.display(p.get("scale", 1.0), self.frame)
        size = p.get("size") or [64.0, 64.0]
        _set_spin(self.size_w, float(size[0]))
        _set_spin(self.size_h, float(size[1]))
        _set_combo(self.outside, p.get("outside", "hold"))
        pts = p.get("points", [])
        keyed = p.get("timing") == "keys"
        with QSignalBlocker(self.points):
            if self.points.rowCount() != len(pts):
                self.points.setRowCount(len(pts))
            for i, pt in enumerate(pts):
                cells = [
                    str(i + 1),
                    f"{float(pt.get('x', 0)):g}",
                    f"{float(pt.get('y', 0)):g}",
                    "" if pt.get("frame") is None else f"{float(pt['frame']):g}",
                ]
                for c, text in enumerate(cells):
                    item = self.points.item(i, c)
                    if item is None:
                        item = QTableWidgetItem()
                        self.points.setItem(i, c, item)
                    if item.text() != text:
                        item.setText(text)
                    flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
                    if c in (1, 2) or (c == 3 and keyed):
                        flags |= Qt.ItemFlag.ItemIsEditable
                    item.setFlags(flags)
                    item.setToolTip("the time key of this point (timing: keyed frames)" if c == 3 else "")
            st = self.state
            if (
                st is not None
                and st.is_for(self.node_id or "")
                and st.item == self.current
                and st.point is not None
                and st.point < len(pts)
            ):
                self.points.selectRow(st.point)
            else:
                self.points.clearSelection()

    def _state_changed(self) -> None:
        st = self.state
        if st is None or self.node_id is None or not st.is_for(self.node_id):
            return
        if st.item is not None and st.item != self.current and any(p.get("id") == st.item for p in self.items()):
            self.current = st.item
        self._refresh_quietly()
        with QSignalBlocker(self.new_button):
            self.new_button.setChecked(st.armed)

    def _playhead_changed(self, _frame: int) -> None:
        p = self._current_item()
        if p is not None:
            r = p.get("rotation") or {}
            self.angle.display(r.get("angle", 0.0), self.frame)
            self.scale.display(p.get("scale", 1.0), self.frame)

    # ------------------------------------------------------------------------------------ editing
    def _point_row(self, row: int) -> None:
        if self._syncing or self.state is None or self.node_id is None or row < 0:
            return
        self.state.set(node_id=self.node_id, item=self.current, point=row)

    def _set(self, key: str, value: Any, text: str) -> None:
        if self._syncing or self.current is None:
            return
        p = self._current_item()
        if p is None or p.get(key) == value:
            return
        self.commit(
            pathedit.update_path(self.doc, self.current, **{key: value}), f"{text} '{p.get('name') or self.current}'"
        )

    def _to_end(self, on: bool) -> None:
        if self._syncing:
            return
        self._set("end_frame", None if on else float(self.end.value()), "Path end frame")

    def _set_easing(self) -> None:
        p = self._current_item()
        if p is None:
            return
        e = dict(p.get("easing") or {})
        e["family"] = self.ease_family.currentData()
        e["mode"] = self.ease_mode.currentData()
        self._set("easing", e, "Path easing")

    def _set_rotation(self, mode: str | None = None, angle: Any = None, how: str = "set") -> None:
        p = self._current_item()
        if p is None:
            return
        r = dict(p.get("rotation") or {})
        if mode is not None:
            r["mode"] = mode
        if angle is not None:
            r["angle"] = angle
        self._set("rotation", r, "Path rotation" if how == "set" else f"Path angle {how}")

    def _point_cell(self, item: QTableWidgetItem) -> None:
        if self._syncing or self.current is None:
            return
        row, col = item.row(), item.column()
        text = item.text().strip()
        p = self._current_item()
        if p is None or not 0 <= row < len(p.get("points", [])):
            return
        name = p.get("name") or self.current
        try:
            if col == 3:
                frame = float(text) if text else None
                doc = pathedit.set_point_frame(self.doc, self.current, row, frame)
                self.commit(doc, f"Time key of point {row + 1} of '{name}'")
                return
            v = float(text)
        except ValueError:
            self.error.setText(f"point {row + 1}: {text!r} is not a number")
            self.error.show()
            self.refresh()
            return
        pt = p["points"][row]
        x, y = (v, float(pt["y"])) if col == 1 else (float(pt["x"]), v)
        self.commit(pathedit.move_point(self.doc, self.current, row, x, y), f"Move point {row + 1} of '{name}'")

    def new_path(self) -> None:
        """Arms a new path: the next click on the frame (in the Viewer) starts it (again: disarms)."""
        if self.state is not None and self.node_id is not None:
            armed = not (self.state.is_for(self.node_id) and self.state.armed)
            self.state.set(node_id=self.node_id, armed=armed)
            with QSignalBlocker(self.new_button):
                self.new_button.setChecked(armed)
            if self.session is not None and armed:
                self.session.message.emit("New path: click on the frame in the Viewer to place its first point")

    def duplicate_path(self) -> None:
        """Copies the chosen path."""
        if self.current is None:
            return
        doc, new = pathedit.duplicate_path(self.doc, self.current)
        if self.commit(doc, f"Duplicate path '{self.current}'"):
            self._select(new)

    def delete_path(self) -> None:
        """Deletes the chosen path."""
        if self.current is None:
            return
        old = self.current
        if self.commit(pathedit.delete_path(self.doc, old), f"Delete path '{old}'"):
            self._select(None)

    def go_start(self) -> None:
        """Puts the playhead on the chosen path's start frame (to place its points over that frame)."""
        p = self._current_item()
        if p is not None and self.session is not None:
            self.session.transport.set_playhead(int(round(float(p.get("start_frame", 0.0)))))


class BodiesEditor(DocumentEditor):
    """The ``bodies`` parameter of a Physics Scene node (see the module docstring)."""

    item_word = "body"

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.current: str | None = None
        self.add_button(
            "mdi6.circle-outline", "Add a ball in the middle of the frame", lambda: self.add("circle"), "Ball"
        )
        self.add_button("mdi6.square-outline", "Add a box in the middle of the frame", lambda: self.add("box"), "Box")
        self.dup_button = self.add_button("mdi6.content-duplicate", "Duplicate the body", self.duplicate)
        self.del_button = self.add_button("mdi6.delete-outline", "Delete the body", self.delete)
        self.buttons.addStretch(1)
        f = self.form
        self.bid = QLineEdit()
        self.bid.setToolTip("The body's id (its track is named after it unless it has a name)")
        self.bid.editingFinished.connect(lambda: self._set("id", self.bid.text().strip(), "Rename body"))
        self.name = QLineEdit()
        self.name.setPlaceholderText("the id")
        self.name.editingFinished.connect(lambda: self._set("name", self.name.text().strip(), "Name body"))
        f.addRow("Id", self.bid)
        f.addRow("Track name", self.name)
        self.kind = _combo(KINDS)
        self.kind.activated.connect(lambda _i: self._set("kind", self.kind.currentData(), "Body kind"))
        self.shape = _combo(SHAPES)
        self.shape.activated.connect(lambda _i: self._set("shape", self.shape.currentData(), "Body shape"))
        f.addRow("Kind", self.kind)
        f.addRow("Shape", self.shape)
        self.radius = _spin(0, 100000, 1, 1, " px")
        self.radius.valueChanged.connect(lambda v: self._set("radius", float(v), "Body radius"))
        self.width_ = _spin(0.1, 100000, 1, 1, " px")
        self.height_ = _spin(0.1, 100000, 1, 1, " px")
        self.width_.valueChanged.connect(lambda v: self._set("width", float(v), "Body width"))
        self.height_.valueChanged.connect(lambda v: self._set("height", float(v), "Body height"))
        self.radius_label = QLabel("Radius")
        f.addRow(self.radius_label, self.radius)
        self.box_row = _row(self.width_, QLabel("×"), self.height_)
        f.addRow("Size", self.box_row)
        self.mass = _spin(0.001, 1e6, 0.1, 3)
        self.mass.valueChanged.connect(lambda v: self._set("mass", float(v), "Body mass"))
        self.elasticity = _spin(0, 1, 0.05, 2)
        self.elasticity.valueChanged.connect(lambda v: self._set("elasticity", float(v), "Body elasticity"))
        self.friction = _spin(0, 100, 0.05, 2)
        self.friction.valueChanged.connect(lambda v: self._set("friction", float(v), "Body friction"))
        f.addRow("Mass", self.mass)
        f.addRow("Elasticity", self.elasticity)
        f.addRow("Friction", self.friction)
        self.px, self.py = _spin(-1e6, 1e6, 1, 1), _spin(-1e6, 1e6, 1, 1)
        self.px.valueChanged.connect(
            lambda _v: self._set("position", [self.px.value(), self.py.value()], "Body position")
        )
        self.py.valueChanged.connect(
            lambda _v: self._set("position", [self.px.value(), self.py.value()], "Body position")
        )
        f.addRow("Position", _row(QLabel("x"), self.px, QLabel("y"), self.py))
        self.vx, self.vy = _spin(-1e6, 1e6, 10, 1), _spin(-1e6, 1e6, 10, 1)
        self.vx.valueChanged.connect(
            lambda _v: self._set("velocity", [self.vx.value(), self.vy.value()], "Body velocity")
        )
        self.vy.valueChanged.connect(
            lambda _v: self._set("velocity", [self.vx.value(), self.vy.value()], "Body velocity")
        )
        f.addRow("Velocity px/s", _row(QLabel("x"), self.vx, QLabel("y"), self.vy))
        self.angle = _spin(-36000, 36000, 1, 1, " °")
        self.angle.valueChanged.connect(lambda v: self._set("angle", float(v), "Body angle"))
        self.spin_ = _spin(-1e6, 1e6, 10, 1, " °/s")
        self.spin_.valueChanged.connect(lambda v: self._set("angular_velocity", float(v), "Body spin"))
        f.addRow("Angle", self.angle)
        f.addRow("Spin", self.spin_)
        self.follow = QLineEdit()
        self.follow.setPlaceholderText("a track of the Simulate node's paths input")
        self.follow.editingFinished.connect(
            lambda: self._set("follow", self.follow.text().strip() or None, "Body follows")
        )
        self.follow_label = QLabel("Follows")
        f.addRow(self.follow_label, self.follow)
        self.color = ColorEditor(Param("color", "color", [0.9, 0.3, 0.2]))
        self.color.edited.connect(lambda v, _f: self._set("color", v[:3], "Body colour"))
        f.addRow("Colour", self.color)
        self.empty = QLabel("No bodies yet: add a ball or a box (or right-click on the frame in the Viewer).")
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "dim")
        self._lay.insertWidget(2, self.empty)

    def normalise(self, value: Any) -> Any:
        return pathedit.as_bodies(value)

    def items(self) -> list[dict[str, Any]]:
        return self.doc or []

    def refresh(self) -> None:
        bodies = self.items()
        self._fill_list(
            lambda b: f"{b.get('id')}    {b.get('kind', 'dynamic')} {b.get('shape', 'circle')}",
            lambda b: b.get("color", (0.9, 0.3, 0.2)),
        )
        has = self.current is not None
        self.form_box.setVisible(has)
        self.empty.setVisible(not bodies)
        self.dup_button.setEnabled(has)
        self.del_button.setEnabled(has)
        if not has:
            return
        b = self._current_item() or {}
        if not self.bid.hasFocus():
            self.bid.setText(str(b.get("id", "")))
        if not self.name.hasFocus():
            self.name.setText(str(b.get("name", "")))
        _set_combo(self.kind, b.get("kind", "dynamic"))
        shape = b.get("shape", "circle")
        _set_combo(self.shape, shape)
        _set_spin(self.radius, float(b.get("radius", 20.0)))
        _set_spin(self.width_, float(b.get("width", 40.0)))
        _set_spin(self.height_, float(b.get("height", 40.0)))
        self.form.setRowVisible(self.radius, shape in ("circle", "segment"))
        self.radius_label.setText("Radius" if shape == "circle" else "Half thickness")
        self.form.setRowVisible(self.box_row, shape == "box")
        dynamic = b.get("kind", "dynamic") == "dynamic"
        self.mass.setEnabled(dynamic)
        _set_spin(self.mass, float(b.get("mass", 1.0)))
        _set_spin(self.elasticity, float(b.get("elasticity", 0.8)))
        _set_spin(self.friction, float(b.get("friction", 0.5)))
        pos = b.get("position") or [0.0, 0.0]
        _set_spin(self.px, float(pos[0]))
        _set_spin(self.py, float(pos[1]))
        vel = b.get("velocity") or [0.0, 0.0]
        _set_spin(self.vx, float(vel[0]))
        _set_spin(self.vy, float(vel[1]))
        _set_spin(self.angle, float(b.get("angle", 0.0)))
        _set_spin(self.spin_, float(b.get("angular_velocity", 0.0)))
        kinematic = b.get("kind") == "kinematic"
        self.form.setRowVisible(self.follow, kinematic)
        if not self.follow.hasFocus():
            self.follow.setText(str(b.get("follow") or ""))
        self.color.set_value(list(b.get("color", (0.9, 0.3, 0.2))))

    def _state_changed(self) -> None:
        st = self.state
        if st is None or self.node_id is None or not st.is_for(self.node_id):
            return
        if st.item is not None and st.item != self.current and any(b.get("id") == st.item for b in self.items()):
            self.current = st.item
            self._refresh_quietly()

    def _set(self, key: str, value: Any, text: str) -> None:
        if self._syncing or self.current is None:
            return
        b = self._current_item()
        if b is None or b.get(key) == value or (key in ("id",) and not value):
            return
        old = self.current
        if value is None:
            bodies = pathedit.as_bodies(self.doc)
            bodies[pathedit.body_index(bodies, old)].pop(key, None)
        else:
            bodies = pathedit.update_body(self.doc, old, **{key: value})
        if self.commit(bodies, f"{text} '{old}'") and key == "id":
            self._select(value)

    def _center(self) -> tuple[float, float]:
        s = self.session
        if s is None:
            return 384.0, 256.0
        return s.settings.width / 2.0, s.settings.height / 3.0

    def add(self, shape: str) -> None:
        """Adds a ball or a box near the top third of the frame."""
        bodies, bid = pathedit.add_body(self.doc, shape, *self._center())
        if self.commit(bodies, f"Add {shape} '{bid}'"):
            self._select(bid)

    def duplicate(self) -> None:
        """Copies the chosen body."""
        if self.current is None:
            return
        bodies, new = pathedit.duplicate_body(self.doc, self.current)
        if self.commit(bodies, f"Duplicate body '{self.current}'"):
            self._select(new)

    def delete(self) -> None:
        """Deletes the chosen body."""
        if self.current is None:
            return
        old = self.current
        if self.commit(pathedit.remove_body(self.doc, old), f"Delete body '{old}'"):
            self.current = None


def register_motion_editors() -> None:
    """Registers :class:`PathsEditor` and :class:`BodiesEditor` for the parameters validated as trajectory
    documents and body lists (idempotent)."""
    from vidstudio.ui.widgets.param_editors import PARAM_EDITORS

    if any(cls is PathsEditor for _, cls in PARAM_EDITORS):
        return
    register_param_editor(lambda p: p.kind == "json" and p.validator is validate_document, PathsEditor)
    register_param_editor(lambda p: p.kind == "json" and p.validator is validate_bodies, BodiesEditor)


__all__ = ["PathsEditor", "BodiesEditor", "DocumentEditor", "KeyedNumber", "register_motion_editors"]
