"""Animatic Render's mask output: the union of its sprites' silhouettes, dilated, carried by its video."""

from __future__ import annotations

import numpy as np

from vidstudio.motion.raster import SpriteMasks, object_masks
from vidstudio.motion.sprites import shape_sprite
from vidstudio.motion.tracks import Track


def _disc(name: str, x0: float, x1: float, frames: int, d: float = 20.0):
    pos = np.stack([np.linspace(x0, x1, frames), np.full(frames, 40.0)], axis=1)
    return shape_sprite(name, Track(name, pos), "ellipse", d, d)


def test_sprite_masks_are_the_union_dilated_by_the_given_pixels():
    a, b = _disc("a", 20, 100, 5), _disc("b", 120, 60, 5)
    plain = SpriteMasks([a, b], 160, 80, 5)
    union = object_masks([a, b], 160, 80, 5, union=True)
    assert plain.shape == (5, 80, 160) and np.array_equal(np.asarray(plain), union)
    grown = SpriteMasks([a, b], 160, 80, 5, dilate=4)
    m0 = np.asarray(grown)[0]
    ys, xs = np.nonzero(m0[40:41])  # the row through disc a's centre at x = 20: radius 10 + 4 px
    left = xs[xs < 80]
    assert left.min() in (5, 6) and left.max() in (33, 34)
    assert grown[4].sum() > plain[4].sum() and not np.asarray(grown)[:, :, 140:].any()


def test_animatic_render_video_carries_its_mask_to_conditioning(tmp_path):
    import json

    from vidstudio.graph import Engine
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    doc = {
        "format_version": 1,
        "settings": {"width": 96, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": [
            {
                "id": "paths",
                "type": "Trajectory",
                "params": {
                    "paths": {
                        "version": 1,
                        "paths": [
                            {
                                "id": "box",
                                "name": "box",
                                "start_frame": 0,
                                "end_frame": 8,
                                "size": [16, 16],
                                "points": [{"x": 20, "y": 32}, {"x": 76, "y": 32}],
                            }
                        ],
                    }
                },
            },
            {"id": "animatic", "type": "AnimaticRender", "params": {"mask_dilation": 2}},
            {"id": "cond", "type": "Conditioning", "params": {"t_weak": 3, "t_strong": 0.5, "steps": 10}},
        ],
        "links": [
            {"from": "paths.trajectory", "to": "animatic.trajectory"},
            {"from": "animatic.video", "to": "cond.motion"},
        ],
    }
    proj = loads_project(json.dumps(doc))
    res = Engine(default_registry()).run(proj, proj.settings, targets=["cond", "animatic"])
    mask = np.asarray(res.output("animatic", "mask"))
    bundle = res.output("cond", "conditioning")
    assert "motion_signal" in bundle.controls() and bundle.t_weak == 3 and bundle.t_strong == 0.5
    np.testing.assert_array_equal(bundle.motion_mask, mask.astype(np.float32))
    # a trajectory without a sprite marks its box (16 px, + 2 px each side), moving right
    cols = np.nonzero(mask[0].any(axis=0))[0]
    assert 18 <= cols.max() - cols.min() + 1 <= 21 and abs(cols.mean() - 19.5) < 1.5
    assert np.nonzero(mask[8].any(axis=0))[0].mean() > 70
    # a camera move holds the whole frame: the animatic's mask is not used
    cam = (
        Engine(default_registry())
        .run(proj, proj.settings, targets=["cond"], overrides={"cond": {"motion_kind": "camera"}})
        .output("cond", "conditioning")
    )
    assert cam.motion_kind == "camera" and cam.motion_mask is None and cam.motion is not None
