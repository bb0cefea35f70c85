"""Time-to-Move dual-clock denoising for the image-to-video pipelines of Wan 2.1 / 2.2, CogVideoX and SVD.

Source: Singer et al., "Time-to-Move: Training-Free Motion Controlled Video Generation via Dual-Clock
Denoising", arXiv 2511.08633; reference code github.com/time-to-move/TTM (``pipelines/wan_pipeline.py``,
``cog_pipeline.py``, ``svd_pipeline.py``), read and rewritten here, not copied.

With the schedule ``t[0] > t[1] > ... > t[N-1]`` of ``N`` steps, the motion signal's latent ``x_ref`` (the
animatic encoded by the model's own VAE and normalised like the pipeline's latents), its latent mask ``M`` and
one fixed noise draw ``e``:

1. the whole latent starts as ``noise(x_ref, e, t[t_weak])`` and only the steps ``t_weak .. N-1`` run (the
   steps before ``t_weak`` are never computed: the transformer runs ``N - t_weak`` times per guidance branch);
2. after the step with index ``i < t_strong``: ``x = x * (1 - M) + noise(x_ref, e, t[i + 1]) * M``;
3. from ``t_strong`` on, ordinary denoising.

``noise`` is the scheduler's own forward process at that step (``add_noise``; ``scale_noise`` on
FlowMatchEulerDiscreteScheduler), so it is ``(1 - s) x + s e`` for flow matching, ``x + s e`` for SVD's
EDM-style Euler and ``sqrt(a) x + sqrt(1 - a) e`` for CogVideoX's DDIM/DPM. The forward noise and the masked
replacement live in :mod:`vidstudio.backend.latent_hold`, which Extend's overlap hold shares.

How it runs: the stock diffusers pipeline runs unchanged (image conditioning, classifier-free guidance, the
Wan 2.2 expert switch at ``boundary_ratio``, callbacks), with three hooks around one call:
``latents=`` is the noised motion signal (point 1); the scheduler's ``set_timesteps`` is wrapped for the call so
that the schedule the pipeline iterates starts at ``t_weak`` (the full schedule's sigmas from ``t_weak`` on: the
same steps, not a new schedule); and the step callback does the masked replacement (point 2) before any other
callback sees the latents. The Wan 2.2 expert switch compares each timestep with
``boundary_ratio * num_train_timesteps``, so it happens at the same step as without Time-to-Move.

One known difference from stepping the full schedule: UniPCMultistepScheduler with ``lower_order_final`` and a
``final_sigmas_type`` other than ``"zero"`` lowers the order of its last step only for schedules under 15 steps,
and it sees the remaining ``N - t_weak`` steps (Wan's published configs use ``"zero"``, where both agree).

Where we differ from the reference, on purpose: the motion signal and its mask are fitted to the output like
every other picture (cover and centre-crop) instead of stretched; the CogVideoX and SVD posteriors are sampled
with the run's seeded generator (the reference samples them unseeded); the fixed draw is the trajectory-aware
noise when the bundle has trajectories or a camera move, seeded Gaussian noise otherwise.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vidstudio.backend.adapters import Plan, video_frames
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.latent_hold import HeldRegion, full_schedule
from vidstudio.errors import NodeError
from vidstudio.families._motion_transfer import METHOD, TTM_PIPELINES, resolve_steps


# --------------------------------------------------------------------------------------------- masks
def fit_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """An ``(H0, W0)`` mask in [0, 1] fitted to ``width x height`` as :func:`vidstudio.backend.adapters.fit_image`
    fits a picture (scaled to cover, centre-cropped), nearest-neighbour, binarised at 0.5.

    Returns:
        ``(height, width)`` float32 of 0 and 1.
    """
    m = np.asarray(mask, np.float32)
    img = Image.fromarray(((m > 0.5) * 255).astype(np.uint8), "L")
    if img.size != (width, height):
        s = max(width / img.width, height / img.height)
        w, h = max(width, round(img.width * s)), max(height, round(img.height * s))
        img = img.resize((w, h), Image.Resampling.NEAREST)
        x0, y0 = (w - width) // 2, (h - height) // 2
        img = img.crop((x0, y0, x0 + width, y0 + height))
    return (np.asarray(img) > 127).astype(np.float32)


def latent_mask(
    masks: np.ndarray | None,
    frames: int,
    width: int,
    height: int,
    temporal_ratio: int,
    spatial_ratio: int,
    notes: list[str],
) -> torch.Tensor:
    """The motion mask on the latent grid, as the reference builds it.

    ``masks`` ``(T, H0, W0)`` (None: the whole frame) is fitted to ``frames`` frames of ``width x height``
    (a shorter mask holds its last frame, noted), binarised, then the frames a causal video VAE keeps are
    taken (frame 0, then frames 1, 1 + r, 1 + 2r, ... for a temporal ratio r > 1; every frame for r = 1) and
    resized to the latent grid by nearest neighbour.

    Returns:
        ``(T_lat, h, w)`` float32 of 0 and 1, ``T_lat = (frames - 1) // r + 1``, ``h = height // spatial_ratio``.
    """
    if masks is None:
        full = np.ones((frames, height, width), np.float32)
    else:
        m = np.asarray(masks, np.float32)
        m = m[None] if m.ndim == 2 else m
        n = m.shape[0]
        if n < frames:
            notes.append(f"the motion mask has {n} frames, {frames} are generated: its last frame is held")
        full = np.stack([fit_mask(m[min(i, n - 1)], width, height) for i in range(frames)])
    idx = [0] + list(range(1, frames, temporal_ratio)) if temporal_ratio > 1 else list(range(frames))
    t = torch.from_numpy(full[idx])[None, None]  # 1 1 T' H W
    t = F.interpolate(t, size=(len(idx), height // spatial_ratio, width // spatial_ratio), mode="nearest")
    return t[0, 0]


# --------------------------------------------------------------------------------------------- encoders
def _vae_device(vae: Any) -> Any:
    """Where the VAE runs (its execution device under CPU offload hooks, as the pipelines ask it)."""
    try:
        from diffusers.utils.torch_utils import get_module_execution_device

        return get_module_execution_device(vae)
    except ImportError:  # older diffusers
        return vae.device


def frames_tensor(pipe: Any, frames: list[Image.Image], width: int, height: int) -> torch.Tensor:
    """PIL frames -> ``(1, 3, T, H, W)`` in [-1, 1] (the pipeline's own video processor)."""
    return pipe.video_processor.preprocess_video(frames, height=height, width=width)


def encode_wan(pipe: Any, video: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Wan: the posterior's mode, normalised with the VAE's latents mean and std (as the pipeline normalises
    its image condition). ``(1, 3, T, H, W)`` -> ``(1, z, T_lat, h, w)`` float32."""
    vae = pipe.vae
    x = vae.encode(video.to(_vae_device(vae), vae.dtype)).latent_dist.mode().float()
    z = vae.config.z_dim
    mean = torch.tensor(vae.config.latents_mean, dtype=x.dtype, device=x.device).view(1, z, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std, dtype=x.dtype, device=x.device).view(1, z, 1, 1, 1)
    return (x - mean) / std


def encode_cogvideox(pipe: Any, video: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """CogVideoX: a posterior sample times the VAE's scaling factor (divided when ``invert_scale_latents``,
    CogVideoX 1.5), as the pipeline scales its image latents. ``(1, 3, T, H, W)`` -> ``(1, T_lat, C, h, w)``."""
    vae = pipe.vae
    x = vae.encode(video.to(_vae_device(vae), vae.dtype)).latent_dist.sample(generator=generator).float()
    sf = float(vae.config.scaling_factor)
    x = x / sf if getattr(vae.config, "invert_scale_latents", False) else x * sf
    return x.permute(0, 2, 1, 3, 4).contiguous()


def _encode_svd(pipe: Any, video: torch.Tensor, generator: torch.Generator, chunk: int = 8) -> torch.Tensor:
    """SVD: each frame through the image encoder of the temporal-decoder VAE, a posterior sample times the
    scaling factor (the latents its decoder divides by it). ``(1, 3, T, H, W)`` -> ``(1, T, C, h, w)``."""
    vae = pipe.vae
    frames = video[0].permute(1, 0, 2, 3)  # T 3 H W
    out = []
    for i in range(0, frames.shape[0], chunk):
        dist = vae.encode(frames[i : i + chunk].to(_vae_device(vae), vae.dtype)).latent_dist
        out.append(dist.sample(generator=generator).float())
    return (torch.cat(out) * float(vae.config.scaling_factor))[None]


@dataclass(frozen=True)
class FamilySpec:
    """How one image-to-video pipeline holds its latents and encodes a motion signal.

    Attributes:
        encode: ``encode(pipe, video (1, 3, T, H, W) in [-1, 1], generator) -> latents`` in :attr:`layout`.
        layout: ``"BCTHW"`` or ``"BTCHW"``.
        scales_given_latents: the pipeline multiplies ``latents=`` by the scheduler's ``init_noise_sigma``
            (CogVideoX, SVD), so they are passed divided by it.
        denoiser: the attribute holding the model whose dtype ``latents=`` must have (``""``: float32, as the Wan
            pipeline keeps its latents); CogVideoX and SVD concatenate them with their image latents as they are.
    """

    encode: Callable[[Any, torch.Tensor, torch.Generator], torch.Tensor]
    layout: str
    scales_given_latents: bool
    denoiser: str = ""


#: diffusers pipeline class name -> :class:`FamilySpec`.
SPECS: dict[str, FamilySpec] = {
    "WanImageToVideoPipeline": FamilySpec(encode_wan, "BCTHW", False),
    "CogVideoXImageToVideoPipeline": FamilySpec(encode_cogvideox, "BTCHW", True, "transformer"),
    "StableVideoDiffusionPipeline": FamilySpec(_encode_svd, "BTCHW", True, "unet"),
}


# --------------------------------------------------------------------------------------------- schedule
def start_schedule_at(scheduler: Any, index: int) -> None:
    """Drops the first ``index`` steps of the schedule ``scheduler.set_timesteps`` just made: ``timesteps``
    from ``index`` on and ``sigmas`` (one longer, ending at the final sigma) from ``index`` on, so the steps
    that remain are exactly the full schedule's (``num_inference_steps`` is kept: DDIM-style schedulers derive
    the previous timestep from it)."""
    n = len(scheduler.timesteps)
    scheduler.timesteps = scheduler.timesteps[index:]
    sig = getattr(scheduler, "sigmas", None)
    if sig is not None and len(sig) in (n, n + 1):
        scheduler.sigmas = sig[index:]


@contextlib.contextmanager
def schedule_from(scheduler: Any, index: int) -> Iterator[None]:
    """For the duration of the block, every ``scheduler.set_timesteps(...)`` call is followed by
    :func:`start_schedule_at` ``(scheduler, index)`` (an instance attribute shadows the method and is removed
    afterwards)."""
    original = type(scheduler).set_timesteps

    @functools.wraps(original)
    def set_timesteps(*args: Any, **kwargs: Any) -> Any:
        out = original(scheduler, *args, **kwargs)
        start_schedule_at(scheduler, index)
        return out

    scheduler.set_timesteps = set_timesteps
    try:
        yield
    finally:
        del scheduler.set_timesteps


# --------------------------------------------------------------------------------------------- the run
@dataclass
class TTMRun(HeldRegion):
    """Time-to-Move for one pipeline call (see the module docstring).

    Attributes:
        t_weak, t_strong: step indices into the full schedule of :attr:`steps` steps.
        kind: ``object`` or ``camera``.
        steps: the schedule's length.
        ref: the motion signal's latents ``(1, ...)`` in the pipeline's layout (lead frames included).
        noise: the fixed draw, same shape.
        mask: the latent mask, broadcastable to :attr:`ref` (1 inside, 0 outside).
        scheduler: a copy of the pipeline's scheduler holding the full schedule (for
            :func:`vidstudio.backend.latent_hold.forward_noise`).
        init_noise_sigma: what the pipeline multiplies ``latents=`` by (1 when it does not).
        latents_dtype: the dtype of ``latents=``.
        notes: what was changed, in words.
        replaced: the step indices after which the mask was replaced (filled while running).
    """

    t_weak: int
    t_strong: int
    kind: str
    steps: int
    ref: torch.Tensor
    noise: torch.Tensor
    mask: torch.Tensor
    scheduler: Any
    init_noise_sigma: float = 1.0
    latents_dtype: torch.dtype = torch.float32
    notes: list[str] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)

    def hold_span(self) -> tuple[int, int]:
        """``(t_weak, t_strong)``: the mask is replaced after the steps from ``t_weak`` to before ``t_strong``
        (:meth:`vidstudio.backend.latent_hold.HeldRegion.after_step`: the motion signal noised to the next step's
        level inside the mask)."""
        return self.t_weak, self.t_strong

    def initial_latents(self) -> torch.Tensor:
        """The ``latents=`` argument: the motion signal noised to ``t_weak`` (over the whole frame), divided by
        :attr:`init_noise_sigma` where the pipeline multiplies by it."""
        return (self.noised(self.t_weak) / self.init_noise_sigma).to(self.latents_dtype)

    def report(self) -> dict[str, Any]:
        """What ran, for the run report and the MP4 metadata."""
        return {
            "method": METHOD,
            "kind": self.kind,
            "t_weak": self.t_weak,
            "t_strong": self.t_strong,
            "steps": self.steps,
            "steps_run": self.steps - self.t_weak,
        }

    @contextlib.contextmanager
    def running(self, pipe: Any) -> Iterator[None]:
        """The block in which ``pipe`` is called: its schedule starts at ``t_weak``."""
        with schedule_from(pipe.scheduler, self.t_weak):
            yield


def prepare(
    plan: Plan,
    bundle: Conditioning,
    family: str,
    seed: int,
    width: int,
    height: int,
    frames: int,
    noise: torch.Tensor | None = None,
    device: Any = "cpu",
) -> TTMRun:
    """Encodes the bundle's motion signal and mask for ``plan`` and returns the :class:`TTMRun`.

    Args:
        plan: the adapter's plan (an image-to-video pipeline of Wan, CogVideoX or SVD).
        bundle: the conditioning (``motion``, ``motion_mask``, ``motion_kind``, ``t_weak``, ``t_strong``, ``steps``).
        family: the family id; seed: the run's seed (the fixed draw and the posterior samples).
        width, height, frames: the generated geometry (pixels, frames).
        noise: the fixed draw in the pipeline's latent layout (the trajectory-aware noise), or None for seeded
            Gaussian noise.
        device: where the motion signal's latents, the draw and the mask are kept (the pipeline's device).

    Raises:
        NodeError: for a pipeline without Time-to-Move (naming the families that have it) or bad
            ``t_weak`` / ``t_strong`` (naming the parameter).
    """
    spec = SPECS.get(plan.pipeline_name)
    if spec is None:
        raise NodeError(
            f"control 'motion_signal': {plan.pipeline_name} has no Time-to-Move; image-to-video "
            f"checkpoints of {', '.join(TTM_PIPELINES)} have it"
        )
    try:
        t_weak, t_strong = resolve_steps(family, bundle.motion_kind, bundle.steps, bundle.t_weak, bundle.t_strong)
    except ValueError as e:
        raise NodeError(str(e)) from None
    pipe = plan.pipe
    notes: list[str] = []
    g = torch.Generator("cpu").manual_seed(int(seed))
    pil = video_frames(bundle.motion, frames, width, height, notes, what="motion signal")
    with torch.inference_mode():
        ref = spec.encode(pipe, frames_tensor(pipe, pil, width, height), g).cpu()
    mask = latent_mask(
        bundle.motion_mask if bundle.motion_kind == "object" else None,
        frames,
        width,
        height,
        plan.temporal_ratio,
        plan.spatial_ratio,
        notes,
    )
    if bundle.motion_kind == "object" and bundle.motion_mask is None:
        notes.append("Time-to-Move: no motion mask, the whole frame follows the motion signal")
    if plan.lead_frames:  # CogVideoX 1.5 pads latent frames at the front: copy the first, never replace them
        lead = plan.lead_frames
        ref = torch.cat([ref[:, :1].repeat(1, lead, 1, 1, 1), ref], dim=1)
        mask = torch.cat([torch.zeros(lead, *mask.shape[1:]), mask], dim=0)
    mask = mask[None, None] if spec.layout == "BCTHW" else mask[None, :, None]
    if noise is None:
        noise = torch.randn(ref.shape, generator=g, dtype=torch.float32)
    noise = noise.to(torch.float32).cpu()
    if tuple(noise.shape) != tuple(ref.shape):
        raise NodeError(
            f"control 'motion_signal': the motion signal's latents {tuple(ref.shape)} do not match "
            f"the pipeline's {tuple(noise.shape)}"
        )
    full = full_schedule(pipe.scheduler, bundle.steps)
    init_sigma = 1.0
    if spec.scales_given_latents:
        trunc = copy.deepcopy(full)
        start_schedule_at(trunc, t_weak)
        init_sigma = float(trunc.init_noise_sigma)
    dtype = getattr(pipe, spec.denoiser).dtype if spec.denoiser else torch.float32
    notes.append(
        f"Time-to-Move ({bundle.motion_kind}): t_weak {t_weak}, t_strong {t_strong} of {bundle.steps} "
        f"steps; {bundle.steps - t_weak} steps run"
    )
    return TTMRun(
        t_weak=t_weak,
        t_strong=t_strong,
        kind=bundle.motion_kind,
        steps=bundle.steps,
        ref=ref.to(device),
        noise=noise.to(device),
        mask=mask.to(device),
        scheduler=full,
        init_noise_sigma=init_sigma,
        latents_dtype=dtype,
        notes=notes,
    )
