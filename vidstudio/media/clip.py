"""Clips: random-access videos whose frames are made on demand.

A VIDEO port carries a :class:`Clip`. ``numpy.asarray(clip)`` is the ``(T, H, W, 3)`` float32 array in [0, 1]
that the engine's conventions describe, but nothing is computed until a frame is asked for: scrubbing the
timeline renders one frame, exporting streams frames to the encoder one at a time, and a chain of per-frame
nodes (grade, grain, camera) composes into one function per frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np

FrameFn = Callable[[int], np.ndarray]


class Clip:
    """A sequence of ``frame_count`` RGB frames of ``height x width`` pixels, rendered on demand.

    Args:
        frame_count: number of frames ``T`` (>= 1).
        height, width: frame size in pixels.
        render: ``render(i) -> (H, W, 3)`` frame for ``0 <= i < T``, float32 in [0, 1] (other float dtypes are
            converted; uint8 is scaled by 1/255). Must be safe to call from several threads.
        cache_frames: how many recently rendered frames to keep (0: none).
        label: a short description for messages.

    Attributes:
        array: the ``(T, H, W, 3)`` float32 array behind a clip made by :meth:`from_array` (frames already
            computed, e.g. a generated video), else None (frames made on demand).
        metadata: ``{key: text}`` facts about how the frames were made (e.g. the generation seed); carried by
            :meth:`map`, :meth:`subclip` and slicing, and written into an exported MP4's metadata.

    Frames returned by :meth:`frame` are read-only; copy before modifying.

    Raises:
        ValueError: for a non-positive size, or (from :meth:`frame`) a frame of the wrong shape or an index
            out of range.
    """

    def __init__(
        self,
        frame_count: int,
        height: int,
        width: int,
        render: FrameFn,
        *,
        cache_frames: int = 8,
        label: str = "clip",
    ):
        if frame_count < 1 or height < 1 or width < 1:
            raise ValueError(f"{label}: invalid clip size {frame_count} frames of {width}x{height}")
        self.frame_count = int(frame_count)
        self.height = int(height)
        self.width = int(width)
        self.label = label
        self._render = render
        self.metadata: dict[str, str] = {}
        self.array: np.ndarray | None = None
        self._cache_frames = cache_frames
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ building
    @classmethod
    def from_array(cls, frames: np.ndarray, label: str = "clip") -> Clip:
        """Wraps an in-memory ``(T, H, W, 3)`` array (float in [0, 1], or uint8).

        Raises:
            ValueError: for another shape.
        """
        arr = np.asarray(frames)
        if arr.ndim != 4 or arr.shape[3] != 3:
            raise ValueError(f"{label}: expected frames of shape (T, H, W, 3), got {arr.shape}")
        data = _as_float_frames(arr)
        data.setflags(write=False)
        clip = cls(data.shape[0], data.shape[1], data.shape[2], lambda i: data[i], cache_frames=0, label=label)
        clip.array = data
        return clip

    @classmethod
    def still(cls, image: np.ndarray, frame_count: int, label: str = "still") -> Clip:
        """A clip that shows one ``(H, W, 3)`` image for ``frame_count`` frames."""
        img = _as_float_frames(np.asarray(image)[..., :3])
        img.setflags(write=False)
        return cls(frame_count, img.shape[0], img.shape[1], lambda i: img, cache_frames=0, label=label)

    def map(self, fn: Callable[[np.ndarray, int], np.ndarray], label: str | None = None, cache_frames: int = 8) -> Clip:
        """Returns a clip whose frame ``i`` is ``fn(self.frame(i), i)`` (same count; size taken from ``fn``'s
        output on frame 0 when it differs)."""
        first = fn(self.frame(0), 0)
        h, w = first.shape[:2]
        out = Clip(
            self.frame_count, h, w, lambda i: fn(self.frame(i), i), cache_frames=cache_frames, label=label or self.label
        )
        out.metadata.update(self.metadata)
        return out

    def subclip(self, start: int, stop: int) -> Clip:
        """Returns frames ``start <= i < stop`` as a new clip (no copy).

        Raises:
            ValueError: for an empty or out-of-range range.
        """
        if not (0 <= start < stop <= self.frame_count):
            raise ValueError(f"{self.label}: frame range {start}:{stop} is outside 0:{self.frame_count}")
        out = Clip(
            stop - start, self.height, self.width, lambda i: self.frame(start + i), cache_frames=0, label=self.label
        )
        out.metadata.update(self.metadata)
        return out

    # ------------------------------------------------------------------------------------------ access
    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(T, H, W, 3)``."""
        return (self.frame_count, self.height, self.width, 3)

    @property
    def dtype(self) -> np.dtype:
        """Always ``float32``."""
        return np.dtype(np.float32)

    def __len__(self) -> int:
        return self.frame_count

    def frame(self, index: int) -> np.ndarray:
        """Returns frame ``index`` (negative counts from the end) as a read-only ``(H, W, 3)`` float32 array.

        Raises:
            IndexError: when ``index`` is outside the clip.
            ValueError: when the renderer returns a frame of the wrong shape.
        """
        i = int(index)
        if i < 0:
            i += self.frame_count
        if not 0 <= i < self.frame_count:
            raise IndexError(f"{self.label}: frame {index} is outside 0..{self.frame_count - 1}")
        with self._lock:
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
        out = _as_float_frames(np.asarray(self._render(i)))
        if out.shape != (self.height, self.width, 3):
            raise ValueError(f"{self.label}: frame {i} has shape {out.shape}, expected {(self.height, self.width, 3)}")
        if out.flags.writeable:
            out.setflags(write=False)
        if self._cache_frames:
            with self._lock:
                self._cache[i] = out
                while len(self._cache) > self._cache_frames:
                    self._cache.popitem(last=False)
        return out

    def __getitem__(self, key: int | slice) -> np.ndarray | Clip:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.frame_count)
            if step != 1:
                idx = list(range(start, stop, step))
                out = Clip(
                    len(idx), self.height, self.width, lambda i: self.frame(idx[i]), cache_frames=0, label=self.label
                )
                out.metadata.update(self.metadata)
                return out
            return self.subclip(start, stop)
        return self.frame(key)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(self.frame_count):
            yield self.frame(i)

    def to_array(self) -> np.ndarray:
        """Renders every frame into one new ``(T, H, W, 3)`` float32 array (holds the whole clip in memory)."""
        out = np.empty(self.shape, dtype=np.float32)
        for i in range(self.frame_count):
            out[i] = self.frame(i)
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        arr = self.to_array()
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self) -> str:
        return f"Clip({self.label!r}, {self.frame_count} frames, {self.width}x{self.height})"


