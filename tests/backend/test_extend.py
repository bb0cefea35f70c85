"""Extend (issue 16 point 2): windows chained with overlap on tiny models; each window is conditioned on the
previous window's last frames at the right frame indices, and the conditioning is sliced per window."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vidstudio.backend.bundle import Conditioning, ModelRef
from vidstudio.backend.extend import extend, match_colour, plan_windows, window_bundle
from vidstudio.errors import NodeError
from vidstudio.families import check_request
from vidstudio.families._check import Request


def pil_array(img):
    return np.asarray(img, dtype=np.float32) / 255.0


def test_windows_cover_the_clip_with_the_overlap():
    assert plan_windows(17, 9, 3) == [(0, 9), (6, 15), (12, 21)]
    assert plan_windows(9, 9, 3) == [(0, 9)]
    with pytest.raises(NodeError, match="param 'overlap': 9 frames must be at least 0 and less than the window"):
        plan_windows(20, 9, 9)


def test_a_single_pass_longer_than_the_window_is_refused_and_pointed_at_extend():
    res = check_request("ltx", Request(controls={"text"}, width=64, height=64, frames=297))
    assert not res.ok
    assert any(
        "ltx makes at most 257 frames in one pass, the project has 297; use an Extend node" in m
        for _, m in res.problems
    )
    assert check_request("ltx", Request(controls={"text"}, width=64, height=64, frames=257)).ok


def test_colour_match_takes_the_overlap_statistics():
    rng = np.random.default_rng(0)
    ref = rng.random((3, 8, 8, 3)).astype(np.float32) * 0.5 + 0.25
    new = np.clip(ref * 0.5 + 0.1, 0, 1)  # darker, flatter
    fixed = match_colour(new, new, ref)
    np.testing.assert_allclose(fixed.mean(axis=(0, 1, 2)), ref.mean(axis=(0, 1, 2)), atol=1e-4)
    np.testing.assert_allclose(fixed.std(axis=(0, 1, 2)), ref.std(axis=(0, 1, 2)), atol=1e-4)


def test_the_bundle_is_sliced_per_window():
    boxes = np.arange(30 * 4, dtype=np.float64).reshape(30, 1, 4)
    guide = np.zeros((25, 4, 4, 3), np.float32) + np.arange(25, dtype=np.float32)[:, None, None, None] / 25
    b = Conditioning(
        prompt="a fox", prompt_schedule={10: "a fox jumps", 20: "a fox lands"}, boxes=boxes, guide=guide, guide_start=5
    )
    w = window_bundle(b, 12, 21, schedule_ok=False)
    assert w.prompt == "a fox jumps" and w.prompt_schedule == {}
    np.testing.assert_array_equal(w.boxes, boxes[12:21])
    assert w.guide_start == 0 and len(w.guide) == 9 and w.guide[0, 0, 0, 0] == pytest.approx(7 / 25)
    w = window_bundle(b, 0, 9, schedule_ok=True)
    assert w.prompt == "a fox" and w.guide_start == 5 and len(w.guide) == 4 and w.prompt_schedule == {}
    assert window_bundle(b, 6, 15, schedule_ok=True).prompt_schedule == {0: "a fox", 4: "a fox jumps"}


def test_ltx_windows_are_conditioned_on_the_previous_frames_at_their_indices(tiny, pipeline_cache):
    calls = []
    ref = ModelRef(model=str(tiny("ltx")))
    boxes = np.tile(np.array([[10.0, 10.0, 30.0, 30.0]]), (17, 1, 1))
    boxes[:, 0, [0, 2]] += np.arange(17)[:, None]
    res = extend(
        ref,
        Conditioning(prompt="a fox", prompt_schedule={8: "a fox runs"}, steps=1, seed=5, boxes=boxes),
        width=64,
        height=64,
        frames=17,
        window=9,
        overlap=3,
        fps=8,
        cache=pipeline_cache,
        call_hook=lambda plan, kw: calls.append(dict(kw)),
    )
    assert res.frames.shape == (17, 64, 64, 3)
    assert [(w.start, w.stop, w.seed, w.conditioned) for w in res.windows] == [
        (0, 9, 5, []),
        (6, 15, 6, [0, 1, 2]),
        (12, 21, 7, [0, 1, 2]),
    ]
    assert [w.prompt for w in res.windows] == ["a fox", "a fox runs", "a fox runs"]
    assert any("window 1: frames 6..14, seed 6, conditioned at frames 0..2" in n for n in res.notes)
    assert len(calls) == 3 and "conditions" not in calls[0] and calls[0]["num_frames"] == 9
    assert calls[1]["prompt"] == "a fox runs"
    for k in (1, 2):
        conds = calls[k]["conditions"]
        assert [(c.frame_index, c.strength) for c in conds] == [(0, 1.0), (1, 1.0), (2, 1.0)]
    # Window 1's conditions are window 0's last three frames (project frames 6, 7, 8), as made.
    first = []
    res0 = extend(
        ref,
        Conditioning(prompt="a fox", steps=1, seed=5, boxes=boxes[:9]),
        width=64,
        height=64,
        frames=9,
        window=9,
        overlap=3,
        fps=8,
        cache=pipeline_cache,
        call_hook=lambda p, kw: first.append(kw),
    )
    for j, c in enumerate(calls[1]["conditions"]):
        assert np.allclose(pil_array(c.image), res0.frames[6 + j], atol=1 / 255 + 1e-6)
    np.testing.assert_allclose(res.frames[:6], res0.frames[:6], atol=1e-6)  # the first window's own frames


def test_a_family_without_keyframes_cannot_extend(tiny, pipeline_cache):
    with pytest.raises(NodeError, match="takes no keyframes, so a window cannot be conditioned"):
        extend(
            ModelRef(model=str(tiny("wan"))),
            Conditioning(prompt="a fox", steps=1),
            width=64,
            height=64,
            frames=17,
            window=9,
            cache=pipeline_cache,
        )


def test_extend_node_runs_in_the_engine_and_reports_the_windows(tiny, pipeline_cache):
    import json

    from vidstudio.graph.engine import Engine
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 17},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"model": str(tiny("ltx"))}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 1, "seed": 3}},
            {"id": "ext", "type": "Extend", "params": {"window": 9, "overlap": 1}},
        ],
        "links": [{"from": "model.model", "to": "ext.model"}, {"from": "cond.conditioning", "to": "ext.conditioning"}],
    }
    p = loads_project(json.dumps(doc))
    r = Engine(default_registry()).run(p, p.settings, services={"pipeline_cache": pipeline_cache})
    clip = r.output("ext", "video")
    assert clip.frame_count == 17 and clip.metadata["vidstudio_windows"] == "2"
    notes = r.report["ext"].notes
    assert any(n.startswith("window 0: frames 0..8, seed 3") for n in notes)
    assert any(n.startswith("window 1: frames 8..16, seed 4, conditioned at frames 0..0") for n in notes)


def test_graph_validation_refuses_a_long_single_pass_and_points_at_extend():
    import json

    from vidstudio.graph.validate import validate_graph
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "24", "frame_count": 297},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"family": "ltx", "model": ""}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox"}},
            {"id": "gen", "type": "Generate", "params": {}},
        ],
        "links": [{"from": "model.model", "to": "gen.model"}, {"from": "cond.conditioning", "to": "gen.conditioning"}],
    }
    p = loads_project(json.dumps(doc))
    errors = [str(i) for i in validate_graph(p, default_registry(), p.settings) if i.severity == "error"]
    assert any(
        "node 'gen' frames: ltx makes at most 257 frames in one pass, the project has 297; use an Extend node" in e
        for e in errors
    ), errors
