"""``vidstudio serve --ray``: the same API in front of a pool of Ray actors. One local Ray instance per module
(started here, 4 logical CPUs, no dashboard), real servers connected to it with CPU actors, the ``slowtest``
plugin's step-by-step node and the tiny LTX model. Without ``--ray`` the server never imports Ray."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from helpers import ROOT
from server.server_helpers import expected_frames, steps_project, wait_for, wait_running_step
from vidstudio.media.video import read_video

try:
    import ray
except ImportError:  # the optional extra is not installed
    ray = None

needs_ray = pytest.mark.skipif(ray is None, reason="Ray is not installed (pip install 'vidstudio[ray]', or [dev])")
pytestmark = pytest.mark.ray
CPU_ACTORS = ("--ray-gpus", "0", "--ray-cpus", "1")


@pytest.fixture(scope="module")
def cluster():
    """The address of a local Ray instance shared by the module's servers."""
    if ray is None:
        pytest.skip("Ray is not installed")
    for attempt in (1, 2):  # Ray gives its raylet 30 s to start, which a machine loaded by other tests can exceed
        try:
            ray.init(num_cpus=4, include_dashboard=False, namespace="vidstudio", log_to_driver=False)
            break
        except Exception as e:
            ray.shutdown()
            if attempt == 2 or "timed out during startup" not in str(e):
                raise
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def server(cluster, start_server, models_dir):
    return start_server(models=models_dir, extra=("--ray", cluster, "--ray-actors", "2", *CPU_ACTORS))


@pytest.fixture(scope="module")
def client(server):
    with server.client() as c:
        yield c


def _idle(client, n: int = 2):
    return wait_for(lambda: (p := client.health().pool) is not None and p.idle == n and p, 90, what=f"{n} idle actors")


def _actor_of(client, job_id: str):
    (a,) = [a for a in client.health().pool.actors if a.current_job == job_id]
    return a


@needs_ray
@pytest.mark.slow
def test_jobs_run_in_parallel_on_two_actors_with_progress_and_results(client, tmp_path):
    pool = _idle(client)
    assert (pool.kind, pool.size, pool.busy, pool.pending, pool.resources.get("CPU")) == ("ray", 2, 0, 0, 4.0)
    assert client.health().worker.state == "ready"
    stream = client.events()
    assert stream.next(10).type == "hello"
    hues = (0.2, 0.8, 0.5)
    jobs = [client.submit_project(steps_project(steps=8, seconds_per_step=0.1, hue=h), "export") for h in hues]
    wait_for(lambda: client.health().running == 2, 30, what="two jobs running at once")
    assert client.job(jobs[2].id).status == "queued"  # waits in the server's queue, not in Ray's
    assert {a.current_job for a in client.health().pool.actors} == {jobs[0].id, jobs[1].id}
    ids, finished, steps, previews = {j.id for j in jobs}, set(), {}, {}
    with stream:
        while finished != ids:
            ev = stream.next(60)
            assert ev is not None, "no event for 60 s"
            if ev.type == "job" and ev.job.id in ids and ev.job.finished:
                finished.add(ev.job.id)
            elif ev.type == "progress" and ev.progress.step is not None:
                steps.setdefault(ev.id, set()).add(ev.progress.step)
            elif ev.type == "preview":
                previews.setdefault(ev.id, []).append(ev.step)
    done = [client.job(j.id) for j in jobs]
    assert [d.status for d in done] == ["succeeded"] * 3, [d.error for d in done]
    assert done[0].started_at < done[1].finished_at and done[1].started_at < done[0].finished_at  # overlapped
    assert done[2].started_at >= min(done[0].finished_at, done[1].finished_at) - 0.05
    for d, hue in zip(done, hues):
        assert steps[d.id] == set(range(1, 9)) and previews[d.id][-1] == 8
        frames = read_video(client.download(d.id, tmp_path / f"{d.id}.mp4"))
        assert np.abs(frames - expected_frames(6, 24, 32, hue)).max() < 0.03
    assert sum(a.jobs_run for a in client.health().pool.actors) >= 3
    assert all(a.jobs_run >= 1 for a in client.health().pool.actors)


