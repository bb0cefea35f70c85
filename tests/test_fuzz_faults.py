"""Issue 15 point 9: a bounded, deterministic fuzz and fault suite replaying the hostile-user cases. Every
property runs a fixed number of derandomised examples (hypothesis), so the suite is the same on every run and
stays within a few seconds; the fault cases kill real processes at chosen points."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import EXAMPLES
from vidstudio.budget import Limits, check, estimate
from vidstudio.errors import MediaError, ProjectError
from vidstudio.fsutil import clean_strays, regular_file_problem, temp_prefix
from vidstudio.media.video import _ffmeta_escape, _parse_ffmetadata
from vidstudio.project.io import MAX_JSON_DEPTH, dumps_project, load_project, loads_project

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=30,
)


def nest(value, depth: int):
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


BASE = json.loads((EXAMPLES / "ken_burns.vidproj").read_text())


@FUZZ
@given(extra=json_values, depth=st.integers(0, MAX_JSON_DEPTH + 40), where=st.sampled_from(["top", "param", "node"]))
def test_any_document_loads_or_is_a_project_error_and_what_loads_saves(extra, depth, where):
    doc = json.loads(json.dumps(BASE))
    junk = nest(extra, depth)
    if where == "top":
        doc["junk"] = junk
    elif where == "param":
        doc["nodes"][1]["params"]["junk"] = junk
    else:
        doc["nodes"][0] = junk if depth else extra
    try:
        p = loads_project(json.dumps(doc), "fuzz.vidproj")
    except ProjectError as e:
        assert str(e).startswith("fuzz.vidproj: ")
        return
    text = dumps_project(p)  # validate and save agree: what loads, saves
    assert loads_project(text).to_dict() == p.to_dict()


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_are_a_project_or_a_project_error(raw):
    try:
        loads_project(raw, "bytes.vidproj")
    except ProjectError:
        pass


@FUZZ
@given(
    key=st.text(min_size=1, max_size=20).filter(lambda k: not k.startswith(("[", ";", "#"))),
    value=st.text(max_size=200),
)
def test_ffmetadata_round_trips_any_text(key, value):
    text = ";FFMETADATA1\n" + f"{_ffmeta_escape(key)}={_ffmeta_escape(value)}\n[STREAM]\nx=1\n"
    assert _parse_ffmetadata(text) == {key: value}


@FUZZ
@given(name=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_path_tricks_never_raise_anything_but_the_documented_errors(name, tmp_path_factory):
    from vidstudio.media.image import load_image

    base = tmp_path_factory.getbasetemp()
    for candidate in (name, base / name, f"{name}/../{name}", "\0" + name, "~/" + name):
        why = regular_file_problem(candidate)  # never raises, not even for a NUL byte or a too long name
        assert why is None or isinstance(why, str)
        try:
            load_project(candidate)
        except ProjectError:
            pass
        try:
            load_image(candidate)
        except MediaError:
            pass


@FUZZ
@given(tail=st.sampled_from(["\n", "\r\n", " ", "\t", "\x00", ""]))
def test_link_ids_with_trailing_whitespace_are_refused(tail):
    doc = json.loads(json.dumps(BASE))
    doc["links"][0]["from"] = f"photo{tail}.image"
    doc["links"][0]["to"] = f"cam.image{tail}"
    if tail:
        with pytest.raises(ProjectError, match="must look like 'node_id.port'"):
            loads_project(json.dumps(doc))
    else:
        loads_project(json.dumps(doc))


@FUZZ
@given(
    family=st.sampled_from(["ltx", "wan", "cogvideox", "svd", "animatediff", "other", None]),
    w=st.integers(1, 8192),
    h=st.integers(1, 8192),
    f=st.integers(1, 100_000),
    steps=st.integers(1, 10_000),
    grow=st.integers(1, 64),
)
def test_the_budget_grows_with_the_request_and_never_raises(family, w, h, f, steps, grow):
    e = estimate(family, w, h, f, steps)
    bigger = estimate(family, w + grow * 32, h, f + grow * 8, steps)
    assert bigger.device_bytes >= e.device_bytes and bigger.tokens >= e.tokens
    problems = check(e, Limits(), device_bytes=80e9)
    over = (w * h > Limits().max_pixels) + (f > Limits().max_frames) + (steps > Limits().max_steps)
    assert len([p for p in problems if p[0] != "device"]) == over


@FUZZ
@given(
    names=st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=8), min_size=1, max_size=5, unique=True
    )
)
def test_stray_cleaning_removes_only_dead_writers_temporaries_of_that_target(names, tmp_path_factory):
    d = tmp_path_factory.mktemp("strays")
    target = "p.vidproj"
    dead = d / f".{target}.999999999-{names[0]}.saving"  # no such process
    live = d / f"{temp_prefix(target)}{names[0]}.saving"  # this process: still writing
    others = [d / f".{n}.999999999-x.saving" for n in names if n != target] + [d / target, d / f"{names[0]}.txt"]
    for f in [dead, live, *others]:
        f.write_text("x")
    removed = clean_strays(d, target)
    assert removed == [dead] and live.exists() and all(f.exists() for f in others)


# -- faults: real processes killed at chosen points ------------------------------------------------------
KILL_AT = {
    "while writing": "io.os.fsync",
    "before the rename": "io.os.replace",
    "after the rename": "io._fsync_dir",
}


@pytest.mark.parametrize("point", sorted(KILL_AT))
def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_file_and_no_stray_after_the_next(tmp_path, point):
    target = tmp_path / "p.vidproj"
    target.write_text((EXAMPLES / "ken_burns.vidproj").read_text())
    old = load_project(target).to_dict()
    mod, _, attr = KILL_AT[point].rpartition(".")
    code = (
        "import os, signal; from vidstudio.project import io\n"
        f"p = io.load_project({str(target)!r}); p.description = 'new'\n"
        f"setattr({mod}, {attr!r}, lambda *a: os.kill(os.getpid(), signal.SIGKILL))\n"
        "io.save_project(p)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    now = load_project(target).to_dict()
    assert now == old or now["description"] == "new"  # whole, never half
    p = load_project(target)
    p.description = "again"
    from vidstudio.project.io import save_project

    save_project(p)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["p.vidproj", "p.vidproj.bak"]
