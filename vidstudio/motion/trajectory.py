"""Drawn trajectories: the JSON document a Trajectory node holds, and the pure functions that turn it into
per-frame motion.

The document (the ``paths`` parameter of the Trajectory node, validated by :class:`TrajectoryDocument`)::

    {
      "version": 1,
      "paths": [
        {
          "id": "p1", "name": "logo", "color": [1.0, 0.55, 0.1],
          "start_frame": 0, "end_frame": 71,            # null: the clip's last frame
          "interpolation": "catmull_rom",               # catmull_rom | bspline | bezier | linear
          "timing": "constant_speed",                   # constant_speed | keys
          "easing": {"family": "sine", "mode": "in_out"},
          "points": [
            {"x": 120, "y": 400},                        # px in the frame at rest camera, y down
            {"x": 380, "y": 180, "frame": 30},           # optional time key (frames; used by timing "keys")
            {"x": 650, "y": 330, "handle_in": [-80, 0], "handle_out": [80, 0]}   # bezier handles (offsets)
          ],
          "rotation": {"mode": "tangent", "angle": 0},   # fixed | keyed | tangent; degrees, clockwise
          "scale": 1.0,                                  # a number or an F-curve (see vidstudio.motion.curves)
          "size": [64, 64],                              # object size in px at scale 1 (boxes, masks)
          "hidden": [[40, 44]],                          # inclusive frame ranges where the object is hidden
          "outside": "hold"                              # before start / after end: hold (visible) or hide
        }
      ],
      "anchors": [{"id": "a1", "name": "tree", "x": 600, "y": 420}]
    }

:func:`json_schema` returns the JSON Schema of this document (stable; ``version`` is bumped and a migration
added for any incompatible change). Unknown keys are kept (``extra="allow"``) so that editors can store
their own state.

Semantics:

* Positions are world pixels: the output frame's pixels while the camera rests (origin top-left, y down).
* The curve through the points is built by :mod:`vidstudio.motion.splines` (centripetal Catmull-Rom, cubic
  B-spline, Bezier with handles, or linear).
* Timing ``constant_speed``: the object travels the curve from ``start_frame`` to ``end_frame`` at constant
  speed along its arc length, the progress shaped by ``easing`` (``linear`` for uniform speed). Point frames
  are ignored.
* Timing ``keys``: points with a ``frame`` are time keys (the first and last point default to ``start_frame``
  and ``end_frame``); between two keys the object moves along the arc at constant speed shaped by ``easing``,
  so unkeyed points in between only shape the curve. Two keys at the same place make it wait.
* Easings whose progress leaves [0, 1] (``back``, ``elastic``) overshoot past the path's ends along its end
  tangents.
* Rotation ``fixed`` / ``keyed``: ``angle`` (degrees, a number or an F-curve over clip frames); ``tangent``:
  the direction of travel plus ``angle`` as an offset. Scale: a number or an F-curve over clip frames.
* Frames are clip frames (float allowed); the editor functions take the clip's ``frame_count``.

Editor functions (pure and fast: a few ms for a few hundred frames, meant to be called while dragging):
:func:`evaluate_path` (a per-frame :class:`~vidstudio.motion.tracks.Track`), :func:`evaluate_document` (a
:class:`~vidstudio.motion.tracks.TrackSet`), :func:`path_polyline` (a dense polyline for drawing),
:func:`frame_ticks` (per-frame positions for the ticks), :func:`point_frames` (the time of every control
point) and :func:`path_handles` (where the Bezier handles are drawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from vidstudio.ids import unique_id
from vidstudio.motion.curves import FCurve
from vidstudio.motion.easing import ease
from vidstudio.motion.splines import BezierChain, build_chain
from vidstudio.motion.tracks import Track, TrackSet

#: Version of the trajectory document written by this code.
TRAJECTORY_VERSION = 1
_ID = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
EasingFamilyOrLinear = Literal[
    "linear", "sine", "quad", "cubic", "quart", "quint", "expo", "circ", "back", "elastic", "bounce"
]
Color = tuple[float, float, float]


def _check_color(v: Any) -> Any:
    if v is not None and any(not (0.0 <= float(c) <= 1.0) for c in v):
        raise ValueError(f"colour components must be in 0..1, got {list(v)}")
    return v


class PathPoint(BaseModel):
    """One control point of a path.

    Attributes:
        x, y: position in world pixels (the output frame at rest camera; origin top-left, y down).
        frame: optional time key in clip frames (float); used when the path's timing is ``keys``.
        handle_in, handle_out: for ``bezier`` paths, the offset ``(dx, dy)`` px from the point to its incoming
            and outgoing handle; None gives an automatic, smooth handle.
    """

    model_config = ConfigDict(extra="allow")

    x: float = Field(description="x in world pixels (origin top-left)")
    y: float = Field(description="y in world pixels (y down)")
    frame: float | None = Field(None, description="time key in clip frames (timing 'keys')")
    handle_in: tuple[float, float] | None = Field(None, description="bezier: incoming handle offset (dx, dy) px")
    handle_out: tuple[float, float] | None = Field(None, description="bezier: outgoing handle offset (dx, dy) px")

    @field_validator("x", "y", "frame")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not np.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class PathEasing(BaseModel):
    """How progress along the path is shaped in time (see :func:`vidstudio.motion.easing.ease`).

    Attributes:
        family: ``linear`` (uniform speed) or an easing family (``sine`` ... ``bounce``).
        mode: ``in``, ``out`` or ``in_out``.
        back, amplitude, period: parameters of the ``back`` and ``elastic`` families.
    """

    model_config = ConfigDict(extra="allow")

    family: EasingFamilyOrLinear = "linear"
    mode: Literal["in", "out", "in_out"] = "in_out"
    back: float = 1.70158
    amplitude: float = 1.0
    period: float = 0.3

    def apply(self, u: np.ndarray) -> np.ndarray:
        """Maps normalised time ``u`` (clamped to [0, 1]) to progress (float64, same shape)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.family == "linear":
            return u
        return ease(self.family, self.mode, u, back=self.back, amplitude=self.amplitude, period=self.period)


