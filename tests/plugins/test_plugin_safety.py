"""Issue 15 point 4: nothing a plugin does takes VidStudio down. A folder plugin cannot shadow an installed
module; a plugin that raises KeyboardInterrupt or SystemExit at import, or hangs there, fails by name while
everything else goes on; a plugin node that crashes the process is named at the next start and disabled, with
the command to enable it again."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import run_cli
from plugin_helpers import NODES_MODULE, _forget_plugin_modules, plugins_dir, write_plugin  # noqa: F401
from vidstudio.cli import main
from vidstudio.nodes import default_registry
from vidstudio.plugins import PluginManager


def test_a_folder_plugin_named_like_an_installed_package_is_a_name_clash(plugins_dir):
    write_plugin(plugins_dir, "shadow", module="imageio_ffmpeg")
    write_plugin(plugins_dir, "good")
    reg = default_registry()
    assert reg.find("shadow.Const") is None
    reason = reg.unavailable_reason("shadow.Const")
    assert "name clash: the module name 'imageio_ffmpeg' is already used by an installed module" in reason
    assert reg.get("good.Const") is not None  # the others load
    code = (
        "from vidstudio.nodes import default_registry; r = default_registry(); r.find('shadow.Const');"
        "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ffmpeg" in r.stdout, r.stderr  # the real package, not the plugin


@pytest.mark.parametrize("raised", ["KeyboardInterrupt", "SystemExit(3)"])
def test_a_plugin_raising_keyboardinterrupt_or_systemexit_at_import_fails_by_name(plugins_dir, raised):
    write_plugin(plugins_dir, "rude", code=f"raise {raised}\n")
    write_plugin(plugins_dir, "good")
    m = PluginManager()
    info = m.load("rude")
    assert (
        info.status == "failed"
        and f"plugin 'rude' failed to import: {raised.split('(')[0]}" in m.unavailable_reason("rude")
    )
    assert m.load("good").status == "enabled"
    reg = default_registry()
    assert reg.find("rude.Const") is None and reg.get("good.Const") is not None


def test_a_plugin_that_hangs_at_import_times_out_by_name(plugins_dir, monkeypatch, capsys):
    monkeypatch.setenv("VIDSTUDIO_PLUGIN_IMPORT_TIMEOUT", "0.5")
    write_plugin(
        plugins_dir, "stuck", code="import time\ntime.sleep(3)\n" + NODES_MODULE.format(plugin="stuck", category="T")
    )
    write_plugin(plugins_dir, "good")
    capsys.readouterr()
    assert main(["plugins", "list", "--check", "--json"]) == 0
    rows = {p["name"]: p for p in json.loads(capsys.readouterr().out)["plugins"]}
    assert rows["stuck"]["status"] == "failed" and "did not finish in 0.5 s" in rows["stuck"]["error"]
    assert rows["good"]["status"] == "enabled"


SEGV = (
    NODES_MODULE
    + """
