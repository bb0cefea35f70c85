"""The FastAPI application of ``vidstudio serve``: the HTTP + WebSocket API over the job queue.

:func:`create_app` builds it from a :class:`ServerConfig`; its lifespan opens the job store, recovers the queue
and starts the GPU worker, and stops them again. The routes are listed in :data:`DESCRIPTION` (also the
OpenAPI document's description). This process never imports torch: nodes run in the worker process
(:mod:`vidstudio.jobs.worker`), and plugin code is never imported here.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import time
import warnings
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request, WebSocket
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError
from pydantic.json_schema import models_json_schema
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocketDisconnect

from vidstudio import __version__
from vidstudio.jobs.manager import JobConflict, JobManager
from vidstudio.jobs.store import AssetRow, JobStore, new_asset_id, new_job_id
from vidstudio.protocol.models import (
    ASSET_ID_PATTERN,
    JOB_ID_PATTERN,
    Asset,
    ErrorResponse,
    EventAdapter,
    Health,
    Job,
    JobList,
    JobStatus,
    ModelInfo,
    ModelList,
    NodesDocument,
    ProjectGeneration,
    ServerInfo,
    SimpleGeneration,
)
from vidstudio.server.build import NodeTypes, RequestError, build_project, build_simple, copy_assets
from vidstudio.server.models import ModelCatalog
from vidstudio.server.security import BodyLimit, TokenAuth, error_body

#: Modules the server process must never load (they belong to the worker or the GUI); ``/v1/health`` reports
#: any that are loaded.
HEAVY_MODULES = ("torch", "diffusers", "transformers", "accelerate", "PySide6")
#: Image formats accepted as uploads (Pillow format names).
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
#: Largest uploaded image, in pixels.
MAX_UPLOAD_PIXELS = 8192 * 8192

DESCRIPTION = """
The VidStudio generation server: an asynchronous job API for rendering projects and generating video.

* `POST /v1/videos/generations` with a project (`{"project": {...}, "output_node": "export"}`) or a simple
  request (`{"prompt": "...", "duration_seconds": 2, "aspect_ratio": "16:9"}`; as `multipart/form-data` the
  image can be sent in the `image` part) answers **202** with the job (`id`, `status`, `eta`, `adjustments`).
* `GET /v1/videos/generations/{id}`: `status` (queued, running, succeeded, failed, cancelled), `progress`
  (node, step, total, seconds per step), `eta`, `error`, `output` (URLs). `DELETE` cancels.
* `GET .../{id}/output.mp4`, `.../{id}/frames/{n}.png`, `.../{id}/preview.jpg`: the results.
* `POST /v1/assets`: upload an image (decoded before it is accepted) and use its id in requests.
* `GET /v1/health`, `/v1/nodes`, `/v1/models`.
* **WebSocket `/v1/events`** (`?job=ID` to follow one job, `?previews=false` without preview images,
  `?token=TOKEN` when headers cannot be set): JSON messages, schema `Event` in `components/schemas`:
  `hello` (active jobs, worker), `job` (a job record changed), `progress`, `preview` (base64 JPEG), `worker`.

