"""Extend: clips longer than one pass of a model, made as windows chained with overlap over :func:`generate`.

Window ``k`` covers project frames ``start_k .. start_k + window``, with ``start_{k+1} = start_k + window -
overlap``. Each window after the first is conditioned on the last frames of the one before, by one of three
methods (:data:`METHODS`), chosen from what the checkpoint takes:

- ``frame_indices``: every overlap frame as a keyframe at its own index, where the family takes keyframes at any
  frame: LTX-Video's ``LTXVideoCondition(image, frame_index)``, and Wan VACE, whose control video holds the
  overlap frames as known frames with the mask 0 there (1, generated, elsewhere; the adapter's keyframes);
- ``first_frame``: the previous window's last frame as frame 0, where the checkpoint takes a first frame only
  (Wan, CogVideoX, HunyuanVideo 1.5, LTX-2 and SVD image-to-video; the overlap is then one frame);
- ``video_to_video``: where the checkpoint takes no image at all (Wan and CogVideoX text-to-video), the guide
  video of a video-to-video pipeline (``WanVideoToVideoPipeline`` / ``CogVideoXVideoToVideoPipeline``, denoising
  ``strength`` = the bundle's guide strength) is the overlap frames followed by the window's slice of the guide
  video (the animatic), the last overlap frame held where there is no guide. The strength alone would re-noise
  the overlap frames a good deal, so the latent frames that lie wholly inside the overlap are also held at every
  step on the previous frames' latents noised to that step's level, up to ``overlap_hold`` of the schedule
  (:mod:`vidstudio.backend.latent_hold`, the masked replacement Time-to-Move uses).

The rest of the conditioning is sliced per window: the prompt schedule (the prompt in force at the window's
middle, or at its start with the changes inside it where the family takes a schedule), keyframes (a
first-and-last-frame checkpoint takes the user's keyframe at each window's last frame), the guide video (the
animatic), masks, the trajectory boxes and the camera that drive the trajectory-aware noise, and the Time-to-Move
motion signal and its mask, whose overlap frames are the frames already made (what the window is conditioned on),
so the animatic's motion goes on through every window. The default overlap, one latent step plus one frame (5 for
Wan, 9 for LTX), covers whole latent frames of a causal video VAE. Across each seam the new window's colours are
matched to the overlap it shares with the frames already made (per-channel mean and standard deviation over the
overlap: a Reinhard-style statistics transfer, Reinhard et al. 2001, "Color transfer between images"), then the
overlap is cross-faded. The run report gives Extend's choices, each window (:meth:`Window.describe`) and every
window's own notes, an identical note once with the windows it came from (:func:`merge_window_notes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidstudio.backend.adapters import fit_image, video_to_video_strength
from vidstudio.backend.bundle import Conditioning, Keyframe, ModelRef
from vidstudio.backend.generate import GenerateResult, generate, resolve_seed
from vidstudio.backend.latent_hold import hold_until_step
from vidstudio.backend.locate import locate
from vidstudio.errors import NodeError
from vidstudio.families import CANNOT_EXTEND, extend_method, get_spec
from vidstudio.progress import CancelToken


@dataclass
class Window:
    """One pass of an extension.

    Attributes:
        index: 0-based window number. start, stop: the project frames it covers (``stop`` exclusive; the last
            window may reach past the clip, its extra frames are dropped).
        prompt: the prompt it ran with. seed: its seed (the base seed + index).
        conditioned: the window-local frame indices conditioned on the previous window's frames.
        method: how they were conditioned, a key of :data:`METHODS` ("" for the first window).
        pipeline: the diffusers pipeline class that ran it.
        motion: the project frames of the Time-to-Move motion signal it followed ``(start, stop)`` (its first
            ``len(conditioned)`` frames replaced by the previous window's), or None.
        hold: for a video-to-video window, how its overlap latents were held
            (:meth:`vidstudio.backend.latent_hold.OverlapHold.report`), or None.
    """

    index: int
    start: int
    stop: int
    prompt: str
    seed: int
    conditioned: list[int] = field(default_factory=list)
    method: str = ""
    pipeline: str = ""
    motion: tuple[int, int] | None = None
    hold: dict[str, int] | None = None

    def describe(self) -> str:
        """One line for the run report, e.g. ``window 1: frames 8..16, seed 4, conditioned at frames 0..4 by
        the VACE control video (mask 0 there), WanVACEPipeline, prompt 'a fox'``."""
        cond = ""
        if self.conditioned:
            how = METHODS.get(self.method, self.method)
            if self.method == "frame_indices" and self.pipeline == "WanVACEPipeline":
                how = "the VACE control video (mask 0 there)"
            cond = f", conditioned at frames {self.conditioned[0]}..{self.conditioned[-1]} by {how}"
        if self.hold:
            h = self.hold
            end = "the end" if h["until"] >= h["steps"] else f"step {h['until']}"
            cond += (
                f", frames 0..{h['frames'] - 1} held on the previous frames' latents from step {h['first']} to "
                f"{end} of {h['steps']}"
            )
        ran = f", {self.pipeline}" if self.pipeline else ""
        ttm = ""
        if self.motion is not None:
            ttm = f", Time-to-Move on motion signal frames {self.motion[0]}..{self.motion[1] - 1}"
        return (
            f"window {self.index}: frames {self.start}..{self.stop - 1}, seed {self.seed}{cond}{ran}{ttm}, "
            f"prompt {self.prompt!r}"
        )


#: How a window is conditioned on the one before (see the module docstring): method -> words.
METHODS: dict[str, str] = {
    "frame_indices": "keyframes at their frame indices",
    "first_frame": "its first frame (image-to-video)",
    "video_to_video": "video-to-video (the overlap frames, then the guide video)",
}


def merge_window_notes(per_window: list[list[str]]) -> list[str]:
    """The notes of every window, each prefixed with the windows it came from, an identical note once:
    ``["windows 0-3: steps 8 (...)", "window 2: the guide video has 3 frames, ..."]`` (ranges of consecutive
    windows joined with a dash, others listed with commas), in the order they first appear."""
    where: dict[str, list[int]] = {}
    for k, notes in enumerate(per_window):
        for n in notes:
            ks = where.setdefault(n, [])
            if not ks or ks[-1] != k:
                ks.append(k)
    out = []
    for n, ks in where.items():
        runs: list[list[int]] = []
        for k in ks:
            if runs and k == runs[-1][-1] + 1:
                runs[-1].append(k)
            else:
                runs.append([k])
        parts = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
        label = "window" if len(ks) == 1 else "windows"
        out.append(f"{label} {', '.join(parts)}: {n}")
    return out


def plan_windows(frames: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` windows of ``window`` frames, each starting ``window - overlap`` after the last,
    until the clip's ``frames`` are covered.

    Raises:
        NodeError: when the overlap does not leave at least one new frame per window.
    """
    if window < 2:
        raise NodeError(f"param 'window': {window} frames; a window needs at least 2")
    if not 0 <= overlap < window:
        raise NodeError(f"param 'overlap': {overlap} frames must be at least 0 and less than the window ({window})")
    out, start = [], 0
    while True:
        out.append((start, start + window))
        if start + window >= frames:
            return out
        start += window - overlap


def match_colour(new: np.ndarray, new_overlap: np.ndarray, ref_overlap: np.ndarray) -> np.ndarray:
    """Moves ``new``'s colours so that its overlap frames get the per-channel mean and standard deviation of the
    reference overlap (the frames already made).

    Args:
        new: ``(T, H, W, 3)`` float32 in [0, 1]; new_overlap, ref_overlap: ``(O, H, W, 3)`` of the same frames.

    Returns:
        ``(T, H, W, 3)`` float32, clipped to [0, 1] (gains limited to 0.5..2 so that a flat overlap cannot blow up).
    """
    axes = (0, 1, 2)
    mu_n, mu_r = new_overlap.mean(axis=axes), ref_overlap.mean(axis=axes)
    sd_n, sd_r = new_overlap.std(axis=axes), ref_overlap.std(axis=axes)
    gain = np.clip(sd_r / np.maximum(sd_n, 1e-4), 0.5, 2.0)
    return np.clip((new - mu_n) * gain + mu_r, 0.0, 1.0).astype(np.float32)


def _slice(value: Any, a: int, b: int) -> Any:
    if value is None:
        return None
    n = len(value)
    a, b = min(max(a, 0), n), min(max(b, 0), n)
    return None if a >= b else value[a:b]


def window_bundle(bundle: Conditioning, start: int, stop: int, *, schedule_ok: bool) -> Conditioning:
    """The part of ``bundle`` that goes with project frames ``start .. stop`` (window-local frame numbers).

    Prompts: where the family takes a schedule (``schedule_ok``), the prompt in force at ``start`` (the
    bundle's prompt before the first change) and the changes inside the window; elsewhere the prompt in force at
    the window's middle frame (the one most of its frames are under). Keyframes inside
    the window, the guide video (by ``guide_start``), masks, boxes, camera, the flow (from each of its frames to
    the next; empty past the flow's end, so the warped noise holds still), and the Time-to-Move motion signal and
    its mask (from project frame 0) are cut to the window; a motion signal or mask that ends before the window
    gives its last frame (held, as a single pass holds it).
    """
    prompt = bundle.prompt
    at = start if schedule_ok else (start + stop - 1) // 2
    for f in sorted(bundle.prompt_schedule):
        if f <= at:
            prompt = bundle.prompt_schedule[f]
    schedule = {}
    if schedule_ok:
        schedule = {f - start: t for f, t in bundle.prompt_schedule.items() if start < f < stop}
        if schedule:
            schedule[0] = prompt
    keys = [Keyframe(k.frame - start, k.image) for k in bundle.keyframes if start <= k.frame < stop]
    guide, guide_start = None, 0
    if bundle.guide is not None:
        g0 = int(bundle.guide_start)
        guide = _slice(bundle.guide, start - g0, stop - g0)
        guide_start = max(0, g0 - start)
        if guide_start >= stop - start:
            guide = None
    return dataclasses.replace(
        bundle,
        prompt=prompt,
        prompt_schedule=schedule,
        keyframes=keys,
        guide=guide,
        guide_start=guide_start if guide is not None else 0,
        masks=_slice(bundle.masks, start, stop) if guide is not None else None,
        boxes=_slice(bundle.boxes, start, stop),
        camera=_slice(bundle.camera, start, stop),
        motion=_slice_held(bundle.motion, start, stop),
        motion_mask=_slice_held(bundle.motion_mask, start, stop),
        flow=None if bundle.flow is None else bundle.flow[max(start, 0) : max(stop, 0)],
    )


def _slice_held(value: Any, a: int, b: int) -> Any:
    """``value[a:b]``, or its last frame when it ends before ``a`` (None stays None)."""
    if value is None:
        return None
    n = len(value)
    return value[a:b] if a < n else value[n - 1 : n]


def lead_with(
    lead: np.ndarray, video: Any, video_start: int, count: int, width: int, height: int
) -> tuple[np.ndarray, int]:
    """A window's video whose first frames are ``lead`` (the overlap frames already made) and whose other frames
    come from ``video`` (a Clip or array placed at window frame ``video_start``; None for none), each fitted to
    ``width x height`` (cover); past the video's end its last frame is held, and where no video frame is (none,
    or before ``video_start``) the frame before is held.

    Args:
        lead: ``(O, height, width, 3)`` float32 in [0, 1]; video: window-local frames or None.
        count: the window's frame count (``>= O``).

    Returns:
        ``((count, height, width, 3) float32 in [0, 1], held)``: the video and how many frames were held.
    """
    out = np.empty((count, height, width, 3), np.float32)
    n = min(len(lead), count)
    out[:n] = lead[:n]
    have = len(video) if video is not None else 0
    held = 0
    for i in range(n, count):
        j = i - int(video_start)
        if 0 <= j < have or (have and j >= have):
            src = np.asarray(video[min(j, have - 1)], np.float32)
            out[i] = np.asarray(fit_image(src, width, height), np.float32) / 255.0
            held += j >= have
        else:
            out[i] = out[i - 1]
            held += 1
    return out, held


@dataclass
class ExtendResult:
    """The outcome of :func:`extend`.

    Attributes:
        frames: ``(frames, H, W, 3)`` float32 in [0, 1]. windows: the passes, in order.
        last: the last window's :class:`GenerateResult` (family, pipeline, seed...). notes: the run report: what
            Extend decided, the windows (:meth:`Window.describe`), then every window's own notes
            (:func:`merge_window_notes`).
        window_notes: each window's :attr:`GenerateResult.notes`, in order.
        audio: where every window made a sound track (LTX-2), each window's sound under its new frames, joined
            (as long as the clip); else None.
    """

    frames: np.ndarray
    windows: list[Window]
    last: GenerateResult
    notes: list[str] = field(default_factory=list)
    audio: Any = None
    window_notes: list[list[str]] = field(default_factory=list)


def window_method(family: str, variant: str | None) -> str:
    """How Extend conditions a window of this checkpoint on the one before, a key of :data:`METHODS`
    (:func:`vidstudio.families.extend_method`): ``frame_indices`` where it takes keyframes at any frame (LTX-Video,
    Wan VACE), ``first_frame`` where it takes a first frame (image-to-video), ``video_to_video`` where it takes no
    image but a guide video through a video-to-video pipeline (Wan and CogVideoX text-to-video).

    Raises:
        NodeError: for a checkpoint that takes none of these, naming what would work (:data:`CANNOT_EXTEND`).
    """
    method = extend_method(family, variant)
    if method is None:
        raise NodeError(CANNOT_EXTEND.format(family=family, variant=variant or "this checkpoint"))
    return method


def extend(
    ref: ModelRef,
    bundle: Conditioning,
    *,
    width: int,
    height: int,
    frames: int,
    window: int = 0,
    overlap: int = 0,
    fps: Fraction | float = 24,
    project_dir: Path | None = None,
    cache: Any = None,
    progress: Callable[[float | None, str], None] | None = None,
    cancel: CancelToken | None = None,
    call_hook: Callable[[Any, dict[str, Any]], None] | None = None,
    overlap_hold: float = 1.0,
) -> ExtendResult:
    """Generates ``frames`` frames as windows chained with overlap (see the module docstring).

    Args:
        ref, bundle, width, height, fps, project_dir, cache, cancel, call_hook: as for :func:`generate`.
        frames: the clip's length (may exceed the family's window).
        window: frames per pass (0: the family's window, or the clip when it fits); must meet the frame rule.
        overlap: frames each window shares with the one before (0: one latent step plus one, e.g. 9 for LTX,
            5 for Wan; forced to 1 for checkpoints that take a first frame only).
        overlap_hold: for video-to-video windows, the fraction of the schedule (0..1) during which the latent
            frames of the overlap are held on the previous window's overlap latents, noised to each step's level
            (:mod:`vidstudio.backend.latent_hold`); 1 (the default): every step, so the overlap ends on those
            latents, as inpainting keeps its known region; 0: the guide strength alone holds the overlap.

    Returns:
        the :class:`ExtendResult`; its notes list the windows.

    Raises:
        NodeError: for a bad window (off the frame rule, or past the family's longest pass, in the words of the
            Extend node's graph check), overlap or overlap hold, a checkpoint that takes neither a keyframe nor a
            guide video through video-to-video (nothing can carry one window into the next), or what
            :func:`generate` raises for a window, prefixed with the window and its project frames (its "the
            project has N" frames said of the window).
    """
    cancel = cancel or CancelToken()
    loc = locate(ref.model, ref.family, revision=ref.revision, project_dir=project_dir)
    spec = get_spec(loc.family)
    rule = loc.rule()
    longest = spec.window_for(loc.checkpoint or None)
    win = int(window) or (min(longest, frames) if longest else frames)
    if longest and win > longest:  # the Extend node's own graph check, for a MODEL it could not see
        raise NodeError(f"param 'window': {win} frames; {loc.family} makes at most {longest} frames in one pass")
    if not rule.frames_ok(win):
        raise NodeError(f"param 'window': {loc.family} needs {rule.frames_rule()} per pass, not {win}")
    method = window_method(loc.family, loc.variant)
    hold_until_step(overlap_hold, 1)  # refuse a bad value before any window runs
    ov = int(overlap) or (rule.frame_step + 1 if method != "first_frame" else 1)
    notes: list[str] = []
    if method == "first_frame" and ov != 1:
        notes.append(
            f"{loc.family} takes a first frame only: each window starts from the last frame of the one "
            f"before (overlap 1, not {ov})"
        )
        ov = 1
    if method == "video_to_video":
        notes.append(
            f"{loc.family} ({loc.variant or 'this checkpoint'}) takes no image: each window after the first is "
            f"made by video-to-video from the {ov} overlap frames and the guide video, at strength "
            f"{float(bundle.guide_strength):g} (the guide strength; lower keeps the overlap closer)"
            + (
                f", its overlap latents held on the frames already made for {float(overlap_hold):g} of the schedule"
                if overlap_hold > 0
                else ", its overlap not held (overlap_hold 0)"
            )
        )
    spans = plan_windows(frames, win, ov)
    if method == "video_to_video" and len(spans) > 1:  # refuse a strength that leaves no step before window 0 runs
        steps = bundle.steps if bundle.steps is not None else spec.default_steps_for(loc.checkpoint or None)[0]
        video_to_video_strength(dataclasses.replace(bundle, steps=steps))
    seed = resolve_seed(bundle.seed)
    if bundle.seed is None or bundle.seed < 0:
        notes.append(f"random seed {seed}")
    schedule_ok = "prompt_schedule" in spec.controls
    out = np.zeros((frames, height, width, 3), np.float32)
    made = 0
    windows: list[Window] = []
    per_window: list[list[str]] = []
    last: GenerateResult | None = None
    sound: list[Any] = []  # per window, the Audio under its new frames (None when a window has none)
    for k, (a, b) in enumerate(spans):
        cancel.raise_if_cancelled()
        sub = window_bundle(bundle, a, b, schedule_ok=schedule_ok)
        cond: list[int] = []
        hold_frames = None
        if k > 0:
            prev = out[a:made]  # the frames already made that this window shares
            tail = prev[-ov:] if method != "first_frame" else prev[-1:]
            cond = list(range(len(tail)))
            if method == "video_to_video":
                sub.guide, held = lead_with(tail, sub.guide, sub.guide_start, b - a, width, height)
                sub.guide_start = 0
                hold_frames = tail
                if held:
                    notes.append(
                        f"window {k}: {held} of its frames have no guide video: the video-to-video input holds "
                        "the frame before them there"
                    )
            else:
                taken = set(cond)
                sub.keyframes = [Keyframe(j, tail[j]) for j in cond] + [
                    kf for kf in sub.keyframes if kf.frame not in taken
                ]
            if sub.motion is not None:  # Time-to-Move: the overlap moves as it was made
                sub.motion = lead_with(tail, sub.motion, 0, b - a, width, height)[0]
        sub.seed = seed + k
        w_info = Window(
            k,
            a,
            b,
            sub.prompt,
            seed + k,
            cond,
            method=method if cond else "",
            motion=(a, b) if sub.motion is not None else None,
        )
        windows.append(w_info)

        def sub_progress(f, m, k=k):
            if progress is not None:
                progress(None if f is None else (k + f) / len(spans), f"window {k + 1}/{len(spans)}: {m}")

        try:
            last = generate(
                ref,
                sub,
                width=width,
                height=height,
                frames=b - a,
                fps=fps,
                project_dir=project_dir,
                cache=cache,
                progress=sub_progress,
                cancel=cancel,
                previews=False,
                call_hook=call_hook,
                hold_frames=hold_frames,
                overlap_hold=overlap_hold,
            )
        except NodeError as e:  # say which window (its frames are window-local in the message)
            said = str(e).replace(f"the project has {b - a}", f"the window has {b - a}")
            raise NodeError(f"window {k} (project frames {a}..{b - 1}): {said}") from None
        w_info.pipeline = last.pipeline
        w_info.hold = last.hold
        per_window.append(list(last.notes))
        got = last.frames
        if got.shape[1:3] != (height, width):
            raise NodeError(f"window {k} came back {got.shape[2]}x{got.shape[1]}, expected {width}x{height}")
        track = getattr(last, "audio", None)
        if k == 0:
            n = min(len(got), frames)
            out[:n] = got[:n]
            made = n
            sound.append(track.for_frames(0, n, fps) if track is not None else None)
            continue
        shared = made - a  # frames of this window that overlap what is made
        if shared > 0:
            got = match_colour(got, got[:shared], out[a:made])
            w = ((np.arange(shared, dtype=np.float32) + 1) / (shared + 1))[:, None, None, None]
            out[a:made] = out[a:made] * (1 - w) + got[:shared] * w
        n = min(len(got), frames - a)
        if n > shared:
            out[made : a + n] = got[shared:n]
            sound.append(track.for_frames(shared, n, fps) if track is not None else None)
            made = a + n
    notes += [w.describe() for w in windows] + merge_window_notes(per_window)
    audio = None
    if sound and all(t is not None for t in sound) and len({t.sample_rate for t in sound}) == 1:
        from vidstudio.media.audio import Audio

        audio = Audio(np.concatenate([t.samples for t in sound]), sound[0].sample_rate)
    return ExtendResult(frames=out, windows=windows, last=last, notes=notes, audio=audio, window_notes=per_window)


__all__ = [
    "METHODS",
    "ExtendResult",
    "Window",
    "extend",
    "lead_with",
    "match_colour",
    "merge_window_notes",
    "plan_windows",
    "window_bundle",
    "window_method",
]
