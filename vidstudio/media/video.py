"""Video files through the ffmpeg binary that imageio-ffmpeg ships: MP4 (H.264) writing, reading, probing,
the project embedded in the MP4's metadata, and PNG sequences.

Writing streams frames through a pipe to ffmpeg, so a long clip is never held in memory. Every writer
writes to a temporary name in the target folder and renames it over the target only when ffmpeg finished
cleanly: a cancelled or failed export leaves nothing under the target name (and an older file there stays).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidstudio.errors import MediaError
from vidstudio.media.image import save_png
from vidstudio.progress import CancelToken, ProgressFn

#: Metadata key under which the project JSON is embedded in an MP4.
PROJECT_METADATA_KEY = "vidstudio_project"
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
MAX_SIDE = 8192


def ffmpeg_exe() -> str:
    """Returns the path of the ffmpeg binary bundled with imageio-ffmpeg (or ``IMAGEIO_FFMPEG_EXE``).

    Raises:
        MediaError: when no ffmpeg binary can be found.
    """
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:  # pragma: no cover - depends on the installation
        raise MediaError(f"no ffmpeg binary found ({e}); reinstall imageio-ffmpeg or set IMAGEIO_FFMPEG_EXE") from None


def parse_fps(value: Fraction | float | int | str) -> Fraction:
    """Parses a frame rate: ``24``, ``23.976``, ``"30000/1001"`` or a Fraction.

    Floats are snapped to the nearest fraction with a denominator of at most 1001, so 29.97 gives
    ``2997/100`` and ``30000/1001`` must be given as such to be exact.

    Raises:
        MediaError: for a non-positive, non-finite or unparsable rate, or one above 1000 fps.
    """
    try:
        if isinstance(value, Fraction):
            fps = value
        elif isinstance(value, str):
            fps = Fraction(value.strip())
        else:
            if not np.isfinite(value):
                raise ValueError
            fps = Fraction(value).limit_denominator(1001)
    except (ValueError, ZeroDivisionError, TypeError):
        raise MediaError(f"invalid frame rate {value!r}; give a number like 24 or a ratio like 30000/1001") from None
    if not (0 < fps <= 1000):
        raise MediaError(f"frame rate {value} is out of range (0, 1000] fps")
    return fps


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learns about a video file.

    Attributes:
        width, height: frame size in pixels.
        fps: exact frame rate from the stream's time base and frame durations.
        frame_count: number of video frames.
        duration: seconds.
        codec: e.g. ``"h264"``; pix_fmt: e.g. ``"yuv420p"``.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frame_count: int
    duration: float
    codec: str
    pix_fmt: str


#: ffmpeg arguments that convert RGB to BT.709 limited-range YUV and tag the stream so (what players assume for
#: HD video); the writer's and the export benchmark's ffmpeg both use them.
BT709_ENCODE: tuple[str, ...] = (
    "-vf",
    "scale=out_color_matrix=bt709:out_range=tv",
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
)


class VideoWriter:
    """Streams frames into an H.264 MP4 (``yuv420p``, ``+faststart``) through ffmpeg.

    Args:
        path: target ``.mp4`` file; its folder is created.
        width, height: frame size of the frames that will be written (pixels, 1..8192).
        fps: frame rate (see :func:`parse_fps`); written exactly, e.g. ``30000/1001``.
        crf: x264 constant rate factor 0 (lossless) .. 51; 18 is visually lossless.
        preset: x264 preset, ``ultrafast`` .. ``veryslow``.
        odd_size: ``"pad"`` repeats the last column/row so that both sides are even (yuv420p needs it) and
            records that in :attr:`notes`; ``"refuse"`` raises instead.
        project_json: the project document to embed in the file's metadata (read back with
            :func:`read_embedded_project`).
        metadata: further ``key: value`` metadata tags.
        audio: a :class:`vidstudio.media.audio.Audio` track muxed in as AAC (192 kb/s), or None. It is written as
            given: fit it to the video's length first (:meth:`~vidstudio.media.audio.Audio.fit`).

    The RGB frames are converted to BT.709 limited-range YUV and the stream is tagged so (players and the
    decoder read the same matrix back).

    Use as a context manager; an exception inside the ``with`` block aborts the file. ``write`` takes
    ``(H, W, 3)`` float32 frames in [0, 1] (or uint8).

    Raises:
        MediaError: for a bad size, fps, crf or preset, when ffmpeg fails (with its last message), or for a
            frame of the wrong shape.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        width: int,
        height: int,
        fps: Fraction | float | str,
        *,
        crf: int = 18,
        preset: str = "medium",
        odd_size: str = "pad",
        project_json: str | None = None,
        metadata: dict[str, str] | None = None,
        audio: Any = None,
    ):
        self.path = Path(path)
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise MediaError(f"{self.path}: cannot write a {width}x{height} video; sides must be 1..{MAX_SIDE} px")
        if not (0 <= int(crf) <= 51):
            raise MediaError(f"{self.path}: crf {crf} is outside 0..51")
        if preset not in PRESETS:
            raise MediaError(f"{self.path}: unknown x264 preset {preset!r}; expected one of {', '.join(PRESETS)}")
        if odd_size not in ("pad", "refuse"):
            raise MediaError(f"{self.path}: odd_size must be 'pad' or 'refuse', not {odd_size!r}")
        self.width, self.height = int(width), int(height)
        self.fps = parse_fps(fps)
        self.notes: list[str] = []
        self.pad_right = self.width % 2
        self.pad_bottom = self.height % 2
        if self.pad_right or self.pad_bottom:
            if odd_size == "refuse":
                raise MediaError(
                    f"{self.path}: H.264 in yuv420p needs even sides, the frames are {self.width}x{self.height}; "
                    "change the project size or allow padding"
                )
            self.notes.append(
                f"padded {self.width}x{self.height} to {self.width + self.pad_right}x{self.height + self.pad_bottom} "
                "(yuv420p needs even sides)"
            )
        self.frames_written = 0
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None
        self._pipe_error: str | None = None
        self._closed = True  # until ffmpeg runs
        self.path.parent.mkdir(parents=True, exist_ok=True)
        from vidstudio.fsutil import clean_strays, temp_prefix

        clean_strays(self.path.parent, self.path.name)  # what a killed render of this target left
        token = uuid.uuid4().hex[:8]
        self._tmp = self.path.parent / f"{temp_prefix(self.path.name, 'partial')}{token}.mp4"
        self._meta_file: Path | None = None
        self._wav_file: Path | None = None
        self._log = tempfile.TemporaryFile()
        out_w, out_h = self.width + self.pad_right, self.height + self.pad_bottom
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{out_w}x{out_h}",
            "-r",
            str(self.fps),
            "-i",
            "pipe:0",
        ]
        tags = {"comment": "Made with VidStudio", **(metadata or {})}
        if project_json is not None:
            tags[PROJECT_METADATA_KEY] = project_json
        fd, meta = tempfile.mkstemp(prefix="vidstudio-meta-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(";FFMETADATA1\n")
            for k, v in tags.items():
                f.write(f"{_ffmeta_escape(k)}={_ffmeta_escape(str(v))}\n")
        self._meta_file = Path(meta)
        cmd += ["-f", "ffmetadata", "-i", str(self._meta_file)]
        if audio is not None:
            fd, wav = tempfile.mkstemp(prefix="vidstudio-audio-", suffix=".wav")
            os.close(fd)
            self._wav_file = audio.write_wav(wav)
            cmd += ["-i", str(self._wav_file)]
        cmd += ["-map", "0:v:0", "-map_metadata", "1"]
        if audio is not None:
            cmd += ["-map", "2:a:0", "-c:a", "aac", "-b:a", "192k"]
        cmd += [
            *BT709_ENCODE,
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(int(crf)),
            "-pix_fmt",
            "yuv420p",
            "-r",
            str(self.fps),
            "-movflags",
            "+faststart+use_metadata_tags",
            "-f",
            "mp4",
            str(self._tmp),
        ]
        try:
            # Own session: a Ctrl-C in the terminal reaches VidStudio, which then aborts ffmpeg itself.
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, **_detached()
            )
        except OSError as e:
            self._cleanup()
            raise MediaError(f"{self.path}: cannot start ffmpeg ({e})") from None
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        """Appends one ``(H, W, 3)`` frame (float32 in [0, 1] or uint8).

        The frame is converted and piped to ffmpeg by a background thread, so the caller can render the next
        frame meanwhile; the caller must not modify ``frame`` afterwards (frames of a Clip are read-only).

        Raises:
            MediaError: for a wrong shape, or when ffmpeg stopped accepting frames.
        """
        if self._closed:
            raise MediaError(f"{self.path}: the writer is closed")
        f = np.asarray(frame)
        if f.shape != (self.height, self.width, 3):
            self.abort()
            raise MediaError(
                f"{self.path}: frame {self.frames_written} has shape {f.shape}, expected {(self.height, self.width, 3)}"
            )
        self._raise_pipe_error()
        if self._thread is None:
            self._thread = threading.Thread(target=self._pump, name="vidstudio-ffmpeg-writer", daemon=True)
            self._thread.start()
        while True:
            try:
                self._queue.put(f, timeout=0.5)
                break
            except queue.Full:
                self._raise_pipe_error()
        self.frames_written += 1

    def _pump(self) -> None:
        """Writer thread: converts queued frames to rgb24 and pipes them to ffmpeg until a None arrives.

        The conversion runs in bands of rows through a small float buffer that stays in the CPU cache, into one
        preallocated (padded) uint8 frame: round(clip(x * 255, 0, 255)), as before, in fewer memory passes.
        """
        out_h, out_w = self.height + self.pad_bottom, self.width + self.pad_right
        u8 = np.empty((out_h, out_w, 3), np.uint8)
        band = max(1, (1 << 17) // max(1, self.width * 3))  # about 512 KiB of float32 per band
        buf = np.empty((band, self.width, 3), np.float32)
        index = 0
        while True:
            f = self._queue.get()
            if f is None:
                return
            if self._pipe_error is not None:
                continue  # drain until the producer notices
            if f.dtype == np.uint8:
                u8[: self.height, : self.width] = f
            else:
                for r in range(0, self.height, band):
                    src = f[r : r + band]
                    b = buf[: src.shape[0]]
                    np.multiply(src, 255.0, out=b, casting="unsafe")
                    np.clip(b, 0.0, 255.0, out=b)
                    np.rint(b, out=b)
                    np.copyto(u8[r : r + src.shape[0], : self.width], b, casting="unsafe")
            if self.pad_right:
                u8[: self.height, self.width] = u8[: self.height, self.width - 1]
            if self.pad_bottom:
                u8[self.height] = u8[self.height - 1]
            try:
                self._proc.stdin.write(u8.data)
            except (BrokenPipeError, OSError, ValueError):
                self._pipe_error = f"ffmpeg stopped while writing frame {index}: {self._ffmpeg_message()}"
            index += 1

    def _raise_pipe_error(self) -> None:
        if self._pipe_error is not None:
            msg = self._pipe_error
            self.abort()
            raise MediaError(f"{self.path}: {msg}")

    def _stop_pump(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def close(self) -> Path:
        """Finishes the file and renames it into place.

        Returns:
            the target path.

        Raises:
            MediaError: when no frame was written or ffmpeg failed (nothing is left under the target name).
        """
        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.abort()
            raise MediaError(f"{self.path}: no frames to write")
        self._stop_pump()
        if self._pipe_error is not None:
            self._raise_pipe_error()
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        rc = self._proc.wait()
        self._closed = True
        if rc != 0 or not self._tmp.exists():
            msg = self._ffmpeg_message()
            self._cleanup()
            raise MediaError(f"{self.path}: ffmpeg failed (exit {rc}): {msg}")
        try:
            os.replace(self._tmp, self.path)
        except OSError as e:
            self._cleanup()
            raise MediaError(f"{self.path}: cannot move the finished video into place ({e})") from None
        self._cleanup()
        return self.path

    def abort(self) -> None:
        """Stops ffmpeg and removes the temporary file; the target is left as it was."""
        if getattr(self, "_closed", True) and not self._tmp.exists():
            self._cleanup()
            return
        self._closed = True
        try:
            self._proc.kill()
            self._proc.wait(timeout=10)
        except Exception:
            pass
        if self._pipe_error is None:
            self._pipe_error = "aborted"
        if self._thread is not None and self._thread is not threading.current_thread():
            while self._thread.is_alive():  # unblock and end the writer thread
                try:
                    self._queue.put_nowait(None)
                except queue.Full:
                    try:
                        self._queue.get_nowait()
                    except queue.Empty:
                        pass
                self._thread.join(timeout=0.1)
            self._thread = None
        for stream in (self._proc.stdin,):
            try:
                stream.close()
            except Exception:
                pass
        self._cleanup()

    def _cleanup(self) -> None:
        try:
            self._tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if self._meta_file is not None:
            self._meta_file.unlink(missing_ok=True)
            self._meta_file = None
        if self._wav_file is not None:
            self._wav_file.unlink(missing_ok=True)
            self._wav_file = None
        try:
            self._log.close()
        except Exception:
            pass

    def _ffmpeg_message(self) -> str:
        try:
            self._log.seek(0)
            lines = [l for l in self._log.read().decode("utf-8", "replace").splitlines() if l.strip()]
            return lines[-1] if lines else "no message from ffmpeg"
        except Exception:
            return "no message from ffmpeg"

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self):  # a writer dropped without close() must not leave a partial file
        try:
            if not self._closed:
                self.abort()
        except Exception:
            pass


def write_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike,
    fps: Fraction | float | str,
    *,
    frame_count: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    **options,
) -> tuple[Path, list[str]]:
    """Writes frames to an MP4, streaming (see :class:`VideoWriter` for ``options``).

    Args:
        frames: ``(H, W, 3)`` frames (float32 in [0, 1] or uint8), e.g. a :class:`~vidstudio.media.clip.Clip`.
        frame_count: the number of frames, for progress (taken from ``len(frames)`` when it has one).
        progress: called after each frame with ``(fraction, message)``.
        cancel: checked before each frame; cancelling removes the partial file.

    Returns:
        ``(path, notes)``: the file written and what was changed on the way (padding).

    Raises:
        MediaError: see :class:`VideoWriter`; vidstudio.errors.Cancelled: when cancelled.
    """
    total = frame_count if frame_count is not None else (len(frames) if hasattr(frames, "__len__") else None)
    writer: VideoWriter | None = None
    try:
        for i, frame in enumerate(frames):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if writer is None:
                h, w = np.shape(frame)[:2]
                writer = VideoWriter(path, w, h, fps, **options)
            writer.write(frame)
            if progress is not None:
                progress((i + 1) / total if total else None, f"frame {i + 1}" + (f"/{total}" if total else ""))
        if writer is None:
            raise MediaError(f"{path}: no frames to write")
        if cancel is not None:
            cancel.raise_if_cancelled()
        return writer.close(), writer.notes
    except BaseException:
        if writer is not None:
            writer.abort()
        raise


