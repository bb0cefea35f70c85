"""Cut-and-drag: a region cut out of a photo along a drawn outline, as a sprite with a feathered alpha, and the
photo with the hole it leaves (filled by inpainting, or left as it is).

The outline is data, not a picture: a closed polygon of ``(x, y)`` points in the photo's pixels (origin
top-left, y down, pixel ``i`` covering ``[i, i + 1)`` so its centre is ``i + 0.5``), plus a feather width in
pixels. A polygon clicked point by point and a freehand lasso (many points close together) are the same thing.

Feather: the alpha ramps linearly across a band ``feather`` pixels wide centred on the outline, from 0 at
``feather / 2`` outside it to 1 at ``feather / 2`` inside it (the signed distance of each pixel centre to the
outline, from OpenCV's exact Euclidean distance transform ``cv2.distanceTransform(..., cv2.DIST_L2,
cv2.DIST_MASK_PRECISE)``). ``feather = 0`` gives a hard edge: 1 for pixel centres inside the polygon.

Hole filling uses OpenCV's inpainting by the fast marching method (A. Telea, "An Image Inpainting Technique
Based on the Fast Marching Method", Journal of Graphics Tools 9(1), 2004; ``cv2.inpaint(..., cv2.INPAINT_TELEA)``).

Functions: :func:`validate_outline`, :func:`outline_alpha`, :func:`cut_out` (the sprite's RGBA crop, where it
sits and its centre), :func:`crop_box` (the same crop without the photo), :func:`fill_hole`, :func:`place_in_world` (where a crop of a photo sits in the
animatic's world once the photo is fitted to the frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Fewest points of an outline (a triangle).
MIN_POINTS = 3


def validate_outline(value: Any) -> list[list[float]]:
    """Checks an outline: a list of at least 3 ``[x, y]`` finite numbers (photo pixels).

    An empty list is allowed (nothing cut out yet).

    Returns:
        the outline as a list of ``[float, float]``.

    Raises:
        ValueError: naming the point that is wrong (``points[3]: expects [x, y] numbers``), or too few points.
    """
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expects a list of [x, y] points, got {type(value).__name__}")
    out = []
    for i, p in enumerate(value):
        if (
            not isinstance(p, (list, tuple))
            or len(p) != 2
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)
        ):
            raise ValueError(f"points[{i}]: expects [x, y] numbers, got {p!r}")
        if not all(np.isfinite(float(c)) for c in p):
            raise ValueError(f"points[{i}]: expects finite numbers, got {list(p)}")
        out.append([float(p[0]), float(p[1])])
    if 0 < len(out) < MIN_POINTS:
        raise ValueError(f"an outline needs at least {MIN_POINTS} points, got {len(out)}")
    return out


def _inside(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(H, W)`` uint8: 1 where the pixel centre lies inside the polygon (even-odd rule).

    OpenCV's ``fillPoly`` fills the interior fast but rounds the edges to whole pixels; the pixels within two
    of the edge are then decided exactly by the crossing-number test at their centres."""
    import cv2

    mask = np.zeros((height, width), dtype=np.uint8)
    shift = 8
    # pixel centre (i + 0.5) is the integer grid point i of fillPoly: move the polygon by -0.5
    fixed = np.round((points - 0.5) * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [fixed], 1, lineType=cv2.LINE_8, shift=shift)
    k = np.ones((5, 5), dtype=np.uint8)
    band = (cv2.dilate(mask, k) > 0) & ~(cv2.erode(mask, k, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0)
    ys, xs = np.nonzero(band)
    if len(xs) == 0:
        return mask
    px, py = xs + 0.5, ys + 0.5
    x1, y1 = points[:, 0], points[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    inside = np.zeros(len(xs), dtype=bool)
    for a in range(0, len(points), 64):  # edges in chunks: (pixels, 64) arrays
        e = slice(a, a + 64)
        ex1, ey1, ex2, ey2 = x1[e][None], y1[e][None], x2[e][None], y2[e][None]
        crosses = (ey1 > py[:, None]) != (ey2 > py[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = ex1 + (py[:, None] - ey1) * (ex2 - ex1) / (ey2 - ey1)
        inside ^= np.logical_xor.reduce(crosses & (px[:, None] < xint), axis=1)
    mask[ys, xs] = inside
    return mask


def outline_alpha(points: Any, width: int, height: int, feather: float = 0.0) -> np.ndarray:
    """Rasterises a closed outline as an alpha mask.

    Args:
        points: ``(N, 2)`` outline points in pixels (N >= 3), closed implicitly (last point to first).
        width, height: the mask's size in pixels.
        feather: width of the soft edge in pixels (>= 0), centred on the outline (see the module docstring).

    Returns:
        ``(height, width)`` float32 in [0, 1].

    Raises:
        ValueError: for fewer than 3 points, a negative feather or an empty size.
    """
    import cv2

    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < MIN_POINTS:
        raise ValueError(f"an outline needs at least {MIN_POINTS} points, got {len(pts)}")
    if feather < 0 or not np.isfinite(feather):
        raise ValueError(f"feather must be a number >= 0 px, got {feather}")
    if width <= 0 or height <= 0:
        raise ValueError(f"cannot make a {width}x{height} mask")
    inside = _inside(pts, width, height)
    if feather <= 0:
        return inside.astype(np.float32)
    # Signed distance from each pixel centre to the outline: + inside, - outside. distanceTransform gives the
    # distance to the nearest zero pixel centre; the outline lies half a pixel before it on average.
    pad = int(np.ceil(feather)) + 2  # so that a region touching the border still ramps there
    big = cv2.copyMakeBorder(inside, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    d_in = cv2.distanceTransform(big, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_out = cv2.distanceTransform(1 - big, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    signed = np.where(big > 0, d_in - 0.5, 0.5 - d_out)[pad:-pad, pad:-pad]
    return np.clip(0.5 + signed / feather, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class CutOut:
    """A region cut out of a photo.

    Attributes:
        image: ``(h, w, 4)`` float32 straight-alpha RGBA in [0, 1]: the crop of the photo around the region,
            alpha from the outline (0 outside it).
        alpha: ``(H, W)`` float32 in [0, 1]: the outline's alpha over the whole photo.
        box: ``(x0, y0, x1, y1)`` int, the crop in photo pixels (``x1``, ``y1`` exclusive).
        center: ``(x, y)`` float, the centre of the crop in photo pixels: where a sprite of ``image`` must be
            drawn (sprites are drawn centred on their track) to sit exactly where it was cut.
    """

    image: np.ndarray
    alpha: np.ndarray
    box: tuple[int, int, int, int]
    center: tuple[float, float]


def cut_out(photo: np.ndarray, points: Any, feather: float = 0.0) -> CutOut:
    """Cuts the region inside ``points`` out of ``photo``.

    Args:
        photo: ``(H, W, 3|4)`` float32 in [0, 1] (an alpha channel multiplies the outline's alpha).
        points: ``(N, 2)`` outline in photo pixels (N >= 3).
        feather: soft edge width in pixels.

    Returns:
        a :class:`CutOut`; the crop is the bounding box of the pixels where the outline's alpha is > 0 (see
        :func:`crop_box`; a photo's own alpha multiplies the crop's alpha but not the box), or a 1x1 transparent
        crop at the outline's first point when the outline covers no pixel centre (outside the photo, or
        thinner than a pixel).

    Raises:
        ValueError: for a photo that is not ``(H, W, 3|4)``, and as :func:`outline_alpha`.
    """
    img = np.asarray(photo, dtype=np.float32)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"expects an (H, W, 3|4) image, got shape {img.shape}")
    h, w = img.shape[:2]
    alpha = outline_alpha(points, w, h, feather)
    x0, y0, x1, y1 = _box(alpha, points)
    if img.shape[2] == 4:
        alpha = alpha * img[..., 3]
    crop = np.empty((y1 - y0, x1 - x0, 4), dtype=np.float32)
    crop[..., :3] = img[y0:y1, x0:x1, :3]
    crop[..., 3] = alpha[y0:y1, x0:x1]
    return CutOut(crop, alpha, (x0, y0, x1, y1), ((x0 + x1) / 2.0, (y0 + y1) / 2.0))


def _box(alpha: np.ndarray, points: Any) -> tuple[int, int, int, int]:
    h, w = alpha.shape
    ys, xs = np.nonzero(alpha > 0)
    if len(xs) == 0:
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)[0]
        x0, y0 = int(np.clip(np.floor(p[0]), 0, w - 1)), int(np.clip(np.floor(p[1]), 0, h - 1))
        return x0, y0, x0 + 1, y0 + 1
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def crop_box(
    points: Any, width: int, height: int, feather: float = 0.0
) -> tuple[tuple[int, int, int, int], tuple[float, float]]:
    """The crop :func:`cut_out` takes for an outline on a ``width`` x ``height`` photo, without the photo.

    Returns:
        ``((x0, y0, x1, y1), (cx, cy))``: the box in photo pixels (``x1``, ``y1`` exclusive) and its centre.

    Raises:
        ValueError: as :func:`outline_alpha`.
    """
    x0, y0, x1, y1 = _box(outline_alpha(points, width, height, feather), points)
    return (x0, y0, x1, y1), ((x0 + x1) / 2.0, (y0 + y1) / 2.0)


def fill_hole(picture: np.ndarray, alpha: np.ndarray, radius: float = 5.0, grow: int = 2) -> np.ndarray:
    """Fills the hole a cut-out leaves in ``picture`` by inpainting (Telea's fast marching method, OpenCV).

    Args:
        picture: ``(H, W, 3|4)`` float32 in [0, 1]; an alpha channel is kept as it is.
        alpha: ``(H, W)`` float32: the region that was cut (pixels with alpha > 0 form the hole).
        radius: the inpainting neighbourhood in pixels (``inpaintRadius`` of ``cv2.inpaint``).
        grow: pixels by which the hole is widened first, so that no fringe of the cut object stays behind.

    Returns:
        ``(H, W, 3|4)`` float32 in [0, 1], a new array; pixels outside the (grown) hole are unchanged.

    Raises:
        ValueError: when the sizes differ or the radius is not positive.
    """
    import cv2

    pic = np.asarray(picture, dtype=np.float32)
    if pic.ndim != 3 or pic.shape[2] not in (3, 4):
        raise ValueError(f"expects an (H, W, 3|4) picture, got shape {pic.shape}")
    if alpha.shape != pic.shape[:2]:
        raise ValueError(f"the hole is {alpha.shape[1]}x{alpha.shape[0]}, the picture {pic.shape[1]}x{pic.shape[0]}")
    if not radius > 0:
        raise ValueError(f"inpaint radius must be > 0 px, got {radius}")
    hole = (np.asarray(alpha) > 0).astype(np.uint8)
    if grow > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        hole = cv2.dilate(hole, k)
    out = pic.copy()
    if not hole.any():
        return out
    rgb8 = np.clip(np.round(pic[..., :3] * 255.0), 0, 255).astype(np.uint8)
    filled = cv2.inpaint(rgb8, hole, float(radius), cv2.INPAINT_TELEA).astype(np.float32) / 255.0
    sel = hole > 0
    out[..., :3][sel] = filled[sel]
    return out


def place_in_world(
    box: tuple[int, int, int, int], photo_size: tuple[int, int], frame_size: tuple[int, int], fit: str = "cover"
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where a crop of a photo sits in the animatic's world when the photo is its background.

    The Animatic Render places its background picture with :func:`vidstudio.motion.camera.fit_matrix`; a sprite
    of the crop drawn at the returned centre with the returned size covers exactly the pixels it was cut from.

    Args:
        box: ``(x0, y0, x1, y1)`` of the crop in photo pixels.
        photo_size: ``(width, height)`` of the photo; frame_size: ``(width, height)`` of the output frame.
        fit: ``cover``, ``contain`` or ``stretch`` (the Animatic Render's ``fit``).

    Returns:
        ``((cx, cy), (width, height))`` in world pixels.

    Raises:
        ValueError: as :func:`~vidstudio.motion.camera.fit_matrix`.
    """
    from vidstudio.motion.camera import fit_matrix

    m = fit_matrix(photo_size[0], photo_size[1], frame_size[0], frame_size[1], fit)
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0, 1.0], [x1, y1, 1.0]]) @ m.T
    (ax, ay), (bx, by) = corners[0, :2], corners[1, :2]
    return ((float(ax + bx) / 2, float(ay + by) / 2), (float(bx - ax), float(by - ay)))
