"""Camera moves as per-frame 2-D affines.

A virtual camera looks at the *world*, whose coordinates are the output frame's pixels at the rest pose
(pan = tilt = 0, zoom = 1, roll = 0). Per frame it has a pan (x, px), tilt (y, px), zoom (factor) and roll
(degrees). The camera matrix maps world points to output-frame points::

    M = T(c) . S(zoom) . R(-roll) . T(-c - (pan, tilt))

where ``c = (W / 2, H / 2)`` is the frame centre. Panning right (pan > 0) moves the picture left; zoom > 1
magnifies about the frame centre; a positive roll turns the camera clockwise, so the picture appears to
turn counter-clockwise. Object motion composes as ``M @ object_matrix`` everywhere (animatic, masks, flow).
"""

from __future__ import annotations

import numpy as np


def translation(tx: float, ty: float) -> np.ndarray:
    """Returns the 3x3 float64 translation by ``(tx, ty)`` pixels."""
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def rotation(degrees: float) -> np.ndarray:
    """Returns the 3x3 float64 rotation by ``degrees`` about the origin (clockwise on screen, y down)."""
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def scaling(sx: float, sy: float | None = None) -> np.ndarray:
    """Returns the 3x3 float64 scaling by ``sx`` (and ``sy``, default ``sx``) about the origin."""
    return np.diag([sx, sx if sy is None else sy, 1.0])


def camera_matrices(
    width: int,
    height: int,
    pan: np.ndarray | float = 0.0,
    tilt: np.ndarray | float = 0.0,
    zoom: np.ndarray | float = 1.0,
    roll: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Builds one world-to-frame affine per frame.

    Args:
        width, height: output frame size in pixels.
        pan, tilt: camera offset in world pixels (x, y), scalars or ``(T,)`` arrays.
        zoom: magnification factor (> 0), scalar or ``(T,)``.
        roll: camera roll in degrees, scalar or ``(T,)``.

    Returns:
        ``(T, 3, 3)`` float64 (``T`` = the longest input, scalars broadcast; ``T = 1`` for all scalars).

    Raises:
        ValueError: if a zoom value is not strictly positive or the inputs' lengths disagree.
    """
    pan, tilt, zoom, roll = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (pan, tilt, zoom, roll))
    try:
        pan, tilt, zoom, roll = np.broadcast_arrays(pan, tilt, zoom, roll)
    except ValueError as e:
        raise ValueError(f"camera curves have different lengths: {e}") from None
    if np.any(zoom <= 0):
        bad = int(np.argmax(zoom <= 0))
        raise ValueError(f"zoom must be > 0, got {zoom[bad]:g} at frame {bad}")
    cx, cy = width / 2.0, height / 2.0
    a = np.deg2rad(-roll)
    c, s = np.cos(a), np.sin(a)
    # M = T(c) S(z) R(a) T(-c - p), expanded.
    tx = -cx - pan
    ty = -cy - tilt
    m = np.zeros((len(pan), 3, 3))
    m[:, 0, 0] = zoom * c
    m[:, 0, 1] = -zoom * s
    m[:, 1, 0] = zoom * s
    m[:, 1, 1] = zoom * c
    m[:, 0, 2] = zoom * (c * tx - s * ty) + cx
    m[:, 1, 2] = zoom * (s * tx + c * ty) + cy
    m[:, 2, 2] = 1.0
    return m


def fit_matrix(src_width: int, src_height: int, dst_width: int, dst_height: int, mode: str = "cover") -> np.ndarray:
    """Returns the 3x3 affine that places a ``src`` image centred in a ``dst`` frame.

    Args:
        mode: ``"cover"`` (fill the frame, cropping the longer side), ``"contain"`` (show the whole image,
            bars on the shorter side) or ``"stretch"`` (fill exactly, changing the aspect ratio).

    Raises:
        ValueError: for an unknown mode or an empty size.
    """
    if min(src_width, src_height, dst_width, dst_height) <= 0:
        raise ValueError(f"cannot fit a {src_width}x{src_height} image into a {dst_width}x{dst_height} frame")
    sx, sy = dst_width / src_width, dst_height / src_height
    if mode == "cover":
        sx = sy = max(sx, sy)
    elif mode == "contain":
        sx = sy = min(sx, sy)
    elif mode != "stretch":
        raise ValueError(f"unknown fit mode {mode!r}; expected cover, contain or stretch")
    return translation(dst_width / 2, dst_height / 2) @ scaling(sx, sy) @ translation(-src_width / 2, -src_height / 2)


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Applies affines to points.

    Args:
        matrix: ``(3, 3)`` or ``(T, 3, 3)``.
        points: ``(..., 2)`` pixels; with ``(T, 3, 3)`` matrices the leading axis of ``points`` is time.

    Returns:
        float64 array of the shape of ``points``.
    """
    p = np.asarray(points, dtype=np.float64)
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim == 2:
        return p @ m[:2, :2].T + m[:2, 2]
    lin = m[:, :2, :2]
    off = m[:, :2, 2]
    shape = (m.shape[0],) + (1,) * (p.ndim - 2) + (2,)
    return np.einsum("t...j,tij->t...i", p, lin.reshape(m.shape[0], 2, 2)) + off.reshape(shape)
