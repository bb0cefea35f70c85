"""The plugin manager dialog and plugin nodes in the palette (issue #6 point 6, GUI half): status, errors with
details, manifest facts and permissions, enable and disable, install from a folder with the warning shown; a
plugin that fails never stops the GUI."""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

NODES = """
from vidstudio.api import Node, Output, Param, PortType

class Const(Node):
    type_id = "{name}.Const"
    title = "Constant"
    category = "{category}"
    description = "A number."
    outputs = (Output("value", PortType.NUMBER),)
    params = (Param("value", "float", 1.0),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        return {{"value": params["value"]}}
"""


def write_plugin(
    base: Path,
    name: str,
    *,
    code: str | None = None,
    permissions: str = "",
    manifest: str | None = None,
    category: str = "Numbers",
) -> tuple[Path, str]:
    """A folder plugin ``base/name`` whose module has a unique name (folder plugins import into sys.modules).
    Returns (folder, module name)."""
    module = f"{name}_{uuid.uuid4().hex[:8]}"
    d = base / name
    (d / module).mkdir(parents=True)
    (d / module / "__init__.py").write_text(
        textwrap.dedent(code if code is not None else NODES.format(name=name, category=category))
    )
    if manifest is None:
        manifest = textwrap.dedent(f'''
            manifest_version = 1
            name = "{name}"
            version = "1.2.0"
            api_versions = ">=1.0,<2"
            title = "{name.title()} Nodes"
            description = "Test plugin {name}."
            author = "Tester"
            license = "MIT"
            category = "{category}"
            module = "{module}"
            {permissions}
            [[nodes]]
            name = "Const"
            title = "Constant"
            description = "A number."
            ''')
    (d / "vidstudio-plugin.toml").write_text(manifest)
    return d, module


@pytest.fixture
def plugins_dir():
    p = Path(os.environ["VIDSTUDIO_PLUGINS_DIR"])
    p.mkdir(parents=True, exist_ok=True)
    return p


@pytest.fixture(autouse=True)
def _forget_modules(tmp_path_factory):
    before = set(sys.modules)
    yield
    base = str(tmp_path_factory.getbasetemp())
    for name in set(sys.modules) - before:
        if (getattr(sys.modules.get(name), "__file__", None) or "").startswith(base):
            del sys.modules[name]


def open_manager(qtbot, win):
    dlg = win.plugin_manager()
    qtbot.waitUntil(lambda: not dlg.busy and dlg.manager is not None, timeout=10000)
    return dlg


def wait_done(qtbot, dlg):
    qtbot.waitUntil(lambda: not dlg.busy, timeout=20000)


def test_plugin_nodes_in_the_palette_and_a_failing_plugin_never_stops_the_gui(qtbot, window_factory, plugins_dir):
    write_plugin(plugins_dir, "good", permissions='[permissions]\nnetwork = "Fetches grain scans from example.org"')
    write_plugin(
        plugins_dir, "broken", code="raise RuntimeError('the plugin is broken on purpose')\n", category="Broken"
    )
    (plugins_dir / "nomanifest").mkdir()
    (plugins_dir / "nomanifest" / "vidstudio-plugin.toml").write_text("name = 'nomanifest'\nversion = \n")
    win = window_factory()
    from vidstudio.nodes import default_registry

    win.session.set_registry(default_registry())  # discovers the plugins of this test's folder
    s, editor = win.session, win.editor
    assert "good_" not in " ".join(sys.modules)  # listed without importing
    pal = editor.open_palette_at_cursor()
    assert {"good.Const", "broken.Const"} <= set(pal.visible_types())
    cats = {
        pal.tree.topLevelItem(i).text(0): [
            pal.tree.topLevelItem(i).child(j).text(0) for j in range(pal.tree.topLevelItem(i).childCount())
        ]
        for i in range(pal.tree.topLevelItemCount())
    }
    assert "Constant" in cats["Numbers"] and "Constant" in cats["Broken"]
    # adding the broken plugin's node: its import fails, the user is told, nothing is added, the GUI goes on
    qtbot.keyClicks(pal.search, "broken")
    messages = []
    s.message.connect(messages.append)
    qtbot.keyClick(pal.search, Qt.Key.Key_Return)
    assert not s.project.nodes
    assert messages and "failed to import" in messages[-1] and "broken on purpose" in messages[-1]
    # the good one works
    nid = s.add_node("good.Const", (0, 0))
    assert s.wait_idle(10) and s.project.node(nid).type == "good.Const"

    dlg = open_manager(qtbot, win)
    assert [p.name for p in dlg.plugins] == ["broken", "good", "nomanifest"]
    dlg.select("broken")
    p = dlg.current()
    assert p.status == "failed" and "broken on purpose" in dlg.details.text()
    assert not dlg.details_button.isHidden()
    qtbot.mouseClick(dlg.details_button, Qt.MouseButton.LeftButton)
    assert "RuntimeError" in dlg.error_details.toPlainText() and "Traceback" in dlg.error_details.toPlainText()
    dlg.select("nomanifest")
    assert dlg.current().status == "failed" and "invalid manifest" in dlg.details.text()
    dlg.select("good")
    text = dlg.details.text()
    assert "Good Nodes" in text and "1.2.0" in text and "Tester" in text and "MIT" in text
    assert "network" in text and "Fetches grain scans from example.org" in text and "cannot enforce" in text
    assert "good.Const" in text
    dlg.close()


