"""The example projects as a user runs them: validate, eval the physics node, render the demo and decode it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from motion_helpers import EXAMPLES, ROOT, color_centroid, run_cli
from vidstudio.media import probe_video, read_video

BALL_ORANGE = (0.96, 0.42, 0.12)


@pytest.fixture(scope="module")
def physics_json():
    r = run_cli("eval", str(EXAMPLES / "bouncing_ball.vidproj"), "physics", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_examples_validate():
    for name in ("bouncing_ball.vidproj", "drawn_path.vidproj"):
        r = run_cli("validate", str(EXAMPLES / name))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "ok (" in r.stdout


def test_eval_physics_prints_per_frame_positions_of_a_ball_that_bounces(physics_json):
    doc = json.loads((EXAMPLES / "bouncing_ball.vidproj").read_text())
    s = doc["settings"]
    ball = next(b for b in next(n for n in doc["nodes"] if n["id"] == "scene")["params"]["bodies"] if b["id"] == "ball")
    r = ball["radius"]
    assert physics_json["node"] == "physics" and physics_json["type"] == "Simulate"
    track = physics_json["outputs"]["trajectory"]["tracks"][0]
    pos = np.array(track["position"])
    assert track["name"] == "ball" and pos.shape == (s["frame_count"], 2)
    np.testing.assert_allclose(pos[0], ball["position"])
    # Thrown across the frame: it reaches the right-hand wall and comes back, and bounces on the ground.
    x, y = pos[:, 0], pos[:, 1]
    hit = int(np.argmax(x))
    assert x[hit] == pytest.approx(s["width"] - r, abs=8) and x[-1] < x[hit] - 50
    floor = s["height"] - r
    touches = np.flatnonzero(y > floor - 6)
    assert len(touches) and np.any(np.diff(y[touches[0] :]) < 0)  # goes up again after touching the ground
    assert np.all(y <= floor + 0.5)


def test_demo_renders_the_bouncing_ball_where_physics_puts_it(tmp_path, physics_json):
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^DEMO_PROJECT \?= resources/examples/bouncing_ball\.vidproj$", makefile, re.M)
    out = tmp_path / "demo.mp4"
    r = run_cli("render", str(EXAMPLES / "bouncing_ball.vidproj"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    info = probe_video(out)
    assert (info.frame_count, info.width, info.height) == (96, 768, 512)
    frames = read_video(out)
    pos = np.array(physics_json["outputs"]["trajectory"]["tracks"][0]["position"])
    for i in (0, 20, 45, 70, 95):
        x0, y0 = (pos[i] - 60).astype(int).clip(0)
        window = frames[i][y0 : y0 + 120, x0 : x0 + 120]
        c = color_centroid(window, BALL_ORANGE, tol=0.16)
        assert c is not None, f"no ball near {pos[i]} in frame {i}"
        np.testing.assert_allclose(c + [x0, y0], pos[i], atol=3.0)


def test_drawn_path_follows_the_catmull_rom_path_with_easing_under_a_zoom(tmp_path):
    from vidstudio.graph import Engine
    from vidstudio.motion.camera import transform_points
    from vidstudio.motion.easing import ease
    from vidstudio.motion.trajectory import compile_path, validate_document
    from vidstudio.nodes import default_registry
    from vidstudio.project import load_project

    project = load_project(EXAMPLES / "drawn_path.vidproj")
    engine = Engine(default_registry())
    res = engine.run(project, project.settings, targets=["animatic", "paths", "cam"], project_dir=project.project_dir)
    doc = validate_document(project.node("paths").params["paths"])
    p = doc.paths[0]
    assert p.interpolation == "catmull_rom" and p.easing.family == "sine" and p.easing.mode == "in_out"
    track = res.output("paths", "trajectory").get("logo")
    cp = compile_path(p)
    # Arc length travelled = L * sine_in_out((f - start) / (end - start)).
    f = np.arange(int(p.start_frame), int(p.end_frame) + 1)
    expect = cp.chain.length * ease("sine", "in_out", (f - p.start_frame) / (p.end_frame - p.start_frame))
    got = cp.chain.length_at(np.array([_nearest_u(cp, q) for q in track.position[f]]))
    np.testing.assert_allclose(got, expect, atol=0.5)
    cams = res.output("cam", "camera")
    zoom = np.sqrt(np.linalg.det(cams[:, :2, :2]))
    assert zoom[0] == pytest.approx(1.0) and zoom[-1] == pytest.approx(1.18) and np.all(np.diff(zoom) >= 0)
    # The logo is drawn where camera and path put it: the pixels it changes (against a render with the
    # sprite made transparent) are centred on the camera-mapped track position (the logo is round).
    clip = res.output("animatic", "video")
    bare = engine.run(
        project,
        project.settings,
        targets=["animatic"],
        project_dir=project.project_dir,
        overrides={"logo": {"opacity": 0.0}},
    ).output("animatic", "video")
    for i in (10, 47, 85):
        sx, sy = transform_points(cams[i], track.position[i])
        changed = np.abs(clip.frame(i) - bare.frame(i)).max(axis=2) > 0.1
        ys, xs = np.nonzero(changed)
        assert len(xs) > 2000
        np.testing.assert_allclose([xs.mean() + 0.5, ys.mean() + 0.5], [sx, sy], atol=4.0)


def _nearest_u(cp, q):
    u = np.linspace(0, cp.chain.segment_count, 4001)
    pts = cp.chain.point(u)
    i = int(np.argmin(np.linalg.norm(pts - q, axis=1)))
    return u[i]
