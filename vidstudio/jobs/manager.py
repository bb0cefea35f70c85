"""The job queue: one job at a time on the worker, in submission order; cancellation; progress, ETAs; events.

A :class:`JobManager` lives in the server's event loop. Its state (the queue, the running job, its progress,
the worker's state, the event subscribers) is only touched from that loop: the supervisor's threads hand the
worker's messages over with ``loop.call_soon_threadsafe``. Job records live in the :class:`JobStore`; progress
is kept in memory while a job runs and stored when it finishes.

Cancelling a queued job finishes it at once; cancelling a running one asks the worker, which stops within one
denoising step (the VAE decode is skipped). A worker that has not stopped ``cancel_grace`` seconds later is
killed and restarted; the job is then cancelled all the same. A worker that dies fails its job with the reason
(:func:`vidstudio.jobs.supervisor.describe_exit`), and the next job runs on a new worker.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidstudio.jobs.store import JobRow, JobStore
from vidstudio.jobs.supervisor import WorkerSupervisor
from vidstudio.protocol.constants import GENERATION_FRAME, GENERATION_OUTPUT, GENERATION_PREVIEW
from vidstudio.protocol.models import (
    FINISHED,
    HelloEvent,
    Job,
    JobEvent,
    JobOutput,
    PreviewEvent,
    Progress,
    ProgressEvent,
    WorkerEvent,
    WorkerInfo,
)

#: Progress and preview messages a slow WebSocket client may have waiting before new ones are dropped for it
#: (job events are never dropped).
SUBSCRIBER_BACKLOG = 256


class JobConflict(Exception):
    """The job cannot do that in its state (cancelling a finished job)."""


@dataclass(eq=False)
class Subscriber:
    """One event stream: messages for ``job`` (None: every job), previews or not."""

    job: str | None = None
    previews: bool = True
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    dropped: int = 0

    def offer(self, kind: str, job_id: str | None, text: str | None) -> None:
        """Queues an event's JSON ``text`` (None: the end of the stream) for this subscriber when it wants it
        (its job; previews only when asked for). Progress and preview events are dropped, and counted in
        ``dropped``, while :data:`SUBSCRIBER_BACKLOG` events wait; job and worker events never are."""
        if text is not None:
            if self.job is not None and job_id is not None and job_id != self.job:
                return
            if kind == "preview" and not self.previews:
                return
            if kind in ("progress", "preview") and self.queue.qsize() >= SUBSCRIBER_BACKLOG:
                self.dropped += 1
                return
        self.queue.put_nowait(text)


@dataclass
class _Live:
    """The running job's progress as the worker reports it."""

    progress: Progress = field(default_factory=Progress)
    types: dict[str, str] = field(default_factory=dict)
    finished_nodes: set[str] = field(default_factory=set)
    last_step_at: float | None = None


