"""The vocabulary of a family spec: frozen dataclasses, torch-free.

A family module (``vidstudio/families/wan.py``, ...) declares one :class:`FamilySpec` named ``SPEC`` with these
records; :mod:`vidstudio.families` collects them. Nothing here imports torch, diffusers or Qt (an import-linter
contract holds it).

- a **family** is a kind of model (``animatediff``, ``ltx``, ``wan``, ...): the id used in project files,
  ``--family`` and ``vidstudio dev tiny-model``;
- a **variant** is the kind of checkpoint inside a family, read from the folder's ``model_index.json``
  (pipeline class and, where that is not enough, other entries: :class:`When`); the capability table speaks
  of variants (``t2v``, ``i2v``, ``vace``, ...);
- a **checkpoint** is a published model inside a variant, told apart by its configs (Wan 2.1 I2V takes a
  first frame only, Wan 2.1 FLF2V needs a first and a last frame, Wan 2.2 I2V-A14B has two experts). It can
  narrow what its variant honours and bring its own defaults (a distilled model: few steps, guidance 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The controls of the conditioning bundle: id -> what it is (in words, for messages and the table).
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

#: Keyframe positions, from the narrowest to the widest.
FRAME_ORDER: tuple[str, ...] = ("first", "first_last", "any")

#: Requirements a variant or checkpoint can have: id -> what it means.
REQUIREMENTS: dict[str, str] = {
    "keyframe0": "an image to animate: a keyframe at frame 0",
    "keyframe_last": "a keyframe at the last frame too (a first-and-last-frame checkpoint)",
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
        cell: the text of this control's cell in docs/backend.md's capability table (default: ``yes`` or the
            variants).
    """

    how: str
    variants: tuple[str, ...] = ()
    frames: str = "any"
    variant_frames: Mapping[str, str] = field(default_factory=dict)
    needs: str = ""
    cell: str = ""

    def frames_for(self, variant: str | None) -> str:
        """The keyframe positions honoured by ``variant`` (the most permissive when None)."""
        if variant is not None and variant in self.variant_frames:
            return self.variant_frames[variant]
        if variant is None and self.variant_frames:
            return max([self.frames, *self.variant_frames.values()], key=FRAME_ORDER.index)
        return self.frames


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
        return {
            "frames": self.frames_rule(),
            "frame_step": self.frame_step,
            "exact_frames": self.exact_frames,
            "side_multiple": self.side_multiple,
            "exact_size": self.exact_size,
            "source": self.source,
        }


@dataclass(frozen=True)
class When:
    """One condition on a model folder's JSON files, to recognise a variant or a checkpoint.

    Attributes:
        file: the file, relative to the folder (``"model_index.json"``, ``"transformer/config.json"``), or
            ``"@name"`` for the model's name (key ``"name"``: the last part of the repo id or folder path), where configs cannot
            tell checkpoints apart (a step-distilled checkpoint has its base's configs).
        key: the top-level key.
        op: ``"set"`` (present and not null; a ``model_index.json`` component ``[null, null]`` counts as
            absent), ``"unset"`` (the opposite), ``"=="`` / ``"!="`` (against :attr:`value`), ``">="``, ``"contains"`` (case-insensitive
            text).
        value: the value compared with.
    """

    file: str
    key: str
    op: str = "set"
    value: Any = None

    def holds(self, files: Mapping[str, Mapping[str, Any]]) -> bool:
        """True when the condition holds for ``files`` (file name -> parsed JSON; a missing file is ``{}``)."""
        data = files.get(self.file) or {}
        v = data.get(self.key)
        present = v is not None and not (isinstance(v, list) and all(x is None for x in v))
        if self.op == "set":
            return present
        if self.op == "unset":
            return not present
        if self.op == "==":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        if self.op == "contains":
            return isinstance(v, str) and str(self.value).lower() in v.lower()
        if self.op == ">=":
            try:
                return v is not None and float(v) >= float(self.value)
            except (TypeError, ValueError):
                return False
        raise ValueError(f"When: unknown op {self.op!r}")


def all_hold(conditions: tuple[When, ...], files: Mapping[str, Mapping[str, Any]]) -> bool:
    """True when every condition holds (an empty tuple holds)."""
    return all(c.holds(files) for c in conditions)


