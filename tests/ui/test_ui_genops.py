"""Generation decisions without a window: the output node Generate sends, the nodes only the server runs, where
results go, and errors in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from uihelpers import EXAMPLES
from vidstudio.client import NotFound, ServerError, ServerRefused, ServerUnreachable, TokenRefused
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
    """The words come from the error's type, not from its message."""
    url = "http://gpu:8765"
    e = ServerUnreachable("whatever the network said", reason="[Errno 111] Connection refused", url=url)
    assert genops.error_text(e, url) == f"server unreachable at {url} ([Errno 111] Connection refused)"
    e = ServerRefused(f"server {url} answered 422: project.nodes.gen: no model", status=422, url=url)
    assert genops.error_text(e, url) == "project.nodes.gen: no model"
    assert "refused the token (401)" in genops.error_text(TokenRefused("x", status=401, url=url), url)
    assert genops.error_text(ServerError("cannot reach the moon"), url) == "cannot reach the moon"  # no guessing
    assert genops.duration_text(5) == "5 s" and genops.duration_text(185) == "3 min 05 s"
    assert genops.duration_text(3720) == "1 h 02 min" and genops.duration_text(None) == ""


def test_the_feed_bridge_re_emits_a_resync_and_a_missing_job_as_signals(qtbot):
    """The GUI's bridge runs the client's feed on its thread: after a connection the resync (the newest jobs plus
    the tracked ones older than them) arrives as ``synced`` and a tracked job the server forgot (404) as
    ``missing``, on the GUI thread; stopping it ends the thread."""
    from vidstudio.client import StreamClosed
    from vidstudio.protocol import HelloEvent, Job, WorkerInfo
    from vidstudio.ui.state.generation import FeedBridge

    def record(job_id: str, status: str) -> Job:
        return Job(id=job_id, status=status, kind="project", created_at=1.0, output_node="export")

    class Stream:
        said_hello = False

        def next(self, timeout=None):
            if not self.said_hello:
                self.said_hello = True
                return HelloEvent(worker=WorkerInfo(state="ready"))
            raise StreamClosed("closed")

        def close(self):
            pass

    class FakeClient:
        url = "http://127.0.0.1:1"

        def events(self, **kw):
            return Stream()

        def jobs(self, limit=50, **kw):
            return [record(f"gen_new{i}", "succeeded") for i in range(limit)]

        def job(self, job_id):
            if job_id == "gen_forgotten":
                raise NotFound(f"server {self.url} answered 404: no job {job_id}", status=404, url=self.url)
            return record(job_id, "succeeded")

    bridge = FeedBridge()
    got: list[tuple] = []
    bridge.missing.connect(lambda *a: got.append(("missing", *a)))
    bridge.synced.connect(lambda *a: got.append(("synced", *a)))
    try:
        with qtbot.waitSignal(bridge.synced, timeout=5000):
            bridge.follow(FakeClient(), ["gen_old", "gen_new0", "gen_forgotten"])
    finally:
        bridge.stop()
    assert [g[0] for g in got] == ["missing", "synced"]
    missing, synced = got[0][1:], got[1][1:]
    assert missing[0] == "gen_forgotten" and "no longer has this job (no job gen_forgotten)" in missing[1]
    records, first = synced
    assert first and [r.id for r in records][:2] == ["gen_old", "gen_new19"] and len(records) == 21
    assert not bridge.alive
