"""Keyframe curves (F-curves): scalar values keyed in time, evaluated at any float frame.

The model follows Blender's F-curves (``blenkernel/intern/fcurve.cc``, ``makesdna/DNA_curve_enums.h``):

* A curve is a sorted list of :class:`Keyframe`. The *left* key's ``interpolation`` governs the segment
  to the next key: ``constant`` (hold), ``linear``, ``bezier``, or an easing preset (``sine`` ... ``bounce``,
  see :mod:`vidstudio.motion.easing`) with ``easing`` in / out / in_out / auto.
* Bezier segments use the keys' handles. Handle types: ``auto_clamped`` (Blender's default: smooth, flat at
  local extrema and at the ends, and never overshooting the neighbouring key values), ``auto`` (smooth,
  tangent = mean of the two neighbouring secant slopes, may overshoot), ``vector`` (each handle points at
  the neighbouring key, making a corner), ``free`` (handle offsets given by the user, each on its own: a
  broken tangent) and ``aligned`` (offsets given by the user, but the left handle is turned to point opposite
  the right one, keeping its own length, so that the tangent stays smooth through the key).
* Outside the keyed range the curve extrapolates ``constant`` (hold the end values) or ``linear`` (continue
  with the end slope).

Times are in frames (float allowed), values are unitless floats (the parameter's own unit).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vidstudio.motion.easing import FAMILIES, ease

Interpolation = Literal[
    "constant",
    "linear",
    "bezier",
    "sine",
    "quad",
    "cubic",
    "quart",
    "quint",
    "expo",
    "circ",
    "back",
    "elastic",
    "bounce",
]
Easing = Literal["auto", "in", "out", "in_out"]
HandleType = Literal["auto_clamped", "auto", "vector", "free", "aligned"]
Extrapolation = Literal["constant", "linear"]

#: Every interpolation a key may have, in the order a user interface lists them.
INTERPOLATIONS: tuple[str, ...] = ("constant", "linear", "bezier", *FAMILIES)
HANDLE_TYPES: tuple[str, ...] = ("auto_clamped", "auto", "vector", "free", "aligned")


class Keyframe(BaseModel):
    """One key of an :class:`FCurve`.

    Attributes:
        frame: time of the key in frames (float).
        value: value at that frame.
        interpolation: how the segment from this key to the next is interpolated.
        easing: easing mode when ``interpolation`` is an easing preset.
        handle_type: Bezier handle type of this key (both sides).
        handle_left: for ``free`` and ``aligned`` handles, the left handle as an offset ``(dframe <= 0,
            dvalue)`` from the key; ignored otherwise (``aligned`` keeps only its length). Offsets move with the
            key when it is retimed.
        handle_right: likewise for the right handle, ``dframe >= 0``.
        back: overshoot of the ``back`` easing.
        amplitude: amplitude of the ``elastic`` easing.
        period: period of the ``elastic`` easing as a fraction of the segment.

    Unknown keys in a file are kept (``extra="allow"``) so that a round trip does not lose them.
    """

    model_config = ConfigDict(extra="allow")

    frame: float
    value: float
    interpolation: Interpolation = "bezier"
    easing: Easing = "auto"
    handle_type: HandleType = "auto_clamped"
    handle_left: tuple[float, float] | None = None
    handle_right: tuple[float, float] | None = None
    back: float = 1.70158
    amplitude: float = 1.0
    period: float = 0.3

    @field_validator("frame", "value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not np.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class FCurve(BaseModel):
    """A keyframed scalar curve, evaluated vectorised at float frames.

    Attributes:
        keys: at least one :class:`Keyframe`, strictly increasing in ``frame`` (sorted on load; two keys on
            the same frame are refused).
        extrapolation: ``constant`` or ``linear`` outside the keyed range.

    Raises:
        pydantic.ValidationError: on construction, for no keys or two keys on the same frame.
    """

    model_config = ConfigDict(extra="allow")

    keys: list[Keyframe] = Field(min_length=1)
    extrapolation: Extrapolation = "constant"

    @field_validator("keys")
    @classmethod
    def _sorted_unique(cls, keys: list[Keyframe]) -> list[Keyframe]:
        keys = sorted(keys, key=lambda k: k.frame)
        for a, b in zip(keys, keys[1:]):
            if b.frame - a.frame < 1e-9:
                raise ValueError(f"two keys on frame {a.frame:g}; each frame may hold one key")
        return keys

    # ----------------------------------------------------------------------------------------- building
    @classmethod
    def constant(cls, value: float) -> FCurve:
        """Returns a one-key curve that is ``value`` everywhere."""
        return cls(keys=[Keyframe(frame=0.0, value=float(value))])

    @classmethod
    def from_points(
        cls,
        points: list[tuple[float, float]],
        interpolation: str = "bezier",
        extrapolation: str = "constant",
        **key_fields,
    ) -> FCurve:
        """Builds a curve from ``(frame, value)`` pairs, every key with the same interpolation."""
        return cls(
            keys=[Keyframe(frame=f, value=v, interpolation=interpolation, **key_fields) for f, v in points],
            extrapolation=extrapolation,
        )

    def with_key(self, frame: float, value: float, **fields) -> FCurve:
        """Returns a copy with a key set at ``frame``: the key there is replaced (keeping its interpolation and
        handles unless ``fields`` say otherwise), or a new one inserted with the interpolation of the key
        before it (``bezier`` if none)."""
        keys = [k.model_copy() for k in self.keys]
        for i, k in enumerate(keys):
            if abs(k.frame - frame) < 1e-6:
                keys[i] = k.model_copy(update={"value": float(value), **fields})
                break
        else:
            prev = [k for k in keys if k.frame < frame]
            base = {"interpolation": prev[-1].interpolation, "easing": prev[-1].easing} if prev else {}
            keys.append(Keyframe(frame=float(frame), value=float(value), **{**base, **fields}))
        return FCurve(keys=keys, extrapolation=self.extrapolation)

    def without_key(self, frame: float) -> FCurve | None:
        """Returns a copy without the key at ``frame`` (within 1e-6), or ``None`` if it was the only key.

        Raises:
            KeyError: when no key lies on ``frame``.
        """
        keys = [k for k in self.keys if abs(k.frame - frame) >= 1e-6]
        if len(keys) == len(self.keys):
            raise KeyError(f"no key on frame {frame:g}")
        return FCurve(keys=keys, extrapolation=self.extrapolation) if keys else None

    def key_at(self, frame: float) -> Keyframe | None:
        """Returns the key on ``frame`` (within 1e-6) or ``None``."""
        for k in self.keys:
            if abs(k.frame - frame) < 1e-6:
                return k
        return None

    # ----------------------------------------------------------------------------------------- handles
    def handles(self) -> tuple[np.ndarray, np.ndarray]:
        """Computes every key's Bezier handles in absolute coordinates.

        Returns:
            ``(left, right)``, each ``(K, 2)`` float64 of ``(frame, value)``. For the automatic types the
            handle's frame offset is a third of the neighbouring interval, so that the Bezier is the cubic
            Hermite spline with the same tangents.
        """
        x = np.array([k.frame for k in self.keys], dtype=np.float64)
        y = np.array([k.value for k in self.keys], dtype=np.float64)
        n = len(x)
        left = np.stack([x, y], axis=1)
        right = left.copy()
        if n == 1:
            return left, right
        dx = np.diff(x)
        sec = np.diff(y) / dx
        for i, k in enumerate(self.keys):
            dxl = dx[i - 1] if i > 0 else dx[0]
            dxr = dx[i] if i < n - 1 else dx[-1]
            sl = sec[i - 1] if i > 0 else None
            sr = sec[i] if i < n - 1 else None
            if k.handle_type in ("free", "aligned"):
                hl = k.handle_left if k.handle_left is not None else (-dxl / 3, 0.0)
                hr = k.handle_right if k.handle_right is not None else (dxr / 3, 0.0)
                if k.handle_type == "aligned":
                    hl = _aligned_left(hl, hr)
                # Keep handle frames inside their segments so that frame(t) stays monotonic.
                lx = float(np.clip(hl[0], -dxl, 0.0))
                rx = float(np.clip(hr[0], 0.0, dxr))
                left[i] = (x[i] + lx, y[i] + hl[1] * (lx / hl[0] if hl[0] else 1.0))
                right[i] = (x[i] + rx, y[i] + hr[1] * (rx / hr[0] if hr[0] else 1.0))
                continue
            if k.handle_type == "vector":
                ml = sl if sl is not None else sr
                mr = sr if sr is not None else sl
            else:
                if sl is None or sr is None:  # first or last key
                    edge = sr if sl is None else sl
                    flat = k.handle_type == "auto_clamped" and self.extrapolation == "constant"
                    m = 0.0 if flat else edge
                elif k.handle_type == "auto_clamped":
                    if sl * sr <= 0.0:
                        m = 0.0  # local extremum or flat neighbour: horizontal handles
                    else:
                        m = 0.5 * (sl + sr)
                        limit = 3.0 * min(abs(sl), abs(sr))
                        m = float(np.sign(m) * min(abs(m), limit))
                else:
                    m = 0.5 * (sl + sr)
                ml = mr = m
            left[i] = (x[i] - dxl / 3, y[i] - ml * dxl / 3)
            right[i] = (x[i] + dxr / 3, y[i] + mr * dxr / 3)
        return left, right

    # ----------------------------------------------------------------------------------------- evaluation
    def evaluate(self, frames: np.ndarray | float | list) -> np.ndarray:
        """Evaluates the curve at ``frames``.

        Args:
            frames: float frames, any shape.

        Returns:
            ``float64`` array of the shape of ``frames``.
        """
        t = np.asarray(frames, dtype=np.float64)
        flat = t.reshape(-1)
        out = np.empty_like(flat)
        keys = self.keys
        x = np.array([k.frame for k in keys])
        y = np.array([k.value for k in keys])
        n = len(keys)
        if n == 1:
            out[:] = y[0]
            return out.reshape(t.shape)
        left, right = self.handles()

        before = flat < x[0]
        after = flat >= x[-1]
        inside = ~(before | after)
        seg = np.clip(np.searchsorted(x, flat, side="right") - 1, 0, n - 2)

        if self.extrapolation == "linear":
            s0 = self._end_slope(0, left, right)
            s1 = self._end_slope(n - 1, left, right)
            out[before] = y[0] + s0 * (flat[before] - x[0])
            out[after] = y[-1] + s1 * (flat[after] - x[-1])
        else:
            out[before] = y[0]
            out[after] = y[-1]

        # Group the frames by segment once (sorting), so that many keys cost O(N log N), not O(N K).
        idx = np.flatnonzero(inside)
        order = np.argsort(seg[idx], kind="stable")
        idx = idx[order]
        segs = seg[idx]
        cuts = np.flatnonzero(np.diff(segs)) + 1
        for m in np.split(idx, cuts):
            if len(m) == 0:
                continue
            i = int(seg[m[0]])
            k = keys[i]
            x0, x1, y0, y1 = x[i], x[i + 1], y[i], y[i + 1]
            u = (flat[m] - x0) / (x1 - x0)
            if k.interpolation == "constant":
                out[m] = y0
            elif k.interpolation == "linear":
                out[m] = y0 + (y1 - y0) * u
            elif k.interpolation == "bezier":
                out[m] = _bezier_y_at_x(flat[m], (x0, y0), tuple(right[i]), tuple(left[i + 1]), (x1, y1))
            else:
                p = ease(k.interpolation, k.easing, u, back=k.back, amplitude=k.amplitude, period=k.period)
                out[m] = y0 + (y1 - y0) * p
        return out.reshape(t.shape)

    def _end_slope(self, i: int, left: np.ndarray, right: np.ndarray) -> float:
        """Slope (value per frame) that linear extrapolation continues with at the first (``i == 0``) or last
        key: the handle's direction for Bezier segments, the secant for linear ones, 0 for constant ones, and
        the easing's own end slope for easing presets."""
        keys = self.keys
        first = i == 0
        seg = keys[0] if first else keys[-2]  # the key whose interpolation governs the end segment
        a, b = (keys[0], keys[1]) if first else (keys[-2], keys[-1])
        dx = b.frame - a.frame
        if seg.interpolation == "constant":
            return 0.0
        if seg.interpolation == "linear":
            return (b.value - a.value) / dx
        if seg.interpolation == "bezier":
            if first:
                hdx = keys[0].frame - left[0, 0]
                return float((keys[0].value - left[0, 1]) / hdx) if hdx > 0 else 0.0
            hdx = right[-1, 0] - keys[-1].frame
            return float((right[-1, 1] - keys[-1].value) / hdx) if hdx > 0 else 0.0
        h = 1e-6
        u = np.array([0.0, h]) if first else np.array([1.0 - h, 1.0])
        p = ease(seg.interpolation, seg.easing, u, back=seg.back, amplitude=seg.amplitude, period=seg.period)
        return float((p[1] - p[0]) / h * (b.value - a.value) / dx)

    def value_at(self, frame: float) -> float:
        """Returns the value at one float frame."""
        return float(self.evaluate(np.array([frame]))[0])

    def sample(self, frame_count: int, start: float = 0.0) -> np.ndarray:
        """Samples the curve once per frame.

        Returns:
            ``(frame_count,)`` float64: the values at frames ``start, start + 1, ...``.
        """
        return self.evaluate(start + np.arange(frame_count, dtype=np.float64))


