"""Animatic Render: the instant CPU preview of a shot (background through the camera, sprites along their
tracks), as a lazy VIDEO whose frames render independently."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.errors import NodeError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip, as_clip
from vidstudio.motion.animatic import AnimaticRenderer
from vidstudio.motion.raster import SpriteMasks
from vidstudio.motion.sprites import sprites_from_tracks


def gather_sprites(sprites: list, trajectory: Any) -> list:
    """The sprites of a render: the linked ones, then stand-ins for tracks of ``trajectory`` that no sprite
    already draws (see :func:`vidstudio.motion.sprites.sprites_from_tracks`).

    Raises:
        NodeError: when two sprites have the same name.
    """
    out = list(sprites or [])
    names = [s.name for s in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise NodeError(
            f"input 'sprites': several sprites follow the same track {', '.join(map(repr, dup))}; "
            "each object needs its own track"
        )
    if trajectory is not None:
        out += [s for s in sprites_from_tracks(trajectory) if s.name not in names]
    return out


class AnimaticClip(Clip):
    """The animatic's lazy frames with the mask of its sprites (``mask``, a
    :class:`vidstudio.motion.raster.SpriteMasks`), so that one link to the Conditioning node's ``motion`` input
    carries Time-to-Move's motion signal and its mask together. :meth:`Clip.map` and :meth:`Clip.subclip` give
    plain clips (their frames no longer match the mask)."""

    def __init__(self, *args: Any, mask: SpriteMasks, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.mask = mask


class AnimaticRender(Node):
    """Composites the animatic.

    Background: a picture (``background``, fitted to the frame and seen through the ``camera``), or the
    frames of a video (``background_video``, used as they are), or ``background_color``. Sprites are drawn in
    ``z`` order along their tracks, through the camera, antialiased, with optional motion blur; tracks of a
    linked ``trajectory`` without a sprite are drawn as stand-in shapes.

    Outputs:
        video: a lazy :class:`vidstudio.media.Clip` of ``frame_count`` frames ``(H, W, 3)`` float32 in [0, 1]; any
            frame renders on its own (scrubbing, from any thread).
        mask: ``(T, H, W)`` bool, the union of the sprites' silhouettes (stand-ins of bare tracks included: their
            box or disc), dilated by ``mask_dilation`` px, computed a frame at a time
            (:class:`vidstudio.motion.raster.SpriteMasks`): with ``video``, the motion signal and mask that
            Time-to-Move takes. ``video`` carries it too (:class:`AnimaticClip`), so linking ``video`` to the
            Conditioning node's ``motion`` input brings both.
    """

    type_id = "AnimaticRender"
    title = "Animatic Render"
    category = "Motion"
    description = "Instant CPU preview: background through the camera, sprites along trajectories, motion blur."
    inputs = (
        Input("background", PortType.IMAGE, optional=True, help="A picture the camera looks at."),
        Input("background_video", PortType.VIDEO, optional=True, help="Or a video behind the sprites (as is)."),
        Input("sprites", PortType.SPRITE, optional=True, multi=True, help="The moving pictures."),
        Input("trajectory", PortType.TRAJECTORY, optional=True, help="Tracks drawn as stand-in shapes."),
        Input("camera", PortType.CAMERA, optional=True, help="The camera (a Camera or Camera Move node)."),
    )
    outputs = (
        Output("video", PortType.VIDEO, "the animatic, (T, H, W, 3) float32, rendered on demand"),
        Output("mask", PortType.MASK, "(T, H, W) bool: where the sprites are (dilated), per frame"),
    )
    params = (
        Param("background_color", "color", [0.08, 0.08, 0.1], help="Colour behind everything."),
        Param(
            "fit",
            "choice",
            "cover",
            choices=("cover", "contain", "stretch"),
            help="How the background picture fills the frame at rest.",
        ),
        Param(
            "motion_blur",
            "float",
            0.0,
            min=0.0,
            max=1.0,
            step=0.05,
            unit="frames",
            help="Shutter as a fraction of a frame (0: off; 0.5: a 180-degree shutter).",
        ),
        Param("blur_samples", "int", 5, min=2, max=64, step=1, help="Fewest sub-frames per blurred frame."),
        Param("quality", "choice", "bilinear", choices=("bilinear", "bicubic"), help="Background resampling."),
        Param(
            "mask_dilation",
            "int",
            8,
            min=0,
            max=256,
            unit="px",
            help="Grow the 'mask' output (the sprites' silhouettes) by this many pixels.",
        ),
    )
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if inputs["background"] is not None and inputs["background_video"] is not None:
            raise NodeError("link a background picture or a background video, not both")
        backdrop = None
        if inputs["background_video"] is not None:
            clip = as_clip(inputs["background_video"])
            if (clip.width, clip.height) != (ctx.width, ctx.height):
                raise NodeError(
                    f"input 'background_video' is {clip.width}x{clip.height}, the project is {ctx.width}x{ctx.height}"
                )
            n = clip.frame_count
            backdrop = lambda i: clip.frame(min(i, n - 1))  # noqa: E731
        sprites = gather_sprites(inputs["sprites"], inputs["trajectory"])
        try:
            renderer = AnimaticRenderer(
                ctx.width,
                ctx.height,
                ctx.frame_count,
                sprites=sprites,
                background=None if inputs["background"] is None else np.asarray(inputs["background"]),
                background_frames=backdrop,
                background_color=params["background_color"],
                cameras=inputs["camera"],
                fit=params["fit"],
                motion_blur=params["motion_blur"],
                blur_samples=params["blur_samples"],
                quality=params["quality"],
            )
        except ValueError as e:
            raise NodeError(str(e)) from None
        mask = SpriteMasks(
            sprites, ctx.width, ctx.height, ctx.frame_count, cameras=inputs["camera"], dilate=params["mask_dilation"]
        )
        video = AnimaticClip(
            ctx.frame_count, ctx.height, ctx.width, renderer.render, mask=mask, label=f"{ctx.node_id} animatic"
        )
        return {"video": video, "mask": mask}
