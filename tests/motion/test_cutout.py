"""Cut-and-drag in the core: outline -> feathered alpha, the crop and its centre, the hole filled by
inpainting, and the Cut Out node feeding a Sprite and the Animatic Render so that at frame 0 the sprite covers
exactly the pixels it was cut from."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from motion_helpers import run_graph
from vidstudio.errors import GraphError
from vidstudio.motion.cutout import cut_out, fill_hole, outline_alpha, place_in_world, validate_outline

SQUARE = [[10, 10], [20, 10], [20, 20], [10, 20]]


def test_hard_outline_covers_the_pixel_centres_inside_it():
    a = outline_alpha([[10.3, 10.2], [20.6, 10.2], [20.6, 20.7], [10.3, 20.7]], 32, 32)
    assert a.dtype == np.float32 and a.shape == (32, 32)
    ys, xs = np.nonzero(a)
    # pixel i has its centre at i + 0.5: centres 10.5 .. 20.5 lie inside x in [10.3, 20.6]
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 20, 10, 20)
    assert set(np.unique(a)) == {0.0, 1.0}


def test_feather_is_a_linear_ramp_centred_on_the_outline():
    a = outline_alpha(SQUARE, 40, 40, feather=4.0)
    # row 15 crosses the left edge x = 10; pixel i's centre is at signed distance (i + 0.5 - 10) inside
    for i in range(4, 16):
        d = i + 0.5 - 10.0
        assert a[15, i] == pytest.approx(np.clip(0.5 + d / 4.0, 0, 1), abs=1e-6), i
    # a triangle: its centroid is fully opaque, far outside transparent
    tri = outline_alpha([[5, 5], [35, 5], [20, 35]], 40, 40, feather=3.0)
    assert tri[14, 19] == 1.0 and tri[38, 2] == 0.0 and 0.0 < tri[5, 20] < 1.0


def test_cut_out_crops_the_region_with_its_alpha_and_centre():
    photo = np.zeros((30, 40, 3), dtype=np.float32)
    photo[..., 0] = np.arange(40)[None, :] / 40.0  # red encodes x
    photo[..., 1] = np.arange(30)[:, None] / 30.0  # green encodes y
    cut = cut_out(photo, SQUARE, feather=0.0)
    assert cut.box == (10, 10, 20, 20) or cut.box == (10, 10, 21, 21)  # fillPoly may take the closed edge
    x0, y0, x1, y1 = cut.box
    assert cut.image.shape == (y1 - y0, x1 - x0, 4)
    assert cut.center == ((x0 + x1) / 2, (y0 + y1) / 2)
    np.testing.assert_allclose(cut.image[0, 0, :3], photo[y0, x0], atol=1e-7)
    np.testing.assert_allclose(cut.image[..., 3], cut.alpha[y0:y1, x0:x1])
    assert cut.alpha[15, 15] == 1.0 and cut.alpha[2, 2] == 0.0


def test_fill_hole_inpaints_only_the_hole_from_its_surroundings():
    pic = np.full((40, 40, 3), 0.25, dtype=np.float32)
    pic[12:28, 12:28] = (1.0, 0.0, 0.0)  # a red object on a grey wall
    alpha = outline_alpha([[12, 12], [28, 12], [28, 28], [12, 28]], 40, 40)
    out = fill_hole(pic, alpha, radius=4.0)
    assert out is not pic and np.all(pic[20, 20] == (1.0, 0.0, 0.0))  # the input is left alone
    np.testing.assert_allclose(out[20, 20], 0.25, atol=2 / 255)  # the red is gone: grey wall all over
    np.testing.assert_array_equal(out[:8], pic[:8])  # far from the hole nothing changed


def test_place_in_world_follows_the_background_fit():
    # a 200x100 photo covering a 100x100 frame: scale 1, cropped 50 px left and right
    (cx, cy), (w, h) = place_in_world((60, 20, 80, 40), (200, 100), (100, 100), "cover")
    assert (cx, cy, w, h) == pytest.approx((20.0, 30.0, 20.0, 20.0))
    (cx, cy), (w, h) = place_in_world((0, 0, 100, 50), (200, 100), (100, 100), "contain")
    assert (cx, cy, w, h) == pytest.approx((25.0, 37.5, 50.0, 25.0))


def test_validate_outline_names_the_bad_point():
    assert validate_outline([]) == []
    assert validate_outline([(1, 2), [3, 4], [5, 6.5]]) == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]]
    with pytest.raises(ValueError, match=r"points\[1\]: expects \[x, y\] numbers"):
        validate_outline([[1, 2], [3], [4, 5]])
    with pytest.raises(ValueError, match="at least 3 points"):
        validate_outline([[1, 2], [3, 4]])


def _photo(tmp_path, w=64, h=48):
    rng = np.random.default_rng(3)
    img = (rng.random((h, w, 3)) * 200).astype(np.uint8)
    img[16:32, 20:40] = (250, 30, 30)
    Image.fromarray(img).save(tmp_path / "photo.png")
    return img.astype(np.float32) / 255.0


def test_cut_out_node_feeds_sprite_and_animatic_that_reproduce_the_photo_at_frame_0(tmp_path):
    photo = _photo(tmp_path)
    outline = [[20, 16], [40, 16], [40, 32], [20, 32]]
    cut = cut_out(photo, outline, 0.0)
    (cx, cy), (sw, sh) = place_in_world(cut.box, (64, 48), (64, 48))
    path = {
        "paths": [
            {
                "id": "p",
                "name": "obj",
                "interpolation": "linear",
                "size": [sw, sh],
                "points": [{"x": cx, "y": cy}, {"x": cx + 10, "y": cy}],
            }
        ]
    }
    nodes = [
        {"id": "img", "type": "LoadImage", "params": {"path": str(tmp_path / "photo.png")}},
        {"id": "cut", "type": "CutOut", "params": {"outline": outline, "feather": 0.0, "fill_hole": True}},
        {"id": "traj", "type": "Trajectory", "params": {"paths": path}},
        {"id": "spr", "type": "Sprite", "params": {"width": sw, "height": sh}},
        {"id": "anim", "type": "AnimaticRender"},
    ]
    links = [
        ("img.image", "cut.image"),
        ("cut.cutout", "spr.image"),
        ("traj.trajectory", "spr.trajectory"),
        ("cut.background", "anim.background"),
        ("spr.sprite", "anim.sprites"),
    ]
    res, _ = run_graph(nodes, links, settings={"width": 64, "height": 48, "fps": 24, "frame_count": 4})
    back = res.output("cut", "background")
    assert np.abs(back[24, 30] - (250 / 255, 30 / 255, 30 / 255)).max() > 0.3  # the red object was inpainted away
    assert res.output("cut", "mask").shape == (1, 48, 64)
    video = res.output("anim", "video")
    f0 = video.frame(0)
    # frame 0: the sprite sits exactly where it was cut, so the animatic shows the photo again
    np.testing.assert_allclose(f0[18:30, 22:38], photo[18:30, 22:38], atol=0.02)
    # frame 3: the object moved 10 px right; the hole it left shows the inpainted wall
    f3 = video.frame(3)
    np.testing.assert_allclose(f3[20:28, 34:46], photo[20:28, 24:36], atol=0.02)
    np.testing.assert_allclose(f3[20:28, 22:26], back[20:28, 22:26, :3], atol=0.02)


def test_cut_out_node_without_outline_passes_the_photo_and_bad_outline_names_the_param(tmp_path):
    photo = _photo(tmp_path)
    nodes = [
        {"id": "img", "type": "LoadImage", "params": {"path": str(tmp_path / "photo.png")}},
        {"id": "cut", "type": "CutOut"},
    ]
    res, _ = run_graph(nodes, [("img.image", "cut.image")])
    np.testing.assert_allclose(res.output("cut", "background"), photo, atol=1e-6)
    assert res.output("cut", "cutout").shape == (1, 1, 4)
    nodes[1]["params"] = {"outline": [[1, 2], [3, "x"], [4, 5]]}
    with pytest.raises(GraphError, match=r"cut.*outline.*points\[1\]"):
        run_graph(nodes, [("img.image", "cut.image")])


def test_crop_box_matches_the_crop_of_cut_out():
    photo = np.random.default_rng(0).random((50, 60, 3)).astype(np.float32)
    outline = [[5.5, 7], [44, 12.2], [30, 41], [9, 30]]
    cut = cut_out(photo, outline, feather=3.0)
    from vidstudio.motion.cutout import crop_box

    assert crop_box(outline, 60, 50, 3.0) == (cut.box, cut.center)
