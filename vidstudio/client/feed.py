"""The client's hold on a server's events: :class:`EventFeed` follows ``WS /v1/events`` for as long as it is
open, reconnects with a back-off when the stream drops, resyncs the jobs it tracks after every (re)connection,
and says when a tracked job is gone from the server. :func:`wait_for_job` waits for one job on top of it.

What a feed yields (iterate it, or call :meth:`EventFeed.next` with a timeout), besides the server's own
:mod:`vidstudio.protocol` events (``hello``, ``job``, ``progress``, ``preview``, ``worker``):

* :class:`Synced`: after each (re)connection, the records of the newest jobs plus every tracked job that is not
  among them (a job that finished while the stream was down is never left "running", however many jobs came
  after it), oldest first; the stream's ``hello`` (every unfinished job) is read first, so that unfinished jobs
  older than the newest page are tracked and resynced too;
* :class:`Connected`: the stream is up (after its :class:`Synced`);
* :class:`Disconnected`: the stream could not be opened (``error``: a :class:`~vidstudio.client.errors.ClientError`
  such as :class:`~vidstudio.client.errors.ServerUnreachable` or :class:`~vidstudio.client.errors.TokenRefused`)
  or it dropped (``error`` None); the next try comes after ``retry_in`` seconds, doubling from
  :data:`RECONNECT_FIRST` up to :data:`RECONNECT_MAX`;
* :class:`JobMissing`: a tracked job the server no longer knows (404 at a resync: another data folder, a wiped
  database); it is tracked no more.

A feed tracks every job it sees unfinished (in ``hello``, ``job`` events and resyncs) until it sees it finished,
plus the ids given to :meth:`EventFeed.track` (a job just submitted). One thread reads a feed; :meth:`EventFeed.close`
and :meth:`EventFeed.track` may be called from any thread. The GUI runs a feed on a worker thread and re-emits
its items as Qt signals (:mod:`vidstudio.ui.state.generation`); ``vidstudio render --server`` waits for its job
with :func:`wait_for_job` (through :meth:`vidstudio.client.Client.wait`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from vidstudio.client.errors import (
    ClientError,
    Conflict,
    NotFound,
    ServerRefused,
    ServerUnreachable,
    StreamClosed,
)
from vidstudio.protocol.constants import EVENT_HELLO, EVENT_JOB
from vidstudio.protocol.models import Job, JobEvent

if TYPE_CHECKING:
    from vidstudio.client.client import Client, EventStream

#: Back-off of the reconnection: first wait, longest wait (seconds).
RECONNECT_FIRST, RECONNECT_MAX = 0.5, 10.0
#: Seconds between the feed's looks at its close flag while the stream is quiet (the resolution of timeouts).
POLL = 0.25
#: How many of the server's newest jobs a resync lists (0: only the tracked ones are fetched).
LIST_LIMIT = 20


@dataclass(frozen=True)
class Connected:
    """The event stream of ``url`` is up (its :class:`Synced` came just before)."""

    url: str
    type: ClassVar[str] = "connected"


@dataclass(frozen=True)
class Disconnected:
    """The event stream of ``url`` is down.

    Attributes:
        error: why it could not be opened (a :class:`ClientError`), or None when an open stream dropped.
        retry_in: seconds until the next try.
        message: what happened, in words (``"the event stream of URL dropped"``, or the error's message).
    """

    url: str
    error: ClientError | None
    retry_in: float
    message: str
    type: ClassVar[str] = "disconnected"


@dataclass(frozen=True)
class Synced:
    """The job records of a resync (:class:`vidstudio.protocol.Job`, oldest first): the newest
    :data:`LIST_LIMIT` jobs and every tracked job besides; ``first``: the first resync of this feed."""

    jobs: list[Job]
    first: bool
    type: ClassVar[str] = "synced"


@dataclass(frozen=True)
class JobMissing:
    """The tracked job ``job_id`` is gone from the server (``error``: its 404)."""

    job_id: str
    error: NotFound
    type: ClassVar[str] = "missing"


class _Dropped(Exception):
    """The stream ended before its first message."""


class EventFeed:
    """Follows one server's events across reconnections (see the module docstring).

    Args:
        client: the server's :class:`~vidstudio.client.Client` (its calls are thread-safe).
        job: follow only this job's events (worker events always come); previews: include preview images.
        track: job ids to track from the start.
        list_limit: how many of the newest jobs each resync lists (0: fetch only the tracked ones).
        reconnect_first, reconnect_max: the back-off in seconds; poll: see :data:`POLL`; open_timeout: seconds
            to wait for the stream to open.
    """

    def __init__(
        self,
        client: Client,
        *,
        job: str | None = None,
        previews: bool = True,
        track: Iterable[str] = (),
        list_limit: int = LIST_LIMIT,
        reconnect_first: float = RECONNECT_FIRST,
        reconnect_max: float = RECONNECT_MAX,
        poll: float = POLL,
        open_timeout: float = 5.0,
    ):
        self.client = client
        self.job, self.previews, self.list_limit = job, previews, list_limit
        self.reconnect_first, self.reconnect_max = reconnect_first, reconnect_max
        self.poll, self.open_timeout = poll, open_timeout
        self._tracked: dict[str, None] = dict.fromkeys(track)  # insertion order: resyncs fetch in that order
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._stream: EventStream | None = None
        self._items = self._run()
        self._first = True
        self.connected = False

    # ------------------------------------------------------------------------------------------ tracking
    def track(self, job_id: str) -> None:
        """Tracks ``job_id`` (resynced after each reconnection until it is seen finished)."""
        with self._lock:
            self._tracked[job_id] = None

    def untrack(self, job_id: str) -> None:
        """Stops tracking ``job_id``."""
        with self._lock:
            self._tracked.pop(job_id, None)

    def tracked(self) -> list[str]:
        """The tracked job ids, in the order they were first tracked."""
        with self._lock:
            return list(self._tracked)

    def _see(self, job: Job) -> None:
        if job.finished:
            self.untrack(job.id)
        else:
            self.track(job.id)

    # ------------------------------------------------------------------------------------------ reading
    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed.is_set()

    def close(self) -> None:
        """Ends the feed from any thread: a read in progress returns within :data:`POLL` seconds."""
        self._closed.set()
        stream = self._stream
        if stream is not None:
            stream.close()

    def next(self, timeout: float | None = None) -> Any:
        """The next item (a protocol event, :class:`Synced`, :class:`Connected`, :class:`Disconnected` or
        :class:`JobMissing`), or None when ``timeout`` seconds pass without one (give or take :data:`POLL`).

        Raises:
            StreamClosed: once the feed is closed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                item = next(self._items)
            except StopIteration:
                raise StreamClosed("the event feed is closed") from None
            if item is not None:
                return item
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def __iter__(self) -> Iterator[Any]:
        """Items until the feed is closed."""
        while True:
            try:
                yield self.next()
            except StreamClosed:
                return

    def __enter__(self) -> EventFeed:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _pause(self, seconds: float) -> Iterator[None]:
        """Yields None every :attr:`poll` seconds for ``seconds`` (stops early once closed)."""
        end = time.monotonic() + seconds
        while not self._closed.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            if self._closed.wait(min(self.poll, left)):
                return
            yield None

    def _resync(self) -> Iterator[Any]:
        """Yields the :class:`JobMissing` items of a resync, then its :class:`Synced` (none when the server
        could not be asked: the next connection asks again)."""
        try:
            page = self.client.jobs(limit=self.list_limit) if self.list_limit > 0 else []  # newest first
            listed = {j.id for j in page}
            fetched = []
            for job_id in self.tracked():
                if job_id in listed:
                    continue
                try:
                    fetched.append(self.client.job(job_id))
                except NotFound as e:
                    self.untrack(job_id)
                    yield JobMissing(job_id, e)
        except Exception:  # unreachable again, or the client was closed (a change of server): the next connection
            return
        jobs = sorted(fetched + page[::-1], key=lambda j: j.created_at)  # oldest first (stable for equal times)
        for j in jobs:
            self._see(j)
        yield Synced(jobs, self._first)
        self._first = False

    def _run(self) -> Iterator[Any]:
        url = self.client.url
        wait = self.reconnect_first
        while not self._closed.is_set():
            try:
                stream = self.client.events(job=self.job, previews=self.previews, open_timeout=self.open_timeout)
            except Exception as e:  # a ClientError; or the client was closed by a change of server
                err = (
                    e
                    if isinstance(e, ClientError)
                    else ClientError(f"cannot open the event stream of {url}: {e.__class__.__name__}: {e}", url=url)
                )
                self.connected = False
                yield Disconnected(url, err, wait, str(err))
                yield from self._pause(wait)
                wait = min(wait * 2, self.reconnect_max)
                continue
            self._stream = stream
            try:
                if self._closed.is_set():
                    return
                message = f"the event stream of {url} dropped"
                try:  # the hello message lists every unfinished job: they are tracked before the resync
                    pending = [stream.next(timeout=self.open_timeout)]
                except StreamClosed:
                    pending = []
                except Exception as e:
                    pending, message = [], f"unreadable event from {url}: {e}"
                for ev in pending:
                    if ev is not None and ev.type == EVENT_HELLO:
                        for j in ev.jobs:
                            self._see(j)
                if not pending:  # closed before it said hello
                    raise _Dropped(message)
                yield from self._resync()
                self.connected = True
                yield Connected(url)
                wait = self.reconnect_first
                while not self._closed.is_set():
                    if pending:
                        ev = pending.pop()
                    else:
                        try:
                            ev = stream.next(timeout=self.poll)
                        except StreamClosed:
                            break
                        except Exception as e:  # a message this client cannot read: drop the connection, resync
                            message = f"unreadable event from {url}: {e}"
                            break
                    if ev is None:
                        yield None
                        continue
                    if ev.type == EVENT_JOB:
                        self._see(ev.job)
                    elif ev.type == EVENT_HELLO:
                        for j in ev.jobs:
                            self._see(j)
                    yield ev
            except _Dropped:
                pass
            finally:
                self._stream = None
                stream.close()
            if self._closed.is_set():
                return
            self.connected = False
            yield Disconnected(url, None, wait, message)
            yield from self._pause(wait)
            wait = min(wait * 2, self.reconnect_max)


def wait_for_job(
    client: Client,
    job_id: str,
    *,
    on_event: Callable[[Any], None] | None = None,
    timeout: float | None = None,
    poll: float = 2.0,
    cancel: Any = None,
    give_up: float = 60.0,
) -> Job:
    """Waits until job ``job_id`` has finished, passing its events to ``on_event`` as they come.

    Follows the job through an :class:`EventFeed` (a dropped stream is reopened and the job resynced, so a server
    restart only slows the wait down); while the stream is down the job is also asked for over HTTP every
    ``poll`` seconds (a network that passes HTTP but not WebSockets still works).

    Args:
        cancel: an object with a ``cancelled`` property (a :class:`vidstudio.progress.CancelToken`, e.g. set by
            Ctrl-C or a Cancel button in another thread); once it is true the job is cancelled on the server, and
            the wait goes on until the job has stopped.
        give_up: seconds without any answer from the server before the wait fails.

    Returns:
        the finished job (succeeded, failed or cancelled: look at ``status``).

    Raises:
        TimeoutError: after ``timeout`` seconds; ServerUnreachable: no answer for ``give_up`` seconds;
        ServerRefused: the server refuses the stream or the job (TokenRefused: the token; NotFound: no such job).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    if cancel is not None:
        poll = min(poll, 0.1)

    def finished(job: Job) -> Job:
        if on_event is not None:
            on_event(JobEvent(job=job))
        return job

    cancelled_here = False
    up, down_since, last_poll = False, time.monotonic(), 0.0
    with EventFeed(client, job=job_id, track=[job_id], list_limit=0, poll=min(poll, POLL)) as feed:
        while True:
            now = time.monotonic()
            if deadline is not None and now > deadline:
                raise TimeoutError(f"job {job_id} did not finish within {timeout:g} s")
            if cancel is not None and not cancelled_here and getattr(cancel, "cancelled", False):
                cancelled_here = True
                try:
                    client.cancel(job_id)
                except Conflict:  # it has finished meanwhile
                    pass
                last_poll = 0.0
            if (not up or cancelled_here) and now - last_poll >= poll:
                last_poll = now
                try:
                    job = client.job(job_id)
                except ServerUnreachable:
                    if now - down_since > give_up:
                        raise
                else:
                    down_since = now
                    if job.finished:
                        return finished(job)
            left = poll if deadline is None else max(0.01, min(poll, deadline - time.monotonic()))
            item = feed.next(timeout=left)
            if item is None:
                continue
            if isinstance(item, Connected):
                up = True
            elif isinstance(item, Disconnected):
                if isinstance(item.error, ServerRefused):  # a wrong token will not become right by waiting
                    raise item.error
                if up:
                    up, down_since, last_poll = False, time.monotonic(), 0.0
            elif isinstance(item, JobMissing):
                raise item.error
            elif isinstance(item, Synced):
                for job in item.jobs:
                    if job.id == job_id and job.finished:
                        return finished(job)
            elif item.type != EVENT_HELLO:
                if on_event is not None:
                    on_event(item)
                if item.type == EVENT_JOB and item.job.id == job_id and item.job.finished:
                    return item.job
