"""Trajectory: drawn motion paths (several per node) and static anchors, evaluated once per frame."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from vidstudio.errors import NodeError
from vidstudio.graph.node import ExecutionContext, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.motion.trajectory import compile_path, evaluate_document, point_frames, validate_document


class Trajectory(Node):
    """Objects moving along drawn paths.

    The ``paths`` parameter is a trajectory document (JSON; schema and semantics in
    :mod:`vidstudio.motion.trajectory`, :func:`vidstudio.motion.trajectory.json_schema`): paths with control
    points in world pixels (the output frame at rest camera, origin top-left, y down), interpolation
    (centripetal Catmull-Rom, cubic B-spline, Bezier with handles, linear), timing (keyed frames, or constant
    speed along the arc shaped by an easing), rotation (fixed, keyed, along the tangent), scale, visibility,
    each with its own start and end frame; plus static anchors.

    Output ``trajectory``: a :class:`~vidstudio.motion.tracks.TrackSet` with one track per path
    (``frame_count`` samples, world px) and the anchors.
    """

    type_id = "Trajectory"
    title = "Trajectory"
    category = "Motion"
    description = (
        "Drawn motion paths: Catmull-Rom, B-spline, Bezier or linear, timed by keys or constant speed with easing."
    )
    outputs = (Output("trajectory", PortType.TRAJECTORY, "one track per path (world px, per frame) and the anchors"),)
    params = (
        Param(
            "paths",
            "json",
            {"version": 1, "paths": [], "anchors": []},
            validator=validate_document,
            help="The paths and anchors (drawn in the viewer; JSON schema in vidstudio.motion.trajectory).",
        ),
    )
    uses_settings = ("frame_count",)

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        problems = []
        doc = params["paths"]
        for i, path in enumerate(doc.paths):
            try:
                point_frames(path, settings.frame_count, compile_path(path))
            except ValueError as e:
                problems.append(("param 'paths'", f"paths[{i}]: {e}"))
        return problems

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        try:
            tracks = evaluate_document(validate_document(params["paths"]), ctx.frame_count)
        except (ValidationError, ValueError) as e:
            raise NodeError(f"param 'paths': {e}") from None
        return {"trajectory": tracks}