def test_disable_enable_and_install_from_a_folder(qtbot, window_factory, plugins_dir, tmp_path):
    write_plugin(plugins_dir, "good")
    win = window_factory()
    s = win.session
    dlg = open_manager(qtbot, win)
    assert [p.name for p in dlg.plugins] == ["good"]
    # disable: saved, and the session's node types no longer offer it (a node using it stays, unavailable)
    dlg.select("good")
    assert dlg.toggle_button.text() == "Disable"
    qtbot.mouseClick(dlg.toggle_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, dlg)
    wait_done(qtbot, dlg)
    qtbot.waitUntil(lambda: s.registry.find("good.Const") is None, timeout=10000)
    assert dlg.current().status == "disabled" and dlg.toggle_button.text() == "Enable"
    assert "is disabled" in s.registry.why_unusable("good.Const")[1]
    pal = win.editor.open_palette_at_cursor()
    assert "good.Const" not in pal.visible_types() and "good.Const" in pal.unavailable_types()
    pal.hide()
    from vidstudio.plugins import PluginManager

    assert PluginManager().get("good").status == "disabled"  # persisted
    qtbot.mouseClick(dlg.toggle_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: s.registry.find("good.Const") is not None, timeout=10000)
    wait_done(qtbot, dlg)

    # install a plugin folder from elsewhere: its facts, permissions and the warning are shown first
    src, _ = write_plugin(tmp_path / "src", "fresh", permissions='[permissions]\nfiles = "Reads LUTs from ~/luts"')
    asked: list[list[str]] = []
    dlg.confirm_install = lambda lines: asked.append(lines) or False
    dlg.install_from(src)
    wait_done(qtbot, dlg)
    assert asked and asked[0][0].startswith("Plugin fresh 1.2.0")
    text = "\n".join(asked[0])
    assert "Reads LUTs from ~/luts" in text and "WARNING: a plugin is Python code" in text
    assert not (plugins_dir / "fresh").exists() and "cancelled" in dlg.status.text()  # declined: nothing changed
    dlg.confirm_install = lambda lines: True
    dlg.install_from(src)
    qtbot.waitUntil(lambda: s.registry.find("fresh.Const") is not None, timeout=20000)
    wait_done(qtbot, dlg)
    assert (plugins_dir / "fresh" / "vidstudio-plugin.toml").is_file()
    assert [p.name for p in dlg.plugins] == ["fresh", "good"] and dlg.current_name() == "fresh"
    assert "installed plugin 'fresh'" in dlg.status.text()
    # a bad target is reported in words
    dlg.install_from(tmp_path / "nothing-here")
    wait_done(qtbot, dlg)
    assert "no such file or folder" in dlg.status.text()
    dlg.close()


def test_the_plugins_menu_entry_opens_the_manager(qtbot, window_factory):
    win = window_factory()
    edit = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Edit")
    assert win.act_plugins in edit.actions()
    win.act_plugins.trigger()
    dlg = win._plugins_dialog
    assert dlg is not None and dlg.isVisible()
    qtbot.waitUntil(lambda: not dlg.busy, timeout=10000)
    assert dlg.plugins == [] and "No plugins found" in dlg.details.text()
    dlg.close()


def test_a_plugin_that_crashed_the_last_run_opens_disabled_and_is_offered_back(qtbot, window_factory, plugins_dir):
    """Issue 15 point 4: Blender's safe start. A crash marker left by a dead process names the plugin; the next
    start disables it and asks whether to enable it again."""
    import json
    import subprocess

    from vidstudio.plugins import PluginManager
    from vidstudio.plugins.manager import MARKERS_DIR, config_dir

    write_plugin(plugins_dir, "wobbly")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    markers = config_dir() / MARKERS_DIR
    markers.mkdir(parents=True, exist_ok=True)
    (markers / f"{dead.pid}-1.json").write_text(
        json.dumps({"plugin": "wobbly", "what": "node 'Const'", "pid": dead.pid})
    )
    assert PluginManager().get("wobbly").status == "disabled"  # what a start does first: the plugin is off
    win = window_factory()
    win.prompts.reenable = True
    assert win.offer_crashed_plugins() == ["wobbly"]
    assert ("reenable_plugin", ("wobbly", "node 'Const'")) in win.prompts.asked
    assert PluginManager().get("wobbly").status == "enabled"
    assert win.offer_crashed_plugins() == []  # asked once
