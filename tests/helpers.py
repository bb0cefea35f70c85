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


def project_doc(
    nodes: list[dict],
    links: list[dict] | tuple = (),
    *,
    width: int = 64,
    height: int = 64,
    fps: str = "8",
    frames: int = 9,
) -> dict:
    """A project document (format 1, JSON-ready) with these ``nodes`` and ``links`` and the settings given:
    ``width`` x ``height`` pixels, ``fps`` (a fraction's text) and ``frames`` frames."""
    return {
        "format_version": 1,
        "settings": {"width": width, "height": height, "fps": fps, "frame_count": frames},
        "nodes": list(nodes),
        "links": list(links),
    }


def trajectory_source(type_id: str, positions, *, name: str = "object", size: tuple[float, float] | None = None):
    """A test node class with one TRAJECTORY output ``tracks``: one track called ``name`` whose positions are
    ``positions(T)``, a ``(T, 2)`` float array in pixels (x, y) for the project's ``T`` frames, with box ``size``
    ``(w, h)`` in pixels (None: a point track). Register it on a registry to use ``type_id`` in a project."""
    from vidstudio.graph.node import Node, Output
    from vidstudio.graph.types import PortType
    from vidstudio.motion.tracks import Track, TrackSet

    def execute(self, ctx, inputs, params):
        return {"tracks": TrackSet([Track(name, positions(ctx.frame_count), size=size or (0.0, 0.0))])}

    return type(
        type_id,
        (Node,),
        {
            "__doc__": f"A test source of a TRAJECTORY: track {name!r}.",
            "type_id": type_id,
            "outputs": (Output("tracks", PortType.TRAJECTORY),),
            "uses_settings": ("frame_count",),
            "execute": execute,
        },
    )
