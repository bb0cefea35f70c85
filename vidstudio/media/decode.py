"""Decoding video files lazily through PyAV (FFmpeg's libraries): MP4, MOV, MKV, WebM, GIF and what else FFmpeg reads.

A :class:`VideoSource` indexes a file's video packets once (demuxing only, nothing decoded), then decodes the
frames asked for: forward from the decoder's position when the frame is a little ahead, after a seek to the
keyframe before it otherwise. So a 10-minute 1080p file is never held in memory; :func:`open_video_clip` wraps a
source in the lazy :class:`~vidstudio.media.clip.Clip` the engine and the GUI's scrubbing use, with a trim
(in/out, seconds) and a conversion to the project's frame rate (each output frame shows the source frame on screen
at its time, which is also right for variable-frame-rate files).

Pixels: YUV is converted to RGB with the matrix the stream is tagged with (BT.709, BT.601, BT.2020; untagged
streams get BT.709 from 720 lines up and BT.601 below, FFmpeg's and the players' convention) and its range
(limited "tv" unless tagged full "pc"); the display matrix (a phone's rotation) is applied; alpha is kept where
the codec has it (VP8/VP9 with alpha in WebM, decoded by libvpx; PNG, QuickTime Animation or ProRes 4444 in MOV;
GIF transparency).
"""

from __future__ import annotations

import bisect
import os
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidstudio.errors import MediaError

#: File suffixes :class:`VideoSource` is meant for (FFmpeg reads many more).
VIDEO_FILE_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".gif", ".avi")

# How far ahead of the decoder's position (in frames) a frame is reached by decoding forward instead of seeking.
_FORWARD_LIMIT = 48

_MATRICES = {1: "ITU709", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}


def _av():
    try:
        import av
    except ImportError:  # pragma: no cover - av is a runtime dependency
        raise MediaError("decoding videos needs PyAV: pip install av") from None
    av.logging.set_level(av.logging.PANIC)
    return av


@dataclass(frozen=True)
class AudioStreamInfo:
    """The first audio stream of a file.

    Attributes:
        codec: FFmpeg codec name (``aac``, ``opus``, ``mp3``, ``pcm_s16le``...).
        sample_rate: samples per second (Hz). channels: channel count.
        duration: seconds (0.0 when the container does not say).
    """

    codec: str
    sample_rate: int
    channels: int
    duration: float


@dataclass(frozen=True)
class SourceInfo:
    """What :class:`VideoSource` found in a file.

    Attributes:
        path: the file.
        width, height: size of the frames as displayed (after the rotation), pixels.
        frame_count: number of video frames.
        fps: average frame rate (frames / duration; exact for constant-rate files), a Fraction.
        duration: seconds from the first frame's start to the last frame's end.
        times: ``(frame_count,)`` float64 presentation time of each frame in seconds, from 0, increasing.
        rotation: degrees counter-clockwise the coded frames are turned for display (0, 90, 180, 270).
        has_alpha: True when frames carry an alpha channel.
        codec, pix_fmt: FFmpeg names of the video codec and the decoded pixel format.
        matrix: the YUV-to-RGB matrix used (``ITU709``, ``ITU601``...; ``RGB`` for RGB/palette codecs).
        full_range: True when the source's YUV uses the full 0-255 range (JPEG/"pc") instead of 16-235.
        audio: the first audio stream, or None.
        variable_rate: True when the frame durations differ (more than 1% from the mean).
    """

    path: Path
    width: int
    height: int
    frame_count: int
    fps: Fraction
    duration: float
    times: np.ndarray = field(repr=False)
    rotation: int
    has_alpha: bool
    codec: str
    pix_fmt: str
    matrix: str
    full_range: bool
    audio: AudioStreamInfo | None
    variable_rate: bool


