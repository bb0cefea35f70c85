"""The command line with tiny models, as a user runs it: `vidstudio dev tiny-model`, and the text-to-video
example rendered end to end on the CPU with `--model`, decoded back from the MP4."""

from __future__ import annotations

import pytest

from backend.conftest import CLI_ENV
from helpers import EXAMPLES, run_cli

EXAMPLE = EXAMPLES / "text_to_video.vidproj"


@pytest.mark.slow
@pytest.mark.parametrize(
    "family,how",
    [("ltx", "subprocess"), ("animatediff", "in-process"), ("wan", "in-process"), ("cogvideox", "in-process")],
)
def test_text_to_video_example_renders_with_a_tiny_model(tiny, tmp_path, capsys, family, how):
    """One family through a real `python -m vidstudio` process; the others through the same command line
    in this process (importing torch and diffusers costs seconds per process)."""
    from vidstudio.cli import main
    from vidstudio.media import probe_video, read_metadata, read_video

    out = tmp_path / "out.mp4"
    args = ["render", str(EXAMPLE), "--model", str(tiny(family)), "-o", str(out)]
    if how == "subprocess":
        r = run_cli(*args, env=CLI_ENV, timeout=240)
        code, stdout, stderr = r.returncode, r.stdout, r.stderr
    else:
        code = main(args)
        captured = capsys.readouterr()
        stdout, stderr = captured.out, captured.err
    assert code == 0, stderr
    assert f"wrote {out} (17 frames, 320x192, 8 fps)" in stdout
    info = probe_video(out)
    assert (info.frame_count, info.width, info.height, info.fps) == (17, 320, 192, 8)
    meta = read_metadata(out)
    assert meta["vidstudio_seed"] == "42" and meta["vidstudio_family"] == family
    frames = read_video(out)
    assert frames.std() > 0.01  # a random model makes noise, not a blank
    assert f"gen: {family} " in stderr and "seed 42, 20 steps" in stderr
    if family == "animatediff":  # unchanged and the seed fixed: a later render takes the video from the disk cache
        assert main(args + ["--explain", "-o", str(tmp_path / "again.mp4")]) == 0
        lines = {l.split()[0]: l for l in capsys.readouterr().out.splitlines() if l.strip()}
        assert lines["gen"].split()[2:] == ["from", "the", "cache", "(on", "disk)"]
        assert read_metadata(tmp_path / "again.mp4")["vidstudio_seed"] == "42"
        assert (read_video(tmp_path / "again.mp4") == frames).all()  # the same frames, encoded the same way


def test_tiny_model_command_and_svd_needs_an_image(tmp_path):
    out = tmp_path / "svd"
    r = run_cli("dev", "tiny-model", "svd", str(out), env=CLI_ENV)
    assert r.returncode == 0, r.stderr
    assert f"wrote a tiny random svd pipeline (StableVideoDiffusionPipeline) to {out}" in r.stdout
    assert (out / "model_index.json").is_file() and (out / "unet" / "config.json").is_file()
    r = run_cli("render", str(EXAMPLE), "--model", str(out), "-o", str(tmp_path / "x.mp4"), env=CLI_ENV)
    assert r.returncode == 2
    assert "node 'gen' control 'keyframes': svd needs an image to animate: a keyframe at frame 0" in r.stderr
    assert "svd cannot honour a text prompt" in r.stderr
    assert not (tmp_path / "x.mp4").exists()
    r = run_cli("dev", "tiny-model", "ltx", str(tmp_path / "x"), "--variant", "vace", env=CLI_ENV)
    assert r.returncode == 2 and "family ltx has no variant 'vace'" in r.stderr


def test_example_names_a_real_model_and_offline_says_what_to_do(tmp_path):
    r = run_cli("render", str(EXAMPLE), "-o", str(tmp_path / "x.mp4"), env={**CLI_ENV, "HF_HOME": str(tmp_path / "hf")})
    assert r.returncode == 2
    err = r.stderr
    assert "model 'Lightricks/LTX-Video' is not in the Hugging Face cache" in err
    assert f"looked in {tmp_path / 'hf' / 'hub'}" in err and "vidstudio models download Lightricks/LTX-Video" in err
