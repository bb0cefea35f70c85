"""Shared fixtures: small node types with run counters, project builders, and isolation of user folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
ASSETS = EXAMPLES / "assets"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Recovery files, run history and plugins go to a per-test temporary folder, never the user's."""
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("VIDSTUDIO_RECOVERY_DIR", str(base / "recovery"))
    monkeypatch.setenv("VIDSTUDIO_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("VIDSTUDIO_PLUGINS_DIR", str(base / "plugins"))
    monkeypatch.setenv("VIDSTUDIO_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120, env: dict | None = None):
    """Runs ``python -m vidstudio ARGS`` in a subprocess and returns the CompletedProcess (text)."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vidstudio", *args], cwd=cwd or ROOT, capture_output=True, text=True,
        timeout=timeout, env=full_env,
    )


@pytest.fixture
def cli():
    """The :func:`run_cli` helper."""
    return run_cli
