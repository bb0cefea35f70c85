"""Time-to-Move through the server: ``vidstudio render --server`` carries the motion signal, its mask and the
TTM parameters to the worker unchanged, and the job's notes say which motion method ran."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import scaled_cut_and_drag

TOKEN = "ttm-token-for-tests"


@pytest.fixture(scope="module")
def wan22_models(tmp_path_factory):
    from vidstudio.backend.tiny import build_tiny_wan22_i2v

    d = tmp_path_factory.mktemp("ttm-models")
    build_tiny_wan22_i2v().save_pretrained(d / "tiny-wan22", safe_serialization=True)
    return d


@pytest.mark.slow
def test_cut_and_drag_renders_on_the_server_as_it_does_here(start_server, wan22_models, tmp_path):
    from vidstudio.media.video import read_metadata, read_video

    server = start_server(token=TOKEN, models=wan22_models, plugins=False)
    proj = scaled_cut_and_drag(tmp_path, 96 / 624, 9, 12)
    env = {**os.environ, "VIDSTUDIO_SERVER_TOKEN": TOKEN, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}

    def render(*args):
        return subprocess.run(
            [sys.executable, "-m", "vidstudio", "render", str(proj), "-q", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
        )

    r = render("--server", server.url, "--model", "tiny-wan22", "-o", "remote.mp4")
    assert r.returncode == 0, r.stderr
    assert "gen: motion: time_to_move (object), t_weak 1, t_strong 2 of 12 steps (11 run)" in r.stderr
    assert read_metadata(tmp_path / "remote.mp4")["vidstudio_motion"] == "time_to_move object t_weak=1 t_strong=2"
    r = render("--model", str(wan22_models / "tiny-wan22"), "-o", "local.mp4")
    assert r.returncode == 0, r.stderr
    remote, local = read_video(tmp_path / "remote.mp4"), read_video(tmp_path / "local.mp4")
    assert remote.shape == local.shape == (9, 64, 96, 3)
    assert np.abs(remote - local).mean() < 0.01  # the same job: same frames up to MP4 coding
