"""Interpolate (issue 16 point 3): frame timing at the new rate, in-between frames placed by the flow, and Export
Video writing the new rate."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from vidstudio.media.clip import Clip
from vidstudio.media.interpolate import interpolate_clip, output_positions


def moving_square(t: int = 5, size: int = 64, step: float = 8.0) -> Clip:
    """A smooth bright blob moving right by ``step`` px per frame on a dark textured background."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    frames = []
    for i in range(t):
        cx = 16 + step * i
        blob = np.exp(-((xx - cx) ** 2 + (yy - 32) ** 2) / (2 * 5.0**2))
        img = 0.1 + 0.8 * blob
        frames.append(np.repeat(img[..., None], 3, axis=2))
    return Clip.from_array(np.stack(frames).astype(np.float32))


def centroid_x(frame: np.ndarray) -> float:
    w = np.clip(frame[..., 0] - 0.3, 0, None)
    return float((w * np.arange(frame.shape[1])[None, :]).sum() / w.sum())


def test_output_positions_follow_the_rates():
    np.testing.assert_allclose(output_positions(5, Fraction(12), Fraction(24)), np.arange(9) / 2)
    np.testing.assert_allclose(output_positions(4, Fraction(24), Fraction(60)), np.arange(8) * 0.4)


def test_in_between_frames_put_the_object_between_its_neighbours():
    src = moving_square()
    out = interpolate_clip(src, Fraction(12), Fraction(48))
    assert out.frame_count == 17 and out.metadata["vidstudio_fps"] == "48"
    np.testing.assert_array_equal(out.frame(8), src.frame(2))  # whole source frames are the source's
    for k in (5, 6, 7):  # between frames 1 (x = 24) and 2 (x = 32)
        assert centroid_x(out.frame(k)) == pytest.approx(24 + 8 * (k - 4) / 4, abs=1.0)
    blend = 0.5 * (src.frame(1) + src.frame(2))  # a cross-fade would show two half-bright blobs
    assert out.frame(6).max() > blend.max() + 0.2


def test_export_writes_the_interpolated_rate(tmp_path):
    from vidstudio.graph import Engine, Graph, Link, NodeInstance, Settings
    from vidstudio.graph.node import Node, Output
    from vidstudio.graph.types import PortType
    from vidstudio.media.decode import VideoSource
    from vidstudio.nodes import builtin_registry

    class Square(Node):
        type_id = "Square"
        outputs = (Output("video", PortType.VIDEO),)
        uses_settings = ()

        def execute(self, ctx, inputs, params):
            return {"video": moving_square()}

    reg = builtin_registry()
    reg.register(Square)
    g = Graph(
        nodes=[
            NodeInstance(id="sq", type="Square"),
            NodeInstance(id="interp", type="Interpolate", params={"mode": "fps", "fps": "30"}),
            NodeInstance(id="out", type="ExportVideo", params={"path": "out.mp4", "preset": "ultrafast"}),
        ],
        links=[Link.make("sq", "video", "interp", "video"), Link.make("interp", "video", "out", "video")],
    )
    r = Engine(reg).run(g, Settings(width=64, height=64, fps=Fraction(12), frame_count=5), project_dir=tmp_path)
    assert r.output("interp", "video").frame_count == 11  # 4 source steps of 1/12 s at 30 fps: 0 .. 10
    info = VideoSource(tmp_path / "out.mp4").info
    assert info.fps == Fraction(30) and info.frame_count == 11


def test_export_range_in_project_frames_maps_to_the_same_seconds_of_the_clip():
    from vidstudio.media.export import clip_rate_and_range

    out = interpolate_clip(moving_square(), Fraction(24), Fraction(60))
    # project frames 2 .. 3 (of 5) at 24 fps are 2/24 .. 4/24 s: clip frames 5 .. 9 at 60 fps
    assert clip_rate_and_range(out, None, Fraction(24), 2, 4, 5) == (60, 5, 10)
    assert clip_rate_and_range(out, None, Fraction(24), 0, 5, 5) == (60, 0, None)  # to the project's end
    assert clip_rate_and_range(out, Fraction(30), Fraction(24), 2, 4, 5) == (30, 5, 10)  # a typed rate
    plain = moving_square()  # no rate of its own: the project's, frames as given
    assert clip_rate_and_range(plain, None, Fraction(24), 2, 4, 5) == (24, 2, 4)
    # an odd start begins where the Viewer shows it (conformed by time: 3 / 24 s is inside clip frame 7 at 60 fps)
    from vidstudio.media.timecode import conform_frame

    assert clip_rate_and_range(out, None, Fraction(24), 3, 4, 5)[1] == conform_frame(3, 24, 60, 13) == 7
