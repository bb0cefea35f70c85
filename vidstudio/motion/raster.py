"""Rasterisers: per-frame conditioning maps computed from the scene (sprites along their tracks, seen through
the camera), in output-frame pixels (origin top-left, y down, pixel centres at ``i + 0.5``).

* :func:`object_masks`: ``(N, T, H, W)`` bool silhouettes (alpha >= 0.5), one per sprite; :func:`union_mask`.
* :func:`object_boxes`: ``(T, N, 4)`` float64 tight boxes ``(x0, y0, x1, y1)`` px, NaN where not visible.
* :func:`heatmaps`: ``(T, H, W)`` float32 Gaussian blobs at the objects' centres, in [0, 1].
* :func:`forward_flow`: ``(T-1, H, W, 2)`` float32 forward optical flow in px from object and camera motion:
  pixel ``p`` of frame ``t`` moves to ``p + flow[t, p]`` in frame ``t + 1``.
* :class:`SpriteMasks`: the ``(T, H, W)`` union of the silhouettes, dilated, a frame at a time (the animatic's
  motion mask).
* :func:`forward_warp`: pushes a frame along a flow field (bilinear splatting), for checking flows and for
  guides.

Every function takes ``cameras``: the ``(T, 3, 3)`` world-to-frame matrices of the CAMERA port (None for a
camera at rest), so object motion and camera motion compose the same way everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from vidstudio.motion.sprites import Sprite
from vidstudio.motion.warp import warp_array


def _frames(frame_count: int) -> np.ndarray:
    return np.arange(frame_count, dtype=np.float64)


def _screen_scale(m: np.ndarray) -> np.ndarray:
    return np.sqrt(np.abs(np.linalg.det(m[..., :2, :2])))


def _rect_bounds(m: np.ndarray, size: tuple[float, float], width: int, height: int, pad: int = 2):
    """Integer pixel bounds ``(x0, y0, x1, y1)`` in the frame covering the local rectangle, or None."""
    w, h = size
    corners = np.array([[-w / 2, -h / 2, 1], [w / 2, -h / 2, 1], [w / 2, h / 2, 1], [-w / 2, h / 2, 1]])
    p = corners @ m[:2].T
    x0 = max(int(math.floor(p[:, 0].min())) - pad, 0)
    y0 = max(int(math.floor(p[:, 1].min())) - pad, 0)
    x1 = min(int(math.ceil(p[:, 0].max())) + pad, width)
    y1 = min(int(math.ceil(p[:, 1].max())) + pad, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def sprite_alpha_patch(
    sprite: Sprite, m: np.ndarray, width: int, height: int, raster: np.ndarray | None = None
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The sprite's alpha warped into the frame by ``m`` (local px to frame px), on its bounding patch.

    Returns:
        ``((x0, y0, x1, y1), alpha (y1 - y0, x1 - x0) uint8)``, or None when it lies outside the frame.
    """
    if float(_screen_scale(m)) < 1e-9:  # scaled to nothing
        return None
    bounds = _rect_bounds(m, sprite.size, width, height)
    if bounds is None:
        return None
    x0, y0, x1, y1 = bounds
    if raster is None:
        raster = sprite.raster(float(_screen_scale(m)))
    mm = _translate(-x0, -y0) @ m @ sprite.raster_matrix(raster)
    return bounds, warp_array(raster[..., 3], mm, (x1 - x0, y1 - y0))


