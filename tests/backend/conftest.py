"""Fixtures for the generation backend: tiny pipelines of every family, built once per test process.

Each tiny model is written with ``save_pretrained`` into a session folder and loaded back through the same
loader a user's model takes. Torch uses one thread per test process: pytest-xdist runs one process per core,
and tiny models on contended cores are many times slower with more threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def torch_single_thread():
    import torch

    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny_models")


@pytest.fixture(scope="session")
def tiny(tiny_dir, torch_single_thread):
    """``tiny(family, variant=None) -> Path``: the folder of a tiny pipeline, written on first use."""
    from vidstudio.backend.tiny import write_tiny_model

    made: dict[tuple[str, str | None], Path] = {}

    def get(family: str, variant: str | None = None) -> Path:
        key = (family, variant)
        if key not in made:
            made[key] = write_tiny_model(family, tiny_dir / f"{family}-{variant or 'default'}", variant)
        return made[key]

    return get


@pytest.fixture(scope="session")
def pipeline_cache():
    """One pipeline cache per test process (each test's model stays loaded for the next one)."""
    from vidstudio.backend.loader import PipelineCache

    return PipelineCache()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


#: Environment for CLI subprocesses: one torch thread (see the module docstring).
CLI_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def picture(h: int = 48, w: int = 80, seed: int = 0) -> np.ndarray:
    """A smooth random ``(h, w, 3)`` float32 picture in [0, 1]."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([x, y, 0.5 * (x + y)], -1) + r.normal(0, 0.05, (1, 1, 3))
    return np.clip(base, 0, 1).astype(np.float32)


@pytest.fixture
def run_extend(tiny, pipeline_cache):
    """``run_extend(family, variant, bundle, calls=None, **kw) -> ExtendResult``: :func:`vidstudio.backend.extend.
    extend` on the tiny model, 64x64 pixels, 13 frames in windows of 9 at 8 fps unless ``kw`` says otherwise
    (``size`` sets width and height); ``calls`` collects a copy of each pipeline call's arguments."""
    from vidstudio.backend.bundle import ModelRef
    from vidstudio.backend.extend import extend

    def run(family, variant, bundle, calls=None, size=64, **kw):
        if calls is not None:
            kw["call_hook"] = lambda plan, args: calls.append(dict(args))
        opts = {"width": size, "height": size, "frames": 13, "window": 9, "fps": 8, **kw}
        return extend(ModelRef(model=str(tiny(family, variant))), bundle, cache=pipeline_cache, **opts)

    return run


@pytest.fixture
def window_frames(monkeypatch):
    """The frames each Extend window's :func:`generate` made, as made (before the seam's colour match), filled
    while the test runs."""
    import vidstudio.backend.extend as ext

    made, real = [], ext.generate

    def gen(*a, **kw):
        r = real(*a, **kw)
        made.append(r.frames.copy())
        return r

    monkeypatch.setattr(ext, "generate", gen)
    return made
