"""Running one generation: check the request, load (or reuse) the pipeline, plan the call, build the initial
noise, run with per-step progress, previews and cancellation, and return the frames.

Step reports (the interface the server streams to clients):

- ``progress(fraction, message)`` after every denoising step, ``fraction = step / total``, message
  ``"step 3/20, 0.41 s/step"`` (the Generate node passes ``ctx.report``);
- ``on_step(step, total, seconds_per_step, preview)`` after every step when given; ``preview`` is the
  ``(h, w, 3)`` float32 RGB preview of the current latents in [0, 1] (:mod:`vidstudio.backend.preview`), or
  None when previews are off;
- cancellation: the :class:`vidstudio.progress.CancelToken` is checked in the step callback, which raises
  :class:`vidstudio.errors.Cancelled`: the pipeline stops within one step and skips the VAE decode (setting
  ``pipe._interrupt`` would still decode, and SVD never reads it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidstudio.backend.adapters import (
    Plan,
    scheduler_step_callback,
    substitute_initial_noise,
    takes_step_callback,
    video_to_video_strength,
)
from vidstudio.backend.bundle import INITIAL_NOISE, Conditioning, ModelRef
from vidstudio.backend.checkpoint_files import locate_model
from vidstudio.backend.families import adapter_class
from vidstudio.backend.loader import LoadedModel, PipelineCache, default_cache
from vidstudio.backend.locate import ModelLocation
from vidstudio.backend.noise import boxes_to_latent, camera_to_latent, latent_frame_sources, structured_noise
from vidstudio.backend.preview import Previewer
from vidstudio.errors import Cancelled, NodeError
from vidstudio.families import CheckResult, check_request, get_spec, uses_video_to_video
from vidstudio.media.audio import Audio
from vidstudio.motion.warped_noise import family_warning, warped_noise
from vidstudio.progress import CancelToken

#: ``on_step(step, total, seconds_per_step, preview)``; ``preview`` ``(h, w, 3)`` float32 or None.
StepFn = Callable[[int, int, float, np.ndarray | None], None]


@dataclass
class GenerateResult:
    """The outcome of :func:`generate`.

    Attributes:
        frames: ``(T, H, W, 3)`` float32 in [0, 1].
        seed: the seed used (recorded with the output).
        family, variant, pipeline: what ran (``pipeline`` is the diffusers class name).
        model: the model as the user named it.
        notes: what was changed or ignored on the way, in words.
        steps: denoising steps run; seconds_per_step: their mean wall time.
        check: the capability check (geometry actually generated).
        audio: the sound track generated with the video (LTX-2), fitted to ``frames / fps`` seconds, or None.
        motion: how the motion signal reached the model, or None: ``{"method": "time_to_move", "kind",
            "t_weak", "t_strong", "steps", "steps_run"}`` (:meth:`vidstudio.backend.ttm.TTMRun.report`).
        hold: the overlap hold of a video-to-video call, or None: ``{"latent_frames", "frames", "first", "until",
            "steps"}`` (:meth:`vidstudio.backend.latent_hold.OverlapHold.report`).
    """

    frames: np.ndarray
    seed: int
    family: str
    variant: str
    pipeline: str
    model: str
    notes: list[str] = field(default_factory=list)
    steps: int = 0
    seconds_per_step: float = 0.0
    check: CheckResult | None = None
    audio: Audio | None = None
    motion: dict[str, Any] | None = None
    hold: dict[str, int] | None = None

    def metadata(self) -> dict[str, str]:
        """MP4 metadata tags recording how the frames were made."""
        tags = {
            "vidstudio_seed": str(self.seed),
            "vidstudio_model": self.model,
            "vidstudio_family": self.family,
            "vidstudio_pipeline": self.pipeline,
        }
        if self.motion:
            m = self.motion
            tags["vidstudio_motion"] = f"{m['method']} {m['kind']} t_weak={m['t_weak']} t_strong={m['t_strong']}"
        return tags


def cancel_between_blocks(pipe: Any, cancel: CancelToken) -> Callable[[], None]:
    """Makes a cancel honoured inside a denoising step: a forward pre-hook on every block of the pipeline's
    denoiser (transformer or UNet) and VAE raises :class:`~vidstudio.errors.Cancelled` once ``cancel`` is set,
    so a long step (a large frame on a slow device) stops within one block instead of running to its end,
    and the server need not kill its worker after the cancel grace. A block is a child of a ``ModuleList``
    (``transformer_blocks``, ``down_blocks``, ``up_blocks``...), the unit diffusers models loop over
    (``torch.nn.Module.register_forward_pre_hook``).

    Returns:
        a function that removes the hooks.
    """
    handles = []

    def check(module: Any, args: Any) -> None:
        if cancel.cancelled:
            raise Cancelled(cancel.reason)

    for name in ("transformer", "unet", "vae"):
        model = getattr(pipe, name, None)
        if not isinstance(model, torch.nn.Module):
            continue
        for module in model.modules():
            if isinstance(module, torch.nn.ModuleList):
                handles += [child.register_forward_pre_hook(check) for child in module]
    return lambda: [h.remove() for h in handles]


def resolve_seed(seed: int) -> int:
    """``seed`` itself, or a fresh random seed in ``0 .. 2**31 - 1`` for a negative one."""
    return secrets.randbelow(2**31) if seed is None or seed < 0 else int(seed)


def check_bundle(
    location: ModelLocation, bundle: Conditioning, width: int, height: int, frames: int, snap: bool
) -> CheckResult:
    """Checks ``bundle`` at this geometry against the capability table and the model's frame/size rules.

    Raises:
        NodeError: listing every problem (each names the control and the families that can).
    """
    res = check_request(
        location.family,
        bundle.request(width, height, frames),
        variant=location.variant,
        checkpoint=location.checkpoint or None,
        rule=location.rule(),
        snap=snap,
    )
    if not res.ok:
        raise NodeError("\n".join(msg for _, msg in res.problems))
    return res


def fit_to_size(bundle: Conditioning, size: tuple[int, int], generated: tuple[int, int]) -> Conditioning:
    """The bundle with its pixel geometry (boxes and camera) moved from the project's ``size = (w, h)`` to the
    ``generated`` size (they differ when ``snap_to_model`` changed the size), stretched like the masks and the
    guide video, so that the trajectory noise lands where the objects are.

    Returns:
        ``bundle`` itself when the sizes agree, else a copy with ``boxes`` scaled per axis and ``camera``
        conjugated by the scaling (``S @ M @ S^-1``, world pixels scaled alike).
    """
    if tuple(size) == tuple(generated) or (bundle.boxes is None and bundle.camera is None):
        return bundle
    sx, sy = generated[0] / size[0], generated[1] / size[1]
    boxes = None if bundle.boxes is None else np.asarray(bundle.boxes, np.float64) * np.array([sx, sy, sx, sy])
    camera = None
    if bundle.camera is not None:
        S, Si = np.diag([sx, sy, 1.0]), np.diag([1.0 / sx, 1.0 / sy, 1.0])
        camera = S @ np.asarray(bundle.camera, np.float64) @ Si
    return dataclasses.replace(bundle, boxes=boxes, camera=camera)


def _with_lead(plan: Plan, z: np.ndarray, seed: int) -> np.ndarray:
    """``z`` ``(C, T, h, w)`` with the plan's lead frames (plain noise from ``seed + 1``) in front."""
    if not plan.lead_frames:
        return z
    C, _, h, w = z.shape
    lead = np.random.default_rng(seed + 1).standard_normal((C, plan.lead_frames, h, w), dtype=np.float32)
    return np.concatenate([lead, z], axis=1)


