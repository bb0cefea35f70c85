"""``vidstudio plugins`` and ``vidstudio nodes`` as a user runs them, with folder plugins (no pip needed):
broken plugins are listed with their errors and never stop the commands. The first test starts real
processes; the others call the command line's ``main`` in this process (the same code, without the start-up
time)."""

from __future__ import annotations

import io
import json
import sys

import pytest

from helpers import run_cli
from plugin_helpers import _forget_plugin_modules, plugins_dir, write_plugin  # noqa: F401
from vidstudio.cli import main


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def vs(capsys, monkeypatch):
    """``vs(*args, stdin="")``: runs ``vidstudio ARGS`` in this process and returns its exit code and output."""

    def run(*args: str, stdin: str = "") -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def folder(plugins_dir):
    write_plugin(
        plugins_dir,
        "good",
        nodes=[{"name": "Const", "title": "Constant"}, {"name": "Boom"}],
        permissions={"network": "Fetches lookup tables from example.org"},
        homepage="https://example.org/good",
    )
    write_plugin(plugins_dir, "crash", code="print('crash says hi')\nraise RuntimeError('no GPU here')\n")
    write_plugin(plugins_dir, "old", api_versions="<1")
    (plugins_dir / "junk").mkdir()
    return plugins_dir


def has_line(text: str, first: str, rest: str) -> bool:
    """True when a line of ``text`` is ``first``, spaces, then starts with ``rest``."""
    return any(
        l.split(None, 1)[0] == first and l.split(None, 1)[1].startswith(rest)
        for l in text.splitlines()
        if len(l.split(None, 1)) == 2
    )


def test_nodes_starts_and_names_broken_plugins(folder):
    r = run_cli("nodes")
    assert r.returncode == 0, r.stderr
    assert "good.Const" in r.stdout and "LoadImage" in r.stdout
    assert has_line(r.stdout, "crash.Const", "UNAVAILABLE: plugin 'crash' failed to import: RuntimeError: no GPU here")
    assert has_line(r.stdout, "old.Const", "UNAVAILABLE: plugin 'old' 1.0.0 needs node API <1")
    r = run_cli("nodes", "--json")
    doc = json.loads(r.stdout)  # the plugin's print went to stderr, not into the JSON
    assert "crash says hi" in r.stderr
    by_type = {d["type"]: d for d in doc["nodes"]}
    assert by_type["good.Const"]["source"] == "good" and by_type["good.Const"]["title"] == "Constant"
    assert by_type["crash.Const"]["available"] is False and by_type["crash.Const"]["category"] == "Tests"


def test_list_info_enable_disable(folder, vs):
    r = vs("plugins", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "STATUS", "ORIGIN", "NODES"]
    assert any(l.split()[:5] == ["good", "1.0.0", "enabled", "folder", "Const,"] for l in lines)
    assert any("junk" in l and "failed" in l for l in lines)
    assert any("error: plugin 'junk' has no manifest" in l for l in lines)
    doc = json.loads(vs("plugins", "list", "--json", "--check").stdout)
    status = {p["name"]: (p["status"], p["error"]) for p in doc["plugins"]}
    assert status["crash"] == ("failed", "plugin 'crash' failed to import: RuntimeError: no GPU here")
    assert status["old"][0] == "incompatible" and status["good"] == ("enabled", None)

    r = vs("plugins", "info", "good")
    assert r.returncode == 0
    assert "network     Fetches lookup tables from example.org  [connects to other machines" in r.stdout
    assert "homepage:     https://example.org/good" in r.stdout
    assert "good.Const                       Constant" in r.stdout
    info = json.loads(vs("plugins", "info", "good", "--json").stdout)
    assert info["permissions"][0]["name"] == "network" and [n["type"] for n in info["nodes"]] == [
        "good.Const",
        "good.Boom",
    ]

    r = vs("plugins", "disable", "good")
    assert r.returncode == 0 and "disabled good" in r.stdout
    assert has_line(vs("nodes").stdout, "good.Const", "UNAVAILABLE: plugin 'good' is disabled")
    assert vs("plugins", "disable", "good").stdout == "good is already disabled\n"
    r = vs("plugins", "enable", "good")
    assert r.returncode == 0 and "enabled good" in r.stdout
    r = vs("plugins", "info", "nosuch")
    assert r.returncode == 2 and "no plugin named 'nosuch' (installed: crash, good, junk, old;" in r.stderr


