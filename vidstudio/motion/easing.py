"""Easing functions: maps of normalised time ``t`` in [0, 1] to progress, vectorised over numpy arrays.

Source: Robert Penner's easing equations (Penner, *Programming Macromedia Flash MX*, 2002, chapter 7), in
the form Blender uses for F-curve easing (``blenlib/intern/easing.cc``) with the same parameters: ``back``
(overshoot, default 1.70158) and elastic ``amplitude`` / ``period`` (fraction of the segment). Each family
is defined once as its ease-in curve; ease-out is ``1 - in(1 - t)`` and ease-in-out joins the two halves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

EasingFamily = Literal["sine", "quad", "cubic", "quart", "quint", "expo", "circ", "back", "elastic", "bounce"]
EasingMode = Literal["in", "out", "in_out"]

#: Easing families, in the order a user interface lists them.
FAMILIES: tuple[str, ...] = ("sine", "quad", "cubic", "quart", "quint", "expo", "circ", "back", "elastic", "bounce")
#: Families whose "auto" easing is ease-out (dynamic effects), as in Blender; the others ease in.
DYNAMIC_FAMILIES: frozenset[str] = frozenset({"back", "elastic", "bounce"})
MODES: tuple[str, ...] = ("in", "out", "in_out")


def _bounce_out(t: np.ndarray) -> np.ndarray:
    n1, d1 = 7.5625, 2.75
    out = np.empty_like(t)
    a = t < 1 / d1
    b = ~a & (t < 2 / d1)
    c = ~a & ~b & (t < 2.5 / d1)
    d = ~(a | b | c)
    out[a] = n1 * t[a] ** 2
    tb = t[b] - 1.5 / d1
    out[b] = n1 * tb**2 + 0.75
    tc = t[c] - 2.25 / d1
    out[c] = n1 * tc**2 + 0.9375
    td = t[d] - 2.625 / d1
    out[d] = n1 * td**2 + 0.984375
    return out


def _elastic_in(t: np.ndarray, amplitude: float, period: float) -> np.ndarray:
    period = period if period > 0 else 0.3
    if amplitude < 1.0:
        amplitude, s = 1.0, period / 4.0
    else:
        s = period / (2 * np.pi) * np.arcsin(1.0 / amplitude)

    def raw(x):
        u = x - 1.0
        return -(amplitude * np.power(2.0, 10.0 * u) * np.sin((u - s) * (2 * np.pi) / period))

    # Penner's curve starts at -2^-10 * sin(...), not 0: remove that offset linearly so that both ends are
    # exact and the curve stays continuous (Penner and Blender special-case t = 0, leaving a small jump).
    return raw(t) - (1.0 - t) * raw(np.zeros(1))[0]


def _ease_in(family: str, t: np.ndarray, back: float, amplitude: float, period: float) -> np.ndarray:
    if family == "sine":
        return 1.0 - np.cos(t * np.pi / 2)
    if family in ("quad", "cubic", "quart", "quint"):
        return t ** {"quad": 2, "cubic": 3, "quart": 4, "quint": 5}[family]
    if family == "expo":
        return np.where(t <= 0.0, 0.0, np.power(2.0, 10.0 * t - 10.0))
    if family == "circ":
        return 1.0 - np.sqrt(np.clip(1.0 - t * t, 0.0, None))
    if family == "back":
        return (back + 1.0) * t**3 - back * t**2
    if family == "elastic":
        return _elastic_in(t, amplitude, period)
    if family == "bounce":
        return 1.0 - _bounce_out(1.0 - t)
    raise ValueError(f"unknown easing family {family!r}; expected one of {', '.join(FAMILIES)}")


def ease(
    family: str,
    mode: str,
    t: np.ndarray | float,
    *,
    back: float = 1.70158,
    amplitude: float = 1.0,
    period: float = 0.3,
) -> np.ndarray:
    """Evaluates an easing curve.

    Args:
        family: one of :data:`FAMILIES` (``"sine"``, ``"quad"``, ... ``"bounce"``).
        mode: ``"in"``, ``"out"``, ``"in_out"``, or ``"auto"`` (ease-out for back, elastic and bounce,
            ease-in for the others, as Blender does).
        t: normalised time, any shape, float; values outside [0, 1] are clamped.
        back: overshoot of the ``back`` family (1.70158 gives a 10 % overshoot).
        amplitude: amplitude of the ``elastic`` family (values below 1 mean 1).
        period: period of the ``elastic`` family as a fraction of the segment (0 means 0.3).

    Returns:
        ``float64`` array of the shape of ``t``; 0 at ``t = 0`` and 1 at ``t = 1`` for every family
        (``back`` and ``elastic`` leave [0, 1] in between by design).

    Raises:
        ValueError: for an unknown family or mode.
    """
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if mode == "auto":
        mode = "out" if family in DYNAMIC_FAMILIES else "in"
    f: Callable[[np.ndarray], np.ndarray] = lambda x: _ease_in(family, x, back, amplitude, period)  # noqa: E731
    if mode == "in":
        return f(t)
    if mode == "out":
        return 1.0 - f(1.0 - t)
    if mode == "in_out":
        lo = t < 0.5
        out = np.empty_like(t)
        out[lo] = f(2.0 * t[lo]) / 2.0
        out[~lo] = 1.0 - f(2.0 - 2.0 * t[~lo]) / 2.0
        return out
    raise ValueError(f"unknown easing mode {mode!r}; expected one of auto, {', '.join(MODES)}")