def write_png_sequence(
    frames: Iterable[np.ndarray],
    folder: str | os.PathLike,
    *,
    pattern: str = "frame_{:05d}.png",
    first_number: int = 0,
    frame_count: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Writes frames as numbered PNG files into ``folder``, atomically: the files are written to a temporary
    sibling folder that replaces ``folder`` only when every frame was written.

    Returns:
        the folder.

    Raises:
        MediaError: when ``folder`` exists and is not a folder of an earlier sequence (it then holds
            files other than PNGs), or a frame cannot be written; Cancelled when cancelled.
    """
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(p.suffix.lower() != ".png" for p in target.iterdir())):
        raise MediaError(f"{target}: exists and is not a PNG sequence folder; choose another folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    from vidstudio.fsutil import clean_strays, temp_prefix

    clean_strays(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(target.name, "partial"), dir=target.parent))
    total = frame_count if frame_count is not None else (len(frames) if hasattr(frames, "__len__") else None)
    try:
        n = 0
        for i, frame in enumerate(frames):
            if cancel is not None:
                cancel.raise_if_cancelled()
            save_png(tmp / pattern.format(first_number + i), np.asarray(frame))
            n += 1
            if progress is not None:
                progress((i + 1) / total if total else None, f"frame {i + 1}" + (f"/{total}" if total else ""))
        if n == 0:
            raise MediaError(f"{target}: no frames to write")
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        return target
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_STREAM_RE = re.compile(
    r"Stream #\d+:\d+.*?: Video: (?P<codec>\w+)[^,]*, (?P<pix>[\w]+)[^,]*(?:\([^)]*\))?, (?P<w>\d+)x(?P<h>\d+)"
)


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Reads a video's size, exact frame rate and frame count (by reading its packets, without decoding).

    Raises:
        MediaError: when the file is missing or has no video stream ffmpeg can read.
    """
    from vidstudio.fsutil import regular_file_problem

    p = Path(path)
    why = regular_file_problem(p)
    if why is not None:
        raise MediaError(f"{p}: {'video file not found' if why == 'file not found' else why}")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(p), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True,
    )
    err = proc.stderr.decode("utf-8", "replace")
    m = _STREAM_RE.search(err)
    if proc.returncode != 0 or m is None:
        last = [l for l in err.splitlines() if l.strip()]
        raise MediaError(f"{p}: not a readable video ({last[-1] if last else 'ffmpeg gave no reason'})")
    tb = Fraction(1, 1)
    durations: list[int] = []
    pts: list[int] = []
    for line in proc.stdout.decode("ascii", "replace").splitlines():
        if line.startswith("#tb 0:"):
            tb = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            parts = [s.strip() for s in line.split(",")]
            if len(parts) >= 4 and parts[0] == "0":
                pts.append(int(parts[2]))
                durations.append(int(parts[3]))
    count = len(durations)
    if count == 0:
        raise MediaError(f"{p}: the video stream holds no frames")
    pts.sort()
    if count > 1:
        step = Fraction(pts[-1] - pts[0], count - 1)
    else:
        step = Fraction(durations[0])
    fps = 1 / (step * tb) if step else Fraction(0)
    fps = fps.limit_denominator(100000)
    return VideoInfo(
        path=p,
        width=int(m["w"]),
        height=int(m["h"]),
        fps=fps,
        frame_count=count,
        duration=float(count / fps) if fps else 0.0,
        codec=m["codec"],
        pix_fmt=m["pix"],
    )


