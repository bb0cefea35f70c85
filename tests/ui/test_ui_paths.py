"""Drawing motion paths in the Viewer (issue #5 points 4 and 10): control points added, dragged, inserted and
deleted with the mouse, Bezier handles, several paths, undo and redo, the animatic refreshing while a point is
dragged, the painted frame showing the sprite where the path puts it, and the camera mapping world pixels onto
the frame."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from uihelpers import image_to_array, wait_for
from vidstudio.graph.model import Link, NodeInstance
from vidstudio.motion.curves import FCurve
from vidstudio.motion.trajectory import MotionPath, evaluate_path
from vidstudio.project import Project
from vidstudio.ui.widgets.viewer.motion_overlays import TrajectoryEditOverlay

W, H, N = 160, 120, 24


def shot_project(camera_zoom: float | None = None) -> Project:
    """A Trajectory moving a red 12 px box (a Sprite) in a black animatic; optionally through a Camera."""
    p = Project(settings={"width": W, "height": H, "fps": 24, "frame_count": N})
    p.nodes += [
        NodeInstance(id="traj", type="Trajectory", position=(0, 200)),
        NodeInstance(
            id="box",
            type="Sprite",
            position=(250, 200),
            params={"shape": "box", "width": 12.0, "height": 12.0, "color": [1.0, 0.0, 0.0]},
        ),
        NodeInstance(
            id="animatic",
            type="AnimaticRender",
            position=(500, 100),
            params={"background_color": [0.0, 0.0, 0.0], "motion_blur": 0.0},
        ),
        NodeInstance(id="export", type="ExportVideo", position=(750, 100), params={"path": "out/x.mp4"}),
    ]
    p.links += [
        Link.make("traj", "trajectory", "box", "trajectory"),
        Link.make("box", "sprite", "animatic", "sprites"),
        Link.make("animatic", "video", "export", "video"),
    ]
    if camera_zoom is not None:
        p.nodes.append(NodeInstance(id="cam", type="Camera", position=(250, 400), params={"zoom": camera_zoom}))
        p.links.append(Link.make("cam", "camera", "animatic", "camera"))
    return p


@pytest.fixture
def shot(window_factory):
    def make(camera_zoom=None):
        win = window_factory()
        win.session.set_project(shot_project(camera_zoom))
        win.session.view.set_selection(["traj"])
        assert win.session.wait_idle(10)
        win.viewer.view.fit()
        wait_for(lambda: isinstance(win.viewer.overlay("traj.trajectory"), TrajectoryEditOverlay))
        return win

    return make


def overlay(win) -> TrajectoryEditOverlay:
    ov = win.viewer.overlay("traj.trajectory")
    assert isinstance(ov, TrajectoryEditOverlay)
    return ov


def vp_of(win, x: float, y: float) -> QPoint:
    """The viewport pixel showing world point (x, y)."""
    return win.viewer.view.mapFromScene(overlay(win).mapToScene(QPointF(x, y)))


def world_of(win, p: QPoint) -> tuple[float, float]:
    """The world point under viewport pixel ``p`` (as the overlay receives it)."""
    w = overlay(win).mapFromScene(win.viewer.view.mapToScene(p))
    return w.x(), w.y()


def points(win, i: int = 0) -> list[tuple[float, float]]:
    doc = win.session.project.node("traj").params["paths"]
    return [(pt["x"], pt["y"]) for pt in doc["paths"][i]["points"]]


def click(qtbot, win, p: QPoint, button=Qt.MouseButton.LeftButton) -> None:
    qtbot.mouseClick(win.viewer.view.viewport(), button, pos=p)


def drag(qtbot, win, a: QPoint, b: QPoint, steps: int = 4, before_release=None) -> None:
    vp = win.viewer.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, steps + 1):
        qtbot.mouseMove(vp, a + (b - a) * k / steps)
    if before_release is not None:
        before_release()
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=b)


def close(a, b, atol: float = 1e-6) -> bool:
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=atol)


def red_at(img_array: np.ndarray, x: float, y: float) -> bool:
    r, g, b = img_array[int(y), int(x)]
    return r > 200 and g < 60 and b < 60


def test_drawing_a_path_with_the_mouse(qtbot, shot):
    win = shot()
    s = win.session
    n0 = s.undo_stack.count()
    # three clicks on empty frame: a new path, then two more points at its end
    clicks = [vp_of(win, 30, 90), vp_of(win, 80, 30), vp_of(win, 130, 80)]
    for p in clicks:
        click(qtbot, win, p)
    expected = [world_of(win, p) for p in clicks]
    assert close(points(win), expected)
    assert s.undo_stack.count() == n0 + 3
    assert s.undo_stack.undoText().startswith("Add point 3 to path 'path'")
    path = s.project.node("traj").params["paths"]["paths"][0]
    assert path["id"] == "path" and path["interpolation"] == "catmull_rom"

    # undo and redo restore the control points exactly
    s.undo_stack.undo()
    assert close(points(win), expected[:2])
    s.undo_stack.redo()
    assert close(points(win), expected)

    # drag point 2 somewhere else: one undo step
    n1 = s.undo_stack.count()
    target = vp_of(win, 90, 50)
    drag(qtbot, win, clicks[1], target)
    moved = world_of(win, target)
    assert close(points(win)[1], moved)
    assert s.undo_stack.count() == n1 + 1 and s.undo_stack.undoText().startswith("Move point 2")
    s.undo_stack.undo()
    assert close(points(win), expected)
    s.undo_stack.redo()
    assert close(points(win)[1], moved)

    # click on the curve between points 1 and 2: a point is inserted there (on the curve)
    ov = overlay(win)
    cp = ov.compiled["path"]
    mid = cp.chain.point(np.array([0.5]))[0]
    click(qtbot, win, vp_of(win, *mid))
    assert len(points(win)) == 4
    assert np.hypot(*(np.array(points(win)[1]) - mid)) < 1.5  # within a screen pixel or so of the curve
    # right-click deletes it again
    click(qtbot, win, vp_of(win, *points(win)[1]), Qt.MouseButton.RightButton)
    assert close(points(win), [expected[0], moved, expected[2]])

    # the painted animatic frame shows the sprite where the path puts it
    s.view.set_selection([])  # no overlay over the picture
    frame = 15
    painted = []
    win.viewer.frame_painted.connect(painted.append)
    s.transport.set_playhead(frame)
    assert s.wait_idle(10)
    wait_for(lambda: frame in painted and win.viewer.shown_frame == frame)
    doc = s.project.node("traj").params["paths"]
    where = evaluate_path(MotionPath.model_validate(doc["paths"][0]), N).position[frame]
    img = image_to_array(win.viewer.grab_frame_image())
    assert red_at(img, *where) and img[int(where[1]), int(where[0]) + 12].max() < 40  # the box is 12 px wide
    view = win.viewer.view
    grab = image_to_array(view.viewport().grab().toImage())
    dpr = view.viewport().devicePixelRatioF()
    vp = view.mapFromScene(QPointF(*where))
    assert red_at(grab, vp.x() * dpr, vp.y() * dpr)


def test_dragging_a_point_refreshes_the_animatic_and_handles_make_a_bezier_path(qtbot, shot):
    win = shot()
    s = win.session
    doc = {
        "version": 1,
        "paths": [{"id": "a", "points": [{"x": 30, "y": 60}, {"x": 80, "y": 30}, {"x": 130, "y": 60}]}],
    }
    s.set_param("traj", "paths", doc)
    s.transport.set_playhead(0)
    assert s.wait_idle(10)
    wait_for(lambda: len(overlay(win).models) == 1)

    # while the button is still down, the animatic already shows the box at the dragged first point
    seen = {}

    def mid_drag():
        assert s.interacting
        assert s.wait_idle(10)
        wait_for(
            lambda: (
                win.viewer.shown_frame == 0
                and win.viewer.grab_frame_image() is not None
                and red_at(image_to_array(win.viewer.grab_frame_image()), *points(win)[0])
            )
        )
        seen["at"] = points(win)[0]

    n0 = s.undo_stack.count()
    drag(qtbot, win, vp_of(win, 30, 60), vp_of(win, 40, 90), before_release=mid_drag)
    assert close(seen["at"], world_of(win, vp_of(win, 40, 90)))
    assert not s.interacting and s.undo_stack.count() == n0 + 1

    # select point 2, then drag its outgoing handle: the Catmull-Rom path becomes a Bezier path, one step
    click(qtbot, win, vp_of(win, 80, 30))
    st = s.motion_edit
    assert (st.node_id, st.item, st.point) == ("traj", "a", 1)
    ov = overlay(win)
    hin, hout = ov._handles["a"]
    a = vp_of(win, *hout[1])
    b = a + QPoint(0, -25)
    n1 = s.undo_stack.count()
    drag(qtbot, win, a, b)
    path = s.project.node("traj").params["paths"]["paths"][0]
    assert path["interpolation"] == "bezier"
    got = np.array(world_of(win, b)) - np.array([80.0, 30.0])
    assert close(path["points"][1]["handle_out"], got)
    # the incoming handle turned to stay opposite (a smooth point), keeping its length
    hi = np.array(path["points"][1]["handle_in"])
    assert hi[0] * got[1] - hi[1] * got[0] == pytest.approx(0.0, abs=1e-6) and np.dot(hi, got) < 0
    # (to 2e-4 px: the conversion to Bezier stores handles rounded to 1e-4 px, so the exact error depends on where
    # the Viewer's layout puts the clicked points)
    assert np.hypot(*hi) == pytest.approx(np.hypot(*(hin[1] - [80.0, 30.0])), abs=2e-4)
    assert s.undo_stack.count() == n1 + 1
    s.undo_stack.undo()
    path = s.project.node("traj").params["paths"]["paths"][0]
    assert path.get("interpolation", "catmull_rom") == "catmull_rom" and "handle_out" not in path["points"][1]


def test_several_paths_each_with_its_colour_and_frames(qtbot, shot):
    win = shot()
    s = win.session
    click(qtbot, win, vp_of(win, 20, 20))
    click(qtbot, win, vp_of(win, 60, 20))
    # N arms a new path: the next click starts it
    win.viewer.view.setFocus()
    qtbot.keyClick(win.viewer.view.viewport(), Qt.Key.Key_N)
    assert s.motion_edit.armed
    click(qtbot, win, vp_of(win, 20, 100))
    click(qtbot, win, vp_of(win, 140, 100))
    paths = s.project.node("traj").params["paths"]["paths"]
    assert [p["id"] for p in paths] == ["path", "path_2"] and [len(p["points"]) for p in paths] == [2, 2]
    assert paths[0]["color"] != paths[1]["color"]
    assert s.motion_edit.item == "path_2" and not s.motion_edit.armed

    # the Inspector's path editor edits the chosen path's frames and colour, one undo step each
    editor = win.inspector.row("paths").editor
    assert editor.list.count() == 2 and editor.current == "path_2"
    editor.start.setValue(4.0)
    editor.to_end.setChecked(False)
    editor.end.setValue(16.0)
    p2 = s.project.node("traj").params["paths"]["paths"][1]
    assert (p2["start_frame"], p2["end_frame"]) == (4.0, 16.0)
    assert s.undo_stack.undoText().startswith("Path end frame 'path_2'")
    editor.interp.setCurrentIndex(editor.interp.findData("linear"))
    editor.interp.activated.emit(editor.interp.currentIndex())
    assert s.project.node("traj").params["paths"]["paths"][1]["interpolation"] == "linear"
    # choosing the first path in the list makes it the one the Viewer edits
    editor.list.setCurrentRow(0)
    assert s.motion_edit.item == "path"
    click(qtbot, win, vp_of(win, 100, 60))
    assert len(s.project.node("traj").params["paths"]["paths"][0]["points"]) == 3
    # the frames drawn: ticks only for the frames the second path travels
    ov = overlay(win)
    assert list(ov._ticks["path_2"][0]) == list(range(4, 17))
    s.undo_stack.undo()
    s.undo_stack.undo()
    assert s.project.node("traj").params["paths"]["paths"][1]["interpolation"] == "catmull_rom"


def test_points_are_placed_in_world_pixels_through_the_camera(qtbot, shot):
    win = shot(camera_zoom=2.0)
    s = win.session
    assert s.view.view_camera == ("cam", "camera")
    ov = overlay(win)
    wait_for(lambda: ov.camera is not None)
    m = ov.world_to_frame()
    assert m[0, 0] == pytest.approx(2.0)
    # a click on the frame's pixel (100, 40) puts the control point at the world pixel the camera shows there
    p = win.viewer.view.mapFromScene(QPointF(100, 40))
    click(qtbot, win, p)
    scene = win.viewer.view.mapToScene(p)
    world = np.linalg.solve(m, [scene.x(), scene.y(), 1.0])[:2]
    assert close(points(win)[0], tuple(world))
    assert close(world, (W / 2 + (scene.x() - W / 2) / 2, H / 2 + (scene.y() - H / 2) / 2))
    # and the animatic draws the box there: at frame pixel (100, 40)
    s.transport.set_playhead(0)
    assert s.wait_idle(10)
    wait_for(
        lambda: (
            win.viewer.shown_frame == 0 and red_at(image_to_array(win.viewer.grab_frame_image()), scene.x(), scene.y())
        )
    )


def test_the_draw_path_tool_makes_a_trajectory_node_when_there_is_none(qtbot, window_factory):
    win = window_factory()
    s = win.session
    p = shot_project()
    p.nodes = [n for n in p.nodes if n.id != "traj"]
    p.links = [l for l in p.links if l.source_node != "traj"]
    s.set_project(p)
    assert s.wait_idle(10)
    qtbot.mouseClick(win.viewer.draw_button, Qt.MouseButton.LeftButton)
    nid = "trajectory"
    assert s.project.node(nid).type == "Trajectory" and s.view.selection == (nid,)
    assert s.motion_edit.armed and s.motion_edit.node_id == nid
    assert s.wait_idle(10)
    ov = win.viewer.overlay(f"{nid}.trajectory")
    assert isinstance(ov, TrajectoryEditOverlay)
    assert "new path" in win.viewer.overlay_hint()
    qtbot.mouseClick(
        win.viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=win.viewer.view.mapFromScene(QPointF(50, 50))
    )
    doc = s.project.node(nid).params["paths"]
    assert len(doc["paths"]) == 1 and len(doc["paths"][0]["points"]) == 1


def test_keyed_rotation_in_the_path_editor(qtbot, shot):
    win = shot()
    s = win.session
    s.set_param("traj", "paths", {"paths": [{"id": "a", "points": [{"x": 10, "y": 10}, {"x": 100, "y": 10}]}]})
    s.transport.set_playhead(6)
    editor = win.inspector.row("paths").editor
    wait_for(lambda: editor.current == "a")
    editor.angle.key.click()  # key the angle at frame 6
    angle = s.project.node("traj").params["paths"]["paths"][0]["rotation"]["angle"]
    assert FCurve.model_validate(angle).key_at(6) is not None
    s.transport.set_playhead(12)
    editor.angle.spin.setValue(90.0)  # a curve: editing keys the playhead's frame
    curve = FCurve.model_validate(s.project.node("traj").params["paths"]["paths"][0]["rotation"]["angle"])
    assert [k.frame for k in curve.keys] == [6, 12] and curve.value_at(12) == 90.0


def test_a_refused_edit_in_the_path_editor_says_why_and_changes_nothing(qtbot, shot):
    win = shot()
    s = win.session
    s.set_param(
        "traj",
        "paths",
        {
            "paths": [
                {"id": "a", "start_frame": 2, "end_frame": 10, "points": [{"x": 10, "y": 10}, {"x": 100, "y": 10}]}
            ]
        },
    )
    editor = win.inspector.row("paths").editor
    wait_for(lambda: editor.current == "a")
    n0 = s.undo_stack.count()
    editor.start.setValue(15.0)  # after the end frame: the document's validator refuses it
    assert s.undo_stack.count() == n0 and s.project.node("traj").params["paths"]["paths"][0]["start_frame"] == 2
    assert editor.error.isVisibleTo(editor) and "end_frame 10 is before start_frame 15" in editor.error.text()
    assert editor.start.value() == 2.0


def test_path_menu_and_the_points_table(qtbot, shot):
    win = shot()
    s = win.session
    s.set_param("traj", "paths", {"paths": [{"id": "a", "points": [{"x": 20, "y": 60}, {"x": 140, "y": 60}]}]})
    assert s.wait_idle(10)
    ov = overlay(win)
    wait_for(lambda: "a" in ov.models)
    # right-click on the curve: a menu to duplicate or delete that path, or start a new one
    click(qtbot, win, vp_of(win, 80, 60), Qt.MouseButton.RightButton)
    texts = [a.text() for a in ov.menu.actions() if a.text()]
    assert texts[:3] == ["New Path", "Duplicate Path 'a'", "Delete Path 'a'"]
    next(a for a in ov.menu.actions() if a.text() == "Duplicate Path 'a'").trigger()
    ov.menu.close()
    paths = s.project.node("traj").params["paths"]["paths"]
    assert [p["id"] for p in paths] == ["a", "a_2"] and paths[1]["points"][0] == {"x": 44.0, "y": 84.0}
    assert s.motion_edit.item == "a_2"
    # the Inspector's points table: type a new x for point 2 of the copy, and a time key once timing is keyed
    editor = win.inspector.row("paths").editor
    wait_for(lambda: editor.current == "a_2" and editor.points.rowCount() == 2)
    editor.points.item(1, 1).setText("150")
    assert s.project.node("traj").params["paths"]["paths"][1]["points"][1]["x"] == 150.0
    assert not editor.points.item(0, 3).flags() & Qt.ItemFlag.ItemIsEditable  # frames only with keyed timing
    editor.timing.setCurrentIndex(editor.timing.findData("keys"))
    editor.timing.activated.emit(editor.timing.currentIndex())
    wait_for(lambda: bool(editor.points.item(1, 3).flags() & Qt.ItemFlag.ItemIsEditable))
    editor.points.item(1, 3).setText("12")
    assert s.project.node("traj").params["paths"]["paths"][1]["points"][1]["frame"] == 12.0
    # Escape cancels a New Path; Delete removes the selected point
    win.viewer.view.setFocus()
    ov.setFocus()
    qtbot.keyClick(win.viewer.view.viewport(), Qt.Key.Key_N)
    assert s.motion_edit.armed
    qtbot.keyClick(win.viewer.view.viewport(), Qt.Key.Key_Escape)
    assert not s.motion_edit.armed
    click(qtbot, win, vp_of(win, 20, 60))  # point 1 of path a
    assert (s.motion_edit.item, s.motion_edit.point) == ("a", 0)
    qtbot.keyClick(win.viewer.view.viewport(), Qt.Key.Key_Delete)
    assert s.project.node("traj").params["paths"]["paths"][0]["points"] == [{"x": 140, "y": 60}]


def test_the_still_parts_of_the_paths_are_drawn_once_and_look_the_same(qtbot, shot):
    """While the view stays the same, the curves, points and labels come from two cached layers (only each
    path's object at the playhead is drawn per frame), and the picture is what drawing everything gives."""
    win = shot()
    for x, y in ((20, 20), (80, 90), (140, 30)):
        click(qtbot, win, vp_of(win, x, y))
    ov = overlay(win)
    assert len(ov.models) == 1 and len(points(win)) == 3
    vp = win.viewer.view.viewport()

    def direct():
        ov._layers, ov._last_key = None, None  # the next paint draws everything itself
        return image_to_array(vp.grab().toImage()).astype(int)

    win.session.transport.set_playhead(6)
    wait_for(lambda: win.viewer.shown_frame == 6)
    first = direct()
    assert ov._layers is None
    layered = image_to_array(vp.grab().toImage()).astype(int)  # the same view twice: the layers are made
    layers = ov._layers
    assert layers is not None and np.abs(layered - first).max() <= 2
    win.session.transport.set_playhead(18)
    wait_for(lambda: win.viewer.shown_frame == 18)
    moved = image_to_array(vp.grab().toImage()).astype(int)
    assert ov._layers is layers  # the playhead moved, the still parts were not drawn again
    assert np.abs(moved - layered).max() > 100  # the object moved along the path
    assert np.abs(moved - direct()).max() <= 2
    win.session.undo_stack.undo()  # the document changed: its layers go
    vp.grab()
    assert ov._layers is None or ov._layers is not layers
