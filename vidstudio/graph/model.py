"""The graph as data: settings, node instances, links and animation curves (pydantic models).

This is the part of a project document the engine reads. :class:`vidstudio.project.Project` extends
:class:`Graph` with the file format's version and assets. Every model keeps keys it does not know
(``extra="allow"``), so a document written by a newer tool or a plugin survives a load/save round trip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)

from vidstudio.ids import unique_id
from vidstudio.motion.curves import FCurve

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
_ID_RE = re.compile(ID_PATTERN)
MAX_SIDE = 8192
MAX_FRAMES = 100_000


def _parse_fraction(v: Any) -> Fraction:
    if isinstance(v, bool):
        raise ValueError("fps must be a number or a ratio string like '30000/1001'")
    try:
        if isinstance(v, Fraction):
            f = v
        elif isinstance(v, int):
            f = Fraction(v)
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise ValueError
            f = Fraction(v).limit_denominator(1001)
        elif isinstance(v, str):
            f = Fraction(v.strip())
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"fps must be a number or a ratio string like '30000/1001', not {v!r}") from None
    if not (0 < f <= 1000):
        raise ValueError(f"fps must be in (0, 1000], not {v!r}")
    return f


def _format_fraction(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


#: A frame rate: read from ``24``, ``23.976`` or ``"30000/1001"``; written as ``"24"`` or ``"30000/1001"``.
FrameRate = Annotated[
    Fraction,
    PlainValidator(_parse_fraction),
    PlainSerializer(_format_fraction, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(/\d+)?$", "examples": ["24", "30000/1001"]}),
]


class Settings(BaseModel):
    """Project settings that the engine evaluates the graph with.

    Attributes:
        width, height: output frame size in pixels (16..8192).
        fps: frame rate as an exact rational.
        frame_count: number of frames of the clip (1..100000); frames are numbered ``0 .. frame_count - 1``.
    """

    model_config = ConfigDict(extra="allow")

    width: int = Field(768, ge=16, le=MAX_SIDE)
    height: int = Field(512, ge=16, le=MAX_SIDE)
    fps: FrameRate = Fraction(24)
    frame_count: int = Field(48, ge=1, le=MAX_FRAMES)

    @property
    def duration(self) -> float:
        """Length of the clip in seconds."""
        return float(self.frame_count / self.fps)

    def frame_to_seconds(self, frame: float) -> float:
        """Converts a frame number to seconds at this fps."""
        return float(frame / self.fps) if isinstance(frame, int) else frame * float(1 / self.fps)


class NodeInstance(BaseModel):
    """One node in the graph.

    Attributes:
        id: stable id, unique in the graph: a letter or underscore, then letters, digits, ``_`` or ``-``.
        type: node type id in the registry (``"LoadImage"``, ``"plugin_name.NodeName"``).
        params: parameter values by name (missing ones take the declared default).
        position: ``(x, y)`` of the node in the node editor, in scene units.
        title: a label shown instead of the type's title (empty: the type's title).
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=ID_PATTERN, max_length=128)
    type: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    title: str = ""


def _split_ref(ref: str, what: str) -> tuple[str, str]:
    parts = ref.split(".")
    if len(parts) != 2 or not _ID_RE.fullmatch(parts[0]) or not _ID_RE.fullmatch(parts[1]):
        raise ValueError(f"{what} must look like 'node_id.port', not {ref!r}")
    return parts[0], parts[1]


