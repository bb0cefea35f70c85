"""Media: MP4 export decoded back (frames, size, exact fps, pixels, embedded project), odd sizes, atomic and
cancellable writes, PNG sequences, and image decoding with EXIF orientation and clear errors."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from helpers import ASSETS
from vidstudio.errors import Cancelled, MediaError
from vidstudio.media import (
    Clip,
    VideoWriter,
    load_image,
    probe_video,
    read_embedded_project,
    read_video,
    write_png_sequence,
    write_video,
)
from vidstudio.progress import CancelToken


def smooth_frames(t=12, h=48, w=64):
    """Smooth gradients that move (no hard edges, which 4:2:0 chroma subsampling would smear)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for i in range(t):
        r = 0.5 + 0.4 * np.sin(2 * np.pi * (x / w + i / t))
        g = y / h
        b = np.full_like(r, i / max(t - 1, 1))
        frames.append(np.stack([r, g * 0.8 + 0.1, b * 0.8 + 0.1], axis=-1))
    return np.stack(frames).astype(np.float32)


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(30000, 1001), Fraction(25, 2)])
def test_mp4_round_trip(tmp_path, fps):
    frames = smooth_frames()
    out = tmp_path / "a.mp4"
    path, notes = write_video(frames, out, fps, crf=10, preset="veryfast")
    assert path == out and notes == []
    info = probe_video(out)
    assert (info.width, info.height, info.frame_count) == (64, 48, 12)
    assert info.fps == fps
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    back = read_video(out)
    assert back.shape == frames.shape and back.dtype == np.float32
    assert np.abs(back - frames).mean() < 0.01
    assert np.abs(back - frames).max() < 0.06


def test_faststart_puts_moov_before_mdat(tmp_path):
    out = tmp_path / "a.mp4"
    write_video(smooth_frames(4), out, 24, preset="ultrafast")
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_project_embedded_and_recovered(tmp_path):
    project = json.dumps(
        {"format_version": 1, "nodes": [{"id": "a", "type": "X", "params": {"text": "a=b;c#d\\e\nf é"}}]}
    )
    out = tmp_path / "p.mp4"
    write_video(smooth_frames(3), out, 24, project_json=project, preset="ultrafast")
    assert read_embedded_project(out) == project
    plain = tmp_path / "plain.mp4"
    write_video(smooth_frames(3), plain, 24, preset="ultrafast")
    assert read_embedded_project(plain) is None


def test_large_project_survives_embedding(tmp_path):
    big = json.dumps({"points": [[i * 0.5, i * 0.25] for i in range(40000)]})
    assert len(big) > 400_000
    out = tmp_path / "big.mp4"
    write_video(smooth_frames(2), out, 24, project_json=big, preset="ultrafast")
    assert read_embedded_project(out) == big


def test_odd_size_padded_and_reported(tmp_path):
    frames = smooth_frames(3, h=47, w=63)
    out = tmp_path / "odd.mp4"
    _, notes = write_video(frames, out, 24, crf=8, preset="veryfast")
    assert notes == ["padded 63x47 to 64x48 (yuv420p needs even sides)"]
    back = read_video(out)
    assert back.shape == (3, 48, 64, 3)
    assert np.abs(back[:, :47, :63] - frames).mean() < 0.01


def test_odd_size_refused_with_clear_message(tmp_path):
    with pytest.raises(MediaError, match=r"needs even sides, the frames are 63x47"):
        write_video(smooth_frames(2, h=47, w=63), tmp_path / "x.mp4", 24, odd_size="refuse")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kw,words",
    [
        ({"crf": 60}, "crf 60 is outside 0..51"),
        ({"preset": "warp"}, "unknown x264 preset"),
    ],
)
def test_bad_options_are_refused(tmp_path, kw, words):
    with pytest.raises(MediaError, match=words):
        VideoWriter(tmp_path / "x.mp4", 64, 48, 24, **kw)


@pytest.mark.parametrize("fps", ["0", "-3", "abc", "1/0", float("nan"), 5000])
def test_bad_fps_refused(tmp_path, fps):
    with pytest.raises(MediaError, match="frame rate"):
        VideoWriter(tmp_path / "x.mp4", 64, 48, fps)


def test_cancelled_export_leaves_no_file_and_keeps_old_one(tmp_path):
    out = tmp_path / "a.mp4"
    out.write_bytes(b"old version")
    token = CancelToken()

    def frames():
        for i, f in enumerate(smooth_frames(20)):
            if i == 10:
                token.cancel("user pressed cancel")
            yield f

    with pytest.raises(Cancelled, match="user pressed cancel"):
        write_video(frames(), out, 24, cancel=token, preset="ultrafast")
    assert out.read_bytes() == b"old version"
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


def test_failure_mid_stream_leaves_no_partial_file(tmp_path):
    out = tmp_path / "a.mp4"

    def frames():
        yield from smooth_frames(5)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_video(frames(), out, 24, preset="ultrafast")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(MediaError, match="frame 2 has shape"):
        write_video([np.zeros((48, 64, 3))] * 2 + [np.zeros((10, 10, 3))], out, 24, preset="ultrafast")
    assert list(tmp_path.iterdir()) == []


