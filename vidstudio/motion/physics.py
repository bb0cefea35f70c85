"""2-D rigid-body physics through pymunk (Chipmunk2D): a scene description and a deterministic simulation that
turns it into one trajectory per body.

The scene (what the Physics Scene node outputs; its ``bodies`` parameter is a JSON list of :class:`Body`)::

    {
      "width": 768, "height": 512,              # the world = the output frame at rest camera, px
      "gravity": [0, 980],                      # px/s^2, y down (980 px/s^2 is Earth's g at 100 px per metre)
      "substeps": 64, "iterations": 20,         # physics steps per frame; solver iterations per step
      "walls": {"ground": true, "left": true, "right": true, "ceiling": true, "elasticity": 1.0, "friction": 1.0},
      "bodies": [
        {"id": "ball", "shape": "circle", "radius": 24, "mass": 1.0, "elasticity": 0.8, "friction": 0.4,
         "position": [100, 120], "velocity": [420, -300], "angular_velocity": 0, "color": [0.9, 0.3, 0.2]},
        {"id": "crate", "shape": "box", "width": 60, "height": 40, "position": [500, 470]},
        {"id": "ramp", "kind": "static", "shape": "polygon", "position": [300, 480],
         "vertices": [[-80, 30], [80, 30], [80, -20]]},
        {"id": "paddle", "kind": "kinematic", "shape": "box", "width": 120, "height": 16,
         "position": [400, 300], "follow": "paddle_path"}
      ]
    }

Units: positions px (world), velocities px/s, angles degrees (clockwise on screen) and angular velocities
degrees/s in the document; radians inside. Mass is in arbitrary units (only ratios matter); the moment of
inertia follows from the shape (uniform density).

Contacts: pymunk combines two shapes' coefficients by multiplying them (elasticity ``e = e_a * e_b``, friction
``mu = mu_a * mu_b``). The walls default to elasticity 1 and friction 1, so a body's own values are its
coefficients against the walls. Walls are thick static capsules whose inner faces lie exactly on the
frame's borders.

Integration: ``substeps`` fixed steps per frame (``dt = 1 / (fps * substeps)``), always the same for the same
scene, so a simulation is reproducible bit for bit. Dynamic bodies advance their position with the exact
constant-acceleration step ``x += v dt + g dt^2 / 2`` (pymunk's default, position before velocity, lags the
analytic parabola by ``g t dt / 2``), so free flight matches ``p0 + v0 t + g t^2 / 2`` to rounding error.
Energy is lost only at impacts, by about ``m * g * v * dt`` per bounce (in the step in which a body hits, it
travels ``v * dt`` into the wall before the contact reverses it): with the default 64 substeps at 24 fps
(about 1.5 kHz), about 0.15 % per bounce for a ball dropped from a 512-pixel frame's top.

Kinematic bodies with ``follow`` move along the named track of the paths input (e.g. a drawn Trajectory),
with the velocity that brings them to the track's position at each sub-step, so they push dynamic bodies
with the right momentum; without ``follow`` they keep their initial velocity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from vidstudio.motion.tracks import Track, TrackSet
from vidstudio.progress import CancelToken

_ID = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
#: Earth's gravity at 100 px per metre, px/s^2.
DEFAULT_GRAVITY = 980.0


class Body(BaseModel):
    """One rigid body of a :class:`PhysicsScene`.

    Attributes:
        id: stable id, unique in the scene; name: the track's name (empty: the id).
        kind: ``dynamic`` (moved by forces and contacts), ``kinematic`` (moves as told: ``follow`` or its
            velocity; pushes dynamic bodies, is not pushed) or ``static`` (never moves: ground, platforms).
        shape: ``circle`` (``radius``), ``box`` (``width`` x ``height``), ``polygon`` (``vertices``; their
            convex hull) or ``segment`` (two ``vertices``, thickness ``2 * radius``; static or kinematic).
        radius: px: the circle's radius, or a segment's half-thickness.
        width, height: box size in px.
        vertices: ``[[x, y], ...]`` px relative to ``position`` (polygon >= 3, segment 2).
        mass: > 0, dynamic bodies only (arbitrary unit).
        elasticity: restitution in [0, 1] (see the module docstring for how two bodies combine).
        friction: Coulomb friction coefficient >= 0.
        position: initial position in world px (for polygons, the origin of ``vertices``).
        velocity: initial velocity, px/s.
        angle: initial angle, degrees clockwise; angular_velocity: degrees/s.
        follow: kinematic bodies: the name of the track to follow in the Simulate node's paths input.
        color: ``[r, g, b]`` in 0..1 for overlays and automatic sprites.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=_ID, max_length=64)
    name: str = ""
    kind: Literal["dynamic", "kinematic", "static"] = "dynamic"
    shape: Literal["circle", "box", "polygon", "segment"] = "circle"
    radius: float = Field(20.0, ge=0.0)
    width: float = Field(40.0, gt=0.0)
    height: float = Field(40.0, gt=0.0)
    vertices: list[tuple[float, float]] = Field(default_factory=list)
    mass: float = Field(1.0, gt=0.0)
    elasticity: float = Field(0.8, ge=0.0, le=1.0)
    friction: float = Field(0.5, ge=0.0)
    position: tuple[float, float]
    velocity: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0
    angular_velocity: float = 0.0
    follow: str | None = None
    color: tuple[float, float, float] = (0.9, 0.3, 0.2)

    @field_validator("position", "velocity", "vertices", "angle", "angular_velocity")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if not np.all(np.isfinite(np.asarray(v, dtype=np.float64))):
            raise ValueError("must be finite numbers")
        return v

    @field_validator("color")
    @classmethod
    def _color(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(not (0.0 <= c <= 1.0) for c in v):
            raise ValueError(f"colour components must be in 0..1, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Body:
        if self.shape == "circle" and self.radius <= 0:
            raise ValueError("a circle needs a radius > 0")
        if self.shape == "polygon":
            if len(self.vertices) < 3:
                raise ValueError(f"a polygon needs at least 3 vertices, got {len(self.vertices)}")
            if abs(_polygon_area(np.asarray(self.vertices, dtype=np.float64))) < 1e-6:
                raise ValueError("the polygon's vertices enclose no area")
        if self.shape == "segment":
            if len(self.vertices) != 2:
                raise ValueError(f"a segment needs exactly 2 vertices, got {len(self.vertices)}")
            if self.kind == "dynamic":
                raise ValueError("a segment can only be static or kinematic (it has no area to carry mass)")
        if self.follow is not None and self.kind != "kinematic":
            raise ValueError(f"'follow' needs kind 'kinematic', this body is {self.kind}")
        return self

    @property
    def track_name(self) -> str:
        """The name of this body's track (``name``, or ``id`` when empty)."""
        return self.name or self.id


class Walls(BaseModel):
    """The static borders of the world (the output frame's edges), each switchable.

    Attributes:
        ground, left, right, ceiling: which borders exist.
        elasticity, friction: their contact coefficients (multiplied with each body's own).
    """

    model_config = ConfigDict(extra="allow")

    ground: bool = True
    left: bool = True
    right: bool = True
    ceiling: bool = True
    elasticity: float = Field(1.0, ge=0.0, le=1.0)
    friction: float = Field(1.0, ge=0.0)


class PhysicsScene(BaseModel):
    """A physics scene: world size, gravity, stepping, walls and bodies (the PHYSICS_SCENE port value).

    Attributes:
        width, height: world size in px (the output frame at rest camera); the walls lie on its borders.
        gravity: ``(gx, gy)`` px/s^2, y down.
        substeps: physics steps per frame (1..1000).
        iterations: contact solver iterations per step.
        walls: the borders.
        bodies: the bodies (ids and track names unique).

    Raises:
        pydantic.ValidationError: for repeated ids or names and every problem of a body.
    """

    model_config = ConfigDict(extra="allow")

    width: int = Field(768, ge=1)
    height: int = Field(512, ge=1)
    gravity: tuple[float, float] = (0.0, DEFAULT_GRAVITY)
    substeps: int = Field(64, ge=1, le=1000)
    iterations: int = Field(20, ge=1, le=1000)
    walls: Walls = Field(default_factory=Walls)
    bodies: list[Body] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> PhysicsScene:
        for attr in ("id", "track_name"):
            seen: dict[str, int] = {}
            for i, b in enumerate(self.bodies):
                v = getattr(b, attr)
                if v in seen:
                    what = "id" if attr == "id" else "name"
                    raise ValueError(f"bodies[{i}] has the {what} {v!r} of bodies[{seen[v]}]; they must be unique")
                seen[v] = i
        return self

    def body(self, body_id: str) -> Body:
        """The body with ``body_id``.

        Raises:
            KeyError: naming the id and the ids there are.
        """
        for b in self.bodies:
            if b.id == body_id:
                return b
        raise KeyError(f"no body with id {body_id!r} (bodies: {', '.join(b.id for b in self.bodies) or 'none'})")

    def to_json(self) -> dict[str, Any]:
        """The scene as JSON-ready data (the document shown in the module docstring)."""
        return self.model_dump(mode="json")


#: Validates the ``bodies`` parameter of the Physics Scene node (a JSON list of bodies).
BODIES_ADAPTER: TypeAdapter[list[Body]] = TypeAdapter(list[Body])


def validate_bodies(value: Any) -> list[Body]:
    """Validates a list of bodies (dicts or models).

    Raises:
        pydantic.ValidationError: naming ``[i].field`` for every problem.
    """
    return BODIES_ADAPTER.validate_python(value)


def scene_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`PhysicsScene` (bodies included), for inspectors and overlays."""
    return PhysicsScene.model_json_schema()


def _polygon_area(v: np.ndarray) -> float:
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _polygon_centroid(v: np.ndarray) -> np.ndarray:
    x, y = v[:, 0], v[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    a = cross.sum() / 2.0
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6.0 * a)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6.0 * a)
    return np.array([cx, cy])


@dataclass(eq=False)
class SimulationResult:
    """The outcome of :func:`simulate`.

    Attributes:
        tracks: one :class:`~vidstudio.motion.tracks.Track` per body (dynamic, kinematic and static, in scene
            order): position ``(T, 2)`` world px, angle radians clockwise, ``size`` the body's bounding size
            at angle 0, ``meta`` its shape (``shape``, ``radius``, ``width``/``height``, ``vertices`` relative
            to the track position), ``color``, ``kind`` and ``source: "physics"``; anchors = the static
            bodies' positions.
        velocity: ``(N, T, 2)`` float64 px/s of each body at each frame.
        angular_velocity: ``(N, T)`` float64 rad/s.
        mass, moment: ``(N,)`` float64 (inf for kinematic and static bodies).
        kinds: ``(N,)`` body kinds.
    """

    tracks: TrackSet
    velocity: np.ndarray
    angular_velocity: np.ndarray
    mass: np.ndarray
    moment: np.ndarray
    kinds: list[str]

    def energy(self, gravity: tuple[float, float]) -> np.ndarray:
        """Total mechanical energy of the dynamic bodies per frame: ``(T,)`` float64, kinetic
        ``m v^2 / 2 + I w^2 / 2`` plus potential ``-m g . p`` (arbitrary zero)."""
        g = np.asarray(gravity, dtype=np.float64)
        total = np.zeros(self.tracks.frame_count)
        for i, tr in enumerate(self.tracks):
            if self.kinds[i] != "dynamic":
                continue
            v2 = (self.velocity[i] ** 2).sum(axis=1)
            total += 0.5 * self.mass[i] * v2 + 0.5 * self.moment[i] * self.angular_velocity[i] ** 2
            total -= self.mass[i] * (tr.position @ g)
        return total


def _make_shape(pm, body, spec: Body, local: np.ndarray | None):
    if spec.shape == "circle":
        return pm.Circle(body, spec.radius)
    if spec.shape == "box":
        w, h = spec.width / 2, spec.height / 2
        return pm.Poly(body, [(-w, -h), (w, -h), (w, h), (-w, h)])
    if spec.shape == "polygon":
        return pm.Poly(body, [tuple(p) for p in local])
    return pm.Segment(body, tuple(local[0]), tuple(local[1]), max(spec.radius, 0.5))


def _moment(pm, spec: Body, local: np.ndarray | None) -> float:
    if spec.shape == "circle":
        return pm.moment_for_circle(spec.mass, 0.0, spec.radius)
    if spec.shape == "box":
        return pm.moment_for_box(spec.mass, (spec.width, spec.height))
    return pm.moment_for_poly(spec.mass, [tuple(p) for p in local], (0, 0), 0.0)


def _geometry(spec: Body) -> tuple[np.ndarray, np.ndarray | None, tuple[float, float], dict[str, Any]]:
    """(origin offset from ``position`` to the body origin, local vertices, size, meta shape facts)."""
    if spec.shape == "circle":
        return np.zeros(2), None, (2 * spec.radius, 2 * spec.radius), {"shape": "circle", "radius": spec.radius}
    if spec.shape == "box":
        meta = {"shape": "box", "width": spec.width, "height": spec.height}
        return np.zeros(2), None, (spec.width, spec.height), meta
    v = np.asarray(spec.vertices, dtype=np.float64)
    if spec.shape == "polygon":
        from scipy.spatial import ConvexHull

        v = v[ConvexHull(v).vertices]
        if _polygon_area(v) < 0:
            v = v[::-1]
        c = _polygon_centroid(v)
    else:
        c = v.mean(axis=0)
    local = v - c
    r = 0.0 if spec.shape == "polygon" else max(spec.radius, 0.5)
    size = (2 * (np.abs(local[:, 0]).max() + r), 2 * (np.abs(local[:, 1]).max() + r))
    meta = {"shape": spec.shape, "vertices": local.round(6).tolist(), "radius": r}
    return c, local, (float(size[0]), float(size[1])), meta


def simulate(
    scene: PhysicsScene,
    frame_count: int,
    fps: float,
    paths: TrackSet | None = None,
    *,
    cancel: CancelToken | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> SimulationResult:
    """Simulates a scene and records every body once per frame.

    Args:
        scene: the scene.
        frame_count: frames to record (frame 0 is the initial state).
        fps: frames per second (time step ``1 / (fps * scene.substeps)``).
        paths: tracks that kinematic bodies with ``follow`` move along (world px, one sample per frame;
            sampled linearly between frames at each sub-step).
        cancel: checked once per frame.
        progress: ``progress(fraction, message)`` once per frame.

    Returns:
        the :class:`SimulationResult`.

    Raises:
        ValueError: when a body follows a track that ``paths`` does not have (naming the body and the tracks
            there are), or for a non-positive fps or frame count.
        vidstudio.errors.Cancelled: when cancelled.
    """
    import pymunk as pm

    if frame_count < 1 or not fps > 0:
        raise ValueError(f"cannot simulate {frame_count} frames at {fps} fps")
    cancel = cancel or CancelToken()
    space = pm.Space()
    g = (float(scene.gravity[0]), float(scene.gravity[1]))
    space.gravity = g
    space.iterations = scene.iterations
    W, H = float(scene.width), float(scene.height)
    R = max(W, H)  # thick walls: nothing fast tunnels through them
    walls = scene.walls
    for on, a, b in (
        (walls.ground, (-R, H + R), (W + R, H + R)),
        (walls.ceiling, (-R, -R), (W + R, -R)),
        (walls.left, (-R, -R), (-R, H + R)),
        (walls.right, (W + R, -R), (W + R, H + R)),
    ):
        if on:
            seg = pm.Segment(space.static_body, a, b, R)
            seg.elasticity, seg.friction = walls.elasticity, walls.friction
            space.add(seg)

    dt = 1.0 / (float(fps) * scene.substeps)
    half_g_dt2 = (0.5 * g[0] * dt * dt, 0.5 * g[1] * dt * dt)

    def exact_position(body, step):
        pm.Body.update_position(body, step)
        x, y = body.position
        body.position = (x + half_g_dt2[0], y + half_g_dt2[1])

    bodies, shapes_meta, follow = [], [], []
    for spec in scene.bodies:
        offset, local, size, meta = _geometry(spec)
        meta.update({"color": list(spec.color), "kind": spec.kind, "source": "physics", "body_id": spec.id})
        if spec.kind == "dynamic":
            body = pm.Body(spec.mass, _moment(pm, spec, local))
            body.position_func = exact_position
        elif spec.kind == "kinematic":
            body = pm.Body(body_type=pm.Body.KINEMATIC)
        else:
            body = pm.Body(body_type=pm.Body.STATIC)
        angle = math.radians(spec.angle)
        c, s = math.cos(angle), math.sin(angle)
        origin = np.asarray(spec.position, dtype=np.float64) + np.array(
            [c * offset[0] - s * offset[1], s * offset[0] + c * offset[1]]
        )
        body.position = tuple(origin)
        body.angle = angle
        if spec.kind != "static":
            body.velocity = tuple(map(float, spec.velocity))
            body.angular_velocity = math.radians(spec.angular_velocity)
        shape = _make_shape(pm, body, spec, local)
        shape.elasticity, shape.friction = spec.elasticity, spec.friction
        target = None
        if spec.follow is not None:
            if paths is None or spec.follow not in paths.names:
                have = (
                    ", ".join(paths.names)
                    if paths is not None and len(paths)
                    else "none (link a Trajectory to 'paths')"
                )
                raise ValueError(
                    f"body {spec.id!r} follows the track {spec.follow!r}, which the paths input does not have (tracks: {have})"
                )
            track = paths.get(spec.follow)
            start = track.sample_at(0.0)
            body.position = tuple(start.position[0])
            body.angle = float(start.angle[0]) + angle
            # Where the body must be at the end of every sub-step, sampled once.
            steps = np.arange(1, max(frame_count - 1, 0) * scene.substeps + 1) / scene.substeps
            target = track.sample_at(steps) if len(steps) else None
            if target is not None:
                target = (target.position, target.angle + angle)
        space.add(body, shape)
        bodies.append(body)
        shapes_meta.append((spec, size, meta))
        follow.append(target)

    n = len(bodies)
    pos = np.zeros((n, frame_count, 2))
    ang = np.zeros((n, frame_count))
    vel = np.zeros((n, frame_count, 2))
    avel = np.zeros((n, frame_count))
    sub = scene.substeps
    for f in range(frame_count):
        cancel.raise_if_cancelled()
        for i, b in enumerate(bodies):
            pos[i, f] = tuple(b.position)
            ang[i, f] = b.angle
            vel[i, f] = tuple(b.velocity)
            avel[i, f] = b.angular_velocity
        if progress is not None and (f % 8 == 0 or f == frame_count - 1):
            progress(f / max(frame_count - 1, 1), f"frame {f + 1}/{frame_count}")
        if f == frame_count - 1:
            break
        for k in range(sub):
            j = f * sub + k
            for target, b in zip(follow, bodies):
                if target is None:
                    continue
                tx, ty = target[0][j]
                x, y = b.position
                b.velocity = ((tx - x) / dt, (ty - y) / dt)
                b.angular_velocity = (float(target[1][j]) - b.angle) / dt
            space.step(dt)

    tracks, anchors, masses, moments, kinds = [], [], [], [], []
    for i, (spec, size, meta) in enumerate(shapes_meta):
        tracks.append(Track(spec.track_name, pos[i], ang[i], None, None, size, meta))
        if spec.kind == "static":
            anchors.append(pos[i, 0])
        masses.append(spec.mass if spec.kind == "dynamic" else math.inf)
        moments.append(bodies[i].moment if spec.kind == "dynamic" else math.inf)
        kinds.append(spec.kind)
    ts = TrackSet(tracks, np.array(anchors, dtype=np.float64).reshape(-1, 2))
    return SimulationResult(ts, vel, avel, np.array(masses), np.array(moments), kinds)
