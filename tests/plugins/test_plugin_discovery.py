"""Discovery from the plugins folder and from entry points, lazy import, enable/disable, and isolation: a
broken plugin is named with its error, its nodes are unavailable, and everything else keeps working."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from plugin_helpers import NODES_MODULE, _forget_plugin_modules, manifest_text, plugins_dir, write_plugin  # noqa: F401
from vidstudio.graph import Engine, Graph, NodeInstance, Settings
from vidstudio.graph.engine import NodeExecutionError
from vidstudio.nodes import default_registry
from vidstudio.plugins import PluginError, PluginManager


def run_const(registry, type_id: str, value: float = 3.5) -> float:
    g = Graph(nodes=[NodeInstance(id="c", type=type_id, params={"value": value})])
    return Engine(registry).run(g, Settings(frame_count=2), targets=["c"]).output("c", "value")


def test_folder_plugin_is_found_without_importing_it_and_imported_on_first_use(plugins_dir):
    write_plugin(
        plugins_dir,
        "good",
        nodes=[{"name": "Const", "title": "Constant", "description": "A number."}],
        category="Numbers",
    )
    reg = default_registry()
    assert "good_mod" not in sys.modules  # discovery read the manifest only
    assert reg.summary("good.Const") == {
        "type": "good.Const",
        "title": "Constant",
        "category": "Numbers",
        "description": "A number.",
        "runs_on": "anywhere",
        "source": "good",
        "available": True,
        "reason": None,
    }
    info = PluginManager().get("good")
    assert (info.status, info.loaded, info.origin, info.version) == ("enabled", False, "folder", "1.0.0")
    assert [(n.type_id, n.category) for n in info.nodes] == [("good.Const", "Numbers")]
    assert run_const(reg, "good.Const") == 3.5  # the first use imports it
    assert "good_mod" in sys.modules
    assert PluginManager().get("good").loaded
    assert reg.describe("good.Const")["source"] == "good"


def make_dist(site: Path, name: str, module: str, version: str = "2.0", ep_name: str | None = None) -> None:
    """A minimal installed distribution (dist-info with an entry point) and its package, on ``site``."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[vidstudio.nodes]\n{ep_name or name} = {module}\n")
    pkg = site / module
    pkg.mkdir()
    (pkg / "__init__.py").write_text(NODES_MODULE.format(plugin=name, category="From a package"))
    (pkg / "vidstudio-plugin.toml").write_text(manifest_text(name, version=version, nodes=[{"name": "Const"}]))


def test_entry_point_plugin_is_found_without_importing_it(tmp_path, monkeypatch):
    site = tmp_path / "site"
    make_dist(site, "eplug", "eplug_pkg")
    monkeypatch.syspath_prepend(str(site))
    info = PluginManager().get("eplug")
    assert (info.origin, info.distribution, info.location, info.status) == (
        "package",
        "eplug",
        site / "eplug_pkg",
        "enabled",
    )
    reg = default_registry()
    assert "eplug_pkg" not in sys.modules
    assert run_const(reg, "eplug.Const", 2.0) == 2.0
    assert "eplug_pkg" in sys.modules
    for m in [m for m in sys.modules if m.startswith("eplug_pkg")]:
        del sys.modules[m]


def test_entry_point_name_must_match_manifest(tmp_path, monkeypatch):
    site = tmp_path / "site"
    make_dist(site, "named", "named_pkg", ep_name="other")
    monkeypatch.syspath_prepend(str(site))
    info = PluginManager().get("named")
    assert info.status == "failed"
    assert "the entry point's name must be the manifest's name 'named'" in info.error


BROKEN = {
    "crash": "raise RuntimeError('cannot find the LUT folder')\n",
    "quitter": "import sys\nsys.exit(3)\n",
}


