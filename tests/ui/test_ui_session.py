"""The session without widgets: undoable edits, drags as one step, evaluation off the GUI thread with the
engine's reasons, frames rendered on a worker (time and playback: test_ui_transport.py; selection and results:
test_ui_view_state.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from uihelpers import KEN_BURNS, wait_for
from vidstudio.project import dumps_project, load_project


@pytest.fixture
def kb_session(session_factory):
    s = session_factory(load_project(KEN_BURNS))
    assert s.wait_idle(10)
    return s


def test_every_edit_undoes_and_redoes_exactly(kb_session):
    s = kb_session
    original = dumps_project(s.project)
    nid = s.add_node("Gradient", (100, 300))
    s.set_param(nid, "level", 0.25)
    s.move_nodes({nid: (120.0, 330.0), "cam": (300.0, 20.0)})
    assert s.connect_ports(nid, "video", "export", "video").ok  # replaces cam -> export
    s.set_key("cam", "pan", 12, 40.0)
    s.set_title("cam", "Push in")
    s.set_settings(frame_count=60)
    s.remove_nodes(["photo"])
    edited = dumps_project(s.project)
    assert s.undo_stack.count() == 8 and s.is_dirty
    while s.undo_stack.canUndo():
        s.undo_stack.undo()
    assert dumps_project(s.project) == original
    while s.undo_stack.canRedo():
        s.undo_stack.redo()
    assert dumps_project(s.project) == edited
    assert [l.source for l in s.project.links_into("export")] == [f"{nid}.video"]


def test_a_drag_is_one_undo_step_and_separate_edits_are_not(kb_session):
    s = kb_session
    s.begin_interaction()
    for v in (0.1, 0.2, 0.3, 0.4):
        s.set_param("cam", "pan", v * 100)
    s.end_interaction()
    s.set_param("cam", "pan", 55.0)
    s.set_param("cam", "pan", 66.0)
    assert s.undo_stack.count() == 3
    s.undo_stack.undo()
    s.undo_stack.undo()
    assert s.project.node("cam").params["pan"] == 40.0
    s.undo_stack.undo()
    assert "pan" not in s.project.node("cam").params


def test_bad_values_are_refused_with_node_and_parameter_named(kb_session):
    s = kb_session
    with pytest.raises(ValueError, match=r"node 'cam' param 'zoom': 0 is below the minimum 0.05"):
        s.set_param("cam", "zoom", 0.0)
    with pytest.raises(ValueError, match=r"node 'cam' param 'fit': 'sideways' is not one of cover, contain, stretch"):
        s.set_param("cam", "fit", "sideways")
    with pytest.raises(ValueError, match="param 'fit' cannot be keyed"):
        s.set_key("cam", "fit", 3, 1.0)
    with pytest.raises(ValueError, match="setting 'frame_count'"):
        s.set_settings(frame_count=0)
    with pytest.raises(ValueError, match="unknown node type 'Nope'"):
        s.add_node("Nope")
    assert s.undo_stack.count() == 0


def test_evaluation_runs_off_the_gui_thread_and_says_why_nodes_ran(kb_session, monkeypatch):
    s = kb_session
    assert s.evaluation.last_result.error is None and s.evaluation.last_result.clip.shape == (72, 512, 768, 3)
    assert s.evaluation.node_status["photo"].status == "ran"
    threads = []
    engine_run = s.engine.run

    def spy(*a, **k):
        threads.append(threading.current_thread().name)
        return engine_run(*a, **k)

    monkeypatch.setattr(s.engine, "run", spy)
    s.set_param("cam", "fit", "contain")
    assert s.wait_idle(10)
    assert threads == ["vidstudio-evaluator"]
    assert s.evaluation.node_status["photo"].status == "cached"
    assert s.evaluation.node_status["cam"].reasons == ["parameter 'fit' changed"]
    s.set_key("cam", "zoom", 30, 2.0)
    assert s.wait_idle(10)
    assert s.evaluation.node_status["cam"].reasons == ["animation of 'zoom' changed"]


def test_problems_are_reported_per_node_and_the_picture_is_withheld(kb_session):
    s = kb_session
    s.set_param("photo", "path", "")
    assert s.wait_idle(10)
    issues = s.evaluation.node_issues("photo")
    assert [str(i) for i in issues] == ["node 'photo' param 'path': no image file chosen"]
    assert s.evaluation.last_result.clip is None and "no image file chosen" in s.evaluation.last_result.error
    s.set_param("photo", "path", "assets/missing.png")
    assert s.wait_idle(10)
    assert "image file not found" in s.evaluation.node_issues("photo")[0].message


def test_frames_render_on_a_worker_and_match_the_clip(kb_session):
    s = kb_session
    s.transport.set_playhead(40)
    wait_for(lambda: s.frames.image(40) is not None)
    from uihelpers import image_to_array

    got = image_to_array(s.frames.image(40)).astype(int)
    want = np.round(s.evaluation.last_result.clip.frame(40) * 255).astype(int)
    assert np.abs(got - want).max() <= 1


def test_keys_toggle_and_the_last_key_leaves_the_value(kb_session):
    s = kb_session
    s.transport.set_playhead(10)
    assert s.toggle_key("cam", "pan", 10) is True
    assert s.project.curve("cam", "pan").key_at(10).value == 0.0
    s.set_key("cam", "pan", 10, 25.0)
    assert s.toggle_key("cam", "pan", 10) is False
    assert s.project.curve("cam", "pan") is None and s.project.node("cam").params["pan"] == 25.0
    assert s.move_key("cam", "zoom", 0, 71) is False  # occupied: refused, nothing changes
    assert s.move_key("cam", "zoom", 0, 5) is True
    assert [k.frame for k in s.project.curve("cam", "zoom").keys] == [5, 71]
    s.set_key_fields("cam", "zoom", 5, interpolation="linear")
    assert s.project.curve("cam", "zoom").keys[0].interpolation == "linear"


def test_dirty_changed_says_only_real_changes(kb_session):
    s = kb_session
    said = []
    s.dirty_changed.connect(said.append)
    s.mark_saved()  # clean already: nothing to say
    nid = s.add_node("Gradient", (0, 0))
    s.set_param(nid, "level", 0.5)  # still dirty
    assert said == [True] and s.is_dirty
    s.undo_stack.undo()
    s.undo_stack.undo()
    assert said == [True, False] and not s.is_dirty
    s.mark_dirty()
    s.mark_dirty()
    s.set_project(load_project(KEN_BURNS), dirty=True)
    assert said == [True, False, True]
    s.mark_saved()
    assert said == [True, False, True, False]
