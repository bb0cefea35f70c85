"""The animatic renderer: the instant CPU preview of a shot.

It composites, per frame, a background (a photo seen through the camera, a colour, or the frames of another
video) and :class:`~vidstudio.motion.sprites.Sprite` pictures along their tracks, turned and scaled, with
premultiplied alpha and bilinear resampling (antialiased edges), optionally with motion blur. Every frame is
rendered on its own from precomputed per-frame matrices, so any frame can be drawn at random (scrubbing)
from any thread; nothing is simulated here (physics happens once, upstream, in the Simulate node).

Speed: background and sprites are warped with OpenCV (:func:`vidstudio.motion.warp.warp_array`) from
pre-scaled mip levels (never minifying more than 2x, so no aliasing either), sprites only over their own
bounding patch; a still camera reuses the warped background. ``benchmarks/bench_animatic.py`` measures it.

The renderer returns ``(H, W, 3)`` float32 frames in [0, 1]; the Animatic Render node wraps
:meth:`AnimaticRenderer.render` in a lazy :class:`vidstudio.media.Clip`.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from vidstudio.motion.camera import fit_matrix
from vidstudio.motion.raster import _rect_bounds, _screen_scale, _translate
from vidstudio.motion.sprites import Sprite, camera_at
from vidstudio.motion.warp import resize_array, warp_array

BackgroundFrames = Callable[[int], np.ndarray]


class _Mip:
    """An image at its full size and halved sizes, made on demand (thread-safe)."""

    def __init__(self, image: np.ndarray):
        self.levels: dict[int, np.ndarray] = {0: image}
        self._lock = threading.Lock()

    def level(self, magnification: float) -> tuple[np.ndarray, np.ndarray]:
        """The level to draw at ``magnification`` output px per source px (so that it is never minified more
        than 2x), and the ``(3, 3)`` scaling from that level's pixels to the source's."""
        base = self.levels[0]
        L = 0 if magnification >= 0.5 else int(math.ceil(math.log2(0.5 / max(magnification, 1e-6))))
        L = min(L, max(0, int(math.log2(max(min(base.shape[:2]), 1)))))
        with self._lock:
            img = self.levels.get(L)
        if img is None:
            h, w = base.shape[:2]
            img = resize_array(base, (max(1, w >> L), max(1, h >> L)))
            with self._lock:
                self.levels[L] = img
        return img, np.diag([base.shape[1] / img.shape[1], base.shape[0] / img.shape[0], 1.0])


class AnimaticRenderer:
    """Renders the frames of an animatic.

    Args:
        width, height: output frame size in px; frame_count: ``T``.
        sprites: drawn in ``z`` order (ties keep list order), each along its track (sampled at the frame).
        background: ``(h, w, 3|4)`` float32 in [0, 1] placed in the world by ``fit`` and seen through the
            camera (alpha composited over ``background_color``); None for a plain colour.
        background_frames: instead of ``background``, a function giving frame ``i``'s ``(H, W, 3)`` float32
            backdrop (another video, already framed: the camera moves only the sprites).
        background_color: ``(r, g, b)`` in 0..1, outside the picture.
        cameras: ``(T, 3, 3)`` world-to-frame matrices (None or one matrix: a still camera).
        fit: how the background fills the frame at rest: ``cover``, ``contain`` or ``stretch``.
        motion_blur: shutter as a fraction of a frame (0: none; 0.5: a 180-degree shutter), centred on the
            frame's time.
        blur_samples: the fewest sub-frames averaged when ``motion_blur > 0`` (>= 2); frames with fast motion
            take more, one per 1.5 px of the largest movement during the shutter (at most 64), so that blur
            streaks stay smooth.
        quality: ``bilinear`` or ``bicubic`` resampling of the background.

    Raises:
        ValueError: for a bad size, camera count, fit or quality.
    """

    def __init__(
        self,
        width: int,
        height: int,
        frame_count: int,
        *,
        sprites: Sequence[Sprite] = (),
        background: np.ndarray | None = None,
        background_frames: BackgroundFrames | None = None,
        background_color: Sequence[float] = (0.0, 0.0, 0.0),
        cameras: np.ndarray | None = None,
        fit: str = "cover",
        motion_blur: float = 0.0,
        blur_samples: int = 5,
        quality: str = "bilinear",
    ):
        if width < 1 or height < 1 or frame_count < 1:
            raise ValueError(f"invalid animatic size {width}x{height}, {frame_count} frames")
        if quality not in ("bilinear", "bicubic"):
            raise ValueError(f"unknown quality {quality!r}; expected bilinear or bicubic")
        if background is not None and background_frames is not None:
            raise ValueError("give a background picture or background frames, not both")
        self.width, self.height, self.frame_count = int(width), int(height), int(frame_count)
        self.quality = quality
        self.motion_blur = float(max(0.0, motion_blur))
        self.blur_samples = max(2, int(blur_samples))
        self.background_frames = background_frames
        self.background_color = np.asarray(list(background_color)[:3], dtype=np.float32)
        frames = np.arange(self.frame_count, dtype=np.float64)
        if cameras is None:
            cams = np.repeat(np.eye(3)[None], self.frame_count, axis=0)
        else:
            c = np.asarray(cameras, dtype=np.float64)
            if c.ndim == 2:
                c = c[None]
            if c.shape[0] not in (1, self.frame_count) or c.shape[1:] != (3, 3):
                raise ValueError(f"camera has {c.shape[0]} matrices for {self.frame_count} frames")
            cams = np.repeat(c, self.frame_count, axis=0) if c.shape[0] == 1 else c
        self.cameras = cams
        self._still = bool(np.allclose(cams, cams[0], atol=1e-12))
        order = sorted(range(len(sprites)), key=lambda i: (sprites[i].z, i))
        self.sprites = [sprites[i] for i in order]
        # Per-frame local-to-frame matrices and visibility, and the raster each sprite is drawn from.
        self._mats = [sp.local_to_frame(cams, frames) for sp in self.sprites]
        self._vis = [sp.track_at(frames).visible for sp in self.sprites]
        self._rasters = [_SpriteMip(sp, float(_screen_scale(m).max())) for sp, m in zip(self.sprites, self._mats)]

        self._bg: _Mip | None = None
        self._bg_matrix = np.eye(3)
        self._bg_border = tuple(float(v) for v in np.round(self.background_color * 255.0)) + (255.0,)
        if background is not None:
            img = np.asarray(background, dtype=np.float32)
            if img.ndim != 3 or img.shape[2] not in (3, 4):
                raise ValueError(f"background has shape {img.shape}, expected (h, w, 3|4)")
            if img.shape[2] == 4:
                a = img[..., 3:4]
                img = img[..., :3] * a + self.background_color * (1.0 - a)
            # Kept as RGBX: OpenCV warps 4-channel uint8 about twice as fast as 3-channel.
            rgbx = np.empty(img.shape[:2] + (4,), dtype=np.uint8)
            rgbx[..., :3] = np.clip(img, 0, 1) * 255.0 + 0.5
            rgbx[..., 3] = 255
            self._bg = _Mip(rgbx)
            self._bg_matrix = fit_matrix(img.shape[1], img.shape[0], self.width, self.height, fit)
        self._bg_cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._bg_lock = threading.Lock()
        self._plain = np.empty((self.height, self.width, 4), dtype=np.uint8)
        self._plain[..., :3] = np.round(self.background_color * 255.0).astype(np.uint8)
        self._plain[..., 3] = 255

    # ------------------------------------------------------------------------------------------ frames
    def render(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as ``(H, W, 3)`` float32 in [0, 1], with motion blur when enabled.

        Raises:
            IndexError: for a frame outside the clip.
        """
        i = int(index)
        if not 0 <= i < self.frame_count:
            raise IndexError(f"animatic frame {index} is outside 0..{self.frame_count - 1}")
        if self.motion_blur <= 0:
            return self._compose(i, None)
        n = self.blur_sample_count(i)
        offsets = (np.linspace(0.0, 1.0, n) - 0.5) * self.motion_blur
        acc = np.zeros((self.height, self.width, 3), dtype=np.float32)
        for o in offsets:
            acc += self._compose(i, i + float(o))
        acc *= np.float32(1.0 / len(offsets))
        return acc

    def blur_sample_count(self, index: int) -> int:
        """Sub-frames that frame ``index`` averages: ``blur_samples``, more for fast motion (see the class)."""
        a, b = index - self.motion_blur / 2, index + self.motion_blur / 2
        frame_corners = np.array(
            [[0, 0, 1], [self.width, 0, 1], [0, self.height, 1], [self.width, self.height, 1]], float
        )
        ca, cb = camera_at(self.cameras, np.array([a, b]))
        moved = np.linalg.norm((frame_corners @ (cb @ np.linalg.inv(ca))[:2].T) - frame_corners[:, :2], axis=1).max()
        for sp in self.sprites:
            w, h = sp.size
            corners = np.array([[-w / 2, -h / 2, 1], [w / 2, -h / 2, 1], [-w / 2, h / 2, 1], [w / 2, h / 2, 1]])
            ma, mb = sp.local_to_frame(self.cameras, np.array([a, b]))
            moved = max(moved, float(np.linalg.norm(corners @ (mb - ma)[:2].T, axis=1).max()))
        return int(np.clip(math.ceil(moved / 1.5) + 1, self.blur_samples, 64))

    def render_at(self, t: float) -> np.ndarray:
        """The scene at float time ``t`` (frames), without motion blur: ``(H, W, 3)`` float32."""
        return self._compose(int(np.clip(round(t), 0, self.frame_count - 1)), float(t))

    def _background(self, i: int, t: float | None) -> np.ndarray:
        """Frame ``i``'s backdrop as a new ``(H, W, 4)`` uint8 RGBX array (X = 255)."""
        cv2 = _cv2()
        if self.background_frames is not None:
            frame = np.asarray(self.background_frames(i))[..., :3]
            if frame.dtype != np.uint8:
                frame = (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
            return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2RGBA)
        if self._bg is None:
            return self._plain.copy()
        cam = self.cameras[i] if t is None else camera_at(self.cameras, np.array([t]))[0]
        m = cam @ self._bg_matrix
        key = np.round(m, 9).tobytes()
        with self._bg_lock:
            hit = self._bg_cache.get(key)
        if hit is not None:
            return hit.copy()
        src, to_base = self._bg.level(float(_screen_scale(m)))
        out = warp_array(src, m @ to_base, (self.width, self.height), resample=self.quality, border=self._bg_border)
        if self._still:
            with self._bg_lock:
                self._bg_cache[key] = out.copy()
                while len(self._bg_cache) > 2:
                    self._bg_cache.popitem(last=False)
        return out

    def _compose(self, i: int, t: float | None) -> np.ndarray:
        frame = self._background(i, t)
        for n, sp in enumerate(self.sprites):
            if t is None:
                if not self._vis[n][i]:
                    continue
                m = self._mats[n][i]
            else:
                tr = sp.track.sample_at(t)
                if not tr.visible[0]:
                    continue
                m = camera_at(self.cameras, np.array([t]))[0] @ tr.matrices()[0]
            self._draw_sprite(frame, sp, self._rasters[n], m, sp.opacity_at(i if t is None else t))
        cv2 = _cv2()
        out = cv2.cvtColor(frame, cv2.COLOR_RGBA2RGB).astype(np.float32)
        out *= np.float32(1.0 / 255.0)
        return out

    def _draw_sprite(self, frame: np.ndarray, sp: Sprite, mip: _SpriteMip, m: np.ndarray, opacity: float) -> None:
        """Composites a sprite over ``frame`` (uint8 RGBX, in place) at ``opacity``: premultiplied "over" on its
        patch."""
        if opacity <= 0.0:
            return
        scale = float(_screen_scale(m))
        bounds = _rect_bounds(m, sp.size, self.width, self.height) if scale > 1e-9 else None
        if bounds is None:
            return
        x0, y0, x1, y1 = bounds
        raster = mip.for_scale(scale)
        mm = _translate(-x0, -y0) @ m @ sp.raster_matrix(raster)
        patch = warp_array(raster, mm, (x1 - x0, y1 - y0))
        if not patch[..., 3].any():
            return
        cv2 = _cv2()
        if opacity < 1.0:
            patch = cv2.convertScaleAbs(patch, alpha=opacity)
        inv = 255 - patch[..., 3]
        region = frame[y0:y1, x0:x1]
        # dst = src + dst * (1 - a), per channel; the frame's X channel stays 255 (inv + a).
        kept = cv2.multiply(region, cv2.merge([inv, inv, inv, inv]), scale=1.0 / 255.0)
        cv2.add(kept, patch, dst=region)


def _cv2():
    import cv2

    return cv2


class _SpriteMip:
    """The rasters a sprite is drawn from: the largest needed, and halvings of it for smaller frames."""

    def __init__(self, sprite: Sprite, max_scale: float):
        self.sprite = sprite
        self.max_scale = max(max_scale, 1e-3)

    def for_scale(self, scale: float) -> np.ndarray:
        """The raster to draw the sprite from at ``scale`` (output px per world px): the largest one halved as
        often as stays at or above ``scale`` (mipmapping); ``(rh, rw, 4)`` uint8 premultiplied RGBA
        (:meth:`vidstudio.motion.sprites.Sprite.raster`)."""
        levels = 0 if scale >= self.max_scale / 2 else int(math.floor(math.log2(self.max_scale / max(scale, 1e-6))))
        return self.sprite.raster(self.max_scale / (2**levels))
