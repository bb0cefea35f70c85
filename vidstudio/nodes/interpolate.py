"""Interpolate: more frames per second by optical-flow frame interpolation."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from vidstudio.errors import MediaError, NodeError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import as_clip
from vidstudio.media.video import parse_fps


class Interpolate(Node):
    """Resamples a video to a higher (or lower) frame rate, making the in-between frames by optical flow
    (:func:`vidstudio.media.interpolate.interpolate_clip`: OpenCV DIS flow, both neighbours warped and
    cross-faded).

    The clip keeps its duration: ``n`` frames at ``fps_in`` become ``round(n * fps_out / fps_in)`` frames (a tie
    rounds up; ``n * factor`` in mode factor), the last ones holding the last source frame
    (:func:`vidstudio.media.interpolate.output_count`), so 48 frames at 24 fps give 120 at 60 fps and a sound track
    of the source's 2 s still fits.

    The input's rate is its ``vidstudio_fps`` metadata when it has one, else the project's. Output ``video``: a
    lazy Clip whose ``vidstudio_fps`` metadata is the new rate, which Export Video and the Export dialog write
    when their frame rate is empty, over the same seconds as their range of project frames
    (:func:`vidstudio.media.export.clip_rate_and_range`).
    """

    type_id = "Interpolate"
    title = "Interpolate"
    category = "Time"
    description = "Frame interpolation to a target fps or by a factor (optical flow)."
    inputs = (Input("video", PortType.VIDEO, help="The frames to interpolate."),)
    outputs = (Output("video", PortType.VIDEO, "the frames at the new rate"),)
    params = (
        Param("mode", "choice", "factor", choices=("factor", "fps"), help="Multiply the rate, or reach a rate."),
        Param("factor", "int", 2, min=1, max=16, step=1, unit="x", help="Frames per source frame (mode factor)."),
        Param("fps", "string", "60", help="Target frame rate, e.g. 60 or 60000/1001 (mode fps)."),
    )
    uses_settings = ("fps",)

    @classmethod
    def unused_params(cls, params: dict[str, Any], project_dir: Any = None) -> dict[str, str]:
        """``factor`` in mode ``fps``, ``fps`` in mode ``factor``."""
        if params.get("mode") == "fps":
            return {"factor": "not used in mode fps (the target rate decides)"}
        return {"fps": "not used in mode factor (the factor decides)"}

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        if params["mode"] == "fps":
            try:
                parse_fps(params["fps"])
            except MediaError as e:
                return [("param 'fps'", str(e))]
        return []

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from vidstudio.media.interpolate import interpolate_clip

        src = as_clip(inputs["video"])
        fps_in = Fraction(src.metadata["vidstudio_fps"]) if "vidstudio_fps" in src.metadata else Fraction(ctx.fps)
        fps_out = fps_in * int(params["factor"]) if params["mode"] == "factor" else parse_fps(params["fps"])
        if src.frame_count < 2:
            raise NodeError("interpolation needs at least 2 frames")
        out = interpolate_clip(src, fps_in, fps_out)
        ctx.note(f"{src.frame_count} frames at {fps_in} fps to {out.frame_count} frames at {fps_out} fps")
        return {"video": out}
