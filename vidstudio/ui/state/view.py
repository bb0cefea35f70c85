"""View state of one session: selection, the pinned node, what the Viewer shows, result tracks; QtCore only.

None of it is part of the document and none of it is an undo step. The Node Editor, the Inspector, the
Viewer and the Timeline subscribe to it. Its signals emit only on a real change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from vidstudio.media.clip import Clip
from vidstudio.project.view import ViewTarget, default_view_target, view_camera

if TYPE_CHECKING:
    from vidstudio.ui.state.session import Session


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


class ViewState(QObject):
    """What is selected and what the Viewer shows, for the document of ``session``.

    Args:
        session: the session whose project the ids refer to; a change of the viewed node asks its
            evaluation scheduler for a new picture.

    Attributes:
        selection: selected node ids, in selection order.
        pinned: the node whose picture the Viewer shows whatever is selected, or None.
        view_target: what the Viewer shows of the graph (:class:`~vidstudio.project.view.ViewTarget`), or None.
        view_camera: ``(node id, port)`` of the CAMERA output behind the viewed picture, or None.
        view_result: index into :attr:`results` shown instead of the graph's picture, or None.
        results: the result tracks (:class:`ResultClip`).
        overlay_types: port types whose outputs the Viewer draws as overlays (selected nodes with such
            outputs are evaluated along with the view).

    Signals: ``selection_changed()``, ``view_changed()`` (the viewed node or result changed),
    ``results_changed()``.
    """

    selection_changed = Signal()
    view_changed = Signal()
    results_changed = Signal()

    def __init__(self, session: Session, parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self.selection: tuple[str, ...] = ()
        self.pinned: str | None = None
        self.view_target: ViewTarget | None = None
        self.view_result: int | None = None
        self.results: list[ResultClip] = []
        self.overlay_types: set[str] = set()
        self.view_camera: tuple[str, str] | None = None

    # ------------------------------------------------------------------------------------- selection
    def set_selection(self, node_ids: Iterable[str]) -> None:
        """Selects nodes (not an undo step); unknown ids are dropped."""
        project = self._session.project
        sel = tuple(i for i in dict.fromkeys(node_ids) if project.has_node(i))
        if sel == self.selection:
            return
        self.selection = sel
        self.selection_changed.emit()
        self.update_view()

    def pin_view(self, node_id: str | None) -> None:
        """Shows ``node_id``'s picture in the Viewer whatever is selected (None: follow the selection)."""
        self.pinned = node_id if node_id and self._session.project.has_node(node_id) else None
        self.update_view()

    def forget(self, removed: Iterable[str]) -> None:
        """Nodes were deleted: drops them from the selection and the pin."""
        gone = set(removed)
        if set(self.selection) & gone:
            self.selection = tuple(s for s in self.selection if s not in gone)
            self.selection_changed.emit()
        if self.pinned in gone:
            self.pinned = None

    def reset(self) -> list:
        """Another document: no selection, no pin, no results.

        Returns:
            ``[(signal, args), ...]`` to emit once the session has announced the new document.
        """
        pending = []
        if self.selection:
            pending.append((self.selection_changed, ()))
        if self.results:
            pending.append((self.results_changed, ()))
        self.selection, self.pinned, self.view_result, self.results = (), None, None, []
        return pending

    # ------------------------------------------------------------------------------------- viewed node
    def update_view(self, force: bool = False) -> None:
        """Works out what the Viewer shows from the selection and the pin; asks for a new evaluation when it
        changed (or ``force``), or when selected nodes draw overlays."""
        s = self._session
        target = default_view_target(s.project, s.registry, self.selection, self.pinned)
        self.view_camera = view_camera(s.project, s.registry, target)
        if target != self.view_target or force:
            self.view_target = target
            self.view_changed.emit()
            s.evaluation.schedule()
        elif self.overlay_types and any(self.overlay_node(n) for n in self.selection):
            s.evaluation.schedule()

    def overlay_node(self, node_id: str) -> bool:
        """True when ``node_id`` has an output of one of :attr:`overlay_types`."""
        s = self._session
        cls = s.registry.find(s.project.node(node_id).type) if s.project.has_node(node_id) else None
        return cls is not None and any(str(o.type) in self.overlay_types for o in cls.outputs)

    # ------------------------------------------------------------------------------------- results
    def set_view_result(self, index: int | None) -> None:
        """Shows result ``index`` in the Viewer (None: the graph's picture).

        Raises:
            IndexError: for an index outside :attr:`results`.
        """
        if index is not None and not 0 <= index < len(self.results):
            raise IndexError(f"no result #{index}")
        self.view_result = index
        self._session.evaluation.show(None if index is None else self.results[index].clip)
        self.view_changed.emit()
        self._session.frames.request(self._session.transport.playhead)

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
