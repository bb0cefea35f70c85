"""Edits of F-curves as a graph editor makes them (Blender's Graph Editor): moving several keys at once with
snapping to whole frames, dragging Bezier handles (which turns automatic handles into aligned ones, as
Blender does), and setting handle type, interpolation and easing per key. Pure functions: each returns a new
:class:`~vidstudio.motion.curves.FCurve` and leaves its argument alone.

Keys are addressed by their index in the curve (sorted by frame). Times are frames, values the parameter's
unit; handle offsets are ``(dframe, dvalue)`` from their key.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from vidstudio.motion.curves import HANDLE_TYPES, INTERPOLATIONS, FCurve, Keyframe

#: The smallest frame distance between a handle and its key (a handle on its key has no direction).
MIN_HANDLE_FRAMES = 1e-3


def _check(curve: FCurve, indices: Iterable[int]) -> list[int]:
    idx = sorted(set(int(i) for i in indices))
    for i in idx:
        if not 0 <= i < len(curve.keys):
            raise IndexError(f"key {i} does not exist; the curve has {len(curve.keys)} keys")
    return idx


def move_keys(
    curve: FCurve, indices: Iterable[int], dframe: float, dvalue: float, *, snap: bool = True
) -> tuple[FCurve, list[int]] | None:
    """Moves keys by ``(dframe, dvalue)``.

    Args:
        indices: the keys to move.
        dframe: frames to add to each key's frame; with ``snap`` each moved key lands on a whole frame.
        dvalue: value to add to each key's value.

    Returns:
        ``(curve, new_indices)``: the new curve and where each moved key ended up (same order as the sorted
        ``indices``; keys may pass others), or None when a moved key would land on a key that is not moved.

    Raises:
        IndexError: for a key that does not exist.
    """
    idx = _check(curve, indices)
    moving = set(idx)
    keys = []
    for i, k in enumerate(curve.keys):
        if i in moving:
            f = k.frame + dframe
            if snap:
                f = float(round(f))
            keys.append((i, k.model_copy(update={"frame": float(f), "value": float(k.value + dvalue)})))
        else:
            keys.append((i, k.model_copy()))
    order = sorted(keys, key=lambda t: (t[1].frame, t[0] not in moving))
    for (_, a), (_, b) in zip(order, order[1:], strict=False):
        if abs(b.frame - a.frame) < 1e-6:
            return None
    new = FCurve(keys=[k for _, k in order], extrapolation=curve.extrapolation)
    where = {orig: pos for pos, (orig, _) in enumerate(order)}
    return new, [where[i] for i in idx]


def drag_handle(curve: FCurve, index: int, side: str, frame: float, value: float) -> FCurve:
    """Puts the ``side`` (``"left"`` or ``"right"``) handle of key ``index`` at ``(frame, value)``.

    Automatic handles (``auto_clamped``, ``auto``) become ``aligned`` and ``vector`` handles become ``free``
    (Blender's behaviour), both starting from where they were drawn. An ``aligned`` key turns its other handle
    to point the opposite way (keeping its length). The handle's frame stays on its side of the key (at least
    :data:`MIN_HANDLE_FRAMES` from it).

    Raises:
        IndexError: for a key that does not exist. ValueError: for a side other than left or right.
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    (i,) = _check(curve, [index])
    k = curve.keys[i]
    left, right = curve.handles()
    kind = {"auto_clamped": "aligned", "auto": "aligned", "vector": "free"}.get(k.handle_type, k.handle_type)
    hl = (float(left[i, 0] - k.frame), float(left[i, 1] - k.value))
    hr = (float(right[i, 0] - k.frame), float(right[i, 1] - k.value))
    d = (float(frame - k.frame), float(value - k.value))
    if side == "left":
        hl = (min(d[0], -MIN_HANDLE_FRAMES), d[1])
        if kind == "aligned":
            hr = _opposite(hl, hr)
    else:
        hr = (max(d[0], MIN_HANDLE_FRAMES), d[1])
        if kind == "aligned":
            hl = _opposite(hr, hl)
    keys = list(curve.keys)
    keys[i] = k.model_copy(update={"handle_type": kind, "handle_left": hl, "handle_right": hr})
    return FCurve(keys=keys, extrapolation=curve.extrapolation)


def _opposite(master: tuple[float, float], other: tuple[float, float]) -> tuple[float, float]:
    """``other``'s length along the direction opposite ``master``."""
    n = float(np.hypot(*master))
    if n <= 0:
        return other
    ln = float(np.hypot(*other))
    return (-master[0] / n * ln, -master[1] / n * ln)


def set_handle_type(curve: FCurve, indices: Iterable[int], handle_type: str) -> FCurve:
    """Sets the handle type of keys. ``free`` and ``aligned`` keep the handles where they are drawn now
    (``aligned`` then turns the left one opposite the right one).

    Raises:
        IndexError: for a key that does not exist. ValueError: for an unknown handle type.
    """
    if handle_type not in HANDLE_TYPES:
        raise ValueError(f"unknown handle type {handle_type!r}; expected one of {', '.join(HANDLE_TYPES)}")
    idx = _check(curve, indices)
    left, right = curve.handles()
    keys = list(curve.keys)
    for i in idx:
        k = keys[i]
        upd: dict = {"handle_type": handle_type}
        if handle_type in ("free", "aligned"):
            upd["handle_left"] = (min(float(left[i, 0] - k.frame), -MIN_HANDLE_FRAMES), float(left[i, 1] - k.value))
            upd["handle_right"] = (max(float(right[i, 0] - k.frame), MIN_HANDLE_FRAMES), float(right[i, 1] - k.value))
        keys[i] = k.model_copy(update=upd)
    return FCurve(keys=keys, extrapolation=curve.extrapolation)


def set_key_fields(curve: FCurve, indices: Iterable[int], **fields) -> FCurve:
    """Sets fields (``interpolation``, ``easing``...) of keys, validated as a :class:`Keyframe`.

    Raises:
        IndexError: for a key that does not exist. ValueError: for a bad value (e.g. an unknown interpolation).
    """
    if "interpolation" in fields and fields["interpolation"] not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {fields['interpolation']!r}")
    idx = _check(curve, indices)
    keys = list(curve.keys)
    for i in idx:
        keys[i] = Keyframe.model_validate({**keys[i].model_dump(), **fields})
    return FCurve(keys=keys, extrapolation=curve.extrapolation)


def delete_keys(curve: FCurve, indices: Iterable[int]) -> FCurve | None:
    """The curve without keys ``indices``, or None when no key is left.

    Raises:
        IndexError: for a key that does not exist.
    """
    gone = set(_check(curve, indices))
    keys = [k for i, k in enumerate(curve.keys) if i not in gone]
    return FCurve(keys=keys, extrapolation=curve.extrapolation) if keys else None
