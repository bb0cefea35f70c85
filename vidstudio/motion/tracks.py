"""Time-indexed motion data: what a TRAJECTORY port carries.

A :class:`Track` is one object's motion sampled once per frame of the clip: position ``(T, 2)`` in output
pixels (origin top-left, y down), angle ``(T,)`` in radians (positive turns clockwise on screen, since y
points down), scale ``(T,)`` and visibility ``(T,)``. A :class:`TrackSet` holds several tracks of the same
length plus static anchor points (things that must not move).

Tracks are data, not strings: a consumer that needs another number of samples (a model that wants 121 points,
or ``num_frames`` latent frames) calls :meth:`TrackSet.resample` at its own boundary.
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

    Raises:
        ValueError: for arrays of the wrong shape, non-finite positions, or an empty track.
    """

    name: str
    position: np.ndarray
    angle: np.ndarray | None = None
    scale: np.ndarray | None = None
    visible: np.ndarray | None = None
    size: tuple[float, float] = (0.0, 0.0)

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

    @property
    def frame_count(self) -> int:
        """Number of samples ``T``."""
        return self.position.shape[0]

    def resample(self, n: int) -> "Track":
        """Returns the track with ``n`` samples spanning the same time (sample ``i`` at clip time
        ``i * (T - 1) / (n - 1)``): positions, scales and unwrapped angles linearly interpolated, visibility
        from the nearest sample.

        Raises:
            ValueError: for ``n < 1``.
        """
        if n < 1:
            raise ValueError(f"cannot resample track {self.name!r} to {n} samples")
        t_old = np.arange(self.frame_count, dtype=np.float64)
        t_new = np.linspace(0.0, self.frame_count - 1, n) if n > 1 else np.zeros(1)
        if self.frame_count == 1:
            idx = np.zeros(n, dtype=int)
            return Track(self.name, self.position[idx], self.angle[idx], self.scale[idx], self.visible[idx], self.size)
        pos = np.stack([np.interp(t_new, t_old, self.position[:, k]) for k in range(2)], axis=1)
        ang = np.interp(t_new, t_old, np.unwrap(self.angle))
        sc = np.interp(t_new, t_old, self.scale)
        vis = self.visible[np.clip(np.rint(t_new).astype(int), 0, self.frame_count - 1)]
        return Track(self.name, pos, ang, sc, vis, self.size)

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
        out = np.stack([self.position[:, 0] - half_w, self.position[:, 1] - half_h,
                        self.position[:, 0] + half_w, self.position[:, 1] + half_h], axis=1)
        out[~self.visible] = np.nan
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: per-frame ``position`` ``[[x, y], ...]`` (px), ``angle`` (degrees), ``scale``,
        ``visible``, and ``size``."""
        return {
            "name": self.name,
            "frame_count": self.frame_count,
            "size": list(self.size),
            "position": np.round(self.position, 4).tolist(),
            "angle": np.round(np.rad2deg(self.angle), 4).tolist(),
            "scale": np.round(self.scale, 6).tolist(),
            "visible": self.visible.tolist(),
        }


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

    def resample(self, n: int) -> "TrackSet":
        """Every track resampled to ``n`` samples (see :meth:`Track.resample`)."""
        return TrackSet([t.resample(n) for t in self.tracks], self.anchors.copy())

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

    def merged(self, other: "TrackSet") -> "TrackSet":
        """Tracks and anchors of both sets (names must not clash; lengths must match)."""
        return TrackSet(self.tracks + other.tracks, np.concatenate([self.anchors, other.anchors]))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: ``{"frame_count", "tracks": [...], "anchors": [[x, y], ...]}``."""
        return {"frame_count": self.frame_count, "tracks": [t.to_json() for t in self.tracks],
                "anchors": self.anchors.tolist()}
