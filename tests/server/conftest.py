"""Fixtures for the server tests: a tiny LTX model in a models folder and the ``slowtest`` folder plugin,
built once per test process, and a factory of real ``vidstudio serve`` subprocesses on ephemeral loopback ports.

Each server pays its worker's imports (diffusers: several seconds, only when a Generate node runs), so test
modules share one server each and stop it at the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.server_helpers import server_env, write_plugin


@pytest.fixture(scope="session")
def server_base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="session")
def models_dir(server_base) -> Path:
    """A models folder holding ``tiny-ltx``, a tiny random LTX-Video pipeline (written once per process)."""
    from vidstudio.backend.tiny import write_tiny_model

    d = server_base / "models"
    d.mkdir(exist_ok=True)
    if not (d / "tiny-ltx" / "model_index.json").is_file():
        write_tiny_model("ltx", d / "tiny-ltx")
    return d


@pytest.fixture(scope="session")
def plugins_folder(server_base) -> Path:
    """A plugins folder with the ``slowtest`` folder plugin."""
    d = server_base / "plugins"
    write_plugin(d)
    return d


@pytest.fixture(scope="module")
def start_server(tmp_path_factory, plugins_folder):
    """``start_server(data_dir=None, *, token=None, models=None, extra=(), plugins=True) -> LocalServer``: a
    started server (stopped at the end of the module)."""
    from vidstudio.client import LocalServer

    started: list[LocalServer] = []

    def start(
        data_dir: Path | None = None,
        *,
        token: str | None = "",
        models: Path | None = None,
        extra: tuple[str, ...] = (),
        plugins: bool = True,
        start: bool = True,
    ) -> LocalServer:
        base = tmp_path_factory.mktemp("srv")
        args = ["--cancel-grace", "10", *extra]
        if models is not None:
            args += ["--models-dir", str(models)]
        s = LocalServer(
            data_dir or base / "data",
            token=token,
            env=server_env(base, plugins_folder if plugins else None),
            extra_args=args,
        )
        started.append(s)
        return s.start(timeout=90) if start else s

    yield start
    for s in started:
        s.stop()
