"""The graph engine: validation errors, execution order, the content-addressed cache and its explanations,
progress, cancellation and error attribution."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from vidstudio.errors import Cancelled, GraphError, NodeError
from vidstudio.graph import (
    Engine,
    Graph,
    Input,
    Link,
    Node,
    NodeInstance,
    NodeRegistry,
    Output,
    Param,
    PortType,
    Settings,
)
from vidstudio.graph.engine import NodeExecutionError
from vidstudio.graph.registry import RegistryError
from vidstudio.motion.curves import FCurve
from vidstudio.progress import CancelToken

RUNS: Counter = Counter()


class Source(Node):
    type_id = "Source"
    outputs = (Output("value", PortType.NUMBER),)
    params = (Param("value", "float", 1.0, min=-100, max=100),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        RUNS[ctx.node_id] += 1
        return {"value": params["value"]}


class Add(Node):
    type_id = "Add"
    inputs = (Input("a", PortType.NUMBER), Input("b", PortType.NUMBER, optional=True))
    outputs = (Output("sum", PortType.NUMBER),)
    params = (Param("offset", "float", 0.0),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        RUNS[ctx.node_id] += 1
        return {"sum": inputs["a"] + (inputs["b"] or 0.0) + params["offset"]}


class Sum(Node):
    type_id = "Sum"
    inputs = (Input("values", PortType.NUMBER, multi=True),)
    outputs = (Output("sum", PortType.NUMBER),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        RUNS[ctx.node_id] += 1
        return {"sum": float(sum(inputs["values"]))}


class Ramp(Node):
    """An animatable parameter arrives as one value per frame."""

    type_id = "Ramp"
    outputs = (Output("values", PortType.NUMBER),)
    params = (
        Param("level", "float", 0.5, min=0, max=1, animatable=True),
        Param("mode", "choice", "a", choices=("a", "b")),
    )

    def execute(self, ctx, inputs, params):
        RUNS[ctx.node_id] += 1
        return {"values": params["level"]}


class Text(Node):
    type_id = "Text"
    outputs = (Output("text", PortType.TEXT),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        return {"text": "hello"}


class Slow(Node):
    """Checks the cancel token inside its loop and reports progress."""

    type_id = "Slow"
    inputs = (Input("a", PortType.NUMBER),)
    outputs = (Output("out", PortType.NUMBER),)
    uses_settings = ()
    started = threading.Event()

    def execute(self, ctx, inputs, params):
        RUNS[ctx.node_id] += 1
        for i in range(1000):
            ctx.check_cancelled()
            ctx.report(i / 1000, f"step {i}")
            Slow.started.set()
            threading.Event().wait(0.002)
        return {"out": inputs["a"]}


class Broken(Node):
    type_id = "Broken"
    inputs = (Input("a", PortType.NUMBER),)
    outputs = (Output("out", PortType.NUMBER),)

    def execute(self, ctx, inputs, params):
        raise ZeroDivisionError("division by zero")


class Picky(Node):
    type_id = "Picky"
    outputs = (Output("out", PortType.NUMBER),)
    params = (Param("path", "file", ""),)

    def execute(self, ctx, inputs, params):
        raise NodeError(f"{params['path']}: cannot decode image")


class Sink(Node):
    type_id = "Sink"
    is_output = True
    inputs = (Input("a", PortType.NUMBER),)
    outputs = (Output("seen", PortType.NUMBER),)

    def execute(self, ctx, inputs, params):
        RUNS[ctx.node_id] += 1
        return {"seen": inputs["a"]}


@pytest.fixture
def registry():
    RUNS.clear()
    reg = NodeRegistry()
    for cls in (Source, Add, Sum, Ramp, Text, Slow, Broken, Picky, Sink):
        reg.register(cls)
    return reg


def graph(nodes, links=(), animation=None):
    return Graph(
        nodes=[NodeInstance(id=i, type=t, params=p) for i, t, p in nodes],
        links=[Link.make(*l.replace("->", ".").split(".")) for l in links],
        animation=animation or {},
    )


def chain():
    return graph(
        [("a", "Source", {"value": 2.0}), ("b", "Source", {"value": 3.0}), ("add", "Add", {}), ("out", "Sink", {})],
        ["a.value->add.a", "b.value->add.b", "add.sum->out.a"],
    )


S = Settings(width=64, height=48, frame_count=10)


# ------------------------------------------------------------------------------------------------- running
def test_runs_in_topological_order_and_computes(registry):
    g = graph(
        [("out", "Sink", {}), ("add", "Add", {"offset": 1.0}), ("a", "Source", {"value": 2.0})],
        ["add.sum->out.a", "a.value->add.a"],
    )
    r = Engine(registry).run(g, S)
    assert list(r.report) == ["a", "add", "out"]
    assert r.output("out", "seen") == 3.0


def test_only_needed_nodes_run(registry):
    g = chain()
    g.nodes.append(NodeInstance(id="unused", type="Source"))
    r = Engine(registry).run(g, S, targets=["add"])
    assert set(r.report) == {"a", "b", "add"} and RUNS["unused"] == 0 and RUNS["out"] == 0


def test_default_targets_are_output_nodes(registry):
    g = chain()
    g.nodes.append(NodeInstance(id="dangling", type="Source"))
    r = Engine(registry).run(g, S)
    assert "dangling" not in r.report and "out" in r.report


def test_cache_reruns_only_the_changed_node_and_downstream(registry):
    eng = Engine(registry)
    g = chain()
    eng.run(g, S)
    assert RUNS == Counter({"a": 1, "b": 1, "add": 1, "out": 1})
    r = eng.run(g, S)
    assert r.cached == ["a", "b", "add"] and r.ran == ["out"]
    g.node("b").params["value"] = 4.0
    r = eng.run(g, S)
    assert RUNS == Counter({"a": 1, "b": 2, "add": 2, "out": 3})
    assert r.report["a"].status == "cached"
    assert r.report["b"].reasons == ["parameter 'value' changed"]
    assert r.report["add"].reasons == ["input 'b' changed (upstream node 'b' ran again)"]
    assert r.report["out"].reasons == ["output node (always runs)"]
    assert r.output("out", "seen") == 6.0
    # Undo: the earlier state's outputs are still cached.
    g.node("b").params["value"] = 3.0
    r = eng.run(g, S)
    assert r.report["b"].status == "cached" and r.report["add"].status == "cached"


def test_explain_lines_name_the_cause(registry):
    eng = Engine(registry)
    g = chain()
    first = eng.run(g, S)
    assert all("first run" in first.report[n].reasons[0] for n in ("a", "b", "add"))
    g.node("add").params["offset"] = 1.0
    lines = eng.run(g, S).explain()
    assert any(l.startswith("a ") and l.rstrip().endswith("from the cache") for l in lines)
    assert any(l.startswith("add") and "parameter 'offset' changed" in l for l in lines)


def test_relink_and_settings_and_animation_changes_are_explained(registry):
    eng = Engine(registry)
    g = graph(
        [("r", "Ramp", {}), ("a", "Source", {}), ("b", "Source", {"value": 5.0}), ("add", "Add", {})],
        ["a.value->add.a"],
    )
    eng.run(g, S, targets=["r", "add"])
    g.links = [Link.make("b", "value", "add", "a")]
    g.animation["r.level"] = FCurve.from_points([(0, 0.0), (9, 1.0)], "linear")
    r = eng.run(g, S, targets=["r", "add"])
    assert r.report["add"].reasons == ["input 'a' was relinked"]
    assert r.report["r"].reasons == ["parameter 'level' was keyed"]
    g.animation["r.level"] = FCurve.from_points([(0, 0.0), (9, 0.5)], "linear")
    r = eng.run(g, S.model_copy(update={"frame_count": 12}), targets=["r"])
    assert set(r.report["r"].reasons) == {"animation of 'level' changed", "project setting 'frame_count' changed"}


def test_animatable_param_arrives_per_frame(registry):
    g = graph([("r", "Ramp", {"level": 0.25})])
    r = Engine(registry).run(g, S, targets=["r"])
    np.testing.assert_array_equal(r.output("r"), np.full(10, 0.25))
    g.animation["r.level"] = FCurve.from_points([(0, 0.0), (9, 0.9)], "linear")
    out = Engine(registry).run(g, S, targets=["r"]).output("r")
    assert out.shape == (10,)
    np.testing.assert_allclose(out, np.arange(10) * 0.1)


def test_multi_input_receives_links_in_order(registry):
    g = graph(
        [("a", "Source", {"value": 1}), ("b", "Source", {"value": 2}), ("s", "Sum", {})],
        ["a.value->s.values", "b.value->s.values"],
    )
    assert Engine(registry).run(g, S, targets=["s"]).output("s") == 3.0


def test_file_fingerprint_invalidates_cache(registry, tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("one")

    class ReadFile(Node):
        type_id = "ReadFile"
        outputs = (Output("text", PortType.TEXT),)
        params = (Param("path", "file", ""),)
        uses_settings = ()

        def execute(self, ctx, inputs, params):
            return {"text": Path(params["path"]).read_text()}

    registry.register(ReadFile)
    eng = Engine(registry)
    g = graph([("f", "ReadFile", {"path": "x.txt"})])
    assert eng.run(g, S, project_dir=tmp_path).output("f") == "one"
    f.write_text("two!")
    r = eng.run(g, S, project_dir=tmp_path)
    assert r.output("f") == "two!" and r.report["f"].reasons == ["a file it reads changed on disk"]


def test_history_makes_reasons_survive_a_new_engine(registry):
    eng = Engine(registry)
    g = chain()
    eng.run(g, S)
    eng2 = Engine(registry)
    eng2.history = dict(eng.history)
    g.node("a").params["value"] = 9.0
    r = eng2.run(g, S)
    assert r.report["a"].reasons == ["parameter 'value' changed"]
    assert r.report["b"].reasons == ["inputs unchanged but the output was not in the cache (evicted, or a new session)"]


def test_cache_budget_evicts_least_recently_used(registry):
    class Big(Node):
        type_id = "Big"
        outputs = (Output("a", PortType.ANY),)
        params = (Param("seed", "int", 0),)
        uses_settings = ()

        def execute(self, ctx, inputs, params):
            RUNS[ctx.node_id] += 1
            return {"a": np.zeros(1000, dtype=np.uint8)}

    registry.register(Big)
    eng = Engine(registry, cache_bytes=2500)
    for seed in range(3):
        eng.run(graph([("big", "Big", {"seed": seed})]), S)
    assert RUNS["big"] == 3
    eng.run(graph([("big", "Big", {"seed": 2})]), S)  # most recent: cached
    eng.run(graph([("big", "Big", {"seed": 0})]), S)  # evicted: runs again
    assert RUNS["big"] == 4


def test_progress_callback_gets_node_fraction_message(registry):
    seen = []
    g = graph([("a", "Source", {}), ("slow", "Slow", {})], ["a.value->slow.a"])
    Engine(registry).run(g, S, targets=["slow"], progress=lambda n, f, m: seen.append((n, f, m)))
    slow = [s for s in seen if s[0] == "slow"]
    assert ("slow", 0.0, "running") in slow and slow[-1] == ("slow", 1.0, "done")
    fr = [f for _, f, m in slow if m.startswith("step")]
    assert fr == sorted(fr) and len(fr) == 1000


# ------------------------------------------------------------------------------------------------ cancelling
def test_cancel_inside_a_long_node(registry):
    Slow.started.clear()
    token = CancelToken()
    g = graph([("a", "Source", {}), ("slow", "Slow", {}), ("out", "Sink", {})], ["a.value->slow.a", "slow.out->out.a"])
    t = threading.Timer(0.0, lambda: (Slow.started.wait(5), token.cancel("stop!")))
    t.start()
    with pytest.raises(Cancelled, match="stop!"):
        Engine(registry).run(g, S, cancel=token)
    t.join()
    assert RUNS["out"] == 0


def test_cancel_between_nodes(registry):
    token = CancelToken()
    g = chain()

    # Cancel as soon as the first node reports it is done: the next node must not start.
    def progress(node, frac, msg):
        if msg == "done":
            token.cancel()

    with pytest.raises(Cancelled):
        Engine(registry).run(g, S, cancel=token, progress=progress)
    assert sum(RUNS.values()) == 1


# ------------------------------------------------------------------------------------------------ errors
def test_node_error_is_attributed(registry):
    with pytest.raises(NodeError, match=r"node 'p' \(Picky\): /x/y.png: cannot decode image"):
        Engine(registry).run(graph([("p", "Picky", {"path": "/x/y.png"})]), S, targets=["p"])


def test_unexpected_exception_names_node(registry):
    g = graph([("a", "Source", {}), ("bad", "Broken", {})], ["a.value->bad.a"])
    with pytest.raises(NodeExecutionError, match=r"node 'bad' \(Broken\) failed: ZeroDivisionError"):
        Engine(registry).run(g, S, targets=["bad"])


def issues_of(registry, g, settings=S):
    return {(i.code, i.node_id, i.where) for i in Engine(registry).validate(g, settings)}, Engine(registry).validate(
        g, settings
    )


def test_validation_unknown_type(registry):
    codes, issues = issues_of(registry, graph([("x", "Nope", {})]))
    assert ("unknown-type", "x", "type") in codes
    assert "unknown node type 'Nope'" in str(issues[0])


def test_validation_missing_required_input(registry):
    codes, issues = issues_of(registry, graph([("add", "Add", {})]))
    assert codes == {("missing-input", "add", "port 'a'")}
    assert str(issues[0]) == "node 'add' port 'a': required NUMBER input is not linked"


def test_validation_type_mismatch(registry):
    codes, issues = issues_of(registry, graph([("t", "Text", {}), ("add", "Add", {})], ["t.text->add.a"]))
    assert ("type-mismatch", "add", "port 'a'") in codes
    assert "takes NUMBER but is linked to 't.text', which gives TEXT" in str(issues[0])


def test_validation_unknown_ports_and_nodes(registry):
    g = graph([("a", "Source", {}), ("add", "Add", {})], ["a.nope->add.a", "a.value->add.zzz", "ghost.value->add.b"])
    codes, _ = issues_of(registry, g)
    assert ("unknown-port", "a", "port 'nope'") in codes
    assert ("unknown-port", "add", "port 'zzz'") in codes
    assert ("unknown-node", "add", "link 'ghost.value -> add.b'") in codes


def test_validation_too_many_links(registry):
    g = graph([("a", "Source", {}), ("b", "Source", {}), ("add", "Add", {})], ["a.value->add.a", "b.value->add.a"])
    codes, _ = issues_of(registry, g)
    assert ("too-many-links", "add", "port 'a'") in codes


def test_validation_cycle_names_nodes(registry):
    g = graph([("x", "Add", {}), ("y", "Add", {})], ["x.sum->y.a", "y.sum->x.a"])
    codes, issues = issues_of(registry, g)
    cyc = [i for i in issues if i.code == "cycle"][0]
    assert "x -> y -> x" in str(cyc)
    with pytest.raises(GraphError, match="cycle"):
        Engine(registry).run(g, S, targets=["x"])


@pytest.mark.parametrize(
    "value,msg",
    [
        (1000.0, "1000 is above the maximum 100"),
        (-101, "-101 is below the minimum -100"),
        ("abc", "expects a number, got 'abc'"),
        (True, "expects a number, got True"),
    ],
)
def test_validation_bad_param_values(registry, value, msg):
    codes, issues = issues_of(registry, graph([("a", "Source", {"value": value})]))
    assert str(issues[0]) == f"node 'a' param 'value': {msg}"


def test_validation_choice_and_animation(registry):
    g = graph([("r", "Ramp", {"mode": "c"})], animation={"r.level": FCurve.from_points([(0, 0.0), (9, 2.0)], "linear")})
    _, issues = issues_of(registry, g)
    text = [str(i) for i in issues]
    assert "node 'r' param 'mode': 'c' is not one of a, b" in text
    assert any(
        t.startswith("node 'r' param 'level': animated value at frame 5: 1.11111 is above the maximum 1") for t in text
    )
    g2 = graph(
        [("a", "Source", {})],
        animation={"a.value": FCurve.constant(1), "ghost.x": FCurve.constant(1), "a.nope": FCurve.constant(1)},
    )
    text = [str(i) for i in issues_of(registry, g2)[1]]
    assert "node 'a' param 'value': is animated but cannot be keyed" in text
    assert "graph animation 'ghost.x': is bound to node 'ghost', which does not exist" in text
    assert "node 'a' param 'nope': is animated but Source has no such parameter" in text


def test_unknown_param_is_a_warning_and_run_proceeds(registry):
    g = graph([("a", "Source", {"value": 1.0, "legacy": 3})])
    r = Engine(registry).run(g, S, targets=["a"])
    assert [str(w) for w in r.warnings] == [
        "node 'a' param 'legacy': Source has no parameter 'legacy' (kept, but ignored) (warning)"
    ]


def test_run_refuses_invalid_graph_before_running_anything(registry):
    g = chain()
    g.node("b").params["value"] = 500.0
    with pytest.raises(GraphError, match="node 'b' param 'value': 500 is above the maximum 100"):
        Engine(registry).run(g, S)
    assert sum(RUNS.values()) == 0


def test_errors_outside_the_needed_subgraph_do_not_block(registry):
    g = chain()
    g.nodes.append(NodeInstance(id="broken", type="Add"))  # missing input, but not needed for 'a'
    assert Engine(registry).run(g, S, targets=["a"]).output("a") == 2.0


def test_unknown_target_and_bad_frame_range(registry):
    with pytest.raises(GraphError, match="node 'zz': no node has this id"):
        Engine(registry).run(chain(), S, targets=["zz"])
    with pytest.raises(GraphError, match="frame range 5:50 is outside 0:10"):
        Engine(registry).run(chain(), S, frame_range=(5, 50))


def test_registry_rejects_malformed_declarations():
    reg = NodeRegistry()

    class BadDefault(Node):
        type_id = "BadDefault"
        params = (Param("x", "float", 5.0, max=1.0),)

    class Dup(Node):
        type_id = "Dup"
        inputs = (Input("a", PortType.NUMBER), Input("a", PortType.NUMBER))

    with pytest.raises(RegistryError, match="default of parameter 'x': 5 is above the maximum 1"):
        reg.register(BadDefault)
    with pytest.raises(RegistryError, match="duplicate input names: a"):
        reg.register(Dup)
    reg.register(Source)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register(type("Source2", (Source,), {}))


def test_validation_link_from_an_unknown_type_still_feeds_its_target(registry):
    # A placeholder (missing plugin) keeps its links: only its own type is an error, the node it feeds is linked.
    g = graph([("x", "Nope", {}), ("add", "Add", {})], ["x.value->add.a"])
    codes, issues = issues_of(registry, g)
    assert codes == {("unknown-type", "x", "type")}
    g = graph([("x", "Nope", {}), ("add", "Add", {})], ["x.value->add.zzz"])
    codes, _ = issues_of(registry, g)
    assert ("missing-input", "add", "port 'a'") in codes


def test_graph_upstream_is_the_target_and_what_it_depends_on_in_document_order():
    from vidstudio.graph import Graph

    g = Graph.model_validate(
        {
            "nodes": [{"id": i, "type": "T"} for i in ("a", "b", "c", "d", "e")],
            "links": [
                {"from": "a.out", "to": "c.x"},
                {"from": "b.out", "to": "c.y"},
                {"from": "c.out", "to": "d.x"},
                {"from": "e.out", "to": "a.x"},
                {"from": "ghost.out", "to": "b.x"},
            ],
        }
    )
    assert g.upstream(["d"]) == ["a", "b", "c", "d", "e"]
    assert g.upstream(["c"]) == ["a", "b", "c", "e"]
    assert g.upstream(["b"]) == ["b"]  # a link from a node that does not exist adds nothing
    assert g.upstream(["b", "e"]) == ["b", "e"] and g.upstream([]) == []
