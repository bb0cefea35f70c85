"""Generation server latency on loopback: dispatch (submit -> the worker's first denoising step) and events (a
step ends in the worker -> its WebSocket message is in the client).

A real ``vidstudio serve`` (token, one worker) renders a tiny random LTX-Video model (``vidstudio dev
tiny-model``, saved and loaded like a user's model) through the client, with step previews on. The worker is
warmed up first (diffusers imported, the pipeline loaded and kept), so the numbers are the server's own cost.

* **dispatch**: from just before ``POST /v1/videos/generations`` to the worker's clock at the end of the first
  denoising step (the ``worker_time`` of the step's progress event). Baseline, in this process: the same
  project through a warm :class:`vidstudio.graph.Engine` (the worker's code path without the server), from
  ``Engine.run`` to the end of its first step. The difference is what submitting through the server costs.
* **events**: ``worker_time`` of every step's progress event to the moment the client has parsed it. Baseline:
  a bare ``websockets`` server in this process sending the same messages to a client on loopback.

Printed: median and p95 in ms of each, the ratios to the baselines, and whether the medians meet the target
(<= 50 ms for both).

Run: ``python benchmarks/bench_server.py [--jobs 12] [--steps 8] [--size 64]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MS = 50.0


def project_doc(model: str, size: int, steps: int, seed: int) -> dict:
    return {
        "format_version": 1,
        "settings": {"width": size, "height": size, "fps": "8", "frame_count": 9},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"model": model}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a red fox", "seed": seed, "steps": steps}},
            {"id": "gen", "type": "Generate", "params": {"previews": True}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "out.mp4"}},
        ],
        "links": [
            {"from": "model.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
            {"from": "gen.video", "to": "export.video"},
        ],
    }


def stats(values: list[float]) -> tuple[float, float]:
    """(median, p95) in ms of values in seconds."""
    v = sorted(x * 1000 for x in values)
    return statistics.median(v), v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]


def baseline_dispatch(model_dir: Path, size: int, steps: int, jobs: int) -> list[float]:
    from vidstudio.graph.engine import Engine
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    engine = Engine(default_registry())
    out: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(jobs + 1):
            p = loads_project(json.dumps(project_doc(str(model_dir), size, steps, 1000 + i)))
            first: list[float] = []
            t0 = time.time()
            engine.run(
                p,
                p.settings,
                targets=["gen"],
                project_dir=Path(tmp),
                services={"on_step": lambda *a: first.append(time.time()) if not first else None},
            )
            if i:  # the first run loads torch and the pipeline
                out.append(first[0] - t0)
    return out


def baseline_events(n: int, size: int) -> list[float]:
    from websockets.sync.client import connect
    from websockets.sync.server import serve

    payload = "x" * size
    lat: list[float] = []

    def handler(ws):
        for i in range(n):
            ws.send(json.dumps({"type": "progress", "i": i, "worker_time": time.time(), "pad": payload}))
            time.sleep(0.002)

    with serve(handler, "127.0.0.1", 0) as server:
        port = server.socket.getsockname()[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with connect(f"ws://127.0.0.1:{port}", proxy=None) as ws:
            for _ in range(n):
                msg = json.loads(ws.recv(timeout=10))
                lat.append(time.time() - msg["worker_time"])
        server.shutdown()
    return lat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=12, help="timed jobs (after one warm-up job)")
    ap.add_argument("--steps", type=int, default=8, help="denoising steps per job")
    ap.add_argument("--size", type=int, default=64, help="frame width and height in pixels")
    a = ap.parse_args()

    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from vidstudio.backend.tiny import write_tiny_model
    from vidstudio.client import LocalServer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = write_tiny_model("ltx", tmp / "models" / "tiny-ltx")
        env = {
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "VIDSTUDIO_PLUGINS_DIR": str(tmp / "plugins"),
            "HF_HUB_CACHE": str(tmp / "hf"),
        }
        print(f"server: tiny ltx {a.size}x{a.size}, 9 frames, {a.steps} steps, previews on; {a.jobs} jobs")
        dispatch: list[float] = []
        events: list[float] = []
        sizes: list[int] = []
        with (
            LocalServer(tmp / "data", env=env, models_dirs=[tmp / "models"], extra_args=["--no-hf-cache"]) as srv,
            srv.client() as client,
            client.events() as stream,
        ):
            for i in range(a.jobs + 1):
                t0 = time.time()
                job = client.submit_project(project_doc("tiny-ltx", a.size, a.steps, i), "export")
                first = None
                while True:
                    ev = stream.next(120)
                    now = time.time()
                    if ev is None:
                        raise SystemExit("no event for 120 s")
                    if (
                        ev.type == "progress"
                        and ev.id == job.id
                        and ev.progress.step is not None
                        and ev.progress.message.startswith("step")
                        and ev.worker_time
                    ):
                        if first is None:
                            first = ev.worker_time - t0
                        if i:
                            events.append(now - ev.worker_time)
                    elif ev.type == "preview" and ev.id == job.id and i:
                        sizes.append(len(ev.image))
                    elif ev.type == "job" and ev.job.id == job.id and ev.job.finished:
                        if ev.job.status != "succeeded":
                            raise SystemExit(f"job {job.id} {ev.job.status}: {ev.job.error}")
                        break
                if i and first is not None:
                    dispatch.append(first)
        base_d = baseline_dispatch(model, a.size, a.steps, a.jobs)
        base_e = baseline_events(len(events), int(statistics.median(sizes)) if sizes else 200)

    (dm, dp), (bdm, bdp) = stats(dispatch), stats(base_d)
    (em, ep), (bem, bep) = stats(events), stats(base_e)
    print(f"{'':28}{'median ms':>10}{'p95 ms':>10}")
    print(f"{'dispatch via the server':28}{dm:10.1f}{dp:10.1f}")
    print(
        f"{'  baseline: engine in-process':28}{bdm:10.1f}{bdp:10.1f}   ratio {dm / bdm:.2f}, "
        f"server cost {dm - bdm:+.1f} ms"
    )
    print(f"{'events worker -> client':28}{em:10.1f}{ep:10.1f}")
    print(f"{'  baseline: bare WebSocket':28}{bem:10.1f}{bep:10.1f}   ratio {em / bem:.2f}")
    ok_d, ok_e = dm <= TARGET_MS, em <= TARGET_MS
    print(
        f"target median <= {TARGET_MS:.0f} ms: dispatch {'met' if ok_d else 'MISSED'}, events "
        f"{'met' if ok_e else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