def object_masks(
    sprites: Sequence[Sprite],
    width: int,
    height: int,
    frame_count: int,
    cameras: np.ndarray | None = None,
    threshold: float = 0.5,
    *,
    union: bool = False,
) -> np.ndarray:
    """Per-object silhouettes per frame.

    Args:
        sprites: the objects (their tracks are sampled at frames ``0 .. frame_count - 1``).
        width, height: frame size in px; frame_count: ``T``.
        cameras: ``(T, 3, 3)`` world-to-frame matrices or None.
        threshold: alpha at or above which a pixel belongs to the object.
        union: return only the union of the objects, ``(T, H, W)`` (without holding ``N`` masks in memory).

    Returns:
        ``(N, T, H, W)`` bool (``(T, H, W)`` with ``union``); False where an object is hidden or off-frame.
    """
    out = np.zeros((1 if union else len(sprites), frame_count, height, width), dtype=bool)
    level = max(int(round(threshold * 255)), 1)
    f = _frames(frame_count)
    for n, sp in enumerate(sprites):
        mats = sp.local_to_frame(cameras, f)
        vis = sp.track_at(f).visible
        raster = sp.raster(float(_screen_scale(mats).max()))
        dst = out[0 if union else n]
        for t in range(frame_count):
            if not vis[t]:
                continue
            got = sprite_alpha_patch(sp, mats[t], width, height, raster)
            if got is None:
                continue
            (x0, y0, x1, y1), alpha = got
            dst[t, y0:y1, x0:x1] |= alpha >= level
    return out[0] if union else out