class Crash(Node):
    type_id = "{plugin}.Crash"
    outputs = (Output("value", PortType.NUMBER),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        import ctypes
        ctypes.string_at(0)  # a segfault, as a broken C extension would cause
"""
)


def test_a_plugin_node_that_segfaults_is_named_and_disabled_at_the_next_start(plugins_dir, tmp_path):
    write_plugin(
        plugins_dir, "segv", code=SEGV.format(plugin="segv", category="T"), nodes=[{"name": "Const"}, {"name": "Crash"}]
    )
    (tmp_path / "p.vidproj").write_text(json.dumps({"format_version": 1, "nodes": [{"id": "c", "type": "segv.Crash"}]}))
    r = run_cli("eval", str(tmp_path / "p.vidproj"), "c")
    assert r.returncode < 0, (r.returncode, r.stderr)  # the process died of the signal
    r = run_cli("plugins", "list", "--json")
    assert r.returncode == 0, r.stderr
    assert "plugin 'segv' was running (node 'Crash') when VidStudio process" in r.stderr
    assert "Enable it again with `vidstudio plugins enable segv`" in r.stderr
    assert {p["name"]: p["status"] for p in json.loads(r.stdout)["plugins"]}["segv"] == "disabled"
    r = run_cli("eval", str(tmp_path / "p.vidproj"), "c")  # the next run opens with it disabled: no crash
    assert r.returncode == 2 and "plugin 'segv' is disabled" in r.stderr
    r = run_cli("plugins", "list")
    assert "was running" not in r.stderr  # told once
    assert run_cli("plugins", "enable", "segv").returncode == 0
    assert PluginManager().get("segv").status == "enabled"


def test_a_dead_workers_marker_never_disables_the_plugin(plugins_dir):
    """A worker killed with its server (nobody left to report it on the job) is no reason to disable a plugin."""
    from vidstudio.plugins.manager import MARKERS_DIR, config_dir

    write_plugin(plugins_dir, "steady")
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    markers = config_dir() / MARKERS_DIR
    markers.mkdir(parents=True, exist_ok=True)
    (markers / f"{p.pid}-1.json").write_text(
        json.dumps({"plugin": "steady", "what": "node 'Const'", "pid": p.pid, "role": "worker"})
    )
    m = PluginManager()
    assert m.get("steady").status == "enabled" and m.crashed == [] and not list(markers.iterdir())


def test_a_normal_exit_with_an_import_still_hanging_blames_nobody(plugins_dir, tmp_path):
    """The marker of an import abandoned after its time limit is removed when the process exits normally."""
    write_plugin(plugins_dir, "slowpoke", code="import time\ntime.sleep(30)\n")
    code = (
        "import os; os.environ['VIDSTUDIO_PLUGIN_IMPORT_TIMEOUT'] = '0.3'\n"
        "from vidstudio.plugins import PluginManager\n"
        "print(PluginManager().load('slowpoke').status)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "failed", r.stderr
    m = PluginManager()
    assert m.crashed == [] and m.get("slowpoke").enabled


def test_a_servers_crash_state_disables_a_plugin_there_only_with_the_reason(plugins_dir, tmp_path, monkeypatch):
    """What a generation server's supervisor records after its worker died in a plugin's code: a manager given
    that file (the server's, or its worker's through $VIDSTUDIO_PLUGIN_CRASH_STATE) has the plugin disabled with
    the crash as the reason; one without it (the user's GUI, `vidstudio plugins`) still has it enabled."""
    from vidstudio.plugins.manager import (
        CRASH_STATE_ENV,
        PluginCrash,
        clear_crash_disabled,
        read_crash_disabled,
        record_crash_disabled,
    )

    write_plugin(plugins_dir, "wobbly")
    write_plugin(plugins_dir, "good")
    state = tmp_path / "data" / "plugins.json"
    assert read_crash_disabled(state) == {}
    died = "the GPU worker crashed with a segmentation fault (SIGSEGV)"
    record_crash_disabled(state, PluginCrash("wobbly", "node 'Const'", 1234), died, "gen_abc")
    server = PluginManager(crash_state=state)
    assert server.get("wobbly").status == "disabled" and server.get("good").status == "enabled"
    reason = server.unavailable_reason("wobbly")
    assert reason == (
        f"plugin 'wobbly' is disabled on this server: {died} while its code ran (node 'Const') (job gen_abc). "
        "Enable it again with POST /v1/plugins/wobbly/enable (`vidstudio plugins enable wobbly --server URL`)"
    )
    reg = default_registry()
    assert reg.get("wobbly.Const") is not None  # the user's own settings are untouched
    monkeypatch.setenv(CRASH_STATE_ENV, str(state))  # as the server's worker has it
    assert default_registry().unavailable_reason("wobbly.Const") == reason
    assert clear_crash_disabled(state, "wobbly") and not clear_crash_disabled(state, "wobbly")
    assert PluginManager().get("wobbly").status == "enabled"
    state.write_text("{not json")  # a damaged file never stops anything: nothing counts as crashed
    assert PluginManager().get("wobbly").status == "enabled" and read_crash_disabled(state) == {}
