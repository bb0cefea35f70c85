"""Never losing work: save, save as, open, recent files, the unsaved-changes prompt, autosave and recovery,
drops of projects and VidStudio MP4s, and the persisted layout."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import Qt

from uihelpers import ScriptedPrompts, drop_files, wait_for
from vidstudio.media import write_video
from vidstudio.project import Project, embeddable_json, load_project, recovery_path, write_recovery


def test_save_marks_clean_and_save_as_rebases_paths(qtbot, window_factory, ken_burns_copy, tmp_path):
    prompts = ScriptedPrompts()
    win = window_factory(ken_burns_copy, prompts=prompts)
    s = win.session
    s.set_param("cam", "pan", 12.0)
    assert s.is_dirty and win.isWindowModified()
    with qtbot.waitSignal(win.saved, timeout=10000):
        qtbot.keyClick(win.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not s.is_dirty and not win.isWindowModified()
    assert load_project(ken_burns_copy).node("cam").params["pan"] == 12.0
    assert (ken_burns_copy.parent / "ken_burns.vidproj.bak").exists()

    other = tmp_path / "elsewhere" / "copy.vidproj"
    prompts.save_as = str(other)
    with qtbot.waitSignal(win.saved, timeout=10000):
        qtbot.keyClick(
            win.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
    assert s.project.path == other.resolve() and win.windowTitle().startswith("copy.vidproj")
    assert s.project.node("photo").params["path"] == "../proj/assets/rocket.png"
    reopened = load_project(other)
    assert (other.parent / reopened.node("photo").params["path"]).resolve() == (
        ken_burns_copy.parent / "assets" / "rocket.png"
    ).resolve()
    assert not s.is_dirty and "undo history cleared" in win.statusBar().currentMessage()
    assert s.wait_idle(10) and s.evaluation.last_result.error is None  # the picture still finds its file
    assert win.recent_files()[:2] == [str(other.resolve()), str(ken_burns_copy.resolve())]


def test_unsaved_changes_prompt_on_close_and_new(qtbot, window_factory, ken_burns_copy):
    prompts = ScriptedPrompts(unsaved="cancel")
    win = window_factory(ken_burns_copy, prompts=prompts)
    s = win.session
    s.set_param("cam", "pan", 5.0)
    win.close()
    assert win.isVisible() and prompts.asked == [("unsaved", "ken_burns.vidproj")]
    win.new_project()
    assert s.project.has_node("cam")  # cancelled: nothing replaced
    prompts.unsaved = "save"  # New: saves first, then starts the new project
    with qtbot.waitSignal(win.saved, timeout=10000):
        win.new_project()
    assert s.project.nodes == [] and not s.is_dirty
    assert load_project(ken_burns_copy).node("cam").params["pan"] == 5.0
    with qtbot.waitSignal(win.opened, timeout=10000):
        win.open_path(str(ken_burns_copy))
    s.set_param("cam", "pan", 6.0)
    with qtbot.waitSignal(win.saved, timeout=10000):
        win.close()
    wait_for(lambda: not win.isVisible())
    assert load_project(ken_burns_copy).node("cam").params["pan"] == 6.0


def test_autosave_after_the_first_edit_waits_for_drags_and_recovers(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy, autosave_ms=150)
    s = win.session
    rec = recovery_path(ken_burns_copy)
    s.begin_interaction()
    s.set_param("cam", "pan", 30.0, merge="drag")
    qtbot.wait(400)
    assert not rec.exists() and win.autosaver.pending  # never in the middle of a drag
    with qtbot.waitSignal(win.autosaver.autosaved, timeout=5000):
        s.set_param("cam", "pan", 31.0, merge="drag")
        s.end_interaction()
    data = json.loads(rec.read_text())
    assert data["recovery"]["project_path"] == str(ken_burns_copy.resolve())
    assert [n for n in data["nodes"] if n["id"] == "cam"][0]["params"]["pan"] == 31.0
    # the process dies: no deliberate close, the recovery file stays
    win.shutdown()
    assert rec.exists()

    prompts = ScriptedPrompts(recovery="recover")
    win2 = window_factory(prompts=prompts)
    with qtbot.waitSignal(win2.opened, timeout=10000):
        win2.open_path(str(ken_burns_copy), ask=False)
    assert prompts.asked[0][0] == "recovery"
    s2 = win2.session
    assert s2.project.node("cam").params["pan"] == 31.0 and s2.is_dirty
    assert s2.project.path == ken_burns_copy.resolve()  # Save writes to the original file
    with qtbot.waitSignal(win2.saved, timeout=10000):
        win2.save()
    wait_for(lambda: not rec.exists())
    assert load_project(ken_burns_copy).node("cam").params["pan"] == 31.0


def test_a_save_during_an_autosave_write_leaves_no_recovery_file(qtbot, window_factory, ken_burns_copy, monkeypatch):
    # The recovery write and the deletion after a save run on different worker threads; the deletion must
    # come after the write, else a stale recovery file is offered at the next open.
    import threading

    import vidstudio.ui.state.autosave as autosave

    release, writing = threading.Event(), threading.Event()

    def slow_write(doc, session_name):
        writing.set()
        release.wait(20)
        return write_recovery(doc, session_name)

    monkeypatch.setattr(autosave, "write_recovery", slow_write)
    win = window_factory(ken_burns_copy)
    s = win.session
    rec = recovery_path(ken_burns_copy)
    s.set_param("cam", "pan", 21.0)
    assert win.autosaver.write_now()
    assert writing.wait(10)
    with qtbot.waitSignal(win.saved, timeout=10000):
        win.save()
    assert not rec.exists()
    release.set()
    wait_for(lambda: win.runner.pending == 0, qtbot=qtbot)
    assert not rec.exists() and win.autosaver.last_path is None
    assert load_project(ken_burns_copy).node("cam").params["pan"] == 21.0


def test_an_untitled_session_is_offered_back_at_start(qtbot, window_factory, registry):
    lost = Project()
    from vidstudio.graph.model import NodeInstance

    lost.nodes.append(NodeInstance(id="g", type="Gradient"))
    path = write_recovery(lost, "untitled-crashed")
    prompts = ScriptedPrompts(recovery="recover")
    win = window_factory(prompts=prompts)
    with qtbot.waitSignal(win.opened, timeout=10000):
        win.check_untitled_recovery()
    assert [n.id for n in win.session.project.nodes] == ["g"] and win.session.is_dirty
    assert win.autosaver.session_name == "untitled-crashed"
    win.autosaver.write_now()
    wait_for(lambda: win.runner.pending == 0)
    assert path.exists()  # the same file keeps protecting it


def test_the_autosave_of_another_running_window_is_not_offered(qtbot, window_factory):
    import os

    from vidstudio.graph.model import NodeInstance

    live = Project()
    live.nodes.append(NodeInstance(id="g", type="Gradient"))
    write_recovery(live, f"untitled-{os.getppid()}-abc")  # a process that is alive: the test runner's parent
    prompts = ScriptedPrompts(recovery="recover")
    win = window_factory(prompts=prompts)
    win.check_untitled_recovery()
    wait_for(lambda: win.runner.pending == 0)
    assert prompts.asked == [] and win.session.project.nodes == []


def test_dropping_a_project_or_a_vidstudio_mp4_opens_it(qtbot, window_factory, ken_burns_copy, tmp_path):
    win = window_factory(prompts=ScriptedPrompts(unsaved="discard"))
    with qtbot.waitSignal(win.opened, timeout=10000):
        assert drop_files(win.editor.viewport(), [ken_burns_copy])
    assert win.session.project.path == ken_burns_copy.resolve()
    p = load_project(ken_burns_copy)
    p.settings.frame_count = 3
    mp4 = tmp_path / "rendered.mp4"
    write_video(np.zeros((3, 32, 32, 3), np.float32), mp4, 24, project_json=embeddable_json(p))
    with qtbot.waitSignal(win.opened, timeout=10000):
        assert drop_files(win.centralWidget().parentWidget(), [mp4])
    s = win.session
    assert s.project.path is None and s.settings.frame_count == 3 and s.project.has_node("cam")
    assert s.wait_idle(10) and s.evaluation.last_result.error is None  # paths resolve against the original folder
    assert win.windowTitle().startswith("Untitled (from video)")


def test_a_file_that_will_not_open_is_reported_by_name(qtbot, window_factory, tmp_path):
    prompts = ScriptedPrompts()
    win = window_factory(prompts=prompts)
    bad = tmp_path / "broken.vidproj"
    bad.write_text('{"format_version": 1, "nodes": [{"id": "a"}]}')
    with qtbot.waitSignal(win.open_failed, timeout=10000):
        win.open_path(str(bad), ask=False)
    title, text = prompts.errors[0]
    assert title == "Cannot open the project" and "broken.vidproj" in text and "$.nodes[0].type" in text


def test_layout_and_recent_files_persist(qtbot, window_factory, ken_burns_copy):
    win = window_factory(ken_burns_copy)
    win.docks["jobs"].hide()
    win.resize(1300, 800)
    win.close()
    win2 = window_factory()
    assert not win2.docks["jobs"].isVisible() and win2.docks["viewer"].isVisible()
    assert win2.recent_files() == [str(ken_burns_copy.resolve())]
    assert [a.text() for a in win2.recent_menu.actions()][0] == "1  ken_burns.vidproj"
    win2.default_layout()
    assert win2.docks["jobs"].isVisible()
