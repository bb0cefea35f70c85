"""Sprite: an image cut-out or a vector shape that follows a track."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.errors import NodeError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.motion.sprites import image_sprite, shape_sprite
from vidstudio.motion.tracks import Track


class SpriteNode(Node):
    """A picture that follows one track of a trajectory.

    With an ``image`` linked, the sprite is that cut-out (its alpha is kept); otherwise it is a shape with a
    fill colour and an outline. ``shape: auto`` takes a physics body's own shape (circle, box, polygon,
    segment) from its track, an ellipse otherwise. Without a trajectory, or with one that has no paths yet, the
    sprite stands still at ``x, y`` (a note says so in the second case).

    Output ``sprite``: a :class:`vidstudio.motion.sprites.Sprite` (picture + track).
    """

    type_id = "Sprite"
    title = "Sprite"
    category = "Motion"
    description = "An image cut-out or a shape (fill, outline) that follows a trajectory."
    inputs = (
        Input("image", PortType.IMAGE, optional=True, help="A cut-out (RGBA) or picture; none: a shape."),
        Input("trajectory", PortType.TRAJECTORY, optional=True, help="The motion; the track is chosen by 'track'."),
    )
    outputs = (Output("sprite", PortType.SPRITE, "the picture and the track it follows"),)
    params = (
        Param("track", "string", "", help="Name of the track to follow; empty: the first track."),
        Param(
            "shape",
            "choice",
            "auto",
            choices=("auto", "ellipse", "ball", "box", "polygon"),
            help="Shape drawn when no image is linked (auto: a physics body's own shape; ball: an ellipse "
            "with wedges in the outline colour, so that it shows its spin).",
        ),
        Param(
            "width",
            "float",
            0.0,
            min=0.0,
            max=100000,
            step=1,
            unit="px",
            help="Width at scale 1; 0: from the track's size (or the image's).",
        ),
        Param(
            "height",
            "float",
            0.0,
            min=0.0,
            max=100000,
            step=1,
            unit="px",
            help="Height at scale 1; 0: from the width's aspect ratio or the track's size.",
        ),
        Param("color", "color", [0.95, 0.35, 0.15], help="Fill colour of a shape."),
        Param("outline_color", "color", [1.0, 1.0, 1.0], help="Outline colour of a shape."),
        Param("outline_width", "float", 0.0, min=0.0, max=1000, step=0.5, unit="px", help="Outline width (0: none)."),
        Param("sides", "int", 6, min=3, max=64, step=1, help="Sides of a regular polygon shape."),
        Param("corner_radius", "float", 0.0, min=0.0, max=10000, step=1, unit="px", help="Rounded corners of a box."),
        Param(
            "opacity",
            "float",
            1.0,
            min=0.0,
            max=1.0,
            step=0.05,
            animatable=True,
            help="Opacity of the whole sprite (keyable: fades).",
        ),
        Param("z", "float", 0.0, min=-1000, max=1000, step=1, help="Drawing order: higher is in front."),
        Param(
            "x",
            "float",
            -1.0,
            min=-100000,
            max=100000,
            step=1,
            unit="px",
            help="Position without a trajectory (world px); negative: the frame's centre.",
        ),
        Param(
            "y",
            "float",
            -1.0,
            min=-100000,
            max=100000,
            step=1,
            unit="px",
            help="Position without a trajectory (world px); negative: the frame's centre.",
        ),
    )
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        tracks = inputs["trajectory"]
        name = params["track"]
        if tracks is not None and len(tracks) == 0:
            # a Trajectory node with nothing drawn yet: stand still (the animatic stays usable while drawing)
            ctx.note("input 'trajectory' has no paths yet: the sprite stands still at x, y until one is drawn")
            tracks = None
        if tracks is not None:
            try:
                track = tracks.get(name) if name else tracks.tracks[0]
            except KeyError as e:
                raise NodeError(f"param 'track': {e.args[0]}") from None
        else:
            x = params["x"] if params["x"] >= 0 else ctx.width / 2
            y = params["y"] if params["y"] >= 0 else ctx.height / 2
            track = Track(name or ctx.node_id, np.tile([[x, y]], (ctx.frame_count, 1)))
        image = inputs["image"]
        try:
            if image is not None:
                sprite = image_sprite(
                    track.name,
                    track,
                    np.asarray(image),
                    params["width"],
                    params["height"],
                    opacity=params["opacity"],
                    z=params["z"],
                )
            else:
                sprite = shape_sprite(
                    track.name,
                    track,
                    params["shape"],
                    params["width"],
                    params["height"],
                    fill=tuple(params["color"]),
                    outline=tuple(params["outline_color"]),
                    outline_width=params["outline_width"],
                    sides=params["sides"],
                    corner_radius=params["corner_radius"],
                    opacity=params["opacity"],
                    z=params["z"],
                )
        except ValueError as e:
            raise NodeError(str(e)) from None
        return {"sprite": sprite}
