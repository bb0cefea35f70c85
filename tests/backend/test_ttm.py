"""Time-to-Move dual-clock denoising (vidstudio.backend.ttm) on tiny models of every family that takes it.

What the model sees is read at the denoiser's door (a forward pre-hook on the transformer / UNet), and the
expected latents are computed here from the scheduler's published forward process (flow matching
``(1 - s) x + s e``, EDM-style ``x + s e``, DDPM-style ``sqrt(a) x + sqrt(1 - a) e``), not through the code
under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from backend.clips import denoiser_inputs, motion_clip, ttm_bundle
from helpers import EXAMPLES, scaled_cut_and_drag
from vidstudio.backend.bundle import Keyframe, ModelRef
from vidstudio.backend.capabilities import Request, check_request
from vidstudio.families._motion_transfer import default_steps, resolve_steps, step_index

W, H = 32, 32


# --------------------------------------------------------------------------------------------- settings
def test_published_settings_scale_with_the_step_count():
    assert default_steps("wan", "object", 50) == (3, 7)
    assert default_steps("wan", "camera", 50) == (2, 5)
    assert default_steps("cogvideox", "object", 50) == (4, 9)
    assert default_steps("svd", "object", 50) == (16, 21)
    assert default_steps("wan", "object", 25) == (2, 4)  # 1.5 -> 2, 3.5 -> 4
    assert default_steps("svd", "object", 25) == (8, 11)
    assert resolve_steps("wan", "object", 20, 0.25, 0.5) == (5, 10)
    assert resolve_steps("wan", "object", 20, 4, None) == (4, 4)  # the default t_strong (3) is below t_weak
    assert step_index(3, 10, "t_weak") == 3 and step_index(0.3, 10, "t_weak") == 3
    with pytest.raises(ValueError, match="t_strong"):
        resolve_steps("wan", "object", 10, 5, 3)
    with pytest.raises(ValueError, match="t_weak"):
        resolve_steps("wan", "object", 10, 10, None)
    with pytest.raises(ValueError, match="t_weak"):
        step_index(2.5, 10, "t_weak")


def test_families_without_time_to_move_are_refused_naming_those_that_can():
    req = Request(controls={"motion_signal", "keyframes"}, keyframe_frames=[0], width=64, height=64, frames=17)
    ltx = check_request("ltx", req)
    msg = " ".join(m for _, m in ltx.problems)
    assert "motion_signal" in msg and "wan, svd, cogvideox" in msg and "LTXConditionPipeline" in msg
    wan_t2v = check_request("wan", req, variant="t2v")
    assert any(c == "motion_signal" and "i2v" in m for c, m in wan_t2v.problems)
    assert not [p for p in check_request("wan", req, variant="i2v").problems if p[0] == "motion_signal"]
    assert not [p for p in check_request("svd", req).problems if p[0] == "motion_signal"]
    assert not [p for p in check_request("cogvideox", req, variant="i2v").problems if p[0] == "motion_signal"]


# --------------------------------------------------------------------------------------------- schedules
def _schedulers():
    from diffusers import (
        CogVideoXDDIMScheduler,
        EulerDiscreteScheduler,
        FlowMatchEulerDiscreteScheduler,
        UniPCMultistepScheduler,
    )

    return {
        "flow_euler": FlowMatchEulerDiscreteScheduler(shift=5.0),
        "unipc_flow": UniPCMultistepScheduler(
            prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0, num_train_timesteps=1000
        ),
        "cog_ddim": CogVideoXDDIMScheduler(
            beta_schedule="scaled_linear",
            timestep_spacing="trailing",
            prediction_type="v_prediction",
            rescale_betas_zero_snr=True,
            clip_sample=False,
            set_alpha_to_one=True,
        ),
        "svd_euler": EulerDiscreteScheduler(
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            prediction_type="v_prediction",
            sigma_max=700.0,
            sigma_min=0.002,
            steps_offset=1,
            timestep_spacing="leading",
            timestep_type="continuous",
            use_karras_sigmas=True,
            interpolation_type="linear",
        ),
    }


@pytest.mark.parametrize("name", ["flow_euler", "unipc_flow", "cog_ddim", "svd_euler"])
def test_a_schedule_started_at_t_weak_takes_the_full_schedules_steps(name, torch_single_thread):
    """Stepping the truncated schedule gives the same latents as stepping the full one from step k (the
    reference's loop over ``timesteps[k:]``), with a made-up model output."""
    import copy

    import torch

    from vidstudio.backend.ttm import schedule_from

    steps, k = 12, 3
    base = _schedulers()[name]
    x0 = torch.randn(1, 4, 3, 4, 4, generator=torch.Generator().manual_seed(0))

    def model(x, t):
        return 0.3 * x + float(t) / 1000.0

    def scaled(s, x, t):
        return s.scale_model_input(x, t) if hasattr(type(s), "scale_model_input") else x

    full = copy.deepcopy(base)
    full.set_timesteps(steps)
    x, seen_full = x0.clone(), []
    for t in full.timesteps[k:]:
        seen_full.append(float(t))
        x = full.step(model(scaled(full, x, t), t), t, x, return_dict=False)[0]
    trunc = copy.deepcopy(base)
    with schedule_from(trunc, k):
        trunc.set_timesteps(steps)
    assert "set_timesteps" not in vars(trunc)
    y, seen = x0.clone(), []
    for t in trunc.timesteps:
        seen.append(float(t))
        y = trunc.step(model(scaled(trunc, y, t), t), t, y, return_dict=False)[0]
    assert seen == seen_full
    torch.testing.assert_close(y, x, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------------------- tiny runs
def _level(pipe_sched_full, family, index):
    """(a, b) with noised = a * x + b * e at step ``index`` of the full schedule, from the published forms."""
    s = pipe_sched_full
    if family == "wan":  # flow matching
        sig = float(s.sigmas[index])
        return 1 - sig, sig
    if family == "svd":  # EDM-style Euler
        return 1.0, float(s.sigmas[index])
    a = float(s.alphas_cumprod[int(s.timesteps[index])])  # DDPM-style (CogVideoX DDIM)
    return a**0.5, (1 - a) ** 0.5


def _latents_seen(family, hidden, timestep, sched_full, index):
    """The latents inside what the denoiser got at step ``index``, in the pipeline's layout, batch 1."""
    if family == "wan":
        return hidden[:1, :16]
    if family == "cogvideox":
        return hidden[:1, :, :16]
    sig = float(sched_full.sigmas[index])  # SVD: scale_model_input divided by sqrt(sigma^2 + 1)
    return hidden[:1, :, :4] * (sig**2 + 1) ** 0.5


@pytest.mark.parametrize("family,variant,frames", [("wan", "i2v", 9), ("cogvideox", "i2v", 9), ("svd", None, 14)])
def test_dual_clock_denoising_on_tiny_models(family, variant, frames, tiny, pipeline_cache, monkeypatch):
    import torch

    from vidstudio.backend import ttm
    from vidstudio.backend.generate import generate

    steps, t_weak, t_strong = 6, 2, 4
    video, masks = motion_clip(frames)
    size = {"cogvideox": (32, 32)}.get(family, (W, H))
    keys = [Keyframe(0, video[0])]
    if family == "wan":  # the tiny Wan image-to-video model is a first-and-last-frame one
        keys.append(Keyframe(frames - 1, video[-1]))
    bundle = ttm_bundle(
        video,
        masks,
        prompt="" if family == "svd" else "a square slides",
        keyframes=keys,
        t_weak=t_weak,
        t_strong=t_strong,
        steps=steps,
        seed=5,
        guidance_scale=2.0,
    )
    runs, calls = [], []
    real_prepare = ttm.prepare

    def spy_prepare(*a, **kw):
        run = real_prepare(*a, **kw)
        runs.append(run)
        return run

    monkeypatch.setattr(ttm, "prepare", spy_prepare)
    with denoiser_inputs(calls) as call_hook:
        res = generate(
            ModelRef(family=family, model=str(tiny(family, variant))),
            bundle,
            width=size[0],
            height=size[1],
            frames=frames,
            fps=8,
            cache=pipeline_cache,
            call_hook=call_hook,
            previews=False,
        )
    run = runs[0]
    assert res.motion == {
        "method": "time_to_move",
        "kind": "object",
        "t_weak": 2,
        "t_strong": 4,
        "steps": 6,
        "steps_run": 4,
    }
    assert res.frames.shape == (frames, size[1], size[0], 3)
    # no wasted compute: the denoiser runs for the steps from t_weak only, once per guidance branch
    branches = 2 if family == "wan" else 1  # Wan calls cond and uncond apart; CogVideoX and SVD batch them
    assert len(calls) == branches * (steps - t_weak)
    if family != "wan":
        assert all(h.shape[0] == 2 for h, _ in calls)  # classifier-free guidance kept: both branches each step
    full = run.scheduler
    assert [t for _, t in calls[::branches]] == pytest.approx([float(t) for t in full.timesteps[t_weak:]])
    ref, e = run.ref.cpu(), run.noise.cpu()
    mask = run.mask.cpu().expand_as(ref) > 0.5
    assert 0 < mask.float().mean() < 0.8
    # the first executed step sees the motion signal noised to t_weak, over the whole frame
    a, b = _level(full, family, t_weak)
    first = _latents_seen(family, calls[0][0], calls[0][1], full, t_weak)
    torch.testing.assert_close(first, a * ref + b * e, rtol=1e-4, atol=1e-4)
    # after each step before t_strong, inside the mask: the motion signal noised to the next level
    for j in range(1, steps - t_weak):
        k = t_weak + j
        seen = _latents_seen(family, calls[j * branches][0], calls[j * branches][1], full, k)
        a, b = _level(full, family, k)
        expect = a * ref + b * e
        if k <= t_strong:
            torch.testing.assert_close(seen[mask], expect[mask], rtol=1e-4, atol=1e-4)
        else:
            assert (seen[mask] - expect[mask]).abs().max() > 1e-3  # ordinary denoising from t_strong on
        assert (seen[~mask] - expect[~mask]).abs().max() > 1e-3  # outside the mask it is the model's own
    assert run.replaced == [2, 3]
    if family == "wan":  # the motion signal is the VAE's posterior mode, normalised like the pipeline's latents
        pipe = pipeline_cache.get(ModelRef(family=family, model=str(tiny(family, variant)))).task_pipeline(
            "WanImageToVideoPipeline"
        )
        x = torch.from_numpy(video).permute(3, 0, 1, 2)[None] * 2 - 1
        lat = pipe.vae.encode(x).latent_dist.mode()
        mean = torch.tensor(pipe.vae.config.latents_mean).view(1, -1, 1, 1, 1)
        std = torch.tensor(pipe.vae.config.latents_std).view(1, -1, 1, 1, 1)
        torch.testing.assert_close(ref, (lat - mean) / std, rtol=2e-3, atol=2e-3)


def _tiny_wan_two_experts(out_dir, boundary_ratio):
    """A tiny Wan 2.2 A14B-style image-to-video pipeline (:func:`vidstudio.backend.tiny.build_tiny_wan22_i2v`,
    scheduler shift 3) saved and returned as a folder."""
    from vidstudio.backend.tiny import build_tiny_wan22_i2v

    build_tiny_wan22_i2v(boundary_ratio, shift=3.0).save_pretrained(out_dir, safe_serialization=True)
    return out_dir


def test_wan22_two_expert_switch_happens_at_the_same_step(tmp_path, pipeline_cache, torch_single_thread):
    import copy

    from diffusers import FlowMatchEulerDiscreteScheduler

    from vidstudio.backend.generate import generate

    steps, frames = 8, 5
    sched = FlowMatchEulerDiscreteScheduler(shift=3.0)
    sched.set_timesteps(steps)
    ts = [float(t) for t in sched.timesteps]
    boundary = (ts[4] + ts[5]) / 2 / 1000.0  # the high-noise expert runs steps 0..4, the low-noise one 5..7
    folder = _tiny_wan_two_experts(tmp_path / "wan22", boundary)
    video, masks = motion_clip(frames)

    def run(motion):
        seen: list[tuple[str, float]] = []
        hooks = []

        def call_hook(plan, kwargs):
            for name in ("transformer", "transformer_2"):
                net = getattr(plan.pipe, name)
                hooks.append(
                    net.register_forward_pre_hook(
                        lambda m, a, kw, name=name: seen.append((name, float(kw["timestep"].flatten()[0]))),
                        with_kwargs=True,
                    )
                )

        bundle = ttm_bundle(
            video,
            masks,
            prompt="birds",
            motion=motion,
            t_weak=2,
            t_strong=3,
            steps=steps,
            seed=1,
            guidance_scale=1.0,
        )
        try:
            generate(
                ModelRef(family="wan", model=str(folder)),
                copy.copy(bundle),
                width=W,
                height=H,
                frames=frames,
                fps=8,
                cache=pipeline_cache,
                call_hook=call_hook,
                previews=False,
            )
        finally:
            for h in hooks:
                h.remove()
        return seen

    plain = run(None)
    with_ttm = run(video)
    assert [n for n, _ in plain] == ["transformer"] * 5 + ["transformer_2"] * 3
    assert with_ttm == plain[2:]  # same timesteps, same expert for each: the switch is still after step 4


# --------------------------------------------------------------------------------------------- the example
def test_cut_and_drag_example_validates_and_names_a_real_checkpoint(tmp_path, capsys, monkeypatch):
    import json

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # online a model not downloaded yet is a warning only

    from vidstudio.cli import main

    doc = json.loads((EXAMPLES / "cut_and_drag.vidproj").read_text())
    model = next(n for n in doc["nodes"] if n["id"] == "model")["params"]
    assert model["model"] == "Wan-AI/Wan2.2-I2V-A14B-Diffusers" and model["family"] == "wan"
    assert {"from": "animatic.video", "to": "cond.motion"} in doc["links"]
    assert main(["validate", str(EXAMPLES / "cut_and_drag.vidproj")]) == 0
    assert "ok (10 nodes" in capsys.readouterr().out
    ltx = scaled_cut_and_drag(tmp_path, 1.0, 49, 50, family="ltx", model="Lightricks/LTX-Video")
    assert main(["validate", str(ltx)]) == 2
    err = capsys.readouterr()
    text = err.out + err.err
    assert "control 'motion_signal'" in text and "families that can: wan, svd, cogvideox" in text
    late = scaled_cut_and_drag(tmp_path / "late", 1.0, 49, 50)
    doc = json.loads(late.read_text())
    next(n for n in doc["nodes"] if n["id"] == "cond")["params"].update(t_weak=12, t_strong=0.1)
    late.write_text(json.dumps(doc))
    assert main(["validate", str(late)]) == 2
    err = capsys.readouterr()
    assert "step 5 comes before t_weak (step 12)" in err.out + err.err


@pytest.mark.slow
def test_cut_and_drag_example_renders_with_time_to_move_on_a_tiny_wan22(
    tmp_path, capsys, monkeypatch, torch_single_thread
):
    """The example (scaled down to 96x64, 9 frames, 20 steps) through ``vidstudio render --model`` with a tiny
    two-expert Wan 2.2 image-to-video model: Time-to-Move runs with the published Wan object settings and
    the animatic's sprite mask."""
    from vidstudio.backend import ttm
    from vidstudio.backend.tiny import build_tiny_wan22_i2v
    from vidstudio.cli import main
    from vidstudio.media import probe_video, read_metadata

    folder = tmp_path / "wan22"
    build_tiny_wan22_i2v().save_pretrained(folder, safe_serialization=True)
    proj = scaled_cut_and_drag(tmp_path, 96 / 624, 9, 20)
    runs = []
    real = ttm.prepare
    monkeypatch.setattr(ttm, "prepare", lambda *a, **k: runs.append(real(*a, **k)) or runs[-1])
    out = tmp_path / "out.mp4"
    assert main(["render", str(proj), "--model", str(folder), "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "gen: motion: time_to_move (object), t_weak 1, t_strong 3 of 20 steps (19 run)" in err
    info = probe_video(out)
    assert (info.frame_count, info.width, info.height) == (9, 96, 64)
    assert read_metadata(out)["vidstudio_motion"] == "time_to_move object t_weak=1 t_strong=3"
    mask = runs[0].mask
    assert 0.005 < float(mask.float().mean()) < 0.3  # the spoon's mask, not the whole frame
    first, last = mask[0, 0, 0], mask[0, 0, -1]
    ys, xs = np.nonzero(first.numpy())
    ye, xe = np.nonzero(last.numpy())
    assert xe.mean() < xs.mean() - 1  # dragged to the left along the path