def _aligned_left(hl: tuple[float, float], hr: tuple[float, float]) -> tuple[float, float]:
    """The left handle offset of an ``aligned`` key: the length of ``hl`` along the direction opposite ``hr``
    (``hl`` itself when ``hr`` has no length). Offsets are ``(dframe, dvalue)``."""
    rn = float(np.hypot(hr[0], hr[1]))
    if rn <= 0.0:
        return (float(hl[0]), float(hl[1]))
    ln = float(np.hypot(hl[0], hl[1]))
    return (-hr[0] / rn * ln, -hr[1] / rn * ln)


def _bezier_y_at_x(
    xs: np.ndarray,
    p0: tuple[float, float],
    p1: tuple[float, float],
    p2: tuple[float, float],
    p3: tuple[float, float],
) -> np.ndarray:
    """Evaluates a cubic Bezier segment as a function of x.

    Solves ``x(t) = xs`` for ``t`` in [0, 1] (x(t) is monotonic because the handles' x lie inside the segment)
    by bisection to 1e-12 of the segment, then returns ``y(t)``.

    Args:
        xs: ``(M,)`` float64 frames inside ``[p0.x, p3.x]``.
        p0..p3: control points ``(frame, value)``.

    Returns:
        ``(M,)`` float64 values.
    """
    X = np.array([p0[0], p1[0], p2[0], p3[0]])
    Y = np.array([p0[1], p1[1], p2[1], p3[1]])

    def bez(c: np.ndarray, t: np.ndarray) -> np.ndarray:
        s = 1.0 - t
        return c[0] * s**3 + 3 * c[1] * s * s * t + 3 * c[2] * s * t * t + c[3] * t**3

    span = X[3] - X[0]
    # Handles at thirds make x(t) linear: no solve needed (the automatic handle types).
    if abs(X[1] - (X[0] + span / 3)) < 1e-12 * max(1.0, span) and abs(X[2] - (X[0] + 2 * span / 3)) < 1e-12 * max(
        1.0, span
    ):
        return bez(Y, (xs - X[0]) / span)
    lo = np.zeros_like(xs)
    hi = np.ones_like(xs)
    for _ in range(42):
        mid = 0.5 * (lo + hi)
        below = bez(X, mid) < xs
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return bez(Y, 0.5 * (lo + hi))


