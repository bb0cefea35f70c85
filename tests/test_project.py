"""The project document: round trips, unknown keys, errors with JSON paths, versions and migrations, atomic
saves under simulated crashes, backups, rebasing paths, recovery files, and a fuzzed loader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import EXAMPLES
from vidstudio.errors import ProjectError
from vidstudio.nodes import default_registry
from vidstudio.project import (
    FORMAT_VERSION,
    Project,
    dumps_project,
    find_recovery,
    load_project,
    load_recovery,
    loads_project,
    migrations,
    save_project,
    write_recovery,
)

DOC = {
    "format_version": 1,
    "settings": {"width": 640, "height": 360, "fps": "30000/1001", "frame_count": 24, "future_setting": {"x": 1}},
    "nodes": [
        {"id": "photo", "type": "LoadImage", "params": {"path": "assets/a.png"}, "position": [10, 20], "color": "#f00"},
        {"id": "cam", "type": "CameraMove", "params": {"fit": "contain"}, "position": [200, 20]},
    ],
    "links": [{"from": "photo.image", "to": "cam.image", "style": "dashed"}],
    "animation": {
        "cam.zoom": {"keys": [{"frame": 0, "value": 1, "mystery": 1}, {"frame": 23, "value": 2}], "color": "blue"}
    },
    "assets": [{"id": "a", "path": "assets/a.png", "license": "CC0", "checksum": "abc"}],
    "editor": {"zoom": 1.5, "scroll": [1, 2]},
}


def test_round_trip_keeps_unknown_keys_everywhere(tmp_path):
    p = tmp_path / "p.vidproj"
    p.write_text(json.dumps(DOC))
    proj = load_project(p)
    assert proj.settings.fps == Fraction(30000, 1001)
    save_project(proj, p)
    back = json.loads(p.read_text())
    assert back["editor"] == DOC["editor"]
    assert back["settings"]["future_setting"] == {"x": 1}
    assert back["settings"]["fps"] == "30000/1001"
    assert back["nodes"][0]["color"] == "#f00"
    assert back["links"][0] == {"from": "photo.image", "to": "cam.image", "style": "dashed"}
    assert back["animation"]["cam.zoom"]["color"] == "blue"
    assert back["animation"]["cam.zoom"]["keys"][0]["mystery"] == 1
    assert back["assets"][0]["checksum"] == "abc"
    assert list(back)[0] == "format_version"
    # A second round trip is byte-identical.
    text = p.read_text()
    save_project(load_project(p), p)
    assert p.read_text() == text


@pytest.mark.parametrize(
    "patch,where,words",
    [
        ({"settings": {"width": 100000}}, "$.settings.width", "less than or equal to 8192"),
        ({"settings": {"width": "wide"}}, "$.settings.width", "valid integer"),
        ({"settings": {"fps": "abc"}}, "$.settings.fps", "ratio string"),
        ({"settings": {"frame_count": 0}}, "$.settings.frame_count", "greater than or equal to 1"),
        ({"nodes": [{"id": "1bad", "type": "X"}]}, "$.nodes[0].id", "should match pattern"),
        ({"nodes": [{"id": "a"}]}, "$.nodes[0].type", "Field required"),
        ({"nodes": [{"id": "a", "type": "X"}, {"id": "a", "type": "Y"}]}, "$.nodes", "[1].id 'a' repeats [0].id"),
        ({"links": [{"from": "a", "to": "b.c"}]}, "$.links[0].from", "must look like 'node_id.port'"),
        ({"animation": {"cam.zoom": {"keys": []}}}, '$.animation["cam.zoom"].keys', "at least 1 item"),
        (
            {"animation": {"zoom": {"keys": [{"frame": 0, "value": 1}]}}},
            "$.animation",
            "an animation key must look like",
        ),
        (
            {"animation": {"c.z": {"keys": [{"frame": 0, "value": 1, "interpolation": "wobbly"}]}}},
            '$.animation["c.z"].keys[0].interpolation',
            "Input should be",
        ),
    ],
)
def test_errors_name_json_path(patch, where, words):
    doc = {**DOC, **patch}
    with pytest.raises(ProjectError) as e:
        loads_project(json.dumps(doc), "my.vidproj")
    lines = e.value.lines()
    assert any(l.startswith(f"my.vidproj: {where}: ") and words in l for l in lines), lines


@pytest.mark.parametrize(
    "content,words",
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a text file"),
        (b"\xff\xfe\xfa", "not UTF-8 text"),
        (json.dumps(DOC).encode()[:150], "looks truncated"),
        (b"[1, 2]", "expected a JSON object, found list"),
        (b'{"nodes": []}', "$.format_version: missing"),
        (b'{"format_version": "1"}', "$.format_version: must be a whole number"),
        (json.dumps({**DOC, "format_version": FORMAT_VERSION + 1}).encode(), "newer than this VidStudio reads"),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path, content, words):
    p = tmp_path / "bad.vidproj"
    p.write_bytes(content)
    with pytest.raises(ProjectError) as e:
        load_project(p)
    assert str(e.value).startswith(str(p) + ": ")
    assert words in str(e.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectError, match="file not found"):
        load_project(tmp_path / "nope.vidproj")
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)


def test_migration_hook_upgrades_old_documents(monkeypatch):
    monkeypatch.setattr("vidstudio.project.document.FORMAT_VERSION", 2)
    monkeypatch.setitem(
        migrations.MIGRATIONS, 1, lambda d: {**d, "nodes": [{**n, "id": n.pop("name")} for n in d["nodes"]]}
    )
    doc = {"format_version": 1, "nodes": [{"name": "a", "type": "X"}]}
    proj = loads_project(json.dumps(doc))
    assert proj.format_version == 2 and proj.nodes[0].id == "a"
    monkeypatch.delitem(migrations.MIGRATIONS, 1)
    with pytest.raises(ProjectError, match="no upgrade from format 1 to 2"):
        loads_project(json.dumps(doc))


# ------------------------------------------------------------------------------------------ atomic saves
def test_save_keeps_backup_of_previous_version(tmp_path):
    p = tmp_path / "p.vidproj"
    proj = loads_project(json.dumps(DOC))
    save_project(proj, p)
    first = p.read_text()
    proj.settings.frame_count = 99
    save_project(proj)
    assert json.loads(p.read_text())["settings"]["frame_count"] == 99
    assert (tmp_path / "p.vidproj.bak").read_text() == first
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p.vidproj", "p.vidproj.bak"]


def test_failure_before_rename_leaves_original_untouched(tmp_path, monkeypatch):
    p = tmp_path / "p.vidproj"
    proj = loads_project(json.dumps(DOC))
    save_project(proj, p)
    before = p.read_bytes()

    def crash(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    proj.settings.frame_count = 5
    with pytest.raises(ProjectError, match="cannot save .*No space left on device"):
        save_project(proj, p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p.vidproj"]  # no temporary file left behind


def test_failed_rename_keeps_the_new_version_and_says_where(tmp_path, monkeypatch):
    p = tmp_path / "p.vidproj"
    proj = loads_project(json.dumps(DOC))
    save_project(proj, p)
    before = p.read_bytes()
    real = os.replace

    def replace(src, dst):
        if Path(dst) == p:
            raise OSError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(ProjectError, match=r"the new version is kept in .*\.saving"):
        save_project(proj, p)
    assert p.read_bytes() == before
    kept = list(tmp_path.glob(".p.vidproj.*.saving"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["format_version"] == 1


def test_process_killed_mid_save_never_truncates_the_project(tmp_path):
    """A writer process is SIGKILLed while it writes a large document slowly; the file on disk is always the
    complete old version."""
    p = tmp_path / "p.vidproj"
    proj = loads_project(json.dumps(DOC))
    save_project(proj, p)
    before = p.read_bytes()
    script = f"""
