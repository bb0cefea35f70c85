"""Document operations behind the desktop application, free of Qt.

Everything the editors decide about a project that does not need a widget lives here, so that it is tested
without a display: whether a link may be made and why not, what the Viewer shows, which parameters are
animated, the clipboard format (a project document, so that nodes paste between windows and processes),
key editing on F-curves, paths relative to the project folder, and timecode.

The session (:mod:`vidstudio.ui.state.session`) wraps these in undo commands; this module never changes a project
in place.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

from vidstudio import ids
from vidstudio.errors import ProjectError
from vidstudio.graph.model import Link, NodeInstance
from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.types import PortType, can_connect
from vidstudio.motion.curves import FCurve, Keyframe
from vidstudio.project import Project, loads_project
from vidstudio.project.io import ORIGIN_KEY, VIDEO_SUFFIXES

#: Files that a drop or Open turns into a project.
PROJECT_SUFFIXES: tuple[str, ...] = (".vidproj", *VIDEO_SUFFIXES)
#: Files that a drop on the node editor turns into a Load Image node.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: Marker key of a clipboard document (a project document holding copied nodes).
CLIPBOARD_KEY = "vidstudio_clipboard"
#: MIME type of copied nodes on the system clipboard (the text is also offered as ``text/plain``).
CLIPBOARD_MIME = "application/x-vidstudio-nodes+json"
#: Port types the Viewer can show: a VIDEO as a clip, an IMAGE as a still.
VIEWABLE_TYPES: tuple[str, ...] = (PortType.VIDEO.value, PortType.IMAGE.value)


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


# ----------------------------------------------------------------------------------------------- viewer
@dataclass(frozen=True)
class ViewTarget:
    """What the Viewer shows: output ``port`` of ``node_id``, of type ``kind`` (``"VIDEO"`` or ``"IMAGE"``)."""

    node_id: str
    port: str
    kind: str

    @property
    def ref(self) -> str:
        """``"node.port"``."""
        return f"{self.node_id}.{self.port}"


def viewable_output(project: Project, registry: NodeRegistry, node_id: str) -> ViewTarget | None:
    """The output of ``node_id`` the Viewer would show (its first VIDEO output, else its first IMAGE output)."""
    if not project.has_node(node_id):
        return None
    cls = registry.find(project.node(node_id).type)
    if cls is None:
        return None
    for kind in VIEWABLE_TYPES:
        for o in cls.outputs:
            if str(o.type) == kind:
                return ViewTarget(node_id, o.name, kind)
    return None


def downstream_view(project: Project, registry: NodeRegistry, node_id: str) -> ViewTarget | None:
    """The nearest node downstream of ``node_id`` (following links, breadth first, document order among equals)
    with a VIDEO output: the picture a Trajectory, Sprite or Physics Scene node ends up in (its animatic), so
    that a path is drawn over the frame it moves in. None when nothing downstream has a VIDEO output."""
    succ: dict[str, list[str]] = {}
    for l in project.links:
        succ.setdefault(l.source_node, []).append(l.target_node)
    order = {n: i for i, n in enumerate(project.iter_ids())}
    frontier, seen = [node_id], {node_id}
    while frontier:
        nxt: list[str] = []
        for n in frontier:
            for m in succ.get(n, []):
                if m not in seen:
                    seen.add(m)
                    nxt.append(m)
        nxt.sort(key=lambda n: order.get(n, 0))
        for m in nxt:
            t = viewable_output(project, registry, m)
            if t is not None and t.kind == PortType.VIDEO:
                return t
        frontier = nxt
    return None


def view_camera(project: Project, registry: NodeRegistry, target: ViewTarget | None) -> tuple[str, str] | None:
    """The CAMERA output that places world pixels in the viewed picture, as ``(node_id, port)``, or None.

    World pixels (where trajectories and physics bodies live) are the output frame's pixels at rest camera; the
    Viewer maps them through this camera's per-frame ``(T, 3, 3)`` world-to-frame matrices. Found as: the
    viewed node's own CAMERA output (a Camera Move), else the source linked into its CAMERA input (an
    Animatic Render's camera), else the same search upstream through its VIDEO and IMAGE inputs (a grade after
    the animatic), nearest first. A still IMAGE view has no camera.
    """
    if target is None or target.kind != PortType.VIDEO or not project.has_node(target.node_id):
        return None
    frontier, seen = [target.node_id], {target.node_id}
    while frontier:
        nxt: list[str] = []
        for nid in frontier:
            cls = registry.find(project.node(nid).type)
            if cls is None:
                continue
            for o in cls.outputs:
                if str(o.type) == PortType.CAMERA:
                    return nid, o.name
            for inp in cls.inputs:
                if str(inp.type) == PortType.CAMERA:
                    for l in project.links_into(nid, inp.name):
                        return l.source_node, l.source_port
            for inp in cls.inputs:
                if str(inp.type) in VIEWABLE_TYPES:
                    for l in project.links_into(nid, inp.name):
                        if l.source_node not in seen:
                            seen.add(l.source_node)
                            nxt.append(l.source_node)
        frontier = nxt
    return None


def default_view_target(
    project: Project, registry: NodeRegistry, selected: Iterable[str] = (), pinned: str | None = None
) -> ViewTarget | None:
    """Chooses what the Viewer shows.

    Order: the pinned node ("view this node"), else the last selected node with a VIDEO or IMAGE output,
    else the picture a selected node ends up in (:func:`downstream_view`: the animatic a selected Trajectory
    feeds), else what feeds the first output node's VIDEO input (the Export node's picture), else the last
    node (in document order) with a VIDEO output.
    """
    if pinned:
        t = viewable_output(project, registry, pinned)
        if t is not None:
            return t
    for nid in reversed(list(selected)):
        t = viewable_output(project, registry, nid)
        if t is not None:
            return t
    for nid in reversed(list(selected)):
        t = downstream_view(project, registry, nid)
        if t is not None:
            return t
    for n in project.nodes:
        cls = registry.find(n.type)
        if cls is None or not cls.is_output:
            continue
        for inp in cls.inputs:
            if str(inp.type) != PortType.VIDEO:
                continue
            for l in project.links_into(n.id, inp.name):
                src_type = port_type(project, registry, l.source_node, l.source_port, True)
                if src_type in VIEWABLE_TYPES:
                    return ViewTarget(l.source_node, l.source_port, src_type)
    for n in reversed(project.nodes):
        t = viewable_output(project, registry, n.id)
        if t is not None and t.kind == PortType.VIDEO:
            return t
    return None


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
        names += sorted(k.split(".")[1] for k in project.animation if k.split(".")[0] == n.id and k.split(".")[1] not in names)
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


def set_key(curve: FCurve | None, frame: float, value: float) -> FCurve:
    """Returns ``curve`` with a key at ``frame`` set to ``value`` (a new one-key curve when ``curve`` is None).

    A key placed between others takes the interpolation of the key before it (Blender's rule)."""
    if curve is None:
        return FCurve(keys=[Keyframe(frame=float(frame), value=float(value))])
    return curve.with_key(float(frame), float(value))


def move_key(curve: FCurve, frame_from: float, frame_to: float) -> FCurve:
    """Returns ``curve`` with its key on ``frame_from`` retimed to ``frame_to`` (value, interpolation and
    handles kept).

    Raises:
        KeyError: when no key lies on ``frame_from``.
        ValueError: when another key already lies on ``frame_to``.
    """
    key = curve.key_at(frame_from)
    if key is None:
        raise KeyError(f"no key on frame {frame_from:g}")
    if abs(frame_from - frame_to) < 1e-6:
        return curve
    if curve.key_at(frame_to) is not None:
        raise ValueError(f"frame {frame_to:g} already holds a key")
    keys = [k for k in curve.keys if k is not key] + [key.model_copy(update={"frame": float(frame_to)})]
    return FCurve(keys=keys, extrapolation=curve.extrapolation)


# ----------------------------------------------------------------------------------------------- clipboard
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
            for p in (cls.params if cls is not None else ()):
                v = params.get(p.name)
                if p.kind == "file" and isinstance(v, str) and v and not Path(v).expanduser().is_absolute():
                    params[p.name] = relative_to_project(str((old_dir / v).resolve()), project.project_dir)
        nodes.append(n.model_copy(update={"id": renamed[n.id], "params": params,
                                          "position": (n.position[0] + dx, n.position[1] + dy)}, deep=True))
    links = [
        Link.make(renamed[l.source_node], l.source_port, renamed[l.target_node], l.target_port)
        for l in doc.links if l.source_node in renamed and l.target_node in renamed
    ]
    animation = {}
    for k, c in doc.animation.items():
        nid, pname = k.split(".")
        if nid in renamed:
            animation[f"{renamed[nid]}.{pname}"] = c.model_copy(deep=True)
    return PastePlan(nodes, links, animation, renamed)


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


# ----------------------------------------------------------------------------------------------- time
def timecode(frame: int, fps: Fraction | float) -> str:
    """SMPTE-style non-drop timecode ``HH:MM:SS:FF`` of ``frame`` at ``fps`` (frames counted at the nominal
    rate, the rounded-up fps: 30000/1001 counts 30 frames per second, as non-drop timecode does).

    Args:
        frame: frame number (0-based; negative gives a leading ``-``).
        fps: frames per second.
    """
    nominal = max(1, math.ceil(float(fps) - 1e-9))
    sign = "-" if frame < 0 else ""
    f = abs(int(frame))
    ff = f % nominal
    s = f // nominal
    return f"{sign}{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{ff:02d}"


def fps_text(fps: Fraction) -> str:
    """``"24"``, ``"29.97 (30000/1001)"``: a frame rate for labels."""
    if fps.denominator == 1:
        return str(fps.numerator)
    return f"{float(fps):.3f}".rstrip("0").rstrip(".") + f" ({fps.numerator}/{fps.denominator})"


__all__ = [
    "PROJECT_SUFFIXES", "IMAGE_SUFFIXES", "CLIPBOARD_KEY", "CLIPBOARD_MIME", "VIEWABLE_TYPES", "node_id_base", "unique_id",
    "LinkCheck", "check_link", "port_type", "ViewTarget", "viewable_output", "default_view_target",
    "downstream_view", "view_camera",
    "AnimatedParam", "animated_params", "param_value", "set_key", "move_key", "clipboard_text", "PastePlan",
    "plan_paste", "relative_to_project", "timecode", "fps_text",
]
