"""Viewer overlays: layers drawn over the frame in image-pixel coordinates, and the registry that makes a
node's output show up as one.

Coordinates are those of the project everywhere: an overlay's item coordinates are pixels of the output
frame, origin at the top-left corner, y down, pixel ``i`` covering ``[i, i + 1)`` (centre ``i + 0.5``), so
an overlay draws ``(x, y)`` positions from a TRAJECTORY or BOXES value as they are, whatever the zoom. An
overlay is a ``QGraphicsObject`` in the Viewer's scene: it may be interactive (``ItemIsMovable`` child items
for control points, mouse handlers) and should use :meth:`ViewerOverlay.cosmetic_pen` so that lines keep
their width on screen when the Viewer zooms.

Two ways in:

* ``viewer.add_overlay(name, overlay)``: a layer the application owns (the safe-area guides).
* :func:`register_overlay` ``(port_type, factory)``: whenever a selected node has an output of
  ``port_type``, the session also computes that output, and the Viewer shows
  ``factory(OverlayContext(...))`` (or, when the overlay for that output exists, calls its
  :meth:`ViewerOverlay.set_value`). This is how trajectory, box and physics overlays plug in::

      register_overlay("TRAJECTORY", lambda ctx: TrajectoryOverlay(ctx))

  where ``ctx.session`` gives undoable edits (``session.set_param``, ``session.begin_interaction``...), so an
  overlay that edits control points needs nothing else from the Viewer.

World pixels: trajectories and physics bodies live in *world* pixels (the output frame's pixels at rest
camera). An overlay that draws them sets :attr:`ViewerOverlay.uses_camera`; the Viewer then hands it the
camera behind the viewed picture (:meth:`ViewerOverlay.set_camera`, ``(T, 3, 3)`` world-to-frame matrices)
and the overlay's item transform follows the camera at the playhead, so the overlay keeps drawing and
receiving mouse events in world pixels while its drawing lands where the picture shows them.

The overlays VidStudio itself registers (trajectories, boxes, the physics scene) are in
:mod:`vidstudio.ui.widgets.viewer.motion_overlays`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

if TYPE_CHECKING:  # pragma: no cover
    from vidstudio.ui.state.session import Session


class ViewerOverlay(QGraphicsObject):
    """Base class of Viewer overlays (see the module docstring).

    Subclasses implement ``boundingRect()`` and ``paint()`` in image-pixel coordinates (world pixels when
    :attr:`uses_camera`) and may override the hooks below. ``frame`` is the playhead frame; ``frame_size`` the
    output frame's ``(width, height)``; ``camera`` the ``(T, 3, 3)`` world-to-frame matrices or None.

    Class attributes:
        uses_camera: the overlay draws world pixels; its item transform follows the camera at the playhead.
        hint: a line the Viewer shows at the bottom of the frame while the overlay is up (how to edit it).
    """

    uses_camera = False
    hint = ""

    def __init__(self) -> None:
        super().__init__()
        self.frame = 0
        self.frame_size = (0, 0)
        self.camera: np.ndarray | None = None
        self.setZValue(10)

    # ---------------------------------------------------------------------------------------- hooks
    def set_frame(self, frame: int) -> None:
        """Called when the playhead moves; default: remember it, follow the camera and repaint."""
        self.frame = frame
        self._apply_camera()
        self.update()

    def set_camera(self, matrices: np.ndarray | None) -> None:
        """Called with the camera behind the viewed picture: ``(T, 3, 3)`` float64 world-to-frame affines (or
        None: world pixels are frame pixels). Overlays that draw world pixels (:attr:`uses_camera`) follow it."""
        self.camera = None if matrices is None else np.asarray(matrices, dtype=np.float64).reshape(-1, 3, 3)
        self._apply_camera()
        self.update()

    def world_to_frame(self) -> np.ndarray:
        """The ``(3, 3)`` world-to-frame matrix at the playhead (identity without a camera, or when the
        overlay does not use it)."""
        if not self.uses_camera or self.camera is None or len(self.camera) == 0:
            return np.eye(3)
        return self.camera[int(min(max(self.frame, 0), len(self.camera) - 1))]

    def _apply_camera(self) -> None:
        m = self.world_to_frame()
        t = QTransform(m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])
        if t != self.transform():
            self.setTransform(t)

    def set_frame_size(self, width: int, height: int) -> None:
        """Called when the viewed frame's size changes."""
        self.prepareGeometryChange()
        self.frame_size = (width, height)
        self.update()

    def set_value(self, value: Any) -> None:
        """Called with a new value of the output this overlay shows (value-driven overlays only)."""

    def detach(self) -> None:
        """Called before the overlay is removed from the Viewer (release resources, end interactions)."""

    # ---------------------------------------------------------------------------------------- helpers
    @staticmethod
    def cosmetic_pen(color: str | QColor, width: float = 1.5, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
        """A pen whose width is in screen pixels, whatever the zoom."""
        pen = QPen(QColor(color), width, style)
        pen.setCosmetic(True)
        return pen


@dataclass
class OverlayContext:
    """What a value-driven overlay factory receives.

    Attributes:
        session: the session (document, undoable edits, playhead).
        node_id, port, port_type: the output shown.
        value: its current value (as the engine produced it).
    """

    session: Session
    node_id: str
    port: str
    port_type: str
    value: Any


OverlayFactory = Callable[[OverlayContext], ViewerOverlay]
_FACTORIES: dict[str, OverlayFactory] = {}


def register_overlay(port_type: str, factory: OverlayFactory) -> None:
    """Makes outputs of ``port_type`` of selected nodes show in the Viewer through ``factory``
    (replacing an earlier registration for that type). Register before the main window is created."""
    _FACTORIES[str(port_type)] = factory


def unregister_overlay(port_type: str) -> None:
    """Removes a registration (unknown types are ignored)."""
    _FACTORIES.pop(str(port_type), None)


def overlay_factory(port_type: str) -> OverlayFactory | None:
    """The factory registered for ``port_type``, or None."""
    return _FACTORIES.get(str(port_type))


def registered_types() -> set[str]:
    """Port types that have an overlay factory."""
    return set(_FACTORIES)


class GuidesOverlay(ViewerOverlay):
    """Composition guides: action-safe (93 %) and title-safe (90 %) rectangles (EBU R 95 / SMPTE RP 2046-2)
    and the rule-of-thirds grid."""

    def boundingRect(self) -> QRectF:
        w, h = self.frame_size
        return QRectF(0, 0, w, h)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        w, h = self.frame_size
        if w <= 0 or h <= 0:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self.cosmetic_pen(QColor(255, 255, 255, 70), 1.0, Qt.PenStyle.DashLine))
        for i in (1, 2):
            painter.drawLine(QPointF(w * i / 3, 0), QPointF(w * i / 3, h))
            painter.drawLine(QPointF(0, h * i / 3), QPointF(w, h * i / 3))
        for frac, alpha in ((0.93, 110), (0.90, 150)):
            mx, my = w * (1 - frac) / 2, h * (1 - frac) / 2
            painter.setPen(self.cosmetic_pen(QColor(240, 160, 48, alpha), 1.0))
            painter.drawRect(QRectF(mx, my, w - 2 * mx, h - 2 * my))
