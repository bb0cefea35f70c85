"""A plugin whose code crashes the server's GPU worker: a real ``vidstudio serve`` with the ``crashtest`` folder
plugin (a node that segfaults, one that calls ``os._exit``) and ``slowtest``. The job names the plugin, the
server disables the plugin in its data folder before the next worker starts, refuses jobs that use its nodes
(naming it and how to enable it again), lists it as disabled with the reason, keeps that across a restart, and
enables it again through ``POST /v1/plugins/{name}/enable``."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from server.server_helpers import steps_project, wait_for
from vidstudio.client import Client, NotFound, ServerError

pytestmark = pytest.mark.slow  # real servers: two starts of one (seconds each)

TOKEN = "plugin-crash-token"


def _ready(c: Client) -> None:
    wait_for(lambda: c.health().worker.state == "ready", 90, what="the worker to be ready")


def _one_node(node_type: str) -> dict:
    return {**steps_project(), "nodes": [{"id": "work", "type": node_type}, {"id": "export", "type": "ExportVideo"}]}


def _crashtest(c: Client):
    return {p.name: p for p in c.plugins().data}["crashtest"]


def test_a_plugin_that_crashes_the_worker_is_disabled_on_that_server_until_enabled_again(start_server, tmp_path):
    data = tmp_path / "data"
    server = start_server(data, token=TOKEN)
    with server.client() as c:
        _ready(c)
        assert _crashtest(c).status == "enabled"
        restarts = c.health().worker.restarts
        crash = c.submit_project(_one_node("crashtest.Segfault"), "export")
        behind = c.submit_project(_one_node("crashtest.Exit"), "export")  # accepted before the crash
        crash = c.wait(crash.id, timeout=90)
        assert crash.status == "failed" and "segmentation fault (SIGSEGV)" in crash.error
        assert "while plugin 'crashtest' was running (node 'Segfault')" in crash.error
        assert "plugin 'crashtest' is now disabled on this server" in crash.error
        assert "POST /v1/plugins/crashtest/enable" in crash.error
        assert "`vidstudio plugins enable crashtest --server URL`" in crash.error
        # the queued job runs on the next worker, which does not load the plugin: refused there, no second crash
        behind = c.wait(behind.id, timeout=90)
        assert behind.status == "failed" and "plugin 'crashtest' is disabled on this server" in behind.error
        _ready(c)
        assert c.health().worker.restarts == restarts + 1

        # new jobs that use its node types are refused at submission, naming the plugin and the way back
        with pytest.raises(ServerError) as e:
            c.submit_project(_one_node("crashtest.Exit"), "export")
        assert e.value.status == 422
        assert "node type 'crashtest.Exit' is unavailable: plugin 'crashtest' is disabled on this server" in str(
            e.value
        )
        assert "(node 'Segfault')" in str(e.value) and "POST /v1/plugins/crashtest/enable" in str(e.value)
        assert "project.nodes.work.type" in str(e.value)
        # listed as disabled with the reason; persisted in the data folder; other plugins go on
        p = _crashtest(c)
        assert p.status == "disabled" and p.crashed and f"(job {crash.id})" in p.reason
        assert p.node_types == ["crashtest.Segfault", "crashtest.Exit"]
        assert {q.name: q.status for q in c.plugins().data}["slowtest"] == "enabled"
        record = json.loads((data / "plugins.json").read_text())["crashed"]["crashtest"]
        assert record["job"] == crash.id and record["what"] == "node 'Segfault'"
        assert c.wait(c.submit_project(steps_project(steps=1), "export").id, timeout=90).status == "succeeded"
    server.stop()

    # a restarted server on that data folder still refuses it, and enabling it again loads it in a new worker
    server = start_server(data, token=TOKEN)
    with server.client() as c:
        _ready(c)
        assert _crashtest(c).crashed
        with pytest.raises(ServerError) as e:
            c.submit_project(_one_node("crashtest.Exit"), "export")
        assert e.value.status == 422 and "plugin 'crashtest' is disabled on this server" in str(e.value)
        with pytest.raises(NotFound):
            c.enable_plugin("nosuchplugin")
        r = run_cli("plugins", "enable", "nosuchplugin", "--server", server.url, env={"VIDSTUDIO_SERVER_TOKEN": TOKEN})
        assert r.returncode == 2 and "no plugin named 'nosuchplugin'" in r.stderr
        pid = c.health().worker.pid
        r = run_cli("plugins", "enable", "crashtest", "--server", server.url, env={"VIDSTUDIO_SERVER_TOKEN": TOKEN})
        assert r.returncode == 0 and f"enabled crashtest on {server.url}" in r.stdout, r.stderr
        p = _crashtest(c)
        assert p.status == "enabled" and not p.crashed and p.reason is None
        assert "crashtest" not in json.loads((data / "plugins.json").read_text())["crashed"]
        assert c.enable_plugin("crashtest").status == "enabled"  # enabling an enabled plugin changes nothing
        job = c.wait(c.submit_project(_one_node("crashtest.Exit"), "export").id, timeout=90)
        assert c.health().worker.restarts >= 1 and pid not in (None, c.health().worker.pid)
        assert job.status == "failed" and "exited with status 3" in job.error  # the new worker ran its code
        assert "while plugin 'crashtest' was running (node 'Exit')" in job.error
        assert _crashtest(c).crashed  # and it is disabled again