class JobManager:
    """Queues jobs, dispatches them to the worker and publishes what happens.

    Args:
        store: the open job store.
        worker_env: extra environment for the worker process.
        cancel_grace: seconds a running job may take to stop after a cancel before its worker is killed.
        version: the VidStudio version reported in health.
        model_name: ``model_name(target)`` turns what the worker reports as its loaded model (a folder path or
            a repo id) into the model id clients know (default: unchanged).
        plugin_state: the server's file of plugins disabled after they crashed the worker
            (``<data_dir>/plugins.json``, see :class:`vidstudio.jobs.supervisor.WorkerSupervisor`); None: a
            plugin's crash is only reported on the job.
    """

    def __init__(
        self,
        store: JobStore,
        *,
        worker_env: dict[str, str] | None = None,
        cancel_grace: float = 30.0,
        version: str = "",
        python: str = sys.executable,
        model_name: Any = None,
        plugin_state: Path | None = None,
    ):
        self.store = store
        self.cancel_grace = cancel_grace
        self.version = version
        self.model_name = model_name or (lambda target: target)
        self.queue: collections.deque[str] = collections.deque()
        self.running: str | None = None
        self.live: dict[str, _Live] = {}
        self.worker = WorkerInfo(state="starting")
        self.nodes_doc: dict[str, Any] | None = None
        #: the worker's device memory in bytes, once it said (None: unknown or not a GPU), for the budget check.
        self.device_memory: float | None = None
        self.subscribers: set[Subscriber] = set()
        self._seq = 0
        self._durations: collections.deque[float] = collections.deque(maxlen=20)
        self._tails: collections.deque[float] = collections.deque(maxlen=20)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        #: why the worker is to be restarted once it is idle (plugins enabled again), or None.
        self._restart_reason: str | None = None
        self.supervisor = WorkerSupervisor(
            self._from_thread,
            self._exit_from_thread,
            on_spawn=self._spawn_from_thread,
            env=worker_env,
            python=python,
            plugin_state=plugin_state,
        )

    # ------------------------------------------------------------------------------------------ lifetime
    async def start(self) -> None:
        """Recovers the queue from the store (running jobs are failed: ``server restarted``) and starts the
        worker."""
        self._loop = asyncio.get_running_loop()
        _, queued = self.store.recover()
        self.queue.extend(queued)
        self._durations.extend(reversed(self.store.recent_durations()))
        self.supervisor.start()

    async def stop(self) -> None:
        """Stops the worker and ends every event stream. A job running now keeps its ``running`` record, which
        the next start turns into ``failed: server restarted``."""
        self._stopping = True
        await asyncio.to_thread(self.supervisor.stop)
        for s in list(self.subscribers):
            s.offer("close", None, None)

    # ------------------------------------------------------------------------------------------ thread hand-over
    def _call(self, fn, *args) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _from_thread(self, header: dict, payload: bytes) -> None:
        self._call(self._on_message, header, payload)
        if header.get("ev") == "step" and payload:
            job_id = str(header.get("job", ""))
            if self.store.get(job_id) is not None:  # a server-made id: safe as a folder name
                folder = self.store.job_dir(job_id)
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    tmp = folder / ".step-preview.jpg.tmp"
                    tmp.write_bytes(payload)
                    os.replace(tmp, folder / "step-preview.jpg")
                except OSError:
                    pass

    def _exit_from_thread(self, reason: str, expected: bool) -> None:
        self._call(self._on_exit, reason, expected)

    def _spawn_from_thread(self, pid: int, restarts: int) -> None:
        self._call(self._on_spawn, pid, restarts)

    # ------------------------------------------------------------------------------------------ events
    def subscribe(self, job: str | None = None, previews: bool = True) -> Subscriber:
        """A new event stream (see :class:`Subscriber`); end it with :meth:`unsubscribe`."""
        s = Subscriber(job=job, previews=previews)
        self.subscribers.add(s)
        return s

    def unsubscribe(self, s: Subscriber) -> None:
        """Stops sending events to ``s`` (no error when it was not subscribed)."""
        self.subscribers.discard(s)

    def hello(self) -> str:
        """The first message of a stream: the active jobs and the worker."""
        return self._stamp(HelloEvent(jobs=self.active_jobs(), worker=self.worker))

    def _stamp(self, event: Any) -> str:
        self._seq += 1
        event.seq = self._seq
        event.time = time.time()
        return event.model_dump_json()

    def _publish(self, kind: str, job_id: str | None, event: Any) -> None:
        if not self.subscribers:
            return
        text = self._stamp(event)
        for s in list(self.subscribers):
            s.offer(kind, job_id, text)

    def _publish_job(self, row: JobRow) -> None:
        self._publish("job", row.id, JobEvent(job=self.to_job(row)))

    def _publish_worker(self) -> None:
        self._publish("worker", None, WorkerEvent(worker=self.worker))

    # ------------------------------------------------------------------------------------------ records
    def _avg_duration(self) -> float | None:
        return statistics.median(self._durations) if self._durations else None

    def _remaining(self, row: JobRow) -> float | None:
        live = self.live.get(row.id)
        avg = self._avg_duration()
        elapsed = time.time() - (row.started_at or time.time())
        if live is not None:
            p = live.progress
            if p.step is not None and p.total and p.seconds_per_step:
                tail = statistics.median(self._tails) if self._tails else 0.0
                return max(0.0, (p.total - p.step) * p.seconds_per_step + tail)
            if avg is not None:
                return max(0.0, avg - elapsed)
            if p.overall > 0.05:
                return max(0.0, elapsed * (1 - p.overall) / p.overall)
        return None

    def _running_ids(self) -> list[str]:
        """The ids of the running jobs: one here (a pool runs one per slot)."""
        return [self.running] if self.running else []

    def _free_in(self) -> list[float] | None:
        """Seconds until each worker can start the next job (0 for an idle one), or None when a running job's
        remaining time is not known yet. One worker here; a pool has one entry per ready or busy slot."""
        if self.running is None:
            return [0.0]
        r = self.store.get(self.running)
        rem = self._remaining(r) if r is not None else None
        return None if rem is None else [rem]

    def eta(self, row: JobRow) -> float | None:
        """Seconds until ``row`` finishes (an estimate), or None when there is nothing to go by: a queued job
        starts when as many workers have freed up as there are jobs ahead of it, each taking the median
        duration of the finished ones."""
        if row.status in FINISHED:
            return 0.0
        if row.status == "running":
            return self._remaining(row)
        avg = self._avg_duration()
        frees = self._free_in()
        if avg is None or not frees:
            return None
        frees = sorted(frees)
        try:
            pos = self.queue.index(row.id)
        except ValueError:
            pos = 0
        return frees[pos % len(frees)] + (pos // len(frees)) * avg + avg

    def to_job(self, row: JobRow) -> Job:
        """The API record of a stored job, with the live progress, queue position and ETA."""
        live = self.live.get(row.id)
        progress = (
            live.progress.model_copy()
            if live is not None
            else (Progress.model_validate(row.progress) if row.progress else None)
        )
        output = None
        if row.status == "succeeded" and row.output:
            output = JobOutput(
                video_url=GENERATION_OUTPUT.format(job_id=row.id),
                preview_url=GENERATION_PREVIEW.format(job_id=row.id),
                frame_url_template=GENERATION_FRAME.format(job_id=row.id, n="{n}"),
                **row.output,
            )
        pos = None
        if row.status == "queued":
            try:
                pos = self.queue.index(row.id) + 1
            except ValueError:
                pos = None
        return Job(
            id=row.id,
            status=row.status,
            kind=row.kind,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            queue_position=pos,
            progress=progress,
            eta=self.eta(row),
            error=row.error,
            adjustments=row.adjustments,
            notes=row.notes,
            output_node=row.output_node,
            model=row.model,
            cancel_requested=row.cancel_requested,
            output=output,
        )

    def active_jobs(self) -> list[Job]:
        """The running jobs and the queued ones, in the order they will run."""
        ids = self._running_ids() + list(self.queue)
        return [self.to_job(r) for i in ids if (r := self.store.get(i)) is not None]

    # ------------------------------------------------------------------------------------------ requests
    def submit(self, spec: Any) -> Job:
        """Queues a job (:class:`vidstudio.server.build.JobSpec`, assets already in its folder)."""
        row = self.store.insert(
            spec.id,
            spec.kind,
            spec.output_node,
            {"project": spec.project, "embed": spec.embed, "assets": spec.assets},
            model=spec.model,
            adjustments=spec.adjustments,
        )
        self.queue.append(row.id)
        self._publish_job(row)
        self._kick()
        return self.to_job(self.store.get(row.id) or row)

    def cancel(self, job_id: str) -> Job:
        """Cancels a queued job at once, or asks the worker to stop a running one.

        Raises:
            KeyError: no such job. JobConflict: the job has finished.
        """
        row = self.store.get(job_id)
        if row is None:
            raise KeyError(job_id)
        if row.status in FINISHED:
            raise JobConflict(f"job {job_id} has {row.status}; there is nothing to cancel")
        if row.status == "queued":
            try:
                self.queue.remove(job_id)
            except ValueError:
                pass
            self.store.update(job_id, status="cancelled", finished_at=time.time(), error="cancelled before it started")
        elif not self._is_running(job_id):  # a record the queue does not know (cannot happen; never left hanging)
            self.store.update(
                job_id, status="cancelled", finished_at=time.time(), cancel_requested=True, error="cancelled"
            )
        elif not row.cancel_requested:
            self.store.update(job_id, cancel_requested=True)
            if self._is_running(job_id):
                self._send_cancel(job_id)
                assert self._loop is not None
                self._loop.call_later(self.cancel_grace, self._cancel_overdue, job_id)
        row = self.store.get(job_id)
        assert row is not None
        self._publish_job(row)
        return self.to_job(row)

    def _is_running(self, job_id: str) -> bool:
        """True while ``job_id`` runs on the worker (a pool of workers overrides it)."""
        return job_id == self.running

    def _send_cancel(self, job_id: str) -> None:
        """Asks the worker running ``job_id`` to stop it within one step."""
        self.supervisor.send({"op": "cancel", "job": job_id, "reason": "cancelled"})

    def _cancel_overdue(self, job_id: str) -> None:
        if self.running == job_id:
            print(
                f"vidstudio server: job {job_id} did not stop {self.cancel_grace:g} s after it was cancelled; "
                "killing the worker",
                file=sys.stderr,
            )
            self.supervisor.kill(f"job {job_id} did not stop {self.cancel_grace:g} s after it was cancelled")

    def restart_worker_when_idle(self, reason: str) -> None:
        """Restarts the worker (a new process reads the plugin settings again) at once when it runs no job,
        else as soon as its job ends; jobs queued meanwhile wait for the new worker. Its loaded model is lost.

        Args:
            reason: why, in words (health's ``last_exit`` says ``the GPU worker was killed by the server: ...``).
        """
        self._restart_reason = reason
        self._restart_if_idle()

    def _restart_if_idle(self) -> bool:
        if self._restart_reason is None or self.running is not None or self.worker.state != "ready":
            return False
        reason, self._restart_reason = self._restart_reason, None
        self.worker = self.worker.model_copy(update={"state": "starting"})  # nothing is sent to it any more
        self.supervisor.kill(reason)
        return True

    # ------------------------------------------------------------------------------------------ dispatch
    def _kick(self) -> None:
        if self._restart_if_idle():
            return
        while self.running is None and self.worker.state == "ready" and self.queue:
            job_id = self.queue.popleft()
            row = self.store.get(job_id)
            if row is None or row.status != "queued":
                continue
            now = time.time()
            self.store.update(job_id, status="running", started_at=now)
            self.running = job_id
            self.live[job_id] = _Live()
            self.worker = self.worker.model_copy(update={"state": "busy", "current_job": job_id})
            job_dir = self.store.job_dir(job_id)
            job_dir.mkdir(parents=True, exist_ok=True)
            sent = self.supervisor.send(
                {
                    "op": "run",
                    "job": job_id,
                    "project": row.spec.get("project"),
                    "output_node": row.output_node,
                    "job_dir": str(job_dir),
                    "embed": row.spec.get("embed"),
                }
            )
            if not sent:  # the worker is dying: the job goes back to the front of the queue for the next one
                self.store.update(job_id, status="queued", started_at=None)
                self.queue.appendleft(job_id)
                self.running = None
                self.live.pop(job_id, None)
                self.worker = self.worker.model_copy(update={"state": "died", "current_job": None})
                break
            row = self.store.get(job_id)
            assert row is not None
            self._publish_job(row)
            if row.cancel_requested:
                self.supervisor.send({"op": "cancel", "job": job_id, "reason": "cancelled"})

    def _on_spawn(self, pid: int, restarts: int) -> None:
        self.worker = self.worker.model_copy(
            update={"state": "starting", "pid": pid, "restarts": restarts, "current_job": None}
        )
        self._publish_worker()

    def _on_exit(self, reason: str, expected: bool) -> None:
        job_id = None if expected else self.running
        self.running = None
        self.worker = self.worker.model_copy(
            update={
                "state": "stopped" if expected else "died",
                "pid": None,
                "last_exit": None if expected else reason,
                "current_job": None,
                "loaded_model": None,
            }
        )
        if job_id is not None:
            live = self.live.pop(job_id, None)
            row = self.store.get(job_id)
            if row is not None and row.status == "running":
                if row.cancel_requested:
                    status, error = "cancelled", f"cancelled ({reason} after it was asked to stop)"
                else:
                    status, error = "failed", f"{reason} while running this job"
                self.store.update(
                    job_id,
                    status=status,
                    error=error,
                    finished_at=time.time(),
                    progress=live.progress.model_dump() if live else None,
                )
                row = self.store.get(job_id)
                if row is not None:
                    self._publish_job(row)
        if not expected:
            print(f"vidstudio server: {reason}; starting a new worker", file=sys.stderr)
        self._publish_worker()

    def _on_message(self, h: dict, payload: bytes) -> None:
        ev = h.get("ev")
        if ev == "ready":
            self.nodes_doc = h.get("nodes") if isinstance(h.get("nodes"), dict) else None
            self.worker = self.worker.model_copy(update={"state": "ready", "pid": h.get("pid"), "current_job": None})
            self._publish_worker()
            self._kick()
            return
        if ev == "device":
            self.worker = self.worker.model_copy(update={"device": str(h.get("device") or "") or None})
            mem = h.get("memory_bytes")
            self.device_memory = float(mem) if isinstance(mem, (int, float)) and mem > 0 else None
            self._publish_worker()
            return
        job_id = str(h.get("job", ""))
        if not self._is_running(job_id):
            return  # a late message of a job already failed or cancelled
        live = self.live.setdefault(job_id, _Live())
        p = live.progress
        if ev == "started":
            nodes = h.get("nodes") or []
            live.types = {str(n): str(t) for n, t in nodes}
            p.nodes_total = len(nodes)
        elif ev == "progress":
            node = str(h.get("node"))
            msg = str(h.get("message", ""))
            if node != p.node:
                p.step = p.total = p.seconds_per_step = None
            p.node, p.node_type = node, live.types.get(node)
            p.fraction = h.get("fraction")
            if msg not in ("running", "done", "cached") or p.step is None:
                p.message = msg
            if msg in ("done", "cached") and node not in live.finished_nodes:
                live.finished_nodes.add(node)
                p.nodes_done = len(live.finished_nodes)
            self._overall(live)
            row = self.store.get(job_id)
            self._publish(
                "progress",
                job_id,
                ProgressEvent(
                    id=job_id, progress=p.model_copy(), eta=self.eta(row) if row else None, worker_time=h.get("t")
                ),
            )
        elif ev == "step":
            node = str(h.get("node"))
            step, total, sps = int(h.get("step", 0)), int(h.get("total", 0)), float(h.get("sps", 0.0))
            p.node, p.node_type = node, live.types.get(node)
            p.step, p.total, p.seconds_per_step = step, total, sps
            p.fraction = step / total if total else None
            p.message = f"step {step}/{total}, {sps:.2f} s/step"
            live.last_step_at = h.get("t")
            self._overall(live)
            row = self.store.get(job_id)
            self._publish(
                "progress",
                job_id,
                ProgressEvent(
                    id=job_id, progress=p.model_copy(), eta=self.eta(row) if row else None, worker_time=h.get("t")
                ),
            )
            if payload:
                self._publish(
                    "preview",
                    job_id,
                    PreviewEvent(
                        id=job_id,
                        node=node,
                        step=step,
                        total=total,
                        image=base64.b64encode(payload).decode("ascii"),
                        width=int(h.get("width", 0)),
                        height=int(h.get("height", 0)),
                        worker_time=h.get("t"),
                    ),
                )
        elif ev == "finished" and not self._stopping:
            self._finish(job_id, h, live)

    def _overall(self, live: _Live) -> None:
        p = live.progress
        if p.nodes_total:
            running = 0.0 if (p.node in live.finished_nodes or p.fraction is None) else float(p.fraction)
            p.overall = min(1.0, (p.nodes_done + running) / p.nodes_total)

    def _finish(self, job_id: str, h: dict, live: _Live) -> None:
        now = time.time()
        status = str(h.get("status"))
        if status not in FINISHED:
            status = "failed"
        row = self.store.get(job_id)
        if row is None:
            return
        p = live.progress
        if status == "succeeded":
            p.overall, p.nodes_done = 1.0, p.nodes_total
            if row.started_at:
                self._durations.append(now - row.started_at)
            if live.last_step_at:
                self._tails.append(max(0.0, float(h.get("t", now)) - live.last_step_at))
        error = h.get("error")
        if status == "cancelled" and not error:
            error = "cancelled"
        self.store.update(
            job_id,
            status=status,
            finished_at=now,
            error=error,
            notes=list(h.get("notes") or []),
            output=h.get("output") if status == "succeeded" else None,
            progress=p.model_dump(),
        )
        self.live.pop(job_id, None)
        self._release(job_id, h)
        row = self.store.get(job_id)
        if row is not None:
            self._publish_job(row)
        self._kick()

    def _release(self, job_id: str, h: dict) -> None:
        """The worker that ran ``job_id`` is free again; ``h`` is its ``finished`` message."""
        self.running = None
        pipe = h.get("pipeline") or {}
        self.worker = self.worker.model_copy(
            update={
                "state": "ready",
                "current_job": None,
                "loaded_model": self.model_name(pipe["model"]) if pipe.get("model") else None,
                "pipeline_loads": int(pipe.get("loads") or 0),
            }
        )

    # ------------------------------------------------------------------------------------------ files
    def preview_file(self, job_id: str) -> Path | None:
        """The job's preview image: the output's middle frame once it succeeded, else the latest step preview."""
        folder = self.store.job_dir(job_id)
        for name in ("preview.jpg", "step-preview.jpg"):
            f = folder / name
            if f.is_file():
                return f
        return None

    def counts(self) -> tuple[int, int]:
        """``(queued, running)``."""
        return len(self.queue), len(self._running_ids())

    def pool_info(self) -> Any:
        """The pool of workers for ``/v1/health`` (:class:`vidstudio.protocol.models.PoolInfo`); None here, where
        one local worker runs the jobs (:class:`vidstudio.jobs.executor.PoolJobManager` has a pool)."""
        return None
