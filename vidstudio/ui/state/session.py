"""The session: one open project and its undo stack, composed with the state objects around it; no widgets.

This is the evented model of the application (napari's shape). The session owns the document: every change
to it goes through a method here that pushes one :class:`EditCommand` on the session's ``QUndoStack``. An
edit records the state of exactly the parts it touches (nodes by id, the link list, animation curves by
``node.param``, the settings) before and after, so undo and redo restore them exactly; a drag (a slider, a
moved key) is one undo step because commands pushed inside :meth:`Session.begin_interaction` /
:meth:`Session.end_interaction` with the same ``merge`` key merge.

Around the document the session composes the state objects that widgets subscribe to, each owning what it
says and emitting only on a real change:

* :attr:`Session.transport` (:class:`~vidstudio.ui.state.transport.Transport`): playhead, in/out, playback;
* :attr:`Session.view` (:class:`~vidstudio.ui.state.view.ViewState`): selection, pin, viewed node, results;
* :attr:`Session.evaluation` (:class:`~vidstudio.ui.state.scheduler.EvaluationScheduler`): when and what to
  evaluate, the latest issues and node reports;
* :attr:`Session.frames` (:class:`~vidstudio.ui.state.evaluation.FrameCache`): the viewed clip's frames;
* :attr:`Session.motion_edit` (:class:`~vidstudio.ui.state.motion_edit.EditState`): the path or body edited.

After every change that matters to the result, the session asks its evaluation scheduler for a new picture.
Tests drive a session without any window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Hashable, Iterable

from vidstudio.ui import qtfix  # noqa: F401  (first: guards a PySide6 defect before any Qt call)
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from vidstudio.graph.engine import Engine
from vidstudio.graph.model import Link, NodeInstance, Settings
from vidstudio.graph.registry import NodeRegistry
from vidstudio.motion.curves import FCurve
from vidstudio.project import Project
from vidstudio.ui import docops
from vidstudio.ui.state.evaluation import FrameCache
from vidstudio.ui.state.motion_edit import EditState
from vidstudio.ui.state.scheduler import EvaluationScheduler
from vidstudio.ui.state.transport import Transport
from vidstudio.ui.state.view import ViewState

__all__ = ["EditCommand", "GraphChange", "Session"]

@dataclass(frozen=True)
class GraphChange:
    """What an edit (or its undo) changed.

    Attributes:
        nodes: ids of nodes added, removed or edited; added / removed: the ones that appeared or went.
        links: the link list changed.
        animation: ``node.param`` keys whose curves changed.
        settings: the project settings changed.
        layout_only: only positions or titles changed (nothing that affects the picture).
    """

    nodes: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    links: bool = False
    animation: frozenset[str] = frozenset()
    settings: bool = False
    layout_only: bool = False


@dataclass
class _State:
    """A partial snapshot of the document: only the parts an edit touches, as plain JSON data."""

    nodes: dict[str, tuple[int, dict] | None] = field(default_factory=dict)
    links: list[dict] | None = None
    animation: dict[str, dict | None] = field(default_factory=dict)
    settings: dict | None = None

    def merged_over(self, older: "_State") -> "_State":
        """This state's parts, and ``older``'s for the parts this one does not touch."""
        return _State(
            nodes={**older.nodes, **self.nodes},
            links=self.links if self.links is not None else older.links,
            animation={**older.animation, **self.animation},
            settings=self.settings if self.settings is not None else older.settings,
        )


class EditCommand(QUndoCommand):
    """One undoable edit of the document (see the module docstring)."""

    MERGE_ID = 0x7653

    def __init__(self, session: "Session", text: str, before: _State, after: _State, merge: Hashable | None):
        super().__init__(text)
        self.session = session
        self.before = before
        self.after = after
        self.merge = merge

    def redo(self) -> None:
        self.session._apply(self.after)

    def undo(self) -> None:
        self.session._apply(self.before)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self.MERGE_ID if self.merge is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, EditCommand) or other.merge is None or other.merge != self.merge:
            return False
        self.after = other.after.merged_over(self.after)
        self.before = self.before.merged_over(other.before)
        return True


def _is_json_data(value: Any) -> bool:
    """True for plain JSON data (dicts, lists, strings, numbers, booleans, None), with no models inside."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_data(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_json_data(v) for v in value)
    return False


