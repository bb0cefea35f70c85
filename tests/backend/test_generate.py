"""Generation on tiny pipelines of every family, loaded back through the user's loader: every control reaches
the pipeline call where it should, noise follows trajectories, previews, progress, cancel, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from backend.conftest import picture
from backend.test_noise import ALONG, BACKGROUND, corr

torch = pytest.importorskip("torch")

from vidstudio.backend.adapters import fit_image
from vidstudio.backend.bundle import Conditioning, Keyframe, ModelRef
from vidstudio.backend.generate import generate
from vidstudio.errors import Cancelled, ModelError, NodeError


def run(tiny, cache, family, bundle, *, variant=None, size=64, frames=17, ref_kw=None, **kw):
    """Generates with a tiny model; returns (result, captured call kwargs, plan)."""
    seen = {}

    def hook(plan, kwargs):
        seen["plan"], seen["kwargs"] = plan, dict(kwargs)

    ref = ModelRef(model=str(tiny(family, variant)), **(ref_kw or {}))
    res = generate(ref, bundle, width=size, height=size, frames=frames, fps=8, cache=cache, call_hook=hook, **kw)
    return res, seen["kwargs"], seen["plan"]


def pil_array(img):
    return np.asarray(img, dtype=np.float32) / 255.0


def guide_clip(n=17, size=64, seed=3):
    r = np.random.default_rng(seed)
    return r.random((n, size, size, 3)).astype(np.float32)


def moving_boxes(T, size=64, w=24):
    b = np.full((T, 1, 4), np.nan)
    for t in range(T):
        x = 4 + t * (size - w - 8) / max(T - 1, 1)
        b[t, 0] = [x, 16, x + w, 16 + w]
    return b


# ------------------------------------------------------------------------------------------- per family
def test_animatediff_keyframes_reach_sparsectrl_at_their_frames(tiny, pipeline_cache):
    a, b = picture(seed=1), picture(seed=2)
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "animatediff",
        Conditioning(prompt="a fox", steps=2, keyframes=[Keyframe(9, b), Keyframe(0, a)]),
    )
    assert res.pipeline == "AnimateDiffSparseControlNetPipeline"
    assert kw["controlnet_frame_indices"] == [0, 9]
    assert np.allclose(pil_array(kw["conditioning_frames"][1]), pil_array(fit_image(b, 64, 64)))
    assert res.frames.shape == (17, 64, 64, 3) and res.frames.dtype == np.float32
    assert 0.0 <= res.frames.min() and res.frames.max() <= 1.0


def test_animatediff_prompt_schedule_style_and_long_video(tiny, pipeline_cache):
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "animatediff",
        Conditioning(prompt="a fox", prompt_schedule={8: "a fox jumps", 30: "too late"}, steps=2, style=[picture()]),
    )
    assert kw["prompt"] == {0: "a fox", 8: "a fox jumps"}
    assert "prompt schedule: frame(s) 30 are beyond the 17 frames generated and not used" in res.notes
    assert len(kw["ip_adapter_image"][0]) == 1
    assert any("FreeNoise" in n for n in res.notes)
    assert not plan.pipe.free_noise_enabled  # switched off again for the next job
    # longer than the motion module's 32-frame window: FreeNoise windows, no schedule needed
    res, kw, plan = run(tiny, pipeline_cache, "animatediff", Conditioning(prompt="a fox", steps=1), frames=40, size=32)
    assert res.frames.shape[0] == 40 and any("FreeNoise: 16-frame windows" in n for n in res.notes)
    # the IP-Adapter is unloaded when a job has no style references
    res, kw, plan = run(tiny, pipeline_cache, "animatediff", Conditioning(prompt="a fox", steps=1), size=32)
    assert "ip_adapter_image" not in kw


@pytest.mark.parametrize(
    "family,variant,pipeline",
    [
        ("animatediff", None, "AnimateDiffVideoToVideoPipeline"),
        ("wan", "t2v", "WanVideoToVideoPipeline"),
        ("cogvideox", "t2v", "CogVideoXVideoToVideoPipeline"),
    ],
)
def test_guide_video_reaches_video_to_video_with_strength(tiny, pipeline_cache, family, variant, pipeline):
    guide = guide_clip()
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        family,
        Conditioning(prompt="a fox", steps=2, guide=guide, guide_strength=0.75, boxes=moving_boxes(17)),
        variant=variant,
    )
    assert res.pipeline == pipeline and kw["strength"] == 0.75 and len(kw["video"]) == 17
    for i in (0, 7, 16):
        assert np.allclose(pil_array(kw["video"][i]), guide[i], atol=1 / 255)
    assert plan.noise_via == "hook" and not any("could not be applied" in n for n in res.notes)
    assert res.frames.shape == (17, 64, 64, 3)


@pytest.mark.parametrize("family", ["animatediff", "wan", "cogvideox"])
def test_a_guide_strength_that_leaves_no_step_is_refused_before_loading(tiny, family):
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.errors import NodeError

    cache = PipelineCache()
    for strength, fix in (
        (0.4, "raise 'guide_strength' to at least 0.50 or 'steps' to at least 3"),
        (0.0, "raise 'guide_strength' to at least 0.50"),
    ):
        with pytest.raises(NodeError, match=f"guide_strength {strength:g} with 2 steps leaves no denoising step") as e:
            run(tiny, cache, family, Conditioning(prompt="a fox", steps=2, guide=guide_clip(), guide_strength=strength))
        assert str(e.value).endswith(fix)
    assert cache.loads == 0  # refused before any model loaded


def test_ltx_keyframes_and_guide_are_conditions_at_frame_indices(tiny, pipeline_cache):
    guide = guide_clip(20)
    a, b = picture(seed=1), picture(seed=2)
    steps = []
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "ltx",
        Conditioning(
            prompt="a fox",
            steps=2,
            keyframes=[Keyframe(0, a), Keyframe(8, b)],
            guide=guide,
            guide_strength=0.4,
            boxes=moving_boxes(17),
        ),
        on_step=lambda *s: steps.append(s),
    )
    assert res.pipeline == "LTXConditionPipeline"
    assert steps[-1][3].shape == (2, 2, 3)  # condition tokens dropped, the video's tokens unpacked
    conds = kw["conditions"]
    video = [c for c in conds if c.video is not None]
    images = [c for c in conds if c.image is not None]
    assert len(video) == 1 and video[0].frame_index == 0 and video[0].strength == 0.4
    assert len(video[0].video) == 17  # 8k+1 frames of the 20-frame guide
    assert np.allclose(pil_array(video[0].video[5]), guide[5], atol=1 / 255)
    assert [(c.frame_index, c.strength) for c in images] == [(0, 1.0), (8, 1.0)]
    assert np.allclose(pil_array(images[1].image), pil_array(fit_image(b, 64, 64)))
    assert not any("could not be applied" in n for n in res.notes)
    # a guide video may start at any frame
    res, kw, plan = run(tiny, pipeline_cache, "ltx", Conditioning(prompt="a fox", steps=1, guide=guide, guide_start=8))
    (video,) = kw["conditions"]
    assert video.frame_index == 8 and len(video.video) == 9
    assert np.allclose(pil_array(video.video[0]), guide[0], atol=1 / 255)
    # text-to-video goes through LTXPipeline with packed latents
    res, kw, plan = run(tiny, pipeline_cache, "ltx", Conditioning(prompt="a fox", steps=2, boxes=moving_boxes(17)))
    assert res.pipeline == "LTXPipeline" and kw["latents"].shape == (1, 3 * 2 * 2, 128) and kw["frame_rate"] == 8


def test_wan_vace_keyframes_masks_boxes_and_references(tiny, pipeline_cache):
    guide = guide_clip()
    kf = picture(seed=5)
    boxes = moving_boxes(17)
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "wan",
        Conditioning(
            prompt="a fox",
            steps=2,
            guide=guide,
            guide_strength=0.8,
            keyframes=[Keyframe(0, kf), Keyframe(9, kf)],
            boxes=boxes,
            style=[picture(seed=9)],
        ),
        variant="vace",
    )
    assert res.pipeline == "WanVACEPipeline" and kw["conditioning_scale"] == 0.8
    mask = np.stack([np.asarray(m, np.float32) / 255 for m in kw["mask"]])
    assert mask.shape == (17, 64, 64)
    assert mask[0].max() == 0 and mask[9].max() == 0  # keyframes are kept
    x0, y0, x1, y1 = boxes[4, 0]
    assert mask[4, int(y0) + 2, int(x0) + 2] == 1 and mask[4, 60, 2] == 0  # inside / outside the box
    assert np.allclose(pil_array(kw["video"][9]), pil_array(fit_image(kf, 64, 64)), atol=1 / 255)
    assert np.allclose(pil_array(kw["video"][4]), guide[4], atol=1 / 255)
    assert len(kw["reference_images"]) == 1
    assert kw["latents"].shape == (1, 16, 1 + 5, 8, 8)  # one reference frame before the video's 5 latent frames
    # a guide video starting later: gray (no control) before it
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "wan",
        Conditioning(prompt="a fox", steps=1, guide=guide[:6], guide_start=4),
        variant="vace",
    )
    assert np.allclose(pil_array(kw["video"][2]), 0.5, atol=1 / 255)
    assert np.allclose(pil_array(kw["video"][4]), guide[0], atol=1 / 255)
    assert np.allclose(pil_array(kw["video"][9]), guide[5], atol=1 / 255)
    assert np.allclose(pil_array(kw["video"][12]), 0.5, atol=1 / 255)  # no control after the guide ends
    # masks without a guide video are refused before any model loads
    with pytest.raises(NodeError, match="mask"):
        run(tiny, pipeline_cache, "wan", Conditioning(prompt="a", steps=1, masks=np.ones((17, 64, 64))), variant="t2v")
    with pytest.raises(NodeError, match="without a guide video the kept part would be flat grey"):
        run(tiny, pipeline_cache, "wan", Conditioning(prompt="a", steps=1, masks=np.ones((17, 64, 64))), variant="vace")


def test_wan_first_and_last_frame(tiny, pipeline_cache):
    a, b = picture(seed=1), picture(seed=2)
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "wan",
        Conditioning(prompt="a fox", steps=2, keyframes=[Keyframe(0, a), Keyframe(16, b)]),
        variant="i2v",
    )
    assert res.pipeline == "WanImageToVideoPipeline"
    assert np.allclose(pil_array(kw["image"]), pil_array(fit_image(a, 64, 64)))
    assert np.allclose(pil_array(kw["last_image"]), pil_array(fit_image(b, 64, 64)))
    with pytest.raises(NodeError, match="frame 0 and the last frame only"):
        run(
            tiny,
            pipeline_cache,
            "wan",
            Conditioning(prompt="a", steps=1, keyframes=[Keyframe(0, a), Keyframe(8, b)]),
            variant="i2v",
        )


def test_tiny_wan_renders_wider_than_32_patches(tiny, pipeline_cache):
    """The examples' sizes (cut_and_drag: 624x416, 39x26 patches) render on the tiny Wan as on a real one: its
    rotary embedding covers the real checkpoints' 1024 positions, not 32 (a shape error inside diffusers)."""
    res = generate(
        ModelRef(model=str(tiny("wan", "t2v"))),
        Conditioning(prompt="a fox", steps=1),
        width=544,
        height=32,
        frames=5,
        fps=8,
        cache=pipeline_cache,
    )
    assert res.frames.shape == (5, 32, 544, 3)


