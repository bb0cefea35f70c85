"""Timecode and frame-rate labels, and conforming a clip at another rate to the project's timebase: the edge
where frames meet seconds."""

from __future__ import annotations

import math
from fractions import Fraction


def timecode(frame: int, fps: Fraction | float) -> str:
    """SMPTE-style non-drop timecode ``HH:MM:SS:FF`` of ``frame`` at ``fps`` (frames counted at the nominal
    rate, the rounded-up fps: 30000/1001 counts 30 frames per second, as non-drop timecode does).

    Args:
        frame: frame number (0-based; negative gives a leading ``-``).
        fps: frames per second.
    """
    nominal = max(1, math.ceil(float(fps) - 1e-9))
    sign = "-" if frame < 0 else ""
    f = abs(int(frame))
    ff = f % nominal
    s = f // nominal
    return f"{sign}{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{ff:02d}"


def fps_text(fps: Fraction) -> str:
    """``"24"``, ``"29.97 (30000/1001)"``: a frame rate for labels."""
    if fps.denominator == 1:
        return str(fps.numerator)
    return f"{float(fps):.3f}".rstrip("0").rstrip(".") + f" ({fps.numerator}/{fps.denominator})"


#: Tolerance, in frames, of :func:`conform_frame` and :func:`conformed_length`: a time that lands on a
#: frame's start up to float error counts as that frame. Far below the 1/1001 frame that separates two distinct
#: exact times at broadcast rates, so exact rates (Fractions) are never moved by it.
CONFORM_EPS = 1e-6


def _rate(fps: Fraction | int | float | str, what: str) -> Fraction:
    try:
        r = Fraction(fps) if not isinstance(fps, str) else Fraction(fps.strip())
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"{what} {fps!r} is not a frame rate") from None
    if r <= 0:
        raise ValueError(f"{what} {fps} must be positive")
    return r


def conform_frame(
    frame: int,
    project_fps: Fraction | int | float | str,
    clip_fps: Fraction | int | float | str,
    frame_count: int,
) -> int:
    """The frame of a clip at ``clip_fps`` that is on screen at project frame ``frame``: conforming by time, as
    an editor's timeline does with a clip at another rate.

    Rule: project frame ``f`` starts at ``t = f / project_fps`` seconds; the clip frame on screen then is the one
    whose display interval ``[k / clip_fps, (k + 1) / clip_fps)`` holds ``t``:
    ``k = floor(f * clip_fps / project_fps + CONFORM_EPS)``, clamped to ``[0, frame_count - 1]`` (frames are
    repeated or dropped, never blended; Load Video's rate conversion picks source frames the same way). Equal
    rates give ``k = f``. Computed exactly in Fractions (a float rate is taken at its exact binary value; the
    tolerance absorbs its error).

    Args:
        frame: project frame (0-based).
        project_fps: the project's frame rate (frames per second, > 0).
        clip_fps: the clip's own frame rate (> 0).
        frame_count: frames in the clip (>= 1).

    Returns:
        the clip frame index, an int in ``[0, frame_count - 1]``.

    Raises:
        ValueError: for a non-positive or unparsable rate, or ``frame_count < 1``.
    """
    p, c = _rate(project_fps, "project frame rate"), _rate(clip_fps, "clip frame rate")
    if frame_count < 1:
        raise ValueError(f"a clip has at least 1 frame, got frame_count={frame_count}")
    k = math.floor(Fraction(int(frame)) * c / p + Fraction(CONFORM_EPS))
    return min(max(k, 0), int(frame_count) - 1)


def conformed_length(
    frame_count: int, clip_fps: Fraction | int | float | str, project_fps: Fraction | int | float | str
) -> int:
    """How many project frames a clip of ``frame_count`` frames at ``clip_fps`` spans: the project frames that
    start before the clip's end, ``ceil(frame_count * project_fps / clip_fps - CONFORM_EPS)``, at least 1.

    Project frames ``0 .. n - 1`` show the clip (:func:`conform_frame`); from ``n`` on the clip has ended.
    Equal rates give ``frame_count``.

    Raises:
        ValueError: for a non-positive or unparsable rate, or ``frame_count < 1``.
    """
    p, c = _rate(project_fps, "project frame rate"), _rate(clip_fps, "clip frame rate")
    if frame_count < 1:
        raise ValueError(f"a clip has at least 1 frame, got frame_count={frame_count}")
    return max(1, math.ceil(Fraction(int(frame_count)) * p / c - Fraction(CONFORM_EPS)))


__all__ = ["timecode", "fps_text", "conform_frame", "conformed_length", "CONFORM_EPS"]
