"""Sprites: what the animatic draws and the rasterisers measure. The value of a SPRITE port.

A :class:`Sprite` is a picture (an image cut-out with alpha, or a vector shape with fill and outline) plus the
:class:`~vidstudio.motion.tracks.Track` it follows. Its picture is a ``size = (w, h)`` rectangle in world
pixels at scale 1, centred on the track's position, turned by the track's angle and scaled by its scale; the
camera then maps the world to the output frame. In matrices (see :meth:`Sprite.local_to_frame`)::

    frame point = camera[t] . T(position[t]) . R(angle[t]) . S(scale[t]) . local point

where local points are world pixels relative to the sprite's centre at scale 1 (``-w/2 <= x <= w/2``).

Pictures are rasterised on demand at the resolution they are seen at (:meth:`Sprite.raster`): image sprites
are resampled with area averaging from their source, shapes are drawn with 4x4 supersampling, both with
premultiplied alpha (no dark fringes), so edges are antialiased at every zoom.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

from vidstudio.motion.tracks import Track, TrackSet
from vidstudio.motion.warp import resize_array

ShapeKind = Literal["ellipse", "ball", "box", "polygon", "segment"]
SHAPE_KINDS: tuple[str, ...] = ("ellipse", "ball", "box", "polygon", "segment")
#: Largest raster side in pixels (a sprite seen larger is drawn from this, magnified).
MAX_RASTER = 4096
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class ShapeStyle:
    """A vector shape.

    Attributes:
        kind: ``ellipse`` (inscribed in the sprite's rectangle), ``ball`` (an ellipse with three wedges in the
            outline colour, like a beach ball, so that its spin shows), ``box`` (the rectangle, corners rounded by
            ``corner_radius``), ``polygon`` (``vertices``) or ``segment`` (a capsule from ``vertices[0]`` to
            ``vertices[1]`` of half-thickness ``corner_radius``).
        fill: ``(r, g, b, a)`` in 0..1.
        outline: ``(r, g, b, a)`` in 0..1, drawn inside the shape's edge.
        outline_width: px at scale 1 (0: none).
        vertices: ``(K, 2)`` local px (relative to the centre, scale 1) for polygons and segments.
        corner_radius: px.
    """

    kind: ShapeKind = "ellipse"
    fill: tuple[float, float, float, float] = (0.9, 0.3, 0.2, 1.0)
    outline: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    outline_width: float = 0.0
    vertices: tuple[tuple[float, float], ...] = ()
    corner_radius: float = 0.0


@dataclass(eq=False)
class Sprite:
    """A picture that follows a track.

    Attributes:
        name: unique among the sprites of a render (used for masks and boxes).
        track: the motion (world px, one sample per frame).
        size: ``(w, h)`` world px of the picture's rectangle at scale 1 (> 0).
        image: for image sprites, ``(h, w, 4)`` straight RGBA or ``(h, w, 3)`` RGB float32 in [0, 1]; None for
            shapes.
        shape: for shape sprites, the :class:`ShapeStyle`.
        opacity: 0..1, multiplies the picture's alpha: a float, or ``(T,)`` float64 per frame (a keyed fade;
            frames past its end hold its last value); see :meth:`opacity_at`.
        z: drawing order (higher on top; ties keep input order).

    Raises:
        ValueError: for a non-positive size, neither or both of ``image`` and ``shape``, or an image of the
            wrong shape.
    """

    name: str
    track: Track
    size: tuple[float, float]
    image: np.ndarray | None = None
    shape: ShapeStyle | None = None
    opacity: float | np.ndarray = 1.0
    z: float = 0.0
    _cache: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        w, h = float(self.size[0]), float(self.size[1])
        if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
            raise ValueError(f"sprite {self.name!r}: size must be positive, got {w:g} x {h:g}")
        self.size = (w, h)
        if (self.image is None) == (self.shape is None):
            raise ValueError(f"sprite {self.name!r}: give an image or a shape (exactly one)")
        if self.image is not None:
            img = np.asarray(self.image, dtype=np.float32)
            if img.ndim != 3 or img.shape[2] not in (3, 4) or min(img.shape[:2]) < 1:
                raise ValueError(f"sprite {self.name!r}: image has shape {img.shape}, expected (h, w, 3|4)")
            if img.shape[2] == 3:
                img = np.concatenate([img, np.ones(img.shape[:2] + (1,), np.float32)], axis=2)
            self.image = img
        op = np.asarray(self.opacity, dtype=np.float64)
        if op.ndim > 1 or op.size == 0 or not np.all(np.isfinite(op)):
            raise ValueError(f"sprite {self.name!r}: opacity must be a number or one finite value per frame")
        op = np.clip(op, 0.0, 1.0)
        self.opacity = float(op.flat[0]) if np.all(op == op.flat[0]) else op  # constant: a plain float

    def opacity_at(self, frame: float) -> float:
        """The opacity (0..1) at ``frame`` (the nearest frame of a per-frame opacity)."""
        if isinstance(self.opacity, float):
            return self.opacity
        i = int(np.clip(np.floor(float(frame) + 0.5), 0, len(self.opacity) - 1))
        return float(self.opacity[i])

    def to_json(self) -> dict:
        """JSON-ready facts (for ``vidstudio eval``): name, size, z, opacity, the picture (image shape or shape
        style) and the track (see :meth:`~vidstudio.motion.tracks.Track.to_json`)."""
        picture: dict = (
            {"kind": "image", "shape": list(self.image.shape)}
            if self.image is not None
            else {
                "kind": self.shape.kind,
                "fill": list(self.shape.fill),
                "outline": list(self.shape.outline),
                "outline_width": self.shape.outline_width,
                "vertices": [list(v) for v in self.shape.vertices],
                "corner_radius": self.shape.corner_radius,
            }
        )
        opacity = self.opacity if isinstance(self.opacity, float) else np.round(self.opacity, 6).tolist()
        return {
            "name": self.name,
            "size": list(self.size),
            "z": self.z,
            "opacity": opacity,
            "picture": picture,
            "track": self.track.to_json(),
        }

    # ------------------------------------------------------------------------------------------ geometry
    def local_to_frame(self, cameras: np.ndarray | None = None, frames: np.ndarray | None = None) -> np.ndarray:
        """``(M, 3, 3)`` float64 affines from local px (centre origin, scale 1) to output-frame px.

        Args:
            cameras: ``(T, 3, 3)`` world-to-frame matrices (None: the identity; one matrix: every frame).
            frames: float frames (default ``0 .. track.frame_count - 1``); the track and the cameras are
                interpolated linearly between frames.
        """
        tr = self.track if frames is None else self.track.sample_at(frames)
        m = tr.matrices()
        if cameras is None:
            return m
        cams = camera_at(cameras, np.arange(tr.frame_count, dtype=np.float64) if frames is None else frames)
        return cams @ m

    def track_at(self, frames: np.ndarray | None) -> Track:
        """The track at float ``frames`` (the track itself when None)."""
        return self.track if frames is None else self.track.sample_at(frames)

    def outline_points(self) -> np.ndarray:
        """``(K, 2)`` float64 local px whose convex hull holds the visible picture (alpha >= 0.5): tight boxes
        of the turned sprite come from these points."""
        with self._lock:
            hit = self._cache.get("outline")
        if hit is not None:
            return hit
        w, h = self.size
        if self.shape is not None:
            s = self.shape
            if s.kind in ("ellipse", "ball"):
                a = np.linspace(0, 2 * np.pi, 72, endpoint=False)
                pts = np.stack([0.5 * w * np.cos(a), 0.5 * h * np.sin(a)], axis=1)
            elif s.kind == "polygon" and len(s.vertices) >= 3:
                pts = np.asarray(s.vertices, dtype=np.float64)
            elif s.kind == "segment" and len(s.vertices) == 2:
                v = np.asarray(s.vertices, dtype=np.float64)
                a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
                ring = s.corner_radius * np.stack([np.cos(a), np.sin(a)], axis=1)
                pts = np.concatenate([v[0] + ring, v[1] + ring])
            else:
                pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
        else:
            alpha = self.image[..., 3]
            ih, iw = alpha.shape
            step = max(1, int(math.ceil(max(ih, iw) / 256)))
            a = alpha[::step, ::step] if step > 1 else alpha
            ys, xs = np.nonzero(a >= 0.5)
            if len(xs) == 0:
                pts = np.zeros((0, 2))
            else:
                # Corners of the opaque cells, in image px, then local px.
                cx = np.concatenate([xs, xs + 1, xs, xs + 1]) * step
                cy = np.concatenate([ys, ys, ys + 1, ys + 1]) * step
                pts = np.stack([np.minimum(cx, iw), np.minimum(cy, ih)], axis=1).astype(np.float64)
                pts = np.unique(pts, axis=0)
                if len(pts) >= 3:
                    try:
                        from scipy.spatial import ConvexHull

                        pts = pts[ConvexHull(pts).vertices]
                    except Exception:  # degenerate (a line of pixels): keep the points
                        pass
                pts = pts * np.array([w / iw, h / ih]) - np.array([w / 2, h / 2])
        with self._lock:
            self._cache["outline"] = pts
        return pts

    # ------------------------------------------------------------------------------------------ pixels
    def raster(self, px_per_unit: float) -> np.ndarray:
        """The picture as ``(rh, rw, 4)`` uint8 *premultiplied* RGBA at ``px_per_unit`` raster pixels per world
        pixel (rounded up to a power of two, so that repeated calls share rasters, and capped at
        :data:`MAX_RASTER` per side). Raster pixel ``(i, j)`` covers local px
        ``(-w/2 + i * w / rw, -h/2 + j * h / rh)`` onwards (see :meth:`raster_matrix`).

        Thread-safe; results are cached on the sprite.
        """
        k = 2.0 ** math.ceil(math.log2(max(px_per_unit, 1e-3)))
        w, h = self.size
        k = min(k, MAX_RASTER / max(w, h))
        rw, rh = max(1, int(math.ceil(w * k))), max(1, int(math.ceil(h * k)))
        key = ("raster", rw, rh)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = self._draw(rw, rh)
        out.setflags(write=False)
        with self._lock:
            self._cache[key] = out
        return out

    def raster_matrix(self, raster: np.ndarray) -> np.ndarray:
        """``(3, 3)`` affine from a :meth:`raster`'s pixel coordinates to local px."""
        rh, rw = raster.shape[:2]
        w, h = self.size
        return np.array([[w / rw, 0.0, -w / 2], [0.0, h / rh, -h / 2], [0.0, 0.0, 1.0]])

    def _draw(self, rw: int, rh: int) -> np.ndarray:
        if self.image is not None:
            img = self.image
            pre = np.concatenate([img[..., :3] * img[..., 3:4], img[..., 3:4]], axis=2)
            out = resize_array(pre, (rw, rh)) if (rw, rh) != (img.shape[1], img.shape[0]) else pre
            return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        return _draw_shape(self.shape, self.size, rw, rh)


