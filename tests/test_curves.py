"""F-curves: interpolation, handle types, easing and extrapolation checked against analytic values."""

import numpy as np
import pytest
from pydantic import ValidationError

from vidstudio.motion.curves import FCurve, Keyframe
from vidstudio.motion.easing import FAMILIES, ease


def curve(points, interp="bezier", **kw):
    return FCurve.from_points(points, interpolation=interp, **kw)


def test_constant_holds_left_value_until_next_key():
    c = curve([(0, 1.0), (10, 5.0)], "constant")
    assert c.evaluate([0, 5, 9.999]).tolist() == [1.0, 1.0, 1.0]
    assert c.value_at(10) == 5.0


def test_linear_matches_line_and_evaluates_vectorised():
    c = curve([(0, 0.0), (10, 20.0)], "linear")
    f = np.linspace(0, 10, 101).reshape(-1, 1)
    np.testing.assert_allclose(c.evaluate(f), 2.0 * f)
    assert c.evaluate(f).shape == (101, 1)


def test_left_key_governs_segment():
    keys = [
        Keyframe(frame=0, value=0, interpolation="constant"),
        Keyframe(frame=10, value=10, interpolation="linear"),
        Keyframe(frame=20, value=0),
    ]
    c = FCurve(keys=keys)
    assert c.value_at(5) == 0.0
    assert c.value_at(15) == pytest.approx(5.0)


def test_bezier_auto_clamped_two_keys_is_smoothstep():
    # Flat end handles at thirds: the cubic Hermite with zero tangents, 3u^2 - 2u^3.
    c = curve([(0, 0.0), (10, 1.0)])
    u = np.linspace(0, 1, 11)
    np.testing.assert_allclose(c.evaluate(u * 10), 3 * u**2 - 2 * u**3, atol=1e-12)


@pytest.mark.parametrize("values", [[0, 10, 3, 8, 8, 2], [0, 1, 2, 10, 11, 30], [5, -4, 7, 7.5, -20, 0]])
def test_auto_clamped_never_overshoots_neighbouring_keys(values):
    frames = [0, 3, 4, 12, 20, 21]
    c = curve(list(zip(frames, values)))
    for (f0, v0), (f1, v1) in zip(zip(frames, values), zip(frames[1:], values[1:])):
        y = c.evaluate(np.linspace(f0, f1, 200))
        assert y.min() >= min(v0, v1) - 1e-9 and y.max() <= max(v0, v1) + 1e-9


def test_auto_handles_may_overshoot_where_clamped_do_not():
    pts = [(0, 0.0), (1, 10.0), (10, 10.5)]
    auto = FCurve(keys=[Keyframe(frame=f, value=v, handle_type="auto") for f, v in pts])
    clamped = curve(pts)
    xs = np.linspace(1, 10, 300)
    assert auto.evaluate(xs).max() > 10.5 + 0.1
    assert clamped.evaluate(xs).max() <= 10.5 + 1e-9


def test_auto_clamped_is_flat_at_extremum():
    c = curve([(0, 0.0), (10, 5.0), (20, 0.0)])
    eps = 1e-4
    assert abs(c.value_at(10 + eps) - c.value_at(10 - eps)) / (2 * eps) < 1e-6


def test_vector_handles_make_straight_segments():
    c = FCurve(keys=[Keyframe(frame=f, value=v, handle_type="vector") for f, v in [(0, 0.0), (10, 10.0), (20, 0.0)]])
    np.testing.assert_allclose(c.evaluate([2.5, 5, 7.5, 15]), [2.5, 5, 7.5, 5], atol=1e-9)


def test_free_handles_follow_the_bezier_definition():
    # Handles (dx, dy) = (+5, +10) and (-5, +10) on keys at 0 and 10 with values 0: the curve at t=1/2 is
    # x = 5, y = 3/4 * 10 = 7.5 (Bernstein weights 3/8 + 3/8 on the handles).
    keys = [
        Keyframe(frame=0, value=0, handle_type="free", handle_right=(5, 10)),
        Keyframe(frame=10, value=0, handle_type="free", handle_left=(-5, 10)),
    ]
    c = FCurve(keys=keys)
    assert c.value_at(5) == pytest.approx(7.5, abs=1e-9)


def test_free_handles_outside_segment_are_clamped_so_curve_stays_a_function():
    keys = [
        Keyframe(frame=0, value=0, handle_type="free", handle_right=(30, 1)),
        Keyframe(frame=10, value=1, handle_type="free", handle_left=(-30, 0)),
    ]
    c = FCurve(keys=keys)
    y = c.evaluate(np.linspace(0, 10, 500))
    assert np.all(np.isfinite(y))
    assert np.all(np.diff(y) >= -1e-9)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("mode", ["in", "out", "in_out"])
def test_easing_endpoints(family, mode):
    assert ease(family, mode, 0.0) == pytest.approx(0.0, abs=1e-9)
    assert ease(family, mode, 1.0) == pytest.approx(1.0, abs=1e-9)


