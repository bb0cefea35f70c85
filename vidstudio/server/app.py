"""The FastAPI application of ``vidstudio serve``: the HTTP + WebSocket API over the job queue.

:func:`create_app` builds it from a :class:`ServerConfig`: it puts the server's parts on ``app.state`` (the job
store, the queue and its worker, the model catalogue, the node registry), installs the error handlers
(:mod:`vidstudio.server.errors`), includes the routers of :mod:`vidstudio.server.routes` (which reach those
parts through :mod:`vidstudio.server.deps`) and wraps everything in the token and body-size middleware
(:mod:`vidstudio.server.security`). Its lifespan opens the job store, recovers the queue and starts the GPU
worker, and stops them again. The routes are listed in :data:`DESCRIPTION` (also the OpenAPI document's
description). This process never imports torch: nodes run in the worker process (:mod:`vidstudio.jobs.worker`),
and plugin code is never imported here.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from vidstudio import __version__
from vidstudio.budget import Limits
from vidstudio.jobs.executor import make_manager
from vidstudio.jobs.store import JobStore
from vidstudio.protocol.constants import (
    ASSETS,
    DEFAULT_HOST,
    DEFAULT_PORT,
    EVENTS,
    GENERATIONS,
    MAX_JSON_BYTES,
    MAX_UPLOAD_BYTES,
)
from vidstudio.protocol.models import EventAdapter, ProjectGeneration, SimpleGeneration
from vidstudio.server import guards
from vidstudio.server.errors import ApiError, install_handlers
from vidstudio.server.models import ModelCatalog
from vidstudio.server.routes import ROUTERS
from vidstudio.server.routes.assets import decode_upload, extract_frame, store_upload
from vidstudio.server.routes.health import HEAVY_MODULES
from vidstudio.server.security import BodyLimit, TokenAuth

__all__ = [
    "DESCRIPTION",
    "HEAVY_MODULES",
    "ApiError",
    "ServerConfig",
    "create_app",
    "decode_upload",
    "extract_frame",
    "store_upload",
]

DESCRIPTION = """
The VidStudio generation server: an asynchronous job API for rendering projects and generating video.

* `POST /v1/videos/generations` with a project (`{"project": {...}, "output_node": "export"}`) or a simple
  request (`{"prompt": "...", "duration_seconds": 2, "aspect_ratio": "16:9"}`; as `multipart/form-data` the
  image can be sent in the `image` part) answers **202** with the job (`id`, `status`, `eta`, `adjustments`).
* `GET /v1/videos/generations/{id}`: `status` (queued, running, succeeded, failed, cancelled), `progress`
  (node, step, total, seconds per step), `eta`, `error`, `output` (URLs). `DELETE` cancels.
* `GET .../{id}/output.mp4`, `.../{id}/frames/{n}.png`, `.../{id}/preview.jpg`: the results.
* `POST /v1/assets`: upload an image, a video or a sound (decoded before it is accepted) and use its id in requests.
* `GET /v1/health`, `/v1/nodes`, `/v1/models` (pipelines and model files, each with its `kind`).
* `GET /v1/plugins`: each plugin's status; one that crashed the worker is disabled on this server (jobs using its
  nodes are refused, naming it) until `POST /v1/plugins/{name}/enable`.
