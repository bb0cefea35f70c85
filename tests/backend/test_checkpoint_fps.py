"""A checkpoint's native frame rate (``Checkpoint.fps``, else the family's): what the capability table and the
docs list, and the validation warning when a project's rate differs, torch-free on config-only model folders."""

from __future__ import annotations

import json

import pytest

from tests.backend.realconfigs import write_configs
from vidstudio.families import Request, check_request, describe, fps_problem, get_spec
from vidstudio.graph.validate import validate_graph
from vidstudio.nodes import default_registry
from vidstudio.project import loads_project


def test_native_rate_of_the_checkpoint_else_the_family():
    cog = get_spec("cogvideox")
    assert cog.fps_for("cogvideox1.5-t2v") == (16, "the native rate of CogVideoX 1.5 5B")
    assert cog.fps_for("cogvideox-t2v") == (8, "the CogVideoX native rate")
    assert cog.fps_for(None)[0] == 8
    assert get_spec("wan").fps_for("wan2.2-ti2v-5b")[0] == 24 and get_spec("wan").fps_for("wan2.1-t2v")[0] == 16
    assert get_spec("ltx").fps_for("ltx-13b")[0] == 30 and get_spec("ltx").fps_for("ltx-2b")[0] == 24
    ck = describe()["families"]["cogvideox"]["checkpoints"]
    assert ck["cogvideox1.5-i2v"]["fps"] == 16 and "fps" not in ck["cogvideox-i2v"]


def test_off_rate_message_names_both_rates_and_the_consequence():
    msg = fps_problem("cogvideox", "cogvideox1.5-t2v", 24)
    assert msg.startswith("the project is 24 fps, CogVideoX 1.5 5B makes 16 fps video (the native rate of")
    assert "plays 1.5x as fast" in msg and "set the project's fps to 16" in msg
    assert fps_problem("cogvideox", "cogvideox1.5-t2v", 16) is None
    assert "plays 0.5x as fast" in fps_problem("cogvideox", "cogvideox1.5-t2v", 8)
    # a model told the rate (LTX-Video's frame_rate) is asked for motion at a rate other than its training rate
    ltx = fps_problem("ltx", "ltx-13b", 24)
    assert "makes 30 fps video" in ltx and "told 24 fps (frame_rate)" in ltx
    assert fps_problem("svd", "svd-xt", 7) is None and "(fps)" in fps_problem("svd", "svd-xt", 24)
    assert "23.976 fps" in fps_problem("wan", "wan2.2-ti2v-5b", 24000 / 1001)


def _project(folder, fps: str, frames: int = 17) -> object:
    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": fps, "frame_count": frames},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"family": "auto", "model": str(folder)}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 2}},
            {"id": "gen", "type": "Generate", "params": {}},
        ],
        "links": [
            {"from": "model.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
        ],
    }
    return loads_project(json.dumps(doc))


def _issues(p, severity):
    return [str(i) for i in validate_graph(p, default_registry(), p.settings) if i.severity == severity]


@pytest.mark.parametrize(
    "name,native,title",
    [
        ("cogvideox15_5b", 16, "CogVideoX 1.5 5B"),
        ("wan22_ti2v_5b", 24, "Wan 2.2 TI2V-5B"),
        ("ltx098_13b", 30, "LTX-Video 0.9.7 / 0.9.8 13B"),
        ("wan21_t2v_1_3b", 16, "Wan 2.1 T2V"),
    ],
)
def test_validation_warns_when_the_project_rate_is_not_the_checkpoints(tmp_path, name, native, title):
    """The model folder's configs (no weights) name the checkpoint; at another rate the Generate node gets a
    warning (not an error: the project still runs) naming both rates; at the native rate none."""
    folder = write_configs(name, tmp_path / name)
    other = "12" if native != 12 else "24"
    warnings = [w for w in _issues(_project(folder, other), "warning") if "fps" in w]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"node 'gen' project setting 'fps': the project is {other} fps, {title} makes ")
    assert f"makes {native} fps video" in warnings[0]
    assert not [w for w in _issues(_project(folder, str(native)), "warning") if "project setting 'fps'" in w]
    assert _issues(_project(folder, other), "error") == []


def test_wan22_ti2v_5b_makes_its_121_frames_in_one_pass():
    """Wan 2.2 TI2V-5B's published clip is 121 frames at 24 fps (the other Wan models: 81 at 16): the family's
    81-frame window no longer refuses it; past 121 the Extend node is named."""
    ok = check_request("wan", Request(controls={"text"}, frames=121), variant="ti2v", checkpoint="wan2.2-ti2v-5b")
    assert ok.ok, ok.problems
    far = check_request("wan", Request(controls={"text"}, frames=125), variant="ti2v", checkpoint="wan2.2-ti2v-5b")
    assert "makes at most 121 frames in one pass" in dict(far.problems)["frames"]
    t2v = check_request("wan", Request(controls={"text"}, frames=121), variant="t2v", checkpoint="wan2.1-t2v")
    assert "makes at most 81 frames in one pass" in dict(t2v.problems)["frames"]


def test_a_served_checkpoint_defaults_to_its_native_rate(tmp_path):
    """A server's models folder with CogVideoX 1.5 (configs only): the catalogue knows the checkpoint, and a
    simple request without an fps gets its 16 fps (the CogVideoX family's is 8)."""
    from vidstudio.protocol.models import SimpleGeneration
    from vidstudio.server.build import build_simple
    from vidstudio.server.models import ModelCatalog

    write_configs("cogvideox15_5b", tmp_path / "models" / "cog15")
    catalog = ModelCatalog([tmp_path / "models"], scan_hf_cache=False)
    entry = catalog.resolve("cog15")
    assert (entry.family, entry.checkpoint) == ("cogvideox", "cogvideox1.5-t2v")
    spec = build_simple(SimpleGeneration(prompt="a fox", model="cog15", duration_seconds=1.0), catalog, None, "j")
    settings = json.loads(spec.project)["settings"]
    assert settings["fps"] == "16" and settings["frame_count"] == 17
