"""The client's event feed against a scripted client (no server, fast): the back-off doubles up to its cap and
starts again after a connection, an unreadable message drops the connection and resyncs, jobs are tracked while
unfinished, and closing from another thread ends a blocked read."""

from __future__ import annotations

import threading
import time

from vidstudio.client import Connected, Disconnected, EventFeed, ServerUnreachable, StreamClosed, Synced
from vidstudio.protocol import HelloEvent, Job, JobEvent, WorkerInfo


def record(job_id: str, status: str, created: float = 1.0) -> Job:
    return Job(id=job_id, status=status, kind="project", created_at=created, output_node="export")


class Stream:
    """Says hello, then plays ``script`` (an event, an exception to raise, or None for a quiet poll), then
    blocks (as a quiet stream does) until closed."""

    def __init__(self, script):
        self.script = [HelloEvent(worker=WorkerInfo(state="ready"), jobs=[record("gen_a", "running")]), *script]
        self.closed = threading.Event()

    def next(self, timeout=None):
        if self.closed.is_set():
            raise StreamClosed("closed")
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        self.closed.wait(timeout)
        return None

    def close(self):
        self.closed.set()


class ScriptedClient:
    url = "http://127.0.0.1:9"

    def __init__(self, opens):
        self.opens = list(opens)  # per events() call: an exception to raise, or a Stream
        self.records = {"gen_a": record("gen_a", "running", 1.0), "gen_b": record("gen_b", "queued", 2.0)}

    def events(self, **kw):
        step = self.opens.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def jobs(self, limit=50, **kw):
        return []

    def job(self, job_id):
        return self.records[job_id]


def test_back_off_resync_on_an_unreadable_message_and_tracking():
    down = ServerUnreachable("no answer", reason="[Errno 111] Connection refused")
    second = Stream([])
    first = Stream([JobEvent(job=record("gen_b", "queued", 2.0)), ValueError("not JSON")])
    client = ScriptedClient([down, down, down, first, down, second])
    feed = EventFeed(client, list_limit=5, reconnect_first=0.01, reconnect_max=0.03, poll=0.01)
    items = []
    with feed:
        while len([i for i in items if isinstance(i, Connected)]) < 2:
            item = feed.next(timeout=5)
            assert item is not None, [getattr(i, "type", i) for i in items]
            items.append(item)
        assert [i.retry_in for i in items if isinstance(i, Disconnected)] == [0.01, 0.02, 0.03, 0.01, 0.02]
        drops = [i for i in items if isinstance(i, Disconnected)]
        assert all(d.error is down for d in drops[:3]) and drops[3].error is None
        assert "unreadable event" in drops[3].message and "not JSON" in drops[3].message
        syncs = [i for i in items if isinstance(i, Synced)]
        assert [s.first for s in syncs] == [True, False]
        assert [j.id for j in syncs[1].jobs] == ["gen_a", "gen_b"]  # tracked (hello, a job event), fetched again
        assert feed.tracked() == ["gen_a", "gen_b"] and feed.connected
        blocked = threading.Thread(target=lambda: items.append(feed.next()))
        blocked.start()
        time.sleep(0.05)
        feed.close()  # from another thread: the blocked read ends
        blocked.join(2)
        assert not blocked.is_alive() and second.closed.is_set()
    try:
        feed.next()
        raise AssertionError("a closed feed must say so")
    except StreamClosed:
        pass
