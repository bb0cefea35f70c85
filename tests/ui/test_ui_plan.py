"""The GUI's evaluation plans once (one validation pass however many target groups it runs), and a node type
that declares it runs only on the generation backend is sent there by that declaration, not by its name."""

from __future__ import annotations

import pytest

from uihelpers import KEN_BURNS, make_registry
from vidstudio.graph import Engine, Input, Node, Output, PortType
from vidstudio.progress import CancelToken
from vidstudio.project import load_project
from vidstudio.project.view import ViewTarget
from vidstudio.ui import genops


class Paint(Node):
    """A plugin node with an unremarkable name and category that declares it needs the backend."""

    type_id = "acme.Paint"
    category = "Acme"
    runs_on = "backend"
    inputs = (Input("video", PortType.VIDEO),)
    outputs = (Output("video", PortType.VIDEO),)

    def execute(self, ctx, inputs, params):
        raise AssertionError("the GUI process must never run a backend-only node")


@pytest.fixture
def evaluator(qapp):
    from vidstudio.ui.state.evaluation import Evaluator

    ev = Evaluator(Engine(make_registry()))
    yield ev
    ev.shutdown()
    ev.deleteLater()


def _count_validations(monkeypatch) -> list[int]:
    import vidstudio.graph.engine as engine_module
    import vidstudio.graph.validate as validate_module

    calls = [0]
    real = validate_module.validate_graph

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_module, "validate_graph", counting)
    monkeypatch.setattr(validate_module, "validate_graph", counting)
    return calls


def test_one_evaluation_validates_the_graph_once(evaluator, monkeypatch):
    from vidstudio.ui.state.evaluation import EvalRequest

    calls = _count_validations(monkeypatch)
    doc = load_project(KEN_BURNS)
    doc.node("photo").params["unknown_knob"] = 1  # a warning: the whole graph is validated, once
    view = ViewTarget("cam", "video", "VIDEO")
    # two groups (an overlay target and the viewed picture), run apart
    result = evaluator.evaluate(EvalRequest(1, doc, ["photo", "cam"], view), CancelToken())
    assert calls[0] == 1
    assert result.error is None and result.clip is not None and set(result.report) == {"photo", "cam"}
    assert [i.code for i in result.issues] == ["unknown-param"]
    result = evaluator.evaluate(EvalRequest(2, doc, ["photo", "cam"], view), CancelToken())
    assert calls[0] == 2 and result.report["cam"].status == "cached"


@pytest.mark.parametrize("declared_in", ["class", "manifest"])
def test_a_backend_only_plugin_node_goes_to_the_server_by_its_declaration(evaluator, declared_in):
    from vidstudio.ui.state.evaluation import EvalRequest

    reg = evaluator.engine.registry
    if declared_in == "class":
        reg.register(Paint, source="acme")
    else:  # the manifest says so; the class (not imported yet) does not
        anywhere = type("Paint", (Paint,), {"runs_on": "anywhere"})
        reg.register_lazy("acme.Paint", lambda: anywhere, source="acme", info={"runs_on": "backend"})
    from vidstudio.graph.model import Link, NodeInstance

    doc = load_project(KEN_BURNS)
    doc.nodes.append(NodeInstance.model_validate({"id": "paint", "type": "acme.Paint"}))
    doc.links = [l for l in doc.links if l.target_node != "export"] + [
        Link.model_validate({"from": "cam.video", "to": "paint.video"}),
        Link.model_validate({"from": "paint.video", "to": "export.video"}),
    ]
    assert genops.is_generator(reg, "acme.Paint") and genops.generators_needed(doc, reg, ["export"]) == ["paint"]
    assert evaluator.engine.plan(doc, doc.settings, ["export"]).backend_only == ["paint"]
    result = evaluator.evaluate(EvalRequest(1, doc, ["paint"], ViewTarget("paint", "video", "VIDEO")), CancelToken())
    assert result.server_only == ["paint"] and result.error_is_server_only
    assert "press Generate (Ctrl+G)" in result.error
    assert genops.pick_output(doc, reg).node_id == "export"  # the Export downstream of the generating node
