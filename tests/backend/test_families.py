"""The family specs (torch-free data) and the adapters registered for them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vidstudio.families import SPECS, Request, check_request, read_configs, recognise, spec_modules


def test_specs_are_found_by_module_and_import_no_torch():
    code = (
        "import sys, importlib, vidstudio.families as f\n"
        "[importlib.import_module(m) for m in f.spec_modules()]\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers', 'numpy', "
        "'PySide6'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert [m.rsplit(".", 1)[1] for m in spec_modules()] == sorted(SPECS)


def test_every_spec_has_one_adapter_registered_under_its_id():
    pytest.importorskip("torch")
    from vidstudio.backend.families import adapter_class, all_adapters

    adapters = all_adapters()
    assert list(adapters) == list(SPECS)
    for fam, cls in adapters.items():
        assert cls.family == fam and cls.spec is SPECS[fam]
        assert cls.__module__ == f"vidstudio.backend.families.{fam}"
    with pytest.raises(ValueError, match="unknown model family 'mochi'"):
        adapter_class("mochi")


def test_every_pipeline_class_a_spec_names_exists_in_diffusers():
    diffusers = pytest.importorskip("diffusers")
    for spec in SPECS.values():
        names = set(spec.pipelines.values()) | {c for v in spec.variants for c in v.pipeline_classes}
        for name in names:
            assert hasattr(diffusers, name), (spec.id, name)


@pytest.mark.parametrize(
    "index,configs,expect",
    [
        ({"_class_name": "WanPipeline", "transformer_2": [None, None]}, {}, ("t2v", "wan2.1-t2v")),
        (
            {
                "_class_name": "WanPipeline",
                "transformer_2": ["diffusers", "WanTransformer3DModel"],
                "boundary_ratio": 0.875,
            },
            {},
            ("t2v", "wan2.2-t2v-a14b"),
        ),
        ({"_class_name": "WanPipeline", "expand_timesteps": True}, {}, ("ti2v", "wan2.2-ti2v-5b")),
        (
            {"_class_name": "WanImageToVideoPipeline", "image_encoder": ["transformers", "CLIPVisionModel"]},
            {"transformer": {"pos_embed_seq_len": 514}},
            ("i2v", "wan2.1-flf2v"),
        ),
        (
            {"_class_name": "WanImageToVideoPipeline", "image_encoder": ["transformers", "CLIPVisionModel"]},
            {"transformer": {"pos_embed_seq_len": None}},
            ("i2v", "wan2.1-i2v"),
        ),
        (
            {
                "_class_name": "WanImageToVideoPipeline",
                "image_encoder": [None, None],
                "transformer_2": ["diffusers", "WanTransformer3DModel"],
            },
            {},
            ("i2v", "wan2.2-i2v-a14b"),
        ),
        ({"_class_name": "StableDiffusionPipeline"}, {}, ("sd15", "")),
    ],
)
def test_variants_and_checkpoints_are_recognised_from_model_index_and_configs(index, configs, expect):
    from vidstudio.families import Configs

    c = Configs("x", index, {}, configs.get("transformer", {}), {})
    found = recognise(index, c)
    assert (found.variant, found.checkpoint) == expect
    assert recognise({"_class_name": "FluxPipeline"}) is None


def test_checkpoint_narrows_keyframes_and_adds_requirements():
    one = Request(controls={"text", "keyframes"}, keyframe_frames=[0], frames=17, width=64, height=64)
    both = Request(controls={"text", "keyframes"}, keyframe_frames=[0, 16], frames=17, width=64, height=64)
    # a first-and-last-frame checkpoint refuses a first frame alone (inside the pipeline it is a shape error)
    res = check_request("wan", one, variant="i2v", checkpoint="wan2.1-flf2v")
    assert "needs a keyframe at the last frame (16) as well as at frame 0" in dict(res.problems)["keyframes"]
    assert check_request("wan", both, variant="i2v", checkpoint="wan2.1-flf2v").ok
    # Wan 2.1 I2V takes the first frame only; Wan 2.2 I2V-A14B either
    res = check_request("wan", both, variant="i2v", checkpoint="wan2.1-i2v")
    assert "Wan 2.1 I2V (first frame)) takes keyframes at frame 0 only" in dict(res.problems)["keyframes"]
    assert check_request("wan", one, variant="i2v", checkpoint="wan2.2-i2v-a14b").ok
    assert check_request("wan", both, variant="i2v", checkpoint="wan2.2-i2v-a14b").ok
    # TI2V-5B: text alone or a first frame
    assert check_request("wan", Request(controls={"text"}, frames=17), variant="ti2v").ok
    assert check_request("wan", one, variant="ti2v").ok
    assert not check_request("wan", both, variant="ti2v").ok


def test_tiny_first_and_last_frame_model_is_recognised_from_its_folder(tiny):
    folder = tiny("wan", "i2v")
    found = recognise(read_configs(folder).index, read_configs(folder))
    assert (found.family, found.variant, found.checkpoint) == ("wan", "i2v", "wan2.1-flf2v")


def test_docs_tables_are_the_generated_ones():
    from pathlib import Path

    from vidstudio.families import _docs

    doc = Path(__file__).resolve().parents[2] / "docs" / "backend.md"
    text = doc.read_text()
    for name in _docs.TABLES:
        assert f"<!-- families:{name} -->" in text, name
    assert _docs.render(text) == text, "run: python -m vidstudio.families._docs docs/backend.md"
    # and the check notices a stale table
    stale = text.replace("| `mask` | - | - | vace |", "| `mask` | - | - | t2v |")
    assert stale != text and _docs.render(stale) == text


def test_hunyuan15_and_ltx2_validation_before_loading():
    """The new families' rules are enforced torch-free: HunyuanVideo 1.5 takes a keyframe at frame 0 only and
    its I2V checkpoint needs one; 4k+1 frames, sides multiple of 16; LTX-2 8k+1 frames, sides multiple of 32;
    a distilled checkpoint's defaults are 8 steps and guidance 1."""
    ok = check_request(
        "hunyuan15",
        Request(controls={"text", "keyframes"}, keyframe_frames=[0], frames=9, width=48, height=32),
        variant="i2v",
    )
    assert ok.ok, ok.problems
    bad = check_request(
        "hunyuan15",
        Request(controls={"text", "keyframes"}, keyframe_frames=[4], frames=8, width=40, height=32),
        variant="i2v",
    )
    msgs = " | ".join(m for _, m in bad.problems)
    assert "frame 0" in msgs and "4k+1" in msgs and "16" in msgs
    need = check_request("hunyuan15", Request(controls={"text"}, frames=9, width=48, height=32), variant="i2v")
    assert any("keyframe at frame 0" in m for _, m in need.problems)
    ltx2 = check_request("ltx2", Request(controls={"text"}, frames=12, width=48, height=32))
    assert any("8k+1" in m for _, m in ltx2.problems) and any("32" in m for _, m in ltx2.problems)
    assert SPECS["ltx2"].default_steps_for("ltx2-19b-distilled")[0] == 8
    assert SPECS["ltx2"].default_guidance_for("ltx2-19b-distilled")[0] == 1.0
    assert SPECS["hunyuan15"].default_guidance_for("hy15-t2v-distilled")[0] == 1.0
    assert SPECS["hunyuan15"].default_steps_for(None) == (50, "the HunyuanVideo 1.5 default")
