"""Every family and checkpoint variant at its published configuration (layers cut; see tests/backend/configs),
saved and loaded through VidStudio's loader and run through its adapter for one or two steps on the CPU."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers")

from tests.backend.conftest import picture
from tests.backend.realconfigs import write
from vidstudio.backend.bundle import Conditioning, Keyframe, ModelRef
from vidstudio.backend.generate import generate
from vidstudio.families import get_spec

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

    res = generate(
        ModelRef(model=str(folder)), bundle, width=size, height=size, frames=frames, cache=cache, call_hook=call_hook
    )
    return res, seen


@pytest.mark.parametrize(
    "name,variant,checkpoint,image",
    [
        ("wan22_t2v_a14b", "t2v", "wan2.2-t2v-a14b", False),
        ("wan22_i2v_a14b", "i2v", "wan2.2-i2v-a14b", True),
    ],
)
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
    res, seen = _run(folder, Conditioning(prompt="a fox", steps=2, keyframes=kfs, boundary_ratio=0.01), None, hook=hook)
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
    assert any(
        "two-expert" in n for n in _run(folder, Conditioning(prompt="a", steps=1, guidance_scale_2=3.0), cache)[0].notes
    )


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
    # no steps and no guidance set: the distilled checkpoint's 8 steps and guidance 1, and the report says so
    res, seen = _run(distilled, Conditioning(prompt="a fox"), cache, frames=9)
    assert res.steps == 8 and seen["kwargs"]["num_inference_steps"] == 8 and seen["kwargs"]["guidance_scale"] == 1.0
    assert any(n.startswith("steps 8 (the default of LTX-Video 0.9.7 / 0.9.8 13B distilled") for n in res.notes)
    assert any(n.startswith("guidance scale 1 (the default of") for n in res.notes)
    res, _ = _run(dev, Conditioning(prompt="a fox", steps=1, guidance_scale=2.0), cache, frames=9)
    assert not any(n.startswith(("steps ", "guidance scale ")) for n in res.notes)  # set by the user: no note


def test_hunyuan15_text_and_image_to_video(real):
    """HunyuanVideo 1.5 480p T2V and I2V at their published configs: recognised, guidance through the guider
    (restored after the call), the image-to-video pipeline generates the requested size (not its 480p bucket),
    previews with the 32-channel factors, cancel within a step."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate
    from vidstudio.errors import Cancelled
    from vidstudio.progress import CancelToken

    t2v, i2v = real("hunyuan15_480p_t2v"), real("hunyuan15_480p_i2v")
    assert (locate(str(t2v)).family, locate(str(t2v)).variant, locate(str(t2v)).checkpoint) == (
        "hunyuan15",
        "t2v",
        "hy15-t2v-480p",
    )
    loc = locate(str(i2v))
    assert (loc.variant, loc.checkpoint) == ("i2v", "hy15-i2v-480p")
    assert loc.rule().side_multiple == 16 and loc.rule().frame_step == 4
    cache = PipelineCache()
    seen_scale = []
    previews = []

    def hook(plan):
        seen_scale.append(plan.pipe.guider.guidance_scale)

    res, seen = _run(t2v, Conditioning(prompt='a sign that says "open"', steps=2, guidance_scale=4.5), cache, hook=hook)
    assert res.pipeline == "HunyuanVideo15Pipeline" and res.frames.shape == (5, 32, 32, 3)
    assert np.isfinite(res.frames).all() and res.steps == 2
    assert seen_scale == [4.5] and seen["plan"].pipe.guider.guidance_scale == 6.0  # set for the call, restored
    assert seen["plan"].latent_shape == (32, 2, 2, 2)
    from vidstudio.backend.loader import PipelineCache as _PC  # noqa: F401

    res = generate(
        ModelRef(model=str(i2v)),
        Conditioning(prompt="a fox", steps=1, keyframes=[Keyframe(0, picture(48, 40))]),
        width=48,
        height=32,
        frames=5,
        cache=cache,
        on_step=lambda i, n, s, img: previews.append(img),
    )
    assert res.pipeline == "HunyuanVideo15ImageToVideoPipeline" and res.frames.shape == (5, 32, 48, 3)
    assert len(previews) == 1 and previews[0].shape == (2, 3, 3)
    token = CancelToken()
    with pytest.raises(Cancelled):
        generate(
            ModelRef(model=str(t2v)),
            Conditioning(prompt="a", steps=3),
            width=32,
            height=32,
            frames=5,
            cache=cache,
            cancel=token,
            on_step=lambda *a: token.cancel("test"),
        )


