"""Drawn trajectories: curve shapes and timing checked against analytic answers, plus the editor functions."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from vidstudio.motion.easing import ease
from vidstudio.motion.splines import build_chain
from vidstudio.motion.trajectory import (
    MotionPath,
    evaluate_document,
    evaluate_path,
    frame_ticks,
    json_schema,
    new_path_id,
    path_handles,
    path_polyline,
    point_frames,
    validate_document,
)


def path(points, **kw) -> MotionPath:
    pts = [p if isinstance(p, dict) else {"x": p[0], "y": p[1]} for p in points]
    return MotionPath.model_validate({"id": "p", "points": pts, **kw})


def polyline_self_intersects(p: np.ndarray) -> bool:
    """True when two non-adjacent segments of a polyline cross."""
    a, b = p[:-1], p[1:]
    n = len(a)
    for i in range(n):
        j = np.arange(i + 2, n)
        if len(j) == 0:
            continue
        c, d = a[j], b[j]

        def orient(p1, p2, q):
            return np.sign(
                (p2[..., 0] - p1[..., 0]) * (q[..., 1] - p1[..., 1])
                - (p2[..., 1] - p1[..., 1]) * (q[..., 0] - p1[..., 0])
            )

        o1, o2 = orient(a[i], b[i], c), orient(a[i], b[i], d)
        o3, o4 = orient(c, d, a[i]), orient(c, d, b[i])
        if np.any((o1 * o2 < 0) & (o3 * o4 < 0)):
            return True
    return False


# ------------------------------------------------------------------------------------------------- curves
def test_catmull_rom_passes_through_every_point_at_its_keyed_frame():
    pts = [(50, 300), (200, 80), (260, 90), (500, 260), (640, 120)]
    frames = [0, 10, 14, 30, 47]
    p = path([{"x": x, "y": y, "frame": f} for (x, y), f in zip(pts, frames)], timing="keys", end_frame=47)
    tr = evaluate_path(p, 48)
    np.testing.assert_allclose(tr.position[frames], pts, atol=1e-6)


def test_centripetal_catmull_rom_has_no_loop_where_uniform_one_does():
    # Two points close together between far-apart neighbours: the uniform spline overshoots into a loop
    # (Yuksel et al. 2011, fig. 1); the centripetal one stays simple.
    pts = np.array([(0.0, 0.0), (100.0, 100.0), (104.0, 100.0), (200.0, 0.0)])
    centripetal, _ = build_chain("catmull_rom", pts, alpha=0.5)
    uniform, _ = build_chain("catmull_rom", pts, alpha=0.0)
    assert polyline_self_intersects(uniform.polyline(200))
    assert not polyline_self_intersects(centripetal.polyline(200))
    # ... and between the close points it stays near their chord (no cusp or bulge).
    mid = centripetal.point(np.linspace(1, 2, 50))
    assert np.abs(mid[:, 1] - 100).max() < 2.0


def test_bspline_is_the_clamped_cubic_of_scipy_and_c2():
    from scipy.interpolate import BSpline

    ctrl = np.array([(0, 0), (100, 200), (300, 220), (400, 0), (600, 50), (700, 300)], dtype=float)
    chain, point_u = build_chain("bspline", ctrl)
    k, n = 3, len(ctrl)
    knots = np.concatenate([np.zeros(k), np.arange(n - k + 1), np.full(k, n - k)]).astype(float)
    ref = BSpline(knots, ctrl, k)
    u = np.linspace(0, n - k, 77)
    np.testing.assert_allclose(chain.point(u), ref(u), atol=1e-9)
    np.testing.assert_allclose(chain.point(0.0), ctrl[0])
    np.testing.assert_allclose(chain.point(float(n - k)), ctrl[-1])
    # C2 at the inner knots: second differences match from both sides.
    h = 1e-4
    for kn in (1.0, 2.0):
        left = chain.point(kn - 2 * h) - 2 * chain.point(kn - h) + chain.point(kn)
        right = chain.point(kn) - 2 * chain.point(kn + h) + chain.point(kn + 2 * h)
        np.testing.assert_allclose(left / h**2, right / h**2, rtol=1e-3, atol=1e-2)
    assert np.all(np.diff(point_u) > 0) and point_u[0] == 0 and point_u[-1] == n - k


def test_bezier_handles_define_the_cubic():
    p0, p3 = np.array([100.0, 300.0]), np.array([400.0, 300.0])
    h_out, h_in = np.array([0.0, -150.0]), np.array([0.0, -150.0])
    p = path(
        [{"x": 100, "y": 300, "handle_out": list(h_out)}, {"x": 400, "y": 300, "handle_in": list(h_in)}],
        interpolation="bezier",
    )
    from vidstudio.motion.trajectory import compile_path

    chain = compile_path(p).chain
    # Bernstein at t = 1/2: (P0 + 3 H1 + 3 H2 + P3) / 8
    expect = (p0 + 3 * (p0 + h_out) + 3 * (p3 + h_in) + p3) / 8
    np.testing.assert_allclose(chain.point(0.5), expect, atol=1e-9)
    hin, hout = path_handles(p)
    np.testing.assert_allclose(hout[0], p0 + h_out)
    np.testing.assert_allclose(hin[1], p3 + h_in)
    assert np.isnan(hin[0]).all() and np.isnan(hout[1]).all()


def test_bezier_without_handles_is_the_smooth_catmull_rom():
    pts = [(0, 0), (100, 50), (250, 0), (300, 120)]
    a = path(pts, interpolation="bezier")
    b = path(pts, interpolation="catmull_rom")
    np.testing.assert_allclose(evaluate_path(a, 30).position, evaluate_path(b, 30).position, atol=1e-9)


# ------------------------------------------------------------------------------------------------- timing
def test_constant_speed_along_a_curve():
    p = path([(50, 400), (200, 60), (420, 380), (700, 100)], end_frame=59)
    tr = evaluate_path(p, 60)
    step = np.linalg.norm(np.diff(tr.position, axis=0), axis=1)
    # Chords of a curved path are slightly shorter than the arc; equal spacing within 1 %.
    assert step.std() / step.mean() < 0.01
    np.testing.assert_allclose(tr.position[0], [50, 400])
    np.testing.assert_allclose(tr.position[-1], [700, 100], atol=1e-6)


def test_linear_polyline_with_sine_easing_matches_arc_length_formula():
    # An L-shaped polyline of length 300 + 400 = 700: the arc length at frame f is 700 * ease(f / 40).
    p = path(
        [(0, 0), (300, 0), (300, 400)],
        interpolation="linear",
        end_frame=40,
        easing={"family": "sine", "mode": "in_out"},
    )
    tr = evaluate_path(p, 41)
    s = 700 * ease("sine", "in_out", np.arange(41) / 40)
    expect = np.where(s[:, None] <= 300, np.stack([s, 0 * s], 1), np.stack([300 + 0 * s, s - 300], 1))
    np.testing.assert_allclose(tr.position, expect, atol=1e-6)


def test_keyed_timing_holds_between_keys_at_the_same_place_and_respects_start_end():
    pts = [
        {"x": 0, "y": 0, "frame": 5},
        {"x": 100, "y": 0, "frame": 10},
        {"x": 100, "y": 0, "frame": 20},
        {"x": 100, "y": 100, "frame": 30},
    ]
    p = path(pts, timing="keys", interpolation="linear", start_frame=0, end_frame=40)
    tr = evaluate_path(p, 41)
    np.testing.assert_allclose(tr.position[:6], [[0, 0]] * 6)  # before the first key: hold
    np.testing.assert_allclose(tr.position[7], [40, 0], atol=1e-9)  # linear in time within a span
    np.testing.assert_allclose(tr.position[10:21], [[100, 0]] * 11)  # the wait
    np.testing.assert_allclose(tr.position[25], [100, 50], atol=1e-9)
    np.testing.assert_allclose(tr.position[30:], [[100, 100]] * 11)  # after the last key: hold
    np.testing.assert_allclose(point_frames(p, 41), [5, 10, 20, 30])


def test_unkeyed_inner_points_take_their_time_from_the_arc_length():
    p = path(
        [{"x": 0, "y": 0}, {"x": 100, "y": 0}, {"x": 400, "y": 0, "frame": 40}],
        timing="keys",
        interpolation="linear",
        end_frame=40,
    )
    np.testing.assert_allclose(point_frames(p, 41), [0, 10, 40], atol=1e-6)
    np.testing.assert_allclose(evaluate_path(p, 41).position[10], [100, 0], atol=1e-6)


def test_back_easing_overshoots_past_the_end_along_the_tangent():
    p = path([(0, 100), (200, 100)], interpolation="linear", end_frame=20, easing={"family": "back", "mode": "out"})
    x = evaluate_path(p, 21).position[:, 0]
    assert x.max() > 210 and x[-1] == pytest.approx(200)
    assert np.allclose(evaluate_path(p, 21).position[:, 1], 100)


# ------------------------------------------------------------------------------------------ object state
def test_rotation_modes_scale_and_visibility():
    circle = [(200 + 100 * np.cos(a), 200 + 100 * np.sin(a)) for a in np.linspace(0, np.pi, 9)]
    p = path(
        circle,
        rotation={"mode": "tangent", "angle": 10},
        end_frame=20,
        scale=2.0,
        hidden=[[3, 4]],
        outside="hide",
        start_frame=2,
    )
    tr = evaluate_path(p, 24)
    # Along a half circle travelled clockwise on screen (y down) the heading (angle minus the 10 degree
    # offset) is the direction of motion, turning from about +90 to about +270 degrees.
    heading = np.rad2deg(tr.angle) - 10
    v = tr.position[4:20] - tr.position[2:18]
    np.testing.assert_allclose(heading[3:19], np.rad2deg(np.unwrap(np.arctan2(v[:, 1], v[:, 0]))), atol=1.5)
    assert 90 < heading[2] < 110 and 250 < heading[20] < 270
    assert np.all(np.diff(heading[2:21]) > 0)
    assert np.all(tr.scale == 2.0)
    assert tr.visible.tolist() == [False, False, True, False, False] + [True] * 16 + [False] * 3
    keyed = path(
        [(0, 0), (10, 0)],
        rotation={
            "mode": "keyed",
            "angle": {"keys": [{"frame": 0, "value": 0, "interpolation": "linear"}, {"frame": 10, "value": 90}]},
        },
        scale={"keys": [{"frame": 0, "value": 1, "interpolation": "linear"}, {"frame": 10, "value": 3}]},
    )
    tr = evaluate_path(keyed, 11)
    np.testing.assert_allclose(np.rad2deg(tr.angle[5]), 45)
    np.testing.assert_allclose(tr.scale[5], 2)
    assert tr.size == (64.0, 64.0) and tr.meta["path_id"] == "p"


def test_document_to_trackset_resamples_at_the_consumer_boundary():
    doc = {
        "paths": [
            {"id": "a", "points": [{"x": 0, "y": 0}, {"x": 100, "y": 50}]},
            {"id": "b", "name": "ball", "points": [{"x": 10, "y": 10}]},
        ],
        "anchors": [{"id": "tree", "x": 300, "y": 200}],
    }
    ts = evaluate_document(doc, 48)
    assert ts.names == ["a", "ball"] and ts.frame_count == 48
    np.testing.assert_allclose(ts.anchors, [[300, 200]])
    r = ts.resample(121)
    assert r.frame_count == 121
    np.testing.assert_allclose(r.get("a").position[[0, -1]], [[0, 0], [100, 50]], atol=1e-9)
    np.testing.assert_allclose(r.get("ball").position, [[10, 10]] * 121)


# ------------------------------------------------------------------------------------------ editor helpers
def test_editor_helpers_polyline_ticks_and_point_frames():
    p = path(
        [(50, 300), (200, 80), (400, 300)], start_frame=10, end_frame=30, easing={"family": "quad", "mode": "in_out"}
    )
    line = path_polyline(p, 16)
    assert line.shape == (2 * 16 + 1, 2)
    np.testing.assert_allclose(line[[0, 16, -1]], [[50, 300], [200, 80], [400, 300]], atol=1e-9)
    frames, pos = frame_ticks(p, 24)
    assert frames.tolist() == list(range(10, 24))  # the clip ends before the path does
    np.testing.assert_allclose(pos, evaluate_path(p, 24).position[10:24])
    pf = point_frames(p, 48)
    assert pf[0] == 10 and pf[-1] == 30 and 10 < pf[1] < 30
    tr = evaluate_path(p, 48, frames=np.array([pf[1]]))
    np.testing.assert_allclose(tr.position[0], [200, 80], atol=0.05)


def test_validation_names_where_the_problem_is():
    with pytest.raises(ValidationError, match=r"points\[2\]\.frame 5 must be after points\[1\]\.frame 9"):
        path([{"x": 0, "y": 0, "frame": 0}, {"x": 1, "y": 0, "frame": 9}, {"x": 2, "y": 0, "frame": 5}], timing="keys")
    with pytest.raises(ValidationError, match="repeats paths\\[0\\].id"):
        validate_document(
            {"paths": [{"id": "a", "points": [{"x": 0, "y": 0}]}, {"id": "a", "points": [{"x": 0, "y": 0}]}]}
        )
    with pytest.raises(ValidationError, match="end_frame 3 is before start_frame 8"):
        path([(0, 0)], start_frame=8, end_frame=3)
    with pytest.raises(ValidationError, match="points"):
        validate_document({"paths": [{"id": "a", "points": []}]})
    # The first point defaults to start_frame: a key at that very frame on the second point is refused.
    p = path([{"x": 0, "y": 0}, {"x": 5, "y": 0, "frame": 0}], timing="keys")
    with pytest.raises(ValueError, match="points\\[1\\] is timed at frame 0, not after points\\[0\\]"):
        evaluate_path(p, 10)


def test_schema_and_round_trip_keep_unknown_editor_state():
    schema = json_schema()
    assert {"paths", "anchors", "version"} <= set(schema["properties"])
    doc = {"paths": [{"id": "a", "points": [{"x": 0, "y": 0, "selected": True}], "editor": {"locked": False}}]}
    d = validate_document(doc)
    dumped = d.model_dump(mode="json")
    assert dumped["paths"][0]["editor"] == {"locked": False} and dumped["paths"][0]["points"][0]["selected"] is True
    assert new_path_id(d, "a") == "a_2" and new_path_id(d, "b") == "b"