* `POST /v1/models/downloads`: download a model into the server's Hugging Face cache (`GET`, `DELETE` `.../{id}`).
* **WebSocket `/v1/events`** (`?job=ID` to follow one job, `?previews=false` without preview images,
  `?token=TOKEN` when headers cannot be set): JSON messages, schema `Event` in `components/schemas`:
  `hello` (active jobs, worker), `job` (a job record changed), `progress`, `preview` (base64 JPEG), `worker`,
  `download` (a model download's record).

With a token every request needs `Authorization: Bearer TOKEN`. Errors are `{"error": {"type", "message",
"field", "details"}}` and name the field. Ids are made by the server; paths in requests never reach its files.
"""


#: The file in the data folder that records the plugins this server disabled after they crashed its worker
#: (:func:`vidstudio.plugins.manager.read_crash_disabled`).
PLUGIN_STATE_FILE = "plugins.json"


@dataclass
class ServerConfig:
    """How a server runs.

    Attributes:
        data_dir: the job database, job folders, uploads and the ``models`` folder.
        host, port: where it listens (loopback by default; another address needs ``token``).
        token: the bearer token every request must carry (None: no authentication, loopback only).
        default_model: model id, pipeline folder or repo id used when a request names none.
        models_dirs: more models folders of local pipelines and model files (besides ``data_dir/models``).
        scan_hf_cache: also offer the diffusers pipelines in the Hugging Face cache.
        max_upload_bytes: largest upload (image) request; max_json_bytes: largest JSON request body.
        cancel_grace: seconds a cancelled running job may take to stop before its worker is killed.
        worker_env: extra environment variables for the worker process.
        limits: the generation budget (``--max-pixels``, ``--max-frames``, ``--max-steps``) every job is checked
            against before it is queued, with the worker's device memory (:mod:`vidstudio.budget`).
        ray: run the jobs on a pool of Ray actors (:class:`vidstudio.jobs.ray_pool.RayOptions`) instead of the
            local worker process; None (the default): the local worker, and Ray is never imported.
    """

    data_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    default_model: str | None = None
    models_dirs: list[Path] = field(default_factory=list)
    scan_hf_cache: bool = True
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_json_bytes: int = MAX_JSON_BYTES
    cancel_grace: float = 30.0
    worker_env: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    ray: Any = None


def _openapi_components() -> dict[str, Any]:
    _, top = models_json_schema(
        [(ProjectGeneration, "validation"), (SimpleGeneration, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    defs = dict(top.get("$defs", {}))
    ev = EventAdapter.json_schema(ref_template="#/components/schemas/{model}")
    defs.update(ev.pop("$defs", {}))
    defs["Event"] = ev
    form = json.loads(json.dumps(defs["SimpleGeneration"]))
    form["title"] = "SimpleGenerationForm"
    form["properties"]["image"] = {
        "type": "string",
        "format": "binary",
        "description": "An image to animate from frame 0 (instead of image_asset_id).",
    }
    defs["SimpleGenerationForm"] = form
    return defs


def create_app(config: ServerConfig) -> FastAPI:
    """Builds the application for ``config`` (the store opens and the worker starts with its lifespan).

    Returns:
        the FastAPI app, with ``app.state.config``, ``app.state.manager``, ``app.state.store``,
        ``app.state.catalog``, ``app.state.registry`` (what :mod:`vidstudio.server.deps` hands the routes) and
        ``app.state.plugins`` (the :class:`vidstudio.plugins.PluginManager` behind the registry).
    """
    from vidstudio.nodes import builtin_registry
    from vidstudio.plugins import PluginManager, add_plugins

    data_dir = Path(config.data_dir)
    plugin_state = data_dir / PLUGIN_STATE_FILE
    store = JobStore(data_dir)
    catalog = ModelCatalog(
        [data_dir / "models", *config.models_dirs], config.default_model, scan_hf_cache=config.scan_hf_cache
    )
    # Built-in types; plugin types from their manifests (never imported here), less those this server disabled
    # after they crashed its worker.
    plugins = PluginManager(crash_state=plugin_state)
    registry = builtin_registry()
    add_plugins(registry, plugins)
    manager = make_manager(
        store,
        worker_env=config.worker_env,
        cancel_grace=config.cancel_grace,
        version=__version__,
        model_name=catalog.name_of,
        ray=config.ray,
        plugin_state=plugin_state,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store.open()
        (data_dir / "models").mkdir(exist_ok=True)
        await manager.start()
        try:
            yield
        finally:
            await manager.stop()
            store.close()

    app = FastAPI(
        title="VidStudio generation server",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.manager, app.state.store, app.state.catalog, app.state.config = manager, store, catalog, config
    app.state.registry, app.state.plugins = registry, plugins

    def rebuild_registry() -> None:
        """A new registry after the plugin settings changed (a plugin enabled again)."""
        plugins.reload_crash_state()
        fresh = builtin_registry()
        plugins.register_into(fresh)
        app.state.registry = fresh

    app.state.rebuild_registry = rebuild_registry
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    from vidstudio.server.downloads import add_download_routes

    add_download_routes(app, manager)  # POST/GET/DELETE /v1/models/downloads, the model cache

    # ------------------------------------------------------------------------------------------ openapi
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_openapi_components())
            schema["x-websockets"] = {
                EVENTS: {
                    "summary": "Queue changes, progress and preview images",
                    "parameters": {
                        "job": "follow one job",
                        "previews": "false: no preview images",
                        "token": "the bearer token, for clients that cannot set headers",
                    },
                    "messages": {"$ref": "#/components/schemas/Event"},
                }
            }
            if config.token:
                schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
                schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    upload_limit = config.max_upload_bytes + (64 << 10)
    app.add_middleware(guards.AllowedMethods, router=app)  # innermost: after the host and token checks
    app.add_middleware(
        BodyLimit,
        max_bytes=config.max_json_bytes,
        limits={ASSETS: upload_limit, GENERATIONS: max(upload_limit, config.max_json_bytes)},
    )
    app.add_middleware(TokenAuth, token=config.token)
    return app
