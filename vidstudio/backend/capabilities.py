"""The capability table, the family ids and the frame and size rules: what each model family honours.

Torch-free on purpose: graph validation, ``vidstudio nodes --json``, the GUI and the server read it without
loading torch. The generation adapters (:mod:`vidstudio.backend.adapters`) implement exactly what is declared
here, and a test holds the two together.

Vocabulary:

- a **family** (:data:`FAMILIES`) is a kind of model: ``animatediff``, ``ltx``, ``wan``, ``svd``,
  ``cogvideox`` (the ids used in project files, ``--family`` and ``vidstudio dev tiny-model``);
- a **variant** is the kind of checkpoint inside a family, read from the pipeline class in the model
  folder's ``model_index.json`` (:data:`PIPELINE_CLASSES`): Wan ships text-to-video (``t2v``),
  image-to-video (``i2v``, also first-and-last frame) and ``vace`` checkpoints; CogVideoX ``t2v`` and ``i2v``;
- a **control** (:data:`CONTROLS`) is one part of the conditioning bundle a user can ask for.

Asking a family for a control it cannot honour is a validation error before any model loads; the message
names the control and the families that can (:func:`check_request`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from vidstudio.backend.motion_transfer import REFUSED

#: The model families, in palette order.
FAMILIES: tuple[str, ...] = ("animatediff", "ltx", "wan", "svd", "cogvideox")

#: Human names of the families.
FAMILY_TITLES: dict[str, str] = {
    "animatediff": "AnimateDiff (Stable Diffusion 1.5 + motion module)",
    "ltx": "LTX-Video",
    "wan": "Wan 2.1 / 2.2",
    "svd": "Stable Video Diffusion",
    "cogvideox": "CogVideoX",
}

#: Checkpoint variants per family; the first is what ``vidstudio dev tiny-model`` writes by default.
VARIANTS: dict[str, tuple[str, ...]] = {
    "animatediff": ("t2v",),
    "ltx": ("t2v",),
    "wan": ("t2v", "i2v", "vace"),
    "svd": ("i2v",),
    "cogvideox": ("t2v", "i2v"),
}

#: ``model_index.json`` ``_class_name`` -> (family, variant). ``StableDiffusionPipeline`` is a base model that
#: becomes AnimateDiff with a motion adapter (Load Model's ``motion_adapter``).
PIPELINE_CLASSES: dict[str, tuple[str, str]] = {
    "AnimateDiffPipeline": ("animatediff", "t2v"),
    "AnimateDiffSparseControlNetPipeline": ("animatediff", "t2v"),
    "AnimateDiffVideoToVideoPipeline": ("animatediff", "t2v"),
    "StableDiffusionPipeline": ("animatediff", "sd15"),
    "LTXPipeline": ("ltx", "t2v"),
    "LTXImageToVideoPipeline": ("ltx", "t2v"),
    "LTXConditionPipeline": ("ltx", "t2v"),
    "WanPipeline": ("wan", "t2v"),
    "WanVideoToVideoPipeline": ("wan", "t2v"),
    "WanImageToVideoPipeline": ("wan", "i2v"),
    "WanVACEPipeline": ("wan", "vace"),
    "StableVideoDiffusionPipeline": ("svd", "i2v"),
    "CogVideoXPipeline": ("cogvideox", "t2v"),
    "CogVideoXVideoToVideoPipeline": ("cogvideox", "t2v"),
    "CogVideoXImageToVideoPipeline": ("cogvideox", "i2v"),
}

#: Example checkpoints per (family, variant), named in messages that ask for another checkpoint.
EXAMPLE_MODELS: dict[tuple[str, str], str] = {
    ("animatediff", "t2v"): "guoyww/animatediff-motion-adapter-v1-5-3 on a Stable Diffusion 1.5 model",
    ("ltx", "t2v"): "Lightricks/LTX-Video",
    ("wan", "t2v"): "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
    ("wan", "i2v"): "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
    ("wan", "vace"): "Wan-AI/Wan2.1-VACE-1.3B-diffusers",
    ("svd", "i2v"): "stabilityai/stable-video-diffusion-img2vid-xt",
    ("cogvideox", "t2v"): "THUDM/CogVideoX-2b",
    ("cogvideox", "i2v"): "THUDM/CogVideoX-5b-I2V",
}

#: The controls of the conditioning bundle: id -> what it is.
CONTROLS: dict[str, str] = {
    "text": "a text prompt",
    "prompt_schedule": "prompts that change at given frames",
    "negative_prompt": "a negative prompt",
    "keyframes": "RGB keyframe images pinned to frame indices (an image at frame 0 is image-to-video)",
    "guide_video": "a guide video (e.g. the animatic) followed with a strength",
    "mask": "per-frame masks: white is generated, black is kept from the guide video",
    "trajectories": "object boxes along trajectories, through trajectory-aware initial noise",
    "camera": "a camera move, through camera-warped initial noise",
    "style": "style / identity reference images with a strength",
    "motion_strength": "how much motion (SVD motion bucket id)",
    "noise_aug": "noise added to the conditioning image (SVD noise augmentation)",
    "motion_signal": "a motion signal video (the animatic) and its mask, through Time-to-Move dual-clock denoising",
}


@dataclass(frozen=True)
class Support:
    """How a family honours one control.

    Attributes:
        how: the mechanism, in words (the diffusers class or argument).
        variants: the checkpoint variants that honour it (empty: every variant of the family).
        frames: for ``keyframes``: ``"any"``, ``"first"`` (frame 0 only) or ``"first_last"``
            (frame 0 and the last frame); for ``guide_video``: where the guide may start, ``"first"`` (frame 0)
            or ``"any"``; per variant in :attr:`variant_frames`.
        variant_frames: ``{variant: frames}`` overriding :attr:`frames`.
        needs: what must be configured besides the checkpoint (e.g. a SparseCtrl model), in words.
    """

    how: str
    variants: tuple[str, ...] = ()
    frames: str = "any"
    variant_frames: dict[str, str] = field(default_factory=dict)
    needs: str = ""

    def frames_for(self, variant: str | None) -> str:
        """The keyframe positions honoured by ``variant`` (the most permissive when None)."""
        if variant is not None and variant in self.variant_frames:
            return self.variant_frames[variant]
        if variant is None and self.variant_frames:
            order = ["first", "first_last", "any"]
            return max([self.frames, *self.variant_frames.values()], key=order.index)
        return self.frames


#: family -> control -> :class:`Support`. A control missing for a family is not honoured by it.
CAPABILITIES: dict[str, dict[str, Support]] = {
    "animatediff": {
        "text": Support("AnimateDiffPipeline prompt"),
        "prompt_schedule": Support("FreeNoise (enable_free_noise) with a {frame: prompt} dict"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support("AnimateDiffSparseControlNetPipeline conditioning_frames + controlnet_frame_indices",
                             needs="a SparseCtrl RGB model (Load Model 'sparsectrl', or a 'sparsectrl' folder in the "
                                   "model folder), e.g. guoyww/animatediff-sparsectrl-rgb"),
        "guide_video": Support("AnimateDiffVideoToVideoPipeline video + strength", frames="first"),
        "trajectories": Support("trajectory-aware initial noise (latents)"),
        "camera": Support("camera-warped initial noise (latents)"),
        "style": Support("IP-Adapter (ip_adapter_image, set_ip_adapter_scale)",
                         needs="IP-Adapter weights (Load Model 'ip_adapter', or an 'ip_adapter' folder in the model "
                               "folder), e.g. h94/IP-Adapter/models/ip-adapter_sd15.safetensors"),
    },
    "ltx": {
        "text": Support("LTXPipeline / LTXConditionPipeline prompt"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support("LTXConditionPipeline LTXVideoCondition(image, frame_index)"),
        "guide_video": Support("LTXConditionPipeline LTXVideoCondition(video, frame_index=guide start, strength)"),
        "trajectories": Support("trajectory-aware initial noise"),
        "camera": Support("camera-warped initial noise"),
    },
    "wan": {
        "text": Support("WanPipeline / WanVACEPipeline prompt (an i2v checkpoint needs a keyframe at frame 0 too)"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support("WanImageToVideoPipeline image (+ last_image), or WanVACEPipeline frames with a mask",
                             variants=("i2v", "vace"), frames="first_last",
                             variant_frames={"i2v": "first_last", "vace": "any"}),
        "guide_video": Support("WanVideoToVideoPipeline video + strength, or WanVACEPipeline control video "
                               "(conditioning_scale = strength)", variants=("t2v", "vace"),
                               frames="first", variant_frames={"t2v": "first", "vace": "any"}),
        "mask": Support("WanVACEPipeline mask (needs a guide video)", variants=("vace",)),
        "trajectories": Support("trajectory-aware initial noise; on VACE with a guide video also the boxes as mask"),
        "camera": Support("camera-warped initial noise"),
        "style": Support("WanVACEPipeline reference_images (strength fixed by VACE)", variants=("vace",)),
        "motion_signal": Support("Time-to-Move on WanImageToVideoPipeline (vidstudio.backend.ttm)", variants=("i2v",)),
    },
    "svd": {
        "keyframes": Support("StableVideoDiffusionPipeline image", frames="first"),
        "trajectories": Support("trajectory-aware initial noise (latents)"),
        "camera": Support("camera-warped initial noise (latents)"),
        "motion_strength": Support("motion_bucket_id = round(254 * strength)"),
        "noise_aug": Support("noise_aug_strength"),
        "motion_signal": Support("Time-to-Move on StableVideoDiffusionPipeline (vidstudio.backend.ttm)"),
    },
    "cogvideox": {
        "text": Support("CogVideoXPipeline prompt (an i2v checkpoint needs a keyframe at frame 0 too)"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support("CogVideoXImageToVideoPipeline image", variants=("i2v",), frames="first"),
        "guide_video": Support("CogVideoXVideoToVideoPipeline video + strength", variants=("t2v",), frames="first"),
        "trajectories": Support("trajectory-aware initial noise (latents)"),
        "camera": Support("camera-warped initial noise (latents)"),
        "motion_signal": Support("Time-to-Move on CogVideoXImageToVideoPipeline (vidstudio.backend.ttm)",
                                 variants=("i2v",)),
    },
}

#: Controls a family (or variant) cannot do without. ``keyframe0``: an image at frame 0.
REQUIRED: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("svd", None): ("keyframe0",),
    ("wan", "i2v"): ("keyframe0",),
    ("cogvideox", "i2v"): ("keyframe0",),
}

#: Pairs of controls a family cannot combine, with the reason.
EXCLUSIVE: dict[str, list[tuple[str, str, str]]] = {
    "animatediff": [
        ("keyframes", "guide_video", "SparseCtrl keyframes and video-to-video are different pipelines"),
        ("keyframes", "prompt_schedule", "FreeNoise prompt schedules do not work with SparseCtrl"),
    ],
}

#: Default guidance scale and steps per family (what the model cards use).
DEFAULT_GUIDANCE: dict[str, float] = {"animatediff": 7.5, "ltx": 3.0, "wan": 5.0, "svd": 3.0, "cogvideox": 6.0}

#: Frames the AnimateDiff motion module sees at once; longer clips go through FreeNoise windows.
ANIMATEDIFF_WINDOW = 16
#: The AnimateDiff motion module's longest sequence (``motion_max_seq_length``); SparseCtrl keyframes cannot go
#: through FreeNoise, so a clip with keyframes is at most this long.
ANIMATEDIFF_MAX_FRAMES = 32


# ------------------------------------------------------------------------------------------ frame/size rules
@dataclass(frozen=True)
class GeometryRule:
    """Frame-count and size rules of a model.

    Attributes:
        frame_step: valid frame counts are ``frame_step * k + 1`` (1: any count).
        exact_frames: the only valid frame count (SVD: the UNet's ``num_frames``), or None.
        side_multiple: width and height must be multiples of this (pixels).
        source: where the numbers come from (``"family defaults"`` or the config files read).
        frames_text: the frame rule in words when the numbers cannot say it (SVD before its config is read).
        exact_size: ``(width, height)`` when the model makes only that size (CogVideoX-5b-I2V's learned
            positional embeddings), else None.
    """

    frame_step: int = 1
    exact_frames: int | None = None
    side_multiple: int = 8
    source: str = "family defaults"
    frames_text: str = ""
    exact_size: tuple[int, int] | None = None

    def frames_ok(self, n: int) -> bool:
        """True when ``n`` frames are valid."""
        if self.exact_frames is not None:
            return n == self.exact_frames
        return n >= 1 and (n - 1) % self.frame_step == 0

    def snap_frames(self, n: int) -> int:
        """The valid frame count nearest to ``n`` (ties go up)."""
        if self.exact_frames is not None:
            return self.exact_frames
        if self.frame_step <= 1:
            return max(1, n)
        k = (n - 1) / self.frame_step
        lo, hi = math.floor(k), math.ceil(k)
        lo_n, hi_n = lo * self.frame_step + 1, hi * self.frame_step + 1
        if lo_n < 1 + self.frame_step:  # keep at least one latent step of motion
            return 1 + self.frame_step if n > 1 else 1
        return lo_n if (n - lo_n) < (hi_n - n) else hi_n

    def snap_side(self, x: int) -> int:
        """The multiple of :attr:`side_multiple` nearest to ``x`` (at least one multiple; ties go up)."""
        m = self.side_multiple
        lo = (x // m) * m
        hi = lo + m
        if lo < m:
            return m
        return lo if (x - lo) < (hi - x) else hi

    def frames_rule(self) -> str:
        """The frame rule in words, with examples."""
        if self.exact_frames is not None:
            return f"exactly {self.exact_frames} frames (the UNet's num_frames)"
        if self.frames_text:
            return self.frames_text
        if self.frame_step <= 1:
            return "any number of frames"
        s = self.frame_step
        return f"{s}k+1 frames ({', '.join(str(s * k + 1) for k in range(1, 5))}, ...)"

    def describe(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"frames": self.frames_rule(), "frame_step": self.frame_step, "exact_frames": self.exact_frames,
                "side_multiple": self.side_multiple, "exact_size": self.exact_size, "source": self.source}


#: The rules of each family's published checkpoints (refined from a model folder's configs by
#: :func:`rules_for_folder`). SVD's frame count depends on the checkpoint (14 or 25) and is only known
#: from its config.
FAMILY_RULES: dict[str, GeometryRule] = {
    "animatediff": GeometryRule(frame_step=1, side_multiple=8),
    "ltx": GeometryRule(frame_step=8, side_multiple=32),
    "wan": GeometryRule(frame_step=4, side_multiple=16),
    "svd": GeometryRule(frame_step=1, side_multiple=8,
                        frames_text="the UNet's num_frames (14 for SVD, 25 for SVD-XT)"),
    "cogvideox": GeometryRule(frame_step=4, side_multiple=16),
}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


def rules_for_folder(folder: str | Path, family: str) -> GeometryRule:
    """The geometry rule of the model in ``folder`` (a diffusers pipeline folder), from its config files.

    Reads ``vae/config.json`` and ``transformer/config.json`` or ``unet/config.json`` (JSON only, no torch):
    spatial multiple = VAE spatial compression x transformer patch size (at least the pipeline's own check:
    LTX 32, Wan 16, others 8), frame step = VAE temporal compression (x temporal patch size), SVD frames =
    ``unet.config.num_frames``. Falls back to :data:`FAMILY_RULES` for anything it cannot read.
    """
    base = FAMILY_RULES[family]
    folder = Path(folder)
    vae = _read_json(folder / "vae" / "config.json") or {}
    tr = _read_json(folder / "transformer" / "config.json") or {}
    unet = _read_json(folder / "unet" / "config.json") or {}
    if not (vae or tr or unet):
        return base
    try:
        if family == "ltx":
            patch = int(vae.get("patch_size", 4))
            scaling = vae.get("spatio_temporal_scaling", (True, True, True, False))
            spatial = patch * 2 ** sum(bool(s) for s in scaling) * int(tr.get("patch_size", 1))
            temporal = int(vae.get("patch_size_t", 1)) * 2 ** sum(bool(s) for s in scaling) * int(tr.get("patch_size_t", 1))
            return GeometryRule(frame_step=temporal, side_multiple=_lcm(32, spatial), source=str(folder))
        if family == "wan":
            down = vae.get("temperal_downsample", [False, True, True])
            spatial = 2 ** len(down) * int((tr.get("patch_size") or [1, 2, 2])[1])
            temporal = 2 ** sum(bool(d) for d in down) * int((tr.get("patch_size") or [1, 2, 2])[0])
            return GeometryRule(frame_step=temporal, side_multiple=_lcm(16, spatial), source=str(folder))
        if family == "cogvideox":
            spatial = 2 ** (len(vae.get("block_out_channels", (1, 1, 1, 1))) - 1) * int(tr.get("patch_size", 2))
            # CogVideoX 1.5 (patch_size_t 2) pads the latent frames itself: the rule stays 4k+1.
            temporal = int(vae.get("temporal_compression_ratio", 4))
            exact = None
            if tr.get("use_learned_positional_embeddings"):  # CogVideoX-5b-I2V: only its training size
                vs = 2 ** (len(vae.get("block_out_channels", (1, 1, 1, 1))) - 1)
                exact = (int(tr["sample_width"]) * vs, int(tr["sample_height"]) * vs)
            return GeometryRule(frame_step=temporal, side_multiple=_lcm(8, spatial), source=str(folder),
                                exact_size=exact)
        if family == "animatediff":
            spatial = 2 ** (len(vae.get("block_out_channels", (1, 1, 1, 1))) - 1)
            return GeometryRule(frame_step=1, side_multiple=_lcm(8, spatial), source=str(folder))
        if family == "svd":
            spatial = 2 ** (len(vae.get("block_out_channels", (1, 1, 1, 1))) - 1)
            nf = unet.get("num_frames")
            return GeometryRule(frame_step=1, exact_frames=int(nf) if nf else None, side_multiple=_lcm(8, spatial),
                                source=str(folder))
    except (TypeError, ValueError):
        return base
    return base


# ------------------------------------------------------------------------------------------ requests
@dataclass
class Request:
    """What a generation asks for, in the terms of the capability table (torch-free, built statically from
    the graph or from a real bundle).

    Attributes:
        controls: the control ids asked for (see :data:`CONTROLS`).
        keyframe_frames: frame indices of the keyframes (project frames).
        guide_start: the frame where the guide video's first frame goes.
        width, height, frames: the requested output size in pixels and the frame count.
    """

    controls: set[str] = field(default_factory=set)
    keyframe_frames: list[int] = field(default_factory=list)
    guide_start: int = 0
    width: int = 0
    height: int = 0
    frames: int = 0


@dataclass
class CheckResult:
    """The outcome of :func:`check_request`.

    Attributes:
        problems: ``(control, message)`` pairs; empty when the request can run. ``control`` is a control id,
            ``"frames"`` or ``"size"``.
        notes: what snapping changed, in words.
        width, height, frames: the geometry to generate (snapped when allowed).
    """

    problems: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    width: int = 0
    height: int = 0
    frames: int = 0

    @property
    def ok(self) -> bool:
        """True when there are no problems."""
        return not self.problems


def uses_video_to_video(family: str, variant: str | None) -> bool:
    """True when a guide video goes through a video-to-video pipeline (denoising ``strength``) for this family
    and checkpoint variant: AnimateDiff, and the ``t2v`` checkpoints of Wan and CogVideoX (``None``: not known
    yet, counted as ``t2v``). LTX takes it as a condition, Wan VACE as a control video."""
    return family == "animatediff" or (family in ("wan", "cogvideox") and variant in (None, "t2v"))


def video_to_video_problem(strength: float, steps: int) -> str | None:
    """Why a video-to-video call with this guide ``strength`` (0..1) and ``steps`` would run no denoising step
    (diffusers runs ``int(steps * strength)`` of them and fails on none), with what would work; None when fine."""
    s, steps = float(strength), int(steps)
    if int(steps * s) >= 1:
        return None
    need = math.ceil(1.0 / s) if s > 0 else None
    fix = f"raise 'guide_strength' to at least {1.0 / max(steps, 1):.2f}"
    if need and need <= 500:
        fix += f" or 'steps' to at least {need}"
    return (f"guide_strength {s:g} with {steps} steps leaves no denoising step (video-to-video runs "
            f"int(steps x strength) = {int(steps * s)} steps); {fix}")


def families_that_can(control: str, frames: str | None = None) -> list[str]:
    """The families that honour ``control`` (for ``keyframes``, optionally at ``frames`` positions:
    ``"any"``, ``"first_last"``)."""
    out = []
    order = ["first", "first_last", "any"]
    for fam in FAMILIES:
        s = CAPABILITIES[fam].get(control)
        if s is None:
            continue
        if frames is not None and order.index(s.frames_for(None)) < order.index(frames):
            continue
        out.append(fam)
    return out


def _keyframe_need(frames_idx: Iterable[int], last: int) -> str:
    idx = set(frames_idx)
    if idx <= {0}:
        return "first"
    if idx <= {0, last}:
        return "first_last"
    return "any"


def _variant_hint(family: str, variants: Iterable[str]) -> str:
    names = [f"{v} (e.g. {EXAMPLE_MODELS.get((family, v), '?')})" for v in variants]
    return "a " + " or ".join(names) + " checkpoint"


def check_request(family: str, request: Request, *, variant: str | None = None,
                  rule: GeometryRule | None = None, snap: bool = False) -> CheckResult:
    """Checks a request against the capability table and the frame/size rules of ``family``.

    Args:
        family: a family id; variant: the checkpoint variant when known (None: judge by the family).
        request: what is asked for.
        rule: the geometry rule (default :data:`FAMILY_RULES`); snap: when True, frame count and sides are
            moved to the nearest valid values and :attr:`CheckResult.notes` says so; when False an invalid
            value is a problem whose message states the rule.

    Returns:
        a :class:`CheckResult` (problems name the control and the families that can).

    Raises:
        ValueError: for an unknown family.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")
    if variant == "sd15":
        variant = "t2v"
    caps = CAPABILITIES[family]
    res = CheckResult(width=request.width, height=request.height, frames=request.frames)
    last = max(request.frames - 1, 0)
    for control in sorted(request.controls):
        s = caps.get(control)
        if s is None:
            can = [f for f in families_that_can(control) if f != family]
            why = f" ({REFUSED[family]})" if control == "motion_signal" and family in REFUSED else ""
            res.problems.append((control, f"{family} cannot honour {CONTROLS.get(control, control)} "
                                          f"(control '{control}'){why}; families that can: {', '.join(can) or 'none'}"))
            continue
        if variant is not None and s.variants and variant not in s.variants:
            res.problems.append((control, f"this {family} checkpoint ({variant}) cannot honour "
                                          f"{CONTROLS.get(control, control)} (control '{control}'); it needs "
                                          f"{_variant_hint(family, s.variants)}"))
            continue
        if control == "keyframes" and request.keyframe_frames:
            need = _keyframe_need(request.keyframe_frames, last)
            have = s.frames_for(variant)
            order = ["first", "first_last", "any"]
            if order.index(need) > order.index(have):
                where = {"first": "frame 0 only", "first_last": "frame 0 and the last frame only"}[have]
                frames_txt = ", ".join(str(f) for f in sorted(set(request.keyframe_frames)))
                can = [f for f in families_that_can("keyframes", need) if f != family]
                better = [v for v, fr in s.variant_frames.items() if order.index(fr) >= order.index(need)]
                hint = f"; {family} can with {_variant_hint(family, better)}" if better and variant else ""
                res.problems.append(("keyframes", f"{family} takes keyframes at {where}, the request has keyframes "
                                                  f"at frames {frames_txt} (control 'keyframes'); families that can: "
                                                  f"{', '.join(can) or 'none'}{hint}"))
        if control == "guide_video" and request.guide_start > 0 and s.frames_for(variant) == "first":
            can = [f for f in FAMILIES if f != family and (g := CAPABILITIES[f].get("guide_video")) is not None
                   and g.frames_for(None) == "any"]
            better = [v for v, fr in s.variant_frames.items() if fr == "any"]
            hint = f"; {family} can with {_variant_hint(family, better)}" if better and variant else ""
            res.problems.append(("guide_video", f"{family} follows a guide video from frame 0 only (video-to-video), "
                                                f"the request starts it at frame {request.guide_start} (control "
                                                f"'guide_video'); families that can: {', '.join(can)}{hint}"))
    for a, b, why in EXCLUSIVE.get(family, []):
        if a in request.controls and b in request.controls:
            res.problems.append((b, f"{family} cannot combine {CONTROLS[a]} with {CONTROLS[b]}: {why}"))
    if "mask" in request.controls and "guide_video" not in request.controls and "mask" in caps:
        res.problems.append(("mask", f"{family} masks choose where to generate and where to keep the guide video "
                                     "(black keeps it, white is generated); without a guide video the kept part "
                                     "would be flat grey (control 'mask'): link a guide video too"))
    for req in REQUIRED.get((family, None), ()) + (REQUIRED.get((family, variant), ()) if variant else ()):
        if req == "keyframe0" and 0 not in request.keyframe_frames:
            what = f"this {family} checkpoint ({variant})" if (family, None) not in REQUIRED else family
            res.problems.append(("keyframes", f"{what} needs an image to animate: a keyframe at frame 0 "
                                              "(link an image to the Conditioning node's 'keyframes' input)"))
    if family == "animatediff" and "keyframes" in request.controls and request.frames > ANIMATEDIFF_MAX_FRAMES:
        res.problems.append(("keyframes", f"animatediff with keyframes (SparseCtrl) makes at most "
                                          f"{ANIMATEDIFF_MAX_FRAMES} frames, the project has {request.frames}; "
                                          "longer clips (FreeNoise) cannot take keyframes"))
    # geometry ---------------------------------------------------------------------------------------
    rule = rule or FAMILY_RULES[family]
    if request.frames:
        if not rule.frames_ok(request.frames):
            if snap:
                res.frames = rule.snap_frames(request.frames)
                res.notes.append(f"{family} needs {rule.frames_rule()}: generating {res.frames} frames instead of "
                                 f"{request.frames}")
            else:
                res.problems.append(("frames", f"{family} needs {rule.frames_rule()}, the project has "
                                               f"{request.frames}; set the frame count to "
                                               f"{rule.snap_frames(request.frames)} or turn on the Generate node's "
                                               f"'snap_to_model'"))
        if res.frames and "guide_video" in request.controls and request.guide_start >= res.frames:
            res.problems.append(("guide_video", f"the guide video starts at frame {request.guide_start}, beyond the "
                                                f"{res.frames} frames generated"))
        if res.frames and request.keyframe_frames and max(request.keyframe_frames) >= res.frames:
            res.problems.append(("keyframes", f"a keyframe at frame {max(request.keyframe_frames)} is beyond the "
                                              f"{res.frames} frames generated"))
    if request.width and request.height and rule.exact_size is not None:
        ew, eh = rule.exact_size
        if (request.width, request.height) != (ew, eh):
            if snap:
                res.width, res.height = ew, eh
                res.notes.append(f"this {family} checkpoint makes only {ew}x{eh}: generating {ew}x{eh} instead of "
                                 f"{request.width}x{request.height}")
            else:
                res.problems.append(("size", f"this {family} checkpoint makes only {ew}x{eh} (learned positional "
                                             f"embeddings), the project is {request.width}x{request.height}; set "
                                             f"the size to {ew}x{eh} or turn on the Generate node's 'snap_to_model'"))
    elif request.width and request.height:
        m = rule.side_multiple
        if request.width % m or request.height % m:
            if snap:
                res.width, res.height = rule.snap_side(request.width), rule.snap_side(request.height)
                res.notes.append(f"{family} needs width and height divisible by {m}: generating "
                                 f"{res.width}x{res.height} instead of {request.width}x{request.height}")
            else:
                res.problems.append(("size", f"{family} needs width and height divisible by {m}, the project is "
                                             f"{request.width}x{request.height}; use "
                                             f"{rule.snap_side(request.width)}x{rule.snap_side(request.height)} or "
                                             f"turn on the Generate node's 'snap_to_model'"))
    return res


# ------------------------------------------------------------------------------------------ description
def describe() -> dict[str, Any]:
    """The capability table as JSON-ready data (``vidstudio nodes --json`` under ``"capabilities"``).

    Returns:
        ``{"families": {id: {"title", "variants", "rules", "default_guidance", "controls": {control: {"how",
        "variants", "keyframe_frames", "needs"}}}}, "controls": {id: text}}``.
    """
    fams = {}
    for fam in FAMILIES:
        controls = {}
        for c, s in CAPABILITIES[fam].items():
            d: dict[str, Any] = {"how": s.how}
            if s.variants:
                d["variants"] = list(s.variants)
            if c == "keyframes":
                d["keyframe_frames"] = dict(s.variant_frames) if s.variant_frames else s.frames
            if c == "guide_video":
                d["guide_start"] = dict(s.variant_frames) if s.variant_frames else s.frames
            if s.needs:
                d["needs"] = s.needs
            controls[c] = d
        fams[fam] = {
            "title": FAMILY_TITLES[fam],
            "variants": list(VARIANTS[fam]),
            "rules": FAMILY_RULES[fam].describe(),
            "default_guidance": DEFAULT_GUIDANCE[fam],
            "requires": {("all" if v is None else v): list(r) for (f, v), r in REQUIRED.items() if f == fam},
            "controls": controls,
        }
    return {"families": fams, "controls": dict(CONTROLS)}


def table_lines() -> list[str]:
    """The capability table as aligned text lines (``vidstudio nodes``): one row per control, one column per
    family; ``yes``, ``-``, or the variants / keyframe positions that honour it."""
    width = 22
    head = f"{'control':<18}" + "".join(f"{f:<{width}}" for f in FAMILIES)
    lines = [head, "-" * len(head)]
    for c in CONTROLS:
        row = f"{c:<18}"
        for fam in FAMILIES:
            s = CAPABILITIES[fam].get(c)
            if s is None:
                cell = "-"
            elif c == "keyframes":
                words = {"first": "frame 0", "first_last": "0+last", "any": "any frame"}
                cell = ("; ".join(f"{v} {words[fr]}" for v, fr in s.variant_frames.items()) if s.variant_frames
                        else words[s.frames])
                cell = cell if len(cell) < width else cell.replace(" frame", "")
            elif s.variants:
                cell = "/".join(s.variants)
            else:
                cell = "yes"
            row += f"{cell:<{width}}"
        lines.append(row.rstrip())
    lines.append("")
    lines.append("frames and sizes (a model's own configs refine them):")
    for f in FAMILIES:
        lines.append(f"  {f:<12} {FAMILY_RULES[f].frames_rule()}; width and height divisible by "
                     f"{FAMILY_RULES[f].side_multiple}")
    return lines
