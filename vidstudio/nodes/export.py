"""Export nodes: write a VIDEO to an MP4 file or a PNG sequence."""

from __future__ import annotations

from typing import Any

from vidstudio.errors import MediaError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import as_clip
from vidstudio.media.export import clip_rate_and_range, export_clip
from vidstudio.media.video import PRESETS, parse_fps


class ExportVideo(Node):
    """Writes its input to an H.264 MP4 (yuv420p, +faststart, the project embedded in the metadata) or to a
    numbered PNG sequence, streaming frame by frame.

    Writes only the run's frame range (``vidstudio render --frames``) through
    :func:`vidstudio.media.export.export_clip`, the one export path the GUI's Export dialog also takes. The file
    appears under its name only when complete; a cancelled or failed export leaves no partial file there.

    An ``audio`` input (AUDIO) goes into the MP4 as an AAC stream of the same length as the video: the part
    under the written frame range, cut or padded with silence (noted when the lengths differed).

    Output ``file``: the path written (TEXT).
    """

    type_id = "ExportVideo"
    title = "Export Video"
    category = "Output"
    description = "Writes an MP4 (H.264) or a PNG sequence."
    is_output = True
    inputs = (
        Input("video", PortType.VIDEO, help="The frames to write."),
        Input(
            "audio",
            PortType.AUDIO,
            optional=True,
            help="Sound muxed as AAC (MP4 only); its sample 0 plays with frame 0, cut to the frames written.",
        ),
    )
    outputs = (Output("file", PortType.TEXT, "the path written"),)
    params = (
        Param(
            "path",
            "file",
            "out/render.mp4",
            file_role="save_video",
            help="Target file (.mp4) or folder (png), relative to the project file.",
        ),
        Param("format", "choice", "mp4", choices=("mp4", "png"), help="MP4 (H.264) or a PNG sequence."),
        Param(
            "crf", "int", 18, min=0, max=51, step=1, help="H.264 quality: 0 lossless, 18 visually lossless, 28 small."
        ),
        Param("preset", "choice", "medium", choices=PRESETS, help="x264 speed/size trade-off."),
        Param(
            "fps",
            "string",
            "",
            help="Frame rate of the file, e.g. 24 or 30000/1001; empty: the clip's own "
            "(after Interpolate) or the project's.",
        ),
        Param(
            "odd_size",
            "choice",
            "pad",
            choices=("pad", "refuse"),
            help="H.264 needs even sides: pad odd sizes by one pixel, or refuse.",
        ),
        Param("embed_project", "bool", True, help="Embed the project in the MP4 so that it can be opened again."),
    )
    uses_settings = ("fps",)

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        problems = []
        if not params["path"]:
            problems.append(("param 'path'", "no output file chosen"))
        if params["fps"]:
            try:
                parse_fps(params["fps"])
            except MediaError as e:
                problems.append(("param 'fps'", str(e)))
        return problems

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        start, stop = ctx.frame_range
        video = as_clip(inputs["video"])
        # the run's frame range is in project frames: a clip with its own rate (Interpolate) covers the same seconds
        fps, start, stop = clip_rate_and_range(
            video, parse_fps(params["fps"]) if params["fps"] else None, ctx.fps, start, stop, ctx.frame_count
        )
        out, notes = export_clip(
            video,
            ctx.resolve_path(params["path"]),
            fps,
            fmt=params["format"],
            start=start,
            stop=stop,
            crf=params["crf"],
            preset=params["preset"],
            odd_size=params["odd_size"],
            project_json=ctx.project_json if params["embed_project"] else None,
            audio=inputs.get("audio"),
            progress=lambda f, m: ctx.report(f, f"writing {m}"),
            cancel=ctx.cancel,
        )
        for n in notes:
            ctx.note(n)
        return {"file": str(out)}