class Link(BaseModel):
    """A link from an output port to an input port, written ``{"from": "node.port", "to": "node.port"}``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")

    @field_validator("source", "target")
    @classmethod
    def _ref(cls, v: str, info) -> str:
        _split_ref(v, "'from'" if info.field_name == "source" else "'to'")
        return v

    @property
    def source_node(self) -> str:
        """The id of the node the link comes from."""
        return self.source.split(".")[0]

    @property
    def source_port(self) -> str:
        """The output port it comes from."""
        return self.source.split(".")[1]

    @property
    def target_node(self) -> str:
        """The id of the node the link goes to."""
        return self.target.split(".")[0]

    @property
    def target_port(self) -> str:
        """The input port it goes to."""
        return self.target.split(".")[1]

    @classmethod
    def make(cls, source_node: str, source_port: str, target_node: str, target_port: str) -> Link:
        """Builds a link from its four parts."""
        return cls(**{"from": f"{source_node}.{source_port}", "to": f"{target_node}.{target_port}"})


class Graph(BaseModel):
    """Nodes, links, and keyframed curves bound to ``"node_id.param"``.

    Raises:
        pydantic.ValidationError: for two nodes with the same id or an animation key not of the form
            ``node_id.param``.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    nodes: list[NodeInstance] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    animation: dict[str, FCurve] = Field(default_factory=dict)

    @field_validator("animation")
    @classmethod
    def _animation_keys(cls, v: dict[str, FCurve]) -> dict[str, FCurve]:
        for key in v:
            _split_ref(key, "an animation key")
        return v

    @field_validator("nodes")
    @classmethod
    def _unique_ids(cls, nodes: list[NodeInstance]) -> list[NodeInstance]:
        seen: dict[str, int] = {}
        for i, n in enumerate(nodes):
            if n.id in seen:
                raise ValueError(f"[{i}].id {n.id!r} repeats [{seen[n.id]}].id; node ids must be unique")
            seen[n.id] = i
        return nodes

    # ------------------------------------------------------------------------------------------- queries
    def node(self, node_id: str) -> NodeInstance:
        """Returns the node with ``node_id``.

        Raises:
            KeyError: naming the id when there is none.
        """
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(f"no node with id {node_id!r}")

    def has_node(self, node_id: str) -> bool:
        """True when a node has ``node_id``."""
        return any(n.id == node_id for n in self.nodes)

    def links_into(self, node_id: str, port: str | None = None) -> list[Link]:
        """Links whose target is ``node_id`` (and ``port``), in document order."""
        return [l for l in self.links if l.target_node == node_id and (port is None or l.target_port == port)]

    def links_from(self, node_id: str, port: str | None = None) -> list[Link]:
        """Links whose source is ``node_id`` (and ``port``), in document order."""
        return [l for l in self.links if l.source_node == node_id and (port is None or l.source_port == port)]

    def curve(self, node_id: str, param: str) -> FCurve | None:
        """The animation curve bound to ``node_id.param``, or None."""
        return self.animation.get(f"{node_id}.{param}")

    def upstream(self, node_ids: Iterable[str]) -> list[str]:
        """``node_ids`` and every node they depend on through links, in document order (ids that no node has
        are left out; a cycle does not loop)."""
        preds: dict[str, set[str]] = {}
        for l in self.links:
            preds.setdefault(l.target_node, set()).add(l.source_node)
        need: set[str] = set()
        stack = list(node_ids)
        while stack:
            n = stack.pop()
            if n not in need:
                need.add(n)
                stack.extend(preds.get(n, ()))
        return [n.id for n in self.nodes if n.id in need]

    def iter_ids(self) -> Iterator[str]:
        """The node ids in document order."""
        for n in self.nodes:
            yield n.id

    # ------------------------------------------------------------------------------------------- editing
    def new_node_id(self, base: str) -> str:
        """Returns an unused id derived from ``base`` (``"cam"``, ``"cam_2"``, ...)."""
        return unique_id(base, self.iter_ids())

    def remove_node(self, node_id: str) -> None:
        """Removes a node with its links and animation curves.

        Raises:
            KeyError: when there is no such node.
        """
        self.node(node_id)
        self.nodes = [n for n in self.nodes if n.id != node_id]
        self.links = [l for l in self.links if l.source_node != node_id and l.target_node != node_id]
        self.animation = {k: v for k, v in self.animation.items() if k.split(".")[0] != node_id}
