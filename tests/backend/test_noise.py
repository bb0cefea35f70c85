"""Trajectory-aware initial noise: patches follow the boxes across frames, the background stays independent."""

from __future__ import annotations

import numpy as np
import pytest

from vidstudio.backend.noise import (
    boxes_to_latent,
    camera_to_latent,
    latent_frame_sources,
    structured_noise,
)

#: Correlation along a trajectory must exceed this at ratio 0.8 (expected: 0.8); background must stay below
#: BACKGROUND in absolute value (expected: 0).
ALONG = 0.6
BACKGROUND = 0.1


def moving_box(T: int, w: float = 6.0, h: float = 6.0, vx: float = 1.0, x0: float = 2.0, y0: float = 4.0) -> np.ndarray:
    b = np.zeros((T, 1, 4))
    for t in range(T):
        b[t, 0] = [x0 + vx * t, y0, x0 + vx * t + w, y0 + h]
    return b


def patch(z: np.ndarray, t: int, box: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return z[:, t, y0:y1, x0:x1].ravel()


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_patches_along_trajectory_correlate_background_does_not():
    T, C, h, w = 9, 16, 24, 32
    boxes = moving_box(T)
    z = structured_noise((C, T, h, w), seed=7, boxes=boxes, ratio=0.8)
    assert z.shape == (C, T, h, w) and z.dtype == np.float32
    along = [corr(patch(z, 0, boxes[0, 0]), patch(z, t, boxes[t, 0])) for t in range(1, T)]
    assert min(along) > ALONG, along
    # the same place without the object: the patch at frame 0's box position in later frames, once the box has left
    fixed = boxes[0, 0]
    left = [corr(patch(z, 0, fixed), patch(z, t, fixed)) for t in range(7, T)]
    assert max(abs(c) for c in left) < BACKGROUND, left
    bg = np.array([0.0, 16.0, 8.0, 24.0])  # a region no box touches
    bgc = [corr(patch(z, 0, bg), patch(z, t, bg)) for t in range(1, T)]
    assert max(abs(c) for c in bgc) < BACKGROUND, bgc
    # unit variance everywhere (what schedulers expect of initial noise)
    assert abs(z.std() - 1.0) < 0.02 and abs(z.mean()) < 0.02
    for t in range(T):  # 576 samples per patch: standard error of the std about 0.03
        assert abs(patch(z, t, boxes[t, 0]).std() - 1.0) < 0.12


def test_ratio_controls_the_correlation_and_zero_is_plain_noise():
    T, C, h, w = 6, 16, 20, 28
    boxes = moving_box(T)
    z0 = structured_noise((C, T, h, w), seed=3, boxes=boxes, ratio=0.0)
    plain = np.random.default_rng(3).standard_normal((C, T, h, w), dtype=np.float32)
    assert np.array_equal(z0, plain)
    for r in (0.3, 0.9):
        z = structured_noise((C, T, h, w), seed=3, boxes=boxes, ratio=r)
        c = np.mean([corr(patch(z, 1, boxes[1, 0]), patch(z, t, boxes[t, 0])) for t in range(2, T)])
        assert abs(c - r) < 0.12, (r, c)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        structured_noise((C, T, h, w), seed=3, boxes=boxes, ratio=1.5)


def test_same_seed_same_noise_and_hidden_frames_stay_plain():
    T, C, h, w = 5, 4, 16, 16
    boxes = moving_box(T)
    boxes[2:4] = np.nan  # hidden for two frames
    a = structured_noise((C, T, h, w), seed=11, boxes=boxes, ratio=0.8)
    b = structured_noise((C, T, h, w), seed=11, boxes=boxes, ratio=0.8)
    c = structured_noise((C, T, h, w), seed=12, boxes=boxes, ratio=0.8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert corr(patch(a, 0, boxes[0, 0]), patch(a, 4, boxes[4, 0])) > 0.5
    # box partly outside the grid: clipped, not an error
    out = moving_box(T, x0=12.0, vx=3.0)
    structured_noise((C, T, h, w), seed=1, boxes=out, ratio=0.5)


def test_box_that_grows_stretches_the_same_patch():
    T, C, h, w = 2, 32, 32, 32
    boxes = np.array([[[4.0, 4.0, 8.0, 8.0]], [[4.0, 4.0, 12.0, 12.0]]])
    z = structured_noise((C, T, h, w), seed=5, boxes=boxes, ratio=1.0)
    small = z[:, 0, 4:8, 4:8]
    big = z[:, 1, 4:12, 4:12]
    # ratio 1: the grown box is the small patch upsampled 2x (nearest neighbour)
    assert np.allclose(big, np.repeat(np.repeat(small, 2, axis=1), 2, axis=2))


def test_camera_pan_carries_background_noise():
    T, C, h, w = 4, 16, 16, 24
    # the camera pans right by 2 latent cells per frame: frame t's cell x shows what frame 0 had at x + 2t
    cam = np.stack([np.array([[1.0, 0, 2.0 * t], [0, 1, 0], [0, 0, 1]]) for t in range(T)])
    z = structured_noise((C, T, h, w), seed=2, camera=cam, ratio=0.8)
    for t in range(1, T):
        a = z[:, 0, :, 2 * t + 2 : w].ravel()
        b = z[:, t, :, 2 : w - 2 * t].ravel()
        assert corr(a, b) > ALONG
        assert abs(corr(z[:, 0, :, 2 : w - 2 * t].ravel(), b)) < BACKGROUND


def test_pixel_to_latent_mapping():
    # causal VAE with 4x temporal compression: latent 0 <- pixel 0, latent j <- middle of 4j-3 .. 4j
    assert latent_frame_sources(5, 4, 17).tolist() == [0, 2, 6, 10, 14]
    assert latent_frame_sources(3, 1, 3).tolist() == [0, 1, 2]
    b = np.zeros((17, 1, 4))
    b[:, 0] = [16, 32, 48, 64]
    lat = boxes_to_latent(b, latent_frame_sources(5, 4, 17), 8)
    assert lat.shape == (5, 1, 4) and lat[0, 0].tolist() == [2, 4, 6, 8]
    # camera: world-to-frame pixel affines -> latent maps to frame 0
    cams = np.stack([np.array([[1.0, 0, -8.0 * t], [0, 1, 0], [0, 0, 1]]) for t in range(17)])
    m = camera_to_latent(cams, latent_frame_sources(5, 4, 17), 8)
    assert np.allclose(m[2] @ np.array([1.0, 1.0, 1.0]), [1.0 + 6, 1.0, 1.0])
