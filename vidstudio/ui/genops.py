"""Generation decisions without Qt: which node Generate sends, which nodes only the server runs, where a
result goes, and how a server job reads in the Jobs pane.

Everything here is pure (no widgets, no network, no file I/O), so it is tested without a window. The GUI
process never runs a generating node itself: a node whose type declares ``runs_on = "backend"`` (the backend's
Generate, or a plugin node declared so in its class or manifest) runs on the generation server, through
:mod:`vidstudio.client`, when the user presses Generate.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.types import PortType
from vidstudio.project import Project


def is_generator(registry: NodeRegistry, type_id: str) -> bool:
    """True when nodes of ``type_id`` run only on the generation backend, as their type declares
    (``runs_on = "backend"``, :meth:`vidstudio.graph.registry.NodeRegistry.runs_on`), so that only the server
    runs them."""
    return registry.runs_on(type_id) == "backend"


def upstream(project: Project, node_id: str) -> list[str]:
    """``node_id`` and every node it depends on (through links), in document order."""
    return project.upstream([node_id])


def generators_needed(project: Project, registry: NodeRegistry, targets: Iterable[str]) -> list[str]:
    """The generating nodes (see :func:`is_generator`) that computing ``targets`` would run, in document order."""
    need: set[str] = set()
    for t in targets:
        if project.has_node(t):
            need.update(upstream(project, t))
    return [n.id for n in project.nodes if n.id in need and is_generator(registry, n.type)]


def server_only_message(node_ids: list[str], project: Project) -> str:
    """Why the GUI does not compute a picture that needs generating nodes, and what to do instead."""
    names = ", ".join(f"'{n}' ({project.node(n).type})" for n in node_ids)
    return (
        f"{names} generates with a diffusion model on the generation server: press Generate (Ctrl+G). "
        "The result lands on the timeline as its own track."
    )


#: Issue codes the GUI reads as warnings: the model a node names need not be on this computer, because the
#: generation server looks model ids up among its own models (``GET /v1/models``).
SERVER_RESOLVED_CODES = frozenset({"model-not-local"})


def server_side_issues(issues: list[Any], project: Project, registry: NodeRegistry) -> list[Any]:
    """The validation issues as the GUI shows them: an issue whose code is in :data:`SERVER_RESOLVED_CODES`
    (a model this computer cannot find) is a warning, not an error; decided by the code, never by the words.

    Args:
        issues: :class:`vidstudio.graph.validate.GraphIssue` items.

    Returns:
        the issues, those few replaced.
    """
    from dataclasses import replace

    out = []
    for i in issues:
        if i.severity == "error" and i.code in SERVER_RESOLVED_CODES:
            i = replace(
                i,
                severity="warning",
                message=i.message + " on this computer; the generation server "
                "looks model ids up among its own models (Edit > Preferences > Test connection lists them)",
            )
        out.append(i)
    return out


@dataclass
class OutputChoice:
    """What :func:`pick_output` decided.

    Attributes:
        node_id: the node to send (None: ask among ``candidates``, or nothing to generate).
        candidates: the nodes to choose from when it is ambiguous.
        error: why there is nothing to generate (None otherwise), in words.
    """

    node_id: str | None = None
    candidates: list[str] = field(default_factory=list)
    error: str | None = None


def _has_video_output(registry: NodeRegistry, type_id: str) -> bool:
    cls = registry.find(type_id)
    return cls is not None and any(str(o.type) == PortType.VIDEO for o in cls.outputs)


def _is_output(registry: NodeRegistry, type_id: str) -> bool:
    cls = registry.find(type_id)
    return cls is not None and bool(cls.is_output) and any(str(i.type) == PortType.VIDEO for i in cls.inputs)


def pick_output(project: Project, registry: NodeRegistry, selection: Iterable[str] = ()) -> OutputChoice:
    """Chooses the node Generate sends to the server.

    Order: the last selected node that can be an output (an Export node, a node with a VIDEO output, or a node
    type this GUI does not know, e.g. a plugin only the server has); else the only Export node downstream of a
    generating node; else the only generating node; several: ask (``candidates``); none: ``error`` in words.

    Returns:
        an :class:`OutputChoice`.
    """
    for nid in reversed(list(selection)):
        if not project.has_node(nid):
            continue
        t = project.node(nid).type
        if _is_output(registry, t) or _has_video_output(registry, t) or registry.find(t) is None:
            return OutputChoice(nid)
    gens = [n.id for n in project.nodes if is_generator(registry, n.type)]
    if not gens:
        return OutputChoice(
            error="Nothing to generate: the project has no Generate node. Add Load Model, "
            "Conditioning and Generate (Tab in the Node Editor), or select the node whose "
            "video the server should render, then press Generate again."
        )
    exports = [
        n.id for n in project.nodes if _is_output(registry, n.type) and any(g in upstream(project, n.id) for g in gens)
    ]
    for group in (exports, gens):
        if len(group) == 1:
            return OutputChoice(group[0])
        if len(group) > 1:
            return OutputChoice(candidates=group)
    return OutputChoice(error="Nothing to generate.")  # pragma: no cover - gens is not empty


# ----------------------------------------------------------------------------------------------- results
def safe_stem(text: str) -> str:
    """``text`` reduced to letters, digits, ``-``, ``_`` and ``.`` (for file names)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return s or "untitled"


