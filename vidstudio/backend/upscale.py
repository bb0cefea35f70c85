"""Super-resolution with user-supplied model files, tiled so that memory stays bounded.

Models are loaded through `spandrel` (``spandrel.ModelLoader().load_from_file``: ESRGAN, Real-ESRGAN, SwinIR,
HAT, DAT, OmniSR and the other architectures it detects from a state dict), an optional dependency
(``pip install vidstudio[upscale]``; it needs torchvision). Any ``(1, 3, h, w) -> (1, 3, s*h, s*w)`` torch module
works with :func:`tiled_upscale`.

Tiling: the frame is cut into ``tile x tile`` cores; each core is run with ``overlap`` pixels of context on every
side (clamped at the frame's edges) and only the core's part of the output is kept. For a network whose receptive
field reaches no further than ``overlap`` pixels, the result equals running the whole frame at once (no seams);
for deeper networks the context makes seams invisible in practice. Memory is that of one tile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidstudio.errors import ModelError, NodeError


@dataclass
class Upscaler:
    """A loaded super-resolution model.

    Attributes:
        model: the torch module, ``(1, 3, h, w)`` float in [0, 1] -> ``(1, 3, scale*h, scale*w)``.
        scale: the integer magnification. architecture: the name spandrel gave (or "module").
        path: the file it came from (None for a module built in code).
    """

    model: Any
    scale: int
    architecture: str = "module"
    path: Path | None = None


def load_upscaler(path: str | Path, *, device: str = "cpu") -> Upscaler:
    """Loads a super-resolution model file (``.pth``, ``.safetensors``, ``.ckpt``) with spandrel, on ``device``
    (``"auto"``: cuda, else mps, else cpu).

    Raises:
        ModelError: naming the file when it is missing, spandrel is not installed, or the file is not an image
            super-resolution model spandrel knows (the message says what it found).
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p}: upscale model file not found")
    try:
        import spandrel
    except ImportError:
        raise ModelError("Upscale needs spandrel (and torchvision): pip install 'vidstudio[upscale]'") from None
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    try:
        desc = spandrel.ModelLoader(device=device).load_from_file(str(p))
    except Exception as e:
        raise ModelError(
            f"{p}: not an upscale model spandrel can load ({str(e).strip() or type(e).__name__})"
        ) from None
    if not isinstance(desc, spandrel.ImageModelDescriptor) or desc.input_channels != 3:
        raise ModelError(
            f"{p}: a {getattr(desc, 'architecture', '?')} model, not a 3-channel image super-resolution model"
        )
    desc.model.eval()
    return Upscaler(
        model=desc.model,
        scale=int(desc.scale),
        architecture=str(getattr(desc.architecture, "name", desc.architecture)),
        path=p,
    )


def _starts(size: int, tile: int) -> list[int]:
    return list(range(0, max(size - tile, 0) + 1, tile)) + ([size - tile] if size > tile and size % tile else [])


def tiled_upscale(
    upscaler: Upscaler,
    image: np.ndarray,
    *,
    tile: int = 256,
    overlap: int = 16,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Runs ``upscaler`` over an image tile by tile (see the module docstring).

    Args:
        image: ``(H, W, 3)`` float32 in [0, 1]. tile: the core size in pixels (>= 8). overlap: context pixels on
            each side of a core (>= 0).

    Returns:
        ``(scale*H, scale*W, 3)`` float32 in [0, 1].

    Raises:
        NodeError: for a bad tile or overlap, or a model whose output is not ``scale`` times its input.
    """
    import torch

    if tile < 8 or overlap < 0:
        raise NodeError(f"param 'tile' must be at least 8 and 'overlap' at least 0 (got {tile}, {overlap})")
    img = np.asarray(image, np.float32)[..., :3]
    h, w = img.shape[:2]
    s = int(upscaler.scale)
    out = np.zeros((h * s, w * s, 3), np.float32)
    param = next(iter(upscaler.model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    ys, xs = _starts(h, tile), _starts(w, tile)
    total, done = len(ys) * len(xs), 0
    with torch.inference_mode():
        for y in ys:
            for x in xs:
                y1, x1 = min(y + tile, h), min(x + tile, w)
                cy0, cx0 = max(0, y - overlap), max(0, x - overlap)
                cy1, cx1 = min(h, y1 + overlap), min(w, x1 + overlap)
                crop = torch.from_numpy(np.ascontiguousarray(img[cy0:cy1, cx0:cx1].transpose(2, 0, 1)))[None]
                res = upscaler.model(crop.to(device=device, dtype=dtype))
                if tuple(res.shape[-2:]) != ((cy1 - cy0) * s, (cx1 - cx0) * s):
                    raise NodeError(
                        f"the upscale model gave {tuple(res.shape[-2:])} for a {(cy1 - cy0, cx1 - cx0)} tile, not {s}x"
                    )
                core = res[0, :, (y - cy0) * s : (y1 - cy0) * s, (x - cx0) * s : (x1 - cx0) * s]
                out[y * s : y1 * s, x * s : x1 * s] = core.float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
                done += 1
                if progress is not None:
                    progress(done / total)
    return out


__all__ = ["Upscaler", "load_upscaler", "tiled_upscale"]
