"""Audio tracks: the AUDIO value, and Export Video muxing one into the MP4 as AAC, decoded back."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from vidstudio.errors import MediaError
from vidstudio.graph.node import ExecutionContext
from vidstudio.media import probe_video
from vidstudio.media.audio import Audio, probe_stream_duration
from vidstudio.media.video import ffmpeg_exe
from vidstudio.nodes.export import ExportVideo


def _sine(seconds: float, rate: int = 24000, hz: float = 440.0, channels: int = 2) -> Audio:
    t = np.arange(int(round(seconds * rate))) / rate
    return Audio(np.repeat((0.5 * np.sin(2 * np.pi * hz * t))[:, None], channels, axis=1), rate)


def _decode_audio(path, rate: int = 24000) -> np.ndarray:
    out = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.float32).reshape(-1, 2)[:, 0]  # the left channel


def test_audio_value_checks_and_fit():
    a = _sine(0.5)
    assert a.channels == 2 and a.duration == pytest.approx(0.5) and not a.samples.flags.writeable
    assert a.to_json() == {"kind": "audio", "sample_rate": 24000, "channels": 2, "samples": 12000, "seconds": 0.5}
    assert a.fit(0.25).samples.shape == (6000, 2)
    padded = a.fit(1.0)
    assert padded.samples.shape == (24000, 2) and np.all(padded.samples[12000:] == 0)
    assert Audio(np.zeros(10), 8000).channels == 1  # 1-D is mono
    with pytest.raises(MediaError, match="sample rate"):
        Audio(np.zeros((10, 2)), 0)
    with pytest.raises(MediaError, match="NaN"):
        Audio(np.full((10, 2), np.nan), 8000)


@pytest.mark.parametrize("seconds", [1.2, 0.3])  # longer than the video (cut), shorter (padded with silence)
def test_export_video_muxes_audio_as_aac_of_the_videos_length(tmp_path, seconds):
    frames = np.random.default_rng(0).random((12, 32, 48, 3)).astype(np.float32)
    ctx = ExecutionContext("export", width=48, height=32, fps=Fraction(24), frame_count=12, project_dir=tmp_path)
    params = {p.name: p.default for p in ExportVideo.params} | {"path": "out/a.mp4", "preset": "ultrafast"}
    out = ExportVideo().execute(ctx, {"video": frames, "audio": _sine(seconds)}, params)
    path = out["file"]
    assert probe_video(path).frame_count == 12
    video_s = probe_stream_duration(path, "v")
    assert video_s == pytest.approx(0.5)
    # the AAC stream plays as long as the video (to 2 ms)
    assert probe_stream_duration(path, "a") == pytest.approx(video_s, abs=2e-3)
    decoded = _decode_audio(path)
    assert 0.25 < np.sqrt(np.mean(decoded[2000:4000] ** 2)) < 0.45  # the 0.5-amplitude sine came through (rms 0.35)
    if seconds < 0.5:
        assert np.sqrt(np.mean(decoded[9000:11500] ** 2)) < 0.02  # padded with silence after 0.3 s
    assert any("fitted to the video" in n for n in ctx.notes)


def test_a_frame_range_cuts_the_sound_without_a_note(tmp_path):
    """A sound as long as the picture, written for frames 0..5 of 12: the sound of those frames, and no note that
    it was "fitted" (the range, not a wrong track, cut it); a track longer than the whole picture is noted."""
    frames = np.random.default_rng(0).random((12, 32, 48, 3)).astype(np.float32)
    ctx = ExecutionContext(
        "export", width=48, height=32, fps=Fraction(24), frame_count=12, project_dir=tmp_path, frame_range=(0, 6)
    )
    params = {p.name: p.default for p in ExportVideo.params} | {"path": "out/a.mp4", "preset": "ultrafast"}
    path = ExportVideo().execute(ctx, {"video": frames, "audio": _sine(0.5)}, params)["file"]
    assert probe_video(path).frame_count == 6
    assert probe_stream_duration(path, "a") == pytest.approx(0.25, abs=2e-3)
    assert not [n for n in ctx.notes if "audio" in n]
    ExportVideo().execute(ctx, {"video": frames, "audio": _sine(0.8)}, params)
    assert [n for n in ctx.notes if "audio" in n] == ["audio track of 0.800 s fitted to the video's 0.500 s (cut)"]


def test_export_without_audio_has_no_audio_stream(tmp_path):
    frames = np.zeros((4, 16, 16, 3), np.float32)
    ctx = ExecutionContext("export", width=16, height=16, fps=Fraction(24), frame_count=4, project_dir=tmp_path)
    params = {p.name: p.default for p in ExportVideo.params} | {"path": "b.mp4", "preset": "ultrafast"}
    path = ExportVideo().execute(ctx, {"video": frames, "audio": None}, params)["file"]
    with pytest.raises(MediaError, match="no audio stream"):
        probe_stream_duration(path, "a")


def test_sound_sources_find_the_export_nodes_sound_the_pictures_own_and_a_timeline_track():
    """What the Export dialog muxes with a picture: the Export node's linked sound first (and then only it), else
    the nearest upstream node with an AUDIO output (a Retime's: never its source's sound at the old speed), then
    a Load Audio that feeds nothing."""
    import json

    from vidstudio.nodes import default_registry
    from vidstudio.project.io import loads_project
    from vidstudio.project.view import sound_sources

    reg = default_registry()

    def project(nodes, links):
        return loads_project(
            json.dumps(
                {
                    "format_version": 1,
                    "nodes": [{"id": i, "type": t, "params": {}, "position": [0, 0]} for i, t in nodes],
                    "links": [{"from": a, "to": b} for a, b in links],
                }
            )
        )

    def refs(p, node, port="video"):
        return [(s.ref, s.linked) for s in sound_sources(p, reg, node, port)]

    nodes = [("take", "LoadVideo"), ("slow", "Retime"), ("music", "LoadAudio"), ("export", "ExportVideo")]
    p = project(nodes, [("take.video", "slow.video"), ("slow.video", "export.video"), ("music.audio", "export.audio")])
    assert refs(p, "slow") == [("music.audio", True)]  # the node's sound, nothing else
    assert refs(p, "take") == [("take.audio", False)]  # not written by the Export node: its own sound
    p = project(nodes, [("take.video", "slow.video"), ("slow.video", "export.video")])
    assert refs(p, "slow") == [("slow.audio", False), ("music.audio", False)]  # Retime's (None unless linked)
    p = project([("take", "LoadVideo"), ("grade", "ColorGrade")], [("take.video", "grade.video")])
    assert refs(p, "grade") == [("take.audio", False)]  # upstream through a grade
    p = project([("smooth", "Interpolate"), ("a", "LoadAudio"), ("b", "LoadAudio")], [])
    assert refs(p, "smooth") == [("a.audio", False)]  # no sound upstream: the first free sound track
    assert refs(project([("smooth", "Interpolate")], []), "smooth") == refs(p, "missing") == []


@pytest.mark.parametrize(
    "rate,frames,fps",
    [(44100, 48, Fraction(24)), (48000, 13, Fraction(24000, 1001)), (24000, 7, Fraction(25))],
)
def test_the_aac_stream_lasts_exactly_the_frames_written_and_a_bare_decode_at_most_one_aac_frame_more(
    tmp_path, rate, frames, fps
):
    """Issue: "AAC up to ~20 ms longer than the video". The MP4 says exactly: its edit list hides the AAC encoder's
    1024 priming samples and its last packet's duration trims the last 1024-sample AAC frame, so the audio stream's
    duration is the video's to the sample, and ffmpeg and VidStudio's own decode give exactly the samples of the
    frames written, sample 0 with frame 0. A bare PyAV decode() that keeps every AAC frame whole (as a player that
    ignores the edit list does) gets up to 1023 samples more, under one AAC frame: the bound README states (888
    samples, 20.1 ms, for 2 s at 44.1 kHz)."""
    import av

    from vidstudio.media.audio import decode_audio
    from vidstudio.media.export import export_clip

    want = round(Fraction(frames) / fps * rate)  # the samples of the frames written
    tone = np.zeros((want, 2), np.float32)
    tone[100:104] = 0.8  # a click at sample 100
    path, _ = export_clip(
        np.zeros((frames, 16, 16, 3), np.float32), tmp_path / "a.mp4", fps, preset="ultrafast", audio=Audio(tone, rate)
    )
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert Fraction(a.duration) * a.time_base == Fraction(v.duration) * v.time_base == Fraction(frames) / fps
        packets = [p for p in c.demux(a) if p.size]
        assert packets[-1].pts + packets[-1].duration == want  # the last AAC frame's padding is trimmed
    with av.open(str(path)) as c:
        bare = sum(f.samples for f in c.decode(audio=0))
    assert want <= bare < want + 1024
    back = decode_audio(path)
    assert back.samples.shape[0] == want and back.sample_rate == rate
    assert abs(int(np.argmax(np.abs(back.samples[:1000, 0]))) - 101) <= 3  # no priming delay: the click in place
    assert _decode_audio(path, rate).shape[0] == want  # ffmpeg's own decode
