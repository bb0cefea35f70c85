"""Image input nodes."""

from __future__ import annotations

from typing import Any

from vidstudio.graph.node import ExecutionContext, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.image import load_image


class LoadImage(Node):
    """Decodes an image file (PNG, JPEG, WebP, BMP, TIFF), upright according to its EXIF orientation.

    Output ``image``: ``(H, W, 3)`` RGB, or ``(H, W, 4)`` RGBA when the file has alpha and ``alpha`` is on;
    float32 in [0, 1]. Errors name the file (missing, not an image, truncated, too large).
    """

    type_id = "LoadImage"
    title = "Load Image"
    category = "Input"
    description = "Reads a PNG, JPEG or WebP photo or cut-out (EXIF orientation honoured)."
    outputs = (Output("image", PortType.IMAGE, "(H, W, 3|4) float32 in [0, 1]"),)
    params = (
        Param("path", "file", "", file_role="image", help="Image file, relative to the project file."),
        Param("alpha", "bool", True, help="Keep the alpha channel of a cut-out (PNG/WebP with transparency)."),
    )
    uses_settings = ()

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        if not params["path"]:
            return [("param 'path'", "no image file chosen")]
        return []

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        image = load_image(params["path"], alpha=params["alpha"])
        image.setflags(write=False)
        return {"image": image}
