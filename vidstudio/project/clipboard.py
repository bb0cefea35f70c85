"""The clipboard format of VidStudio nodes, free of Qt: copied nodes are a complete project document (so that
they paste between windows and processes, and open as a file), and a paste is planned with fresh ids.

The GUI puts :func:`clipboard_text` on the system clipboard under :data:`CLIPBOARD_MIME` (and as plain text)
and adds a :class:`PastePlan` through :meth:`vidstudio.project.editor.DocumentEditor.add_plan`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vidstudio.errors import ProjectError
from vidstudio.graph.model import Link, NodeInstance
from vidstudio.graph.registry import NodeRegistry
from vidstudio.motion.curves import FCurve
from vidstudio.project.document import Project
from vidstudio.project.edits import relative_to_project, unique_id
from vidstudio.project.io import ORIGIN_KEY, loads_project

#: Marker key of a clipboard document (a project document holding copied nodes).
CLIPBOARD_KEY = "vidstudio_clipboard"
#: MIME type of copied nodes on the system clipboard (the text is also offered as ``text/plain``).
CLIPBOARD_MIME = "application/x-vidstudio-nodes+json"


def clipboard_text(project: Project, node_ids: Iterable[str]) -> str:
    """The clipboard form of some nodes: a complete project document (so that it also opens as a file)
    holding those nodes, the links among them and their animation, plus the folder their relative paths
    are relative to (``embedded_from``) and a ``vidstudio_clipboard`` marker.

    Raises:
        KeyError: for an unknown node id.
    """
    wanted = list(node_ids)
    for i in wanted:
        project.node(i)
    chosen = set(wanted)
    ids = [i for i in project.iter_ids() if i in chosen]
    doc = Project(
        settings=project.settings.model_copy(),
        nodes=[project.node(i).model_copy(deep=True) for i in ids],
        links=[l.model_copy() for l in project.links if l.source_node in chosen and l.target_node in chosen],
        animation={k: c.model_copy(deep=True) for k, c in project.animation.items() if k.split(".")[0] in chosen},
    )
    data = doc.to_dict()
    data[CLIPBOARD_KEY] = 1
    if project.project_dir is not None:
        data[ORIGIN_KEY] = str(project.project_dir)
    return json.dumps(data, indent=1, ensure_ascii=False)


@dataclass
class PastePlan:
    """What a paste adds: nodes with fresh ids, the links among them and their animation.

    Attributes:
        nodes: the new node instances (ids unused in the target project, positions moved).
        links: links among the new nodes.
        animation: curves keyed ``"new_id.param"``.
        renamed: ``{old_id: new_id}``.
    """

    nodes: list[NodeInstance] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    animation: dict[str, FCurve] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)


def plan_paste(
    project: Project,
    text: str,
    registry: NodeRegistry | None = None,
    *,
    at: tuple[float, float] | None = None,
    offset: tuple[float, float] = (40.0, 40.0),
) -> PastePlan:
    """Plans pasting a clipboard document (or any project document) into ``project``.

    Args:
        text: JSON from :func:`clipboard_text` or a ``.vidproj`` file's text.
        registry: node types, to rebase ``file`` parameters relative to ``project``'s folder.
        at: scene position for the top-left node of the pasted group (None: the original positions moved
            by ``offset``).

    Returns:
        the :class:`PastePlan`.

    Raises:
        vidstudio.errors.ProjectError: when ``text`` is not a valid project document (JSON paths named), or
            holds no nodes.
    """
    source = "<clipboard>"
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raise ProjectError(source, "the clipboard does not hold VidStudio nodes (not JSON)") from None
    if not isinstance(raw, dict) or "nodes" not in raw:
        raise ProjectError(source, "the clipboard does not hold VidStudio nodes")
    origin = raw.pop(ORIGIN_KEY, None)
    raw.pop(CLIPBOARD_KEY, None)
    doc = loads_project(json.dumps(raw), source)
    if not doc.nodes:
        raise ProjectError(source, "the clipboard holds no nodes")
    taken = set(project.iter_ids())
    renamed: dict[str, str] = {}
    for n in doc.nodes:
        new = n.id if n.id not in taken else unique_id(re.sub(r"_\d+$", "", n.id) or n.id, taken)
        taken.add(new)
        renamed[n.id] = new
    xs = [n.position[0] for n in doc.nodes]
    ys = [n.position[1] for n in doc.nodes]
    if at is not None:
        dx, dy = at[0] - min(xs), at[1] - min(ys)
    else:
        dx, dy = offset
    old_dir = Path(origin) if isinstance(origin, str) and origin else None
    nodes = []
    for n in doc.nodes:
        params = dict(n.params)
        if registry is not None and old_dir is not None:
            cls = registry.find(n.type)
            for p in cls.params if cls is not None else ():
                v = params.get(p.name)
                if p.kind == "file" and isinstance(v, str) and v and not Path(v).expanduser().is_absolute():
                    params[p.name] = relative_to_project(str((old_dir / v).resolve()), project.project_dir)
        nodes.append(
            n.model_copy(
                update={"id": renamed[n.id], "params": params, "position": (n.position[0] + dx, n.position[1] + dy)},
                deep=True,
            )
        )
    links = [
        Link.make(renamed[l.source_node], l.source_port, renamed[l.target_node], l.target_port)
        for l in doc.links
        if l.source_node in renamed and l.target_node in renamed
    ]
    animation = {}
    for k, c in doc.animation.items():
        nid, pname = k.split(".")
        if nid in renamed:
            animation[f"{renamed[nid]}.{pname}"] = c.model_copy(deep=True)
    return PastePlan(nodes, links, animation, renamed)


__all__ = ["CLIPBOARD_KEY", "CLIPBOARD_MIME", "clipboard_text", "PastePlan", "plan_paste"]
