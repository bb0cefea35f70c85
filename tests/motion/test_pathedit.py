"""The Qt-free edits behind the path and body editors, and which picture and camera the Viewer draws paths
over (``vidstudio.motion.pathedit``, ``vidstudio.project.view``)."""

from __future__ import annotations

import numpy as np
import pytest

from vidstudio.graph.model import Link, NodeInstance
from vidstudio.motion import pathedit
from vidstudio.motion.physics import validate_bodies
from vidstudio.motion.trajectory import MotionPath, compile_path, path_handles, path_polyline, validate_document
from vidstudio.nodes import default_registry
from vidstudio.project import Project, view


def doc_with(points, **fields) -> dict:
    return {
        "version": 1,
        "paths": [{"id": "a", "points": [{"x": x, "y": y} for x, y in points], **fields}],
        "anchors": [],
        "mine": {"kept": True},
    }


def test_path_edits_return_new_valid_documents_and_keep_unknown_keys():
    d0 = doc_with([(0, 0), (100, 0)])
    d1, pid = pathedit.add_path(d0, 50, 50)
    assert pid == "path" and d0["paths"][0]["id"] == "a" and len(d0["paths"]) == 1  # the argument is untouched
    validate_document(d1)
    # unknown keys kept; path "a" has the default orange, so the new path takes the next colour
    assert d1["mine"] == {"kept": True} and d1["paths"][1]["color"] == list(pathedit.PATH_COLORS[1])
    d2, i = pathedit.append_point(d1, "path", 80, 60)
    assert i == 1 and d2["paths"][1]["points"][1] == {"x": 80.0, "y": 60.0}
    d3 = pathedit.insert_point(d2, "a", 1, 50, 10)
    assert [p["x"] for p in d3["paths"][0]["points"]] == [0, 50.0, 100]
    d4 = pathedit.move_point(d3, "a", 1, 55, 12)
    assert d4["paths"][0]["points"][1] == {"x": 55.0, "y": 12.0}
    d5, removed = pathedit.delete_point(d4, "a", 1)
    assert not removed and len(d5["paths"][0]["points"]) == 2
    d6, removed = pathedit.delete_point(pathedit.delete_point(d5, "a", 0)[0], "a", 0)
    assert removed and [p["id"] for p in d6["paths"]] == ["path"]
    d7, new = pathedit.duplicate_path(d2, "a")
    assert new == "a_2" and [p["id"] for p in d7["paths"]] == ["a", "a_2", "path"]
    assert d7["paths"][1]["points"][0] == {"x": 24.0, "y": 24.0}
    validate_document(d7)  # ids and names unique
    with pytest.raises(KeyError, match="no path with id 'zz' \\(paths: a, path\\)"):
        pathedit.move_point(d2, "zz", 0, 0, 0)
    with pytest.raises(IndexError, match="path 'a' has no control point 5"):
        pathedit.move_point(d2, "a", 5, 0, 0)


def test_new_paths_take_colours_in_turn():
    d = pathedit.as_document(None)
    colours = []
    for k in range(3):
        d, pid = pathedit.add_path(d, k, k)
        colours.append(tuple(d["paths"][-1]["color"]))
    assert colours == list(pathedit.PATH_COLORS[:3])
    assert [p["id"] for p in d["paths"]] == ["path", "path_2", "path_3"]


def test_dragging_a_handle_of_a_catmull_rom_path_keeps_its_shape_elsewhere():
    d = doc_with([(0, 0), (100, 80), (200, 0), (300, 60)])
    before = path_polyline(MotionPath.model_validate(d["paths"][0]))
    _, hout = path_handles(MotionPath.model_validate(d["paths"][0]))
    # setting point 1's outgoing handle to where it already is: a Bezier path with exactly the same curve
    same, converted = pathedit.set_handle(d, "a", 1, "out", *(hout[1] - [100, 80]))
    assert converted and same["paths"][0]["interpolation"] == "bezier"
    after = path_polyline(MotionPath.model_validate(same["paths"][0]))
    assert np.abs(after - before).max() < 1e-3  # handles are stored to 1e-4 px
    # a new handle: the segments away from point 1 do not change; the mirror handle is opposite
    moved, _ = pathedit.set_handle(d, "a", 1, "out", 0, -50)
    p1 = moved["paths"][0]["points"][1]
    assert p1["handle_out"] == [0.0, -50.0] and p1["handle_in"][0] == pytest.approx(0) and p1["handle_in"][1] > 0
    cp_new = compile_path(MotionPath.model_validate(moved["paths"][0]))
    cp_old = compile_path(MotionPath.model_validate(d["paths"][0]))
    assert np.allclose(cp_new.chain.segments[2], cp_old.chain.segments[2])
    broken, _ = pathedit.set_handle(moved, "a", 1, "in", -30, 0, mirror=False)
    assert broken["paths"][0]["points"][1]["handle_out"] == [0.0, -50.0]
    auto = pathedit.reset_handles(broken, "a", 1)
    assert "handle_in" not in auto["paths"][0]["points"][1] and "handle_out" not in auto["paths"][0]["points"][1]


