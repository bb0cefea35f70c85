"""A clip at another rate than the project's is conformed by time in the Viewer: at project frame f the Viewer
shows the clip frame on screen at f / fps seconds (an Interpolate 24 -> 60 output plays at its real speed, its
last frame is reachable), the info line names the clip's rate, and the Timeline's cache bar and result tracks
span the clip's seconds."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from uihelpers import image_to_array, wait_for
from vidstudio.graph.model import Link, NodeInstance
from vidstudio.graph.node import Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip
from vidstudio.project import Project

W, H, N = 64, 32, 24  # one second of project at 24 fps


class RateClip(Node):
    """A test source at its own rate: frame k is the solid colour (k, 255 - k, 128) / 255, so the painted
    pixels say which clip frame is shown. ``fps`` empty: no rate of its own (the project's)."""

    type_id = "RateClip"
    title = "Rate Clip"
    category = "Test"
    description = "Frames whose colour encodes their index, at their own rate."
    outputs = (Output("video", PortType.VIDEO, "solid frames"),)
    params = (Param("fps", "string", "60"), Param("frames", "int", 58, min=1, max=255))
    uses_settings = ("width", "height")

    def execute(self, ctx, inputs, params):
        def render(k: int) -> np.ndarray:
            return np.broadcast_to(np.float32([k, 255 - k, 128]) / np.float32(255), (ctx.height, ctx.width, 3))

        clip = Clip(params["frames"], ctx.height, ctx.width, render, label=f"{ctx.node_id} video")
        if params["fps"]:
            clip.metadata["vidstudio_fps"] = params["fps"]
        return {"video": clip}


@pytest.fixture
def registry(registry):
    registry.register(RateClip)
    return registry


def rate_project(*extra: NodeInstance, **params) -> Project:
    p = Project(settings={"width": W, "height": H, "fps": 24, "frame_count": N})
    p.nodes.append(NodeInstance(id="src", type="RateClip", position=(0, 0), params=params))
    p.nodes.extend(extra)
    return p


def painted_index(win) -> int:
    """The clip frame the Viewer painted, read from the red channel at the centre of the frame on screen."""
    view = win.viewer.view
    img = image_to_array(view.viewport().grab().toImage())
    dpr = view.viewport().devicePixelRatioF()
    p = view.mapFromScene(QPointF(W / 2, H / 2))
    r, g, _ = (int(v) for v in img[int(p.y() * dpr), int(p.x() * dpr)])
    assert abs(r + g - 255) <= 2, f"not a frame of the test clip: {r}, {g}"
    return r


def shown_index(win) -> int:
    """The clip frame of the image the Viewer holds (its red channel)."""
    return int(image_to_array(win.viewer.grab_frame_image())[H // 2, W // 2, 0])


def open_rate_window(window_factory, project: Project, select: str = "src", prefetch: bool = False):
    win = window_factory(prefetch=prefetch)
    win.session.set_project(project)
    win.session.view.set_selection([select])
    assert win.session.wait_idle(10)
    win.viewer.view.fit()
    return win


def go_to(qtbot, win, frame: int, clip_frame: int) -> None:
    """Moves the playhead the way the artist does (the Timeline's frame box), waits until the Viewer holds the
    current clip's picture of that frame and checks which clip frame it is."""
    s = win.session
    win.timeline.frame_box.setValue(frame)
    assert s.transport.playhead == frame
    wait_for(
        lambda: s.frames.image(frame) is not None and win.viewer.grab_frame_image() is s.frames.image(frame),
        qtbot=qtbot,
    )
    assert shown_index(win) == clip_frame


def test_a_60_fps_output_is_shown_by_time_in_a_24_fps_project(qtbot, window_factory, tmp_path):
    win = open_rate_window(window_factory, rate_project(fps="60", frames=58))
    s = win.session
    go_to(qtbot, win, 12, 30)  # 0.5 s is clip frame 30, not 12 (slow motion)
    assert s.frames.clip_fps == 60 and s.frames.length == N  # 58 frames at 60 fps: 0.967 s, 24 project frames
    qtbot.wait(50)
    assert painted_index(win) == 30
    assert "60 fps clip · frame 30 of 58" in win.viewer.info.text()
    assert "frame 12" in win.viewer.info.text()
    shot = tmp_path / "viewer.png"  # the Viewer as the artist sees it, info line included
    assert win.viewer.grab().save(str(shot))
    from PySide6.QtGui import QImage

    saved = image_to_array(QImage(str(shot)))
    assert (saved == (30, 225, 128)).all(axis=2).sum() > 1000  # the picture is clip frame 30
    go_to(qtbot, win, 1, 2)  # 1/24 s = 2.5 frames at 60: frame 2 is on screen
    go_to(qtbot, win, N - 1, 57)  # the last project frame shows the clip's last frame
    assert painted_index(win) == 57
    assert "frame 57 of 58" in win.viewer.info.text()
    # the Timeline's End key reaches it too
    win.editor.setFocus()
    s.transport.set_playhead(0)
    go_to(qtbot, win, 0, 0)
    qtbot.keyClick(win.editor, Qt.Key.Key_End)
    wait_for(lambda: shown_index(win) == 57, qtbot=qtbot)


def test_scrubbing_and_the_cache_bar_are_in_project_frames(qtbot, window_factory):
    win = open_rate_window(window_factory, rate_project(fps="60", frames=58), prefetch=True)
    s, canvas = win.session, win.timeline.canvas
    wait_for(lambda: s.frames.idle() and s.frames.ready_mask().all(), qtbot=qtbot)
    assert len(s.frames.ready_mask()) == N  # the bar spans the clip's second, not 58 frames
    wait_for(lambda: f"{N}/{N} frames ready" in win.timeline.range_label.text(), qtbot=qtbot)
    # only the frames the project shows were rendered: 24 of 58
    assert len(s.frames._images) == N
    y = 10
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(canvas.x_of(0)), y))
    qtbot.mouseMove(canvas, QPoint(int(round(canvas.x_of(18))), y))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(round(canvas.x_of(18))), y))
    assert s.transport.playhead == 18
    wait_for(lambda: shown_index(win) == 45, qtbot=qtbot)  # 0.75 s


