"""Generate through the generation server: the connection, the thread that follows the server's events, and
the jobs they feed into the Jobs pane and the timeline.

* :class:`GenerationService` (QtCore, no widgets) owns the connection to the server the settings name
  (:class:`~vidstudio.ui.state.settings.ServerConfig`): a remote URL and token, or a local ``vidstudio serve``
  (:class:`vidstudio.client.LocalServer`) started in the background on the first Generate and stopped when the
  window closes. It submits projects (:meth:`GenerationService.generate`), cancels jobs, downloads results
  and puts them on the timeline (:meth:`vidstudio.ui.state.view.ViewState.add_result`).
* :class:`FeedBridge` runs the client's event feed (:class:`vidstudio.client.EventFeed`: reconnection with a
  back-off, resync of the tracked jobs, jobs gone from the server) on one background thread and re-emits what it
  yields as Qt signals on the GUI thread.
* :class:`ServerJob` is one server job as a row of the Jobs pane (a :class:`vidstudio.ui.state.tasks.Job`).

The GUI thread never waits on the network or the disk: every client call runs on the window's
:class:`~vidstudio.ui.state.tasks.TaskRunner` or on the feed thread. Nothing here imports the server, the job
machinery, the backend or torch: only :mod:`vidstudio.client` and :mod:`vidstudio.protocol`.
"""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from vidstudio.client import Client, ClientError, Conflict, EventFeed, LocalServer
from vidstudio.media.clip import Clip
from vidstudio.procs import process_alive
from vidstudio.project import Project
from vidstudio.ui import genops
from vidstudio.ui.state.settings import ServerConfig
from vidstudio.ui.state.tasks import Job, JobList, TaskRunner