def _dump_node(n: NodeInstance) -> dict:
    return n.model_dump(mode="json", by_alias=True)


def _layout_keys(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {k: v for k, v in d.items() if k not in ("position", "title")}


class Session(QObject):
    """One open project with its undo stack, composed with its transport, view state, evaluation scheduler,
    frame cache and motion-editing state (see the module docstring).

    Args:
        registry: node types (default: :func:`vidstudio.nodes.default_registry`).
        engine: the engine to evaluate with (default: a new one on ``registry``, kept for the session).
        project: the document to start with (default: an empty project).
        prefetch: render every frame of the viewed clip in the background.
        frame_budget_bytes: memory for cached frames.

    Signals: ``project_replaced()``, ``graph_changed(GraphChange)``, ``dirty_changed(bool)``,
    ``path_changed()``, ``interaction_finished()``, ``message(str)``, ``registry_changed()``.

    Edits raise ``ValueError`` (or ``KeyError`` for an unknown node) with a message naming the node and the
    parameter when asked for something invalid; nothing is changed then.
    """

    project_replaced = Signal()
    graph_changed = Signal(object)  # GraphChange
    dirty_changed = Signal(bool)
    path_changed = Signal()
    interaction_finished = Signal()
    message = Signal(str)
    registry_changed = Signal()

    def __init__(
        self,
        registry: NodeRegistry | None = None,
        engine: Engine | None = None,
        project: Project | None = None,
        *,
        prefetch: bool = True,
        frame_budget_bytes: int = 1 << 30,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        if registry is None:
            from vidstudio.nodes import default_registry

            registry = engine.registry if engine is not None else default_registry()
        self.registry = registry
        self.engine = engine or Engine(registry)
        self.project: Project = project or Project()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(500)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._forced_dirty = False
        self._interaction_depth = 0
        self._interaction_serial = 0
        self._closed = False

        self.frames = FrameCache(frame_budget_bytes, prefetch=prefetch, parent=self)
        settings = self.project.settings
        self.transport = Transport(self.frames, settings.frame_count, settings.fps, parent=self)
        self.view = ViewState(self, parent=self)
        self.evaluation = EvaluationScheduler(self, self.engine, parent=self)
        self.motion_edit = EditState(parent=self)
        self.view.update_view(force=True)

    # ================================================================================== document state
    @property
    def settings(self) -> Settings:
        """The project settings."""
        return self.project.settings

    @property
    def frame_count(self) -> int:
        """Frames in the project."""
        return self.project.settings.frame_count

    @property
    def is_dirty(self) -> bool:
        """True when the document differs from its file (or was never saved and has edits)."""
        return self._forced_dirty or not self.undo_stack.isClean()

    @Slot(bool)
    def _on_clean_changed(self, _clean: bool) -> None:
        if not self._closed:
            self.dirty_changed.emit(self.is_dirty)

    def mark_dirty(self) -> None:
        """Marks the document as unsaved although the undo stack is clean (e.g. after a recovery)."""
        if not self._forced_dirty:
            self._forced_dirty = True
            self.dirty_changed.emit(True)

    def mark_saved(self, undo_index: int | None = None) -> None:
        """Records that the document as of undo index ``undo_index`` (default: now) is on disk."""
        if undo_index is None or undo_index == self.undo_stack.index():
            self._forced_dirty = False
            self.undo_stack.setClean()
        self.dirty_changed.emit(self.is_dirty)

    @property
    def label(self) -> str:
        """The name shown in the title bar: the file name, or ``Untitled``."""
        return self.project.path.name if self.project.path is not None else "Untitled"

    def set_project(self, project: Project, *, dirty: bool = False) -> None:
        """Replaces the document (New, Open, Recover): clears undo history, selection and results."""
        self.project = project
        self.undo_stack.clear()
        self._forced_dirty = dirty
        pending = [*self.transport.reset(project.settings.frame_count, project.settings.fps), *self.view.reset()]
        self.evaluation.reset()
        self.engine.history = {}
        self.project_replaced.emit()
        self.path_changed.emit()
        self.dirty_changed.emit(self.is_dirty)
        for signal, args in pending:
            signal.emit(*args)
        self.view.update_view(force=True)

    def rebase_folder(self, old_dir: Path, new_dir: Path) -> bool:
        """After Save As into another folder: rewrites relative asset and ``file`` parameter paths so that
        they still point at the same files (:func:`vidstudio.project.io.rebase_paths`).

        Returns:
            True when a path changed; the undo history, which holds the old paths, is then cleared.
        """
        from vidstudio.project.io import rebase_paths

        moved = rebase_paths(self.project, old_dir, new_dir, self.registry)
        same = ([n.model_dump(mode="json") for n in moved.nodes] == [n.model_dump(mode="json") for n in self.project.nodes]
                and [a.model_dump(mode="json") for a in moved.assets] == [a.model_dump(mode="json") for a in self.project.assets])
        if same:
            return False
        self.project.nodes = moved.nodes
        self.project.assets = moved.assets
        self.undo_stack.clear()
        ids = frozenset(self.project.iter_ids())
        self._after_change(GraphChange(nodes=ids))
        return True

    def node_class(self, node_id: str):
        """The node class of ``node_id``, or None when its type is unknown or unavailable."""
        return self.registry.find(self.project.node(node_id).type)

    def set_registry(self, registry: NodeRegistry) -> None:
        """Replaces the node types (after a plugin was enabled, disabled or installed): a new engine (its cache
        belongs to the old types), then the whole graph is validated and evaluated again. The document and
        its undo history are kept. Emits ``registry_changed``."""
        self.registry = registry
        self.engine = Engine(registry)
        self.evaluation.set_engine(self.engine)
        self.registry_changed.emit()
        self.view.update_view(force=True)

    # ================================================================================== edit machinery
    def _capture(self, nodes: Iterable[str] = (), links: bool = False, animation: Iterable[str] = (),
                 settings: bool = False) -> _State:
        index = {n.id: i for i, n in enumerate(self.project.nodes)}
        st = _State()
        for nid in nodes:
            st.nodes[nid] = (index[nid], _dump_node(self.project.nodes[index[nid]])) if nid in index else None
        if links:
            st.links = [l.model_dump(mode="json", by_alias=True) for l in self.project.links]
        for key in animation:
            c = self.project.animation.get(key)
            st.animation[key] = c.model_dump(mode="json") if c is not None else None
        if settings:
            st.settings = self.project.settings.model_dump(mode="json")
        return st

    def _apply(self, st: _State) -> None:
        p = self.project
        before = {n.id: _dump_node(n) for n in p.nodes if n.id in st.nodes}
        removed = {nid for nid, v in st.nodes.items() if v is None and nid in before}
        if removed:
            p.nodes = [n for n in p.nodes if n.id not in removed]
        inserts = []
        for nid, v in st.nodes.items():
            if v is None:
                continue
            idx, data = v
            node = NodeInstance.model_validate(data)
            pos = next((i for i, n in enumerate(p.nodes) if n.id == nid), None)
            if pos is not None:
                p.nodes[pos] = node
            else:
                inserts.append((idx, node))
        for idx, node in sorted(inserts, key=lambda t: t[0]):
            p.nodes.insert(min(idx, len(p.nodes)), node)
        added = {nid for nid, v in st.nodes.items() if v is not None and nid not in before}
        links_changed = False
        if st.links is not None:
            new_links = [Link.model_validate(d) for d in st.links]
            links_changed = [l.model_dump(by_alias=True) for l in new_links] != [l.model_dump(by_alias=True) for l in p.links]
            p.links = new_links
        anim_changed = set()
        for key, data in st.animation.items():
            old = p.animation.get(key)
            if data is None:
                if old is not None:
                    del p.animation[key]
                    anim_changed.add(key)
            else:
                new = FCurve.model_validate(data)
                if old is None or old.model_dump(mode="json") != data:
                    anim_changed.add(key)
                p.animation[key] = new
        settings_changed = False
        if st.settings is not None:
            new_settings = Settings.model_validate(st.settings)
            settings_changed = new_settings.model_dump(mode="json") != p.settings.model_dump(mode="json")
            p.settings = new_settings
        changed_nodes = set(removed) | added
        layout_only = not (removed or added or links_changed or anim_changed or settings_changed)
        for nid, v in st.nodes.items():
            if v is not None and nid in before and before[nid] != v[1]:
                changed_nodes.add(nid)
                if _layout_keys(before[nid]) != _layout_keys(v[1]):
                    layout_only = False
        change = GraphChange(frozenset(changed_nodes), frozenset(added), frozenset(removed), links_changed,
                             frozenset(anim_changed), settings_changed, layout_only)
        self._after_change(change)

    def _after_change(self, change: GraphChange) -> None:
        if change.removed:
            self.evaluation.forget(change.removed)
            self.view.forget(change.removed)
        if change.settings:
            self.transport.set_timebase(self.project.settings.frame_count, self.project.settings.fps)
        self.graph_changed.emit(change)
        if not change.layout_only:
            self.view.update_view()
            self.evaluation.schedule()

    def _push(self, text: str, after: _State, merge: Hashable | None = None) -> None:
        before = self._capture(after.nodes.keys(), after.links is not None, after.animation.keys(), after.settings is not None)
        # Edits merge only inside one interaction (a drag): outside, every edit is its own undo step.
        merge = (merge, self._interaction_serial) if (merge is not None and self._interaction_depth > 0) else None
        self.undo_stack.push(EditCommand(self, text, before, after, merge))

    def begin_interaction(self) -> None:
        """Starts a drag: edits with the same ``merge`` key until :meth:`end_interaction` make one undo step,
        and autosave waits."""
        if self._interaction_depth == 0:
            self._interaction_serial += 1
        self._interaction_depth += 1

    def end_interaction(self) -> None:
        """Ends a drag started with :meth:`begin_interaction`."""
        if self._interaction_depth == 0:
            return
        self._interaction_depth -= 1
        if self._interaction_depth == 0:
            self.interaction_finished.emit()

    @property
    def interacting(self) -> bool:
        """True during a drag."""
        return self._interaction_depth > 0

    def _node_state(self, node: NodeInstance) -> tuple[int, dict]:
        idx = next((i for i, n in enumerate(self.project.nodes) if n.id == node.id), len(self.project.nodes))
        return idx, _dump_node(node)

    # ================================================================================== edits
    def add_node(self, type_id: str, position: tuple[float, float] = (0.0, 0.0), params: dict[str, Any] | None = None,
                 node_id: str | None = None, *, select: bool = True) -> str:
        """Adds a node of ``type_id`` at ``position`` (scene units) and returns its id.

        Raises:
            ValueError: for an unknown or unavailable type (the message says why).
        """
        try:
            cls = self.registry.get(type_id)
        except KeyError as e:
            raise ValueError(e.args[0] if e.args else str(e)) from None
        nid = docops.unique_id(node_id or docops.node_id_base(type_id), self.project.iter_ids())
        node = NodeInstance(id=nid, type=type_id, params=dict(params or {}), position=(float(position[0]), float(position[1])))
        self._push(f"Add {cls.title or type_id}", _State(nodes={nid: (len(self.project.nodes), _dump_node(node))}))
        if select:
            self.view.set_selection([nid])
        return nid

    def add_plan(self, plan: docops.PastePlan, text: str, *, select: bool = True) -> list[str]:
        """Adds a planned group of nodes with their links and animation (paste, duplicate, drop) as one step."""
        if not plan.nodes:
            return []
        n0 = len(self.project.nodes)
        st = _State(
            nodes={n.id: (n0 + i, _dump_node(n)) for i, n in enumerate(plan.nodes)},
            links=[l.model_dump(mode="json", by_alias=True) for l in [*self.project.links, *plan.links]] if plan.links else None,
            animation={k: c.model_dump(mode="json") for k, c in plan.animation.items()},
        )
        self._push(text, st)
        ids = [n.id for n in plan.nodes]
        if select:
            self.view.set_selection(ids)
        return ids

    def remove_nodes(self, node_ids: Iterable[str]) -> None:
        """Deletes nodes with their links and animation as one step (unknown ids are ignored)."""
        ids = [i for i in dict.fromkeys(node_ids) if self.project.has_node(i)]
        if not ids:
            return
        gone = set(ids)
        st = _State(
            nodes={i: None for i in ids},
            links=[l.model_dump(mode="json", by_alias=True) for l in self.project.links
                   if l.source_node not in gone and l.target_node not in gone],
            animation={k: None for k in self.project.animation if k.split(".")[0] in gone},
        )
        self._push(f"Delete {ids[0]}" if len(ids) == 1 else f"Delete {len(ids)} nodes", st)

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> None:
        """Moves nodes to new scene positions as one step (a drag of several nodes)."""
        st = _State()
        for nid, (x, y) in positions.items():
            node = self.project.node(nid)
            if tuple(node.position) == (float(x), float(y)):
                continue
            st.nodes[nid] = self._node_state(node.model_copy(update={"position": (float(x), float(y))}))
        if st.nodes:
            self._push("Move node" if len(st.nodes) == 1 else f"Move {len(st.nodes)} nodes", st)

    def connect_ports(self, src_node: str, src_port: str, dst_node: str, dst_port: str) -> docops.LinkCheck:
        """Links an output to an input (replacing the link into a single-value input).

        Returns:
            the :class:`~vidstudio.ui.docops.LinkCheck`; when refused nothing changes and ``reason`` says why.
        """
        check = docops.check_link(self.project, self.registry, src_node, src_port, dst_node, dst_port)
        if not check.ok:
            self.message.emit(check.reason)
            return check
        assert check.link is not None
        replaced = {(l.source, l.target) for l in check.replaces}
        links = [l for l in self.project.links if (l.source, l.target) not in replaced] + [check.link]
        self._push(f"Link {check.link.source} → {check.link.target}",
                   _State(links=[l.model_dump(mode="json", by_alias=True) for l in links]))
        return check

    def disconnect_links(self, links: Iterable[Link]) -> None:
        """Removes links (matched by their ``from`` and ``to``) as one step."""
        gone = {(l.source, l.target) for l in links}
        keep = [l for l in self.project.links if (l.source, l.target) not in gone]
        if len(keep) == len(self.project.links):
            return
        n = len(self.project.links) - len(keep)
        self._push("Remove link" if n == 1 else f"Remove {n} links",
                   _State(links=[l.model_dump(mode="json", by_alias=True) for l in keep]))

    def set_param(self, node_id: str, name: str, value: Any, *, merge: Hashable | None = None,
                  text: str | None = None) -> None:
        """Sets a (static) parameter value.

        A ``json`` parameter keeps the JSON data as given once its validator accepts it (so that documents stay
        as the user or the editor wrote them, unknown keys included); other kinds store the normalised value.
        ``text`` names the edit in the undo history (default ``"Set <node> <param>"``).

        Raises:
            KeyError: for an unknown node.
            ValueError: naming the node and parameter when the value is invalid for its declaration.
        """
        node = self.project.node(node_id)
        cls = self.registry.find(node.type)
        decl = cls.param(name) if cls is not None else None
        if decl is not None:
            checked, msg = decl.check(value)
            if msg:
                raise ValueError(f"node '{node_id}' param '{name}': {msg}")
            if not (decl.kind == "json" and _is_json_data(value)):
                value = checked
        if name in node.params and node.params[name] == value:
            return
        params = {**node.params, name: value}
        label = decl.display_name if decl is not None else name
        self._push(text or f"Set {node_id} {label}",
                   _State(nodes={node_id: self._node_state(node.model_copy(update={"params": params}))}),
                   merge=("param", node_id, name) if merge is None else merge)

    def reset_param(self, node_id: str, name: str) -> None:
        """Removes a stored value so that the parameter takes its declared default."""
        node = self.project.node(node_id)
        if name not in node.params:
            return
        params = {k: v for k, v in node.params.items() if k != name}
        self._push(f"Reset {node_id} {name}", _State(nodes={node_id: self._node_state(node.model_copy(update={"params": params}))}))

    def set_title(self, node_id: str, title: str) -> None:
        """Sets the label shown instead of the type's title (empty: the type's title)."""
        node = self.project.node(node_id)
        if node.title == title:
            return
        self._push(f"Rename {node_id}", _State(nodes={node_id: self._node_state(node.model_copy(update={"title": title}))}))

    def _check_animatable(self, node_id: str, name: str, value: float | None = None):
        node = self.project.node(node_id)
        cls = self.registry.find(node.type)
        decl = cls.param(name) if cls is not None else None
        if decl is None or not decl.animatable:
            raise ValueError(f"node '{node_id}' param '{name}' cannot be keyed")
        if value is not None:
            _, msg = decl.check(value)
            if msg:
                raise ValueError(f"node '{node_id}' param '{name}': {msg}")
        return decl

    def set_key(self, node_id: str, name: str, frame: float, value: float, *, merge: Hashable | None = None) -> None:
        """Sets a key of ``node.name`` at ``frame`` (animating the parameter if it was not).

        Raises:
            ValueError: when the parameter cannot be keyed or the value is invalid.
        """
        self._check_animatable(node_id, name, value)
        key = f"{node_id}.{name}"
        curve = docops.set_key(self.project.animation.get(key), frame, value)
        self._push(f"Key {node_id} {name} at frame {frame:g}", _State(animation={key: curve.model_dump(mode="json")}),
                   merge=("key", key, frame) if merge is None else merge)

    def remove_key(self, node_id: str, name: str, frame: float) -> None:
        """Removes the key on ``frame``; removing the last key leaves the parameter static at that key's value.

        Raises:
            KeyError: when no key lies on ``frame``.
        """
        key = f"{node_id}.{name}"
        curve = self.project.animation.get(key)
        if curve is None:
            raise KeyError(f"node '{node_id}' param '{name}' is not animated")
        k = curve.key_at(frame)
        rest = curve.without_key(frame)
        st = _State(animation={key: rest.model_dump(mode="json") if rest is not None else None})
        if rest is None and k is not None:
            node = self.project.node(node_id)
            decl = self._check_animatable(node_id, name)
            v = int(round(k.value)) if decl.kind == "int" else float(k.value)
            st.nodes[node_id] = self._node_state(node.model_copy(update={"params": {**node.params, name: v}}))
        self._push(f"Delete key {node_id} {name} at frame {frame:g}", st)

    def toggle_key(self, node_id: str, name: str, frame: int) -> bool:
        """The key button: removes the key on ``frame`` if there is one, else keys the current value there.

        Returns:
            True when a key was set, False when one was removed.
        """
        curve = self.project.curve(node_id, name)
        if curve is not None and curve.key_at(frame) is not None:
            self.remove_key(node_id, name, frame)
            return False
        value = docops.param_value(self.project, self.registry, node_id, name, frame)
        self.set_key(node_id, name, frame, float(value))
        return True

    def move_key(self, node_id: str, name: str, frame_from: float, frame_to: float, *, merge: Hashable | None = None) -> bool:
        """Retimes the key on ``frame_from`` to ``frame_to``.

        Returns:
            False (and changes nothing) when another key already lies on ``frame_to``.

        Raises:
            KeyError: when there is no such curve or key.
        """
        key = f"{node_id}.{name}"
        curve = self.project.animation.get(key)
        if curve is None:
            raise KeyError(f"node '{node_id}' param '{name}' is not animated")
        try:
            moved = docops.move_key(curve, frame_from, frame_to)
        except ValueError:
            return False
        if moved is curve:
            return True
        self._push(f"Retime key {node_id} {name}", _State(animation={key: moved.model_dump(mode="json")}),
                   merge=("retime", key) if merge is None else merge)
        return True

    def set_key_fields(self, node_id: str, name: str, frame: float, **fields: Any) -> None:
        """Changes fields of the key on ``frame`` (``interpolation``, ``easing``, ``handle_type``...).

        Raises:
            KeyError: when there is no such key. ValueError: for an invalid field value.
        """
        key = f"{node_id}.{name}"
        curve = self.project.animation.get(key)
        k = curve.key_at(frame) if curve is not None else None
        if curve is None or k is None:
            raise KeyError(f"node '{node_id}' param '{name}' has no key on frame {frame:g}")
        data = curve.model_dump(mode="json")
        for kd in data["keys"]:
            if abs(kd["frame"] - frame) < 1e-6:
                kd.update(fields)
        new = FCurve.model_validate(data)
        self._push(f"Change key {node_id} {name} at frame {frame:g}", _State(animation={key: new.model_dump(mode="json")}))

    def clear_animation(self, node_id: str, name: str, frame: int | None = None) -> None:
        """Removes a parameter's curve, keeping its value at ``frame`` (default: the playhead) as the static value."""
        key = f"{node_id}.{name}"
        if key not in self.project.animation:
            return
        decl = self._check_animatable(node_id, name)
        v = docops.param_value(self.project, self.registry, node_id, name, self.transport.playhead if frame is None else frame)
        node = self.project.node(node_id)
        v = int(round(v)) if decl.kind == "int" else float(v)
        self._push(f"Clear animation {node_id} {name}", _State(
            nodes={node_id: self._node_state(node.model_copy(update={"params": {**node.params, name: v}}))},
            animation={key: None}))

    def set_settings(self, *, merge: Hashable | None = None, **changes: Any) -> None:
        """Changes project settings (``width``, ``height``, ``fps``, ``frame_count``).

        Raises:
            ValueError: naming the setting when a value is invalid.
        """
        data = {**self.project.settings.model_dump(mode="json"), **changes}
        try:
            new = Settings.model_validate(data)
        except Exception as e:  # pydantic.ValidationError
            errs = getattr(e, "errors", None)
            if callable(errs):
                parts = [f"setting '{'.'.join(map(str, er['loc']))}': {er['msg']}" for er in errs()]
                raise ValueError("; ".join(parts)) from None
            raise ValueError(str(e)) from None
        dumped = new.model_dump(mode="json")
        if dumped == self.project.settings.model_dump(mode="json"):
            return
        self._push("Change project settings", _State(settings=dumped), merge=merge)

    # ------------------------------------------------------------------------------------- clipboard
    def copy_text(self, node_ids: Iterable[str]) -> str:
        """The clipboard text of some nodes (see :func:`vidstudio.ui.docops.clipboard_text`)."""
        return docops.clipboard_text(self.project, node_ids)

    def paste(self, text: str, at: tuple[float, float] | None = None) -> list[str]:
        """Pastes nodes from clipboard text as one step and selects them.

        Raises:
            vidstudio.errors.ProjectError: when the text holds no valid nodes.
        """
        plan = docops.plan_paste(self.project, text, self.registry, at=at)
        n = len(plan.nodes)
        return self.add_plan(plan, "Paste node" if n == 1 else f"Paste {n} nodes")

    def duplicate(self, node_ids: Iterable[str], offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Duplicates nodes (with the links among them and their animation) as one step."""
        ids = [i for i in node_ids if self.project.has_node(i)]
        if not ids:
            return []
        plan = docops.plan_paste(self.project, docops.clipboard_text(self.project, ids), self.registry, offset=offset)
        return self.add_plan(plan, "Duplicate node" if len(ids) == 1 else f"Duplicate {len(ids)} nodes")

    # ================================================================================== lifetime
    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Processes events until the evaluation settles (for tests and ``--screenshot``); see
        :meth:`EvaluationScheduler.wait_idle <vidstudio.ui.state.scheduler.EvaluationScheduler.wait_idle>`.

        Returns:
            True when it settled within ``timeout`` seconds.
        """
        return self.evaluation.wait_idle(timeout)

    def shutdown(self) -> None:
        """Stops timers and worker threads (the window calls it on close)."""
        if self._closed:
            return
        self._closed = True
        self.transport.stop()
        self.undo_stack.cleanChanged.disconnect(self._on_clean_changed)
        self.undo_stack.blockSignals(True)  # nothing may react to the stack while it is torn down
        self.evaluation.shutdown()
        self.frames.shutdown()
