"""Installing the example plugin for real and using both of its nodes in a graph.

The shared environment is never touched: a throwaway venv sees this interpreter's site-packages and the
repository through a ``.pth`` file, pip installs into that venv only, offline (``PIP_NO_INDEX`` with the
example's wheel in ``PIP_FIND_LINKS``), and ``python -m vidstudio`` runs with the venv's python. One install
per test session.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import site
import subprocess
import sysconfig
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import ASSETS, ROOT
from plugin_helpers import EXAMPLE_PLUGIN, _forget_plugin_modules, example_on_path, plugins_dir, write_plugin  # noqa: F401
from vidstudio.plugins import PluginError, PluginManager
from vidstudio.plugins.install import inspect_target


def offline_pip_env(wheels: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory) -> tuple[Path, Path]:
    """``(python, wheels)``: a venv that sees this interpreter's packages and the repository but installs into
    itself, and a folder holding the example plugin's wheel."""
    base = tmp_path_factory.mktemp("plugin-venv")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()]
    lines = [str(ROOT)] + [p for i, p in enumerate(ours) if p not in ours[:i] and Path(p).is_dir()]
    Path(purelib, "_vidstudio_tests.pth").write_text("\n".join(lines) + "\n")
    # Build the wheel from a copy, so that build/ and *.egg-info stay out of the checkout. The build needs
    # setuptools from this environment: PIP_NO_BUILD_ISOLATION=0 means --no-build-isolation (pip's quirk).
    src = base / "src"
    shutil.copytree(EXAMPLE_PLUGIN, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    wheels = base / "wheels"
    r = subprocess.run(
        [py, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), str(src)],
        env={**offline_pip_env(wheels), "PIP_NO_BUILD_ISOLATION": "0"},
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return py, wheels


def project(folder: Path) -> Path:
    shutil.copy(ASSETS / "astronaut.png", folder / "astronaut.png")
    doc = {
        "format_version": 1,
        "settings": {"width": 96, "height": 64, "fps": "24", "frame_count": 6},
        "nodes": [
            {"id": "photo", "type": "LoadImage", "params": {"path": "astronaut.png"}},
            {"id": "cam", "type": "CameraMove", "params": {}},
            {"id": "grain", "type": "example_nodes.FilmGrain", "params": {"amount": 0.08, "size": 2.0, "seed": 5}},
            {
                "id": "export",
                "type": "ExportVideo",
                "params": {"path": "out/grain.mp4", "crf": 0, "preset": "ultrafast"},
            },
            {"id": "line", "type": "testtraj.Line", "params": {"speed": 3.0}},
            {"id": "wig", "type": "example_nodes.Wiggle", "params": {"amplitude": 6.0, "frequency": 4.0, "seed": 1}},
        ],
        "links": [
            {"from": "photo.image", "to": "cam.image"},
            {"from": "cam.video", "to": "grain.video"},
            {"from": "grain.video", "to": "export.video"},
            {"from": "line.trajectory", "to": "wig.trajectory"},
        ],
        "animation": {
            "cam.zoom": {"keys": [{"frame": 0, "value": 1.0, "interpolation": "linear"}, {"frame": 5, "value": 1.2}]}
        },
    }
    p = folder / "film.vidproj"
    p.write_text(json.dumps(doc, indent=2))
    return p


def expected_frames(p: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(plain, grained)`` frames of ``p`` computed in this process, with the example's classes from source."""
    from vidstudio_example_nodes.grain import FilmGrain

    from vidstudio.graph import Engine
    from vidstudio.nodes import builtin_registry
    from vidstudio.project import load_project

    reg = builtin_registry()
    reg.register(FilmGrain, source="example_nodes")
    proj = load_project(p)
    res = Engine(reg).run(proj, proj.settings, targets=["cam", "grain"], project_dir=proj.project_dir)
    return np.asarray(res.output("cam", "video")), np.asarray(res.output("grain", "video"))


def test_install_use_disable_and_uninstall_the_example_plugin(plugin_venv, tmp_path, plugins_dir, example_on_path):
    from vidstudio.media import read_video

    py, wheels = plugin_venv
    env = offline_pip_env(wheels)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [py, "-m", "vidstudio", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    # by package name: pip downloads the wheel, VidStudio shows its manifest, then pip installs it
    r = cli("plugins", "install", "vidstudio-example-nodes", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Plugin example_nodes 0.1.0: Example Nodes" in r.stdout and "runs on this machine" in r.stdout
    assert "installed example_nodes 0.1.0 (package): example_nodes.FilmGrain, example_nodes.Wiggle" in r.stdout
    assert "Requirement already satisfied: scipy" in r.stderr  # its dependencies went through pip
    assert list(py.parent.parent.glob("lib*/python*/site-packages/vidstudio_example_nodes/grain.py")) or list(
        py.parent.parent.glob("Lib/site-packages/vidstudio_example_nodes/grain.py")
    )  # into the throwaway venv
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("vidstudio-example-nodes")  # this process's environment has no such package

    # a trajectory source, as a folder plugin whose requirement goes through pip
    src = write_plugin(tmp_path / "src", "testtraj", nodes=[{"name": "Line"}], requirements=["numpy>=1.20"])
    r = cli("plugins", "install", str(src), "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Requirement already satisfied: numpy" in r.stderr and (plugins_dir / "testtraj").is_dir()

    listed = {p["name"]: p for p in json.loads(cli("plugins", "list", "--json").stdout)["plugins"]}
    ex = listed["example_nodes"]
    assert (ex["status"], ex["origin"], ex["distribution"], ex["category"]) == (
        "enabled",
        "package",
        "vidstudio-example-nodes",
        "Example Nodes",
    )
    assert listed["testtraj"]["origin"] == "folder"

    # both nodes in one graph: the render carries the grain, the wiggle moves the trajectory
    p = project(tmp_path)
    r = cli("render", str(p))
    assert r.returncode == 0, r.stderr
    frames = read_video(tmp_path / "out" / "grain.mp4")
    plain, grained = expected_frames(p)
    assert frames.shape == (6, 64, 96, 3)
    assert np.abs(frames - grained).mean() < 0.02  # the installed plugin made the frames computed here
    got, want = (frames - plain).ravel(), (grained - plain).ravel()
    assert np.corrcoef(got, want)[0, 1] > 0.9 and 0.05 < got.std() < 0.11  # grain of about amount 0.08
    r = cli("eval", str(p), "wig", "--json")
    assert r.returncode == 0, r.stderr
    track = json.loads(r.stdout)["outputs"]["trajectory"]["tracks"][0]
    pos = np.array(track["position"])
    line = np.stack([10 + 3.0 * np.arange(6), np.full(6, 20.0)], axis=1)
    d = pos - line
    assert np.abs(d).max() <= 6.0 and np.abs(d).max() > 0.3
    assert np.allclose(d[0], 0.0, atol=1e-3)  # gradient noise passes through the path at the start

    # disabled: the project still opens, validation names the plugin
    assert cli("plugins", "disable", "example_nodes").returncode == 0
    r = cli("validate", str(p))
    assert r.returncode == 2
    assert (
        "node 'grain' type: node type 'example_nodes.FilmGrain' is unavailable: plugin 'example_nodes' is disabled"
        in r.stdout
    )

    # uninstalled: pip removes it; the project says which plugin is missing
    r = cli("plugins", "uninstall", "example_nodes")
    assert r.returncode == 0, r.stderr
    assert "Successfully uninstalled vidstudio-example-nodes" in r.stderr
    r = cli("validate", str(p))
    assert (
        r.returncode == 2
        and "unknown node type 'example_nodes.Wiggle': plugin 'example_nodes' is not installed" in r.stdout
    )

    # a package folder (a plugin's source checkout): pip builds a copy, the user's folder is left as it was
    src = tmp_path / "checkout"
    shutil.copytree(EXAMPLE_PLUGIN, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    before = sorted(str(f.relative_to(src)) for f in src.rglob("*"))
    r = subprocess.run(
        [py, "-m", "vidstudio", "plugins", "install", str(src), "--yes"],
        cwd=tmp_path,
        env={**env, "PIP_NO_BUILD_ISOLATION": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "installed example_nodes 0.1.0 (package)" in r.stdout
    assert sorted(str(f.relative_to(src)) for f in src.rglob("*")) == before  # no build/, no *.egg-info

    # the wheel itself is a valid install target (what a user downloads)
    wheel = next(wheels.glob("*.whl"))
    plan = inspect_target(str(wheel), tmp_path)
    assert (plan.kind, plan.manifest.name) == ("wheel", "example_nodes")


def test_package_folder_and_bad_packages_are_checked_before_anything_installs(tmp_path):
    plan = inspect_target(str(EXAMPLE_PLUGIN), tmp_path)
    assert (plan.kind, plan.manifest.name, plan.uses_pip) == ("package", "example_nodes", True)
    assert plan.manifest_source.endswith("vidstudio_example_nodes/vidstudio-plugin.toml")

    pkg = tmp_path / "pkg"
    shutil.copytree(EXAMPLE_PLUGIN, pkg, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    text = (pkg / "pyproject.toml").read_text()
    (pkg / "pyproject.toml").write_text(
        text.replace('[project.entry-points."vidstudio.nodes"]\nexample_nodes = "vidstudio_example_nodes"\n', "")
    )
    with pytest.raises(PluginError, match="declares no entry point in group 'vidstudio.nodes'"):
        inspect_target(str(pkg), tmp_path)

    wheel = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("fake/__init__.py", "")
        z.writestr(
            "fake/vidstudio-plugin.toml",
            (EXAMPLE_PLUGIN / "vidstudio_example_nodes" / "vidstudio-plugin.toml").read_text(),
        )
        z.writestr("fake-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: fake\nVersion: 1.0\n")
    with pytest.raises(PluginError, match="the wheel declares no entry point in group 'vidstudio.nodes'"):
        inspect_target(str(wheel), tmp_path)
    with zipfile.ZipFile(tmp_path / "plain-1.0-py3-none-any.whl", "w") as z:
        z.writestr("plain/__init__.py", "")
    with pytest.raises(PluginError, match="not a VidStudio plugin"):
        inspect_target(str(tmp_path / "plain-1.0-py3-none-any.whl"), tmp_path)
    assert PluginManager().plugins == []  # nothing was installed
