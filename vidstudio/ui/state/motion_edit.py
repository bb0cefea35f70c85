"""What the artist is editing in the motion documents, shared by the Viewer's overlays and the Inspector's
path and body editors (choosing a path in the Inspector's list makes it the one the Viewer edits, and
clicking a path's point in the Viewer selects it in the list).

One :class:`EditState` per session (``session.motion_edit``, made by the session). It is not part of the
document and not an undo step.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class EditState(QObject):
    """The current motion-editing target of a session.

    Attributes:
        node_id: the node whose document is edited (a Trajectory or Physics Scene node), or None.
        item: the path id (Trajectory) or body id (Physics Scene) being edited, or None.
        point: the selected control point of that path (index), or None.
        armed: the next click on the frame starts a new path (the Draw Path tool, "New Path").

    Signal ``changed()`` after any of them changes (through :meth:`set`).
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.node_id: str | None = None
        self.item: str | None = None
        self.point: int | None = None
        self.armed = False

    def set(
        self,
        node_id: str | None = ...,
        item: str | None = ...,
        point: int | None = ...,  # type: ignore[assignment]
        armed: bool = ...,
    ) -> None:  # type: ignore[assignment]
        """Changes the given attributes (others stay) and emits ``changed`` when something changed. Choosing
        another node clears ``item`` and ``point`` unless they are given."""
        old = (self.node_id, self.item, self.point, self.armed)
        if node_id is not ... and node_id != self.node_id:
            self.node_id = node_id
            self.item, self.point = None, None
        if item is not ...:
            if item != self.item:
                self.point = None
            self.item = item
        if point is not ...:
            self.point = point
        if armed is not ...:
            self.armed = bool(armed)
        if (self.node_id, self.item, self.point, self.armed) != old:
            self.changed.emit()

    def is_for(self, node_id: str) -> bool:
        """True when the state is about ``node_id``."""
        return self.node_id == node_id
