"""The view state without widgets: selection, pin, what the Viewer shows and result tracks, emitting only on a
real change."""

from __future__ import annotations

import numpy as np
import pytest

from uihelpers import KEN_BURNS
from vidstudio.media.clip import as_clip
from vidstudio.project import load_project


@pytest.fixture
def kb_session(session_factory):
    s = session_factory(load_project(KEN_BURNS))
    assert s.wait_idle(10)
    return s


def _record(view):
    seen: list[str] = []
    view.selection_changed.connect(lambda: seen.append("selection"))
    view.view_changed.connect(lambda: seen.append("view"))
    view.results_changed.connect(lambda: seen.append("results"))
    return seen


def test_selection_and_pin_decide_what_is_viewed(kb_session):
    s = kb_session
    v = s.view
    assert v.view_target.ref == "cam.video" and v.view_camera is not None
    seen = _record(v)
    v.set_selection(["photo", "nope", "photo"])
    v.set_selection(["photo"])  # the same again: nothing
    assert v.selection == ("photo",) and seen == ["selection", "view"] and v.view_target.ref == "photo.image"
    assert s.evaluation.evaluating  # a new picture was asked for
    assert s.wait_idle(10) and s.evaluation.last_result.view.ref == "photo.image"
    seen.clear()
    v.pin_view("cam")
    v.set_selection(["photo"])
    v.set_selection([])
    assert v.pinned == "cam" and v.view_target.ref == "cam.video" and seen == ["view", "selection"]
    seen.clear()
    s.remove_nodes(["cam"])  # the pinned node goes: the pin goes with it
    assert v.pinned is None and seen == ["view"] and v.view_target is None
    s.undo_stack.undo()
    v.set_selection(["cam", "photo"])
    seen.clear()
    s.remove_nodes(["photo"])  # a selected node goes: the selection drops it
    assert v.selection == ("cam",) and seen[0] == "selection"


def test_result_tracks_are_viewed_instead_of_the_graph(kb_session):
    s = kb_session
    v = s.view
    seen = _record(v)
    graph_clip = s.frames.clip
    red = as_clip(np.full((4, 8, 8, 3), (1.0, 0.0, 0.0), np.float32))
    blue = as_clip(np.full((4, 8, 8, 3), (0.0, 0.0, 1.0), np.float32))
    assert v.add_result("red", red) == 0 and v.add_result("blue", blue, show=False) == 1
    assert v.view_result == 0 and s.frames.clip is red and seen == ["results", "view", "results"]
    with pytest.raises(IndexError, match="no result #5"):
        v.set_view_result(5)
    v.set_view_result(1)
    assert s.frames.clip is blue
    v.remove_result(0)  # the viewed one moves down by one
    assert v.view_result == 0 and s.frames.clip is blue and [r.label for r in v.results] == ["blue"]
    v.remove_result(0)  # the viewed one goes: back to the graph's picture
    assert v.view_result is None and s.frames.clip is graph_clip
    seen.clear()
    s.set_project(load_project(KEN_BURNS))
    assert seen == ["view"] and v.results == [] and v.selection == ()
