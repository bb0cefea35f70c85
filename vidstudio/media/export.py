"""One export path: a clip to an MP4 or a PNG sequence, used by the Export Video node and the GUI's Export
dialog alike, so that both write the same file (frame range, padding of odd sizes, the embedded project and the
clip's metadata such as the generation seed and model)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from vidstudio.errors import MediaError
from vidstudio.media.audio import Audio
from vidstudio.media.clip import as_clip
from vidstudio.media.timecode import CONFORM_EPS
from vidstudio.media.video import parse_fps, write_png_sequence, write_video
from vidstudio.progress import CancelToken

#: The formats :func:`export_clip` writes.
EXPORT_FORMATS: tuple[str, ...] = ("mp4", "png")


def mp4_path(path: str | os.PathLike) -> Path:
    """``path`` with the ``.mp4`` suffix (replacing another suffix, or appended when it has none)."""
    p = Path(path)
    if p.suffix.lower() == ".mp4":
        return p
    return p.with_suffix(".mp4") if p.suffix else p.with_name(p.name + ".mp4")


def clip_rate_and_range(
    clip: Any,
    fps: Fraction | None,
    project_fps: Fraction,
    start: int,
    stop: int,
    project_frame_count: int,
) -> tuple[Fraction, int, int | None]:
    """The frame rate to write ``clip`` at and the clip's frame range for a range given in project frames, as
    both the Export Video node and the Export dialog use them.

    A clip with its own rate (``metadata["vidstudio_fps"]``, set by Interpolate and by Load Video at its source
    rate) covers the project's seconds at that rate, conformed by time as the Viewer shows it
    (:func:`vidstudio.media.timecode.conform_frame`): project frames ``start <= i < stop`` are its frames
    ``floor(start * r + eps) <= j < floor(stop * r + eps)`` with ``r = clip rate / project fps`` (so the first
    frame written is the one the Viewer shows at ``start``), and a ``stop`` at or past the project's end is the
    clip's end (None).

    Args:
        clip: the clip to write (anything with ``metadata``, e.g. a :class:`~vidstudio.media.clip.Clip`).
        fps: the rate asked for, or None for the clip's own rate, else the project's.
        project_fps: the project's frame rate (frames per second).
        start, stop: the range in project frames.
        project_frame_count: the project's length in frames.

    Returns:
        ``(fps, start, stop)``: the file's rate and the clip's frame range (``stop`` None: to its end).

    Raises:
        MediaError: for a ``vidstudio_fps`` that is not a frame rate.
    """
    rate = getattr(clip, "metadata", {}).get("vidstudio_fps")
    own = parse_fps(rate) if rate else None
    out_fps = fps if fps is not None else (own if own is not None else Fraction(project_fps))
    if own is None:
        return out_fps, start, stop
    ratio = own / Fraction(project_fps)

    def at(f: int) -> int:  # the clip frame on screen at project frame f (conform_frame's rule, unclamped)
        return math.floor(f * ratio + Fraction(CONFORM_EPS))

    return out_fps, at(start), (None if stop >= project_frame_count else at(stop))


def export_clip(
    clip: Any,
    path: str | os.PathLike,
    fps: Fraction | float | str,
    *,
    fmt: str = "mp4",
    start: int = 0,
    stop: int | None = None,
    crf: int = 18,
    preset: str = "medium",
    odd_size: str = "pad",
    project_json: str | None = None,
    metadata: dict[str, str] | None = None,
    progress: Callable[[float | None, str], None] | None = None,
    cancel: CancelToken | None = None,
    audio: Any = None,
) -> tuple[Path, list[str]]:
    """Writes frames ``start <= i < stop`` of a clip to an H.264 MP4 or a numbered PNG sequence, streaming.

    Args:
        clip: a :class:`~vidstudio.media.clip.Clip` (or ``(T, H, W, 3)`` float32 frames in [0, 1]); its
            ``metadata`` (e.g. ``vidstudio_seed``, ``vidstudio_model``) is written into the MP4's metadata.
        path: the ``.mp4`` file (the suffix is set to ``.mp4``) or the folder of the PNG sequence.
        fps: frame rate of the MP4 (written exactly, e.g. ``30000/1001``).
        fmt: ``"mp4"`` or ``"png"``.
        start, stop: the frame range (``stop`` None or past the end: the clip's end). PNG files are numbered
            from ``start``.
        crf, preset: x264 quality (0..51) and speed preset.
        odd_size: ``"pad"`` (H.264 needs even sides: repeat the last column / row, said in the notes) or
            ``"refuse"``.
        project_json: the project document to embed in the MP4 (None: none).
        metadata: more MP4 metadata tags, over the clip's.
        progress: called with ``(fraction, message)`` after each frame; cancel: checked before each frame.
        audio: a :class:`~vidstudio.media.audio.Audio` track for the MP4 (AAC): the part from ``start``'s time on,
            cut or padded with silence to the video's length (said in the notes); a PNG sequence has no sound
            (said in the notes).

    Returns:
        ``(path written, notes)``: notes say what was changed on the way (padding), for the user.

    Raises:
        MediaError: for an unknown format, a frame range outside the clip, an ``audio`` that is not an Audio
            track, or what the writers raise (bad size,
            fps, crf or preset; ffmpeg failing). vidstudio.errors.Cancelled: when cancelled; nothing is then left
            under the target name.
    """
    if fmt not in EXPORT_FORMATS:
        raise MediaError(f"{path}: unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    clip = as_clip(clip)
    end = clip.frame_count if stop is None else min(int(stop), clip.frame_count)
    if start < 0 or start >= end:
        raise MediaError(
            f"frame range {start}:{clip.frame_count if stop is None else stop} is outside the clip's "
            f"{clip.frame_count} frames"
        )
    frames = clip.subclip(start, end) if (start, end) != (0, clip.frame_count) else clip
    if audio is not None and not isinstance(audio, Audio):
        raise MediaError(f"{path}: the audio track is a {type(audio).__name__}, expected an Audio track")
    if fmt == "png":
        notes = [] if audio is None else ["a PNG sequence has no sound: the audio track is not written"]
        return write_png_sequence(frames, path, first_number=start, progress=progress, cancel=cancel), notes
    notes = []
    if audio is not None:  # sample 0 plays with the clip's frame 0: the part that goes with start..end
        rate = Fraction(parse_fps(fps))
        seconds, have = float((end - start) / rate), audio.duration - float(start / rate)
        whole, tol = float(clip.frame_count / rate), 0.5 / audio.sample_rate
        if have < seconds - tol:
            notes.append(
                f"audio track of {max(have, 0.0):.3f} s fitted to the video's {seconds:.3f} s (padded with silence)"
            )
        elif audio.duration > whole + tol:  # longer than the whole picture, not only than a range of it
            notes.append(f"audio track of {audio.duration:.3f} s fitted to the video's {whole:.3f} s (cut)")
        audio = audio.for_frames(start, end, rate)
    tags = {**clip.metadata, **(metadata or {})}
    out, more = write_video(
        frames,
        mp4_path(path),
        fps,
        crf=crf,
        preset=preset,
        odd_size=odd_size,
        project_json=project_json,
        metadata=tags or None,
        progress=progress,
        cancel=cancel,
        audio=audio,
    )
    return out, notes + list(more)


__all__ = ["EXPORT_FORMATS", "mp4_path", "clip_rate_and_range", "export_clip"]
