"""Color Grade: keyable exposure, contrast, saturation and temperature for a video, in linear light."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip, as_clip

#: Rec. 709 / sRGB luminance weights of linear RGB.
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
MID_GREY = 0.18


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1), float32."""
    x = np.asarray(x, dtype=np.float32)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Linear light to sRGB-encoded values (clipped to [0, 1]), float32."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def temperature_gains(temperature: float) -> np.ndarray:
    """Linear RGB gains of a warm (positive) or cool (negative) shift in -100..100: red and blue scaled by
    ``2^(+-0.3 t / 100)`` (up to about a third of a stop each way), normalised so that the luminance of
    white does not change."""
    k = 0.3 * float(temperature) / 100.0
    g = np.array([2.0**k, 1.0, 2.0**-k], dtype=np.float32)
    return g / float(LUMA @ g)


def grade_frame(
    frame: np.ndarray, exposure: float = 0.0, contrast: float = 1.0, saturation: float = 1.0, temperature: float = 0.0
) -> np.ndarray:
    """Grades one ``(H, W, 3)`` sRGB frame (float32 in [0, 1]) in linear light.

    Args:
        exposure: stops (each +1 doubles the light).
        contrast: slope around mid grey (0.18 linear) in log exposure: ``0.18 * (x / 0.18) ** contrast``; 1
            leaves the picture unchanged, black stays black.
        saturation: 0 grey (luminance kept), 1 unchanged, 2 doubled chroma.
        temperature: -100 (cool) .. 100 (warm), see :func:`temperature_gains`.

    Returns:
        ``(H, W, 3)`` float32 sRGB in [0, 1].
    """
    lin = srgb_to_linear(frame)
    gains = temperature_gains(temperature) * np.float32(2.0**exposure)
    lin = lin * gains
    if contrast != 1.0:
        lin = np.float32(MID_GREY) * np.power(np.maximum(lin, 0.0) / np.float32(MID_GREY), np.float32(contrast))
    if saturation != 1.0:
        y = (lin @ LUMA)[..., None]
        lin = np.maximum(y + np.float32(saturation) * (lin - y), 0.0)
    return linear_to_srgb(lin)


class ColorGrade(Node):
    """Grades a video frame by frame; every control is keyable.

    Output ``video``: a lazy :class:`vidstudio.media.Clip` of the same size and length.
    """

    type_id = "ColorGrade"
    title = "Color Grade"
    category = "Color"
    description = "Keyable exposure, contrast, saturation and temperature (in linear light)."
    inputs = (Input("video", PortType.VIDEO, help="The video to grade."),)
    outputs = (Output("video", PortType.VIDEO, "the graded video"),)
    params = (
        Param(
            "exposure",
            "float",
            0.0,
            min=-10.0,
            max=10.0,
            step=0.1,
            animatable=True,
            unit="stops",
            help="Brightness in stops: +1 doubles the light.",
        ),
        Param(
            "contrast",
            "float",
            1.0,
            min=0.0,
            max=4.0,
            step=0.05,
            animatable=True,
            help="Contrast around mid grey: 1 unchanged, above 1 punchier.",
        ),
        Param(
            "saturation",
            "float",
            1.0,
            min=0.0,
            max=4.0,
            step=0.05,
            animatable=True,
            help="Colourfulness: 0 black and white, 1 unchanged.",
        ),
        Param(
            "temperature",
            "float",
            0.0,
            min=-100.0,
            max=100.0,
            step=1.0,
            animatable=True,
            help="White balance shift: negative cooler (blue), positive warmer (amber).",
        ),
    )
    uses_settings = ("frame_count",)

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        clip = as_clip(inputs["video"])
        n = len(params["exposure"])
        e, c, s, t = (params[k] for k in ("exposure", "contrast", "saturation", "temperature"))

        def fn(frame: np.ndarray, i: int) -> np.ndarray:
            k = min(i, n - 1)
            return grade_frame(frame, float(e[k]), float(c[k]), float(s[k]), float(t[k]))

        return {
            "video": Clip(
                clip.frame_count, clip.height, clip.width, lambda i: fn(clip.frame(i), i), label=f"{ctx.node_id} graded"
            )
        }
