"""``vidstudio validate PROJECT``: check a project without running it.

Exit 0 when valid (warnings are printed); exit 2 with one line per problem, each starting with the project
file's path.
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
    issues = _validate(project, default_registry())
    errors = [i for i in issues if i.severity == "error"]
    for i in issues:
        print(f"{args.project}: {i}")
    if errors:
        return 2
    for line in _vram_lines(project):
        print(f"{args.project}: {line}")
    print(f"{args.project}: ok ({len(project.nodes)} nodes, {len(project.links)} links, "
          f"{project.settings.frame_count} frames at {project.settings.fps} fps)")
    return 0


def _vram_lines(project) -> list[str]:
    """The weights' GPU-memory estimate of each Load Model node whose model is on this computer."""
    from vidstudio.backend.bundle import ModelRef
    from vidstudio.backend.checkpoint_files import locate_model
    from vidstudio.backend.estimate import vram_message
    from vidstudio.errors import ModelError

    out = []
    for node in project.nodes:
        if node.type != "LoadModel" or not str(node.params.get("model", "")).strip():
            continue
        ref = ModelRef(family=str(node.params.get("family", "auto")), model=str(node.params["model"]).strip(),
                       base_model=str(node.params.get("base_model", "")).strip())
        try:
            loc = locate_model(ref, getattr(project, "project_dir", None), download=False)
        except ModelError:
            continue
        msg = vram_message(loc, str(node.params.get("quantize", "none")),
                           str(node.params.get("quantize_text_encoder", "none")))
        out.append(f"node '{node.id}': {msg}")
    return out


def _validate(project, registry):
    from vidstudio.graph.validate import validate_graph

    return validate_graph(project, registry, project.settings)
