"""Every checkpoint config folder under tests/backend/configs/ recognised from its JSON files alone (no torch, no
weights): the family, variant and published checkpoint, and the frame / size rules, window and defaults the
spec states for it. Checkpoints whose configs are their base's (the step- and CFG-distilled ones) are told apart
by the model's name, so they are checked under their published names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend.realconfigs import CONFIGS, write_configs
from vidstudio.families import get_spec, read_configs, recognise, rules_for_folder

#: config folder -> (family, variant, checkpoint id, frame step, side multiple, exact frames, exact size at the
#: published configs, window, default steps, default guidance, native fps): what the spec states for it.
#: Frame step and side multiple are the VAE's compression x the transformer's patch (Wan 2.2 TI2V: 16 x 2;
#: CogVideoX 8 x 2 and an odd latent count, 8k+1); the CogVideoX-5b-I2V size is its sample_width x
#: sample_height x the VAE's 8; SVD's frames are the UNet's num_frames.
EXPECTED: dict[str, tuple] = {
    "animatediff_v152_sd15": ("animatediff", "t2v", "", 1, 8, None, None, 0, 25, 7.5, 8),
    "sd15": ("animatediff", "sd15", "", 1, 8, None, None, 0, 25, 7.5, 8),
    "cogvideox_2b": ("cogvideox", "t2v", "cogvideox-t2v", 8, 16, None, None, 49, 50, 6.0, 8),
    "cogvideox_5b": ("cogvideox", "t2v", "cogvideox-t2v", 8, 16, None, None, 49, 50, 6.0, 8),
    "cogvideox_5b_i2v": ("cogvideox", "i2v", "cogvideox-i2v", 8, 16, None, (720, 480), 49, 50, 6.0, 8),
    "cogvideox15_5b": ("cogvideox", "t2v", "cogvideox1.5-t2v", 8, 16, None, None, 81, 50, 6.0, 16),
    "cogvideox15_5b_i2v": ("cogvideox", "i2v", "cogvideox1.5-i2v", 8, 16, None, None, 81, 50, 6.0, 16),
    "hunyuan15_480p_t2v": ("hunyuan15", "t2v", "hy15-t2v-480p", 4, 16, None, None, 121, 50, 6.0, 24),
    "hunyuan15_480p_i2v": ("hunyuan15", "i2v", "hy15-i2v-480p", 4, 16, None, None, 121, 50, 6.0, 24),
    "hunyuan15_480p_i2v_step_distilled": (
        "hunyuan15",
        "i2v",
        "hy15-i2v-step-distilled",
        4,
        16,
        None,
        None,
        121,
        8,
        1.0,
        24,
    ),
    "hunyuan15_720p_t2v": ("hunyuan15", "t2v", "hy15-t2v-720p", 4, 16, None, None, 121, 50, 6.0, 24),
    "hunyuan15_720p_i2v": ("hunyuan15", "i2v", "hy15-i2v-720p", 4, 16, None, None, 121, 50, 6.0, 24),
    "ltx091_2b": ("ltx", "t2v", "ltx-2b", 8, 32, None, None, 257, 40, 3.0, 24),
    "ltx098_13b": ("ltx", "t2v", "ltx-13b", 8, 32, None, None, 257, 30, 3.0, 30),
    "ltx2_19b": ("ltx2", "t2v", "ltx2-19b-dev", 8, 32, None, None, 481, 40, 4.0, 24),
    "svd": ("svd", "i2v", "svd", 1, 8, 14, None, 0, 25, 3.0, 7),
    "svd_xt": ("svd", "i2v", "svd-xt", 1, 8, 25, None, 0, 25, 3.0, 7),
    "wan21_t2v_1_3b": ("wan", "t2v", "wan2.1-t2v", 4, 16, None, None, 81, 50, 5.0, 16),
    "wan21_t2v_14b": ("wan", "t2v", "wan2.1-t2v", 4, 16, None, None, 81, 50, 5.0, 16),
    "wan21_i2v_14b_480p": ("wan", "i2v", "wan2.1-i2v", 4, 16, None, None, 81, 50, 5.0, 16),
    "wan21_flf2v_14b_720p": ("wan", "i2v", "wan2.1-flf2v", 4, 16, None, None, 81, 50, 5.0, 16),
    "wan21_vace_1_3b": ("wan", "vace", "wan2.1-vace", 4, 16, None, None, 81, 50, 5.0, 16),
    "wan22_t2v_a14b": ("wan", "t2v", "wan2.2-t2v-a14b", 4, 16, None, None, 81, 40, 4.0, 16),
    "wan22_i2v_a14b": ("wan", "i2v", "wan2.2-i2v-a14b", 4, 16, None, None, 81, 40, 3.5, 16),
    # Wan-Video/Wan2.2 wan/configs/wan_ti2v_5B.py: frame_num 121, sample_fps 24 (the other Wan models: 81 at 16)
    "wan22_ti2v_5b": ("wan", "ti2v", "wan2.2-ti2v-5b", 4, 32, None, None, 121, 50, 5.0, 24),
}


def _recognised(folder: Path, name: str = ""):
    c = read_configs(folder, name=name)
    found = recognise(c.index, c)
    assert found is not None, f"{folder}: not recognised"
    return found


def test_every_config_folder_has_an_expectation():
    assert sorted(p.name for p in CONFIGS.iterdir() if (p / "pipeline.json").is_file()) == sorted(EXPECTED)


@pytest.mark.parametrize("full", [True, False], ids=["published", "cut"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_folder_recognised_with_its_rules(tmp_path, name, full):
    """The folder as a download holds it (``published``) and with the tests' cuts (``cut``: what the slow
    real-configuration tests build), recognised alike."""
    family, variant, ck, step, side, exact, size, window, steps, guidance, fps = EXPECTED[name]
    folder = write_configs(name, tmp_path / name, full=full)
    found = _recognised(folder)
    assert (found.family, found.variant, found.checkpoint) == (family, variant, ck)
    rule = rules_for_folder(folder, family)
    assert (rule.frame_step, rule.side_multiple, rule.exact_frames) == (step, side, exact)
    assert rule.source == str(folder)  # read from the configs, not the family's defaults
    if full:
        assert rule.exact_size == size
    else:
        assert (rule.exact_size is None) == (size is None)
    spec = get_spec(family)
    assert spec.window_for(ck or None) == window
    assert spec.default_steps_for(ck or None)[0] == steps
    assert spec.default_guidance_for(ck or None)[0] == guidance
    assert spec.fps_for(ck or None)[0] == fps


#: checkpoints told apart from their base by the model's name only: (config folder of the base, the published
#: name, the checkpoint id, default steps, default guidance).
BY_NAME = [
    ("ltx098_13b", "LTX-Video-0.9.8-13B-distilled", "ltx-13b-distilled", 8, 1.0),
    ("ltx098_13b", "LTX-Video-0.9.7-distilled", "ltx-13b-distilled", 8, 1.0),
    ("ltx2_19b", "ltx-2-19b-distilled", "ltx2-19b-distilled", 8, 1.0),
    ("hunyuan15_480p_t2v", "HunyuanVideo-1.5-Diffusers-480p_t2v_distilled", "hy15-t2v-distilled", 50, 1.0),
    ("hunyuan15_480p_i2v", "HunyuanVideo-1.5-Diffusers-480p_i2v_distilled", "hy15-i2v-distilled", 50, 1.0),
    ("hunyuan15_720p_i2v", "HunyuanVideo-1.5-Diffusers-720p_i2v_distilled", "hy15-i2v-distilled", 50, 1.0),
]


@pytest.mark.parametrize("base,published,ck,steps,guidance", BY_NAME)
def test_distilled_checkpoints_recognised_by_name(tmp_path, base, published, ck, steps, guidance):
    """The same configs under the distilled checkpoint's name (a folder, or a repo id as the user typed it):
    the distilled checkpoint and its few-step / guidance-1 defaults; under the base's name: the base."""
    family = EXPECTED[base][0]
    folder = write_configs(base, tmp_path / published)
    for found in (_recognised(folder), _recognised(folder, name=f"org/{published}")):
        assert (found.family, found.checkpoint) == (family, ck)
    spec = get_spec(family)
    assert spec.checkpoint(ck).distilled
    assert spec.default_steps_for(ck)[0] == steps and spec.default_guidance_for(ck)[0] == guidance
    assert _recognised(write_configs(base, tmp_path / base)).checkpoint == EXPECTED[base][2]
    rule = rules_for_folder(folder, family)
    assert (rule.frame_step, rule.side_multiple) == EXPECTED[base][3:5]


def test_recognition_needs_no_torch(tmp_path):
    """Writing the configs and recognising them imports neither torch nor diffusers (validation runs before
    anything loads)."""
    code = (
        "import sys; from pathlib import Path\n"
        "from tests.backend.realconfigs import CONFIGS, write_configs\n"
        "from vidstudio.families import read_configs, recognise\n"
        "for p in sorted(CONFIGS.iterdir()):\n"
        "    c = read_configs(write_configs(p.name, Path(sys.argv[1]) / p.name))\n"
        "    assert recognise(c.index, c) is not None, p.name\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"
