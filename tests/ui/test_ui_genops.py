"""Generation decisions without a window: the output node Generate sends, the nodes only the server runs, where
results go, and errors in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from uihelpers import EXAMPLES
from vidstudio.client import ServerError
from vidstudio.graph.validate import GraphIssue
from vidstudio.nodes import default_registry
from vidstudio.project import load_project
from vidstudio.ui import genops


@pytest.fixture(scope="module")
def reg():
    return default_registry()


@pytest.fixture
def t2v():
    return load_project(EXAMPLES / "text_to_video.vidproj")


def test_the_export_downstream_of_generate_is_sent_unless_a_node_is_selected(reg, t2v):
    assert genops.pick_output(t2v, reg).node_id == "export"
    assert genops.pick_output(t2v, reg, ["gen"]).node_id == "gen"
    assert genops.pick_output(t2v, reg, ["cond"]).node_id == "export"  # no VIDEO output: not a choice
    assert genops.pick_output(t2v, reg, ["gone"]).node_id == "export"


def test_several_candidates_are_asked_and_no_generate_is_said_in_words(reg, t2v):
    from vidstudio.graph.model import Link, NodeInstance

    t2v.nodes.append(NodeInstance(id="export2", type="ExportVideo", params={"path": "b.mp4"}))
    t2v.links.append(Link(source="gen.video", target="export2.video"))
    c = genops.pick_output(t2v, reg)
    assert c.node_id is None and c.candidates == ["export", "export2"] and c.error is None
    kb = load_project(EXAMPLES / "ken_burns.vidproj")
    c = genops.pick_output(kb, reg)
    assert c.node_id is None and "no Generate node" in c.error
    assert genops.pick_output(kb, reg, ["export"]).node_id == "export"  # chosen by the user: the server renders it


def test_generating_nodes_are_found_upstream_of_a_target(reg, t2v):
    assert genops.generators_needed(t2v, reg, ["export"]) == ["gen"]
    assert genops.generators_needed(t2v, reg, ["cond"]) == []
    assert genops.is_generator(reg, "Generate") and not genops.is_generator(reg, "LoadModel")
    assert genops.generators_needed(load_project(EXAMPLES / "ken_burns.vidproj"), reg, ["export"]) == []
    assert "press Generate (Ctrl+G)" in genops.server_only_message(["gen"], t2v)


def test_results_go_next_to_the_project_or_to_the_fallback_folder(tmp_path):
    assert genops.result_path(Path("/p/My Shot.vidproj"), "gen_1", tmp_path) == Path("/p/renders/My_Shot-gen_1.mp4")
    assert genops.result_path(None, "gen_1", tmp_path) == tmp_path / "untitled-gen_1.mp4"


def test_a_server_model_missing_here_is_a_warning_not_an_error(reg, t2v):
    t2v.node("model").params["model"] = "/no/such/model/folder"
    from vidstudio.graph.validate import validate_graph

    found = [i for i in validate_graph(t2v, reg, t2v.settings) if i.node_id == "model"]
    assert [(i.code, i.severity) for i in found] == [("model-not-local", "error")]  # the core: cannot run here
    out = genops.server_side_issues(found, t2v, reg)
    assert out[0].severity == "warning" and "generation server looks model ids up" in out[0].message
    steps = GraphIssue("cond", "param 'steps'", "too many", "out-of-range")
    assert genops.server_side_issues([steps], t2v, reg) == [steps]


def test_the_code_decides_the_severity_never_the_words(reg, t2v):
    # the same words under another code stay an error; other words under the code become a warning
    words = "model folder /x does not exist"
    kept = genops.server_side_issues([GraphIssue("model", "param 'model'", words, "node-check")], t2v, reg)
    assert kept[0].severity == "error"
    moved = genops.server_side_issues([GraphIssue("cond", "", "zzz: reworded entirely", "model-not-local")], t2v, reg)
    assert moved[0].severity == "warning"


def test_errors_in_words():
    url = "http://gpu:8765"
    e = ServerError(f"cannot reach the VidStudio server at {url}: [Errno 111] Connection refused")
    assert genops.error_text(e, url) == f"server unreachable at {url} ([Errno 111] Connection refused)"
    e = ServerError(f"server {url} answered 422: project.nodes.gen: no model", status=422)
    assert genops.error_text(e, url) == "project.nodes.gen: no model"
    assert "refused the token (401)" in genops.error_text(ServerError("x", status=401), url)
    assert genops.duration_text(5) == "5 s" and genops.duration_text(185) == "3 min 05 s"
    assert genops.duration_text(3720) == "1 h 02 min" and genops.duration_text(None) == ""


def test_a_resync_fetches_unfinished_jobs_older_than_the_newest(qtbot):
    """After a reconnection the follower lists the newest jobs and fetches, one by one, the jobs the window still
    shows as unfinished that are not among them (a job that finished while the stream was down, with many jobs
    after it); a job the server forgot (404) is left alone."""
    from vidstudio.client import StreamClosed
    from vidstudio.protocol import Job
    from vidstudio.ui.state.generation import EventFollower, _Bridge

    def record(job_id: str, status: str) -> Job:
        return Job(id=job_id, status=status, kind="project", created_at=1.0, output_node="export")

    class Stream:
        def next(self, timeout=None):
            raise StreamClosed("closed")

        def close(self):
            pass

    class FakeClient:
        url = "http://127.0.0.1:1"

        def __init__(self):
            self.fetched: list[str] = []

        def events(self, **kw):
            return Stream()

        def jobs(self, limit=50, **kw):
            return [record(f"gen_new{i}", "succeeded") for i in range(limit)]

        def job(self, job_id):
            self.fetched.append(job_id)
            if job_id == "gen_forgotten":
                raise ServerError("no such job", status=404)
            return record(job_id, "succeeded")

    client, bridge = FakeClient(), _Bridge()
    follower = EventFollower(client, bridge, lambda: ["gen_old", "gen_new0", "gen_forgotten"])
    try:
        with qtbot.waitSignal(bridge.synced, timeout=5000) as sig:
            follower.start()
    finally:
        follower.stop()
    records, first = sig.args
    assert first and client.fetched == ["gen_old", "gen_forgotten"]
    by_id = {r.id: r.status for r in records}
    assert by_id["gen_old"] == "succeeded" and "gen_forgotten" not in by_id and len(by_id) == 21