@dataclass(frozen=True)
class CardSize:
    """The typical component sizes of a published checkpoint, from its model card: what the GPU-memory estimate
    uses while the weights are not on this computer (:func:`vidstudio.families.card_size`).

    Attributes:
        example: the repo id (one of :attr:`Checkpoint.examples`) these sizes are of; "" for every example.
        transformer: billions of parameters of the transformer / UNet (of each expert of a two-expert
            checkpoint: :attr:`Checkpoint.experts` of them).
        text_encoder: billions of parameters of the text encoder(s) (0: none).
        other: billions of parameters of the rest that loads on the GPU (VAE, image encoder, audio model).
        source: where the figures come from (the model card or paper).
    """

    example: str
    transformer: float
    text_encoder: float
    other: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class Checkpoint:
    """A published checkpoint inside a variant, recognised from the folder's configs.

    Attributes:
        id: e.g. ``"wan2.1-flf2v"``; title: in words.
        when: conditions on the folder's JSON files (the first checkpoint of a variant whose conditions all hold
            is the one; keep the most specific first).
        examples: model ids of the published checkpoints.
        keyframes: the keyframe positions it takes when narrower than its variant's (``"first"``, ...), or "".
        requires: requirement ids (:data:`REQUIREMENTS`) beyond its variant's.
        default_steps, default_guidance: its model card's values when they differ from the family's (0 / None:
            the family's).
        experts: 2 for a two-expert (high-noise + low-noise transformer) checkpoint.
        guidance_2: a two-expert checkpoint's default guidance scale of the low-noise expert (None: the same as
            the guidance scale).
        distilled: a step-distilled checkpoint (few steps, guidance 1).
        fps: its native frame rate when it differs from the family's (0: the family's): read by
            :meth:`FamilySpec.fps_for` (Generate warns when the project's rate differs; the capability table and
            docs/backend.md list it).
        window: the most frames one pass of it makes when it differs from the family's
            (:attr:`FamilySpec.window`; 0: the family's), e.g. CogVideoX 1.5's 81.
        notes: what else a user should know, in words.
        sizes: its typical component sizes per example repo, from the model cards (:class:`CardSize`).
    """

    id: str
    title: str
    when: tuple[When, ...] = ()
    examples: tuple[str, ...] = ()
    keyframes: str = ""
    requires: tuple[str, ...] = ()
    default_steps: int = 0
    default_guidance: float | None = None
    experts: int = 1
    guidance_2: float | None = None
    distilled: bool = False
    fps: int = 0
    window: int = 0
    notes: str = ""
    sizes: tuple[CardSize, ...] = ()


