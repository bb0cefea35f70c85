"""The document editor: every undoable change to a project, free of Qt.

One :class:`DocumentEditor` edits one :class:`~vidstudio.project.Project`. Each edit method (``add_node``,
``connect_ports``, ``set_param``, ``set_key``, ``set_settings``...) validates its arguments with the core's rules
(:mod:`vidstudio.project.edits`, :mod:`vidstudio.project.clipboard`, :mod:`vidstudio.motion.curves`), describes
the result as a :class:`Snapshot` of exactly the parts it touches (nodes by id, the link list, curves by
``node.param``, the settings; plain JSON data), captures the same parts as they are now, and hands the pair to
the editor's *push* function as an :class:`Edit`. Applying a snapshot (:meth:`DocumentEditor.apply`) sets those
parts and reports what changed as a :class:`Change`; undo applies ``before``, redo applies ``after``.

Two ways to use it:

* Headless (``vidstudio edit``, tests): the default push applies the edit at once and keeps the editor's own
  history, so :meth:`DocumentEditor.undo` / :meth:`DocumentEditor.redo` work and ``on_change`` listeners hear
  each :class:`Change`.
* Under a GUI undo stack: pass ``push`` that wraps the edit in the toolkit's undo command. With Qt::

      class EditCommand(QUndoCommand):
          def __init__(self, session, edit: Edit):
              super().__init__(edit.text)
              self.session, self.edit = session, edit

          def redo(self):                       # QUndoStack.push calls it once at once
              self.session.changed(self.session.editor.apply(self.edit.after))

          def undo(self):
              self.session.changed(self.session.editor.apply(self.edit.before))

          def id(self):
              return 0x7653 if self.edit.merge is not None else -1

          def mergeWith(self, other):
              return isinstance(other, EditCommand) and self.edit.absorb(other.edit)

      editor = DocumentEditor(project, registry, push=lambda e: stack.push(EditCommand(session, e)))

Merging: edits made between :meth:`DocumentEditor.begin_interaction` and :meth:`DocumentEditor.end_interaction`
(a drag of a slider, a key, a node) that carry the same merge key become one undo step (:meth:`Edit.absorb`);
outside an interaction every edit is its own step. Edit methods raise ``ValueError`` (``KeyError`` for an unknown
node, key or curve) with a message naming the node and the parameter, and then change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from vidstudio.graph.model import Link, NodeInstance, Settings
from vidstudio.graph.registry import NodeRegistry
from vidstudio.motion import curves
from vidstudio.motion.curves import FCurve
from vidstudio.project import clipboard, edits
from vidstudio.project.document import Project


@dataclass(frozen=True)
class Change:
    """What applying a snapshot (an edit, its undo or its redo) changed.

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
class Snapshot:
    """A partial state of the document: only the parts an edit touches, as plain JSON data.

    Attributes:
        nodes: ``{node id: (index in the node list, node as JSON) or None}`` (None: the node is absent).
        links: the whole link list as JSON, or None when untouched.
        animation: ``{"node.param": curve as JSON or None}`` (None: not animated).
        settings: the settings as JSON, or None when untouched.
    """

    nodes: dict[str, tuple[int, dict] | None] = field(default_factory=dict)
    links: list[dict] | None = None
    animation: dict[str, dict | None] = field(default_factory=dict)
    settings: dict | None = None

    def merged_over(self, older: Snapshot) -> Snapshot:
        """This snapshot's parts, and ``older``'s for the parts this one does not touch."""
        return Snapshot(
            nodes={**older.nodes, **self.nodes},
            links=self.links if self.links is not None else older.links,
            animation={**older.animation, **self.animation},
            settings=self.settings if self.settings is not None else older.settings,
        )


@dataclass
class Edit:
    """One undoable edit: its name in the undo history and the document parts before and after.

    Attributes:
        text: the undo history's name of the edit (``"Set cam Zoom"``).
        before: the touched parts as they were (apply it to undo).
        after: the same parts as the edit leaves them (apply it to do or redo).
        merge: the merge key (None: never merges); made unique per interaction by the editor.
    """

    text: str
    before: Snapshot
    after: Snapshot
    merge: Hashable | None = None

    def absorb(self, newer: Edit) -> bool:
        """Merges ``newer`` (the next edit of the same drag) into this one, so that both undo as one step.

        Returns:
            True when merged (same, non-None merge key): ``after`` then includes ``newer.after`` and ``before``
            covers the parts either touched as they were before this edit. False (nothing changed) otherwise.
        """
        if newer.merge is None or newer.merge != self.merge:
            return False
        self.after = newer.after.merged_over(self.after)
        self.before = self.before.merged_over(newer.before)
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


