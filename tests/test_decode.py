"""Video in (issue 16): real clips made here with ffmpeg's test sources and a scikit-image photograph, in several
containers, decoded back through :mod:`vidstudio.media.decode` and checked for frame count, timing and pixels;
audio decoded and muxed back so that the sound lasts as long as the video."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from vidstudio.errors import MediaError
from vidstudio.media.audio import Audio, decode_audio
from vidstudio.media.decode import VideoSource, open_video_clip
from vidstudio.media.export import export_clip
from vidstudio.media.video import ffmpeg_exe

ALPHA = "format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(X,32),0,255)'"


def ff(*args: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60
    )


def ffmpeg_rgb(path, w, h) -> np.ndarray:
    """Frames as the ffmpeg command line decodes them (autorotated), ``(T, h, w, 3)`` uint8."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def make_testsrc(path, *extra: str, rate: int = 24, seconds: float = 1, size: str = "64x48") -> None:
    ff("-t", str(seconds), "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", *extra, str(path))


@pytest.mark.parametrize(
    "name,extra",
    [
        ("a.mp4", ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "6")),
        ("a.mov", ("-c:v", "libx264", "-pix_fmt", "yuv420p")),
        ("a.mkv", ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "2")),
        ("a.webm", ("-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p")),
        ("a.gif", ()),
    ],
)
def test_containers_decode_every_frame_like_ffmpeg_and_seek_back(tmp_path, name, extra):
    path = tmp_path / name
    make_testsrc(path, *extra, rate=10, seconds=2)
    src = VideoSource(path, cache_frames=4)
    info = src.info
    assert (info.width, info.height, info.frame_count, info.fps) == (64, 48, 20, Fraction(10))
    assert info.duration == pytest.approx(2.0, abs=1e-3)
    np.testing.assert_allclose(info.times, np.arange(20) / 10, atol=2e-3)
    ref = ffmpeg_rgb(path, 64, 48)
    assert ref.shape[0] == 20
    for i in (19, 3, 0, 11, 12, 5):  # out of order: seeks back and decodes forward
        assert np.abs(src.source_frame(i)[..., :3].astype(int) - ref[i]).mean() < 1.0, (name, i)


def test_a_phone_style_rotated_mp4_is_shown_upright(tmp_path):
    flat = tmp_path / "flat.mp4"
    make_testsrc(flat, "-c:v", "libx264", "-pix_fmt", "yuv420p", size="64x48")
    phone = tmp_path / "phone.mp4"
    ff("-display_rotation", "90", "-i", str(flat), "-c", "copy", str(phone))  # display matrix side data
    src = VideoSource(phone)
    assert (src.info.rotation, src.info.width, src.info.height) == (90, 48, 64)
    ref = ffmpeg_rgb(phone, 48, 64)
    np.testing.assert_array_equal(src.source_frame(5), ref[5])
    # The coded frame turned a quarter counter-clockwise: its top-right corner is now the top-left one.
    coded = VideoSource(flat).source_frame(5)
    np.testing.assert_array_equal(src.source_frame(5)[0, 0], coded[0, -1])