def structured_initial_noise(
    plan: Plan, bundle: Conditioning, seed: int, pixel_frames: int, width: int, height: int
) -> np.ndarray | None:
    """The trajectory/camera-aware noise for ``plan``, ``(C, lead + T, h, w)``, or None when the bundle has
    neither boxes nor a camera (the pipeline then draws its own noise from the seeded generator)."""
    wants_boxes = "trajectories" in bundle.controls()
    if not wants_boxes and bundle.camera is None:
        return None
    C, T, h, w = plan.latent_shape
    src = latent_frame_sources(T, plan.temporal_ratio, pixel_frames)
    boxes = boxes_to_latent(bundle.boxes, src, plan.spatial_ratio) if wants_boxes else None
    cam = camera_to_latent(bundle.camera, src, plan.spatial_ratio) if bundle.camera is not None else None
    z = structured_noise((C, T, h, w), seed, boxes=boxes, camera=cam, ratio=float(bundle.trajectory_noise))
    return _with_lead(plan, z, seed)


def warped_initial_noise(plan: Plan, bundle: Conditioning, seed: int, pixel_frames: int) -> np.ndarray:
    """Go-with-the-Flow noise for ``plan``: ``(C, lead + T, h, w)`` float32, the bundle's flow (project pixels,
    resized to the generated latent grid times the VAE's spatial ratio) warping the noise from pixel frame to
    pixel frame; latent frame ``j`` takes pixel frame :func:`latent_frame_sources` ``[j]``
    (:func:`vidstudio.motion.warped_noise.warped_noise`, degradation ``bundle.noise_degradation``).

    Raises:
        NodeError: when the bundle has no flow, or its flow is malformed.
    """
    if bundle.flow is None:
        raise NodeError(WARPED_NEEDS_FLOW)
    try:
        z = warped_noise(
            bundle.flow,
            plan.latent_shape,
            seed,
            temporal_ratio=plan.temporal_ratio,
            pixel_frames=pixel_frames,
            degradation=float(bundle.noise_degradation),
            pixels_per_cell=plan.spatial_ratio,
        )
    except ValueError as e:
        raise NodeError(f"input 'flow': {e}") from None
    return _with_lead(plan, z, seed)


