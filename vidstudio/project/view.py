"""What the Viewer shows of a project, free of Qt: the output a node's picture comes from, the picture a
drawing node ends up in, and the camera that places world pixels on that picture.

Pure queries of the graph (no project is changed); the GUI's session asks them after every edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.types import PortType
from vidstudio.project.document import Project
from vidstudio.project.edits import port_type

#: Port types the Viewer can show: a VIDEO as a clip, an IMAGE as a still.
VIEWABLE_TYPES: tuple[str, ...] = (PortType.VIDEO.value, PortType.IMAGE.value)


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


@dataclass(frozen=True)
class SoundSource:
    """Where the sound of a picture comes from: AUDIO output ``port`` of ``node_id``; ``why`` says how it was
    found, in words for the user (``"the audio input of export"``); ``linked`` is True when it is the sound an
    output node (Export Video) takes with this picture."""

    node_id: str
    port: str
    why: str
    linked: bool = False

    @property
    def ref(self) -> str:
        """``"node.port"``."""
        return f"{self.node_id}.{self.port}"


def sound_sources(project: Project, registry: NodeRegistry, node_id: str, port: str) -> list[SoundSource]:
    """The AUDIO outputs that may play with VIDEO output ``port`` of ``node_id`` (what the Export dialog
    muxes), best first; the caller takes the first whose value is sound. Empty when the picture has none.

    1. The AUDIO input of an output node (Export Video) whose VIDEO input is this picture: then only that one,
       so that the dialog writes the sound the node writes.
    2. Else the nearest node, from the picture up its VIDEO inputs (first input first), that has an AUDIO
       output: a Load Video's sound, a Retime's retimed sound (None when its audio input is not linked: a
       retimed picture never gets its source's sound at the old speed), an LTX-2 Generate's sound;
    3. then a Load Audio whose output feeds nothing (a sound track on the Timeline), the first in document
       order.

    A value may still be None or silence at run time (a Load Video of a file without sound). Pure query.
    """
    if not project.has_node(node_id):
        return []
    audio = PortType.AUDIO.value
    for n in project.nodes:
        cls = registry.find(n.type)
        if cls is None or not cls.is_output:
            continue
        fed = any(
            str(i.type) == PortType.VIDEO
            and any(l.source_node == node_id and l.source_port == port for l in project.links_into(n.id, i.name))
            for i in cls.inputs
        )
        if not fed:
            continue
        for inp in cls.inputs:
            if str(inp.type) == audio:
                for l in project.links_into(n.id, inp.name):
                    return [SoundSource(l.source_node, l.source_port, f"the audio input of {n.id}", True)]
    found: list[SoundSource] = []
    frontier, seen = [node_id], {node_id}
    while frontier and not found:
        nxt: list[str] = []
        for nid in frontier:
            cls = registry.find(project.node(nid).type)
            if cls is None:
                continue
            out = next((o for o in cls.outputs if str(o.type) == audio), None)
            if out is not None:
                found.append(
                    SoundSource(nid, out.name, "the picture's own sound" if nid == node_id else f"the sound of {nid}")
                )
                break
            for inp in cls.inputs:
                if str(inp.type) == PortType.VIDEO:
                    for l in project.links_into(nid, inp.name):
                        if l.source_node not in seen:
                            seen.add(l.source_node)
                            nxt.append(l.source_node)
        frontier = nxt
    used = {l.source_node for l in project.links}
    for n in project.nodes:
        if n.type == "LoadAudio" and n.id not in used and all(f.node_id != n.id for f in found):
            found.append(SoundSource(n.id, "audio", f"the sound track {n.id} on the Timeline"))
            break
    return found


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


__all__ = [
    "VIEWABLE_TYPES",
    "SoundSource",
    "ViewTarget",
    "viewable_output",
    "downstream_view",
    "view_camera",
    "sound_sources",
    "default_view_target",
]