def test_a_variable_frame_rate_file_is_resampled_by_time(tmp_path):
    path = tmp_path / "vfr.mp4"
    # 24 frames: 12 at 1/24 s, then a half-second gap, then 12 more.
    ff(
        "-t",
        "1",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=24",
        "-vf",
        "setpts='(N/24+if(gte(N,12),0.5,0))/TB'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    src = VideoSource(path)
    info = src.info
    assert info.frame_count == 24 and info.variable_rate
    assert info.times[11] == pytest.approx(11 / 24, abs=1e-3) and info.times[12] == pytest.approx(1.0, abs=1e-3)
    clip, _, _ = open_video_clip(path, fps=24, source=src)
    assert clip.frame_count == 36  # 1.5 s at 24 fps
    expected = [i if i < 12 else (11 if i < 24 else i - 12) for i in range(36)]
    assert clip.source_indices.tolist() == expected
    np.testing.assert_array_equal(clip.frame(20), clip.frame(11))  # the gap holds the last frame on screen


def test_trim_and_frame_rate_conversion(tmp_path):
    path = tmp_path / "a.mkv"
    make_testsrc(path, "-c:v", "libx264", "-pix_fmt", "yuv420p", rate=24, seconds=2)
    clip, matte, src = open_video_clip(path, fps=10, trim_in=0.5, trim_out=1.5)
    assert matte is None and clip.frame_count == 10
    assert clip.source_indices.tolist() == [int(np.floor((0.5 + i / 10) * 24 + 1e-6)) for i in range(10)]
    np.testing.assert_allclose(clip.frame(3), src.source_frame(19)[..., :3] / 255.0, atol=1e-6)
    native, _, _ = open_video_clip(path, fps=None, trim_in=1.0, source=src)
    assert native.frame_count == 24 and native.source_indices[0] == 24
    with pytest.raises(MediaError, match=r"a.mkv: trim 3s\.\.\S+ is empty"):
        open_video_clip(path, fps=10, trim_in=3, source=src)


@pytest.mark.parametrize(
    "matrix,rng,size", [("bt709", "tv", (720, 1280)), ("bt709", "pc", (256, 256)), ("bt470bg", "tv", (256, 256))]
)
def test_photograph_colours_survive_the_yuv_matrix_and_range(tmp_path, matrix, rng, size):
    from PIL import Image
    from skimage import data

    photo = np.asarray(Image.fromarray(data.astronaut()).resize(size[::-1]))
    png = tmp_path / "photo.png"
    Image.fromarray(photo).save(png)
    path = tmp_path / "photo.mkv"
    ff(
        "-i",
        str(png),
        "-vf",
        f"scale=out_color_matrix={matrix}:out_range={rng}",
        "-colorspace",
        matrix,
        "-color_range",
        rng,
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv444p",
        str(path),
    )
    src = VideoSource(path)
    assert src.info.full_range == (rng == "pc")
    err = np.abs(src.source_frame(0).astype(int) - photo.astype(int))
    assert err.mean() < 1.0 and np.percentile(err, 99) <= 3


def test_alpha_from_webm_mov_and_gif(tmp_path):
    webm, mov, gif = tmp_path / "a.webm", tmp_path / "a.mov", tmp_path / "a.gif"
    make_testsrc(webm, "-vf", ALPHA, "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-auto-alt-ref", "0")
    make_testsrc(mov, "-vf", ALPHA, "-c:v", "png", rate=10)
    ff(
        "-t",
        "1",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=10",
        "-filter_complex",
        f"{ALPHA},split[a][b];[a]palettegen=reserve_transparent=1[p];[b][p]paletteuse=alpha_threshold=128",
        str(gif),
    )
    for path in (webm, mov, gif):
        clip, matte, src = open_video_clip(path, fps=10)
        assert src.info.has_alpha and matte is not None, path.name
        a = matte.frame(3)[..., 0]
        assert a[:, :28].max() < 0.05 and a[:, 36:].min() > 0.95, path.name
        assert clip.frame(3).shape == (48, 64, 3)


def test_frames_are_decoded_on_demand_and_broken_files_are_named(tmp_path):
    path = tmp_path / "long.mp4"
    make_testsrc(path, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "24", rate=24, seconds=12)
    clip, _, src = open_video_clip(path, fps=24, cache_frames=4)
    assert clip.frame_count == 288 and src.frames_decoded == 0
    clip.frame(250)
    assert src.frames_decoded <= 30  # a seek to the keyframe at 240, not a decode from the start
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(MediaError, match="broken.mp4"):
        VideoSource(bad)
    with pytest.raises(MediaError, match="missing.mov: video file not found"):
        VideoSource(tmp_path / "missing.mov")


def test_exported_mp4_with_sound_lasts_as_long_as_its_video(tmp_path):
    src_path = tmp_path / "take.mkv"
    ff(
        "-t",
        "2",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=25",
        "-t",
        "2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "flac",
        str(src_path),
    )
    clip, _, src = open_video_clip(src_path, fps=24)
    assert src.info.audio.sample_rate == 48000
    sound = decode_audio(src_path)
    assert sound.duration == pytest.approx(2.0, abs=1e-3)
    # 440 Hz: about 880 sign changes a second.
    crossings = np.count_nonzero(np.diff(sound.samples[:48000, 0] >= 0))
    assert abs(crossings - 880) <= 4
    out, _ = export_clip(clip, tmp_path / "out.mp4", 24, start=5, stop=42, audio=sound, preset="ultrafast")
    back = VideoSource(out).info
    assert back.frame_count == 37 and back.audio is not None and back.audio.codec == "aac"
    heard = decode_audio(out)
    assert heard.duration == pytest.approx(37 / 24, abs=1 / 48000 + 1e-9)
    assert back.audio.duration == pytest.approx(back.duration, abs=1e-3)
    # Shorter sound is padded with silence to the video's length.
    short = Audio(np.full((4800, 2), 0.25, np.float32), 48000)
    out2, _ = export_clip(clip, tmp_path / "short.mp4", 24, audio=short, preset="ultrafast")
    assert decode_audio(out2).duration == pytest.approx(clip.frame_count / 24, abs=1e-3)


def test_load_video_feeds_export_video_with_its_sound_through_the_engine(tmp_path):
    from vidstudio.graph import Engine, Graph, Link, NodeInstance, Settings
    from vidstudio.nodes import builtin_registry

    ff(
        "-t",
        "2",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=30",
        "-t",
        "2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:sample_rate=44100",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(tmp_path / "take.mov"),
    )
    g = Graph(
        nodes=[
            NodeInstance(id="take", type="LoadVideo", params={"path": "take.mov", "trim_in": 0.5}),
            NodeInstance(id="out", type="ExportVideo", params={"path": "out.mp4", "preset": "ultrafast"}),
        ],
        links=[Link.make("take", "video", "out", "video"), Link.make("take", "audio", "out", "audio")],
    )
    r = Engine(builtin_registry()).run(g, Settings(width=64, height=48, frame_count=36), project_dir=tmp_path)
    clip = r.output("take", "video")
    assert clip.frame_count == 36 and clip.source_indices[0] == 15  # 1.5 s at 24 fps from 0.5 s of a 30 fps take
    info = VideoSource(tmp_path / "out.mp4").info
    assert info.frame_count == 36 and info.audio.duration == pytest.approx(1.5, abs=1e-3)
    assert decode_audio(tmp_path / "out.mp4").duration == pytest.approx(1.5, abs=1e-3)
    bad = Graph(nodes=[NodeInstance(id="take", type="LoadVideo", params={"path": "nope.webm"})])
    with pytest.raises(Exception, match="nope.webm: video file not found"):
        Engine(builtin_registry()).run(bad, Settings(width=64, height=48, frame_count=4), project_dir=tmp_path)


def test_load_video_at_the_source_rate_carries_it_and_export_writes_it(tmp_path):
    from vidstudio.graph import Engine, Graph, Link, NodeInstance, Settings
    from vidstudio.media.timecode import conform_frame
    from vidstudio.nodes import builtin_registry

    make_testsrc(tmp_path / "take.mkv", "-c:v", "libx264", "-pix_fmt", "yuv420p", rate=30, seconds=1)
    g = Graph(
        nodes=[
            NodeInstance(id="take", type="LoadVideo", params={"path": "take.mkv", "rate": "source"}),
            NodeInstance(id="out", type="ExportVideo", params={"path": "out.mp4", "preset": "ultrafast"}),
        ],
        links=[Link.make("take", "video", "out", "video")],
    )
    r = Engine(builtin_registry()).run(g, Settings(width=64, height=48, frame_count=24), project_dir=tmp_path)
    clip, alpha = r.output("take", "video"), r.output("take", "alpha")
    assert clip.frame_count == 30 and clip.metadata["vidstudio_fps"] == alpha.metadata["vidstudio_fps"] == "30"
    assert conform_frame(12, 24, 30, clip.frame_count) == 15  # the Viewer shows 0.5 s at project frame 12
    info = VideoSource(tmp_path / "out.mp4").info
    assert info.fps == 30 and info.frame_count == 30  # one second, not 1.25 s at the project's 24 fps


def _tone(seconds: float, hz: float = 440.0, rate: int = 48000) -> Audio:
    x = np.sin(2 * np.pi * hz * np.arange(round(seconds * rate)) / rate).astype(np.float32) * 0.5
    return Audio(np.stack([x, x], axis=1), rate)


def _pitch(samples: np.ndarray, rate: int) -> float:
    """Hz from the upward zero crossings of the first channel."""
    up = np.count_nonzero((samples[:-1, 0] < 0) & (samples[1:, 0] >= 0))
    return up / (samples.shape[0] / rate)


def test_retimed_sound_keeps_its_pitch_and_is_silent_when_frozen_or_reversed():
    from vidstudio.media.audio import retime_audio

    tone = _tone(4.0)
    fast = retime_audio(tone, np.arange(24) * 2.0, 24)  # double speed: 2 s of source in 1 s
    assert fast.samples.shape == (48000, 2)
    assert _pitch(fast.samples[2000:-2000], 48000) == pytest.approx(440, rel=0.02)
    slow = retime_audio(tone, np.arange(48) * 0.5, 24)  # half speed
    assert slow.samples.shape[0] == 96000 and _pitch(slow.samples[2000:-2000], 48000) == pytest.approx(440, rel=0.02)
    # 12 frames at normal speed, 12 frozen, 12 reversed: sound, then silence.
    tau = np.concatenate([np.arange(12.0), np.full(12, 12.0), 12.0 - np.arange(12.0)])
    mixed = retime_audio(tone, tau, 24)
    assert mixed.samples.shape[0] == 72000
    assert np.abs(mixed.samples[1000:23000]).max() > 0.4 and np.abs(mixed.samples[24000:]).max() == 0.0


def test_retime_node_passes_the_sound_through_the_engine():
    from vidstudio.graph import Engine, Graph, NodeInstance, Settings
    from vidstudio.graph.model import Link
    from vidstudio.graph.node import Node, Output
    from vidstudio.graph.registry import NodeRegistry
    from vidstudio.graph.types import PortType
    from vidstudio.nodes.retime import Retime

    class Tone(Node):
        type_id = "Tone"
        outputs = (Output("audio", PortType.AUDIO),)
        uses_settings = ()

        def execute(self, ctx, inputs, params):
            return {"audio": _tone(3.0)}

    reg = NodeRegistry()
    reg.register(Tone)
    reg.register(Retime)
    g = Graph(
        nodes=[NodeInstance(id="tone", type="Tone"), NodeInstance(id="rt", type="Retime", params={"speed": 1.5})],
        links=[Link.make("tone", "audio", "rt", "audio")],
    )
    out = Engine(reg).run(g, Settings(width=64, height=48, frame_count=36)).output("rt", "audio")
    assert out.samples.shape[0] == 72000 and _pitch(out.samples[2000:-2000], 48000) == pytest.approx(440, rel=0.02)


def test_load_video_sound_is_decoded_only_when_used(tmp_path):
    from vidstudio.media.audio import AudioFile

    path = tmp_path / "take.mkv"
    ff(
        "-t",
        "1",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=32x32:rate=10",
        "-t",
        "1",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=32000",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "flac",
        str(path),
    )
    lazy = AudioFile(path, 0.25, 0.75, 32000)
    assert lazy._samples is None and lazy.sample_rate == 32000
    assert lazy.samples.shape == (16000, 1) and lazy.duration == pytest.approx(0.5)
    assert lazy.for_frames(0, 5, 10).samples.shape == (16000, 1)


@pytest.mark.parametrize(
    "name,args,tol",
    [
        ("coffee.mov", ("-c:v", "png", "-pix_fmt", "rgb24"), 0.0),  # lossless RGB in QuickTime
        ("coffee.webm", ("-c:v", "libvpx-vp9", "-lossless", "1", "-pix_fmt", "yuv444p", "-colorspace", "bt709"), 1.0),
        (
            "coffee.mp4",
            (
                "-c:v",
                "libx264",
                "-qp",
                "0",
                "-pix_fmt",
                "yuv444p",
                "-vf",
                "scale=out_color_matrix=bt709",
                "-colorspace",
                "bt709",
            ),
            1.0,
        ),
    ],
)
def test_a_photograph_in_several_containers_decodes_to_its_pixels(tmp_path, name, args, tol):
    from PIL import Image
    from skimage import data

    photo = np.asarray(Image.fromarray(data.coffee()).resize((320, 240)))
    png = tmp_path / "coffee.png"
    Image.fromarray(photo).save(png)
    path = tmp_path / name
    ff("-loop", "1", "-t", "0.5", "-r", "8", "-i", str(png), *args, str(path))
    clip, _, src = open_video_clip(path, fps=8)
    assert clip.frame_count == 4 and (src.info.width, src.info.height) == (320, 240)
    got = np.rint(clip.frame(3) * 255).astype(int)
    assert np.abs(got - photo.astype(int)).mean() <= tol
