"""Affine image warping on the CPU through Pillow's resampling (C code, fast enough for scrubbing).

Coordinates follow :mod:`vidstudio.motion` (pixel centres at ``i + 0.5``), which is also Pillow's
convention for ``Image.transform``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_RESAMPLE = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}


def to_pil(image: np.ndarray) -> Image.Image:
    """Converts an ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA image (float32 in [0, 1] or uint8) to Pillow.

    Raises:
        ValueError: for another shape.
    """
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) or (H, W, 4) image, got shape {image.shape}")
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(image), "RGBA" if image.shape[2] == 4 else "RGB")


def warp_affine(
    image: Image.Image,
    matrix: np.ndarray,
    size: tuple[int, int],
    *,
    resample: str = "bilinear",
    fill: tuple[int, ...] | None = None,
) -> Image.Image:
    """Warps ``image`` by ``matrix`` into a new image of ``size``.

    Args:
        image: the source (Pillow RGB or RGBA).
        matrix: ``(3, 3)`` affine mapping *source* pixel coordinates to *destination* coordinates.
        size: destination ``(width, height)`` in pixels.
        resample: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        fill: colour outside the source, ``(r, g, b[, a])`` 0..255 (default transparent / black).

    Returns:
        A Pillow image of ``size`` in the source's mode.

    Raises:
        ValueError: for a singular matrix or unknown resampling.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if abs(np.linalg.det(m[:2, :2])) < 1e-12:
        raise ValueError("the affine is singular (zero scale): nothing to draw")
    inv = np.linalg.inv(m)
    data = (inv[0, 0], inv[0, 1], inv[0, 2], inv[1, 0], inv[1, 1], inv[1, 2])
    if resample not in _RESAMPLE:
        raise ValueError(f"unknown resampling {resample!r}; expected one of {', '.join(_RESAMPLE)}")
    if fill is None:
        fill = (0, 0, 0, 0) if image.mode == "RGBA" else (0, 0, 0)
    return image.transform(size, Image.Transform.AFFINE, data, resample=_RESAMPLE[resample], fillcolor=fill)