def union_mask(masks: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` bool: any object (the union over the first axis of :func:`object_masks`' result)."""
    return masks.any(axis=0) if len(masks) else np.zeros(masks.shape[1:], dtype=bool)


def object_boxes(
    sprites: Sequence[Sprite],
    width: int,
    height: int,
    frame_count: int,
    cameras: np.ndarray | None = None,
    clip: bool = True,
) -> np.ndarray:
    """Tight axis-aligned boxes of each object's visible picture per frame.

    Args:
        clip: clip boxes to the frame (a box wholly outside becomes NaN).

    Returns:
        ``(T, N, 4)`` float64 ``(x0, y0, x1, y1)`` px; NaN rows where an object is hidden (or off-frame when
        ``clip``).
    """
    out = np.full((frame_count, len(sprites), 4), np.nan)
    f = _frames(frame_count)
    for n, sp in enumerate(sprites):
        pts = sp.outline_points()
        if len(pts) == 0:
            continue
        mats = sp.local_to_frame(cameras, f)
        vis = sp.track_at(f).visible
        p = np.einsum("tij,kj->tki", mats[:, :2, :2], pts) + mats[:, None, :2, 2]
        box = np.concatenate([p.min(axis=1), p.max(axis=1)], axis=1)
        if clip:
            box[:, [0, 2]] = np.clip(box[:, [0, 2]], 0, width)
            box[:, [1, 3]] = np.clip(box[:, [1, 3]], 0, height)
            empty = (box[:, 2] <= box[:, 0]) | (box[:, 3] <= box[:, 1])
            vis = vis & ~empty
        box[~vis] = np.nan
        out[:, n] = box
    return out


def heatmaps(
    sprites: Sequence[Sprite],
    width: int,
    height: int,
    frame_count: int,
    cameras: np.ndarray | None = None,
    sigma: float | None = None,
) -> np.ndarray:
    """Gaussian heatmaps of the objects' centres.

    Args:
        sigma: standard deviation in output px; None scales it with each object: a quarter of the geometric
            mean of its on-screen width and height (at least 2 px).

    Returns:
        ``(T, H, W)`` float32 in [0, 1]: per pixel the largest ``exp(-d^2 / (2 sigma^2))`` over the visible
        objects (1 at a centre).
    """
    out = np.zeros((frame_count, height, width), dtype=np.float32)
    xs = np.arange(width, dtype=np.float64) + 0.5
    ys = np.arange(height, dtype=np.float64) + 0.5
    f = _frames(frame_count)
    for sp in sprites:
        mats = sp.local_to_frame(cameras, f)
        vis = sp.track_at(f).visible
        scale = _screen_scale(mats)
        for t in range(frame_count):
            if not vis[t]:
                continue
            cx, cy = mats[t, 0, 2], mats[t, 1, 2]
            s = sigma if sigma is not None else max(2.0, 0.25 * math.sqrt(sp.size[0] * sp.size[1]) * scale[t])
            gx = np.exp(-((xs - cx) ** 2) / (2 * s * s)).astype(np.float32)
            gy = np.exp(-((ys - cy) ** 2) / (2 * s * s)).astype(np.float32)
            np.maximum(out[t], gy[:, None] * gx[None, :], out=out[t])
    return out


def forward_flow(
    sprites: Sequence[Sprite],
    width: int,
    height: int,
    frame_count: int,
    cameras: np.ndarray | None = None,
    threshold: float = 0.5,
) -> np.ndarray:
    """Dense forward optical flow from the scene's rigid motions.

    The background moves with the camera (``C[t+1] . C[t]^-1``); where an object covers a pixel at frame
    ``t`` (alpha >= ``threshold``, the top-most object in ``z`` order winning) the pixel moves with the
    object's full affine (``A[t+1] . A[t]^-1`` with ``A = C . T(position) . R(angle) . S(scale)``).

    Returns:
        ``(T - 1, H, W, 2)`` float32 px (``(0, H, W, 2)`` for a single frame).
    """
    T = frame_count
    out = np.zeros((max(T - 1, 0), height, width, 2), dtype=np.float32)
    if T < 2:
        return out
    gx = (np.arange(width, dtype=np.float64) + 0.5)[None, :]
    gy = (np.arange(height, dtype=np.float64) + 0.5)[:, None]
    f = _frames(T)
    cams = None
    if cameras is not None:
        from vidstudio.motion.sprites import camera_at

        cams = camera_at(cameras, f)
    order = sorted(range(len(sprites)), key=lambda i: (sprites[i].z, i))
    mats = {i: sprites[i].local_to_frame(cameras, f) for i in order}
    vis = {i: sprites[i].track_at(f).visible for i in order}
    rasters = {i: sprites[i].raster(float(_screen_scale(mats[i]).max())) for i in order}
    level = max(int(round(threshold * 255)), 1)

    def affine_flow(m: np.ndarray, xs: np.ndarray, ys: np.ndarray, dst: np.ndarray) -> None:
        dst[..., 0] = (m[0, 0] - 1.0) * xs + m[0, 1] * ys + m[0, 2]
        dst[..., 1] = m[1, 0] * xs + (m[1, 1] - 1.0) * ys + m[1, 2]

    for t in range(T - 1):
        if cams is not None:
            affine_flow(cams[t + 1] @ np.linalg.inv(cams[t]), gx, gy, out[t])
        for i in order:
            if not vis[i][t]:
                continue
            got = sprite_alpha_patch(sprites[i], mats[i][t], width, height, rasters[i])
            if got is None:
                continue
            (x0, y0, x1, y1), alpha = got
            inside = alpha >= level
            if not inside.any():
                continue
            rel = mats[i][t + 1] @ np.linalg.inv(mats[i][t])
            patch = np.empty((y1 - y0, x1 - x0, 2), dtype=np.float64)
            affine_flow(rel, gx[:, x0:x1], gy[y0:y1, :], patch)
            region = out[t, y0:y1, x0:x1]
            region[inside] = patch[inside]
    return out


def forward_warp(image: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pushes every pixel of ``image`` along ``flow`` (bilinear splatting, normalised).

    Args:
        image: ``(H, W, C)`` float32.
        flow: ``(H, W, 2)`` px: pixel ``p`` lands at ``p + flow[p]``.

    Returns:
        ``(warped (H, W, C) float32, weight (H, W) float32)``: pixels that received no contribution (weight
        near 0: disocclusions) are 0 in ``warped``.
    """
    H, W = image.shape[:2]
    C = image.shape[2]
    ys, xs = np.mgrid[0:H, 0:W]
    tx = (xs + flow[..., 0]).reshape(-1)
    ty = (ys + flow[..., 1]).reshape(-1)
    x0 = np.floor(tx).astype(np.int64)
    y0 = np.floor(ty).astype(np.int64)
    fx, fy = tx - x0, ty - y0
    src = image.reshape(-1, C).astype(np.float64)
    acc = np.zeros((H * W, C))
    wsum = np.zeros(H * W)
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xx, yy = x0 + dx, y0 + dy
        ok = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H) & (w > 0)
        idx = (yy * W + xx)[ok]
        wsum += np.bincount(idx, w[ok], minlength=H * W)
        for c in range(C):
            acc[:, c] += np.bincount(idx, w[ok] * src[ok, c], minlength=H * W)
    out = np.where(wsum[:, None] > 1e-6, acc / np.maximum(wsum, 1e-12)[:, None], 0.0)
    return out.reshape(H, W, C).astype(np.float32), wsum.reshape(H, W).astype(np.float32)


class SpriteMasks:
    """The per-frame union of the sprites' silhouettes, dilated, computed a frame at a time: the mask that goes
    with an animatic (Time-to-Move's motion mask: where the motion signal moves).

    Behaves as a read-only ``(T, H, W)`` bool array: ``np.asarray(masks)`` stacks every frame, ``masks[i]`` or
    :meth:`frame` gives one; ``shape``, ``ndim``, ``dtype`` and ``len`` are those of the array. Stand-in sprites
    of bare tracks (:func:`vidstudio.motion.sprites.sprites_from_tracks`) count with their box or disc, so
    trajectories without pictures still mark where things move.

    Args:
        sprites: the objects; width, height: frame size in px; frame_count: ``T``.
        cameras: ``(T, 3, 3)`` world-to-frame matrices or None.
        dilate: grow each frame's mask by this many px (a disc), 0 for none.
        threshold: alpha at or above which a pixel belongs to an object.

    Raises:
        ValueError: for a negative ``dilate`` or a bad size.
    """

    ndim = 3
    dtype = np.dtype(bool)

    def __init__(
        self,
        sprites: Sequence[Sprite],
        width: int,
        height: int,
        frame_count: int,
        cameras: np.ndarray | None = None,
        dilate: int = 0,
        threshold: float = 0.5,
    ):
        if dilate < 0:
            raise ValueError(f"mask dilation must be >= 0 px, got {dilate}")
        if width < 1 or height < 1 or frame_count < 1:
            raise ValueError(f"invalid mask size {width}x{height}, {frame_count} frames")
        self.width, self.height, self.frame_count = int(width), int(height), int(frame_count)
        self.dilate = int(dilate)
        self._level = max(int(round(threshold * 255)), 1)
        f = _frames(self.frame_count)
        self._sprites = list(sprites)
        self._mats = [sp.local_to_frame(cameras, f) for sp in self._sprites]
        self._vis = [sp.track_at(f).visible for sp in self._sprites]
        self._rasters = [sp.raster(float(_screen_scale(m).max())) for sp, m in zip(self._sprites, self._mats)]
        self._cache: dict[int, np.ndarray] = {}

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(T, H, W)``."""
        return (self.frame_count, self.height, self.width)

    def __len__(self) -> int:
        return self.frame_count

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index``'s mask, ``(H, W)`` bool, read-only.

        Raises:
            IndexError: for a frame outside the clip.
        """
        i = int(index)
        if not 0 <= i < self.frame_count:
            raise IndexError(f"mask frame {index} is outside 0..{self.frame_count - 1}")
        hit = self._cache.get(i)
        if hit is not None:
            return hit
        out = np.zeros((self.height, self.width), dtype=np.uint8)
        for sp, mats, vis, r in zip(self._sprites, self._mats, self._vis, self._rasters):
            if not vis[i]:
                continue
            got = sprite_alpha_patch(sp, mats[i], self.width, self.height, r)
            if got is None:
                continue
            (x0, y0, x1, y1), alpha = got
            out[y0:y1, x0:x1] |= (alpha >= self._level).astype(np.uint8)
        if self.dilate and out.any():
            import cv2

            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.dilate + 1, 2 * self.dilate + 1))
            out = cv2.dilate(out, k)
        mask = out.astype(bool)
        mask.setflags(write=False)
        self._cache[i] = mask
        return mask

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self.frame(int(key) % self.frame_count if key < 0 else int(key))
        return np.asarray(self)[key]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = np.stack([self.frame(i) for i in range(self.frame_count)])
        return a if dtype is None else a.astype(dtype)