import json, os, sys, time
from vidstudio.project import load_project, save_project
import vidstudio.project.io as io
proj = load_project({str(p)!r})
proj.nodes[0].params["note"] = "x" * 5_000_000
real = os.fdopen
class Slow:
    def __init__(self, f): self.f = f
    def __enter__(self): return self
    def __exit__(self, *a): return self.f.__exit__(*a)
    def write(self, s):
        for i in range(0, len(s), 65536):
            self.f.write(s[i:i + 65536]); self.f.flush()
            if i == 65536 * 4: print("writing", flush=True)
            time.sleep(0.01)
    def flush(self): self.f.flush()
    def fileno(self): return self.f.fileno()
io.os.fdopen = lambda *a, **k: Slow(real(*a, **k))
save_project(proj, {str(p)!r})
print("done", flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert p.read_bytes() == before
    assert load_project(p).nodes[0].id == "photo"


def test_save_as_elsewhere_rebases_relative_paths(tmp_path):
    src = tmp_path / "a" / "p.vidproj"
    src.parent.mkdir()
    (tmp_path / "a" / "assets").mkdir()
    (tmp_path / "a" / "assets" / "a.png").write_bytes(b"x")
    src.write_text(json.dumps(DOC))
    proj = load_project(src)
    dst = tmp_path / "b" / "c" / "copy.vidproj"
    save_project(proj, dst, registry=default_registry())
    saved = json.loads(dst.read_text())
    assert saved["assets"][0]["path"] == "../../a/assets/a.png"
    assert saved["nodes"][0]["params"]["path"] == "../../a/assets/a.png"
    assert (dst.parent / saved["nodes"][0]["params"]["path"]).resolve() == (tmp_path / "a/assets/a.png").resolve()
    assert proj.path == dst.resolve()


def test_examples_load_and_validate(monkeypatch):
    from vidstudio.graph.validate import validate_graph

    # online, a model that is not downloaded yet is a warning (offline, an error: the run would stop there);
    # validation looks in the cache only
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    reg = default_registry()
    found = sorted(EXAMPLES.glob("*.vidproj"))
    assert found
    for f in found:
        proj = load_project(f)
        errors = [i for i in validate_graph(proj, reg, proj.settings) if i.severity == "error"]
        assert not errors, (f.name, [str(e) for e in errors])


# ------------------------------------------------------------------------------------------ recovery
def test_recovery_file_offered_only_when_newer(tmp_path):
    p = tmp_path / "p.vidproj"
    proj = loads_project(json.dumps(DOC))
    save_project(proj, p)
    assert find_recovery(p) is None
    proj.settings.frame_count = 7
    time.sleep(0.02)
    rec = write_recovery(proj)
    info = find_recovery(p)
    assert info is not None and info.path == rec and info.project_path == p.resolve()
    restored = load_recovery(rec)
    assert restored.settings.frame_count == 7 and restored.path == p.resolve()
    assert "recovery" not in json.loads(dumps_project(restored))
    time.sleep(0.02)
    save_project(restored)
    assert find_recovery(p) is None


def test_recovery_of_unsaved_project(tmp_path):
    proj = Project()
    rec = write_recovery(proj, session="s1")
    assert find_recovery(None, session="s1").path == rec
    assert load_recovery(rec).path is None


# ------------------------------------------------------------------------------------------ fuzzing
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.dictionaries(
        st.sampled_from(["format_version", "settings", "nodes", "links", "animation", "assets", "x"]),
        json_values,
        max_size=6,
    )
)
def test_random_documents_only_raise_project_error(doc):
    doc.setdefault("format_version", 1)
    try:
        loads_project(json.dumps(doc))
    except ProjectError:
        pass


@settings(max_examples=300, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(json.dumps(DOC))), junk=st.binary(max_size=8))
def test_truncated_or_corrupted_documents_only_raise_project_error(cut, junk):
    text = json.dumps(DOC).encode()
    try:
        loads_project(text[:cut] + junk)
    except ProjectError as e:
        assert e.problems
