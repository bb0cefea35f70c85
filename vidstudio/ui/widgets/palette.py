"""The node palette: a searchable popup listing every node type the registry offers, by category.

Opened with Tab or a right-click on the node editor (or by dropping a link on empty space, then filtered to
the types that can take it). The list is built from the registry's declarations, so node types added by the
motion layer, the backend or plugins appear without a change here.

Plugin node types are listed from their manifests (:meth:`vidstudio.graph.NodeRegistry.summary`), under the
plugin's category and marked with a puzzle piece, without importing the plugin; its code is imported when one
is added (a plugin that fails then is reported, never fatal). Types of disabled or failed plugins are listed
greyed with the reason, and cannot be chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.types import can_connect
from vidstudio.ui.widgets import theme
from vidstudio.ui.widgets.colors import category_color


@dataclass(frozen=True)
class PaletteEntry:
    """One node type in the palette.

    Attributes:
        inputs, outputs: ``(name, port type)`` pairs; None for a plugin type not imported yet (its ports are
            known once it is loaded).
        source: ``"builtin"`` or the plugin's name.
        available: False for types of disabled, incompatible or failed plugins; reason: why.
    """

    type_id: str
    title: str
    category: str
    description: str
    inputs: tuple[tuple[str, str], ...] | None
    outputs: tuple[tuple[str, str], ...] | None
    source: str = "builtin"
    available: bool = True
    reason: str | None = None

    def matches(self, words: list[str]) -> bool:
        """True when every word (lower case) is in the title, type id, category, description or source."""
        hay = f"{self.title} {self.type_id} {self.category} {self.description} {self.source}".lower()
        return all(w in hay for w in words)

    def rank(self, words: list[str]) -> tuple[int, str]:
        """Sort key for a search: titles starting with the first word first, then containing it, then the rest."""
        t = self.title.lower()
        first = words[0] if words else ""
        return (0 if t.startswith(first) else 1 if first in t else 2, t)


def palette_entries(registry: NodeRegistry, *, unavailable: bool = False) -> list[PaletteEntry]:
    """Every usable node type as a :class:`PaletteEntry`, plugin types from their manifests without importing
    them; with ``unavailable``, also the types of disabled and failed plugins (``available`` False)."""
    out = []
    for tid in registry.type_ids(available_only=not unavailable):
        try:
            info = registry.summary(tid)
        except KeyError:
            continue
        source = info.get("source") or "builtin"
        ins = outs = None
        if source == "builtin":
            cls = registry.find(tid)
            if cls is None:
                continue
            ins = tuple((i.name, str(i.type)) for i in cls.inputs)
            outs = tuple((o.name, str(o.type)) for o in cls.outputs)
        out.append(
            PaletteEntry(
                tid,
                info.get("title") or tid,
                info.get("category") or "Misc",
                info.get("description") or "",
                ins,
                outs,
                source,
                bool(info.get("available", True)),
                info.get("reason"),
            )
        )
    return out


class NodePalette(QFrame):
    """The popup. Signal ``chosen(type_id)`` when the user picks a type (Enter, click or double-click).

    Args:
        registry: where the node types come from.
    """

    chosen = Signal(str)

    def __init__(self, registry: NodeRegistry, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.registry = registry
        self.setObjectName("NodePalette")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"#NodePalette {{ background: {theme.PANEL}; border: 1px solid {theme.ACCENT}; }}")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self.info.setProperty("role", "dim")
        self.info.setMinimumHeight(34)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.info)
        self.resize(300, 380)
        self._port_filter: tuple[str, bool] | None = None
        self.entries: list[PaletteEntry] = []
        self.search.textChanged.connect(self._refill)
        self.search.installEventFilter(self)
        self.tree.itemActivated.connect(self._activate)
        self.tree.itemClicked.connect(self._activate)
        self.tree.currentItemChanged.connect(self._show_info)

    def open_at(self, global_pos: QPoint, port_filter: tuple[str, bool] | None = None) -> None:
        """Shows the palette at ``global_pos`` with an empty search.

        Args:
            port_filter: ``(port_type, wants_input)``: list only types with an input (True) or output (False)
                that such a port can link to.
        """
        self.entries = palette_entries(self.registry, unavailable=port_filter is None)
        self._port_filter = port_filter
        self.search.clear()
        self._refill()
        self.move(global_pos)
        self.show()
        self.search.setFocus()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        owner = self.parentWidget()
        if owner is not None:  # give the keyboard back to the editor that opened the palette
            owner.window().activateWindow()
            owner.setFocus()

    def visible_types(self) -> list[str]:
        """Type ids currently listed that can be chosen (for tests)."""
        return [tid for tid, ok in self._listed() if ok]

    def unavailable_types(self) -> list[str]:
        """Type ids listed greyed (their plugin is disabled or failed)."""
        return [tid for tid, ok in self._listed() if not ok]

    def _listed(self) -> list[tuple[str, bool]]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            cat = self.tree.topLevelItem(i)
            for j in range(cat.childCount()):
                item = cat.child(j)
                out.append((item.data(0, Qt.ItemDataRole.UserRole), bool(item.flags() & Qt.ItemFlag.ItemIsSelectable)))
        return out

    def _ports(self, e: PaletteEntry) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        if e.inputs is not None and e.outputs is not None:
            return e.inputs, e.outputs
        cls = self.registry.find(e.type_id)  # a plugin type: imported now (a failure only leaves it out)
        if cls is None:
            return (), ()
        return tuple((i.name, str(i.type)) for i in cls.inputs), tuple((o.name, str(o.type)) for o in cls.outputs)

    def _accepts(self, e: PaletteEntry) -> bool:
        if self._port_filter is None:
            return True
        if not e.available:
            return False
        ptype, wants_input = self._port_filter
        inputs, outputs = self._ports(e)
        if wants_input:
            return any(can_connect(ptype, t)[0] for _, t in inputs)
        return any(can_connect(t, ptype)[0] for _, t in outputs)

    def _refill(self) -> None:
        words = self.search.text().lower().split()
        self.tree.clear()
        shown = [e for e in self.entries if e.matches(words) and self._accepts(e)]
        shown.sort(
            key=(lambda e: (not e.available, *e.rank(words)))
            if words
            else (lambda e: (e.category.lower(), not e.available, e.title.lower()))
        )
        cats: dict[str, QTreeWidgetItem] = {}
        first = None
        for e in shown:
            cat = cats.get(e.category)
            if cat is None:
                cat = QTreeWidgetItem([e.category])
                cat.setFlags(Qt.ItemFlag.ItemIsEnabled)
                cat.setForeground(0, QColor(category_color(e.category)).lighter(170))
                f = cat.font(0)
                f.setBold(True)
                cat.setFont(0, f)
                cats[e.category] = cat
            item = QTreeWidgetItem([e.title])
            item.setData(0, Qt.ItemDataRole.UserRole, e.type_id)
            if e.source != "builtin":
                item.setIcon(
                    0,
                    theme.icon(
                        "mdi6.puzzle-outline", theme.TEXT_DIM if not e.available else category_color(e.category)
                    ),
                )
            if e.available:
                item.setToolTip(
                    0, f"{e.type_id}: {e.description}" + (f"\n(plugin '{e.source}')" if e.source != "builtin" else "")
                )
                first = first or item
            else:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setForeground(0, QColor(theme.TEXT_DIM))
                item.setText(0, f"{e.title}  (unavailable)")
                item.setToolTip(0, f"{e.type_id}: {e.reason or 'unavailable'}")
            cat.addChild(item)
        for c in cats.values():
            self.tree.addTopLevelItem(c)
            c.setExpanded(True)
        if first is not None:
            self.tree.setCurrentItem(first)
        else:
            self.info.setText("No node type matches." if words else "No node types.")

    def _show_info(self, item: QTreeWidgetItem | None, _prev=None) -> None:
        tid = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        e = next((x for x in self.entries if x.type_id == tid), None)
        text = ""
        if e is not None:
            text = e.description if e.available else (e.reason or "unavailable")
            if e.source != "builtin":
                text += f"  (plugin '{e.source}')"
        self.info.setText(text)

    def _activate(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        tid = item.data(0, Qt.ItemDataRole.UserRole)
        if tid and item.flags() & Qt.ItemFlag.ItemIsSelectable:
            self.hide()
            self.chosen.emit(tid)

    def accept_current(self) -> None:
        """Picks the highlighted type (Enter)."""
        item = self.tree.currentItem()
        if item is not None:
            self._activate(item)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.search and ev.type() == QEvent.Type.KeyPress:
            assert isinstance(ev, QKeyEvent)
            k = ev.key()
            if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.accept_current()
                return True
            if k in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if k == Qt.Key.Key_Down else -1)
                return True
            if k == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(obj, ev)

    def _move(self, step: int) -> None:
        items = []
        for i in range(self.tree.topLevelItemCount()):
            cat = self.tree.topLevelItem(i)
            items += [
                cat.child(j) for j in range(cat.childCount()) if cat.child(j).flags() & Qt.ItemFlag.ItemIsSelectable
            ]
        if not items:
            return
        cur = self.tree.currentItem()
        idx = items.index(cur) if cur in items else -1
        self.tree.setCurrentItem(items[(idx + step) % len(items)])