class PathRotation(BaseModel):
    """The object's rotation along a path.

    Attributes:
        mode: ``fixed`` (``angle``), ``keyed`` (``angle`` as an F-curve) or ``tangent`` (the direction of
            travel plus ``angle``).
        angle: degrees, clockwise on screen; a number or an :class:`~vidstudio.motion.curves.FCurve` over clip
            frames.
    """

    model_config = ConfigDict(extra="allow")

    mode: Literal["fixed", "keyed", "tangent"] = "fixed"
    angle: float | FCurve = 0.0


class MotionPath(BaseModel):
    """One drawn path: the curve, its timing, and the object's rotation, scale and visibility along it.

    See the module docstring for the JSON form and the semantics of each field.

    Raises:
        pydantic.ValidationError: for no points, keyed frames that do not increase along the path or fall
            outside ``[start_frame, end_frame]``, ``end_frame < start_frame``, or a bad colour.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=_ID, max_length=64, description="stable id, unique in the document")
    name: str = Field("", description="object name (the track's name); empty: the id")
    color: Color = Field((1.0, 0.55, 0.1), description="overlay colour [r, g, b] in 0..1")
    start_frame: float = Field(0.0, description="first frame of the motion")
    end_frame: float | None = Field(None, description="last frame of the motion; null: the clip's last frame")
    interpolation: Literal["catmull_rom", "bspline", "bezier", "linear"] = "catmull_rom"
    timing: Literal["constant_speed", "keys"] = "constant_speed"
    easing: PathEasing = Field(default_factory=PathEasing)
    points: list[PathPoint] = Field(min_length=1)
    rotation: PathRotation = Field(default_factory=PathRotation)
    scale: float | FCurve = 1.0
    size: tuple[float, float] = Field((64.0, 64.0), description="object width, height in px at scale 1")
    hidden: list[tuple[float, float]] = Field(default_factory=list, description="inclusive frame ranges hidden")
    outside: Literal["hold", "hide"] = "hold"

    @field_validator("color")
    @classmethod
    def _color(cls, v: Color) -> Color:
        return _check_color(v)

    @field_validator("size")
    @classmethod
    def _size(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < 0:
            raise ValueError(f"size must not be negative, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _times(self) -> MotionPath:
        if self.end_frame is not None and self.end_frame < self.start_frame:
            raise ValueError(f"end_frame {self.end_frame:g} is before start_frame {self.start_frame:g}")
        if self.timing == "keys":
            last_i, last_f = None, None
            for i, p in enumerate(self.points):
                if p.frame is None:
                    continue
                if p.frame < self.start_frame or (self.end_frame is not None and p.frame > self.end_frame):
                    end = "the clip's end" if self.end_frame is None else f"{self.end_frame:g}"
                    raise ValueError(
                        f"points[{i}].frame {p.frame:g} is outside start_frame {self.start_frame:g} .. end_frame {end}"
                    )
                if last_f is not None and p.frame <= last_f:
                    raise ValueError(f"points[{i}].frame {p.frame:g} must be after points[{last_i}].frame {last_f:g}")
                last_i, last_f = i, p.frame
        return self

    @property
    def track_name(self) -> str:
        """The name of the track this path makes (``name``, or ``id`` when empty)."""
        return self.name or self.id


class Anchor(BaseModel):
    """A static point that must not move (a tree, a horizon mark), in world pixels."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=_ID, max_length=64)
    name: str = ""
    x: float
    y: float