def test_svd_motion_bucket_fps_noise_augmentation(tiny, pipeline_cache):
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "svd",
        Conditioning(steps=2, keyframes=[Keyframe(0, picture())], motion_strength=0.7, noise_aug=0.1),
        frames=14,
    )
    assert res.pipeline == "StableVideoDiffusionPipeline"
    assert (kw["motion_bucket_id"], kw["fps"], kw["noise_aug_strength"]) == (178, 8, 0.1)
    assert res.frames.shape == (14, 64, 64, 3)
    with pytest.raises(NodeError, match="exactly 14 frames"):
        run(tiny, pipeline_cache, "svd", Conditioning(steps=1, keyframes=[Keyframe(0, picture())]), frames=17)
    res, _, _ = run(
        tiny, pipeline_cache, "svd", Conditioning(steps=1, keyframes=[Keyframe(0, picture())]), frames=17, snap=True
    )
    assert res.frames.shape[0] == 14 and "generating 14 frames instead of 17" in res.notes[0]


def test_cogvideox_image_to_video(tiny, pipeline_cache):
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "cogvideox",
        Conditioning(prompt="a fox", steps=2, keyframes=[Keyframe(0, picture())]),
        variant="i2v",
    )
    assert res.pipeline == "CogVideoXImageToVideoPipeline" and res.frames.shape == (17, 64, 64, 3)


