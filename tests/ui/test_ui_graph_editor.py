"""The Graph Editor (issue #12 point 4) driven with the mouse: a key dragged moves the curve's value at that
frame (the Viewer re-renders while dragging), one undo step restores it; box selection, handle drags that make
aligned handles, handle types and interpolation from the bar, snapping, frame all, and a path's timing
retimed by dragging its end key."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from uihelpers import image_to_array, wait_for
from vidstudio.graph.model import NodeInstance
from vidstudio.motion.curves import FCurve
from vidstudio.project import Project

W, H, N = 64, 48, 24


@pytest.fixture
def graph_win(window_factory):
    win = window_factory()
    p = Project(settings={"width": W, "height": H, "fps": 24, "frame_count": N})
    p.nodes += [
        NodeInstance(id="g", type="Gradient", position=(0, 0)),
        NodeInstance(
            id="traj",
            type="Trajectory",
            position=(0, 200),
            params={
                "paths": {
                    "paths": [
                        {
                            "id": "p",
                            "name": "dot",
                            "interpolation": "linear",
                            "start_frame": 0,
                            "end_frame": 20,
                            "points": [{"x": 10, "y": 24}, {"x": 50, "y": 24}],
                        }
                    ]
                }
            },
        ),
    ]
    p.animation["g.level"] = FCurve.from_points([(0, 0.2), (10, 0.5), (20, 0.2)], "linear")
    win.session.set_project(p)
    win.session.view.set_selection(["g"])
    win.session.transport.set_playhead(10)
    assert win.session.wait_idle(10)
    win.docks["graph"].show()
    win.docks["graph"].raise_()
    ge = win.graph_editor
    wait_for(lambda: ge.canvas.isVisible() and ge.canvas.width() > 200)
    ge.canvas.frame_all()
    return win


def pt(canvas, f: float, v: float) -> QPoint:
    return canvas.to_screen(f, v).toPoint()


def curve(win) -> FCurve:
    return win.session.project.animation["g.level"]


def drag(qtbot, canvas, a: QPoint, b: QPoint, steps: int = 5, during=None, mods=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, mods, a)
    for k in range(1, steps + 1):
        p = QPoint(round(a.x() + (b.x() - a.x()) * k / steps), round(a.y() + (b.y() - a.y()) * k / steps))
        qtbot.mouseMove(canvas, p)
    if during is not None:
        during()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, mods, b)


def test_dragging_a_key_moves_the_value_at_that_frame_live_and_undo_restores_it(qtbot, graph_win):
    win, s = graph_win, graph_win.session
    ge, canvas = win.graph_editor, win.graph_editor.canvas
    assert [c.id for c in ge.channels] == ["g.level"]
    before = s.undo_stack.count()
    pixel_before = image_to_array(win.viewer.grab_frame_image())[H // 2, W - 1, 0]
    target = pt(canvas, 10, 0.9)

    def live():  # while the mouse is still down the Viewer shows the new value at the playhead (frame 10)
        assert s.interacting
        wait_for(lambda: image_to_array(win.viewer.grab_frame_image())[H // 2, W - 1, 0] > pixel_before + 40)

    drag(qtbot, canvas, pt(canvas, 10, 0.5), target, during=live)
    _, v = canvas.to_curve(QPointF(target))
    assert curve(win).keys[1].frame == 10  # snapped to the whole frame it started on
    assert curve(win).value_at(10) == pytest.approx(v, abs=1e-9) and v == pytest.approx(0.9, abs=0.02)
    assert curve(win).value_at(5) == pytest.approx((0.2 + v) / 2)
    assert s.undo_stack.count() == before + 1  # the drag is one undo step
    s.undo_stack.undo()
    assert curve(win).value_at(10) == pytest.approx(0.5)
    s.undo_stack.redo()
    assert curve(win).value_at(10) == pytest.approx(v)


def test_key_drag_in_frame_snaps_and_box_select_moves_two_keys(qtbot, graph_win):
    win = graph_win
    canvas = win.graph_editor.canvas
    # a horizontal drag by 3.4 frames: the key lands on frame 13
    drag(qtbot, canvas, pt(canvas, 10, 0.5), pt(canvas, 13.4, 0.5))
    assert [k.frame for k in curve(win).keys] == [0, 13, 20]
    # a box around keys 0 and 13, then drag them together by 2 frames
    canvas.zoom(0.8, 0.5, QPointF(canvas.plot_rect().center()))  # (room around the keys)
    a, b = pt(canvas, -1, 0.7), pt(canvas, 14, 0.1)
    drag(qtbot, canvas, a, b)
    assert canvas.selected == {"g.level": {0, 1}}
    drag(qtbot, canvas, pt(canvas, 13, 0.5), pt(canvas, 15, 0.5))
    assert [k.frame for k in curve(win).keys] == [2, 15, 20]
    assert [k.value for k in curve(win).keys] == pytest.approx([0.2, 0.5, 0.2], abs=0.01)


def test_handle_drag_makes_aligned_handles_and_the_bar_sets_types_and_interpolation(qtbot, graph_win):
    win, s = graph_win, graph_win.session
    ge, canvas = win.graph_editor, win.graph_editor.canvas
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pt(canvas, 10, 0.5))
    assert canvas.selected == {"g.level": {1}}
    ge.apply(interpolation="bezier")  # the bar's Interpolation box
    assert curve(win).keys[1].interpolation == "bezier"
    ge.canvas.selected = {"g.level": {0, 1}}
    ge.apply(interpolation="bezier")
    # key 1's right handle (auto-clamped: flat at the peak, a third of the segment long)
    left, right = curve(win).handles()
    h = right[1]
    assert h == pytest.approx([10 + 10 / 3, 0.5])
    canvas.set_selected({"g.level": {1}})
    drag(qtbot, canvas, pt(canvas, *h), pt(canvas, h[0], 0.6))
    k = curve(win).keys[1]
    assert k.handle_type == "aligned"
    # smooth through the key: equal slopes on both sides
    c, e = curve(win), 1e-4
    assert (c.value_at(10) - c.value_at(10 - e)) / e == pytest.approx(
        (c.value_at(10 + e) - c.value_at(10)) / e, rel=1e-2
    )
    assert (c.value_at(10 + e) - c.value_at(10)) / e > 0.01  # the handle was dragged upwards
    ge.apply(handle_type="vector")
    assert curve(win).keys[1].handle_type == "vector"
    s.undo_stack.undo()
    assert curve(win).keys[1].handle_type == "aligned"
    ge.apply(interpolation="sine", easing="in_out")
    assert curve(win).keys[1].interpolation == "sine" and curve(win).keys[1].easing == "in_out"
    assert curve(win).value_at(15) == pytest.approx(0.5 + (0.2 - 0.5) * 0.5)  # sine in-out is 1/2 half-way


def test_trajectory_timing_is_a_channel_whose_end_key_retimes_the_path(qtbot, graph_win):
    win, s = graph_win, graph_win.session
    ge, canvas = win.graph_editor, win.graph_editor.canvas
    s.view.set_selection(["traj"])
    wait_for(lambda: [c.id for c in ge.channels] == ["timing:traj:p"])
    canvas.frame_all()
    keys = canvas.keys(ge.channels[0])
    np.testing.assert_allclose(keys, [[0, 0], [20, 100]])
    assert canvas.values(ge.channels[0], np.array([10.0]))[0] == pytest.approx(50.0)  # constant speed
    before = s.undo_stack.count()
    drag(qtbot, canvas, pt(canvas, 20, 100), pt(canvas, 16.2, 60))  # frame only: the value stays 100 %
    path = s.project.node("traj").params["paths"]["paths"][0]
    assert path["end_frame"] == 16
    assert s.undo_stack.count() == before + 1
    canvas.set_selected({"timing:traj:p": {1}})
    ge.apply(interpolation="quad", easing="in")
    path = s.project.node("traj").params["paths"]["paths"][0]
    assert path["easing"]["family"] == "quad" and path["easing"]["mode"] == "in"
    assert canvas.values(ge.channels[0], np.array([8.0]))[0] == pytest.approx(25.0)  # (8 / 16)^2
    s.undo_stack.undo()
    s.undo_stack.undo()
    assert s.project.node("traj").params["paths"]["paths"][0]["end_frame"] == 20


def test_normalize_draws_curves_of_different_units_together_and_drags_in_their_own_units(qtbot, graph_win):
    win, s = graph_win, graph_win.session
    ge, canvas = win.graph_editor, win.graph_editor.canvas
    s.view.set_selection(["g", "traj"])
    wait_for(lambda: len(ge.channels) == 2)
    ge.set_normalize(True)
    level, timing = ge.channels
    # each channel spans -1..1 as drawn: the level's 0.2..0.5 and the timing's 0..100 %
    assert canvas.disp(level, 0.5) == pytest.approx(1.0) and canvas.disp(level, 0.2) == pytest.approx(-1.0)
    assert canvas.disp(timing, 100.0) == pytest.approx(1.0)
    a = canvas.ch_screen(level, 10, 0.5).toPoint()
    b = canvas.ch_screen(level, 10, 0.4).toPoint()
    drag(qtbot, canvas, a, b)
    assert curve(win).value_at(10) == pytest.approx(0.4, abs=0.01)  # in the parameter's own units
    ge.set_normalize(False)
    assert canvas.disp(level, 0.5) == 0.5


def test_retime_path_moves_keyed_points_and_the_ends():
    from vidstudio.ui.widgets.graph_editor import retime_path

    doc = {
        "paths": [
            {
                "id": "p",
                "timing": "keys",
                "start_frame": 0,
                "end_frame": 20,
                "points": [{"x": 0, "y": 0}, {"x": 10, "y": 0, "frame": 5}, {"x": 20, "y": 0}],
            }
        ]
    }
    new = retime_path(doc, "p", [1], 3.0, 24, [])
    assert new["paths"][0]["points"][1]["frame"] == 8.0 and doc["paths"][0]["points"][1]["frame"] == 5
    new = retime_path(doc, "p", [0, 2], 2.0, 24, [])
    assert (new["paths"][0]["start_frame"], new["paths"][0]["end_frame"]) == (2.0, 22.0)
    assert retime_path(doc, "p", [1], 20.0, 24, []) is None  # past the end key: refused
