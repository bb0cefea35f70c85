"""Each family at its real full-size configuration on a GPU: seconds per denoising step and peak GPU memory.

For every checkpoint configuration kept under ``tests/backend/configs/`` (the published configs of real
checkpoints; here *without* the test's overrides, so at full size: every layer, every width), the pipeline is
built with random weights directly on the GPU in bf16, run through VidStudio's ``generate`` at the checkpoint's
native resolution and frame count for a few steps, and timed per step (the first step, which includes kernel
selection and autotuning, is dropped). Random weights make the numbers about speed and memory only: the frames
are noise. Text encoders run at full size too, except for their vocabulary (the test tokenizer's 260 tokens).

Without a CUDA GPU the script says so and exits with status 0 (nothing to measure).

Run: ``python benchmarks/bench_gpu.py [--only wan22_ti2v_5b,ltx2_19b] [--steps 4] [--frames N] [--size WxH]``
(``--frames`` / ``--size`` override the native geometry, e.g. for a smaller card).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: checkpoint config folder -> (width, height, frames, fps, needs a keyframe at frame 0): the native geometry
#: of each published checkpoint (model cards).
NATIVE: dict[str, tuple[int, int, int, int, bool]] = {
    "wan22_t2v_a14b": (1280, 720, 81, 16, False),
    "wan22_i2v_a14b": (1280, 720, 81, 16, True),
    "wan22_ti2v_5b": (1280, 704, 121, 24, False),
    "ltx098_13b": (1216, 704, 121, 30, False),
    "hunyuan15_480p_t2v": (848, 480, 121, 24, False),
    "hunyuan15_480p_i2v": (848, 480, 121, 24, True),
    "ltx2_19b": (768, 512, 121, 24, False),
}


def cached(pipe, folder: str):
    """A :class:`PipelineCache` that already holds ``pipe`` for the folder ``folder``, into which only the configs
    are written (``model_index.json`` and each component's config), so that VidStudio's locate / recognition
    runs as for a real folder while the random weights stay on the GPU."""
    import torch

    from vidstudio.backend.bundle import ModelRef
    from vidstudio.backend.loader import LoadedModel, PipelineCache
    from vidstudio.backend.locate import locate

    pipe.save_config(folder)
    for name, comp in pipe.components.items():
        if comp is None:
            continue
        sub = Path(folder) / name
        if hasattr(comp, "save_config"):
            comp.save_config(sub)
        elif hasattr(comp, "config") and hasattr(comp.config, "save_pretrained"):
            comp.config.save_pretrained(sub)
    ref = ModelRef(model=folder, dtype="bf16", device="cuda")
    loc = locate(folder)
    pipe.set_progress_bar_config(disable=True)
    cache = PipelineCache()
    cache._entry = LoadedModel(ref, loc, pipe, "cuda", torch.bfloat16)
    cache._key = cache.key(ref, loc)
    return cache


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated config folders (default: all of NATIVE)")
    ap.add_argument("--steps", type=int, default=4, help="denoising steps per run (the first is not timed)")
    ap.add_argument("--frames", type=int, default=0, help="frame count instead of the native one")
    ap.add_argument("--size", default="", help="WxH instead of the native size")
    a = ap.parse_args()

    try:
        import torch
    except ImportError:
        print("bench_gpu: torch is not installed; nothing to measure")
        return 0
    if not torch.cuda.is_available():
        print(
            "bench_gpu: no CUDA GPU here (torch.cuda.is_available() is False); this benchmark measures "
            "full-size models on a GPU and has nothing to measure on the CPU. Run it on a machine with one."
        )
        return 0

    import numpy as np

    from tests.backend.realconfigs import build
    from vidstudio.backend.bundle import Conditioning, Keyframe, ModelRef
    from vidstudio.backend.generate import generate

    names = [n for n in (a.only.split(",") if a.only else NATIVE) if n]
    gpu = torch.cuda.get_device_name(0)
    print(
        f"bench_gpu: {gpu}, torch {torch.__version__}, bf16, random weights, {a.steps} steps "
        f"(first untimed), {time.strftime('%Y-%m-%d')}"
    )
    print(f"  {'checkpoint':<22} {'pipeline':<34} {'geometry':<16} {'s/step':>8} {'peak GiB':>9}")
    for name in names:
        if name not in NATIVE:
            print(f"  {name:<22} unknown config folder; expected one of {', '.join(NATIVE)}")
            continue
        w, h, frames, fps, image = NATIVE[name]
        if a.size:
            w, h = (int(v) for v in a.size.lower().split("x"))
        frames = a.frames or frames
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        try:
            with torch.device("cuda"):
                torch.set_default_dtype(torch.bfloat16)
                try:
                    pipe = build(name, full=True)
                finally:
                    torch.set_default_dtype(torch.float32)
            with tempfile.TemporaryDirectory() as d:
                cache = cached(pipe, d)  # configs only on disk (a 14B expert pair would be 56 GB of weights)
                del pipe
                kfs = [Keyframe(0, np.random.default_rng(0).random((h, w, 3)).astype(np.float32))] if image else []
                times: list[float] = []
                res = generate(
                    ModelRef(model=d, dtype="bf16", device="cuda"),
                    Conditioning(prompt="a red fox trots across a snowy meadow", steps=a.steps, keyframes=kfs),
                    width=w,
                    height=h,
                    frames=frames,
                    fps=fps,
                    cache=cache,
                    previews=False,
                    on_step=lambda i, n, sps, img: times.append(time.perf_counter()),
                )
            steps = np.diff(times)  # step 1 -> 2, ...: the first step (warm-up) is not in it
            sps = float(np.mean(steps)) if len(steps) else res.seconds_per_step
            peak = torch.cuda.max_memory_allocated() / 2**30
            print(f"  {name:<22} {res.pipeline:<34} {f'{w}x{h}x{frames}':<16} {sps:8.2f} {peak:9.1f}")
        except torch.cuda.OutOfMemoryError:
            print(f"  {name:<22} out of GPU memory at {w}x{h}x{frames} (try --size / --frames)")
        except Exception as e:  # one family's failure must not hide the others' numbers
            print(f"  {name:<22} failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
        torch.cuda.empty_cache()
    print("  random weights: speed and memory only, the frames are noise")
    return 0


if __name__ == "__main__":
    sys.exit(main())