def test_hunyuan15_720p_image_to_video_keeps_the_asked_size(real):
    """HunyuanVideo 1.5 720p I2V at its published configs (target_size 960, flow shift 7): recognised as the 720p
    checkpoint; the pipeline would pick a size bucket of the 960 class for the image, the adapter generates the
    asked size instead, with the checkpoint's own scheduler."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate

    folder = real("hunyuan15_720p_i2v")
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.checkpoint) == ("hunyuan15", "i2v", "hy15-i2v-720p")
    res, seen = _run(
        folder, Conditioning(prompt="a fox", steps=1, keyframes=[Keyframe(0, picture(48, 32))]), PipelineCache()
    )
    assert res.pipeline == "HunyuanVideo15ImageToVideoPipeline" and res.frames.shape == (5, 32, 32, 3)
    assert np.isfinite(res.frames).all()
    pipe = seen["plan"].pipe
    assert pipe.target_size == 960 and pipe.scheduler.config.shift == 7.0
    # the pipeline's own choice for a 3:2 image (override removed after the call): a 960-class bucket, which
    # the 480p checkpoint's 640 class would not give
    bucket = pipe.video_processor.calculate_default_height_width(32, 48, pipe.target_size)
    assert bucket != (32, 32) and max(bucket) > 960 > min(bucket)
    assert bucket != pipe.video_processor.calculate_default_height_width(32, 48, 640)


def test_hunyuan15_step_distilled_meanflow(real):
    """HunyuanVideo 1.5 480p I2V step-distilled at its published configs (use_meanflow, flow shift 7, guider 1):
    recognised by its transformer config; with no guidance set, the checkpoint's guidance 1 runs one transformer
    pass per step, and the MeanFlow second timestep embedding runs at each step."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate

    folder = real("hunyuan15_480p_i2v_step_distilled")
    loc = locate(str(folder))
    assert (loc.variant, loc.checkpoint) == ("i2v", "hy15-i2v-step-distilled")
    calls: dict[str, int] = {}
    handles = []

    def hook(plan):
        handles.append(_count_calls(plan.pipe.transformer, calls, "transformer"))
        handles.append(_count_calls(plan.pipe.transformer.time_embed.timestep_embedder_r, calls, "r"))

    try:
        res, seen = _run(
            folder,
            Conditioning(prompt="a fox", steps=2, keyframes=[Keyframe(0, picture(32, 32))]),
            PipelineCache(),
            hook=hook,
        )
    finally:
        for h in handles:
            h.remove()
    assert res.pipeline == "HunyuanVideo15ImageToVideoPipeline" and res.frames.shape == (5, 32, 32, 3)
    assert np.isfinite(res.frames).all()
    assert calls == {"transformer": 2, "r": 2}  # guidance 1: no unconditional pass
    assert any(
        n.startswith("guidance scale 1 (the default of HunyuanVideo 1.5 480p I2V step-distilled") for n in res.notes
    )


