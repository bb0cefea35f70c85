"""docs/plugins.md's quick-start plugin works as written: its files are taken from the page, installed as a
folder plugin, and its node runs in a graph. Also: the plugin API and machinery stay free of Qt and torch."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np

from plugin_helpers import ROOT, _forget_plugin_modules, plugins_dir  # noqa: F401
from vidstudio.api import Clip, Node, Output, PortType
from vidstudio.graph import Engine, Graph, Link, NodeInstance, Settings
from vidstudio.motion.curves import FCurve
from vidstudio.nodes import default_registry
from vidstudio.plugins import PluginManager
from vidstudio.plugins.install import inspect_target, install

DOC = ROOT / "docs" / "plugins.md"


def doc_files() -> dict[str, str]:
    """``{relative path: text}`` of every code block of the page that starts with ``# file: PATH``."""
    blocks = re.findall(r"```\w*\n# file: (\S+)\n(.*?)```", DOC.read_text(), re.S)
    return {path: text for path, text in blocks}


def test_quick_start_plugin_from_the_docs(tmp_path, plugins_dir):
    files = doc_files()
    assert sorted(files) == ["darkroom/darkroom/__init__.py", "darkroom/vidstudio-plugin.toml"]
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    plan = inspect_target(str(tmp_path / "darkroom"), tmp_path)
    assert plan.kind == "folder"
    info = install(plan, PluginManager(), log=lambda line: None)
    assert (info.status, [n.type_id for n in info.nodes], info.category) == (
        "enabled",
        ["darkroom.Vignette"],
        "Darkroom",
    )

    class Gray(Node):
        type_id = "tests.Gray"
        outputs = (Output("video", PortType.VIDEO),)

        def execute(self, ctx, inputs, params):
            return {"video": Clip.from_array(np.full((ctx.frame_count, ctx.height, ctx.width, 3), 0.8, np.float32))}

    reg = default_registry()
    reg.register(Gray)
    g = Graph(
        nodes=[NodeInstance(id="src", type="tests.Gray"), NodeInstance(id="v", type="darkroom.Vignette")],
        links=[Link.make("src", "video", "v", "video")],
        animation={
            "v.strength": FCurve.model_validate(
                {"keys": [{"frame": 0, "value": 0.0, "interpolation": "linear"}, {"frame": 2, "value": 1.0}]}
            )
        },
    )
    video = np.asarray(
        Engine(reg).run(g, Settings(width=40, height=30, frame_count=3), targets=["v"]).output("v", "video")
    )
    assert np.allclose(video[0], 0.8)  # strength 0
    # full strength: the corner pixel (r ~ 1) is almost black, the centre untouched, half-way in between
    assert video[2, 0, 0, 0] < 0.05 and abs(video[2, 15, 20, 0] - 0.8) < 1e-3
    assert 0.3 < video[1, 0, 0, 0] < 0.5  # strength 0.5 halves the corner


def test_plugin_layers_import_neither_qt_nor_torch():
    code = (
        "import sys, vidstudio.api, vidstudio.plugins, vidstudio.plugins.install, vidstudio.commands.plugins\n"
        "from vidstudio.nodes import default_registry; default_registry()\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6', 'diffusers', 'qtawesome'})))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""
