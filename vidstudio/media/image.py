"""Still images at the file edge: decoding (Pillow, EXIF orientation honoured) and PNG writing.

Inside the engine an image is an ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA ``float32`` array in [0, 1] with
straight (not premultiplied) alpha; ``uint8`` exists only in files.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vidstudio.errors import MediaError

#: Largest image accepted, in pixels (about 16k x 16k): anything larger is refused with a message.
MAX_IMAGE_PIXELS = 268_435_456
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def load_image(path: str | os.PathLike, *, alpha: bool = True) -> np.ndarray:
    """Decodes an image file.

    Args:
        path: a PNG, JPEG, WebP, BMP or TIFF file.
        alpha: keep an alpha channel when the file has one (``(H, W, 4)``); ``False`` always gives RGB.

    Returns:
        ``(H, W, 3)`` or ``(H, W, 4)`` float32 in [0, 1], rotated upright according to the EXIF orientation.

    Raises:
        MediaError: naming the file, when it is missing, is not an image, is truncated or is too large, or is
            not a regular file (a folder, a FIFO, a device: refused before opening, so nothing blocks; a symlink
            loop is called one).
    """
    from vidstudio.fsutil import regular_file_problem

    p = Path(path)
    why = regular_file_problem(p)
    if why is not None:
        raise MediaError(
            f"{p}: {'image file not found' if why == 'file not found' else why.replace('not a file', 'not an image file')}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise MediaError(f"{p}: image is {w}x{h}, larger than the {MAX_IMAGE_PIXELS:,} pixels accepted")
                im.load()
                im = ImageOps.exif_transpose(im)
                return pil_to_array(im, alpha=alpha)
    except MediaError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise MediaError(f"{p}: cannot decode image ({e.__class__.__name__}: {e})") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise MediaError(f"{p}: cannot decode image ({e})") from None


def pil_to_array(im: Image.Image, *, alpha: bool = True) -> np.ndarray:
    """Converts a Pillow image of any mode to float32 RGB or RGBA in [0, 1] (see :func:`load_image`)."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float32)
        arr = arr / (65535.0 if arr.max() > 255 else 255.0)
        return np.repeat(np.clip(arr, 0, 1)[..., None], 3, axis=2)
    if im.mode == "F":
        arr = np.clip(np.asarray(im, dtype=np.float32), 0, 1)
        return np.repeat(arr[..., None], 3, axis=2)
    target = "RGBA" if (alpha and has_alpha) else "RGB"
    arr = np.asarray(im.convert(target), dtype=np.uint8)
    return arr.astype(np.float32) * np.float32(1.0 / 255.0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Converts float images in [0, 1] (any shape) to uint8 with rounding; uint8 passes through."""
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Writes an ``(H, W, 3|4)`` image (float in [0, 1] or uint8) as PNG, atomically (temp file + rename).

    Raises:
        MediaError: when the shape is not an image or the file cannot be written.
    """
    p = Path(path)
    if image.ndim == 2:
        image = image[..., None].repeat(3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise MediaError(f"{p}: cannot write an array of shape {image.shape} as an image")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".partial", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(to_uint8(image), "RGBA" if image.shape[2] == 4 else "RGB").save(f, format="PNG")
        os.replace(tmp, p)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise MediaError(f"{p}: cannot write PNG ({e})") from None
    return p
