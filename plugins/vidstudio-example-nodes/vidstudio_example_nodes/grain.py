"""Film Grain: seeded, keyable photographic grain on a video."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.api import ExecutionContext, Input, Node, Output, Param, PortType, as_clip, frame_rng


def grain_field(seed: int, frame: int, height: int, width: int, size: float, channels: int = 1) -> np.ndarray:
    """The grain of one frame: Gaussian-smoothed white noise scaled to zero mean and unit standard deviation.

    White noise ``N(0, 1)`` per pixel (and channel) is drawn from :func:`vidstudio.api.frame_rng` seeded by
    ``(seed, frame)`` alone, then smoothed by a Gaussian of standard deviation ``size / 2`` pixels
    (``scipy.ndimage.gaussian_filter``, wrapping at the borders), so the grains are about ``size`` pixels
    across. The result is shifted and scaled to mean 0 and standard deviation 1 exactly.

    Args:
        seed: the node's seed; frame: the frame number; height, width: the frame size in pixels;
        size: grain size in pixels (> 0); channels: 1 (monochrome) or 3 (colour grain).

    Returns:
        ``(height, width, channels)`` float32 array.
    """
    from scipy.ndimage import gaussian_filter  # imported here: the module stays light to import

    noise = frame_rng(seed, frame, "film-grain").standard_normal((height, width, channels), dtype=np.float32)
    sigma = 0.5 * float(size)
    noise = gaussian_filter(noise, sigma=(sigma, sigma, 0.0), mode="wrap")
    noise -= noise.mean(axis=(0, 1), keepdims=True)
    std = noise.std(axis=(0, 1), keepdims=True)
    return noise / np.maximum(std, np.float32(1e-12))


class FilmGrain(Node):
    """Adds photographic grain: ``out = clip(frame + amount * grain, 0, 1)`` per frame, where ``grain`` is
    :func:`grain_field` (zero mean, unit standard deviation, grains about ``size`` pixels across).

    Each frame's grain depends only on the seed and the frame number, so a frame rendered on its own
    (scrubbing, ``--frames``) is the same as in a full render, and every frame's grain differs from the next.

    Input ``video``: ``T`` frames of ``(H, W, 3)`` float32 in [0, 1]. Output ``video``: the same size, rendered
    lazily frame by frame.
    """

    type_id = "example_nodes.FilmGrain"
    title = "Film Grain"
    category = "Example Nodes"
    description = "Seeded photographic grain; amount and size are keyable."
    inputs = (Input("video", PortType.VIDEO, help="The frames to add grain to."),)
    outputs = (Output("video", PortType.VIDEO, "the frames with grain"),)
    params = (
        Param(
            "amount",
            "float",
            0.06,
            min=0.0,
            max=1.0,
            step=0.01,
            animatable=True,
            help="Standard deviation of the grain in units of full brightness (0.05: 5 %).",
        ),
        Param(
            "size",
            "float",
            1.5,
            min=0.5,
            max=32.0,
            step=0.1,
            animatable=True,
            unit="px",
            help="About how many pixels across a grain is (the noise is smoothed by a Gaussian of half this).",
        ),
        Param("seed", "int", 0, min=0, max=2**31 - 1, help="Another seed gives other grain."),
        Param(
            "color",
            "bool",
            False,
            help="Colour grain (independent in R, G and B) instead of monochrome grain (the same in all three).",
        ),
    )
    uses_settings = ("frame_count",)

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        clip = as_clip(inputs["video"])
        amount = np.atleast_1d(np.asarray(params["amount"], dtype=np.float64))  # (frame_count,) keyable
        size = np.atleast_1d(np.asarray(params["size"], dtype=np.float64))
        seed, channels = int(params["seed"]), 3 if params["color"] else 1
        last = len(amount) - 1

        def add_grain(frame: np.ndarray, i: int) -> np.ndarray:
            k = min(i, last)  # a clip longer than the project keeps the last keyed value
            a = np.float32(amount[k])
            if a == 0:
                return frame
            g = grain_field(seed, i, frame.shape[0], frame.shape[1], float(size[k]), channels)
            return np.clip(frame + a * g, 0.0, 1.0)

        return {"video": clip.map(add_grain, label=f"{ctx.node_id} (film grain)")}
