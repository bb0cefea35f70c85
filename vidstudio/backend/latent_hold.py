"""Holding part of the latents on known latents while a pipeline denoises: the masked replacement that
Time-to-Move does (:mod:`vidstudio.backend.ttm`) and that Extend's video-to-video windows use to pin their
overlap frames (:func:`prepare_overlap_hold`).

With the schedule ``t[0] > ... > t[N-1]`` of ``N`` steps, known latents ``x_ref``, a latent mask ``M`` and one
fixed noise draw ``e``, after the step with full-schedule index ``k`` (while the hold lasts):
``x = x * (1 - M) + noise(x_ref, e, t[k + 1]) * M``, and ``x_ref`` itself after the last step, so the denoiser
sees the held region at every step at the level of that step. ``noise`` is the scheduler's own forward process
(:func:`forward_noise`): ``(1 - s) x + s e`` for flow matching (sigma ``s``), ``sqrt(a) x + sqrt(1 - a) e`` for
DDIM/DPM. This is how inpainting with a plain denoiser keeps its known region (diffusers'
``StableDiffusionInpaintPipeline`` with a 4-channel UNet blends ``init_latents_proper`` into the latents after every
step; Lugmayr et al. 2022, "RePaint", without the resampling).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vidstudio.errors import NodeError


def forward_noise(scheduler: Any, x0: torch.Tensor, noise: torch.Tensor, index: int) -> torch.Tensor:
    """``x0`` noised with ``noise`` to the level of step ``index`` of ``scheduler``'s current schedule, by the
    scheduler's own forward process (``add_noise``, or ``scale_noise`` for FlowMatchEulerDiscreteScheduler).

    ``scheduler`` must be a copy that has run ``set_timesteps`` and never stepped: its begin index is set to
    ``index`` so that schedulers that look sigmas up by step use exactly that step.
    """
    t = scheduler.timesteps[index : index + 1]
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(index)
    if hasattr(scheduler, "add_noise"):
        return scheduler.add_noise(x0, noise, t.to(x0.device))
    return scheduler.scale_noise(x0, t.to(x0.device), noise)


def full_schedule(scheduler: Any, steps: int) -> Any:
    """A copy of ``scheduler`` holding the whole schedule of ``steps`` steps (for :func:`forward_noise`)."""
    full = copy.deepcopy(scheduler)
    full.set_timesteps(steps, device="cpu")
    return full


def held_after_step(
    scheduler: Any,
    ref: torch.Tensor,
    noise: torch.Tensor,
    mask: torch.Tensor,
    steps: int,
    k: int,
    latents: torch.Tensor,
) -> torch.Tensor:
    """``latents`` after the step of full-schedule index ``k``, with the region of ``mask`` replaced by ``ref``
    noised to the next step's level (``ref`` itself after the last step, ``k = steps - 1``).

    Args:
        scheduler: the full-schedule copy (:func:`full_schedule`); ref, noise: the held latents and the fixed
            draw, the shape of ``latents``; mask: 1 where held, 0 elsewhere, broadcastable to ``latents``.

    Returns:
        a tensor of ``latents``' shape, dtype and device.
    """
    target = forward_noise(scheduler, ref, noise, k + 1) if k + 1 < steps else ref
    return blend(latents, target, mask)


def blend(latents: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``latents * (1 - mask) + target * mask`` in ``latents``' dtype and device."""
    m = mask.to(latents.device, latents.dtype)
    return latents * (1 - m) + target.to(latents.device, latents.dtype) * m


def hold_until_step(hold: float, steps: int) -> int:
    """``overlap_hold`` (a fraction of the schedule, 0..1) as the step index the hold stops before:
    ``floor(hold * steps + 0.5)`` (``steps`` for 1: every step, the last one ending on the known latents).

    Raises:
        NodeError: for a value outside 0..1, naming ``param 'overlap_hold'``.
    """
    h = float(hold)
    if not 0.0 <= h <= 1.0:
        raise NodeError(f"param 'overlap_hold': {h:g} is not a fraction of the schedule between 0 and 1")
    return min(steps, int(np.floor(h * steps + 0.5)))


