"""Time remapping: a keyed speed curve turned into the source time shown at each output frame.

Output frame ``k`` shows source time ``tau[k]`` (in source frames), the running integral of the speed::

    tau[0] = start,   tau[k + 1] = tau[k] + (speed[k] + speed[k + 1]) / 2     (trapezoid rule)

so a speed of 1 plays normally, 0.5 plays at half speed (each source frame lasts two output frames), 0
freezes and a negative speed plays backwards. Times are clamped to the source's frames (holding its first or
last frame). Between two source frames the picture is blended (:func:`blend_weights`), which keeps slowed
motion smooth instead of stuttering on repeated frames.
"""

from __future__ import annotations

import numpy as np


def source_times(speed: np.ndarray, start: float = 0.0) -> np.ndarray:
    """Source time (frames, float64) shown at each output frame.

    Args:
        speed: ``(T,)`` speed per output frame (source frames per output frame).
        start: source time at output frame 0.

    Returns:
        ``(T,)`` float64, not clamped.

    Raises:
        ValueError: for a non-finite speed.
    """
    s = np.asarray(speed, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(s)):
        raise ValueError("speed must be finite")
    if len(s) == 0:
        return np.zeros(0)
    steps = 0.5 * (s[:-1] + s[1:])
    return float(start) + np.concatenate([[0.0], np.cumsum(steps)])


def blend_weights(tau: np.ndarray, source_count: int, mode: str = "blend") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which source frames make each output frame.

    Args:
        tau: ``(T,)`` source times; source_count: frames in the source (>= 1).
        mode: ``blend`` (cross-fade the two neighbouring source frames by the fractional time) or ``nearest``.

    Returns:
        ``(i0, i1, w)``: ``(T,)`` int source frames and ``(T,)`` float32 weights: output = ``(1 - w) * src[i0]
        + w * src[i1]``.

    Raises:
        ValueError: for an unknown mode or an empty source.
    """
    if source_count < 1:
        raise ValueError("the source has no frames")
    if mode not in ("blend", "nearest"):
        raise ValueError(f"unknown frame blending {mode!r}; expected blend or nearest")
    t = np.clip(np.asarray(tau, dtype=np.float64), 0.0, source_count - 1)
    if mode == "nearest":
        i = np.floor(t + 0.5).astype(int).clip(0, source_count - 1)
        return i, i, np.zeros(len(t), dtype=np.float32)
    i0 = np.floor(t).astype(int).clip(0, source_count - 1)
    i1 = np.minimum(i0 + 1, source_count - 1)
    w = (t - i0).astype(np.float32)
    w[i1 == i0] = 0.0
    snap = w < 1e-6
    w[snap] = 0.0
    return i0, i1, w
