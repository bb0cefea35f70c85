"""``vidstudio validate PROJECT``: check a project without running it.

Exit 0 when valid (warnings are printed); exit 2 with one line per problem, each starting with the project
file's path. The ok line names the nodes that run only on the generation backend (their type declares
``runs_on = "backend"``).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a project file and its graph", description=__doc__)
    p.add_argument("project", help="a .vidproj file (or an MP4 rendered by VidStudio)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstudio.errors import ProjectError
    from vidstudio.nodes import default_registry
    from vidstudio.project import load_project

    try:
        project = load_project(args.project)
    except ProjectError as e:
        for line in e.lines():
            print(line)
        return 2
    plan = _plan(project, default_registry())
    errors = [i for i in plan.issues if i.severity == "error"]
    for i in plan.issues:
        print(f"{args.project}: {i}")
    if errors:
        return 2
    backend = f"; on the generation backend: {', '.join(plan.backend_only)}" if plan.backend_only else ""
    print(f"{args.project}: ok ({len(project.nodes)} nodes, {len(project.links)} links, "
          f"{project.settings.frame_count} frames at {project.settings.fps} fps{backend})")
    return 0


def _plan(project, registry):
    """The plan of the project's output nodes, with the whole graph validated (every issue is printed)."""
    from vidstudio.graph.engine import Engine

    return Engine(registry).plan(project, project.settings, scope="graph")
