"""A pool of Ray actors that run the server's jobs (``vidstudio serve --ray ADDRESS``): the
:class:`vidstudio.jobs.executor.Pool` of :class:`vidstudio.jobs.executor.PoolJobManager`.

Each slot of the pool is one actor (:class:`JobActor`) holding ``num_gpus`` GPUs (1 by default; 0 for CPU
actors) and ``num_cpus`` CPUs. The actor keeps one :class:`vidstudio.jobs.worker.Worker` for its whole life, so
the engine's cache and the backend's loaded pipeline survive from one job to the next, and runs jobs through the
worker's own code path (``Worker.run``): same progress, step previews, output files and errors as the local
worker. What the worker sends goes into a buffer in the actor that a thread of the server per slot drains
(``poll``, a long poll of 0.5 s) and hands to the manager's event loop; ``cancel`` sets the running job's cancel
token (the actor is threaded: ``max_concurrency`` 4).

The actors are not detached: they end with the server (a restarted server asks for new ones, so that a crashed
server never leaves GPUs held). A slot whose actor died (``ray.kill``, Ray's out-of-memory killer, a crash, its
node lost) reports why in words (:func:`describe_death`) and asks for a replacement, at once when the old one
had run a while, else after a back-off that doubles up to 30 s. An actor the cluster cannot place (no GPU free)
waits in Ray's scheduler; its slot stays ``pending`` and the server's jobs stay in the server's queue.

Files: jobs read and write their job folder in the server's data folder, and models are loaded from the
server's model folders, by path: every node of the cluster must see them at the same paths (a shared file
system; see docs/scale.md). This module imports Ray only when a pool starts.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vidstudio.errors import VidStudioError

#: The Ray namespace of the server's actors.
NAMESPACE = "vidstudio"
#: Environment variables of the server that its actors get (prefixes), besides ``ServerConfig.worker_env``.
FORWARDED_ENV = ("VIDSTUDIO_", "HF_", "HUGGINGFACE_", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM")
#: Never forwarded.
PRIVATE_ENV = ("VIDSTUDIO_SERVER_TOKEN",)
#: Seconds a poll of an actor may take before the actor is taken for dead (it answers within 0.5 s when well).
POLL_TIMEOUT = 60.0
#: An actor that ran at least this long (seconds) is replaced at once after dying; the longest back-off (seconds).
STABLE_AFTER, MAX_BACKOFF = 20.0, 30.0


def import_ray():
    """``import ray``.

    Raises:
        VidStudioError: Ray is not installed (with the command that installs it).
    """
    try:
        import ray
    except ImportError as e:
        raise VidStudioError(
            f"--ray needs Ray, which is not installed ({e}); install it with pip install 'vidstudio[ray]'"
        ) from None
    return ray


@dataclass
class RayOptions:
    """How the server uses Ray.

    Attributes:
        address: the cluster (``ray://HEAD:10001`` for Ray Client, ``HEAD:6379`` on a node of the cluster), or
            ``auto``: start a local Ray instance in the server process (it ends with the server).
        actors: how many actors (jobs at the same time); None: as many as the cluster's GPUs allow
            (``GPU // num_gpus``, at least 1; with ``num_gpus`` 0, 1).
        num_gpus, num_cpus: what each actor holds (``num_gpus`` 0: CPU actors, for tests and CPU farms).
        retries: how many times a job whose actor died runs again before it fails (0: it fails at once).
        env: environment variables for the actors (on top of those forwarded from the server: see
            :data:`FORWARDED_ENV`).
    """

    address: str = "auto"
    actors: int | None = None
    num_gpus: float = 1.0
    num_cpus: float = 1.0
    retries: int = 0
    env: dict[str, str] = field(default_factory=dict)


def check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Refuses a cluster address nobody answers at (Ray itself would retry for minutes): for ``HOST:PORT`` and
    ``ray://HOST:PORT``, a TCP connection must open within ``timeout`` seconds; ``auto`` is always fine.

    Raises:
        VidStudioError: naming the address and what to check.
    """
    if address in (None, "", "auto", "local"):
        return
    import socket

    rest = address.split("://", 1)[1] if "://" in address else address
    host, _, port = rest.rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise VidStudioError(
            f"--ray {address}: expected HOST:PORT (the head's GCS port, 6379 by default), "
            "ray://HOST:PORT (Ray Client, 10001 by default) or auto"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise VidStudioError(
            f"--ray {address}: nothing answers there ({e.strerror or e}); start the head with "
            "'ray start --head' and check the address and the firewall"
        ) from None


def actor_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the actors get: the server's :data:`FORWARDED_ENV` variables (never its token) and
    ``extra``."""
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV) and k not in PRIVATE_ENV}
    env.update(extra or {})
    return env


def describe_death(name: str, error: BaseException) -> str:
    """Says in words why the actor ``name`` is gone, from what Ray raised when it was called (the texts of Ray's
    ``ActorDiedError`` and ``OutOfMemoryError``, whose cause Ray writes into the message).

    Returns:
        e.g. ``"the Ray actor vidstudio-123-0-0 was killed (ray.kill)"``, ``"... ran out of memory (Ray's memory
        monitor killed it: the node was running low on memory)"``, ``"... was lost with its node"``.
    """
    kind = type(error).__name__
    text = str(error)
    low = text.lower()
    if kind == "OutOfMemoryError" or "low on memory" in low or "memory pressure" in low:
        what = "ran out of memory (Ray's memory monitor killed it: the node was running low on memory)"
    elif "killed by `ray.kill`" in low or "ray.kill" in low:
        what = "was killed (ray.kill)"
    elif "its node has died" in low or "node is dead" in low:
        what = "was lost with its node (the node died or stopped answering Ray's health checks)"
    elif "its owner has died" in low:
        what = "ended with its owner (the server's connection to the cluster)"
    elif kind == "GetTimeoutError":
        what = f"stopped answering for {POLL_TIMEOUT:g} s"
    elif "worker process has died" in low or "unexpectedly exits" in low:
        what = "lost its process (killed with SIGKILL, for example by the system's out-of-memory killer, or crashed)"
    elif kind in ("ActorDiedError", "RayActorError", "ActorUnavailableError"):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        what = f"died ({lines[-1][:300]})" if lines else "died"
    else:
        what = f"failed: {kind}: {text.splitlines()[0][:300] if text else ''}"
    return f"the Ray actor {name} {what}"


class _BufferWire:
    """Stands for :class:`vidstudio.jobs.wire.Wire` in an actor: what the worker sends waits in a buffer for the
    server's next :meth:`JobActor.poll`."""

    def __init__(self) -> None:
        self.messages: collections.deque[tuple[dict, bytes]] = collections.deque()
        self.cond = threading.Condition()

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        """Buffers one message (never raises)."""
        with self.cond:
            self.messages.append((dict(header), bytes(payload)))
            self.cond.notify_all()

    def take(self, timeout: float) -> list[tuple[dict, bytes]]:
        """Every buffered message, waiting up to ``timeout`` seconds for the first."""
        with self.cond:
            self.cond.wait_for(lambda: bool(self.messages), timeout)
            out = list(self.messages)
            self.messages.clear()
        return out


class JobActor:
    """The body of one Ray actor (made a Ray actor class by :meth:`RayPool.start`): one
    :class:`vidstudio.jobs.worker.Worker` for its whole life.

    Args:
        env: environment variables set before the worker is made (plugins folder, caches, thread counts).
    """

    def __init__(self, env: dict[str, str]):
        os.environ.update(env)
        from vidstudio.jobs.worker import Worker

        self.wire = _BufferWire()
        self.worker = Worker(self.wire)  # type: ignore[arg-type]
        self._nodes = self.worker.describe()
        threading.Thread(target=self.worker._announce_device, name="vidstudio-actor-device", daemon=True).start()

    def hello(self) -> dict[str, Any]:
        """``{"pid", "node", "nodes"}``: this process, its node's address, and the node types document."""
        import ray

        return {"pid": os.getpid(), "node": ray.util.get_node_ip_address(), "nodes": self._nodes}

    def run(self, msg: dict[str, Any]) -> None:
        """Runs one job (a ``run`` message, see :mod:`vidstudio.jobs.worker`); its messages go to the buffer,
        ``finished`` last."""
        self.worker.run(msg)

    def cancel(self, job_id: str, reason: str) -> None:
        """Cancels ``job_id`` within one step (:meth:`vidstudio.jobs.worker.Worker.cancel`)."""
        self.worker.cancel(job_id, reason)

    def poll(self, timeout: float) -> list[tuple[dict, bytes]]:
        """The worker's messages since the last poll (waits up to ``timeout`` seconds for one)."""
        return self.wire.take(timeout)


class RayPool:
    """The actors of one server (see the module's description).

    Args:
        options: the cluster and the actors' resources.
        log: where the pool writes what happens (the server's stderr).
    """

    def __init__(self, options: RayOptions, log=None):
        self.options = options
        self.address: str | None = options.address
        self.size = max(1, options.actors) if options.actors else 1
        self.log = log if log is not None else sys.stderr
        self._ray: Any = None
        self._cls: Any = None
        self._actors: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._resources: dict[str, float] = {}
        self._available: dict[str, float] = {}
        self._env: dict[str, str] = {}

    # ------------------------------------------------------------------------------------------ lifetime
    def start(self, on_pending: Callable, on_ready: Callable, on_message: Callable, on_exit: Callable) -> None:
        """Connects to the cluster (``auto``: starts a local Ray instance) and starts one thread per slot.

        Raises:
            VidStudioError: Ray is not installed, or the cluster cannot be reached (naming the address).
        """
        # Ray's C++ core would take SIGTERM over (and end the process) from uvicorn's graceful shutdown
        os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
        ray = import_ray()
        self._ray = ray
        o = self.options
        check_reachable(o.address)
        try:
            if o.address in (None, "", "auto", "local"):
                # "local": a new instance, even when RAY_ADDRESS or a cluster started on this machine exists
                ray.init(address="local", namespace=NAMESPACE, include_dashboard=False, configure_logging=False)
            else:
                ray.init(address=o.address, namespace=NAMESPACE, configure_logging=False)
        except Exception as e:
            raise VidStudioError(
                f"--ray {o.address}: cannot reach the Ray cluster: {e.__class__.__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}"
            ) from None
        self._refresh_resources()
        if not o.actors:
            gpus = self._resources.get("GPU", 0.0)
            self.size = max(1, int(gpus // o.num_gpus)) if o.num_gpus > 0 else 1
        self._env = actor_env(o.env)
        self._cls = ray.remote(JobActor)
        print(
            f"vidstudio server: Ray cluster {o.address} ({self._describe_resources()}): {self.size} actor(s) of "
            f"{o.num_gpus:g} GPU and {o.num_cpus:g} CPU",
            file=self.log,
            flush=True,
        )
        self._threads = [
            threading.Thread(
                target=self._slot_main,
                args=(i, on_pending, on_ready, on_message, on_exit),
                name=f"vidstudio-ray-slot-{i}",
                daemon=True,
            )
            for i in range(self.size)
        ]
        self._threads.append(
            threading.Thread(target=self._watch_resources, name="vidstudio-ray-resources", daemon=True)
        )
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Kills every actor (their jobs keep their ``running`` record) and disconnects; blocks."""
        self._stop.set()
        with self._lock:
            actors = list(self._actors.values())
        for a in actors:
            try:
                self._ray.kill(a, no_restart=True)
            except Exception:
                pass
        for t in self._threads:
            t.join(timeout=5)
        if self._ray is not None:
            try:
                self._ray.shutdown()
            except Exception:
                pass

    # ------------------------------------------------------------------------------------------ requests
    def _actor(self, slot: int) -> Any:
        with self._lock:
            return self._actors.get(slot)

    def run(self, slot: int, msg: dict[str, Any]) -> bool:
        """Starts a job on the slot's actor (returns at once); False when the slot has no actor."""
        a = self._actor(slot)
        if a is None:
            return False
        try:
            a.run.remote(msg)
        except Exception as e:  # the actor handle is unusable: the slot thread reports the death
            print(f"vidstudio server: cannot start job {msg.get('job')} on the Ray actor: {e}", file=self.log)
            return False
        return True

    def cancel(self, slot: int, job_id: str, reason: str) -> None:
        """Asks the slot's actor to cancel ``job_id`` (returns at once)."""
        a = self._actor(slot)
        if a is not None:
            try:
                a.cancel.remote(job_id, reason)
            except Exception:
                pass

    def kill(self, slot: int) -> None:
        """Kills the slot's actor (``ray.kill``); its slot asks for a replacement."""
        a = self._actor(slot)
        if a is not None:
            try:
                self._ray.kill(a, no_restart=True)
            except Exception:
                pass

    def resources(self) -> dict[str, float]:
        """The cluster's total resources (refreshed every 2 s)."""
        return dict(self._resources)

    # ------------------------------------------------------------------------------------------ threads
    def _refresh_resources(self) -> None:
        try:
            self._resources = {
                k: float(v)
                for k, v in self._ray.cluster_resources().items()
                if not k.startswith("node:") and "memory" not in k
            }
            self._available = {
                k: float(v)
                for k, v in self._ray.available_resources().items()
                if not k.startswith("node:") and "memory" not in k
            }
        except Exception:
            pass

    def _watch_resources(self) -> None:
        while not self._stop.wait(2.0):
            self._refresh_resources()

    def _describe_resources(self) -> str:
        r = self._resources
        return f"{r.get('CPU', 0):g} CPU, {r.get('GPU', 0):g} GPU"

    def _waiting_for(self) -> str | None:
        """What a new actor waits for, when the cluster lacks it now (in words), else None."""
        o, free = self.options, self._available
        lacks = []
        if o.num_gpus > 0 and free.get("GPU", 0.0) < o.num_gpus:
            lacks.append(f"{o.num_gpus:g} GPU ({free.get('GPU', 0.0):g} of {self._resources.get('GPU', 0.0):g} free)")
        if o.num_cpus > 0 and free.get("CPU", 0.0) < o.num_cpus:
            lacks.append(f"{o.num_cpus:g} CPU ({free.get('CPU', 0.0):g} of {self._resources.get('CPU', 0.0):g} free)")
        return "waiting for room on the cluster: " + " and ".join(lacks) if lacks else None

    def _slot_main(
        self, slot: int, on_pending: Callable, on_ready: Callable, on_message: Callable, on_exit: Callable
    ) -> None:
        ray, o = self._ray, self.options
        generation, fails = 0, 0
        while not self._stop.is_set():
            name = f"vidstudio-{os.getpid()}-{slot}-{generation}"
            generation += 1
            started = time.monotonic()
            try:
                actor = self._cls.options(
                    name=name,
                    num_gpus=o.num_gpus,
                    num_cpus=o.num_cpus,
                    max_concurrency=4,
                    max_restarts=0,
                    max_task_retries=0,
                ).remote(self._env)
            except Exception as e:
                reason = f"the Ray actor {name} could not be created: {e.__class__.__name__}: {e}"
                on_exit(slot, reason, False)
            else:
                with self._lock:
                    self._actors[slot] = actor
                on_pending(slot, name, self._waiting_for())
                reason = self._serve(slot, name, actor, on_pending, on_ready, on_message)
                with self._lock:
                    self._actors.pop(slot, None)
                expected = self._stop.is_set()
                if not expected:
                    try:
                        ray.kill(actor, no_restart=True)  # one that stopped answering must not hold its GPU
                    except Exception:
                        pass
                on_exit(slot, reason or "stopped", expected)
                if expected:
                    return
            fails = 0 if time.monotonic() - started >= STABLE_AFTER else fails + 1
            delay = 0.0 if fails <= 1 else min(MAX_BACKOFF, 0.5 * 2 ** (fails - 1))
            if self._stop.wait(delay):
                return

    def _serve(
        self, slot: int, name: str, actor: Any, on_pending: Callable, on_ready: Callable, on_message: Callable
    ) -> str | None:
        """Waits for the actor, then relays its messages until it dies (returns why) or the pool stops (None)."""
        ray = self._ray
        try:
            ref = actor.hello.remote()
            waiting = self._waiting_for()
            while True:
                done, _ = ray.wait([ref], timeout=0.5)
                if self._stop.is_set():
                    return None
                if done:
                    break
                now = self._waiting_for()
                if now != waiting:
                    waiting = now
                    on_pending(slot, name, now)
            on_ready(slot, name, ray.get(ref))
            while not self._stop.is_set():
                for header, payload in ray.get(actor.poll.remote(0.5), timeout=POLL_TIMEOUT):
                    try:
                        on_message(slot, header, payload)
                    except Exception as e:  # a bug in the handler must not stop the relay
                        print(
                            f"vidstudio server: actor message not handled: {e.__class__.__name__}: {e}", file=self.log
                        )
        except Exception as e:
            if self._stop.is_set():
                return None
            return describe_death(name, e)
        return None
