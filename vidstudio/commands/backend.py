"""``vidstudio backend install [--cuda 12.x | --rocm 6.x | --cpu] | upgrade | remove | status``: the managed
generation backend, VidStudio's own environment with the torch build for this machine's GPU (see
:mod:`vidstudio.managed`). The local server starts from it once it is installed."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio backend`` to the subcommand parser ``sub``."""
    p = sub.add_parser(
        "backend",
        help="install, upgrade or remove the managed generation backend (torch for your GPU)",
        description=__doc__,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("install", "create the environment and verify it"),
        ("upgrade", "upgrade VidStudio and the pinned stack in it"),
    ):
        a = actions.add_parser(name, help=text)
        build = a.add_mutually_exclusive_group()
        build.add_argument("--cuda", metavar="12.x", help="a CUDA build of torch, e.g. 12.8")
        build.add_argument("--rocm", metavar="6.x", help="a ROCm build of torch, e.g. 6.4")
        build.add_argument("--cpu", action="store_true", help="the CPU build (the default)")
        a.add_argument(
            "--torch-index",
            metavar="URL",
            help="where torch comes from instead of PyTorch's index for the build; 'pip' for pip's own "
            "configuration (a mirror or a local wheel)",
        )
        a.add_argument(
            "--source",
            metavar="PATH_OR_REQ",
            help="what to install VidStudio from (default: this checkout, or this release)",
        )
        a.add_argument(
            "--dir", metavar="DIR", help="the backend folder (default: $VIDSTUDIO_BACKEND_DIR or the user data folder)"
        )
    for name, text in (("remove", "delete the managed backend"), ("status", "say whether one is installed")):
        a = actions.add_parser(name, help=text)
        a.add_argument("--dir", metavar="DIR", help="the backend folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio backend ACTION``; returns the exit status."""
    from pathlib import Path

    from vidstudio import managed

    root = Path(args.dir).expanduser() if args.dir else managed.backend_root()
    if args.action == "status":
        info = managed.installed(root)
        if info is None:
            print(f"no managed backend in {root}; the local server runs on {sys.executable}")
            return 1
        print(
            f"managed backend in {info.root}: torch {info.torch} ({info.build}), renders on {info.device}, "
            f"VidStudio {info.vidstudio}; the local server runs on {info.python}"
        )
        return 0
    if args.action == "remove":
        gone = managed.remove(root)
        print(f"removed {root}" if gone else f"nothing to remove: {root} does not exist")
        return 0
    if args.action == "upgrade" and managed.installed(root) is None and not (root / "venv").is_dir():
        print(f"no managed backend in {root}: run `vidstudio backend install` first", file=sys.stderr)
        return 2
    build = managed.torch_build(args.cuda, args.rocm)
    last = [-1]

    def progress(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct != last[0] or not message.startswith(("installing", "verifying")):
            last[0] = pct
        print(f"[{pct:3d}%] {message}", flush=True)

    info = managed.install(
        build=build,
        torch_index=args.torch_index,
        source=args.source,
        root=root,
        upgrade=args.action == "upgrade",
        progress=progress,
    )
    print(f"managed backend ready in {info.root}: torch {info.torch} on {info.device}; the local server starts from it")
    return 0
