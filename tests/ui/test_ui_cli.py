"""``vidstudio gui PROJECT --screenshot OUT.png``: opens, settles, saves the whole window, exits 0."""

from __future__ import annotations

import numpy as np
from PIL import Image

from uihelpers import KEN_BURNS


def test_screenshot_of_the_example_project(cli, tmp_path):
    out = tmp_path / "shot.png"
    r = cli("gui", str(KEN_BURNS), "--screenshot", str(out), "--frame", "40", "--select", "cam",
            env={"QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    h, w, _ = img.shape
    assert w >= 1280 and h >= 720
    # a dark theme: mostly dark pixels; and the photograph (a blue sky) is painted in the Viewer
    assert np.median(img) < 70
    blue_sky = (img[..., 2] > img[..., 0] + 40) & (img[..., 2] > 90)
    assert blue_sky.sum() > 20_000


def test_screenshot_of_a_missing_project_exits_2(cli, tmp_path):
    r = cli("gui", str(tmp_path / "nope.vidproj"), "--screenshot", str(tmp_path / "x.png"),
            env={"QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 2 and "nope.vidproj: file not found" in r.stderr
    assert not (tmp_path / "x.png").exists()
