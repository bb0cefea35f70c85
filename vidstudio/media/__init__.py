"""Media at the file edges: images (Pillow), videos (ffmpeg from imageio-ffmpeg), and the lazy
:class:`Clip` that VIDEO ports carry. Headless: no Qt, no torch."""

from vidstudio.media.clip import Clip, as_clip
from vidstudio.media.image import load_image, save_png, to_uint8
from vidstudio.media.video import (
    VideoInfo,
    VideoWriter,
    iter_video_frames,
    parse_fps,
    probe_video,
    read_embedded_project,
    read_metadata,
    read_video,
    write_png_sequence,
    write_video,
)

__all__ = [
    "Clip",
    "as_clip",
    "load_image",
    "save_png",
    "to_uint8",
    "VideoInfo",
    "VideoWriter",
    "iter_video_frames",
    "parse_fps",
    "probe_video",
    "read_embedded_project",
    "read_metadata",
    "read_video",
    "write_png_sequence",
    "write_video",
]