def test_ltx2_video_with_audio_track_exported(real, tmp_path):
    """LTX-2 19B at its published configs: text-to-video makes a sound track as long as the video (24 kHz
    stereo from the vocoder), which Export Video muxes into the MP4; a frame-0 keyframe runs image-to-video."""
    from fractions import Fraction

    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate
    from vidstudio.graph.node import ExecutionContext
    from vidstudio.media.audio import probe_stream_duration
    from vidstudio.nodes.export import ExportVideo

    folder = real("ltx2_19b")
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.checkpoint) == ("ltx2", "t2v", "ltx2-19b-dev")
    assert loc.rule().side_multiple == 32 and loc.rule().frame_step == 8
    cache = PipelineCache()
    previews = []
    res = generate(
        ModelRef(model=str(folder)),
        Conditioning(prompt="a fox barks", steps=2),
        width=64,
        height=64,
        frames=9,
        fps=24,
        cache=cache,
        on_step=lambda i, n, s, img: previews.append(img),
    )
    assert res.pipeline == "LTX2Pipeline" and res.frames.shape == (9, 64, 64, 3) and np.isfinite(res.frames).all()
    assert len(previews) == 2 and previews[0].shape == (2, 2, 3)
    a = res.audio
    assert a is not None and a.sample_rate == 24000 and a.channels == 2 and a.duration == pytest.approx(9 / 24)
    assert np.abs(a.samples).max() <= 1.0
    ctx = ExecutionContext("export", width=64, height=64, fps=Fraction(24), frame_count=9, project_dir=tmp_path)
    params = {p.name: p.default for p in ExportVideo.params} | {"path": "ltx2.mp4", "preset": "ultrafast"}
    path = ExportVideo().execute(ctx, {"video": res.frames, "audio": a}, params)["file"]
    assert probe_stream_duration(path, "a") == pytest.approx(probe_stream_duration(path, "v"), abs=2e-3)
    res, _ = _run(
        folder,
        Conditioning(prompt="a fox", steps=2, keyframes=[Keyframe(0, picture(64, 64))]),
        cache,
        size=64,
        frames=9,
    )
    assert res.pipeline == "LTX2ImageToVideoPipeline" and res.frames.shape == (9, 64, 64, 3)
    assert res.audio is not None and cache.loads == 1
    from vidstudio.errors import NodeError

    with pytest.raises(NodeError, match="at least 2 denoising steps"):
        _run(
            folder,
            Conditioning(prompt="a", steps=1, keyframes=[Keyframe(0, picture(64, 64))]),
            cache,
            size=64,
            frames=9,
        )


def test_ltx_latent_upsampler_second_stage(tmp_path, torch_single_thread):
    """LTX-Video 0.9.8 13B with a tiny random LTXLatentUpsamplerModel (a saved LTXLatentUpsamplePipeline folder
    named on Load Model): half-size first stage, 2x latents, full-size refinement, decoded at the asked size."""
    import torch
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    from vidstudio.backend.loader import PipelineCache
    from vidstudio.errors import NodeError

    dev = write("ltx098_13b", tmp_path / "LTX-Video-0.9.8-13B")
    torch.manual_seed(0)
    up = LTXLatentUpsamplerModel(in_channels=128, mid_channels=32, num_blocks_per_stage=1).eval()
    up.save_pretrained(tmp_path / "upscaler" / "latent_upsampler")
    (tmp_path / "upscaler" / "model_index.json").write_text('{"_class_name": "LTXLatentUpsamplePipeline"}')
    calls = {}
    up_forward = LTXLatentUpsamplerModel.forward

    def counting(self, x):
        calls["in"] = tuple(x.shape)
        return up_forward(self, x)

    ref = ModelRef(model=str(dev), latent_upsampler=str(tmp_path / "upscaler"))
    cache = PipelineCache()
    seen = {}
    LTXLatentUpsamplerModel.forward = counting
    try:
        res = generate(
            ref,
            Conditioning(prompt="a fox", steps=5, keyframes=[Keyframe(0, picture(64, 64))]),
            width=64,
            height=64,
            frames=9,
            cache=cache,
            call_hook=lambda plan, kw: seen.update(kw=dict(kw)),
        )
    finally:
        LTXLatentUpsamplerModel.forward = up_forward
    assert res.pipeline == "LTXConditionPipeline" and res.frames.shape == (9, 64, 64, 3)
    assert np.isfinite(res.frames).all()
    assert seen["kw"]["width"] == 32 and calls["in"] == (1, 128, 2, 1, 1)  # first stage at half size, then 2x
    assert res.steps == 5 + int(5 * 0.4)  # the refinement (denoise strength 0.4) runs after the first stage
    assert any(n.startswith("two stages: 32x32") for n in res.notes)
    with pytest.raises(NodeError, match="multiples of 64"):
        generate(ref, Conditioning(prompt="a", steps=1), width=96, height=64, frames=9, cache=cache)


