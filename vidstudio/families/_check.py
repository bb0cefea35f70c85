"""Checking a request against the family specs, recognising a model folder, and describing the capability
table (torch-free).

Asking a family for a control it cannot honour is a validation error before any model loads; the message
names the control and the families that can (:func:`check_request`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidstudio.families._motion_transfer import REFUSED
from vidstudio.families._registry import SPECS, get_spec
from vidstudio.families._spec import CONTROLS, FRAME_ORDER, CardSize, Checkpoint, Configs, GeometryRule, all_hold


# ------------------------------------------------------------------------------------------ model folders
def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_configs(folder: str | Path, name: str = "") -> Configs:
    """The JSON files of a diffusers pipeline folder that recognition and geometry read (no torch): the
    ``model_index.json`` and the ``vae``, ``transformer`` and ``unet`` configs (``{}`` when missing); ``name``
    is the model as the user named it (default: the folder)."""
    folder = Path(folder)
    return Configs(
        folder=str(folder),
        index=_read_json(folder / "model_index.json") or {},
        vae=_read_json(folder / "vae" / "config.json") or {},
        transformer=_read_json(folder / "transformer" / "config.json") or {},
        unet=_read_json(folder / "unet" / "config.json") or {},
        name=name or str(folder),
    )


def _files(c: Configs) -> dict[str, Mapping[str, Any]]:
    return {
        "model_index.json": c.index,
        "vae/config.json": c.vae,
        "transformer/config.json": c.transformer,
        "unet/config.json": c.unet,
        "@name": {"name": (c.name or c.folder).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]},
    }


@dataclass(frozen=True)
class Recognised:
    """What a model folder is.

    Attributes:
        class_name: the pipeline class in ``model_index.json``; family, variant: the spec ids;
        checkpoint: the published checkpoint id its configs match, or "" when none does.
    """

    class_name: str
    family: str
    variant: str
    checkpoint: str = ""


def recognise(index: Mapping[str, Any], configs: Configs | None = None) -> Recognised | None:
    """The family, variant and checkpoint of a model from its ``model_index.json`` (``index``) and configs.

    Variants with :class:`~vidstudio.families._spec.When` conditions are tried first, then the others, each
    group in the spec's declared order: the first whose ``pipeline_classes`` has the class and whose conditions
    hold; then its first matching checkpoint.

    Returns:
        a :class:`Recognised`, or None when no family has the pipeline class.
    """
    cls = str(index.get("_class_name", ""))
    c = configs or Configs("", index, {}, {}, {})
    if c.index is not index:
        c = Configs(c.folder, index, c.vae, c.transformer, c.unet, c.name)
    files = _files(c)
    for fam, spec in SPECS.items():
        for v in sorted(spec.variants, key=lambda v: not v.when):
            if cls in v.pipeline_classes and all_hold(v.when, files):
                ck = next((k.id for k in v.checkpoints if all_hold(k.when, files)), "")
                return Recognised(cls, fam, v.id, ck)
    return None


@dataclass(frozen=True)
class CardEstimate:
    """A published checkpoint's typical sizes (:func:`card_size`).

    Attributes:
        family, variant: the spec ids; checkpoint: the :class:`Checkpoint` it is of.
        size: its :class:`CardSize`.
    """

    family: str
    variant: str
    checkpoint: Checkpoint
    size: CardSize

    def components(self) -> dict[str, float]:
        """``{component: billions of parameters}`` as a pipeline folder names them (``transformer``,
        ``transformer_2`` for the second expert, ``text_encoder``, ``vae_and_others``); components of 0 left
        out."""
        s = self.size
        out = {"transformer": s.transformer}
        if self.checkpoint.experts == 2:
            out["transformer_2"] = s.transformer
        out |= {"text_encoder": s.text_encoder, "vae_and_others": s.other}
        return {k: v for k, v in out.items() if v}

    def gigabytes(self, bytes_per_weight: float = 2.0) -> float:
        """The weights' size in GB (10**9 bytes) at ``bytes_per_weight`` (2: bf16, as published)."""
        return sum(self.components().values()) * bytes_per_weight


def card_size(repo_id: str) -> CardEstimate | None:
    """The typical sizes of the published checkpoint ``repo_id`` (case-insensitive) from the family specs'
    :attr:`Checkpoint.sizes`, or None when no spec knows them. Torch-free, no network."""
    rid = repo_id.strip().lower()
    if not rid:
        return None
    for fam, spec in SPECS.items():
        for v in spec.variants:
            for ck in v.checkpoints:
                if rid not in (e.lower() for e in ck.examples):
                    continue
                for size in ck.sizes:
                    if size.example.lower() in ("", rid):
                        return CardEstimate(fam, v.id, ck, size)
    return None