#: video-to-video pipeline class -> (the family whose VAE encoding it uses, its latent layout).
HOLD_PIPELINES: dict[str, tuple[str, str]] = {
    "WanVideoToVideoPipeline": ("wan", "BCTHW"),
    "CogVideoXVideoToVideoPipeline": ("cogvideox", "BTCHW"),
}


class HeldRegion:
    """The masked replacement, for a class holding ``ref``, ``noise``, ``mask``, ``scheduler`` (the full-schedule
    copy), ``steps`` and ``replaced`` (a list) whose :meth:`hold_span` gives the full-schedule index of the first
    step the pipeline runs and the index the hold stops before."""

    ref: torch.Tensor
    noise: torch.Tensor
    mask: torch.Tensor
    scheduler: Any
    steps: int
    replaced: list[int]

    def hold_span(self) -> tuple[int, int]:
        """``(first step run, the step the hold stops before)``, full-schedule indices."""
        raise NotImplementedError

    def noised(self, index: int) -> torch.Tensor:
        """``ref`` noised with the fixed draw to the level of step ``index``."""
        return forward_noise(self.scheduler, self.ref, self.noise, index)

    def after_step(self, i: int, latents: torch.Tensor) -> torch.Tensor:
        """The latents after executed step ``i`` (0 = the first step run): inside the mask, ``ref`` noised to the
        next step's level while the hold lasts (:func:`held_after_step`, the index recorded in ``replaced``);
        unchanged otherwise."""
        first, until = self.hold_span()
        k = first + i
        if k >= until:
            return latents
        self.replaced.append(k)
        return held_after_step(self.scheduler, self.ref, self.noise, self.mask, self.steps, k, latents)


@dataclass
class OverlapHold(HeldRegion):
    """The first latent frames of a video-to-video call held on the latents of known frames (Extend's overlap).

    Attributes:
        ref: the known latents in the pipeline's layout, zero past :attr:`latent_frames`; noise: the fixed draw,
            same shape; mask: 1 on the held latent frames, broadcastable to :attr:`ref`.
        scheduler: the full-schedule copy. steps: the schedule's length.
        first: the full-schedule index of the first step the pipeline runs (``steps - int(steps * strength)``).
        until: the hold lasts after the steps with index below it (``steps``: to the end).
        latent_frames: how many latent frames are held; frames: the pixel frames they cover.
        init_noise_sigma: what the pipeline multiplies its initial latents by.
        replaced: the step indices after which the region was replaced (filled while running).
    """

    ref: torch.Tensor
    noise: torch.Tensor
    mask: torch.Tensor
    scheduler: Any
    steps: int
    first: int
    until: int
    latent_frames: int
    frames: int
    init_noise_sigma: float = 1.0
    replaced: list[int] = field(default_factory=list)

    def hold_span(self) -> tuple[int, int]:
        """``(first, until)``."""
        return self.first, self.until

    def initial(self, latents: torch.Tensor) -> torch.Tensor:
        """The pipeline's initial latents with the held region at the first step's level (as the pipeline
        scales them, times :attr:`init_noise_sigma`)."""
        if self.first >= self.until:
            return latents
        return blend(latents, self.noised(self.first) * self.init_noise_sigma, self.mask)

    def report(self) -> dict[str, int]:
        """What was held, for the run report: ``{"latent_frames", "frames", "first", "until", "steps"}``."""
        return {
            "latent_frames": self.latent_frames,
            "frames": self.frames,
            "first": self.first,
            "until": self.until,
            "steps": self.steps,
        }

    @contextlib.contextmanager
    def running(self, pipe: Any) -> Iterator[None]:
        """The block in which ``pipe`` is called: its ``prepare_latents`` result gets :meth:`initial` (an
        instance attribute shadows the method and is removed afterwards)."""
        original = pipe.prepare_latents

        def prepare_latents(*args: Any, **kwargs: Any) -> torch.Tensor:
            return self.initial(original(*args, **kwargs))

        pipe.prepare_latents = prepare_latents
        try:
            yield
        finally:
            del pipe.prepare_latents


