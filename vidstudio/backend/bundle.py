"""The values that flow between the generation nodes: a model reference (MODEL port) and the conditioning
bundle (CONDITIONING port). Torch-free: nodes build them, the backend consumes them.

A :class:`ModelRef` names a model and how to load it; nothing is loaded until a Generate node runs.
A :class:`Conditioning` holds everything a generation is asked to follow: prompts, keyframes at frame
indices, a guide video and its strength, masks, boxes along trajectories, a camera move, style references,
SVD motion, seed, steps and guidance scale. :meth:`Conditioning.controls` says which controls of the
capability table (:mod:`vidstudio.families`) it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from vidstudio.families import Request

DTYPES = ("auto", "bf16", "fp16", "fp32")
DEVICES = ("auto", "cuda", "mps", "cpu")
OFFLOAD = ("none", "model", "group", "sequential")
#: Which expert of a two-expert (Wan 2.2 A14B) checkpoint a LoRA goes into.
LORA_EXPERTS = ("both", "high", "low")
#: Weight quantisation of the transformer / text encoder (:mod:`vidstudio.backend.quant`).
QUANTIZE = ("none", "fp8_layerwise", "int8_torchao", "fp8_torchao", "nf4_bnb")
#: Step caching of the transformer (:mod:`vidstudio.backend.speed`).
STEP_CACHES = ("none", "first_block", "mag", "taylorseer")
#: Attention backends (diffusers ``set_attention_backend``).
ATTENTION = ("native", "flash", "sage", "xformers")
#: The initial-noise modes of :attr:`Conditioning.initial_noise` (the first is the default).
INITIAL_NOISE = ("trajectory", "iid", "warped")


@dataclass(frozen=True)
class LoraRef:
    """One LoRA applied to a model for a job (made by the Load LoRA node; several chain).

    Attributes:
        source: a ``.safetensors`` file (diffusers, ComfyUI/original or musubi key layout) or a Hugging Face repo
            id (or a local folder) holding one, named by ``weight_name``.
        weight_name: the file inside ``source`` when it is a repo id or folder ("" for the loader's default).
        strength: the adapter weight (``set_adapters``); 0 leaves the model as it is, 1 is the LoRA as trained.
        expert: on a two-expert Wan 2.2 checkpoint: ``both``, ``high`` (``transformer``) or ``low``
            (``transformer_2``); ignored (noted) on one-expert models.
        preset_steps: a step-distilled LoRA's step count (e.g. 4 for LightX2V); 0 for none.
        preset_guidance: its guidance scale (e.g. 1.0); None for none.
    """

    source: str
    weight_name: str = ""
    strength: float = 1.0
    expert: str = "both"
    preset_steps: int = 0
    preset_guidance: float | None = None


@dataclass(frozen=True)
class ModelRef:
    """A reference to a generation model: which, and how to load it (the MODEL port's value).

    Attributes:
        family: a family id (``animatediff``, ``ltx``, ``wan``, ``svd``, ``cogvideox``) or ``auto`` (read from
            the pipeline class in the folder's ``model_index.json``).
        model: a local diffusers pipeline folder (absolute path) or a Hugging Face repo id (``org/name``),
            looked up in the Hugging Face cache (``HF_HUB_OFFLINE=1`` honoured).
        revision: a git revision of a Hub repo ("" for the default branch).
        weights_variant: a weights file variant such as ``fp16`` ("" for the default files).
        dtype: ``auto`` (bf16 on CUDA with bf16 support, else fp16 on CUDA/MPS, fp32 on CPU), ``bf16``,
            ``fp16`` or ``fp32``.
        device: ``auto`` (cuda, else mps, else cpu), ``cuda``, ``mps`` or ``cpu``.
        offload: ``none``, ``model`` (model CPU offload), ``group`` (group offload, block level) or
            ``sequential`` (sequential CPU offload); ignored on CPU.
        vae_tiling, vae_slicing: decode the VAE in tiles / one frame batch at a time (less memory).
        compile: ``torch.compile`` the transformer or UNet (regional compilation where diffusers offers it).
        sparsectrl: AnimateDiff SparseCtrl RGB model (folder or repo id); "" looks for ``<model>/sparsectrl``.
        ip_adapter: AnimateDiff IP-Adapter weights: a local ``.safetensors``/``.bin`` file (image encoder in an
            ``image_encoder`` folder beside it) or ``org/name/subfolder/file``; "" looks for
            ``<model>/ip_adapter/*.safetensors``.
        motion_adapter: AnimateDiff motion adapter (folder or repo id) for a Stable Diffusion 1.5 base model.
        preview_decoder: a tiny autoencoder for step previews: a local TAESD folder (diffusers
            ``AutoencoderTiny``) or a TAEHV weights file (``.pth``/``.safetensors``, needs the ``taehv`` module);
            "" uses the family's linear latent-to-RGB factors.
        latent_upsampler: LTX-Video's optional second stage: a local ``LTXLatentUpsamplePipeline`` folder (or the
            ``LTXLatentUpsamplerModel`` folder inside it) or a repo id; "" for none. See
            :class:`vidstudio.backend.families.ltx.LTXAdapter`.
        loras: the :class:`LoraRef` chain applied for each job (not part of the loaded-pipeline cache key).
        base_model: when ``model`` is a single transformer/UNet file (``.safetensors`` or ``.gguf``), the
            diffusers pipeline (folder or repo id) the other components come from.
        vae_file, text_encoder_file: optional single files replacing the base pipeline's VAE / text encoder.
        quantize, quantize_text_encoder: weight quantisation of the transformer and of the text encoder, one of
            :data:`QUANTIZE` (:mod:`vidstudio.backend.quant`).
        step_cache: step caching of the transformer, one of :data:`STEP_CACHES`; cache_threshold: its threshold
            (0: the method's default).
        attention: the attention backend, one of :data:`ATTENTION`.
    """

    family: str = "auto"
    model: str = ""
    revision: str = ""
    weights_variant: str = ""
    dtype: str = "auto"
    device: str = "auto"
    offload: str = "none"
    vae_tiling: bool = False
    vae_slicing: bool = False
    compile: bool = False
    sparsectrl: str = ""
    ip_adapter: str = ""
    motion_adapter: str = ""
    preview_decoder: str = ""
    latent_upsampler: str = ""
    loras: tuple[LoraRef, ...] = ()
    base_model: str = ""
    vae_file: str = ""
    text_encoder_file: str = ""
    quantize: str = "none"
    quantize_text_encoder: str = "none"
    step_cache: str = "none"
    cache_threshold: float = 0.0
    attention: str = "native"

    def with_(self, **changes: Any) -> ModelRef:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready fields (for ``vidstudio eval``)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["loras"] = [dict(vars(lora)) for lora in self.loras]
        return out


@dataclass(frozen=True)
class Keyframe:
    """An RGB image pinned to a frame.

    Attributes:
        frame: the project frame index (0-based).
        image: ``(H, W, 3)`` float32 in [0, 1] (any size: the backend fits it to the output, ``cover``).
    """

    frame: int
    image: np.ndarray


@dataclass
class Conditioning:
    """The conditioning bundle (the CONDITIONING port's value).

    Attributes:
        prompt: the text prompt ("" for none).
        prompt_schedule: ``{frame: text}`` prompts that take over at given frames (the prompt is frame 0's
            when the schedule has no 0); empty for none.
        negative_prompt: what to avoid ("" for none).
        keyframes: :class:`Keyframe` list (frame 0 = image-to-video).
        guide: the guide video, a :class:`vidstudio.media.Clip` or ``(T, H, W, 3)`` float32 array, or None.
        guide_start: the project frame where the guide video's first frame goes (LTX and Wan VACE take any;
            video-to-video pipelines need 0).
        guide_strength: how strongly the guide video is followed, 0..1 (video-to-video: the denoising
            strength is ``guide_strength``; LTX: the condition strength; VACE: the conditioning scale).
        masks: ``(T, H, W)`` float32 in [0, 1]: 1 is generated, 0 kept from the guide video (VACE); or None.
        boxes: ``(T, N, 4)`` float64 ``(x0, y0, x1, y1)`` pixel boxes of N objects, NaN where not visible;
            or None. They drive the trajectory-aware noise (and VACE masks, see :attr:`boxes_as_mask`).
        boxes_as_mask: on Wan VACE with a guide video and no masks, use the boxes as the VACE mask.
        trajectory_noise: share of noise variance carried along trajectories and camera moves, 0..1
            (see :func:`vidstudio.backend.noise.structured_noise`).
        initial_noise: how the initial noise is made, one of :data:`INITIAL_NOISE`: ``trajectory`` (the
            trajectory/camera-aware noise where there are boxes or a camera, else the pipeline's own draw),
            ``iid`` (the pipeline's own i.i.d. draw, boxes and camera not used for the noise) or ``warped``
            (Go-with-the-Flow noise warped along :attr:`flow`, meant for the Go-with-the-Flow LoRAs of
            CogVideoX; :func:`vidstudio.motion.warped_noise.warped_noise`).
        flow: ``(T - 1, H, W, 2)`` float32 forward flow in project pixels (the Motion Flow node's), or None;
            read by the ``warped`` initial noise.
        noise_degradation: the ``warped`` noise's share of fresh noise, 0..1 (Go-with-the-Flow's degradation;
            default 0.5).
        camera: ``(T, 3, 3)`` float64 world-to-frame affines, or None.
        style: reference images ``(H, W, 3)`` float32 (style / identity).
        style_strength: 0..1 (AnimateDiff IP-Adapter scale).
        motion_strength: SVD motion, 0..1 (motion bucket id ``round(254 * s)``); None: the model's default.
        noise_aug: SVD noise augmentation strength; None: the default 0.02.
        seed: the random seed (>= 0).
        steps: denoising steps; None: the checkpoint's default (a distilled checkpoint's few steps) or the
            family's (:meth:`vidstudio.families.FamilySpec.default_steps_for`), noted in the run report.
        guidance_scale: classifier-free guidance scale; None: the checkpoint's default (distilled: 1) or the
            family's, noted in the run report.
        guidance_scale_2: on a two-expert checkpoint (Wan 2.2 A14B), the guidance scale of the low-noise
            expert (diffusers ``guidance_scale_2``); None: the checkpoint's default; ignored (noted) elsewhere.
        boundary_ratio: on a two-expert checkpoint, the fraction of the training timesteps above which the
            high-noise expert runs (the pipeline's ``boundary_ratio``, 0.875 T2V / 0.9 I2V); None: the checkpoint's.
        motion: the motion signal for Time-to-Move (normally the animatic), a Clip or ``(T, H, W, 3)`` float32
            array in [0, 1], or None (see :mod:`vidstudio.backend.ttm`).
        motion_mask: ``(T, H, W)`` float32 in [0, 1]: where the motion signal moves (1; binarised at 0.5), or
            None for the whole frame.
        motion_kind: ``object`` (the mask's objects follow the motion signal) or ``camera`` (the whole frame).
        t_weak, t_strong: Time-to-Move's two step indices (whole numbers) or fractions of the schedule (strictly
            between 0 and 1); None: the family's published value for :attr:`motion_kind`
            (:func:`vidstudio.families._motion_transfer.resolve_steps`).
    """

    prompt: str = ""
    prompt_schedule: dict[int, str] = field(default_factory=dict)
    negative_prompt: str = ""
    keyframes: list[Keyframe] = field(default_factory=list)
    guide: Any = None
    guide_start: int = 0
    guide_strength: float = 0.6
    masks: np.ndarray | None = None
    boxes: np.ndarray | None = None
    boxes_as_mask: bool = True
    trajectory_noise: float = 0.5
    initial_noise: str = "trajectory"
    flow: np.ndarray | None = None
    noise_degradation: float = 0.5
    camera: np.ndarray | None = None
    style: list[np.ndarray] = field(default_factory=list)
    style_strength: float = 0.6
    motion_strength: float | None = None
    noise_aug: float | None = None
    seed: int = 0
    steps: int | None = None
    guidance_scale: float | None = None
    guidance_scale_2: float | None = None
    boundary_ratio: float | None = None
    motion: Any = None
    motion_mask: np.ndarray | None = None
    motion_kind: str = "object"
    t_weak: float | None = None
    t_strong: float | None = None

    def controls(self) -> set[str]:
        """The capability-table controls this bundle asks for."""
        c: set[str] = set()
        if self.prompt.strip():
            c.add("text")
        if any(t.strip() for f, t in self.prompt_schedule.items() if f != 0):
            c.add("prompt_schedule")
        if self.negative_prompt.strip():
            c.add("negative_prompt")
        if self.keyframes:
            c.add("keyframes")
        if self.guide is not None:
            c.add("guide_video")
        if self.masks is not None:
            c.add("mask")
        if self.boxes is not None and np.isfinite(self.boxes).any():
            c.add("trajectories")
        if self.camera is not None:
            c.add("camera")
        if self.style:
            c.add("style")
        if self.motion_strength is not None:
            c.add("motion_strength")
        if self.noise_aug is not None:
            c.add("noise_aug")
        if self.motion is not None:
            c.add("motion_signal")
        return c

    def request(self, width: int, height: int, frames: int) -> Request:
        """The :class:`~vidstudio.families.Request` for the capability check."""
        return Request(
            controls=self.controls(),
            keyframe_frames=[k.frame for k in self.keyframes],
            guide_start=int(self.guide_start),
            width=width,
            height=height,
            frames=frames,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (shapes instead of pixels), for ``vidstudio eval``."""

        def shape(a: Any) -> Any:
            return None if a is None else list(np.shape(a)) if not hasattr(a, "shape") else list(a.shape)

        return {
            "prompt": self.prompt,
            "prompt_schedule": {str(k): v for k, v in sorted(self.prompt_schedule.items())},
            "negative_prompt": self.negative_prompt,
            "keyframes": [{"frame": k.frame, "shape": list(k.image.shape)} for k in self.keyframes],
            "guide": shape(self.guide),
            "guide_start": self.guide_start,
            "guide_strength": self.guide_strength,
            "masks": shape(self.masks),
            "boxes": shape(self.boxes),
            "trajectory_noise": self.trajectory_noise,
            "initial_noise": self.initial_noise,
            "flow": shape(self.flow),
            "noise_degradation": self.noise_degradation,
            "camera": shape(self.camera),
            "style": [list(s.shape) for s in self.style],
            "style_strength": self.style_strength,
            "motion_strength": self.motion_strength,
            "noise_aug": self.noise_aug,
            "seed": self.seed,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "guidance_scale_2": self.guidance_scale_2,
            "boundary_ratio": self.boundary_ratio,
            "motion": shape(self.motion),
            "motion_mask": shape(self.motion_mask),
            "motion_kind": self.motion_kind,
            "t_weak": self.t_weak,
            "t_strong": self.t_strong,
            "controls": sorted(self.controls()),
        }
