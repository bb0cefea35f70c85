"""Document operations on a project, free of Qt: node ids, link checks, which parameters are animated and
their values, and paths relative to the project folder.

Every function here reads a :class:`~vidstudio.project.Project` and returns a decision or a value; none changes
the project. The edits themselves (add a node, link, set a parameter or a key) go through
:class:`vidstudio.project.editor.DocumentEditor`, which uses these rules, records undo snapshots and is shared by
the GUI (each edit wrapped in a ``QUndoCommand``) and ``vidstudio edit``. Related rules live beside what they
edit: what the Viewer shows in :mod:`vidstudio.project.view`, the clipboard format in
:mod:`vidstudio.project.clipboard`, key edits of F-curves in :mod:`vidstudio.motion.curves`, trajectory and body
edits in :mod:`vidstudio.motion.pathedit`, timecode in :mod:`vidstudio.media.timecode`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidstudio import ids
from vidstudio.graph.model import Link
from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.types import can_connect
from vidstudio.motion.curves import FCurve
from vidstudio.project.document import Project
from vidstudio.project.io import VIDEO_SUFFIXES

#: Files that a drop or Open turns into a project.
PROJECT_SUFFIXES: tuple[str, ...] = (".vidproj", *VIDEO_SUFFIXES)
#: Files that a drop on the node editor turns into a Load Image node.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: Files that a drop turns into a Load Video node (an MP4 or MOV that embeds a project opens instead).
DROP_VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".gif", ".avi")
#: Files that a drop turns into a Load Audio node.
DROP_AUDIO_SUFFIXES: tuple[str, ...] = (".wav", ".mp3", ".flac", ".aac", ".m4a", ".ogg", ".opus")


def dropped_file_kind(path: str | os.PathLike) -> tuple[str, str | None]:
    """What a file dropped on the Node Editor or the Timeline becomes.

    Returns:
        ``("node", type_id)`` with ``LoadImage``, ``LoadVideo`` or ``LoadAudio``; ``("project", None)`` for a
        ``.vidproj`` or a video that embeds a VidStudio project (opened instead); ``("unknown", None)``.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "node", "LoadImage"
    if suffix == ".vidproj":
        return "project", None
    if suffix in DROP_AUDIO_SUFFIXES:
        return "node", "LoadAudio"
    if suffix in DROP_VIDEO_SUFFIXES:
        if suffix in VIDEO_SUFFIXES:
            from vidstudio.errors import MediaError
            from vidstudio.media.video import read_embedded_project

            try:
                if read_embedded_project(p):
                    return "project", None
            except MediaError:
                pass  # Load Video names the file when it cannot be decoded
        return "node", "LoadVideo"
    return "unknown", None


# ----------------------------------------------------------------------------------------------- nodes
def node_id_base(type_id: str) -> str:
    """A readable id stem for a new node of ``type_id``: ``"CameraMove"`` gives ``"camera_move"``,
    ``"myplug.Blur"`` gives ``"blur"``."""
    name = type_id.split(".")[-1]
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    return re.sub(r"[^a-z0-9_]", "_", snake).strip("_") or "node"


def unique_id(base: str, taken: Iterable[str]) -> str:
    """An id derived from ``base`` that is not in ``taken`` (``"cam"``, ``"cam_2"``, ...), made valid
    (letters, digits, ``_`` and ``-``, not starting with a digit)."""
    return ids.unique_id(base, taken)


@dataclass(frozen=True)
class LinkCheck:
    """Whether a link may be made.

    Attributes:
        ok: True when the link is allowed.
        reason: why not, in words, naming both ports (empty when ``ok``).
        link: the link to add (None when refused).
        replaces: links into the same single-value input that the new link replaces.
    """

    ok: bool
    reason: str = ""
    link: Link | None = None
    replaces: tuple[Link, ...] = ()


def _reaches(project: Project, start: str, goal: str) -> list[str] | None:
    """A path of node ids from ``start`` to ``goal`` following links downstream, or None."""
    succ: dict[str, list[str]] = {}
    for l in project.links:
        succ.setdefault(l.source_node, []).append(l.target_node)
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen = set()
    while stack:
        n, path = stack.pop()
        if n == goal:
            return path
        if n in seen:
            continue
        seen.add(n)
        for m in succ.get(n, []):
            stack.append((m, path + [m]))
    return None