# ------------------------------------------------------------------------------------------- trajectories
@pytest.mark.parametrize("family,frames,cell,every", [("wan", 17, 8, 2), ("svd", 14, 8, 2), ("animatediff", 16, 16, 4)])
def test_trajectory_noise_reaches_the_pipeline_in_its_layout(tiny, pipeline_cache, family, frames, cell, every):
    size, w = 128, 48
    # a box that moves right one latent cell every `every` frames (whole cells: patches compare cell by cell)
    boxes = np.zeros((frames, 1, 4))
    for t in range(frames):
        x = cell * (1 + t // every)
        boxes[t, 0] = [x, cell, x + w, cell + w]
    kfs = [Keyframe(0, picture())] if family == "svd" else []
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        family,
        Conditioning(
            prompt="" if family == "svd" else "a fox", steps=1, boxes=boxes, keyframes=kfs, trajectory_noise=0.8
        ),
        size=size,
        frames=frames,
    )
    assert plan.spatial_ratio == cell
    z = plan.canonical(kw["latents"].cpu()).numpy()  # (C, T, h, w) back from the pipeline's own layout
    tr = plan.temporal_ratio
    T = z.shape[1]
    src = [0] + [min((j - 1) * tr + 1 + (tr - 1) // 2, frames - 1) for j in range(1, T)] if tr > 1 else list(range(T))

    def cells(t):
        x0, y0, x1, y1 = (int(v) for v in boxes[src[t], 0] / cell)
        return z[:, t, y0:y1, x0:x1].ravel()

    along = [corr(cells(0), cells(t)) for t in range(1, T)]
    assert min(along) > ALONG, along
    corner = [corr(z[:, 0, -2:, :2].ravel(), z[:, t, -2:, :2].ravel()) for t in range(1, T)]
    assert np.mean(np.abs(corner)) < 2 * BACKGROUND, corner


def test_trajectory_noise_follows_the_boxes_when_the_size_is_snapped(tiny, pipeline_cache):
    """A 120 x 120 project snapped to Wan's 128 x 128: a still box on the right half of the project's frame
    (x 60..120) steers the noise of the right half of the generated latents (cells 8..15 of 16), not cells
    7..14 (what the project's pixels would give if read as the generated frame's)."""
    boxes = np.tile([60.0, 0.0, 120.0, 120.0], (9, 1, 1))
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        "wan",
        Conditioning(prompt="a fox", steps=1, boxes=boxes, trajectory_noise=0.9),
        size=120,
        frames=9,
        snap=True,
    )
    assert res.frames.shape[1:3] == (128, 128) and any("128" in n for n in res.notes)
    z = plan.canonical(kw["latents"].cpu()).numpy()
    assert z.shape[-1] == 16

    def column(c):
        return np.mean([corr(z[:, 0, :, c].ravel(), z[:, t, :, c].ravel()) for t in range(1, z.shape[1])])

    assert column(15) > ALONG and column(8) > ALONG  # the box's edges in the generated frame
    assert abs(column(7)) < 2 * BACKGROUND  # left of it: plain noise


# ------------------------------------------------------------------------------------------- run behaviour
def test_same_seed_same_frames_other_seed_differs(tiny, pipeline_cache):
    b = Conditioning(prompt="a fox", steps=2, seed=5, boxes=moving_boxes(9))
    r1, _, _ = run(tiny, pipeline_cache, "wan", b, frames=9)
    r2, _, _ = run(tiny, pipeline_cache, "wan", b, frames=9)
    r3, _, _ = run(
        tiny, pipeline_cache, "wan", Conditioning(prompt="a fox", steps=2, seed=6, boxes=moving_boxes(9)), frames=9
    )
    assert np.array_equal(r1.frames, r2.frames) and r1.seed == 5
    assert np.abs(r1.frames - r3.frames).mean() > 1e-4
    r4, _, _ = run(tiny, pipeline_cache, "wan", Conditioning(prompt="a fox", steps=1, seed=-1), frames=9)
    assert r4.seed >= 0 and f"random seed {r4.seed}" in r4.notes


@pytest.mark.parametrize(
    "family,variant,frames,kf",
    [
        ("animatediff", None, 16, False),
        ("ltx", None, 17, False),
        ("wan", "t2v", 17, False),
        ("svd", None, 14, True),
        ("cogvideox", "t2v", 17, False),
    ],
)
def test_progress_and_previews_every_step(tiny, pipeline_cache, family, variant, frames, kf):
    reports, steps = [], []
    bundle = Conditioning(prompt="" if kf else "a fox", steps=3, keyframes=[Keyframe(0, picture())] if kf else [])
    res, kw, plan = run(
        tiny,
        pipeline_cache,
        family,
        bundle,
        variant=variant,
        frames=frames,
        progress=lambda f, m: reports.append((f, m)),
        on_step=lambda *a: steps.append(a),
    )
    assert [s[0] for s in steps] == [1, 2, 3] and all(s[1] == 3 for s in steps)
    assert reports[-1][0] == 1.0 and reports[-1][1].startswith("step 3/3, ") and reports[-1][1].endswith(" s/step")
    for _, _, sps, preview in steps:
        assert sps > 0 and preview.dtype == np.float32 and preview.ndim == 3 and preview.shape[2] == 3
        assert 0.0 <= preview.min() and preview.max() <= 1.0
    h, w = plan.latent_shape[2:]
    assert steps[-1][3].shape == (h, w, 3)


def test_cancel_stops_within_a_step_and_skips_decode(tiny, pipeline_cache, monkeypatch):
    from vidstudio.progress import CancelToken

    token = CancelToken()
    decoded = []
    steps = []
    loaded = pipeline_cache.get(ModelRef(model=str(tiny("wan"))))
    monkeypatch.setattr(loaded.pipe.vae, "decode", lambda *a, **k: decoded.append(1))

    def on_step(step, total, sps, preview):
        steps.append(step)
        token.cancel("stop now")

    with pytest.raises(Cancelled, match="stop now"):
        run(tiny, pipeline_cache, "wan", Conditioning(prompt="a fox", steps=5), on_step=on_step, cancel=token, frames=9)
    assert steps == [1] and decoded == []


def test_previews_through_a_tiny_autoencoder(tiny, pipeline_cache, tmp_path):
    from diffusers import AutoencoderTiny

    taesd = AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
    ).eval()
    taesd.save_pretrained(tmp_path / "taesd")
    steps = []
    run(
        tiny,
        pipeline_cache,
        "animatediff",
        Conditioning(prompt="a fox", steps=2),
        size=64,
        frames=8,
        ref_kw={"preview_decoder": str(tmp_path / "taesd")},
        on_step=lambda *a: steps.append(a),
    )
    assert steps[0][3].shape == (32, 32, 3)  # TAESD upsamples 8x: 4x4 latent cells -> 32x32 px
    with pytest.raises(ModelError, match="decodes Stable Diffusion latents"):
        run(
            tiny,
            pipeline_cache,
            "wan",
            Conditioning(prompt="a fox", steps=1),
            frames=9,
            ref_kw={"preview_decoder": str(tmp_path / "taesd")},
            on_step=lambda *a: None,
        )