def test_install_folder_plugin_asks_and_copies(tmp_path, plugins_dir, vs):
    src = write_plugin(tmp_path / "src", "fresh", permissions={"files": "Reads LUTs from ~/luts"})
    r = vs("plugins", "install", str(src), stdin="n\n")
    assert r.returncode == 1 and "fresh was not installed; nothing changed" in r.stderr  # 130 is for Ctrl-C
    assert "files       Reads LUTs from ~/luts" in r.stdout
    assert "runs on this machine" in r.stdout and "Install fresh 1.0.0? [y/N]" in r.stdout
    assert not (plugins_dir / "fresh").exists()
    assert vs("plugins", "install", str(src)).returncode == 1  # no answer (end of input) is a no
    assert not (plugins_dir / "fresh").exists()
    r = vs("plugins", "install", str(src), stdin="y\n")
    assert r.returncode == 0, r.stderr
    assert "installed fresh 1.0.0 (folder): fresh.Const" in r.stdout
    assert (plugins_dir / "fresh" / "vidstudio-plugin.toml").read_text() == (src / "vidstudio-plugin.toml").read_text()
    assert "fresh.Const" in vs("nodes").stdout
    r = vs("plugins", "install", str(src), "--yes")  # again: replaces the installed copy
    assert r.returncode == 0 and "replaces:     fresh 1.0.0 (folder" in r.stdout
    assert sorted(p.name for p in plugins_dir.iterdir()) == ["fresh"]
    r = vs("plugins", "uninstall", "fresh")
    assert r.returncode == 0 and "uninstalled fresh 1.0.0" in r.stdout
    assert not (plugins_dir / "fresh").exists()


def test_install_refuses_what_is_not_a_plugin(tmp_path, vs):
    (tmp_path / "empty").mkdir()
    r = vs("plugins", "install", str(tmp_path / "empty"), "--yes")
    assert r.returncode == 2 and "not a VidStudio plugin (no vidstudio-plugin.toml, no pyproject.toml)" in r.stderr
    old = write_plugin(tmp_path, "ancient", api_versions="<1")
    r = vs("plugins", "install", str(old), "--yes")
    assert r.returncode == 2 and "plugin 'ancient' 1.0.0 needs node API <1" in r.stderr
    r = vs("plugins", "install", str(tmp_path / "nope.whl"), "--yes")
    assert r.returncode == 2 and "nope.whl: no such file or folder" in r.stderr


def test_a_plugin_node_that_raises(folder, tmp_path, vs):
    p = tmp_path / "p.vidproj"
    p.write_text(
        json.dumps(
            {
                "format_version": 1,
                "nodes": [{"id": "c", "type": "good.Const"}, {"id": "b", "type": "good.Boom"}],
                "links": [{"from": "c.value", "to": "b.value"}],
            }
        )
    )
    r = vs("eval", str(p), "b")
    assert r.returncode == 1
    assert (
        "vidstudio: error in plugin 'good' (report it to the plugin's author): node 'b' (good.Boom, from plugin "
        "'good') failed: ZeroDivisionError: the plugin divided by zero"
    ) in r.stderr
    assert "internal error" not in r.stderr  # the user is not sent to VidStudio's developers
    r = vs("eval", str(p), "c", "--json")  # the rest of the graph still works
    assert r.returncode == 0 and json.loads(r.stdout)["outputs"] == {"value": 1.0}