def test_playback_at_the_project_rate_plays_the_clip_at_real_speed(qtbot, window_factory):
    win = open_rate_window(window_factory, rate_project(fps="60", frames=58), prefetch=True)
    s = win.session
    wait_for(lambda: s.frames.ready_mask().all(), qtbot=qtbot)
    shown: list[tuple[int, int]] = []
    win.viewer.frame_painted.connect(lambda f: shown.append((f, shown_index(win))))
    s.transport.play()
    qtbot.wait(300)
    s.transport.stop()
    assert shown, "nothing was painted while playing"
    for f, k in shown:  # every painted project frame showed the clip frame of its time
        assert k == (f * 60) // 24


def test_an_interpolate_24_to_60_plays_at_real_speed(qtbot, window_factory):
    interp = NodeInstance(id="interp", type="Interpolate", position=(200, 0), params={"mode": "fps", "fps": "60"})
    p = rate_project(interp, fps="", frames=N)
    p.links.append(Link.make("src", "video", "interp", "video"))
    win = open_rate_window(window_factory, p, select="interp")
    s = win.session
    assert s.frames.clip.frame_count == 60 and s.frames.clip_fps == 60  # the 1 s of the 24 source frames
    go_to(qtbot, win, 12, 12)  # clip frame 30 is source position 12.0: the source frame of 0.5 s
    assert "60 fps clip · frame 30 of 60" in win.viewer.info.text()
    # the last project frame: clip frame 57, source position 22.8, a cross-fade of source frames 22 and 23
    go_to(qtbot, win, N - 1, 23)
    assert "frame 57 of 60" in win.viewer.info.text()


def test_equal_rates_and_a_new_project_rate(qtbot, window_factory):
    win = open_rate_window(window_factory, rate_project(fps="24", frames=58))
    s = win.session
    assert s.frames.clip_fps is None and s.frames.length == 58  # its own rate is the project's: one for one
    go_to(qtbot, win, 12, 12)
    assert "fps clip" not in win.viewer.info.text()
    # the clip's own rate against a changed project rate: conformed again without re-rendering the node
    s.set_param("src", "fps", "60")
    assert s.wait_idle(10)
    go_to(qtbot, win, 12, 30)  # 60 fps now: 0.5 s is frame 30
    clip = s.frames.clip
    s.set_settings(fps=Fraction(60))
    assert s.wait_idle(10)
    assert s.frames.clip is clip and s.frames.clip_fps is None  # the same clip, now at the project's rate
    go_to(qtbot, win, 12, 12)
    assert "fps clip" not in win.viewer.info.text()


def test_a_result_track_spans_the_clips_seconds(qtbot, window_factory):
    win = open_rate_window(window_factory, rate_project(fps="24", frames=N))
    s, canvas = win.session, win.timeline.canvas
    frames = np.zeros((30, H, W, 3), np.float32)
    clip = Clip.from_array(frames)
    clip.metadata["vidstudio_fps"] = "60"  # half a second
    s.view.add_result("Interpolated", clip)
    assert s.frames.length == 12
    wait_for(lambda: s.frames.clip is clip, qtbot=qtbot)
    row = [i for i, (k, _) in enumerate(canvas.rows()) if k == "result"][0]
    img = image_to_array(canvas.grab().toImage())
    dpr = canvas.devicePixelRatioF()
    y = int((canvas.row_top(row) + 10) * dpr)
    inside, outside = img[y, int(canvas.x_of(10) * dpr)], img[y, int(canvas.x_of(16) * dpr)]
    assert tuple(inside) != tuple(outside)  # the bar ends at project frame 11 (0.5 s), not at 29