@pytest.mark.parametrize(
    "name,family,checkpoint,size,frames",
    [
        ("wan21_t2v_1_3b", "wan", "wan2.1-t2v", 32, 5),
        ("wan21_t2v_14b", "wan", "wan2.1-t2v", 32, 5),
        ("animatediff_v152_sd15", "animatediff", "", 64, 16),
        ("ltx091_2b", "ltx", "ltx-2b", 32, 9),
        ("cogvideox_2b", "cogvideox", "cogvideox-t2v", 32, 9),
        ("cogvideox_5b", "cogvideox", "cogvideox-t2v", 32, 9),
        ("cogvideox15_5b", "cogvideox", "cogvideox1.5-t2v", 32, 9),
    ],
)
def test_older_families_at_real_configs(real, name, family, checkpoint, size, frames):
    """Wan 2.1 and CogVideoX at their published configs (layers cut): recognised, run through the adapter for
    two steps with a step preview, frames decoded at the asked geometry."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate

    folder = real(name)
    loc = locate(str(folder))
    assert loc.family == family and (loc.checkpoint or "") == checkpoint
    previews = []
    res = generate(
        ModelRef(model=str(folder)),
        Conditioning(prompt="a fox", steps=2),
        width=size,
        height=size,
        frames=frames,
        cache=PipelineCache(),
        on_step=lambda i, n, s, img: previews.append(img),
    )
    assert res.frames.shape == (frames, size, size, 3) and np.isfinite(res.frames).all() and res.steps == 2
    assert len(previews) == 2 and previews[0].ndim == 3


def test_sd15_base_with_the_motion_adapter(real, tmp_path):
    """A Stable Diffusion 1.5 folder at its published configs (widths cut) is recognised as AnimateDiff's
    ``sd15`` variant; with AnimateDiff's motion adapter v1-5-2 (its published config) named on Load Model it
    runs as AnimateDiffPipeline."""
    from tests.backend.realconfigs import component
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate

    folder = real("sd15")
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.class_name) == ("animatediff", "sd15", "StableDiffusionPipeline")
    component("animatediff_v152_sd15", "motion_adapter.json").save_pretrained(tmp_path / "adapter")
    res = generate(
        ModelRef(model=str(folder), family="animatediff", motion_adapter=str(tmp_path / "adapter")),
        Conditioning(prompt="a fox", steps=1),
        width=64,
        height=64,
        frames=8,
        cache=PipelineCache(),
    )
    assert res.pipeline == "AnimateDiffPipeline" and res.frames.shape == (8, 64, 64, 3)
    assert np.isfinite(res.frames).all()


@pytest.mark.parametrize("name", ["cogvideox_2b", "cogvideox15_5b"])
def test_cogvideox_needs_8k_plus_1_frames(real, name):
    """Found at the real configs: CogVideoX's VAE decodes latents in pairs, so 5 frames (2 latent frames) came
    out as 8, on CogVideoX 1.0 and on 1.5 alike (1.5's pipeline pads the latents to its temporal patch and drops
    the padding before decoding); the rule read from the configs is 8k+1 and validation refuses 5 before
    loading. CogVideoX 1.5 makes 81 frames in one pass (1.0: 49)."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate
    from vidstudio.errors import NodeError
    from vidstudio.families import Request, check_request

    folder = real(name)
    loc = locate(str(folder))
    assert loc.rule().frame_step == 8
    cache = PipelineCache()
    with pytest.raises(NodeError, match="8k\\+1 frames"):
        generate(
            ModelRef(model=str(folder)),
            Conditioning(prompt="a", steps=1),
            width=32,
            height=32,
            frames=5,
            cache=cache,
        )
    assert cache.loads == 0
    res = check_request("cogvideox", Request(controls={"text"}, frames=81), variant="t2v", checkpoint=loc.checkpoint)
    if name == "cogvideox15_5b":
        assert res.ok and get_spec("cogvideox").window_for(loc.checkpoint) == 81
    else:
        assert "makes at most 49 frames in one pass" in dict(res.problems)["frames"]


