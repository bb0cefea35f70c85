"""Generation overhead: a job through VidStudio against the same diffusers pipeline called directly.

For each family, a random pipeline (``vidstudio dev tiny-model``'s architecture, saved and loaded back like a
user's model) generates a mid-sized clip. The VidStudio side runs the whole job as the GUI and server do: a
graph (Load Model -> Conditioning -> Generate) validated and executed by the engine, the conditioning bundle
checked against the capability table, the pipeline taken from the loaded-pipeline cache, a step callback with
progress and a preview at every step. The baseline calls the very same pipeline object directly with the
same arguments (captured from the VidStudio call) and the same seed, in the same process. Runs alternate so
that machine noise hits both alike; the pipeline is loaded and warmed up before timing.

Printed per family: median wall time of each, the ratio VidStudio / direct (target <= 1.05), and the cost of
one step preview (linear latent-to-RGB) in milliseconds.

``--profile`` adds, per family, a pyinstrument profile (from PyPI, in the ``dev`` extra) of three VidStudio
jobs, summarised as the share of wall time outside the diffusers pipeline call and inside the step callback
(progress and previews): where an overhead would come from. Measured for AnimateDiff on this machine (2 shared
cores, 192x192, 17 frames, 8 steps): ratio 0.96-1.01 over repeated runs, 0.7% of the job outside the pipeline
call and 0.6% in the step callback; the 1.23x reported earlier did not reproduce.

Then, for the families with Time-to-Move (Wan 2.2 image-to-video with two experts, CogVideoX i2v, SVD): a TTM
job through VidStudio (Load Image + Animatic Render -> Conditioning ``motion`` -> Generate, ``t_weak`` /
``t_strong`` given) against the plain image-to-video pipeline called directly with the same steps and image; the
ratio's target is ``(steps - t_weak) / steps + 0.05`` (the steps before ``t_weak`` are never computed; the motion
signal's VAE encode is the extra). On the tiny models the VAE costs as much as the denoiser, unlike real
checkpoints (a Wan 14B step is ~10 s on an H100, its VAE encode a few seconds for the whole clip), so the
table's models get a deeper and wider denoiser (``--ttm-depth``) with the same tiny VAE.

Then the speed options of the Load Model node (step caches, fp8 layerwise casting, attention backends, regional
torch.compile) on the transformer families: each option's job against the same job without it, in the same
process with the same seed: the time ratio (option / plain, below 1 is faster) and the PSNR in dB of its frames
against the plain run's. On random weights these numbers show the mechanism (how much work is skipped, how far
the frames move), not the quality on a real checkpoint.

Run: ``python benchmarks/bench_backend.py [--families ltx,wan] [--size 192] [--frames 17] [--steps 8]
[--repeat 5] [--threads 1] [--profile] [--t-weak 4] [--t-strong 6] [--speed-families wan,ltx] [--speed-steps 20]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

FAMILIES = ("animatediff", "ltx", "wan", "svd", "cogvideox")


def project_doc(model: str, width: int, height: int, frames: int, steps: int, image: str | None) -> str:
    nodes = [
        {"id": "model", "type": "LoadModel", "params": {"model": model}},
        {
            "id": "cond",
            "type": "Conditioning",
            "params": {"prompt": "" if image else "a red fox trots across a snowy meadow", "seed": 7, "steps": steps},
        },
        {"id": "gen", "type": "Generate", "params": {"previews": True}},
    ]
    links = [{"from": "model.model", "to": "gen.model"}, {"from": "cond.conditioning", "to": "gen.conditioning"}]
    if image:
        nodes.append({"id": "img", "type": "LoadImage", "params": {"path": image}})
        links.append({"from": "img.image", "to": "cond.keyframes"})
    return json.dumps(
        {
            "format_version": 1,
            "nodes": nodes,
            "links": links,
            "settings": {"width": width, "height": height, "fps": "8", "frame_count": frames},
        }
    )


def profile_shares(job, pipe_call: str) -> str:
    """Profiles three runs of ``job`` with pyinstrument and says which share of the wall time is outside the
    pipeline's ``__call__`` (named ``pipe_call``) and inside VidStudio's step callback."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "profile: pyinstrument is not installed (pip install pyinstrument)"
    prof = Profiler(interval=0.0005)
    prof.start()
    for _ in range(3):
        job()
    prof.stop()
    session = prof.last_session
    root = session.root_frame() if session else None
    if root is None:
        return "profile: no samples"

    def total(frame, name: str) -> float:
        if frame.function == name.rsplit(".", 1)[-1] and name.split(".")[0] in (frame.class_name or name.split(".")[0]):
            return frame.time
        return sum(total(c, name) for c in frame.children)

    whole = root.time
    inside = total(root, pipe_call)
    callback = total(root, "on_step_end")
    return (
        f"profile: {100 * (whole - inside) / whole:.1f}% of the job outside {pipe_call}, "
        f"{100 * callback / whole:.1f}% in the step callback (progress + previews)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--size", type=int, default=192, help="width and height in pixels")
    ap.add_argument("--frames", type=int, default=17, help="frame count (SVD uses its model's 14)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--t-weak", type=int, default=4, help="Time-to-Move t_weak (step index) for the TTM table")
    ap.add_argument("--t-strong", type=int, default=6, help="Time-to-Move t_strong (step index)")
    ap.add_argument(
        "--ttm-depth",
        type=int,
        default=24,
        help="denoiser depth of the TTM table's models (the tiny VAE stays tiny, so the denoiser's "
        "steps dominate a call as on real checkpoints); 0: the tiny models as they are",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: random small models on a shared CPU vary less; 0: torch's default)",
    )
    ap.add_argument("--profile", action="store_true", help="profile VidStudio jobs with pyinstrument")
    ap.add_argument(
        "--speed-families", default="wan,ltx,cogvideox", help="families whose speed options are measured ('' to skip)"
    )
    ap.add_argument("--speed-steps", type=int, default=20, help="denoising steps of the speed-option runs")
    a = ap.parse_args()

    import torch

    from vidstudio.backend import generate as gen_mod
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.preview import Previewer
    from vidstudio.backend.tiny import write_tiny_model
    from vidstudio.graph.engine import Engine
    from vidstudio.media import save_png
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    if a.threads:
        torch.set_num_threads(a.threads)
    cache = PipelineCache()
    registry = default_registry()
    print(
        f"backend overhead: {a.size}x{a.size}, {a.frames} frames, {a.steps} steps, previews on, median of "
        f"{a.repeat}, torch threads {torch.get_num_threads()}"
    )
    print(f"  {'family':<12} {'pipeline':<30} {'direct s':>9} {'vidstudio s':>12} {'ratio':>7} {'preview ms':>11}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as d:
        img = Path(d) / "still.png"
        y, x = np.mgrid[0 : a.size, 0 : a.size] / a.size
        save_png(img, np.stack([x, y, 0.5 * (x + y)], -1).astype(np.float32))
        for family in a.families.split(","):
            folder = write_tiny_model(family, Path(d) / family)
            frames = 14 if family == "svd" else a.frames
            doc = project_doc(str(folder), a.size, a.size, frames, a.steps, str(img) if family == "svd" else None)
            proj = loads_project(doc)
            captured: dict = {}
            original = gen_mod.generate

            def capturing(*args, **kw):
                kw["call_hook"] = lambda plan, kwargs: captured.update(plan=plan, kwargs=dict(kwargs))
                return original(*args, **kw)

            def vidstudio_job() -> float:
                t0 = time.perf_counter()
                Engine(registry).run(
                    proj, proj.settings, targets=["gen"], services={"pipeline_cache": cache, "on_step": lambda *s: None}
                )
                return time.perf_counter() - t0

            gen_mod.generate = capturing
            try:
                vidstudio_job()  # load + warm-up, and capture the exact call
            finally:
                gen_mod.generate = original
            plan, kwargs = captured["plan"], captured["kwargs"]
            seed = 7

            def direct() -> float:
                kw = {
                    k: v
                    for k, v in kwargs.items()
                    if k not in ("callback_on_step_end", "callback_on_step_end_tensor_inputs")
                }
                kw["generator"] = torch.Generator("cpu").manual_seed(seed)
                t0 = time.perf_counter()
                with torch.inference_mode():
                    plan.pipe(**kw)
                return time.perf_counter() - t0

            direct()
            d_t, v_t = [], []
            for _ in range(a.repeat):
                d_t.append(direct())
                v_t.append(vidstudio_job())
            dm, vm = statistics.median(d_t), statistics.median(v_t)
            prev = Previewer(family)
            C, T, h, w = plan.latent_shape
            lat = torch.randn(C, T, h, w)
            prev(lat)
            pt = []
            for _ in range(20):
                t0 = time.perf_counter()
                prev(lat)
                pt.append(time.perf_counter() - t0)
            ratio = vm / dm
            worst = max(worst, ratio)
            print(
                f"  {family:<12} {plan.pipeline_name:<30} {dm:9.3f} {vm:12.3f} {ratio:7.3f} "
                f"{1000 * statistics.median(pt):11.3f}"
            )
            if a.profile:
                print("    " + profile_shares(vidstudio_job, type(plan.pipe).__call__.__qualname__))
    print(f"  worst ratio vidstudio/direct: {worst:.3f} (target <= 1.05) {'OK' if worst <= 1.05 else 'ABOVE TARGET'}")
    ttm_table(a, cache, registry)
    if a.speed_families:
        speed_options(a, cache)
    return 0


def ttm_doc(
    model: str, image: str, size: int, frames: int, steps: int, t_weak: int | None, t_strong: int, prompt: str
) -> str:
    """A Time-to-Move job (``t_weak`` not None: the still's animatic is the motion signal) or the plain
    image-to-video job on the same still."""
    cond = {"prompt": prompt, "seed": 7, "steps": steps}
    nodes = [
        {"id": "model", "type": "LoadModel", "params": {"model": model}},
        {"id": "img", "type": "LoadImage", "params": {"path": image}},
        {"id": "cond", "type": "Conditioning", "params": cond},
        {"id": "gen", "type": "Generate", "params": {"previews": True}},
    ]
    links = [
        {"from": "model.model", "to": "gen.model"},
        {"from": "cond.conditioning", "to": "gen.conditioning"},
        {"from": "img.image", "to": "cond.keyframes"},
    ]
    if t_weak is not None:
        cond.update(t_weak=t_weak, t_strong=t_strong)
        nodes.append({"id": "animatic", "type": "AnimaticRender", "params": {}})
        links += [{"from": "img.image", "to": "animatic.background"}, {"from": "animatic.video", "to": "cond.motion"}]
    return json.dumps(
        {
            "format_version": 1,
            "nodes": nodes,
            "links": links,
            "settings": {"width": size, "height": size, "fps": "8", "frame_count": frames},
        }
    )


def heavier(pipe, family: str, depth: int):
    """``pipe`` with its denoiser(s) rebuilt ``depth`` layers deep and wider (random weights), for timing."""
    import torch

    torch.manual_seed(0)
    if family == "svd":
        u = pipe.unet
        cfg = {**u.config, "layers_per_block": max(1, depth // 8)}
        pipe.unet = type(u).from_config(cfg).eval()
        return pipe
    for name in ("transformer", "transformer_2"):
        t = getattr(pipe, name, None)
        if t is None:
            continue
        cfg = {**t.config, "num_layers": depth, "attention_head_dim": 96 if family == "wan" else 128}
        if family == "wan":
            cfg["ffn_dim"] = 384
        setattr(pipe, name, type(t).from_config(cfg).eval())
    return pipe


def ttm_table(a, cache, registry) -> None:
    """Prints the Time-to-Move job against the plain image-to-video call (see the module docstring)."""
    import torch

    from vidstudio.backend import generate as gen_mod
    from vidstudio.backend.tiny import build_tiny_pipeline, build_tiny_wan22_i2v
    from vidstudio.graph.engine import Engine
    from vidstudio.media import save_png
    from vidstudio.project import loads_project

    fams = [f for f in ("wan", "cogvideox", "svd") if f in a.families.split(",")]
    if not fams:
        return
    target = (a.steps - a.t_weak) / a.steps + 0.05
    print(
        f"Time-to-Move: t_weak {a.t_weak}, t_strong {a.t_strong} of {a.steps} steps; TTM job through VidStudio "
        f"against the plain image-to-video call, median of {a.repeat}; denoiser depth {a.ttm_depth or 'tiny'}"
    )
    print(
        f"  {'family':<12} {'pipeline':<30} {'plain s':>9} {'ttm s':>9} {'ratio':>7} {'target':>7} "
        f"{'denoiser':>10} {'share':>8}"
    )
    print(
        "  (ratio: whole call; denoiser: time inside the transformer / UNet, TTM over plain; share: the denoiser's "
        "part of the plain call, ~0.97 on real checkpoints)"
    )
    with tempfile.TemporaryDirectory() as d:
        img = Path(d) / "still.png"
        y, x = np.mgrid[0 : a.size, 0 : a.size] / a.size
        save_png(img, np.stack([x, y, 0.5 * (x + y)], -1).astype(np.float32))
        for family in fams:
            folder = Path(d) / f"ttm-{family}"
            pipe = (
                build_tiny_wan22_i2v()
                if family == "wan"
                else build_tiny_pipeline(family, "i2v" if family == "cogvideox" else None)[0]
            )
            if a.ttm_depth:
                pipe = heavier(pipe, family, a.ttm_depth)
            pipe.save_pretrained(folder, safe_serialization=True)
            frames = 14 if family == "svd" else a.frames
            prompt = "" if family == "svd" else "a red fox trots across a snowy meadow"
            ttm_proj = loads_project(
                ttm_doc(str(folder), str(img), a.size, frames, a.steps, a.t_weak, a.t_strong, prompt)
            )
            plain_proj = loads_project(ttm_doc(str(folder), str(img), a.size, frames, a.steps, None, 0, prompt))
            captured: dict = {}
            original = gen_mod.generate

            def capturing(*args, **kw):
                kw["call_hook"] = lambda plan, kwargs: captured.update(plan=plan, kwargs=dict(kwargs))
                return original(*args, **kw)

            def job(proj) -> float:
                t0 = time.perf_counter()
                Engine(registry).run(
                    proj, proj.settings, targets=["gen"], services={"pipeline_cache": cache, "on_step": lambda *s: None}
                )
                return time.perf_counter() - t0

            gen_mod.generate = capturing
            try:
                job(plain_proj)  # load + warm-up, and capture the plain call
            finally:
                gen_mod.generate = original
            plan, kwargs = captured["plan"], captured["kwargs"]

            def direct() -> float:
                kw = {
                    k: v
                    for k, v in kwargs.items()
                    if k not in ("callback_on_step_end", "callback_on_step_end_tensor_inputs")
                }
                kw["generator"] = torch.Generator("cpu").manual_seed(7)
                t0 = time.perf_counter()
                with torch.inference_mode():
                    plan.pipe(**kw)
                return time.perf_counter() - t0

            spent = [0.0]
            began = [0.0]
            nets = [getattr(plan.pipe, n, None) for n in ("transformer", "transformer_2", "unet")]
            hooks = []
            for net in [n for n in nets if n is not None]:
                hooks.append(net.register_forward_pre_hook(lambda m, args: began.__setitem__(0, time.perf_counter())))
                hooks.append(
                    net.register_forward_hook(
                        lambda m, args, out: spent.__setitem__(0, spent[0] + time.perf_counter() - began[0])
                    )
                )

            def timed(fn, *args) -> tuple[float, float]:
                spent[0] = 0.0
                return fn(*args), spent[0]

            job(ttm_proj)
            d_t, v_t, d_n, v_n = [], [], [], []
            for _ in range(a.repeat):
                t, n = timed(direct)
                d_t.append(t)
                d_n.append(n)
                t, n = timed(job, ttm_proj)
                v_t.append(t)
                v_n.append(n)
            for h in hooks:
                h.remove()
            dm, vm = statistics.median(d_t), statistics.median(v_t)
            ratio = vm / dm
            share = statistics.median(d_n) / dm
            den = statistics.median(v_n) / statistics.median(d_n)
            print(
                f"  {family:<12} {plan.pipeline_name:<30} {dm:9.3f} {vm:9.3f} {ratio:7.3f} {target:7.3f} "
                f"{den:10.3f} {share:8.2f} {'OK' if ratio <= target else 'ABOVE TARGET'}"
            )


#: (label, ModelRef changes) of each speed option measured.
SPEED_OPTIONS = (
    ("first block cache 0.05", {"step_cache": "first_block"}),
    ("first block cache 0.2", {"step_cache": "first_block", "cache_threshold": 0.2}),
    ("magcache", {"step_cache": "mag"}),
    ("taylorseer", {"step_cache": "taylorseer"}),
    ("fp8 layerwise", {"quantize": "fp8_layerwise"}),
    ("attention flash", {"attention": "flash"}),
    ("attention sage", {"attention": "sage"}),
    ("compile (regional)", {"compile": True}),
)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of frames ``a`` against ``b`` (both in [0, 1]); inf when equal."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def speed_options(a: argparse.Namespace, cache) -> None:
    """Prints each speed option's time ratio and PSNR against the plain run (see the module docstring)."""
    from vidstudio.backend.bundle import Conditioning, ModelRef
    from vidstudio.backend.generate import generate
    from vidstudio.backend.loader import PipelineCache
    from vidstudio.backend.tiny import write_tiny_model

    print(
        f"speed options: {a.size}x{a.size}, {a.frames} frames, {a.speed_steps} steps, median of {a.repeat}; "
        "random weights: the ratios and PSNRs show the mechanism, not real quality"
    )
    print(f"  {'family':<10} {'option':<22} {'plain s':>8} {'option s':>9} {'ratio':>6} {'PSNR dB':>8}  note")
    bundle = Conditioning(prompt="a fox runs", steps=a.speed_steps, seed=7)
    with tempfile.TemporaryDirectory() as d:
        for family in a.speed_families.split(","):
            folder = write_tiny_model(family, Path(d) / family)
            base = ModelRef(model=str(folder))

            option_cache = PipelineCache()  # load-time options (fp8, compile) stay loaded beside the plain one

            def job(ref, c=cache):
                t0 = time.perf_counter()
                res = generate(ref, bundle, width=a.size, height=a.size, frames=a.frames, cache=c, previews=False)
                return time.perf_counter() - t0, res

            job(base)
            for label, changes in SPEED_OPTIONS:
                ref = base.with_(**changes)
                _, first = job(ref, option_cache)  # load, calibrate, compile: not timed
                p_t, o_t, plain, res = [], [], None, first
                for _ in range(a.repeat):  # alternate, so machine noise hits both alike
                    t, plain = job(base)
                    p_t.append(t)
                    t, res = job(ref, option_cache)
                    o_t.append(t)
                pm, om = statistics.median(p_t), statistics.median(o_t)
                note = next((n for n in res.notes if any(w in n for w in ("not usable", "skipped", "ran without"))), "")
                print(
                    f"  {family:<10} {label:<22} {pm:8.3f} {om:9.3f} {om / pm:6.2f} {psnr(res.frames, plain.frames):8.1f}"
                    f"  {note[:70]}"
                )


if __name__ == "__main__":
    sys.exit(main())
