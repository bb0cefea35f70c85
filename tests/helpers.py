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
        [sys.executable, "-m", "vidstudio", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def scaled_cut_and_drag(dest: Path, s: float, frames: int, steps: int, **model_params) -> Path:
    """``resources/examples/cut_and_drag.vidproj`` scaled by ``s`` (size, drawn path, sprite width, mask
    dilation) with ``frames`` frames and ``steps`` steps, written into ``dest`` with its assets copied to
    ``dest/assets`` (relative paths, as a user's project folder); ``model_params`` change the Load Model node.

    Returns:
        the written project file.
    """
    import json
    import shutil

    doc = json.loads((EXAMPLES / "cut_and_drag.vidproj").read_text())
    st = doc["settings"]
    st["width"], st["height"], st["frame_count"] = round(st["width"] * s), round(st["height"] * s), frames
    nodes = {n["id"]: n for n in doc["nodes"]}
    (dest / "assets").mkdir(parents=True, exist_ok=True)
    for n in doc["nodes"]:
        if n["type"] == "LoadImage":
            shutil.copy(EXAMPLES / n["params"]["path"], dest / n["params"]["path"])
    path = nodes["paths"]["params"]["paths"]["paths"][0]
    path["end_frame"] = frames - 1
    path["points"] = [{"x": p["x"] * s, "y": p["y"] * s} for p in path["points"]]
    path["size"] = [v * s for v in path["size"]]
    nodes["spoon"]["params"]["width"] *= s
    nodes["animatic"]["params"]["mask_dilation"] = max(1, round(nodes["animatic"]["params"]["mask_dilation"] * s))
    nodes["cond"]["params"]["steps"] = steps
    nodes["model"]["params"].update(model_params)
    out = dest / "cut_and_drag.vidproj"
    out.write_text(json.dumps(doc))
    return out
