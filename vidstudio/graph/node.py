"""The node base class and the declarations a node type is made of: inputs, outputs and parameters.

A node type is a subclass of :class:`Node` that declares its ports and parameters as data and implements
:meth:`Node.execute`::

    class Invert(Node):
        type_id = "Invert"
        title = "Invert"
        category = "Color"
        inputs = (Input("video", PortType.VIDEO),)
        outputs = (Output("video", PortType.VIDEO),)
        params = (Param("amount", "float", 1.0, min=0.0, max=1.0, animatable=True),)

        def execute(self, ctx, inputs, params):
            amount = params["amount"]          # (frame_count,) float64: animatable
            return {"video": inputs["video"].map(lambda f, i: f + amount[i] * (1 - 2 * f))}

Parameters are named (never positional), so adding one to a node type does not shift the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from vidstudio.graph.types import PortType
from vidstudio.progress import CancelToken

ParamKind = Literal["float", "int", "bool", "string", "text", "choice", "file", "color", "json"]
PARAM_KINDS: tuple[str, ...] = ("float", "int", "bool", "string", "text", "choice", "file", "color", "json")
FileRole = Literal["image", "video", "audio", "model", "save_video", "save_folder", "any"]
#: Where a node type runs: ``"anywhere"`` (any process: the GUI's preview, the command line, the server), or
#: ``"backend"`` (only where the generation backend, torch and diffusers, is: the server's worker or a local
#: ``vidstudio render``; the GUI sends such nodes to the generation server instead of running them).
RunsOn = Literal["anywhere", "backend"]
RUNS_ON: tuple[str, ...] = ("anywhere", "backend")


@dataclass(frozen=True)
class Param:
    """A parameter declaration.

    Attributes:
        name: identifier used in the project file (``params`` of a node, ``node.name`` in ``animation``).
        kind: ``float``, ``int``, ``bool``, ``string`` (one line), ``text`` (multi-line, e.g. a prompt),
            ``choice`` (one of ``choices``), ``file`` (a path, relative to the project file), ``color``
            (``[r, g, b]`` or ``[r, g, b, a]`` floats in [0, 1]) or ``json`` (structured data, validated by
            ``validator``).
        default: the value when the project does not set one.
        min, max: inclusive bounds for numbers (``None``: unbounded).
        step: a suggested increment for editors.
        choices: the allowed values of a ``choice``.
        animatable: whether the value may be keyed; the node then receives a ``(frame_count,)`` float64
            array (one value per frame), keyed or constant.
        help: one or two sentences for the inspector and ``vidstudio nodes``.
        unit: the unit shown next to the value (``"px"``, ``"frames"``, ``"deg"``, ``"px/s^2"``).
        label: the name shown in editors (default: ``name`` with spaces).
        file_role: for ``file``: what the path points at, which chooses the file dialog. A ``string`` with
            ``file_role="model"`` is a model path or a Hugging Face repo id: the GUI adds a file picker that
            starts in the user's model folders, and it stays a string (never resolved as a file path).
        validator: for ``json``: ``validator(value) -> value`` raising ``ValueError`` with a message.
    """

    name: str
    kind: ParamKind
    default: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    animatable: bool = False
    help: str = ""
    unit: str = ""
    label: str | None = None
    file_role: FileRole = "any"
    validator: Callable[[Any], Any] | None = field(default=None, compare=False)

    @property
    def display_name(self) -> str:
        """The label shown in editors."""
        return self.label or self.name.replace("_", " ")

    def check(self, value: Any) -> tuple[Any, str | None]:
        """Checks and normalises a value for this parameter.

        Returns:
            ``(value, None)`` with the normalised value (ints for ``int``, floats for ``float``...), or
            ``(value, message)`` naming what is wrong (the message does not repeat the parameter name).
        """
        k = self.kind
        if k in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return value, f"expects a number, got {_short(value)}"
            if not math.isfinite(value):
                return value, f"expects a finite number, got {value}"
            if k == "int":
                if float(value) != int(value):
                    return value, f"expects a whole number, got {value}"
                value = int(value)
            else:
                value = float(value)
            msg = self.range_message(value)
            return value, msg
        if k == "bool":
            if not isinstance(value, bool):
                return value, f"expects true or false, got {_short(value)}"
            return value, None
        if k in ("string", "text", "file"):
            if not isinstance(value, str):
                return value, f"expects text, got {_short(value)}"
            return value, None
        if k == "choice":
            if value not in self.choices:
                return value, f"{_short(value)} is not one of {', '.join(map(str, self.choices))}"
            return value, None
        if k == "color":
            if (
                not isinstance(value, (list, tuple))
                or len(value) not in (3, 4)
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in value)
            ):
                return value, f"expects a colour [r, g, b] or [r, g, b, a] in 0..1, got {_short(value)}"
            if any(not (0.0 <= float(c) <= 1.0) for c in value):
                return value, f"colour components must be in 0..1, got {list(value)}"
            return [float(c) for c in value], None
        if k == "json":
            if self.validator is None:
                return value, None
            try:
                return self.validator(value), None
            except ValueError as e:  # pydantic.ValidationError is a ValueError
                return value, _validator_message(e)
        return value, f"unknown parameter kind {k!r}"

    def range_message(self, value: float) -> str | None:
        """Says how ``value`` breaks ``min``/``max``, or None when it is inside."""
        if self.min is not None and value < self.min:
            return f"{value:g} is below the minimum {self.min:g}"
        if self.max is not None and value > self.max:
            return f"{value:g} is above the maximum {self.max:g}"
        return None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (for ``vidstudio nodes --json`` and editors)."""
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": self.default, "label": self.display_name}
        for key in ("min", "max", "step", "unit", "help"):
            v = getattr(self, key)
            if v not in (None, ""):
                d[key] = v
        if self.choices:
            d["choices"] = list(self.choices)
        if self.animatable:
            d["animatable"] = True
        if self.kind == "file":
            d["file_role"] = self.file_role
        return d


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _validator_message(e: ValueError) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        parts = []
        for err in errors()[:5]:
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.get("loc", ()))
            parts.append(f"{loc.lstrip('.') or 'value'}: {err.get('msg', '')}")
        return "; ".join(parts)
    return str(e)


