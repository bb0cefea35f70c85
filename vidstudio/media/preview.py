"""Small previews of media files for the Timeline: thumbnails of a video's frames and the peaks of its sound.

Cached by file, modification time and request, so that repainting costs nothing; headless (numpy, PyAV).
"""

from __future__ import annotations

import functools
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidstudio.errors import MediaError


def video_thumbnails(
    path: str | os.PathLike, fps: Fraction | float, trim_in: float, trim_out: float, count: int, height: int
) -> tuple[int, list[tuple[int, np.ndarray]]]:
    """Thumbnails of a trimmed video at a frame rate, as Load Video would show it.

    Args:
        path: the file. fps: the project's frame rate. trim_in, trim_out: seconds (``trim_out`` 0: the end).
        count: thumbnails wanted (spread evenly over the trim). height: their height in pixels.

    Returns:
        ``(frame_count, [(frame, (h, w, 3) uint8 RGB), ...])``: the clip's length in frames at ``fps`` and each
        thumbnail with the output frame it shows.

    Raises:
        MediaError: naming the file when it cannot be decoded.
    """
    p = Path(path)
    st = p.stat() if p.is_file() else None
    if st is None:
        raise MediaError(f"{p}: video file not found")
    return _thumbs(
        str(p),
        st.st_mtime_ns,
        str(Fraction(fps).limit_denominator(100000)),
        float(trim_in),
        float(trim_out),
        int(count),
        int(height),
    )


@functools.lru_cache(maxsize=32)
def _thumbs(path, mtime, fps, trim_in, trim_out, count, height):
    from PIL import Image

    from vidstudio.media.decode import open_video_clip

    clip, _, src = open_video_clip(path, fps=Fraction(fps), trim_in=trim_in, trim_out=trim_out, cache_frames=2)
    n = clip.frame_count
    frames = sorted({int(round(k * (n - 1) / max(count - 1, 1))) for k in range(max(1, count))})
    out = []
    for f in frames:
        rgb = src.source_frame(int(clip.source_indices[f]))[..., :3]
        if rgb.dtype != np.uint8:
            rgb = (rgb >> 8).astype(np.uint8)
        w = max(1, round(rgb.shape[1] * height / rgb.shape[0]))
        out.append((f, np.asarray(Image.fromarray(rgb).resize((w, height), Image.BILINEAR))))
    src.close()
    return n, out


def audio_peaks(path: str | os.PathLike, trim_in: float, trim_out: float, buckets: int) -> tuple[float, np.ndarray]:
    """The sound of a file over a trim, as ``(duration in seconds, (buckets, 2) float32 min/max peaks)``; a file
    without sound gives ``(0.0, zeros)``.

    Raises:
        MediaError: naming the file when it cannot be decoded.
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: file not found")
    return _peaks(str(p), p.stat().st_mtime_ns, float(trim_in), float(trim_out), int(buckets))


@functools.lru_cache(maxsize=32)
def _peaks(path, mtime, trim_in, trim_out, buckets):
    from vidstudio.media.audio import decode_audio, waveform_peaks

    try:
        sound = decode_audio(path, start=trim_in, end=trim_out)
    except MediaError as e:
        if "holds no audio stream" in str(e):
            return 0.0, np.zeros((buckets, 2), np.float32)
        raise
    return sound.duration, waveform_peaks(sound, buckets)


__all__ = ["audio_peaks", "video_thumbnails"]