def iter_video_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Decodes a video frame by frame.

    Yields:
        ``(H, W, 3)`` float32 frames in [0, 1].

    Raises:
        MediaError: when the file cannot be decoded.
    """
    import imageio_ffmpeg

    from vidstudio.fsutil import regular_file_problem

    p = Path(path)
    why = regular_file_problem(p)
    if why is not None:
        raise MediaError(f"{p}: {'video file not found' if why == 'file not found' else why}")
    try:
        gen = imageio_ffmpeg.read_frames(str(p), pix_fmt="rgb24")
        meta = next(gen)
        w, h = meta["size"]
        for raw in gen:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3).astype(np.float32) * np.float32(1 / 255)
    except (RuntimeError, OSError, StopIteration) as e:
        raise MediaError(f"{p}: cannot decode video ({e})") from None


def read_video(path: str | os.PathLike, *, max_frames: int | None = None) -> np.ndarray:
    """Decodes a whole video (or its first ``max_frames``) into memory.

    Returns:
        ``(T, H, W, 3)`` float32 in [0, 1].

    Raises:
        MediaError: when the file cannot be decoded or holds no frames.
    """
    frames = []
    for i, f in enumerate(iter_video_frames(path)):
        if max_frames is not None and i >= max_frames:
            break
        frames.append(f)
    if not frames:
        raise MediaError(f"{path}: no frames could be decoded")
    return np.stack(frames)


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Returns the container's global metadata tags (``ffmpeg -f ffmetadata``), unescaped.

    Raises:
        MediaError: when the file cannot be read by ffmpeg.
    """
    from vidstudio.fsutil import regular_file_problem

    p = Path(path)
    why = regular_file_problem(p)
    if why is not None:
        raise MediaError(f"{p}: {why}")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(p), "-f", "ffmetadata", "-"],
        capture_output=True,
    )
    if proc.returncode != 0:
        last = [l for l in proc.stderr.decode("utf-8", "replace").splitlines() if l.strip()]
        raise MediaError(f"{p}: cannot read metadata ({last[-1] if last else 'ffmpeg failed'})")
    return _parse_ffmetadata(proc.stdout.decode("utf-8", "replace"))


