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

Run: ``python benchmarks/bench_backend.py [--families ltx,wan] [--size 192] [--frames 17] [--steps 8]
[--repeat 5] [--threads 1] [--profile]``
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

import numpy as np  # noqa: E402

FAMILIES = ("animatediff", "ltx", "wan", "svd", "cogvideox")


def project_doc(model: str, width: int, height: int, frames: int, steps: int, image: str | None) -> str:
    nodes = [
        {"id": "model", "type": "LoadModel", "params": {"model": model}},
        {"id": "cond", "type": "Conditioning",
         "params": {"prompt": "" if image else "a red fox trots across a snowy meadow", "seed": 7, "steps": steps}},
        {"id": "gen", "type": "Generate", "params": {"previews": True}},
    ]
    links = [{"from": "model.model", "to": "gen.model"}, {"from": "cond.conditioning", "to": "gen.conditioning"}]
    if image:
        nodes.append({"id": "img", "type": "LoadImage", "params": {"path": image}})
        links.append({"from": "img.image", "to": "cond.keyframes"})
    return json.dumps({"format_version": 1, "nodes": nodes, "links": links,
                       "settings": {"width": width, "height": height, "fps": "8", "frame_count": frames}})


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
    return (f"profile: {100 * (whole - inside) / whole:.1f}% of the job outside {pipe_call}, "
            f"{100 * callback / whole:.1f}% in the step callback (progress + previews)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--size", type=int, default=192, help="width and height in pixels")
    ap.add_argument("--frames", type=int, default=17, help="frame count (SVD uses its model's 14)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: random small models on a shared CPU vary less; 0: torch's default)")
    ap.add_argument("--profile", action="store_true", help="profile VidStudio jobs with pyinstrument")
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
    print(f"backend overhead: {a.size}x{a.size}, {a.frames} frames, {a.steps} steps, previews on, median of "
          f"{a.repeat}, torch threads {torch.get_num_threads()}")
    print(f"  {'family':<12} {'pipeline':<30} {'direct s':>9} {'vidstudio s':>12} {'ratio':>7} {'preview ms':>11}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as d:
        img = Path(d) / "still.png"
        y, x = np.mgrid[0:a.size, 0:a.size] / a.size
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
                Engine(registry).run(proj, proj.settings, targets=["gen"],
                                     services={"pipeline_cache": cache, "on_step": lambda *s: None})
                return time.perf_counter() - t0

            gen_mod.generate = capturing
            try:
                vidstudio_job()  # load + warm-up, and capture the exact call
            finally:
                gen_mod.generate = original
            plan, kwargs = captured["plan"], captured["kwargs"]
            seed = 7

            def direct() -> float:
                kw = {k: v for k, v in kwargs.items() if k not in ("callback_on_step_end", "callback_on_step_end_tensor_inputs")}
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
            print(f"  {family:<12} {plan.pipeline_name:<30} {dm:9.3f} {vm:12.3f} {ratio:7.3f} "
                  f"{1000 * statistics.median(pt):11.3f}")
            if a.profile:
                print("    " + profile_shares(vidstudio_job, type(plan.pipe).__call__.__qualname__))
    print(f"  worst ratio vidstudio/direct: {worst:.3f} (target <= 1.05) {'OK' if worst <= 1.05 else 'ABOVE TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
