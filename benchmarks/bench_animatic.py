"""Animatic speed: frames per second of the Animatic Render at 512x512 and 1280x720 with three sprites, and the
latency of one random frame (scrubbing), on one core.

Scene: a real photograph as background (``cover`` fit) and three sprites along their tracks: the logo cut-out
on a drawn Catmull-Rom path (turning along its tangent), a ball and a box from a pymunk simulation. Two
cameras: at rest, and moving (keyed zoom and roll: the background is re-warped every frame).

Baseline, measured in the same run: a plain background blit, i.e. copying a ready float32 frame of the same
size (what the cheapest possible "renderer" costs). Printed: fps of each, the ratio animatic / blit, and the
targets: >= 60 fps at 1280x720, <= 20 ms for one random 512x512 frame. Last, the path editor's functions
(evaluate, polyline and ticks of an 8-point path over 300 frames), target a few ms per edit.

Everything runs pinned to one CPU (``os.sched_setaffinity``) with OpenCV limited to one thread. Frames are
rendered through the lazy :class:`vidstudio.media.Clip` exactly as the GUI and the exporter get them (with
its frame cache turned off).

Run: ``python benchmarks/bench_animatic.py [--frames N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vidstudio.media.clip import Clip
from vidstudio.media.image import load_image
from vidstudio.motion.animatic import AnimaticRenderer
from vidstudio.motion.camera import camera_matrices
from vidstudio.motion.physics import PhysicsScene, simulate
from vidstudio.motion.sprites import image_sprite, shape_sprite
from vidstudio.motion.trajectory import evaluate_path, validate_document

ASSETS = ROOT / "resources" / "examples" / "assets"


def one_core() -> str:
    try:
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        pinned = "not pinned (no sched_setaffinity)"
    import cv2

    cv2.setNumThreads(1)
    return pinned


def scene(w: int, h: int, n: int, moving: bool) -> AnimaticRenderer:
    doc = validate_document(
        {
            "paths": [
                {
                    "id": "logo",
                    "points": [
                        {"x": 0.15 * w, "y": 0.8 * h},
                        {"x": 0.35 * w, "y": 0.25 * h},
                        {"x": 0.6 * w, "y": 0.6 * h},
                        {"x": 0.85 * w, "y": 0.3 * h},
                    ],
                    "easing": {"family": "sine", "mode": "in_out"},
                    "rotation": {"mode": "tangent"},
                    "size": [0.22 * h, 0.22 * h],
                }
            ]
        }
    )
    path_track = evaluate_path(doc.paths[0], n)
    phys = simulate(
        PhysicsScene(
            width=w,
            height=h,
            bodies=[
                {"id": "ball", "radius": 0.06 * h, "position": [0.2 * w, 0.3 * h], "velocity": [0.5 * w, -0.3 * h]},
                {
                    "id": "box",
                    "shape": "box",
                    "width": 0.16 * h,
                    "height": 0.1 * h,
                    "position": [0.7 * w, 0.5 * h],
                    "velocity": [-0.2 * w, 0],
                    "angular_velocity": 90,
                },
            ],
        ),
        n,
        24,
    )
    sprites = [
        image_sprite("logo", path_track, load_image(ASSETS / "logo_cutout.png")),
        shape_sprite("ball", phys.tracks.get("ball"), "ball", outline_width=2),
        shape_sprite("box", phys.tracks.get("box"), "auto", fill=(0.3, 0.6, 0.9), outline_width=2),
    ]
    t = np.linspace(0, 1, n)
    cams = camera_matrices(w, h, zoom=1 + 0.2 * t, roll=4 * t) if moving else None
    return AnimaticRenderer(w, h, n, sprites=sprites, background=load_image(ASSETS / "rocket.png"), cameras=cams)


def fps_of(render, n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for i in range(n):
            render(i)
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"animatic, {a.frames} frames, three sprites, median of {a.repeat}; {one_core()}, OpenCV 1 thread")
    ok = True
    for w, h in ((512, 512), (1280, 720)):
        frame = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
        dst = np.empty_like(frame)
        blit = fps_of(lambda i: np.copyto(dst, frame), a.frames, a.repeat)
        print(f"  {w}x{h}: baseline background blit {blit:9.1f} fps")
        for moving in (False, True):
            ren = scene(w, h, a.frames, moving)
            clip = Clip(a.frames, h, w, ren.render, cache_frames=0)
            clip.frame(0)  # rasters are made on first use
            fps = fps_of(clip.frame, a.frames, a.repeat)
            cam = "moving camera" if moving else "still camera "
            line = f"  {w}x{h}: animatic, {cam}    {fps:9.1f} fps  ratio to blit {fps / blit:.3f}"
            if (w, h) == (1280, 720):
                good = fps >= 60
                ok &= good
                line += f"  (target >= 60 fps: {'OK' if good else 'BELOW TARGET'})"
            print(line)
        # Scrubbing: one random frame of a fresh clip (moving camera: nothing cached from the previous frame).
        ren = scene(w, h, a.frames, True)
        clip = Clip(a.frames, h, w, ren.render, cache_frames=0)
        clip.frame(0)
        rng = np.random.default_rng(1)
        lat = []
        for i in rng.integers(0, a.frames, 40):
            t0 = time.perf_counter()
            clip.frame(int(i))
            lat.append((time.perf_counter() - t0) * 1000)
        med, worst = statistics.median(lat), max(lat)
        line = f"  {w}x{h}: one random frame: median {med:.2f} ms, worst {worst:.2f} ms"
        if (w, h) == (512, 512):
            good = med <= 20
            ok &= good
            line += f"  (target <= 20 ms: {'OK' if good else 'BELOW TARGET'})"
        print(line)
    # The path editor calls these while the user drags a point: evaluate, polyline and ticks of one path.
    from vidstudio.motion.trajectory import compile_path, frame_ticks, path_polyline

    doc = validate_document(
        {
            "paths": [
                {
                    "id": "p",
                    "points": [{"x": 40 + 120 * k, "y": 200 + 90 * (-1) ** k} for k in range(8)],
                    "easing": {"family": "sine", "mode": "in_out"},
                    "rotation": {"mode": "tangent"},
                }
            ]
        }
    )
    p = doc.paths[0]

    def edit(_):
        cp = compile_path(p)
        evaluate_path(p, 300, compiled=cp)
        path_polyline(p, compiled=cp)
        frame_ticks(p, 300, compiled=cp)

    per_edit = 1000 / fps_of(edit, 50, a.repeat)
    grid = np.linspace(0, 1, 300)
    base = 1000 / fps_of(lambda _: np.interp(grid, grid, grid), 50, a.repeat)
    line = f"  path editor, 8 points, 300 frames: {per_edit:.2f} ms per edit (np.interp baseline {base:.3f} ms)"
    good = per_edit <= 5
    ok &= good
    print(line + f"  (target <= 5 ms: {'OK' if good else 'BELOW TARGET'})")
    print("all targets met" if ok else "some targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