def rules_for_folder(folder: str | Path, family: str) -> GeometryRule:
    """The geometry rule of the model in ``folder`` (a diffusers pipeline folder), from its config files.

    Reads ``vae/config.json`` and ``transformer/config.json`` or ``unet/config.json`` (JSON only, no torch) and
    hands them to the family spec's ``refine_rule`` (e.g. spatial multiple = VAE spatial compression x
    transformer patch size, at least the pipeline's own check; frame step = VAE temporal compression x temporal
    patch size; SVD frames = ``unet.config.num_frames``). Falls back to the family's rule for anything it
    cannot read.

    Raises:
        ValueError: for an unknown family.
    """
    spec = get_spec(family)
    c = read_configs(folder)
    if c.empty or spec.refine_rule is None:
        return spec.rule
    try:
        return spec.refine_rule(c, spec.rule)
    except (TypeError, ValueError, KeyError, IndexError):
        return spec.rule


# ------------------------------------------------------------------------------------------ requests
@dataclass
class Request:
    """What a generation asks for, in the terms of the capability table (torch-free, built statically from
    the graph or from a real bundle).

    Attributes:
        controls: the control ids asked for (see :data:`~vidstudio.families._spec.CONTROLS`).
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
    and checkpoint variant: the families whose spec has a ``"v2v"`` pipeline, on the variants whose
    ``guide_video`` support starts at frame 0 (``None``: not known yet, counted as the family's first such
    variant). LTX takes it as a condition, Wan VACE as a control video."""
    spec = SPECS.get(family)
    if spec is None or "v2v" not in spec.pipelines:
        return False
    s = spec.controls.get("guide_video")
    if s is None:
        return False
    if not s.variants:
        return True
    return (variant in s.variants and s.frames_for(variant) == "first") or (variant is None and s.frames == "first")


#: Why a checkpoint cannot be extended (``str.format`` with ``family`` and ``variant``).
CANNOT_EXTEND = (
    "{family} ({variant}) takes no keyframes and no guide video, so a window cannot be conditioned on the one "
    "before: use an image-to-video checkpoint, Wan VACE, or LTX-Video"
)


def extend_method(family: str, variant: str | None) -> str | None:
    """How Extend conditions a window of this checkpoint on the one before (``variant`` None: not known yet):
    ``"frame_indices"`` where it takes keyframes at any frame (LTX-Video, Wan VACE, AnimateDiff SparseCtrl),
    ``"first_frame"`` where it takes a first frame only (image-to-video), ``"video_to_video"`` where it takes no
    image but a guide video through a video-to-video pipeline (Wan and CogVideoX text-to-video); None where it
    takes none of these (nothing can carry one window into the next)."""
    spec = SPECS.get(family)
    if spec is None:
        return None
    keys = spec.controls.get("keyframes")
    if keys is not None and (variant is None or not keys.variants or variant in keys.variants):
        return "frame_indices" if keys.frames_for(variant) == "any" else "first_frame"
    if uses_video_to_video(family, variant):
        return "video_to_video"
    return None


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
    return (
        f"guide_strength {s:g} with {steps} steps leaves no denoising step (video-to-video runs "
        f"int(steps x strength) = {int(steps * s)} steps); {fix}"
    )


def families_that_can(control: str, frames: str | None = None) -> list[str]:
    """The families that honour ``control`` (for ``keyframes``, optionally at ``frames`` positions:
    ``"any"``, ``"first_last"``)."""
    out = []
    for fam, spec in SPECS.items():
        s = spec.controls.get(control)
        if s is None:
            continue
        if frames is not None and FRAME_ORDER.index(s.frames_for(None)) < FRAME_ORDER.index(frames):
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
    spec = get_spec(family)
    names = [f"{v} (e.g. {spec.variant(v).example or '?'})" for v in variants]
    return "a " + " or ".join(names) + " checkpoint"