With a token every request needs `Authorization: Bearer TOKEN`. Errors are `{"error": {"type", "message",
"field", "details"}}` and name the field. Ids are made by the server; paths in requests never reach its files.
"""

_ERROR_TYPES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                422: "invalid_request"}
_ERRORS = {code: {"model": ErrorResponse, "description": kind.replace("_", " ")}
           for code, kind in _ERROR_TYPES.items() if code in (400, 401, 404, 409, 413, 415, 422)}


@dataclass
class ServerConfig:
    """How a server runs.

    Attributes:
        data_dir: the job database, job folders, uploads and the ``models`` folder.
        host, port: where it listens (loopback by default; another address needs ``token``).
        token: the bearer token every request must carry (None: no authentication, loopback only).
        default_model: model id, pipeline folder or repo id used when a request names none.
        models_dirs: more folders of local pipelines (besides ``data_dir/models``).
        scan_hf_cache: also offer the diffusers pipelines in the Hugging Face cache.
        max_upload_bytes: largest upload (image) request; max_json_bytes: largest JSON request body.
        cancel_grace: seconds a cancelled running job may take to stop before its worker is killed.
        worker_env: extra environment variables for the worker process.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    default_model: str | None = None
    models_dirs: list[Path] = field(default_factory=list)
    scan_hf_cache: bool = True
    max_upload_bytes: int = 32 << 20
    max_json_bytes: int = 16 << 20
    cancel_grace: float = 30.0
    worker_env: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answer: ``status``, ``kind`` (error type), ``message``, ``field``."""

    def __init__(self, status: int, kind: str, message: str, field: str | None = None):
        self.status, self.kind, self.message, self.field = status, kind, message, field
        super().__init__(message)


def _json_error(status: int, kind: str, message: str, field: str | None = None,
                details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(kind, message, field, details), status_code=status, media_type="application/json",
                    headers=headers)


def _validation_problems(errors: list[dict[str, Any]], skip_first: bool) -> list[tuple[str | None, str]]:
    out = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if skip_first and loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        fld = ".".join(str(p) for p in loc) or None
        msg = str(err.get("msg", "invalid"))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        if err.get("type") == "extra_forbidden":
            msg = "is not a field of this request"
        elif err.get("type") != "missing" and "input" in err:
            shown = repr(err["input"])
            if len(shown) <= 60:
                msg += f" (got {shown})"
        out.append((fld, msg))
    return out


def _problems_response(problems: list[tuple[str | None, str]], status: int = 422,
                       kind: str = "invalid_request") -> Response:
    details = [{"field": f, "message": m} for f, m in problems]
    message = "; ".join(f"{f}: {m}" if f else m for f, m in problems) or "invalid request"
    return _json_error(status, kind, message, problems[0][0] if problems else None, details)


def decode_upload(data: bytes, what: str) -> tuple[Any, str]:
    """Decodes an uploaded image completely (Pillow), upright by its EXIF orientation.

    Returns:
        ``(PIL image in RGB or RGBA, format name)``.

    Raises:
        ApiError: 415 for a file that is not an image of an accepted format, 413 for one too large, 422 for a
            damaged one; the message names ``what`` (the form field).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ApiError(422, "invalid_request", "the file is empty", what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            fmt = im.format or "?"
            if fmt not in UPLOAD_FORMATS:
                raise ApiError(415, "unsupported_media_type",
                               f"{fmt} images are not accepted; send {', '.join(UPLOAD_FORMATS)}", what)
            w, h = im.size
            if w * h > MAX_UPLOAD_PIXELS or w < 1 or h < 1:
                raise ApiError(413, "too_large", f"the image is {w}x{h}; at most {MAX_UPLOAD_PIXELS:,} pixels "
                                                 "are accepted", what)
            im.load()
            im = ImageOps.exif_transpose(im)
    except ApiError:
        raise
    except UnidentifiedImageError:
        raise ApiError(415, "unsupported_media_type", f"not an image (accepted: {', '.join(UPLOAD_FORMATS)})",
                       what) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ApiError(413, "too_large", f"the image is too large to decode ({e})", what) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ApiError(422, "invalid_request", f"cannot decode the image ({e})", what) from None
    alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    return im.convert("RGBA" if alpha else "RGB"), fmt


def store_upload(store: JobStore, data: bytes, what: str) -> AssetRow:
    """Decodes an upload and stores it as a server-named PNG (``assets/<id>.png``).

    Raises:
        ApiError: see :func:`decode_upload`.
    """
    im, _ = decode_upload(data, what)
    aid = new_asset_id()
    path = store.asset_path(aid)
    tmp = path.with_name(f".{path.name}.tmp")
    im.save(tmp, "PNG")
    os.replace(tmp, path)
    row = AssetRow(aid, time.time(), im.size[0], im.size[1], im.mode, path.stat().st_size)
    store.add_asset(row)
    return row


def _asset_model(row: AssetRow) -> Asset:
    return Asset(id=row.id, width=row.width, height=row.height, mode=row.mode, bytes=row.bytes,
                 created_at=row.created_at)


def extract_frame(video: Path, n: int, dest: Path) -> None:
    """Writes frame ``n`` (0-based) of ``video`` to ``dest`` as PNG (atomically).

    Raises:
        ApiError: 404 when the video has fewer frames.
    """
    from vidstudio.media.image import save_png
    from vidstudio.media.video import iter_video_frames

    for i, frame in enumerate(iter_video_frames(video)):
        if i == n:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp.png")
            save_png(tmp, frame)
            os.replace(tmp, dest)
            return
    raise ApiError(404, "not_found", f"frame {n} is beyond the end of the video", "n")


def _server_registry():
    """Built-in node types plus plugin types registered lazily (never imported in the server)."""
    from vidstudio.nodes import builtin_registry
    from vidstudio.plugins import add_plugins

    reg = builtin_registry()
    add_plugins(reg)
    return reg


def _openapi_components() -> dict[str, Any]:
    _, top = models_json_schema([(ProjectGeneration, "validation"), (SimpleGeneration, "validation")],
                                ref_template="#/components/schemas/{model}")
    defs = dict(top.get("$defs", {}))
    ev = EventAdapter.json_schema(ref_template="#/components/schemas/{model}")
    defs.update(ev.pop("$defs", {}))
    defs["Event"] = ev
    form = json.loads(json.dumps(defs["SimpleGeneration"]))
    form["title"] = "SimpleGenerationForm"
    form["properties"]["image"] = {"type": "string", "format": "binary",
                                   "description": "An image to animate from frame 0 (instead of image_asset_id)."}
    defs["SimpleGenerationForm"] = form
    return defs


def create_app(config: ServerConfig) -> FastAPI:
    """Builds the application for ``config`` (the store opens and the worker starts with its lifespan).

    Returns:
        the FastAPI app, with ``app.state.manager``, ``app.state.store``, ``app.state.catalog``.
    """
    data_dir = Path(config.data_dir)
    store = JobStore(data_dir)
    catalog = ModelCatalog([data_dir / "models", *config.models_dirs], config.default_model,
                           scan_hf_cache=config.scan_hf_cache)
    registry = _server_registry()
    manager = JobManager(store, worker_env=config.worker_env, cancel_grace=config.cancel_grace, version=__version__,
                         model_name=catalog.name_of)

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

    app = FastAPI(title="VidStudio generation server", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.manager, app.state.store, app.state.catalog, app.state.config = manager, store, catalog, config

    # ------------------------------------------------------------------------------------------ errors
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return _problems_response(_validation_problems(list(exc.errors()), True))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        kind = _ERROR_TYPES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.method} {request.url.path}"
        fld = "body" if exc.status_code == 413 else None
        return _json_error(exc.status_code, kind, detail, fld, headers=getattr(exc, "headers", None))

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        return _json_error(exc.status, exc.kind, exc.message, exc.field)

    @app.exception_handler(RequestError)
    async def _request(request: Request, exc: RequestError) -> Response:
        return _problems_response(exc.problems, exc.status, exc.kind)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
        return _json_error(500, "internal", f"internal error: {exc.__class__.__name__}: {exc}")

    def job_row(job_id: str):
        row = store.get(job_id)
        if row is None:
            raise ApiError(404, "not_found", f"no job {job_id}", "id")
        return row

    # ------------------------------------------------------------------------------------------ service
    @app.get("/v1/health", response_model=Health, tags=["service"], summary="Server, worker and queue state")
    async def health() -> Health:
        queued, running = manager.counts()
        return Health(auth=bool(config.token),
                      server=ServerInfo(pid=os.getpid(), version=__version__,
                                        heavy_modules=sorted(m for m in HEAVY_MODULES if m in sys.modules)),
                      worker=manager.worker, queued=queued, running=running,
                      default_model=await asyncio.to_thread(catalog.default_id))

    @app.get("/v1/nodes", response_model=NodesDocument, tags=["service"],
             summary="The node types the worker runs (plugins included)")
    async def nodes() -> NodesDocument:
        if manager.nodes_doc is not None:
            return NodesDocument(nodes=manager.nodes_doc.get("nodes", []),
                                 capabilities=manager.nodes_doc.get("capabilities", {}), source="worker")
        from vidstudio.families import describe

        docs = [registry.describe(t) if registry.source(t) == "builtin" else registry.summary(t) for t in registry]
        return NodesDocument(nodes=docs, capabilities=describe(), source="server")

    @app.get("/v1/models", response_model=ModelList, tags=["service"], summary="The models this server can load")
    async def models() -> ModelList:
        entries = await asyncio.to_thread(catalog.entries)
        default = await asyncio.to_thread(catalog.default_id)
        return ModelList(data=[ModelInfo(id=e.id, family=e.family, variant=e.variant, class_name=e.class_name,
                                         source=e.source, default=e.id == default,
                                         rules={k: v for k, v in e.rule.describe().items() if k != "source"})
                               for e in entries], default=default)

    # ------------------------------------------------------------------------------------------ assets
    @app.post("/v1/assets", response_model=Asset, status_code=201, tags=["assets"], responses=_ERRORS,
              summary="Upload an image (multipart field 'file')",
              openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                  "type": "object", "required": ["file"],
                  "properties": {"file": {"type": "string", "format": "binary"}}}}}}})
    async def upload_asset(request: Request) -> Asset:
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise ApiError(415, "unsupported_media_type", "send the image as multipart/form-data, field 'file'",
                           "file")
        form = await _form(request)
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise ApiError(422, "invalid_request", "no file part 'file' in the form", "file")
        data = await part.read()
        row = await asyncio.to_thread(store_upload, store, data, "file")
        return _asset_model(row)

    @app.get("/v1/assets/{asset_id}", response_model=Asset, tags=["assets"], responses=_ERRORS,
             summary="An uploaded image's facts")
    async def get_asset(asset_id: str = PathParam(pattern=ASSET_ID_PATTERN)) -> Asset:
        row = store.get_asset(asset_id)
        if row is None:
            raise ApiError(404, "not_found", f"no asset {asset_id}", "asset_id")
        return _asset_model(row)

    async def _form(request: Request):
        try:
            return await request.form(max_files=2, max_fields=40, max_part_size=1 << 20)
        except StarletteHTTPException:
            raise
        except Exception as e:  # a malformed multipart body
            raise ApiError(400, "invalid_request", f"the multipart body cannot be read: {e}", "body") from None

    # ------------------------------------------------------------------------------------------ jobs
    @app.post("/v1/videos/generations", response_model=Job, status_code=202, tags=["generations"],
              responses=_ERRORS, summary="Queue a generation: a project and its output node, or a simple request",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/ProjectGeneration"},
                                                            {"$ref": "#/components/schemas/SimpleGeneration"}]}},
                  "multipart/form-data": {"schema": {"$ref": "#/components/schemas/SimpleGenerationForm"}}}}})
    async def create_generation(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").lower()
        job_id = new_job_id()
        if ctype.startswith("multipart/form-data"):
            form = await _form(request)
            fields: dict[str, Any] = {}
            image = None
            for k, v in form.multi_items():
                if isinstance(v, UploadFile):
                    if k != "image":
                        raise ApiError(422, "invalid_request", "only the 'image' part may be a file", k)
                    image = v
                elif k == "image":
                    raise ApiError(422, "invalid_request", "send the image as a file part", "image")
                else:
                    fields[k] = v
            try:
                req: ProjectGeneration | SimpleGeneration = SimpleGeneration.model_validate(fields)
            except ValidationError as e:
                return _problems_response(_validation_problems(e.errors(include_url=False), False))
            if image is not None:
                if req.image_asset_id is not None:
                    raise ApiError(422, "invalid_request", "give either an 'image' file or 'image_asset_id'", "image")
                row = await asyncio.to_thread(store_upload, store, await image.read(), "image")
                req = req.model_copy(update={"image_asset_id": row.id})
        elif ctype.startswith("application/json") or not ctype:
            body = await request.body()
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError) as e:
                raise ApiError(400, "invalid_request", f"the body is not JSON ({e})", "body") from None
            if not isinstance(data, dict):
                raise ApiError(422, "invalid_request", f"expected a JSON object, got {type(data).__name__}", "body")
            try:
                req = (ProjectGeneration if "project" in data else SimpleGeneration).model_validate(data)
            except ValidationError as e:
                return _problems_response(_validation_problems(e.errors(include_url=False), False))
        else:
            raise ApiError(415, "unsupported_media_type", "send application/json (or multipart/form-data for a "
                                                          "simple request with an image file)", "Content-Type")
        if isinstance(req, ProjectGeneration):
            types = NodeTypes(registry, manager.nodes_doc)
            spec = await asyncio.to_thread(build_project, req, catalog, store, types, job_id)
        else:
            spec = await asyncio.to_thread(build_simple, req, catalog, store, job_id)
        await asyncio.to_thread(copy_assets, store, spec)
        job = manager.submit(spec)
        return JSONResponse(job.model_dump(mode="json"), status_code=202)

    @app.get("/v1/videos/generations", response_model=JobList, tags=["generations"], responses=_ERRORS,
             summary="Jobs, newest first")
    async def list_generations(status: JobStatus | None = Query(None, description="only jobs with this status"),
                               limit: int = Query(50, ge=1, le=500, description="at most this many"),
                               after: str | None = Query(None, pattern=JOB_ID_PATTERN,
                                                         description="only jobs older than this one")) -> JobList:
        before = None
        if after is not None:
            row = store.get(after)
            if row is None:
                raise ApiError(404, "not_found", f"no job {after}", "after")
            before = row.seq
        rows, more = store.list(status=status, limit=limit, before_seq=before)
        return JobList(data=[manager.to_job(r) for r in rows], has_more=more)

    @app.get("/v1/videos/generations/{job_id}", response_model=Job, tags=["generations"], responses=_ERRORS,
             summary="A job's status, progress, ETA, error and output")
    async def get_generation(job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> Job:
        return manager.to_job(job_row(job_id))

    @app.delete("/v1/videos/generations/{job_id}", response_model=Job, tags=["generations"], responses=_ERRORS,
                summary="Cancel a queued or running job")
    async def cancel_generation(job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> Job:
        job_row(job_id)
        try:
            return manager.cancel(job_id)
        except JobConflict as e:
            raise ApiError(409, "conflict", str(e), "id") from None

    def finished_output(job_id: str) -> tuple[Any, Path]:
        row = job_row(job_id)
        if row.status != "succeeded":
            raise ApiError(409, "conflict", f"job {job_id} is {row.status}; its video exists once it has succeeded",
                           "id")
        video = store.job_dir(job_id) / "output.mp4"
        if not video.is_file():
            raise ApiError(404, "not_found", f"the video of job {job_id} is gone from the server", "id")
        return row, video

    @app.get("/v1/videos/generations/{job_id}/output.mp4", tags=["generations"], responses=_ERRORS,
             response_class=FileResponse, summary="The generated MP4 (project embedded in its metadata)")
    async def get_output(job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> FileResponse:
        _, video = finished_output(job_id)
        return FileResponse(video, media_type="video/mp4", filename=f"{job_id}.mp4")

    @app.get("/v1/videos/generations/{job_id}/frames/{n}.png", tags=["generations"], responses=_ERRORS,
             response_class=FileResponse, summary="One frame of the generated video as PNG")
    async def get_frame(job_id: str = PathParam(pattern=JOB_ID_PATTERN),
                        n: int = PathParam(ge=0, le=100_000, description="frame number, from 0")) -> FileResponse:
        row, video = finished_output(job_id)
        count = int((row.output or {}).get("frame_count", 0))
        if n >= count:
            raise ApiError(404, "not_found", f"frame {n} does not exist: the video has {count} frames "
                                             f"(0..{count - 1})", "n")
        dest = store.job_dir(job_id) / "frames" / f"{n}.png"
        if not dest.is_file():
            await asyncio.to_thread(extract_frame, video, n, dest)
        return FileResponse(dest, media_type="image/png")

    @app.get("/v1/videos/generations/{job_id}/preview.jpg", tags=["generations"], responses=_ERRORS,
             response_class=FileResponse,
             summary="A preview: the latest denoising step while running, the middle frame once done")
    async def get_preview(job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> FileResponse:
        job_row(job_id)
        f = manager.preview_file(job_id)
        if f is None:
            raise ApiError(404, "not_found", f"job {job_id} has no preview yet", "id")
        return FileResponse(f, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------------------------------ events
    @app.websocket("/v1/events")
    async def events(ws: WebSocket, job: str | None = None, previews: str = "true") -> None:
        import re

        if job is not None and not re.match(JOB_ID_PATTERN, job):
            await ws.close(code=1008, reason="job: not a job id")
            return
        await ws.accept()
        sub = manager.subscribe(job, previews.lower() not in ("0", "false", "no", "off"))
        try:
            await ws.send_text(manager.hello())

            async def pump() -> None:
                while True:
                    text = await sub.queue.get()
                    if text is None:
                        await ws.close(code=1001, reason="server shutting down")
                        return
                    await ws.send_text(text)

            async def listen() -> None:
                while True:
                    msg = await ws.receive()
                    if msg["type"] == "websocket.disconnect":
                        return

            tasks = [asyncio.create_task(pump()), asyncio.create_task(listen())]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in pending:
                t.cancel()
            for t in done:
                exc = t.exception()
                if exc is not None and not isinstance(exc, (WebSocketDisconnect, RuntimeError, OSError)):
                    raise exc
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            manager.unsubscribe(sub)

    # ------------------------------------------------------------------------------------------ openapi
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_openapi_components())
            schema["x-websockets"] = {"/v1/events": {
                "summary": "Queue changes, progress and preview images",
                "parameters": {"job": "follow one job", "previews": "false: no preview images",
                               "token": "the bearer token, for clients that cannot set headers"},
                "messages": {"$ref": "#/components/schemas/Event"}}}
            if config.token:
                schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
                schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    upload_limit = config.max_upload_bytes + (64 << 10)
    app.add_middleware(BodyLimit, max_bytes=config.max_json_bytes,
                       limits={"/v1/assets": upload_limit,
                               "/v1/videos/generations": max(upload_limit, config.max_json_bytes)})
    app.add_middleware(TokenAuth, token=config.token)
    return app
