"""Time-indexed motion data: what a TRAJECTORY port carries.

A :class:`Track` is one object's motion sampled once per frame of the clip: position ``(T, 2)`` in output
pixels (origin top-left, y down), angle ``(T,)`` in radians (positive turns clockwise on screen, since y
points down), scale ``(T,)`` and visibility ``(T,)``. A :class:`TrackSet` holds several tracks of the same
length plus static anchor points (things that must not move).

Tracks are data, not strings: a consumer that needs another number of samples (a model that wants 121 points,
or ``num_frames`` latent frames) calls :meth:`TrackSet.resample` at its own boundary.

Coordinates: the tracks made by the Trajectory and Simulate nodes are in *world* pixels, which are the output
frame's pixels when the camera rests (see :mod:`vidstudio.motion.camera`). :meth:`TrackSet.transformed` with
the ``(T, 3, 3)`` camera matrices gives the same motion in output-frame pixels, as a model sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _as_1d(value: Any, n: int, fill: float, dtype, name: str, track: str) -> np.ndarray:
    if value is None:
        return np.full(n, fill, dtype=dtype)
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n, arr.item(), dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"track {track!r}: {name} has shape {arr.shape}, expected ({n},)")
    return arr


@dataclass(eq=False)
class Track:
    """One object's motion, one sample per frame.

    Attributes:
        name: the object's name (unique within a :class:`TrackSet`).
        position: ``(T, 2)`` float64 centre in pixels; finite.
        angle: ``(T,)`` float64 radians, clockwise on screen (default 0).
        scale: ``(T,)`` float64 factor (default 1).
        visible: ``(T,)`` bool (default True).
        size: ``(width, height)`` of the object in pixels at scale 1, centred on ``position`` (used for boxes
            and masks; ``(0, 0)`` for a point).
        meta: JSON-ready facts about the object that travel with it: ``"color"`` (``[r, g, b]`` in 0..1, for
            overlays), ``"source"`` (``"path"`` or ``"physics"``), ``"path_id"``, and for physics bodies
            ``"shape"`` (``"circle"``, ``"box"``, ``"polygon"``) with ``"radius"``, ``"width"``/``"height"`` or
            ``"vertices"`` (``[[x, y], ...]`` px relative to ``position`` at angle 0). Empty by default.

    Raises:
        ValueError: for arrays of the wrong shape, non-finite positions, or an empty track.
    """

    name: str
    position: np.ndarray
    angle: np.ndarray | None = None
    scale: np.ndarray | None = None
    visible: np.ndarray | None = None
    size: tuple[float, float] = (0.0, 0.0)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pos = np.asarray(self.position, dtype=np.float64)
        if pos.ndim != 2 or pos.shape[1] != 2 or pos.shape[0] < 1:
            raise ValueError(f"track {self.name!r}: position has shape {pos.shape}, expected (T, 2) with T >= 1")
        if not np.all(np.isfinite(pos)):
            bad = int(np.argmax(~np.all(np.isfinite(pos), axis=1)))
            raise ValueError(f"track {self.name!r}: position at frame {bad} is not finite")
        n = pos.shape[0]
        self.position = pos
        self.angle = _as_1d(self.angle, n, 0.0, np.float64, "angle", self.name)
        self.scale = _as_1d(self.scale, n, 1.0, np.float64, "scale", self.name)
        self.visible = _as_1d(self.visible, n, True, bool, "visible", self.name)
        self.size = (float(self.size[0]), float(self.size[1]))
        self.meta = dict(self.meta or {})

    @property
    def frame_count(self) -> int:
        """Number of samples ``T``."""
        return self.position.shape[0]

    def sample_at(self, frames: np.ndarray | list | float) -> Track:
        """Returns the track evaluated at float ``frames`` (one sample per entry).

        Positions, scales and unwrapped angles are linearly interpolated between the neighbouring samples,
        visibility is taken from the nearest sample; frames outside ``[0, T - 1]`` hold the end samples.

        Args:
            frames: ``(M,)`` float frames of this track's clip (a scalar gives ``M = 1``).

        Returns:
            a new :class:`Track` of ``M`` samples with the same name, size and meta.

        Raises:
            ValueError: for an empty or non-finite ``frames``.
        """
        f = np.atleast_1d(np.asarray(frames, dtype=np.float64)).reshape(-1)
        if f.size == 0 or not np.all(np.isfinite(f)):
            raise ValueError(f"track {self.name!r}: frames to sample must be finite and not empty")
        n = self.frame_count
        if n == 1:
            idx = np.zeros(f.size, dtype=int)
            return Track(
                self.name,
                self.position[idx],
                self.angle[idx],
                self.scale[idx],
                self.visible[idx],
                self.size,
                dict(self.meta),
            )
        f = np.clip(f, 0.0, n - 1)
        t_old = np.arange(n, dtype=np.float64)
        pos = np.stack([np.interp(f, t_old, self.position[:, k]) for k in range(2)], axis=1)
        ang = np.interp(f, t_old, np.unwrap(self.angle))
        sc = np.interp(f, t_old, self.scale)
        vis = self.visible[np.clip(np.floor(f + 0.5).astype(int), 0, n - 1)]
        return Track(self.name, pos, ang, sc, vis, self.size, dict(self.meta))

    def matrices(self) -> np.ndarray:
        """``(T, 3, 3)`` float64 object-to-world affines ``T(position) . R(angle) . S(scale)``: they map a point
        given in the object's own pixels (origin at its centre, angle 0, scale 1) to world pixels."""
        c, s = np.cos(self.angle) * self.scale, np.sin(self.angle) * self.scale
        m = np.zeros((self.frame_count, 3, 3))
        m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = c, -s, self.position[:, 0]
        m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = s, c, self.position[:, 1]
        m[:, 2, 2] = 1.0
        return m

    def transformed(self, matrices: np.ndarray) -> Track:
        """Returns the track seen through per-frame affines (e.g. the camera's world-to-frame matrices).

        Args:
            matrices: ``(3, 3)`` or ``(T, 3, 3)`` similarity transforms (rotation, uniform scale, translation);
                a ``(1, 3, 3)`` stack is used for every frame.

        Returns:
            a new :class:`Track`: positions mapped, angles turned by each matrix's rotation, scales multiplied
            by its scale (``sqrt(|det|)``); size, visibility and meta unchanged.

        Raises:
            ValueError: when the number of matrices is neither 1 nor ``T``.
        """
        m = np.asarray(matrices, dtype=np.float64)
        if m.ndim == 2:
            m = m[None]
        if m.shape[0] == 1:
            m = np.repeat(m, self.frame_count, axis=0)
        if m.shape != (self.frame_count, 3, 3):
            raise ValueError(f"track {self.name!r}: {m.shape[0]} matrices for {self.frame_count} frames")
        pos = np.einsum("tij,tj->ti", m[:, :2, :2], self.position) + m[:, :2, 2]
        rot = np.arctan2(m[:, 1, 0], m[:, 0, 0])
        zoom = np.sqrt(np.abs(np.linalg.det(m[:, :2, :2])))
        return Track(
            self.name, pos, self.angle + rot, self.scale * zoom, self.visible.copy(), self.size, dict(self.meta)
        )

    def resample(self, n: int) -> Track:
        """Returns the track with ``n`` samples spanning the same time (sample ``i`` at clip time
        ``i * (T - 1) / (n - 1)``): positions, scales and unwrapped angles linearly interpolated, visibility
        from the nearest sample.

        Raises:
            ValueError: for ``n < 1``.
        """
        if n < 1:
            raise ValueError(f"cannot resample track {self.name!r} to {n} samples")
        t_new = np.linspace(0.0, self.frame_count - 1, n) if n > 1 else np.zeros(1)
        return self.sample_at(t_new)

    def velocity(self) -> np.ndarray:
        """``(T, 2)`` float64 velocity in pixels per frame (central differences; zeros for one sample)."""
        if self.frame_count < 2:
            return np.zeros_like(self.position)
        return np.gradient(self.position, axis=0)

    def boxes(self) -> np.ndarray:
        """``(T, 4)`` float64 axis-aligned bounding boxes ``(x0, y0, x1, y1)`` in pixels of the rotated,
        scaled object; NaN rows where the object is not visible."""
        w, h = self.size
        c, s = np.abs(np.cos(self.angle)), np.abs(np.sin(self.angle))
        half_w = 0.5 * self.scale * (w * c + h * s)
        half_h = 0.5 * self.scale * (w * s + h * c)
        out = np.stack(
            [
                self.position[:, 0] - half_w,
                self.position[:, 1] - half_h,
                self.position[:, 0] + half_w,
                self.position[:, 1] + half_h,
            ],
            axis=1,
        )
        out[~self.visible] = np.nan
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: per-frame ``position`` ``[[x, y], ...]`` (px), ``angle`` (degrees), ``scale``,
        ``visible``, and ``size``."""
        out = {
            "name": self.name,
            "frame_count": self.frame_count,
            "size": list(self.size),
            "position": np.round(self.position, 4).tolist(),
            "angle": np.round(np.rad2deg(self.angle), 4).tolist(),
            "scale": np.round(self.scale, 6).tolist(),
            "visible": self.visible.tolist(),
        }
        if self.meta:
            out["meta"] = self.meta
        return out


@dataclass(eq=False)
class TrackSet:
    """Several tracks of the same length, plus static anchors.

    Attributes:
        tracks: the moving objects, names unique.
        anchors: ``(K, 2)`` float64 pixel positions that must stay still (default none).

    Raises:
        ValueError: when tracks differ in length or names repeat.
    """

    tracks: list[Track] = field(default_factory=list)
    anchors: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    def __post_init__(self) -> None:
        self.tracks = list(self.tracks)
        lengths = {t.frame_count for t in self.tracks}
        if len(lengths) > 1:
            raise ValueError(f"tracks have different frame counts: {sorted(lengths)}")
        names = [t.name for t in self.tracks]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"track names repeat: {', '.join(dup)}")
        a = np.asarray(self.anchors, dtype=np.float64).reshape(-1, 2)
        self.anchors = a

    @property
    def frame_count(self) -> int:
        """Samples per track (0 when there are no tracks)."""
        return self.tracks[0].frame_count if self.tracks else 0

    def __len__(self) -> int:
        return len(self.tracks)

    def __iter__(self):
        return iter(self.tracks)

    def get(self, name: str) -> Track:
        """The track called ``name``.

        Raises:
            KeyError: naming the track and the names there are.
        """
        for t in self.tracks:
            if t.name == name:
                return t
        raise KeyError(f"no track named {name!r} (tracks: {', '.join(t.name for t in self.tracks) or 'none'})")

    def resample(self, n: int) -> TrackSet:
        """Every track resampled to ``n`` samples (see :meth:`Track.resample`)."""
        return TrackSet([t.resample(n) for t in self.tracks], self.anchors.copy())

    def sample_at(self, frames: np.ndarray | list | float) -> TrackSet:
        """Every track evaluated at float ``frames`` (see :meth:`Track.sample_at`); anchors unchanged."""
        return TrackSet([t.sample_at(frames) for t in self.tracks], self.anchors.copy())

    def transformed(self, matrices: np.ndarray) -> TrackSet:
        """Every track seen through per-frame affines (see :meth:`Track.transformed`), e.g. world to output
        frame through the camera. Anchors are mapped by the first matrix (they are static in the world, so a
        moving camera moves them on screen: use the tracks for per-frame positions)."""
        m = np.asarray(matrices, dtype=np.float64)
        first = m if m.ndim == 2 else m[0]
        anchors = self.anchors @ first[:2, :2].T + first[:2, 2] if len(self.anchors) else self.anchors.copy()
        return TrackSet([t.transformed(m) for t in self.tracks], anchors)

    @property
    def names(self) -> list[str]:
        """The track names, in order."""
        return [t.name for t in self.tracks]

    def positions(self) -> np.ndarray:
        """``(T, N, 2)`` float64 positions of all tracks."""
        if not self.tracks:
            return np.zeros((0, 0, 2))
        return np.stack([t.position for t in self.tracks], axis=1)

    def boxes(self) -> np.ndarray:
        """``(T, N, 4)`` float64 boxes of all tracks (NaN where not visible); see :meth:`Track.boxes`."""
        if not self.tracks:
            return np.zeros((0, 0, 4))
        return np.stack([t.boxes() for t in self.tracks], axis=1)

    def merged(self, other: TrackSet) -> TrackSet:
        """Tracks and anchors of both sets (names must not clash; lengths must match)."""
        return TrackSet(self.tracks + other.tracks, np.concatenate([self.anchors, other.anchors]))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: ``{"frame_count", "tracks": [...], "anchors": [[x, y], ...]}``."""
        return {
            "frame_count": self.frame_count,
            "tracks": [t.to_json() for t in self.tracks],
            "anchors": self.anchors.tolist(),
        }
