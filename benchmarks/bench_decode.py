"""Decode throughput and memory: VidStudio's lazy Load Video path against ffmpeg alone.

A test video (ffmpeg's ``testsrc2``, H.264) is made first. The baseline is the ffmpeg command line decoding it to
rgb24 on a pipe that Python reads frame by frame (the fastest way to get the frames as arrays without PyAV);
VidStudio opens it with :func:`vidstudio.media.decode.open_video_clip` and reads every frame of the Clip (float32
in [0, 1], what a node receives), and, like for like with the baseline, every uint8 frame of the decoder alone. Printed: frames per second of each, the ratio VidStudio / baseline, and the
growth of the process's resident memory during VidStudio's pass (sampled every 10 ms) against the size of one
decoded frame: it must stay bounded by the caches, whatever the length of the file.

Run: ``python benchmarks/bench_decode.py [--seconds S] [--size WxH] [--repeat R]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidstudio.media.decode import open_video_clip
from vidstudio.media.video import ffmpeg_exe


def make_video(path: Path, seconds: float, w: int, h: int) -> None:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-t",
            str(seconds),
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={w}x{h}:rate=24",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )


def baseline(path: Path, w: int, h: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        stdout=subprocess.PIPE,
    )
    size, n = w * h * 3, 0
    while True:
        raw = p.stdout.read(size)
        if len(raw) < size:
            break
        np.frombuffer(raw, np.uint8).reshape(h, w, 3)
        n += 1
    p.wait()
    return time.perf_counter() - t0, n


class PeakRSS:
    """Samples the resident memory of this process every 10 ms (psutil)."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def vidstudio(path: Path) -> tuple[float, int, int]:
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        clip, _, src = open_video_clip(path, fps=None)
        for i in range(clip.frame_count):
            clip.frame(i)
        dt = time.perf_counter() - t0
        src.close()
    return dt, clip.frame_count, mem.peak - mem.start


def vidstudio_uint8(path: Path) -> float:
    """The decoder alone: every frame as the uint8 RGB array :meth:`VideoSource.source_frame` returns (what the
    baseline's pipe carries), without the float32 conversion a node receives."""
    from vidstudio.media.decode import VideoSource

    t0 = time.perf_counter()
    src = VideoSource(path)
    for i in range(src.info.frame_count):
        src.source_frame(i)
    dt = time.perf_counter() - t0
    src.close()
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    w, h = map(int, a.size.split("x"))
    base_t, ours_t, u8_t, growth = [], [], [], []
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "long.mp4"
        make_video(path, a.seconds, w, h)
        for _ in range(a.repeat):  # interleaved, so that machine noise hits both alike
            bt, bn = baseline(path, w, h)
            ot, on, grown = vidstudio(path)
            u8_t.append(vidstudio_uint8(path))
            assert bn == on, (bn, on)
            base_t.append(bt)
            ours_t.append(ot)
            growth.append(grown)
    b, o = statistics.median(base_t), statistics.median(ours_t)
    frame_mib = w * h * 3 * 4 / 2**20
    print(f"decode {on} frames {w}x{h} H.264 ({a.seconds:g} s), median of {a.repeat}")
    print(f"  baseline (ffmpeg to rgb24 on a pipe)  : {on / b:7.1f} fps")
    print(f"  vidstudio open_video_clip (float32)   : {on / o:7.1f} fps")
    u = statistics.median(u8_t)
    print(f"  vidstudio VideoSource (uint8 RGB)     : {on / u:7.1f} fps")
    print(f"  throughput ratio vidstudio/baseline   : {b / o:.3f} (float32 clip), {b / u:.3f} (uint8 decoder alone)")
    whole = on * frame_mib
    print(
        f"  peak memory growth: {max(growth) / 2**20:.0f} MiB (one float32 frame {frame_mib:.1f} MiB; "
        f"the whole clip would be {whole:.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
