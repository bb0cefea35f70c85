"""Helpers for the motion tests (a uniquely named module: a second ``conftest.py`` here would shadow the root
one that other test folders import helpers from)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
ASSETS = EXAMPLES / "assets"


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 180):
    """Runs ``python -m vidstudio ARGS`` with this checkout first on the path; returns the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "vidstudio", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_graph(
    nodes: list[dict],
    links: list[tuple[str, str]],
    *,
    settings: dict | None = None,
    animation: dict | None = None,
    targets: list[str] | None = None,
    engine=None,
    project_dir=None,
):
    """Builds a graph from compact node dicts and ``("a.out", "b.in")`` links and runs it.

    Returns:
        ``(result, engine)``.
    """
    from vidstudio.graph import Engine, Graph, Settings
    from vidstudio.nodes import default_registry

    graph = Graph.model_validate(
        {
            "nodes": nodes,
            "links": [{"from": a, "to": b} for a, b in links],
            "animation": animation or {},
        }
    )
    engine = engine or Engine(default_registry())
    s = Settings(**(settings or {"width": 160, "height": 96, "fps": 24, "frame_count": 12}))
    return engine.run(graph, s, targets=targets, project_dir=project_dir), engine


def key(frames_values: list[tuple[float, float]], interp: str = "linear", **kw: Any) -> dict:
    """An F-curve document with one interpolation for every key."""
    return {"keys": [{"frame": f, "value": v, "interpolation": interp, **kw} for f, v in frames_values]}


def color_centroid(frame: np.ndarray, rgb: tuple[float, float, float], tol: float = 0.12) -> np.ndarray | None:
    """Centroid ``(x, y)`` px (pixel centres at i + 0.5) of the pixels within ``tol`` of a colour, or None."""
    d = np.abs(frame[..., :3] - np.asarray(rgb, dtype=np.float32)).max(axis=2)
    ys, xs = np.nonzero(d < tol)
    if len(xs) < 5:
        return None
    return np.array([xs.mean() + 0.5, ys.mean() + 0.5])
