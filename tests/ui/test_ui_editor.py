"""The node editor driven as a user would: palette, linking by dragging, refused links, keyboard editing,
undo/redo, copy and paste between windows, drops, and what each node says about itself."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication

from uihelpers import ASSETS, drop_files
from vidstudio.project import dumps_project


def port_pos(editor, node_id: str, port: str, output: bool) -> QPoint:
    item = editor.nodes[node_id]
    p = (item.outputs if output else item.inputs)[port]
    return editor.mapFromScene(p.scene_center())


def drag(qtbot, widget, a: QPoint, b: QPoint, steps: int = 4) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, steps + 1):
        qtbot.mouseMove(widget, QPoint(a.x() + (b.x() - a.x()) * k // steps, a.y() + (b.y() - a.y()) * k // steps))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def add_with_palette(qtbot, win, query: str, at: QPoint) -> str:
    editor = win.editor
    qtbot.mouseMove(editor.viewport(), at)
    editor.setFocus()
    before = set(win.session.project.iter_ids())
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    pal = editor.palette
    assert pal.isVisible()
    qtbot.keyClicks(pal.search, query)
    qtbot.keyClick(pal.search, Qt.Key.Key_Return)
    assert not pal.isVisible()
    (new,) = set(win.session.project.iter_ids()) - before
    return new


def activate(qtbot, win):
    win.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is not None)


def test_build_a_graph_link_by_dragging_refuse_a_wrong_link_undo_and_redo(qtbot, window_factory, tmp_path):
    win = window_factory()
    activate(qtbot, win)
    s, editor = win.session, win.editor
    vp = editor.viewport()
    img = add_with_palette(qtbot, win, "load image", QPoint(120, 120))
    cam = add_with_palette(qtbot, win, "camera move", QPoint(420, 120))
    exp = add_with_palette(qtbot, win, "export", QPoint(720, 120))
    assert (img, cam, exp) == ("load_image", "camera_move", "export_video")
    assert [n.type for n in s.project.nodes] == ["LoadImage", "CameraMove", "ExportVideo"]
    assert s.undo_stack.count() == 3
    # the palette lists what the registry declares (a test node type included) and filters by words
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert {"LoadImage", "CameraMove", "ExportVideo", "Gradient", "Everything"} <= set(editor.palette.visible_types())
    qtbot.keyClicks(editor.palette.search, "ken burns")
    assert editor.palette.visible_types() == ["CameraMove"]
    qtbot.keyClick(editor.palette.search, Qt.Key.Key_Escape)

    # a wrong link is refused and says why where it was dropped, and in the status bar
    drag(qtbot, vp, port_pos(editor, img, "image", True), port_pos(editor, exp, "video", False))
    assert s.project.links == []
    reason = "cannot link load_image.image -> export_video.video: an IMAGE output cannot feed a VIDEO input"
    assert editor.messages == [reason]
    assert win.statusBar().currentMessage() == reason

    # right links by dragging, from output to input and from input back to output
    drag(qtbot, vp, port_pos(editor, img, "image", True), port_pos(editor, cam, "image", False))
    drag(qtbot, vp, port_pos(editor, exp, "video", False), port_pos(editor, cam, "video", True))
    assert sorted((l.source, l.target) for l in s.project.links) == [
        ("camera_move.video", "export_video.video"),
        ("load_image.image", "camera_move.image"),
    ]
    assert len(editor.links) == 2

    s.view.set_selection([img])
    editor.setFocus()
    chosen = str(ASSETS / "rocket.png")
    win.inspector.row("path").editor.choose(chosen)
    assert s.project.node(img).params["path"].endswith("rocket.png")
    full = dumps_project(s.project)
    n = s.undo_stack.count()

    # undo everything with the keyboard, then redo it
    for _ in range(n):
        qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.project.nodes == [] and not s.undo_stack.canUndo()
    assert editor.nodes == {}
    for _ in range(n):
        qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert dumps_project(s.project) == full
    assert set(editor.nodes) == {img, cam, exp} and len(editor.links) == 2


def test_dragging_a_linked_input_away_removes_the_link_and_drop_on_empty_space_offers_nodes(
    qtbot, window_factory, ken_burns_copy
):
    win = window_factory(ken_burns_copy)
    s, editor, vp = win.session, win.editor, win.editor.viewport()
    a = port_pos(editor, "export", "video", False)
    drag(qtbot, vp, a, a + QPoint(0, 160))
    assert s.project.links_into("export") == []
    s.undo_stack.undo()
    assert [l.source for l in s.project.links_into("export")] == ["cam.video"]
    # from an output into empty space: the palette lists only types that take a VIDEO
    drag(qtbot, vp, port_pos(editor, "cam", "video", True), port_pos(editor, "cam", "video", True) + QPoint(60, 220))
    pal = editor.palette
    assert pal.isVisible()
    offered = set(pal.visible_types())
    assert {"ExportVideo", "Everything"} <= offered
    # only node types with an input that takes the dragged VIDEO output are offered
    takes_video = {t for t in offered if any(str(i.type) in ("VIDEO", "ANY") for i in s.registry.get(t).inputs)}
    assert takes_video == offered and "LoadImage" not in offered
    qtbot.keyClicks(pal.search, "export")
    qtbot.keyClick(pal.search, Qt.Key.Key_Return)
    assert [l.target for l in s.project.links_from("cam", "video")] == ["export.video", "export_video.video"]
    s.undo_stack.undo()  # node and link are one step
    assert not s.project.has_node("export_video")
    assert [l.target for l in s.project.links_from("cam", "video")] == ["export.video"]


def test_select_move_delete_duplicate_with_mouse_and_keys(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy)
    activate(qtbot, win)
    s, editor, vp = win.session, win.editor, win.editor.viewport()
    # box select the first two nodes by dragging on empty canvas
    r_photo = editor.mapFromScene(editor.nodes["photo"].sceneBoundingRect()).boundingRect()
    r_cam = editor.mapFromScene(editor.nodes["cam"].sceneBoundingRect()).boundingRect()
    drag(qtbot, vp, r_photo.topLeft() - QPoint(15, 15), r_cam.bottomRight() + QPoint(5, 5))
    assert s.view.selection == ("photo", "cam")
    # move them by dragging one: one undo step
    before = {n: tuple(s.project.node(n).position) for n in ("photo", "cam")}
    grab = editor.mapFromScene(editor.nodes["photo"].sceneBoundingRect().center())
    n0 = s.undo_stack.count()
    drag(qtbot, vp, grab, grab + QPoint(40, 30), steps=6)
    assert s.undo_stack.count() == n0 + 1
    z = editor.zoom
    for nid in ("photo", "cam"):
        x, y = s.project.node(nid).position
        assert (x - before[nid][0]) == pytest.approx(40 / z, abs=1.5) and (y - before[nid][1]) == pytest.approx(
            30 / z, abs=1.5
        )
    # duplicate keeps the link between the copies; delete removes them again
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert s.view.selection == ("photo_2", "cam_2")
    assert [l.source for l in s.project.links_into("cam_2")] == ["photo_2.image"]
    assert s.project.curve("cam_2", "zoom") == s.project.curve("cam", "zoom")
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    assert not s.project.has_node("photo_2") and not s.project.has_node("cam_2")
    # F frames everything
    editor.zoom_by(4.0)
    qtbot.keyClick(editor, Qt.Key.Key_F)
    for item in editor.nodes.values():
        assert editor.viewport().rect().contains(editor.mapFromScene(item.sceneBoundingRect()).boundingRect())


def test_copy_and_paste_between_windows_through_the_clipboard(qtbot, window_factory, ken_burns_copy):
    a = window_factory(ken_burns_copy)
    b = window_factory()
    a.session.view.set_selection(["photo", "cam"])
    assert a.editor.copy_selected()
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasText() and '"vidstudio_clipboard": 1' in mime.text()
    ids = b.editor.paste()
    assert ids == ["photo", "cam"]
    sb = b.session
    assert [l.source for l in sb.project.links] == ["photo.image"]
    assert sorted(sb.project.animation) == ["cam.roll", "cam.tilt", "cam.zoom"]
    # window b's project has no folder: the image path became absolute and still finds the file
    assert sb.wait_idle(10)
    assert sb.evaluation.last_result.error is None and sb.view.view_target.ref == "cam.video"
    # pasting plain text that is not a project says so
    QGuiApplication.clipboard().setText("not nodes")
    assert b.editor.paste() == []
    assert "cannot paste" in b.statusBar().currentMessage()


def test_dropping_images_makes_load_image_nodes(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy)
    s = win.session
    extra = ken_burns_copy.parent / "assets" / "chelsea.png"
    assert drop_files(win.editor.viewport(), [extra, ASSETS / "coffee.png"])
    new = [n for n in s.project.nodes if n.id not in ("photo", "cam", "export")]
    assert [(n.type, n.id) for n in new] == [("LoadImage", "chelsea"), ("LoadImage", "coffee")]
    assert new[0].params["path"] == "assets/chelsea.png"  # inside the project folder: relative
    assert new[1].params["path"] == str((ASSETS / "coffee.png").resolve())
    assert s.undo_stack.undoText() == "Drop 2 images"


def test_nodes_show_their_problems_and_whether_they_came_from_the_cache(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy)
    s, editor = win.session, win.editor
    text, _color, _tip = editor.nodes["cam"].status_text()
    assert text == "● ran: first run (nothing cached yet)"
    assert editor.nodes["export"].status_text()[0] == "not evaluated"
    s.set_param("cam", "pan", 5.0)
    assert s.wait_idle(10)
    assert editor.nodes["photo"].status_text()[0] == "● cached"
    assert editor.nodes["cam"].status_text()[0] == "● ran: parameter 'pan' changed"
    s.set_param("cam", "roll", 5.0)  # keyed: the static value does not matter, nothing runs again
    assert s.wait_idle(10)
    assert editor.nodes["cam"].status_text()[0] == "● cached"
    s.set_param("photo", "path", "assets/none.png")
    assert s.wait_idle(10)
    text, color, tip = editor.nodes["photo"].status_text()
    assert text.startswith("⚠ ") and "image file not found" in text and color == "#e05252"
    assert "assets/none.png" in win.viewer.view.message
    # an unknown node type keeps its data and shows why it cannot be used
    from vidstudio.graph.model import NodeInstance

    p = s.project.copy_document()
    p.nodes.append(NodeInstance(id="ghost", type="someplugin.Blur", params={"radius": 3}))
    s.set_project(p)
    assert s.wait_idle(10)
    ghost = editor.nodes["ghost"]
    assert not ghost.available and ghost.status_text()[0] == "⚠ type unavailable"
    assert s.project.node("ghost").params == {"radius": 3}


def test_trackpad_scroll_pans_and_wheel_zooms(qtbot, window_factory, ken_burns_copy):
    from PySide6.QtGui import QWheelEvent

    win = window_factory(ken_burns_copy)
    editor = win.editor
    vp = editor.viewport()
    z0 = editor.zoom
    center = QPointF(vp.width() / 2, vp.height() / 2)

    def wheel(angle: int, pixel: QPoint = QPoint(0, 0)) -> None:
        ev = QWheelEvent(
            center,
            editor.mapToGlobal(center.toPoint()).toPointF(),
            pixel,
            QPoint(0, angle),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QGuiApplication.sendEvent(vp, ev)

    wheel(120)
    assert editor.zoom == pytest.approx(z0 * 1.0015**120, rel=1e-3)
    before = editor.mapToScene(vp.rect().center())
    wheel(0, QPoint(0, -40))
    after = editor.mapToScene(vp.rect().center())
    assert editor.zoom == pytest.approx(z0 * 1.0015**120, rel=1e-3)
    assert after.y() - before.y() == pytest.approx(40 / editor.zoom, abs=2)


def test_dropping_videos_and_sound_files_makes_load_video_and_load_audio_nodes(qtbot, window_factory, ken_burns_copy):
    import subprocess

    from vidstudio.media.video import ffmpeg_exe

    win = window_factory(ken_burns_copy)
    s = win.session
    take, sound = ken_burns_copy.parent / "take.webm", ken_burns_copy.parent / "voice.wav"
    for args in (
        ["-f", "lavfi", "-i", "testsrc2=size=32x32:rate=8", "-c:v", "libvpx-vp9", str(take)],
        ["-f", "lavfi", "-i", "sine=frequency=330", str(sound)],
    ):
        subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-t", "0.5", *args], check=True, timeout=60
        )
    assert drop_files(win.editor.viewport(), [take])
    assert drop_files(win.centralWidget().parentWidget(), [sound])  # anywhere on the window, e.g. the Timeline
    new = [n for n in s.project.nodes if n.id not in ("photo", "cam", "export")]
    assert [(n.type, n.id, n.params["path"]) for n in new] == [
        ("LoadVideo", "take", "take.webm"),
        ("LoadAudio", "voice", "voice.wav"),
    ]
    assert s.undo_stack.undoText() == "Drop sound file"
    # The Timeline shows both as media tracks: the video's thumbnails and the sound's waveform are painted.
    canvas = win.timeline.canvas
    media = [(i, obj) for i, (kind, obj) in enumerate(canvas.rows()) if kind == "media"]
    assert [obj for _i, obj in media] == ["take", "voice"]
    canvas.set_row_offset(0)
    size = (900, int(canvas.row_top(len(canvas.rows())) + 10))
    canvas.resize(*size)
    canvas.grab()  # asks for the thumbnails and peaks, which a worker makes
    qtbot.waitUntil(lambda: s.previews.pending == 0, timeout=20000)
    canvas.resize(*size)  # (the window's layout may have sized it back meanwhile)
    image = canvas.grab().toImage()
    for (i, obj), wanted in zip(media, ("thumbnail", "waveform"), strict=True):
        y = int(canvas.row_top(i) + 10)
        px = [image.pixelColor(x, y) for x in range(int(canvas.x_of(0)), int(canvas.x_of(3)))]
        if wanted == "thumbnail":  # testsrc2's saturated colours, not the grey band or a message
            assert any(max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()) > 100 for c in px), obj
        else:
            assert any(c.green() > 150 and c.red() < 160 and c.blue() < 160 for c in px), obj