@pytest.fixture
def zoo(plugins_dir):
    """A plugins folder with one good plugin and one of every kind of broken one."""
    write_plugin(plugins_dir, "good")
    (plugins_dir / "badtoml").mkdir()
    (plugins_dir / "badtoml" / "vidstudio-plugin.toml").write_text('name = "badtoml"\nversion = \n')
    write_plugin(plugins_dir, "badfields", author=None)
    write_plugin(plugins_dir, "old", api_versions=">=0.1,<1")
    for name, code in BROKEN.items():
        write_plugin(plugins_dir, name, code=code)
    write_plugin(plugins_dir, "missing", nodes=[{"name": "Const"}, {"name": "Ghost"}])
    write_plugin(plugins_dir, "nomodule", module="elsewhere")
    (plugins_dir / "nomodule" / "elsewhere" / "__init__.py").unlink()
    (plugins_dir / "nomodule" / "elsewhere").rmdir()
    write_plugin(plugins_dir, "off")
    PluginManager().disable("off")
    return plugins_dir


def test_statuses_before_anything_is_imported(zoo):
    by_name = {p.name: p for p in PluginManager().plugins}
    assert {n: p.status for n, p in by_name.items()} == {
        "good": "enabled",
        "badtoml": "failed",
        "badfields": "failed",
        "old": "incompatible",
        "crash": "enabled",
        "quitter": "enabled",
        "missing": "enabled",
        "nomodule": "failed",
        "off": "disabled",
    }
    assert "invalid TOML" in by_name["badtoml"].error and by_name["badtoml"].manifest is None
    assert "author: is required" in by_name["badfields"].error
    assert "needs node API >=0.1,<1" in by_name["old"].error
    assert "its module 'elsewhere' is missing" in by_name["nomodule"].error
    assert by_name["off"].enabled is False and by_name["off"].error is None


def test_broken_plugins_are_reported_and_the_rest_works(zoo):
    reg = default_registry()
    described = {d["type"]: d for d in reg.describe_all()}  # imports every plugin; must not raise
    assert described["LoadImage"]["source"] == "builtin"
    assert run_const(reg, "good.Const") == 3.5
    assert reg.why_unusable("crash.Const") == (
        "unavailable-type",
        "node type 'crash.Const' is unavailable: plugin 'crash' failed to import: "
        "RuntimeError: cannot find the LUT folder",
    )
    assert described["crash.Const"]["available"] is False
    assert "plugin 'quitter' failed to import: SystemExit: 3" in reg.why_unusable("quitter.Const")[1]
    # one bad class does not take the plugin's other nodes down
    assert run_const(reg, "missing.Const") == 3.5
    assert (
        "plugin 'missing' cannot provide it: node 'Ghost' (missing_mod:Ghost): AttributeError"
        in reg.why_unusable("missing.Ghost")[1]
    )
    assert reg.why_unusable("old.Const") == (
        "unavailable-type",
        "node type 'old.Const' is unavailable: plugin 'old' "
        "1.0.0 needs node API >=0.1,<1, this VidStudio provides 1.1; install a "
        "release of the plugin made for it",
    )
    assert reg.why_unusable("off.Const") == (
        "unavailable-type",
        "node type 'off.Const' is unavailable: plugin 'off' is disabled; enable it with `vidstudio plugins enable off`",
    )
    code, msg = reg.why_unusable("badtoml.Anything")
    assert code == "unavailable-type" and "plugin 'badtoml' has an invalid manifest" in msg and "invalid TOML" in msg
    assert reg.why_unusable("nosuch.Node") == (
        "unknown-type",
        "unknown node type 'nosuch.Node': plugin 'nosuch' is not installed",
    )
    assert reg.why_unusable("good.Nope") == (
        "unknown-type",
        "unknown node type 'good.Nope': plugin 'good' has no node type 'Nope' (it provides: Const)",
    )
    # the plugin list now shows the import failures, with a traceback for the author
    after = {p.name: p for p in PluginManager().plugins}
    assert after["crash"].status == "failed" and "RuntimeError: cannot find the LUT folder" in after["crash"].error
    assert "Traceback" in after["crash"].error_details and "crash_mod" in after["crash"].error_details
    assert after["missing"].status == "failed" and after["good"].status == "enabled"
    # a later registry knows the failure without importing again
    assert default_registry().unavailable_reason("crash.Const").startswith("plugin 'crash' failed to import")


