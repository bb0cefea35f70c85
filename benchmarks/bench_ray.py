"""Throughput and dispatch overhead of ``vidstudio serve --ray`` (a pool of Ray actors) against the single-worker
server, on tiny jobs, on this machine.

A local Ray instance is started in this process (4 logical CPUs, no dashboard); three real servers run the same
jobs one after the other: the single-worker server (no ``--ray``: the baseline), then ``--ray`` with 1 and with 2
CPU actors. A job is the test plugin's ``slowtest.Steps`` node (``tests/server/server_helpers.py``) exported to a
tiny MP4: ``--steps`` steps that each wait ``--seconds-per-step`` (a wait, like a GPU step: it costs no CPU, so
that two actors on a 2-core machine measure the pool, not the CPU).

* **throughput**: ``--jobs`` jobs submitted at once, from the first submit to the last finished job (client
  clock); jobs per minute, and the ratio to the single-worker server. Two actors should come close to 2x when the
  steps dominate; what is missing is the per-job overhead below.
* **dispatch**: jobs of one step that waits 0 s, one at a time: from just before the submit to the worker's
  clock at that step (the step's progress event), and to the finished job's event in the client
  (**round trip**); median and p95 in ms, and the pool's cost over the single worker per job.

* **store**: the SQLite work the server does per job (insert, updates, reads), timed alone: how many jobs per
  hour one store could record.

Each server is warmed up first (one job per worker, so that every worker has imported everything). The
single-worker server runs again at the end: the difference between its two runs is the noise of the machine.

Run: ``python benchmarks/bench_ray.py [--jobs 12] [--steps 4] [--seconds-per-step 0.1] [--dispatch-jobs 15]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def stats(values: list[float]) -> tuple[float, float]:
    """(median, p95) in ms of values in seconds."""
    v = sorted(x * 1000 for x in values)
    return statistics.median(v), v[min(len(v) - 1, round(0.95 * (len(v) - 1)))]


def run_batch(client, stream, projects: list[dict]) -> float:
    """Submits every project at once; seconds until the last one finished (raises when one did not succeed)."""
    t0 = time.time()
    ids = {client.submit_project(p, "export").id for p in projects}
    done: set[str] = set()
    while done != ids:
        ev = stream.next(120)
        if ev is None:
            raise SystemExit("no event for 120 s")
        if ev.type == "job" and ev.job.id in ids and ev.job.finished:
            if ev.job.status != "succeeded":
                raise SystemExit(f"job {ev.job.id} {ev.job.status}: {ev.job.error}")
            done.add(ev.job.id)
    return time.time() - t0


def run_dispatch(client, stream, n: int) -> tuple[list[float], list[float]]:
    """``n`` one-step jobs one at a time (each a new project: the worker's engine would reuse an equal one's
    output): (submit -> the worker's step, submit -> finished in the client)."""
    from server.server_helpers import steps_project

    first, whole = [], []
    for i in range(n):
        project = steps_project(1, 0.0, hue=(i + 1) / (n + 1))
        t0 = time.time()
        job = client.submit_project(project, "export")
        step = None
        while True:
            ev = stream.next(60)
            if ev is None:
                raise SystemExit("no event for 60 s")
            if (
                ev.type == "progress"
                and ev.id == job.id
                and ev.progress.step is not None
                and ev.worker_time
                and step is None
            ):
                step = ev.worker_time - t0
            elif ev.type == "job" and ev.job.id == job.id and ev.job.finished:
                if ev.job.status != "succeeded":
                    raise SystemExit(f"job {job.id} {ev.job.status}: {ev.job.error}")
                whole.append(time.time() - t0)
                break
        if step is not None:
            first.append(step)
    return first, whole


def store_cost(n: int = 300) -> float:
    """Seconds of SQLite work per job in the server's store: an insert and the updates a job gets (running,
    cancel flag, finished), plus the reads the manager does meanwhile (its real sequence, minus the worker)."""
    from server.server_helpers import steps_project

    from vidstudio.jobs.store import JobStore, new_job_id

    spec = {"project": json.dumps(steps_project()), "embed": None, "assets": []}
    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(Path(tmp)).open()
        t0 = time.perf_counter()
        for _ in range(n):
            jid = new_job_id()
            store.insert(jid, "project", "export", spec)
            store.get(jid)
            store.update(jid, status="running", started_at=time.time())
            store.get(jid)
            for _ in range(8):  # progress events read the row for its ETA
                store.get(jid)
            store.update(
                jid,
                status="succeeded",
                finished_at=time.time(),
                error=None,
                notes=[],
                output={"width": 32},
                progress={"overall": 1.0},
            )
            store.get(jid)
        seconds = (time.perf_counter() - t0) / n
        store.close()
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=12, help="jobs per throughput batch")
    ap.add_argument("--steps", type=int, default=4, help="steps per throughput job")
    ap.add_argument("--seconds-per-step", type=float, default=0.1, help="wait of each step (seconds)")
    ap.add_argument("--dispatch-jobs", type=int, default=15, help="one-step jobs for the dispatch overhead")
    a = ap.parse_args()

    import ray
    from server.server_helpers import server_env, steps_project, wait_for, write_plugin

    from vidstudio.client import LocalServer

    ray.init(num_cpus=4, include_dashboard=False, namespace="vidstudio", log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    setups = [
        ("single worker (no --ray)", []),
        ("--ray, 1 CPU actor", ["--ray", address, "--ray-actors", "1", "--ray-gpus", "0"]),
        ("--ray, 2 CPU actors", ["--ray", address, "--ray-actors", "2", "--ray-gpus", "0"]),
        ("single worker, again", []),
    ]  # the spread of the two single-worker runs: this machine's noise
    work = [steps_project(a.steps, a.seconds_per_step, hue=i / max(1, a.jobs - 1)) for i in range(a.jobs)]
    ideal = a.steps * a.seconds_per_step
    print(
        f"ray {ray.__version__}; {a.jobs} jobs of {a.steps} steps x {a.seconds_per_step:g} s "
        f"({ideal:g} s of steps each); dispatch: {a.dispatch_jobs} one-step jobs"
    )
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            write_plugin(tmp / "plugins")
            for i, (label, extra) in enumerate(setups):
                base = tmp / f"s{i}"
                with (
                    LocalServer(
                        base / "data", env=server_env(base, tmp / "plugins"), extra_args=["--no-hf-cache", *extra]
                    ) as srv,
                    srv.client() as client,
                    client.events() as stream,
                ):
                    wait_for(lambda: client.health().worker.state == "ready", 120, what="the server to be ready")
                    pool = client.health().pool
                    size = pool.size if pool is not None else 1
                    if pool is not None:
                        wait_for(lambda n=size: client.health().pool.idle == n, 120, what="every actor")
                    warm = [steps_project(1, 0.0, hue=0.01 * k) for k in range(size)]
                    run_batch(client, stream, warm)  # every worker imports what a job needs
                    seconds = run_batch(client, stream, work)
                    first, whole = run_dispatch(client, stream, a.dispatch_jobs)
                results.append((label, seconds, first, whole))
    finally:
        ray.shutdown()

    base_rate = a.jobs / results[0][1]
    print(f"\n{'throughput':28}{'seconds':>9}{'jobs/min':>10}{'ratio':>7}{'of ideal':>10}")
    for label, seconds, _, _ in results:
        actors = 2 if "2 CPU" in label else 1
        rate = a.jobs / seconds
        ideal_s = ideal * a.jobs / actors
        print(f"{label:28}{seconds:9.2f}{rate * 60:10.1f}{rate / base_rate:7.2f}{ideal_s / seconds:9.0%}")
    bw = results[0][3]
    print(f"\n{'dispatch (ms)':28}{'to step':>9}{'p95':>7}{'round trip':>12}{'p95':>7}{'cost/job':>10}")
    for label, _, first, whole in results:
        (fm, fp), (wm, wp) = stats(first), stats(whole)
        extra = wm - stats(bw)[0]
        print(f"{label:28}{fm:9.1f}{fp:7.1f}{wm:12.1f}{wp:7.1f}{extra:+10.1f}")
    per_job = store_cost()
    print(
        f"\nstore: {per_job * 1000:.2f} ms of SQLite work per job (insert, 2 updates, 11 reads): at most "
        f"{3600 / per_job:,.0f} jobs per hour through one store"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
