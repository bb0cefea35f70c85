"""The execution engine: runs the nodes a request needs, in topological order, with a content-addressed cache
that remembers why each node ran.

Cache keys are a recursive signature (as ComfyUI's ``comfy_execution/caching.py``): node type, type version,
parameter values, the curves of animated parameters, the project settings the type uses, an external
fingerprint (files on disk), and the keys of the upstream outputs. Changing one parameter therefore re-runs
that node and what is downstream of it, and nothing else. Each signature is kept by part, so that after a
run the engine can say for every node whether it came from the cache or *why* it ran again
(:meth:`RunResult.explain`).

A run is planned once: :meth:`Engine.plan` validates, orders and names the nodes only the generation backend
runs (their type declares ``runs_on = "backend"``), and :meth:`Engine.run` executes that :class:`Plan`
without validating again. With a :class:`~vidstudio.graph.diskcache.DiskCache` the outputs also persist across
processes, under the same keys.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidstudio.errors import Cancelled, GraphError, NodeError, VidStudioError
from vidstudio.graph.model import Graph, Settings
from vidstudio.graph.node import ExecutionContext, Node
from vidstudio.graph.registry import NodeRegistry
from vidstudio.graph.validate import GraphIssue, topological_order, validate_graph
from vidstudio.progress import CancelToken

#: ``progress(node_id, fraction, message)``: fraction of the node's work in [0, 1], or None when unknown.
EngineProgress = Callable[[str, float | None, str], None]


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
        cache: where cached outputs came from: ``"memory"`` (this process) or ``"disk"`` (the disk cache, e.g. an
            earlier ``vidstudio render``); ``""`` when the node ran.
        disk: why the outputs were not kept in the disk cache (``""`` when they were, or no disk cache is used).
    """

    node_id: str
    node_type: str
    status: str
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    key: str = ""
    cache: str = ""
    disk: str = ""

    def line(self) -> str:
        """One line for ``--explain``: ``id  Type  from the cache`` (``from the cache (on disk)``) or
        ``id  Type  ran: reason; reason (0.12 s)``, then why the outputs were not kept on disk, if so."""
        if self.status == "cached":
            what = "from the cache" + (" (on disk)" if self.cache == "disk" else "")
        else:
            what = "ran: " + "; ".join(self.reasons or ["(no reason recorded)"])
        extra = f" ({self.seconds:.2f} s)" if self.status == "ran" else ""
        disk = f" [{self.disk}]" if self.disk else ""
        return f"{self.node_id:<16} {self.node_type:<18} {what}{extra}{disk}"


@dataclass
class Plan:
    """What a run will do, decided once by :meth:`Engine.plan`: validated, ordered, and which nodes only the
    generation backend runs. :meth:`Engine.run` executes a plan without validating again.

    Attributes:
        graph: the graph as it will run (per-run ``overrides`` applied to a copy; without overrides the very
            graph that was planned, so plan again after editing it).
        settings: the project settings.
        targets: the node ids asked for.
        order: the nodes the targets need, in execution order (topological, ties in document order); empty
            when they are part of a cycle (``errors`` then names it).
        issues: the validation issues: of the whole graph (``scope="graph"``), else of the needed nodes.
        backend_only: the needed nodes whose type runs only on the generation backend
            (``runs_on = "backend"``), in execution order.
        overrides: ``{node_id: {param: value}}`` applied for this run.
    """

    graph: Graph
    settings: Settings
    targets: list[str]
    order: list[str]
    issues: list[GraphIssue]
    backend_only: list[str] = field(default_factory=list)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def _needed(self) -> set[str]:
        return set(self.order) if self.order else set(self.graph.upstream(self.targets))

    @property
    def errors(self) -> list[GraphIssue]:
        """The errors that stop this run: those of the needed nodes and graph-wide ones."""
        need = self._needed
        return [i for i in self.issues if i.severity == "error" and (i.node_id is None or i.node_id in need)]

    @property
    def warnings(self) -> list[GraphIssue]:
        """The warnings of the needed nodes and graph-wide ones."""
        need = self._needed
        return [i for i in self.issues if i.severity == "warning" and (i.node_id is None or i.node_id in need)]

    @property
    def ok(self) -> bool:
        """True when nothing stops the run."""
        return not self.errors

    def narrow(self, targets: Iterable[str]) -> Plan:
        """The plan of a part of the targets, from this plan's validation (nothing is validated again).

        Raises:
            GraphError: when a target is not a node of the graph.
        """
        targets = list(targets)
        ids = {n.id for n in self.graph.nodes}
        for t in targets:
            if t not in ids:
                raise GraphError([GraphIssue(t, "", "no node has this id", "unknown-node")])
        order = _order(self.graph, targets)
        backend = [n for n in self.backend_only if n in set(order)]
        issues = self.issues + _cycle_issue(self.graph, targets, order, self.issues)
        return Plan(self.graph, self.settings, targets, order, issues, backend, self.overrides)