def _rgba255(c: tuple[float, ...]) -> tuple[int, int, int, int]:
    c = tuple(c) + (1.0,) * (4 - len(c))
    return tuple(int(round(float(np.clip(v, 0, 1)) * 255)) for v in c[:4])  # type: ignore[return-value]


def _draw_shape(style: ShapeStyle, size: tuple[float, float], rw: int, rh: int) -> np.ndarray:
    ss = _SUPERSAMPLE
    W, H = rw * ss, rh * ss
    w, h = size
    kx, ky = W / w, H / h
    canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    fill = _rgba255(style.fill)
    ow = int(round(style.outline_width * min(kx, ky)))
    outline = _rgba255(style.outline) if ow > 0 else None

    def to_canvas(p):
        return [((x + w / 2) * kx, (y + h / 2) * ky) for x, y in p]

    if style.kind == "ellipse":
        draw.ellipse((0, 0, W - 1, H - 1), fill=fill, outline=outline, width=ow)
    elif style.kind == "ball":
        draw.ellipse((0, 0, W - 1, H - 1), fill=fill)
        stripe = _rgba255(style.outline)
        for k in range(3):
            draw.pieslice((0, 0, W - 1, H - 1), 120 * k, 120 * k + 60, fill=stripe)
        if outline is not None:
            draw.ellipse((0, 0, W - 1, H - 1), outline=outline, width=ow)
    elif style.kind == "box":
        r = int(round(style.corner_radius * min(kx, ky)))
        draw.rounded_rectangle((0, 0, W - 1, H - 1), radius=r, fill=fill, outline=outline, width=ow)
    elif style.kind == "polygon":
        draw.polygon(to_canvas(style.vertices), fill=fill, outline=outline, width=max(ow, 1) if outline else 0)
    else:
        (a, b) = to_canvas(style.vertices[:2])
        r = style.corner_radius * min(kx, ky)
        for col, rad in ((outline, r), (fill, r - ow)) if outline else ((fill, r),):
            if rad <= 0:
                continue
            draw.line([a, b], fill=col, width=int(round(2 * rad)))
            for cx, cy in (a, b):
                draw.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), fill=col)
    arr = np.asarray(canvas, dtype=np.float32) / 255.0
    arr[..., :3] *= arr[..., 3:4]
    # Box filter over the supersamples (exact average of premultiplied colour: antialiased edges).
    arr = arr.reshape(rh, ss, rw, ss, 4).mean(axis=(1, 3))
    return (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def camera_at(cameras: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Camera matrices at float ``frames``: ``(M, 3, 3)``, linearly interpolated between frames (held at the
    ends); a single ``(3, 3)`` or ``(1, 3, 3)`` matrix is used for every frame."""
    c = np.asarray(cameras, dtype=np.float64)
    f = np.atleast_1d(np.asarray(frames, dtype=np.float64))
    if c.ndim == 2:
        c = c[None]
    if c.shape[0] == 1:
        return np.repeat(c, len(f), axis=0)
    f = np.clip(f, 0, c.shape[0] - 1)
    i0 = np.floor(f).astype(int)
    i1 = np.minimum(i0 + 1, c.shape[0] - 1)
    a = (f - i0)[:, None, None]
    return c[i0] * (1 - a) + c[i1] * a


# ------------------------------------------------------------------------------------------------ building
def image_sprite(
    name: str,
    track: Track,
    image: np.ndarray,
    width: float = 0.0,
    height: float = 0.0,
    *,
    opacity: float | np.ndarray = 1.0,
    z: float = 0.0,
) -> Sprite:
    """A cut-out sprite.

    Args:
        image: ``(h, w, 3|4)`` float32 in [0, 1] (straight alpha).
        width, height: size in world px; 0 for automatic: one given keeps the image's aspect ratio; none given
            takes the track's size (fitted inside it, keeping the aspect ratio) or else the image's own size.
    """
    ih, iw = image.shape[:2]
    aspect = iw / ih
    if width > 0 and height > 0:
        size = (width, height)
    elif width > 0:
        size = (width, width / aspect)
    elif height > 0:
        size = (height * aspect, height)
    elif track.size[0] > 0 and track.size[1] > 0:
        tw, th = track.size
        size = (tw, tw / aspect) if tw / aspect <= th else (th * aspect, th)
    else:
        size = (float(iw), float(ih))
    return Sprite(name, track, size, image=image, opacity=opacity, z=z)


def shape_sprite(
    name: str,
    track: Track,
    kind: str = "auto",
    width: float = 0.0,
    height: float = 0.0,
    *,
    fill: tuple[float, ...] = (0.9, 0.3, 0.2, 1.0),
    outline: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0),
    outline_width: float = 0.0,
    sides: int = 6,
    corner_radius: float = 0.0,
    opacity: float | np.ndarray = 1.0,
    z: float = 0.0,
    default_size: float = 48.0,
) -> Sprite:
    """A vector-shape sprite.

    Args:
        kind: ``auto`` (the physics body's shape from ``track.meta``, else an ellipse), ``ellipse``, ``ball``, ``box``,
            ``polygon`` (a regular polygon of ``sides`` inscribed in the size, unless ``track.meta`` has
            vertices) or ``segment`` (from ``track.meta``).
        width, height: world px; 0 takes the track's size, or ``default_size``.
        fill, outline: ``(r, g, b[, a])`` in 0..1; outline_width: px.

    Raises:
        ValueError: for an unknown kind or a segment without vertices.
    """
    meta = track.meta or {}
    body_shape = meta.get("shape")
    if kind == "auto":
        kind = {"circle": "ellipse", "box": "box", "polygon": "polygon", "segment": "segment"}.get(
            body_shape, "ellipse"
        )
    if kind not in SHAPE_KINDS:
        raise ValueError(f"unknown shape {kind!r}; expected auto or one of {', '.join(SHAPE_KINDS)}")
    tw, th = track.size
    w = width if width > 0 else (tw if tw > 0 else default_size)
    h = height if height > 0 else (th if th > 0 else (w if width > 0 else default_size))
    vertices: tuple = ()
    radius = corner_radius
    if kind == "polygon":
        if body_shape == "polygon" and meta.get("vertices"):
            v = np.asarray(meta["vertices"], dtype=np.float64)
            if tw > 0 and th > 0:
                v = v * np.array([w / tw, h / th])
        else:
            a = -np.pi / 2 + np.arange(max(3, sides)) * 2 * np.pi / max(3, sides)
            v = np.stack([0.5 * w * np.cos(a), 0.5 * h * np.sin(a)], axis=1)
        vertices = tuple(map(tuple, v))
    elif kind == "segment":
        if not meta.get("vertices"):
            raise ValueError(f"sprite {name!r}: a segment shape needs a physics segment body's track")
        vertices = tuple(map(tuple, np.asarray(meta["vertices"], dtype=np.float64)))
        radius = float(meta.get("radius", 2.0))
    fill4 = tuple(fill) + (1.0,) * (4 - len(fill))
    out4 = tuple(outline) + (1.0,) * (4 - len(outline))
    style = ShapeStyle(kind, fill4, out4, outline_width, vertices, radius)  # type: ignore[arg-type]
    return Sprite(name, track, (w, h), shape=style, opacity=opacity, z=z)


def sprites_from_tracks(tracks: TrackSet, point_size: float = 16.0) -> list[Sprite]:
    """Stand-in sprites for bare tracks (for masks, boxes and previews without Sprite nodes): physics bodies
    get their own shape, other tracks a box of their ``size`` (a disc of ``point_size`` px for points), in
    the track's ``meta["color"]``."""
    out = []
    for tr in tracks:
        color = tuple(tr.meta.get("color", (1.0, 0.55, 0.1)))
        if tr.meta.get("shape"):
            out.append(shape_sprite(tr.name, tr, "auto", fill=color))
        elif tr.size[0] > 0 and tr.size[1] > 0:
            out.append(shape_sprite(tr.name, tr, "box", fill=color))
        else:
            out.append(shape_sprite(tr.name, tr, "ellipse", point_size, point_size, fill=color))
    return out
