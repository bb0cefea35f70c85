"""``vidstudio gui [PROJECT] [--screenshot OUT.png [--frame N]]``: the desktop application."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio gui`` to the subcommand parser ``sub``."""
    p = sub.add_parser(
        "gui",
        help="open the desktop application",
        description="Opens the desktop application (node editor, viewer, timeline, inspector, jobs). "
        "With --screenshot it opens PROJECT, waits until the picture is ready, saves a PNG of the whole window "
        "and exits (0 on success, 2 when the project cannot be opened).",
    )
    p.add_argument("project", nargs="?", help="a .vidproj file, or an MP4 rendered by VidStudio")
    p.add_argument("--screenshot", metavar="OUT.png", help="save a picture of the window once settled, then exit")
    p.add_argument("--frame", type=int, metavar="N", help="with --screenshot: put the playhead on frame N first")
    p.add_argument(
        "--select",
        action="append",
        metavar="NODE_ID",
        help="with --screenshot: select this node (its parameters show in the Inspector); repeatable",
    )
    p.add_argument(
        "--size", default="1600x960", metavar="WxH", help="with --screenshot: window size (at least 1280x720)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio gui`` (the desktop application); returns the exit status."""
    from vidstudio.errors import VidStudioError

    if (args.frame is not None or args.select) and not args.screenshot:
        raise VidStudioError("--frame and --select go with --screenshot")
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        raise VidStudioError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1600x960") from None
    from vidstudio.qtlibs import platform_problem

    problem = platform_problem()
    if problem:  # Qt would print a misleading message and abort the process
        print(f"vidstudio gui: {problem}", file=sys.stderr)
        return 1
    from vidstudio.ui.app import run_gui

    return run_gui(args.project, screenshot=args.screenshot, frame=args.frame, select=args.select, size=(w, h))
