"""The headless graph engine: port types, node declarations, the registry, validation and execution.

``import vidstudio.graph`` imports neither Qt nor torch (an import-linter contract and a test hold it).
"""

from vidstudio.graph.diskcache import DiskCache
from vidstudio.graph.engine import Engine, NodeExecutionError, NodeReport, Plan, RunResult
from vidstudio.graph.model import FrameRate, Graph, Link, NodeInstance, Settings
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.registry import NodeRegistry, RegistryError
from vidstudio.graph.types import PortType, can_connect
from vidstudio.graph.validate import ISSUE_SEVERITY, GraphIssue, validate_graph

__all__ = [
    "Engine",
    "NodeExecutionError",
    "NodeReport",
    "RunResult",
    "FrameRate",
    "Graph",
    "Link",
    "NodeInstance",
    "Settings",
    "ExecutionContext",
    "Input",
    "Node",
    "Output",
    "Param",
    "NodeRegistry",
    "RegistryError",
    "PortType",
    "can_connect",
    "GraphIssue",
    "validate_graph",
    "Plan",
    "DiskCache",
    "ISSUE_SEVERITY",
]
