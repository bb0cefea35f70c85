"""The engine plans once (validation, order, what only the backend runs), node types declare where they run,
issue codes decide severity, and the disk cache keeps node outputs across processes."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from vidstudio.errors import GraphError
from vidstudio.graph import Engine, Graph, Input, Node, NodeRegistry, Output, Param, PortType, Settings
from vidstudio.graph.diskcache import DiskCache, default_max_bytes
from vidstudio.graph.validate import ISSUE_SEVERITY, GraphIssue, check_issue, validate_graph
from vidstudio.media.clip import Clip
from vidstudio.motion.curves import FCurve

S = Settings(width=16, height=16, fps=Fraction(24), frame_count=3)


class Source(Node):
    type_id = "Source"
    outputs = (Output("value", PortType.NUMBER),)
    params = (Param("value", "float", 1.0, min=0.0, max=10.0), Param("count", "int", 1, min=0, max=5))
    uses_settings = ()
    runs = 0

    def execute(self, ctx, inputs, params):
        type(self).runs += 1
        return {"value": np.full(3, params["value"], dtype=np.float32)}


class Double(Node):
    type_id = "Double"
    inputs = (Input("value", PortType.NUMBER),)
    outputs = (Output("value", PortType.NUMBER),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        return {"value": inputs["value"] * 2}


class Diffuse(Node):
    """A plugin's generating node: it declares that only the backend runs it; no list names it."""

    type_id = "acme.Diffuse"
    category = "Acme"  # not "Generate": the category decides nothing
    runs_on = "backend"
    inputs = (Input("value", PortType.NUMBER),)
    outputs = (Output("value", PortType.NUMBER),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        return {"value": inputs["value"] + 1}


class Checked(Node):
    """A node whose own check reports an issue with the code in its ``code`` parameter and any words."""

    type_id = "Checked"
    outputs = (Output("value", PortType.NUMBER),)
    params = (Param("code", "string", ""), Param("words", "string", "something"))

    @classmethod
    def check(cls, params, settings):
        return [("param 'code'", params["words"], params["code"])] if params["code"] else []

    def execute(self, ctx, inputs, params):
        return {"value": 0.0}


@pytest.fixture
def reg():
    r = NodeRegistry()
    for cls in (Source, Double, Diffuse, Checked):
        r.register(cls, source="acme" if cls is Diffuse else "builtin")
    return r


def chain(value: float = 1.0) -> Graph:
    return Graph.model_validate(
        {
            "nodes": [
                {"id": "src", "type": "Source", "params": {"value": value}},
                {"id": "gen", "type": "acme.Diffuse"},
                {"id": "dbl", "type": "Double"},
                {"id": "other", "type": "Double"},
            ],
            "links": [
                {"from": "src.value", "to": "gen.value"},
                {"from": "gen.value", "to": "dbl.value"},
                {"from": "src.value", "to": "other.value"},
            ],
        }
    )


# ----------------------------------------------------------------------------------------------- plan
def test_a_plan_validates_once_orders_and_names_what_only_the_backend_runs(reg):
    eng = Engine(reg)
    plan = eng.plan(chain(), S, ["dbl"])
    assert eng.validations == 1
    assert plan.order == ["src", "gen", "dbl"] and plan.backend_only == ["gen"] and plan.ok
    result = eng.run(plan)
    assert eng.validations == 1  # running the plan does not validate again
    np.testing.assert_allclose(result.output("dbl"), [4.0, 4.0, 4.0])
    other = plan.narrow(["other"])
    assert other.order == ["src", "other"] and other.backend_only == [] and eng.validations == 1
    with pytest.raises(TypeError):
        eng.run(plan, targets=["dbl"])
    with pytest.raises(GraphError, match="no node has this id"):
        eng.plan(chain(), S, ["ghost"])


def test_errors_of_nodes_a_plan_does_not_need_do_not_stop_it(reg):
    g = chain()
    g.node("other").params["nonsense"] = 1  # a warning on a node the plan does not need
    g.links = [l for l in g.links if l.target_node != "other"]  # 'other' misses its required input: an error
    eng = Engine(reg)
    plan = eng.plan(g, S, ["dbl"], scope="graph")
    assert {i.code for i in plan.issues} == {"missing-input", "unknown-param"}  # the whole graph was validated
    assert plan.errors == [] and plan.warnings == []
    assert [i.code for i in eng.plan(g, S, ["other"]).errors] == ["missing-input"]
    with pytest.raises(GraphError, match="not linked"):
        eng.run(g, S, targets=["other"])


def test_overrides_are_applied_before_validation(reg):
    eng = Engine(reg)
    plan = eng.plan(chain(), S, ["src"], overrides={"src": {"value": 99.0}})
    assert [i.code for i in plan.errors] == ["out-of-range"]
    plan = eng.plan(chain(), S, ["src"], overrides={"src": {"value": 3.0}})
    np.testing.assert_allclose(eng.run(plan).output("src"), [3.0] * 3)


def test_a_cycle_is_an_error_of_the_plan(reg):
    g = chain()
    g.links.append(type(g.links[0]).model_validate({"from": "dbl.value", "to": "src.value"}))
    plan = Engine(reg).plan(g, S, ["dbl"])
    assert plan.order == [] and any(i.code == "cycle" for i in plan.errors)


# ----------------------------------------------------------------------------------------------- runs_on
def test_where_a_type_runs_is_declared_data(reg):
    assert reg.runs_on("acme.Diffuse") == "backend" and reg.runs_on("Source") == "anywhere"
    assert reg.runs_on("nobody.Provides") is None
    assert Diffuse.describe()["runs_on"] == "backend" and reg.describe("Source")["runs_on"] == "anywhere"

    class Bad(Node):
        type_id = "Bad"
        runs_on = "gpu"  # type: ignore[assignment]

    with pytest.raises(Exception, match="runs_on 'gpu' must be one of anywhere, backend"):
        NodeRegistry().register(Bad)


def test_a_manifest_declares_it_before_the_plugin_is_imported():
    from vidstudio.plugins.manifest import ManifestError, parse_manifest

    r = NodeRegistry()

    def loader():
        raise AssertionError("the plugin must not be imported to know where its node runs")

    text = """
manifest_version = 1
name = "acme"
version = "1.0.0"
api_versions = ">=1.0,<2"
description = "Paints with a diffusion model."
author = "A. Cme"
license = "MIT"

[[nodes]]
name = "Paint"
runs_on = "backend"

[[nodes]]
name = "Blur"
"""
    m = parse_manifest(text)
    for node in m.nodes:
        r.register_lazy(m.type_id(node), loader, source="acme", info=m.node_info(node))
    assert r.runs_on("acme.Paint") == "backend" and r.runs_on("acme.Blur") == "anywhere"
    assert r.summary("acme.Paint")["runs_on"] == "backend"
    with pytest.raises(ManifestError, match="runs_on"):
        parse_manifest(text.replace('"backend"', '"somewhere"'))


def test_the_plugin_api_exposes_it():
    import vidstudio.api as api

    assert api.RUNS_ON == ("anywhere", "backend") and "RunsOn" in api.__all__ and api.Node.runs_on == "anywhere"


# ----------------------------------------------------------------------------------------------- codes
def test_every_code_has_a_severity_and_the_code_decides_it():
    assert ISSUE_SEVERITY["missing-input"] == "error" and ISSUE_SEVERITY["unknown-param"] == "warning"
    for code, severity in ISSUE_SEVERITY.items():
        assert GraphIssue("n", "", "any words", code).severity == severity
        assert GraphIssue("n", "", "quite different words", code).severity == severity
    assert check_issue("n", ("param 'x'", "w", "model-not-downloaded")).severity == "warning"
    assert check_issue("n", ("param 'x'", "w", "warning")).code == "node-warning"  # the older form
    assert check_issue("n", ("param 'x'", "w")).code == "node-check"


@pytest.mark.parametrize("words", ["model folder /x does not exist", "not in the Hugging Face cache", "zz"])
def test_a_node_check_severity_follows_its_code_whatever_the_message_says(reg, words):
    g = Graph.model_validate(
        {"nodes": [{"id": "c", "type": "Checked", "params": {"code": "model-not-downloaded", "words": words}}]}
    )
    [issue] = validate_graph(g, reg, S)
    assert (issue.code, issue.severity, issue.message) == ("model-not-downloaded", "warning", words)
    g.node("c").params["code"] = "model-not-local"
    [issue] = validate_graph(g, reg, S)
    assert (issue.code, issue.severity) == ("model-not-local", "error")


def test_out_of_range_and_bad_values_are_told_apart_without_reading_the_message(reg):
    g = Graph.model_validate({"nodes": [{"id": "s", "type": "Source", "params": {"value": 11.0, "count": 2.5}}]})
    codes = {i.where: i.code for i in validate_graph(g, reg, S)}
    assert codes == {"param 'value'": "out-of-range", "param 'count'": "bad-value"}


# ----------------------------------------------------------------------------------------------- disk cache
def test_outputs_of_known_types_round_trip_through_the_disk_cache(tmp_path):
    cache = DiskCache(tmp_path / "c", max_bytes=1 << 20)
    frames = np.random.default_rng(0).random((2, 4, 6, 3), dtype=np.float32)
    clip = Clip.from_array(frames, label="gen video")
    clip.metadata["vidstudio_seed"] = "7"
    curve = FCurve.model_validate({"keys": [{"frame": 0, "value": 1.0}, {"frame": 5, "value": 2.0}]})
    ro = np.arange(6, dtype=np.int16).reshape(2, 3)
    ro.setflags(write=False)
    outputs = {
        "video": clip,
        "n": 3,
        "x": float("nan"),
        "fps": Fraction(30000, 1001),
        "ro": ro,
        "nested": {"a": [1, (2.5, "s")], "b": None, "s": np.float64(0.5)},
        "curve": curve,
    }
    assert cache.put("ab12", outputs) is None
    back = cache.get("ab12")
    np.testing.assert_array_equal(back["video"].to_array(), frames)
    assert back["video"].metadata == {"vidstudio_seed": "7"} and back["video"].label == "gen video"
    assert back["n"] == 3 and np.isnan(back["x"]) and back["fps"] == Fraction(30000, 1001)
    assert back["ro"].dtype == np.int16 and not back["ro"].flags.writeable
    assert back["nested"] == {"a": [1, (2.5, "s")], "b": None, "s": 0.5} and back["curve"] == curve
    assert cache.get("cd34") is None


def test_what_the_disk_cache_cannot_store_is_skipped_and_said(tmp_path):
    cache = DiskCache(tmp_path / "c")
    lazy = Clip(2, 4, 4, lambda i: np.zeros((4, 4, 3), np.float32))
    assert "video made on demand" in cache.put("aa", {"video": lazy})
    assert "array of object" in cache.put("bb", {"v": np.array([object()])})
    assert "a type the disk cache does not store" in cache.put("cc", {"v": object()})
    assert "keys that are not text" in cache.put("dd", {"v": {1: 2}})
    assert cache.entries() == []


def test_corrupt_entries_are_ignored_and_removed(tmp_path):
    cache = DiskCache(tmp_path / "c")
    for key in ("a1", "a2", "a3"):
        assert cache.put(key, {"v": np.ones(4)}) is None
    folder = cache._dir("a1")
    (folder / "entry.json").write_text("{not json")
    assert cache.get("a1") is None and not folder.exists()
    folder = cache._dir("a2")  # an array file replaced by a pickled object array: never unpickled
    np.save(folder / "a0.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    assert cache.get("a2") is None and not folder.exists()
    assert cache.put("a4", {"v": 1}) is None
    doc = json.loads((cache._dir("a4") / "entry.json").read_text())
    (cache._dir("a4") / "entry.json").write_text(json.dumps({**doc, "vidstudio": "0.0.1"}))  # another release
    assert cache.get("a4") is None and not cache._dir("a4").exists()
    folder = cache._dir("a3")
    doc = json.loads((folder / "entry.json").read_text())
    doc["outputs"]["items"]["v"]["file"] = "../../elsewhere.npy"
    (folder / "entry.json").write_text(json.dumps(doc))
    assert cache.get("a3") is None and not folder.exists()


def test_the_disk_cache_drops_the_least_recently_used_entries_past_its_budget(tmp_path):
    import os
    import time

    cache = DiskCache(tmp_path / "c", max_bytes=3 * 8000 + 2000)
    now = time.time()
    for i, key in enumerate(("e1", "e2", "e3")):
        assert cache.put(key, {"v": np.zeros(1000)}) is None  # ~8 kB each
        os.utime(cache._dir(key) / "entry.json", (now - 100 + i, now - 100 + i))
    assert cache.get("e1") is not None  # used now: the most recent
    assert cache.put("e4", {"v": np.zeros(1000)}) is None
    assert cache.get("e2") is None and all(cache.get(k) is not None for k in ("e1", "e3", "e4"))
    assert cache.nbytes <= cache.max_bytes
    assert "more than the disk cache" in DiskCache(tmp_path / "d", max_bytes=100).put("f1", {"v": np.zeros(1000)})


def test_the_budget_is_configurable(monkeypatch):
    assert default_max_bytes() == 2 << 30
    monkeypatch.setenv("VIDSTUDIO_CACHE_BYTES", "500M")
    assert default_max_bytes() == 500 << 20
    monkeypatch.setenv("VIDSTUDIO_CACHE_BYTES", "lots")
    with pytest.raises(ValueError, match="VIDSTUDIO_CACHE_BYTES"):
        default_max_bytes()


def test_a_new_engine_finds_outputs_an_earlier_one_kept_on_disk_by_the_same_keys(reg, tmp_path):
    Source.runs = 0
    first = Engine(reg, disk_cache=DiskCache(tmp_path / "c"))
    a = first.run(chain(), S, targets=["dbl"])
    second = Engine(reg, disk_cache=DiskCache(tmp_path / "c"))  # as a new process would
    b = second.run(chain(), S, targets=["dbl"])
    assert Source.runs == 1
    assert {k: (r.status, r.cache) for k, r in b.report.items()} == {
        "src": ("cached", "disk"),
        "gen": ("cached", "disk"),
        "dbl": ("cached", "disk"),
    }
    assert {k: r.key for k, r in a.report.items()} == {k: r.key for k, r in b.report.items()}
    assert b.report["src"].line().split()[2:] == ["from", "the", "cache", "(on", "disk)"]
    c = second.run(chain(2.0), S, targets=["dbl"])  # a changed parameter: a new key, runs again
    assert c.report["src"].status == "ran" and Source.runs == 2


def test_tracks_and_sprites_round_trip_through_their_constructors(tmp_path):
    from vidstudio.motion.sprites import ShapeStyle, Sprite
    from vidstudio.motion.tracks import Track, TrackSet

    pos = np.array([[1.0, 2.0], [3.5, 4.0], [6.0, 8.25]])
    track = Track("ball", pos, angle=np.array([0.0, 0.1, 0.2]), size=(4.0, 4.0), meta={"source": "physics"})
    tracks = TrackSet([track], anchors=np.array([[5.0, 5.0]]))
    sprite = Sprite("ball", track, (4.0, 4.0), shape=ShapeStyle(kind="ellipse"), opacity=0.5)
    cache = DiskCache(tmp_path / "c")
    assert cache.put("ee", {"trajectory": tracks, "sprite": sprite}) is None
    back = cache.get("ee")
    t = back["trajectory"].tracks[0]
    assert isinstance(back["trajectory"], TrackSet) and t.name == "ball" and t.size == (4.0, 4.0)
    np.testing.assert_array_equal(t.position, pos)
    np.testing.assert_array_equal(back["trajectory"].anchors, [[5.0, 5.0]])
    assert t.meta == {"source": "physics"}
    s = back["sprite"]
    assert isinstance(s, Sprite) and s.shape == ShapeStyle(kind="ellipse") and s.opacity == 0.5
    assert s._lock is not sprite._lock and s._cache == {}  # private state made afresh


def test_a_node_that_depends_on_chance_is_kept_in_memory_but_not_on_disk(reg, tmp_path):
    class Dice(Node):
        type_id = "Dice"
        outputs = (Output("value", PortType.NUMBER),)
        uses_settings = ()

        def execute(self, ctx, inputs, params):
            ctx.keep_off_disk("seed -1 chose seed 4 for this run only")
            return {"value": 4.0}

    reg.register(Dice)
    g = Graph.model_validate({"nodes": [{"id": "d", "type": "Dice"}]})
    eng = Engine(reg, disk_cache=DiskCache(tmp_path / "c"))
    first = eng.run(g, S, targets=["d"])
    assert first.report["d"].disk == "not kept on disk: seed -1 chose seed 4 for this run only"
    assert first.report["d"].line().endswith("[not kept on disk: seed -1 chose seed 4 for this run only]")
    assert eng.run(g, S, targets=["d"]).report["d"].status == "cached"  # this process: as before
    assert Engine(reg, disk_cache=DiskCache(tmp_path / "c")).run(g, S, targets=["d"]).report["d"].status == "ran"
