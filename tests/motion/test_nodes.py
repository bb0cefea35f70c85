"""The motion nodes through the engine: values, caching, errors that name the node, and the attribute
controls (Retime, Color Grade) checked against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from motion_helpers import ASSETS, key, run_graph
from vidstudio.errors import GraphError, NodeError
from vidstudio.media.clip import Clip
from vidstudio.motion.camera import camera_matrices
from vidstudio.motion.curves import FCurve
from vidstudio.motion.tracks import TrackSet
from vidstudio.nodes.grade import LUMA, grade_frame, linear_to_srgb, srgb_to_linear

SETTINGS = {"width": 160, "height": 96, "fps": 24, "frame_count": 12}
BALL = {
    "id": "ball",
    "radius": 12,
    "position": [40, 30],
    "velocity": [200, 0],
    "elasticity": 0.6,
    "color": [0.2, 0.4, 1.0],
}
PATH_DOC = {
    "paths": [
        {
            "id": "p",
            "name": "dot",
            "interpolation": "linear",
            "size": [20, 20],
            "points": [{"x": 20, "y": 48}, {"x": 140, "y": 48}],
        }
    ]
}


def test_curve_node_gives_the_keyed_curve_and_per_frame_values():
    anim = {"c.value": key([(0, 1.0), (10, 3.0)], "linear")}
    res, _ = run_graph([{"id": "c", "type": "Curve"}], [], animation=anim, settings=SETTINGS)
    curve, values = res.output("c", "curve"), res.output("c", "values")
    assert isinstance(curve, FCurve) and curve.value_at(2.5) == pytest.approx(1.5)
    np.testing.assert_allclose(values, np.clip(1 + 0.2 * np.arange(12), None, 3.0))
    res, _ = run_graph([{"id": "c", "type": "Curve", "params": {"value": 7.0}}], [], settings=SETTINGS)
    assert res.output("c", "curve").value_at(123.4) == 7.0


def test_camera_node_from_parameters_and_from_a_shared_curve():
    anim = {"z.value": key([(0, 1.0), (11, 2.0)], "linear"), "cam.roll": key([(0, 0.0), (11, 11.0)], "linear")}
    nodes = [{"id": "z", "type": "Curve"}, {"id": "cam", "type": "Camera", "params": {"pan": 5.0}}]
    res, _ = run_graph(nodes, [("z.curve", "cam.zoom")], animation=anim, settings=SETTINGS)
    cams = res.output("cam", "camera")
    t = np.arange(12)
    expect = camera_matrices(160, 96, pan=5.0, zoom=1 + t / 11, roll=t.astype(float))
    assert cams.shape == (12, 3, 3)
    np.testing.assert_allclose(cams, expect, atol=1e-12)


def test_trajectory_node_output_and_errors_naming_node_and_param():
    res, _ = run_graph([{"id": "path", "type": "Trajectory", "params": {"paths": PATH_DOC}}], [], settings=SETTINGS)
    ts = res.output("path", "trajectory")
    assert isinstance(ts, TrackSet) and ts.names == ["dot"] and ts.frame_count == 12
    np.testing.assert_allclose(ts.get("dot").position[[0, -1]], [[20, 48], [140, 48]])
    bad = {
        "paths": [{"id": "p", "points": [{"x": 0, "y": 0, "frame": 4}, {"x": 1, "y": 1, "frame": 2}], "timing": "keys"}]
    }
    with pytest.raises(GraphError) as e:
        run_graph([{"id": "path", "type": "Trajectory", "params": {"paths": bad}}], [], settings=SETTINGS)
    assert "node 'path' param 'paths'" in str(e.value) and "points[1].frame 2 must be after points[0].frame 4" in str(
        e.value
    )
    late = {"paths": [{"id": "p", "points": [{"x": 0, "y": 0}, {"x": 1, "y": 1, "frame": 0}], "timing": "keys"}]}
    with pytest.raises(GraphError, match=r"paths\[0\]: path 'p': points\[1\] is timed at frame 0"):
        run_graph([{"id": "path", "type": "Trajectory", "params": {"paths": late}}], [], settings=SETTINGS)


def test_physics_is_simulated_once_and_cached_until_the_scene_changes():
    nodes = [
        {"id": "scene", "type": "PhysicsScene", "params": {"bodies": [BALL]}},
        {"id": "physics", "type": "Simulate"},
    ]
    links = [("scene.scene", "physics.scene")]
    res, engine = run_graph(nodes, links, settings=SETTINGS)
    tracks = res.output("physics", "trajectory")
    assert tracks.names == ["ball"] and tracks.get("ball").meta["shape"] == "circle"
    assert tracks.get("ball").position[5, 1] > 30  # falling
    res2, _ = run_graph(nodes, links, settings=SETTINGS, engine=engine)
    assert res2.report["physics"].status == "cached"
    assert res2.output("physics", "trajectory") is tracks
    nodes[0]["params"]["gravity_y"] = 0.0
    res3, _ = run_graph(nodes, links, settings=SETTINGS, engine=engine)
    assert res3.report["physics"].status == "ran"
    np.testing.assert_allclose(res3.output("physics", "trajectory").get("ball").position[:, 1], 30)
    with pytest.raises(GraphError, match=r"node 'scene' param 'bodies'.*\[0\]\.mass"):
        run_graph(
            [{"id": "scene", "type": "PhysicsScene", "params": {"bodies": [{**BALL, "mass": -1}]}}],
            [],
            settings=SETTINGS,
        )


def _animatic_graph(extra_nodes=(), extra_links=()):
    nodes = [
        {"id": "scene", "type": "PhysicsScene", "params": {"bodies": [BALL]}},
        {"id": "physics", "type": "Simulate"},
        {"id": "ball", "type": "Sprite", "params": {"track": "ball", "color": [0.2, 0.4, 1.0]}},
        {"id": "path", "type": "Trajectory", "params": {"paths": PATH_DOC}},
        {"id": "cam", "type": "Camera", "params": {"zoom": 1.25}},
        {"id": "animatic", "type": "AnimaticRender", "params": {"background_color": [0, 0, 0]}},
        *extra_nodes,
    ]
    links = [
        ("scene.scene", "physics.scene"),
        ("physics.trajectory", "ball.trajectory"),
        ("ball.sprite", "animatic.sprites"),
        ("path.trajectory", "animatic.trajectory"),
        ("cam.camera", "animatic.camera"),
        *extra_links,
    ]
    return nodes, links


def test_animatic_render_node_draws_sprites_and_stand_ins_through_the_camera():
    nodes, links = _animatic_graph()
    res, _ = run_graph(nodes, links, settings=SETTINGS)
    clip = res.output("animatic", "video")
    assert isinstance(clip, Clip) and clip.shape == (12, 96, 160, 3)
    f = clip.frame(0)
    cam = camera_matrices(160, 96, zoom=1.25)[0]
    bx, by = (cam @ [40, 30, 1])[:2]
    np.testing.assert_allclose(f[int(by), int(bx)], [0.2, 0.4, 1.0], atol=0.02)  # the ball's own colour
    px, py = (cam @ [20, 48, 1])[:2]
    np.testing.assert_allclose(f[int(py), int(px)], [1.0, 0.55, 0.1], atol=0.02)  # the path's stand-in box


def test_conditioning_map_nodes():
    extra = [
        {"id": "masks", "type": "ObjectMasks"},
        {"id": "boxes", "type": "ObjectBoxes", "params": {"objects": "ball"}},
        {"id": "heat", "type": "Heatmaps", "params": {"sigma": 3.0}},
        {"id": "flow", "type": "MotionFlow"},
    ]
    links = []
    for n in ("masks", "boxes", "heat", "flow"):
        links += [
            ("ball.sprite", f"{n}.sprites"),
            ("path.trajectory", f"{n}.trajectory"),
            ("cam.camera", f"{n}.camera"),
        ]
    nodes, base_links = _animatic_graph(extra, links)
    res, _ = run_graph(nodes, base_links, settings=SETTINGS, targets=["masks", "boxes", "heat", "flow"])
    mask = res.output("masks", "mask")
    assert mask.shape == (12, 96, 160) and mask.dtype == bool and mask[0].sum() > 500
    boxes = res.output("boxes", "boxes")
    assert boxes.shape == (12, 1, 4)
    cam = camera_matrices(160, 96, zoom=1.25)[0]
    c = (cam @ [40, 30, 1])[:2]
    np.testing.assert_allclose(boxes[0, 0], [c[0] - 15, c[1] - 15, c[0] + 15, c[1] + 15], atol=0.2)
    screen = res.output("boxes", "trajectory")
    np.testing.assert_allclose(screen.get("ball").position[0], c, atol=1e-9)
    assert res.output("heat", "heatmap").shape == (12, 96, 160)
    flow = res.output("flow", "flow")
    assert flow.shape == (11, 96, 160, 2) and flow.dtype == np.float32
    # The path's stand-in moves 120 px in 11 frames: 10.9 px per frame, times the zoom.
    py, px = int((cam @ [20, 48, 1])[1]), int((cam @ [20, 48, 1])[0])
    assert flow[0, py, px, 0] == pytest.approx(120 / 11 * 1.25, rel=1e-3)
    with pytest.raises(NodeError, match="node 'boxes'.*no object named 'nope'"):
        nodes[-3]["params"]["objects"] = "nope"
        run_graph(nodes, base_links, settings=SETTINGS, targets=["boxes"])


def test_retime_slows_a_video_with_frame_blending_and_a_trajectory_with_interpolation():
    extra = [{"id": "rt", "type": "Retime", "params": {"speed": 0.5}}]
    links = [("animatic.video", "rt.video"), ("path.trajectory", "rt.trajectory")]
    nodes, base_links = _animatic_graph(extra, links)
    res, _ = run_graph(nodes, base_links, settings=SETTINGS, targets=["rt", "animatic", "path"])
    src, out = res.output("animatic", "video"), res.output("rt", "video")
    np.testing.assert_allclose(out.frame(2), src.frame(1), atol=1e-6)
    np.testing.assert_allclose(out.frame(3), 0.5 * (src.frame(1) + src.frame(2)), atol=1e-6)
    tr_in, tr_out = res.output("path", "trajectory").get("dot"), res.output("rt", "trajectory").get("dot")
    np.testing.assert_allclose(tr_out.position[3], 0.5 * (tr_in.position[1] + tr_in.position[2]))
    # A keyed ramp to a freeze: from frame 6 on the speed is 0, so the picture holds.
    anim = {"rt.speed": key([(0, 1.0), (6, 0.0)], "linear")}
    res, _ = run_graph(nodes, base_links, settings=SETTINGS, targets=["rt"], animation=anim)
    pos = res.output("rt", "trajectory").get("dot").position[:, 0]
    assert np.all(np.diff(pos[:7]) > 0) and np.allclose(pos[6:], pos[6])
    with pytest.raises(NodeError, match="node 'rt'.*nothing to retime"):
        run_graph([{"id": "rt", "type": "Retime"}], [], settings=SETTINGS)


def test_color_grade_math_and_node():
    rng = np.random.default_rng(0)
    frame = rng.random((8, 8, 3), dtype=np.float32)
    np.testing.assert_allclose(grade_frame(frame), frame, atol=1e-5)
    np.testing.assert_allclose(
        srgb_to_linear(linear_to_srgb(np.float32([0.01, 0.2, 0.7]))), [0.01, 0.2, 0.7], atol=1e-5
    )
    dark = frame * 0.4
    lin = srgb_to_linear(dark)
    np.testing.assert_allclose(srgb_to_linear(grade_frame(dark, exposure=1.0)), 2 * lin, atol=1e-4)
    grey = grade_frame(frame, saturation=0.0)
    np.testing.assert_allclose(grey[..., 0], grey[..., 2], atol=1e-6)
    np.testing.assert_allclose(srgb_to_linear(grey)[..., 0], srgb_to_linear(frame) @ LUMA, atol=1e-4)
    white = np.full((1, 1, 3), 0.5, np.float32)
    warm = srgb_to_linear(grade_frame(white, temperature=60.0))[0, 0]
    assert warm[0] > warm[1] > warm[2] and float(warm @ LUMA) == pytest.approx(
        float(srgb_to_linear(white)[0, 0, 0]), rel=1e-4
    )
    mid = np.full((1, 1, 3), float(linear_to_srgb(np.float32(0.18))), np.float32)
    np.testing.assert_allclose(grade_frame(mid, contrast=2.0), mid, atol=1e-4)  # mid grey is the pivot
    assert grade_frame(frame * 0 + 0.2, contrast=2.0)[0, 0, 0] < 0.2
    # The node: keyed exposure from 0 to 1 stop across the clip.
    extra = [{"id": "grade", "type": "ColorGrade"}]
    nodes, links = _animatic_graph(extra, [("animatic.video", "grade.video")])
    anim = {"grade.exposure": key([(0, 0.0), (11, 1.0)], "linear")}
    res, _ = run_graph(nodes, links, settings=SETTINGS, animation=anim, targets=["grade", "animatic"])
    src, out = res.output("animatic", "video"), res.output("grade", "video")
    np.testing.assert_allclose(out.frame(0), src.frame(0), atol=1e-5)
    a, b = srgb_to_linear(src.frame(11)), srgb_to_linear(out.frame(11))
    ok = a < 0.45
    np.testing.assert_allclose(b[ok], 2 * a[ok], atol=1e-4)


def test_sprite_node_errors_and_image_sprites(tmp_path):
    nodes = [
        {"id": "path", "type": "Trajectory", "params": {"paths": PATH_DOC}},
        {"id": "img", "type": "LoadImage", "params": {"path": str(ASSETS / "logo_cutout.png")}},
        {"id": "s", "type": "Sprite", "params": {"track": "nope"}},
    ]
    links = [("path.trajectory", "s.trajectory"), ("img.image", "s.image")]
    with pytest.raises(
        NodeError, match="node 's' \\(Sprite\\): param 'track': no track named 'nope' \\(tracks: dot\\)"
    ):
        run_graph(nodes, links, settings=SETTINGS)
    nodes[-1]["params"] = {"width": 40}
    res, _ = run_graph(nodes, links, settings=SETTINGS)
    sp = res.output("s", "sprite")
    assert sp.image is not None and sp.size == (40, 40) and sp.track.name == "dot"


def test_a_sprite_on_a_trajectory_with_nothing_drawn_yet_stands_still_with_a_note():
    """A fresh Trajectory node (no paths) wired to a Sprite: the animatic stays usable while the artist has not
    drawn yet; the sprite stands at x, y (the frame's centre by default) and the run report says why."""
    nodes = [
        {"id": "path", "type": "Trajectory", "params": {"paths": {"paths": []}}},
        {"id": "s", "type": "Sprite", "params": {"width": 10}},
    ]
    res, _ = run_graph(nodes, [("path.trajectory", "s.trajectory")], settings=SETTINGS)
    sp = res.output("s", "sprite")
    np.testing.assert_allclose(sp.track.position, np.tile([[80.0, 48.0]], (12, 1)))
    assert any("no paths yet" in n for n in res.report["s"].notes)


def test_sprite_opacity_is_keyable_for_fades():
    """A white box on black fading in over frames 2..10 (linear key): the animatic's pixel at the box's centre
    is the opacity (the picture is composited "over"), and the sprite reports it per frame."""
    nodes = [
        {"id": "s", "type": "Sprite", "params": {"shape": "box", "width": 40, "height": 40, "color": [1.0, 1.0, 1.0]}},
        {"id": "a", "type": "AnimaticRender", "params": {"background_color": [0.0, 0.0, 0.0]}},
    ]
    fade = {"s.opacity": key([(2, 0.0), (10, 1.0)])}
    res, _ = run_graph(nodes, [("s.sprite", "a.sprites")], settings=SETTINGS, animation=fade)
    sp = res.output("s", "sprite")
    expect = np.clip((np.arange(12) - 2) / 8, 0.0, 1.0)
    np.testing.assert_allclose([sp.opacity_at(f) for f in range(12)], expect)
    video = np.asarray(res.output("a", "video"))
    centre = video[:, 48, 80].mean(axis=1)
    np.testing.assert_allclose(centre, expect, atol=1.5 / 255)
    assert sp.to_json()["opacity"][6] == 0.5
    # a constant opacity stays a plain number
    res, _ = run_graph(nodes, [("s.sprite", "a.sprites")], settings=SETTINGS)
    assert res.output("s", "sprite").opacity == 1.0
