"""Built-in node types: thin definitions that wire ports to :mod:`vidstudio.motion`, :mod:`vidstudio.media`
and the generation backend.

:func:`default_registry` is the registry the command line, the GUI and the server use.
"""

from __future__ import annotations

from vidstudio.graph.node import Node
from vidstudio.graph.registry import NodeRegistry
from vidstudio.nodes.camera import CameraMove
from vidstudio.nodes.export import ExportVideo
from vidstudio.nodes.image import LoadImage
from vidstudio.nodes.generate import Conditioning, Generate, LoadModel

#: Every built-in node class, in palette order.
BUILTIN_NODES: list[type[Node]] = [LoadImage, CameraMove, ExportVideo]
BUILTIN_NODES += [LoadModel, Conditioning, Generate]


def builtin_registry() -> NodeRegistry:
    """A registry holding only the built-in node types."""
    reg = NodeRegistry()
    for cls in BUILTIN_NODES:
        reg.register(cls)
    return reg


def default_registry() -> NodeRegistry:
    """The built-in node types (plugins are added here once plugin discovery exists)."""
    return builtin_registry()
