"""The command line as a user runs it: subprocesses, exit codes, files decoded back, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import ASSETS, EXAMPLES, ROOT, run_cli
from vidstudio.media import probe_video, read_embedded_project, read_video


def make_project(folder: Path, frames: int = 12, size=(96, 64), export="out/clip.mp4", zoom_to=1.5) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ASSETS / "astronaut.png", folder / "astronaut.png")
    doc = {
        "format_version": 1,
        "settings": {"width": size[0], "height": size[1], "fps": "24", "frame_count": frames},
        "nodes": [
            {"id": "photo", "type": "LoadImage", "params": {"path": "astronaut.png"}},
            {"id": "cam", "type": "CameraMove", "params": {}},
            {"id": "export", "type": "ExportVideo", "params": {"path": export, "preset": "ultrafast"}},
        ],
        "links": [{"from": "photo.image", "to": "cam.image"}, {"from": "cam.video", "to": "export.video"}],
        "animation": {
            "cam.zoom": {
                "keys": [{"frame": 0, "value": 1.0, "interpolation": "linear"}, {"frame": frames - 1, "value": zoom_to}]
            }
        },
    }
    p = folder / "p.vidproj"
    p.write_text(json.dumps(doc))
    return p


def test_python_m_and_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("vidstudio ")


def test_render_writes_mp4_from_photo(tmp_path):
    p = make_project(tmp_path / "proj")
    r = run_cli("render", str(p), "-o", str(tmp_path / "x.mp4"))
    assert r.returncode == 0, r.stderr
    assert f"wrote {tmp_path / 'x.mp4'} (12 frames, 96x64, 24 fps)" in r.stdout
    info = probe_video(tmp_path / "x.mp4")
    assert (info.frame_count, info.width, info.height, info.fps) == (12, 96, 64, 24)
    frames = read_video(tmp_path / "x.mp4")
    # A zoom-in: the last frame shows a magnified centre, so it differs from the first.
    assert np.abs(frames[0] - frames[-1]).mean() > 0.02
    embedded = json.loads(read_embedded_project(tmp_path / "x.mp4"))
    assert [n["id"] for n in embedded["nodes"]] == ["photo", "cam", "export"]


def interpolated_project(folder: Path, size=(96, 64)) -> Path:
    """:func:`make_project` with an Interpolate x2 (12 frames at 24 fps: 24 at 48) between the camera and Export."""
    p = make_project(folder, size=size)
    doc = json.loads(p.read_text())
    doc["nodes"].append({"id": "it", "type": "Interpolate", "params": {"mode": "factor", "factor": 2}})
    doc["links"] = [
        {"from": "photo.image", "to": "cam.image"},
        {"from": "cam.video", "to": "it.video"},
        {"from": "it.video", "to": "export.video"},
    ]
    p.write_text(json.dumps(doc))
    return p


def test_render_says_what_the_file_holds_after_interpolate_and_padding(tmp_path):
    """The "wrote" line is the file's frames, size and rate, not the project's: Interpolate x2 of 12 frames at
    24 fps writes 24 frames at 48 fps (the same 0.5 s), and an odd project width is padded to an even one."""
    p = interpolated_project(tmp_path / "proj", size=(95, 64))
    r = run_cli("render", str(p), "-o", str(tmp_path / "x.mp4"), "-q")
    assert r.returncode == 0, r.stderr
    info = probe_video(tmp_path / "x.mp4")
    assert (info.frame_count, info.width, info.height, info.fps) == (24, 96, 64, 48)
    assert f"wrote {tmp_path / 'x.mp4'} (24 frames, 96x64, 48 fps)" in r.stdout


def test_render_uses_project_export_path_relative_to_project(tmp_path):
    p = make_project(tmp_path / "proj")
    r = run_cli("render", str(p), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "proj" / "out" / "clip.mp4").is_file()


def test_render_frame_range_and_png_sequence(tmp_path):
    p = make_project(tmp_path / "proj")
    r = run_cli("render", str(p), "--frames", "4:10", "-o", str(tmp_path / "part.mp4"))
    assert r.returncode == 0, r.stderr
    assert probe_video(tmp_path / "part.mp4").frame_count == 6
    r = run_cli("render", str(p), "--frames=-3:", "-o", str(tmp_path / "seq"))
    assert r.returncode == 0, r.stderr
    assert sorted(x.name for x in (tmp_path / "seq").iterdir()) == [
        "frame_00009.png",
        "frame_00010.png",
        "frame_00011.png",
    ]
    r = run_cli("render", str(p), "--frames", "8:3")
    assert r.returncode == 2 and "empty range" in r.stderr


def test_render_explain_across_runs(tmp_path):
    p = make_project(tmp_path / "proj")
    r = run_cli("render", str(p), "--explain", "-q")
    assert r.returncode == 0, r.stderr
    assert "first run" in r.stdout
    doc = json.loads(p.read_text())
    doc["animation"]["cam.zoom"]["keys"][1]["value"] = 2.0
    p.write_text(json.dumps(doc))
    r = run_cli("render", str(p), "--explain", "-q")
    lines = {l.split()[0]: l for l in r.stdout.splitlines() if l.strip() and not l.startswith("wrote")}
    assert "animation of 'zoom' changed" in lines["cam"]
    assert "from the cache (on disk)" in lines["photo"]  # unchanged: kept on disk by the first process
    assert "output node (always runs)" in lines["export"]


def _explain(stdout: str) -> dict[str, str]:
    return {l.split()[0]: l for l in stdout.splitlines() if l.strip() and not l.startswith("wrote")}


def test_a_second_render_of_an_unchanged_project_comes_from_the_disk_cache(tmp_path):
    p = make_project(tmp_path / "proj")
    first = run_cli("render", str(p), "--explain", "-q")
    assert first.returncode == 0, first.stderr
    assert "first run" in _explain(first.stdout)["photo"]
    # the camera's video is made on demand: the explain line says it is not kept on disk, and why
    assert "not kept on disk: outputs.video is a video made on demand" in _explain(first.stdout)["cam"]
    second = run_cli("render", str(p), "--explain", "-q")  # a new process
    assert second.returncode == 0, second.stderr
    lines = _explain(second.stdout)
    assert lines["photo"].split()[2:] == ["from", "the", "cache", "(on", "disk)"]
    assert "from the cache" not in lines["cam"] and "not in the cache" in lines["cam"]
    assert "output node (always runs)" in lines["export"]
    cache = Path(os.environ["VIDSTUDIO_CACHE_DIR"]) / "outputs"
    assert len([e for e in cache.glob("*/*") if (e / "entry.json").is_file()]) == 1  # the photo
    assert (tmp_path / "proj" / "out" / "clip.mp4").is_file()

    # --no-cache neither reads nor writes it; VIDSTUDIO_NO_CACHE=1 does the same
    off = run_cli("render", str(p), "--explain", "-q", "--no-cache")
    assert off.returncode == 0, off.stderr
    assert "not in the cache" in _explain(off.stdout)["photo"]
    off = run_cli("render", str(p), "--explain", "-q", env={"VIDSTUDIO_NO_CACHE": "1"})
    assert "not in the cache" in _explain(off.stdout)["photo"]


def test_render_opens_project_embedded_in_mp4(tmp_path):
    p = make_project(tmp_path / "proj")
    first = tmp_path / "first.mp4"
    assert run_cli("render", str(p), "-o", str(first)).returncode == 0
    second = tmp_path / "again.mp4"
    r = run_cli("render", str(first), "-o", str(second))
    assert r.returncode == 0, r.stderr
    assert np.abs(read_video(first) - read_video(second)).mean() < 0.01


@pytest.mark.parametrize(
    "content,words",
    [
        (None, "file not found"),
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary\x00", "not a text file"),
        (b'{"format_version": 1, "nodes": [{"id": "a", "ty', "looks truncated"),
        (b'{"format_version": 99}', "newer than this VidStudio reads"),
    ],
)
def test_validate_bad_files_exit_2_with_path_prefix(tmp_path, content, words):
    p = tmp_path / "bad.vidproj"
    if content is not None:
        p.write_bytes(content)
    r = run_cli("validate", str(p))
    assert r.returncode == 2
    lines = r.stdout.strip().splitlines()
    assert lines and all(l.startswith(f"{p}: ") for l in lines)
    assert words in r.stdout


def test_validate_graph_problems_one_line_each(tmp_path):
    p = make_project(tmp_path / "proj")
    doc = json.loads(p.read_text())
    doc["nodes"][1]["params"]["zoom"] = -1
    doc["nodes"].append({"id": "ghost", "type": "NoSuchNode"})
    doc["links"].append({"from": "photo.image", "to": "export.video"})
    p.write_text(json.dumps(doc))
    r = run_cli("validate", str(p))
    assert r.returncode == 2
    lines = r.stdout.strip().splitlines()
    assert all(l.startswith(f"{p}: ") for l in lines)
    text = "\n".join(lines)
    assert "node 'cam' param 'zoom': -1 is below the minimum 0.05" in text
    assert "node 'ghost' type: unknown node type 'NoSuchNode'" in text
    assert "node 'export' port 'video': takes VIDEO but is linked to 'photo.image', which gives IMAGE" in text
    assert "node 'export' port 'video': has more than one link" in text


def test_validate_ok():
    r = run_cli("validate", str(EXAMPLES / "ken_burns.vidproj"))
    assert r.returncode == 0 and ": ok (" in r.stdout


def test_render_bad_input_exit_2(tmp_path):
    p = make_project(tmp_path / "proj")
    (tmp_path / "proj" / "astronaut.png").write_bytes(b"garbage")
    r = run_cli("render", str(p), "-o", str(tmp_path / "x.mp4"))
    assert r.returncode == 2
    assert "node 'photo' (LoadImage):" in r.stderr and "astronaut.png: cannot decode image" in r.stderr
    assert not (tmp_path / "x.mp4").exists()
    r = run_cli("render", str(tmp_path / "missing.vidproj"))
    assert r.returncode == 2 and "file not found" in r.stderr


def test_ctrl_c_exits_130_and_leaves_nothing(tmp_path):
    p = make_project(tmp_path / "proj", frames=2000, size=(640, 480))
    out = tmp_path / "long.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidstudio", "render", str(p), "-o", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".long.mp4.partial-*")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".long.mp4.partial-*")), "the export never started"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancel" in err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["proj"]


def test_eval_prints_json_with_files(tmp_path):
    p = make_project(tmp_path / "proj")
    r = run_cli("eval", str(p), "cam", "--json", "--out-dir", str(tmp_path / "ev"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    video = doc["outputs"]["video"]
    assert video["kind"] == "video" and video["shape"] == [12, 64, 96, 3] and video["dtype"] == "float32"
    assert probe_video(video["path"]).frame_count == 12
    cam = doc["outputs"]["camera"]
    assert cam["kind"] == "array" and cam["shape"] == [12, 3, 3]
    assert np.allclose(np.array(cam["data"])[-1][0][0], 1.5)
    r = run_cli("eval", str(p), "photo", "--port", "image", "--json", "--out-dir", str(tmp_path / "ev"))
    img = json.loads(r.stdout)["outputs"]["image"]
    assert img["kind"] == "image" and img["shape"] == [512, 512, 3] and Path(img["path"]).is_file()
    r = run_cli("eval", str(p), "nope", "--json")
    assert r.returncode == 2 and "no node with id 'nope'" in r.stderr
    r = run_cli("eval", str(p), "cam", "--port", "zzz")
    assert r.returncode == 2 and "has no output 'zzz'" in r.stderr


def test_eval_writes_an_interpolated_clip_at_its_own_rate(tmp_path):
    """Interpolate x2's 24 frames are written at 48 fps (the same 0.5 s), not at the project's 24 (slow motion)."""
    p = interpolated_project(tmp_path / "proj")
    r = run_cli("eval", str(p), "it", "--json", "--out-dir", str(tmp_path / "ev"))
    assert r.returncode == 0, r.stderr
    video = json.loads(r.stdout)["outputs"]["video"]
    assert video["shape"] == [24, 64, 96, 3] and video["fps"] == "48"
    info = probe_video(video["path"])
    assert (info.frame_count, info.fps) == (24, 48)


def test_nodes_json_lists_ports_and_params():
    r = run_cli("nodes", "--json")
    assert r.returncode == 0
    nodes = {n["type"]: n for n in json.loads(r.stdout)["nodes"]}
    cam = nodes["CameraMove"]
    assert [o["name"] for o in cam["outputs"]] == ["video", "camera"]
    zoom = next(p for p in cam["params"] if p["name"] == "zoom")
    assert zoom["animatable"] and zoom["min"] == 0.05
    assert run_cli("nodes").returncode == 0