def test_previews_through_taehv(tiny, pipeline_cache, tmp_path, monkeypatch):
    import sys
    import types

    calls = []

    class FakeTAEHV(torch.nn.Module):  # stands in for madebyollin/taehv's TAEHV
        def __init__(self, checkpoint_path):
            super().__init__()
            calls.append(("init", checkpoint_path))

        def decode_video(self, x, parallel=True, show_progress_bar=True):
            calls.append(("decode", tuple(x.shape)))
            n, t, c, h, w = x.shape
            return torch.full((n, 4 * t, 3, 8 * h, 8 * w), 0.25)

    monkeypatch.setitem(sys.modules, "taehv", types.SimpleNamespace(TAEHV=FakeTAEHV))
    weights = tmp_path / "taew2_1.pth"
    weights.write_bytes(b"stub")
    run(tiny, pipeline_cache, "wan", Conditioning(prompt="a fox", steps=1), frames=9)  # loaded without a decoder
    steps = []
    run(
        tiny,
        pipeline_cache,
        "wan",
        Conditioning(prompt="a fox", steps=1),
        frames=9,
        ref_kw={"preview_decoder": str(weights)},
        on_step=lambda *a: steps.append(a),
    )
    assert calls[0] == ("init", str(weights)) and calls[1] == ("decode", (1, 1, 16, 8, 8))  # NTCHW, one latent frame
    assert steps[0][3].shape == (64, 64, 3) and np.allclose(steps[0][3], 0.25)


