"""The session: one open project and its undo stack, composed with the state objects around it; no widgets.

This is the evented model of the application (napari's shape). The session owns the document: every change
to it goes through an edit method here, which the session's Qt-free
:class:`~vidstudio.project.editor.DocumentEditor` validates and turns into an
:class:`~vidstudio.project.editor.Edit` (the parts it touches, before and after); the session wraps each edit
in one :class:`EditCommand` on its ``QUndoStack``, so undo and redo restore exactly those parts. A drag (a
slider, a moved key) is one undo step because edits made inside :meth:`Session.begin_interaction` /
:meth:`Session.end_interaction` with the same ``merge`` key merge (:meth:`~vidstudio.project.editor.Edit.absorb`).

Around the document the session composes the state objects that widgets subscribe to, each owning what it
says and emitting only on a real change:

* :attr:`Session.transport` (:class:`~vidstudio.ui.state.transport.Transport`): playhead, in/out, playback;
* :attr:`Session.view` (:class:`~vidstudio.ui.state.view.ViewState`): selection, pin, viewed node, results;
* :attr:`Session.evaluation` (:class:`~vidstudio.ui.state.scheduler.EvaluationScheduler`): when and what to
  evaluate, the latest issues and node reports;
* :attr:`Session.frames` (:class:`~vidstudio.ui.state.evaluation.FrameCache`): the viewed clip's frames;
* :attr:`Session.motion_edit` (:class:`~vidstudio.ui.state.motion_edit.EditState`): the path or body edited;
* :attr:`Session.previews` (:class:`~vidstudio.ui.state.previews.MediaPreviews`): the Timeline's thumbnails and
  waveforms, made on a worker thread.

After every change that matters to the result, the session asks its evaluation scheduler for a new picture.
Tests drive a session without any window.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from vidstudio.graph.engine import Engine
from vidstudio.graph.model import Link, Settings
from vidstudio.graph.registry import NodeRegistry
from vidstudio.motion.curves import FCurve
from vidstudio.project import Project, clipboard, edits
from vidstudio.project.editor import Change, DocumentEditor, Edit, Snapshot
from vidstudio.ui.state.evaluation import FrameCache
from vidstudio.ui.state.motion_edit import EditState
from vidstudio.ui.state.previews import MediaPreviews
from vidstudio.ui.state.scheduler import EvaluationScheduler
from vidstudio.ui.state.transport import Transport
from vidstudio.ui.state.view import ViewState

__all__ = ["EditCommand", "GraphChange", "Session"]

#: What an edit (or its undo) changed: :class:`vidstudio.project.editor.Change` (``graph_changed``'s argument).
GraphChange = Change


class EditCommand(QUndoCommand):
    """One undoable edit of the document: a :class:`~vidstudio.project.editor.Edit` on the session's undo stack.

    ``redo`` applies the edit's ``after`` parts, ``undo`` its ``before`` parts (through the session, which tells
    the widgets); consecutive commands of one drag with the same merge key merge into one.
    """

    MERGE_ID = 0x7653

    def __init__(self, session: Session, edit: Edit):
        super().__init__(edit.text)
        self.session = session
        self.edit = edit

    def redo(self) -> None:
        self.session._apply(self.edit.after)

    def undo(self) -> None:
        self.session._apply(self.edit.before)

    def id(self) -> int:
        return self.MERGE_ID if self.edit.merge is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        return isinstance(other, EditCommand) and self.edit.absorb(other.edit)


class Session(QObject):
    """One open project with its undo stack, composed with its transport, view state, evaluation scheduler,
    frame cache and motion-editing state (see the module docstring).

    Args:
        registry: node types (default: :func:`vidstudio.nodes.default_registry`).
        engine: the engine to evaluate with (default: a new one on ``registry``, kept for the session).
        project: the document to start with (default: an empty project).
        prefetch: render every frame of the viewed clip in the background.
        frame_budget_bytes: memory for cached frames.

    Attributes:
        project: the document (replace it with :meth:`set_project`); registry: its node types.
        editor: the :class:`~vidstudio.project.editor.DocumentEditor` that makes every edit of ``project``.
        undo_stack: the ``QUndoStack`` of :class:`EditCommand`.
        transport, view, evaluation, frames, motion_edit, previews: the composed state objects (module docstring).

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
        self._dirty_shown = False  # what dirty_changed said last
        self.editor = DocumentEditor(self.project, registry, push=self._push_edit)
        self._closed = False

        self.previews = MediaPreviews(parent=self)
        settings = self.project.settings
        self.frames = FrameCache(frame_budget_bytes, prefetch=prefetch, parent=self, fps=settings.fps)
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
            self._announce_dirty()

    def _announce_dirty(self) -> None:
        if self.is_dirty != self._dirty_shown:  # only a real change
            self._dirty_shown = self.is_dirty
            self.dirty_changed.emit(self._dirty_shown)

    def mark_dirty(self) -> None:
        """Marks the document as unsaved although the undo stack is clean (e.g. after a recovery)."""
        if not self._forced_dirty:
            self._forced_dirty = True
            self._announce_dirty()

    def mark_saved(self, undo_index: int | None = None) -> None:
        """Records that the document as of undo index ``undo_index`` (default: now) is on disk."""
        if undo_index is None or undo_index == self.undo_stack.index():
            self._forced_dirty = False
            self.undo_stack.setClean()
        self._announce_dirty()

    def bind(self, path: Path) -> None:
        """The document now lives at ``path`` (after Save As): binds the project there and emits
        ``path_changed`` when the path changed."""
        old = self.project.path
        self.project.bind(path)
        if self.project.path != old:
            self.path_changed.emit()

    @property
    def label(self) -> str:
        """The name shown in the title bar: the file name, or ``Untitled``."""
        return self.project.path.name if self.project.path is not None else "Untitled"

    def set_project(self, project: Project, *, dirty: bool = False) -> None:
        """Replaces the document (New, Open, Recover): clears undo history, selection and results."""
        self.project = project
        self.editor.project = project
        self.undo_stack.clear()
        self._forced_dirty = dirty
        self.frames.set_timebase(project.settings.fps)
        pending = [*self.transport.reset(project.settings.frame_count, project.settings.fps), *self.view.reset()]
        self.evaluation.reset()
        self.engine.history = {}
        self.previews.forget()  # its files may have changed on disk
        self.project_replaced.emit()
        self.path_changed.emit()
        self._announce_dirty()
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
        same = [n.model_dump(mode="json") for n in moved.nodes] == [
            n.model_dump(mode="json") for n in self.project.nodes
        ] and [a.model_dump(mode="json") for a in moved.assets] == [
            a.model_dump(mode="json") for a in self.project.assets
        ]
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
        self.editor.registry = registry
        self.engine = Engine(registry)
        self.evaluation.set_engine(self.engine)
        self.registry_changed.emit()
        self.view.update_view(force=True)

    # ================================================================================== edit machinery
    def _push_edit(self, edit: Edit) -> None:
        # QUndoStack.push runs the command's redo() at once, which applies the edit
        self.undo_stack.push(EditCommand(self, edit))

    def _apply(self, st: Snapshot) -> None:
        self._after_change(self.editor.apply(st))

    def _after_change(self, change: GraphChange) -> None:
        if change.removed:
            self.evaluation.forget(change.removed)
            self.view.forget(change.removed)
        if change.settings:
            self.frames.set_timebase(self.project.settings.fps)
            self.transport.set_timebase(self.project.settings.frame_count, self.project.settings.fps)
        self.graph_changed.emit(change)
        if not change.layout_only:
            self.view.update_view()
            self.evaluation.schedule()

    def begin_interaction(self) -> None:
        """Starts a drag: edits with the same ``merge`` key until :meth:`end_interaction` make one undo step,
        and autosave waits."""
        self.editor.begin_interaction()

    def end_interaction(self) -> None:
        """Ends a drag started with :meth:`begin_interaction` (emits ``interaction_finished`` at the outermost)."""
        if self.editor.end_interaction():
            self.interaction_finished.emit()

    @property
    def interacting(self) -> bool:
        """True during a drag."""
        return self.editor.interacting

    # ================================================================================== edits
    # Each edit is the DocumentEditor's (same name and arguments; see its docstring for the errors it raises),
    # pushed on the undo stack; the session adds what the GUI does around it (selecting what was added,
    # saying why a link was refused, keying at the playhead).
    def add_node(
        self,
        type_id: str,
        position: tuple[float, float] = (0.0, 0.0),
        params: dict[str, Any] | None = None,
        node_id: str | None = None,
        *,
        select: bool = True,
    ) -> str:
        """Adds a node of ``type_id`` at ``position`` (scene units), selects it and returns its id
        (:meth:`DocumentEditor.add_node <vidstudio.project.editor.DocumentEditor.add_node>`).

        Raises:
            ValueError: for an unknown or unavailable type (the message says why).
        """
        nid = self.editor.add_node(type_id, position, params, node_id)
        if select:
            self.view.set_selection([nid])
        return nid

    def add_plan(self, plan: clipboard.PastePlan, text: str, *, select: bool = True) -> list[str]:
        """Adds a planned group of nodes with their links and animation (paste, duplicate, drop) as one step and
        selects them."""
        ids = self.editor.add_plan(plan, text)
        if ids and select:
            self.view.set_selection(ids)
        return ids

    def remove_nodes(self, node_ids: Iterable[str]) -> list[str]:
        """Deletes nodes with their links and animation as one step (unknown ids are ignored); returns the ids."""
        return self.editor.remove_nodes(node_ids)

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> None:
        """Moves nodes to new scene positions as one step (a drag of several nodes)."""
        self.editor.move_nodes(positions)

    def connect_ports(self, src_node: str, src_port: str, dst_node: str, dst_port: str) -> edits.LinkCheck:
        """Links an output to an input (replacing the link into a single-value input).

        Returns:
            the :class:`~vidstudio.project.edits.LinkCheck`; when refused nothing changes, ``reason`` says why
            and the session's ``message`` signal says it too.
        """
        check = self.editor.connect_ports(src_node, src_port, dst_node, dst_port)
        if not check.ok:
            self.message.emit(check.reason)
        return check

    def disconnect_links(self, links: Iterable[Link]) -> int:
        """Removes links (matched by their ``from`` and ``to``) as one step; returns how many."""
        return self.editor.disconnect_links(links)

    def set_param(
        self, node_id: str, name: str, value: Any, *, merge: Hashable | None = None, text: str | None = None
    ) -> None:
        """Sets a (static) parameter value (:meth:`DocumentEditor.set_param
        <vidstudio.project.editor.DocumentEditor.set_param>`).

        Raises:
            KeyError: for an unknown node.
            ValueError: naming the node and parameter when the value is invalid for its declaration.
        """
        self.editor.set_param(node_id, name, value, merge=merge, text=text)

    def reset_param(self, node_id: str, name: str) -> None:
        """Removes a stored value so that the parameter takes its declared default."""
        self.editor.reset_param(node_id, name)

    def set_title(self, node_id: str, title: str) -> None:
        """Sets the label shown instead of the type's title (empty: the type's title)."""
        self.editor.set_title(node_id, title)

    def set_key(self, node_id: str, name: str, frame: float, value: float, *, merge: Hashable | None = None) -> None:
        """Sets a key of ``node.name`` at ``frame`` (animating the parameter if it was not).

        Raises:
            ValueError: when the parameter cannot be keyed or the value is invalid.
        """
        self.editor.set_key(node_id, name, frame, value, merge=merge)

    def remove_key(self, node_id: str, name: str, frame: float) -> None:
        """Removes the key on ``frame``; removing the last key leaves the parameter static at that key's value.

        Raises:
            KeyError: when no key lies on ``frame``.
        """
        self.editor.remove_key(node_id, name, frame)

    def toggle_key(self, node_id: str, name: str, frame: int) -> bool:
        """The key button: removes the key on ``frame`` if there is one, else keys the current value there.

        Returns:
            True when a key was set, False when one was removed.
        """
        return self.editor.toggle_key(node_id, name, frame)

    def move_key(
        self, node_id: str, name: str, frame_from: float, frame_to: float, *, merge: Hashable | None = None
    ) -> bool:
        """Retimes the key on ``frame_from`` to ``frame_to``.

        Returns:
            False (and changes nothing) when another key already lies on ``frame_to``.

        Raises:
            KeyError: when there is no such curve or key.
        """
        return self.editor.move_key(node_id, name, frame_from, frame_to, merge=merge)

    def set_key_fields(self, node_id: str, name: str, frame: float, **fields: Any) -> None:
        """Changes fields of the key on ``frame`` (``interpolation``, ``easing``, ``handle_type``...).

        Raises:
            KeyError: when there is no such key. ValueError: for an invalid field value.
        """
        self.editor.set_key_fields(node_id, name, frame, **fields)

    def set_curve(
        self, node_id: str, name: str, curve: FCurve, *, merge: Hashable | None = None, text: str | None = None
    ) -> None:
        """Replaces the whole F-curve of ``node.name`` (the Graph Editor's key, handle and box drags); inside an
        interaction the edits with the same ``merge`` key (default: per curve) make one undo step.

        Raises:
            ValueError: when the parameter cannot be keyed.
        """
        self.editor.set_curve(node_id, name, curve, merge=merge, text=text)

    def clear_animation(self, node_id: str, name: str, frame: int | None = None) -> None:
        """Removes a parameter's curve, keeping its value at ``frame`` (default: the playhead) as the static value."""
        self.editor.clear_animation(node_id, name, self.transport.playhead if frame is None else frame)

    def set_settings(self, *, merge: Hashable | None = None, **changes: Any) -> None:
        """Changes project settings (``width``, ``height``, ``fps``, ``frame_count``).

        Raises:
            ValueError: naming the setting when a name is unknown or a value is invalid.
        """
        self.editor.set_settings(merge=merge, **changes)

    # ------------------------------------------------------------------------------------- clipboard
    def copy_text(self, node_ids: Iterable[str]) -> str:
        """The clipboard text of some nodes (see :func:`vidstudio.project.clipboard.clipboard_text`)."""
        return clipboard.clipboard_text(self.project, node_ids)

    def paste(self, text: str, at: tuple[float, float] | None = None) -> list[str]:
        """Pastes nodes from clipboard text as one step and selects them.

        Raises:
            vidstudio.errors.ProjectError: when the text holds no valid nodes.
        """
        ids = self.editor.paste(text, at)
        if ids:
            self.view.set_selection(ids)
        return ids

    def duplicate(self, node_ids: Iterable[str], offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Duplicates nodes (with the links among them and their animation) as one step and selects the copies."""
        ids = self.editor.duplicate(node_ids, offset)
        if ids:
            self.view.set_selection(ids)
        return ids

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
        self.previews.shutdown()
