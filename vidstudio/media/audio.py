"""An audio track: :class:`Audio` (what an AUDIO port carries), WAV writing for the muxer, reading an MP4's audio
stream duration back through the ffmpeg binary, decoding audio files (and videos' sound) through PyAV, the sample
range that goes with a frame range, time stretching with the pitch kept, and waveform peaks."""

from __future__ import annotations

import os
import subprocess
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidstudio.errors import MediaError

#: File suffixes the audio file node is meant for (anything FFmpeg reads works).
AUDIO_FILE_SUFFIXES: tuple[str, ...] = (".wav", ".mp3", ".flac", ".aac", ".m4a", ".ogg", ".opus")


@dataclass(frozen=True, eq=False)
class Audio:
    """A sound track.

    Attributes:
        samples: ``(N, channels)`` float32 in [-1, 1] (values outside are clipped when written); read-only.
        sample_rate: samples per second per channel (Hz), 1..384000.

    Raises:
        MediaError: for samples that are not a 1-D or 2-D finite array (a 1-D array is one channel), or a bad
            sample rate.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        a = np.asarray(self.samples, dtype=np.float32)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] < 1 or a.shape[1] > 8:
            raise MediaError(
                f"audio samples must be (N, channels) with 1..8 channels, got shape {np.shape(self.samples)}"
            )
        if not np.isfinite(a).all():
            raise MediaError("audio samples hold NaN or infinite values")
        if not (1 <= int(self.sample_rate) <= 384000):
            raise MediaError(f"audio sample rate {self.sample_rate} Hz is outside 1..384000")
        a = np.ascontiguousarray(a)
        a.setflags(write=False)
        object.__setattr__(self, "samples", a)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def channels(self) -> int:
        """The number of channels."""
        return int(self.samples.shape[1])

    @property
    def nbytes(self) -> int:
        """Memory held by the samples (for the engine's cache accounting)."""
        return int(self.samples.nbytes)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.sample_rate

    def for_frames(self, start: int, stop: int, fps: Fraction | float) -> Audio:
        """The samples that go with video frames ``start <= i < stop`` at ``fps`` (frame ``i`` covers seconds
        ``i / fps .. (i + 1) / fps``), padded with silence where the sound ends early, so that the result lasts
        exactly ``(stop - start) / fps`` seconds (to the sample)."""
        rate = Fraction(fps)
        a = round(Fraction(start) / rate * self.sample_rate)
        b = round(Fraction(stop) / rate * self.sample_rate)
        out = np.zeros((max(0, b - a), self.channels), np.float32)
        lo, hi = max(a, 0), min(b, self.samples.shape[0])
        if hi > lo:
            out[lo - a : hi - a] = self.samples[lo:hi]
        return Audio(out, self.sample_rate)

    def to_json(self) -> dict:
        """A JSON-ready summary without the samples (for ``vidstudio eval``)."""
        return {
            "kind": "audio",
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "samples": int(self.samples.shape[0]),
            "seconds": round(self.duration, 6),
        }

    def fit(self, seconds: float) -> Audio:
        """This track cut or padded with silence to ``round(seconds * sample_rate)`` samples (the length of the
        video it goes with)."""
        n = max(0, int(round(float(seconds) * self.sample_rate)))
        s = self.samples
        if n <= s.shape[0]:
            return Audio(s[:n], self.sample_rate)
        return Audio(np.concatenate([s, np.zeros((n - s.shape[0], s.shape[1]), np.float32)]), self.sample_rate)

    def write_wav(self, path: str | os.PathLike) -> Path:
        """Writes 16-bit PCM WAV (standard library ``wave``) and returns the path."""
        p = Path(path)
        pcm = (np.clip(self.samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
        with wave.open(str(p), "wb") as w:
            w.setnchannels(self.channels)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(pcm.tobytes())
        return p


def probe_stream_duration(path: str | os.PathLike, stream: str = "a") -> float:
    """The duration in seconds of a file's first audio (``"a"``) or video (``"v"``) stream, as a player sees it.

    Video: from its packets' timestamps and durations (``ffmpeg -f framecrc``, no decoding): last pts + its
    duration - first pts. Audio: the samples the stream decodes to (resampled to 48 kHz mono) / 48000, which
    honours the MP4 edit list that hides the AAC encoder's priming samples (a packet count would include them).

    Raises:
        MediaError: when the file is missing or has no such stream.
    """
    from vidstudio.media.video import ffmpeg_exe

    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: file not found")
    if stream == "a":
        proc = subprocess.run(
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(p),
                "-map",
                "0:a:0",
                "-f",
                "f32le",
                "-ac",
                "1",
                "-ar",
                "48000",
                "-",
            ],
            capture_output=True,
        )
        if proc.returncode != 0 or not proc.stdout:
            raise MediaError(f"{p}: no audio stream ffmpeg can read")
        return len(proc.stdout) / 4 / 48000
    proc = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(p),
            "-map",
            f"0:{stream}:0",
            "-c",
            "copy",
            "-f",
            "framecrc",
            "-",
        ],
        capture_output=True,
    )
    tb = Fraction(1, 1)
    rows: list[tuple[int, int]] = []
    for line in proc.stdout.decode("ascii", "replace").splitlines():
        if line.startswith("#tb 0:"):
            tb = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            parts = [x.strip() for x in line.split(",")]
            if len(parts) >= 4:
                rows.append((int(parts[2]), int(parts[3])))
    if proc.returncode != 0 or not rows:
        raise MediaError(f"{p}: no {'audio' if stream == 'a' else 'video'} stream ffmpeg can read")
    rows.sort()
    return float((rows[-1][0] + rows[-1][1] - rows[0][0]) * tb)