def test_pipeline_stays_loaded_between_jobs(tiny):
    from vidstudio.backend.loader import PipelineCache

    cache = PipelineCache()
    ref = ModelRef(model=str(tiny("ltx")))
    b = Conditioning(prompt="a fox", steps=1)
    generate(ref, b, width=64, height=64, frames=9, cache=cache)
    first = cache.current.pipe
    generate(
        ref,
        Conditioning(prompt="a cat", steps=1, keyframes=[Keyframe(0, picture())]),
        width=64,
        height=64,
        frames=9,
        cache=cache,
    )
    assert cache.loads == 1 and cache.current.pipe is first  # the condition pipeline shares the weights
    generate(ref.with_(vae_tiling=True), b, width=64, height=64, frames=9, cache=cache)
    assert cache.loads == 2 and cache.current.pipe.vae.use_tiling


def test_memory_options_on_cpu(tiny, monkeypatch):
    from diffusers import ModelMixin

    from vidstudio.backend.loader import load_pipeline

    compiled = []
    monkeypatch.setattr(
        ModelMixin, "compile_repeated_blocks", lambda self, *a, **k: compiled.append(type(self).__name__)
    )
    loaded = load_pipeline(ModelRef(model=str(tiny("ltx")), offload="model", vae_slicing=True, compile=True))
    assert loaded.device == "cpu" and loaded.dtype == torch.float32
    assert "offload 'model' ignored: the model runs on the CPU" in loaded.notes
    assert compiled == ["LTXVideoTransformer3DModel"] and loaded.pipe.vae.use_slicing
    svd = load_pipeline(ModelRef(model=str(tiny("svd")), vae_tiling=True))
    assert any("vae tiling is not supported by AutoencoderKLTemporalDecoder" in n for n in svd.notes)