@pytest.mark.parametrize(
    "name,checkpoint", [("cogvideox_5b_i2v", "cogvideox-i2v"), ("cogvideox15_5b_i2v", "cogvideox1.5-i2v")]
)
def test_cogvideox_image_to_video_at_real_configs(real, name, checkpoint):
    """CogVideoX-5b-I2V (learned positional embeddings: one size only) and CogVideoX1.5-5B-I2V (temporal patch
    2, the ofs embedding) at their published configs: recognised, a frame-0 keyframe runs image-to-video at the
    asked length; the 5b-I2V refuses another size at validation."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate
    from vidstudio.errors import NodeError

    folder = real(name)
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.checkpoint) == ("cogvideox", "i2v", checkpoint)
    cache = PipelineCache()
    calls: dict[str, int] = {}
    handles = []

    def hook(plan):
        ofs = getattr(plan.pipe.transformer, "ofs_embedding", None)
        if ofs is not None:
            handles.append(_count_calls(ofs, calls, "ofs"))

    kfs = [Keyframe(0, picture(32, 32))]
    try:
        res, seen = _run(folder, Conditioning(prompt="a fox", steps=2, keyframes=kfs), cache, frames=9, hook=hook)
    finally:
        for h in handles:
            h.remove()
    assert res.pipeline == "CogVideoXImageToVideoPipeline" and res.frames.shape == (9, 32, 32, 3)
    assert np.isfinite(res.frames).all()
    if name == "cogvideox15_5b_i2v":
        assert calls["ofs"] == 2  # the ofs embedding runs at every step (CFG batched)
    else:
        assert loc.rule().exact_size == (32, 32)  # sample_width x sample_height x the VAE's 8 (cut from 720x480)
        with pytest.raises(NodeError, match="makes only 32x32"):
            _run(folder, Conditioning(prompt="a", steps=1, keyframes=[Keyframe(0, picture(64, 64))]), cache, size=64)


@pytest.mark.parametrize("name,checkpoint,frames", [("svd_xt", "svd-xt", 25), ("svd", "svd", 14)])
def test_svd_at_real_config(real, name, checkpoint, frames):
    """SVD-XT and SVD (img2vid, 14 frames) at their published configs (widths cut): exactly the UNet's
    ``num_frames``, one step from a keyframe; the other checkpoint's count is refused before loading."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate
    from vidstudio.errors import NodeError

    folder = real(name)
    loc = locate(str(folder))
    assert (loc.family, loc.checkpoint) == ("svd", checkpoint) and loc.rule().exact_frames == frames
    cache = PipelineCache()
    res = generate(
        ModelRef(model=str(folder)),
        Conditioning(steps=1, keyframes=[Keyframe(0, picture(64, 64))]),
        width=64,
        height=64,
        frames=frames,
        fps=7,
        cache=cache,
    )
    assert res.pipeline == "StableVideoDiffusionPipeline" and res.frames.shape == (frames, 64, 64, 3)
    assert np.isfinite(res.frames).all()
    other = 39 - frames  # 25 <-> 14
    with pytest.raises(NodeError, match=f"svd needs exactly {frames} frames \\(the UNet.s num_frames\\)"):
        generate(
            ModelRef(model=str(folder)),
            Conditioning(steps=1, keyframes=[Keyframe(0, picture(64, 64))]),
            width=64,
            height=64,
            frames=other,
            cache=cache,
        )
    assert cache.loads == 1


