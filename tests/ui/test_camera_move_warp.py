"""Camera Move renders with OpenCV (the animatic's warp) and keeps the picture of its Pillow version: the same
geometry (pixel centres at i + 0.5) and the same values within a couple of 8-bit levels on average."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from uihelpers import ASSETS
from vidstudio.graph.engine import Engine
from vidstudio.graph.model import Link, NodeInstance
from vidstudio.media import load_image
from vidstudio.motion.camera import fit_matrix, scaling
from vidstudio.motion.curves import FCurve
from vidstudio.motion.warp import to_pil, warp_affine
from vidstudio.nodes import builtin_registry
from vidstudio.project import Project

W, H, N = 160, 96, 5


def render(params: dict, animation: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The Camera Move's frames ``(N, H, W, 3)`` and camera ``(N, 3, 3)`` over the astronaut photo."""
    p = Project(settings={"width": W, "height": H, "fps": 24, "frame_count": N})
    p.nodes += [
        NodeInstance(id="photo", type="LoadImage", params={"path": str(ASSETS / "astronaut.png")}),
        NodeInstance(id="cam", type="CameraMove", params=params),
    ]
    p.links.append(Link.make("photo", "image", "cam", "image"))
    for k, v in (animation or {}).items():
        p.animation[f"cam.{k}"] = FCurve.from_points(v, interpolation="linear")
    run = Engine(builtin_registry()).run(p, p.settings, targets=["cam"])
    return np.asarray(run.values["cam"]["video"]), run.values["cam"]["camera"]


@pytest.mark.parametrize("quality, mean, p99", [("bilinear", 0.8, 2.5), ("bicubic", 1.5, 10.0)])
def test_camera_move_matches_the_pillow_warp(quality, mean, p99):
    """Against Camera Move version 1 (Pillow): a Lanczos reduction once to the largest zoom's scale, then a
    Pillow affine per frame. Bicubic differs a little more (OpenCV's kernel is a = -0.75, Pillow's -0.5)."""
    image = np.asarray(load_image(ASSETS / "astronaut.png"), dtype=np.float32)[..., :3]
    frames, cams = render({"quality": quality}, {"zoom": [(0, 1.0), (N - 1, 1.6)], "roll": [(0, 0.0), (N - 1, 12.0)]})
    assert frames.shape == (N, H, W, 3) and cams.shape == (N, 3, 3)
    h, w = image.shape[:2]
    fit = fit_matrix(w, h, W, H, "cover")
    r = 1.6 * fit[0, 0]
    ref_src = to_pil(image).resize((round(w * r), round(h * r)), Image.Resampling.LANCZOS)
    pre = scaling(w / ref_src.width, h / ref_src.height)
    for i in range(N):
        ref = np.asarray(warp_affine(ref_src, cams[i] @ fit @ pre, (W, H), resample=quality), dtype=np.float32) / 255.0
        diff = np.abs(frames[i] - ref) * 255.0
        assert diff.mean() < mean and np.percentile(diff, 99) < p99, (i, diff.mean(), np.percentile(diff, 99))


def test_camera_move_geometry_centre_and_fill():
    # a zoom of 1 with "contain" leaves the picture centred with the background colour around it
    frames, _ = render({"fit": "contain", "background": [0.0, 1.0, 0.0], "quality": "bicubic"})
    f = frames[0]
    # the astronaut photo is square: contained in 160x96 it spans x in [32, 128)
    assert f[H // 2, 5] == pytest.approx([0.0, 1.0, 0.0], abs=1 / 255)
    assert f[H // 2, W - 6] == pytest.approx([0.0, 1.0, 0.0], abs=1 / 255)
    inside = f[:, 34:126]
    assert np.abs(inside - [0.0, 1.0, 0.0]).max(axis=-1).mean() > 0.2  # the photo, not the fill
    edge_cols = np.abs(f[:, :, 1] - 1.0).mean(axis=0) > 0.05
    assert edge_cols[32:128].all() and not edge_cols[:31].any() and not edge_cols[129:].any()