@needs_ray
@pytest.mark.slow
def test_the_second_job_of_a_model_goes_to_the_actor_that_has_it_loaded(client):
    for prompt in ("a red fox", "a blue fox"):
        _idle(client)  # both actors are free: only model affinity keeps the job on the same one
        job = client.wait(
            client.submit(prompt=prompt, duration_seconds=0.5, fps=8, width=64, height=64, steps=2).id, timeout=180
        )
        assert job.status == "succeeded", job.error
    pool = client.health().pool
    assert pool.models_loaded == ["tiny-ltx"]
    assert [(a.loaded_model, a.pipeline_loads) for a in pool.actors if a.pipeline_loads] == [("tiny-ltx", 1)]
    assert client.health().worker.pipeline_loads == 1


@needs_ray
@pytest.mark.slow
def test_cancel_reaches_the_running_actor_within_a_step(client):
    _idle(client)
    job = client.submit_project(steps_project(steps=5000, seconds_per_step=0.05), "export")
    wait_running_step(client, job.id)
    actor = _actor_of(client, job.id)
    t = time.monotonic()
    client.cancel(job.id)
    done = client.wait(job.id, timeout=30)
    assert (done.status, done.error) == ("cancelled", "cancelled")
    assert time.monotonic() - t < 5
    again = {a.name: a for a in _idle(client).actors}[actor.name]  # the same actor, not a replacement
    assert again.restarts == actor.restarts and again.state == "ready"


@needs_ray
@pytest.mark.slow
def test_a_killed_actor_fails_its_job_in_words_and_is_replaced(client):
    _idle(client)
    job = client.submit_project(steps_project(steps=5000, seconds_per_step=0.05), "export")
    wait_running_step(client, job.id)
    victim = _actor_of(client, job.id)
    ray.kill(ray.get_actor(victim.name, namespace="vidstudio"))
    done = client.wait(job.id, timeout=60)
    assert done.status == "failed"
    assert done.error == f"the Ray actor {victim.name} was killed (ray.kill) while running this job"
    pool = _idle(client)
    (slot,) = [a for a in pool.actors if a.last_exit]
    assert slot.name != victim.name and slot.restarts == victim.restarts + 1
    assert slot.last_exit == f"the Ray actor {victim.name} was killed (ray.kill)"
    nxt = client.wait(client.submit_project(steps_project(steps=2), "export").id, timeout=60)
    assert nxt.status == "succeeded", nxt.error


@needs_ray
@pytest.mark.slow
def test_retry_after_a_death_and_a_restarted_server_reattaches(cluster, start_server, tmp_path):
    data = tmp_path / "data"
    args = ("--ray", cluster, "--ray-actors", "1", "--ray-retries", "1", *CPU_ACTORS)
    s1 = start_server(data, extra=args)
    with s1.client() as c:
        _idle(c, 1)
        job = c.submit_project(steps_project(steps=30, seconds_per_step=0.05), "export")
        wait_running_step(c, job.id)
        victim = _actor_of(c, job.id)
        ray.kill(ray.get_actor(victim.name, namespace="vidstudio"))
        done = c.wait(job.id, timeout=90)
        assert done.status == "succeeded", done.error
        assert done.notes[0] == f"attempt 1 ended: the Ray actor {victim.name} was killed (ray.kill); run again"
        running = c.submit_project(steps_project(steps=5000, seconds_per_step=0.05), "export")
        queued = c.submit_project(steps_project(steps=1, hue=0.25), "export")
        wait_running_step(c, running.id)
    assert s1.stop() == 0  # a graceful stop, though Ray's core is in the process
    s2 = start_server(data, extra=args)
    with s2.client() as c:
        assert (c.job(running.id).status, c.job(running.id).error) == ("failed", "server restarted")
        again = c.wait(queued.id, timeout=90)
        assert again.status == "succeeded", again.error
        assert c.job(done.id).status == "succeeded"


