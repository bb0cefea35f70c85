"""Helpers shared by every test folder (import as ``from helpers import ...``; ``tests`` is on the pytest
``pythonpath``). Fixtures stay in ``conftest.py`` files; test modules never import from a ``conftest``,
whose module name is ambiguous once several folders have one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
ASSETS = EXAMPLES / "assets"


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120, env: dict | None = None):
    """Runs ``python -m vidstudio ARGS`` in a subprocess and returns the CompletedProcess (text)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vidstudio", *args], cwd=cwd or ROOT, capture_output=True, text=True,
        timeout=timeout, env=full_env,
    )
