"""Rasterisers and the animatic: masks, boxes, heatmaps and flow against analytic geometry; rendered frames
checked pixel by pixel (positions through the camera, antialiasing, alpha, motion blur, random access)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.ndimage as ndi

from motion_helpers import ASSETS, color_centroid
from vidstudio.media.image import load_image
from vidstudio.motion.animatic import AnimaticRenderer
from vidstudio.motion.camera import camera_matrices, transform_points
from vidstudio.motion.raster import forward_flow, forward_warp, heatmaps, object_boxes, object_masks
from vidstudio.motion.sprites import image_sprite, shape_sprite, sprites_from_tracks
from vidstudio.motion.tracks import Track, TrackSet

W, H = 192, 128
RED = (1.0, 0.0, 0.0)


def still(x, y, n=3, angle=0.0, scale=1.0, name="o", visible=None):
    return Track(name, np.tile([[x, y]], (n, 1)), np.full(n, np.deg2rad(angle)), np.full(n, scale), visible)


@pytest.fixture(scope="module")
def logo():
    return load_image(ASSETS / "logo_cutout.png")


# ------------------------------------------------------------------------------------------------ rasterisers
def test_box_mask_has_the_analytic_area_and_place():
    sp = shape_sprite("b", still(80, 60), "box", 40, 20, fill=RED)
    m = object_masks([sp], W, H, 3)[0, 0]
    assert m.sum() == 40 * 20
    ys, xs = np.nonzero(m)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (60, 99, 50, 69)
    # Turned by 90 degrees and scaled by 1.5: 30 x 60 px.
    turned = shape_sprite("t", still(80, 60, angle=90, scale=1.5), "box", 40, 20, fill=RED)
    m = object_masks([turned], W, H, 3)[0, 0]
    assert abs(int(m.sum()) - 30 * 60) <= 4
    far = shape_sprite("f", still(150, 100), "ellipse", 20, 20)
    both = object_masks([sp, far], W, H, 3)
    np.testing.assert_array_equal(object_masks([sp, far], W, H, 3, union=True), both.any(axis=0))


def test_tight_boxes_of_a_turned_ellipse_and_hidden_frames():
    a, b = 30.0, 10.0  # semi-axes
    tr = Track("e", np.tile([[100.0, 64.0]], (3, 1)), np.deg2rad([0.0, 45.0, 90.0]), visible=[True, True, False])
    sp = shape_sprite("e", tr, "ellipse", 2 * a, 2 * b)
    boxes = object_boxes([sp], W, H, 3)
    np.testing.assert_allclose(boxes[0, 0], [70, 54, 130, 74], atol=1e-6)
    half = np.sqrt((a**2 + b**2) / 2)  # the extent of an ellipse turned by 45 degrees
    np.testing.assert_allclose(boxes[1, 0], [100 - half, 64 - half, 100 + half, 64 + half], atol=0.1)
    assert np.isnan(boxes[2, 0]).all()
    # Off-frame objects are NaN when clipped, kept when not.
    far = shape_sprite("f", still(-100, 50), "box", 20, 20)
    assert np.isnan(object_boxes([far], W, H, 3)).all()
    np.testing.assert_allclose(object_boxes([far], W, H, 3, clip=False)[0, 0], [-110, 40, -90, 60])


def test_boxes_follow_the_camera_and_match_transformed_tracks():
    T = 5
    t = np.arange(T, dtype=float)
    tr = Track("o", np.stack([60 + 10 * t, 40 + 5 * t], axis=1), size=(20, 20))
    cams = camera_matrices(W, H, pan=3 * t, zoom=1 + 0.1 * t, roll=2 * t)
    sp = shape_sprite("o", tr, "box")
    boxes = object_boxes([sp], W, H, T, cams, clip=False)
    centre = 0.5 * (boxes[:, 0, :2] + boxes[:, 0, 2:])
    np.testing.assert_allclose(centre, transform_points(cams, tr.position[:, None, :])[:, 0], atol=1e-9)
    screen = TrackSet([tr]).transformed(cams).get("o")
    np.testing.assert_allclose(screen.position, centre, atol=1e-9)
    np.testing.assert_allclose(screen.scale, 1 + 0.1 * t)
    np.testing.assert_allclose(np.rad2deg(screen.angle), -2 * t, atol=1e-9)  # the picture turns against the roll


def test_heatmap_peaks_at_the_centre_with_the_given_sigma():
    sp = shape_sprite("o", still(100.5, 50.5), "ellipse", 10, 10)
    hm = heatmaps([sp], W, H, 3, sigma=4.0)
    assert hm.dtype == np.float32 and hm.shape == (3, H, W)
    assert np.unravel_index(hm[0].argmax(), hm[0].shape) == (50, 100)
    assert hm[0, 50, 100] == pytest.approx(1.0)
    assert hm[0, 50, 104] == pytest.approx(np.exp(-16 / 32), abs=1e-6)


def test_camera_only_flow_is_the_camera_affine():
    T = 3
    cams = camera_matrices(W, H, pan=[0, 4, 8], zoom=[1.0, 1.05, 1.1])
    flow = forward_flow([], W, H, T, cams)
    rel = cams[1] @ np.linalg.inv(cams[0])
    p = np.array([[10.5, 20.5], [150.5, 100.5]])
    expect = transform_points(rel, p) - p
    np.testing.assert_allclose(flow[0, [20, 100], [10, 150]], expect, atol=1e-4)


def test_warping_an_animatic_frame_by_its_flow_gives_the_next_frame(logo):
    T = 5
    t = np.arange(T, dtype=float)
    tr = Track("logo", np.stack([70 + 7 * t, 60 + 3 * t], axis=1), np.deg2rad(6 * t), 1 + 0.03 * t)
    sp = image_sprite("logo", tr, logo, 70)
    cams = camera_matrices(W, H, pan=2 * t, zoom=1 + 0.01 * t, roll=0.5 * t)
    ren = AnimaticRenderer(W, H, T, sprites=[sp], background=load_image(ASSETS / "chelsea.png"), cameras=cams)
    frames = [ren.render(i) for i in range(T)]
    flow = forward_flow([sp], W, H, T, cams)
    masks = object_masks([sp], W, H, T, cams)[0]
    assert flow.shape == (T - 1, H, W, 2) and flow.dtype == np.float32
    for i in range(T - 1):
        warped, weight = forward_warp(frames[i], flow[i])
        edges = np.zeros((H, W), bool)
        for m in (masks[i], masks[i + 1]):  # occlusion edges: a band around the sprite's outline
            edges |= ndi.binary_dilation(m, iterations=3) & ~ndi.binary_erosion(m, iterations=3)
        valid = (weight > 0.5) & ~edges
        valid[:3], valid[-3:], valid[:, :3], valid[:, -3:] = False, False, False, False
        err = np.abs(warped - frames[i + 1]).mean(axis=2)
        assert valid.mean() > 0.7
        assert err[valid].mean() < 0.02
        assert err[valid & masks[i + 1]].mean() < 0.02  # on the sprite itself too
        # Without the flow the frames differ far more: the test can fail.
        assert np.abs(frames[i] - frames[i + 1]).mean(axis=2)[valid].mean() > 3 * err[valid].mean()


# ------------------------------------------------------------------------------------------------ animatic
def test_sprite_lands_where_the_camera_puts_it():
    T = 4
    cams = camera_matrices(W, H, pan=[0, 10, 20, 30], zoom=[1, 1.2, 1.4, 1.6], roll=[0, 5, 10, 15])
    sp = shape_sprite("o", still(80, 50, n=T), "ellipse", 16, 16, fill=RED)
    ren = AnimaticRenderer(W, H, T, sprites=[sp], background_color=(0, 0, 0.5), cameras=cams)
    for i in range(T):
        expect = transform_points(cams[i], np.array([80.0, 50.0]))
        assert 12 < expect[0] < W - 12 and 12 < expect[1] < H - 12
        got = color_centroid(ren.render(i), RED, tol=0.1)
        np.testing.assert_allclose(got, expect, atol=0.3)


def test_edges_are_antialiased_and_cutouts_keep_their_alpha(logo):
    sp = shape_sprite("o", still(96.3, 64.7), "ellipse", 60, 60, fill=(1, 1, 1))
    f = AnimaticRenderer(W, H, 3, sprites=[sp], background_color=(0, 0, 0)).render(0)
    grey = f[..., 0]
    partial = (grey > 0.05) & (grey < 0.95)
    ring = np.isclose(np.hypot(*np.meshgrid(np.arange(W) + 0.5 - 96.3, np.arange(H) + 0.5 - 64.7)), 30, atol=1.5)
    assert partial.sum() > 100 and partial[~ring].sum() == 0  # intermediate values only on the outline
    # A cut-out over green: where alpha is partial the colour is a blend of logo and green, never darker than
    # both (premultiplied resampling: no dark fringe).
    cut = image_sprite("logo", still(96, 64), logo, 100)
    g = AnimaticRenderer(W, H, 3, sprites=[cut], background_color=(0, 1, 0)).render(0)
    assert np.allclose(g[2, 2], [0, 1, 0], atol=1e-6)
    lum = g.mean(axis=2)
    hull = object_masks([cut], W, H, 3)[0, 0]
    fringe = ndi.binary_dilation(hull, iterations=2) & ~ndi.binary_erosion(hull, iterations=2)
    assert lum[fringe].min() > 0.12


def test_random_access_equals_sequential_and_threads_agree(logo):
    T = 8
    t = np.arange(T, dtype=float)
    sprites = [
        image_sprite("logo", Track("logo", np.stack([40 + 12 * t, 64 + 0 * t], 1), 0.2 * t), logo, 50),
        shape_sprite("ball", Track("ball", np.stack([150 - 8 * t, 30 + 9 * t], 1)), "ball", 24, 24, outline_width=2),
    ]
    cams = camera_matrices(W, H, zoom=1 + 0.05 * t)
    ren = AnimaticRenderer(W, H, T, sprites=sprites, background=load_image(ASSETS / "coffee.png"), cameras=cams)
    seq = [ren.render(i) for i in range(T)]
    fresh = AnimaticRenderer(W, H, T, sprites=sprites, background=load_image(ASSETS / "coffee.png"), cameras=cams)
    for i in (5, 2, 7, 0):
        np.testing.assert_array_equal(fresh.render(i), seq[i])
    out: dict[int, np.ndarray] = {}

    def work(idx):
        for i in idx:
            out[i] = fresh.render(i)

    threads = [threading.Thread(target=work, args=(range(k, T, 3),)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(T):
        np.testing.assert_array_equal(out[i], seq[i])
    assert seq[0].dtype == np.float32 and seq[0].shape == (H, W, 3) and 0 <= seq[0].min() and seq[0].max() <= 1


def test_motion_blur_smears_along_the_motion():
    T = 3
    tr = Track("o", np.array([[40.0, 64.0], [100.0, 64.0], [160.0, 64.0]]))
    sp = shape_sprite("o", tr, "box", 10, 10, fill=(1, 1, 1))
    sharp = AnimaticRenderer(W, H, T, sprites=[sp]).render(1)[..., 0]
    blurred_r = AnimaticRenderer(W, H, T, sprites=[sp], motion_blur=0.5)
    blurred = blurred_r.render(1)[..., 0]
    assert blurred_r.blur_sample_count(1) >= 20  # 30 px of motion in the shutter: many sub-frames
    row = blurred[64]
    lit = np.nonzero(row > 0.02)[0]
    # A 10 px box moving 60 px per frame with a half-frame shutter covers 10 + 30 = 40 px.
    assert 38 <= lit.max() - lit.min() + 1 <= 42
    assert blurred.sum() == pytest.approx(sharp.sum(), rel=0.03)  # same light, spread out
    assert np.all(np.diff(row[lit.min() : lit.min() + 10]) >= -1e-3)  # ramps up smoothly


def test_stand_in_sprites_for_bare_tracks():
    ts = TrackSet(
        [
            Track("p", np.zeros((2, 2)) + 50, size=(30, 20), meta={"color": [0, 1, 0]}),
            Track("q", np.zeros((2, 2)) + 90),
            Track("ball", np.zeros((2, 2)) + 20, size=(20, 20), meta={"shape": "circle", "radius": 10}),
        ]
    )
    sps = sprites_from_tracks(ts)
    assert [s.shape.kind for s in sps] == ["box", "ellipse", "ellipse"]
    assert sps[0].size == (30, 20) and sps[1].size == (16, 16) and sps[0].shape.fill[:3] == (0, 1, 0)
