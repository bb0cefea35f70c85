"""Running the server's jobs on a pool of workers (Ray actors) instead of its one local worker process.

The server keeps its own queue, store, auth and API either way. :class:`vidstudio.jobs.manager.JobManager`
dispatches to the local :class:`vidstudio.jobs.supervisor.WorkerSupervisor` (the default; Ray is never
imported). :class:`PoolJobManager` dispatches to a :class:`Pool` of slots, each one worker that keeps its loaded
pipeline between jobs (:class:`vidstudio.jobs.ray_pool.RayPool`: one Ray actor per slot). The worker side is the
same code either way (:class:`vidstudio.jobs.worker.Worker`): same messages, same progress, previews and results.

Placement (:meth:`PoolJobManager.place`): the job at the head of the queue goes to an idle slot whose worker
already has the job's pipeline loaded (:func:`model_key`: the Load Model node's parameters that pick the
pipeline), else to the least recently used idle slot. Jobs wait in the server's queue, never in the pool's, so
queue order and cancelling a queued job work as with one worker; a running job is cancelled through its worker's
cancel token, which the denoising loop checks between steps.

Faults: a worker that dies while running a job (killed, out of memory, its node lost) fails the job with the
reason in words, or, with ``retries`` > 0, puts it back at the head of the queue that many times (each attempt
is noted on the job); the pool starts a replacement. A slot whose worker cannot be placed (no GPU free) stays
``pending`` and jobs wait in the queue.

Nothing here imports Ray.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from vidstudio.jobs.manager import JobManager, _Live
from vidstudio.jobs.store import JobStore
from vidstudio.protocol.models import ActorInfo, PoolInfo, WorkerInfo

#: Load Model parameters that do not choose the pipeline kept loaded (each job adds them on top; see
#: :meth:`vidstudio.backend.loader.PipelineCache.key`).
NOT_IN_KEY = ("sparsectrl", "ip_adapter", "preview_decoder")


def make_manager(
    store: JobStore,
    *,
    worker_env: dict[str, str] | None = None,
    cancel_grace: float = 30.0,
    version: str = "",
    model_name: Any = None,
    ray: Any = None,
    plugin_state: Any = None,
) -> JobManager:
    """The server's job manager: with ``ray`` None, a :class:`JobManager` over the local worker process (Ray is
    not imported); with ``ray`` (:class:`vidstudio.jobs.ray_pool.RayOptions`), a :class:`PoolJobManager` over a
    pool of Ray actors, which get ``worker_env`` too. ``plugin_state`` (``<data_dir>/plugins.json``): where the
    local worker's supervisor disables a plugin that crashed it (the pool's actors only report such a crash)."""
    if ray is None:
        return JobManager(
            store,
            worker_env=worker_env,
            cancel_grace=cancel_grace,
            version=version,
            model_name=model_name,
            plugin_state=plugin_state,
        )
    from vidstudio.jobs.ray_pool import RayPool

    # Like the local worker's: an actor's crash markers are reported on its job, never a reason to disable a plugin.
    role = {"VIDSTUDIO_PLUGIN_ROLE": "worker"}
    pool = RayPool(replace(ray, env={**(worker_env or {}), **ray.env, **role}))
    return PoolJobManager(
        store, pool, retries=ray.retries, cancel_grace=cancel_grace, version=version, model_name=model_name
    )


def model_key(project_json: Any) -> str | None:
    """What identifies the pipeline a job loads, from its project (JSON text or dict): the parameters of its last
    Load Model node (the pipeline cache keeps the last one), without those in :data:`NOT_IN_KEY`, as canonical
    JSON. Two jobs with equal keys reuse one loaded pipeline. None: the job loads no model, or the project cannot
    be read (the worker reports that)."""
    try:
        doc = json.loads(project_json) if isinstance(project_json, (str, bytes)) else project_json
        nodes = doc.get("nodes") or []
    except (ValueError, AttributeError, TypeError):
        return None
    key = None
    for n in nodes:
        if isinstance(n, dict) and n.get("type") == "LoadModel":
            params = {k: v for k, v in (n.get("params") or {}).items() if k not in NOT_IN_KEY}
            key = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return key


@dataclass
class Slot:
    """The server's record of one worker of the pool (kept in the server's event loop).

    Attributes:
        index: its position in the pool; name: the current worker's name (a replacement gets a new one).
        state: ``pending``, ``ready``, ``busy``, ``died`` or ``stopped`` (see :class:`ActorInfo`).
        job: the job it runs; key: :func:`model_key` of the pipeline it has loaded; last_used: when it last got a
            job (a counter: larger is more recent, 0 never).
    """

    index: int
    name: str = ""
    state: str = "pending"
    detail: str | None = None
    pid: int | None = None
    node: str | None = None
    device: str | None = None
    job: str | None = None
    key: str | None = None
    loaded_model: str | None = None
    loads: int = 0
    jobs_run: int = 0
    restarts: int = 0
    last_exit: str | None = None
    last_used: int = 0

    def info(self) -> ActorInfo:
        """The API record of this slot."""
        return ActorInfo(
            name=self.name or f"slot {self.index}",
            state=self.state,  # type: ignore[arg-type]
            detail=self.detail,
            pid=self.pid,
            node=self.node,
            device=self.device,
            current_job=self.job,
            loaded_model=self.loaded_model,
            pipeline_loads=self.loads,
            jobs_run=self.jobs_run,
            restarts=self.restarts,
            last_exit=self.last_exit,
        )


class Pool(Protocol):
    """A pool of workers, each running :class:`vidstudio.jobs.worker.Worker`'s job code (Ray: one actor each).

    Callbacks given to :meth:`start` are called from the pool's threads, in order per slot:
    ``on_pending(slot, name, detail)`` (a worker was asked for; ``detail``: what it waits for, or None),
    ``on_ready(slot, name, info)`` (``info``: ``pid``, ``node``, ``nodes``: the node types document),
    ``on_message(slot, header, payload)`` (the worker's messages, as in :mod:`vidstudio.jobs.worker`) and
    ``on_exit(slot, reason, expected)`` (the worker ended; ``expected`` when :meth:`stop` ended it).
    """

    address: str | None
    size: int

    def start(self, on_pending: Callable, on_ready: Callable, on_message: Callable, on_exit: Callable) -> None:
        """Connects and asks for the workers (blocks until connected; workers come up later)."""

    def run(self, slot: int, msg: dict[str, Any]) -> bool:
        """Starts a job (a ``run`` message) on the slot's worker; False when it has none now."""

    def cancel(self, slot: int, job_id: str, reason: str) -> None:
        """Asks the slot's worker to cancel ``job_id``."""

    def kill(self, slot: int) -> None:
        """Kills the slot's worker at once (a replacement starts)."""

    def stop(self) -> None:
        """Ends every worker and disconnects (blocks)."""

    def resources(self) -> dict[str, float]:
        """The cluster's total resources (may be cached)."""


class PoolJobManager(JobManager):
    """A :class:`JobManager` that runs up to one job per slot of ``pool`` at the same time.

    Args:
        store: the open job store.
        pool: the workers (:class:`vidstudio.jobs.ray_pool.RayPool`).
        retries: how many times a job whose worker died is put back at the head of the queue before it fails.
        cancel_grace, version, model_name: as for :class:`JobManager`.
    """

    def __init__(
        self,
        store: JobStore,
        pool: Pool,
        *,
        retries: int = 0,
        cancel_grace: float = 30.0,
        version: str = "",
        model_name: Any = None,
    ):
        super().__init__(store, cancel_grace=cancel_grace, version=version, model_name=model_name)
        self.pool = pool
        self.retries = max(0, int(retries))
        self.slots = [Slot(i) for i in range(pool.size)]
        self.runs: dict[str, int] = {}  # running job -> slot index
        self._keys: dict[str, str | None] = {}  # running job -> its model key
        self._attempts: dict[str, list[str]] = {}  # job -> why its earlier attempts ended
        self._uses = 0
        self.worker = WorkerInfo(state="starting")

    def restart_worker_when_idle(self, reason: str) -> None:
        """Nothing to restart: the pool's actors never read the server's crash-disabled plugins (a crash in an
        actor is reported on its job, and the plugin stays loaded there), so enabling one changes nothing here."""

    # ------------------------------------------------------------------------------------------ lifetime
    async def start(self) -> None:
        """Recovers the queue from the store (running jobs are failed: ``server restarted``) and connects the
        pool (raises what the pool raises when it cannot connect)."""
        self._loop = asyncio.get_running_loop()
        _, queued = self.store.recover()
        self.queue.extend(queued)
        self._durations.extend(reversed(self.store.recent_durations()))
        await asyncio.to_thread(
            self.pool.start,
            self._pending_from_thread,
            self._ready_from_thread,
            self._message_from_thread,
            self._slot_exit_from_thread,
        )
        self.slots = self.slots[: self.pool.size] + [Slot(i) for i in range(len(self.slots), self.pool.size)]

    async def stop(self) -> None:
        """Ends the workers (running jobs keep their ``running`` record: ``server restarted`` at the next start)
        and every event stream."""
        self._stopping = True
        await asyncio.to_thread(self.pool.stop)
        for s in list(self.subscribers):
            s.offer("close", None, None)

    # ------------------------------------------------------------------------------------------ pool threads
    def _pending_from_thread(self, slot: int, name: str, detail: str | None) -> None:
        self._call(self._on_pending, slot, name, detail)

    def _ready_from_thread(self, slot: int, name: str, info: dict) -> None:
        self._call(self._on_ready, slot, name, info)

    def _message_from_thread(self, slot: int, header: dict, payload: bytes) -> None:
        if header.get("ev") == "device":
            self._call(self._on_device, slot, str(header.get("device") or "") or None)
        else:
            self._from_thread(header, payload)

    def _slot_exit_from_thread(self, slot: int, reason: str, expected: bool) -> None:
        self._call(self._on_slot_exit, slot, reason, expected)

    def _slot(self, index: int) -> Slot:
        while index >= len(self.slots):
            self.slots.append(Slot(len(self.slots)))
        return self.slots[index]

    def _on_pending(self, index: int, name: str, detail: str | None) -> None:
        s = self._slot(index)
        if s.name and s.name != name:
            s.restarts += 1
        s.name, s.state, s.detail, s.pid, s.node, s.device = name, "pending", detail, None, None, None
        s.job, s.key, s.loaded_model, s.loads = None, None, None, 0
        self._summarize()

    def _on_ready(self, index: int, name: str, info: dict) -> None:
        s = self._slot(index)
        s.name, s.state, s.detail = name, "ready", None
        s.pid, s.node = info.get("pid"), info.get("node")
        if isinstance(info.get("nodes"), dict):
            self.nodes_doc = info["nodes"]
        self._summarize()
        self._kick()

    def _on_device(self, index: int, device: str | None) -> None:
        self._slot(index).device = device
        self._summarize()

    def _on_slot_exit(self, index: int, reason: str, expected: bool) -> None:
        s = self._slot(index)
        job_id = s.job
        s.state = "stopped" if expected else "died"
        s.job, s.key, s.loaded_model, s.loads, s.pid = None, None, None, 0, None
        if not expected:
            s.last_exit = reason
            print(f"vidstudio server: {reason}; starting a replacement", file=sys.stderr)
        if job_id is not None and not expected:
            self.runs.pop(job_id, None)
            self._keys.pop(job_id, None)
            self._worker_died(job_id, reason)
        self._summarize()
        self._kick()

    def _worker_died(self, job_id: str, reason: str) -> None:
        live = self.live.pop(job_id, None)
        row = self.store.get(job_id)
        if row is None or row.status != "running":
            return
        attempts = self._attempts.setdefault(job_id, [])
        if row.cancel_requested:
            status, error = "cancelled", f"cancelled ({reason} after it was asked to stop)"
        elif len(attempts) < self.retries:
            attempts.append(reason)
            self.store.update(job_id, status="queued", started_at=None, progress=None)
            self.queue.appendleft(job_id)
            print(
                f"vidstudio server: job {job_id} goes back to the head of the queue (attempt "
                f"{len(attempts) + 1} of {self.retries + 1})",
                file=sys.stderr,
            )
            row = self.store.get(job_id)
            if row is not None:
                self._publish_job(row)
            return
        else:
            status = "failed"
            error = f"{reason} while running this job"
            if self.retries:
                error += f" (attempt {len(attempts) + 1} of {self.retries + 1}; earlier ones ended the same way)"
        self._attempts.pop(job_id, None)
        self.store.update(
            job_id,
            status=status,
            error=error,
            finished_at=time.time(),
            notes=self._attempt_notes(attempts),
            progress=live.progress.model_dump() if live else None,
        )
        row = self.store.get(job_id)
        if row is not None:
            self._publish_job(row)

    @staticmethod
    def _attempt_notes(attempts: list[str]) -> list[str]:
        return [f"attempt {i + 1} ended: {r}; run again" for i, r in enumerate(attempts)]

    # ------------------------------------------------------------------------------------------ hooks
    def _is_running(self, job_id: str) -> bool:
        return job_id in self.runs

    def _send_cancel(self, job_id: str) -> None:
        slot = self.runs.get(job_id)
        if slot is not None:
            self.pool.cancel(slot, job_id, "cancelled")

    def _cancel_overdue(self, job_id: str) -> None:
        slot = self.runs.get(job_id)
        if slot is not None:
            print(
                f"vidstudio server: job {job_id} did not stop {self.cancel_grace:g} s after it was cancelled; "
                f"killing its worker {self.slots[slot].name}",
                file=sys.stderr,
            )
            self.pool.kill(slot)

    def _finish(self, job_id: str, h: dict, live: _Live) -> None:
        attempts = self._attempts.pop(job_id, [])
        if attempts:
            h = {**h, "notes": self._attempt_notes(attempts) + list(h.get("notes") or [])}
        super()._finish(job_id, h, live)

    def _release(self, job_id: str, h: dict) -> None:
        index = self.runs.pop(job_id, None)
        key = self._keys.pop(job_id, None)
        if index is None:
            return
        s = self.slots[index]
        if s.job == job_id:
            s.state, s.job = "ready", None
        s.jobs_run += 1
        pipe = h.get("pipeline") or {}
        s.loads = int(pipe.get("loads") or 0)
        if pipe.get("model"):
            s.loaded_model = self.model_name(pipe["model"])
            if key is not None:
                s.key = key
        else:
            s.loaded_model = s.key = None
        self._summarize()

    # ------------------------------------------------------------------------------------------ dispatch
    @staticmethod
    def place(key: str | None, idle: list[Slot]) -> Slot:
        """The slot for a job whose pipeline is ``key`` (:func:`model_key`), among the ``idle`` ones (not
        empty): one that has it loaded (the least recently used of those), else the least recently used."""
        same = [s for s in idle if key is not None and s.key == key]
        return min(same or idle, key=lambda s: (s.last_used, s.index))

    def _kick(self) -> None:
        while self.queue and not self._stopping:
            idle = [s for s in self.slots if s.state == "ready" and s.job is None]
            if not idle:
                break
            job_id = self.queue.popleft()
            row = self.store.get(job_id)
            if row is None or row.status != "queued":
                continue
            key = model_key(row.spec.get("project"))
            s = self.place(key, idle)
            self.store.update(job_id, status="running", started_at=time.time())
            self.live[job_id] = _Live()
            job_dir = self.store.job_dir(job_id)
            job_dir.mkdir(parents=True, exist_ok=True)
            self._uses += 1
            s.state, s.job, s.last_used = "busy", job_id, self._uses
            self.runs[job_id], self._keys[job_id] = s.index, key
            sent = self.pool.run(
                s.index,
                {
                    "op": "run",
                    "job": job_id,
                    "project": row.spec.get("project"),
                    "output_node": row.output_node,
                    "job_dir": str(job_dir),
                    "embed": row.spec.get("embed"),
                },
            )
            if not sent:  # the worker is gone: the job goes back to the head of the queue
                self.store.update(job_id, status="queued", started_at=None)
                self.queue.appendleft(job_id)
                self.runs.pop(job_id, None)
                self._keys.pop(job_id, None)
                self.live.pop(job_id, None)
                s.state, s.job = "died", None
                continue
            row = self.store.get(job_id)
            assert row is not None
            self._publish_job(row)
            if row.cancel_requested:
                self._send_cancel(job_id)
        self._summarize()

    # ------------------------------------------------------------------------------------------ records
    def _summarize(self) -> None:
        """Sums the pool up in :attr:`worker` (the one worker of health and the event stream) and publishes it
        when it changed."""
        live = [s for s in self.slots if s.state in ("ready", "busy")]
        if any(s.state == "ready" for s in live):
            state = "ready"
        elif live:
            state = "busy"
        elif self._stopping:
            state = "stopped"
        else:
            state = "died" if any(s.state == "died" for s in self.slots) else "starting"
        devices = sorted({s.device for s in live if s.device})
        models = [s.loaded_model for s in live if s.loaded_model]
        exits = [s.last_exit for s in self.slots if s.last_exit]
        worker = WorkerInfo(
            state=state,
            pid=None,
            restarts=sum(s.restarts for s in self.slots),
            last_exit=exits[-1] if exits else None,
            current_job=next((s.job for s in self.slots if s.job), None),
            loaded_model=max(set(models), key=models.count) if models else None,
            pipeline_loads=sum(s.loads for s in self.slots),
            device=f"ray: {len(live)} of {len(self.slots)} actors" + (f" ({'; '.join(devices)})" if devices else ""),
        )
        if worker != self.worker:
            self.worker = worker
            self._publish_worker()

    def pool_info(self) -> PoolInfo:
        """The pool for ``/v1/health``."""
        actors = [s.info() for s in self.slots]
        try:
            resources = dict(self.pool.resources())
        except Exception:  # the cluster is unreachable right now: health still answers
            resources = {}
        return PoolInfo(
            address=self.pool.address,
            actors=actors,
            size=len(actors),
            busy=sum(a.state == "busy" for a in actors),
            idle=sum(a.state == "ready" for a in actors),
            pending=sum(a.state == "pending" for a in actors),
            models_loaded=sorted({a.loaded_model for a in actors if a.loaded_model}),
            retries=self.retries,
            resources=resources,
        )

    def _running_ids(self) -> list[str]:
        """The jobs running on the actors."""
        return list(self.runs)

    def _free_in(self) -> list[float] | None:
        """Seconds until each ready or busy actor can start the next job (pending actors do not count)."""
        frees: list[float] = []
        for s in self.slots:
            if s.state == "ready":
                frees.append(0.0)
            elif s.state == "busy" and s.job is not None:
                r = self.store.get(s.job)
                rem = self._remaining(r) if r is not None else None
                if rem is None:
                    return None
                frees.append(rem)
        return frees
