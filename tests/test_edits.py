"""The document operations of the core, without Qt: links, what the Viewer shows, clipboard documents, keys,
paths, time (``vidstudio.project.edits``, ``.view``, ``.clipboard``, ``vidstudio.motion.curves``,
``vidstudio.media.timecode``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from vidstudio.errors import ProjectError
from vidstudio.graph.model import NodeInstance
from vidstudio.graph.node import Input, Node, Output
from vidstudio.graph.types import PortType
from vidstudio.media import timecode
from vidstudio.motion import curves
from vidstudio.motion.curves import FCurve
from vidstudio.project import Project, clipboard, edits, load_project, loads_project, view

ROOT = Path(__file__).resolve().parents[1]
KEN_BURNS = ROOT / "resources" / "examples" / "ken_burns.vidproj"

#: The modules of document editing that the GUI and ``vidstudio edit`` share.
EDITING_MODULES = (
    "vidstudio.project.edits",
    "vidstudio.project.view",
    "vidstudio.project.clipboard",
    "vidstudio.project.editor",
    "vidstudio.motion.curves",
    "vidstudio.motion.pathedit",
    "vidstudio.media.timecode",
    "vidstudio.commands.edit",
)


class Pass(Node):
    """A test node that takes and gives VIDEO."""

    type_id = "Pass"
    title = "Pass"
    category = "Test"
    inputs = (Input("video", PortType.VIDEO, optional=True),)
    outputs = (Output("video", PortType.VIDEO),)

    def execute(self, ctx, inputs, params):
        return {"video": inputs["video"]}


@pytest.fixture
def reg():
    from vidstudio.nodes import default_registry

    r = default_registry()
    r.register(Pass)
    return r


@pytest.fixture
def kb():
    return load_project(KEN_BURNS)


def test_importing_the_editing_modules_pulls_in_neither_qt_nor_torch():
    code = (
        f"import sys, importlib\nfor m in {list(EDITING_MODULES)!r}: importlib.import_module(m)\n"
        "heavy = {'PySide6', 'qtawesome', 'torch', 'diffusers'}\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & heavy)))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""


def test_link_checks_name_both_ports_and_the_reason(kb, reg):
    bad = edits.check_link(kb, reg, "photo", "image", "export", "video")
    assert not bad.ok
    assert bad.reason == "cannot link photo.image -> export.video: an IMAGE output cannot feed a VIDEO input"
    assert "feed itself" in edits.check_link(kb, reg, "cam", "video", "cam", "image").reason
    assert "already linked" in edits.check_link(kb, reg, "cam", "video", "export", "video").reason
    assert "no output 'nope'" in edits.check_link(kb, reg, "cam", "nope", "export", "video").reason
    assert "no node 'ghost'" in edits.check_link(kb, reg, "ghost", "video", "export", "video").reason


def test_a_link_into_a_fed_single_input_replaces_the_old_one_and_cycles_are_refused(kb, reg):
    kb.nodes.append(kb.nodes[1].model_copy(update={"id": "cam2"}))
    ok = edits.check_link(kb, reg, "cam2", "video", "export", "video")
    assert ok.ok and [l.source for l in ok.replaces] == ["cam.video"]
    # a node that takes and gives VIDEO, fed by cam, feeding back into itself through a second one
    kb.nodes.append(NodeInstance(id="e1", type="Pass"))
    kb.nodes.append(NodeInstance(id="e2", type="Pass"))
    from vidstudio.graph.model import Link

    kb.links += [Link.make("e1", "video", "e2", "video")]
    cyc = edits.check_link(kb, reg, "e2", "video", "e1", "video")
    assert not cyc.ok and "cycle (e1 -> e2 -> e1)" in cyc.reason


def test_the_viewer_shows_the_pinned_then_selected_then_exported_picture(kb, reg):
    assert view.default_view_target(kb, reg) == view.ViewTarget("cam", "video", "VIDEO")
    assert view.default_view_target(kb, reg, ["photo"]).ref == "photo.image"
    assert view.default_view_target(kb, reg, ["export"]).ref == "cam.video"  # no picture of its own
    assert view.default_view_target(kb, reg, ["photo"], pinned="cam").ref == "cam.video"
    assert view.default_view_target(Project(), reg) is None


def test_clipboard_round_trip_renames_ids_keeps_links_and_animation_and_rebases_paths(kb, reg, tmp_path):
    text = clipboard.clipboard_text(kb, ["photo", "cam"])
    data = json.loads(text)
    assert data[clipboard.CLIPBOARD_KEY] == 1 and [n["id"] for n in data["nodes"]] == ["photo", "cam"]
    assert data["links"] == [{"from": "photo.image", "to": "cam.image"}]  # the link to export stays behind
    assert sorted(data["animation"]) == ["cam.roll", "cam.tilt", "cam.zoom"]
    # paste into the same project: fresh ids, everything renamed consistently
    plan = clipboard.plan_paste(kb, text, reg, at=(1000, 500))
    assert [n.id for n in plan.nodes] == ["photo_2", "cam_2"]
    assert [(l.source, l.target) for l in plan.links] == [("photo_2.image", "cam_2.image")]
    assert sorted(plan.animation) == ["cam_2.roll", "cam_2.tilt", "cam_2.zoom"]
    assert plan.nodes[0].position == (1000, 500) and plan.nodes[1].position == (1260, 500)
    # paste into a project in another folder: the image path still points at the same file
    other = Project().bind(tmp_path / "elsewhere" / "b.vidproj")
    plan2 = clipboard.plan_paste(other, text, reg)
    p = plan2.nodes[0].params["path"]
    assert Path(p).is_absolute() and Path(p) == (KEN_BURNS.parent / "assets" / "rocket.png").resolve()
    assert plan2.nodes[0].id == "photo"  # free there
    with pytest.raises(ProjectError, match="does not hold VidStudio nodes"):
        clipboard.plan_paste(kb, "hello", reg)


def test_animated_params_and_values_at_a_frame(kb, reg):
    names = [a.key for a in edits.animated_params(kb, reg)]
    assert names == ["cam.tilt", "cam.zoom", "cam.roll"]  # declaration order, not file order
    assert edits.param_value(kb, reg, "cam", "zoom", 0) == pytest.approx(1.15)
    assert edits.param_value(kb, reg, "cam", "zoom", 71) == pytest.approx(1.6)
    assert edits.param_value(kb, reg, "cam", "pan", 10) == 0.0  # default, not animated
    assert edits.param_value(kb, reg, "cam", "fit") == "cover"


def test_key_editing_on_curves():
    c = curves.set_key(None, 10, 2.0)
    assert [(k.frame, k.value) for k in c.keys] == [(10, 2.0)]
    c = curves.set_key(c, 20, 4.0)
    moved = curves.move_key(c, 10, 5)
    assert [(k.frame, k.value) for k in moved.keys] == [(5, 2.0), (20, 4.0)]
    with pytest.raises(ValueError, match="already holds a key"):
        curves.move_key(c, 10, 20)
    with pytest.raises(KeyError):
        curves.move_key(c, 11, 12)
    assert isinstance(moved, FCurve)


def test_paths_timecode_and_ids(tmp_path):
    proj = tmp_path / "p"
    (proj / "assets").mkdir(parents=True)
    assert edits.relative_to_project(proj / "assets" / "a.png", proj) == "assets/a.png"
    assert edits.relative_to_project(tmp_path / "b.png", proj) == (tmp_path / "b.png").resolve().as_posix()
    assert timecode.timecode(0, Fraction(24)) == "00:00:00:00"
    assert timecode.timecode(24 * 3661 + 5, Fraction(24)) == "01:01:01:05"
    assert timecode.timecode(30, Fraction(30000, 1001)) == "00:00:01:00"  # non-drop counts at the nominal 30
    assert timecode.fps_text(Fraction(30000, 1001)) == "29.97 (30000/1001)"
    assert edits.node_id_base("CameraMove") == "camera_move"
    assert edits.node_id_base("plug.HTTPServer") == "http_server"
    assert edits.unique_id("cam", ["cam", "cam_2"]) == "cam_3"
    assert edits.unique_id("3d", []) == "n_3d"


def test_clipboard_text_is_a_project_document_that_loads(kb):
    doc = loads_project(clipboard.clipboard_text(kb, ["cam"]))
    assert [n.id for n in doc.nodes] == ["cam"] and doc.links == []
