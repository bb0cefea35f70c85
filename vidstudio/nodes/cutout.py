"""Cut Out: a region of a photo along a drawn outline, as a sprite picture, and the photo with its hole."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.errors import NodeError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.motion.cutout import cut_out, fill_hole, validate_outline


class CutOutNode(Node):
    """Cuts the region inside ``outline`` out of ``image`` (the motion brush's cut: see
    :mod:`vidstudio.motion.cutout`).

    The outline is a closed polygon of ``[x, y]`` points in the image's pixels (drawn with the Viewer's Cut Out
    tool; a freehand lasso is a polygon with many points), with a soft edge ``feather`` pixels wide.

    Outputs (the Viewer shows ``background`` when the node is selected):
        cutout: ``(h, w, 4)`` float32 straight-alpha RGBA, the crop of ``image`` around the region (link it to a
            Sprite's ``image``; the sprite sits where it was cut when drawn centred on the crop's centre).
        background: ``(H, W, 3|4)`` float32, ``background`` (or ``image`` when none is linked) with the region's
            hole filled by inpainting when ``fill_hole`` is on, else unchanged (link it to the Animatic
            Render's ``background``; chain the Cut Outs of several regions through it).
        mask: ``(1, H, W)`` float32 in [0, 1], the outline's alpha over the whole image.

    Without an outline (an empty list) the cut-out is a 1x1 transparent pixel and the background passes
    through, with a note.
    """

    type_id = "CutOut"
    title = "Cut Out"
    category = "Motion"
    description = "A region of a photo cut along a drawn outline (feathered), and the photo with the hole filled."
    inputs = (
        Input("image", PortType.IMAGE, help="The photo to cut from."),
        Input(
            "background",
            PortType.IMAGE,
            optional=True,
            help="The picture whose hole is filled (another Cut Out's background); none: the image.",
        ),
    )
    # (background first: selecting the node shows the photo with its hole, where the outline is edited)
    outputs = (
        Output("background", PortType.IMAGE, "(H, W, 3|4) float32: the picture with the hole filled (or left)"),
        Output("cutout", PortType.IMAGE, "(h, w, 4) float32 RGBA: the region, alpha from the outline"),
        Output("mask", PortType.MASK, "(1, H, W) float32 in [0, 1]: the outline's alpha over the image"),
    )
    params = (
        Param(
            "outline",
            "json",
            [],
            validator=validate_outline,
            help="The outline: [[x, y], ...] in the image's pixels, closed (drawn with the Viewer's Cut Out tool).",
        ),
        Param(
            "feather",
            "float",
            2.0,
            min=0.0,
            max=500.0,
            step=0.5,
            unit="px",
            help="Width of the soft edge of the alpha, centred on the outline.",
        ),
        Param(
            "fill_hole",
            "bool",
            True,
            help="Fill the hole left in the background by inpainting (OpenCV, Telea); off: leave the photo as is.",
        ),
        Param(
            "inpaint_radius",
            "float",
            5.0,
            min=0.5,
            max=100.0,
            step=0.5,
            unit="px",
            help="Neighbourhood the inpainting looks at around each missing pixel.",
        ),
    )
    uses_settings = ()

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        photo = np.asarray(inputs["image"], dtype=np.float32)
        if photo.ndim != 3 or photo.shape[2] not in (3, 4):
            raise NodeError(f"input 'image': expects an (H, W, 3|4) image, got shape {photo.shape}")
        back = photo if inputs["background"] is None else np.asarray(inputs["background"], dtype=np.float32)
        if back.shape[:2] != photo.shape[:2]:
            raise NodeError(
                f"input 'background' is {back.shape[1]}x{back.shape[0]}, input 'image' is "
                f"{photo.shape[1]}x{photo.shape[0]}; they must be the same size"
            )
        outline = params["outline"]
        h, w = photo.shape[:2]
        if not outline:
            ctx.note("no outline drawn yet: nothing is cut out (draw one with the Viewer's Cut Out tool)")
            empty = np.zeros((1, 1, 4), dtype=np.float32)
            return {"cutout": empty, "background": back, "mask": np.zeros((1, h, w), dtype=np.float32)}
        try:
            cut = cut_out(photo, outline, params["feather"])
            filled = fill_hole(back, cut.alpha, params["inpaint_radius"]) if params["fill_hole"] else back
        except ValueError as e:
            raise NodeError(f"param 'outline': {e}") from None
        for a in (cut.image, filled):
            a.setflags(write=False)
        return {"cutout": cut.image, "background": filled, "mask": cut.alpha[None]}
