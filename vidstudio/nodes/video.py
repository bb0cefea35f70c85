"""Video and audio input nodes: Load Video (frames on demand, alpha, sound) and Load Audio."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from vidstudio.graph.node import ExecutionContext, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.audio import AudioFile, decode_audio
from vidstudio.media.clip import FPS_KEY, Clip
from vidstudio.media.decode import open_video_clip

_TRIM_HELP = "seconds from the file's first frame"


def _check_trim(params: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if params["trim_in"] < 0:
        problems.append(("param 'trim_in'", "must be 0 or more seconds"))
    if params["trim_out"] and params["trim_out"] <= params["trim_in"]:
        problems.append(("param 'trim_out'", f"must be after trim_in ({params['trim_in']:g} s), or 0 for the end"))
    return problems


class LoadVideo(Node):
    """Opens a video file (MP4, MOV, MKV, WebM, GIF...) through PyAV; frames are decoded when asked for.

    Output ``video``: the trimmed frames (``trim_in`` .. ``trim_out`` seconds) at the project's frame rate (each
    output frame shows the source frame on screen at its time; ``rate`` "source" keeps the file's frames one for
    one, and the clip carries the file's rate as ``vidstudio_fps``: the Viewer conforms it by time, Interpolate
    starts from it and Export Video writes it), upright (the rotation metadata applied), RGB from the tagged YUV matrix and range; a lazy Clip.
    Output ``alpha``: the alpha channel as a grey VIDEO (white where the file has no alpha).
    Output ``audio``: the file's first audio stream over the same trim (AUDIO, decoded when first used; silence
    when it has none).
    A file that will not decode is an error naming it.
    """

    type_id = "LoadVideo"
    title = "Load Video"
    category = "Input"
    description = "Reads a video file (MP4, MOV, MKV, WebM, GIF): frames on demand, trimmed, at the project's fps."
    outputs = (
        Output("video", PortType.VIDEO, "T frames of (H, W, 3) float32 in [0, 1], decoded on demand"),
        Output("alpha", PortType.VIDEO, "the alpha channel as grey frames (white: opaque)"),
        Output("audio", PortType.AUDIO, "the sound over the same trim"),
    )
    params = (
        Param("path", "file", "", file_role="video", help="Video file, relative to the project file."),
        Param("trim_in", "float", 0.0, min=0.0, step=0.1, help=f"Start of the part used, {_TRIM_HELP}."),
        Param("trim_out", "float", 0.0, min=0.0, step=0.1, help=f"End of the part used, {_TRIM_HELP}; 0: the end."),
        Param(
            "rate",
            "choice",
            "project",
            choices=("project", "source"),
            help="project: convert to the project's fps (frames repeated or dropped); source: the file's frames.",
        ),
    )
    uses_settings = ("fps",)

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        if not params["path"]:
            return [("param 'path'", "no video file chosen")]
        return _check_trim(params)

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        path = ctx.resolve_path(params["path"])
        fps = ctx.fps if params["rate"] == "project" else None
        clip, matte, src = open_video_clip(path, fps=fps, trim_in=params["trim_in"], trim_out=params["trim_out"])
        if matte is None:
            matte = Clip.still(_white(clip.height, clip.width), clip.frame_count, label=f"{path.name} alpha")
        out_fps = fps if fps is not None else src.info.fps
        if fps is None:  # the file's own frames: the clip says their rate
            clip.metadata[FPS_KEY] = matte.metadata[FPS_KEY] = str(Fraction(out_fps))
        start = float(params["trim_in"])
        end = start + clip.frame_count / float(out_fps)
        if src.info.audio is not None:
            audio = AudioFile(path, start, end, src.info.audio.sample_rate)  # decoded when first used
        else:
            import numpy as np

            from vidstudio.media.audio import Audio

            audio = Audio(np.zeros((round((end - start) * 48000), 2), np.float32), 48000)
        if fps is None and src.info.variable_rate:
            ctx.note(f"{path.name} has a variable frame rate; rate 'source' keeps its frames one for one")
        return {"video": clip, "alpha": matte, "audio": audio}


class LoadAudio(Node):
    """Decodes a sound file (WAV, MP3, FLAC, AAC/M4A, Ogg/Opus) through PyAV.

    Output ``audio``: AUDIO, ``trim_in`` .. ``trim_out`` seconds of the file, sample 0 playing with frame 0.
    A file that will not decode is an error naming it.
    """

    type_id = "LoadAudio"
    title = "Load Audio"
    category = "Input"
    description = "Reads a sound file (WAV, MP3, FLAC, AAC) for Export Video to mux."
    outputs = (Output("audio", PortType.AUDIO, "samples (N, channels) float32 in [-1, 1]"),)
    params = (
        Param("path", "file", "", file_role="audio", help="Sound file, relative to the project file."),
        Param("trim_in", "float", 0.0, min=0.0, step=0.1, help="Start of the part used, seconds."),
        Param("trim_out", "float", 0.0, min=0.0, step=0.1, help="End of the part used, seconds; 0: the end."),
    )
    uses_settings = ()

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        if not params["path"]:
            return [("param 'path'", "no sound file chosen")]
        return _check_trim(params)

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        return {
            "audio": decode_audio(ctx.resolve_path(params["path"]), start=params["trim_in"], end=params["trim_out"])
        }


def _white(h: int, w: int):
    import numpy as np

    return np.ones((h, w, 3), np.float32)
