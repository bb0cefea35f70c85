"""Export throughput: VidStudio's MP4 writer against piping the same frames straight into the same ffmpeg.

Both encode the same frames with the same x264 arguments (CRF, preset, yuv420p, BT.709 tags, +faststart). VidStudio
receives float32 frames in [0, 1] (what the engine produces) and pays for the conversion, the metadata input
and its safety (temp file + rename); the baseline receives uint8 bytes ready for the pipe. Printed: frames per
second of each and the ratio VidStudio / baseline (target >= 0.9).

Run: ``python benchmarks/bench_export.py [--frames N] [--size WxH] [--preset P] [--repeat R]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidstudio.media.video import BT709_ENCODE, ffmpeg_exe, write_video


def make_frames(n: int, w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / w, y / h, 0.5 * (x + y) / (w + h)], axis=-1)
    frames = np.empty((n, h, w, 3), np.float32)
    for i in range(n):
        frames[i] = np.clip(np.roll(base, i * 4, axis=1) + rng.normal(0, 0.02, (1, 1, 3)), 0, 1)
    return frames


def baseline(frames_u8: np.ndarray, out: Path, fps: int, crf: int, preset: str) -> float:
    n, h, w, _ = frames_u8.shape
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
        f"{w}x{h}",
        "-r",
        str(fps),
        "-i",
        "pipe:0",
        *BT709_ENCODE,
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(out),
    ]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for f in frames_u8:
        p.stdin.write(f.data)
    p.stdin.close()
    assert p.wait() == 0
    return time.perf_counter() - t0


def vidstudio(frames: np.ndarray, out: Path, fps: int, crf: int, preset: str) -> float:
    t0 = time.perf_counter()
    write_video(iter(frames), out, fps, crf=crf, preset=preset, project_json='{"format_version": 1}')
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--crf", type=int, default=18)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    w, h = map(int, a.size.split("x"))
    frames = make_frames(a.frames, w, h)
    frames_u8 = (frames * 255 + 0.5).astype(np.uint8)
    base_t, ours_t = [], []
    with tempfile.TemporaryDirectory() as d:
        for _ in range(a.repeat):  # interleaved, so that machine noise hits both alike
            base_t.append(baseline(frames_u8, Path(d) / "base.mp4", 24, a.crf, a.preset))
            ours_t.append(vidstudio(frames, Path(d) / "ours.mp4", 24, a.crf, a.preset))
    b, o = statistics.median(base_t), statistics.median(ours_t)
    print(f"export {a.frames} frames {w}x{h}, x264 preset {a.preset}, crf {a.crf}, median of {a.repeat}")
    print(f"  baseline (uint8 piped into ffmpeg): {a.frames / b:7.1f} fps")
    print(f"  vidstudio write_video (float32)   : {a.frames / o:7.1f} fps")
    ratio = b / o
    print(
        f"  throughput ratio vidstudio/baseline: {ratio:.3f} (target >= 0.9) {'OK' if ratio >= 0.9 else 'BELOW TARGET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
