"""Physics through pymunk, checked against analytic answers: free fall, bounces, friction, energy, momentum."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.signal import argrelextrema

from vidstudio.motion.physics import PhysicsScene, simulate, validate_bodies
from vidstudio.motion.tracks import Track, TrackSet

G = 980.0


def scene(bodies, **kw) -> PhysicsScene:
    return PhysicsScene.model_validate({"width": 768, "height": 512, "bodies": bodies, **kw})


def test_free_fall_matches_the_parabola_within_half_a_pixel():
    sc = scene([{"id": "b", "radius": 10, "position": [100, 160], "velocity": [150, -420]}], walls={"ceiling": False})
    fps = 24
    r = simulate(sc, 20, fps)  # 0.8 s, in the air all the way (above the frame for a while)
    t = np.arange(20) / fps
    expect = np.stack([100 + 150 * t, 160 - 420 * t + 0.5 * G * t**2], axis=1)
    err = np.abs(r.tracks.get("b").position - expect).max()
    assert err < 0.5, err
    np.testing.assert_allclose(r.velocity[0, :, 1], -420 + G * t, atol=1e-6)


def test_successive_bounce_heights_follow_e_squared():
    e = 0.8
    sc = scene([{"id": "b", "radius": 20, "position": [384, 100], "elasticity": e, "friction": 0.0}])
    r = simulate(sc, 6 * 120, 120)  # sampled at 120 fps to catch the apexes
    y = r.tracks.get("b").position[:, 1]
    floor = 512 - 20
    apex = y[argrelextrema(y, np.less)[0]]
    heights = np.concatenate([[floor - 100], floor - apex])[:5]
    ratios = heights[1:] / heights[:-1]
    np.testing.assert_allclose(ratios, e**2, rtol=0.05)


def test_box_sliding_on_the_floor_stops_at_v0_squared_over_2_mu_g():
    mu, v0 = 0.4, 300.0
    sc = scene(
        [
            {
                "id": "box",
                "shape": "box",
                "width": 60,
                "height": 40,
                "position": [100, 512 - 20],
                "velocity": [v0, 0],
                "friction": mu,
                "elasticity": 0.0,
            }
        ]
    )
    r = simulate(sc, 4 * 24, 24)
    x = r.tracks.get("box").position[:, 0]
    travelled = x[-1] - x[0]
    assert travelled == pytest.approx(v0**2 / (2 * mu * G), rel=0.05)
    assert abs(r.velocity[0, -1, 0]) < 1.0  # at rest
    assert np.abs(np.rad2deg(r.tracks.get("box").angle)).max() < 0.5  # slides, does not tip


def test_energy_is_conserved_with_perfect_elasticity_and_no_friction():
    sc = scene(
        [{"id": "b", "radius": 20, "position": [120, 112], "velocity": [300, 0], "elasticity": 1.0, "friction": 0.0}]
    )
    r = simulate(sc, 8 * 24, 24)  # 8 s: several bounces off the floor and both side walls
    pos = r.tracks.get("b").position
    assert pos[:, 0].max() > 768 - 20 - 5 and pos[:, 1].max() > 512 - 20 - 5  # it did hit walls and floor
    energy = r.energy(sc.gravity) + G * (512 - 20)  # potential energy zero on the floor
    assert np.abs(energy - energy[0]).max() / energy[0] < 0.01


def test_equal_balls_exchange_velocities_and_conserve_momentum():
    sc = scene(
        [
            {"id": "a", "radius": 20, "position": [200, 256], "velocity": [300, 0], "elasticity": 1.0, "friction": 0},
            {"id": "b", "radius": 20, "position": [400, 256], "velocity": [0, 0], "elasticity": 1.0, "friction": 0},
        ],
        gravity=[0, 0],
    )
    r = simulate(sc, 24, 24)
    np.testing.assert_allclose(r.velocity[:, -1, 0], [0.0, 300.0], atol=3.0)
    momentum = r.velocity[:, :, 0].sum(axis=0)
    np.testing.assert_allclose(momentum, 300.0, atol=1e-6)


def test_same_scene_same_result_and_walls_switch_off():
    bodies = [
        {"id": "b", "radius": 15, "position": [100, 100], "velocity": [400, 0], "elasticity": 0.7},
        {
            "id": "c",
            "shape": "polygon",
            "vertices": [[0, 0], [60, 0], [0, 40]],
            "position": [300, 200],
            "angular_velocity": 90,
        },
    ]
    a = simulate(scene(bodies), 48, 24)
    b = simulate(scene(bodies), 48, 24)
    for ta, tb in zip(a.tracks, b.tracks):
        assert np.array_equal(ta.position, tb.position) and np.array_equal(ta.angle, tb.angle)
    no_ground = simulate(scene(bodies, walls={"ground": False}), 48, 24)
    assert no_ground.tracks.get("b").position[-1, 1] > 512  # fell out of the frame
    assert a.tracks.get("b").position[:, 1].max() <= 512 - 15 + 0.5


def test_kinematic_body_follows_its_track_and_pushes_a_dynamic_one():
    T = 48
    paddle = Track("paddle_path", np.stack([np.linspace(100, 500, T), np.full(T, 470.0)], axis=1))
    sc = scene(
        [
            {
                "id": "paddle",
                "kind": "kinematic",
                "shape": "box",
                "width": 40,
                "height": 80,
                "position": [0, 0],
                "follow": "paddle_path",
            },
            {"id": "puck", "radius": 20, "position": [300, 512 - 20], "friction": 0.0, "elasticity": 0.5},
        ]
    )
    r = simulate(sc, T, 24, TrackSet([paddle]))
    np.testing.assert_allclose(r.tracks.get("paddle").position, paddle.position, atol=1e-6)
    puck = r.tracks.get("puck").position
    assert puck[-1, 0] > 500  # pushed ahead of the paddle
    with pytest.raises(ValueError, match="follows the track 'paddle_path'.*tracks: none"):
        simulate(sc, T, 24, None)


def test_tracks_carry_shape_and_static_bodies_are_anchors():
    sc = scene(
        [
            {"id": "tri", "shape": "polygon", "vertices": [[0, 0], [90, 0], [0, 60]], "position": [300, 100]},
            {
                "id": "ledge",
                "kind": "static",
                "shape": "segment",
                "vertices": [[-50, 0], [50, 0]],
                "radius": 4,
                "position": [384, 300],
            },
        ]
    )
    r = simulate(sc, 2, 24)
    tri = r.tracks.get("tri")
    # Polygon tracks follow the centroid: (30, 20) from the vertex origin.
    np.testing.assert_allclose(tri.position[0], [330, 120], atol=1e-9)
    assert tri.meta["shape"] == "polygon" and len(tri.meta["vertices"]) == 3
    np.testing.assert_allclose(r.tracks.anchors, [[384, 300]])


def test_bad_bodies_are_named():
    with pytest.raises(ValidationError, match=r"1\.mass"):
        validate_bodies([{"id": "a", "position": [0, 0]}, {"id": "b", "position": [0, 0], "mass": 0}])
    with pytest.raises(ValidationError, match="at least 3 vertices"):
        validate_bodies([{"id": "a", "shape": "polygon", "vertices": [[0, 0], [1, 1]], "position": [0, 0]}])
    with pytest.raises(ValidationError, match="'follow' needs kind 'kinematic'"):
        validate_bodies([{"id": "a", "position": [0, 0], "follow": "p"}])
    with pytest.raises(ValidationError, match="bodies\\[1\\] has the id 'a' of bodies\\[0\\]"):
        scene([{"id": "a", "position": [0, 0]}, {"id": "a", "position": [5, 5]}])
