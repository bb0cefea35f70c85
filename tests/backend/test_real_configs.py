"""Every family and checkpoint variant at its published configuration (layers cut; see tests/backend/configs),
saved and loaded through VidStudio's loader and run through its adapter for one or two steps on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")

from vidstudio.backend.bundle import Conditioning, Keyframe, ModelRef  # noqa: E402
from vidstudio.backend.generate import generate  # noqa: E402

from tests.backend.conftest import picture  # noqa: E402
from tests.backend.realconfigs import write  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real(tmp_path_factory, torch_single_thread):
    made: dict[str, object] = {}

    def get(name: str):
        if name not in made:
            made[name] = write(name, tmp_path_factory.mktemp(name))
        return made[name]

    return get


def _count_calls(module, counter: dict, key: str):
    def hook(*_a, **_k):
        counter[key] = counter.get(key, 0) + 1
    return module.register_forward_pre_hook(hook)


def _run(folder, bundle, cache, *, size=32, frames=5, hook=None):
    from vidstudio.backend.loader import PipelineCache

    cache = cache or PipelineCache()
    seen = {}

    def call_hook(plan, kwargs):
        seen["plan"], seen["kwargs"] = plan, dict(kwargs)
        if hook:
            hook(plan)

    res = generate(ModelRef(model=str(folder)), bundle, width=size, height=size, frames=frames, cache=cache,
                   call_hook=call_hook)
    return res, seen


@pytest.mark.parametrize("name,variant,checkpoint,image", [
    ("wan22_t2v_a14b", "t2v", "wan2.2-t2v-a14b", False),
    ("wan22_i2v_a14b", "i2v", "wan2.2-i2v-a14b", True),
])
def test_wan22_a14b_runs_both_experts(real, name, variant, checkpoint, image):
    from vidstudio.backend.locate import locate

    folder = real(name)
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.checkpoint) == ("wan", variant, checkpoint)
    calls: dict[str, int] = {}
    handles = []

    def hook(plan):
        handles.append(_count_calls(plan.pipe.transformer, calls, "high"))
        handles.append(_count_calls(plan.pipe.transformer_2, calls, "low"))

    kfs = [Keyframe(0, picture(32, 32))] if image else []
    bundle = Conditioning(prompt="a fox", steps=2, keyframes=kfs, guidance_scale=4.0, guidance_scale_2=2.0)
    try:
        res, seen = _run(folder, bundle, None, hook=hook)
    finally:
        for h in handles:
            h.remove()
    assert res.frames.shape == (5, 32, 32, 3) and np.isfinite(res.frames).all()
    assert seen["kwargs"]["guidance_scale_2"] == 2.0
    # step 1 above the boundary (high-noise expert), step 2 below it (low-noise expert); CFG: 2 calls each
    assert calls == {"high": 2, "low": 2}
    # the boundary ratio can be moved for a run: at 0.01 both steps stay with the high-noise expert
    calls.clear()
    res, seen = _run(folder, Conditioning(prompt="a fox", steps=2, keyframes=kfs, boundary_ratio=0.01), None,
                     hook=hook)
    for h in handles:
        h.remove()
    assert calls.get("low", 0) == 0 and calls["high"] >= 2
    assert seen["plan"].pipe.config.boundary_ratio == {"t2v": 0.875, "i2v": 0.9}[variant]  # restored


def test_wan22_ti2v_5b_text_and_image_to_video(real):
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate

    folder = real("wan22_ti2v_5b")
    loc = locate(str(folder))
    assert (loc.variant, loc.checkpoint) == ("ti2v", "wan2.2-ti2v-5b")
    assert loc.rule().side_multiple == 32 and loc.rule().frame_step == 4
    cache = PipelineCache()
    res, seen = _run(folder, Conditioning(prompt="a fox", steps=1), cache)
    assert res.pipeline == "WanPipeline" and res.frames.shape == (5, 32, 32, 3)
    assert seen["plan"].latent_shape == (48, 2, 2, 2)
    res, seen = _run(folder, Conditioning(prompt="a fox", steps=1, keyframes=[Keyframe(0, picture(32, 32))]), cache)
    assert res.pipeline == "WanImageToVideoPipeline" and res.frames.shape == (5, 32, 32, 3)
    assert cache.loads == 1  # the image-to-video pipeline shares the loaded weights
    assert any("two-expert" in n for n in _run(folder, Conditioning(prompt="a", steps=1, guidance_scale_2=3.0),
                                                cache)[0].notes)


def test_ltx_098_13b_and_distilled_with_keyframe_conditions(tmp_path, torch_single_thread):
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate

    dev = write("ltx098_13b", tmp_path / "LTX-Video-0.9.8-13B")
    distilled = tmp_path / "LTX-Video-0.9.8-13B-distilled"
    import shutil

    shutil.copytree(dev, distilled)  # the same configs: the name tells them apart
    assert locate(str(dev)).checkpoint == "ltx-13b" and locate(str(distilled)).checkpoint == "ltx-13b-distilled"
    cache = PipelineCache()
    res, seen = _run(dev, Conditioning(prompt="a fox", steps=2), cache, frames=9)
    assert res.pipeline == "LTXPipeline" and res.frames.shape == (9, 32, 32, 3) and np.isfinite(res.frames).all()
    assert seen["kwargs"]["guidance_scale"] == 3.0 and seen["kwargs"]["decode_timestep"] == 0.05
    kfs = [Keyframe(0, picture(32, 32, 1)), Keyframe(8, picture(32, 32, 2))]
    res, seen = _run(distilled, Conditioning(prompt="a fox", steps=2, keyframes=kfs), cache, frames=9)
    assert res.pipeline == "LTXConditionPipeline" and res.frames.shape == (9, 32, 32, 3)
    assert seen["kwargs"]["guidance_scale"] == 1.0  # the distilled checkpoint's default