@dataclass(frozen=True)
class Variant:
    """A kind of checkpoint in a family, as the capability table speaks of it.

    Attributes:
        id: ``"t2v"``, ``"i2v"``, ...; title: in words.
        pipeline_classes: the ``model_index.json`` ``_class_name`` values that mean this variant.
        when: further conditions on the folder's JSON files (the first variant, in declared order, whose class
            and conditions match is the one).
        example: the model id named in messages that ask for this kind of checkpoint.
        requires: requirement ids (:data:`REQUIREMENTS`).
        checkpoints: the published checkpoints of this variant, most specific first.
        loads_as: the variant id a folder of this kind is used as once loaded (a Stable Diffusion 1.5 base with
            a motion adapter is AnimateDiff ``t2v``), or "" for itself.
        tiny: whether ``vidstudio dev tiny-model`` can write one.
    """

    id: str
    title: str
    pipeline_classes: tuple[str, ...]
    when: tuple[When, ...] = ()
    example: str = ""
    requires: tuple[str, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()
    loads_as: str = ""
    tiny: bool = True


@dataclass(frozen=True)
class FrameLimit:
    """A frame-count limit that applies when a control is asked for.

    Attributes:
        control: the control id; max_frames: the longest clip with it; why: the reason, in words.
    """

    control: str
    max_frames: int
    why: str


@dataclass(frozen=True)
class Configs:
    """The JSON files of a model folder that geometry and recognition read (parsed; ``{}`` when missing).

    Attributes:
        folder: the folder, as text; index: ``model_index.json``; vae, transformer, unet: the components'
            ``config.json``; name: the model as the user named it (repo id or folder; "" for the folder).
    """

    folder: str
    index: Mapping[str, Any]
    vae: Mapping[str, Any]
    transformer: Mapping[str, Any]
    unet: Mapping[str, Any]
    name: str = ""

    @property
    def empty(self) -> bool:
        """True when no component config was found."""
        return not (self.vae or self.transformer or self.unet)


@dataclass(frozen=True)
class FamilySpec:
    """Everything VidStudio knows about one model family, as data.

    Attributes:
        id, title: the family id and its human name; order: position in palettes and tables.
        pipelines: task -> diffusers pipeline class name (``"t2v"``, ``"v2v"``, ``"i2v"``, ``"conditions"``,
            ``"vace"``, ``"upsample"``...): the classes the adapter uses.
        variants: the checkpoint variants, in recognition order; the first is what ``vidstudio dev tiny-model``
            writes by default.
        controls: control id -> :class:`Support`; a control missing here is not honoured.
        requires: requirement ids of every variant.
        exclusive: ``(control_a, control_b, why)`` pairs the family cannot combine.
        frame_limits: limits that apply with a control (:class:`FrameLimit`).
        default_steps, recommended_steps: the model card's step count and a sensible ``(low, high)`` range.
        default_guidance: the model card's guidance scale; guidance_range: ``(low, high)``.
        rule: the frame and size rule of the published checkpoints.
        refine_rule: ``refine_rule(configs, rule) -> GeometryRule`` reads a folder's configs (:class:`Configs`)
            and returns the rule of that model (pure, torch-free), or None when the family rule stands.
        native: ``(width, height, fps)`` the published checkpoints make.
        window: the most frames one pass makes (the published checkpoints' longest clip); a longer request is
            refused and pointed at the Extend node; 0: no limit (the frame rule alone decides).
        fps_argument: the pipeline argument the project's frame rate is passed to, where the model is conditioned
            on it (LTX-Video ``frame_rate``, SVD ``fps``), or "" where the rate only sets playback speed.
        pipelines_text, variants_text: the cells of docs/backend.md's family table.
        latent_format: the latent format of previews (name and source of the linear factors).
    """

    id: str
    title: str
    order: int
    pipelines: Mapping[str, str]
    variants: tuple[Variant, ...]
    controls: Mapping[str, Support]
    default_steps: int
    recommended_steps: tuple[int, int]
    default_guidance: float
    guidance_range: tuple[float, float]
    rule: GeometryRule
    native: tuple[int, int, int]
    window: int = 0
    requires: tuple[str, ...] = ()
    exclusive: tuple[tuple[str, str, str], ...] = ()
    frame_limits: tuple[FrameLimit, ...] = ()
    refine_rule: Callable[[Configs, GeometryRule], GeometryRule] | None = None
    fps_argument: str = ""
    pipelines_text: str = ""
    variants_text: str = ""
    latent_format: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.controls) - set(CONTROLS)
        if unknown:
            raise ValueError(f"family spec {self.id}: unknown controls {sorted(unknown)}")
        ids = [v.id for v in self.variants]
        for c, s in self.controls.items():
            bad = (set(s.variants) | set(s.variant_frames)) - set(ids)
            if bad:
                raise ValueError(f"family spec {self.id}: control {c} names unknown variants {sorted(bad)}")

    @property
    def variant_ids(self) -> tuple[str, ...]:
        """The variant ids, in declared order."""
        return tuple(v.id for v in self.variants)

    def variant(self, variant_id: str) -> Variant:
        """The :class:`Variant` of that id.

        Raises:
            KeyError: naming the family and the valid ids.
        """
        for v in self.variants:
            if v.id == variant_id:
                return v
        raise KeyError(f"family {self.id} has no variant {variant_id!r}; expected one of {', '.join(self.variant_ids)}")

    def default_steps_for(self, checkpoint_id: str | None) -> tuple[int, str]:
        """The step count a run uses when the user set none, and whose default it is (in words): the
        checkpoint's model-card value (a distilled checkpoint: few steps) or the family's."""
        ck = self.checkpoint(checkpoint_id) if checkpoint_id else None
        if ck is not None and ck.default_steps:
            return ck.default_steps, f"the default of {ck.title}"
        return self.default_steps, f"the {self.title} default"

    def default_guidance_for(self, checkpoint_id: str | None) -> tuple[float, str]:
        """The guidance scale a run uses when the user set none, and whose default it is (in words)."""
        ck = self.checkpoint(checkpoint_id) if checkpoint_id else None
        if ck is not None and ck.default_guidance is not None:
            return float(ck.default_guidance), f"the default of {ck.title}"
        return float(self.default_guidance), f"the {self.title} default"

    def window_for(self, checkpoint_id: str | None) -> int:
        """The most frames one pass makes: the checkpoint's :attr:`Checkpoint.window` where it sets one, else the
        family's :attr:`window` (0: no limit)."""
        ck = self.checkpoint(checkpoint_id) if checkpoint_id else None
        return int(ck.window) if ck is not None and ck.window else int(self.window)

    def fps_for(self, checkpoint_id: str | None) -> tuple[int, str]:
        """The native frame rate (frames per second) of a checkpoint, and whose it is (in words): the checkpoint's
        :attr:`Checkpoint.fps` where it declares one (CogVideoX 1.5: 16, Wan 2.2 TI2V-5B: 24), else the family's
        (:attr:`native`)."""
        ck = self.checkpoint(checkpoint_id) if checkpoint_id else None
        if ck is not None and ck.fps:
            return int(ck.fps), f"the native rate of {ck.title}"
        return int(self.native[2]), f"the {self.title} native rate"

    def checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        """The :class:`Checkpoint` of that id in any variant, or None."""
        for v in self.variants:
            for c in v.checkpoints:
                if c.id == checkpoint_id:
                    return c
        return None


def lcm(a: int, b: int) -> int:
    """The least common multiple of two positive integers."""
    return a * b // math.gcd(a, b)


def vae_spatial(vae: Mapping[str, Any]) -> int:
    """The spatial compression of a UNet-style VAE (``AutoencoderKL``-like) from its ``block_out_channels``:
    one 2x stage between consecutive blocks (SD: 4 blocks -> 8)."""
    return 2 ** (len(vae.get("block_out_channels", (1, 1, 1, 1))) - 1)