# ----------------------------------------------------------------------------------------------- key edits
def set_key(curve: FCurve | None, frame: float, value: float) -> FCurve:
    """Returns ``curve`` with a key at ``frame`` set to ``value`` (a new one-key curve when ``curve`` is None).

    A key placed between others takes the interpolation of the key before it (Blender's rule)."""
    if curve is None:
        return FCurve(keys=[Keyframe(frame=float(frame), value=float(value))])
    return curve.with_key(float(frame), float(value))


def move_key(curve: FCurve, frame_from: float, frame_to: float) -> FCurve:
    """Returns ``curve`` with its key on ``frame_from`` retimed to ``frame_to`` (value, interpolation and
    handles kept).

    Raises:
        KeyError: when no key lies on ``frame_from``.
        ValueError: when another key already lies on ``frame_to``.
    """
    key = curve.key_at(frame_from)
    if key is None:
        raise KeyError(f"no key on frame {frame_from:g}")
    if abs(frame_from - frame_to) < 1e-6:
        return curve
    if curve.key_at(frame_to) is not None:
        raise ValueError(f"frame {frame_to:g} already holds a key")
    keys = [k for k in curve.keys if k is not key] + [key.model_copy(update={"frame": float(frame_to)})]
    return FCurve(keys=keys, extrapolation=curve.extrapolation)