class TrajectoryDocument(BaseModel):
    """The whole ``paths`` parameter of a Trajectory node: several paths and static anchors.

    Raises:
        pydantic.ValidationError: for repeated ids or track names, and every problem of a path (the error's
            location names ``paths[i]...``).
    """

    model_config = ConfigDict(extra="allow")

    version: int = TRAJECTORY_VERSION
    paths: list[MotionPath] = Field(default_factory=list)
    anchors: list[Anchor] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> TrajectoryDocument:
        if self.version > TRAJECTORY_VERSION:
            raise ValueError(
                f"trajectory document version {self.version} is newer than this VidStudio reads ({TRAJECTORY_VERSION})"
            )
        seen: dict[str, str] = {}
        for kind, items in (("paths", self.paths), ("anchors", self.anchors)):
            for i, item in enumerate(items):
                where = f"{kind}[{i}]"
                if item.id in seen:
                    raise ValueError(f"{where}.id {item.id!r} repeats {seen[item.id]}.id; ids must be unique")
                seen[item.id] = where
        names: dict[str, int] = {}
        for i, p in enumerate(self.paths):
            if p.track_name in names:
                raise ValueError(
                    f"paths[{i}] is named {p.track_name!r} like paths[{names[p.track_name]}]; names must be unique"
                )
            names[p.track_name] = i
        return self

    def path(self, path_id: str) -> MotionPath:
        """The path with ``path_id``.

        Raises:
            KeyError: naming the id and the ids there are.
        """
        for p in self.paths:
            if p.id == path_id:
                return p
        raise KeyError(f"no path with id {path_id!r} (paths: {', '.join(p.id for p in self.paths) or 'none'})")


#: Validates a ``paths`` parameter value (a dict) into a :class:`TrajectoryDocument`.
TRAJECTORY_ADAPTER: TypeAdapter[TrajectoryDocument] = TypeAdapter(TrajectoryDocument)