def test_frames_are_streamed_not_collected(tmp_path):
    """The writer pulls one frame at a time: never more than one frame is made ahead of the encoder."""
    made, written = [0], []
    real_write = VideoWriter.write

    def spy(self, frame):
        written.append(made[0])
        real_write(self, frame)

    def frames():
        for f in smooth_frames(30):
            made[0] += 1
            yield f

    VideoWriter.write = spy
    try:
        write_video(frames(), tmp_path / "a.mp4", 24, preset="ultrafast")
    finally:
        VideoWriter.write = real_write
    assert written == list(range(1, 31))


def test_lazy_clip_exports_and_renders_each_frame_once(tmp_path):
    calls = []
    base = smooth_frames(8)

    def render(i):
        calls.append(i)
        return base[i]

    clip = Clip(8, 48, 64, render)
    write_video(clip, tmp_path / "c.mp4", 24, preset="ultrafast")
    assert calls == list(range(8))
    assert np.asarray(clip).shape == (8, 48, 64, 3)


def test_png_sequence_round_trip_and_replacement(tmp_path):
    frames = smooth_frames(4)
    folder = tmp_path / "seq"
    write_png_sequence(frames, folder, first_number=10)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["frame_00010.png", "frame_00011.png", "frame_00012.png", "frame_00013.png"]
    back = np.asarray(Image.open(folder / "frame_00012.png"), dtype=np.float32) / 255
    assert np.abs(back - frames[2]).max() <= 0.5 / 255 + 1e-6
    write_png_sequence(frames[:2], folder)
    assert sorted(p.name for p in folder.iterdir()) == ["frame_00000.png", "frame_00001.png"]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.txt").write_text("precious")
    with pytest.raises(MediaError, match="not a PNG sequence folder"):
        write_png_sequence(frames, tmp_path / "docs")
    assert (tmp_path / "docs" / "thesis.txt").read_text() == "precious"


# ------------------------------------------------------------------------------------------ images
def test_load_real_photo_and_alpha():
    img = load_image(ASSETS / "rocket.png")
    assert img.shape == (427, 640, 3) and img.dtype == np.float32 and 0 <= img.min() and img.max() <= 1
    logo = load_image(ASSETS / "logo_cutout.png")
    assert logo.shape == (500, 500, 4) and logo[..., 3].min() == 0.0 and logo[..., 3].max() == 1.0
    assert load_image(ASSETS / "logo_cutout.png", alpha=False).shape == (500, 500, 3)


def test_exif_orientation_is_honoured(tmp_path):
    img = np.zeros((20, 40, 3), dtype=np.uint8)
    img[:, :10] = 255  # a white band on the left of a landscape picture
    pil = Image.fromarray(img)
    exif = pil.getexif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    path = tmp_path / "rot.jpg"
    pil.save(path, exif=exif, quality=95)
    out = load_image(path)
    assert out.shape == (40, 20, 3)
    assert out[:10].mean() > 0.9 and out[-10:].mean() < 0.1  # the band is now on top


@pytest.mark.parametrize(
    "content,words",
    [
        (b"this is not an image", "cannot decode image"),
        (None, "cannot decode image"),
    ],
)
def test_bad_images_name_the_file(tmp_path, content, words):
    path = tmp_path / "broken.png"
    if content is None:  # a real PNG cut in half
        content = (ASSETS / "chelsea.png").read_bytes()[:5000]
    path.write_bytes(content)
    with pytest.raises(MediaError, match=words) as e:
        load_image(path)
    assert str(path) in str(e.value)
    with pytest.raises(MediaError, match="image file not found"):
        load_image(tmp_path / "missing.png")


@pytest.mark.parametrize(
    "fmt,suffix,tol", [("PNG", ".png", 0.5 / 255), ("JPEG", ".jpg", 0.06), ("WEBP", ".webp", 0.06)]
)
def test_load_image_formats_decode_the_same_picture(tmp_path, fmt, suffix, tol):
    ref = np.asarray(Image.open(ASSETS / "chelsea.png").convert("RGB"))
    path = tmp_path / f"cat{suffix}"
    Image.fromarray(ref).save(path, format=fmt, quality=95)
    img = load_image(path)
    assert img.shape == ref.shape
    assert np.abs(img - ref / 255.0).mean() < tol


def test_webp_with_alpha_keeps_alpha(tmp_path):
    rgba = np.asarray(Image.open(ASSETS / "logo_cutout.png"))
    path = tmp_path / "logo.webp"
    Image.fromarray(rgba, "RGBA").save(path, format="WEBP", lossless=True)
    img = load_image(path)
    assert img.shape == (500, 500, 4)
    np.testing.assert_allclose(img[..., 3], rgba[..., 3] / 255.0, atol=1e-6)
