"""The newcomer's set-up contract: the README opens with the two make commands, and what those commands run
(read with ``make -n``, which executes nothing): a venv when missing, a pinned CPU-only torch before the
project, ``pip install -e .[dev]``, the import contracts and the whole suite; CI runs exactly ``make test``."""

from __future__ import annotations

import re
import subprocess
import tomllib

from helpers import ROOT


def dry_run(target: str, tmp_path, *extra: str) -> list[str]:
    venv = tmp_path / "fresh-venv"  # does not exist: what a fresh clone gets
    r = subprocess.run(
        ["make", "-n", "-C", str(ROOT), target, f"VENV={venv}", *extra], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    return [line.replace(str(venv), "VENV") for line in r.stdout.splitlines()]


def test_readme_opens_with_the_two_commands():
    lines = [l for l in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if l.strip()]
    assert lines[0].startswith("# ")
    assert lines[1] == "```sh"
    assert re.match(r"make demo(\s+#.*)?$", lines[2]) and re.match(r"make test(\s+#.*)?$", lines[3])
    assert lines[4] == "```"


def test_make_test_creates_the_venv_pins_cpu_torch_first_then_runs_contracts_and_suite(tmp_path):
    out = dry_run("test", tmp_path)
    text = "\n".join(out)
    venv = out.index(next(l for l in out if "-m venv VENV" in l))
    torch = out.index(next(l for l in out if "pip install" in l and '"torch==2.13.0"' in l))
    project = out.index(next(l for l in out if l.strip() == 'VENV/bin/python -m pip install --quiet -e ".[dev]"'))
    lint = out.index("VENV/bin/lint-imports --no-cache")
    suite = out.index(next(l for l in out if "VENV/bin/python -m pytest" in l))
    assert venv < torch < project < lint < suite
    # by default pip's own configuration (the machine's CPU wheel on CI); an index only when asked for
    assert "--index-url" not in text
    cpu = "\n".join(dry_run("test", tmp_path, "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu"))
    assert '--index-url "https://download.pytorch.org/whl/cpu" "torch==2.13.0"' in cpu
    # torch is installed only where it is missing
    assert 'VENV/bin/python -c "import torch"' in text


def test_torch_version_is_overridable_and_demo_renders_the_example_to_out_demo_mp4(tmp_path):
    out = "\n".join(dry_run("demo", tmp_path, "TORCH_VERSION=2.9.1"))
    assert '"torch==2.9.1"' in out and "torch==2.13.0" not in out
    demo = [l for l in out.splitlines() if l.startswith("VENV/bin/vidstudio render ")]
    assert demo == ["VENV/bin/vidstudio render resources/examples/bouncing_ball.vidproj -o out/demo.mp4"]
    assert (ROOT / "resources/examples/bouncing_ball.vidproj").is_file()


def test_ci_runs_make_test_and_the_package_metadata():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [l.strip() for l in run.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert commands[-1] == "make test"
    assert not any("pytest" in c or "-k " in c or "--deselect" in c for c in commands)
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["name"] == "vidstudio" and meta["requires-python"] == ">=3.11"
    assert meta["scripts"]["vidstudio"] == "vidstudio.cli:main"
    dev = " ".join(meta["optional-dependencies"]["dev"])
    for tool in ("pytest", "pytest-qt", "pytest-xdist", "hypothesis", "import-linter"):
        assert tool in dev