def check_request(
    family: str,
    request: Request,
    *,
    variant: str | None = None,
    checkpoint: str | None = None,
    rule: GeometryRule | None = None,
    snap: bool = False,
) -> CheckResult:
    """Checks a request against the family's spec: its controls, requirements, exclusions and frame/size rules.

    Args:
        family: a family id; variant: the checkpoint variant when known (None: judge by the family);
            checkpoint: the published checkpoint when known (it may narrow the keyframe positions and add
            requirements, e.g. Wan 2.1 FLF2V needs a first and a last frame).
        request: what is asked for.
        rule: the geometry rule (default: the spec's); snap: when True, frame count and sides are moved to the
            nearest valid values and :attr:`CheckResult.notes` says so; when False an invalid value is a
            problem whose message states the rule.

    Returns:
        a :class:`CheckResult` (problems name the control and the families that can).

    Raises:
        ValueError: for an unknown family.
    """
    spec = get_spec(family)
    v = None
    if variant is not None and variant in spec.variant_ids:
        v = spec.variant(variant)
        variant = v.loads_as or variant
    ck: Checkpoint | None = spec.checkpoint(checkpoint) if checkpoint else None
    caps = spec.controls
    res = CheckResult(width=request.width, height=request.height, frames=request.frames)
    last = max(request.frames - 1, 0)
    for control in sorted(request.controls):
        s = caps.get(control)
        if s is None:
            can = [f for f in families_that_can(control) if f != family]
            why = f" ({REFUSED[family]})" if control == "motion_signal" and family in REFUSED else ""
            res.problems.append(
                (
                    control,
                    f"{family} cannot honour {CONTROLS.get(control, control)} "
                    f"(control '{control}'){why}; families that can: {', '.join(can) or 'none'}",
                )
            )
            continue
        if variant is not None and s.variants and variant not in s.variants:
            res.problems.append(
                (
                    control,
                    f"this {family} checkpoint ({variant}) cannot honour "
                    f"{CONTROLS.get(control, control)} (control '{control}'); it needs "
                    f"{_variant_hint(family, s.variants)}",
                )
            )
            continue
        if control == "keyframes" and request.keyframe_frames:
            need = _keyframe_need(request.keyframe_frames, last)
            have = s.frames_for(variant)
            if ck is not None and ck.keyframes:
                have = min(have, ck.keyframes, key=FRAME_ORDER.index)
            if FRAME_ORDER.index(need) > FRAME_ORDER.index(have):
                where = {"first": "frame 0 only", "first_last": "frame 0 and the last frame only"}[have]
                frames_txt = ", ".join(str(f) for f in sorted(set(request.keyframe_frames)))
                can = [f for f in families_that_can("keyframes", need) if f != family]
                better = [
                    vv
                    for vv, fr in s.variant_frames.items()
                    if FRAME_ORDER.index(fr) >= FRAME_ORDER.index(need) and vv != variant
                ]
                hint = f"; {family} can with {_variant_hint(family, better)}" if better and variant else ""
                who = f"this {family} checkpoint ({ck.title})" if ck is not None and ck.keyframes else family
                res.problems.append(
                    (
                        "keyframes",
                        f"{who} takes keyframes at {where}, the request has keyframes "
                        f"at frames {frames_txt} (control 'keyframes'); families that can: "
                        f"{', '.join(can) or 'none'}{hint}",
                    )
                )
        if control == "guide_video" and request.guide_start > 0 and s.frames_for(variant) == "first":
            can = [
                f
                for f, sp in SPECS.items()
                if f != family and (g := sp.controls.get("guide_video")) is not None and g.frames_for(None) == "any"
            ]
            better = [vv for vv, fr in s.variant_frames.items() if fr == "any"]
            hint = f"; {family} can with {_variant_hint(family, better)}" if better and variant else ""
            res.problems.append(
                (
                    "guide_video",
                    f"{family} follows a guide video from frame 0 only (video-to-video), "
                    f"the request starts it at frame {request.guide_start} (control "
                    f"'guide_video'); families that can: {', '.join(can)}{hint}",
                )
            )
    for a, b, why in spec.exclusive:
        if a in request.controls and b in request.controls:
            res.problems.append((b, f"{family} cannot combine {CONTROLS[a]} with {CONTROLS[b]}: {why}"))
    if "mask" in request.controls and "guide_video" not in request.controls and "mask" in caps:
        res.problems.append(
            (
                "mask",
                f"{family} masks choose where to generate and where to keep the guide video "
                "(black keeps it, white is generated); without a guide video the kept part "
                "would be flat grey (control 'mask'): link a guide video too",
            )
        )
    family_wide = bool(spec.requires)
    needs = list(spec.requires) + (list(v.requires) if v is not None else []) + (list(ck.requires) if ck else [])
    for req in dict.fromkeys(needs):
        if req == "keyframe0" and 0 not in request.keyframe_frames:
            what = family if family_wide else f"this {family} checkpoint ({variant})"
            res.problems.append(
                (
                    "keyframes",
                    f"{what} needs an image to animate: a keyframe at frame 0 "
                    "(link an image to the Conditioning node's 'keyframes' input)",
                )
            )
        if req == "keyframe_last" and request.frames and last not in request.keyframe_frames:
            title = ck.title if ck is not None else variant
            res.problems.append(
                (
                    "keyframes",
                    f"this {family} checkpoint ({title}) needs a keyframe at the last frame "
                    f"({last}) as well as at frame 0 (link a second image with "
                    f"keyframe_frames 0,{last}), or use an image-to-video checkpoint that "
                    "takes a first frame alone",
                )
            )
    for lim in spec.frame_limits:
        if lim.control in request.controls and request.frames > lim.max_frames:
            res.problems.append(
                (
                    lim.control,
                    f"{family} with {lim.control} makes at most {lim.max_frames} frames, "
                    f"the project has {request.frames}; {lim.why}",
                )
            )
    window = spec.window_for(checkpoint)
    if window and request.frames > window:
        res.problems.append(
            (
                "frames",
                f"{family} makes at most {window} frames in one pass, the project has "
                f"{request.frames}; use an Extend node (windows of at most {window} "
                "frames chained with overlap) or shorten the clip",
            )
        )
    # geometry ---------------------------------------------------------------------------------------
    rule = rule or spec.rule
    if request.frames:
        if not rule.frames_ok(request.frames):
            if snap:
                res.frames = rule.snap_frames(request.frames)
                res.notes.append(
                    f"{family} needs {rule.frames_rule()}: generating {res.frames} frames instead of {request.frames}"
                )
            else:
                res.problems.append(
                    (
                        "frames",
                        f"{family} needs {rule.frames_rule()}, the project has "
                        f"{request.frames}; set the frame count to "
                        f"{rule.snap_frames(request.frames)} or turn on the Generate node's "
                        f"'snap_to_model'",
                    )
                )
        if res.frames and "guide_video" in request.controls and request.guide_start >= res.frames:
            res.problems.append(
                (
                    "guide_video",
                    f"the guide video starts at frame {request.guide_start}, beyond the {res.frames} frames generated",
                )
            )
        if res.frames and request.keyframe_frames and max(request.keyframe_frames) >= res.frames:
            res.problems.append(
                (
                    "keyframes",
                    f"a keyframe at frame {max(request.keyframe_frames)} is beyond the {res.frames} frames generated",
                )
            )
    if request.width and request.height and rule.exact_size is not None:
        ew, eh = rule.exact_size
        if (request.width, request.height) != (ew, eh):
            if snap:
                res.width, res.height = ew, eh
                res.notes.append(
                    f"this {family} checkpoint makes only {ew}x{eh}: generating {ew}x{eh} instead of "
                    f"{request.width}x{request.height}"
                )
            else:
                res.problems.append(
                    (
                        "size",
                        f"this {family} checkpoint makes only {ew}x{eh} (learned positional "
                        f"embeddings), the project is {request.width}x{request.height}; set "
                        f"the size to {ew}x{eh} or turn on the Generate node's 'snap_to_model'",
                    )
                )
    elif request.width and request.height:
        m = rule.side_multiple
        if request.width % m or request.height % m:
            if snap:
                res.width, res.height = rule.snap_side(request.width), rule.snap_side(request.height)
                res.notes.append(
                    f"{family} needs width and height divisible by {m}: generating "
                    f"{res.width}x{res.height} instead of {request.width}x{request.height}"
                )
            else:
                res.problems.append(
                    (
                        "size",
                        f"{family} needs width and height divisible by {m}, the project is "
                        f"{request.width}x{request.height}; use "
                        f"{rule.snap_side(request.width)}x{rule.snap_side(request.height)} or "
                        f"turn on the Generate node's 'snap_to_model'",
                    )
                )
    return res


