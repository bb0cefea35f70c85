"""Helpers for the plugin tests: writing plugin folders and manifests, a trajectory source node, and cleaning
up the modules that folder plugins import. (Not a conftest.py: test modules import what they use.)"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PLUGIN = ROOT / "plugins" / "vidstudio-example-nodes"


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def manifest_text(
    plugin: str, *, nodes: list[dict] | None = None, permissions: dict[str, str] | None = None, **fields: Any
) -> str:
    """TOML for a manifest; ``fields`` override the defaults (a value of None drops the key)."""
    base: dict[str, Any] = {
        "manifest_version": 1,
        "name": plugin,
        "version": "1.0.0",
        "api_versions": ">=1.0,<2",
        "description": f"Test plugin {plugin}.",
        "author": "Tester",
        "license": "MIT",
    }
    base.update(fields)
    lines = [f"{k} = {toml_value(v)}" for k, v in base.items() if v is not None]
    if permissions:
        lines.append("[permissions]")
        lines += [f"{k} = {toml_value(v)}" for k, v in permissions.items()]
    for n in nodes if nodes is not None else [{"name": "Const"}]:
        lines.append("[[nodes]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in n.items()]
    return "\n".join(lines) + "\n"


#: A module with a NUMBER source (``<plugin>.Const``), a node that raises at run time (``<plugin>.Boom``) and a
#: trajectory source (``<plugin>.Line``: one track moving right at ``speed`` px per frame).
NODES_MODULE = """
import numpy as np
from vidstudio.api import Node, Output, Input, Param, PortType, Track, TrackSet

class Const(Node):
    type_id = "{plugin}.Const"
    title = "Constant"
    category = "{category}"
    outputs = (Output("value", PortType.NUMBER),)
    params = (Param("value", "float", 1.0),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        return {{"value": params["value"]}}

class Boom(Node):
    type_id = "{plugin}.Boom"
    inputs = (Input("value", PortType.NUMBER, optional=True),)
    outputs = (Output("value", PortType.NUMBER),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        raise ZeroDivisionError("the plugin divided by zero")

class Line(Node):
    type_id = "{plugin}.Line"
    outputs = (Output("trajectory", PortType.TRAJECTORY),)
    params = (Param("speed", "float", 2.0), Param("x0", "float", 10.0), Param("y0", "float", 20.0))
    uses_settings = ("frame_count",)

    def execute(self, ctx, inputs, params):
        t = np.arange(ctx.frame_count, dtype=float)
        pos = np.stack([params["x0"] + params["speed"] * t, np.full_like(t, params["y0"])], axis=1)
        return {{"trajectory": TrackSet([Track("ball", pos, size=(8, 8)), Track("cube", pos + 30.0)])}}
"""


def write_plugin(
    base: Path,
    name: str,
    *,
    folder: str | None = None,
    module: str | None = None,
    code: str | None = None,
    manifest: str | None = None,
    nodes: list[dict] | None = None,
    category: str = "Tests",
    **fields: Any,
) -> Path:
    """Writes a folder plugin ``base/<folder or name>`` with a manifest and a package ``<module>`` holding
    :data:`NODES_MODULE` (or ``code``). Returns the plugin folder."""
    module = module or f"{name}_mod"
    d = base / (folder or name)
    (d / module).mkdir(parents=True, exist_ok=True)
    source = code if code is not None else NODES_MODULE.format(plugin=name, category=category)
    (d / module / "__init__.py").write_text(textwrap.dedent(source))
    if manifest is None:
        manifest = manifest_text(name, nodes=nodes, module=module, category=category, **fields)
    (d / "vidstudio-plugin.toml").write_text(manifest)
    return d


@pytest.fixture
def plugins_dir() -> Path:
    """The per-test plugins folder the autouse fixture of tests/conftest.py points VIDSTUDIO_PLUGINS_DIR at."""
    p = Path(os.environ["VIDSTUDIO_PLUGINS_DIR"])
    p.mkdir(parents=True, exist_ok=True)
    return p


@pytest.fixture(autouse=True)
def _forget_plugin_modules(tmp_path_factory):
    """Folder plugins import their modules into ``sys.modules``; drop the ones a test imported from its
    temporary folders so that the next test can reuse the module names."""
    before = set(sys.modules)
    yield
    base = str(tmp_path_factory.getbasetemp())
    for name in set(sys.modules) - before:
        f = getattr(sys.modules.get(name), "__file__", None) or ""
        if f.startswith(base):
            del sys.modules[name]


@pytest.fixture
def example_on_path(monkeypatch):
    """The example plugin's package importable in this process (from its source folder, not installed)."""
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN))
    yield EXAMPLE_PLUGIN
    for name in [m for m in sys.modules if m == "vidstudio_example_nodes" or m.startswith("vidstudio_example_nodes.")]:
        del sys.modules[name]