# ================================================================================================ events
class FeedBridge(QObject):
    """The Qt side of the client's event feed (:class:`vidstudio.client.EventFeed`, which owns reconnection with
    back-off, resync of the tracked jobs and missing-job reports): runs the feed of one server on a background
    thread (named ``vidstudio-events``) and re-emits its items as signals, delivered on the GUI thread (queued
    connections).

    Signals:
        event(protocol event, QImage or None): a server event; a preview's JPEG is decoded on the feed thread.
        synced(list of protocol Jobs, bool): the jobs of a (re)connection's resync, oldest first; True for the
            feed's first one.
        connection(bool, str): the stream is up (True, "") or down (False, why and when it tries again, in words).
        missing(str, str): a tracked job the server no longer knows (job id, in words); it is tracked no more.
    """

    event = Signal(object, object)
    synced = Signal(object, bool)
    connection = Signal(bool, str)
    missing = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._feed: EventFeed | None = None
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        """True while a feed thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def follow(self, client: Client, track: list[str] | None = None) -> EventFeed:
        """Follows ``client``'s server from now on (a feed followed before is stopped without waiting), tracking
        ``track`` (job ids) from the start. Returns the new feed."""
        self.stop(wait=False)
        feed = EventFeed(client, track=track or ())
        thread = threading.Thread(target=self._run, args=(feed,), name="vidstudio-events", daemon=True)
        self._feed, self._thread = feed, thread
        thread.start()
        return feed

    def track(self, job_id: str) -> None:
        """Tracks a job (e.g. one just submitted) so that resyncs fetch it until it has finished."""
        if self._feed is not None:
            self._feed.track(job_id)

    def stop(self, wait: bool = True, timeout: float = 5.0) -> None:
        """Stops the feed: its thread closes the stream within :data:`vidstudio.client.feed.POLL` seconds (the
        calling thread never waits on the network for it); with ``wait``, waits up to ``timeout`` seconds for the
        thread to end."""
        feed, thread, self._feed, self._thread = self._feed, self._thread, None, None
        if feed is not None:
            feed.close()
        if wait and thread is not None and thread.is_alive() and threading.current_thread() is not thread:
            thread.join(timeout)

    def _emit(self, feed: EventFeed, signal: Any, *args: Any) -> None:
        if not feed.closed:
            try:
                signal.emit(*args)
            except RuntimeError:  # the bridge was deleted with its window
                feed.close()

    def _run(self, feed: EventFeed) -> None:
        url = feed.client.url
        for item in feed:
            kind = item.type
            if kind == "disconnected":
                if item.error is not None:
                    words = f"{genops.error_text(item.error, url)}; trying again in {item.retry_in:g} s"
                else:
                    words = f"{item.message}; reconnecting in {item.retry_in:g} s"
                self._emit(feed, self.connection, False, words)
            elif kind == "connected":
                self._emit(feed, self.connection, True, "")
            elif kind == "synced":
                self._emit(feed, self.synced, item.jobs, item.first)
            elif kind == "missing":
                self._emit(
                    feed, self.missing, item.job_id, f"the server at {url} no longer has this job ({item.error.detail})"
                )
            else:
                image = None
                if kind == "preview":
                    image = QImage.fromData(item.jpeg(), "JPEG")
                    image = image if not image.isNull() else None
                self._emit(feed, self.event, item, image)


# ================================================================================================ jobs
class ServerJob(Job):
    """A job on the generation server, as a row of the Jobs pane.

    Attributes (besides :class:`~vidstudio.ui.state.tasks.Job`'s):
        server_id: the server's job id (None while it is being submitted).
        ours: submitted from this window (its result is downloaded and put on the timeline).
        output_node: the node rendered; project_path: the project's file when it was submitted (None: unsaved).
        record: the latest :class:`vidstudio.protocol.Job` record.
        result_index: the result track it became (``session.view.results`` index), or None.
    """

    def __init__(
        self,
        service: GenerationService,
        title: str,
        *,
        ours: bool,
        output_node: str,
        project_path: Path | None = None,
        server_id: str | None = None,
    ):
        super().__init__(title, "generate")
        self.service = service
        self.server_id = server_id
        self.ours = ours
        self.output_node = output_node
        self.project_path = project_path
        self.record: Any = None
        self.fetching = False
        self.result_index: int | None = None
        self.source: Any = None  # the session's Project object it was generated from (results go back to it)

    @property
    def importable(self) -> bool:
        """True for a job that succeeded on the server whose result is not on this timeline yet."""
        return self.status == "done" and not self.output and self.server_id is not None

    def import_result(self) -> None:
        """Downloads the result of a job submitted elsewhere and puts it on the current timeline."""
        if self.importable:
            self.service.import_result(self)

    def cancel(self) -> None:
        """Cancels the job on the server (``DELETE``): the row says "cancelling..." until it is cancelled."""
        if not self.is_final:
            self.token.cancel("cancelled by the user")
            self.update(message="cancelling...", force=True)
            self.service.cancel_job(self)

    # ------------------------------------------------------------------------------------------ records
    def apply(self, rec: Any) -> None:
        """Takes a server record (:class:`vidstudio.protocol.Job`): status, progress, ETA, error."""
        if self.is_final:
            return
        self.record = rec
        self.server_id = rec.id
        if rec.progress is not None:
            self._take_progress(rec.progress)
        self.eta = None if rec.finished else rec.eta
        if rec.status == "queued":
            pos = f" (position {rec.queue_position})" if rec.queue_position else ""
            self.update(
                0.0,
                "cancelling..." if self.token.cancelled else f"queued on the server{pos}",
                status="queued",
                force=True,
            )
        elif rec.status == "running":
            self.update(
                rec.progress.overall if rec.progress else None, self._running_message(rec), status="running", force=True
            )
        elif rec.status == "succeeded":
            if not self.ours:
                self.finish("done", self._done_words(rec) + " (submitted elsewhere: not downloaded)")
            elif not self.fetching:
                self.update(1.0, "downloading the result…", status="running", force=True)
        elif rec.status == "failed":
            self.eta = None
            self.finish("failed", rec.error or "failed on the server (no reason given)")
        elif rec.status == "cancelled":
            self.eta = None
            why = rec.error or ""
            self.finish("cancelled", "cancelled" + (f": {why}" if why and why != "cancelled" else ""))

    def apply_progress(self, ev: Any) -> None:
        """Takes a progress event: node, step/total, seconds per step, overall fraction, ETA."""
        if self.is_final:
            return
        self._take_progress(ev.progress)
        self.eta = ev.eta
        first = self.status != "running"
        self.update(
            ev.progress.overall,
            self._running_message(self.record, ev.progress),
            status="running" if first else None,
            force=first,
        )

    def apply_preview(self, ev: Any, image: QImage | None) -> None:
        """Takes a step preview (decoded off the GUI thread)."""
        if self.is_final or image is None:
            return
        self.preview = image
        self.step, self.total = ev.step, ev.total
        self.update(force=True)

    def _take_progress(self, p: Any) -> None:
        self.node = p.node
        self.step, self.total = p.step, p.total
        if p.seconds_per_step:
            self.seconds_per_step = p.seconds_per_step

    def _running_message(self, rec: Any, p: Any = None) -> str:
        if self.token.cancelled or (rec is not None and rec.cancel_requested):
            return "cancelling..."
        p = p if p is not None else (rec.progress if rec is not None else None)
        if p is None:
            return "running"
        msg = p.message or "running"
        if p.node and p.node_type:
            msg = f"{p.node} ({p.node_type}): {msg}"
        if p.nodes_total:
            msg += f"  ·  node {min(p.nodes_done + 1, p.nodes_total)} of {p.nodes_total}"
        return msg

    @staticmethod
    def _done_words(rec: Any) -> str:
        o = rec.output
        if o is None:
            return "finished"
        return f"finished: {o.frame_count} frames of {o.width}×{o.height} at {o.fps} fps" + (
            f", seed {o.seed}" if o.seed is not None else ""
        )


def load_result_clip(path: str | Path, label: str) -> Clip:
    """Decodes a result MP4 into a clip (on a worker thread), keeping the frames as uint8 (a quarter of the
    memory of float32; the clip hands out float32 frames in [0, 1] as usual).

    Raises:
        vidstudio.errors.MediaError: when the file cannot be decoded.
    """
    from vidstudio.media.video import iter_video_frames

    frames = [np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8) for f in iter_video_frames(path)]
    if not frames:
        from vidstudio.errors import MediaError

        raise MediaError(f"{path}: no frames could be decoded")
    arr = np.stack(frames)
    arr.setflags(write=False)
    t, h, w = arr.shape[:3]
    return Clip(t, h, w, lambda i: arr[i], label=label)


# ================================================================================================ service
class GenerationService(QObject):
    """The connection to the generation server and the server jobs of one window (see the module docstring).

    Args:
        session: where results land; runner: the window's worker threads; jobs: the Jobs pane's list.
        config: the server settings (default: read from the settings file).

    Attributes:
        config: the :class:`ServerConfig` in use; state: ``idle`` (local server not started yet), ``starting``,
        ``connected``, ``unreachable``; status: the banner's text; client: the :class:`vidstudio.client.Client`
        (None until there is a server); local: the :class:`vidstudio.client.LocalServer` this window started.

    Signals: ``state_changed()`` (banner), ``result_added(ServerJob)`` (a result is on the timeline),
    ``connected()`` (the event stream is up).
    """

    state_changed = Signal()
    result_added = Signal(object)
    connected = Signal()

    def __init__(
        self,
        session: Any,
        runner: TaskRunner,
        jobs: JobList,
        config: ServerConfig | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.jobs = jobs
        self.config = config if config is not None else ServerConfig.load()
        self.state = "idle"
        self.status = ""
        self.client: Client | None = None
        self.local: LocalServer | None = None
        self.external_pid: int | None = None  # a local server another program started (not stopped here)
        self.lease: Any = None  # this window's lease on the local server (vidstudio.client.lease)
        self.worker: Any = None
        self.by_id: dict[str, ServerJob] = {}
        self._bridge = FeedBridge(self)
        self._bridge.event.connect(self._on_event)
        self._bridge.synced.connect(self._on_synced)
        self._bridge.connection.connect(self._on_connection)
        self._bridge.missing.connect(self._on_missing)
        self._waiting: list[tuple[Callable[[Client], None], Callable[[str], None]]] = []
        self._submitting = 0
        self._stash: dict[str, list[tuple[str, Any, Any]]] = {}
        self._closed = False
        self._asking_health = False
        self._generation = 0  # increments with each (re)configuration: late answers of an old server are dropped
        self._lock = threading.Lock()
        self._set_state("idle")

    # ------------------------------------------------------------------------------------------ state
    @property
    def url(self) -> str | None:
        """The server's URL (None until known)."""
        if self.client is not None:
            return self.client.url
        return None if self.config.is_local else (self.config.url or None)

    @property
    def local_pid(self) -> int | None:
        """The pid of the local server this window started, while it runs."""
        return self.local.pid if self.local is not None else None

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        c = self.config
        if c.is_local:
            where = f"data in {genops.local_server_data_dir()}"
            if state == "idle":
                text = f"Local generation server: starts when you press Generate ({where})."
            elif state == "starting":
                text = f"starting local server… ({where})"
            elif state == "connected":
                pid = self.local_pid or self.external_pid
                text = f"Local generation server at {self.url}" + (f" (pid {pid})" if pid else "")
            else:
                text = detail or "the local server is not running"
        else:
            if not c.url:
                text, state = "No remote server URL: set it in Edit > Preferences.", "unreachable"
                self.state = state
            elif state == "connected":
                text = f"Generation server {c.url}"
            elif state == "starting":
                text = f"connecting to {c.url}…"
            else:
                text = detail or f"server unreachable at {c.url}"
        if state == "connected" and self.worker is not None:
            w = self.worker
            text += f"  ·  worker {w.state}"
            if w.device:
                text += f" on {w.device.split(' (torch')[0]}"
            if w.loaded_model:
                text += f", model {w.loaded_model} loaded"
            if w.state == "died" and w.last_exit:
                text += f" ({w.last_exit}; restarting)"
        if state == "connected" and detail:
            text += f"  ·  {detail}"
        self.status = text
        self.state_changed.emit()

    def start(self) -> None:
        """Connects to a remote server at once (its event stream lists its jobs); a local server waits for the
        first Generate."""
        if not self.config.is_local and self.config.url:
            self._connect_remote()
        else:
            self._set_state("idle")

    def _connect_remote(self) -> None:
        try:
            self.client = Client(self.config.url, self.config.token or None)
        except ClientError as e:  # InvalidServerUrl
            self.client = None
            self._set_state("unreachable", f"{e} (Edit > Preferences)")
            return
        self._set_state("starting")
        self._follow()

    def _follow(self) -> None:
        assert self.client is not None
        self._bridge.follow(self.client, self._tracked_ids())

    def ensure(self, ready: Callable[[Client], None], failed: Callable[[str], None]) -> None:
        """Calls ``ready(client)`` once there is a server (starting the local one in the background when it is
        not running), or ``failed(message)`` when there cannot be one."""
        if self._closed:
            failed("the window is closing")
            return
        if self.state != "starting" and (
            (self.local is not None and self.local.pid is None)
            or (self.external_pid and not process_alive(int(self.external_pid)))
        ):
            self._forget_dead_local()  # the local server ended (crashed, killed, its window closed): start anew
        if self.client is not None:
            ready(self.client)
            return
        if not self.config.is_local:
            failed(self.status or "no generation server: set one in Edit > Preferences")
            return
        self._waiting.append((ready, failed))
        if self.state == "starting":
            return
        self._set_state("starting")
        gen = self._generation
        self.runner.submit(
            self._start_local,
            gen,
            on_done=lambda r: self._local_started(gen, r),
            on_error=lambda e: self._local_failed(gen, e),
        )

    def _forget_dead_local(self) -> None:
        with self._lock:
            dead, self.local = self.local, None
            self.external_pid = None
        if dead is not None:
            atexit.unregister(dead.stop)
            dead.stop()  # reaps the process (it has ended: no waiting)
        self._release_lease()  # a lease on a server that ended would keep the next one alive for nobody
        self._stop_follower(wait=False)
        if self.client is not None:
            self.client.close()
        self.client = None
        self.worker = None
        for job in self.active_jobs():
            if job.server_id is not None:
                job.finish("failed", "the local server ended while this job was running")
        self._set_state("idle")

    def _start_local(self, gen: int) -> tuple[str, Any]:
        """Worker: uses a server already running on the data folder (another window's local server, found with
        its token through :meth:`LocalServer.find_running`, or a ``vidstudio serve`` that answers without a
        token), else starts one. Returns ``("external", (url, token, pid))`` or ``("started", LocalServer)``."""
        data_dir = genops.local_server_data_dir()
        running = LocalServer.find_running(data_dir)
        if running is not None:
            url, token, pid = running
            return "external", (url, token, pid)
        info = data_dir / "server.json"
        if info.is_file():
            try:
                d = json.loads(info.read_text())
                with Client(str(d["url"]), timeout=3.0) as c:
                    c.health()
                return "external", (str(d["url"]), None, d.get("pid"))
            except (OSError, ValueError, KeyError, TypeError, ClientError):
                pass  # stale (a crashed server) or needs a token: start our own (it says if the folder is taken)
        server = LocalServer(data_dir, models_dirs=self.config.models_dirs)
        with self._lock:
            if self._closed or gen != self._generation:
                raise ClientError("not started: the window closed or the server settings changed")
            self.local = server
        atexit.register(server.stop)
        try:
            server.start(timeout=90.0)
        except BaseException:
            atexit.unregister(server.stop)
            with self._lock:
                if self.local is server:
                    self.local = None
            raise
        with self._lock:
            late = self._closed or gen != self._generation
        if late:  # closed (or reconfigured) while it started: never leave it running
            server.stop()
            atexit.unregister(server.stop)
            raise ClientError("stopped: the window closed or the server settings changed while it started")
        return "started", server

    def _local_started(self, gen: int, result: tuple[str, Any]) -> None:
        if self._closed or gen != self._generation:
            return
        kind, value = result
        if kind == "external":
            url, token, pid = value
            self.external_pid = pid
            self.client = Client(url, token)
        else:
            self.client = value.client()
        from vidstudio.client.lease import Lease

        self._release_lease()
        self.lease = Lease(genops.local_server_data_dir()).acquire()  # this window uses it while it is open
        self._set_state("starting")
        self._follow()
        waiting, self._waiting = self._waiting, []
        for ready, _failed in waiting:
            ready(self.client)

    def _local_failed(self, gen: int, e: BaseException) -> None:
        if self._closed or gen != self._generation:
            return
        msg = f"the local server did not start: {e}"
        self._set_state("unreachable", msg)
        waiting, self._waiting = self._waiting, []
        for _ready, failed in waiting:
            failed(msg)

    # ------------------------------------------------------------------------------------------ events
    @Slot(bool, str)
    def _on_connection(self, up: bool, message: str) -> None:
        if self._closed:
            return
        if up:
            self._set_state("connected")
            self.connected.emit()
        else:
            self._set_state("unreachable", message)

    def _tracked_ids(self) -> list[str]:
        """Ids of the server jobs shown as unfinished (what a new feed starts tracking)."""
        return [job_id for job_id, job in list(self.by_id.items()) if not job.is_final]

    @Slot(str, str)
    def _on_missing(self, job_id: str, message: str) -> None:
        job = self.by_id.get(job_id)
        if not self._closed and job is not None and not job.is_final:
            job.finish("failed", message)

    @Slot(object, bool)
    def _on_synced(self, records: list, first: bool) -> None:
        if self._closed:
            return
        for rec in records:
            job = self.by_id.get(rec.id)
            if job is not None:
                self._apply(rec)
            elif first or not rec.finished:
                self._apply(rec)  # jobs from before this window (first listing), and new ones from elsewhere

    @Slot(object, object)
    def _on_event(self, ev: Any, image: Any) -> None:
        if self._closed:
            return
        t = ev.type
        if t == "hello":
            self.worker = ev.worker
            for rec in ev.jobs:
                self._apply(rec)
            self._set_state("connected")
        elif t == "worker":
            self.worker = ev.worker
            self._set_state("connected")
        elif t == "job":
            self._apply(ev.job)
        elif t in ("progress", "preview"):
            job = self.by_id.get(ev.id)
            if job is None:
                if self._submitting:
                    self._stash.setdefault(ev.id, []).append((t, ev, image))
                return
            if t == "progress":
                job.apply_progress(ev)
            else:
                job.apply_preview(ev, image)

    def _refresh_worker(self) -> None:
        """Asks the server how its worker is (state, loaded model) on a worker thread, for the banner (one
        question at a time)."""
        client = self.client
        if client is None or self._closed or self._asking_health:
            return
        self._asking_health = True
        gen = self._generation

        def done(h: Any) -> None:
            self._asking_health = False
            if not self._closed and gen == self._generation and self.state == "connected":
                self.worker = h.worker
                self._set_state("connected")

        def failed(_e: BaseException) -> None:
            self._asking_health = False

        self.runner.submit(client.health, on_done=done, on_error=failed)

    def _apply(self, rec: Any) -> None:
        job = self.by_id.get(rec.id)
        before = job.record.status if (job is not None and job.record is not None) else None
        if before != rec.status and rec.status != "queued":
            self._refresh_worker()  # a job started or finished: the worker is busy, idle, or has a new model
        if job is None:
            if self._submitting:  # perhaps ours, answered after its first events: decide when the answer comes
                self._stash.setdefault(rec.id, []).append(("job", rec, None))
                return
            job = ServerJob(
                self,
                f"Server job {rec.id[-6:]} · {rec.output_node}",
                ours=False,
                output_node=rec.output_node,
                server_id=rec.id,
            )
            self.by_id[rec.id] = job
            self.jobs.add(job)
        job.apply(rec)
        if rec.status == "succeeded" and job.ours and not job.fetching and not job.is_final:
            self._fetch(job)

    def _flush_stash(self) -> None:
        if self._submitting:
            return
        stash, self._stash = self._stash, {}
        for items in stash.values():
            for kind, ev, _image in items:
                if kind == "job":
                    self._apply(ev)

    # ------------------------------------------------------------------------------------------ generate
    def generate(self, project: Project, output_node: str, label: str, source: Any = None) -> ServerJob:
        """Submits ``project`` (a private copy of the document) for ``output_node`` and returns its row.

        ``source``: the session's project it is a copy of; the result lands on the timeline only while that
        project is open (else it is downloaded and the row says where).

        The images the output reads are uploaded by the client on a worker thread; a local server is started
        first when needed. Failures land in the row, in words.
        """
        path = project.path
        job = ServerJob(
            self, f"Generate {output_node} · {label}", ours=True, output_node=output_node, project_path=path
        )
        job.source = source if source is not None else self.session.project
        self.jobs.add(job)
        job.update(
            0.0,
            "starting local server…"
            if (self.config.is_local and self.client is None)
            else f"submitting to {self.url}…",
            status="queued",
            force=True,
        )
        self._submitting += 1
        gen = self._generation
        done_once = {"done": False}

        def finished() -> bool:
            if done_once["done"]:
                return False
            done_once["done"] = True
            self._submitting -= 1
            return True

        def submitted(rec: Any) -> None:
            if not finished() or gen != self._generation:
                self._flush_stash()
                return
            self.by_id[rec.id] = job
            self._bridge.track(rec.id)
            job.apply(rec)
            for kind, ev, image in self._stash.pop(rec.id, []):
                if kind == "job":
                    self._apply(ev)
                elif kind == "progress":
                    job.apply_progress(ev)
                else:
                    job.apply_preview(ev, image)
            self._flush_stash()
            if job.token.cancelled:
                self.cancel_job(job)
            elif rec.status == "succeeded" and not job.fetching:
                self._fetch(job)

        def refused(e: BaseException | str) -> None:
            if not finished():
                return
            self._flush_stash()
            msg = e if isinstance(e, str) else genops.error_text(e, self.url)
            job.finish("failed", msg)

        def ready(client: Client) -> None:
            if job.token.cancelled:
                finished()
                self._flush_stash()
                job.finish("cancelled", "cancelled before it was submitted")
                return
            job.update(message=f"submitting to {client.url}…", force=True)
            self.runner.submit(self._submit, client, project, output_node, on_done=submitted, on_error=refused)

        self.ensure(ready, refused)
        return job

    def _submit(self, client: Client, project: Project, output_node: str) -> Any:
        """Sends ``project`` (the private copy) on a worker thread; for the local server, the model paths inside
        the model folders of Preferences go as the server's model ids first (:mod:`model_ids`).

        Raises:
            ModelError: a model path the local server cannot see (naming the node, parameter and what to do).
        """
        if self.config.is_local:
            from vidstudio.errors import ModelError
            from vidstudio.ui.state.model_ids import to_server_ids

            needed = set(genops.upstream(project, output_node)) | {output_node}
            problems = to_server_ids(project, self.config.models_dirs, needed)
            if problems:
                raise ModelError("; ".join(f"node {nid!r}, {name}: {why}" for nid, name, why in problems))
        return client.submit_project(project, output_node)

    def cancel_job(self, job: ServerJob) -> None:
        """Asks the server to cancel ``job`` (on a worker thread); a job still being submitted is cancelled as
        soon as the server has it."""
        client = self.client
        if job.server_id is None or client is None or self._closed:
            return

        def answered(rec: Any) -> None:
            if not self._closed:
                self._apply(rec)

        def failed(e: BaseException) -> None:
            if isinstance(e, Conflict):  # it finished meanwhile: its record says how
                return
            if not job.is_final:
                job.update(message=f"cannot cancel: {genops.error_text(e, client.url)}", force=True)

        self.runner.submit(client.cancel, job.server_id, on_done=answered, on_error=failed)

    def import_result(self, job: ServerJob) -> None:
        """Downloads a succeeded job of another client (next to the open project) and puts it on the timeline."""
        if self._closed or job.fetching:
            return
        job.source = self.session.project
        job.project_path = self.session.project.path
        job.update(status="running", force=True)
        self._fetch(job)

    def _fetch(self, job: ServerJob) -> None:
        """Downloads a succeeded job's MP4 next to the project (``renders/``) on a worker thread, decodes it
        and puts it on the timeline as a result track; the Viewer shows it."""
        client = self.client
        if client is None or job.server_id is None:
            return
        job.fetching = True
        job.update(1.0, "downloading the result…", status="running", force=True)
        dest = genops.result_path(job.project_path, job.server_id, genops.renders_fallback_dir())
        label = f"{job.output_node} · {job.server_id[-6:]}"
        jid = job.server_id

        def work() -> tuple[Path, Clip]:
            path = client.download(jid, dest)
            return path, load_result_clip(path, label)

        def done(result: tuple[Path, Clip]) -> None:
            if self._closed:
                return
            path, clip = result
            if job.record is not None and job.record.output is not None and job.record.output.seed is not None:
                clip.metadata["vidstudio_seed"] = str(job.record.output.seed)
            if job.source is not None and job.source is not self.session.project:
                job.finish("done", f"downloaded to {path} (its project is no longer open)", str(path))
                return
            job.result_index = self.session.view.add_result(label, clip, str(path))
            job.finish("done", f"on the timeline: track '{label}'", str(path))
            self.result_added.emit(job)

        def failed(e: BaseException) -> None:
            job.fetching = False
            job.finish("failed", f"the result could not be downloaded: {genops.error_text(e, client.url)}")

        self.runner.submit(work, on_done=done, on_error=failed)

    # ------------------------------------------------------------------------------------------ lifecycle
    def active_jobs(self) -> list[ServerJob]:
        """Server jobs submitted from this window that have not finished (including downloads)."""
        return [j for j in self.by_id.values() if j.ours and not j.is_final] + [
            j for j in self.jobs.jobs if isinstance(j, ServerJob) and j.ours and j.server_id is None and not j.is_final
        ]

    def reconfigure(self, config: ServerConfig) -> None:
        """Uses another server from now on: the event thread follows the new one (a local server this window
        started is stopped on a worker thread); rows of the old server that were still active say so."""
        if config == self.config:
            return
        with self._lock:
            self._generation += 1
            old_local, self.local = self.local, None
        if self._release_lease() and old_local is not None:  # others use it: leave it running for them
            atexit.unregister(old_local.stop)
            old_local = None
        self._stop_follower(wait=False)
        if old_local is not None:
            self.runner.submit(self._stop_server, old_local)
        if self.client is not None:
            self.client.close()
        self.client = None
        self.external_pid = None
        self.worker = None
        for job in list(self.by_id.values()) + [j for j in self.jobs.jobs if isinstance(j, ServerJob)]:
            if not job.is_final:
                job.finish(
                    "failed",
                    "stopped with the local server: the server was changed in Preferences"
                    if old_local is not None
                    else f"no longer followed: the server was changed in Preferences (it may still run on "
                    f"{self.config.url or 'the old server'})",
                )
        self.by_id.clear()
        self._stash.clear()
        self._submitting = 0
        waiting, self._waiting = self._waiting, []
        for _ready, failed in waiting:
            failed("the server settings changed")
        self.config = config
        self.start()

    @staticmethod
    def _stop_server(server: LocalServer) -> None:
        server.stop_nowait()  # never blocks the GUI thread: SIGTERM now, the wait in a daemon thread
        atexit.unregister(server.stop)

    def _release_lease(self) -> bool:
        """Releases this window's lease; True when another window still uses the local server."""
        from vidstudio.client.lease import others_hold

        lease, self.lease = getattr(self, "lease", None), None
        if lease is None:
            return False
        lease.release()
        return others_hold(lease)

    def _stop_follower(self, wait: bool = True) -> None:
        self._bridge.stop(wait=wait)

    def shutdown(self) -> None:
        """Stops following events, releases this window's lease on the local server and stops that server when
        no other window holds one (without blocking: SIGTERM, and the server ends by itself should this process
        end first); a server a user started with ``vidstudio serve``, and a remote one, keep running."""
        if self._closed:
            return
        with self._lock:
            self._closed = True
            local, self.local = self.local, None
        self._stop_follower(wait=False)
        in_use = self._release_lease()
        if local is not None:
            if in_use:  # another window's jobs run on it: it stays (and outlives this process: its leases)
                atexit.unregister(local.stop)
            else:
                self._stop_server(local)
        if self.client is not None:
            self.client.close()
