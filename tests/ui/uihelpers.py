"""Helpers for the GUI tests: scripted answers to the window's questions, a registry with a node type of
every parameter kind, and small waits."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from vidstudio.graph.node import Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
ASSETS = EXAMPLES / "assets"
KEN_BURNS = EXAMPLES / "ken_burns.vidproj"


class ScriptedPrompts:
    """Answers the window's questions from a script and records what was asked.

    Attributes:
        unsaved: answer to "unsaved changes" (``save``/``discard``/``cancel``).
        recovery: answer to the recovery offer (``recover``/``discard``/``keep``).
        save_as: path returned by the Save As dialog (None: cancelled).
        output_choice: the node chosen when Generate asks (None: the first candidate); stop_jobs: whether to
        close while generation jobs run; switch: whether to change servers while they run.
        asked: ``(question, detail)`` for every question.
        errors: ``(title, text)`` of every error shown.
    """

    def __init__(self, unsaved: str = "discard", recovery: str = "keep", save_as: str | None = None):
        self.unsaved = unsaved
        self.recovery = recovery
        self.save_as = save_as
        self.output_choice: str | None = None  # None: the first candidate
        self.stop_jobs = True
        self.switch = True
        self.open = None
        self.asked: list[tuple[str, Any]] = []
        self.errors: list[tuple[str, str]] = []
        self.parent = None

    def unsaved_changes(self, label: str) -> str:
        self.asked.append(("unsaved", label))
        return self.unsaved

    def offer_recovery(self, info, label: str) -> str:
        self.asked.append(("recovery", info))
        return self.recovery

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def open_path(self, start: str):
        self.asked.append(("open", start))
        return self.open

    def save_path(self, suggested: str):
        self.asked.append(("save_as", suggested))
        return self.save_as

    def choose_recovery(self, infos):
        self.asked.append(("choose_recovery", infos))
        return infos[0] if infos else None

    def choose_output(self, candidates, labels):
        self.asked.append(("choose_output", list(candidates)))
        return self.output_choice or (candidates[0] if candidates else None)

    def stop_generation(self, count, local):
        self.asked.append(("stop_generation", (count, local)))
        return self.stop_jobs

    def switch_server(self, count):
        self.asked.append(("switch_server", count))
        return self.switch

    def reenable_crashed_plugin(self, plugin, what):
        self.asked.append(("reenable_plugin", (plugin, what)))
        return self.reenable

    reenable = True


class Gradient(Node):
    """A test source: a horizontal gradient whose brightness is ``level`` (animatable), so every frame
    differs and its pixels are known analytically: pixel (x, y) of frame i is ``level[i] * (x + 0.5) / W``
    in all three channels."""

    type_id = "Gradient"
    title = "Gradient"
    category = "Test"
    description = "A gradient for tests."
    outputs = (Output("video", PortType.VIDEO, "gradient"),)
    params = (Param("level", "float", 1.0, min=0.0, max=1.0, step=0.01, animatable=True, help="brightness"),)
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx, inputs, params):
        W, H = ctx.width, ctx.height
        ramp = ((np.arange(W, dtype=np.float32) + 0.5) / W)[None, :, None]
        level = params["level"]

        def render(i: int) -> np.ndarray:
            return np.broadcast_to(ramp * np.float32(level[i]), (H, W, 3)).astype(np.float32)

        return {"video": Clip(ctx.frame_count, H, W, render, label=f"{ctx.node_id} video")}


class Boxes(Node):
    """A test node with a BOXES output (for the overlay API)."""

    type_id = "Boxes"
    title = "Boxes"
    category = "Test"
    description = "Two boxes."
    outputs = (Output("boxes", PortType.BOXES, "(T, 2, 4) px"),)
    params = (Param("x", "float", 10.0, min=0, max=1000, step=1, animatable=True),)
    uses_settings = ("frame_count",)

    def execute(self, ctx, inputs, params):
        x = params["x"]
        b = np.zeros((ctx.frame_count, 2, 4))
        b[:, 0] = np.stack([x, x, x + 20, x + 10], axis=1)
        b[:, 1] = [50, 50, 60, 70]
        return {"boxes": b}


class Everything(Node):
    """A test node with one parameter of every kind."""

    type_id = "Everything"
    title = "Everything"
    category = "Test"
    description = "Every parameter kind."
    inputs = (Input("video", PortType.VIDEO, optional=True),)
    outputs = (Output("video", PortType.VIDEO),)
    params = (
        Param("amount", "float", 0.5, min=0.0, max=1.0, step=0.01, animatable=True, help="how much"),
        Param("steps", "int", 20, min=1, max=100, step=1),
        Param("big", "float", 0.0, min=-100000, max=100000, step=1, unit="px"),
        Param("enabled", "bool", True),
        Param("name", "string", "hello"),
        Param("prompt", "text", "a cat"),
        Param("mode", "choice", "fast", choices=("fast", "slow")),
        Param("picture", "file", "", file_role="image"),
        Param("model", "file", "", file_role="model"),
        Param("tint", "color", [1.0, 0.5, 0.0]),
        Param("points", "json", [[0, 0]], validator=lambda v: _points(v)),
    )

    def execute(self, ctx, inputs, params):
        return {"video": inputs["video"]}


def _points(v):
    if not isinstance(v, list) or not all(isinstance(p, list) and len(p) == 2 for p in v):
        raise ValueError("points must be a list of [x, y] pairs")
    return v


def make_registry():
    """The built-in nodes plus the test nodes."""
    from vidstudio.nodes import default_registry

    reg = default_registry()
    for cls in (Gradient, Boxes, Everything):
        reg.register(cls)
    return reg


def wait_for(predicate, timeout: float = 10.0, qtbot=None) -> None:
    """Processes Qt events until ``predicate()`` is true.

    Raises:
        AssertionError: after ``timeout`` seconds.
    """
    if qtbot is not None:
        qtbot.waitUntil(predicate, timeout=int(timeout * 1000))
        return
    from PySide6.QtCore import QCoreApplication

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError("condition not met in time")


def image_to_array(img) -> np.ndarray:
    """A QImage (any format) as an ``(H, W, 3)`` uint8 RGB array."""
    from PySide6.QtGui import QImage

    rgb = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h = rgb.width(), rgb.height()
    buf = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=rgb.sizeInBytes())
    return buf.reshape(h, rgb.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def drop_files(widget, paths, pos=(200, 150)) -> bool:
    """Drops files on ``widget`` as a drag from a file manager does (enter, move, drop); returns whether
    the drop was accepted."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(*map(int, pos)), *args)
    QGuiApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    QGuiApplication.sendEvent(widget, QDragMoveEvent(QPoint(*map(int, pos)), *args))
    drop = QDropEvent(QPointF(*pos), *args)
    QGuiApplication.sendEvent(widget, drop)
    return drop.isAccepted()
