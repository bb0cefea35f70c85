"""The Viewer's Cut Out tool (issue #12 point 3) driven with mouse events: a polygon and a lasso drawn on a
Load Image's frame make a Cut Out node (the outline as data), a Sprite whose alpha is the region, and a
Trajectory starting at the region's centre that the mouse then drags; one undo step each; the outline's
vertices stay draggable and the sprite follows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from uihelpers import wait_for
from vidstudio.graph.engine import Engine
from vidstudio.graph.model import NodeInstance
from vidstudio.motion.cutout import crop_box
from vidstudio.project import Project
from vidstudio.project.io import load_project, save_project
from vidstudio.ui.widgets.viewer.cutout_tool import CutOutDrawOverlay, CutOutEditOverlay
from vidstudio.ui.widgets.viewer.motion_overlays import TrajectoryEditOverlay

W, H = 160, 120
RED = (250, 30, 30)


@pytest.fixture
def photo_win(window_factory, tmp_path):
    img = np.zeros((H, W, 3), dtype=np.uint8)
    img[..., 1] = 90  # a green wall
    img[40:80, 50:100] = RED  # a red object
    Image.fromarray(img).save(tmp_path / "photo.png")
    win = window_factory()
    p = Project(settings={"width": W, "height": H, "fps": 24, "frame_count": 12})
    p.nodes.append(NodeInstance(id="photo", type="LoadImage", params={"path": str(tmp_path / "photo.png")}))
    win.session.set_project(p)
    win.session.view.set_selection(["photo"])
    assert win.session.wait_idle(10)
    win.viewer.view.fit()
    wait_for(lambda: win.viewer.grab_frame_image() is not None)
    return win


def vp(win, x: float, y: float) -> QPoint:
    """The viewport pixel showing image point (x, y)."""
    return win.viewer.view.mapFromScene(QPointF(x, y))


def outputs(win, *targets: str) -> dict:
    doc = win.session.project.copy_document()
    return (
        Engine(win.session.registry).run(doc, doc.settings, targets=list(targets), project_dir=doc.project_dir).values
    )


def test_polygon_cut_makes_sprite_alpha_and_a_path_to_drag_each_one_undo_step(qtbot, photo_win):
    win, s = photo_win, photo_win.session
    viewport = win.viewer.view.viewport()
    assert win.viewer.cutout_tool.arm()
    assert isinstance(win.viewer.overlay("cutout-draw"), CutOutDrawOverlay)
    before = s.undo_stack.count()
    corners = [(48, 38), (102, 38), (102, 82), (48, 82)]
    for x, y in corners[:-1]:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=vp(win, x, y))
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=vp(win, *corners[-1]))
    assert win.viewer.overlay("cutout-draw") is None  # the tool is done
    assert s.undo_stack.count() == before + 1  # the whole cut-out is one undo step
    cut = next(n for n in s.project.nodes if n.type == "CutOut")
    outline = np.array(cut.params["outline"])
    assert outline.shape == (4, 2)
    tol = 1.0 / win.viewer.view.zoom + 0.01  # a viewport pixel in image pixels
    np.testing.assert_allclose(outline, corners, atol=tol)
    json.dumps(cut.params)  # the outline is plain data in the project
    spr = next(n for n in s.project.nodes if n.type == "Sprite")
    traj = next(n for n in s.project.nodes if n.type == "Trajectory")
    assert s.view.selection == (traj.id,)
    # the sprite: the region of the photo, opaque inside the outline and transparent outside
    values = outputs(win, cut.id)
    sprite_img = values[cut.id]["cutout"]
    box_h, box_w = sprite_img.shape[:2]
    assert abs(box_w - 56) <= 2 and abs(box_h - 46) <= 2  # 54 x 44 and the feather (2 px) around it
    alpha = values[cut.id]["mask"][0]
    assert alpha[60, 75] == 1.0 and alpha[10, 10] == 0.0 and alpha[60, 30] == 0.0
    assert 0.0 < alpha[60, 48] < 1.0  # the feathered edge
    np.testing.assert_allclose(sprite_img[box_h // 2, box_w // 2, :3], np.array(RED) / 255.0, atol=1e-6)
    assert sprite_img[0, 0, 3] < 0.1 and sprite_img[box_h // 2, box_w // 2, 3] == 1.0  # corners: outside
    # the hole is filled in the animatic's background
    back = values[cut.id]["background"]
    assert np.abs(back[60, 75, :3] - np.array(RED) / 255.0).max() > 0.5
    # the path starts at the region's centre
    path = traj.params["paths"]["paths"][0]
    assert (path["points"][0]["x"], path["points"][0]["y"]) == pytest.approx((75, 60), abs=1.5)
    assert spr.params["track"] == path["name"]
    # ... and is ready to drag: the Viewer shows the animatic with the path's editor; a click adds where it goes
    assert s.wait_idle(10)
    wait_for(lambda: isinstance(win.viewer.overlay(f"{traj.id}.trajectory"), TrajectoryEditOverlay))
    tov = win.viewer.overlay(f"{traj.id}.trajectory")
    target = win.viewer.view.mapFromScene(tov.mapToScene(QPointF(135, 60)))
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=target)
    pts = s.project.node(traj.id).params["paths"]["paths"][0]["points"]
    assert len(pts) == 2 and pts[1]["x"] == pytest.approx(135, abs=tol)
    anim = next(n for n in s.project.nodes if n.type == "AnimaticRender")
    video = outputs(win, anim.id)[anim.id]["video"]
    first, last = video.frame(0), video.frame(11)
    np.testing.assert_allclose(first[60, 75], np.array(RED) / 255.0, atol=0.02)  # frame 0: where it was cut
    np.testing.assert_allclose(last[60, 135], np.array(RED) / 255.0, atol=0.02)  # last frame: dragged right
    assert np.abs(last[60, 60] - np.array(RED) / 255.0).max() > 0.5  # the hole behind was filled
    # undo: the path point, then the whole cut-out at once
    s.undo_stack.undo()
    s.undo_stack.undo()
    assert not any(n.type in ("CutOut", "Sprite", "Trajectory", "AnimaticRender") for n in s.project.nodes)
    s.undo_stack.redo()
    assert sum(n.type == "CutOut" for n in s.project.nodes) == 1


def test_lasso_drag_and_outline_vertex_drag_move_the_sprite_with_one_undo_step(qtbot, photo_win):
    win, s = photo_win, photo_win.session
    viewport = win.viewer.view.viewport()
    assert win.viewer.cutout_tool.arm()
    # a freehand lasso: press, move around a circle, release
    c, r = np.array([75.0, 60.0]), 25.0
    ang = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ring = c + r * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=vp(win, *ring[0]))
    for x, y in ring[1:]:
        qtbot.mouseMove(viewport, pos=vp(win, x, y))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=vp(win, *ring[-1]))
    cut = next(n for n in s.project.nodes if n.type == "CutOut")
    outline = np.array(cut.params["outline"])
    assert len(outline) >= 10
    assert np.abs(np.hypot(*(outline - c).T) - r).max() < 1.5
    alpha = outputs(win, cut.id)[cut.id]["mask"][0]
    assert alpha[60, 75] == 1.0 and alpha[60, 75 + 29] == 0.0 and alpha[60, 75 + 21] == 1.0
    # select the Cut Out: the Viewer shows its background with the outline, vertices draggable
    s.view.set_selection([cut.id])
    assert s.wait_idle(10)
    wait_for(lambda: win.viewer.cutout_tool.edit_overlay(cut.id) is not None)
    ov = win.viewer.cutout_tool.edit_overlay(cut.id)
    assert isinstance(ov, CutOutEditOverlay)
    traj = next(n for n in s.project.nodes if n.type == "Trajectory")
    start = dict(traj.params["paths"]["paths"][0]["points"][0])
    i = int(np.argmax(outline[:, 0]))  # the rightmost vertex
    before = s.undo_stack.count()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=vp(win, *outline[i]))
    for dx in (4, 8, 12, 20):
        qtbot.mouseMove(viewport, pos=vp(win, outline[i][0] + dx, outline[i][1]))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=vp(win, outline[i][0] + 20, outline[i][1]))
    assert s.undo_stack.count() == before + 1  # the drag is one undo step
    moved = np.array(s.project.node(cut.id).params["outline"])
    assert moved[i][0] == pytest.approx(outline[i][0] + 20, abs=1.0)
    alpha = outputs(win, cut.id)[cut.id]["mask"][0]
    assert alpha[int(outline[i][1]), int(outline[i][0]) + 10] > 0.5  # the alpha follows the outline (0 before)
    # the sprite takes the new crop's size and its path's start moves with the crop's centre
    (_, c0), (b1, c1) = crop_box(outline, W, H, 2.0), crop_box(moved, W, H, 2.0)
    assert c1[0] - c0[0] > 5  # (a thin spike: its feathered tip adds less than the 20 px the vertex moved)
    spr = s.project.node(next(n.id for n in s.project.nodes if n.type == "Sprite"))
    new_start = s.project.node(traj.id).params["paths"]["paths"][0]["points"][0]
    assert new_start["x"] == pytest.approx(start["x"] + c1[0] - c0[0]) and new_start["y"] == pytest.approx(
        start["y"] + c1[1] - c0[1]
    )
    assert spr.params["width"] == pytest.approx(b1[2] - b1[0]) and spr.params["height"] == pytest.approx(b1[3] - b1[1])
    s.undo_stack.undo()
    np.testing.assert_allclose(s.project.node(cut.id).params["outline"], outline)
    assert s.project.node(traj.id).params["paths"]["paths"][0]["points"][0]["x"] == pytest.approx(start["x"])


def test_cut_out_needs_a_still_picture_and_escape_cancels(qtbot, photo_win):
    win, s = photo_win, photo_win.session
    messages = []
    s.message.connect(messages.append)
    assert win.viewer.cutout_tool.arm()
    ov = win.viewer.overlay("cutout-draw")
    qtbot.mouseClick(win.viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(win, 10, 10))
    assert len(ov.points) == 1
    qtbot.keyClick(win.viewer.view.viewport(), Qt.Key.Key_Escape)
    assert win.viewer.overlay("cutout-draw") is None
    assert not any(n.type == "CutOut" for n in s.project.nodes)
    s.view.set_selection([])
    s.view.pin_view(None)
    assert s.wait_idle(10)
    s.remove_nodes(["photo"])
    assert not win.viewer.cutout_tool.arm()
    assert "still picture" in messages[-1]


def test_enter_closes_a_polygon_backspace_takes_back_a_point_and_the_hole_may_stay(qtbot, photo_win, tmp_path):
    win, s = photo_win, photo_win.session
    viewport = win.viewer.view.viewport()
    win.viewer.cutout_tool.fill_hole = False  # the button menu's "Fill the Hole Left Behind", unchecked
    win.viewer.cutout_tool.arm()
    ov = win.viewer.overlay("cutout-draw")
    for x, y in [(20, 20), (60, 20), (90, 90), (20, 60)]:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=vp(win, x, y))
    qtbot.keyClick(viewport, Qt.Key.Key_Backspace)  # takes back (20, 60)
    assert len(ov.points) == 3
    qtbot.keyClick(viewport, Qt.Key.Key_Return)
    cut = next(n for n in s.project.nodes if n.type == "CutOut")
    tol = 1.0 / win.viewer.view.zoom + 0.01
    np.testing.assert_allclose(cut.params["outline"], [(20, 20), (60, 20), (90, 90)], atol=tol)
    assert cut.params["fill_hole"] is False
    values = outputs(win, cut.id)
    np.testing.assert_array_equal(values[cut.id]["background"], outputs(win, "photo")["photo"]["image"])
    # the outline is kept as data in the saved project, and renders the same after loading it
    save_project(s.project, tmp_path / "cut.vidproj")
    loaded = load_project(tmp_path / "cut.vidproj")
    assert loaded.node(cut.id).params["outline"] == cut.params["outline"]