def prepare_overlap_hold(
    plan: Any,
    overlap: np.ndarray,
    notes: list[str],
    *,
    steps: int,
    strength: float,
    hold: float,
    seed: int,
    width: int,
    height: int,
    frames: int,
    device: Any = "cpu",
) -> OverlapHold | None:
    """Encodes the overlap frames as the pipeline encodes its input video and returns the hold of the latent
    frames they cover wholly, or None where nothing is held.

    A causal video VAE with temporal ratio ``r`` gives latent frame 0 to frame 0 and latent frame ``j`` to frames
    ``(j - 1) r + 1 .. j r``: ``(O - 1) // r + 1`` latent frames lie wholly inside ``O`` overlap frames (the
    default overlap, ``r + 1``, is two); a latent frame shared with new frames is left free. What is held, or
    why nothing is, is appended to ``notes``.

    Args:
        plan: the adapter's plan (a video-to-video pipeline of :data:`HOLD_PIPELINES`).
        overlap: ``(O, H, W, 3)`` float32 in [0, 1], the frames already made that the window starts with.
        steps, strength: the call's schedule length and denoising strength; hold: the fraction of the schedule
            the hold lasts (:func:`hold_until_step`).
        seed: seeds the fixed draw (and CogVideoX's posterior sample); width, height, frames: the geometry.

    Raises:
        NodeError: for ``hold`` outside 0..1.
    """
    until = hold_until_step(hold, steps)
    name = plan.pipeline_name
    if name not in HOLD_PIPELINES:
        notes.append(f"overlap hold: {name} is not a video-to-video pipeline, the overlap is not held")
        return None
    first = steps - min(int(steps * float(strength)), steps)
    if until <= first:
        notes.append(
            f"overlap hold {float(hold):g} ends at step {until}, before the first step run ({first} of {steps}): "
            "the overlap is not held"
        )
        return None
    from vidstudio.backend import ttm
    from vidstudio.backend.adapters import video_frames

    family, layout = HOLD_PIPELINES[name]
    encode = {"wan": ttm.encode_wan, "cogvideox": ttm.encode_cogvideox}[family]
    r = max(1, int(plan.temporal_ratio))
    o = min(len(overlap), frames)
    n_lat = (o - 1) // r + 1 if r > 1 else o
    covered = (n_lat - 1) * r + 1 if r > 1 else n_lat
    pipe = plan.pipe
    g = torch.Generator("cpu").manual_seed(int(seed))
    pil = video_frames(overlap[:covered], covered, width, height, [], what="overlap")
    with torch.inference_mode():
        known = encode(pipe, ttm.frames_tensor(pipe, pil, width, height), g).cpu()
    t_axis = 2 if layout == "BCTHW" else 1
    t_lat = (frames - 1) // r + 1 if r > 1 else frames
    shape = list(known.shape)
    shape[t_axis] = t_lat
    ref = torch.zeros(shape, dtype=torch.float32)
    ref.narrow(t_axis, 0, n_lat).copy_(known.narrow(t_axis, 0, n_lat))
    mask_shape = [1] * len(shape)
    mask_shape[t_axis] = t_lat
    mask = torch.zeros(mask_shape)
    mask.narrow(t_axis, 0, n_lat).fill_(1.0)
    noise = torch.randn(shape, generator=g, dtype=torch.float32)
    scheduler = full_schedule(pipe.scheduler, steps)
    end = "to the end" if until >= steps else f"up to step {until}"
    notes.append(
        f"overlap hold: latent frames 0..{n_lat - 1} (frames 0..{covered - 1}) held on the previous window's "
        f"latents, noised to each step's level, from step {first} {end} of {steps}"
    )
    if covered < o:
        notes.append(
            f"overlap hold: frames {covered}..{o - 1} of the overlap share a latent frame with new frames and are "
            "held by the guide strength only"
        )
    return OverlapHold(
        ref=ref.to(device),
        noise=noise.to(device),
        mask=mask.to(device),
        scheduler=scheduler,
        steps=steps,
        first=first,
        until=until,
        latent_frames=n_lat,
        frames=covered,
        init_noise_sigma=float(getattr(pipe.scheduler, "init_noise_sigma", 1.0) or 1.0),
    )


__all__ = [
    "HOLD_PIPELINES",
    "HeldRegion",
    "OverlapHold",
    "blend",
    "forward_noise",
    "full_schedule",
    "held_after_step",
    "hold_until_step",
    "prepare_overlap_hold",
]
