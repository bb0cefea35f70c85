"""Jobs: queue a generation (``POST /v1/videos/generations``: a project and its output node, or a simple request,
as JSON or multipart with an image file), list them, look at one, cancel one (``DELETE``).

A request is checked completely before its job is queued (:mod:`vidstudio.server.build`: every problem names its
field, 422); the job answers ``202`` at once, and the worker runs it in submission order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from vidstudio.jobs.manager import JobConflict
from vidstudio.jobs.store import new_job_id
from vidstudio.protocol.constants import GENERATION, GENERATIONS, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX
from vidstudio.protocol.models import JOB_ID_PATTERN, Job, JobList, JobStatus, ProjectGeneration, SimpleGeneration
from vidstudio.server import guards
from vidstudio.server.build import NodeTypes, build_project, build_simple, copy_assets
from vidstudio.server.deps import Catalog, Config, Manager, Registry, Store, job_row, require_token
from vidstudio.server.errors import ERRORS, ApiError, problems_response, validation_problems
from vidstudio.server.routes.assets import read_form, store_upload

router = APIRouter(tags=["generations"], dependencies=[Depends(require_token)], responses=ERRORS)


@router.post(
    GENERATIONS,
    response_model=Job,
    status_code=202,
    summary="Queue a generation: a project and its output node, or a simple request",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/ProjectGeneration"},
                            {"$ref": "#/components/schemas/SimpleGeneration"},
                        ]
                    }
                },
                "multipart/form-data": {"schema": {"$ref": "#/components/schemas/SimpleGenerationForm"}},
            },
        }
    },
)
async def create_generation(
    request: Request, store: Store, manager: Manager, catalog: Catalog, registry: Registry, config: Config
) -> Response:
    ctype = request.headers.get("content-type", "").lower()
    job_id = new_job_id()
    if ctype.startswith("multipart/form-data"):
        form = await read_form(request)
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
            return problems_response(validation_problems(e.errors(include_url=False), False))
        if image is not None:
            if req.image_asset_id is not None:
                raise ApiError(422, "invalid_request", "give either an 'image' file or 'image_asset_id'", "image")
            row = await asyncio.to_thread(store_upload, store, await image.read(), "image")
            req = req.model_copy(update={"image_asset_id": row.id})
    elif ctype.startswith("application/json") or not ctype:
        body = await request.body()
        try:
            data = guards.parse_body(body)  # RecursionError and depth: 422, never a 500
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, "invalid_request", f"the body is not JSON ({e})", "body") from None
        if not isinstance(data, dict):
            raise ApiError(422, "invalid_request", f"expected a JSON object, got {type(data).__name__}", "body")
        try:
            req = (ProjectGeneration if "project" in data else SimpleGeneration).model_validate(data)
        except ValidationError as e:
            return problems_response(validation_problems(e.errors(include_url=False), False))
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send application/json (or multipart/form-data for a simple request with an image file)",
            "Content-Type",
        )
    if isinstance(req, ProjectGeneration):
        # the plugins that crashed the worker, read again: a crash since the registry was built counts too
        types = NodeTypes(registry, manager.nodes_doc, request.app.state.plugins.crash_reasons())
        spec = await asyncio.to_thread(build_project, req, catalog, store, types, job_id)
    else:
        spec = await asyncio.to_thread(build_simple, req, catalog, store, job_id)
    # The budget before allocation: refuse here, naming the numbers, what the worker could not hold.
    await asyncio.to_thread(
        guards.check_budget,
        spec,
        config.limits,
        catalog=catalog,
        device_memory=manager.device_memory,
        device=manager.worker.device,
    )
    try:
        await asyncio.to_thread(copy_assets, store, spec)
        job = manager.submit(spec)
    except BaseException:
        guards.discard_job(store, spec.id)  # no orphan job folder, whatever stopped it (a full disk)
        raise
    return JSONResponse(job.model_dump(mode="json"), status_code=202)


@router.get(GENERATIONS, response_model=JobList, summary="Jobs, newest first")
async def list_generations(
    store: Store,
    manager: Manager,
    status: JobStatus | None = Query(None, description="only jobs with this status"),
    limit: int = Query(LIST_LIMIT_DEFAULT, ge=1, le=LIST_LIMIT_MAX, description="at most this many"),
    after: str | None = Query(None, pattern=JOB_ID_PATTERN, description="only jobs older than this one"),
) -> JobList:
    before = None
    if after is not None:
        row = store.get(after)
        if row is None:
            raise ApiError(404, "not_found", f"no job {after}", "after")
        before = row.seq
    rows, more = store.list(status=status, limit=limit, before_seq=before)
    return JobList(data=[manager.to_job(r) for r in rows], has_more=more)


@router.get(GENERATION, response_model=Job, summary="A job's status, progress, ETA, error and output")
async def get_generation(store: Store, manager: Manager, job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> Job:
    return manager.to_job(job_row(store, job_id))


@router.delete(GENERATION, response_model=Job, summary="Cancel a queued or running job")
async def cancel_generation(store: Store, manager: Manager, job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> Job:
    job_row(store, job_id)
    try:
        return manager.cancel(job_id)
    except JobConflict as e:
        raise ApiError(409, "conflict", str(e), "id") from None
