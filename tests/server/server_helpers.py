"""Helpers for the server tests: a folder plugin with slow, crashing and file-reading nodes, environments for
server subprocesses, waiting on jobs, and small projects. (Not a conftest.py: test modules import what they
use.)"""

from __future__ import annotations

import io
import os
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "resources" / "examples" / "assets"

#: A folder plugin ``slowtest``: ``Steps`` (a VIDEO source that works step by step, reporting steps and
#: previews through ``ctx.services["on_step"]`` like the Generate node, and honouring cancel), ``Oom`` (runs out
#: of memory) and ``Reader`` (a node with an image file parameter). The nodes that crash the worker are in
#: another plugin (:data:`CRASH_MANIFEST`), which a crash disables on that server.
PLUGIN_MANIFEST = """
manifest_version = 1
name = "slowtest"
version = "1.0.0"
api_versions = ">=1.0,<2"
description = "Server test nodes."
author = "Tests"
license = "MIT"
category = "Tests"
module = "slowtest_nodes"

[[nodes]]
name = "Steps"

[[nodes]]
name = "Reader"

[[nodes]]
name = "Oom"
"""

PLUGIN_CODE = '''
import numpy as np
from vidstudio.api import Clip, Node, Output, Param, PortType


def frames_of(count, height, width, hue):
    """Frame t is uniform: red = t / (count - 1), green = hue, blue = 0.25."""
    t = np.linspace(0.0, 1.0, count, dtype=np.float32) if count > 1 else np.zeros(1, np.float32)
    out = np.empty((count, height, width, 3), np.float32)
    out[..., 0] = t[:, None, None]
    out[..., 1] = hue
    out[..., 2] = 0.25
    return out


class Steps(Node):
    type_id = "slowtest.Steps"
    title = "Steps"
    category = "Tests"
    outputs = (Output("video", PortType.VIDEO),)
    params = (Param("steps", "int", 3, min=1, max=100000), Param("seconds_per_step", "float", 0.01, min=0.0),
              Param("hue", "float", 0.5, min=0.0, max=1.0))
    uses_settings = ("width", "height", "frame_count")

    def execute(self, ctx, inputs, params):
        n, sps = params["steps"], params["seconds_per_step"]
        on_step = ctx.services.get("on_step")
        for i in range(n):
            ctx.cancel.wait(sps)
            ctx.check_cancelled()
            ctx.report((i + 1) / n, f"step {i + 1}/{n}")
            if on_step is not None:
                on_step(ctx.node_id, i + 1, n, sps, np.full((6, 8, 3), (i + 1) / n, np.float32))
        return {"video": Clip.from_array(frames_of(ctx.frame_count, ctx.height, ctx.width, params["hue"]))}


class Oom(Node):
    type_id = "slowtest.Oom"
    outputs = (Output("video", PortType.VIDEO),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        raise MemoryError("cannot allocate 80 GiB")


class Reader(Node):
    type_id = "slowtest.Reader"
    outputs = (Output("video", PortType.VIDEO),)
    params = (Param("path", "file", "", file_role="image"),)
    uses_settings = ("frame_count",)

    def execute(self, ctx, inputs, params):
        from vidstudio.media.image import load_image

        img = load_image(params["path"], alpha=False)
        return {"video": Clip.from_array(np.repeat(img[None], ctx.frame_count, axis=0))}
'''


#: A folder plugin ``crashtest`` whose nodes kill the worker from inside their code: ``Segfault`` (reads address 0:
#: SIGSEGV) and ``Exit`` (``os._exit(3)``).
CRASH_MANIFEST = """
manifest_version = 1
name = "crashtest"
version = "1.0.0"
api_versions = ">=1.0,<2"
description = "Nodes that crash the worker."
author = "Tests"
license = "MIT"
module = "crashtest_nodes"

[[nodes]]
name = "Segfault"

[[nodes]]
name = "Exit"
"""

CRASH_CODE = """
import os
from vidstudio.api import Node, Output, PortType


class Segfault(Node):
    type_id = "crashtest.Segfault"
    outputs = (Output("video", PortType.VIDEO),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        import ctypes

        ctypes.string_at(0)  # reads address 0: the process dies of SIGSEGV
        raise AssertionError("unreachable")


class Exit(Node):
    type_id = "crashtest.Exit"
    outputs = (Output("video", PortType.VIDEO),)
    uses_settings = ()

    def execute(self, ctx, inputs, params):
        os._exit(3)
"""


def write_plugin(base: Path) -> Path:
    """Writes the ``slowtest`` and ``crashtest`` folder plugins into ``base`` (a plugins folder); returns
    slowtest's folder."""
    for name, manifest, code in (("slowtest", PLUGIN_MANIFEST, PLUGIN_CODE), ("crashtest", CRASH_MANIFEST, CRASH_CODE)):
        d = base / name
        (d / f"{name}_nodes").mkdir(parents=True, exist_ok=True)
        (d / "vidstudio-plugin.toml").write_text(textwrap.dedent(manifest))
        (d / f"{name}_nodes" / "__init__.py").write_text(code)
    return base / "slowtest"


def expected_frames(count: int, height: int, width: int, hue: float) -> np.ndarray:
    """What ``slowtest.Steps`` outputs: ``(count, height, width, 3)`` float32."""
    t = np.linspace(0.0, 1.0, count, dtype=np.float32) if count > 1 else np.zeros(1, np.float32)
    out = np.empty((count, height, width, 3), np.float32)
    out[..., 0] = t[:, None, None]
    out[..., 1] = hue
    out[..., 2] = 0.25
    return out


def server_env(base: Path, plugins: Path | None) -> dict[str, str]:
    """Environment for a server subprocess: its own user folders, offline, an empty Hugging Face cache, one
    torch thread."""
    env = {
        "VIDSTUDIO_RECOVERY_DIR": str(base / "recovery"),
        "VIDSTUDIO_CACHE_DIR": str(base / "cache"),
        "VIDSTUDIO_CONFIG_DIR": str(base / "config"),
        "VIDSTUDIO_PLUGINS_DIR": str(plugins or base / "no-plugins"),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(base / "hf-cache"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    return env


def steps_project(
    steps: int = 3,
    seconds_per_step: float = 0.01,
    *,
    hue: float = 0.5,
    frames: int = 6,
    width: int = 32,
    height: int = 24,
) -> dict[str, Any]:
    """A project whose output is the plugin's ``Steps`` node exported to MP4."""
    return {
        "format_version": 1,
        "settings": {"width": width, "height": height, "fps": "12", "frame_count": frames},
        "nodes": [
            {
                "id": "work",
                "type": "slowtest.Steps",
                "params": {"steps": steps, "seconds_per_step": seconds_per_step, "hue": hue},
            },
            {"id": "export", "type": "ExportVideo", "params": {"path": "out/steps.mp4", "crf": 0}},
        ],
        "links": [{"from": "work.video", "to": "export.video"}],
    }


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05, what: str = "condition"):
    """Polls ``predicate`` until it returns something truthy; returns it.

    Raises:
        AssertionError: after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_running_step(client: Any, job_id: str, timeout: float = 60.0) -> Any:
    """Waits until the job is running and has finished at least one step; returns the job."""

    def ok():
        j = client.job(job_id)
        assert not j.finished, f"job finished early: {j.status} {j.error}"
        return j if j.status == "running" and j.progress is not None and (j.progress.step or 0) >= 1 else None

    return wait_for(ok, timeout, what=f"job {job_id} to run a step")


def decode_png(data: bytes) -> np.ndarray:
    """PNG/JPEG bytes -> ``(H, W, 3)`` float32."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), np.float32) / 255.0


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return True