def test_device_and_dtype_choice():
    from vidstudio.backend.loader import choose_device, choose_dtype

    assert choose_device("auto") in ("cpu", "cuda", "mps") and choose_device("cpu") == "cpu"
    assert choose_dtype("auto", "cpu") == torch.float32 and choose_dtype("fp16", "cpu") == torch.float16
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA device"):
            choose_device("cuda")
    with pytest.raises(ModelError, match="unknown dtype"):
        choose_dtype("fp8", "cpu")


def test_missing_or_wrong_models_say_what_to_do(tiny, tmp_path, monkeypatch):
    from vidstudio.backend.locate import locate

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelError) as e:
        locate("someone/not-downloaded-model")
    msg = str(e.value)
    assert "'someone/not-downloaded-model'" in msg and str(tmp_path / "hf" / "hub") in msg
    assert "HF_HUB_OFFLINE is set" in msg and "vidstudio models download someone/not-downloaded-model" in msg
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="is not a diffusers pipeline .it has no model_index.json"):
        locate(str(tmp_path / "empty"))
    with pytest.raises(ModelError, match=r"is a WanPipeline pipeline \(family wan\), not a ltx pipeline"):
        locate(str(tiny("wan")), "ltx")
    with pytest.raises(ModelError, match="does not exist"):
        locate(str(tmp_path / "nope" / "x"))
    loc = locate(str(tiny("wan", "vace")))
    assert (loc.family, loc.variant, loc.class_name) == ("wan", "vace", "WanVACEPipeline")
    # a repo id found in the Hugging Face cache is used offline
    snap = tmp_path / "hf" / "hub" / "models--org--tiny" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "model_index.json").write_text((tiny("ltx") / "model_index.json").read_text())
    (tmp_path / "hf" / "hub" / "models--org--tiny" / "refs").mkdir()
    (tmp_path / "hf" / "hub" / "models--org--tiny" / "refs" / "main").write_text("abc")
    loc = locate("org/tiny")
    assert loc.repo_id == "org/tiny" and loc.family == "ltx" and loc.folder == snap