def test_load_checks_a_plugin_on_request(zoo):
    m = PluginManager()
    assert m.get("crash").status == "enabled"
    info = m.load("crash")
    assert info.status == "failed" and "cannot find the LUT folder" in info.error
    assert m.load("good").loaded


def test_enable_disable_is_saved_in_the_config_dir(plugins_dir):
    write_plugin(plugins_dir, "good")
    m = PluginManager()
    assert m.disable("good").status == "disabled"
    state = Path(os.environ["VIDSTUDIO_CONFIG_DIR"]) / "plugins.json"
    assert json.loads(state.read_text()) == {"disabled": ["good"]}
    assert PluginManager().get("good").status == "disabled"
    assert default_registry().find("good.Const") is None
    assert m.enable("good").status == "enabled"
    assert run_const(default_registry(), "good.Const") == 3.5
    with pytest.raises(PluginError, match=r"no plugin named 'bad' \(installed: good; plugins folder: "):
        m.disable("bad")


def test_unreadable_settings_file_is_a_warning(plugins_dir):
    write_plugin(plugins_dir, "good")
    state = Path(os.environ["VIDSTUDIO_CONFIG_DIR"]) / "plugins.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{not json")
    m = PluginManager()
    assert m.get("good").status == "enabled"
    assert "cannot read the plugin settings" in m.warnings[0]


def test_a_node_that_raises_names_its_plugin_and_the_rest_still_runs(plugins_dir):
    write_plugin(plugins_dir, "good", nodes=[{"name": "Const"}, {"name": "Boom"}])
    reg = default_registry()
    engine = Engine(reg)
    g = Graph(nodes=[NodeInstance(id="c", type="good.Const"), NodeInstance(id="b", type="good.Boom")])
    with pytest.raises(NodeExecutionError) as e:
        engine.run(g, Settings(), targets=["b"])
    assert (
        str(e.value) == "node 'b' (good.Boom, from plugin 'good') failed: ZeroDivisionError: the plugin divided by zero"
    )
    assert engine.run(g, Settings(), targets=["c"]).output("c", "value") == 1.0


def test_duplicate_names_keep_the_first(plugins_dir):
    write_plugin(plugins_dir, "twin", folder="a_twin")
    write_plugin(plugins_dir, "twin", folder="b_twin", module="twin_other")
    plugins = [p for p in PluginManager().plugins if p.name == "twin"]
    assert [p.status for p in plugins] == ["enabled", "failed"]
    assert "a plugin with the same name is installed at" in plugins[1].error
    assert run_const(default_registry(), "twin.Const") == 3.5
    assert "twin_mod" in sys.modules and "twin_other" not in sys.modules


def test_module_name_taken_by_another_module(plugins_dir):
    write_plugin(plugins_dir, "clash", module="json")
    reg = default_registry()
    assert reg.find("clash.Const") is None
    assert "the module name 'json' is already used" in reg.unavailable_reason("clash.Const")
    assert json.dumps([1]) == "[1]"  # the real json module is untouched


def test_prints_during_import_go_to_stderr(plugins_dir, capsys):
    write_plugin(
        plugins_dir, "chatty", code="print('hello from chatty')\n" + NODES_MODULE.format(plugin="chatty", category="T")
    )
    default_registry().get("chatty.Const")
    out, err = capsys.readouterr()
    assert "hello from chatty" not in out and "hello from chatty" in err


def test_a_failure_of_discovery_itself_leaves_the_built_in_nodes(plugins_dir, monkeypatch, capsys):
    write_plugin(plugins_dir, "good")

    def broken(self):
        raise OSError("disk on fire")

    monkeypatch.setattr(PluginManager, "refresh", broken)
    reg = default_registry()
    assert reg.find("LoadImage") is not None and "good.Const" not in reg
    assert (
        "plugin discovery failed (OSError: disk on fire); continuing with the built-in nodes" in capsys.readouterr().err
    )