class AudioFile(Audio):
    """An :class:`Audio` whose samples are decoded from a file the first time they are used (Load Video's sound:
    editing a graph or scrubbing never decodes it; exporting, retiming or drawing the waveform does, once).

    Args:
        path: the file; start, end: seconds (``end`` 0: to the end); sample_rate: the stream's rate (Hz).

    Raises:
        MediaError: (when the samples are first used) naming the file, as :func:`decode_audio`.
    """

    def __init__(self, path: str | os.PathLike, start: float, end: float, sample_rate: int):
        for name, value in (
            ("path", Path(path)),
            ("start", float(start)),
            ("end", float(end)),
            ("sample_rate", int(sample_rate)),
            ("_samples", None),
        ):
            object.__setattr__(self, name, value)  # Audio is frozen

    @property
    def samples(self) -> np.ndarray:  # type: ignore[override]
        """``(N, channels)`` float32, decoded on first use."""
        if self._samples is None:
            decoded = decode_audio(self.path, start=self.start, end=self.end, sample_rate=self.sample_rate).samples
            object.__setattr__(self, "_samples", decoded)
        return self._samples

    def __repr__(self) -> str:
        return f"AudioFile({str(self.path)!r}, {self.start:g}..{self.end:g} s, {self.sample_rate} Hz)"


def file_sound(path: str | os.PathLike) -> AudioFile | None:
    """The whole sound of a file (a generated result's MP4, a video) as a lazy :class:`AudioFile` (nothing is
    decoded yet), or None when the file holds no audio stream. Only the container's header is read (PyAV).

    Raises:
        MediaError: naming the file when it is missing or cannot be opened.
    """
    import av

    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: file not found")
    try:
        with av.open(str(p)) as container:
            if not container.streams.audio:
                return None
            a = container.streams.audio[0]
            rate = int(a.sample_rate or a.rate or 48000)
    except Exception as e:  # av.error.* and friends
        raise MediaError(f"{p}: cannot open ({str(e).strip() or type(e).__name__})") from None
    return AudioFile(p, 0.0, 0.0, rate)


def decode_audio(
    path: str | os.PathLike, *, start: float = 0.0, end: float = 0.0, sample_rate: int | None = None
) -> Audio:
    """Decodes the first audio stream of a file (WAV, MP3, FLAC, AAC, Opus, or a video's sound) through PyAV.

    Args:
        path: the file. start, end: seconds kept (``end`` 0: to the end).
        sample_rate: resample to this rate (Hz); None: the stream's own.

    Returns:
        the :class:`Audio` (float32, the stream's channels).

    Raises:
        MediaError: naming the file when it is missing, has no audio stream or cannot be decoded.
    """
    import av

    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: audio file not found")
    try:
        with av.open(str(p)) as container:
            if not container.streams.audio:
                raise MediaError(f"{p}: the file holds no audio stream")
            stream = container.streams.audio[0]
            rate = int(sample_rate or stream.rate or stream.sample_rate)
            declared = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
            layout = stream.layout.name if stream.layout else "stereo"
            resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
            chunks: list[np.ndarray] = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, len(out.layout.channels)))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1, len(out.layout.channels)))
    except MediaError:
        raise
    except Exception as e:  # av.error.* and friends
        raise MediaError(f"{p}: cannot decode audio ({str(e).strip() or type(e).__name__})") from None
    if not chunks:
        raise MediaError(f"{p}: the audio stream holds no samples")
    samples = np.concatenate(chunks, axis=0).astype(np.float32, copy=False)
    if declared:
        # AAC and MP3 decoders give whole codec frames; the container's duration says where the sound ends.
        samples = samples[: max(1, round(declared * rate))]
    a = max(0, round(float(start) * rate))
    b = samples.shape[0] if not end or end <= 0 else min(samples.shape[0], round(float(end) * rate))
    if a >= b:
        raise MediaError(
            f"{p}: audio trim {start:g}s..{end:g}s is empty (the sound lasts {samples.shape[0] / rate:g}s)"
        )
    return Audio(np.clip(samples[a:b], -1.0, 1.0), rate)