def test_unreachable_hub_is_not_reported_as_a_wrong_repo(tmp_path, monkeypatch):
    """Offline without HF_HUB_OFFLINE: huggingface_hub raises LocalEntryNotFoundError (a subclass of
    EntryNotFoundError); the user must hear that the Hub could not be reached, not that the repo is wrong."""
    import huggingface_hub
    from huggingface_hub import errors as hf_errors

    from vidstudio.backend.locate import locate

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))

    def unreachable(*a, **k):
        raise hf_errors.LocalEntryNotFoundError("An error happened while trying to locate the file on the Hub")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", unreachable)
    monkeypatch.setattr("vidstudio.backend.locate.hub_reachable", lambda timeout=3.0: True)
    with pytest.raises(ModelError) as e:
        locate("Lightricks/LTX-Video")
    msg = str(e.value)
    assert "could not be reached" in msg and "vidstudio models download Lightricks/LTX-Video" in msg
    assert "not a diffusers pipeline" not in msg


def test_no_network_is_reported_at_once_without_huggingface_hub_retries(tmp_path, monkeypatch):
    """With no route to the Hub the probe fails and huggingface_hub (with its retries) is never called."""
    import socket

    import huggingface_hub

    from vidstudio.backend import locate as locate_mod

    for k in ("HF_HUB_OFFLINE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    # an endpoint on a closed loopback port: the connection is refused
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    assert locate_mod.hub_reachable(timeout=1.0) is False
    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: calls.append(a))
    with pytest.raises(ModelError, match="could not be reached"):
        locate_mod.locate("Lightricks/LTX-Video")
    assert calls == []
    # a listening endpoint is reachable; behind a proxy the probe defers to the proxy
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{s.getsockname()[1]}")
        assert locate_mod.hub_reachable(timeout=1.0) is True
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert locate_mod.hub_reachable(timeout=1.0) is True


