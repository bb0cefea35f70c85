"""The catalogue of node types: the JSON document that says which node types a registry holds (ports,
parameters, source plugin, availability) and which controls each model family honours.

* :func:`catalogue`: every type described in full (``vidstudio nodes --json``, and what the worker process
  serves as ``GET /v1/nodes`` once it has loaded its plugins); imports the plugins' code.
* :func:`static_catalogue`: built-in types in full, plugin types from their manifests only (what the server
  answers while its worker starts); never imports plugin code.

Both documents are ``{"nodes": [...], "capabilities": {...}}`` (:class:`vidstudio.protocol.NodesDocument`'s
fields). Imports neither torch nor Qt: the capability table (:mod:`vidstudio.families`) is data.
"""

from __future__ import annotations

from typing import Any

from vidstudio.graph.registry import NodeRegistry


def catalogue(registry: NodeRegistry) -> dict[str, Any]:
    """Every type of ``registry`` described (sorted by id), plus the generation backend's capability table.

    Returns:
        ``{"nodes": [description, ...], "capabilities": {...}}``: a description per type as
        :meth:`vidstudio.graph.registry.NodeRegistry.describe` gives it (an unavailable type: what is known and
        the reason); ``capabilities`` is :func:`vidstudio.families.describe` (families, their
        controls, variants and frame/size rules).
    """
    from vidstudio.families import describe

    return {"nodes": registry.describe_all(), "capabilities": describe()}


def static_catalogue(registry: NodeRegistry) -> dict[str, Any]:
    """Like :func:`catalogue` without importing any plugin: built-in types are described in full, plugin types
    by their palette facts (:meth:`~vidstudio.graph.registry.NodeRegistry.summary`, from the manifest).

    Returns:
        ``{"nodes": [...], "capabilities": {...}}``, nodes sorted by id.
    """
    from vidstudio.families import describe

    docs = [registry.describe(t) if registry.source(t) == "builtin" else registry.summary(t) for t in registry]
    return {"nodes": docs, "capabilities": describe()}
