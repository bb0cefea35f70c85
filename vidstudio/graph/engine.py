"""The execution engine: runs the nodes a request needs, in topological order, with a content-addressed cache
that remembers why each node ran.

Cache keys are a recursive signature (as ComfyUI's ``comfy_execution/caching.py``): node type, type version,
parameter values, the curves of animated parameters, the project settings the type uses, an external
fingerprint (files on disk), and the keys of the upstream outputs. Changing one parameter therefore re-runs
that node and what is downstream of it, and nothing else. Each signature is kept by part, so that after a
run the engine can say for every node whether it came from the cache or *why* it ran again
(:meth:`RunResult.explain`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

from vidstudio.errors import Cancelled, GraphError, NodeError, VidStudioError
from vidstudio.graph.model import Graph, Settings
from vidstudio.graph.node import ExecutionContext, Node
from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.validate import GraphIssue, topological_order, validate_graph
from vidstudio.progress import CancelToken

#: ``progress(node_id, fraction, message)``: fraction of the node's work in [0, 1], or None when unknown.
EngineProgress = Callable[[str, Optional[float], str], None]


class NodeExecutionError(RuntimeError):
    """A node raised an unexpected exception (a bug in the node or its plugin, not bad input).

    Attributes:
        node_id, node_type: where it happened; source: ``"builtin"`` or the plugin name.
        exit_code: 1 (internal error) for the command line.
    """

    exit_code = 1

    def __init__(self, node_id: str, node_type: str, source: str | None, exc: BaseException):
        self.node_id, self.node_type, self.source = node_id, node_type, source
        origin = f", from plugin '{source}'" if source and source != "builtin" else ""
        super().__init__(f"node '{node_id}' ({node_type}{origin}) failed: {exc.__class__.__name__}: {exc}")


@dataclass
class NodeReport:
    """What happened to one node in a run.

    Attributes:
        status: ``"cached"`` (outputs reused) or ``"ran"``.
        reasons: why it ran (empty when cached), e.g. ``"parameter 'zoom' changed"``.
        seconds: wall time of ``execute`` (0 when cached).
        notes: messages the node left (what it changed, warnings).
        key: the cache key (hex).
    """

    node_id: str
    node_type: str
    status: str
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    key: str = ""

    def line(self) -> str:
        """One line for ``--explain``: ``id  Type  cached`` or ``id  Type  ran: reason; reason``."""
        what = "cached" if self.status == "cached" else "ran: " + "; ".join(self.reasons or ["(no reason recorded)"])
        extra = f" ({self.seconds:.2f} s)" if self.status == "ran" else ""
        return f"{self.node_id:<16} {self.node_type:<18} {what}{extra}"


@dataclass
class RunResult:
    """Outputs and report of one run.

    Attributes:
        values: ``{node_id: {port: value}}`` for every node that was needed.
        report: ``{node_id: NodeReport}`` in execution order.
        warnings: validation warnings (errors stop the run instead).
    """

    values: dict[str, dict[str, Any]]
    report: dict[str, NodeReport]
    warnings: list[GraphIssue] = field(default_factory=list)

    def output(self, node_id: str, port: str | None = None) -> Any:
        """The value of ``node_id``'s output ``port`` (its only output when ``port`` is None).

        Raises:
            KeyError: naming the node or port when it is not in the result.
        """
        if node_id not in self.values:
            raise KeyError(f"node '{node_id}' was not part of this run")
        outs = self.values[node_id]
        if port is None:
            if len(outs) != 1:
                raise KeyError(f"node '{node_id}' has outputs {', '.join(outs) or 'none'}; name one")
            return next(iter(outs.values()))
        if port not in outs:
            raise KeyError(f"node '{node_id}' has no output '{port}' (outputs: {', '.join(outs) or 'none'})")
        return outs[port]

    def explain(self) -> list[str]:
        """One line per node: cached, or ran and why."""
        return [r.line() for r in self.report.values()]

    @property
    def ran(self) -> list[str]:
        """Ids of the nodes that executed."""
        return [k for k, r in self.report.items() if r.status == "ran"]

    @property
    def cached(self) -> list[str]:
        """Ids of the nodes whose outputs came from the cache."""
        return [k for k, r in self.report.items() if r.status == "cached"]


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=_json_default, separators=(",", ":")).encode()).hexdigest()[:24]


def _json_default(o: Any) -> Any:
    if isinstance(o, Fraction):
        return f"{o.numerator}/{o.denominator}"
    if isinstance(o, np.ndarray):
        return {"ndarray": hashlib.sha256(np.ascontiguousarray(o).tobytes()).hexdigest(), "shape": o.shape, "dtype": str(o.dtype)}
    if isinstance(o, (np.integer, np.floating, np.bool_)):
        return o.item()
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json", by_alias=True)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot hash a {type(o).__name__} parameter value")


def _plain(v: Any) -> Any:
    return f"{v.numerator}/{v.denominator}" if isinstance(v, Fraction) else v


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0) or 0) if isinstance(getattr(value, "nbytes", 0), (int, np.integer)) else 0


class Engine:
    """Runs graphs and caches node outputs between runs.

    Args:
        registry: the node types.
        cache_bytes: the output cache's budget in bytes (arrays counted by ``nbytes``; least recently used
            entries are dropped first).

    One engine runs one graph at a time (runs from several threads are serialised). Keep an engine for the
    life of a session (the GUI, the server worker) so that the cache pays off.
    """

    def __init__(self, registry: NodeRegistry, *, cache_bytes: int = 2 << 30):
        self.registry = registry
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._cache_size = 0
        #: ``{node_id: signature parts}`` of the last run of each node: the basis of "why it ran again".
        self.history: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------------------------------ cache
    def clear_cache(self) -> None:
        """Drops every cached output (the history of signatures stays)."""
        with self._lock:
            self._cache.clear()
            self._cache_size = 0

    def _cache_get(self, key: str) -> dict[str, Any] | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        self._cache.move_to_end(key)
        return hit[0]

    def _cache_put(self, key: str, outputs: dict[str, Any]) -> None:
        size = _nbytes(outputs)
        if size > self.cache_bytes:
            return
        old = self._cache.pop(key, None)
        if old:
            self._cache_size -= old[1]
        self._cache[key] = (outputs, size)
        self._cache_size += size
        while self._cache_size > self.cache_bytes and self._cache:
            _, (_, s) = self._cache.popitem(last=False)
            self._cache_size -= s

    # ------------------------------------------------------------------------------------------ running
    def validate(self, graph: Graph, settings: Settings, only: Iterable[str] | None = None) -> list[GraphIssue]:
        """Validates ``graph`` (see :func:`vidstudio.graph.validate.validate_graph`)."""
        return validate_graph(graph, self.registry, settings, only=only)

    def needed_nodes(self, graph: Graph, targets: Iterable[str] | None) -> list[str]:
        """The nodes a run of ``targets`` needs, in execution order.

        Args:
            targets: node ids to compute; None means every output node (``is_output``), or every node
                without downstream links when the graph has no output node.

        Raises:
            GraphError: when a target does not exist.
        """
        ids = [n.id for n in graph.nodes]
        if targets is None:
            outs = [n.id for n in graph.nodes if (c := self.registry.find(n.type)) is not None and c.is_output]
            if not outs:
                has_down = {l.source_node for l in graph.links}
                outs = [i for i in ids if i not in has_down]
            targets = outs
        targets = list(targets)
        for t in targets:
            if t not in ids:
                raise GraphError([GraphIssue(t, "", "no node has this id", "unknown-node")])
        sub = graph.upstream(targets)
        need = set(sub)
        edges = [(l.source_node, l.target_node) for l in graph.links if l.source_node in need and l.target_node in need]
        try:
            return topological_order(sub, edges)
        except ValueError as e:
            raise GraphError([GraphIssue(None, "", str(e), "cycle")]) from None

    def run(
        self,
        graph: Graph,
        settings: Settings,
        *,
        targets: Iterable[str] | None = None,
        project_dir: Path | str | None = None,
        progress: EngineProgress | None = None,
        cancel: CancelToken | None = None,
        frame_range: tuple[int, int] | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        project_json: str | None = None,
        services: dict[str, Any] | None = None,
    ) -> RunResult:
        """Runs the nodes needed for ``targets``.

        Args:
            graph: the graph; settings: the project settings.
            targets: node ids to compute (see :meth:`needed_nodes`).
            project_dir: folder that relative paths resolve against.
            progress: ``progress(node_id, fraction, message)`` callback.
            cancel: a token checked between nodes and inside long nodes.
            frame_range: ``(start, stop)`` frames output nodes write (default the whole clip).
            overrides: ``{node_id: {param: value}}`` applied for this run only (``-o`` of the CLI).
            project_json: the document, for outputs that embed it.
            services: shared objects nodes may use (e.g. the backend's pipeline cache), by name.

        Returns:
            the :class:`RunResult`.

        Raises:
            GraphError: when validation of the needed nodes finds errors (nothing runs).
            vidstudio.errors.NodeError: when a node rejects its input (names the node).
            NodeExecutionError: when a node fails unexpectedly.
            vidstudio.errors.Cancelled: when cancelled.
        """
        cancel = cancel or CancelToken()
        pdir = Path(project_dir) if project_dir is not None else None
        overrides = overrides or {}
        if frame_range is not None:
            a, b = frame_range
            if not (0 <= a < b <= settings.frame_count):
                raise GraphError([GraphIssue(None, "frames", f"frame range {a}:{b} is outside 0:{settings.frame_count}", "bad-value")])
        with self._lock:
            order = self.needed_nodes(graph, targets)
            work = graph
            if overrides:
                work = graph.model_copy(deep=True)
                for nid, vals in overrides.items():
                    work.node(nid).params.update(vals)
            issues = self.validate(work, settings, only=order)
            errors = [i for i in issues if i.severity == "error"]
            if errors:
                raise GraphError(errors)
            values: dict[str, dict[str, Any]] = {}
            report: dict[str, NodeReport] = {}
            keys: dict[str, str] = {}
            for node_id in order:
                cancel.raise_if_cancelled()
                inst = work.node(node_id)
                cls = self.registry.get(inst.type)
                params_raw = {p.name: p.check(inst.params.get(p.name, p.default))[0] for p in cls.params}
                ctx = ExecutionContext(
                    node_id, width=settings.width, height=settings.height, fps=settings.fps,
                    frame_count=settings.frame_count, project_dir=pdir, frame_range=frame_range,
                    project_json=project_json, progress=progress, cancel=cancel, services=services,
                )
                parts = self._signature(work, inst.id, cls, params_raw, settings, ctx, keys)
                key = _digest(parts)
                keys[node_id] = key
                inputs = self._gather_inputs(work, cls, node_id, values)
                cached = None if cls.is_output else self._cache_get(key)
                if cached is not None:
                    values[node_id] = cached
                    report[node_id] = NodeReport(node_id, cls.type_id, "cached", key=key)
                    self.history[node_id] = parts
                    if progress:
                        progress(node_id, 1.0, "cached")
                    continue
                reasons = self._reasons(node_id, cls, parts, report)
                params = self._resolve_params(work, node_id, cls, params_raw, settings, ctx)
                ctx.curves = {p.name: c for p in cls.params if p.animatable and (c := work.curve(node_id, p.name)) is not None}
                if progress:
                    progress(node_id, 0.0, "running")
                t0 = time.perf_counter()
                try:
                    outputs = cls().execute(ctx, inputs, params)
                except Cancelled:
                    raise
                except NodeError as e:
                    raise e.at_node(node_id, cls.type_id)
                except VidStudioError as e:
                    raise NodeError(str(e)).at_node(node_id, cls.type_id) from e
                except Exception as e:
                    raise NodeExecutionError(node_id, cls.type_id, self.registry.source(cls.type_id), e) from e
                seconds = time.perf_counter() - t0
                outputs = dict(outputs or {})
                missing = [o.name for o in cls.outputs if o.name not in outputs]
                if missing:
                    raise NodeExecutionError(node_id, cls.type_id, self.registry.source(cls.type_id),
                                             RuntimeError(f"returned no value for output(s) {', '.join(missing)}"))
                values[node_id] = outputs
                if not cls.is_output:
                    self._cache_put(key, outputs)
                report[node_id] = NodeReport(node_id, cls.type_id, "ran", reasons, seconds, list(ctx.notes), key)
                self.history[node_id] = parts
                if progress:
                    progress(node_id, 1.0, "done")
            return RunResult(values, report, [i for i in issues if i.severity == "warning"])

    # ------------------------------------------------------------------------------------------ helpers
    def _signature(
        self, graph: Graph, node_id: str, cls: type[Node], params: dict[str, Any], settings: Settings,
        ctx: ExecutionContext, keys: dict[str, str],
    ) -> dict[str, Any]:
        uses = set(cls.uses_settings)
        if any(p.animatable for p in cls.params):
            uses.add("frame_count")
        anim = {p.name: graph.curve(node_id, p.name) for p in cls.params if p.animatable and graph.curve(node_id, p.name) is not None}
        inputs: dict[str, list[list[str]]] = {}
        for inp in cls.inputs:
            inputs[inp.name] = [[l.source, keys.get(l.source_node, "")] for l in graph.links_into(node_id, inp.name)]
        try:
            fingerprint = cls.fingerprint(params, ctx)
        except Exception as e:
            fingerprint = f"error:{e}"
        return {
            "type": cls.type_id,
            "version": cls.version,
            "params": {k: _digest(v) for k, v in params.items() if k not in anim},
            "animation": {k: _digest(c.model_dump(mode="json")) for k, c in anim.items()},
            "settings": {s: _plain(getattr(settings, s)) for s in sorted(uses)},
            "inputs": inputs,
            "fingerprint": fingerprint,
        }

    def _reasons(self, node_id: str, cls: type[Node], parts: dict[str, Any], report: dict[str, NodeReport]) -> list[str]:
        if cls.is_output:
            return ["output node (always runs)"]
        old = self.history.get(node_id)
        if old is None:
            return ["first run (nothing cached yet)"]
        reasons: list[str] = []
        if old.get("type") != parts["type"]:
            return [f"node type changed from {old.get('type')} to {parts['type']}"]
        if old.get("version") != parts["version"]:
            reasons.append(f"node type version changed from {old.get('version')} to {parts['version']}")
        names = sorted(set(old.get("params", {})) | set(parts["params"]) | set(old.get("animation", {})) | set(parts["animation"]))
        for name in names:
            was_anim, is_anim = name in old.get("animation", {}), name in parts["animation"]
            if was_anim and is_anim:
                if old["animation"][name] != parts["animation"][name]:
                    reasons.append(f"animation of '{name}' changed")
            elif was_anim != is_anim:
                reasons.append(f"parameter '{name}' was {'keyed' if is_anim else 'un-keyed'}")
            elif old.get("params", {}).get(name) != parts["params"].get(name):
                reasons.append(f"parameter '{name}' changed")
        for s, v in parts["settings"].items():
            if old.get("settings", {}).get(s) != v:
                reasons.append(f"project setting '{s}' changed")
        for port, links in parts["inputs"].items():
            before = old.get("inputs", {}).get(port, [])
            if [l[0] for l in before] != [l[0] for l in links]:
                reasons.append(f"input '{port}' was relinked")
            elif before != links:
                ups = [l[0].split(".")[0] for l, b in zip(links, before) if l != b]
                ran = [u for u in ups if u in report and report[u].status == "ran"]
                who = ", ".join(f"'{u}'" for u in (ran or ups))
                reasons.append(f"input '{port}' changed (upstream node {who} ran again)")
        if old.get("fingerprint") != parts["fingerprint"]:
            reasons.append("a file it reads changed on disk")
        if not reasons:
            reasons.append("inputs unchanged but the output was not in the cache (evicted, or a new session)")
        return reasons

    def _gather_inputs(self, graph: Graph, cls: type[Node], node_id: str, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for inp in cls.inputs:
            links = graph.links_into(node_id, inp.name)
            vals = [values[l.source_node][l.source_port] for l in links]
            inputs[inp.name] = vals if inp.multi else (vals[0] if vals else None)
        return inputs

    def _resolve_params(
        self, graph: Graph, node_id: str, cls: type[Node], params: dict[str, Any], settings: Settings, ctx: ExecutionContext
    ) -> dict[str, Any]:
        out = dict(params)
        for p in cls.params:
            if p.animatable:
                curve = graph.curve(node_id, p.name)
                if curve is not None:
                    arr = curve.sample(settings.frame_count)
                else:
                    arr = np.full(settings.frame_count, float(params[p.name]))
                if p.kind == "int":
                    arr = np.round(arr)
                arr.setflags(write=False)
                out[p.name] = arr
            elif p.kind == "file" and params[p.name]:
                out[p.name] = str(ctx.resolve_path(params[p.name]))
        return out
