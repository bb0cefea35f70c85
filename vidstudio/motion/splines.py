"""Plane curves through control points, all represented as chains of cubic Bezier segments.

Every interpolation a drawn path offers is converted to the same form, an ``(S, 4, 2)`` array of cubic Bezier
control points (one row per segment, in pixels), so that evaluation, tangents, arc length and drawing are one
vectorised code path (:class:`BezierChain`):

* ``catmull_rom``: the centripetal Catmull-Rom spline (``alpha = 0.5``), which passes through every point and,
  unlike the uniform variant, never forms cusps or self-intersections within a segment on unevenly spaced
  points. Source: C. Yuksel, S. Schaefer, J. Keyser, "On the Parameterization of Catmull-Rom Curves", SPAM
  2009 / CAD 2011; the segment is written in Hermite form with the tangents of the Barry-Goldman pyramid.
  The end segments use the natural end condition (zero curvature at the first and last point), so a path
  through a few points bends without inflections at its ends.
* ``bezier``: cubic Bezier segments with per-point handles; a point without handles gets the Catmull-Rom
  tangent (smooth, "auto" handles).
* ``bspline``: the clamped uniform cubic B-spline whose control polygon is the points (it starts at the first
  and ends at the last point and is C2 in between, but does not pass through the inner points); evaluated with
  :class:`scipy.interpolate.BSpline` and converted span by span to Bezier form (exact: each span is a cubic).
  Fewer than four points lower the degree.
* ``linear``: straight segments (a polyline).

A chain's parameter ``u`` runs from ``0`` to ``S`` (segment ``floor(u)``, local ``t = u - floor(u)``).
Consecutive duplicate points are merged before building a chain; :func:`build_chain` reports where each
input point lies on the curve (``point_u``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

SplineKind = Literal["catmull_rom", "bezier", "bspline", "linear"]
SPLINE_KINDS: tuple[str, ...] = ("catmull_rom", "bezier", "bspline", "linear")
#: Sub-intervals per segment of the arc-length table (chord lengths; relative error well below 1e-4 for
#: drawn paths).
ARC_SAMPLES = 48
_DUP = 1e-6


@dataclass(frozen=True)
class BezierChain:
    """A chain of cubic Bezier segments with an arc-length table.

    Attributes:
        segments: ``(S, 4, 2)`` float64 control points in pixels (``S >= 1``; a single point is a zero-length
            segment).
        arc_u: ``(S * ARC_SAMPLES + 1,)`` parameters of the arc-length table.
        arc_s: the arc length (px) from the start at each ``arc_u`` (non-decreasing).
    """

    segments: np.ndarray
    arc_u: np.ndarray
    arc_s: np.ndarray

    @classmethod
    def from_segments(cls, segments: np.ndarray) -> BezierChain:
        """Builds the chain and its arc-length table from ``(S, 4, 2)`` control points."""
        seg = np.asarray(segments, dtype=np.float64).reshape(-1, 4, 2)
        n = seg.shape[0]
        t = np.linspace(0.0, 1.0, ARC_SAMPLES + 1)
        pts = _bezier_points(seg, t)  # (S, A+1, 2)
        chords = np.linalg.norm(np.diff(pts, axis=1), axis=2).reshape(-1)
        arc_s = np.concatenate([[0.0], np.cumsum(chords)])
        arc_u = (np.arange(n)[:, None] + t[None, 1:]).reshape(-1)
        arc_u = np.concatenate([[0.0], arc_u])
        return cls(seg, arc_u, arc_s)

    @property
    def segment_count(self) -> int:
        """Number of segments ``S``."""
        return self.segments.shape[0]

    @property
    def length(self) -> float:
        """Total arc length in pixels."""
        return float(self.arc_s[-1])

    def _split(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, self.segment_count)
        i = np.minimum(np.floor(u).astype(int), self.segment_count - 1)
        return i, u - i

    def point(self, u: np.ndarray | float) -> np.ndarray:
        """Points at parameters ``u`` (clamped to ``[0, S]``): ``(*u.shape, 2)`` float64 pixels."""
        u = np.asarray(u, dtype=np.float64)
        i, t = self._split(u.reshape(-1))
        b = self.segments[i]
        s = 1.0 - t
        w = np.stack([s**3, 3 * s * s * t, 3 * s * t * t, t**3], axis=1)
        return np.einsum("nk,nkd->nd", w, b).reshape(*u.shape, 2)

    def derivative(self, u: np.ndarray | float) -> np.ndarray:
        """``dP/du`` at ``u``: ``(*u.shape, 2)`` pixels per unit of ``u``."""
        u = np.asarray(u, dtype=np.float64)
        i, t = self._split(u.reshape(-1))
        b = self.segments[i]
        s = 1.0 - t
        d = (
            3 * (s * s)[:, None] * (b[:, 1] - b[:, 0])
            + 6 * (s * t)[:, None] * (b[:, 2] - b[:, 1])
            + 3 * (t * t)[:, None] * (b[:, 3] - b[:, 2])
        )
        return d.reshape(*u.shape, 2)

    def direction(self, u: np.ndarray | float) -> np.ndarray:
        """Unit tangents at ``u``, ``(*u.shape, 2)``. Where the derivative vanishes (a handle collapsed onto its
        point) the direction of a short chord around ``u`` is used; a chain of zero length gives ``(1, 0)``."""
        u = np.asarray(u, dtype=np.float64)
        uu = u.reshape(-1)
        d = self.derivative(uu)
        norm = np.linalg.norm(d, axis=1)
        for h in (1e-4, 1e-2, 0.5):
            weak = norm < 1e-9
            if not weak.any():
                break
            a = np.clip(uu[weak] - h, 0.0, self.segment_count)
            b = np.clip(uu[weak] + h, 0.0, self.segment_count)
            d[weak] = self.point(b) - self.point(a)
            norm[weak] = np.linalg.norm(d[weak], axis=1)
        flat = norm < 1e-12
        d[flat] = (1.0, 0.0)
        norm[flat] = 1.0
        return (d / norm[:, None]).reshape(*u.shape, 2)

    def length_at(self, u: np.ndarray | float) -> np.ndarray:
        """Arc length from the start to parameter ``u`` (px), same shape as ``u``."""
        return np.interp(np.asarray(u, dtype=np.float64), self.arc_u, self.arc_s)

    def u_at_length(self, s: np.ndarray | float) -> np.ndarray:
        """The parameter at arc length ``s`` (px; clamped to ``[0, length]``), same shape as ``s``: the
        arc-length reparameterisation used for constant-speed motion."""
        s = np.clip(np.asarray(s, dtype=np.float64), 0.0, self.length)
        return np.interp(s, self.arc_s, self.arc_u)

    def polyline(self, samples_per_segment: int = 24) -> np.ndarray:
        """A dense polyline of the curve for drawing: ``(S * samples_per_segment + 1, 2)`` float64 pixels."""
        n = max(1, int(samples_per_segment))
        u = np.linspace(0.0, self.segment_count, self.segment_count * n + 1)
        return self.point(u)


def _bezier_points(seg: np.ndarray, t: np.ndarray) -> np.ndarray:
    s = 1.0 - t
    w = np.stack([s**3, 3 * s * s * t, 3 * s * t * t, t**3], axis=1)  # (A, 4)
    return np.einsum("ak,skd->sad", w, seg)


def dedupe(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merges consecutive points closer than 1e-6 px.

    Returns:
        ``(unique_points (m, 2), index (n,))``: ``index[i]`` is the merged point that input point ``i`` became.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    keep = [0]
    index = np.zeros(len(p), dtype=int)
    for i in range(1, len(p)):
        if np.linalg.norm(p[i] - p[keep[-1]]) > _DUP:
            keep.append(i)
        index[i] = len(keep) - 1
    return p[keep], index


def catmull_rom_tangents(points: np.ndarray, alpha: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Tangents of the centripetal Catmull-Rom spline through distinct consecutive ``points``.

    Args:
        points: ``(m, 2)``, ``m >= 2``, no two consecutive points equal.
        alpha: 0.5 centripetal (0 uniform, 1 chordal).

    Returns:
        ``(out, in_)`` each ``(m - 1, 2)``: for segment ``i`` from ``P[i]`` to ``P[i+1]``, the derivative
        ``dP/dt`` (``t`` in [0, 1] over the segment) at its start and at its end. The first and last points
        get natural-end tangents (zero second derivative there); two points give a straight line.
    """
    p = np.asarray(points, dtype=np.float64)
    ext = np.concatenate([[2 * p[0] - p[1]], p, [2 * p[-1] - p[-2]]])
    d = np.maximum(np.linalg.norm(np.diff(ext, axis=0), axis=1) ** alpha, 1e-12)  # (m + 1,)
    m = len(p)
    out = np.empty((m - 1, 2))
    inn = np.empty((m - 1, 2))
    for i in range(m - 1):
        P0, P1, P2, P3 = ext[i], ext[i + 1], ext[i + 2], ext[i + 3]
        d01, d12, d23 = d[i], d[i + 1], d[i + 2]
        m1 = (P1 - P0) / d01 - (P2 - P0) / (d01 + d12) + (P2 - P1) / d12
        m2 = (P2 - P1) / d12 - (P3 - P1) / (d12 + d23) + (P3 - P2) / d23
        out[i] = m1 * d12
        inn[i] = m2 * d12
    # Natural ends (zero curvature at the first and last point) instead of the phantom points' tangents, which
    # would put an inflection into the end segments.
    if m == 2:
        out[0] = inn[0] = p[1] - p[0]
    else:
        out[0] = 0.5 * (3.0 * (p[1] - p[0]) - inn[0])
        inn[-1] = 0.5 * (3.0 * (p[-1] - p[-2]) - out[-1])
    return out, inn