@dataclass(frozen=True)
class Input:
    """An input port.

    Attributes:
        name: port name, unique among the node's inputs.
        type: a :class:`PortType` (or a plugin's ``"name.TYPE"``).
        optional: whether the node can run with nothing linked (it then receives ``None``, or ``[]`` if
            ``multi``).
        multi: whether several links may feed it; the node receives a list in link order.
        help: what the node does with it.
    """

    name: str
    type: str
    optional: bool = False
    multi: bool = False
    help: str = ""

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "name": self.name,
            "type": str(self.type),
            "optional": self.optional,
            "multi": self.multi,
            "help": self.help,
        }


@dataclass(frozen=True)
class Output:
    """An output port: ``name``, ``type``, ``help``."""

    name: str
    type: str
    help: str = ""

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"name": self.name, "type": str(self.type), "help": self.help}


class ExecutionContext:
    """What a running node may know and do besides its inputs and parameters.

    Attributes:
        node_id: the id of the node being executed.
        width, height: output frame size in pixels; fps: ``Fraction``; frame_count: frames in the clip.
        project_dir: the folder of the project file (relative paths resolve against it), or None.
        frame_range: ``(start, stop)`` frames an output node should write (default the whole clip).
        project_json: the project document as JSON, for outputs that embed it, or None.
        overrides: per-run parameter overrides for this node (already applied to ``params``).
        notes: messages the node leaves for the user (what it changed, warnings); shown in the run report.
        curves: ``{param: FCurve}`` for the node's keyed animatable parameters (the curves behind the
            per-frame arrays in ``params``), for nodes that pass a curve on (e.g. a CURVE output).
        not_kept: why this run's outputs must not outlive the process (set by :meth:`keep_off_disk`), or None.
    """

    def __init__(
        self,
        node_id: str,
        *,
        width: int,
        height: int,
        fps: Fraction,
        frame_count: int,
        project_dir: Path | None = None,
        frame_range: tuple[int, int] | None = None,
        project_json: str | None = None,
        progress: Callable[[str, float | None, str], None] | None = None,
        cancel: CancelToken | None = None,
        services: dict[str, Any] | None = None,
    ):
        self.node_id = node_id
        self.width = width
        self.height = height
        self.fps = fps
        self.frame_count = frame_count
        self.project_dir = project_dir
        self.frame_range = frame_range or (0, frame_count)
        self.project_json = project_json
        self._progress = progress
        self.cancel = cancel or CancelToken()
        self.notes: list[str] = []
        self.services: dict[str, Any] = services or {}
        self.curves: dict[str, Any] = {}
        self.not_kept: str | None = None

    def report(self, fraction: float | None, message: str = "") -> None:
        """Reports progress inside the node: ``fraction`` in [0, 1] (None: unknown) and a short message."""
        if self._progress is not None:
            self._progress(self.node_id, None if fraction is None else min(max(fraction, 0.0), 1.0), message)

    def check_cancelled(self) -> None:
        """Raises :class:`vidstudio.errors.Cancelled` when the run was cancelled; call it inside long loops."""
        self.cancel.raise_if_cancelled()

    def note(self, message: str) -> None:
        """Leaves a message for the user in the run report (e.g. "padded 767x511 to 768x512")."""
        self.notes.append(message)

    def keep_off_disk(self, reason: str) -> None:
        """Says that this run's outputs depend on more than the inputs (e.g. a seed chosen at random), so the
        disk cache must not keep them for later processes; ``reason`` is shown by ``--explain``."""
        self.not_kept = reason

    def resolve_path(self, path: str) -> Path:
        """Resolves a path from a parameter: ``~`` expanded, relative paths against the project folder."""
        p = Path(path).expanduser()
        if not p.is_absolute() and self.project_dir is not None:
            p = self.project_dir / p
        return p

    @property
    def frames(self) -> np.ndarray:
        """``(frame_count,)`` float64 frame numbers ``0 .. frame_count - 1``."""
        return np.arange(self.frame_count, dtype=np.float64)

    @property
    def seconds(self) -> np.ndarray:
        """``(frame_count,)`` float64 times of the frames in seconds."""
        return self.frames * float(1 / self.fps)


