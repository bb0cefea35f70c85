"""Fixtures for every test: isolation of user folders and offline model hubs (helpers live in helpers.py)."""

from __future__ import annotations

import os

import pytest

from helpers import run_cli

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``package`` (a desktop bundle built, a whole environment installed: minutes each) run only
    when asked for by a marker expression that names them (``make package-test`` runs ``pytest -m package``);
    ``make test``, with or without its own ``-m``, skips them."""
    if "package" in (config.getoption("markexpr") or "").replace("not package", ""):
        return
    skip = pytest.mark.skip(reason="a packaging test: run by `make package-test` (pytest -m package)")
    for item in items:
        if "package" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Recovery files, run history, the disk cache of node outputs (``$VIDSTUDIO_CACHE_DIR/outputs``, so no two
    tests share cached outputs), plugins, settings, generation results and the GUI's local server data go to a
    per-test temporary folder, never the user's; the Hugging Face Hub is never contacted."""
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("VIDSTUDIO_RECOVERY_DIR", str(base / "recovery"))
    monkeypatch.setenv("VIDSTUDIO_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("VIDSTUDIO_PLUGINS_DIR", str(base / "plugins"))
    monkeypatch.setenv("VIDSTUDIO_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("VIDSTUDIO_RENDERS_DIR", str(base / "renders"))
    monkeypatch.setenv("VIDSTUDIO_SERVER_DATA", str(base / "server"))
    monkeypatch.setenv("VIDSTUDIO_BACKEND_DIR", str(base / "backend"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def cli():
    """The :func:`helpers.run_cli` helper."""
    return run_cli