def test_animatediff_from_a_stable_diffusion_model_and_a_motion_adapter(tmp_path, torch_single_thread):
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.tiny import write_tiny_sd15_and_motion_adapter

    sd, adapter = write_tiny_sd15_and_motion_adapter(tmp_path)
    cache = PipelineCache()
    b = Conditioning(prompt="a fox", steps=1)
    with pytest.raises(ModelError, match="needs a motion adapter too"):
        generate(ModelRef(model=str(sd)), b, width=32, height=32, frames=8, cache=cache)
    res = generate(
        ModelRef(model=str(sd), family="animatediff", motion_adapter=str(adapter)),
        b,
        width=32,
        height=32,
        frames=8,
        cache=cache,
    )
    assert res.pipeline == "AnimateDiffPipeline" and res.family == "animatediff" and res.frames.shape == (8, 32, 32, 3)


def test_offload_options_reach_diffusers(tiny, monkeypatch):
    """On a GPU machine: model offload is (re)applied to the task pipeline that runs, group offload once."""
    from diffusers import DiffusionPipeline

    import vidstudio.backend.loader as loader

    calls = []
    monkeypatch.setattr(loader, "choose_device", lambda requested: "cuda")
    monkeypatch.setattr(
        DiffusionPipeline,
        "enable_model_cpu_offload",
        lambda self, gpu_id=None, device=None: calls.append(("model", type(self).__name__, device)),
    )
    monkeypatch.setattr(
        DiffusionPipeline,
        "enable_group_offload",
        lambda self, **kw: calls.append(("group", type(self).__name__, str(kw["onload_device"]))),
    )
    loaded = loader.load_pipeline(ModelRef(model=str(tiny("ltx")), offload="model", dtype="fp32"))
    assert calls == [("model", "LTXConditionPipeline", "cuda")]
    loaded.task_pipeline("LTXPipeline")
    loaded.task_pipeline("LTXPipeline")  # the same pipeline runs again: its hooks stay
    assert calls[1:] == [("model", "LTXPipeline", "cuda")]
    calls.clear()
    loader.load_pipeline(ModelRef(model=str(tiny("ltx")), offload="group", dtype="fp32"))
    assert calls == [("group", "LTXConditionPipeline", "cuda")]


def test_a_cancel_is_honoured_between_blocks_inside_a_long_step(tiny, pipeline_cache):
    """Issue 15 point 1: a cancel that arrives in the middle of a step stops at the next transformer block, not
    at the end of the step (nor after the server's kill grace)."""
    from vidstudio.progress import CancelToken

    token = CancelToken()
    loaded = pipeline_cache.get(ModelRef(model=str(tiny("wan"))))
    blocks = list(loaded.pipe.transformer.blocks)
    assert len(blocks) >= 2
    ran = []
    h0 = blocks[0].register_forward_hook(lambda *a: (ran.append(0), token.cancel("stop mid-step")))
    h1 = blocks[-1].register_forward_hook(lambda *a: ran.append(len(blocks) - 1))
    steps = []
    try:
        with pytest.raises(Cancelled, match="stop mid-step"):
            run(
                tiny,
                pipeline_cache,
                "wan",
                Conditioning(prompt="a fox", steps=3),
                cancel=token,
                frames=9,
                on_step=lambda step, *a: steps.append(step),
            )
    finally:
        h0.remove()
        h1.remove()
    assert ran == [0] and steps == []  # the first block ran, the last never did, no step finished
    res, _, _ = run(tiny, pipeline_cache, "wan", Conditioning(prompt="a fox", steps=1), frames=9)  # hooks gone
    assert res.steps == 1