def fps_problem(family: str, checkpoint: str | None, fps: float) -> str | None:
    """Why a project at ``fps`` frames per second does not match the model's native rate, or None when it does.

    The native rate is the checkpoint's (:meth:`~vidstudio.families._spec.FamilySpec.fps_for`: e.g. 16 for
    CogVideoX 1.5, 24 for Wan 2.2 TI2V-5B, 30 for LTX-Video 0.9.7 / 0.9.8 13B) or the family's. Where the model is
    told the rate (``fps_argument``: LTX-Video, LTX-2, SVD) it is asked for motion at a rate other than its
    training rate; elsewhere the motion made at the native rate plays faster or slower. The message names both
    rates.

    Raises:
        ValueError: for an unknown family.
    """
    spec = get_spec(family)
    native, whose = spec.fps_for(checkpoint)
    fps = float(fps)
    if not native or fps <= 0 or abs(fps - native) < 1e-3:
        return None
    ck = spec.checkpoint(checkpoint) if checkpoint else None
    name = ck.title if ck is not None else spec.title
    shown = f"{fps:g}" if abs(fps - round(fps)) > 1e-3 else str(round(fps))
    if spec.fps_argument:
        why = (
            f"the pipeline is told {shown} fps ({spec.fps_argument}), not the rate it was trained at, so the "
            "motion may be off"
        )
    else:
        why = f"the motion it makes for {native} fps plays {fps / native:.2g}x as fast at the project's rate"
    return (
        f"the project is {shown} fps, {name} makes {native} fps video ({whose}): {why}; set the project's fps "
        f"to {native}, or retime the clip afterwards"
    )