def catmull_rom_segments(points: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Bezier form ``(m - 1, 4, 2)`` of the centripetal Catmull-Rom spline through ``points`` (see
    :func:`catmull_rom_tangents`)."""
    p = np.asarray(points, dtype=np.float64)
    out, inn = catmull_rom_tangents(p, alpha)
    return np.stack([p[:-1], p[:-1] + out / 3.0, p[1:] - inn / 3.0, p[1:]], axis=1)


def linear_segments(points: np.ndarray) -> np.ndarray:
    """Bezier form ``(m - 1, 4, 2)`` of the polyline through ``points`` (handles at thirds)."""
    p = np.asarray(points, dtype=np.float64)
    a, b = p[:-1], p[1:]
    return np.stack([a, a + (b - a) / 3.0, a + 2.0 * (b - a) / 3.0, b], axis=1)


def bspline_segments(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bezier form of the clamped uniform B-spline with control polygon ``points``.

    Args:
        points: ``(m, 2)``, ``m >= 2``.

    Returns:
        ``(segments (m - k, 4, 2), greville (m,))`` with degree ``k = min(3, m - 1)``; ``greville[i]`` is the
        chain parameter associated with control point ``i`` (its Greville abscissa), which is where the curve
        passes nearest to it in parameter.
    """
    from scipy.interpolate import BSpline

    p = np.asarray(points, dtype=np.float64)
    m = len(p)
    k = min(3, m - 1)
    spans = m - k
    knots = np.concatenate([np.zeros(k), np.arange(spans + 1, dtype=np.float64), np.full(k, float(spans))])
    spline = BSpline(knots, p, k, extrapolate=True)
    deriv = spline.derivative()
    a = np.arange(spans, dtype=np.float64)
    b = a + 1.0
    # Evaluate the derivative just inside each span so that a knot takes the span's own polynomial.
    pa, pb = spline(a), spline(b)
    da, db = deriv(a + 1e-12), deriv(b - 1e-12)
    seg = np.stack([pa, pa + da / 3.0, pb - db / 3.0, pb], axis=1)
    greville = np.array([knots[i + 1 : i + k + 1].mean() for i in range(m)])
    return seg, greville


def build_chain(
    kind: str,
    points: np.ndarray,
    handles_in: Sequence[tuple[float, float] | None] | None = None,
    handles_out: Sequence[tuple[float, float] | None] | None = None,
    alpha: float = 0.5,
) -> tuple[BezierChain, np.ndarray]:
    """Builds the curve of one interpolation kind through (or, for ``bspline``, along) control points.

    Args:
        kind: ``catmull_rom``, ``bezier``, ``bspline`` or ``linear``.
        points: ``(n, 2)`` pixels, ``n >= 1``.
        handles_in, handles_out: for ``bezier``, per point an offset ``(dx, dy)`` px from the point to its
            incoming / outgoing handle, or None for an automatic (Catmull-Rom) handle.
        alpha: the Catmull-Rom parameterisation exponent (0.5: centripetal).

    Returns:
        ``(chain, point_u)``: the chain and, per input point, its parameter on the chain (``(n,)``).

    Raises:
        ValueError: for an unknown kind, no points or non-finite coordinates.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(p) == 0:
        raise ValueError("a path needs at least one control point")
    if not np.all(np.isfinite(p)):
        raise ValueError("control points must be finite")
    if kind not in SPLINE_KINDS:
        raise ValueError(f"unknown interpolation {kind!r}; expected one of {', '.join(SPLINE_KINDS)}")
    uniq, index = dedupe(p)
    if len(uniq) == 1:
        seg = np.repeat(uniq[:, None, :], 4, axis=1)
        return BezierChain.from_segments(seg), np.zeros(len(p))
    if kind == "linear":
        seg, point_u = linear_segments(uniq), index.astype(np.float64)
    elif kind == "catmull_rom":
        seg, point_u = catmull_rom_segments(uniq, alpha), index.astype(np.float64)
    elif kind == "bspline":
        seg, greville = bspline_segments(uniq)
        point_u = greville[index]
    else:
        seg = catmull_rom_segments(uniq, alpha)
        hin = list(handles_in) if handles_in is not None else [None] * len(p)
        hout = list(handles_out) if handles_out is not None else [None] * len(p)
        # A merged run of points takes the incoming handle of its first and the outgoing handle of its last.
        for j in range(len(uniq)):
            members = np.flatnonzero(index == j)
            h_in, h_out = hin[members[0]], hout[members[-1]]
            if h_out is not None and j < len(uniq) - 1:
                seg[j, 1] = uniq[j] + np.asarray(h_out, dtype=np.float64)
            if h_in is not None and j > 0:
                seg[j - 1, 2] = uniq[j] + np.asarray(h_in, dtype=np.float64)
        point_u = index.astype(np.float64)
    return BezierChain.from_segments(seg), point_u