def test_wan21_i2v_14b_clip_image_encoder(real):
    """Wan 2.1 I2V-14B (480P; 720P has the same configs) at its published configs: the CLIP ViT-H/14 image
    encoder's penultimate tokens reach the transformer's image embedder (image_dim 1280), the first frame runs
    image-to-video; a last frame too is refused at validation, naming the checkpoints that take one."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate
    from vidstudio.errors import NodeError

    folder = real("wan21_i2v_14b_480p")
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.checkpoint) == ("wan", "i2v", "wan2.1-i2v")
    cache = PipelineCache()
    seen_tokens = []
    handles = []

    def hook(plan):
        emb = plan.pipe.transformer.condition_embedder.image_embedder
        handles.append(emb.register_forward_hook(lambda m, a, out: seen_tokens.append(tuple(out.shape))))

    try:
        res, seen = _run(
            folder, Conditioning(prompt="a fox", steps=2, keyframes=[Keyframe(0, picture(32, 32))]), cache, hook=hook
        )
    finally:
        for h in handles:
            h.remove()
    assert res.pipeline == "WanImageToVideoPipeline" and res.frames.shape == (5, 32, 32, 3)
    assert np.isfinite(res.frames).all() and "last_image" not in seen["kwargs"]
    assert seen_tokens[0] == (1, 257, 256)  # 224 px / patch 14 + the class token, projected to the width
    kfs = [Keyframe(0, picture(32, 32, 1)), Keyframe(4, picture(32, 32, 2))]
    with pytest.raises(NodeError, match="takes keyframes at frame 0 only.*VACE"):
        _run(folder, Conditioning(prompt="a fox", steps=1, keyframes=kfs), cache)


def test_wan21_flf2v_first_and_last_frame(real):
    """Wan 2.1 FLF2V-14B-720P at its published configs (pos_embed_seq_len 514, flow shift 16): recognised, the
    adapter passes the last keyframe as ``last_image`` (two images' CLIP tokens reach the transformer), and a
    first frame alone is refused at validation, before loading."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate
    from vidstudio.errors import NodeError

    folder = real("wan21_flf2v_14b_720p")
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.checkpoint) == ("wan", "i2v", "wan2.1-flf2v")
    cache = PipelineCache()
    with pytest.raises(NodeError, match="needs a keyframe at the last frame"):
        _run(folder, Conditioning(prompt="a", steps=1, keyframes=[Keyframe(0, picture(32, 32))]), cache)
    assert cache.loads == 0  # refused at validation
    seen_tokens = []
    handles = []

    def hook(plan):
        emb = plan.pipe.transformer.condition_embedder.image_embedder
        handles.append(emb.register_forward_hook(lambda m, a, out: seen_tokens.append(tuple(out.shape))))

    kfs = [Keyframe(0, picture(32, 32, 1)), Keyframe(4, picture(32, 32, 2))]
    try:
        res, seen = _run(folder, Conditioning(prompt="a fox", steps=2, keyframes=kfs), cache, hook=hook)
    finally:
        for h in handles:
            h.remove()
    assert res.pipeline == "WanImageToVideoPipeline" and res.frames.shape == (5, 32, 32, 3)
    assert np.isfinite(res.frames).all()
    assert seen["kwargs"]["last_image"] is not None and seen["plan"].pipe.scheduler.config.flow_shift == 16.0
    assert seen_tokens[0] == (1, 514, 256)  # the first and the last frame's 257 CLIP tokens each


def test_wan21_vace_control_video_and_reference(real):
    """Wan 2.1 VACE-1.3B at its published configs (full width; one block, one VACE block): a control video with
    a keyframe and a reference image go through WanVACEPipeline's VACE block (vace_in_channels 96); the
    reference's latent frame is dropped, so the frames come out at the asked length."""
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.locate import locate

    folder = real("wan21_vace_1_3b")
    loc = locate(str(folder))
    assert (loc.family, loc.variant, loc.checkpoint) == ("wan", "vace", "wan2.1-vace")
    calls: dict[str, int] = {}
    handles = []

    def hook(plan):
        handles.append(_count_calls(plan.pipe.transformer.vace_blocks[0], calls, "vace"))

    guide = np.stack([picture(32, 32, i) for i in range(5)])
    bundle = Conditioning(
        prompt="a fox",
        steps=2,
        guide=guide,
        guide_strength=0.8,
        keyframes=[Keyframe(4, picture(32, 32, 9))],
        style=[picture(32, 32, 7)],
        guidance_scale=1.0,
    )
    try:
        res, seen = _run(folder, bundle, PipelineCache(), hook=hook)
    finally:
        for h in handles:
            h.remove()
    assert res.pipeline == "WanVACEPipeline" and res.frames.shape == (5, 32, 32, 3)
    assert np.isfinite(res.frames).all()
    kw = seen["kwargs"]
    assert kw["conditioning_scale"] == 0.8 and len(kw["video"]) == 5 and len(kw["reference_images"]) == 1
    assert np.asarray(kw["mask"][4]).max() == 0  # the keyframe is kept
    assert calls["vace"] == 2  # one VACE block, two steps, no CFG