def result_path(project_path: Path | None, job_id: str, fallback_dir: Path) -> Path:
    """Where a generation result is downloaded: ``<project dir>/renders/<project stem>-<job id>.mp4``, or
    ``<fallback_dir>/untitled-<job id>.mp4`` for a project without a file."""
    if project_path is not None:
        return Path(project_path).parent / "renders" / f"{safe_stem(Path(project_path).stem)}-{job_id}.mp4"
    return Path(fallback_dir) / f"untitled-{job_id}.mp4"


def renders_fallback_dir() -> Path:
    """Where results of projects without a file go: ``$VIDSTUDIO_RENDERS_DIR``, else ``renders`` in the user
    data folder (platformdirs)."""
    env = os.environ.get("VIDSTUDIO_RENDERS_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("vidstudio", "VidStudio")) / "renders"


def local_server_data_dir() -> Path:
    """The data folder of the GUI's local server: ``$VIDSTUDIO_SERVER_DATA``, else the one ``vidstudio serve``
    uses by default (``$VIDSTUDIO_DATA_DIR/server``, else ``server`` in the user data folder), so that jobs
    of both are the same."""
    env = os.environ.get("VIDSTUDIO_SERVER_DATA")
    if env:
        return Path(env).expanduser()
    env = os.environ.get("VIDSTUDIO_DATA_DIR")
    if env:
        return Path(env).expanduser() / "server"
    import platformdirs

    return Path(platformdirs.user_data_dir("vidstudio", "VidStudio")) / "server"


# ----------------------------------------------------------------------------------------------- words
def duration_text(seconds: float | None) -> str:
    """``"42 s"``, ``"3 min 05 s"``, ``"1 h 02 min"``; ``""`` for None."""
    if seconds is None:
        return ""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def error_text(error: BaseException, url: str | None) -> str:
    """A client error in words, by its type (:mod:`vidstudio.client.errors`): ``"server unreachable at URL
    (reason)"`` when no answer came, what to do about a refused token, else the server's own message (which names
    the field); any other exception as its message."""
    from vidstudio.client import ClientError, ServerUnreachable, TokenRefused

    if isinstance(error, ServerUnreachable):
        return f"server unreachable at {url or error.url or '?'} ({error.reason})"
    if isinstance(error, TokenRefused):
        return f"the server at {url} refused the token ({error.status}): set the right token in Edit > Preferences"
    if isinstance(error, ClientError):
        return error.detail
    return str(error)
