"""``vidstudio eval PROJECT NODE_ID [--port NAME] [--json]``: compute one node and print its output.

Numbers and arrays print as JSON lists; images and videos are written to files (PNG, MP4) and printed as
``{"kind", "shape", "dtype", "path"}``; objects with a ``to_json()`` method (trajectories, scenes) print
what it returns. Without ``--out-dir`` those files go to a temporary folder that is removed when eval ends
(``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio eval`` to the subcommand parser ``sub``."""
    p = sub.add_parser("eval", help="compute one node and print its output", description=__doc__)
    p.add_argument("project", help="a .vidproj file")
    p.add_argument("node", metavar="NODE_ID", help="the node to compute (and what it needs)")
    p.add_argument("--port", help="only this output port")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--out-dir",
        help="where images and videos are written and kept (default: a temporary folder, "
        "removed when eval ends unless --keep)",
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the temporary folder of images and videos (its path is printed)"
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the disk cache of node outputs (also: VIDSTUDIO_NO_CACHE=1)",
    )
    p.set_defaults(func=run)


def value_to_json(value: Any, port_type: str, out_dir: Path, stem: str, fps: Fraction) -> Any:
    """Converts a port value to JSON-ready data, writing images and videos to ``out_dir``.

    Args:
        value: the output value; port_type: its declared type (chooses PNG for IMAGE, MP4 for VIDEO/MASK).
        out_dir: folder for files; stem: base file name; fps: frame rate for videos (a Clip with its own
            ``vidstudio_fps`` is written at that rate).

    Returns:
        JSON-ready data (dicts, lists, numbers, strings, None).
    """
    from vidstudio.media.clip import Clip
    from vidstudio.media.image import save_png
    from vidstudio.media.video import write_video

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, Clip) or (port_type == "VIDEO" and isinstance(value, np.ndarray) and value.ndim == 4):
        own = value.metadata.get("vidstudio_fps") if isinstance(value, Clip) else None
        if own:  # a clip at its own rate (Interpolate, Load Video at the source rate) plays at that rate
            from vidstudio.media.video import parse_fps

            fps = parse_fps(own)
        path = out_dir / f"{stem}.mp4"
        write_video(value, path, fps, crf=12, preset="veryfast")
        shape = list(value.shape)
        return {"kind": "video", "shape": shape, "dtype": "float32", "fps": str(fps), "path": str(path)}
    if isinstance(value, np.ndarray):
        if port_type == "IMAGE":
            path = save_png(out_dir / f"{stem}.png", value)
            return {"kind": "image", "shape": list(value.shape), "dtype": str(value.dtype), "path": str(path)}
        if port_type == "MASK" and value.ndim == 3:
            frames = np.repeat(value.astype(np.float32)[..., None], 3, axis=3)
            path = out_dir / f"{stem}.mp4"
            write_video(frames, path, fps, crf=12, preset="veryfast", odd_size="pad")
            return {"kind": "mask", "shape": list(value.shape), "dtype": str(value.dtype), "path": str(path)}
        return {
            "kind": "array",
            "shape": list(value.shape),
            "dtype": str(value.dtype),
            "data": np.where(np.isfinite(value), value, None).tolist() if value.dtype.kind == "f" else value.tolist(),
        }
    if hasattr(value, "to_json") and callable(value.to_json):
        return value_to_json(value.to_json(), "ANY", out_dir, stem, fps)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: value_to_json(getattr(value, f.name), "ANY", out_dir, f"{stem}_{f.name}", fps)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): value_to_json(v, "ANY", out_dir, f"{stem}_{k}", fps) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [value_to_json(v, "ANY", out_dir, f"{stem}_{i}", fps) for i, v in enumerate(value)]
    return {"kind": type(value).__name__, "repr": repr(value)[:200]}


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio eval``; returns the exit status (0, 1 internal error, 2 bad input)."""
    from vidstudio.commands._common import ctrl_c_cancels, disk_cache, load
    from vidstudio.errors import VidStudioError
    from vidstudio.graph.engine import Engine
    from vidstudio.progress import CancelToken

    project, registry = load(args.project)
    if not project.has_node(args.node):
        raise VidStudioError(f"{args.project}: no node with id {args.node!r} (nodes: {', '.join(project.iter_ids())})")
    type_id = project.node(args.node).type
    cls = registry.find(type_id)
    if cls is None:  # an unknown type, or one of a missing, disabled or failed plugin: bad input, not a crash
        why = registry.why_unusable(type_id)
        raise VidStudioError(
            f"{args.project}: node '{args.node}' type: {why[1] if why else f'unknown node type {type_id!r}'}"
        )
    if args.port and cls.output(args.port) is None:
        raise VidStudioError(
            f"{args.project}: node '{args.node}' ({cls.type_id}) has no output '{args.port}' "
            f"(outputs: {', '.join(o.name for o in cls.outputs) or 'none'})"
        )
    engine = Engine(registry, disk_cache=disk_cache(args.no_cache))
    plan = engine.plan(project, project.settings, [args.node])
    token = CancelToken()
    with ctrl_c_cancels(token):
        result = engine.run(plan, project_dir=project.project_dir, cancel=token)
    temp = None if args.out_dir else Path(tempfile.mkdtemp(prefix="vidstudio-eval-"))
    try:
        return _print_outputs(args, project, cls, result, Path(args.out_dir) if args.out_dir else temp)
    finally:
        if temp is not None and not (getattr(args, "keep", False) and any(temp.iterdir())):
            shutil.rmtree(temp, ignore_errors=True)


def _print_outputs(args: argparse.Namespace, project: Any, cls: Any, result: Any, out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    ports = [args.port] if args.port else [o.name for o in cls.outputs]
    doc: dict[str, Any] = {}
    for port in ports:
        decl = cls.output(port)
        doc[port] = value_to_json(
            result.output(args.node, port),
            str(decl.type) if decl else "ANY",
            out_dir,
            f"{args.node}_{port}",
            project.settings.fps,
        )
    payload = {"node": args.node, "type": cls.type_id, "outputs": doc}
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        for port, v in doc.items():
            text = json.dumps(v)
            print(f"{args.node}.{port}: {text if len(text) < 400 else text[:400] + ' ...'}")
    if not args.out_dir and not getattr(args, "keep", False) and any(out_dir.iterdir()):
        print(
            "vidstudio: the files above are removed when eval ends; keep them with --keep or --out-dir DIR",
            file=sys.stderr,
        )
    return 0
