"""Issue 15, the core and CLI points: input limits, special files, file modes and strays, validate opening what
render opens, exit codes. Every test here failed before its fix. In-process (``vidstudio.cli.main``) where the
exit code and message are what matters, so that the file stays fast."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from helpers import ASSETS, EXAMPLES
from vidstudio.cli import main
from vidstudio.errors import MediaError, ProjectError
from vidstudio.project.io import MAX_JSON_DEPTH, dumps_project, load_project, loads_project, save_project


def nested(depth: int):
    v: object = 1
    for _ in range(depth):
        v = [v]
    return v


def project_doc(**params) -> dict:
    doc = json.loads((EXAMPLES / "ken_burns.vidproj").read_text())
    doc["nodes"][0]["params"].update(params)
    return doc


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def finishes(fn, seconds: float = 10.0):
    """Runs ``fn`` in a thread; returns its exception (or None), failing when it blocks past ``seconds``."""
    box: dict = {}

    def target():
        try:
            fn()
        except BaseException as e:
            box["e"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn} blocked for {seconds} s"
    return box.get("e")


# -- point 2: size and depth limits -----------------------------------------------------------------------
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 256, 600, 5000])
def test_deep_json_is_a_project_error_naming_the_path(depth):
    doc = project_doc()
    text = json.dumps(doc)[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(ProjectError) as e:
        loads_project(text, "deep.vidproj")
    assert f"nested more than {MAX_JSON_DEPTH} levels deep" in str(e.value)
    assert str(e.value).startswith("deep.vidproj: $")


def test_validate_and_save_agree_on_depth(tmp_path, capsys):
    """Depth 256-999 used to validate and then fail to save or render with a plain ValueError."""
    (tmp_path / "assets").mkdir()
    shutil.copy(ASSETS / "rocket.png", tmp_path / "assets" / "rocket.png")
    for depth in (MAX_JSON_DEPTH - 4, 300):
        f = tmp_path / f"d{depth}.vidproj"
        f.write_text(json.dumps(project_doc(extra=nested(depth))))
        code, out = cli(capsys, "validate", str(f))
        if depth < MAX_JSON_DEPTH:
            assert code == 0, out
            save_project(load_project(f), tmp_path / "again.vidproj")  # what validates saves
            continue
        assert code == 2 and "nested more than" in out and "Traceback" not in out
    built = load_project(tmp_path / f"d{MAX_JSON_DEPTH - 4}.vidproj")
    built.nodes[0].params["extra"] = nested(300)  # a document made in code, never read from a file
    with pytest.raises(ProjectError, match="nested more than"):
        dumps_project(built)
    with pytest.raises(ProjectError, match="nested more than"):
        save_project(built, tmp_path / "deep.vidproj")
    assert not (tmp_path / "deep.vidproj").exists()


def test_oversized_project_is_refused_without_reading_it_all(tmp_path, monkeypatch, capsys):
    import vidstudio.project.io as io

    monkeypatch.setattr(io, "MAX_PROJECT_BYTES", 4096)
    f = tmp_path / "big.vidproj"
    f.write_text(json.dumps(project_doc(description="x" * 10_000)))
    code, out = cli(capsys, "validate", str(f))
    assert code == 2 and "MB, more than the" in out and "Traceback" not in out


def test_embedded_project_is_parsed_in_memory_proportional_to_its_size():
    """ffmetadata used to be parsed into a tuple per character: 90 times the project's size."""
    from vidstudio.media.video import _ffmeta_escape, _parse_ffmetadata

    value = json.dumps({"prompt": "a=b; c#d\\e\nf", "blob": "y" * 2_000_000})
    text = (
        ";FFMETADATA1\ncomment=Made with VidStudio\nvidstudio_project=" + _ffmeta_escape(value) + "\n[CHAPTER]\nx=1\n"
    )
    tracemalloc.start()
    try:
        parsed = _parse_ffmetadata(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parsed == {"comment": "Made with VidStudio", "vidstudio_project": value}
    assert peak < 8 * len(text), f"peak {peak / 1e6:.0f} MB for a {len(text) / 1e6:.0f} MB text"


# -- point 3: special files -----------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_device_folder_and_symlink_loop_are_refused_at_once(tmp_path, capsys):
    from vidstudio.media.image import load_image

    os.mkfifo(tmp_path / "pipe.vidproj")
    os.mkfifo(tmp_path / "pipe.png")
    os.symlink(tmp_path / "loop.vidproj", tmp_path / "loop.vidproj")
    cases = {
        tmp_path / "pipe.vidproj": "is a FIFO",
        tmp_path / "pipe.png": "is a FIFO",
        tmp_path / "loop.vidproj": "symlink loop",
        tmp_path: "is a folder",
        Path("/dev/zero"): "character device",
    }
    for path, words in cases.items():
        for fn, err in ((load_project, ProjectError), (load_image, MediaError)):
            e = finishes(lambda fn=fn, path=path: fn(path))
            assert isinstance(e, err) and words in str(e), (path, e)
    # and through the CLI: an image param that is a FIFO fails validate at once (not a hang in render)
    doc = project_doc(path="pipe.png")
    (tmp_path / "p.vidproj").write_text(json.dumps(doc))
    code, out = cli(capsys, "validate", str(tmp_path / "p.vidproj"))
    assert code == 2 and "node 'photo' param 'path': pipe.png: is a FIFO" in out


# -- point 5: modes and strays --------------------------------------------------------------------------
def test_saving_keeps_the_files_mode_and_a_new_file_gets_the_users_default(tmp_path):
    p = load_project(EXAMPLES / "ken_burns.vidproj")
    old = os.umask(0o022)
    try:
        target = save_project(p, tmp_path / "new.vidproj")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600
        os.chmod(target, 0o640)
        save_project(p)
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_a_killed_save_leaves_a_stray_that_the_next_save_removes(tmp_path):
    target = tmp_path / "p.vidproj"
    shutil.copy(EXAMPLES / "ken_burns.vidproj", target)
    # A real kill in the middle of a save: the temporary file is written, the rename never happens.
    code = (
        "import os, signal, sys, pathlib; from vidstudio.project import io\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"io.save_project(io.load_project({str(target)!r}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, env={**os.environ})
    assert r.returncode == -signal.SIGKILL, r.stderr
    strays = [f for f in tmp_path.iterdir() if f.name.endswith(".saving")]
    assert strays, list(tmp_path.iterdir())
    live = tmp_path / f".p.vidproj.{os.getpid()}-inflight.saving"  # another save running right now: kept
    live.write_text("{}")
    save_project(load_project(target))
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".")] == [live.name]


def test_a_killed_render_leaves_a_partial_that_the_next_render_of_that_target_removes(tmp_path):
    from vidstudio.media.video import write_video

    stray = tmp_path / f".clip.mp4.partial-{dead_pid()}-0a1b2c3d.mp4"
    stray.write_bytes(b"half an mp4")
    other = tmp_path / f".other.mp4.partial-{dead_pid()}-0a1b2c3d.mp4"  # another target's: not ours to clean
    other.write_bytes(b"x")
    write_video(np.zeros((2, 16, 16, 3), np.float32), tmp_path / "clip.mp4", 24, preset="ultrafast")
    assert not stray.exists() and other.exists()


def test_download_gets_the_users_mode(tmp_path):
    import httpx

    from vidstudio.client import Client

    c = Client("http://127.0.0.1:9")
    c._http = httpx.Client(base_url=c.url, transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"mp4")))
    old = os.umask(0o022)
    try:
        dest = c.download("gen_" + "0" * 24, tmp_path / "out.mp4")
    finally:
        os.umask(old)
    assert dest.read_bytes() == b"mp4" and stat.S_IMODE(dest.stat().st_mode) == 0o644