@needs_ray
@pytest.mark.slow
def test_a_cluster_without_a_free_gpu_queues_the_jobs(cluster, start_server):
    s = start_server(extra=("--ray", cluster, "--ray-actors", "1", "--ray-gpus", "1"))
    with s.client() as c:
        job = c.submit_project(steps_project(steps=1), "export")
        pool = wait_for(lambda: (p := c.health().pool).actors[0].detail and p, 30, what="the pool to say why")
        assert (pool.pending, pool.idle, pool.resources.get("GPU", 0.0)) == (1, 0, 0.0)
        assert pool.actors[0].detail == "waiting for room on the cluster: 1 GPU (0 of 0 free)"
        time.sleep(1.0)
        j = c.job(job.id)
        assert (j.status, j.queue_position) == ("queued", 1)
        assert c.cancel(job.id).status == "cancelled"


def test_without_ray_the_server_never_imports_it(tmp_path):
    code = textwrap.dedent(f"""
        import json, sys
        from fastapi.testclient import TestClient
        from vidstudio.server.app import ServerConfig, create_app

        app = create_app(ServerConfig(data_dir={str(tmp_path / "data")!r}, scan_hf_cache=False))
        with TestClient(app) as client:
            health = client.get("/v1/health").json()
        print(json.dumps({{"pool": health["pool"], "loaded": sorted(m for m in sys.modules if m == "ray"
                          or m.startswith(("ray.", "vidstudio.jobs.ray_pool")))}}))
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"pool": None, "loaded": []}


# ---------------------------------------------------------------------------------------------- units (no Ray)
_SIGKILLED = (
    "The actor died unexpectedly before finishing this task.\n\tclass_name: JobActor\n\tpid: 8432\n"
    "The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR Worker exit "
    "detail: Worker unexpectedly exits with a connection error code 2. End of file. Some common causes "
    "include: (1) the process was killed by the OOM killer due to high memory usage, ..."
)


@pytest.mark.parametrize(
    "kind, text, what",
    [
        (
            "ActorDiedError",
            "The actor died unexpectedly before finishing this task.\n\tname: a\n"
            "The actor is dead because it was killed by `ray.kill`.",
            "was killed (ray.kill)",
        ),
        (
            "ActorDiedError",
            "The actor died unexpectedly...\nThe actor died because its node has died. Node Id: 12ab",
            "was lost with its node (the node died or stopped answering Ray's health checks)",
        ),
        (
            "OutOfMemoryError",
            "Task was killed due to the node running low on memory.",
            "ran out of memory (Ray's memory monitor killed it: the node was running low on memory)",
        ),
        (
            "ActorDiedError",
            _SIGKILLED,
            "lost its process (killed with SIGKILL, for example by the system's out-of-memory killer, or crashed)",
        ),
        ("GetTimeoutError", "Get timed out: some object(s) not ready.", "stopped answering for 60 s"),
    ],
)
def test_an_actors_death_is_said_in_words(kind, text, what):
    from vidstudio.jobs.ray_pool import describe_death

    error = type(kind, (Exception,), {})(text)
    assert describe_death("vidstudio-1-0-0", error) == f"the Ray actor vidstudio-1-0-0 {what}"


def test_placement_prefers_the_loaded_pipeline_then_the_least_recently_used():
    from vidstudio.jobs.executor import PoolJobManager, Slot, model_key

    def project(model: str, **extra) -> str:
        return json.dumps(
            {
                "nodes": [
                    {"id": "m", "type": "LoadModel", "params": {"model": model, **extra}},
                    {"id": "g", "type": "Generate", "params": {"steps": 4}},
                ]
            }
        )

    ltx, wan = model_key(project("/m/ltx")), model_key(project("/m/wan"))
    assert ltx == model_key(project("/m/ltx", preview_decoder="taew"))  # extras do not change the pipeline
    assert ltx != model_key(project("/m/ltx", dtype="float16")) and ltx != wan
    assert model_key(json.dumps({"nodes": [{"id": "s", "type": "slowtest.Steps"}]})) is None
    assert model_key("not json") is None
    a, b, c = Slot(0, key=ltx, last_used=5), Slot(1, key=wan, last_used=2), Slot(2, last_used=3)
    place = PoolJobManager.place
    assert place(ltx, [a, b, c]) is a  # has it loaded, though the most recently used
    assert place(wan, [a, b, c]) is b
    assert place(model_key(project("/m/svd")), [a, b, c]) is b  # nobody has it: the least recently used
    assert place(None, [a, c]) is c


@needs_ray
def test_an_address_nobody_answers_at_is_refused_at_once(tmp_path):
    t = time.monotonic()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidstudio.cli",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            "--no-hf-cache",
            "--ray",
            "127.0.0.1:1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 2
    assert "--ray 127.0.0.1:1: nothing answers there" in out.stderr and "ray start --head" in out.stderr
    assert time.monotonic() - t < 30


class _FakePool:
    """A :class:`vidstudio.jobs.executor.Pool` driven by the test: it records what the manager asks."""

    address, size = "fake", 2

    def start(self, on_pending, on_ready, on_message, on_exit):
        self.on_pending, self.on_ready, self.on_message, self.on_exit = on_pending, on_ready, on_message, on_exit
        self.runs, self.cancels = [], []

    def run(self, slot, msg):
        self.runs.append((slot, msg["job"]))
        return True

    def cancel(self, slot, job_id, reason):
        self.cancels.append((slot, job_id))

    def kill(self, slot):
        pass

    def stop(self):
        pass

    def resources(self):
        return {"CPU": 2.0}


def test_the_pool_manager_retries_a_job_whose_worker_died_then_fails_it_in_words(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from vidstudio.jobs.executor import PoolJobManager
    from vidstudio.jobs.store import JobStore, new_job_id

    def spec(model=None):
        nodes = [{"id": "m", "type": "LoadModel", "params": {"model": model}}] if model else []
        return SimpleNamespace(
            id=new_job_id(),
            kind="project",
            output_node="export",
            embed=None,
            assets=[],
            project=json.dumps({"nodes": nodes}),
            model=None,
            adjustments=[],
        )

    async def main():
        store = JobStore(tmp_path).open()
        pool = _FakePool()
        m = PoolJobManager(store, pool, retries=1)
        await m.start()

        async def settle():
            await asyncio.sleep(0.01)

        job = m.submit(spec())
        assert m.to_job(store.get(job.id)).queue_position == 1  # no worker yet: it waits in the server's queue
        pool.on_ready(0, "w0", {"pid": 1})
        pool.on_ready(1, "w1", {"pid": 2})
        await settle()
        ((slot, jid),) = pool.runs
        assert jid == job.id and m.pool_info().busy == 1 and m.counts() == (0, 1)
        pool.on_exit(slot, "the Ray actor w0 was killed (ray.kill)", False)
        await settle()  # back at the head of the queue, and at once on the other worker
        assert pool.runs[1] == (1 - slot, job.id) and store.get(job.id).status == "running"
        pool.on_exit(1 - slot, "the Ray actor w1 was killed (ray.kill)", False)
        await settle()
        row = store.get(job.id)
        assert (row.status, row.error) == (
            "failed",
            "the Ray actor w1 was killed (ray.kill) while running this "
            "job (attempt 2 of 2; earlier ones ended the same way)",
        )
        assert row.notes == ["attempt 1 ended: the Ray actor w0 was killed (ray.kill); run again"]
        info = m.pool_info()
        assert (info.idle, info.busy, [a.state for a in info.actors]) == (0, 0, ["died", "died"])
        assert m.worker.state == "died" and m.worker.last_exit == "the Ray actor w1 was killed (ray.kill)"
        pool.on_pending(0, "w2", "waiting for room on the cluster: 1 GPU (0 of 1 free)")
        await settle()
        assert m.pool_info().actors[0].restarts == 1 and m.pool_info().pending == 1
        await m.stop()
        store.close()

    asyncio.run(main())
