"""Go-with-the-Flow warped noise speed at CogVideoX's size: 49 frames at 720 x 480, 16 latent channels, 8 px
latent cells, 4 frames per latent frame (13 latent frames), a 200 x 200 px square moving over a panning
background (merges in front of it, copies behind it, fresh noise at the frame's edge).

Baseline, measured in the same run: drawing the same amount of plain Gaussian noise on the warp grid (49 frames
of 720 x 480 x 16 float32 samples), the least any per-pixel warp has to do. Printed: seconds of each and the
ratio warped / plain. Target: a few seconds, well under one denoising step of CogVideoX 5B on a GPU.

Run: ``python benchmarks/bench_warped_noise.py [--frames N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vidstudio.motion.warped_noise import warped_noise


def scene_flow(frames: int, width: int = 720, height: int = 480) -> np.ndarray:
    """``(frames - 1, height, width, 2)``: a 1.7 x 0.3 px pan and a square moving -3.2 px per frame."""
    f = np.zeros((frames - 1, height, width, 2), np.float32)
    f[..., 0], f[..., 1] = 1.7, 0.3
    for t in range(frames - 1):
        x = int(400 - 3.2 * t)
        f[t, 140:340, x : x + 200] = (-3.2, 0.0)
    return f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=49)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    flow = scene_flow(args.frames)
    t_lat = (args.frames - 1) // 4 + 1
    warped, plain = [], []
    for r in range(args.repeat):
        t0 = time.perf_counter()
        warped_noise(flow, (16, t_lat, 60, 90), seed=r, temporal_ratio=4)
        warped.append(time.perf_counter() - t0)
        rng = np.random.default_rng(r)
        t0 = time.perf_counter()
        for _ in range(args.frames):
            rng.standard_normal((480 * 720, 16), dtype=np.float32)
        plain.append(time.perf_counter() - t0)
    w, p = min(warped), min(plain)
    print(f"warped noise, {args.frames} frames 720x480x16: {w:.2f} s")
    print(f"plain noise, same samples:              {p:.2f} s")
    print(f"ratio warped / plain: {w / p:.1f}x")


if __name__ == "__main__":
    main()
