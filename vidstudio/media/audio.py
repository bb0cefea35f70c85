"""An audio track: :class:`Audio` (what an AUDIO port carries), WAV writing for the muxer, and reading an
MP4's audio stream duration back through the ffmpeg binary."""

from __future__ import annotations

import os
import subprocess
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidstudio.errors import MediaError


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
            raise MediaError(f"audio samples must be (N, channels) with 1..8 channels, got shape {np.shape(self.samples)}")
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

    def to_json(self) -> dict:
        """A JSON-ready summary without the samples (for ``vidstudio eval``)."""
        return {"kind": "audio", "sample_rate": self.sample_rate, "channels": self.channels,
                "samples": int(self.samples.shape[0]), "seconds": round(self.duration, 6)}

    def fit(self, seconds: float) -> "Audio":
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
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(p), "-map",
                               "0:a:0", "-f", "f32le", "-ac", "1", "-ar", "48000", "-"], capture_output=True)
        if proc.returncode != 0 or not proc.stdout:
            raise MediaError(f"{p}: no audio stream ffmpeg can read")
        return len(proc.stdout) / 4 / 48000
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(p), "-map", f"0:{stream}:0", "-c", "copy",
                           "-f", "framecrc", "-"], capture_output=True)
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
