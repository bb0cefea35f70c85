"""The managed generation backend (``vidstudio backend``): its own environment with the torch build for the
machine, the pinned stack, verified by the doctor inside it; the local server starts from it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_cli
from vidstudio import managed
from vidstudio.errors import VidStudioError


def test_torch_builds_by_name():
    assert managed.torch_build() == "cpu"
    assert managed.torch_build(cuda="12.8") == "cu128"
    assert managed.torch_build(rocm="6.4") == "rocm6.4"
    with pytest.raises(VidStudioError, match="12.8"):
        managed.torch_build(cuda="twelve")


def test_status_without_a_backend(tmp_path):
    r = run_cli("backend", "status", "--dir", str(tmp_path / "none"))
    assert r.returncode == 1 and "no managed backend" in r.stdout
    assert managed.server_python() == sys.executable


def test_a_failing_step_names_itself_and_leaves_no_verified_backend(tmp_path):
    root = tmp_path / "backend"
    # No index and no local wheels: pip gives up on torch (or its dependencies) at once.
    r = run_cli(
        "backend",
        "install",
        "--dir",
        str(root),
        "--torch-index",
        "pip",
        timeout=300,
        env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""},
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "installing torch 2.13.0 (cpu) failed" in r.stderr and "install.log" in r.stderr
    assert (root / "install.log").is_file() and managed.installed(root) is None


@pytest.mark.package
def test_install_upgrade_and_remove_with_the_cpu_wheel(tmp_path):
    """The real thing: torch from pip's configuration (the machine's CPU wheel), the stack from the index."""
    root = tmp_path / "backend"
    r = run_cli("backend", "install", "--cpu", "--torch-index", "pip", "--dir", str(root), timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "[100%] ready: torch 2.13.0" in r.stdout
    info = managed.installed(root)
    assert info is not None and info.build == "cpu" and info.device == "cpu"
    py = Path(info.python)
    assert py.is_relative_to(root)
    versions = subprocess.run(
        [
            str(py),
            "-c",
            "import diffusers, transformers, vidstudio; "
            "print(diffusers.__version__, transformers.__version__, vidstudio.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.split()
    assert versions[:2] == [managed.PINNED["diffusers"], managed.PINNED["transformers"]]
    assert Path(versions[2]).is_relative_to(root)  # its own copy, not this checkout
    r = run_cli("backend", "status", "--dir", str(root))
    assert r.returncode == 0 and "renders on cpu" in r.stdout
    r = run_cli("backend", "upgrade", "--cpu", "--torch-index", "pip", "--dir", str(root), timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert json.loads((root / "installed.json").read_text())["python"] == str(py)
    r = run_cli("backend", "remove", "--dir", str(root))
    assert r.returncode == 0 and not root.exists()
