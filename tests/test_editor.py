"""The Qt-free document editor: edits, undo and redo restore the document exactly, drags merge into one step,
and a GUI undo stack can own the history through ``push``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidstudio.nodes import default_registry
from vidstudio.project import dumps_project, load_project
from vidstudio.project.editor import DocumentEditor, Edit

KEN_BURNS = Path(__file__).resolve().parents[1] / "resources" / "examples" / "ken_burns.vidproj"


@pytest.fixture
def ed():
    return DocumentEditor(load_project(KEN_BURNS), default_registry())


def test_edits_undo_and_redo_restore_the_document_exactly(ed):
    original = dumps_project(ed.project)
    changes = []
    ed.on_change.append(changes.append)
    nid = ed.add_node("ColorGrade", (500, 0))
    assert nid == "color_grade" and ed.project.node(nid).type == "ColorGrade"
    assert changes[-1].added == {nid} and not changes[-1].layout_only
    ed.connect_ports("cam", "video", nid, "video")
    ed.set_param("cam", "fit", "contain")
    ed.set_key("cam", "pan", 10, 0.25)
    ed.set_settings(fps=30)
    assert ed.project.settings.fps == 30 and ed.project.node("cam").params["fit"] == "contain"
    assert ed.project.curve("cam", "pan").value_at(10) == pytest.approx(0.25)
    edited = dumps_project(ed.project)
    assert [e.text for e in ed.history] == [
        "Add Color Grade",
        "Link cam.video → color_grade.video",
        "Set cam fit",
        "Key cam pan at frame 10",
        "Change project settings",
    ]
    while ed.can_undo:
        ed.undo()
    assert dumps_project(ed.project) == original
    assert changes[-1].added == frozenset() and changes[-1].removed == {nid}
    while ed.can_redo:
        ed.redo()
    assert dumps_project(ed.project) == edited


def test_removing_a_node_takes_its_links_and_curves_and_undo_puts_it_back_in_place(ed):
    order = list(ed.project.iter_ids())
    assert ed.remove_nodes(["cam", "ghost"]) == ["cam"]
    assert not ed.project.has_node("cam") and ed.project.links == []
    assert not [k for k in ed.project.animation if k.startswith("cam.")]
    ed.undo()
    assert list(ed.project.iter_ids()) == order
    assert sorted(k for k in ed.project.animation if k.startswith("cam.")) == ["cam.roll", "cam.tilt", "cam.zoom"]
    links = [(l.source, l.target) for l in ed.project.links]
    assert links == [("photo.image", "cam.image"), ("cam.video", "export.video")]


def test_a_drag_inside_an_interaction_is_one_undo_step_and_outside_every_edit_is_its_own(ed):
    before = ed.project.node("cam").params.get("pan")
    ed.begin_interaction()
    for v in (0.1, 0.2, 0.3):
        ed.set_param("cam", "pan", v)
    assert ed.end_interaction() is True
    assert len(ed.history) == 1 and ed.project.node("cam").params["pan"] == 0.3
    ed.undo()
    assert ed.project.node("cam").params.get("pan") == before
    ed.redo()
    ed.set_param("cam", "pan", 0.4)
    ed.set_param("cam", "pan", 0.5)
    assert len(ed.history) == 3  # the drag, then two separate edits
    # a second drag does not merge into the first
    ed.begin_interaction()
    ed.set_param("cam", "pan", 0.6)
    ed.end_interaction()
    ed.begin_interaction()
    ed.set_param("cam", "pan", 0.7)
    ed.end_interaction()
    assert len(ed.history) == 5


def test_refused_and_invalid_edits_change_nothing(ed):
    text = dumps_project(ed.project)
    check = ed.connect_ports("photo", "image", "export", "video")
    assert not check.ok and "an IMAGE output cannot feed a VIDEO input" in check.reason
    with pytest.raises(ValueError, match="node 'cam' param 'zoom'"):
        ed.set_param("cam", "zoom", "very")
    with pytest.raises(ValueError, match="no node type 'Nope'|Nope"):
        ed.add_node("Nope")
    with pytest.raises(ValueError, match="cannot be keyed"):
        ed.set_key("cam", "fit", 0, 1.0)
    with pytest.raises(KeyError, match="no key on frame 3"):
        ed.remove_key("cam", "zoom", 3)
    with pytest.raises(ValueError, match="no project setting 'colour'"):
        ed.set_settings(colour=1)
    with pytest.raises(ValueError, match="setting 'fps'"):
        ed.set_settings(fps=-1)
    assert dumps_project(ed.project) == text and ed.history == []


def test_removing_the_last_key_leaves_the_parameter_static_at_its_value(ed):
    ed.set_key("cam", "pan", 12, 0.4)
    assert ed.project.curve("cam", "pan") is not None
    ed.remove_key("cam", "pan", 12)
    assert ed.project.curve("cam", "pan") is None and ed.project.node("cam").params["pan"] == 0.4
    ed.undo()
    assert ed.project.curve("cam", "pan").keys[0].frame == 12 and "pan" not in ed.project.node("cam").params


def test_a_gui_undo_stack_owns_the_history_through_push(ed):
    """What a QUndoStack does: it receives the edit, calls redo (apply after) at once, undo applies before and
    consecutive commands merge through Edit.absorb."""
    stack: list[Edit] = []

    def push(edit: Edit) -> None:
        ed.apply(edit.after)  # QUndoStack.push calls redo()
        if stack and stack[-1].absorb(edit):
            return
        stack.append(edit)

    gui = DocumentEditor(ed.project, ed.registry, push=push)
    gui.begin_interaction()
    gui.move_nodes({"cam": (10, 10)})
    gui.move_nodes({"cam": (20, 10)})  # the default merge key of moves is None: two steps
    gui.end_interaction()
    gui.begin_interaction()
    gui.set_key("cam", "zoom", 0, 1.2)
    gui.set_key("cam", "zoom", 0, 1.3)
    gui.end_interaction()
    assert [e.text for e in stack] == ["Move node", "Move node", "Key cam zoom at frame 0"]
    assert gui.history == []  # the editor kept no history of its own
    change = gui.apply(stack[-1].before)
    assert change.animation == {"cam.zoom"} and gui.project.curve("cam", "zoom").value_at(0) == pytest.approx(1.15)
    assert gui.apply(stack[0].before).layout_only


def test_paste_and_duplicate_add_fresh_ids_in_one_step(ed):
    new = ed.duplicate(["photo", "cam"])
    assert new == ["photo_2", "cam_2"] and len(ed.history) == 1
    assert ("photo_2.image", "cam_2.image") in [(l.source, l.target) for l in ed.project.links]
    ed.undo()
    assert not ed.project.has_node("cam_2")
