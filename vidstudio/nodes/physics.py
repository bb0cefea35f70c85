"""Physics: a scene of bodies (Physics Scene) and its deterministic simulation into trajectories (Simulate)."""

from __future__ import annotations

from typing import Any

from vidstudio.errors import NodeError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.motion.physics import DEFAULT_GRAVITY, PhysicsScene, Walls, simulate, validate_bodies


class PhysicsSceneNode(Node):
    """Describes a 2-D physics scene in world pixels (the output frame at rest camera).

    ``bodies`` is a JSON list of bodies (schema: :class:`vidstudio.motion.physics.Body`; the whole scene:
    :func:`vidstudio.motion.physics.scene_json_schema`): circles, boxes, polygons and static segments with
    mass, elasticity, friction, initial position, velocity and angular velocity; ``dynamic``, ``kinematic``
    (optionally following a drawn track) or ``static``. The frame's borders are static walls, each switchable.

    Output ``scene``: a :class:`vidstudio.motion.physics.PhysicsScene` (nothing is simulated here).
    """

    type_id = "PhysicsScene"
    title = "Physics Scene"
    category = "Physics"
    description = "Bodies (circle, box, polygon), gravity and walls for a pymunk simulation."
    outputs = (Output("scene", PortType.PHYSICS_SCENE, "the scene description"),)
    params = (
        Param(
            "bodies",
            "json",
            [],
            validator=validate_bodies,
            help="The bodies: a JSON list (id, shape, radius/width/height/vertices, mass, elasticity, friction, "
            "position, velocity, angle, angular_velocity, kind, follow, color).",
        ),
        Param("gravity_x", "float", 0.0, min=-100000, max=100000, step=10, unit="px/s^2", help="Gravity, x component."),
        Param(
            "gravity_y",
            "float",
            DEFAULT_GRAVITY,
            min=-100000,
            max=100000,
            step=10,
            unit="px/s^2",
            help="Gravity, y component (down); 980 is Earth's g at 100 px per metre.",
        ),
        Param("ground", "bool", True, help="A wall along the frame's bottom edge."),
        Param("left", "bool", True, help="A wall along the frame's left edge."),
        Param("right", "bool", True, help="A wall along the frame's right edge."),
        Param("ceiling", "bool", True, help="A wall along the frame's top edge."),
        Param(
            "wall_elasticity",
            "float",
            1.0,
            min=0.0,
            max=1.0,
            step=0.05,
            help="Restitution of the walls (multiplied with each body's own).",
        ),
        Param(
            "wall_friction",
            "float",
            1.0,
            min=0.0,
            max=10.0,
            step=0.05,
            help="Friction of the walls (multiplied with each body's own).",
        ),
        Param(
            "substeps", "int", 64, min=1, max=1000, step=1, help="Physics steps per frame (more: more exact contacts)."
        ),
        Param("iterations", "int", 20, min=1, max=1000, step=1, help="Contact solver iterations per step."),
    )
    uses_settings = ("width", "height")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        walls = Walls(
            ground=params["ground"],
            left=params["left"],
            right=params["right"],
            ceiling=params["ceiling"],
            elasticity=params["wall_elasticity"],
            friction=params["wall_friction"],
        )
        try:
            scene = PhysicsScene(
                width=ctx.width,
                height=ctx.height,
                gravity=(params["gravity_x"], params["gravity_y"]),
                substeps=params["substeps"],
                iterations=params["iterations"],
                walls=walls,
                bodies=validate_bodies(params["bodies"]),
            )
        except ValueError as e:
            raise NodeError(f"param 'bodies': {e}") from None
        return {"scene": scene}


class Simulate(Node):
    """Simulates a physics scene once (the engine caches the result) and records each body per frame.

    Inputs:
        scene: the Physics Scene.
        paths: tracks for kinematic bodies that ``follow`` one (e.g. a Trajectory's output).

    Output ``trajectory``: a :class:`~vidstudio.motion.tracks.TrackSet`, one track per body (position px,
    angle, ``size``, and ``meta`` with the body's shape and colour), anchors at the static bodies.
    ``vidstudio eval PROJECT NODE --json`` prints the per-frame positions.
    """

    type_id = "Simulate"
    title = "Simulate"
    category = "Physics"
    description = "Runs the physics scene (pymunk, fixed sub-steps) into one trajectory per body."
    inputs = (
        Input("scene", PortType.PHYSICS_SCENE, help="The scene to simulate."),
        Input("paths", PortType.TRAJECTORY, optional=True, help="Tracks that kinematic bodies follow (by name)."),
    )
    outputs = (Output("trajectory", PortType.TRAJECTORY, "one track per body (world px, per frame)"),)
    uses_settings = ("fps", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        try:
            result = simulate(
                inputs["scene"],
                ctx.frame_count,
                float(ctx.fps),
                inputs["paths"],
                cancel=ctx.cancel,
                progress=ctx.report,
            )
        except ValueError as e:
            raise NodeError(str(e)) from None
        return {"trajectory": result.tracks}
