"""Go-with-the-Flow warped initial noise in graphs and generation: the Conditioning node's `initial_noise`,
`flow` and `noise_degradation`, their validation, and the warped latents reaching a tiny CogVideoX pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import project_doc, trajectory_source
from vidstudio.graph.engine import Engine
from vidstudio.graph.validate import validate_graph
from vidstudio.motion.warped_noise import warped_noise
from vidstudio.nodes import default_registry
from vidstudio.project import loads_project

#: A test TRAJECTORY: a 24 px square moving 2 px per frame to the right.
Square = trajectory_source(
    "TestSquare", lambda T: np.stack([16.0 + 2.0 * np.arange(T), np.full(T, 32.0)], 1), name="square", size=(24.0, 24.0)
)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def registry():
    reg = default_registry()
    reg.register(Square)
    return reg


def project(model: str = "", *, cond=None, flow: bool = True, frames: int = 17):
    """Load Model -> Generate <- Conditioning <- Motion Flow <- a moving square."""
    doc = project_doc(
        [
            {"id": "model", "type": "LoadModel", "params": {"model": model}},
            {"id": "square", "type": "TestSquare"},
            {"id": "flow", "type": "MotionFlow"},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 1, **(cond or {})}},
            {"id": "gen", "type": "Generate", "params": {}},
        ],
        [
            {"from": "square.tracks", "to": "flow.trajectory"},
            {"from": "model.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
            *([{"from": "flow.flow", "to": "cond.flow"}] if flow else []),
        ],
        frames=frames,
    )
    return loads_project(json.dumps(doc))


def issues(p, severity):
    return [str(i) for i in validate_graph(p, registry(), p.settings) if i.severity == severity]


def test_the_conditioning_node_carries_the_mode_the_flow_and_the_degradation():
    p = project(cond={"initial_noise": "warped", "noise_degradation": 0.25})
    b = Engine(registry()).run(p, p.settings, targets=["cond"]).output("cond")
    assert (b.initial_noise, b.noise_degradation) == ("warped", 0.25)
    assert b.flow.shape == (16, 64, 64, 2) and b.flow.dtype == np.float32
    assert np.allclose(b.flow[3, 32, 20], [2.0, 0.0]) and np.allclose(b.flow[3, 2, 2], 0.0)  # square / background
    assert b.to_json()["flow"] == [16, 64, 64, 2] and b.to_json()["initial_noise"] == "warped"
    old = project(flow=False)  # a project made before the mode existed: today's trajectory noise
    b = Engine(registry()).run(old, old.settings, targets=["cond"]).output("cond")
    assert (b.initial_noise, b.flow, b.noise_degradation) == ("trajectory", None, 0.5)


def test_warped_without_a_flow_is_an_error_naming_the_node_and_an_unused_flow_a_warning():
    p = project(cond={"initial_noise": "warped"}, flow=False)
    errors = issues(p, "error")
    assert any(i.startswith("node 'cond' input 'flow': initial noise 'warped' needs a flow") for i in errors), errors
    with pytest.raises(Exception, match="node 'cond'.*'warped'"):
        Engine(registry()).run(p, p.settings, targets=["cond"])
    unused = issues(project(cond={"initial_noise": "iid"}), "warning")
    assert any("node 'cond' input 'flow'" in i and "not used" in i for i in unused), unused
    bad = project(cond={"initial_noise": "brownian"})
    assert any("node 'cond' param 'initial_noise'" in i for i in issues(bad, "error"))


@pytest.mark.parametrize("family,warned", [("cogvideox", False), ("wan", True)])
def test_warped_noise_off_cogvideox_is_a_warning_not_an_error(tiny, family, warned):
    p = project(str(tiny(family)), cond={"initial_noise": "warped"})
    assert issues(p, "error") == []
    warnings = [i for i in issues(p, "warning") if "Go-with-the-Flow" in i]
    assert bool(warnings) == warned, warnings
    if warned:
        assert "meant for the Go-with-the-Flow LoRAs of CogVideoX" in warnings[0] and "'cond'" in warnings[0]


def test_cogvideox_receives_the_warped_latents_and_renders(tiny, pipeline_cache):
    """Motion Flow of a square moving 2 px per frame, 17 frames at 64 x 64: the tiny CogVideoX (VAE 8 px cells,
    4 frames per latent frame) gets exactly the warped noise as its initial latents, the square's cells
    correlate one cell along from latent frame 1 (pixel frame 2) to 2 (pixel frame 6), and it renders."""
    torch = pytest.importorskip("torch")
    from vidstudio.backend.bundle import Conditioning, ModelRef
    from vidstudio.backend.generate import generate

    p = project(cond={"initial_noise": "warped"})
    flow = Engine(registry()).run(p, p.settings, targets=["flow"]).output("flow")
    seen = {}
    bundle = Conditioning(prompt="a fox", steps=1, seed=9, initial_noise="warped", flow=flow, noise_degradation=0.0)
    res = generate(
        ModelRef(model=str(tiny("cogvideox"))),
        bundle,
        width=64,
        height=64,
        frames=17,
        fps=8,
        cache=pipeline_cache,
        call_hook=lambda plan, kw: seen.update(plan=plan, kw=dict(kw)),
    )
    plan = seen["plan"]
    assert res.pipeline == "CogVideoXPipeline" and res.frames.shape == (17, 64, 64, 3)
    assert np.isfinite(res.frames).all() and not any("Go-with-the-Flow" in n for n in res.notes)
    got = plan.canonical(seen["kw"]["latents"].cpu()).numpy()
    assert got.shape == plan.latent_shape == (16, 5, 8, 8)
    want = warped_noise(flow, (16, 5, 8, 8), 9, temporal_ratio=4, pixel_frames=17, degradation=0.0, pixels_per_cell=8)
    assert np.array_equal(got, want)
    # the square (centred on its track) at pixel frame 2: x 8..32, y 20..44; at frame 6: x 16..40, one 8 px cell
    # on; its front strip (38..40, cell 4) has the covered background merged in, so cells x 2..3, y 3..4
    assert corr(got[:, 2, 3:5, 2:4], got[:, 1, 3:5, 1:3]) > 0.95
    assert isinstance(seen["kw"]["latents"], torch.Tensor)


def test_warped_noise_on_another_family_is_noted_in_the_run_report(tiny, pipeline_cache):
    from vidstudio.backend.bundle import Conditioning, ModelRef
    from vidstudio.backend.generate import generate
    from vidstudio.errors import NodeError

    flow = np.zeros((8, 64, 64, 2), np.float32)
    ref = ModelRef(model=str(tiny("wan")))
    res = generate(
        ref,
        Conditioning(prompt="a fox", steps=1, initial_noise="warped", flow=flow),
        width=64,
        height=64,
        frames=9,
        cache=pipeline_cache,
    )
    assert any("meant for the Go-with-the-Flow LoRAs of CogVideoX" in n for n in res.notes), res.notes
    with pytest.raises(NodeError, match="'warped' but no flow"):
        generate(ref, Conditioning(prompt="a fox", steps=1, initial_noise="warped"), width=64, height=64, frames=9)


def test_extend_gives_each_window_the_flow_from_its_own_frames():
    pytest.importorskip("torch")
    from vidstudio.backend.bundle import Conditioning
    from vidstudio.backend.extend import window_bundle

    flow = np.zeros((24, 8, 8, 2), np.float32)
    flow[..., 0] = np.arange(24, dtype=np.float32)[:, None, None]  # flow t moves t px
    b = Conditioning(initial_noise="warped", flow=flow)
    w = window_bundle(b, 8, 17, schedule_ok=False)
    assert w.flow.shape == (9, 8, 8, 2) and w.flow[0, 0, 0, 0] == 8.0  # frames 8..16: flows 8..16 (the last unused)
    assert window_bundle(b, 24, 25, schedule_ok=False).flow.shape[0] == 0  # past the flow: the noise holds still
    assert window_bundle(Conditioning(), 0, 9, schedule_ok=False).flow is None