def validate_document(value: Any) -> TrajectoryDocument:
    """Validates a trajectory document (a dict as stored in the project, or a model).

    Raises:
        pydantic.ValidationError: (a ValueError) naming the JSON path of every problem.
    """
    if isinstance(value, TrajectoryDocument):
        return value
    return TRAJECTORY_ADAPTER.validate_python(value)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the trajectory document (for editors and ``vidstudio nodes --json`` readers)."""
    return TrajectoryDocument.model_json_schema()


# ------------------------------------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class CompiledPath:
    """A path's curve, ready to evaluate.

    Attributes:
        path: the description.
        chain: its curve (:class:`~vidstudio.motion.splines.BezierChain`).
        point_u: ``(n,)`` curve parameter of each control point.
        point_s: ``(n,)`` arc length (px) from the start to each control point.
    """

    path: MotionPath
    chain: BezierChain
    point_u: np.ndarray
    point_s: np.ndarray

    @property
    def length(self) -> float:
        """Arc length of the curve in pixels."""
        return self.chain.length


def compile_path(path: MotionPath) -> CompiledPath:
    """Builds the curve of a path (see :mod:`vidstudio.motion.splines`)."""
    pts = np.array([[p.x, p.y] for p in path.points], dtype=np.float64)
    chain, point_u = build_chain(
        path.interpolation,
        pts,
        handles_in=[p.handle_in for p in path.points],
        handles_out=[p.handle_out for p in path.points],
    )
    return CompiledPath(path, chain, point_u, chain.length_at(point_u))


def _end_frame(path: MotionPath, frame_count: int) -> float:
    return float(path.end_frame) if path.end_frame is not None else float(max(frame_count - 1, path.start_frame))


def _value(v: float | FCurve, frames: np.ndarray) -> np.ndarray:
    if isinstance(v, FCurve):
        return v.evaluate(frames)
    return np.full(frames.shape, float(v))


def _key_times(cp: CompiledPath, frame_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, arc lengths, point indices) of the time keys of a path, strictly increasing in time. In
    ``constant_speed`` timing the keys are the path's start and end (indices ``0`` and ``n - 1``)."""
    path = cp.path
    start, end = float(path.start_frame), _end_frame(path, frame_count)
    n = len(path.points)
    if path.timing == "constant_speed" or n == 1:
        return np.array([start, end]), np.array([0.0, cp.length]), np.array([0, n - 1])
    times = np.array([np.nan if p.frame is None else float(p.frame) for p in path.points])
    if np.isnan(times[0]):
        times[0] = start
    if np.isnan(times[-1]):
        times[-1] = end
    keyed = np.flatnonzero(~np.isnan(times))
    t, s = times[keyed], cp.point_s[keyed]
    bad = np.flatnonzero(np.diff(t) <= 0)
    if len(bad):
        i, j = keyed[bad[0]], keyed[bad[0] + 1]
        raise ValueError(
            f"path {path.id!r}: points[{j}] is timed at frame {t[bad[0] + 1]:g}, not after points[{i}] at frame "
            f"{t[bad[0]]:g} (the first and last points default to start_frame and end_frame)"
        )
    return t, s, keyed


