"""The GUI's document logic without Qt: links, what the Viewer shows, clipboard documents, keys, paths, time."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from vidstudio.errors import ProjectError
from vidstudio.motion.curves import FCurve
from vidstudio.project import Project, loads_project
from vidstudio.ui import docops

from uihelpers import KEN_BURNS, ROOT, make_registry


@pytest.fixture
def reg():
    return make_registry()


@pytest.fixture
def kb():
    from vidstudio.project import load_project

    return load_project(KEN_BURNS)


def test_importing_the_document_logic_pulls_in_no_qt_and_the_gui_no_torch():
    code = (
        "import sys, vidstudio.ui.docops, vidstudio.ui.widgets.colors\n"
        "a = sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'qtawesome', 'torch'})\n"
        "import vidstudio.ui.widgets.main_window, vidstudio.ui.app\n"
        "b = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers'})\n"
        "print(','.join(a) + '|' + ','.join(b))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                       env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.stdout.strip() == "|"


def test_link_checks_name_both_ports_and_the_reason(kb, reg):
    bad = docops.check_link(kb, reg, "photo", "image", "export", "video")
    assert not bad.ok
    assert bad.reason == "cannot link photo.image -> export.video: an IMAGE output cannot feed a VIDEO input"
    assert "feed itself" in docops.check_link(kb, reg, "cam", "video", "cam", "image").reason
    assert "already linked" in docops.check_link(kb, reg, "cam", "video", "export", "video").reason
    assert "no output 'nope'" in docops.check_link(kb, reg, "cam", "nope", "export", "video").reason
    assert "no node 'ghost'" in docops.check_link(kb, reg, "ghost", "video", "export", "video").reason


def test_a_link_into_a_fed_single_input_replaces_the_old_one_and_cycles_are_refused(kb, reg):
    kb.nodes.append(kb.nodes[1].model_copy(update={"id": "cam2"}))
    ok = docops.check_link(kb, reg, "cam2", "video", "export", "video")
    assert ok.ok and [l.source for l in ok.replaces] == ["cam.video"]
    # a node that takes and gives VIDEO, fed by cam, feeding back into itself through a second one
    kb.nodes.append(docops.NodeInstance(id="e1", type="Everything"))
    kb.nodes.append(docops.NodeInstance(id="e2", type="Everything"))
    from vidstudio.graph.model import Link

    kb.links += [Link.make("e1", "video", "e2", "video")]
    cyc = docops.check_link(kb, reg, "e2", "video", "e1", "video")
    assert not cyc.ok and "cycle (e1 -> e2 -> e1)" in cyc.reason


def test_the_viewer_shows_the_pinned_then_selected_then_exported_picture(kb, reg):
    assert docops.default_view_target(kb, reg) == docops.ViewTarget("cam", "video", "VIDEO")
    assert docops.default_view_target(kb, reg, ["photo"]).ref == "photo.image"
    assert docops.default_view_target(kb, reg, ["export"]).ref == "cam.video"  # no picture of its own
    assert docops.default_view_target(kb, reg, ["photo"], pinned="cam").ref == "cam.video"
    assert docops.default_view_target(Project(), reg) is None


def test_clipboard_round_trip_renames_ids_keeps_links_and_animation_and_rebases_paths(kb, reg, tmp_path):
    text = docops.clipboard_text(kb, ["photo", "cam"])
    data = json.loads(text)
    assert data[docops.CLIPBOARD_KEY] == 1 and [n["id"] for n in data["nodes"]] == ["photo", "cam"]
    assert data["links"] == [{"from": "photo.image", "to": "cam.image"}]  # the link to export stays behind
    assert sorted(data["animation"]) == ["cam.roll", "cam.tilt", "cam.zoom"]
    # paste into the same project: fresh ids, everything renamed consistently
    plan = docops.plan_paste(kb, text, reg, at=(1000, 500))
    assert [n.id for n in plan.nodes] == ["photo_2", "cam_2"]
    assert [(l.source, l.target) for l in plan.links] == [("photo_2.image", "cam_2.image")]
    assert sorted(plan.animation) == ["cam_2.roll", "cam_2.tilt", "cam_2.zoom"]
    assert plan.nodes[0].position == (1000, 500) and plan.nodes[1].position == (1260, 500)
    # paste into a project in another folder: the image path still points at the same file
    other = Project().bind(tmp_path / "elsewhere" / "b.vidproj")
    plan2 = docops.plan_paste(other, text, reg)
    p = plan2.nodes[0].params["path"]
    assert Path(p).is_absolute() and Path(p) == (KEN_BURNS.parent / "assets" / "rocket.png").resolve()
    assert plan2.nodes[0].id == "photo"  # free there
    with pytest.raises(ProjectError, match="does not hold VidStudio nodes"):
        docops.plan_paste(kb, "hello", reg)


def test_animated_params_and_values_at_a_frame(kb, reg):
    names = [a.key for a in docops.animated_params(kb, reg)]
    assert names == ["cam.tilt", "cam.zoom", "cam.roll"]  # declaration order, not file order
    assert docops.param_value(kb, reg, "cam", "zoom", 0) == pytest.approx(1.15)
    assert docops.param_value(kb, reg, "cam", "zoom", 71) == pytest.approx(1.6)
    assert docops.param_value(kb, reg, "cam", "pan", 10) == 0.0  # default, not animated
    assert docops.param_value(kb, reg, "cam", "fit") == "cover"


def test_key_editing_on_curves():
    c = docops.set_key(None, 10, 2.0)
    assert [(k.frame, k.value) for k in c.keys] == [(10, 2.0)]
    c = docops.set_key(c, 20, 4.0)
    moved = docops.move_key(c, 10, 5)
    assert [(k.frame, k.value) for k in moved.keys] == [(5, 2.0), (20, 4.0)]
    with pytest.raises(ValueError, match="already holds a key"):
        docops.move_key(c, 10, 20)
    with pytest.raises(KeyError):
        docops.move_key(c, 11, 12)
    assert isinstance(moved, FCurve)


def test_paths_timecode_and_ids(tmp_path):
    proj = tmp_path / "p"
    (proj / "assets").mkdir(parents=True)
    assert docops.relative_to_project(proj / "assets" / "a.png", proj) == "assets/a.png"
    assert docops.relative_to_project(tmp_path / "b.png", proj) == (tmp_path / "b.png").resolve().as_posix()
    assert docops.timecode(0, Fraction(24)) == "00:00:00:00"
    assert docops.timecode(24 * 3661 + 5, Fraction(24)) == "01:01:01:05"
    assert docops.timecode(30, Fraction(30000, 1001)) == "00:00:01:00"  # non-drop counts at the nominal 30
    assert docops.fps_text(Fraction(30000, 1001)) == "29.97 (30000/1001)"
    assert docops.node_id_base("CameraMove") == "camera_move"
    assert docops.node_id_base("plug.HTTPServer") == "http_server"
    assert docops.unique_id("cam", ["cam", "cam_2"]) == "cam_3"
    assert docops.unique_id("3d", []) == "n_3d"


def test_clipboard_text_is_a_project_document_that_loads(kb):
    doc = loads_project(docops.clipboard_text(kb, ["cam"]))
    assert [n.id for n in doc.nodes] == ["cam"] and doc.links == []
