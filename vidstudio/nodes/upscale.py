"""Upscale: super-resolution of a video with a user-supplied model file (spandrel), in the backend process."""

from __future__ import annotations

from typing import Any

from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip, as_clip


class Upscale(Node):
    """Magnifies every frame with a super-resolution model (ESRGAN, Real-ESRGAN, SwinIR and what else spandrel
    detects), tile by tile with overlapping context (:func:`vidstudio.backend.upscale.tiled_upscale`).

    Output ``video``: a lazy Clip of ``scale``-times larger frames (upscaled when asked for, in the backend
    process that holds the model). Errors name the model file.
    """

    type_id = "Upscale"
    title = "Upscale"
    category = "Generate"
    runs_on = "backend"  # torch: the GUI sends it to the generation server
    description = "Super-resolution with a model file (ESRGAN, Real-ESRGAN, SwinIR...), tiled."
    inputs = (Input("video", PortType.VIDEO, help="The frames to magnify."),)
    outputs = (Output("video", PortType.VIDEO, "the magnified frames"),)
    params = (
        Param("model", "file", "", file_role="model", help="Super-resolution model file (.pth, .safetensors)."),
        Param("tile", "int", 256, min=8, max=4096, step=8, unit="px", help="Tile size: memory is one tile's."),
        Param("overlap", "int", 16, min=0, max=512, step=1, unit="px", help="Context around each tile (no seams)."),
        Param("device", "choice", "auto", choices=("auto", "cpu", "cuda", "mps"), help="Where the model runs."),
    )
    uses_settings = ()

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        return [] if params["model"] else [("param 'model'", "no upscale model file chosen")]

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from vidstudio.backend.upscale import load_upscaler, tiled_upscale

        up = load_upscaler(ctx.resolve_path(params["model"]), device=params["device"])
        src = as_clip(inputs["video"])
        ctx.note(
            f"{up.architecture} x{up.scale}: {src.width}x{src.height} to {src.width * up.scale}x{src.height * up.scale}"
        )

        def render(i: int):
            return tiled_upscale(up, src.frame(i), tile=params["tile"], overlap=params["overlap"])

        out = Clip(
            src.frame_count,
            src.height * up.scale,
            src.width * up.scale,
            render,
            cache_frames=2,
            label=f"{ctx.node_id} x{up.scale}",
        )
        out.metadata.update(src.metadata)
        return {"video": out}
