"""Pipeline adapters: one per family, turning a conditioning bundle into one call of the right diffusers
pipeline.

Each adapter's :meth:`FamilyAdapter.plan` picks the pipeline class for the bundle (text-to-video,
video-to-video, SparseCtrl, LTX conditions, Wan I2V / VACE, ...), converts frames, keyframes, masks and
images to what that pipeline takes, computes the latent geometry, and says how the structured initial noise
(:mod:`vidstudio.backend.noise`) goes in:

- ``"latents"``: through the pipeline's ``latents=`` argument, where it is the initial noise;
- ``"hook"``: where ``latents=`` means something else (video-to-video pipelines take clean latents there;
  LTXConditionPipeline ignores it without ``denoise_strength``), the pipeline module's ``randn_tensor`` is
  replaced for the duration of the call and returns the structured noise for the first request of the
  initial-noise shape (:func:`substitute_initial_noise`).

What each family honours is declared in :mod:`vidstudio.backend.capabilities`; :func:`vidstudio.backend.
generate.generate` checks a bundle against it before an adapter sees it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from PIL import Image

from vidstudio.backend.bundle import Conditioning, ModelRef
from vidstudio.backend.capabilities import ANIMATEDIFF_WINDOW, DEFAULT_GUIDANCE, video_to_video_problem
from vidstudio.backend.loader import LoadedModel, apply_pipeline_offload, dtype_kwargs
from vidstudio.backend.locate import hf_offline
from vidstudio.errors import ModelError, NodeError


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


def video_frames(video: Any, count: int, width: int, height: int, notes: list[str], what: str = "guide video") -> list[Image.Image]:
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
    one denoising step (:func:`vidstudio.backend.capabilities.video_to_video_problem`).

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
    idx = np.clip(np.rint(np.linspace(0, m.shape[0] - 1, count)).astype(int), 0, m.shape[0] - 1) if m.shape[0] != count \
        else np.arange(count)
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
        return x[:, self.lead_frames:]


class FamilyAdapter:
    """Base of the per-family adapters.

    Args:
        loaded: the loaded model (base pipeline, device, dtype, load options).
        ref: the job's model reference (its extras, e.g. ``sparsectrl``, may differ from the one the cached
            pipeline was loaded for); default ``loaded.ref``.
        project_dir: folder that relative extra-model paths resolve against.
    """

    family = ""

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

    def guidance(self, bundle: Conditioning) -> float:
        """The bundle's guidance scale, or the family's default (:data:`DEFAULT_GUIDANCE`)."""
        return DEFAULT_GUIDANCE[self.family] if bundle.guidance_scale is None else float(bundle.guidance_scale)

    def _find_extra(self, spec: str, default_sub: str, what: str) -> str | None:
        if spec:
            p = Path(spec).expanduser()
            if not p.is_absolute() and self.project_dir is not None and (self.project_dir / p).exists():
                p = self.project_dir / p
            return str(p) if p.exists() else spec
        cand = self.loaded.location.folder / default_sub
        return str(cand) if cand.exists() else None


# --------------------------------------------------------------------------------------------- AnimateDiff
class AnimateDiffAdapter(FamilyAdapter):
    """AnimateDiff: AnimateDiffPipeline (text-to-video; FreeNoise for prompt schedules and long videos),
    AnimateDiffVideoToVideoPipeline (guide video), AnimateDiffSparseControlNetPipeline (RGB keyframes),
    IP-Adapter (style references)."""

    family = "animatediff"

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        base = L.pipe
        notes: list[str] = []
        cleanup: list[Callable[[], None]] = []
        kw: dict[str, Any] = {"negative_prompt": bundle.negative_prompt or None, "guidance_scale": self.guidance(bundle),
                              "num_inference_steps": bundle.steps, "height": height, "width": width}
        window = int(getattr(base.unet.config, "motion_max_seq_length", 32) or 32)
        schedule = {int(k): v for k, v in bundle.prompt_schedule.items() if v.strip()}
        if bundle.keyframes:
            if frames > window:
                raise NodeError(f"AnimateDiff with SparseCtrl keyframes makes at most {window} frames (the motion "
                                f"module's window), {frames} were asked; FreeNoise long videos do not work with "
                                "SparseCtrl")
            src = self._find_extra(self.ref.sparsectrl, "sparsectrl", "SparseCtrl")
            if src is None:
                raise ModelError("AnimateDiff keyframes need a SparseCtrl RGB model: set the Load Model node's "
                                 "'sparsectrl' (e.g. guoyww/animatediff-sparsectrl-rgb) or put one in "
                                 f"{L.location.folder / 'sparsectrl'}")
            cn = L.extras.get(("sparsectrl", src))
            if cn is None:
                from diffusers import SparseControlNetModel

                try:
                    cn = SparseControlNetModel.from_pretrained(src, **dtype_kwargs(L.dtype),
                                                               local_files_only=hf_offline()).to(L.device)
                except (OSError, ValueError) as e:
                    raise ModelError(f"SparseCtrl model {src} could not be loaded: {e}") from None
                L.extras[("sparsectrl", src)] = cn
            pipe = L.task_pipeline("AnimateDiffSparseControlNetPipeline", controlnet=cn)
            kfs = sorted(bundle.keyframes, key=lambda k: k.frame)
            kw.update(prompt=bundle.prompt, num_frames=frames,
                      conditioning_frames=[fit_image(k.image, width, height) for k in kfs],
                      controlnet_frame_indices=[k.frame for k in kfs], controlnet_conditioning_scale=1.0)
            noise_via = "latents"
        elif bundle.guide is not None:
            pipe = L.task_pipeline("AnimateDiffVideoToVideoPipeline")
            kw.update(prompt=bundle.prompt, video=video_frames(bundle.guide, frames, width, height, notes),
                      strength=video_to_video_strength(bundle))
            noise_via = "hook"
        else:
            pipe = L.task_pipeline("AnimateDiffPipeline")
            kw.update(prompt=bundle.prompt, num_frames=frames)
            noise_via = "latents"
        if not bundle.keyframes and (schedule or frames > window):
            ctx = min(ANIMATEDIFF_WINDOW, frames)
            pipe.enable_free_noise(context_length=ctx, context_stride=max(1, ctx // 4))
            cleanup.append(pipe.disable_free_noise)
            if schedule:
                prompts = {0: bundle.prompt}
                prompts.update({k: v for k, v in schedule.items() if k < frames})
                late = sorted(k for k in schedule if k >= frames)
                if late:
                    notes.append(f"prompt schedule: frame(s) {', '.join(map(str, late))} are beyond the {frames} "
                                 "frames generated and not used")
                kw["prompt"] = dict(sorted(prompts.items()))
                if kw["negative_prompt"] is None:
                    kw["negative_prompt"] = ""
            notes.append(f"FreeNoise: {ctx}-frame windows, stride {max(1, ctx // 4)}"
                         + (f", prompt schedule at frames {sorted(kw['prompt'])}" if schedule else ""))
        if bundle.style:
            self._ensure_ip_adapter(pipe)
            pipe.set_ip_adapter_scale(float(bundle.style_strength))
            kw["ip_adapter_image"] = [[to_pil(s) for s in bundle.style]]
        elif L.ip_adapter is not None:
            L.pipe.unload_ip_adapter()
            L.ip_adapter = None
        s = int(base.vae_scale_factor)
        C = int(base.unet.config.in_channels)
        return Plan(pipe, kw, (C, frames, height // s, width // s), 1, s, layout="BCTHW",
                    noise_layout="BTCHW" if noise_via == "hook" else "BCTHW", noise_via=noise_via, cleanup=cleanup,
                    notes=notes)

    def _ensure_ip_adapter(self, pipe: Any) -> None:
        L = self.loaded
        src = self._find_extra(self.ref.ip_adapter, "ip_adapter", "IP-Adapter")
        if src is not None and Path(src).is_dir():
            files = sorted(Path(src).glob("*.safetensors")) + sorted(Path(src).glob("*.bin"))
            src = str(files[0]) if files else None
        if src is None:
            raise ModelError("AnimateDiff style references need IP-Adapter weights: set the Load Model node's "
                             "'ip_adapter' (e.g. h94/IP-Adapter/models/ip-adapter_sd15.safetensors) or put them in "
                             f"{L.location.folder / 'ip_adapter'}")
        if L.ip_adapter != src:
            if L.ip_adapter is not None:
                L.pipe.unload_ip_adapter()
            p = Path(src)
            try:
                if p.is_file():
                    L.pipe.load_ip_adapter(str(p.parent), subfolder="", weight_name=p.name,
                                           image_encoder_folder="image_encoder")
                else:
                    parts = src.split("/")
                    if len(parts) < 3:
                        raise ModelError(f"IP-Adapter {src!r}: expected a local weights file or "
                                         "org/name/[subfolder/]file.safetensors")
                    L.pipe.load_ip_adapter("/".join(parts[:2]), subfolder="/".join(parts[2:-1]),
                                           weight_name=parts[-1], local_files_only=hf_offline())
            except (OSError, ValueError) as e:
                raise ModelError(f"IP-Adapter {src} could not be loaded: {e}") from None
            if L.pipe.image_encoder is not None:
                L.pipe.image_encoder.to(L.device, L.dtype)
            L.ip_adapter = src
        if pipe is not L.pipe:
            pipe.register_modules(image_encoder=L.pipe.image_encoder, feature_extractor=L.pipe.feature_extractor)
        if L.ref.offload in ("model", "sequential") and L.device != "cpu":
            apply_pipeline_offload(pipe, L.ref.offload, L.device)  # the image encoder joins the offload hooks


# --------------------------------------------------------------------------------------------- LTX-Video
class LTXAdapter(FamilyAdapter):
    """LTX-Video: LTXPipeline (text-to-video) and LTXConditionPipeline (keyframes and the guide video as
    ``LTXVideoCondition`` items at frame indices)."""

    family = "ltx"

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        notes: list[str] = []
        kw: dict[str, Any] = {"prompt": bundle.prompt, "negative_prompt": bundle.negative_prompt or None,
                              "guidance_scale": self.guidance(bundle), "num_inference_steps": bundle.steps,
                              "height": height, "width": width, "num_frames": frames,
                              "frame_rate": max(1, int(round(fps)))}
        if getattr(L.pipe.vae.config, "timestep_conditioning", False):
            kw.update(decode_timestep=0.05, decode_noise_scale=0.025)  # LTX-Video 0.9.1+ model card values
        if bundle.keyframes or bundle.guide is not None:
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition


            pipe = L.task_pipeline("LTXConditionPipeline")
            conds = []
            if bundle.guide is not None:
                tr = int(pipe.vae_temporal_compression_ratio)
                start = int(bundle.guide_start)
                n = min(frames - start, len(bundle.guide))
                n = ((n - 1) // tr) * tr + 1  # a video condition is k * ratio + 1 frames
                conds.append(LTXVideoCondition(video=video_frames(bundle.guide, n, width, height, notes),
                                               frame_index=start, strength=float(bundle.guide_strength)))
            for k in sorted(bundle.keyframes, key=lambda k: k.frame):
                conds.append(LTXVideoCondition(image=fit_image(k.image, width, height), frame_index=int(k.frame),
                                               strength=1.0))
            kw["conditions"] = conds
            noise_via, noise_layout = "hook", "BCTHW"
        else:
            pipe = L.task_pipeline("LTXPipeline")
            noise_via, noise_layout = "latents", "packed"
        tr, sr = int(pipe.vae_temporal_compression_ratio), int(pipe.vae_spatial_compression_ratio)
        C = int(pipe.transformer.config.in_channels)
        shape = (C, (frames - 1) // tr + 1, height // sr, width // sr)
        packing = (int(pipe.transformer_spatial_patch_size), int(pipe.transformer_temporal_patch_size))
        return Plan(pipe, kw, shape, tr, sr, layout="packed", noise_layout=noise_layout, noise_via=noise_via,
                    notes=notes, packing=packing)


# --------------------------------------------------------------------------------------------- Wan
class WanAdapter(FamilyAdapter):
    """Wan 2.1 / 2.2: WanPipeline (text-to-video), WanVideoToVideoPipeline (guide video),
    WanImageToVideoPipeline (first frame, first and last frame), WanVACEPipeline (keyframes at any frame,
    control video, masks, reference images)."""

    family = "wan"

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        notes: list[str] = []
        kw: dict[str, Any] = {"prompt": bundle.prompt, "negative_prompt": bundle.negative_prompt or None,
                              "guidance_scale": self.guidance(bundle), "num_inference_steps": bundle.steps,
                              "height": height, "width": width}
        variant = L.variant
        lead = 0
        if variant == "vace":
            pipe = L.task_pipeline("WanVACEPipeline")
            kw["num_frames"] = frames
            video = mask = None
            if bundle.guide is not None or bundle.keyframes or bundle.masks is not None:
                video = [np.full((height, width, 3), 0.5, np.float32) for _ in range(frames)]  # gray: no control
                if bundle.guide is not None:
                    start = int(bundle.guide_start)
                    n = min(frames - start, len(bundle.guide))
                    for i, f in enumerate(video_frames(bundle.guide, n, width, height, notes)):
                        video[start + i] = np.asarray(f, np.float32) / 255.0
                m = np.ones((frames, height, width), np.float32)
                if bundle.masks is not None:
                    m = resample_masks(bundle.masks, frames, width, height)
                elif bundle.guide is not None and bundle.boxes is not None and bundle.boxes_as_mask:
                    m = rasterize_boxes(bundle.boxes, frames, width, height, (width, height))
                    notes.append("VACE mask from the boxes: inside them is generated, the rest follows the guide video")
                for k in bundle.keyframes:
                    video[k.frame] = np.asarray(fit_image(k.image, width, height), np.float32) / 255.0
                    m[k.frame] = 0.0
                video = [Image.fromarray((np.clip(f, 0, 1) * 255 + 0.5).astype(np.uint8)) for f in video]
                mask = [Image.fromarray((m[i] * 255 + 0.5).astype(np.uint8), "L") for i in range(frames)]
                kw["conditioning_scale"] = float(bundle.guide_strength) if bundle.guide is not None else 1.0
            kw["video"], kw["mask"] = video, mask
            if bundle.style:
                kw["reference_images"] = [to_pil(s) for s in bundle.style]
                lead = len(bundle.style)
            noise_via = "latents"
        elif variant == "i2v":
            pipe = L.task_pipeline("WanImageToVideoPipeline")
            kfs = {k.frame: k for k in bundle.keyframes}
            kw.update(num_frames=frames, image=fit_image(kfs[0].image, width, height))
            if frames - 1 in kfs and frames > 1:
                tcfg = pipe.transformer.config if pipe.transformer is not None else pipe.transformer_2.config
                if getattr(pipe, "image_encoder", None) is not None and tcfg.get("pos_embed_seq_len") is None:
                    raise ModelError("this Wan image-to-video checkpoint takes a first frame only; a last frame too "
                                     "needs a first-and-last-frame checkpoint (e.g. "
                                     "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers) or a VACE one")
                kw["last_image"] = fit_image(kfs[frames - 1].image, width, height)
            noise_via = "latents"
        elif bundle.guide is not None:
            pipe = L.task_pipeline("WanVideoToVideoPipeline")
            kw.update(video=video_frames(bundle.guide, frames, width, height, notes),
                      strength=video_to_video_strength(bundle))
            noise_via = "hook"
        else:
            pipe = L.task_pipeline("WanPipeline")
            kw["num_frames"] = frames
            noise_via = "latents"
        tr, sr = int(pipe.vae_scale_factor_temporal), int(pipe.vae_scale_factor_spatial)
        C = int(pipe.vae.config.z_dim)
        return Plan(pipe, kw, (C, (frames - 1) // tr + 1, height // sr, width // sr), tr, sr, layout="BCTHW",
                    lead_frames=lead, noise_via=noise_via, notes=notes)


# --------------------------------------------------------------------------------------------- SVD
class SVDAdapter(FamilyAdapter):
    """Stable Video Diffusion: StableVideoDiffusionPipeline (image-to-video) with motion bucket id, fps and
    noise augmentation."""

    family = "svd"

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        pipe = L.task_pipeline("StableVideoDiffusionPipeline")
        kf0 = next(k for k in bundle.keyframes if k.frame == 0)
        motion = 0.5 if bundle.motion_strength is None else float(bundle.motion_strength)
        kw = {"image": fit_image(kf0.image, width, height), "height": height, "width": width, "num_frames": frames,
              "num_inference_steps": bundle.steps, "min_guidance_scale": 1.0,
              "max_guidance_scale": self.guidance(bundle), "fps": max(2, int(round(fps))),
              "motion_bucket_id": int(round(254 * motion)),
              "noise_aug_strength": 0.02 if bundle.noise_aug is None else float(bundle.noise_aug),
              "decode_chunk_size": min(frames, 8)}
        s = int(pipe.vae_scale_factor)
        C = int(pipe.unet.config.in_channels) // 2
        return Plan(pipe, kw, (C, frames, height // s, width // s), 1, s, layout="BTCHW", noise_via="latents")


# --------------------------------------------------------------------------------------------- CogVideoX
class CogVideoXAdapter(FamilyAdapter):
    """CogVideoX: CogVideoXPipeline (text-to-video), CogVideoXImageToVideoPipeline (first frame, on an i2v
    checkpoint), CogVideoXVideoToVideoPipeline (guide video, on a t2v checkpoint)."""

    family = "cogvideox"

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        notes: list[str] = []
        kw: dict[str, Any] = {"prompt": bundle.prompt, "negative_prompt": bundle.negative_prompt or None,
                              "guidance_scale": self.guidance(bundle), "num_inference_steps": bundle.steps,
                              "height": height, "width": width,
                              "max_sequence_length": int(L.pipe.transformer.config.max_text_seq_length)}
        if L.variant == "i2v":
            pipe = L.task_pipeline("CogVideoXImageToVideoPipeline")
            kf0 = next(k for k in bundle.keyframes if k.frame == 0)
            kw.update(image=fit_image(kf0.image, width, height), num_frames=frames)
            noise_via = "latents"
        elif bundle.guide is not None:
            pipe = L.task_pipeline("CogVideoXVideoToVideoPipeline")
            kw.update(video=video_frames(bundle.guide, frames, width, height, notes),
                      strength=video_to_video_strength(bundle))
            noise_via = "hook"
        else:
            pipe = L.task_pipeline("CogVideoXPipeline")
            kw["num_frames"] = frames
            noise_via = "latents"
        tr, sr = int(pipe.vae_scale_factor_temporal), int(pipe.vae_scale_factor_spatial)
        C = int(pipe.vae.config.latent_channels)
        t_lat = (frames - 1) // tr + 1
        lead = 0
        pt = pipe.transformer.config.get("patch_size_t")
        if pt and noise_via == "latents" and t_lat % pt:
            lead = pt - t_lat % pt  # CogVideoX 1.5 pads latent frames at the front
        return Plan(pipe, kw, (C, t_lat, height // sr, width // sr), tr, sr, layout="BTCHW", lead_frames=lead,
                    noise_via=noise_via, notes=notes)


ADAPTERS: dict[str, type[FamilyAdapter]] = {
    "animatediff": AnimateDiffAdapter, "ltx": LTXAdapter, "wan": WanAdapter, "svd": SVDAdapter,
    "cogvideox": CogVideoXAdapter,
}