def test_easing_known_values():
    assert ease("quad", "in", 0.5) == pytest.approx(0.25)
    assert ease("cubic", "out", 0.5) == pytest.approx(1 - 0.125)
    assert ease("sine", "in_out", 0.25) == pytest.approx((1 - np.cos(np.pi * 0.25)) / 2)
    assert ease("expo", "in", 0.5) == pytest.approx(2**-5)
    # Bounce out lands on 1 at t = 1/2.75 and 2/2.75 (the first two bounces touch the ground).
    assert ease("bounce", "out", 1 / 2.75) == pytest.approx(1.0)
    # Back in dips below zero by about 10 % with the default overshoot.
    assert ease("back", "in", np.linspace(0, 1, 1001)).min() == pytest.approx(-0.1, abs=0.002)
    # in_out is symmetric: f(t) + f(1 - t) = 1.
    t = np.linspace(0, 1, 50)
    np.testing.assert_allclose(ease("circ", "in_out", t) + ease("circ", "in_out", 1 - t), 1.0, atol=1e-12)


def test_auto_easing_is_out_for_dynamic_families():
    np.testing.assert_allclose(ease("bounce", "auto", 0.3), ease("bounce", "out", 0.3))
    np.testing.assert_allclose(ease("quad", "auto", 0.3), ease("quad", "in", 0.3))


def test_easing_segment_in_curve():
    c = FCurve(keys=[Keyframe(frame=10, value=2, interpolation="quad", easing="in"), Keyframe(frame=20, value=4)])
    assert c.value_at(15) == pytest.approx(2 + 2 * 0.25)


def test_extrapolation_constant_and_linear():
    pts = [(0, 0.0), (10, 10.0)]
    const = curve(pts, "linear")
    lin = curve(pts, "linear", extrapolation="linear")
    assert const.evaluate([-5, 15]).tolist() == [0.0, 10.0]
    np.testing.assert_allclose(lin.evaluate([-5, 15]), [-5.0, 15.0])
    # Bezier with linear extrapolation continues along the end handles (auto: the secant slope).
    bez = FCurve(keys=[Keyframe(frame=f, value=v, handle_type="auto") for f, v in pts], extrapolation="linear")
    np.testing.assert_allclose(bez.evaluate([-5, 15]), [-5.0, 15.0])


def test_single_key_is_constant_and_sample_has_one_value_per_frame():
    c = FCurve.constant(3.5)
    s = c.sample(12)
    assert s.shape == (12,) and np.all(s == 3.5)


def test_keys_are_sorted_and_duplicates_refused():
    c = FCurve(keys=[Keyframe(frame=10, value=1), Keyframe(frame=0, value=0)])
    assert [k.frame for k in c.keys] == [0, 10]
    with pytest.raises(ValidationError, match="two keys on frame 5"):
        FCurve(keys=[Keyframe(frame=5, value=1), Keyframe(frame=5, value=2)])
    with pytest.raises(ValidationError):
        FCurve(keys=[])


def test_with_key_and_without_key():
    c = curve([(0, 0.0), (10, 1.0)], "linear")
    c2 = c.with_key(5, 3.0)
    assert [k.frame for k in c2.keys] == [0, 5, 10] and c2.keys[1].interpolation == "linear"
    assert c2.value_at(5) == 3.0
    c3 = c2.with_key(5, 4.0)
    assert len(c3.keys) == 3 and c3.value_at(5) == 4.0
    assert c3.without_key(5).value_at(5) == pytest.approx(0.5)
    with pytest.raises(KeyError, match="no key on frame 7"):
        c3.without_key(7)
    assert FCurve.constant(1).without_key(0) is None


def test_aligned_handles_keep_the_tangent_smooth_through_the_key_where_free_ones_break_it():
    def slopes(kind: str) -> tuple[float, float]:
        c = FCurve(
            keys=[
                Keyframe(frame=0, value=0.0),
                Keyframe(frame=10, value=5.0, handle_type=kind, handle_left=(-2.0, 0.0), handle_right=(3.0, 6.0)),
                Keyframe(frame=20, value=0.0),
            ]
        )
        h = 1e-5
        left = (c.value_at(10) - c.value_at(10 - h)) / h
        right = (c.value_at(10 + h) - c.value_at(10)) / h
        return left, right

    # the right handle (3, 6) sets the direction: slope 2 on both sides for aligned handles
    assert slopes("aligned") == pytest.approx((2.0, 2.0), rel=1e-3)
    # free: the left handle stays flat (slope 0), the right one is slope 2
    assert slopes("free") == pytest.approx((0.0, 2.0), abs=2e-3)
    # the aligned left handle keeps its length (2) along the opposite direction
    c = FCurve(
        keys=[
            Keyframe(frame=0, value=0.0, handle_type="aligned", handle_left=(-2.0, 0.0), handle_right=(3.0, 6.0)),
            Keyframe(frame=10, value=1.0),
        ]
    )
    left, _ = c.handles()
    assert left[0] == pytest.approx([-2 / np.sqrt(5), -4 / np.sqrt(5)])
