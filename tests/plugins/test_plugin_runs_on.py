"""A plugin's node declared backend-only (in its manifest) is named as such by the command line, without its
plugin being imported and without its type name in any list of VidStudio's."""

from __future__ import annotations

import json
import sys

from plugin_helpers import _forget_plugin_modules, plugins_dir, write_plugin  # noqa: F401


def test_validate_and_plugins_info_name_a_backend_only_plugin_node(plugins_dir, cli, tmp_path):
    write_plugin(plugins_dir, "acme", nodes=[{"name": "Const", "runs_on": "backend"}])
    from vidstudio.nodes import default_registry

    reg = default_registry()
    assert reg.runs_on("acme.Const") == "backend" and "acme_mod" not in sys.modules
    project = tmp_path / "p.vidproj"
    project.write_text(
        json.dumps(
            {
                "format_version": 1,
                "settings": {"width": 64, "height": 64, "fps": "24", "frame_count": 4},
                "nodes": [{"id": "paint", "type": "acme.Const", "params": {"value": 2.0}}],
                "links": [],
            }
        )
    )
    r = cli("validate", str(project))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("; on the generation backend: paint)")
    r = cli("plugins", "info", "acme")
    assert r.returncode == 0 and "acme.Const" in r.stdout and "(runs only on the generation backend)" in r.stdout
