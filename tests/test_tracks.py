"""Tracks: the per-frame data a TRAJECTORY port carries, resampled at a consumer's boundary."""

import numpy as np
import pytest

from vidstudio.motion.tracks import Track, TrackSet


def line(n=11, name="ball"):
    t = np.arange(n, dtype=float)
    return Track(name, np.stack([10 * t, 5 * t], axis=1), size=(20, 10))


def test_defaults_and_shapes():
    tr = line()
    assert tr.frame_count == 11 and tr.angle.shape == (11,) and np.all(tr.scale == 1) and tr.visible.all()
    with pytest.raises(ValueError, match="position has shape"):
        Track("x", np.zeros((5, 3)))
    with pytest.raises(ValueError, match="angle has shape"):
        Track("x", np.zeros((5, 2)), angle=np.zeros(4))
    with pytest.raises(ValueError, match="position at frame 2 is not finite"):
        Track("x", np.array([[0, 0], [1, 1], [np.nan, 1.0]]))


def test_resample_to_model_boundary_keeps_endpoints_and_linearity():
    tr = line(11)
    r = tr.resample(121)
    assert r.frame_count == 121
    np.testing.assert_allclose(r.position[0], [0, 0])
    np.testing.assert_allclose(r.position[-1], [100, 50])
    np.testing.assert_allclose(r.position[60], [50, 25])
    assert line(11).resample(1).position.tolist() == [[0.0, 0.0]]


def test_resample_unwraps_angles():
    # From 3.0 rad to -3.0 rad the short way crosses pi, not 0: the midpoint must point left (cos = -1).
    tr = Track("spin", np.zeros((2, 2)), angle=np.array([3.0, -3.0]))
    mid = tr.resample(3).angle[1]
    assert np.cos(mid) == pytest.approx(-1.0, abs=1e-6)


def test_boxes_of_rotated_scaled_object_and_visibility():
    tr = Track(
        "b",
        np.array([[50.0, 40.0], [50.0, 40.0]]),
        angle=np.array([0.0, np.pi / 2]),
        scale=np.array([1.0, 2.0]),
        visible=np.array([True, False]),
        size=(20, 10),
    )
    b = tr.boxes()
    np.testing.assert_allclose(b[0], [40, 35, 60, 45])
    assert np.all(np.isnan(b[1]))
    tr2 = Track("b", np.array([[50.0, 40.0]]), angle=np.array([np.pi / 2]), scale=np.array([2.0]), size=(20, 10))
    np.testing.assert_allclose(tr2.boxes()[0], [40, 20, 60, 60], atol=1e-9)


def test_trackset_checks_and_json():
    s = TrackSet([line(name="a"), line(name="b")], anchors=[[1, 2]])
    assert s.frame_count == 11 and s.positions().shape == (11, 2, 2) and s.boxes().shape == (11, 2, 4)
    assert s.resample(4).frame_count == 4
    js = s.to_json()
    assert js["tracks"][1]["position"][10] == [100.0, 50.0] and js["anchors"] == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="different frame counts"):
        TrackSet([line(5, "a"), line(6, "b")])
    with pytest.raises(ValueError, match="names repeat: a"):
        TrackSet([line(name="a"), line(name="a")])
    with pytest.raises(KeyError, match="no track named 'z'"):
        s.get("z")
