"""The session: one open project, its undo stack, selection, playhead and evaluation; no widgets.

This is the evented model of the application (napari's shape): widgets read the session and subscribe to
its signals, and every change to the document goes through a method here that pushes one
:class:`EditCommand` on the session's ``QUndoStack``. An edit records the state of exactly the parts it
touches (nodes by id, the link list, animation curves by ``node.param``, the settings) before and after, so
undo and redo restore them exactly; a drag (a slider, a moved key) is one undo step because commands pushed
inside :meth:`Session.begin_interaction` / :meth:`Session.end_interaction` with the same ``merge`` key merge.

After every change that matters to the result, the session asks its :class:`~vidstudio.ui.state.evaluation.Evaluator`
to validate and run the graph on a worker thread, then hands the viewed clip to its
:class:`~vidstudio.ui.state.evaluation.FrameCache`. Tests drive a session without any window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Hashable, Iterable

from vidstudio.ui import qtfix  # noqa: F401  (first: guards a PySide6 defect before any Qt call)
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from vidstudio.graph.engine import Engine, NodeReport
from vidstudio.graph.model import Link, NodeInstance, Settings
from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.validate import GraphIssue
from vidstudio.media.clip import Clip
from vidstudio.motion.curves import FCurve
from vidstudio.project import Project
from vidstudio.motion import curves
from vidstudio.project import clipboard, edits, view
from vidstudio.ui.state.evaluation import EvalRequest, EvalResult, Evaluator, FrameCache


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


@dataclass
class ResultClip:
    """A generated (or imported) result shown as its own timeline track.

    Attributes:
        label: what it is (``"Generate #3 (LTX-Video)"``); clip: its frames; path: the file, when there is
        one; start: the project frame its first frame sits on.
    """

    label: str
    clip: Clip
    path: str | None = None
    start: int = 0


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
    """One open project with its undo stack, selection, playhead, evaluation and frame cache.

    Args:
        registry: node types (default: :func:`vidstudio.nodes.default_registry`).
        engine: the engine to evaluate with (default: a new one on ``registry``, kept for the session).
        project: the document to start with (default: an empty project).
        prefetch: render every frame of the viewed clip in the background.
        frame_budget_bytes: memory for cached frames.

    Edits raise ``ValueError`` (or ``KeyError`` for an unknown node) with a message naming the node and the
    parameter when asked for something invalid; nothing is changed then.
    """

    project_replaced = Signal()
    graph_changed = Signal(object)  # GraphChange
    selection_changed = Signal()
    playhead_changed = Signal(int)
    range_changed = Signal()
    playing_changed = Signal(bool)
    view_changed = Signal()
    evaluation_started = Signal()
    evaluated = Signal(object)  # EvalResult
    dirty_changed = Signal(bool)
    path_changed = Signal()
    results_changed = Signal()
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
        self.selection: tuple[str, ...] = ()
        self.pinned: str | None = None
        self.view_target: view.ViewTarget | None = None
        self.view_result: int | None = None  # index into results, or None for the graph
        self.results: list[ResultClip] = []
        self.overlay_types: set[str] = set()
        self.view_camera: tuple[str, str] | None = None  # the CAMERA output behind the viewed picture
        self.playhead = 0
        self.in_point = 0
        self.out_point = self.project.settings.frame_count - 1
        self.loop = True
        self.playing = False
        self.play_direction = 1
        self.play_speed = 1.0
        self._interaction_depth = 0
        self._interaction_serial = 0
        self.issues: list[GraphIssue] = []
        self.issues_by_node: dict[str | None, list[GraphIssue]] = {}
        self.node_status: dict[str, NodeReport] = {}
        self.last_result: EvalResult | None = None
        self.showing_stale = False  # the Viewer shows the last good picture of a view that now fails
        self._clip_view: view.ViewTarget | None = None
        self._serial = 0
        self._evaluating = False

        self.frames = FrameCache(frame_budget_bytes, prefetch=prefetch, parent=self)
        self.evaluator = Evaluator(self.engine, parent=self)
        self.evaluator.finished.connect(self._on_evaluated)
        self._eval_timer = QTimer(self)
        self._eval_timer.setSingleShot(True)
        self._eval_timer.setInterval(0)
        self._eval_timer.timeout.connect(self._start_evaluation)
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(8)
        self._play_timer.timeout.connect(self._tick)
        self._play_clock = QElapsedTimer()
        self._play_origin = 0.0
        self._closed = False
        self._update_view(force=True)

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
        self.stop()
        self.project = project
        self.undo_stack.clear()
        self._forced_dirty = dirty
        self.selection = ()
        self.pinned = None
        self.view_result = None
        self.results = []
        self.issues, self.issues_by_node, self.node_status = [], {}, {}
        self.last_result = None
        self.showing_stale = False
        self._clip_view = None
        self.engine.history = {}
        self.in_point, self.out_point = 0, project.settings.frame_count - 1
        self.playhead = min(self.playhead, project.settings.frame_count - 1)
        self.frames.set_clip(None)
        self.project_replaced.emit()
        self.path_changed.emit()
        self.dirty_changed.emit(self.is_dirty)
        self.selection_changed.emit()
        self.results_changed.emit()
        self.range_changed.emit()
        self.playhead_changed.emit(self.playhead)
        self._update_view(force=True)

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
        self.evaluator.engine = self.engine  # a running evaluation finishes with the old one; its result is dropped
        self.node_status = {}
        self.registry_changed.emit()
        self._update_view(force=True)

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
            self.node_status = {k: v for k, v in self.node_status.items() if k not in change.removed}
            if set(self.selection) & change.removed:
                self.selection = tuple(s for s in self.selection if s not in change.removed)
                self.selection_changed.emit()
            if self.pinned in change.removed:
                self.pinned = None
        if change.settings:
            self._clamp_time()
        self.graph_changed.emit(change)
        if not change.layout_only:
            self._update_view()
            self.schedule_evaluation()

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
        nid = edits.unique_id(node_id or edits.node_id_base(type_id), self.project.iter_ids())
        node = NodeInstance(id=nid, type=type_id, params=dict(params or {}), position=(float(position[0]), float(position[1])))
        self._push(f"Add {cls.title or type_id}", _State(nodes={nid: (len(self.project.nodes), _dump_node(node))}))
        if select:
            self.set_selection([nid])
        return nid

    def add_plan(self, plan: clipboard.PastePlan, text: str, *, select: bool = True) -> list[str]:
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
            self.set_selection(ids)
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

    def connect_ports(self, src_node: str, src_port: str, dst_node: str, dst_port: str) -> edits.LinkCheck:
        """Links an output to an input (replacing the link into a single-value input).

        Returns:
            the :class:`~vidstudio.project.edits.LinkCheck`; when refused nothing changes and ``reason`` says why.
        """
        check = edits.check_link(self.project, self.registry, src_node, src_port, dst_node, dst_port)
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
        curve = curves.set_key(self.project.animation.get(key), frame, value)
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
        value = edits.param_value(self.project, self.registry, node_id, name, frame)
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
            moved = curves.move_key(curve, frame_from, frame_to)
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
        v = edits.param_value(self.project, self.registry, node_id, name, self.playhead if frame is None else frame)
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
        """The clipboard text of some nodes (see :func:`vidstudio.project.clipboard.clipboard_text`)."""
        return clipboard.clipboard_text(self.project, node_ids)

    def paste(self, text: str, at: tuple[float, float] | None = None) -> list[str]:
        """Pastes nodes from clipboard text as one step and selects them.

        Raises:
            vidstudio.errors.ProjectError: when the text holds no valid nodes.
        """
        plan = clipboard.plan_paste(self.project, text, self.registry, at=at)
        n = len(plan.nodes)
        return self.add_plan(plan, "Paste node" if n == 1 else f"Paste {n} nodes")

    def duplicate(self, node_ids: Iterable[str], offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Duplicates nodes (with the links among them and their animation) as one step."""
        ids = [i for i in node_ids if self.project.has_node(i)]
        if not ids:
            return []
        plan = clipboard.plan_paste(self.project, clipboard.clipboard_text(self.project, ids), self.registry, offset=offset)
        return self.add_plan(plan, "Duplicate node" if len(ids) == 1 else f"Duplicate {len(ids)} nodes")

    # ================================================================================== selection and view
    def set_selection(self, node_ids: Iterable[str]) -> None:
        """Selects nodes (not an undo step)."""
        sel = tuple(i for i in dict.fromkeys(node_ids) if self.project.has_node(i))
        if sel == self.selection:
            return
        self.selection = sel
        self.selection_changed.emit()
        self._update_view()

    def pin_view(self, node_id: str | None) -> None:
        """Shows ``node_id``'s picture in the Viewer whatever is selected (None: follow the selection)."""
        self.pinned = node_id if node_id and self.project.has_node(node_id) else None
        self._update_view()

    def _update_view(self, force: bool = False) -> None:
        target = view.default_view_target(self.project, self.registry, self.selection, self.pinned)
        self.view_camera = view.view_camera(self.project, self.registry, target)
        if target != self.view_target or force:
            self.view_target = target
            self.view_changed.emit()
            self.schedule_evaluation()
        elif self.overlay_types and any(self._overlay_node(s) for s in self.selection):
            self.schedule_evaluation()

    def _overlay_node(self, node_id: str) -> bool:
        cls = self.registry.find(self.project.node(node_id).type) if self.project.has_node(node_id) else None
        return cls is not None and any(str(o.type) in self.overlay_types for o in cls.outputs)

    def set_view_result(self, index: int | None) -> None:
        """Shows result ``index`` in the Viewer (None: the graph's picture)."""
        if index is not None and not 0 <= index < len(self.results):
            raise IndexError(f"no result #{index}")
        self.view_result = index
        self.showing_stale = False
        if index is None:
            self.frames.set_clip(self.last_result.clip if self.last_result else None, self.playhead)
        else:
            self.frames.set_clip(self.results[index].clip, self.playhead)
        self.view_changed.emit()
        self.frames.request(self.playhead)

    def add_result(self, label: str, clip: Clip, path: str | None = None, start: int = 0, *, show: bool = True) -> int:
        """Adds a generated (or imported) clip as a result track and returns its index."""
        self.results.append(ResultClip(label, clip, path, start))
        self.results_changed.emit()
        idx = len(self.results) - 1
        if show:
            self.set_view_result(idx)
        return idx

    def remove_result(self, index: int) -> None:
        """Removes result ``index`` from the timeline (its file stays on disk)."""
        del self.results[index]
        if self.view_result is not None:
            self.set_view_result(None if self.view_result == index else (self.view_result - (self.view_result > index)))
        self.results_changed.emit()

    # ================================================================================== evaluation
    def schedule_evaluation(self) -> None:
        """Asks for a re-evaluation soon (coalesced)."""
        if not self._closed:
            self._eval_timer.start()

    @property
    def evaluating(self) -> bool:
        """True from a request until its result arrives."""
        return self._evaluating or self._eval_timer.isActive()

    def evaluation_targets(self) -> list[str]:
        """Node ids the next evaluation computes: the viewed node, selected nodes with overlay outputs, and,
        when there are such, the camera behind the viewed picture (:attr:`view_camera`, which places their
        world-pixel drawings on the frame)."""
        targets = []
        if self.view_target is not None:
            targets.append(self.view_target.node_id)
        overlays = False
        for s in self.selection:
            if self._overlay_node(s):
                overlays = True
                if s not in targets:
                    targets.append(s)
        if overlays and self.view_camera is not None and self.view_camera[0] not in targets:
            targets.append(self.view_camera[0])
        return targets

    @Slot()
    def _start_evaluation(self) -> None:
        if self._closed:
            return
        self._serial += 1
        req = EvalRequest(self._serial, self.project.copy_document(), self.evaluation_targets(), self.view_target)
        self._evaluating = True
        self.evaluator.request(req)
        self.evaluation_started.emit()

    @Slot(object)
    def _on_evaluated(self, result: EvalResult) -> None:
        if self._closed or result.serial != self._serial:
            return
        self._evaluating = False
        self.last_result = result
        self.issues = list(result.issues)
        by: dict[str | None, list[GraphIssue]] = {}
        for i in result.issues:
            by.setdefault(i.node_id, []).append(i)
        self.issues_by_node = by
        self.node_status.update(result.report)
        if self.view_result is None:
            # A failed picture of the same node keeps the last one that worked on screen (under the error), so
            # that a path being drawn keeps its frame underneath while what it feeds cannot render yet.
            self.showing_stale = (result.clip is None and result.error is not None and self.frames.clip is not None
                                  and result.view is not None and result.view == self._clip_view)
            if not self.showing_stale:
                self.frames.set_clip(result.clip, self.playhead)
                self._clip_view = result.view
                if result.clip is not None:
                    self.frames.request(self.playhead)
        self.evaluated.emit(result)

    def node_issues(self, node_id: str) -> list[GraphIssue]:
        """Validation issues of a node from the latest evaluation, plus its run error when it failed."""
        out = list(self.issues_by_node.get(node_id, []))
        r = self.last_result
        if r is not None and r.error and r.error_node == node_id and not any(i.severity == "error" for i in out):
            out.append(GraphIssue(node_id, "", r.error.split(": ", 1)[-1] if r.error.startswith("node '") else r.error, "run-error"))
        return out

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Processes events until the evaluation settles (for tests and ``--screenshot``).

        Returns:
            True when it settled within ``timeout`` seconds.
        """
        from PySide6.QtCore import QCoreApplication

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            QCoreApplication.processEvents()
            if not self.evaluating and not self.evaluator.busy:
                QCoreApplication.processEvents()
                return True
            time.sleep(0.002)
        return False

    # ================================================================================== time
    def _clamp_time(self) -> None:
        last = self.frame_count - 1
        self.in_point = min(self.in_point, last)
        self.out_point = last if self.out_point > last or self.out_point < self.in_point else self.out_point
        if self.playhead > last:
            self.set_playhead(last)
        self.range_changed.emit()

    def set_playhead(self, frame: int) -> None:
        """Moves the playhead (clamped to the clip) and asks for that frame at once."""
        f = int(min(max(int(frame), 0), self.frame_count - 1))
        if f != self.playhead:
            self.playhead = f
            self.playhead_changed.emit(f)
        self.frames.request(f)

    def step(self, delta: int) -> None:
        """Moves the playhead by ``delta`` frames (stops playback)."""
        self.stop()
        self.set_playhead(self.playhead + delta)

    def go_start(self) -> None:
        """Playhead to the in point (or frame 0 when already there)."""
        self.stop()
        self.set_playhead(self.in_point if self.playhead != self.in_point else 0)

    def go_end(self) -> None:
        """Playhead to the out point (or the last frame when already there)."""
        self.stop()
        self.set_playhead(self.out_point if self.playhead != self.out_point else self.frame_count - 1)

    def set_in(self, frame: int | None = None) -> None:
        """Sets the in point of the loop range (default: the playhead)."""
        f = int(min(max(self.playhead if frame is None else frame, 0), self.frame_count - 1))
        self.in_point = f
        if self.out_point < f:
            self.out_point = self.frame_count - 1
        self.range_changed.emit()

    def set_out(self, frame: int | None = None) -> None:
        """Sets the out point of the loop range (default: the playhead)."""
        f = int(min(max(self.playhead if frame is None else frame, 0), self.frame_count - 1))
        self.out_point = f
        if self.in_point > f:
            self.in_point = 0
        self.range_changed.emit()

    def clear_in_out(self) -> None:
        """Resets the range to the whole clip."""
        self.in_point, self.out_point = 0, self.frame_count - 1
        self.range_changed.emit()

    @property
    def frame_range(self) -> tuple[int, int]:
        """``(start, stop)``: the in/out range as a half-open frame range."""
        return self.in_point, self.out_point + 1

    def play(self, direction: int = 1, speed: float = 1.0) -> None:
        """Plays forward (1) or backward (-1) at ``speed`` times the project's fps, looping over in/out."""
        self.play_direction = 1 if direction >= 0 else -1
        self.play_speed = float(speed)
        self._play_origin = float(self.playhead)
        self._play_clock.start()
        if not self.playing:
            self.playing = True
            self._play_timer.start()
            self.playing_changed.emit(True)
        self.frames.prefetch_from(self.playhead)

    def stop(self) -> None:
        """Pauses playback."""
        if self.playing:
            self.playing = False
            self._play_timer.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        """Space: play forward, or pause."""
        if self.playing:
            self.stop()
        else:
            self.play(1, 1.0)

    def shuttle(self, key: str) -> None:
        """J/K/L shuttle: ``"l"`` plays forward (again: faster, up to 8x), ``"j"`` backward likewise,
        ``"k"`` pauses."""
        k = key.lower()
        if k == "k":
            self.stop()
            return
        d = 1 if k == "l" else -1
        if self.playing and self.play_direction == d:
            self.play(d, min(self.play_speed * 2, 8.0))
        else:
            self.play(d, 1.0)

    @Slot()
    def _tick(self) -> None:
        elapsed = self._play_clock.elapsed() / 1000.0
        pos = self._play_origin + self.play_direction * self.play_speed * elapsed * float(self.settings.fps)
        a, b = self.in_point, self.out_point
        if a <= self._play_origin <= b:
            if self.loop:
                span = b - a + 1
                pos = a + (pos - a) % span
            elif pos > b or pos < a:
                self.set_playhead(b if pos > b else a)
                self.stop()
                return
        else:
            last = self.frame_count - 1
            if pos > last or pos < 0:
                pos = pos % (last + 1) if self.loop else min(max(pos, 0), last)
        self.set_playhead(int(pos))

    # ================================================================================== lifetime
    def shutdown(self) -> None:
        """Stops timers and worker threads (the window calls it on close)."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        self.undo_stack.cleanChanged.disconnect(self._on_clean_changed)
        self.undo_stack.blockSignals(True)  # nothing may react to the stack while it is torn down
        self._eval_timer.stop()
        self.evaluator.shutdown()
        self.frames.shutdown()
