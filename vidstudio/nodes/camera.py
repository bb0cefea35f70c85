"""Camera Move: a keyframed virtual camera over a still image (a Ken Burns move)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip
from vidstudio.motion.camera import camera_matrices, fit_matrix, scaling
from vidstudio.motion.warp import to_pil, warp_array


class CameraMove(Node):
    """Moves a virtual camera over an image: pan, tilt, zoom and roll, each keyable.

    The image is first fitted to the output frame (``fit``); the camera then maps it to each frame with the
    affine of :func:`vidstudio.motion.camera.camera_matrices` (warped with OpenCV,
    :func:`vidstudio.motion.warp.warp_array`). Alpha is composited over ``background``.

    Outputs:
        video: ``frame_count`` frames of ``(height, width, 3)`` float32, rendered on demand.
        camera: ``(frame_count, 3, 3)`` float64 world-to-frame affines, for composing object motion.
    """

    type_id = "CameraMove"
    version = 2  # 2: per-frame warps by OpenCV (within about one 8-bit level, on average, of version 1's Pillow)
    title = "Camera Move"
    category = "Camera"
    description = "Pan, tilt, zoom and roll over a still image (Ken Burns), all keyable."
    inputs = (Input("image", PortType.IMAGE, help="The picture the camera looks at."),)
    outputs = (
        Output("video", PortType.VIDEO, "the camera's view, one frame per project frame"),
        Output("camera", PortType.CAMERA, "(T, 3, 3) world-to-frame affines"),
    )
    params = (
        Param(
            "pan",
            "float",
            0.0,
            min=-100000,
            max=100000,
            step=1,
            animatable=True,
            unit="px",
            help="Horizontal camera offset; positive moves the view right (the picture left).",
        ),
        Param(
            "tilt",
            "float",
            0.0,
            min=-100000,
            max=100000,
            step=1,
            animatable=True,
            unit="px",
            help="Vertical camera offset; positive moves the view down (the picture up).",
        ),
        Param(
            "zoom",
            "float",
            1.0,
            min=0.05,
            max=50.0,
            step=0.01,
            animatable=True,
            unit="x",
            help="Magnification about the frame centre; 1 fits the picture to the frame.",
        ),
        Param(
            "roll",
            "float",
            0.0,
            min=-3600,
            max=3600,
            step=0.5,
            animatable=True,
            unit="deg",
            help="Camera roll; positive turns the camera clockwise, the picture counter-clockwise.",
        ),
        Param(
            "fit",
            "choice",
            "cover",
            choices=("cover", "contain", "stretch"),
            help="How the picture is placed in the frame before the camera moves.",
        ),
        Param("background", "color", [0.0, 0.0, 0.0], help="Colour outside the picture and under its alpha."),
        Param("quality", "choice", "bicubic", choices=("bilinear", "bicubic"), help="Resampling filter."),
    )
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        image = np.asarray(inputs["image"])
        W, H = ctx.width, ctx.height
        bg = np.asarray(params["background"][:3], dtype=np.float32)
        if image.shape[2] == 4:
            a = image[..., 3:4]
            image = image[..., :3] * a + bg * (1.0 - a)
        cams = camera_matrices(W, H, params["pan"], params["tilt"], params["zoom"], params["roll"])
        if len(cams) == 1:
            cams = np.repeat(cams, ctx.frame_count, axis=0)
        h, w = image.shape[:2]
        fit = fit_matrix(w, h, W, H, params["fit"])
        # Pre-scale large photos once (Pillow's Lanczos: a high-quality reduction) so that per-frame warps never
        # minify much.
        largest = float(np.max(np.abs(params["zoom"]))) * float(fit[0, 0])
        r = min(1.0, largest)
        pil = to_pil(image[..., :3])
        if r < 0.999:
            pil = pil.resize((max(1, round(w * r)), max(1, round(h * r))), Image.Resampling.LANCZOS)
            pre = scaling(w / pil.width, h / pil.height)
        else:
            pre = np.eye(3)
        src = np.asarray(pil, dtype=np.uint8)
        fill = tuple(float(round(c * 255)) for c in bg)
        mats = cams @ fit @ pre
        quality = params["quality"]

        def render(i: int) -> np.ndarray:
            # OpenCV's warpAffine (several times faster than Pillow's affine transform: 512x512 bicubic in a
            # few ms), in the same pixel-centre convention (vidstudio.motion.warp.warp_array)
            return warp_array(src, mats[i], (W, H), resample=quality, border=fill)

        return {"video": Clip(ctx.frame_count, H, W, render, label=f"{ctx.node_id} video"), "camera": cams}


class Camera(Node):
    """A keyframed virtual camera without a picture: pan, tilt, zoom and roll turned into one world-to-frame
    affine per frame, for the Animatic Render, the rasterisers (masks, boxes, flow) and anything else that
    composes object motion with the camera.

    Each move is the keyable parameter, or, when linked, the CURVE input of the same name (a Curve node's
    output, shared between several nodes).

    Output ``camera``: ``(frame_count, 3, 3)`` float64 (see :func:`vidstudio.motion.camera.camera_matrices`).
    """

    type_id = "Camera"
    title = "Camera"
    category = "Camera"
    description = "Keyed pan, tilt, zoom and roll as per-frame affines (CAMERA) for animatics, masks and flow."
    inputs = tuple(
        Input(n, PortType.CURVE, optional=True, help=f"A curve for {n} (replaces the parameter).")
        for n in ("pan", "tilt", "zoom", "roll")
    )
    outputs = (Output("camera", PortType.CAMERA, "(T, 3, 3) world-to-frame affines"),)
    params = tuple(p for p in CameraMove.params if p.name in ("pan", "tilt", "zoom", "roll"))
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from vidstudio.errors import NodeError

        moves = {}
        for name in ("pan", "tilt", "zoom", "roll"):
            curve = inputs.get(name)
            moves[name] = curve.sample(ctx.frame_count) if curve is not None else params[name]
        try:
            cams = camera_matrices(ctx.width, ctx.height, moves["pan"], moves["tilt"], moves["zoom"], moves["roll"])
        except ValueError as e:
            raise NodeError(f"input 'zoom': {e}") from None
        if len(cams) == 1:
            cams = np.repeat(cams, ctx.frame_count, axis=0)
        cams.setflags(write=False)
        return {"camera": cams}
