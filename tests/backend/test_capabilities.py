"""The capability table and the frame/size rules (torch-free): what a user is told before any model loads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vidstudio.families import (
    CAPABILITIES,
    CONTROLS,
    FAMILIES,
    FAMILY_RULES,
    GeometryRule,
    Request,
    check_request,
    describe,
    families_that_can,
    rules_for_folder,
    table_lines,
)


def test_table_is_well_formed_and_json():
    for fam in FAMILIES:
        assert set(CAPABILITIES[fam]) <= set(CONTROLS), fam
    doc = json.loads(json.dumps(describe()))
    assert set(doc["families"]) == set(FAMILIES)
    assert doc["families"]["wan"]["controls"]["keyframes"]["keyframe_frames"] == {
        "i2v": "first_last",
        "vace": "any",
        "ti2v": "first",
    }
    assert doc["families"]["ltx"]["rules"]["frame_step"] == 8 and doc["families"]["ltx"]["rules"]["side_multiple"] == 32
    assert doc["families"]["svd"]["requires"] == {"all": ["keyframe0"]}
    lines = table_lines()
    row = next(l for l in lines if l.startswith("mask"))
    assert row.split()[1:] == ["-", "-", "vace", "-", "-", "-", "-"]  # ..., cogvideox, hunyuan15, ltx2
    assert "i2v 0+last; vace any" in next(l for l in lines if l.startswith("keyframes"))


def test_importing_the_table_does_not_import_torch():
    code = (
        "import sys, vidstudio.backend, vidstudio.families, vidstudio.backend.bundle, "
        "vidstudio.backend.locate, vidstudio.backend.noise, vidstudio.nodes.generate\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unsupported_control_names_control_and_families():
    res = check_request("svd", Request(controls={"text", "guide_video"}, frames=14, width=64, height=64))
    msgs = dict(res.problems)
    assert "control 'text'" in msgs["text"] and "families that can: animatediff, ltx, wan, cogvideox" in msgs["text"]
    assert "families that can: animatediff, ltx, wan, cogvideox" in msgs["guide_video"]
    # and svd needs its image
    assert any("needs an image to animate: a keyframe at frame 0" in m for _, m in res.problems)
    assert families_that_can("mask") == ["wan"]
    assert families_that_can("keyframes", "any") == ["animatediff", "ltx", "wan"]


def test_keyframe_positions_per_family_and_variant():
    req = Request(controls={"keyframes", "text"}, keyframe_frames=[0, 7], frames=17, width=64, height=64)
    ok = check_request("ltx", req)
    assert ok.ok, ok.problems
    svd = check_request("svd", Request(controls={"keyframes"}, keyframe_frames=[0, 7], frames=17))
    assert "svd takes keyframes at frame 0 only" in dict(svd.problems)["keyframes"]
    assert "families that can: animatediff, ltx, wan" in dict(svd.problems)["keyframes"]
    # Wan: the family can (VACE), an i2v checkpoint cannot, and the message names the checkpoint to use
    assert check_request("wan", req).ok
    i2v = check_request("wan", req, variant="i2v")
    assert "frame 0 and the last frame only" in i2v.problems[0][1] and "vace" in i2v.problems[0][1]
    assert check_request("wan", Request(controls={"keyframes"}, keyframe_frames=[0, 16], frames=17), variant="i2v").ok
    t2v = check_request("wan", req, variant="t2v")
    assert "this wan checkpoint (t2v) cannot honour" in t2v.problems[0][1] and "Wan2.1-VACE" in t2v.problems[0][1]
    # an i2v checkpoint needs its first frame
    need = check_request("cogvideox", Request(controls={"text"}, frames=17), variant="i2v")
    assert "needs an image to animate" in need.problems[0][1]


def test_guide_video_start_frame():
    req = Request(controls={"text", "guide_video"}, guide_start=8, frames=17, width=64, height=64)
    assert check_request("ltx", req).ok and check_request("wan", req, variant="vace").ok
    msg = dict(check_request("animatediff", req).problems)["guide_video"]
    assert "from frame 0 only" in msg and "starts it at frame 8" in msg and "families that can: ltx, wan" in msg
    assert "Wan2.1-VACE" in dict(check_request("wan", req, variant="t2v").problems)["guide_video"]
    late = Request(controls={"guide_video"}, guide_start=20, frames=17)
    assert "beyond the 17 frames" in dict(check_request("ltx", late).problems)["guide_video"]


def test_exclusive_controls_and_limits():
    res = check_request("animatediff", Request(controls={"keyframes", "guide_video"}, keyframe_frames=[0], frames=16))
    assert "cannot combine" in res.problems[0][1]
    res = check_request("animatediff", Request(controls={"keyframes"}, keyframe_frames=[0], frames=40))
    assert "at most 32 frames" in res.problems[0][1]
    assert check_request("animatediff", Request(controls={"text"}, frames=40)).ok  # FreeNoise
    res = check_request("wan", Request(controls={"text", "mask"}, frames=17), variant="vace")
    assert res.problems == [
        (
            "mask",
            "wan masks choose where to generate and where to keep the guide video (black "
            "keeps it, white is generated); without a guide video the kept part would be "
            "flat grey (control 'mask'): link a guide video too",
        )
    ]
    assert check_request("wan", Request(controls={"text", "mask", "guide_video"}, frames=17), variant="vace").ok


def test_exact_size_of_learned_positional_embeddings(tmp_path):
    (tmp_path / "vae").mkdir()
    (tmp_path / "transformer").mkdir()
    (tmp_path / "vae" / "config.json").write_text(json.dumps({"block_out_channels": [128, 256, 256, 512]}))
    (tmp_path / "transformer" / "config.json").write_text(
        json.dumps(
            {"patch_size": 2, "use_learned_positional_embeddings": True, "sample_width": 90, "sample_height": 60}
        )
    )
    rule = rules_for_folder(tmp_path, "cogvideox")
    assert rule.exact_size == (720, 480)
    req = Request(controls={"keyframes", "text"}, keyframe_frames=[0], frames=49, width=640, height=480)
    assert "makes only 720x480" in dict(check_request("cogvideox", req, variant="i2v", rule=rule).problems)["size"]
    snapped = check_request("cogvideox", req, variant="i2v", rule=rule, snap=True)
    assert snapped.ok and (snapped.width, snapped.height) == (720, 480)


@pytest.mark.parametrize(
    "family,frames,expect",
    [
        ("ltx", 24, 25),
        ("ltx", 20, 17),
        ("ltx", 21, 25),
        ("ltx", 3, 9),
        ("wan", 24, 25),
        ("wan", 22, 21),
        ("cogvideox", 48, 49),
        ("animatediff", 24, 24),
    ],
)
def test_frame_rules_refuse_or_snap(family, frames, expect):
    req = Request(controls={"text"}, frames=frames, width=64, height=64)
    rule = FAMILY_RULES[family]
    refused = check_request(family, req)
    snapped = check_request(family, req, snap=True)
    assert snapped.ok and snapped.frames == expect
    if expect == frames:
        assert refused.ok and not snapped.notes
    else:
        msg = dict(refused.problems)["frames"]
        assert f"{rule.frame_step}k+1 frames" in msg and f"the project has {frames}" in msg and str(expect) in msg
        assert f"generating {expect} frames instead of {frames}" in snapped.notes[0]


def test_size_rules_refuse_or_snap():
    req = Request(controls={"text"}, frames=25, width=500, height=300)
    msg = dict(check_request("ltx", req).problems)["size"]
    assert "divisible by 32" in msg and "500x300" in msg and "512x288" in msg
    snapped = check_request("ltx", req, snap=True)
    assert (snapped.width, snapped.height) == (512, 288) and "512x288 instead of 500x300" in snapped.notes[0]
    assert check_request("wan", Request(controls={"text"}, frames=25, width=832, height=480)).ok
    svd = GeometryRule(exact_frames=14)
    res = check_request(
        "svd", Request(controls={"keyframes"}, keyframe_frames=[0], frames=25, width=64, height=64), rule=svd
    )
    assert "exactly 14 frames" in dict(res.problems)["frames"]


def test_rules_read_from_tiny_model_configs(tiny):
    assert rules_for_folder(tiny("ltx"), "ltx") == GeometryRule(8, None, 32, str(tiny("ltx")))
    assert (
        rules_for_folder(tiny("wan"), "wan").frame_step == 4
        and rules_for_folder(tiny("wan"), "wan").side_multiple == 16
    )
    cog = rules_for_folder(tiny("cogvideox"), "cogvideox")
    # CogVideoX 1.0 (no temporal patch): an odd latent frame count, 8k+1 frames (its VAE decodes latents in pairs)
    assert (cog.frame_step, cog.side_multiple) == (8, 16)
    svd = rules_for_folder(tiny("svd"), "svd")
    assert (svd.exact_frames, svd.side_multiple) == (14, 8)
    assert rules_for_folder(tiny("animatediff"), "animatediff").side_multiple == 16