def test_a_click_on_the_curve_inserts_between_the_points_around_it():
    d = doc_with([(0, 0), (100, 0), (200, 0)], interpolation="linear")
    cp = compile_path(MotionPath.model_validate(d["paths"][0]))
    assert pathedit.nearest_on_path(cp, 150, 4)[:2] == (2, pytest.approx(4.0))
    index, dist, at = pathedit.nearest_on_path(cp, 40, -3)
    assert index == 1 and dist == pytest.approx(3.0) and at == pytest.approx([40, 0], abs=1e-6)


def test_body_edits():
    b0 = [{"id": "ball", "position": [10, 10]}]
    b1, bid = pathedit.add_body(b0, "box", 50, 60)
    assert bid == "box" and b1[1]["width"] == 60.0 and len(b0) == 1
    b2, seg = pathedit.add_body(b1, "segment", 100, 100)
    validate_bodies(b2)
    assert b2[2]["kind"] == "static"
    b3 = pathedit.update_body(b2, "ball", velocity=[100.0, 0.0])
    assert b3[0]["velocity"] == [100.0, 0.0]
    b4, dup = pathedit.duplicate_body(b3, "ball")
    assert dup == "ball_2" and b4[1]["position"] == [40.0, 10.0]
    validate_bodies(b4)
    assert [b["id"] for b in pathedit.remove_body(b4, "box")] == ["ball", "ball_2", "ledge"]
    with pytest.raises(KeyError, match="no body with id 'x'"):
        pathedit.remove_body(b4, "x")


def drawn_graph(camera: str | None) -> Project:
    p = Project(settings={"width": 64, "height": 64, "frame_count": 4})
    p.nodes += [
        NodeInstance(id="t", type="Trajectory"),
        NodeInstance(id="s", type="Sprite"),
        NodeInstance(id="a", type="AnimaticRender"),
        NodeInstance(id="g", type="ColorGrade"),
        NodeInstance(id="e", type="ExportVideo", params={"path": "x.mp4"}),
    ]
    p.links += [
        Link.make("t", "trajectory", "s", "trajectory"),
        Link.make("s", "sprite", "a", "sprites"),
        Link.make("a", "video", "g", "video"),
        Link.make("g", "video", "e", "video"),
    ]
    if camera:
        p.nodes.append(NodeInstance(id="c", type=camera))
        if camera == "Camera":
            p.links.append(Link.make("c", "camera", "a", "camera"))
    return p


def test_a_selected_trajectory_is_drawn_over_the_picture_it_ends_up_in_through_its_camera():
    reg = default_registry()
    p = drawn_graph("Camera")
    t = view.default_view_target(p, reg, ["t"])
    assert t.ref == "a.video"  # the nearest picture downstream, not the export's input
    assert view.view_camera(p, reg, t) == ("c", "camera")
    # upstream through the grade to the animatic's camera
    assert view.view_camera(p, reg, view.ViewTarget("g", "video", "VIDEO")) == ("c", "camera")
    # without a camera: world pixels are frame pixels
    p2 = drawn_graph(None)
    assert view.view_camera(p2, reg, view.default_view_target(p2, reg, ["t"])) is None
    # a Camera Move is its own camera
    p3 = Project(nodes=[NodeInstance(id="m", type="CameraMove")])
    assert view.view_camera(p3, reg, view.ViewTarget("m", "video", "VIDEO")) == ("m", "camera")
    # an unlinked trajectory falls back to the export's picture
    p4 = drawn_graph(None)
    p4.links = [l for l in p4.links if l.source_node != "t"]
    assert view.default_view_target(p4, reg, ["t"]).ref == "g.video"