class VideoSource:
    """Random access to the frames of one video file, decoded on demand (thread-safe).

    Args:
        path: the video file.
        cache_frames: decoded frames kept (least recently used dropped), as uint8 / uint16 arrays.

    Raises:
        MediaError: naming the file when it is missing, holds no video stream, or cannot be decoded.
    """

    def __init__(self, path: str | os.PathLike, *, cache_frames: int = 8):
        self.path = Path(path)
        if not self.path.is_file():
            raise MediaError(f"{self.path}: video file not found")
        self._lock = threading.RLock()
        self._cache: dict[int, np.ndarray] = {}
        self._cache_order: list[int] = []
        self._cache_frames = max(1, int(cache_frames))
        self._container = None
        self._decoder = None  # the decode generator
        self._next_index = -1  # index of the frame the generator yields next (-1: unknown / none)
        self._pending: np.ndarray | None = None
        self.frames_decoded = 0  # statistics, for tests and benchmarks
        self.seeks = 0
        try:
            self.info = self._probe()
        except MediaError:
            self.close()
            raise
        except Exception as e:  # FFmpeg errors (av.error.*), broken files
            self.close()
            raise MediaError(f"{self.path}: cannot decode video ({_reason(e)})") from None

    # ------------------------------------------------------------------------------------------ probing
    def _open(self):
        av = _av()
        if self._container is None:
            self._container = av.open(str(self.path), mode="r")
            streams = self._container.streams.video
            if not streams:
                raise MediaError(f"{self.path}: the file holds no video stream")
            self._stream = streams[0]
            self._stream.thread_type = "AUTO"
            self._codec_ctx = None
            alpha_mode = str(self._stream.metadata.get("alpha_mode", self._stream.metadata.get("ALPHA_MODE", "")))
            name = self._stream.codec_context.name
            if alpha_mode == "1" and name in ("vp8", "vp9"):
                # FFmpeg's native VP8/VP9 decoders drop the alpha plane that WebM carries in BlockAdditional;
                # libvpx's decoders read it.
                lib = "libvpx" if name == "vp8" else "libvpx-vp9"
                if lib in av.codecs_available:
                    ctx = av.CodecContext.create(lib, "r")
                    ctx.width, ctx.height = self._stream.codec_context.width, self._stream.codec_context.height
                    self._codec_ctx = ctx
        return self._container

    def _probe(self) -> SourceInfo:
        container = self._open()
        stream = self._stream
        tb = stream.time_base or Fraction(1, 1000)
        pts: list[int] = []
        durations: list[int] = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if getattr(packet, "is_discard", False):
                continue
            t = packet.pts if packet.pts is not None else packet.dts
            if t is None:
                continue
            pts.append(int(t))
            durations.append(int(packet.duration or 0))
        if not pts:
            raise MediaError(f"{self.path}: the video stream holds no frames")
        order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable")
        spts = np.asarray(pts, dtype=np.int64)[order]
        sdur = np.asarray(durations, dtype=np.int64)[order]
        self._pts = spts
        self._pts_list = spts.tolist()
        self._pts_index = {p: i for i, p in enumerate(self._pts_list)}
        times = (spts - spts[0]).astype(np.float64) * float(tb)
        n = len(spts)
        steps = np.diff(spts)
        last = int(sdur[-1]) if sdur[-1] > 0 else (int(np.median(steps)) if n > 1 else 0)
        if last <= 0:
            rate = stream.average_rate or stream.guessed_rate or Fraction(24)
            last = max(1, round(1 / (float(rate) * float(tb))))
        total = Fraction(int(spts[-1] - spts[0]) + last) * tb
        fps = (Fraction(n) / total).limit_denominator(100000) if total > 0 else Fraction(24)
        rate = stream.average_rate or stream.guessed_rate
        if rate and abs(float(rate) - float(fps)) < 0.01 * float(fps):
            fps = Fraction(rate)
        variable = bool(n > 2 and steps.size and (steps.max() - steps.min()) > max(1.0, 0.01 * steps.mean()))
        # The first frame tells the pixel format, colour tags, rotation and alpha.
        self._seek_to(0)
        first = self._decode_next_frame()
        if first is None:
            raise MediaError(f"{self.path}: no frame could be decoded")
        frame = first
        fmt = frame.format
        has_alpha = bool(_format_has_alpha(fmt))
        is_rgb = _format_is_rgb(fmt)
        rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
        rotation = (int(round(rotation / 90)) * 90) % 360
        matrix = (
            "RGB"
            if is_rgb
            else _MATRICES.get(int(frame.colorspace or 2), "ITU709" if frame.height >= 720 else "ITU601")
        )
        full_range = (int(frame.color_range or 0) == 2) or fmt.name.startswith("yuvj")
        self._rotation = rotation
        self._matrix = matrix
        self._full_range = full_range
        self._has_alpha = has_alpha
        self._deep = any(c.bits > 8 for c in fmt.components) if fmt.components else False
        self._pending_frame = frame
        self._next_index = 0
        w, h = frame.width, frame.height
        if rotation in (90, 270):
            w, h = h, w
        audio = None
        if container.streams.audio:
            a = container.streams.audio[0]
            adur = (
                float(a.duration * a.time_base)
                if a.duration and a.time_base
                else (float(container.duration) / 1e6 if container.duration else 0.0)
            )
            audio = AudioStreamInfo(
                codec=a.codec_context.name,
                sample_rate=int(a.sample_rate or a.rate or 0),
                channels=int(a.channels or 0),
                duration=adur,
            )
        return SourceInfo(
            path=self.path,
            width=int(w),
            height=int(h),
            frame_count=n,
            fps=fps,
            duration=float(total),
            times=times,
            rotation=rotation,
            has_alpha=has_alpha,
            codec=stream.codec_context.name,
            pix_fmt=fmt.name,
            matrix=matrix,
            full_range=full_range,
            audio=audio,
            variable_rate=variable,
        )

    # ------------------------------------------------------------------------------------------ decoding
    def _seek_to(self, index: int) -> None:
        container = self._open()
        self.seeks += 1
        container.seek(
            int(self._pts[index]) if index > 0 else int(self._pts[0]),
            stream=self._stream,
            backward=True,
            any_frame=False,
        )
        if self._codec_ctx is not None:
            self._codec_ctx.flush_buffers()
        self._decoder = self._frames()
        self._next_index = -1
        self._pending_frame = None

    def _frames(self):
        if self._codec_ctx is None:
            yield from self._container.decode(self._stream)
            return
        for packet in self._container.demux(self._stream):
            for frame in self._codec_ctx.decode(packet):
                if frame.pts is None:
                    frame.pts = packet.pts
                yield frame

    def _decode_next_frame(self):
        if self._pending_frame is not None:
            f, self._pending_frame = self._pending_frame, None
            return f
        try:
            return next(self._decoder)
        except StopIteration:
            return None

    def _index_of(self, frame, previous: int) -> int:
        p = frame.pts
        if p is not None:
            i = self._pts_index.get(int(p))
            if i is not None:
                return i
            j = bisect.bisect_right(self._pts_list, int(p)) - 1
            return max(0, j)
        return previous + 1

    def _to_array(self, frame) -> np.ndarray:
        fmt = ("rgba64le" if self._deep else "rgba") if self._has_alpha else ("rgb48le" if self._deep else "rgb24")
        kwargs: dict[str, Any] = {"format": fmt}
        if self._matrix != "RGB":
            kwargs["src_colorspace"] = self._matrix
            kwargs["src_color_range"] = "JPEG" if self._full_range else "MPEG"
            kwargs["dst_color_range"] = "JPEG"
        arr = frame.reformat(**kwargs).to_ndarray()
        if self._rotation:
            arr = np.ascontiguousarray(np.rot90(arr, k=self._rotation // 90))
        self.frames_decoded += 1
        return arr

    def source_frame(self, index: int) -> np.ndarray:
        """Returns source frame ``index`` (presentation order) as stored: ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA,
        uint8 (uint16 for sources deeper than 8 bits), upright, full range. Read-only.

        Raises:
            IndexError: for an index outside ``0 .. frame_count - 1``.
            MediaError: naming the file when decoding fails.
        """
        i = int(index)
        if not 0 <= i < self.info.frame_count:
            raise IndexError(f"{self.path}: frame {index} is outside 0..{self.info.frame_count - 1}")
        with self._lock:
            hit = self._cache.get(i)
            if hit is not None:
                return hit
            try:
                return self._decode(i)
            except MediaError:
                raise
            except Exception as e:
                self._decoder = None
                raise MediaError(f"{self.path}: cannot decode frame {i} ({_reason(e)})") from None

    def _decode(self, target: int) -> np.ndarray:
        if (
            self._decoder is None
            or self._next_index < 0
            or not (self._next_index <= target <= self._next_index + _FORWARD_LIMIT)
        ):
            self._seek_to(target)
        index = self._next_index - 1
        restarted = False
        while True:
            frame = self._decode_next_frame()
            if frame is None:
                if not restarted and target < self.info.frame_count:
                    # The seek landed past the frame (or the stream ended early): decode from the start.
                    restarted = True
                    self._seek_to(0)
                    index = -1
                    continue
                # Frames the index counted but the decoder never gave: show the last one decoded.
                for k in range(target, -1, -1):
                    if k in self._cache:
                        return self._cache[k]
                raise MediaError(f"{self.path}: frame {target} could not be decoded")
            index = self._index_of(frame, index)
            self._next_index = index + 1
            if index < target - 1 and (target - index) > 2 * self._cache_frames:
                continue  # far from the target: do not convert
            if index > target and not restarted:
                restarted = True
                self._seek_to(0)
                index = -1
                continue
            arr = self._to_array(frame)
            arr.setflags(write=False)
            self._remember(index, arr)
            if index >= target:
                return arr

    def _remember(self, index: int, arr: np.ndarray) -> None:
        if index not in self._cache:
            self._cache_order.append(index)
        self._cache[index] = arr
        while len(self._cache_order) > self._cache_frames:
            self._cache.pop(self._cache_order.pop(0), None)

    def index_at(self, seconds: float) -> int:
        """The source frame on screen at ``seconds`` from the first frame (the last one starting at or before
        it; clamped to the file's frames)."""
        k = int(np.searchsorted(self.info.times, seconds + 1e-6, side="right")) - 1
        return min(max(k, 0), self.info.frame_count - 1)

    def close(self) -> None:
        """Closes the file (a later frame request opens it again)."""
        with self._lock:
            if self._container is not None:
                try:
                    self._container.close()
                except Exception:  # pragma: no cover
                    pass
            self._container = None
            self._decoder = None
            self._next_index = -1

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover
            pass

    def __getstate__(self):  # a source travels (to a process, to the disk cache) as its path
        return {"path": str(self.path), "cache_frames": self._cache_frames}

    def __setstate__(self, state):
        self.__init__(state["path"], cache_frames=state["cache_frames"])


def _format_has_alpha(fmt) -> bool:
    if getattr(fmt, "has_alpha", None) is not None:
        try:
            return bool(fmt.has_alpha)
        except Exception:  # pragma: no cover
            pass
    return "a" in fmt.name.replace("gray", "").replace("pal", "").split("p")[0] or fmt.name in ("pal8",)


def _format_is_rgb(fmt) -> bool:
    name = fmt.name
    return name.startswith(("rgb", "bgr", "argb", "abgr", "gbr", "pal", "gray", "rgba", "bgra", "ya", "0rgb", "0bgr"))


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def output_frame_times(
    info: SourceInfo, fps: Fraction | float, trim_in: float = 0.0, trim_out: float = 0.0
) -> np.ndarray:
    """Times (seconds from the file's first frame) of the output frames of a trim at ``fps``.

    Args:
        info: the source. fps: the output frame rate (> 0).
        trim_in: first second used (>= 0). trim_out: the second where the trim ends (0: the file's end).

    Returns:
        ``(T,)`` float64 times ``trim_in + i / fps`` for every output frame that starts before the trim's end.

    Raises:
        MediaError: for a trim that is empty or outside the file, or a non-positive fps.
    """
    rate = float(fps)
    if rate <= 0:
        raise MediaError(f"{info.path}: frame rate {fps} must be positive")
    end = info.duration if not trim_out or trim_out <= 0 else min(float(trim_out), info.duration)
    start = max(0.0, float(trim_in))
    if start >= end:
        raise MediaError(f"{info.path}: trim {start:g}s..{end:g}s is empty (the file lasts {info.duration:g}s)")
    count = int(np.ceil((end - start) * rate - 1e-6))
    return start + np.arange(max(count, 1), dtype=np.float64) / rate


def open_video_clip(
    path: str | os.PathLike,
    *,
    fps: Fraction | float | None = None,
    trim_in: float = 0.0,
    trim_out: float = 0.0,
    cache_frames: int = 4,
    source: VideoSource | None = None,
):
    """A lazy :class:`~vidstudio.media.clip.Clip` of a video file's frames (RGB, float32 in [0, 1]).

    Args:
        path: the file.
        fps: the clip's frame rate: each output frame ``i`` shows the source frame on screen at
            ``trim_in + i / fps`` (frames are repeated or dropped; nothing is blended). None: the source's own
            frames, one for one (the trim still applies).
        trim_in, trim_out: the part used, seconds (``trim_out`` 0: to the end).
        cache_frames: converted float32 frames kept by the clip (the source keeps its own 8 decoded ones). Few:
            a 1080p float frame is 24 MiB, and fresh memory for each costs more than the conversion.
        source: an already open :class:`VideoSource` of ``path``.

    Returns:
        ``(clip, alpha_clip, source)``: ``alpha_clip`` shows the alpha channel as grey (a Clip, lazy) when the
        file has alpha, else None. ``clip.metadata`` holds ``source_file``, ``source_fps`` and ``source_frames``;
        ``clip.source_indices`` is the ``(T,)`` int array of the source frame each output frame shows.

    Raises:
        MediaError: naming the file when it cannot be decoded or the trim is empty.
    """
    from vidstudio.media.clip import Clip

    src = source or VideoSource(path)
    info = src.info
    if fps is None:
        start = max(0.0, float(trim_in))
        end = info.duration if not trim_out or trim_out <= 0 else float(trim_out)
        idx = np.nonzero((info.times >= start - 1e-6) & (info.times < end - 1e-6))[0]
        if idx.size == 0:
            raise MediaError(
                f"{info.path}: trim {start:g}s..{end:g}s holds no frame (the file lasts {info.duration:g}s)"
            )
    else:
        times = output_frame_times(info, fps, trim_in, trim_out)
        idx = np.asarray([src.index_at(t) for t in times], dtype=np.int64)
    idx.setflags(write=False)
    scale = np.float32(1.0 / 65535.0) if src._deep else np.float32(1.0 / 255.0)

    def rgb(i: int) -> np.ndarray:
        frame = src.source_frame(int(idx[i]))
        return np.multiply(frame if frame.shape[2] == 3 else frame[..., :3], scale, dtype=np.float32)

    def alpha(i: int) -> np.ndarray:
        a = np.multiply(src.source_frame(int(idx[i]))[..., 3], scale, dtype=np.float32)
        return np.repeat(a[..., None], 3, axis=2)

    clip = Clip(len(idx), info.height, info.width, rgb, cache_frames=cache_frames, label=info.path.name)
    clip.metadata.update(
        {"source_file": str(info.path), "source_fps": str(info.fps), "source_frames": str(info.frame_count)}
    )
    clip.source_indices = idx
    matte = None
    if info.has_alpha:
        matte = Clip(
            len(idx), info.height, info.width, alpha, cache_frames=cache_frames, label=f"{info.path.name} alpha"
        )
    return clip, matte, src


__all__ = [
    "VIDEO_FILE_SUFFIXES",
    "AudioStreamInfo",
    "SourceInfo",
    "VideoSource",
    "open_video_clip",
    "output_frame_times",
]
