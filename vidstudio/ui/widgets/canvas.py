"""The pan and zoom behaviour the Node Editor and the Viewer share.

Pan: middle-drag, Alt+left-drag, or a trackpad's two-finger scroll. Zoom: the mouse wheel, Ctrl+trackpad scroll
or a pinch, about the pointer. Subclasses say how far they may zoom (:meth:`PanZoomView.zoom_by`).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QNativeGestureEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QWidget

#: Zoom factor per wheel unit (one notch is 120 units: about x1.2).
WHEEL_ZOOM = 1.0015


class PanZoomView(QGraphicsView):
    """A QGraphicsView with the house's pan and zoom gestures.

    Subclasses implement :meth:`zoom_by` (usually clamping and then :meth:`scale_about`) and call
    :meth:`start_pan`, :meth:`continue_pan` and :meth:`end_pan` first in their mouse handlers; each returns True
    when it took the event.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pan_from: QPointF | None = None

    # ------------------------------------------------------------------------------------ to override
    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zooms by ``factor`` about ``anchor`` (viewport pixels; None: the centre)."""
        raise NotImplementedError

    def pan_by(self, dx: float, dy: float) -> None:
        """Scrolls the view by ``(dx, dy)`` viewport pixels."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(int(h.value() + dx))
        v.setValue(int(v.value() + dy))

    # ------------------------------------------------------------------------------------ helpers
    def scale_about(self, factor: float, anchor: QPointF) -> None:
        """Scales the view by ``factor`` keeping the scene point under ``anchor`` (viewport pixels) in place."""
        before = self.mapToScene(anchor.toPoint())
        old = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        d = self.mapToScene(anchor.toPoint()) - before
        self.translate(d.x(), d.y())
        self.setTransformationAnchor(old)

    def start_pan(self, event) -> bool:
        """On a middle or Alt+left press: starts panning (closed-hand cursor) and returns True."""
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.AltModifier
        ):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return True
        return False

    def continue_pan(self, event) -> bool:
        """While panning: scrolls with the pointer and returns True."""
        if self._pan_from is None:
            return False
        d = event.position() - self._pan_from
        self._pan_from = event.position()
        self.pan_by(-d.x(), -d.y())
        event.accept()
        return True

    def end_pan(self, event) -> bool:
        """On the release of the panning button: stops panning and returns True."""
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return True
        return False

    # ------------------------------------------------------------------------------------ events
    def wheelEvent(self, event: QWheelEvent) -> None:
        pixel = event.pixelDelta()
        if not pixel.isNull() and not (event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.pan_by(-pixel.x(), -pixel.y())  # a trackpad's two-finger scroll pans
            event.accept()
            return
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(WHEEL_ZOOM**delta, event.position())
        event.accept()

    def viewportEvent(self, event) -> bool:
        if isinstance(event, QNativeGestureEvent) and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            self.zoom_by(1.0 + event.value(), event.position())
            return True
        return super().viewportEvent(event)
