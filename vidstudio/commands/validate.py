"""``vidstudio validate PROJECT``: check a project without running it.

Exit 0 when valid (warnings are printed); exit 2 with one line per problem, each starting with the project
file's path. Besides the document and the graph, every image and video the project reads is opened as a render
would open it (missing, unreadable, undecodable, or not a regular file: an error), and every Generate node is
estimated against the limits a server applies (``--max-pixels``, ``--max-frames``, ``--max-steps``).
The ok line names the nodes that run only on the generation backend (their type declares
``runs_on = "backend"``).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio validate`` (with the budget limits ``--max-pixels``, ``--max-frames``, ``--max-steps``)."""
    p = sub.add_parser("validate", help="check a project file and its graph", description=__doc__)
    p.add_argument("project", help="a .vidproj file (or an MP4 rendered by VidStudio)")
    p.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        metavar="N",
        help="a Generate node over N pixels a frame is an error (default 1920x1088 = 2088960, as a server's)",
    )
    p.add_argument("--max-frames", type=int, default=None, metavar="N", help="... over N frames (default 1024)")
    p.add_argument("--max-steps", type=int, default=None, metavar="N", help="... over N denoising steps (default 200)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``vidstudio validate`` (see the module docstring); returns 0 when valid, 2 with one line per problem."""
    from vidstudio.errors import ProjectError
    from vidstudio.nodes import default_registry
    from vidstudio.project import load_project

    try:
        project = load_project(args.project)
    except ProjectError as e:
        for line in e.lines():
            print(line)
        return 2
    from vidstudio.commands.serve import limits_from_args
    from vidstudio.graph.validate import validate_files

    registry = default_registry()
    plan = _plan(project, registry)
    issues = (
        list(plan.issues)
        + validate_files(project, registry, project.project_dir)
        + _budget(project, limits_from_args(args))
    )
    errors = [i for i in issues if i.severity == "error"]
    for i in issues:
        print(f"{args.project}: {i}")
    if errors:
        return 2
    for line in _vram_lines(project):
        print(f"{args.project}: {line}")
    backend = f"; on the generation backend: {', '.join(plan.backend_only)}" if plan.backend_only else ""
    print(
        f"{args.project}: ok ({len(project.nodes)} nodes, {len(project.links)} links, "
        f"{project.settings.frame_count} frames at {project.settings.fps} fps{backend})"
    )
    return 0


def _vram_lines(project) -> list[str]:
    """The weights' GPU-memory estimate of each Load Model node whose model is on this computer (found as the
    Inspector finds it: :meth:`vidstudio.nodes.generate.LoadModel.locate_static`)."""
    from vidstudio.backend.estimate import vram_message
    from vidstudio.errors import ModelError
    from vidstudio.nodes.generate import LoadModel

    out = []
    for node in project.nodes:
        if node.type != "LoadModel" or not str(node.params.get("model", "")).strip():
            continue
        try:
            loc = LoadModel.locate_static(node.params, getattr(project, "project_dir", None))
        except ModelError:
            continue
        msg = vram_message(
            loc, str(node.params.get("quantize", "none")), str(node.params.get("quantize_text_encoder", "none"))
        )
        out.append(f"node '{node.id}': {msg}")
    return out


def _plan(project, registry):
    """The plan of the project's output nodes, with the whole graph validated (every issue is printed)."""
    from vidstudio.graph.engine import Engine

    return Engine(registry).plan(project, project.settings, scope="graph")


def _budget(project, limits):
    """The budget before allocation (:mod:`vidstudio.budget`): a Generate node over the limits is an error."""
    from vidstudio.budget import check_graph
    from vidstudio.graph.validate import GraphIssue

    return [
        GraphIssue(nid, "param 'steps'" if fld == "steps" else "", msg, "over-budget")
        for nid, fld, msg in check_graph(project, project.settings, limits)
    ]
