"""The Inspector built from parameter declarations, edited with mouse and keyboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QPlainTextEdit

from uihelpers import image_to_array, wait_for
from vidstudio.project import Project
from vidstudio.ui.widgets.param_editors import (
    BoolEditor,
    ChoiceEditor,
    ColorEditor,
    FileEditor,
    JsonEditor,
    NumberEditor,
    StringEditor,
    TextEditor,
)


def enter_text(qtbot, widget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_editors_come_from_the_declarations_and_edit_the_document(qtbot, window_factory, tmp_path):
    win = window_factory()
    s = win.session
    nid = s.add_node("Everything", (0, 0))
    rows = win.inspector.rows
    kinds = {name: type(r.editor) for name, r in rows.items()}
    assert kinds == {
        "amount": NumberEditor,
        "steps": NumberEditor,
        "big": NumberEditor,
        "enabled": BoolEditor,
        "name": StringEditor,
        "prompt": TextEditor,
        "mode": ChoiceEditor,
        "picture": FileEditor,
        "model": FileEditor,
        "tint": ColorEditor,
        "points": JsonEditor,
    }
    assert rows["amount"].editor.slider is not None and rows["steps"].editor.slider is not None
    assert rows["big"].editor.slider is None  # 200000 steps: a slider would be useless
    assert rows["amount"].key is not None and rows["steps"].key is None
    assert rows["model"].editor.button.menu() is not None  # weights file or model folder
    assert rows["amount"].label.toolTip() == "how much"

    enter_text(qtbot, rows["steps"].editor.spin.lineEdit(), "42")
    qtbot.mouseClick(rows["enabled"].editor.box, Qt.MouseButton.LeftButton)
    enter_text(qtbot, rows["name"].editor.line, "world")
    box: QPlainTextEdit = rows["prompt"].editor.box
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "a dog on a skateboard")
    rows["name"].editor.line.setFocus()  # focus leaves the prompt: committed
    combo = rows["mode"].editor.combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    enter_text(qtbot, rows["picture"].editor.line, "assets/x.png")
    rows["tint"].editor.choose(QColor(0, 128, 255))
    params = s.project.node(nid).params
    assert params["steps"] == 42 and params["enabled"] is False and params["name"] == "world"
    assert params["prompt"] == "a dog on a skateboard" and params["mode"] == "slow"
    assert params["picture"] == "assets/x.png" and params["tint"] == pytest.approx([0.0, 0.502, 1.0], abs=1e-3)

    # JSON: an invalid text is not committed, stays in the box, and says why
    js = rows["points"].editor
    js.box.setFocus()
    js.box.selectAll()
    qtbot.keyClicks(js.box, "[[1, 2], [3]]")
    qtbot.keyClick(js.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert params.get("points") is None and "points must be a list of [x, y] pairs" in js.error.text()
    assert js.box.toPlainText() == "[[1, 2], [3]]"
    js.box.selectAll()
    qtbot.keyClicks(js.box, "[[1, 2], [3, 4]]")
    qtbot.keyClick(js.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert s.project.node(nid).params["points"] == [[1, 2], [3, 4]] and not js.error.isVisible()

    # undo restores the editors too
    s.undo_stack.undo()
    s.undo_stack.undo()
    assert rows["tint"].editor.value() == [1.0, 0.5, 0.0]


def _gradient_window(window_factory):
    win = window_factory()
    s = win.session
    p = Project(settings={"width": 64, "height": 32, "fps": 24, "frame_count": 30})
    s.set_project(p)
    nid = s.add_node("Gradient", (0, 0))
    assert s.wait_idle(10)
    return win, s, nid


def test_a_slider_drag_is_one_undo_step_and_the_picture_follows(qtbot, window_factory):
    win, s, nid = _gradient_window(window_factory)
    slider = win.inspector.rows["level"].editor.slider
    during_drag = []
    s.evaluation.evaluated.connect(lambda r: during_drag.append(s.interacting))
    n0 = s.undo_stack.count()
    y = slider.height() // 2
    right = QPoint(slider.width() - 3, y)
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=right)
    for x in range(slider.width() - 10, slider.width() // 2 - 1, -15):
        qtbot.mouseMove(slider, QPoint(x, y))
        qtbot.waitUntil(lambda: not s.evaluation.evaluating, timeout=10000)  # the picture catches up while dragging
    qtbot.mouseMove(slider, QPoint(slider.width() // 2, y))
    assert s.interacting
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() // 2, y))
    assert not s.interacting
    assert s.undo_stack.count() == n0 + 1
    level = s.project.node(nid).params["level"]
    assert level == pytest.approx(0.5, abs=0.05)
    assert during_drag.count(True) >= 2  # the picture refreshed during the drag, not only at the end
    assert s.wait_idle(10)
    want = np.round(level * (np.arange(64) + 0.5) / 64 * 255)

    def shows_final_level() -> bool:  # until then the Viewer keeps the last picture it had
        img = win.viewer.grab_frame_image()
        return img is not None and np.abs(image_to_array(img)[10, :, 0].astype(int) - want).max() <= 1

    wait_for(shows_final_level)
    s.undo_stack.undo()
    assert "level" not in s.project.node(nid).params


def test_key_button_sets_and_removes_keys_and_animated_edits_key_the_playhead(qtbot, window_factory):
    win, s, nid = _gradient_window(window_factory)
    row = win.inspector.rows["level"]
    assert row.key.state == "none"
    s.transport.set_playhead(5)
    qtbot.mouseClick(row.key, Qt.MouseButton.LeftButton)
    assert [(k.frame, k.value) for k in s.project.curve(nid, "level").keys] == [(5, 1.0)]
    assert row.key.state == "key"
    s.transport.set_playhead(20)
    assert row.key.state == "animated"
    enter_text(qtbot, row.editor.spin.lineEdit(), "0.25")
    assert [(k.frame, k.value) for k in s.project.curve(nid, "level").keys] == [(5, 1.0), (20, 0.25)]
    assert row.key.state == "key"
    s.transport.set_playhead(5)
    assert row.editor.value() == pytest.approx(1.0)
    s.transport.set_playhead(20)
    qtbot.mouseClick(row.key, Qt.MouseButton.LeftButton)
    assert [k.frame for k in s.project.curve(nid, "level").keys] == [5]


def test_project_settings_show_when_nothing_is_selected(qtbot, window_factory):
    win = window_factory()
    s = win.session
    s.view.set_selection([])
    eds = win.inspector.settings_editors
    enter_text(qtbot, eds["frame_count"].lineEdit(), "100")
    enter_text(qtbot, eds["fps"], "30000/1001")
    assert s.settings.frame_count == 100 and str(s.settings.fps) == "30000/1001"
    enter_text(qtbot, eds["fps"], "zero")
    assert "fps" in win.inspector.settings_error.text() and win.inspector.settings_error.isVisible()
    assert eds["fps"].text() == "zero"  # what was typed stays while the field has the focus
    win.editor.setFocus()
    s.undo_stack.undo()
    assert s.settings.frame_count == 100 and s.settings.fps == 24
    assert eds["fps"].text() == "24"


def test_file_dialogs_start_where_the_typed_path_points(qtbot, tmp_path, monkeypatch):
    """A file field's dialog starts in the folder of the path typed (relative paths from the project folder); a
    model field's only when that path exists, else in the first model folder."""
    from PySide6.QtWidgets import QFileDialog

    from vidstudio.graph.node import Param
    from vidstudio.ui.widgets.param_editors import FileEditor, ModelPathEditor, typed_path

    proj = tmp_path / "proj"
    (proj / "shots").mkdir(parents=True)
    assert typed_path("  ", proj) is None
    assert typed_path("shots/a.png", proj) == proj / "shots" / "a.png"
    assert typed_path("shots/a.png", None) == Path("shots/a.png")
    assert typed_path("~/x.png", proj) == Path.home() / "x.png"
    seen = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda parent, title, start, filt: seen.append(start) or ("", "")
    )
    image = FileEditor(Param("image", "file", "", file_role="image"), lambda: proj)
    qtbot.addWidget(image)
    image.set_value("shots/not-yet.png")
    image.browse()
    model = ModelPathEditor(Param("lora", "string", "", file_role="model"), lambda: proj)
    qtbot.addWidget(model)
    model.set_value("shots")
    model.browse()
    model.set_value("shots/missing.safetensors")  # not on disk: no model folder either, so the project folder
    model.browse()
    assert seen == [str(proj / "shots"), str(proj / "shots"), str(proj)]