def timing_keys(cp: CompiledPath, frame_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The time keys of a path, as the timing uses them: ``(frames, arc lengths px, point indices)``, each
    ``(K,)``, strictly increasing in frame. Timing ``constant_speed`` (or one point): the start and the end
    (points ``0`` and ``n - 1``); timing ``keys``: the keyed points, the first and last defaulting to
    ``start_frame`` and ``end_frame``.

    Raises:
        ValueError: naming the path when its time keys do not increase.
    """
    return _key_times(cp, frame_count)


def path_arc_length(cp: CompiledPath, frames: np.ndarray, frame_count: int) -> np.ndarray:
    """Arc length (px) travelled along a path at float clip ``frames``: ``(M,)`` float64, in ``[0, length]``
    except where an overshooting easing (back, elastic) leaves it.

    Raises:
        ValueError: naming the path when its time keys do not increase.
    """
    f = np.asarray(frames, dtype=np.float64).reshape(-1)
    t, s, _ = _key_times(cp, frame_count)
    j = np.clip(np.searchsorted(t, f, side="right") - 1, 0, len(t) - 2)
    span = t[j + 1] - t[j]
    u = np.where(span > 0, (f - t[j]) / np.where(span > 0, span, 1.0), (f >= t[j + 1]).astype(float))
    prog = cp.path.easing.apply(np.clip(u, 0.0, 1.0))
    return s[j] + (s[j + 1] - s[j]) * prog


def _positions_and_directions(cp: CompiledPath, arc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    L = cp.length
    u = cp.chain.u_at_length(arc)
    pos = cp.chain.point(u)
    direction = cp.chain.direction(u)
    over = arc > L
    under = arc < 0
    if np.any(over):
        pos[over] += direction[over] * (arc[over] - L)[:, None]
    if np.any(under):
        pos[under] += direction[under] * arc[under][:, None]
    return pos, direction


def evaluate_path(
    path: MotionPath,
    frame_count: int,
    frames: np.ndarray | None = None,
    compiled: CompiledPath | None = None,
) -> Track:
    """The per-frame motion of the object on a path.

    Args:
        path: the path.
        frame_count: frames in the clip (``end_frame: null`` means ``frame_count - 1``).
        frames: float clip frames to evaluate (default ``0 .. frame_count - 1``).
        compiled: the path's :func:`compile_path`, when the caller keeps it.

    Returns:
        a :class:`~vidstudio.motion.tracks.Track` named :attr:`MotionPath.track_name` with one sample per frame:
        position ``(M, 2)`` world px, angle radians (clockwise), scale, visibility, ``size`` from the path and
        ``meta`` ``{"source": "path", "path_id", "color"}``.

    Raises:
        ValueError: naming the path when its time keys do not increase, or a scale curve reaches zero or below.
    """
    f = np.arange(frame_count, dtype=np.float64) if frames is None else np.asarray(frames, dtype=np.float64).reshape(-1)
    cp = compiled or compile_path(path)
    arc = path_arc_length(cp, f, frame_count)
    pos, direction = _positions_and_directions(cp, arc)
    angle = np.deg2rad(_value(path.rotation.angle, f))
    if path.rotation.mode == "tangent":
        heading = np.unwrap(np.arctan2(direction[:, 1], direction[:, 0]))
        angle = angle + heading
    scale = _value(path.scale, f)
    if np.any(scale <= 0):
        i = int(np.argmax(scale <= 0))
        raise ValueError(f"path {path.id!r}: scale {scale[i]:g} at frame {f[i]:g} must be > 0")
    visible = np.ones(f.shape, dtype=bool)
    if path.outside == "hide":
        visible &= (f >= path.start_frame - 1e-9) & (f <= _end_frame(path, frame_count) + 1e-9)
    for a, b in path.hidden:
        visible &= ~((f >= min(a, b) - 1e-9) & (f <= max(a, b) + 1e-9))
    meta = {"source": "path", "path_id": path.id, "color": [float(c) for c in path.color]}
    return Track(path.track_name, pos, angle, scale, visible, tuple(path.size), meta)


def evaluate_document(doc: TrajectoryDocument | dict, frame_count: int) -> TrackSet:
    """Every path of a document as a :class:`~vidstudio.motion.tracks.TrackSet` of ``frame_count`` samples,
    with the anchors as ``(K, 2)`` world px.

    Raises:
        pydantic.ValidationError: for an invalid document; ValueError: see :func:`evaluate_path`.
    """
    d = validate_document(doc)
    tracks = [evaluate_path(p, frame_count) for p in d.paths]
    anchors = np.array([[a.x, a.y] for a in d.anchors], dtype=np.float64).reshape(-1, 2)
    return TrackSet(tracks, anchors)


def path_polyline(path: MotionPath, samples_per_segment: int = 24, compiled: CompiledPath | None = None) -> np.ndarray:
    """A dense polyline of the path's curve for drawing: ``(M, 2)`` float64 world px (``M = S * samples + 1``
    for ``S`` segments)."""
    cp = compiled or compile_path(path)
    return cp.chain.polyline(samples_per_segment)


def frame_ticks(
    path: MotionPath, frame_count: int, compiled: CompiledPath | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Where the object is at each whole frame of its motion, for drawing ticks along the path.

    Returns:
        ``(frames (K,) int, positions (K, 2) float64 world px)`` for the frames in
        ``[start_frame, end_frame]`` that lie in the clip.
    """
    cp = compiled or compile_path(path)
    lo = max(0, int(np.ceil(path.start_frame - 1e-9)))
    hi = min(frame_count - 1, int(np.floor(_end_frame(path, frame_count) + 1e-9)))
    frames = np.arange(lo, hi + 1) if hi >= lo else np.zeros(0, dtype=int)
    if len(frames) == 0:
        return frames, np.zeros((0, 2))
    arc = path_arc_length(cp, frames.astype(np.float64), frame_count)
    return frames, _positions_and_directions(cp, arc)[0]