def as_clip(value: Clip | np.ndarray, label: str = "video") -> Clip:
    """Returns ``value`` as a :class:`Clip` (wrapping an array of shape ``(T, H, W, 3)``).

    Raises:
        ValueError: when ``value`` is neither a clip nor such an array.
    """
    if isinstance(value, Clip):
        return value
    return Clip.from_array(np.asarray(value), label=label)


#: ``Clip.metadata`` key of a clip's own frame rate (a Fraction as text, ``"60"``, ``"30000/1001"``), set where a
#: clip's frames are not at the project's rate (Interpolate, Load Video with ``rate`` "source").
FPS_KEY = "vidstudio_fps"


def clip_fps(clip: Clip, default: Fraction | None = None) -> Fraction | None:
    """The clip's own frame rate (frames per second) from ``metadata["vidstudio_fps"]``, else ``default`` (a clip
    without one is at the project's rate).

    Raises:
        ValueError: when the metadata holds no positive rate (naming the clip).
    """
    text = clip.metadata.get(FPS_KEY)
    if not text:
        return default
    try:
        fps = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{clip.label}: {FPS_KEY} {text!r} is not a frame rate") from None
    if fps <= 0:
        raise ValueError(f"{clip.label}: {FPS_KEY} {text!r} is not a positive frame rate")
    return fps


def _as_float_frames(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) * np.float32(1.0 / 255.0)
    if arr.dtype != np.float32:
        return arr.astype(np.float32)
    return arr