def _dump_links(links: Iterable[Link]) -> list[dict]:
    return [l.model_dump(mode="json", by_alias=True) for l in links]


def _layout_keys(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {k: v for k, v in d.items() if k not in ("position", "title")}


class DocumentEditor:
    """Every undoable edit of one project (see the module docstring).

    Args:
        project: the document to edit (changed in place by :meth:`apply`).
        registry: node types, for the rules of links, parameters and keys.
        push: receives each new :class:`Edit` (default: :meth:`do`, which applies it and keeps the history).
        history_limit: edits kept for undo by the default push.

    Attributes:
        project, registry: as given (assign ``project`` and call :meth:`clear_history` to edit another document).
        on_change: callables that :meth:`do`, :meth:`undo` and :meth:`redo` call with each :class:`Change`.
    """

    def __init__(
        self,
        project: Project,
        registry: NodeRegistry,
        *,
        push: Callable[[Edit], Any] | None = None,
        history_limit: int = 500,
    ):
        self.project = project
        self.registry = registry
        self._push_fn = push or self.do
        self.history_limit = int(history_limit)
        self.on_change: list[Callable[[Change], Any]] = []
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self._interaction_depth = 0
        self._interaction_serial = 0

    # ================================================================================== snapshots
    def capture(
        self, nodes: Iterable[str] = (), links: bool = False, animation: Iterable[str] = (), settings: bool = False
    ) -> Snapshot:
        """The named parts of the document as they are now (absent nodes and curves as None)."""
        index = {n.id: i for i, n in enumerate(self.project.nodes)}
        st = Snapshot()
        for nid in nodes:
            st.nodes[nid] = (index[nid], _dump_node(self.project.nodes[index[nid]])) if nid in index else None
        if links:
            st.links = _dump_links(self.project.links)
        for key in animation:
            c = self.project.animation.get(key)
            st.animation[key] = c.model_dump(mode="json") if c is not None else None
        if settings:
            st.settings = self.project.settings.model_dump(mode="json")
        return st

    def apply(self, st: Snapshot) -> Change:
        """Sets the parts of the document that ``st`` holds (removing nodes and curves it holds as None, putting
        added nodes back at their index) and reports what really changed."""
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
            links_changed = _dump_links(new_links) != _dump_links(p.links)
            p.links = new_links
        anim_changed = set()
        for key, data in st.animation.items():
            old = p.animation.get(key)
            if data is None:
                if old is not None:
                    del p.animation[key]
                    anim_changed.add(key)
            else:
                if old is None or old.model_dump(mode="json") != data:
                    anim_changed.add(key)
                p.animation[key] = FCurve.model_validate(data)
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
        return Change(
            frozenset(changed_nodes),
            frozenset(added),
            frozenset(removed),
            links_changed,
            frozenset(anim_changed),
            settings_changed,
            layout_only,
        )

    def submit(self, text: str, after: Snapshot, merge: Hashable | None = None) -> Edit:
        """Makes an :class:`Edit` from the parts ``after`` sets (capturing them as they are now as ``before``) and
        hands it to the push function. ``merge`` counts only inside an interaction.

        Returns:
            the edit (already applied when the push function applies it, as the default one does).
        """
        before = self.capture(
            after.nodes.keys(), after.links is not None, after.animation.keys(), after.settings is not None
        )
        merge = (merge, self._interaction_serial) if (merge is not None and self._interaction_depth > 0) else None
        edit = Edit(text, before, after, merge)
        self._push_fn(edit)
        return edit

    def node_state(self, node: NodeInstance) -> tuple[int, dict]:
        """``(index, node as JSON)`` for a snapshot: the index of the node of that id now, else the end."""
        idx = next((i for i, n in enumerate(self.project.nodes) if n.id == node.id), len(self.project.nodes))
        return idx, _dump_node(node)

    # ================================================================================== headless history
    def do(self, edit: Edit) -> Change:
        """The default push: applies ``edit.after``, merges it into the last edit when :meth:`Edit.absorb` allows,
        else records it (dropping what was undone), and tells ``on_change``."""
        change = self.apply(edit.after)
        if not (self._done and not self._undone and self._done[-1].absorb(edit)):
            self._done.append(edit)
            del self._done[: max(0, len(self._done) - self.history_limit)]
        self._undone.clear()
        self._notify(change)
        return change

    def undo(self) -> Change | None:
        """Undoes the last edit of the history (None when there is none)."""
        if not self._done:
            return None
        edit = self._done.pop()
        self._undone.append(edit)
        return self._notify(self.apply(edit.before))

    def redo(self) -> Change | None:
        """Redoes the last undone edit (None when there is none)."""
        if not self._undone:
            return None
        edit = self._undone.pop()
        self._done.append(edit)
        return self._notify(self.apply(edit.after))

    @property
    def history(self) -> list[Edit]:
        """The edits that :meth:`undo` would undo, oldest first (a copy)."""
        return list(self._done)

    @property
    def can_undo(self) -> bool:
        """True when the history has an edit to undo."""
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        """True when an undone edit can be redone."""
        return bool(self._undone)

    def clear_history(self) -> None:
        """Forgets every edit (after the document was replaced)."""
        self._done.clear()
        self._undone.clear()

    def _notify(self, change: Change) -> Change:
        for fn in list(self.on_change):
            fn(change)
        return change

    # ================================================================================== interactions
    def begin_interaction(self) -> None:
        """Starts a drag: edits with the same merge key until :meth:`end_interaction` make one undo step."""
        if self._interaction_depth == 0:
            self._interaction_serial += 1
        self._interaction_depth += 1

    def end_interaction(self) -> bool:
        """Ends a drag started with :meth:`begin_interaction`.

        Returns:
            True when this ended the outermost interaction.
        """
        if self._interaction_depth == 0:
            return False
        self._interaction_depth -= 1
        return self._interaction_depth == 0

    @property
    def interacting(self) -> bool:
        """True during a drag."""
        return self._interaction_depth > 0

    # ================================================================================== nodes and links
    def add_node(
        self,
        type_id: str,
        position: tuple[float, float] = (0.0, 0.0),
        params: dict[str, Any] | None = None,
        node_id: str | None = None,
    ) -> str:
        """Adds a node of ``type_id`` at ``position`` (scene units) and returns its id (``node_id`` or one made from
        the type, made unique: ``camera_move``, ``camera_move_2``...).

        Raises:
            ValueError: for an unknown or unavailable type (the message says why).
        """
        try:
            cls = self.registry.get(type_id)
        except KeyError as e:
            raise ValueError(e.args[0] if e.args else str(e)) from None
        nid = edits.unique_id(node_id or edits.node_id_base(type_id), self.project.iter_ids())
        node = NodeInstance(
            id=nid, type=type_id, params=dict(params or {}), position=(float(position[0]), float(position[1]))
        )
        self.submit(f"Add {cls.title or type_id}", Snapshot(nodes={nid: (len(self.project.nodes), _dump_node(node))}))
        return nid

    def add_plan(self, plan: clipboard.PastePlan, text: str) -> list[str]:
        """Adds a planned group of nodes with their links and animation (paste, duplicate, drop) as one step and
        returns their ids."""
        if not plan.nodes:
            return []
        n0 = len(self.project.nodes)
        st = Snapshot(
            nodes={n.id: (n0 + i, _dump_node(n)) for i, n in enumerate(plan.nodes)},
            links=_dump_links([*self.project.links, *plan.links]) if plan.links else None,
            animation={k: c.model_dump(mode="json") for k, c in plan.animation.items()},
        )
        self.submit(text, st)
        return [n.id for n in plan.nodes]

    def remove_nodes(self, node_ids: Iterable[str]) -> list[str]:
        """Deletes nodes with their links and animation as one step (unknown ids are ignored).

        Returns:
            the ids removed.
        """
        ids = [i for i in dict.fromkeys(node_ids) if self.project.has_node(i)]
        if not ids:
            return []
        gone = set(ids)
        st = Snapshot(
            nodes={i: None for i in ids},
            links=_dump_links(l for l in self.project.links if l.source_node not in gone and l.target_node not in gone),
            animation={k: None for k in self.project.animation if k.split(".")[0] in gone},
        )
        self.submit(f"Delete {ids[0]}" if len(ids) == 1 else f"Delete {len(ids)} nodes", st)
        return ids

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> None:
        """Moves nodes to new scene positions as one step (a drag of several nodes).

        Raises:
            KeyError: for an unknown node.
        """
        st = Snapshot()
        for nid, (x, y) in positions.items():
            node = self.project.node(nid)
            if tuple(node.position) == (float(x), float(y)):
                continue
            st.nodes[nid] = self.node_state(node.model_copy(update={"position": (float(x), float(y))}))
        if st.nodes:
            self.submit("Move node" if len(st.nodes) == 1 else f"Move {len(st.nodes)} nodes", st)

    def connect_ports(self, src_node: str, src_port: str, dst_node: str, dst_port: str) -> edits.LinkCheck:
        """Links output ``src_node.src_port`` to input ``dst_node.dst_port`` (replacing the link into a single-value
        input), by the rules of :func:`vidstudio.project.edits.check_link`.

        Returns:
            the :class:`~vidstudio.project.edits.LinkCheck`; when refused nothing changes and ``reason`` says why.
        """
        check = edits.check_link(self.project, self.registry, src_node, src_port, dst_node, dst_port)
        if not check.ok:
            return check
        assert check.link is not None
        replaced = {(l.source, l.target) for l in check.replaces}
        links = [l for l in self.project.links if (l.source, l.target) not in replaced] + [check.link]
        self.submit(f"Link {check.link.source} → {check.link.target}", Snapshot(links=_dump_links(links)))
        return check

    def disconnect_links(self, links: Iterable[Link]) -> int:
        """Removes links (matched by their ``from`` and ``to``) as one step.

        Returns:
            how many links were removed (0: nothing changed).
        """
        gone = {(l.source, l.target) for l in links}
        keep = [l for l in self.project.links if (l.source, l.target) not in gone]
        n = len(self.project.links) - len(keep)
        if n:
            self.submit("Remove link" if n == 1 else f"Remove {n} links", Snapshot(links=_dump_links(keep)))
        return n

    # ================================================================================== parameters
    def set_param(
        self, node_id: str, name: str, value: Any, *, merge: Hashable | None = None, text: str | None = None
    ) -> None:
        """Sets a (static) parameter value.

        A ``json`` parameter keeps the JSON data as given once its validator accepts it (so that documents stay
        as the user or the editor wrote them, unknown keys included); other kinds store the normalised value.
        ``text`` names the edit in the undo history (default ``"Set <node> <param>"``); the default merge key
        makes a drag of one parameter one step.

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
        self.submit(
            text or f"Set {node_id} {label}",
            Snapshot(nodes={node_id: self.node_state(node.model_copy(update={"params": params}))}),
            merge=("param", node_id, name) if merge is None else merge,
        )

    def reset_param(self, node_id: str, name: str) -> None:
        """Removes a stored value so that the parameter takes its declared default.

        Raises:
            KeyError: for an unknown node.
        """
        node = self.project.node(node_id)
        if name not in node.params:
            return
        params = {k: v for k, v in node.params.items() if k != name}
        self.submit(
            f"Reset {node_id} {name}",
            Snapshot(nodes={node_id: self.node_state(node.model_copy(update={"params": params}))}),
        )

    def set_title(self, node_id: str, title: str) -> None:
        """Sets the label shown instead of the type's title (empty: the type's title).

        Raises:
            KeyError: for an unknown node.
        """
        node = self.project.node(node_id)
        if node.title == title:
            return
        self.submit(
            f"Rename {node_id}", Snapshot(nodes={node_id: self.node_state(node.model_copy(update={"title": title}))})
        )

    # ================================================================================== keys
    def check_animatable(self, node_id: str, name: str, value: float | None = None):
        """The declaration of parameter ``name`` of ``node_id`` when it can be keyed (and ``value`` is valid).

        Raises:
            KeyError: for an unknown node.
            ValueError: when the parameter cannot be keyed or ``value`` is invalid, naming both.
        """
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
        """Sets a key of ``node.name`` at ``frame`` (animating the parameter if it was not); a new key between
        others takes the interpolation of the key before it.

        Raises:
            KeyError: for an unknown node.
            ValueError: when the parameter cannot be keyed or the value is invalid.
        """
        self.check_animatable(node_id, name, value)
        key = f"{node_id}.{name}"
        curve = curves.set_key(self.project.animation.get(key), frame, value)
        self.submit(
            f"Key {node_id} {name} at frame {frame:g}",
            Snapshot(animation={key: curve.model_dump(mode="json")}),
            merge=("key", key, frame) if merge is None else merge,
        )

    def remove_key(self, node_id: str, name: str, frame: float) -> None:
        """Removes the key on ``frame``; removing the last key leaves the parameter static at that key's value.

        Raises:
            KeyError: when the parameter is not animated or no key lies on ``frame``.
        """
        key = f"{node_id}.{name}"
        curve = self.project.animation.get(key)
        if curve is None:
            raise KeyError(f"node '{node_id}' param '{name}' is not animated")
        k = curve.key_at(frame)
        rest = curve.without_key(frame)
        st = Snapshot(animation={key: rest.model_dump(mode="json") if rest is not None else None})
        if rest is None and k is not None:
            node = self.project.node(node_id)
            decl = self.check_animatable(node_id, name)
            v = int(round(k.value)) if decl.kind == "int" else float(k.value)
            st.nodes[node_id] = self.node_state(node.model_copy(update={"params": {**node.params, name: v}}))
        self.submit(f"Delete key {node_id} {name} at frame {frame:g}", st)

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

    def move_key(
        self, node_id: str, name: str, frame_from: float, frame_to: float, *, merge: Hashable | None = None
    ) -> bool:
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
        self.submit(
            f"Retime key {node_id} {name}",
            Snapshot(animation={key: moved.model_dump(mode="json")}),
            merge=("retime", key) if merge is None else merge,
        )
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
        self.submit(
            f"Change key {node_id} {name} at frame {frame:g}", Snapshot(animation={key: new.model_dump(mode="json")})
        )

    def set_curve(
        self, node_id: str, name: str, curve: FCurve, *, merge: Hashable | None = None, text: str | None = None
    ) -> None:
        """Replaces the whole F-curve of ``node.name`` (the Graph Editor's key, handle and box drags); the edits
        with the same ``merge`` key (default: per curve) merge into one undo step inside an interaction.

        Args:
            curve: the new :class:`~vidstudio.motion.curves.FCurve` (frames and values in the parameter's units).
            text: the undo step's name (default ``Edit curve NODE PARAM``).

        Raises:
            KeyError: for an unknown node. ValueError: when the parameter cannot be keyed.
        """
        self.check_animatable(node_id, name)
        key = f"{node_id}.{name}"
        self.submit(
            text or f"Edit curve {node_id} {name}",
            Snapshot(animation={key: curve.model_dump(mode="json")}),
            merge=("curve", key) if merge is None else merge,
        )

    def clear_animation(self, node_id: str, name: str, frame: float) -> None:
        """Removes a parameter's curve, keeping its value at ``frame`` as the static value (nothing happens when
        it is not animated).

        Raises:
            ValueError: when the parameter cannot be keyed.
        """
        key = f"{node_id}.{name}"
        if key not in self.project.animation:
            return
        decl = self.check_animatable(node_id, name)
        v = edits.param_value(self.project, self.registry, node_id, name, frame)
        node = self.project.node(node_id)
        v = int(round(v)) if decl.kind == "int" else float(v)
        self.submit(
            f"Clear animation {node_id} {name}",
            Snapshot(
                nodes={node_id: self.node_state(node.model_copy(update={"params": {**node.params, name: v}}))},
                animation={key: None},
            ),
        )

    # ================================================================================== settings
    def set_settings(self, *, merge: Hashable | None = None, **changes: Any) -> None:
        """Changes project settings (``width``, ``height``, ``fps``, ``frame_count``...).

        Raises:
            ValueError: naming the setting when a name is unknown or a value is invalid.
        """
        current = self.project.settings.model_dump(mode="json")
        unknown = sorted(set(changes) - set(current))
        if unknown:
            raise ValueError(f"no project setting {', '.join(map(repr, unknown))} (settings: {', '.join(current)})")
        data = {**current, **changes}
        try:
            new = Settings.model_validate(data)
        except Exception as e:  # pydantic.ValidationError
            errs = getattr(e, "errors", None)
            if callable(errs):
                parts = [f"setting '{'.'.join(map(str, er['loc']))}': {er['msg']}" for er in errs()]
                raise ValueError("; ".join(parts)) from None
            raise ValueError(str(e)) from None
        dumped = new.model_dump(mode="json")
        if dumped == current:
            return
        self.submit("Change project settings", Snapshot(settings=dumped), merge=merge)

    # ================================================================================== clipboard
    def paste(self, text: str, at: tuple[float, float] | None = None) -> list[str]:
        """Pastes nodes from clipboard text (:func:`vidstudio.project.clipboard.clipboard_text`) as one step.

        Returns:
            the new node ids.

        Raises:
            vidstudio.errors.ProjectError: when the text holds no valid nodes.
        """
        plan = clipboard.plan_paste(self.project, text, self.registry, at=at)
        n = len(plan.nodes)
        return self.add_plan(plan, "Paste node" if n == 1 else f"Paste {n} nodes")

    def duplicate(self, node_ids: Iterable[str], offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Duplicates nodes (with the links among them and their animation) as one step and returns the new ids."""
        ids = [i for i in node_ids if self.project.has_node(i)]
        if not ids:
            return []
        plan = clipboard.plan_paste(
            self.project, clipboard.clipboard_text(self.project, ids), self.registry, offset=offset
        )
        return self.add_plan(plan, "Duplicate node" if len(ids) == 1 else f"Duplicate {len(ids)} nodes")


__all__ = ["Change", "Snapshot", "Edit", "DocumentEditor"]