def point_frames(path: MotionPath, frame_count: int, compiled: CompiledPath | None = None) -> np.ndarray:
    """The clip frame at which the object passes each control point (keyed points: their key; the others:
    where the timing puts them), ``(n,)`` float64. For ``bspline`` paths, where it passes nearest the point.

    Raises:
        ValueError: naming the path when its time keys do not increase.
    """
    cp = compiled or compile_path(path)
    t, s, keyed = _key_times(cp, frame_count)
    grid = np.linspace(0.0, 1.0, 2049)
    prog = np.maximum.accumulate(path.easing.apply(grid))  # first passage for overshooting easings
    out = np.empty(len(path.points))
    for i in range(len(path.points)):
        j = int(np.clip(np.searchsorted(keyed, i, side="right") - 1, 0, len(keyed) - 2))
        if keyed[j] == i:
            out[i] = t[j]
            continue
        if keyed[j + 1] == i:
            out[i] = t[j + 1]
            continue
        ds = s[j + 1] - s[j]
        target = 0.0 if ds <= 0 else float(np.clip((cp.point_s[i] - s[j]) / ds, 0.0, 1.0))
        u = float(np.interp(target, prog, grid))
        out[i] = t[j] + u * (t[j + 1] - t[j])
    return out


def path_handles(path: MotionPath, compiled: CompiledPath | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where each control point's Bezier handles are, for drawing and dragging them.

    Returns:
        ``(handle_in, handle_out)`` each ``(n, 2)`` float64 world px: the effective handles (user-set or
        automatic) of ``bezier`` and ``catmull_rom`` paths; NaN where a point has no such handle (the first
        point's incoming one, the last point's outgoing one, and every handle of ``bspline`` and ``linear``
        paths).
    """
    cp = compiled or compile_path(path)
    n = len(path.points)
    hin = np.full((n, 2), np.nan)
    hout = np.full((n, 2), np.nan)
    if path.interpolation not in ("bezier", "catmull_rom"):
        return hin, hout
    seg = cp.chain.segments
    S = seg.shape[0]
    for i in range(n):
        j = int(round(cp.point_u[i]))
        if np.allclose(seg, seg[0, 0]):
            break
        if j < S:
            hout[i] = seg[j, 1]
        if j > 0:
            hin[i] = seg[j - 1, 2]
    return hin, hout


def new_path_id(doc: TrajectoryDocument, base: str = "path") -> str:
    """An unused path id derived from ``base`` (``path``, ``path_2``, ...)."""
    return unique_id(base, [p.id for p in doc.paths] + [a.id for a in doc.anchors], fallback="path", prefix="p_")