def read_embedded_project(path: str | os.PathLike) -> str | None:
    """Returns the project JSON embedded by :class:`VideoWriter`, or ``None`` when the file has none."""
    return read_metadata(path).get(PROJECT_METADATA_KEY)


def _detached() -> dict:
    if os.name == "nt":  # pragma: no cover
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _ffmeta_escape(s: str) -> str:
    for c in ("\\", "=", ";", "#", "\n"):
        s = s.replace(c, "\\" + c)
    return s


_FFMETA_ESCAPE = re.compile(r"\\(.)", re.S)


def _escaped(text: str, index: int) -> bool:
    """True when the character at ``index`` follows an odd number of backslashes."""
    run = 0
    while index - run > 0 and text[index - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _parse_ffmetadata(text: str) -> dict[str, str]:
    """Parses ffmpeg's ffmetadata format: ``key=value`` lines, backslash escapes, ``;`` comments, and
    ``[SECTION]`` headers (only the global section before the first header is returned).

    Works on slices of ``text`` (``str.split``, ``str.find``), so that memory stays a small multiple of the
    text: a 10 MB embedded project costs tens of MB, not a Python object per character.
    """
    out: dict[str, str] = {}
    entries: list[str] = []
    parts: list[str] = []
    for piece in text.split("\n"):
        parts.append(piece)
        if not _escaped(piece, len(piece)):  # an escaped newline continues the entry
            entries.append("\n".join(parts))
            parts = []
    if parts:
        entries.append("\n".join(parts))
    for entry in entries:
        if not entry:
            continue
        if entry[0] == "[":
            break
        if entry[0] in ";#":
            continue
        eq = entry.find("=")
        while eq != -1 and _escaped(entry, eq):
            eq = entry.find("=", eq + 1)
        if eq != -1:
            out[_FFMETA_ESCAPE.sub(r"\1", entry[:eq])] = _FFMETA_ESCAPE.sub(r"\1", entry[eq + 1 :])
    return out
