"""Interpolate (issue 16 point 3): frame timing at the new rate, in-between frames placed by the flow, and Export
Video writing the new rate."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from vidstudio.errors import MediaError
from vidstudio.media.clip import Clip
from vidstudio.media.interpolate import interpolate_clip, output_count, output_positions


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
    # the clip keeps its duration: the positions past the last source frame hold it
    np.testing.assert_allclose(output_positions(5, Fraction(12), Fraction(24)), np.minimum(np.arange(10) / 2, 4))
    np.testing.assert_allclose(output_positions(4, Fraction(24), Fraction(60)), np.minimum(np.arange(10) * 0.4, 3))


def test_the_output_lasts_as_long_as_the_source():
    """Issue: 48 frames at 24 fps (2 s) gave 118 at 60 fps (1.967 s), cutting the sound; ffmpeg's minterpolate
    gives 120. n_out = round(n_in * fps_out / fps_in), a tie rounding up."""
    assert output_count(48, Fraction(24), Fraction(60)) == 120
    assert [output_count(n, Fraction(24), Fraction(48)) for n in (1, 2, 12, 97)] == [2, 4, 24, 194]  # a factor
    assert output_count(5, Fraction(12), Fraction(30)) == 13  # 12.5: a tie rounds up, never shorter
    assert output_count(24, Fraction(24), Fraction(30000, 1001)) == 30  # 29.97
    assert output_count(58, Fraction(60), Fraction(24)) == 23  # 23.2: slower rates too
    assert output_count(2, Fraction(60), Fraction(1)) == 1  # at least one frame
    for n, a, b in ((48, 24, 60), (24, 24, Fraction(30000, 1001)), (7, 25, 24), (101, Fraction(24000, 1001), 60)):
        count = output_count(n, Fraction(a), Fraction(b))
        assert abs(Fraction(count) / Fraction(b) - Fraction(n) / Fraction(a)) <= Fraction(1, 2) / Fraction(b)
    with pytest.raises(MediaError, match="frame rates must be positive"):
        output_count(4, Fraction(0), Fraction(24))


def test_in_between_frames_put_the_object_between_its_neighbours():
    src = moving_square()
    out = interpolate_clip(src, Fraction(12), Fraction(48))
    assert out.frame_count == 20 and out.metadata["vidstudio_fps"] == "48"
    np.testing.assert_array_equal(out.frame(8), src.frame(2))  # whole source frames are the source's
    for k in (16, 17, 18, 19):  # source position 4 and past it: the last frame, held
        np.testing.assert_array_equal(out.frame(k), src.frame(4))
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
    assert r.output("interp", "video").frame_count == 13  # 5 frames of 1/12 s are 12.5 frames at 30 fps: 13
    info = VideoSource(tmp_path / "out.mp4").info
    assert info.fps == Fraction(30) and info.frame_count == 13


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


def test_the_exported_mp4s_picture_and_sound_last_the_sources_seconds_after_interpolate(tmp_path):
    """Issue: Interpolate 24 -> 60 shortened the clip (12 frames, 0.5 s, gave 28 frames, 0.467 s), so Export
    Video cut the sound that went with the source. Decoded back with PyAV: the picture and the sound both last the
    source's 0.5 s, and nothing was cut."""
    import av

    from vidstudio.graph import Engine, Graph, Link, NodeInstance, Settings
    from vidstudio.graph.node import Node, Output
    from vidstudio.graph.types import PortType
    from vidstudio.media.audio import Audio, decode_audio
    from vidstudio.nodes import builtin_registry

    rate = 24000

    class Square(Node):
        type_id = "Square"
        outputs = (Output("video", PortType.VIDEO), Output("audio", PortType.AUDIO))
        uses_settings = ()

        def execute(self, ctx, inputs, params):
            t = np.arange(rate // 2) / rate  # the source's 0.5 s
            tone = np.repeat((0.5 * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1).astype(np.float32)
            return {"video": moving_square(12, size=32, step=1.0), "audio": Audio(tone, rate)}

    reg = builtin_registry()
    reg.register(Square)
    g = Graph(
        nodes=[
            NodeInstance(id="sq", type="Square"),
            NodeInstance(id="interp", type="Interpolate", params={"mode": "fps", "fps": "60"}),
            NodeInstance(id="out", type="ExportVideo", params={"path": "out.mp4", "preset": "ultrafast"}),
        ],
        links=[
            Link.make("sq", "video", "interp", "video"),
            Link.make("interp", "video", "out", "video"),
            Link.make("sq", "audio", "out", "audio"),
        ],
    )
    r = Engine(reg).run(g, Settings(width=32, height=32, fps=Fraction(24), frame_count=12), project_dir=tmp_path)
    assert not [n for n in r.report["out"].notes if "fitted" in n], r.report["out"].notes
    path = tmp_path / "out.mp4"
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        video_s = float(v.duration * v.time_base)
        audio_s = float(a.duration * a.time_base)
        frames = sum(1 for _ in c.decode(video=0))
    assert frames == 30 and video_s == pytest.approx(0.5, abs=1e-6)
    assert audio_s == pytest.approx(video_s, abs=1e-6)
    back = decode_audio(path)
    assert back.samples.shape[0] == rate // 2  # every sample of the source's sound, decoded back
