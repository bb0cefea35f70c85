"""The physics scene, simulated tracks and object boxes over the frame at the playhead; bodies placed and
thrown with the mouse and edited in the Inspector (issue #5 point 4)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from uihelpers import image_to_array, wait_for
from vidstudio.graph.model import Link, NodeInstance
from vidstudio.project import Project
from vidstudio.ui.widgets.viewer.motion_overlays import (
    ARROW_SECONDS,
    BoxesOverlay,
    PhysicsSceneOverlay,
    TrackSetOverlay,
    body_outline,
)

W, H, N = 200, 120, 24


def physics_project() -> Project:
    p = Project(settings={"width": W, "height": H, "fps": 24, "frame_count": N})
    p.nodes += [
        NodeInstance(
            id="scene",
            type="PhysicsScene",
            position=(0, 0),
            params={
                "gravity_y": 0.0,
                "ceiling": False,
                "bodies": [
                    {"id": "ball", "radius": 10, "position": [40, 60], "velocity": [96, 0], "color": [0.1, 0.9, 0.2]}
                ],
            },
        ),
        NodeInstance(id="sim", type="Simulate", position=(250, 0)),
        NodeInstance(id="boxes", type="ObjectBoxes", position=(500, 200)),
        NodeInstance(
            id="animatic",
            type="AnimaticRender",
            position=(500, 0),
            params={"background_color": [0.0, 0.0, 0.0], "motion_blur": 0.0},
        ),
        NodeInstance(id="export", type="ExportVideo", position=(750, 0), params={"path": "out/x.mp4"}),
    ]
    p.links += [
        Link.make("scene", "scene", "sim", "scene"),
        Link.make("sim", "trajectory", "animatic", "trajectory"),
        Link.make("sim", "trajectory", "boxes", "trajectory"),
        Link.make("animatic", "video", "export", "video"),
    ]
    return p


@pytest.fixture
def physics_window(window_factory):
    win = window_factory()
    win.session.set_project(physics_project())
    assert win.session.wait_idle(10)
    win.viewer.view.fit()
    return win


def select(win, nid: str, overlay: str):
    win.session.view.set_selection([nid])
    assert win.session.wait_idle(10)
    wait_for(lambda: win.viewer.overlay(overlay) is not None)
    return win.viewer.overlay(overlay)


def vp(win, x: float, y: float) -> QPoint:
    return win.viewer.view.mapFromScene(QPointF(x, y))


def test_bodies_are_placed_and_thrown_with_the_mouse(qtbot, physics_window):
    win = physics_window
    s = win.session
    ov = select(win, "scene", "scene.scene")
    assert isinstance(ov, PhysicsSceneOverlay) and ov.editable
    assert "drag a body" in win.viewer.overlay_hint()
    viewport = win.viewer.view.viewport()
    # drag the ball by a point inside it (not its centre): it keeps the grab offset, one undo step
    n0 = s.undo_stack.count()
    a, b = vp(win, 44, 62), vp(win, 104, 42)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, 4):
        qtbot.mouseMove(viewport, a + (b - a) * k / 3)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    sa, sb = win.viewer.view.mapToScene(a), win.viewer.view.mapToScene(b)
    body = s.project.node("scene").params["bodies"][0]
    assert np.allclose(body["position"], [40 + sb.x() - sa.x(), 60 + sb.y() - sa.y()], atol=1e-3)
    assert s.undo_stack.count() == n0 + 1 and s.motion_edit.item == "ball"
    # drag the velocity handle (the arrow's tip, a quarter second ahead): the ball is thrown
    pos = np.array(body["position"])
    tip = pos + np.array(body["velocity"]) * ARROW_SECONDS
    to = vp(win, tip[0] + 10, tip[1] - 20)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=vp(win, *tip))
    qtbot.mouseMove(viewport, to)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=to)
    st = win.viewer.view.mapToScene(to)
    body = s.project.node("scene").params["bodies"][0]
    assert np.allclose(body["velocity"], (np.array([st.x(), st.y()]) - pos) / ARROW_SECONDS, atol=0.01)
    s.undo_stack.undo()
    assert s.project.node("scene").params["bodies"][0]["velocity"] == [96, 0]
    # right-click on empty frame: add a box there
    qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, pos=vp(win, 150, 30))
    assert ov.menu is not None and ov.menu.isVisible()
    add_box = next(a for a in ov.menu.actions() if a.text() == "Add Box Here")
    add_box.trigger()
    ov.menu.close()
    bodies = s.project.node("scene").params["bodies"]
    assert [b["id"] for b in bodies] == ["ball", "box"] and bodies[1]["shape"] == "box"
    assert s.motion_edit.item == "box"
    # the Inspector's body editor shows the chosen body and edits it
    editor = win.inspector.row("bodies").editor
    wait_for(lambda: editor.current == "box")
    editor.mass.setValue(3.0)
    assert s.project.node("scene").params["bodies"][1]["mass"] == 3.0
    assert s.undo_stack.undoText().startswith("Body mass 'box'")
    editor.kind.setCurrentIndex(editor.kind.findData("static"))
    editor.kind.activated.emit(editor.kind.currentIndex())
    assert s.project.node("scene").params["bodies"][1]["kind"] == "static"
    # Delete removes the chosen body
    win.viewer.view.setFocus()
    ov.setFocus()
    qtbot.keyClick(viewport, Qt.Key.Key_Delete)
    assert [b["id"] for b in s.project.node("scene").params["bodies"]] == ["ball"]


def test_simulated_tracks_and_boxes_are_drawn_at_the_playhead(qtbot, physics_window):
    win = physics_window
    s = win.session
    s.transport.set_playhead(12)
    ov = select(win, "sim", "sim.trajectory")
    assert isinstance(ov, TrackSetOverlay) and ov.uses_camera
    track = ov.value.tracks[0]
    # no gravity, no ceiling hit: the ball flies straight at 96 px/s = 4 px per frame
    assert track.position[12] == pytest.approx([40 + 4 * 12, 60], abs=0.05)
    kind, outline = body_outline(track.meta, track.position[12], float(track.angle[12]), 1.0, track.size)
    assert kind == "circle" and np.hypot(*(outline - track.position[12]).T).max() == pytest.approx(10.0)
    # the overlay is painted over the ball: its outline's colour shows on the circle's edge
    view = win.viewer.view
    wait_for(lambda: win.viewer.shown_frame == 12)
    grab = image_to_array(view.viewport().grab().toImage())
    dpr = view.viewport().devicePixelRatioF()
    edge = view.mapFromScene(QPointF(track.position[12][0], track.position[12][1] - 10))
    r, g, b = grab[int(edge.y() * dpr), int(edge.x() * dpr)]
    assert g > 150 and r < 120  # the body's green
    # Object Boxes: its boxes (frame px) and its tracks through no camera
    boxes_ov = select(win, "boxes", "boxes.boxes")
    assert isinstance(boxes_ov, BoxesOverlay) and not boxes_ov.uses_camera
    box = np.asarray(boxes_ov.value)[12, 0]
    assert box == pytest.approx([88 - 10, 50, 88 + 10, 70], abs=1.0)
    # the read-only overlays let clicks through (no edit happens)
    n0 = s.undo_stack.count()
    qtbot.mouseClick(win.viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(win, 88, 60))
    assert s.undo_stack.count() == n0
