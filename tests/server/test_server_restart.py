"""Jobs survive restarts of the server: finished jobs stay listed with their files, running ones are failed with
"server restarted", queued ones run. Also: one server per data folder, and no non-loopback address without a
token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from helpers import ROOT
from server.server_helpers import expected_frames, pid_alive, steps_project, wait_for, wait_running_step
from vidstudio.client import Client, LocalServer, ServerError
from vidstudio.media.video import read_video


def test_jobs_survive_a_crash_and_a_graceful_restart_of_the_server(start_server, tmp_path):
    s1 = start_server(tmp_path / "data")
    c = s1.client()
    done = c.wait(c.submit_project(steps_project(steps=1, hue=0.75), "export").id, timeout=90)
    assert done.status == "succeeded", done.error
    running = c.submit_project(steps_project(steps=5000, seconds_per_step=0.02), "export")
    queued = c.submit_project(steps_project(steps=1, hue=0.25), "export")
    wait_running_step(c, running.id)
    assert c.job(queued.id).status == "queued"
    worker = c.health().worker.pid
    c.close()
    os.kill(s1.pid, signal.SIGKILL)  # a crash: nothing is cleaned up by the server
    s1.stop()
    wait_for(lambda: not pid_alive(worker), 20, what="the orphaned worker to exit")

    s2 = start_server(tmp_path / "data")
    with s2.client() as c:
        old = c.job(done.id)
        assert old.status == "succeeded" and old.output.frame_count == 6
        frames = read_video(c.download(done.id, tmp_path / "done.mp4"))
        assert np.abs(frames - expected_frames(6, 24, 32, 0.75)).max() < 0.03
        lost = c.job(running.id)
        assert (lost.status, lost.error) == ("failed", "server restarted")
        again = c.wait(queued.id, timeout=90)
        assert again.status == "succeeded", again.error
        listed = {j.id: j.status for j in c.jobs()}
        assert listed == {done.id: "succeeded", running.id: "failed", queued.id: "succeeded"}
        # a graceful stop (SIGTERM) in the middle of a job
        mid = c.submit_project(steps_project(steps=5000, seconds_per_step=0.02), "export")
        wait_running_step(c, mid.id)
    assert s2.stop() == 0
    s3 = start_server(tmp_path / "data")
    with s3.client() as c:
        assert (c.job(mid.id).status, c.job(mid.id).error) == ("failed", "server restarted")


def test_one_server_per_data_folder(start_server, tmp_path):
    start_server(tmp_path / "shared")
    with pytest.raises(ServerError) as e:
        start_server(tmp_path / "shared")
    assert "another VidStudio server" in str(e.value) and "uses the data folder" in str(e.value)


def test_no_public_address_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VIDSTUDIO_SERVER_TOKEN"}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidstudio",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 2
    assert "--host 0.0.0.0 is not a loopback address" in r.stderr and "--token" in r.stderr
    assert not (tmp_path / "d" / "jobs.sqlite3").exists()


def test_local_server_helper_reports_port_and_token(tmp_path):
    s = LocalServer(
        tmp_path / "d",
        env={
            "VIDSTUDIO_PLUGINS_DIR": str(tmp_path / "none"),
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_CACHE": str(tmp_path / "hf"),
        },
        extra_args=["--no-hf-cache"],
    )
    with s:
        assert s.port and s.url == f"http://127.0.0.1:{s.port}" and len(s.token) >= 20
        with s.client() as c:
            h = c.health()
            assert h.auth and h.server.pid == s.pid and h.default_model is None
        with pytest.raises(ServerError) as e:
            Client(s.url).health()  # no token
        assert e.value.status == 401
        pid = s.pid
        # another window of the same user finds it, with its token, through a file only the user can read
        assert LocalServer.find_running(tmp_path / "d") == (s.url, s.token, pid)
        assert (tmp_path / "d" / "local-server.json").stat().st_mode & 0o077 == 0
    assert s.pid is None and not pid_alive(pid)
    assert LocalServer.find_running(tmp_path / "d") is None and not (tmp_path / "d" / "local-server.json").exists()


def test_a_local_server_never_outlives_the_process_that_started_it(tmp_path):
    """The GUI (here: a throwaway Python process) starts a LocalServer and is then SIGKILLed: the server notices
    its parent is gone and stops by itself, worker included, and leaves its data folder unlocked."""
    code = textwrap.dedent(f"""
        import sys, time
        from vidstudio.client import LocalServer
        s = LocalServer({str(tmp_path / "d")!r}, extra_args=["--no-hf-cache"],
                        env={{"VIDSTUDIO_PLUGINS_DIR": {str(tmp_path / "none")!r}, "HF_HUB_OFFLINE": "1"}}).start()
        with s.client() as c:
            w = c.health().worker
            deadline = time.time() + 60
            while w.pid is None and time.time() < deadline:
                time.sleep(0.1)
                w = c.health().worker
        print(s.pid, w.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    pids: list[int] = []
    try:
        pids = [int(x) for x in parent.stdout.readline().split()]
        server_pid, worker_pid = pids
        assert pid_alive(server_pid) and pid_alive(worker_pid)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 20
        while (pid_alive(server_pid) or pid_alive(worker_pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(server_pid), "the server outlived the process that started it"
        assert not pid_alive(worker_pid), "the worker outlived its server"
        assert not (tmp_path / "d" / "server.json").exists()
    finally:
        parent.kill()
        for pid in pids:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
