"""Frame interpolation by optical flow (OpenCV's DIS flow), lazily, to a target frame rate or by a factor.

The clip keeps its duration, as an editor's retime does: ``n_in`` frames at ``fps_in`` become
``n_out = round(n_in * fps_out / fps_in)`` frames at ``fps_out`` (:func:`output_count`; by a whole factor ``f`` that
is ``n_in * f``), so a sound track made for the source still fits. Output frame ``k`` shows source time
``p = min(k * fps_in / fps_out, n_in - 1)``: the positions past the last source frame hold the last frame (the last
source frame is on screen for its whole 1 / fps_in, as in the source). At whole source frames it is that frame; between
frames ``i`` and ``i + 1`` at fraction ``t`` both neighbours are warped towards ``p`` along the dense flow between
them (Dense Inverse Search: Kroeger et al. 2016, ``cv2.DISOpticalFlow``) and cross-faded,
``(1 - t) * warp(a, -t * F_ab) + t * warp(b, -(1 - t) * F_ba)``. A classical stand-in for learned
interpolators (RIFE, FILM), which are not wired in: docs/video-in.md, "Not done yet", says why.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction

import numpy as np

from vidstudio.errors import MediaError
from vidstudio.media.clip import Clip


def output_count(frame_count: int, fps_in: Fraction, fps_out: Fraction) -> int:
    """Frames of an interpolated clip: ``round(frame_count * fps_out / fps_in)``, at least 1, so that it lasts as
    long as the source (``frame_count / fps_in`` seconds).

    Rounding, for a ratio that does not give a whole count: to the nearest frame, a tie (exactly half a frame)
    rounding up, computed exactly in Fractions; the output's duration then differs from the source's by at most half
    an output frame (``0.5 / fps_out`` s), and is never shorter on a tie. A whole factor ``f``
    (``fps_out = f * fps_in``) gives exactly ``frame_count * f``. E.g. 48 frames at 24 fps (2 s) give 120 at 60 fps,
    as ffmpeg's ``minterpolate`` does; 5 frames at 12 fps give 13 at 30 fps (12.5 rounded up); 24 frames at 24 fps
    give 30 at 30000/1001 (29.97).

    Raises:
        MediaError: for a non-positive rate.
    """
    if fps_in <= 0 or fps_out <= 0:
        raise MediaError(f"frame rates must be positive, got {fps_in} and {fps_out}")
    exact = Fraction(int(frame_count)) * Fraction(fps_out) / Fraction(fps_in)
    return max(1, math.floor(exact + Fraction(1, 2)))


def output_positions(frame_count: int, fps_in: Fraction, fps_out: Fraction) -> np.ndarray:
    """``(T_out,)`` float64 source positions (frames) of the output frames, ``T_out`` = :func:`output_count`:
    ``min(k * fps_in / fps_out, frame_count - 1)`` (the positions past the last source frame hold the last frame).

    Raises:
        MediaError: for a non-positive rate.
    """
    count = output_count(frame_count, fps_in, fps_out)
    step = Fraction(fps_in) / Fraction(fps_out)
    last = max(int(frame_count) - 1, 0)
    return np.asarray([float(min(k * step, last)) for k in range(count)], np.float64)


def _gray(frame: np.ndarray) -> np.ndarray:
    import cv2

    u8 = np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(u8, cv2.COLOR_RGB2GRAY)


def _warp(frame: np.ndarray, flow: np.ndarray, scale: float) -> np.ndarray:
    """Samples ``frame`` at ``x + scale * flow(x)`` (bilinear, edges replicated)."""
    import cv2

    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    s = np.float32(scale)
    mx, my = (gx + s * flow[..., 0]).astype(np.float32), (gy + s * flow[..., 1]).astype(np.float32)
    return cv2.remap(
        np.ascontiguousarray(frame, np.float32), mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def interpolate_clip(clip: Clip, fps_in: Fraction, fps_out: Fraction) -> Clip:
    """A lazy clip of ``clip`` resampled from ``fps_in`` to ``fps_out`` by flow interpolation (module docstring).

    Returns:
        a :class:`Clip` whose ``metadata["vidstudio_fps"]`` is ``fps_out`` (Export Video writes that rate when
        its own ``fps`` is empty) and ``positions`` the ``(T_out,)`` source positions.

    Raises:
        MediaError: for a non-positive rate.
    """
    import cv2

    pos = output_positions(clip.frame_count, Fraction(fps_in), Fraction(fps_out))
    flows: dict[tuple[int, int], np.ndarray] = {}
    lock = threading.Lock()
    dis = threading.local()

    def flow(i: int, j: int) -> np.ndarray:
        with lock:
            hit = flows.get((i, j))
        if hit is not None:
            return hit
        if not hasattr(dis, "engine"):
            dis.engine = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        f = dis.engine.calc(_gray(clip.frame(i)), _gray(clip.frame(j)), None)
        with lock:
            flows[(i, j)] = f
            while len(flows) > 8:
                flows.pop(next(iter(flows)))
        return f

    def render(k: int) -> np.ndarray:
        p = pos[k]
        i = int(np.floor(p + 1e-9))
        t = p - i
        if t < 1e-6 or i + 1 >= clip.frame_count:
            return clip.frame(min(i, clip.frame_count - 1))
        a, b = clip.frame(i), clip.frame(i + 1)
        # Backward warps: the pixel at x in the in-between frame came from x - t * F_ab in a, x - (1-t) F_ba in b.
        wa = _warp(a, flow(i, i + 1), -t)
        wb = _warp(b, flow(i + 1, i), -(1.0 - t))
        return np.clip((1.0 - t) * wa + t * wb, 0.0, 1.0).astype(np.float32)

    out = Clip(len(pos), clip.height, clip.width, render, cache_frames=4, label=f"{clip.label} at {fps_out} fps")
    out.metadata.update(clip.metadata)
    out.metadata["vidstudio_fps"] = str(Fraction(fps_out))
    out.positions = pos
    return out


__all__ = ["output_count", "output_positions", "interpolate_clip"]
