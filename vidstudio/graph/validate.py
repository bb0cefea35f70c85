"""Graph validation: every problem is a :class:`GraphIssue` that names the node id and the port or parameter.

Checked: unknown or unavailable node types, links to unknown nodes or ports, type mismatches, several links
into a single input, missing required inputs, parameter values of the wrong kind, out of range or not among
the choices (animated values too, frame by frame), animation bound to unknown or non-animatable parameters,
node-specific checks, and cycles.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from vidstudio.graph.model import Graph, Settings
from vidstudio.graph.node import Node
from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.types import can_connect

#: Every issue code and the severity it has in the core (a plain run on this computer). ``"error"`` stops a
#: run; ``"warning"`` does not. A front end may read some codes differently (the GUI shows ``model-not-local``
#: as a warning, because the generation server looks model ids up among its own models), always by code,
#: never by the message's words.
ISSUE_SEVERITY: dict[str, str] = {
    "unknown-type": "error",  # no node type of that name
    "unavailable-type": "error",  # the type's plugin is missing, disabled, incompatible or failed
    "unknown-node": "error",  # a link or target names a node that does not exist
    "unknown-port": "error",  # a link names a port the type does not have
    "type-mismatch": "error",  # a link joins ports of incompatible types
    "too-many-links": "error",  # several links into a single-value input
    "missing-input": "error",  # a required input is not linked
    "bad-value": "error",  # a parameter value of the wrong kind
    "out-of-range": "error",  # a number outside the parameter's min/max (a keyed value too)
    "bad-animation": "error",  # animation of an unknown or non-animatable parameter
    "cycle": "error",  # the links form a loop
    "unknown-param": "warning",  # a parameter the type does not declare (kept, ignored)
    "node-check": "error",  # a node type's own check (Node.check / Node.check_in_graph)
    "node-warning": "warning",  # a node type's own check that does not stop a run
    "model-not-local": "error",  # the model a node names is not on this computer
    "model-not-downloaded": "warning",  # a Hugging Face repo id not in the local cache yet: the run downloads it
    "run-error": "error",  # the node failed when it ran (the GUI shows it beside the issues)
    "bad-file": "error",  # an image or video the project reads is missing, unreadable or undecodable
    "over-budget": "error",  # a generation over the limits a server applies (vidstudio.budget)
}


def severity_of(code: str) -> str:
    """The core severity of issue ``code`` (:data:`ISSUE_SEVERITY`); an unknown code is an error."""
    return ISSUE_SEVERITY.get(code, "error")


@dataclass(frozen=True)
class GraphIssue:
    """One validation problem.

    Attributes:
        node_id: the node it belongs to (None for graph-wide problems).
        where: ``"port 'image'"``, ``"param 'zoom'"``, ``"type"``, ``"link 'a.out -> b.in'"`` or ``""``.
        message: what is wrong, in words (for people: code never reads it).
        code: a stable identifier, one of :data:`ISSUE_SEVERITY` (``missing-input``, ``type-mismatch``,
            ``cycle``, ``bad-value``, ``model-not-local``, ...).
        severity: ``"error"`` stops a run; ``"warning"`` does not. Default: the code's
            (:func:`severity_of`); a front end that reads a code differently replaces it by code.
    """

    node_id: str | None
    where: str
    message: str
    code: str
    severity: Literal["error", "warning"] = None  # type: ignore[assignment]  # None: from the code

    def __post_init__(self) -> None:
        if self.severity is None:
            object.__setattr__(self, "severity", severity_of(self.code))

    def __str__(self) -> str:
        head = f"node '{self.node_id}'" if self.node_id else "graph"
        if self.where:
            head += f" {self.where}"
        tag = "" if self.severity == "error" else " (warning)"
        return f"{head}: {self.message}{tag}"


def check_issue(node_id: str, item: tuple) -> GraphIssue:
    """A :class:`GraphIssue` from an item a node's :meth:`~vidstudio.graph.node.Node.check` or
    :meth:`~vidstudio.graph.node.Node.check_in_graph` returned: ``(where, message)`` (code ``node-check``),
    ``(where, message, code)`` with a code of :data:`ISSUE_SEVERITY`, or ``(where, message, "warning")``
    (code ``node-warning``; ``"error"`` gives ``node-check``)."""
    where, message, *rest = item
    tag = str(rest[0]) if rest else "node-check"
    code = {"warning": "node-warning", "error": "node-check"}.get(tag, tag)
    return GraphIssue(node_id, where, message, code)


def _out_of_range(p: Any, value: Any) -> bool:
    """Whether the (normalised) ``value`` that :meth:`Param.check` refused is a valid number beyond min/max."""
    if p.kind not in ("float", "int") or isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if not np.isfinite(value) or (p.kind == "int" and float(value) != int(value)):
        return False
    return p.range_message(value) is not None


def validate_graph(
    graph: Graph,
    registry: NodeRegistry,
    settings: Settings | None = None,
    *,
    only: Iterable[str] | None = None,
) -> list[GraphIssue]:
    """Validates a graph.

    Args:
        graph: the nodes, links and animation.
        registry: the node types.
        settings: project settings (frame count for animated values, size for node checks); defaults apply
            when None.
        only: restrict node-level checks to these node ids (links and cycles among them are still checked).

    Returns:
        the issues, errors and warnings, in document order; empty when the graph is valid.
    """
    settings = settings or Settings()
    issues: list[GraphIssue] = []
    ids = [n.id for n in graph.nodes]
    scope = set(ids) if only is None else set(only)
    classes: dict[str, type[Node] | None] = {}

    for n in graph.nodes:
        cls = registry.find(n.type)
        classes[n.id] = cls
        if cls is None and n.id in scope:
            code, message = registry.why_unusable(n.type) or ("unknown-type", f"unknown node type {n.type!r}")
            issues.append(GraphIssue(n.id, "type", message, code))

    # links ------------------------------------------------------------------------------------------
    fed: dict[tuple[str, str], int] = {}
    for link in graph.links:
        where = f"link '{link.source} -> {link.target}'"
        src_cls = classes.get(link.source_node, None)
        dst_cls = classes.get(link.target_node, None)
        if link.target_node not in scope and link.source_node not in scope:
            continue
        if link.source_node not in classes:
            issues.append(
                GraphIssue(
                    link.target_node if link.target_node in classes else None,
                    where,
                    f"comes from node '{link.source_node}', which does not exist",
                    "unknown-node",
                )
            )
            continue
        if link.target_node not in classes:
            issues.append(
                GraphIssue(
                    link.source_node, where, f"goes to node '{link.target_node}', which does not exist", "unknown-node"
                )
            )
            continue
        if src_cls is None or dst_cls is None:
            # The unknown or unavailable type is reported on its node. The link itself is kept (a placeholder
            # keeps its links), so a known node it feeds does not also hear that its input is not linked.
            if dst_cls is not None and dst_cls.input(link.target_port) is not None:
                key = (link.target_node, link.target_port)
                fed[key] = fed.get(key, 0) + 1
            continue
        out = src_cls.output(link.source_port)
        inp = dst_cls.input(link.target_port)
        if out is None:
            issues.append(
                GraphIssue(
                    link.source_node,
                    f"port '{link.source_port}'",
                    f"{src_cls.type_id} has no output '{link.source_port}' "
                    f"(outputs: {', '.join(o.name for o in src_cls.outputs) or 'none'})",
                    "unknown-port",
                )
            )
            continue
        if inp is None:
            issues.append(
                GraphIssue(
                    link.target_node,
                    f"port '{link.target_port}'",
                    f"{dst_cls.type_id} has no input '{link.target_port}' "
                    f"(inputs: {', '.join(i.name for i in dst_cls.inputs) or 'none'})",
                    "unknown-port",
                )
            )
            continue
        ok, reason = can_connect(out.type, inp.type)
        if not ok:
            issues.append(
                GraphIssue(
                    link.target_node,
                    f"port '{link.target_port}'",
                    f"takes {inp.type} but is linked to '{link.source}', which gives {out.type} ({reason})",
                    "type-mismatch",
                )
            )
        key = (link.target_node, link.target_port)
        fed[key] = fed.get(key, 0) + 1
        if fed[key] == 2 and not inp.multi:
            issues.append(
                GraphIssue(
                    link.target_node,
                    f"port '{link.target_port}'",
                    "has more than one link but takes a single value",
                    "too-many-links",
                )
            )

    # nodes: inputs and parameters -------------------------------------------------------------------
    for n in graph.nodes:
        cls = classes[n.id]
        if cls is None or n.id not in scope:
            continue
        for inp in cls.inputs:
            if not inp.optional and (n.id, inp.name) not in fed:
                issues.append(
                    GraphIssue(n.id, f"port '{inp.name}'", f"required {inp.type} input is not linked", "missing-input")
                )
        declared = {p.name for p in cls.params}
        for name in n.params:
            if name not in declared:
                issues.append(
                    GraphIssue(
                        n.id,
                        f"param '{name}'",
                        f"{cls.type_id} has no parameter '{name}' (kept, but ignored)",
                        "unknown-param",
                    )
                )
        clean: dict[str, Any] = {}
        bad = False
        for p in cls.params:
            value = n.params.get(p.name, p.default)
            value, msg = p.check(value)
            if msg:
                code = "out-of-range" if _out_of_range(p, value) else "bad-value"
                issues.append(GraphIssue(n.id, f"param '{p.name}'", msg, code))
                bad = True
            clean[p.name] = value
            curve = graph.curve(n.id, p.name)
            if curve is not None:
                if not p.animatable:
                    issues.append(
                        GraphIssue(n.id, f"param '{p.name}'", "is animated but cannot be keyed", "bad-animation")
                    )
                    continue
                values = curve.sample(settings.frame_count)
                for i, v in enumerate(values):
                    m = p.range_message(float(v)) if np.isfinite(v) else f"{v} is not a finite number"
                    if m:
                        issues.append(
                            GraphIssue(n.id, f"param '{p.name}'", f"animated value at frame {i}: {m}", "out-of-range")
                        )
                        break
        if not bad:
            try:
                for item in cls.check(clean, settings):
                    issues.append(check_issue(n.id, item))
                for item in cls.check_in_graph(n.id, graph, registry, settings):
                    issues.append(check_issue(n.id, item))
            except Exception as e:  # a faulty check must not hide the other issues
                issues.append(GraphIssue(n.id, "", f"its check failed: {e.__class__.__name__}: {e}", "node-check"))

    # animation bound to missing nodes or parameters --------------------------------------------------
    for key in graph.animation:
        node_id, param = key.split(".")
        if node_id not in classes:
            issues.append(
                GraphIssue(
                    None, f"animation '{key}'", f"is bound to node '{node_id}', which does not exist", "bad-animation"
                )
            )
        elif classes[node_id] is not None and classes[node_id].param(param) is None and node_id in scope:
            issues.append(
                GraphIssue(
                    node_id,
                    f"param '{param}'",
                    f"is animated but {classes[node_id].type_id} has no such parameter",
                    "bad-animation",
                )
            )

    # cycles -------------------------------------------------------------------------------------------
    cycle = find_cycle(
        ids,
        [(l.source_node, l.target_node) for l in graph.links if l.source_node in classes and l.target_node in classes],
    )
    if cycle:
        issues.append(GraphIssue(cycle[0], "", "is part of a cycle: " + " -> ".join(cycle + [cycle[0]]), "cycle"))
    return issues


#: File roles whose files a run reads (and :func:`validate_files` therefore checks; images and videos are
#: opened too, sounds and model files only looked for).
READ_ROLES = ("image", "video", "audio", "model")


def validate_files(graph: Graph, registry: NodeRegistry, project_dir: Any = None) -> list[GraphIssue]:
    """Opens every image and video a run would read, as the run would, looks for every sound and model file
    (Load Audio, Upscale) it would read, and reports those it cannot use.

    :func:`validate_graph` only looks at the document; this also looks at the disk, so that ``validate``
    sees what ``render`` will see: a missing file, a folder or FIFO or device in its place, a symlink loop, an
    unreadable file, or one that does not decode (images are decoded in full with
    :func:`vidstudio.media.image.load_image`; videos have their packets read with
    :func:`vidstudio.media.video.probe_video`, without decoding).

    Args:
        graph: the nodes (file parameters of ``kind == "file"`` and ``file_role`` in :data:`READ_ROLES`).
        registry: the node types (unknown types are skipped: :func:`validate_graph` reports them).
        project_dir: the folder relative paths resolve against (None: the current folder).

    Returns:
        one ``bad-file`` error per unusable file, naming the node, the parameter and the file.
    """
    from pathlib import Path

    from vidstudio.errors import MediaError
    from vidstudio.fsutil import regular_file_problem

    issues: list[GraphIssue] = []
    for n in graph.nodes:
        cls = registry.find(n.type)
        if cls is None:
            continue
        for p in cls.params:
            value = n.params.get(p.name, p.default)
            if p.kind != "file" or p.file_role not in READ_ROLES or not isinstance(value, str) or not value:
                continue
            path = Path(value).expanduser()
            if not path.is_absolute() and project_dir is not None:
                path = Path(project_dir) / path
            why = regular_file_problem(path)
            if why == "file not found":
                why = f"{p.file_role} file not found"
            if why is None and not os.access(path, os.R_OK):
                why = "cannot be read (permission denied)"
            if why is None and p.file_role in ("image", "video"):
                try:
                    if p.file_role == "image":
                        from vidstudio.media.image import load_image

                        load_image(path)
                    else:
                        from vidstudio.media.video import probe_video

                        probe_video(path)
                except MediaError as e:
                    why = str(e).removeprefix(f"{path}: ")
            if why is not None:
                issues.append(GraphIssue(n.id, f"param '{p.name}'", f"{value}: {why}", "bad-file"))
    return issues


def find_cycle(nodes: list[str], edges: list[tuple[str, str]]) -> list[str] | None:
    """Finds one directed cycle.

    Args:
        nodes: node ids in document order; edges: ``(from, to)`` pairs.

    Returns:
        the ids around the cycle, in link order (first id not repeated), or None when the graph is acyclic.
    """
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in succ}
    for start in succ:
        if color[start] != WHITE:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        color[start] = GREY
        while stack:
            node, i = stack[-1]
            if i < len(succ[node]):
                stack[-1] = (node, i + 1)
                nxt = succ[node][i]
                if color.get(nxt, WHITE) == GREY:
                    return path[path.index(nxt) :]
                if color.get(nxt, WHITE) == WHITE:
                    color[nxt] = GREY
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                color[node] = BLACK
                stack.pop()
                path.pop()
    return None


def topological_order(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Orders nodes so that every edge goes forward; ties keep document order (Kahn's algorithm).

    Raises:
        ValueError: naming the nodes of a cycle.
    """
    indeg = {n: 0 for n in nodes}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a in indeg and b in indeg:
            succ[a].append(b)
            indeg[b] += 1
    pos = {n: i for i, n in enumerate(nodes)}
    import heapq

    ready = [(pos[n], n) for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                heapq.heappush(ready, (pos[m], m))
    if len(order) != len(nodes):
        cyc = find_cycle(nodes, edges) or [n for n in nodes if n not in order]
        raise ValueError("cycle: " + " -> ".join(cyc + cyc[:1]))
    return order
