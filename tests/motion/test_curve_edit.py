"""Graph-editor edits of F-curves, checked against analytic values: moving keys (snapped, passing others,
refused on a collision), dragging handles (automatic ones become aligned and keep the tangent smooth; vector
ones become free), handle types that keep the drawn shape, interpolation and deletion."""

from __future__ import annotations

import numpy as np
import pytest

from vidstudio.motion.curve_edit import delete_keys, drag_handle, move_keys, set_handle_type, set_key_fields
from vidstudio.motion.curves import FCurve, Keyframe


def lin(points, **kw) -> FCurve:
    return FCurve.from_points(points, "linear", **kw)


def test_move_keys_snaps_to_whole_frames_and_reports_where_keys_went():
    c = lin([(0, 0.0), (10, 1.0), (20, 0.0)])
    new, where = move_keys(c, [1], 2.4, 0.5)
    assert [k.frame for k in new.keys] == [0, 12, 20] and where == [1]
    assert new.value_at(12) == pytest.approx(1.5) and new.value_at(6) == pytest.approx(0.75)
    new, _ = move_keys(c, [1], 2.4, 0.0, snap=False)
    assert new.keys[1].frame == pytest.approx(12.4)
    # a key dragged past another: the curve re-sorts, the index follows it
    new, where = move_keys(c, [0], 15, 0.0)
    assert [k.frame for k in new.keys] == [10, 15, 20] and where == [1]
    assert move_keys(c, [0], 10, 0.0) is None  # onto a key that stays: refused
    new, where = move_keys(c, [0, 1], 4, 0.0)  # both move: key 0 may go where key 1 was... not onto key 2
    assert [k.frame for k in new.keys] == [4, 14, 20] and where == [0, 1]
    assert move_keys(c, [0, 1], 10, 0.0) is None  # key 1 would land on key 2
    assert c.keys[1].frame == 10  # the argument is left alone


def test_move_two_keys_together_keeps_their_spacing():
    c = lin([(0, 0.0), (10, 1.0), (20, 2.0), (30, 0.0)])
    new, where = move_keys(c, [1, 2], 3, -1.0)
    assert [k.frame for k in new.keys] == [0, 13, 23, 30] and where == [1, 2]
    assert [k.value for k in new.keys] == [0.0, 0.0, 1.0, 0.0]


def test_dragging_an_auto_handle_makes_it_aligned_with_a_smooth_tangent():
    c = FCurve(keys=[Keyframe(frame=0, value=0.0), Keyframe(frame=10, value=5.0), Keyframe(frame=20, value=0.0)])
    new = drag_handle(c, 1, "right", 13.0, 8.0)  # slope 3 / 3 = 1
    k = new.keys[1]
    assert k.handle_type == "aligned" and k.handle_right == pytest.approx((3.0, 3.0))
    left, right = new.handles()
    assert right[1] == pytest.approx([13.0, 8.0])
    h = 1e-5
    sl = (new.value_at(10) - new.value_at(10 - h)) / h
    sr = (new.value_at(10 + h) - new.value_at(10)) / h
    assert sl == pytest.approx(1.0, rel=1e-3) and sr == pytest.approx(1.0, rel=1e-3)
    # the left handle kept its length (10 / 3: the auto-clamped handle was flat at this extremum)
    assert np.hypot(*k.handle_left) == pytest.approx(10 / 3)


def test_dragging_a_vector_handle_makes_it_free_and_the_other_stays():
    c = FCurve(
        keys=[
            Keyframe(frame=0, value=0.0, handle_type="vector"),
            Keyframe(frame=10, value=10.0, handle_type="vector"),
            Keyframe(frame=20, value=0.0, handle_type="vector"),
        ]
    )
    before_left = c.handles()[0][1].copy()
    new = drag_handle(c, 1, "right", 12.0, 10.0)
    assert new.keys[1].handle_type == "free"
    np.testing.assert_allclose(new.handles()[0][1], before_left)
    # the right handle cannot cross to the key's left side
    new = drag_handle(c, 1, "right", 5.0, 10.0)
    assert new.keys[1].handle_right[0] > 0


def test_free_and_aligned_types_keep_the_drawn_shape():
    c = FCurve(keys=[Keyframe(frame=f, value=v) for f, v in [(0, 0.0), (8, 4.0), (20, 1.0)]])
    frames = np.linspace(0, 20, 81)
    for kind in ("free", "aligned"):
        new = set_handle_type(c, [0, 1, 2], kind)
        np.testing.assert_allclose(new.evaluate(frames), c.evaluate(frames), atol=1e-9)
    vec = set_handle_type(c, [1], "vector")
    # the vector handle points at key 0: (8 - 8/3, 4 - 4/3); key 0's flat handle is (8/3, 0); at t = 1/2
    # the Bezier is (0 + 3 * 0 + 3 * 8/3 + 4) / 8 = 1.5
    assert vec.value_at(4) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="unknown handle type"):
        set_handle_type(c, [0], "broken")


def test_interpolation_easing_and_delete():
    c = lin([(0, 0.0), (10, 1.0)])
    e = set_key_fields(c, [0], interpolation="quad", easing="in")
    assert e.value_at(5) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        set_key_fields(c, [0], interpolation="wobble")
    assert [k.frame for k in delete_keys(c, [0]).keys] == [10]
    assert delete_keys(c, [0, 1]) is None
    with pytest.raises(IndexError):
        delete_keys(c, [5])
