"""Export from the dialog (MP4 decoded back, PNG sequence, cancel) and rendering the Export nodes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from uihelpers import wait_for
from vidstudio.media import probe_video, read_video
from vidstudio.media.image import load_image
from vidstudio.project import load_project


def test_export_mp4_from_the_dialog_and_decode_it(qtbot, window_factory, ken_burns_copy, tmp_path):
    win = window_factory(ken_burns_copy)
    s = win.session
    s.set_settings(width=256, height=160)
    assert s.wait_idle(10)
    dlg = win.export_dialog()
    assert dlg.source.currentData() == ("node", "cam", "video")
    out = tmp_path / "exports" / "kb.mp4"
    dlg.path.setText(str(out))
    dlg.crf.setValue(12)
    dlg.fps.setText("30000/1001")
    dlg.first.setValue(10)
    dlg.last.setValue(33)
    qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    job = dlg.job
    assert job is not None and win.jobs_pane.rows[0].job is job
    wait_for(lambda: job.is_final, timeout=60)
    assert job.status == "done", job.message
    assert dlg.show_button.isEnabled() and dlg.bar.value() == 1000
    info = probe_video(out)
    assert (info.width, info.height, info.frame_count) == (256, 160, 24)
    assert str(info.fps) == "30000/1001"
    decoded = read_video(out)  # (T, H, W, 3) float32 in [0, 1]
    clip = s.evaluation.last_result.clip
    for k in (0, 12, 23):
        want = clip.frame(10 + k)
        psnr = 10 * np.log10(1.0 / np.mean((decoded[k] - want) ** 2))
        assert psnr > 30, f"frame {10 + k}: PSNR {psnr:.1f} dB"
    again = load_project(out)  # the project is embedded: the MP4 opens as a project
    assert [n.id for n in again.nodes] == ["photo", "cam", "export"] and again.settings.width == 256
    dlg.close()


def test_export_png_sequence_and_cancel(qtbot, window_factory, ken_burns_copy, tmp_path):
    win = window_factory(ken_burns_copy)
    s = win.session
    s.set_settings(width=96, height=64, frame_count=12)
    assert s.wait_idle(10)
    dlg = win.export_dialog()
    dlg.fmt.setCurrentIndex(1)
    folder = tmp_path / "frames"
    dlg.path.setText(str(folder))
    dlg.first.setValue(2)
    dlg.last.setValue(5)
    job = dlg.start()
    wait_for(lambda: job.is_final, timeout=30)
    assert job.status == "done", job.message
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["frame_00002.png", "frame_00003.png", "frame_00004.png", "frame_00005.png"]
    got = load_image(folder / "frame_00004.png")
    assert np.abs(got - s.evaluation.last_result.clip.frame(4)).max() <= 1 / 255 + 1e-6
    # a cancelled export leaves nothing under the target name
    target = tmp_path / "cancelled.mp4"
    dlg.fmt.setCurrentIndex(0)
    dlg.path.setText(str(target))
    dlg.first.setValue(0)
    dlg.last.setValue(11)
    job = dlg.start()
    job.cancel()
    wait_for(lambda: job.is_final, timeout=30)
    assert job.status == "cancelled" and not target.exists()
    assert dlg.cancel_button.text() == "Close"
    dlg.close()


def test_bad_export_settings_are_named_in_the_dialog(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy)
    dlg = win.export_dialog()
    dlg.fps.setText("fast")
    assert dlg.start() is None
    assert "frame rate" in dlg.status.text() and "fast" in dlg.status.text()
    dlg.close()


def test_render_export_nodes_runs_them_as_a_job(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy)
    s = win.session
    s.set_settings(width=128, height=96, frame_count=6)
    job = win.render_outputs()
    wait_for(lambda: job.is_final, timeout=60)
    assert job.status == "done", job.message
    out = ken_burns_copy.parent / "out" / "ken_burns.mp4"
    assert job.output == str(out) and probe_video(out).frame_count == 6
    assert s.evaluation.node_status["export"].reasons == ["output node (always runs)"]
    row = win.jobs_pane.rows[0]
    assert row.show_button.isVisible() or row.show_button.isVisibleTo(row)


def test_a_job_ends_from_its_work_s_exception_in_words(qtbot):
    """Export and Render rows end the same way: Cancelled -> cancelled with nothing written; a VidStudio error ->
    its own message; anything else -> the type and message (an internal error)."""
    from vidstudio.errors import Cancelled, MediaError
    from vidstudio.ui.state.tasks import Job

    for exc, status, message in (
        (Cancelled("stop"), "cancelled", "cancelled; nothing was written"),
        (MediaError("out.mp4: disk full"), "failed", "out.mp4: disk full"),
        (ZeroDivisionError("division by zero"), "failed", "ZeroDivisionError: division by zero"),
    ):
        job = Job("Export x.mp4")
        with qtbot.waitSignal(job.finished, timeout=1000):
            job.fail(exc)
        assert (job.status, job.message) == (status, message)


def test_the_dialog_and_the_export_node_write_the_same_file_with_seed_model_and_odd_size(
    qtbot, window_factory, registry, tmp_path
):
    """One export path: the Export dialog and the Export Video node (Render) of one odd-sized project write MP4s
    with the same metadata (the seed and model of the frames, the embedded project) and the same padded frames."""
    import json

    from vidstudio.graph.node import Output
    from vidstudio.graph.types import PortType
    from vidstudio.media import read_embedded_project, read_metadata

    class Seeded(registry.find("Gradient")):
        """A gradient whose clip says how it was made, as a generated clip does."""

        type_id = "SeededGradient"
        outputs = (Output("video", PortType.VIDEO, "gradient"),)

        def execute(self, ctx, inputs, params):
            clip = super().execute(ctx, inputs, params)["video"]
            clip.metadata.update(vidstudio_seed="1234", vidstudio_model="tiny/ltx", vidstudio_family="ltx")
            return {"video": clip}

    registry.register(Seeded)
    proj = tmp_path / "odd.vidproj"
    proj.write_text(
        json.dumps(
            {
                "format_version": 1,
                "settings": {"width": 97, "height": 61, "fps": "24", "frame_count": 6},
                "nodes": [
                    {"id": "src", "type": "SeededGradient", "params": {}, "position": [0, 0]},
                    {"id": "export", "type": "ExportVideo", "params": {"path": "out/node.mp4"}, "position": [260, 0]},
                ],
                "links": [{"from": "src.video", "to": "export.video"}],
            }
        )
    )
    win = window_factory(proj)
    s = win.session
    assert s.wait_idle(10)
    dlg = win.export_dialog()
    dlg.source.setCurrentIndex(
        next(i for i in range(dlg.source.count()) if dlg.source.itemData(i) == ("node", "src", "video"))
    )
    gui = tmp_path / "gui.mp4"
    dlg.path.setText(str(gui))
    job = dlg.start()
    assert job is not None, dlg.status.text()
    wait_for(lambda: job.is_final, timeout=60)
    assert job.status == "done", job.message
    assert "padded 97x61 to 98x62" in job.message  # the note of the odd size reaches the user
    render = win.render_outputs()
    wait_for(lambda: render.is_final, timeout=60)
    assert render.status == "done", render.message
    node = tmp_path / "out" / "node.mp4"
    a, b = read_metadata(gui), read_metadata(node)
    assert (a["vidstudio_seed"], a["vidstudio_model"], a["vidstudio_family"]) == ("1234", "tiny/ltx", "ltx")
    assert {k: v for k, v in a.items() if k.startswith("vidstudio_")} == {
        k: v for k, v in b.items() if k.startswith("vidstudio_")
    }
    assert read_embedded_project(gui) == read_embedded_project(node)
    assert load_project(gui).settings.width == 97
    for f in (gui, node):
        info = probe_video(f)
        assert (info.width, info.height, info.frame_count) == (98, 62, 6)  # padded to even sides
    va, vb = read_video(gui), read_video(node)
    assert np.array_equal(va, vb)
    # the picture is the gradient (pixel x is (x + 0.5) / 97) and the padding repeats the last column
    ramp = (np.arange(97) + 0.5) / 97
    assert np.abs(va[3, :61, :97] - ramp[None, :, None]).mean() < 0.02
    assert np.abs(va[3, :, 97] - va[3, :, 96]).mean() < 0.02
    dlg.close()


def test_the_dialog_starts_on_what_the_viewer_shows(qtbot, window_factory, tmp_path):
    """The source is the Viewer's picture: a node output that is not the first in the list, then a result track
    (the combo box's tuples are found by value, not by identity)."""
    import json

    from vidstudio.media.clip import Clip

    proj = tmp_path / "two.vidproj"
    proj.write_text(
        json.dumps(
            {
                "format_version": 1,
                "settings": {"width": 64, "height": 48, "fps": "24", "frame_count": 6},
                "nodes": [
                    {"id": "src", "type": "Gradient", "params": {}, "position": [0, 0]},
                    {"id": "interp", "type": "Interpolate", "params": {}, "position": [260, 0]},
                ],
                "links": [{"from": "src.video", "to": "interp.video"}],
            }
        )
    )
    win = window_factory(proj)
    s = win.session
    assert s.view.view_target.node_id == "interp"
    dlg = win.export_dialog()
    assert dlg.source.currentData() == ("node", "interp", "video")
    dlg.close()
    s.view.add_result("Take 1", Clip.from_array(np.zeros((6, 48, 64, 3), np.float32)))
    assert s.view.view_result is not None
    dlg = win.export_dialog()
    assert dlg.source.currentData() == ("result", s.view.view_result, None)
    dlg.close()


def test_the_dialog_writes_an_interpolated_clip_at_its_own_rate(qtbot, window_factory, tmp_path):
    """Issue 16 point 3: exporting Interpolate's output with the frame rate left empty writes the clip's own rate
    over the same seconds as the chosen project frames, as the Export Video node does."""
    import json

    proj = tmp_path / "interp.vidproj"
    proj.write_text(
        json.dumps(
            {
                "format_version": 1,
                "settings": {"width": 64, "height": 48, "fps": "24", "frame_count": 6},
                "nodes": [
                    {"id": "src", "type": "Gradient", "params": {}, "position": [0, 0]},
                    {
                        "id": "interp",
                        "type": "Interpolate",
                        "params": {"mode": "fps", "fps": "60"},
                        "position": [260, 0],
                    },
                ],
                "links": [{"from": "src.video", "to": "interp.video"}],
            }
        )
    )
    win = window_factory(proj)
    assert win.session.wait_idle(10)
    dlg = win.export_dialog()
    dlg.source.setCurrentIndex(
        next(i for i in range(dlg.source.count()) if dlg.source.itemData(i) == ("node", "interp", "video"))
    )
    assert dlg.fps.text() == "" and "24" in dlg.fps.placeholderText()
    for first, last, name, want in ((0, 5, "whole.mp4", 15), (0, 1, "part.mp4", 5)):
        dlg.first.setValue(first)
        dlg.last.setValue(last)
        dlg.path.setText(str(tmp_path / name))
        job = dlg.start()
        assert job is not None, dlg.status.text()
        wait_for(lambda j=job: j.is_final, timeout=60)
        assert job.status == "done", job.message
        info = probe_video(tmp_path / name)
        # 6 project frames at 24 fps are 0.25 s: 15 frames at 60 fps (0, 0.4, .. 4.8, then source frame 5 held).
        # Project frames 0 .. 1 are 2/24 s: 5 frames at 60 fps.
        assert (info.fps, info.frame_count) == (60, want)
        assert f"({want} frames)" in job.message  # what the file holds, not the project frames chosen
    dlg.fps.setText("30")  # a rate typed in is the file's rate; the range stays the same seconds of the clip
    dlg.path.setText(str(tmp_path / "typed.mp4"))
    job = dlg.start()
    wait_for(lambda: job.is_final, timeout=60)
    assert job.status == "done", job.message
    assert (probe_video(tmp_path / "typed.mp4").fps, probe_video(tmp_path / "typed.mp4").frame_count) == (30, 5)
    dlg.close()


def _streams(path):
    """``{"video": seconds, "audio": (codec, seconds, samples (N,) float32 left channel)}`` decoded back with PyAV."""
    import av

    out = {}
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        out["video"] = float(v.frames / v.average_rate)
        if c.streams.audio:
            a = c.streams.audio[0]
            chunks = [f.to_ndarray().reshape(len(f.layout.channels), -1)[0] for f in c.decode(a)]
            samples = np.concatenate(chunks).astype(np.float32)
            out["audio"] = (a.codec_context.name, samples.shape[0] / a.rate, samples)
    return out


def test_the_dialog_exports_the_sound_the_export_node_writes(qtbot, window_factory, tmp_path):
    """A Load Audio linked into the Export Video node: the dialog's "Include sound" is on, the MP4 has an AAC
    stream as long as the video (within one frame) for a frame range, the same sound as the node's file; with
    the box unchecked there is no audio stream; a picture from a video without sound has the box disabled, and
    a Load Video with sound (not linked anywhere) brings its own."""
    import json

    from vidstudio.media.audio import Audio
    from vidstudio.media.video import write_video

    rate, fps = 24000, 24
    t = np.arange(rate) / rate  # one second of a 440 Hz tone, louder over time
    tone = (0.2 + 0.6 * t) * np.sin(2 * np.pi * 440 * t)
    Audio(np.stack([tone, tone], 1), rate).write_wav(tmp_path / "voice.wav")
    picture = [np.full((32, 48, 3), k / 12, np.float32) for k in range(12)]
    write_video(picture, tmp_path / "mute.mp4", fps)  # no sound
    write_video(picture, tmp_path / "take.mp4", fps, audio=Audio(np.stack([tone, tone], 1), rate))
    proj = tmp_path / "sound.vidproj"
    proj.write_text(
        json.dumps(
            {
                "format_version": 1,
                "settings": {"width": 64, "height": 48, "fps": str(fps), "frame_count": 12},
                "nodes": [
                    {"id": "src", "type": "Gradient", "params": {}, "position": [0, 0]},
                    {"id": "voice", "type": "LoadAudio", "params": {"path": "voice.wav"}, "position": [0, 200]},
                    {"id": "mute", "type": "LoadVideo", "params": {"path": "mute.mp4"}, "position": [0, 400]},
                    {"id": "take", "type": "LoadVideo", "params": {"path": "take.mp4"}, "position": [0, 600]},
                    {"id": "export", "type": "ExportVideo", "params": {"path": "out/node.mp4"}, "position": [300, 0]},
                ],
                "links": [{"from": "src.video", "to": "export.video"}, {"from": "voice.audio", "to": "export.audio"}],
            }
        )
    )
    win = window_factory(proj)
    s = win.session
    dlg = win.export_dialog()
    assert dlg.source.currentData() == ("node", "src", "video")
    qtbot.waitUntil(lambda: dlg.sound_found is not None, timeout=20000)
    assert dlg.sound.isEnabled() and dlg.sound.isChecked(), dlg.sound.toolTip()
    assert "voice.audio" in dlg.sound.toolTip()

    def export(name, first, last):
        dlg.path.setText(str(tmp_path / name))
        dlg.first.setValue(first)
        dlg.last.setValue(last)
        job = dlg.start()
        assert job is not None, dlg.status.text()
        wait_for(lambda: job.is_final, timeout=60)
        assert job.status == "done", job.message
        return _streams(tmp_path / name)

    whole = export("whole.mp4", 0, 11)
    render = win.render_outputs()
    wait_for(lambda: render.is_final, timeout=60)
    assert render.status == "done", render.message
    node = _streams(tmp_path / "out" / "node.mp4")
    for got in (whole, node):
        codec, seconds, _ = got["audio"]
        assert codec == "aac" and abs(seconds - got["video"]) <= 1 / fps, (seconds, got["video"])
    a, b = whole["audio"][2], node["audio"][2]
    assert a.shape == b.shape and np.abs(a - b).max() < 1e-4  # the dialog and the node: the same sound

    part = export("part.mp4", 3, 8)  # 6 frames: a quarter second, from 0.125 s
    codec, seconds, samples = part["audio"]
    assert part["video"] == pytest.approx(6 / fps) and codec == "aac"
    assert abs(seconds - part["video"]) <= 1 / fps
    # the part of the tone that goes with frames 3..8 (its loudness grows with time), not its start
    want = (0.2 + 0.6 * 0.25) * np.sqrt(0.5)  # the middle of 0.125..0.375 s: 0.25 s
    mid = samples[len(samples) // 4 : 3 * len(samples) // 4]
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(want, rel=0.05)

    dlg.sound.click()
    assert not dlg.sound.isChecked()
    assert "audio" not in export("silent.mp4", 0, 11)

    for node_id, has in (("mute", False), ("take", True)):
        index = next(i for i in range(dlg.source.count()) if dlg.source.itemData(i) == ("node", node_id, "video"))
        dlg.source.setCurrentIndex(index)
        assert dlg.source.currentData() == ("node", node_id, "video")
        qtbot.waitUntil(lambda: dlg.sound_found is not None, timeout=20000)
        assert dlg.sound.isEnabled() is has, (node_id, dlg.sound.toolTip())
        if not has:
            assert not dlg.sound.isChecked() and "mute.audio is silent" in dlg.sound.toolTip()
    dlg.sound.click()  # the user's choice: on again
    got = export("take.mp4", 0, 11)
    assert abs(got["audio"][1] - got["video"]) <= 1 / fps
    s.wait_idle(5)
    dlg.close()
