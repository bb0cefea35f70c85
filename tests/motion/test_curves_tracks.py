"""F-curve behaviour the issue names beyond tests/test_curves.py, and the Track extensions other layers use."""

from __future__ import annotations

import numpy as np
import pytest

from vidstudio.motion.curves import FCurve, Keyframe
from vidstudio.motion.easing import ease
from vidstudio.motion.tracks import Track, TrackSet


@pytest.mark.parametrize("family", ["sine", "quad", "cubic", "expo", "back", "elastic", "bounce"])
@pytest.mark.parametrize("mode", ["in", "out", "in_out"])
def test_easing_keys_evaluate_vectorised_at_float_frames(family, mode):
    c = FCurve(
        keys=[Keyframe(frame=2.5, value=-1.0, interpolation=family, easing=mode), Keyframe(frame=12.5, value=3.0)]
    )
    f = np.random.default_rng(1).uniform(2.5, 12.5, 64)
    np.testing.assert_allclose(c.evaluate(f), -1 + 4 * ease(family, mode, (f - 2.5) / 10), atol=1e-12)
    np.testing.assert_allclose([c.value_at(x) for x in f[:5]], c.evaluate(f[:5]))
    assert c.evaluate(f.reshape(8, 8)).shape == (8, 8)


def test_linear_extrapolation_continues_each_interpolation_with_its_own_end_slope():
    quad = FCurve(
        keys=[Keyframe(frame=0, value=0, interpolation="quad", easing="in"), Keyframe(frame=10, value=10)],
        extrapolation="linear",
    )
    # quad-in: slope 0 at the start, 2 * (10 / 10) at the end.
    np.testing.assert_allclose(quad.evaluate([-5.0, 12.0]), [0.0, 14.0], atol=1e-4)
    free = FCurve(
        keys=[
            Keyframe(frame=0, value=0, handle_type="free", handle_left=(-2, -6), handle_right=(2, 0)),
            Keyframe(frame=10, value=5, handle_type="vector"),
        ],
        extrapolation="linear",
    )
    assert free.value_at(-1.0) == pytest.approx(-3.0)  # along the free left handle: slope 3
    const = FCurve(
        keys=[Keyframe(frame=0, value=1, interpolation="constant"), Keyframe(frame=4, value=2)], extrapolation="linear"
    )
    assert const.value_at(-3) == 1.0


def test_many_keys_evaluate_like_each_segment_alone():
    pts = [(i * 3.0, float(np.sin(i))) for i in range(60)]
    c = FCurve.from_points(pts, interpolation="linear")
    f = np.linspace(0, 177, 1000)
    np.testing.assert_allclose(c.evaluate(f), np.interp(f, *zip(*pts)), atol=1e-12)


def test_track_sample_at_matrices_and_transformed():
    tr = Track(
        "a",
        np.array([[0.0, 0.0], [10.0, 20.0]]),
        np.array([0.0, np.pi / 2]),
        np.array([1.0, 3.0]),
        np.array([True, False]),
        (8, 4),
        {"color": [1, 0, 0]},
    )
    mid = tr.sample_at([0.5, 0.25, -3, 7])
    np.testing.assert_allclose(mid.position, [[5, 10], [2.5, 5], [0, 0], [10, 20]])
    np.testing.assert_allclose(mid.scale, [2, 1.5, 1, 3])
    assert mid.visible.tolist() == [False, True, True, False] and mid.meta == {"color": [1, 0, 0]}
    m = tr.matrices()
    np.testing.assert_allclose(m[1] @ [1, 0, 1], [10, 23, 1], atol=1e-12)  # turned 90 degrees, scaled by 3
    cam = np.array([[2.0, 0, 5], [0, 2.0, -5], [0, 0, 1]])
    seen = TrackSet([tr], anchors=[[1, 1]]).transformed(cam)
    np.testing.assert_allclose(seen.get("a").position, [[5, -5], [25, 35]])
    np.testing.assert_allclose(seen.get("a").scale, [2, 6])
    np.testing.assert_allclose(seen.anchors, [[7, -3]])
    assert tr.to_json()["meta"] == {"color": [1, 0, 0]} and "meta" not in Track("b", np.zeros((1, 2))).to_json()
    with pytest.raises(ValueError, match="3 matrices for 2 frames"):
        tr.transformed(np.repeat(cam[None], 3, axis=0))