class Node:
    """Base class of every node type.

    Class attributes to set:
        type_id: the registry id (built-ins ``"LoadImage"``; plugins ``"plugin_name.NodeName"``).
        version: bump when the node's output for the same inputs changes; it is part of the cache key.
        title, category, description: for the palette and ``vidstudio nodes``.
        inputs, outputs, params: the declarations.
        is_output: True for nodes with an effect outside the graph (writing a file). Output nodes always
            run, and a render without named targets runs every output node.
        runs_on: where the type may run (:data:`RunsOn`): ``"anywhere"`` (default), or ``"backend"`` for a node
            that needs the generation backend (a diffusion model): the GUI never runs it itself but sends it
            to the generation server, and a plan (:meth:`vidstudio.graph.engine.Engine.plan`) lists it.
        uses_settings: which project settings (``width``, ``height``, ``fps``, ``frame_count``) the output
            depends on; they are part of the cache key. Nodes with animatable parameters depend on
            ``frame_count`` in any case.

    Instances are created per execution and hold no state between runs.
    """

    type_id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    title: ClassVar[str] = ""
    category: ClassVar[str] = "Misc"
    description: ClassVar[str] = ""
    inputs: ClassVar[tuple[Input, ...]] = ()
    outputs: ClassVar[tuple[Output, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    is_output: ClassVar[bool] = False
    runs_on: ClassVar[RunsOn] = "anywhere"
    uses_settings: ClassVar[tuple[str, ...]] = ("width", "height", "fps", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """Does the node's work.

        Args:
            ctx: the execution context (settings, progress, cancellation, path resolution).
            inputs: values by input name (``None`` / ``[]`` for unlinked optional inputs).
            params: values by parameter name; animatable ones as ``(frame_count,)`` float64 arrays, ``file``
                ones resolved to absolute path strings (empty stays empty).

        Returns:
            values by output name, one for every declared output.

        Raises:
            vidstudio.errors.NodeError: for a problem with its input the user can fix (a file that will not
                decode): the engine names the node. Any other exception is reported as an internal error
                of the node.
        """
        raise NotImplementedError

    @classmethod
    def unused_params(cls, params: dict[str, Any], project_dir: Path | None = None) -> dict[str, str]:
        """The parameters the node ignores under its other values, each with why (an editor greys them out
        with the reason), e.g. Interpolate's ``factor`` in mode ``fps``. Cheap and never raising: called as the
        user edits (it may read small files, never load a model).

        Args:
            params: every parameter's value (defaults filled in); project_dir: where relative paths start.

        Returns:
            ``{param_name: reason in words}``; empty (the default) when every parameter is used.
        """
        return {}

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        """Node-specific validation beyond each parameter's own checks.

        Args:
            params: the normalised, non-animated parameter values.
            settings: the project :class:`~vidstudio.graph.model.Settings`.

        Returns:
            ``(where, message)`` pairs, ``where`` like ``"param 'path'"`` (code ``node-check``, an error), or
            ``(where, message, code)`` with a code of :data:`vidstudio.graph.validate.ISSUE_SEVERITY` (e.g.
            ``"model-not-local"``), whose severity is the code's; empty when valid.
        """
        return []

    @classmethod
    def check_in_graph(cls, node_id: str, graph: Any, registry: Any, settings: Any) -> list[tuple[str, str]]:
        """Validation that needs the rest of the graph, e.g. the parameters of the nodes that feed this one
        (a Generate node checks what its Conditioning asks of its Load Model's family). Runs after
        :meth:`check`, only when this node's own parameters are valid.

        Args:
            node_id: this node's id; graph: the whole graph (a Project when validating a project, with
                ``project_dir``); registry: the node types; settings: the project settings.

        Returns:
            ``(where, message)`` pairs like :meth:`check` (errors), ``(where, message, code)`` (the code decides
            the severity), or ``(where, message, "warning")`` for what does not stop a run (code
            ``node-warning``); empty when valid.
        """
        return []

    @classmethod
    def fingerprint(cls, params: dict[str, Any], ctx: ExecutionContext) -> str | None:
        """Describes state outside the graph that the output depends on (e.g. a file's size and modification
        time), so that the cache notices when it changes. Default: the size and mtime of every ``file``
        parameter that exists."""
        parts = []
        for p in cls.params:
            if p.kind == "file" and p.file_role not in ("save_video", "save_folder") and params.get(p.name):
                path = ctx.resolve_path(params[p.name])
                try:
                    st = path.stat()
                    parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
                except OSError:
                    parts.append(f"{p.name}:missing")
        return ";".join(parts) or None

    # ------------------------------------------------------------------------------------------- lookup
    @classmethod
    def input(cls, name: str) -> Input | None:
        """The input declaration called ``name``, or None."""
        return next((i for i in cls.inputs if i.name == name), None)

    @classmethod
    def output(cls, name: str) -> Output | None:
        """The output declaration called ``name``, or None."""
        return next((o for o in cls.outputs if o.name == name), None)

    @classmethod
    def param(cls, name: str) -> Param | None:
        """The parameter declaration called ``name``, or None."""
        return next((p for p in cls.params if p.name == name), None)

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        """``{name: default}`` for every parameter."""
        return {p.name: p.default for p in cls.params}

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """A JSON-ready description of the node type."""
        return {
            "type": cls.type_id,
            "version": cls.version,
            "title": cls.title or cls.type_id,
            "category": cls.category,
            "description": cls.description,
            "is_output": cls.is_output,
            "runs_on": cls.runs_on,
            "inputs": [i.describe() for i in cls.inputs],
            "outputs": [o.describe() for o in cls.outputs],
            "params": [p.describe() for p in cls.params],
        }


def check_declaration(cls: type[Node]) -> list[str]:
    """Checks a node class's declarations (used by the registry).

    Returns:
        messages naming each problem (empty when the class is well formed): a bad type id, duplicate port
        or parameter names, a default of the wrong kind or out of range, an animatable non-number.
    """
    import re

    problems = []
    if not re.fullmatch(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$", cls.type_id or ""):
        problems.append(f"type_id {cls.type_id!r} must be a Name or plugin_name.Name")
    if cls.runs_on not in RUNS_ON:
        problems.append(f"runs_on {cls.runs_on!r} must be one of {', '.join(RUNS_ON)}")
    for group, items in (("input", cls.inputs), ("output", cls.outputs), ("parameter", cls.params)):
        names = [i.name for i in items]
        for n in names:
            if not re.fullmatch(r"^[A-Za-z_][A-Za-z0-9_]*$", n):
                problems.append(f"{group} name {n!r} is not an identifier")
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            problems.append(f"duplicate {group} names: {', '.join(sorted(dup))}")
    for p in cls.params:
        if p.kind not in PARAM_KINDS:
            problems.append(f"parameter {p.name!r} has unknown kind {p.kind!r}")
            continue
        if p.animatable and p.kind not in ("float", "int"):
            problems.append(f"parameter {p.name!r} is animatable but not a number")
        if p.kind == "choice" and not p.choices:
            problems.append(f"choice parameter {p.name!r} declares no choices")
        _, msg = p.check(p.default)
        if msg:
            problems.append(f"default of parameter {p.name!r}: {msg}")
    return problems


__all__ = [
    "Node",
    "Input",
    "Output",
    "Param",
    "ParamKind",
    "ExecutionContext",
    "PortType",
    "check_declaration",
    "RunsOn",
    "RUNS_ON",
]
