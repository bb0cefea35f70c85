"""Viewer and Timeline: scrubbing paints the right frame, transport keys, retiming keys by dragging,
the cache bar, result tracks, zoom, and the overlay API."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt

from uihelpers import image_to_array, wait_for
from vidstudio.graph.model import NodeInstance
from vidstudio.media.clip import Clip
from vidstudio.motion.curves import FCurve
from vidstudio.project import Project
from vidstudio.ui.widgets.viewer.overlays import ViewerOverlay, register_overlay, unregister_overlay

W, H, N = 64, 32, 30


def gradient_project() -> Project:
    p = Project(settings={"width": W, "height": H, "fps": 24, "frame_count": N})
    p.nodes.append(NodeInstance(id="grad", type="Gradient", position=(0, 0)))
    p.animation["grad.level"] = FCurve.from_points([(0, 0.0), (N - 1, 1.0)], interpolation="linear")
    return p


def expected_frame(i: int) -> np.ndarray:
    level = i / (N - 1)
    return np.round(level * (np.arange(W) + 0.5) / W * 255)


@pytest.fixture
def grad_window(window_factory):
    def make(prefetch=False):
        win = window_factory(prefetch=prefetch)
        win.session.set_project(gradient_project())
        assert win.session.wait_idle(10)
        win.viewer.view.fit()
        return win

    return make


def painted_row(win, y: float = H / 2) -> np.ndarray:
    """The red channel of the painted viewport along image row ``y``, sampled at every image pixel centre."""
    view = win.viewer.view
    img = image_to_array(view.viewport().grab().toImage())
    dpr = view.viewport().devicePixelRatioF()
    out = []
    for x in range(W):
        p = view.mapFromScene(QPointF(x + 0.5, y))
        out.append(img[int(p.y() * dpr), int(p.x() * dpr), 0])
    return np.array(out, dtype=float)


def test_scrubbing_the_ruler_paints_each_frame(qtbot, grad_window):
    win = grad_window()
    s, canvas = win.session, win.timeline.canvas
    y = 10
    painted = []
    win.viewer.frame_painted.connect(painted.append)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(canvas.x_of(0)), y))
    for f in (5, 11, 17, 20):
        qtbot.mouseMove(canvas, QPoint(int(round(canvas.x_of(f))), y))
        assert s.transport.playhead == f
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(round(canvas.x_of(20))), y))
    wait_for(lambda: win.viewer.shown_frame == 20)
    wait_for(lambda: 20 in painted)
    assert np.abs(image_to_array(win.viewer.grab_frame_image())[5, :, 0] - expected_frame(20)).max() <= 1
    row = painted_row(win)
    assert np.abs(row - expected_frame(20)).max() <= 6  # painted through the view's scaling
    assert win.timeline.frame_box.value() == 20 and win.timeline.timecode.text() == "00:00:00:20"


def test_transport_keys(qtbot, grad_window):
    win = grad_window()
    s = win.session
    win.editor.setFocus()
    s.transport.set_playhead(10)
    keys = Qt.Key
    qtbot.keyClick(win.editor, keys.Key_Right)
    assert s.transport.playhead == 11
    qtbot.keyClick(win.editor, keys.Key_Left)
    qtbot.keyClick(win.editor, keys.Key_Left)
    assert s.transport.playhead == 9
    qtbot.keyClick(win.editor, keys.Key_I)
    qtbot.keyClick(win.editor, keys.Key_End)
    assert s.transport.playhead == N - 1
    s.transport.set_playhead(20)
    qtbot.keyClick(win.editor, keys.Key_O)
    assert (s.transport.in_point, s.transport.out_point) == (9, 20)
    qtbot.keyClick(win.editor, keys.Key_Home)
    assert s.transport.playhead == 9
    qtbot.keyClick(win.editor, keys.Key_Space)
    assert s.transport.playing
    qtbot.wait(200)  # about five frames at 24 fps, looping inside 9..20
    assert 9 <= s.transport.playhead <= 20
    qtbot.keyClick(win.editor, keys.Key_Space)
    assert not s.transport.playing
    qtbot.keyClick(win.editor, keys.Key_L)
    qtbot.keyClick(win.editor, keys.Key_L)
    assert s.transport.playing and s.transport.play_speed == 2 and s.transport.play_direction == 1
    qtbot.keyClick(win.editor, keys.Key_J)
    assert s.transport.play_direction == -1
    qtbot.keyClick(win.editor, keys.Key_K)
    assert not s.transport.playing
    qtbot.keyClick(win.editor, keys.Key_X, Qt.KeyboardModifier.AltModifier)
    assert (s.transport.in_point, s.transport.out_point) == (0, N - 1)


def test_dragging_a_keyframe_diamond_retimes_it_in_one_step(qtbot, grad_window):
    win = grad_window()
    s, canvas = win.session, win.timeline.canvas
    s.set_key("grad", "level", 10, 0.8)
    n0 = s.undo_stack.count()
    a = canvas.key_pos("grad", "level", 10).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=a)
    for f in (11, 12, 14, 15):
        qtbot.mouseMove(canvas, QPoint(int(round(canvas.x_of(f))), a.y()))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(round(canvas.x_of(15))), a.y()))
    assert [k.frame for k in s.project.curve("grad", "level").keys] == [0, 15, N - 1]
    assert s.undo_stack.count() == n0 + 1
    assert s.project.curve("grad", "level").key_at(15).value == 0.8
    # onto another key: refused, the key stays where it was
    a = canvas.key_pos("grad", "level", 15).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(canvas, QPoint(int(round(canvas.x_of(N - 1))), a.y()))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(round(canvas.x_of(N - 1))), a.y()))
    assert [k.frame for k in s.project.curve("grad", "level").keys] == [0, 15, N - 1]
    assert s.undo_stack.count() == n0 + 1
    s.undo_stack.undo()
    assert [k.frame for k in s.project.curve("grad", "level").keys] == [0, 10, N - 1]


def test_the_cache_bar_fills_as_frames_are_rendered_in_the_background(qtbot, grad_window):
    win = grad_window(prefetch=True)
    s = win.session
    wait_for(lambda: s.frames.ready_mask().all())
    assert len(s.frames.ready_mask()) == N
    wait_for(lambda: f"{N}/{N} frames ready" in win.timeline.range_label.text())
    # an edit replaces the clip: the cache empties and fills again
    s.set_key("grad", "level", 3, 0.5)
    assert s.wait_idle(10)
    wait_for(lambda: s.frames.ready_mask().all())
    img = s.frames.image(3)
    assert image_to_array(img)[0, W - 1, 0] == round(0.5 * (W - 0.5) / W * 255)


def test_results_appear_as_their_own_track_and_can_be_viewed(qtbot, grad_window):
    win = grad_window()
    s, canvas = win.session, win.timeline.canvas
    frames = np.zeros((N, H, W, 3), np.float32)
    frames[..., 1] = 1.0  # green
    s.view.add_result("Generate #1", Clip.from_array(frames))
    assert [k for k, _ in canvas.rows()] == ["key", "result"]
    assert win.viewer.source.currentText() == "Result: Generate #1"
    wait_for(
        lambda: (
            win.viewer.grab_frame_image() is not None and image_to_array(win.viewer.grab_frame_image())[0, 0, 1] == 255
        )
    )
    win.viewer.source.setCurrentIndex(0)
    win.viewer.source.activated.emit(0)
    assert s.view.view_result is None
    wait_for(lambda: image_to_array(win.viewer.grab_frame_image())[0, 0, 1] != 255)
    # clicking the result's bar views it again
    y = int(canvas.row_top(1) + 10)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(canvas.x_of(5)), y))
    assert s.view.view_result == 0 and s.transport.playhead == 5


def test_viewer_zoom_fit_and_one_to_one(qtbot, grad_window):
    win = grad_window()
    v = win.viewer
    qtbot.mouseClick(v.one_button, Qt.MouseButton.LeftButton)
    assert v.view.zoom == pytest.approx(1.0) and v.zoom_label.text() == "100 %"
    qtbot.mouseClick(v.fit_button, Qt.MouseButton.LeftButton)
    vp = v.view.viewport()
    assert v.view.fit_mode and v.zoom_label.text() == "fit"
    r = v.view.mapFromScene(QRectF(0, 0, W, H)).boundingRect()
    assert vp.rect().contains(r) and (r.width() > vp.width() * 0.8 or r.height() > vp.height() * 0.8)


class Recorder(ViewerOverlay):
    instances: list[Recorder] = []

    def __init__(self, ctx):
        super().__init__()
        self.values = [ctx.value]
        self.frames = []
        Recorder.instances.append(self)

    def set_value(self, value):
        self.values.append(value)

    def set_frame(self, frame):
        self.frames.append(frame)
        super().set_frame(frame)

    def boundingRect(self):
        return QRectF(0, 0, *self.frame_size)

    def paint(self, painter, option, widget=None):
        i = min(self.frame, len(self.values[-1]) - 1)
        painter.setPen(self.cosmetic_pen("#ff0000", 2))
        for x0, y0, x1, y1 in self.values[-1][i]:
            painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))


def test_overlays_show_a_selected_nodes_outputs_in_image_pixels(qtbot, grad_window):
    Recorder.instances = []
    register_overlay("BOXES", Recorder)
    try:
        win = grad_window()
        s, v = win.session, win.viewer
        assert "BOXES" in s.view.overlay_types
        nid = s.add_node("Boxes", (0, 200))  # selected: its boxes are computed and shown over the picture
        assert s.wait_idle(10)
        ov = v.overlay(f"{nid}.boxes")
        assert isinstance(ov, Recorder) and ov.values[0].shape == (N, 2, 4)
        assert v.view.frame_item.size == (W, H) and ov.frame_size == (W, H)
        s.set_param(nid, "x", 20.0)
        assert s.wait_idle(10)
        assert len(Recorder.instances) == 1 and ov.values[-1][0, 0, 0] == 20.0  # updated in place
        s.transport.set_playhead(7)
        wait_for(lambda: win.viewer.shown_frame == 7)  # overlays follow the picture shown
        assert ov.frames[-1] == 7
        s.view.set_selection([])
        assert s.wait_idle(10)
        assert v.overlay(f"{nid}.boxes") is None
        qtbot.mouseClick(v.guides_button, Qt.MouseButton.LeftButton)
        assert v.overlay("guides") is not None and win.act_guides.isChecked()
    finally:
        unregister_overlay("BOXES")


def test_the_viewer_follows_the_selection_unless_a_node_is_pinned(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy)
    s, v, editor = win.session, win.viewer, win.editor
    assert s.view.view_target.ref == "cam.video"  # what the Export node writes
    s.view.set_selection(["photo"])
    assert s.wait_idle(10)
    wait_for(lambda: v.grab_frame_image() is not None and v.grab_frame_image().width() == 640)
    assert v.view.frame_item.size == (640, 427) and v.info.text().startswith("photo.image  ·  640×427")
    # double-click the camera node: pinned, the eye badge shows, selecting elsewhere keeps it
    center = editor.mapFromScene(editor.nodes["cam"].sceneBoundingRect().center())
    qtbot.mouseDClick(editor.viewport(), Qt.MouseButton.LeftButton, pos=center)
    assert s.view.pinned == "cam" and editor.nodes["cam"].viewed and editor.nodes["cam"].pinned
    s.view.set_selection(["photo"])
    assert s.view.view_target.ref == "cam.video" and v.pin_button.isChecked()
    qtbot.mouseClick(v.pin_button, Qt.MouseButton.LeftButton)
    assert s.view.pinned is None and s.view.view_target.ref == "photo.image"


def test_right_click_on_the_canvas_opens_the_palette_there(qtbot, window_factory):
    win = window_factory()
    editor = win.editor
    qtbot.mouseClick(editor.viewport(), Qt.MouseButton.RightButton, pos=QPoint(200, 120))
    assert editor.palette.isVisible()
    qtbot.keyClicks(editor.palette.search, "gradient")
    qtbot.keyClick(editor.palette.search, Qt.Key.Key_Return)
    node = win.session.project.node("gradient")
    at = editor.mapToScene(QPoint(200, 120))
    assert abs(node.position[0] - (at.x() - 10)) < 1 and abs(node.position[1] - (at.y() - 13)) < 1


def test_viewer_wheel_zooms_about_the_pointer_and_middle_drag_pans(qtbot, grad_window):
    from PySide6.QtGui import QGuiApplication, QWheelEvent

    win = grad_window()
    view = win.viewer.view
    vp = view.viewport()
    qtbot.waitUntil(lambda: view.frame_item.size[0] > 0, timeout=10000)
    assert view.fit_mode
    z0 = view.zoom
    at = QPointF(vp.width() / 3, vp.height() / 3)
    under = view.mapToScene(at.toPoint())
    ev = QWheelEvent(
        at,
        view.mapToGlobal(at.toPoint()).toPointF(),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QGuiApplication.sendEvent(vp, ev)
    assert view.zoom == pytest.approx(z0 * 1.0015**240, rel=1e-3) and not view.fit_mode
    after = view.mapToScene(at.toPoint())
    assert abs(after.x() - under.x()) <= 1.0 / view.zoom + 0.5 and abs(after.y() - under.y()) <= 1.0 / view.zoom + 0.5
    # a middle-button drag of 30 px to the right moves the picture with the pointer
    start = QPoint(vp.width() // 2, vp.height() // 2)
    before = view.mapToScene(start)
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(30, 0))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=start + QPoint(30, 0))
    moved = view.mapToScene(start)
    assert before.x() - moved.x() == pytest.approx(30 / view.zoom, abs=1.5 / view.zoom)


def test_a_playhead_move_repaints_only_its_strips_and_the_timeline_looks_as_repainted_whole(qtbot, window_factory):
    from uihelpers import KEN_BURNS

    win = window_factory(KEN_BURNS)
    s, canvas = win.session, win.timeline.canvas
    assert s.wait_idle(10)
    qtbot.wait(100)
    regions = []
    orig = canvas.paintEvent

    def spy(event):
        regions.extend(event.region())
        orig(event)

    canvas.paintEvent = spy
    for f in (12, 13, 40, 71, 5, 0, 12):  # the keys of cam lie on 0 and 71: their diamonds light up
        regions.clear()
        s.transport.set_playhead(f)
        qtbot.wait(5)
        # the strips under the old and the new playhead, and the cache bar as the new frame gets ready
        assert regions and all(r.width() < canvas.width() / 4 or r.height() <= 8 for r in regions), regions
    canvas.paintEvent = orig
    screen = win.windowHandle().screen()
    at = canvas.mapTo(win, QPoint(0, 0))

    def on_screen_as_whole() -> bool:  # what the strips left on screen is what a whole repaint draws
        shown = screen.grabWindow(win.winId(), at.x(), at.y(), canvas.width(), canvas.height()).toImage()
        return np.array_equal(image_to_array(shown), image_to_array(canvas.grab().toImage()))

    wait_for(on_screen_as_whole, 5)  # (the cache bar catches up with the frames rendered meanwhile)


def test_timeline_thumbnails_and_waveforms_are_made_off_the_gui_thread(qtbot, session_factory, tmp_path):
    """The first paint of a new Load Video does not wait for its decoder: it shows placeholder boxes while a
    decoder that blocks is still waiting, then the thumbnails and the waveform once it is let go; every decode
    ran on a worker thread."""
    import threading

    from PySide6.QtGui import QColor

    from vidstudio.ui.widgets.timeline import PLACEHOLDER, ROW, TimelineCanvas

    p = Project(settings={"width": 64, "height": 32, "fps": 24, "frame_count": 24})
    p.nodes.append(NodeInstance(id="take", type="LoadVideo", params={"path": str(tmp_path / "take.mp4")}))
    p.nodes.append(NodeInstance(id="voice", type="LoadAudio", params={"path": str(tmp_path / "voice.wav")}))
    s = session_factory(p)
    gate, calls = threading.Event(), []

    def thumbnailer(path, fps, trim_in, trim_out, count, height):
        calls.append(("thumbnails", threading.get_ident()))
        assert gate.wait(20)
        red = np.zeros((height, height * 16 // 9, 3), np.uint8)
        red[..., 0] = 230
        return 24, [(f, red) for f in sorted({round(k * 23 / max(count - 1, 1)) for k in range(count)})]

    def peaker(path, trim_in, trim_out, buckets):
        calls.append(("peaks", threading.get_ident()))
        assert gate.wait(20)
        if str(path).endswith("take.mp4"):  # a video without sound
            return 0.0, np.zeros((buckets, 2), np.float32)
        return 1.0, np.tile(np.float32([-0.9, 0.9]), (buckets, 1))

    s.previews.thumbnailer, s.previews.peaker = thumbnailer, peaker
    canvas = TimelineCanvas(s)
    qtbot.addWidget(canvas)
    canvas.resize(900, 160)
    rows = {obj: i for i, (kind, obj) in enumerate(canvas.rows()) if kind == "media"}
    assert list(rows) == ["take", "voice"]

    def colours(node: str, frames) -> list[QColor]:
        image = canvas.grab().toImage()
        y = int(canvas.row_top(rows[node]) + ROW / 2)
        return [image.pixelColor(int(canvas.x_of(f) + dx), y + dy) for f in frames for dx in (4, 8) for dy in (-4, 3)]

    try:
        before = colours("take", (0, 12, 23))  # returns while the decoder waits
        assert all(c.name() == PLACEHOLDER for c in before), {c.name() for c in before}
        qtbot.waitUntil(lambda: len(calls) > 0, timeout=5000)  # asked, on the worker
        assert not any(c.green() > 150 for c in colours("voice", range(0, 24, 3)))  # no waveform yet
        with qtbot.waitSignal(s.previews.changed, timeout=5000):  # the Timeline repaints on it
            gate.set()
        qtbot.waitUntil(lambda: all(c.red() > 200 and c.green() < 40 for c in colours("take", (0, 12, 23))))
        qtbot.waitUntil(lambda: any(c.green() > 150 and c.red() < 160 for c in colours("voice", range(0, 24, 3))))
        qtbot.waitUntil(lambda: s.previews.pending == 0)
    finally:
        gate.set()
    gui = threading.get_ident()
    assert {kind for kind, _ in calls} == {"thumbnails", "peaks"} and len(calls) == 3  # take: both; voice: peaks
    assert all(thread != gui for _, thread in calls)


def test_a_videos_sound_has_its_own_lane_under_its_thumbnails(qtbot, session_factory, tmp_path):
    """A Load Video whose file has sound gets a sound lane under its picture row (the waveform is not painted
    over the thumbnails, where it could not be read); a video without sound gets none."""
    from vidstudio.ui.widgets.timeline import ROW, TimelineCanvas

    p = Project(settings={"width": 64, "height": 32, "fps": 24, "frame_count": 24})
    p.nodes.append(NodeInstance(id="take", type="LoadVideo", params={"path": str(tmp_path / "take.mp4")}))
    p.nodes.append(NodeInstance(id="mute", type="LoadVideo", params={"path": str(tmp_path / "mute.mp4")}))
    s = session_factory(p)

    def thumbnailer(path, fps, trim_in, trim_out, count, height):
        red = np.zeros((height, height * 16 // 9, 3), np.uint8)
        red[..., 0] = 230
        return 24, [(f, red) for f in range(0, 24, 2)]  # thumbnails side by side over the whole clip

    def peaker(path, trim_in, trim_out, buckets):
        if str(path).endswith("mute.mp4"):
            return 0.0, np.zeros((buckets, 2), np.float32)
        return 1.0, np.tile(np.float32([-0.9, 0.9]), (buckets, 1))  # loud for the whole second

    s.previews.thumbnailer, s.previews.peaker = thumbnailer, peaker
    canvas = TimelineCanvas(s)
    qtbot.addWidget(canvas)
    canvas.resize(900, 200)
    canvas.grab()  # asks for the previews
    qtbot.waitUntil(lambda: s.previews.pending == 0 and len(canvas.rows()) == 3)
    assert canvas.rows() == [("media", "take"), ("sound", "take"), ("media", "mute")]
    image = canvas.grab().toImage()

    def row_pixels(index: int):
        top = int(canvas.row_top(index))
        return [
            image.pixelColor(x, y)
            for x in range(int(canvas.x_of(0)), int(canvas.x_of(20)), 3)
            for y in range(top + 3, top + int(ROW) - 3)
        ]

    def green(c) -> bool:
        return c.green() > 150 and c.red() < 160 and c.blue() < 160

    picture = row_pixels(0)
    assert not any(green(c) for c in picture)  # nothing over the thumbnails
    assert sum(c.red() > 200 and c.green() < 40 for c in picture) > len(picture) // 4  # the thumbnails
    top, x0, x1 = int(canvas.row_top(1)), int(canvas.x_of(0)), int(canvas.x_of(20))
    tall = [x for x in range(x0, x1) if sum(green(image.pixelColor(x, y)) for y in range(top + 2, top + 18)) >= 8]
    assert len(tall) > (x1 - x0) // 8, len(tall)  # a loud second: a peak every few pixels, most of the lane tall
    assert not any(green(c) for c in row_pixels(2))
