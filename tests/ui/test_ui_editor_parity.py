"""The GUI's session and the core's DocumentEditor make the same edits: the same documents after each edit, the
same undo history names and the same documents after undoing everything (so that the session can hand its
edits to the editor without a visible change)."""

from __future__ import annotations

import json

from uihelpers import KEN_BURNS
from vidstudio.project import dumps_project, load_project
from vidstudio.project.editor import DocumentEditor

EDITS = [
    ("add_node", ("ColorGrade", (780.0, 0.0)), {}),
    ("connect_ports", ("cam", "video", "color_grade", "video"), {}),
    ("set_param", ("cam", "fit", "contain"), {}),
    ("set_key", ("cam", "pan", 10, 0.25), {}),
    ("move_key", ("cam", "pan", 10, 20), {}),
    ("set_key_fields", ("cam", "pan", 20), {"interpolation": "linear"}),
    ("toggle_key", ("cam", "zoom", 71), {}),
    ("clear_animation", ("cam", "tilt", 30), {}),
    ("move_nodes", ({"cam": (300.0, 40.0)},), {}),
    ("set_title", ("cam", "Push in"), {}),
    ("reset_param", ("cam", "fit"), {}),
    ("set_settings", (), {"fps": 30, "frame_count": 48}),
    ("duplicate", (["photo", "cam"],), {}),
    ("remove_nodes", (["export"],), {}),
]


def test_session_and_document_editor_agree_edit_by_edit(session_factory, registry):
    s = session_factory(load_project(KEN_BURNS))
    ed = DocumentEditor(load_project(KEN_BURNS), registry)
    original = dumps_project(ed.project)
    for name, args, kw in EDITS:
        getattr(s, name)(*args, **kw)
        getattr(ed, name)(*args, **kw)
        assert dumps_project(s.project) == dumps_project(ed.project), name
    texts = [s.undo_stack.text(i) for i in range(s.undo_stack.count())]
    assert texts == [e.text for e in ed.history] and len(texts) == len(EDITS)  # every edit did something
    while s.undo_stack.canUndo():
        s.undo_stack.undo()
    while ed.can_undo:
        ed.undo()
    assert dumps_project(s.project) == dumps_project(ed.project)
    # back to the original document (curves put back by an undo come last in the animation table)
    assert json.loads(dumps_project(ed.project)) == json.loads(original)
