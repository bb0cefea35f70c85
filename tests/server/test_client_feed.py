"""The client owns the connection: its event feed against real ``vidstudio serve`` processes on loopback ports
(reconnection with a back-off across a server restart, resync of tracked jobs older than the newest page, a job
the server does not know), and its errors by type (an unreachable port, a wrong token, a refused request, a job
that fails)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from server.server_helpers import server_env, steps_project, wait_running_step
from vidstudio.client import (
    Client,
    ClientError,
    Connected,
    Disconnected,
    EventFeed,
    JobFailed,
    JobMissing,
    LocalServer,
    NotFound,
    ServerRefused,
    ServerUnreachable,
    Synced,
    TokenRefused,
)

pytestmark = pytest.mark.slow  # real servers: each test starts one or two (seconds each)

TOKEN = "feed-token"
UNKNOWN_JOB = "gen_" + "0" * 24


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(feed: EventFeed, predicate, timeout: float, what: str) -> list:
    """Reads the feed until ``predicate(item)`` holds; returns every item read (the last one matches)."""
    seen: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = feed.next(timeout=0.5)
        if item is None:
            continue
        seen.append(item)
        if predicate(item):
            return seen
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; saw {[getattr(i, 'type', i) for i in seen]}")


def test_the_feed_reconnects_after_a_restart_and_resyncs_tracked_jobs_older_than_the_newest(tmp_path, plugins_folder):
    port, data, env = _free_port(), tmp_path / "data", server_env(tmp_path, plugins_folder)
    first = LocalServer(data, port=port, token="", env=env).start(timeout=90)
    second = None
    try:
        client = Client(first.url)
        long = client.submit_project(steps_project(steps=5000, seconds_per_step=0.02), "export")
        queued = [client.submit_project(steps_project(steps=1, hue=0.1 * i), "export") for i in range(3)]
        wait_running_step(client, long.id)
        waited: dict = {}
        waiter = threading.Thread(target=lambda: waited.update(job=client.wait(queued[0].id, timeout=120)), daemon=True)
        feed = EventFeed(client, list_limit=2, track=[UNKNOWN_JOB], reconnect_first=0.2, reconnect_max=1.0)
        with feed:
            seen = _until(feed, lambda i: isinstance(i, Connected), 30, "the first connection")
            assert [i.job_id for i in seen if isinstance(i, JobMissing)] == [UNKNOWN_JOB]  # reported as such
            missing = next(i for i in seen if isinstance(i, JobMissing))
            assert isinstance(missing.error, NotFound) and missing.error.status == 404
            sync = next(i for i in seen if isinstance(i, Synced))  # the newest 2, and the unfinished ones before
            assert sync.first and [j.id for j in sync.jobs] == [long.id] + [q.id for q in queued]
            assert feed.tracked() == [long.id] + [q.id for q in queued]  # every unfinished job, the unknown one not
            _until(feed, lambda i: i.type == "progress" and i.id == long.id, 30, "progress of the long job")
            waiter.start()  # Client.wait (vidstudio render --server) on a queued job, across the restart

            first.stop()  # graceful: the running job becomes "failed: server restarted" at the next start
            seen = _until(feed, lambda i: isinstance(i, Disconnected) and i.error is not None, 30, "a failed retry")
            drop = next(i for i in seen if isinstance(i, Disconnected))
            assert drop.error is None and "dropped" in drop.message and drop.retry_in == 0.2
            assert isinstance(seen[-1].error, ServerUnreachable) and not feed.connected
            second = LocalServer(data, port=port, token="", env=env).start(timeout=90)
            seen = _until(feed, lambda i: isinstance(i, Connected), 30, "the reconnection")
            sync = next(i for i in seen if isinstance(i, Synced))
            by_id = {j.id: j for j in sync.jobs}
            assert not sync.first and len(by_id) >= 3
            assert (by_id[long.id].status, by_id[long.id].error) == ("failed", "server restarted")  # before the page
            assert long.id not in feed.tracked()
        assert feed.closed
        waiter.join(120)
        assert waited["job"].status == "succeeded", waited["job"].error
    finally:
        if second is not None:
            second.stop()
        first.stop()


def test_typed_errors_for_an_unreachable_port_a_wrong_token_a_refusal_and_a_failing_job(start_server, tmp_path):
    url = f"http://127.0.0.1:{_free_port()}"
    with Client(url, timeout=5) as c:
        with pytest.raises(ServerUnreachable) as e:
            c.health()
        assert e.value.url == url and "refused" in e.value.reason.lower()
        with EventFeed(c, reconnect_first=0.05) as feed:
            item = feed.next(timeout=10)
            assert isinstance(item, Disconnected) and isinstance(item.error, ServerUnreachable)

    server = start_server(token=TOKEN)
    for token in (None, "wrong"):
        with Client(server.url, token) as c:
            with pytest.raises(TokenRefused) as e:
                c.health()
            assert e.value.status == 401 and e.value.field == "Authorization"
            with pytest.raises(TokenRefused):
                c.events()
            with pytest.raises(TokenRefused):  # waiting does not retry a wrong token forever
                c.wait(UNKNOWN_JOB, timeout=30)

    with server.client() as c:
        with pytest.raises(ServerRefused) as e:
            c.submit_project(steps_project(), "no_such_node")
        assert e.value.status == 422 and e.value.field == "output_node" and not isinstance(e.value, TokenRefused)
        with pytest.raises(NotFound):
            c.job(UNKNOWN_JOB)
        doc = {
            **steps_project(),
            "nodes": [{"id": "work", "type": "slowtest.Oom"}, {"id": "export", "type": "ExportVideo"}],
        }
        job = c.submit_project(doc, "export")
        with pytest.raises(JobFailed) as e:
            c.result(job.id, timeout=90)
        assert e.value.job.id == job.id and e.value.job.status == "failed" and "80 GiB" in e.value.job.error
        assert "80 GiB" in str(e.value) and isinstance(e.value, ClientError)

    (tmp_path / "oom.vidproj").write_text(json.dumps(doc))  # render --server: the job's error, exit 2
    r = subprocess.run(
        [sys.executable, "-m", "vidstudio", "render", "oom.vidproj", "--server", server.url, "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "VIDSTUDIO_SERVER_TOKEN": TOKEN},
    )
    assert r.returncode == 2 and "failed on" in r.stderr and "80 GiB" in r.stderr, r.stderr