# ------------------------------------------------------------------------------------------ description
def describe() -> dict[str, Any]:
    """The capability table as JSON-ready data (``vidstudio nodes --json`` under ``"capabilities"``).

    Returns:
        ``{"families": {id: {"title", "variants", "checkpoints", "pipelines", "rules", "default_guidance",
        "default_steps", "recommended_steps", "native", "requires", "controls": {control: {"how", "variants",
        "keyframe_frames", "needs"}}}}, "controls": {id: text}}``.
    """
    fams = {}
    for fam, spec in SPECS.items():
        controls = {}
        for c, s in spec.controls.items():
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
        requires: dict[str, list[str]] = {}
        if spec.requires:
            requires["all"] = list(spec.requires)
        for v in spec.variants:
            if v.requires and not spec.requires:
                requires[v.id] = list(v.requires)
        checkpoints = {
            k.id: {
                "variant": v.id,
                "title": k.title,
                "examples": list(k.examples),
                **({"keyframe_frames": k.keyframes} if k.keyframes else {}),
                **({"requires": list(k.requires)} if k.requires else {}),
                **({"default_steps": k.default_steps} if k.default_steps else {}),
                **({"default_guidance": k.default_guidance} if k.default_guidance is not None else {}),
                **({"experts": k.experts} if k.experts > 1 else {}),
                **({"fps": k.fps} if k.fps else {}),
                **({"window": k.window} if k.window else {}),
                **({"distilled": True} if k.distilled else {}),
                **({"notes": k.notes} if k.notes else {}),
            }
            for v in spec.variants
            for k in v.checkpoints
        }
        fams[fam] = {
            "title": spec.title,
            "variants": [v.id for v in spec.variants if v.tiny or not v.loads_as],
            "checkpoints": checkpoints,
            "pipelines": dict(spec.pipelines),
            "rules": spec.rule.describe(),
            "default_guidance": spec.default_guidance,
            "default_steps": spec.default_steps,
            "recommended_steps": list(spec.recommended_steps),
            "native": {"width": spec.native[0], "height": spec.native[1], "fps": spec.native[2]},
            "requires": requires,
            "controls": controls,
        }
    return {"families": fams, "controls": dict(CONTROLS)}


def table_lines() -> list[str]:
    """The capability table as aligned text lines (``vidstudio nodes``): one row per control, one column per
    family; ``yes``, ``-``, or the variants / keyframe positions that honour it."""
    words = {"first": "frame 0", "first_last": "0+last", "any": "any frame"}
    cells: dict[str, list[str]] = {}
    for c in CONTROLS:
        row = []
        for spec in SPECS.values():
            s = spec.controls.get(c)
            if s is None:
                cell = "-"
            elif c == "keyframes":
                cell = (
                    "; ".join(f"{v} {words[fr]}" for v, fr in s.variant_frames.items())
                    if s.variant_frames
                    else words[s.frames]
                )
            elif s.variants:
                cell = "/".join(s.variants)
            else:
                cell = "yes"
            row.append(cell)
        cells[c] = row
    widths = [max([len(f)] + [len(r[i]) for r in cells.values()]) + 2 for i, f in enumerate(SPECS)]
    head = f"{'control':<18}" + "".join(f"{f:<{w}}" for f, w in zip(SPECS, widths))
    lines = [head.rstrip(), "-" * len(head.rstrip())]
    for c, row in cells.items():
        lines.append((f"{c:<18}" + "".join(f"{cell:<{w}}" for cell, w in zip(row, widths))).rstrip())
    lines.append("")
    lines.append("frames and sizes (a model's own configs refine them):")
    for f, spec in SPECS.items():
        lines.append(f"  {f:<12} {spec.rule.frames_rule()}; width and height divisible by {spec.rule.side_multiple}")
    return lines
