"""Issue 15 point 7, the server half: a local server whose starting process ended keeps running while another
window holds a lease on its data folder, and stops once none does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from vidstudio.client.lease import Lease, live_leases, others_hold
from vidstudio.server.run import _watch_parent


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leases_count_while_their_process_runs_and_they_are_renewed(tmp_path):
    mine = Lease(tmp_path, renew_every=0.05).acquire()
    other = Lease(tmp_path).acquire()
    assert len(live_leases(tmp_path)) == 2
    assert others_hold(mine)
    other.release()
    assert not others_hold(mine)
    gone = tmp_path / "leases" / f"{dead_pid()}-dead.json"
    gone.write_text(json.dumps({"pid": int(gone.name.split("-")[0]), "renewed_at": time.time()}))
    stale = tmp_path / "leases" / f"{os.getpid()}-stale.json"
    stale.write_text(json.dumps({"pid": os.getpid(), "renewed_at": time.time() - 3600}))
    assert live_leases(tmp_path) == [mine.path] and not gone.exists() and not stale.exists()
    before = json.loads(mine.path.read_text())["renewed_at"]
    time.sleep(0.2)
    assert json.loads(mine.path.read_text())["renewed_at"] > before  # renewed by its thread
    mine.release()
    assert live_leases(tmp_path) == []


class FakeUvicorn:
    should_exit = False


def test_the_server_outlives_its_parent_while_a_lease_counts(tmp_path):
    other_window = Lease(tmp_path).acquire()
    server = FakeUvicorn()
    t = _watch_parent(server, dead_pid(), interval=0.02, data_dir=tmp_path)  # the starting window is gone
    time.sleep(0.3)
    assert not server.should_exit  # another window still uses it
    other_window.release()
    t.join(5)
    assert server.should_exit
