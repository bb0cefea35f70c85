"""A project that uses nodes of a disabled, missing or broken plugin opens with placeholders that keep their
parameters and links, validates with an error naming the plugin and why, and saves back byte for byte."""

from __future__ import annotations

import json
import shutil

import pytest

from plugin_helpers import _forget_plugin_modules, plugins_dir, write_plugin  # noqa: F401
from vidstudio.cli import main
from vidstudio.graph import validate_graph
from vidstudio.nodes import default_registry
from vidstudio.plugins import PluginManager
from vidstudio.project import load_project, loads_project, save_project

DOC = {
    "format_version": 1,
    "settings": {"width": 64, "height": 48, "fps": "24", "frame_count": 4},
    "nodes": [
        {
            "id": "n",
            "type": "good.Const",
            "params": {"value": 2.5, "from_a_newer_release": [1, 2]},
            "position": [10.0, 20.0],
            "title": "My number",
            "colour_tag": "red",
        },
        {"id": "b", "type": "good.Boom", "params": {}, "position": [200.0, 20.0]},
    ],
    "links": [{"from": "n.value", "to": "b.value"}],
    "animation": {"n.value": {"keys": [{"frame": 0, "value": 1.0}, {"frame": 3, "value": 4.0}]}},
}


@pytest.fixture
def saved(plugins_dir, tmp_path):
    """The project as VidStudio saved it while the plugin was installed: (path, bytes)."""
    write_plugin(plugins_dir, "good", nodes=[{"name": "Const"}, {"name": "Boom"}])
    path = tmp_path / "p.vidproj"
    save_project(loads_project(json.dumps(DOC)), path)
    return path, path.read_bytes()


def errors_by_node(project) -> dict[str, tuple[str, str]]:
    issues = validate_graph(project, default_registry(), project.settings)
    return {i.node_id: (i.code, i.message) for i in issues if i.severity == "error"}


def reopen_validate_save(path, original: bytes) -> dict[str, tuple[str, str]]:
    project = load_project(path)
    n = project.node("n")
    assert n.params == {"value": 2.5, "from_a_newer_release": [1, 2]}
    assert (n.position, n.title, n.model_extra) == ((10.0, 20.0), "My number", {"colour_tag": "red"})
    assert [(l.source, l.target) for l in project.links] == [("n.value", "b.value")]
    assert list(project.animation) == ["n.value"]
    errors = errors_by_node(project)
    save_project(project)
    assert path.read_bytes() == original
    return errors


def test_disabled_plugin(saved, capsys):
    path, original = saved
    PluginManager().disable("good")
    errors = reopen_validate_save(path, original)
    reason = "plugin 'good' is disabled; enable it with `vidstudio plugins enable good`"
    assert errors == {
        "n": ("unavailable-type", f"node type 'good.Const' is unavailable: {reason}"),
        "b": ("unavailable-type", f"node type 'good.Boom' is unavailable: {reason}"),
    }
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert f"{path}: node 'n' type: node type 'good.Const' is unavailable: {reason}" in capsys.readouterr().out
    assert main(["render", str(path), "--node", "b"]) == 2
    assert "node 'b' type: node type 'good.Boom' is unavailable: plugin 'good' is disabled" in capsys.readouterr().err
    assert main(["eval", str(path), "n", "--json"]) == 2  # bad input, not an internal error
    assert f"{path}: node 'n' type: node type 'good.Const' is unavailable: {reason}" in capsys.readouterr().err
    assert path.read_bytes() == original


def test_missing_plugin(saved, plugins_dir):
    path, original = saved
    shutil.rmtree(plugins_dir / "good")
    errors = reopen_validate_save(path, original)
    assert errors["n"] == ("unknown-type", "unknown node type 'good.Const': plugin 'good' is not installed")


def test_plugin_that_fails_to_import(saved, plugins_dir):
    path, original = saved
    (plugins_dir / "good" / "good_mod" / "__init__.py").write_text("import no_such_library_xyz\n")
    errors = reopen_validate_save(path, original)
    assert errors["n"] == (
        "unavailable-type",
        "node type 'good.Const' is unavailable: plugin 'good' failed to import: "
        "ModuleNotFoundError: No module named 'no_such_library_xyz'",
    )


def test_with_the_plugin_the_same_project_is_valid_and_unchanged(saved):
    path, original = saved
    project = load_project(path)
    issues = validate_graph(project, default_registry(), project.settings)
    # the plugin's node is real again: its own checks run (the unknown parameter is a warning only)
    assert [(i.node_id, i.code, i.severity) for i in issues] == [
        ("n", "unknown-param", "warning"),
        ("n", "bad-animation", "error"),
    ]
    save_project(project)
    assert path.read_bytes() == original
