"""Extend: clips longer than one pass of a model, made as windows chained with overlap over :func:`generate`.

Window ``k`` covers project frames ``start_k .. start_k + window``, with ``start_{k+1} = start_k + window -
overlap``. Each window after the first is conditioned on the last frames of the one before, placed at its first
frame indices as keyframes: every overlap frame at its own index where the family takes keyframes at any frame
(LTX-Video's ``LTXVideoCondition(image, frame_index)``), the previous window's last frame as frame 0 where it
takes a first frame only (Wan, CogVideoX and SVD image-to-video; the overlap is then one frame). The rest of the
conditioning is sliced per window: the prompt schedule (the prompt in force at the window's middle, or at its
start with the changes inside it where the family takes a schedule), keyframes, the guide video (the animatic), masks, the
trajectory boxes and the camera that drive the trajectory-aware noise, so the animatic's motion goes on through
every window. Across each seam the new window's colours are matched to the overlap it shares with the frames
already made (per-channel mean and standard deviation over the overlap: a Reinhard-style statistics transfer,
Reinhard et al. 2001, "Color transfer between images"), then the overlap is cross-faded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidstudio.backend.bundle import Conditioning, Keyframe, ModelRef
from vidstudio.backend.generate import GenerateResult, generate, resolve_seed
from vidstudio.backend.locate import locate
from vidstudio.errors import NodeError
from vidstudio.families import get_spec
from vidstudio.progress import CancelToken


@dataclass
class Window:
    """One pass of an extension.

    Attributes:
        index: 0-based window number. start, stop: the project frames it covers (``stop`` exclusive; the last
            window may reach past the clip, its extra frames are dropped).
        prompt: the prompt it ran with. seed: its seed (the base seed + index).
        conditioned: the window-local frame indices conditioned on the previous window's frames.
    """

    index: int
    start: int
    stop: int
    prompt: str
    seed: int
    conditioned: list[int] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the run report."""
        cond = f", conditioned at frames {self.conditioned[0]}..{self.conditioned[-1]}" if self.conditioned else ""
        return (
            f"window {self.index}: frames {self.start}..{self.stop - 1}, seed {self.seed}{cond}, prompt {self.prompt!r}"
        )


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
    the window, the guide video (by ``guide_start``), masks, boxes and camera are cut to the window.
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
    )


@dataclass
class ExtendResult:
    """The outcome of :func:`extend`.

    Attributes:
        frames: ``(frames, H, W, 3)`` float32 in [0, 1]. windows: the passes, in order.
        last: the last window's :class:`GenerateResult` (family, pipeline, seed...). notes: the run report.
        audio: where every window made a sound track (LTX-2), each window's sound under its new frames, joined
            (as long as the clip); else None.
    """

    frames: np.ndarray
    windows: list[Window]
    last: GenerateResult
    notes: list[str] = field(default_factory=list)
    audio: Any = None


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
) -> ExtendResult:
    """Generates ``frames`` frames as windows chained with overlap (see the module docstring).

    Args:
        ref, bundle, width, height, fps, project_dir, cache, cancel, call_hook: as for :func:`generate`.
        frames: the clip's length (may exceed the family's window).
        window: frames per pass (0: the family's window, or the clip when it fits); must meet the frame rule.
        overlap: frames each window shares with the one before (0: one latent step plus one, e.g. 9 for LTX;
            forced to 1 for families that take a first frame only).

    Returns:
        the :class:`ExtendResult`; its notes list the windows.

    Raises:
        NodeError: for a bad window or overlap, a family that takes no keyframe (nothing can carry one window
            into the next), or what :func:`generate` raises for a window.
    """
    cancel = cancel or CancelToken()
    loc = locate(ref.model, ref.family, revision=ref.revision, project_dir=project_dir)
    spec = get_spec(loc.family)
    rule = loc.rule()
    longest = spec.window_for(loc.checkpoint or None)
    win = int(window) or (min(longest, frames) if longest else frames)
    if not rule.frames_ok(win):
        raise NodeError(f"param 'window': {loc.family} needs {rule.frames_rule()} per pass, not {win}")
    keys = spec.controls.get("keyframes")
    variant = loc.variant
    if keys is None or (variant is not None and keys.variants and (variant not in keys.variants)):
        raise NodeError(
            f"{loc.family} ({variant or 'this checkpoint'}) takes no keyframes, so a window cannot be "
            "conditioned on the one before: use an image-to-video checkpoint, or LTX-Video"
        )
    where = keys.frames_for(variant)
    ov = int(overlap) or (rule.frame_step + 1 if where == "any" else 1)
    notes: list[str] = []
    if where != "any" and ov != 1:
        notes.append(
            f"{loc.family} takes a first frame only: each window starts from the last frame of the one "
            f"before (overlap 1, not {ov})"
        )
        ov = 1
    spans = plan_windows(frames, win, ov)
    seed = resolve_seed(bundle.seed)
    if bundle.seed is None or bundle.seed < 0:
        notes.append(f"random seed {seed}")
    schedule_ok = "prompt_schedule" in spec.controls
    out = np.zeros((frames, height, width, 3), np.float32)
    made = 0
    windows: list[Window] = []
    last: GenerateResult | None = None
    sound: list[Any] = []  # per window, the Audio under its new frames (None when a window has none)
    for k, (a, b) in enumerate(spans):
        cancel.raise_if_cancelled()
        sub = window_bundle(bundle, a, b, schedule_ok=schedule_ok)
        cond: list[int] = []
        if k > 0:
            prev = out[a:made]  # the frames already made that this window shares
            tail = prev[-ov:] if where == "any" else prev[-1:]
            cond = list(range(len(tail)))
            taken = set(cond)
            sub.keyframes = [Keyframe(j, tail[j]) for j in cond] + [kf for kf in sub.keyframes if kf.frame not in taken]
        sub.seed = seed + k
        w_info = Window(k, a, b, sub.prompt, seed + k, cond)
        windows.append(w_info)

        def sub_progress(f, m, k=k):
            if progress is not None:
                progress(None if f is None else (k + f) / len(spans), f"window {k + 1}/{len(spans)}: {m}")

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
        )
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
    notes += [w.describe() for w in windows]
    audio = None
    if sound and all(t is not None for t in sound) and len({t.sample_rate for t in sound}) == 1:
        from vidstudio.media.audio import Audio

        audio = Audio(np.concatenate([t.samples for t in sound]), sound[0].sample_rate)
    return ExtendResult(frames=out, windows=windows, last=last, notes=notes, audio=audio)


__all__ = ["ExtendResult", "Window", "extend", "match_colour", "plan_windows", "window_bundle"]
