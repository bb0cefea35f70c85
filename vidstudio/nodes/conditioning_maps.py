"""Conditioning maps from the scene: object masks, boxes, heatmaps and dense flow, in output-frame pixels.

Each node takes the sprites (and/or a bare trajectory, whose tracks become stand-in shapes) and the camera,
so object motion and camera motion compose exactly as in the animatic.
"""

from __future__ import annotations

from typing import Any

from vidstudio.errors import NodeError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.motion import raster
from vidstudio.motion.tracks import TrackSet
from vidstudio.nodes.animatic import gather_sprites

_SCENE_INPUTS = (
    Input("sprites", PortType.SPRITE, optional=True, multi=True, help="The objects (their pictures' alpha)."),
    Input("trajectory", PortType.TRAJECTORY, optional=True, help="Tracks without sprites (boxes of their size)."),
    Input("camera", PortType.CAMERA, optional=True, help="The camera; none: at rest."),
)
_OBJECTS = Param("objects", "string", "", help="Comma-separated object (track) names; empty: every object.")


def _objects(ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any], allow_empty: bool = False) -> list:
    sprites = gather_sprites(inputs["sprites"], inputs["trajectory"])
    wanted = [n.strip() for n in params["objects"].split(",") if n.strip()]
    if wanted:
        have = {s.name: s for s in sprites}
        missing = [n for n in wanted if n not in have]
        if missing:
            raise NodeError(
                f"param 'objects': no object named {', '.join(map(repr, missing))} "
                f"(objects: {', '.join(have) or 'none'})"
            )
        sprites = [have[n] for n in wanted]
    if not sprites and not allow_empty:
        raise NodeError("no objects: link sprites or a trajectory")
    cams = inputs["camera"]
    if cams is not None and len(cams) not in (1, ctx.frame_count):
        raise NodeError(f"input 'camera' has {len(cams)} frames, the project {ctx.frame_count}")
    return sprites


class ObjectMasks(Node):
    """Object silhouettes per frame (the union of the chosen objects).

    Output ``mask``: ``(T, H, W)`` bool, True where an object's alpha is at least ``threshold``.
    """

    type_id = "ObjectMasks"
    title = "Object Masks"
    category = "Conditioning"
    description = "Per-frame masks of the objects (through the camera), for inpainting or region control."
    inputs = _SCENE_INPUTS
    outputs = (Output("mask", PortType.MASK, "(T, H, W) bool"),)
    params = (
        _OBJECTS,
        Param("threshold", "float", 0.5, min=0.01, max=1.0, step=0.05, help="Alpha that counts as inside."),
    )
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        sprites = _objects(ctx, inputs, params)
        out = raster.object_masks(
            sprites, ctx.width, ctx.height, ctx.frame_count, inputs["camera"], params["threshold"], union=True
        )
        out.setflags(write=False)
        return {"mask": out}


class ObjectBoxes(Node):
    """Tight boxes of the objects per frame, and their tracks in output-frame pixels.

    Outputs:
        boxes: ``(T, N, 4)`` float64 ``(x0, y0, x1, y1)`` px, NaN where an object is hidden or off-frame.
        trajectory: the objects' tracks seen through the camera (output-frame px), for consumers that want
            positions as a model sees them.
    """

    type_id = "ObjectBoxes"
    title = "Object Boxes"
    category = "Conditioning"
    description = "Per-frame bounding boxes (and screen-space tracks) of the objects, through the camera."
    inputs = _SCENE_INPUTS
    outputs = (
        Output("boxes", PortType.BOXES, "(T, N, 4) px, NaN where not visible"),
        Output("trajectory", PortType.TRAJECTORY, "the tracks in output-frame px"),
    )
    params = (_OBJECTS, Param("clip", "bool", True, help="Clip boxes to the frame (wholly outside: NaN)."))
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        sprites = _objects(ctx, inputs, params)
        boxes = raster.object_boxes(sprites, ctx.width, ctx.height, ctx.frame_count, inputs["camera"], params["clip"])
        boxes.setflags(write=False)
        frames = list(range(ctx.frame_count))
        tracks = TrackSet([s.track_at(frames) for s in sprites])
        if inputs["camera"] is not None:
            tracks = tracks.transformed(inputs["camera"])
        return {"boxes": boxes, "trajectory": tracks}


class Heatmaps(Node):
    """Gaussian heatmaps at the objects' centres (the largest value where blobs overlap).

    Output ``heatmap``: ``(T, H, W)`` float32 in [0, 1] (a MASK with soft values).
    """

    type_id = "Heatmaps"
    title = "Heatmaps"
    category = "Conditioning"
    description = "Per-frame Gaussian blobs at the objects' centres."
    inputs = _SCENE_INPUTS
    outputs = (Output("heatmap", PortType.MASK, "(T, H, W) float32 in [0, 1]"),)
    params = (
        _OBJECTS,
        Param(
            "sigma",
            "float",
            0.0,
            min=0.0,
            max=10000,
            step=1,
            unit="px",
            help="Blob size (standard deviation); 0: a quarter of each object's size.",
        ),
    )
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        sprites = _objects(ctx, inputs, params)
        out = raster.heatmaps(
            sprites, ctx.width, ctx.height, ctx.frame_count, inputs["camera"], params["sigma"] or None
        )
        out.setflags(write=False)
        return {"heatmap": out}


class MotionFlow(Node):
    """Dense forward optical flow from the objects' rigid motion and the camera's (with no objects linked:
    the camera's alone).

    Output ``flow``: ``(T-1, H, W, 2)`` float32 px: pixel ``p`` of frame ``t`` moves to ``p + flow[t, p]``.
    """

    type_id = "MotionFlow"
    title = "Motion Flow"
    category = "Conditioning"
    description = "Per-frame forward flow of objects and camera (px), for flow-guided generation."
    inputs = _SCENE_INPUTS
    outputs = (Output("flow", PortType.FLOW, "(T-1, H, W, 2) float32 px"),)
    params = (_OBJECTS,)
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        sprites = _objects(ctx, inputs, params, allow_empty=True)
        flow = raster.forward_flow(sprites, ctx.width, ctx.height, ctx.frame_count, inputs["camera"])
        flow.setflags(write=False)
        return {"flow": flow}