def _cycle_issue(graph: Graph, targets: list[str], order: list[str], issues: list[GraphIssue]) -> list[GraphIssue]:
    """A graph-wide cycle issue when ``targets`` could not be ordered and no cycle issue names a needed node."""
    if order or not targets:
        return []
    need = set(graph.upstream(targets))
    if any(i.code == "cycle" and i.node_id in need for i in issues):
        return []
    return [GraphIssue(None, "", "the nodes to run are part of a cycle", "cycle")]


def _order(graph: Graph, targets: list[str]) -> list[str]:
    """The nodes ``targets`` need in execution order; [] when they are part of a cycle."""
    sub = graph.upstream(targets)
    need = set(sub)
    edges = [(l.source_node, l.target_node) for l in graph.links if l.source_node in need and l.target_node in need]
    try:
        return topological_order(sub, edges)
    except ValueError:
        return []


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
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, default=_json_default, separators=(",", ":")).encode()
    ).hexdigest()[:24]


def _json_default(o: Any) -> Any:
    if isinstance(o, Fraction):
        return f"{o.numerator}/{o.denominator}"
    if isinstance(o, np.ndarray):
        return {
            "ndarray": hashlib.sha256(np.ascontiguousarray(o).tobytes()).hexdigest(),
            "shape": o.shape,
            "dtype": str(o.dtype),
        }
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
        disk_cache: a :class:`vidstudio.graph.diskcache.DiskCache` that keeps outputs across processes (looked
            up when the memory cache misses, written after a node runs), or None (memory only).

    One engine runs one graph at a time (runs from several threads are serialised). Keep an engine for the
    life of a session (the GUI, the server worker) so that the cache pays off.
    """

    def __init__(self, registry: NodeRegistry, *, cache_bytes: int = 2 << 30, disk_cache: Any = None):
        self.registry = registry
        self.cache_bytes = cache_bytes
        self.disk_cache = disk_cache
        #: how many validation passes this engine ran (each :meth:`plan` runs one)
        self.validations = 0
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
        self.validations += 1
        return validate_graph(graph, self.registry, settings, only=only)

    def plan(
        self,
        graph: Graph,
        settings: Settings | None = None,
        targets: Iterable[str] | None = None,
        *,
        overrides: dict[str, dict[str, Any]] | None = None,
        scope: str = "needed",
    ) -> Plan:
        """Validates, orders and reports a run, once: what :meth:`run` then executes.

        Args:
            graph: the graph (a Project); settings: the project settings (default ``graph.settings``, else
                the defaults).
            targets: node ids to compute (None: see :meth:`needed_nodes`).
            overrides: ``{node_id: {param: value}}`` applied, for this run only, to a copy of the graph before
                validation.
            scope: ``"needed"`` validates the needed nodes only; ``"graph"`` validates the whole graph (the GUI
                shows every node's issues), while :attr:`Plan.errors` still counts only the needed nodes'.

        Returns:
            the :class:`Plan` (its ``errors`` say whether it can run).

        Raises:
            GraphError: when a target does not exist.
            ValueError: for an unknown ``scope``.
        """
        if scope not in ("needed", "graph"):
            raise ValueError(f"scope {scope!r}: expected 'needed' or 'graph'")
        if settings is None:
            settings = getattr(graph, "settings", None) or Settings()
        overrides = overrides or {}
        with self._lock:
            targets = self._targets(graph, targets)
            work = graph
            if overrides:
                work = graph.model_copy(deep=True)
                for nid, vals in overrides.items():
                    if not work.has_node(nid):
                        raise GraphError([GraphIssue(nid, "", "is overridden but no node has this id", "unknown-node")])
                    work.node(nid).params.update(vals)
            order = _order(work, targets)
            issues = self.validate(work, settings, only=None if scope == "graph" else (order or work.upstream(targets)))
            issues += _cycle_issue(work, targets, order, issues)
            backend = [n for n in order if self.registry.runs_on(work.node(n).type) == "backend"]
            return Plan(work, settings, targets, order, issues, backend, overrides)

    def _targets(self, graph: Graph, targets: Iterable[str] | None) -> list[str]:
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
        return targets

    def needed_nodes(self, graph: Graph, targets: Iterable[str] | None) -> list[str]:
        """The nodes a run of ``targets`` needs, in execution order.

        Args:
            targets: node ids to compute; None means every output node (``is_output``), or every node
                without downstream links when the graph has no output node.

        Raises:
            GraphError: when a target does not exist, or the needed nodes form a cycle.
        """
        targets = self._targets(graph, targets)
        sub = graph.upstream(targets)
        need = set(sub)
        edges = [(l.source_node, l.target_node) for l in graph.links if l.source_node in need and l.target_node in need]
        try:
            return topological_order(sub, edges)
        except ValueError as e:
            raise GraphError([GraphIssue(None, "", str(e), "cycle")]) from None

    def run(
        self,
        plan: Plan | Graph,
        settings: Settings | None = None,
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
        """Runs a :class:`Plan` (from :meth:`plan`), or plans and runs a graph in one call.

        Args:
            plan: the plan to execute, which is not validated again; or a graph, which is planned first
                (``settings``, ``targets`` and ``overrides`` then go to :meth:`plan`).
            settings: the project settings (a graph only).
            targets: node ids to compute (a graph only; see :meth:`needed_nodes`).
            project_dir: folder that relative paths resolve against.
            progress: ``progress(node_id, fraction, message)`` callback.
            cancel: a token checked between nodes and inside long nodes.
            frame_range: ``(start, stop)`` frames output nodes write (default the whole clip).
            overrides: ``{node_id: {param: value}}`` applied for this run only (``-o`` of the CLI; a graph only).
            project_json: the document, for outputs that embed it.
            services: shared objects nodes may use (e.g. the backend's pipeline cache), by name.

        Returns:
            the :class:`RunResult`.

        Raises:
            GraphError: when the plan has errors (nothing runs), or a target does not exist.
            TypeError: for ``settings``, ``targets`` or ``overrides`` given with a plan.
            vidstudio.errors.NodeError: when a node rejects its input (names the node).
            NodeExecutionError: when a node fails unexpectedly.
            vidstudio.errors.Cancelled: when cancelled.
        """
        if isinstance(plan, Plan):
            if settings is not None or targets is not None or overrides:
                raise TypeError("settings, targets and overrides belong to the plan (Engine.plan), not to run()")
        else:
            plan = self.plan(plan, settings, targets, overrides=overrides)
        settings = plan.settings
        cancel = cancel or CancelToken()
        pdir = Path(project_dir) if project_dir is not None else None
        if frame_range is not None:
            a, b = frame_range
            if not (0 <= a < b <= settings.frame_count):
                raise GraphError(
                    [
                        GraphIssue(
                            None, "frames", f"frame range {a}:{b} is outside 0:{settings.frame_count}", "bad-value"
                        )
                    ]
                )
        errors = plan.errors
        if errors:
            raise GraphError(errors)
        with self._lock:
            order = plan.order
            work = plan.graph
            values: dict[str, dict[str, Any]] = {}
            report: dict[str, NodeReport] = {}
            keys: dict[str, str] = {}
            for node_id in order:
                cancel.raise_if_cancelled()
                inst = work.node(node_id)
                cls = self.registry.get(inst.type)
                params_raw = {p.name: p.check(inst.params.get(p.name, p.default))[0] for p in cls.params}
                ctx = ExecutionContext(
                    node_id,
                    width=settings.width,
                    height=settings.height,
                    fps=settings.fps,
                    frame_count=settings.frame_count,
                    project_dir=pdir,
                    frame_range=frame_range,
                    project_json=project_json,
                    progress=progress,
                    cancel=cancel,
                    services=services,
                )
                parts = self._signature(work, inst.id, cls, params_raw, settings, ctx, keys)
                key = _digest(parts)
                keys[node_id] = key
                inputs = self._gather_inputs(work, cls, node_id, values)
                cached = None if cls.is_output else self._cache_get(key)
                source = "memory"
                if cached is None and not cls.is_output and self.disk_cache is not None:
                    cached, source = self.disk_cache.get(key), "disk"
                    if cached is not None:
                        self._cache_put(key, cached)
                if cached is not None:
                    values[node_id] = cached
                    report[node_id] = NodeReport(node_id, cls.type_id, "cached", key=key, cache=source)
                    self.history[node_id] = parts
                    if progress:
                        progress(node_id, 1.0, "cached")
                    continue
                reasons = self._reasons(node_id, cls, parts, report)
                params = self._resolve_params(work, node_id, cls, params_raw, settings, ctx)
                ctx.curves = {
                    p.name: c for p in cls.params if p.animatable and (c := work.curve(node_id, p.name)) is not None
                }
                if progress:
                    progress(node_id, 0.0, "running")
                t0 = time.perf_counter()
                try:
                    outputs = cls().execute(ctx, inputs, params)
                except Cancelled:
                    raise
                except NodeError as e:
                    raise e.at_node(node_id, cls.type_id) from None
                except VidStudioError as e:
                    raise NodeError(str(e)).at_node(node_id, cls.type_id) from e
                except Exception as e:
                    raise NodeExecutionError(node_id, cls.type_id, self.registry.source(cls.type_id), e) from e
                seconds = time.perf_counter() - t0
                outputs = dict(outputs or {})
                missing = [o.name for o in cls.outputs if o.name not in outputs]
                if missing:
                    raise NodeExecutionError(
                        node_id,
                        cls.type_id,
                        self.registry.source(cls.type_id),
                        RuntimeError(f"returned no value for output(s) {', '.join(missing)}"),
                    )
                values[node_id] = outputs
                disk = ""
                if not cls.is_output:
                    self._cache_put(key, outputs)
                    if self.disk_cache is not None:
                        disk = (
                            f"not kept on disk: {ctx.not_kept}"
                            if ctx.not_kept
                            else self.disk_cache.put(key, outputs) or ""
                        )
                report[node_id] = NodeReport(
                    node_id, cls.type_id, "ran", reasons, seconds, list(ctx.notes), key, disk=disk
                )
                self.history[node_id] = parts
                if progress:
                    progress(node_id, 1.0, "done")
            return RunResult(values, report, plan.warnings)

    # ------------------------------------------------------------------------------------------ helpers
    def _signature(
        self,
        graph: Graph,
        node_id: str,
        cls: type[Node],
        params: dict[str, Any],
        settings: Settings,
        ctx: ExecutionContext,
        keys: dict[str, str],
    ) -> dict[str, Any]:
        uses = set(cls.uses_settings)
        if any(p.animatable for p in cls.params):
            uses.add("frame_count")
        anim = {
            p.name: graph.curve(node_id, p.name)
            for p in cls.params
            if p.animatable and graph.curve(node_id, p.name) is not None
        }
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

    def _reasons(
        self, node_id: str, cls: type[Node], parts: dict[str, Any], report: dict[str, NodeReport]
    ) -> list[str]:
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
        names = sorted(
            set(old.get("params", {})) | set(parts["params"]) | set(old.get("animation", {})) | set(parts["animation"])
        )
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

    def _gather_inputs(
        self, graph: Graph, cls: type[Node], node_id: str, values: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for inp in cls.inputs:
            links = graph.links_into(node_id, inp.name)
            vals = [values[l.source_node][l.source_port] for l in links]
            inputs[inp.name] = vals if inp.multi else (vals[0] if vals else None)
        return inputs

    def _resolve_params(
        self,
        graph: Graph,
        node_id: str,
        cls: type[Node],
        params: dict[str, Any],
        settings: Settings,
        ctx: ExecutionContext,
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