#: The error for ``initial_noise == "warped"`` without a flow.
WARPED_NEEDS_FLOW = (
    "param 'initial_noise' is 'warped' but no flow is linked: link a Motion Flow node's 'flow' output to the "
    "Conditioning node's 'flow' input"
)


def initial_noise(
    plan: Plan, bundle: Conditioning, seed: int, pixel_frames: int, width: int, height: int
) -> np.ndarray | None:
    """The initial noise the bundle's :attr:`~Conditioning.initial_noise` asks for, ``(C, lead + T, h, w)``, or
    None for the pipeline's own seeded draw: ``iid`` -> None; ``warped`` -> :func:`warped_initial_noise`;
    ``trajectory`` -> :func:`structured_initial_noise`.

    Raises:
        NodeError: for an unknown mode, or ``warped`` without a flow.
    """
    mode = bundle.initial_noise
    if mode == "iid":
        return None
    if mode == "warped":
        return warped_initial_noise(plan, bundle, seed, pixel_frames)
    if mode == "trajectory":
        return structured_initial_noise(plan, bundle, seed, pixel_frames, width, height)
    raise NodeError(f"param 'initial_noise': {mode!r} is not one of {', '.join(INITIAL_NOISE)}")


def generate(
    ref: ModelRef,
    bundle: Conditioning,
    *,
    width: int,
    height: int,
    frames: int,
    fps: Fraction | float = 24,
    snap: bool = False,
    project_dir: Path | None = None,
    cache: PipelineCache | None = None,
    progress: Callable[[float | None, str], None] | None = None,
    on_step: StepFn | None = None,
    cancel: CancelToken | None = None,
    previews: bool = True,
    call_hook: Callable[[Plan, dict[str, Any]], None] | None = None,
    hold_frames: np.ndarray | None = None,
    overlap_hold: float = 1.0,
) -> GenerateResult:
    """Generates a video.

    Args:
        ref: the model; bundle: the conditioning.
        width, height, frames: the requested geometry (pixels, frame count); fps: frames per second (LTX and SVD
            condition on it).
        snap: move an invalid frame count or size to the nearest valid one (noted) instead of refusing.
        project_dir: folder that relative paths resolve against.
        cache: the pipeline cache (default: the process-wide one).
        progress: ``progress(fraction, message)`` (see the module docstring).
        on_step: ``on_step(step, total, seconds_per_step, preview)``.
        cancel: checked before loading and at every step.
        previews: make a preview at every step for ``on_step``.
        call_hook: ``call_hook(plan, kwargs)`` just before the pipeline call (tests inspect the arguments).
        hold_frames: ``(O, H, W, 3)`` float32 in [0, 1], frames the video-to-video input starts with whose latents
            are held at every step up to ``overlap_hold`` of the schedule (Extend's overlap,
            :func:`vidstudio.backend.latent_hold.prepare_overlap_hold`); None: nothing held.
        overlap_hold: the fraction of the schedule the hold lasts (1: to the end; 0: no hold).

    Returns:
        the :class:`GenerateResult`.

    Raises:
        NodeError: the request breaks the capability table or the frame/size rules (all problems listed).
        vidstudio.errors.ModelError: the model cannot be found or loaded, or an extra model is missing.
        vidstudio.errors.Cancelled: when cancelled (no VAE decode happens).
    """
    cancel = cancel or CancelToken()
    cache = cache or default_cache()
    cancel.raise_if_cancelled()
    loc = locate_model(ref, project_dir)
    res = check_bundle(loc, bundle, width, height, frames, snap)
    W, H, F = res.width, res.height, res.frames
    spec = get_spec(loc.family)
    defaults: list[str] = []
    if bundle.steps is None:
        n, whose = spec.default_steps_for(loc.checkpoint or None)
        bundle = dataclasses.replace(bundle, steps=n)
        defaults.append(f"steps {n} ({whose}; none was set)")
    if bundle.guidance_scale is None:
        g, whose = spec.default_guidance_for(loc.checkpoint or None)
        defaults.append(f"guidance scale {g:g} ({whose}; none was set)")
    if bundle.steps < 1:
        raise NodeError(f"param 'steps': {bundle.steps} denoising steps; at least 1 is needed")
    if bundle.guide is not None and uses_video_to_video(loc.family, loc.variant):
        video_to_video_strength(bundle)  # refuse a strength that leaves no step before loading
    bundle = fit_to_size(bundle, (width, height), (W, H))
    notes = list(res.notes) + defaults
    if bundle.initial_noise not in INITIAL_NOISE:
        raise NodeError(f"param 'initial_noise': {bundle.initial_noise!r} is not one of {', '.join(INITIAL_NOISE)}")
    if bundle.initial_noise == "warped":
        if bundle.flow is None:
            raise NodeError(WARPED_NEEDS_FLOW)
        note = family_warning(loc.family)
        if note:
            notes.append(note)
    seed = resolve_seed(bundle.seed)
    if bundle.seed is None or bundle.seed < 0:
        notes.append(f"random seed {seed}")
    cancel.raise_if_cancelled()
    loaded: LoadedModel = cache.get(ref, project_dir=project_dir, location=loc, progress=progress)
    notes += [n for n in loaded.notes if n not in notes]
    cancel.raise_if_cancelled()
    from vidstudio.backend.job import job_options, job_preset

    bundle = job_preset(ref, bundle, notes)
    adapter = adapter_class(loc.family)(loaded, ref, project_dir)
    plan = adapter.plan(bundle, W, H, F, float(fps))
    notes += plan.notes
    previewer = None
    if previews and on_step is not None:
        key = ("preview", ref.preview_decoder)
        previewer = loaded.extras.get(key)
        if previewer is None:
            previewer = Previewer(loc.family, ref.preview_decoder, loaded.device, loaded.dtype)
            loaded.extras[key] = previewer

    times: list[float] = []
    t_last = [time.perf_counter()]

    ttm_run = None
    hold = None

    def on_step_end(pipe: Any, i: int, t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if ttm_run is not None and "latents" in kwargs:
            kwargs["latents"] = ttm_run.after_step(i, kwargs["latents"])
        if hold is not None and "latents" in kwargs:
            kwargs["latents"] = hold.after_step(i, kwargs["latents"])
        now = time.perf_counter()
        times.append(now - t_last[0])
        total = int(getattr(pipe, "_num_timesteps", None) or getattr(pipe, "num_timesteps", 0) or bundle.steps)
        sps = float(np.mean(times))
        if cancel.cancelled:
            raise Cancelled(cancel.reason)
        if progress is not None:
            progress((i + 1) / total, f"step {i + 1}/{total}, {sps:.2f} s/step")
        if on_step is not None:
            image = None
            if previewer is not None and "latents" in kwargs:
                image = previewer(plan.canonical(kwargs["latents"].detach()))
            on_step(i + 1, total, sps, image)
        t_last[0] = time.perf_counter()
        return kwargs

    kwargs = dict(plan.kwargs)
    kwargs.update(generator=torch.Generator("cpu").manual_seed(seed), output_type="np")
    step_hook: Any = contextlib.nullcontext()
    if takes_step_callback(plan.pipe):
        kwargs.update(callback_on_step_end=on_step_end, callback_on_step_end_tensor_inputs=["latents"])
    else:  # HunyuanVideo 1.5: the same callback after every scheduler step
        step_hook = scheduler_step_callback(plan.pipe, on_step_end)
    z = initial_noise(plan, bundle, seed, F, W, H)
    noise = plan.noise_tensor(z) if z is not None else None
    if bundle.motion is not None:
        from vidstudio.backend import ttm

        ttm_run = ttm.prepare(plan, bundle, loc.family, seed, W, H, F, noise=noise, device=loaded.device)
        notes += ttm_run.notes
        kwargs["latents"] = ttm_run.initial_latents()
    elif noise is not None and plan.noise_via == "latents":
        kwargs["latents"] = noise.to(loaded.device)
    if hold_frames is not None and overlap_hold > 0:
        from vidstudio.backend.latent_hold import prepare_overlap_hold

        hold = prepare_overlap_hold(
            plan,
            hold_frames,
            notes,
            steps=bundle.steps,
            strength=float(kwargs.get("strength", 1.0)),
            hold=overlap_hold,
            seed=seed,
            width=W,
            height=H,
            frames=F,
            device=loaded.device,
        )
    if call_hook is not None:
        call_hook(plan, kwargs)
    t_last[0] = time.perf_counter()
    uncheck = cancel_between_blocks(plan.pipe, cancel)
    try:
        plan.cleanup[:0] = job_options(loaded, ref, plan, kwargs, project_dir, notes)
        with torch.inference_mode(), step_hook, hold.running(plan.pipe) if hold else contextlib.nullcontext():
            if ttm_run is not None:
                with ttm_run.running(plan.pipe):
                    out = plan.pipe(**kwargs)
            elif noise is not None and plan.noise_via == "hook":
                with substitute_initial_noise(plan.pipe, noise) as used:
                    out = plan.call(kwargs) if plan.call else plan.pipe(**kwargs)
                if not used():
                    notes.append("the structured initial noise could not be applied to this pipeline")
            else:
                out = plan.call(kwargs) if plan.call else plan.pipe(**kwargs)
    finally:
        uncheck()
        for fn in plan.cleanup:
            fn()
    video = out.frames if hasattr(out, "frames") else out[0]
    arr = np.asarray(video[0] if (isinstance(video, (list, tuple)) or np.ndim(video) == 5) else video)
    arr = arr.astype(np.float32, copy=False)
    if arr.flags.writeable:
        np.clip(arr, 0.0, 1.0, out=arr)
    else:
        arr = np.clip(arr, 0.0, 1.0)
    if arr.shape[-1] != 3 and arr.shape[1] == 3:  # (T, 3, H, W)
        arr = np.ascontiguousarray(arr.transpose(0, 2, 3, 1))
    audio = None
    if getattr(out, "audio", None) is not None and hasattr(adapter, "audio_sample_rate"):
        wave = out.audio[0] if isinstance(out.audio, (list, tuple)) or np.ndim(out.audio) == 3 else out.audio
        wave = np.asarray(wave.float().cpu() if isinstance(wave, torch.Tensor) else wave, np.float32)  # (ch, N)
        audio = Audio(np.clip(wave.T, -1.0, 1.0), adapter.audio_sample_rate(plan.pipe)).fit(arr.shape[0] / float(fps))
    return GenerateResult(
        audio=audio,
        frames=arr,
        seed=seed,
        family=loc.family,
        variant=loaded.variant,
        pipeline=plan.pipeline_name,
        model=ref.model,
        notes=notes,
        steps=len(times),
        seconds_per_step=float(np.mean(times)) if times else 0.0,
        check=res,
        motion=ttm_run.report() if ttm_run is not None else None,
        hold=hold.report() if hold is not None else None,
    )
