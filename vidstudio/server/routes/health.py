"""The service and its catalogue: ``GET /v1/health`` (server, worker, queue), ``GET /v1/nodes`` (the node types
the worker runs) and ``GET /v1/models`` (the models this server can load)."""

from __future__ import annotations

import asyncio
import os
import sys

from fastapi import APIRouter, Depends

from vidstudio import __version__
from vidstudio.nodes.catalogue import static_catalogue
from vidstudio.protocol.constants import HEALTH, MODELS, NODES
from vidstudio.protocol.models import Health, ModelInfo, ModelList, NodesDocument, ServerInfo
from vidstudio.server.deps import Catalog, Config, Manager, Registry, require_token

#: Modules the server process must never load (they belong to the worker or the GUI); ``/v1/health`` reports
#: any that are loaded.
HEAVY_MODULES = ("torch", "diffusers", "transformers", "accelerate", "PySide6")

router = APIRouter(tags=["service"], dependencies=[Depends(require_token)])


@router.get(HEALTH, response_model=Health, summary="Server, worker and queue state")
async def health(config: Config, manager: Manager, catalog: Catalog) -> Health:
    queued, running = manager.counts()
    return Health(
        auth=bool(config.token),
        server=ServerInfo(
            pid=os.getpid(), version=__version__, heavy_modules=sorted(m for m in HEAVY_MODULES if m in sys.modules)
        ),
        worker=manager.worker,
        queued=queued,
        running=running,
        pool=manager.pool_info(),
        default_model=await asyncio.to_thread(catalog.default_id),
    )


@router.get(NODES, response_model=NodesDocument, summary="The node types the worker runs (plugins included)")
async def nodes(manager: Manager, registry: Registry) -> NodesDocument:
    # what the worker described once it had loaded its plugins; until then the server's own static catalogue
    if manager.nodes_doc is not None:
        return NodesDocument(
            nodes=manager.nodes_doc.get("nodes", []),
            capabilities=manager.nodes_doc.get("capabilities", {}),
            source="worker",
        )
    doc = static_catalogue(registry)
    return NodesDocument(nodes=doc["nodes"], capabilities=doc["capabilities"], source="server")


@router.get(MODELS, response_model=ModelList, summary="The models this server can load: pipelines and model files")
async def models(catalog: Catalog) -> ModelList:
    entries = await asyncio.to_thread(catalog.entries)
    default = await asyncio.to_thread(catalog.default_id)
    return ModelList(
        data=[
            ModelInfo(
                id=e.id,
                family=e.family,
                variant=e.variant,
                class_name=e.class_name,
                source=e.source,
                default=e.id == default,
                rules={k: v for k, v in e.rule.describe().items() if k != "source"} if e.rule is not None else {},
                kind=e.kind,
                component=e.component,
                format=e.format,
                size_bytes=e.size,
                dtype=e.dtype or None,
                error=e.error or None,
            )
            for e in entries
        ],
        default=default,
    )