def check_link(
    project: Project, registry: NodeRegistry, src_node: str, src_port: str, dst_node: str, dst_port: str
) -> LinkCheck:
    """Decides whether output ``src_node.src_port`` may feed input ``dst_node.dst_port``.

    Refused: unknown nodes or ports, a node feeding itself, incompatible port types
    (:func:`vidstudio.graph.types.can_connect`), a link that already exists, and a link that would close a
    cycle. A link into a single-value input that is already fed replaces the old link.

    Returns:
        a :class:`LinkCheck`; ``reason`` names both ports and says what is wrong.
    """
    where = f"{src_node}.{src_port} -> {dst_node}.{dst_port}"
    if not project.has_node(src_node) or not project.has_node(dst_node):
        missing = src_node if not project.has_node(src_node) else dst_node
        return LinkCheck(False, f"cannot link {where}: there is no node '{missing}'")
    if src_node == dst_node:
        return LinkCheck(False, f"cannot link {where}: a node cannot feed itself")
    src_cls = registry.find(project.node(src_node).type)
    dst_cls = registry.find(project.node(dst_node).type)
    if src_cls is None or dst_cls is None:
        bad = src_node if src_cls is None else dst_node
        return LinkCheck(False, f"cannot link {where}: node '{bad}' has an unknown or unavailable type")
    out = src_cls.output(src_port)
    inp = dst_cls.input(dst_port)
    if out is None:
        return LinkCheck(False, f"cannot link {where}: {src_cls.type_id} has no output '{src_port}'")
    if inp is None:
        return LinkCheck(False, f"cannot link {where}: {dst_cls.type_id} has no input '{dst_port}'")
    ok, why = can_connect(out.type, inp.type)
    if not ok:
        return LinkCheck(False, f"cannot link {where}: {why}")
    link = Link.make(src_node, src_port, dst_node, dst_port)
    existing = project.links_into(dst_node, dst_port)
    if any(l.source == link.source for l in existing):
        return LinkCheck(False, f"{where} is already linked")
    path = _reaches(project, dst_node, src_node)
    if path is not None:
        return LinkCheck(False, f"cannot link {where}: it would make a cycle ({' -> '.join(path + [dst_node])})")
    replaces = tuple(existing) if not inp.multi else ()
    return LinkCheck(True, "", link, replaces)


def port_type(project: Project, registry: NodeRegistry, node_id: str, port: str, output: bool) -> str | None:
    """The declared type of a port, or None when the node type or port is unknown."""
    cls = registry.find(project.node(node_id).type) if project.has_node(node_id) else None
    if cls is None:
        return None
    decl = cls.output(port) if output else cls.input(port)
    return str(decl.type) if decl is not None else None


# ----------------------------------------------------------------------------------------------- animation
@dataclass(frozen=True)
class AnimatedParam:
    """An animated parameter: ``node_id.param`` with its curve."""

    node_id: str
    param: str
    curve: FCurve

    @property
    def key(self) -> str:
        """``"node_id.param"``: the project's animation key of this parameter."""
        return f"{self.node_id}.{self.param}"


def animated_params(project: Project, registry: NodeRegistry) -> list[AnimatedParam]:
    """Every animation curve bound to an existing node, in node order then parameter declaration order
    (curves on unknown types or undeclared parameters come last in document order)."""
    out: list[AnimatedParam] = []
    seen: set[str] = set()
    for n in project.nodes:
        cls = registry.find(n.type)
        names = [p.name for p in cls.params] if cls is not None else []
        names += sorted(
            k.split(".")[1] for k in project.animation if k.split(".")[0] == n.id and k.split(".")[1] not in names
        )
        for name in names:
            c = project.curve(n.id, name)
            if c is not None and f"{n.id}.{name}" not in seen:
                seen.add(f"{n.id}.{name}")
                out.append(AnimatedParam(n.id, name, c))
    return out


def param_value(project: Project, registry: NodeRegistry, node_id: str, name: str, frame: float | None = None) -> Any:
    """The value of parameter ``name`` of ``node_id``: the curve's value at ``frame`` when it is animated
    (and ``frame`` is given), else the stored value, else the declared default.

    Raises:
        KeyError: for an unknown node.
    """
    node = project.node(node_id)
    curve = project.curve(node_id, name)
    if curve is not None and frame is not None:
        v = curve.value_at(float(frame))
        cls = registry.find(node.type)
        p = cls.param(name) if cls is not None else None
        return int(round(v)) if (p is not None and p.kind == "int") else v
    if name in node.params:
        return node.params[name]
    cls = registry.find(node.type)
    p = cls.param(name) if cls is not None else None
    return p.default if p is not None else None


# ----------------------------------------------------------------------------------------------- paths
def relative_to_project(path: str | os.PathLike, project_dir: Path | None) -> str:
    """The form of ``path`` to store in a parameter: relative to ``project_dir`` when the file lies inside
    it (so that the project folder can move), else absolute (``/`` separators either way).

    Pure path arithmetic (no disk access), so the GUI thread may call it.
    """
    p = Path(os.path.normpath(os.path.abspath(os.path.expanduser(os.fspath(path)))))
    if project_dir is None:
        return p.as_posix()
    base = Path(os.path.normpath(os.path.abspath(os.fspath(project_dir))))
    try:
        return p.relative_to(base).as_posix()
    except ValueError:
        return p.as_posix()


__all__ = [
    "PROJECT_SUFFIXES",
    "IMAGE_SUFFIXES",
    "DROP_VIDEO_SUFFIXES",
    "DROP_AUDIO_SUFFIXES",
    "dropped_file_kind",
    "node_id_base",
    "unique_id",
    "LinkCheck",
    "check_link",
    "port_type",
    "AnimatedParam",
    "animated_params",
    "param_value",
    "relative_to_project",
]
