"""What every pipeline adapter shares: the :class:`Plan` of one pipeline call, the :class:`FamilyAdapter` base,
picture conversions and the initial-noise hook. The adapters themselves, one per family, live in
:mod:`vidstudio.backend.families` (``wan.py``, ``ltx.py``, ...), registered under their spec's id.

Each adapter's :meth:`FamilyAdapter.plan` picks the pipeline class for the bundle (text-to-video,
video-to-video, SparseCtrl, LTX conditions, Wan I2V / VACE, ...), converts frames, keyframes, masks and
images to what that pipeline takes, computes the latent geometry, and says how the structured initial noise
(:mod:`vidstudio.backend.noise`) goes in:

- ``"latents"``: through the pipeline's ``latents=`` argument, where it is the initial noise;
- ``"hook"``: where ``latents=`` means something else (video-to-video pipelines take clean latents there;
  LTXConditionPipeline ignores it without ``denoise_strength``), the pipeline module's ``randn_tensor`` is
  replaced for the duration of the call and returns the structured noise for the first request of the
  initial-noise shape (:func:`substitute_initial_noise`).

What each family honours is declared in its torch-free spec (:mod:`vidstudio.families`);
:func:`vidstudio.backend.generate.generate` checks a bundle against it before an adapter sees it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from vidstudio.backend.bundle import Conditioning, ModelRef
from vidstudio.backend.loader import LoadedModel
from vidstudio.errors import NodeError
from vidstudio.families import FamilySpec, get_spec, video_to_video_problem


# --------------------------------------------------------------------------------------------- conversions
def fit_image(image: np.ndarray, width: int, height: int) -> Image.Image:
    """An ``(H, W, 3|4)`` float image in [0, 1] as an RGB PIL image of ``width x height``, scaled to cover the
    frame and centre-cropped (the ``cover`` fit of the Camera Move node); alpha is dropped."""
    arr = np.asarray(image, dtype=np.float32)[..., :3]
    img = Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
    if img.size == (width, height):
        return img
    s = max(width / img.width, height / img.height)
    w, h = max(width, round(img.width * s)), max(height, round(img.height * s))
    img = img.resize((w, h), Image.Resampling.LANCZOS)
    x0, y0 = (w - width) // 2, (h - height) // 2
    return img.crop((x0, y0, x0 + width, y0 + height))


def to_pil(image: np.ndarray) -> Image.Image:
    """An ``(H, W, 3|4)`` float image in [0, 1] as an RGB PIL image of its own size."""
    arr = np.asarray(image, dtype=np.float32)[..., :3]
    return Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def video_frames(
    video: Any, count: int, width: int, height: int, notes: list[str], what: str = "guide video"
) -> list[Image.Image]:
    """``count`` frames of a Clip or ``(T, H, W, 3)`` array as PIL images of ``width x height`` (cover fit).

    A shorter video repeats its last frame (noted); a longer one is cut (noted).
    """
    n = len(video)
    if n < count:
        notes.append(f"the {what} has {n} frames, {count} are generated: its last frame is held")
    elif n > count:
        notes.append(f"the {what} has {n} frames, {count} are generated: the rest is not used")
    return [fit_image(np.asarray(video[min(i, n - 1)]), width, height) for i in range(count)]


def video_to_video_strength(bundle: Conditioning) -> float:
    """The ``strength`` of a video-to-video pipeline call: the bundle's guide strength, checked to leave at least
    one denoising step (:func:`vidstudio.families.video_to_video_problem`).

    Raises:
        NodeError: naming the guide strength and the steps, and what would work.
    """
    problem = video_to_video_problem(bundle.guide_strength, bundle.steps)
    if problem:
        raise NodeError(f"control 'guide_video': {problem}")
    return float(bundle.guide_strength)


def resample_masks(masks: np.ndarray, count: int, width: int, height: int) -> np.ndarray:
    """``(T, H, W)`` masks -> ``(count, height, width)`` float32 in [0, 1] (nearest frame, bilinear resize)."""
    m = np.asarray(masks, dtype=np.float32)
    if m.ndim == 2:
        m = m[None]
    idx = (
        np.clip(np.rint(np.linspace(0, m.shape[0] - 1, count)).astype(int), 0, m.shape[0] - 1)
        if m.shape[0] != count
        else np.arange(count)
    )
    out = np.empty((count, height, width), np.float32)
    for i, j in enumerate(idx):
        img = Image.fromarray(np.clip(m[j], 0, 1).astype(np.float32), "F")
        out[i] = np.asarray(img.resize((width, height), Image.Resampling.BILINEAR), np.float32)
    return np.clip(out, 0, 1)


def rasterize_boxes(boxes: np.ndarray, count: int, width: int, height: int, src_size: tuple[int, int]) -> np.ndarray:
    """``(T, N, 4)`` pixel boxes of a ``src_size = (w, h)`` frame -> ``(count, height, width)`` float32 masks,
    1 inside any visible box (pixel centres at ``i + 0.5``)."""
    b = np.asarray(boxes, dtype=np.float64)
    sx, sy = width / src_size[0], height / src_size[1]
    out = np.zeros((count, height, width), np.float32)
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
    for i in range(count):
        row = b[min(i, b.shape[0] - 1)]
        for x0, y0, x1, y1 in row:
            if not np.all(np.isfinite([x0, y0, x1, y1])):
                continue
            inx = (xs >= x0 * sx) & (xs <= x1 * sx)
            iny = (ys >= y0 * sy) & (ys <= y1 * sy)
            out[i][np.ix_(iny, inx)] = 1.0
    return out


# --------------------------------------------------------------------------------------------- noise hook
_HOOK_LOCK = threading.Lock()


@contextlib.contextmanager
def substitute_initial_noise(pipe: Any, noise: torch.Tensor) -> Iterator[Callable[[], bool]]:
    """Makes the pipeline's first ``randn_tensor`` request of ``noise.shape`` return ``noise``.

    Replaces ``randn_tensor`` in the module that defines ``type(pipe)`` for the duration of the block (one
    block at a time in a process: a lock serialises them). Yields a function that tells whether the noise was
    used.
    """
    module = sys.modules[type(pipe).__module__]
    original = module.randn_tensor
    used = [False]

    def patched(shape, generator=None, device=None, dtype=None, layout=None):
        if not used[0] and tuple(shape) == tuple(noise.shape):
            used[0] = True
            return noise.to(device=device, dtype=dtype)
        return original(shape, generator=generator, device=device, dtype=dtype, layout=layout)

    with _HOOK_LOCK:
        module.randn_tensor = patched
        try:
            yield lambda: used[0]
        finally:
            module.randn_tensor = original


def takes_step_callback(pipe: Any) -> bool:
    """True when the pipeline's ``__call__`` takes ``callback_on_step_end`` (HunyuanVideo 1.5's does not)."""
    import inspect

    return "callback_on_step_end" in inspect.signature(type(pipe).__call__).parameters


@contextlib.contextmanager
def scheduler_step_callback(pipe: Any, fn: Callable[[Any, int, Any, dict[str, Any]], Any]) -> Iterator[None]:
    """Calls ``fn(pipe, step, timestep, {"latents": latents})`` after every ``pipe.scheduler.step`` for the
    duration of the block: the step callback of pipelines without ``callback_on_step_end``. An exception
    raised by ``fn`` stops the denoising loop at once (no VAE decode), as from a step-end callback.

    The wrapper is an attribute of the scheduler instance, removed when the block ends.
    """
    sched = pipe.scheduler
    original = sched.step
    count = [0]

    def step(model_output, timestep, sample, *args, **kwargs):
        out = original(model_output, timestep, sample, *args, **kwargs)
        latents = out[0] if isinstance(out, tuple) else out.prev_sample
        fn(pipe, count[0], timestep, {"latents": latents})
        count[0] += 1
        return out

    sched.step = step
    try:
        yield
    finally:
        sched.__dict__.pop("step", None)


# --------------------------------------------------------------------------------------------- plans
@dataclass
class Plan:
    """One pipeline call, ready to run.

    Attributes:
        pipe: the pipeline object to call.
        kwargs: its arguments (without ``generator``, ``latents``, callbacks and ``output_type``).
        latent_shape: ``(C, T, h, w)`` of the generated video's latents (without lead frames).
        temporal_ratio, spatial_ratio: pixel frames per latent frame, pixels per latent cell.
        layout: how the pipeline holds latents in its step callback: ``"BCTHW"``, ``"BTCHW"`` or ``"packed"``
            (LTX tokens, condition tokens first).
        noise_layout: the layout of the initial noise it takes (``latents=`` or the hooked ``randn_tensor``);
            default :attr:`layout`.
        lead_frames: latent frames before the video's in the pipeline's latents (Wan VACE reference images,
            CogVideoX 1.5 padding), filled with plain noise and dropped from previews.
        noise_via: ``"latents"`` or ``"hook"`` (see the module docstring).
        cleanup: called after the run, success or not (e.g. disable FreeNoise).
        notes: what the adapter changed, in words.
        packing: for ``"packed"``: ``(patch_size, patch_size_t)``.
        call: ``call(kwargs) -> output`` runs the plan instead of ``pipe(**kwargs)`` (several stages, e.g. LTX's
            latent upsampling), or None.
    """

    pipe: Any
    kwargs: dict[str, Any]
    latent_shape: tuple[int, int, int, int]
    temporal_ratio: int
    spatial_ratio: int
    layout: str = "BCTHW"
    noise_layout: str = ""
    lead_frames: int = 0
    noise_via: str = "latents"
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    packing: tuple[int, int] = (1, 1)
    call: Callable[[dict[str, Any]], Any] | None = None

    def __post_init__(self) -> None:
        self.noise_layout = self.noise_layout or self.layout

    @property
    def pipeline_name(self) -> str:
        """The diffusers class name of :attr:`pipe`."""
        return type(self.pipe).__name__

    @property
    def noise_shape(self) -> tuple[int, int, int, int]:
        """``(C, lead + T, h, w)``: the canonical shape of the whole initial noise."""
        C, T, h, w = self.latent_shape
        return (C, self.lead_frames + T, h, w)

    def noise_tensor(self, z: np.ndarray) -> torch.Tensor:
        """Canonical ``(C, lead + T, h, w)`` noise in the layout the pipeline takes it."""
        t = torch.from_numpy(np.ascontiguousarray(z))[None]  # 1 C T h w
        if self.noise_layout == "BTCHW":
            return t.permute(0, 2, 1, 3, 4).contiguous()
        if self.noise_layout == "packed":
            from diffusers import LTXPipeline

            return LTXPipeline._pack_latents(t, *self.packing)
        return t

    def canonical(self, latents: torch.Tensor) -> torch.Tensor:
        """The pipeline's latents (as a step callback sees them) -> ``(C, T, h, w)`` of the video only."""
        C, T, h, w = self.latent_shape
        if self.layout == "packed":
            from diffusers import LTXPipeline

            p, pt = self.packing
            tokens = (T // pt) * (h // p) * (w // p)
            return LTXPipeline._unpack_latents(latents[:, -tokens:], T, h, w, p, pt)[0]
        x = latents[0]
        if self.layout == "BTCHW":
            x = x.permute(1, 0, 2, 3)
        return x[:, self.lead_frames :]


class FamilyAdapter:
    """Base of the per-family adapters (subclasses live in :mod:`vidstudio.backend.families`, registered with
    ``@register(family_id)``, which sets :attr:`family` and :attr:`spec`).

    Args:
        loaded: the loaded model (base pipeline, device, dtype, load options).
        ref: the job's model reference (its extras, e.g. ``sparsectrl``, may differ from the one the cached
            pipeline was loaded for); default ``loaded.ref``.
        project_dir: folder that relative extra-model paths resolve against.
    """

    family = ""
    spec: FamilySpec

    def __init__(self, loaded: LoadedModel, ref: ModelRef | None = None, project_dir: Path | None = None):
        self.loaded = loaded
        self.ref = ref or loaded.ref
        self.project_dir = project_dir

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        """Builds the pipeline call for ``bundle`` at ``width x height``, ``frames`` frames, ``fps``.

        Raises:
            NodeError: for a request this checkpoint cannot run that the capability table could not see.
            ModelError: for a missing extra model (SparseCtrl, IP-Adapter).
        """
        raise NotImplementedError

    @property
    def checkpoint(self) -> Any:
        """The published checkpoint of the loaded model (:class:`vidstudio.families.Checkpoint`), or None."""
        ck = getattr(self.loaded.location, "checkpoint", "")
        return get_spec(self.family).checkpoint(ck) if ck else None

    def guidance(self, bundle: Conditioning) -> float:
        """The bundle's guidance scale, or the checkpoint's default, or the family spec's."""
        if bundle.guidance_scale is not None:
            return float(bundle.guidance_scale)
        ck = self.checkpoint
        if ck is not None and ck.default_guidance is not None:
            return float(ck.default_guidance)
        return float(get_spec(self.family).default_guidance)

    def image_to_video_hook(self, plan: Plan, bundle: Conditioning) -> Plan:
        """Called by the image-to-video branch of an adapter with its finished :class:`Plan`, before the call
        runs: the one place where a per-family image-to-video extension (e.g. a different denoising loop)
        changes the plan. The base returns ``plan`` unchanged."""
        return plan

    def _find_extra(self, spec: str, default_sub: str, what: str) -> str | None:
        if spec:
            p = Path(spec).expanduser()
            if not p.is_absolute() and self.project_dir is not None and (self.project_dir / p).exists():
                p = self.project_dir / p
            return str(p) if p.exists() else spec
        cand = self.loaded.location.folder / default_sub
        return str(cand) if cand.exists() else None


def __getattr__(name: str) -> Any:
    """``ADAPTERS`` (family id -> adapter class), kept for code written against the old single module; it is
    :func:`vidstudio.backend.families.all_adapters`."""
    if name == "ADAPTERS":
        from vidstudio.backend.families import all_adapters

        return all_adapters()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
