"""Timecode and frame-rate labels, at the edge where frames meet seconds."""

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


__all__ = ["timecode", "fps_text"]