def time_stretch(audio: Audio, factor: float) -> Audio:
    """Plays ``audio`` ``factor`` times faster with its pitch kept (FFmpeg's ``atempo`` filter, WSOLA, run
    in-process through PyAV; factors under 0.5 chain several 0.5 stages).

    Returns:
        about ``N / factor`` samples at the same rate.

    Raises:
        MediaError: for a factor that is not positive.
    """
    import av

    if not factor > 0:
        raise MediaError(f"time stretch factor must be positive, got {factor}")
    if abs(factor - 1.0) < 1e-6 or audio.samples.shape[0] == 0:
        return Audio(audio.samples.copy(), audio.sample_rate)
    stages, f = [], float(factor)
    while f < 0.5:
        stages.append(0.5)
        f /= 0.5
    while f > 100.0:
        stages.append(100.0)
        f /= 100.0
    stages.append(f)
    rate, ch = audio.sample_rate, audio.channels
    layout = {1: "mono", 2: "stereo"}.get(ch)
    data = audio.samples if layout else audio.samples.mean(axis=1, keepdims=True)
    layout = layout or "mono"
    nch = data.shape[1]
    graph = av.filter.Graph()
    node = src = graph.add_abuffer(format="flt", sample_rate=rate, layout=layout, time_base=Fraction(1, rate))
    for st in stages:
        nxt = graph.add("atempo", f"{st:.6f}")
        node.link_to(nxt)
        node = nxt
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    out: list[np.ndarray] = []

    def drain():
        while True:
            try:
                fr = sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            out.append(fr.to_ndarray().reshape(-1, nch))

    for start in range(0, data.shape[0], 4096):
        chunk = np.ascontiguousarray(data[start : start + 4096], dtype=np.float32)
        fr = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout=layout)
        fr.sample_rate, fr.pts, fr.time_base = rate, start, Fraction(1, rate)
        src.push(fr)
        drain()
    src.push(None)
    drain()
    samples = np.concatenate(out) if out else np.zeros((0, nch), np.float32)
    if nch != ch:
        samples = np.repeat(samples, ch, axis=1)
    return Audio(samples, rate)


def retime_audio(audio: Audio, source_frames: np.ndarray, fps: Fraction | float) -> Audio:
    """The sound that goes with a retimed video (the Retime node's speed curve).

    Output frame ``k`` shows source frame ``source_frames[k]``; where the source advances (speed > 0) its sound
    is played at that speed with the pitch kept (:func:`time_stretch`, per stretch of nearly constant speed);
    where frames are frozen (speed ~0), run backwards, or hold outside the sound, it is silent.

    Args:
        audio: the source's sound, sample 0 with source frame 0.
        source_frames: ``(T,)`` float source frame positions, one per output frame.
        fps: frames per second of both.

    Returns:
        exactly ``round(T / fps * sample_rate)`` samples.
    """
    tau = np.asarray(source_frames, dtype=np.float64)
    t = tau.shape[0]
    rate = audio.sample_rate
    fps_f = float(fps)
    total = round(t / fps_f * rate)
    out = np.zeros((total, audio.channels), np.float32)
    if t == 0:
        return Audio(out, rate)
    speed = np.diff(tau, append=tau[-1] + (tau[-1] - tau[-2] if t > 1 else 1.0))
    src_frames = audio.samples.shape[0] / rate * fps_f
    k0 = 0
    while k0 < t:
        s0 = speed[k0]
        k1 = k0 + 1
        while k1 < t and abs(speed[k1] - s0) <= 0.02 * max(1.0, abs(s0)) and (speed[k1] > 0.01) == (s0 > 0.01):
            k1 += 1
        a, b = round(k0 / fps_f * rate), round(k1 / fps_f * rate)
        first, last = tau[k0], tau[k1 - 1] + speed[k1 - 1]
        if s0 > 0.01 and first < src_frames and last > 0:
            sa, sb = max(0, round(first / fps_f * rate)), min(audio.samples.shape[0], round(last / fps_f * rate))
            if sb > sa:
                piece = Audio(audio.samples[sa:sb], rate)
                factor = (sb - sa) / max(1, b - a)
                if abs(factor - 1.0) > 1e-3:
                    piece = time_stretch(piece, factor)
                n = min(b - a, piece.samples.shape[0])
                out[a : a + n] = piece.samples[:n]
        k0 = k1
    return Audio(out, rate)


def write_wav(audio: Audio, path: str | os.PathLike) -> Path:
    """Writes 16-bit PCM WAV (:meth:`Audio.write_wav`). Returns the path. Raises OSError when it cannot be written."""
    return audio.write_wav(path)


def waveform_peaks(audio: Audio, buckets: int) -> np.ndarray:
    """``(buckets, 2)`` float32 (min, max) of the mixed-down samples in each of ``buckets`` equal stretches
    (for drawing a waveform)."""
    mono = audio.samples.mean(axis=1)
    n = max(1, int(buckets))
    edges = np.linspace(0, mono.shape[0], n + 1).astype(np.int64)
    out = np.zeros((n, 2), np.float32)
    for k in range(n):
        seg = mono[edges[k] : max(edges[k + 1], edges[k] + 1)]
        if seg.size:
            out[k] = (seg.min(), seg.max())
    return out


__all__ = [
    "AUDIO_FILE_SUFFIXES",
    "Audio",
    "AudioFile",
    "probe_stream_duration",
    "decode_audio",
    "file_sound",
    "retime_audio",
    "time_stretch",
    "waveform_peaks",
    "write_wav",
]
