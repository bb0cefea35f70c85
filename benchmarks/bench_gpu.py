"""Each family at its real full-size configuration on a GPU: seconds per denoising step and peak GPU memory.

For every checkpoint configuration kept under ``tests/backend/configs/`` (the published configs of real
checkpoints; here *without* the test's overrides, so at full size: every layer, every width), the pipeline is
built with random weights directly on the GPU in bf16, run through VidStudio's ``generate`` at the checkpoint's
native resolution and frame count for a few steps, and timed per step (the first step, which includes kernel
selection and autotuning, is dropped). Random weights make the numbers about speed and memory only: the frames
are noise. Text encoders run at full size too, except for their vocabulary (the test tokenizer's 260 tokens).

Without a CUDA GPU the script says so and exits with status 0 (nothing to measure).

Run: ``python benchmarks/bench_gpu.py [--only wan22_ti2v_5b,ltx2_19b] [--steps 4] [--frames N] [--size WxH]``
(``--frames`` / ``--size`` override the native geometry, e.g. for a smaller card; ``--list`` prints the runs,
with what each needs: a keyframe at frame 0, a first and a last keyframe, a control video; no GPU needed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Native:
    """The native geometry of a published checkpoint (its model card) and what a run of it needs.

    Attributes:
        width, height: pixels; frames: the frame count of one pass; fps: its frame rate.
        keyframes: ``""`` (none), ``"first"`` (an image to animate at frame 0) or ``"first_last"`` (a first and a
            last keyframe: Wan 2.1 FLF2V).
        control_video: a guide (control) video over every frame (Wan VACE).
        text: whether it takes a prompt (SVD does not).
    """

    width: int
    height: int
    frames: int
    fps: int
    keyframes: str = ""
    control_video: bool = False
    text: bool = True

    def needs(self) -> str:
        """What a run needs besides the prompt, in words."""
        parts = {"first": ["a keyframe at frame 0"], "first_last": ["a first and a last keyframe"]}.get(
            self.keyframes, []
        )
        if self.control_video:
            parts.append("a control video")
        if not self.text:
            parts.append("no prompt")
        return ", ".join(parts) or "a prompt"


#: checkpoint config folder -> its native geometry and needs (model cards; Wan 2.x: Wan-Video/Wan2.2
#: wan/configs, 81 frames at 16 fps, TI2V-5B 121 at 24; CogVideoX 1.5: 1360x768, 81 frames at 16 fps).
NATIVE: dict[str, Native] = {
    "animatediff_v152_sd15": Native(512, 512, 16, 8),
    "svd": Native(1024, 576, 14, 7, "first", text=False),
    "svd_xt": Native(1024, 576, 25, 7, "first", text=False),
    "ltx091_2b": Native(768, 512, 121, 24),
    "ltx098_13b": Native(1216, 704, 121, 30),
    "wan21_t2v_1_3b": Native(832, 480, 81, 16),
    "wan21_t2v_14b": Native(1280, 720, 81, 16),
    "wan21_i2v_14b_480p": Native(832, 480, 81, 16, "first"),
    "wan21_flf2v_14b_720p": Native(1280, 720, 81, 16, "first_last"),
    "wan21_vace_1_3b": Native(832, 480, 81, 16, control_video=True),
    "wan22_t2v_a14b": Native(1280, 720, 81, 16),
    "wan22_i2v_a14b": Native(1280, 720, 81, 16, "first"),
    "wan22_ti2v_5b": Native(1280, 704, 121, 24),
    "cogvideox_2b": Native(720, 480, 49, 8),
    "cogvideox_5b": Native(720, 480, 49, 8),
    "cogvideox_5b_i2v": Native(720, 480, 49, 8, "first"),
    "cogvideox15_5b": Native(1360, 768, 81, 16),
    "cogvideox15_5b_i2v": Native(1360, 768, 81, 16, "first"),
    "hunyuan15_480p_t2v": Native(848, 480, 121, 24),
    "hunyuan15_480p_i2v": Native(848, 480, 121, 24, "first"),
    "hunyuan15_480p_i2v_step_distilled": Native(848, 480, 121, 24, "first"),
    "hunyuan15_720p_t2v": Native(1280, 720, 121, 24),
    "hunyuan15_720p_i2v": Native(1280, 720, 121, 24, "first"),
    "ltx2_19b": Native(768, 512, 121, 24),
}

#: config folders without a run, and why.
NOT_BENCHMARKED: dict[str, str] = {
    "sd15": "a Stable Diffusion 1.5 base that runs as AnimateDiff with Load Model's motion adapter: the same "
    "UNet and adapter as animatediff_v152_sd15",
}

PROMPT = "a red fox trots across a snowy meadow"


@dataclass(frozen=True)
class Job:
    """One benchmark run: a config folder at a geometry (the native one unless overridden) and its needs."""

    name: str
    width: int
    height: int
    frames: int
    fps: int
    native: Native

    def keyframe_frames(self) -> list[int]:
        """Where its keyframes go (frame indices)."""
        return {"first": [0], "first_last": [0, self.frames - 1]}.get(self.native.keyframes, [])

    def request(self) -> Any:
        """The :class:`vidstudio.families.Request` its conditioning makes (torch-free; for the plan's checks)."""
        from vidstudio.families import Request

        controls = {"text"} if self.native.text else set()
        if self.native.keyframes:
            controls.add("keyframes")
        if self.native.control_video:
            controls.add("guide_video")
        return Request(controls, self.keyframe_frames(), 0, self.width, self.height, self.frames)

    def bundle(self, steps: int) -> Any:
        """The conditioning: the prompt, random keyframe images and control video at the job's geometry."""
        import numpy as np

        from vidstudio.backend.bundle import Conditioning, Keyframe

        rng = np.random.default_rng(0)
        size = (self.height, self.width, 3)
        kfs = [Keyframe(f, rng.random(size, dtype=np.float32)) for f in self.keyframe_frames()]
        guide = rng.random((self.frames, *size), dtype=np.float32) if self.native.control_video else None
        return Conditioning(
            prompt=PROMPT if self.native.text else "", steps=steps, keyframes=kfs, guide=guide, guide_strength=1.0
        )


def plan(names: list[str], frames: int = 0, size: tuple[int, int] | None = None) -> list[Job]:
    """The runs for ``names`` (config folders; empty: every folder of :data:`NATIVE`), at the native geometry or
    at ``frames`` / ``size = (width, height)`` when given. Builds no model (CPU-safe).

    Raises:
        ValueError: for a name that is not in :data:`NATIVE`, naming the known ones.
    """
    unknown = [n for n in names if n not in NATIVE]
    if unknown:
        raise ValueError(f"unknown config folder {', '.join(unknown)}; expected one of {', '.join(NATIVE)}")
    jobs = []
    for name in names or list(NATIVE):
        nat = NATIVE[name]
        w, h = size or (nat.width, nat.height)
        jobs.append(Job(name, w, h, frames or nat.frames, nat.fps, nat))
    return jobs


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[Job]]:
    """The command line and the runs it asks for; bad input exits with status 2 and says what and where."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated config folders (default: all of NATIVE)")
    ap.add_argument("--steps", type=int, default=4, help="denoising steps per run (the first is not timed)")
    ap.add_argument("--frames", type=int, default=0, help="frame count instead of the native one")
    ap.add_argument("--size", default="", help="WxH instead of the native size")
    ap.add_argument("--list", action="store_true", help="print the runs (geometry, fps, needs) and exit")
    a = ap.parse_args(argv)
    if a.steps < 2:
        ap.error(f"--steps must be at least 2 (the first step is not timed), got {a.steps}")
    if a.frames < 0:
        ap.error(f"--frames must be positive, got {a.frames}")
    size = None
    if a.size:
        try:
            w, h = (int(v) for v in a.size.lower().split("x"))
        except ValueError:
            ap.error(f"--size must be WxH (e.g. 832x480), got {a.size!r}")
        if w <= 0 or h <= 0:
            ap.error(f"--size must be positive, got {a.size!r}")
        size = (w, h)
    try:
        jobs = plan([n for n in a.only.split(",") if n], a.frames, size)
    except ValueError as e:
        ap.error(f"--only: {e}")
    return a, jobs


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


def main(argv: list[str] | None = None) -> int:
    a, jobs = parse_args(argv)
    if a.list:
        print(f"  {'checkpoint':<22} {'geometry':<16} {'fps':>4}  needs")
        for j in jobs:
            print(f"  {j.name:<22} {f'{j.width}x{j.height}x{j.frames}':<16} {j.fps:>4}  {j.native.needs()}")
        return 0
    try:
        import torch
    except ImportError:
        print("bench_gpu: torch is not installed; nothing to measure")
        return 0
    if not torch.cuda.is_available():
        print(
            "bench_gpu: no CUDA GPU here (torch.cuda.is_available() is False); this benchmark measures "
            "full-size models on a GPU and has nothing to measure on the CPU. Run it on a machine with one "
            "(--list prints the runs)."
        )
        return 0

    import numpy as np

    from tests.backend.realconfigs import build
    from vidstudio.backend.bundle import ModelRef
    from vidstudio.backend.generate import generate

    gpu = torch.cuda.get_device_name(0)
    print(
        f"bench_gpu: {gpu}, torch {torch.__version__}, bf16, random weights, {a.steps} steps "
        f"(first untimed), {time.strftime('%Y-%m-%d')}"
    )
    print(f"  {'checkpoint':<22} {'pipeline':<34} {'geometry':<16} {'s/step':>8} {'peak GiB':>9}")
    for job in jobs:
        name, w, h, frames = job.name, job.width, job.height, job.frames
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
                times: list[float] = []
                res = generate(
                    ModelRef(model=d, dtype="bf16", device="cuda"),
                    job.bundle(a.steps),
                    width=w,
                    height=h,
                    frames=frames,
                    fps=job.fps,
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
