"""``vidstudio edit PROJECT ...``: several edits in one call, saved atomically, checked by ``vidstudio validate``;
a failing edit is named, exits 2 and writes nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import EXAMPLES
from vidstudio.cli import main
from vidstudio.project import dumps_project, load_project


@pytest.fixture
def proj(tmp_path):
    """A copy of the Ken Burns example (with its image) in a temporary folder."""
    shutil.copytree(EXAMPLES / "assets", tmp_path / "assets")
    p = tmp_path / "kb.vidproj"
    shutil.copy(EXAMPLES / "ken_burns.vidproj", p)
    return p


def test_several_edits_in_one_call_are_saved_and_validate(proj, capsys):
    rc = main(
        [
            "edit",
            str(proj),
            "--add-node",
            "grade:ColorGrade",
            "--link",
            "cam.video=grade.video",  # cam still feeds export too
            "--link",
            "grade.video=export.video",  # replaces cam -> export (a single input)
            "--set",
            "cam.fit=contain",
            "--set",
            "export.crf=18",
            "--key",
            "cam.pan@10=0.25",
            "--key",
            "cam.pan@60=-0.25",
            "--remove-key",
            "cam.roll@71",
            "--setting",
            "fps=30",
            "--setting",
            "frame_count=48",
            "--add-node",
            "traj:Trajectory@0,300",
            "--add-point",
            "traj@0=100,400",
            "--add-point",
            "traj@40=380,180",
        ]
    )
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert f"{proj}: saved (13 edits)" in out.out
    p = load_project(proj)
    assert [n.id for n in p.nodes] == ["photo", "cam", "export", "grade", "traj"]
    assert sorted((l.source, l.target) for l in p.links) == [
        ("cam.video", "grade.video"),
        ("grade.video", "export.video"),
        ("photo.image", "cam.image"),
    ]
    assert p.node("cam").params["fit"] == "contain" and p.node("export").params["crf"] == 18
    assert p.curve("cam", "pan").value_at(10) == pytest.approx(0.25)
    assert p.curve("cam", "pan").value_at(60) == pytest.approx(-0.25)
    assert [k.frame for k in p.curve("cam", "roll").keys] == [0.0]
    assert p.settings.fps == 30 and p.settings.frame_count == 48
    assert p.node("traj").position == (0.0, 300.0)
    path = p.node("traj").params["paths"]["paths"][0]
    assert path["timing"] == "keys"
    assert [(q["x"], q["y"], q["frame"]) for q in path["points"]] == [(100, 400, 0), (380, 180, 40)]
    assert (proj.parent / "kb.vidproj.bak").exists()  # the project's own save: the previous file kept
    assert main(["validate", str(proj)]) == 0
    assert "ok (5 nodes, 3 links, 48 frames at 30 fps)" in capsys.readouterr().out


def test_the_cli_gives_what_the_document_editor_gives(proj, tmp_path):
    from vidstudio.nodes import default_registry
    from vidstudio.project.editor import DocumentEditor

    out = tmp_path / "out.vidproj"
    assert (
        main(
            [
                "edit",
                str(proj),
                "-o",
                str(out),
                "--remove-node",
                "photo",
                "--add-node",
                "sprite:LoadImage",
                "--set",
                "sprite.path=assets/rocket.png",
                "--link",
                "sprite.image=cam.image",
            ]
        )
        == 0
    )
    ed = DocumentEditor(load_project(proj), default_registry())
    ed.remove_nodes(["photo"])
    ed.add_node("LoadImage", (520 + 260, 0), node_id="sprite")
    ed.set_param("sprite", "path", "assets/rocket.png")
    ed.connect_ports("sprite", "image", "cam", "image")
    assert json.loads(dumps_project(load_project(out))) == json.loads(dumps_project(ed.project))
    assert proj.read_text() == (EXAMPLES / "ken_burns.vidproj").read_text()  # -o leaves PROJECT alone


@pytest.mark.parametrize(
    "edits, message",
    [
        (
            ["--set", "cam.fit=contain", "--link", "photo.image=export.video"],
            "edit 2 (--link photo.image=export.video): cannot link photo.image -> export.video: an IMAGE output cannot "
            "feed a VIDEO input",
        ),
        (["--set", "cam.zom=1"], "edit 1 (--set cam.zom=1): node 'cam' (CameraMove) has no parameter 'zom'"),
        (["--set", "cam.zoom=2"], "node 'cam' param 'zoom' is animated"),
        (["--set", "export.crf=900"], "edit 1 (--set export.crf=900): node 'export' param 'crf'"),
        (["--key", "cam.fit@3=1"], "node 'cam' param 'fit' cannot be keyed"),
        (["--key", "cam.zoom@x=1"], "FRAME must be a number, got 'x'"),
        (["--remove-key", "cam.zoom@5"], "no key on frame 5"),
        (["--remove-node", "ghost"], "edit 1 (--remove-node ghost): no node with id 'ghost'"),
        (["--unlink", "photo.image=export.video"], "there is no link photo.image -> export.video"),
        (["--add-node", "x:NoSuchType"], "NoSuchType"),
        (["--add-point", "cam=1,2"], "node 'cam' (CameraMove) has no parameter 'paths'"),
        (["--setting", "fps=-3"], "edit 1 (--setting fps=-3): setting 'fps'"),
        (["--setting", "colour=1"], "no project setting 'colour'"),
        (["--link", "cam.video"], "expected SRC.OUT=DST.IN"),
    ],
)
def test_a_failing_edit_is_named_exits_2_and_writes_nothing(proj, capsys, edits, message):
    before = proj.read_bytes()
    assert main(["edit", str(proj), *edits]) == 2
    err = capsys.readouterr().err
    assert message in err and "nothing written" in err
    assert proj.read_bytes() == before
    assert sorted(p.name for p in proj.parent.iterdir()) == ["assets", "kb.vidproj"]  # no .bak, no temp file


def test_dry_run_and_mp4_input_write_nothing_without_a_vidproj_target(proj, capsys, cli):
    before = proj.read_bytes()
    assert main(["edit", str(proj), "--dry-run", "--set", "cam.fit=contain"]) == 0
    assert "nothing written (--dry-run)" in capsys.readouterr().out and proj.read_bytes() == before
    r = cli("edit", str(proj), "-o", str(proj.parent / "x.mp4"), "--set", "cam.fit=contain")
    assert r.returncode == 2 and "give -o OUT.vidproj" in r.stderr
    assert not (proj.parent / "x.mp4").exists()
    r = cli("edit", str(proj.parent / "missing.vidproj"), "--set", "cam.fit=contain")
    assert r.returncode == 2 and "missing.vidproj" in r.stderr
