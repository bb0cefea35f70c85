"""Starts the GPU worker process, relays what it says, and starts a new one when it dies.

The worker runs ``python -m vidstudio.jobs.worker`` in its own session (a Ctrl-C in the server's terminal reaches
only the server, which then stops the worker in order) and talks over a socketpair (:mod:`vidstudio.jobs.wire`).
Its stdout and stderr go to the server's stderr, each line prefixed with ``[worker]``; the last lines are kept
to explain a death.

When the connection ends (the worker crashed, was killed, ran out of memory, or exited), the supervisor waits
for the process, describes how it ended (:func:`describe_exit`), calls ``on_exit(reason, expected)`` and, unless
it is stopping, starts a new worker: at once when the old one had run for a while, else after a back-off that
doubles up to 30 s (a worker that cannot start does not spin).
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vidstudio.jobs.wire import Wire, WireClosed
from vidstudio.plugins.manager import CRASH_STATE_ENV, PluginCrash, record_crash_disabled, take_markers

#: A worker that ran at least this long (seconds) is restarted at once after dying.
STABLE_AFTER = 20.0
#: The longest wait before restarting a worker that keeps dying at start (seconds).
MAX_BACKOFF = 30.0

#: Exit statuses that come from outside the worker (a kill by hand, the system's out-of-memory killer, a
#: terminate): a plugin running then is named on the job but not disabled.
_NOT_THE_PLUGINS_FAULT = (-signal.SIGKILL, -signal.SIGTERM, -signal.SIGINT)

_SIGNALS = {
    "SIGKILL": "was killed (SIGKILL: by hand, or by the system when memory ran out)",
    "SIGSEGV": "crashed with a segmentation fault (SIGSEGV)",
    "SIGABRT": "aborted (SIGABRT)",
    "SIGBUS": "crashed with a bus error (SIGBUS)",
    "SIGFPE": "crashed with a floating-point exception (SIGFPE)",
    "SIGILL": "crashed with an illegal instruction (SIGILL)",
    "SIGTERM": "was terminated (SIGTERM)",
}


def describe_exit(returncode: int | None, tail: list[str] | None = None) -> str:
    """Says in words how the worker process ended.

    Args:
        returncode: the process's exit status (negative: the signal that killed it, as subprocess reports it).
        tail: its last lines of output (a ``CUDA out of memory`` or ``MemoryError`` there is mentioned).

    Returns:
        e.g. ``"the GPU worker was killed (SIGKILL: by hand, or by the system when memory ran out)"``.
    """
    if returncode is None:
        what = "stopped answering"
    elif returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        what = _SIGNALS.get(name, f"was killed by {name}")
    else:
        what = f"exited with status {returncode}"
    text = "\n".join(tail or []).lower()
    if "out of memory" in text or "memoryerror" in text or "outofmemoryerror" in text:
        what += "; it ran out of memory"
    last = next((line.strip() for line in reversed(tail or []) if line.strip()), "")
    if last and returncode is not None and returncode >= 0:
        what += f" (last output: {last[:300]})"
    return f"the GPU worker {what}"


def _package_root() -> str:
    import vidstudio

    return str(Path(vidstudio.__file__).resolve().parent.parent)


class WorkerSupervisor:
    """Owns the worker process.

    Args:
        on_message: ``on_message(header, payload)`` for every message the worker sends (called in the reader
            thread).
        on_exit: ``on_exit(reason, expected)`` when a worker process has ended (reader thread); ``expected`` is
            True when :meth:`stop` ended it.
        on_spawn: ``on_spawn(pid, restarts)`` when a worker process was started.
        env: extra environment variables for the worker (on top of the server's).
        python: the interpreter to run it with.
        plugin_state: the server's file of plugins disabled after a crash (``<data_dir>/plugins.json``): a worker
            that dies inside a plugin's code (a crash marker names it; see :mod:`vidstudio.plugins.manager`)
            disables that plugin there before the next worker starts, which then does not load it
            (:data:`~vidstudio.plugins.manager.CRASH_STATE_ENV`). None: crashes are only reported.

    Thread-safe: :meth:`send`, :meth:`kill` and :meth:`stop` may be called from any thread.
    """

    def __init__(
        self,
        on_message: Callable[[dict, bytes], None],
        on_exit: Callable[[str, bool], None],
        *,
        on_spawn: Callable[[int, int], None] | None = None,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
        log=None,
        plugin_state: Path | None = None,
    ):
        self.on_message = on_message
        self.on_exit = on_exit
        self.on_spawn = on_spawn
        self.env = dict(env or {})
        self.python = python
        self.log = log if log is not None else sys.stderr
        self.plugin_state = Path(plugin_state) if plugin_state is not None else None
        self.restarts = 0
        #: the job the worker was last sent and has not finished (named when a plugin crash disables a plugin).
        self._job: str | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._wire: Wire | None = None
        self._threads: list[threading.Thread] = []
        self._fails = 0
        #: why the server killed a worker on purpose, by process (so its exit is not described as a crash).
        self._kill_reasons: dict[int, str] = {}

    @property
    def pid(self) -> int | None:
        """The running worker's process id, or None."""
        p = self._proc
        return p.pid if p is not None and p.poll() is None else None

    def start(self) -> None:
        """Starts the first worker (returns at once; ``ready`` arrives through ``on_message``)."""
        self._spawn()

    def _spawn(self) -> None:
        parent, child = socket.socketpair()
        env = {**os.environ, **self.env, "VIDSTUDIO_PLUGIN_ROLE": "worker"}  # its crashes are reported on the job
        if self.plugin_state is not None:
            env[CRASH_STATE_ENV] = str(self.plugin_state)  # it does not load the plugins that crashed it
        root = _package_root()
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("PYTHONUNBUFFERED", "1")
        cmd = [self.python, "-m", "vidstudio.jobs.worker", "--fd", str(child.fileno())]
        try:
            proc = subprocess.Popen(
                cmd,
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        finally:
            child.close()
        wire = Wire(parent)
        with self._lock:
            self._proc, self._wire = proc, wire
            started = time.monotonic()
        pump = threading.Thread(target=self._pump, args=(proc,), name="vidstudio-worker-log", daemon=True)
        reader = threading.Thread(
            target=self._read, args=(proc, wire, started, pump), name="vidstudio-worker-reader", daemon=True
        )
        self._threads = [pump, reader]
        pump.start()
        reader.start()
        if self.on_spawn is not None:
            self.on_spawn(proc.pid, self.restarts)

    def _pump(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(line)
            try:
                print(f"[worker] {line}", file=self.log, flush=True)
            except (OSError, ValueError):
                pass
        proc.stdout.close()

    def _read(self, proc: subprocess.Popen, wire: Wire, started: float, pump: threading.Thread) -> None:
        while True:
            try:
                header, payload = wire.recv()
            except WireClosed:
                break
            if header.get("ev") == "finished":
                self._job = None
            try:
                self.on_message(header, payload)
            except Exception as e:  # a bug in the handler must not stop the relay
                print(f"vidstudio server: worker message not handled: {e.__class__.__name__}: {e}", file=self.log)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # the socket closed but the process lingers: end it
            proc.kill()
            rc = proc.wait()
        pump.join(timeout=2)
        wire.close()
        expected = self._stopping.is_set()
        reason = describe_exit(rc, list(self.tail))
        with self._lock:
            why = self._kill_reasons.pop(proc.pid, None)
        config = self.env.get("VIDSTUDIO_CONFIG_DIR")
        running = take_markers(proc.pid, Path(config) if config else None)
        if why is not None:  # the server's own kill, not a crash: say so (health shows it as last_exit)
            reason = f"the GPU worker was killed by the server: {why}"
        elif running and (rc != 0 or not expected):  # name the plugin whose code was running (the job's error)
            crash, died = running[0], reason
            reason += f" while plugin '{crash.plugin}' was running ({crash.what})"
            if self.plugin_state is not None and not expected and rc not in _NOT_THE_PLUGINS_FAULT:
                reason += self._disable(crash, died)
        self._job = None
        with self._lock:
            if self._proc is proc:
                self._proc, self._wire = None, None
        try:
            self.on_exit(reason, expected)
        except Exception as e:
            print(f"vidstudio server: worker exit not handled: {e.__class__.__name__}: {e}", file=self.log)
        if expected:
            return
        uptime = time.monotonic() - started
        self._fails = 0 if uptime >= STABLE_AFTER else self._fails + 1
        delay = 0.0 if self._fails <= 1 else min(MAX_BACKOFF, 0.5 * 2 ** (self._fails - 1))
        if self._stopping.wait(delay):
            return
        self.restarts += 1
        self.tail.clear()
        try:
            self._spawn()
        except OSError as e:
            self.on_exit(f"the GPU worker could not be started: {e}", False)

    def _disable(self, crash: PluginCrash, died: str) -> str:
        """Disables the plugin that crashed the worker on this server (``died``: how the worker ended, in
        words); returns what to add to the exit's reason."""
        assert self.plugin_state is not None
        try:
            record_crash_disabled(self.plugin_state, crash, died, self._job)
        except OSError as e:
            print(
                f"vidstudio server: cannot disable plugin '{crash.plugin}' in {self.plugin_state}: {e}", file=self.log
            )
            return ""
        return (
            f"; plugin '{crash.plugin}' is now disabled on this server "
            f"(enable it again with POST /v1/plugins/{crash.plugin}/enable or "
            f"`vidstudio plugins enable {crash.plugin} --server URL`)"
        )

    def send(self, header: dict) -> bool:
        """Sends a message to the worker; returns False when there is no worker to send to (its death is
        reported through ``on_exit``)."""
        wire = self._wire
        if wire is None:
            return False
        if header.get("op") == "run":
            self._job = str(header.get("job") or "") or None
        try:
            wire.send(header)
            return True
        except WireClosed:
            return False

    def kill(self, reason: str | None = None) -> None:
        """Kills the worker process at once (SIGKILL); a new one starts as after any death.

        Args:
            reason: why the server kills it (``"job gen_... did not stop 30 s after it was cancelled"``); the
                exit is then reported as ``"the GPU worker was killed by the server: <reason>"`` instead of
                as a crash, and the crash markers of plugins it was running are dropped.
        """
        with self._lock:
            proc = self._proc
            if proc is not None and reason:
                self._kill_reasons[proc.pid] = reason
        if proc is not None and proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the worker for good: asks it to finish (cancelling its job), then kills it after ``timeout``
        seconds. Blocks until it is gone."""
        self._stopping.set()
        with self._lock:
            proc, wire = self._proc, self._wire
        if proc is not None:
            if wire is not None:
                try:
                    wire.send({"op": "shutdown"})
                except WireClosed:
                    pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for t in self._threads:
            t.join(timeout=5)