def test_eval_removes_its_temporary_folder_unless_kept(tmp_path, monkeypatch, capsys):
    shutil.copy(EXAMPLES / "ken_burns.vidproj", tmp_path / "k.vidproj")
    (tmp_path / "assets").mkdir()
    shutil.copy(ASSETS / "rocket.png", tmp_path / "assets" / "rocket.png")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    code, out = cli(capsys, "eval", str(tmp_path / "k.vidproj"), "photo", "--json")
    assert code == 0, out
    assert json.loads(out[: out.rindex("}") + 1])["outputs"]["image"]["kind"] == "image"
    assert list(scratch.iterdir()) == [] and "--keep" in out
    code, out = cli(capsys, "eval", str(tmp_path / "k.vidproj"), "photo", "--keep")
    kept = list(scratch.iterdir())
    assert code == 0 and len(kept) == 1 and (kept[0] / "photo_image.png").is_file()


# -- point 6: validate sees what render will see --------------------------------------------------------
def test_validate_opens_the_images_and_videos_render_would(tmp_path, capsys, monkeypatch):
    from vidstudio.graph.node import Node, Output, Param
    from vidstudio.graph.registry import NodeRegistry
    from vidstudio.graph.types import PortType
    from vidstudio.graph.validate import validate_files
    from vidstudio.project.document import Project

    (tmp_path / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    shutil.copy(ASSETS / "rocket.png", tmp_path / "ok.png")
    cases = {"missing.png": "image file not found", "garbage.png": "cannot decode image", "ok.png": None}
    for name, words in cases.items():
        (tmp_path / "p.vidproj").write_text(json.dumps(project_doc(path=name)))
        code, out = cli(capsys, "validate", str(tmp_path / "p.vidproj"))
        if words is None:
            assert code == 0, out
        else:
            assert code == 2 and f"node 'photo' param 'path': {name}: {words}" in out, out
    monkeypatch.setattr(os, "access", lambda p, mode: not str(p).endswith("ok.png"))  # we run as root in CI
    (tmp_path / "p.vidproj").write_text(json.dumps(project_doc(path="ok.png")))
    code, out = cli(capsys, "validate", str(tmp_path / "p.vidproj"))
    assert code == 2 and "ok.png: cannot be read (permission denied)" in out
    monkeypatch.undo()

    class LoadClip(Node):
        type_id = "LoadClip"
        outputs = (Output("video", PortType.VIDEO, ""),)
        params = (Param("path", "file", "", file_role="video"),)

    reg = NodeRegistry()
    reg.register(LoadClip)
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    doc = Project.model_validate(
        {"format_version": 1, "nodes": [{"id": "v", "type": "LoadClip", "params": {"path": "bad.mp4"}}]}
    )
    issues = validate_files(doc, reg, tmp_path)
    assert [(i.node_id, i.code) for i in issues] == [("v", "bad-file")] and "not a readable video" in issues[0].message


def test_validate_looks_for_the_sound_and_the_upscale_model(tmp_path, capsys):
    """A Load Audio or Upscale file that is not there: validate says so (render would stop at it), exit 2."""
    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 48, "fps": "24", "frame_count": 4},
        "nodes": [
            {"id": "photo", "type": "LoadImage", "params": {"path": "ok.png"}},
            {"id": "src", "type": "CameraMove", "params": {}},
            {"id": "snd", "type": "LoadAudio", "params": {"path": "voice.wav"}},
            {"id": "up", "type": "Upscale", "params": {"model": "models/x4.pth"}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "out.mp4"}},
        ],
        "links": [
            {"from": "photo.image", "to": "src.image"},
            {"from": "src.video", "to": "up.video"},
            {"from": "up.video", "to": "export.video"},
            {"from": "snd.audio", "to": "export.audio"},
        ],
    }
    shutil.copy(ASSETS / "rocket.png", tmp_path / "ok.png")
    (tmp_path / "p.vidproj").write_text(json.dumps(doc))
    code, out = cli(capsys, "validate", str(tmp_path / "p.vidproj"))
    assert code == 2
    assert "node 'snd' param 'path': voice.wav: audio file not found" in out, out
    assert "node 'up' param 'model': models/x4.pth: model file not found" in out, out
    (tmp_path / "voice.wav").write_bytes(b"RIFF")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "x4.pth").write_bytes(b"\0")
    code, out = cli(capsys, "validate", str(tmp_path / "p.vidproj"))
    assert code == 0, out


# -- point 8: ids ending in a newline -------------------------------------------------------------------
def test_ids_and_names_ending_in_a_newline_are_refused():
    from vidstudio.plugins.manifest import NodeEntry, peek_name

    doc = project_doc()
    doc["links"][0]["from"] = "photo\n.image"
    with pytest.raises(ProjectError, match="must look like 'node_id.port'"):
        loads_project(json.dumps(doc))
    doc = project_doc()
    doc["nodes"][0]["id"] = "photo\n"
    with pytest.raises(ProjectError, match=r"\$\.nodes\[0\]\.id"):
        loads_project(json.dumps(doc))
    assert peek_name('name = "good\\n"') is None and peek_name('name = "good"') == "good"
    with pytest.raises(ValueError, match="is not a node name"):
        NodeEntry(name="Const\n")
