"""Checks the server applies before it accepts work, kept apart from the routes so that any route layout can
call them: JSON nesting depth of a request body, the generation budget (:mod:`vidstudio.budget`) of a job, a
full disk recognised as such, and the removal of what a refused job left behind.

Each returns data or raises :class:`vidstudio.server.build.RequestError`; the routes turn that into the answer
(422 for a request over a limit, 507 for a full disk).
"""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
from typing import Any

from vidstudio.budget import Limits, check_graph
from vidstudio.server.build import JobSpec, RequestError

#: errno values that mean "no space left where the server writes".
DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
#: Nesting allowed in a request body: a project's limit plus the request's own levels (``{"project": ...}``).
REQUEST_DEPTH_MARGIN = 2


def disk_full(e: BaseException) -> bool:
    """True when ``e`` says the disk (or quota) of the data folder is full: an OSError with ENOSPC, EDQUOT or
    EFBIG, or SQLite's "database or disk is full"."""
    if isinstance(e, OSError) and e.errno in DISK_FULL_ERRNOS:
        return True
    return isinstance(e, sqlite3.OperationalError) and "full" in str(e).lower()


def body_depth_problem(data: Any) -> str | None:
    """Why a parsed JSON request body is nested too deeply, or None (the project limit
    :data:`vidstudio.project.io.MAX_JSON_DEPTH` plus :data:`REQUEST_DEPTH_MARGIN`)."""
    from vidstudio.project.io import MAX_JSON_DEPTH, json_depth_problem

    p = json_depth_problem(data, MAX_JSON_DEPTH + REQUEST_DEPTH_MARGIN)
    return None if p is None else f"{p.where}: {p.message}"


def parse_body(body: bytes) -> Any:
    """``json.loads`` that turns a body nested past the stack (RecursionError) or past the depth limit into a
    :class:`RequestError` (422, field ``body``); other decoding errors are raised as ValueError."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise RequestError([("body", "the JSON is nested too deeply")]) from None
    why = body_depth_problem(data)
    if why is not None:
        raise RequestError([("body", why)])
    return data


def check_budget(
    spec: JobSpec, limits: Limits, *, catalog: Any = None, device_memory: float | None = None, device: str | None = None
) -> None:
    """Refuses, before it is queued, a job whose generation exceeds ``limits`` or the worker's device memory.

    Args:
        spec: the built job (its ``project`` JSON is what the worker will run).
        limits: the server's ``--max-pixels``, ``--max-frames``, ``--max-steps``.
        catalog: the model catalog, to read the family of a Load Model whose ``family`` is ``auto``.
        device_memory: bytes of the worker's device (None: unknown, not checked); device: its name.

    Raises:
        RequestError: 422 with one ``(field, message)`` per limit exceeded, naming the numbers.
    """
    from vidstudio.project.io import loads_project

    project = loads_project(spec.project, "request")
    families: dict[str, str] = {}
    if catalog is not None:
        entries = list(catalog.entries())
        for n in project.nodes:
            if n.type == "LoadModel":
                target = str(n.params.get("model", "") or "")
                e = next((e for e in entries if target in (e.target, e.id)), None)
                if e is not None:
                    families[n.id] = e.family
    problems = check_graph(
        project,
        project.settings,
        limits,
        families=families,
        device_bytes=device_memory,
        device=device or "the worker's device",
    )
    if problems:
        fields = {"settings.width": "project.settings", "settings.frame_count": "project.settings.frame_count"}
        out: list[tuple[str | None, str]] = []
        for nid, fld, msg in problems:
            where = f"project.nodes.{nid}.params.steps" if fld == "steps" else fields.get(fld, "project")
            out.append((where if spec.kind == "project" else fld.split(".")[-1], msg))
        raise RequestError(out)


def discard_job(store: Any, job_id: str) -> None:
    """Removes the folder of a job that was refused or could not be queued (best effort), so that a full disk
    or a refusal leaves no orphan folder behind."""
    shutil.rmtree(store.job_dir(job_id), ignore_errors=True)


def _leaf_routes(routes: list[Any]) -> list[Any]:
    """The routes of ``routes`` with included routers opened (FastAPI 0.16x keeps an included
    ``APIRouter`` as one ``_IncludedRouter`` entry; our routers are included without a prefix)."""
    out: list[Any] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _leaf_routes(list(inner.routes)) if inner is not None else [route]
    return out


def allowed_methods(app: Any, scope: dict[str, Any]) -> list[str]:
    """Every method some route of ``app`` answers at the request's path (``HEAD`` with ``GET``), sorted.

    Starlette stops at the first route whose path matches and lists only that route's methods in ``Allow``;
    a path served by several routes (``GET`` and ``POST /v1/videos/generations``) then looks as if it had
    one method. This asks every route.
    """
    from starlette.routing import Match

    methods: set[str] = set()
    probe = {**scope, "method": "GET"}
    for route in _leaf_routes(getattr(app, "routes", [])):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        match, _ = route.matches(probe)
        if match != Match.NONE:
            methods |= set(route_methods)
            if "GET" in route_methods:
                methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return sorted(methods)


class AllowedMethods:
    """ASGI middleware: ``OPTIONS`` on any path answers 204 with ``Allow`` listing every method the path
    takes (404 for a path no route serves), and a 405 answer's ``Allow`` lists them all too.

    Args:
        app: the ASGI application it wraps; router: the FastAPI/Starlette app whose routes are asked
            (default: ``app``).
    """

    def __init__(self, app: Any, router: Any = None):
        self.app = app
        self.router = router if router is not None else app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed = allowed_methods(self.router, scope)
        if scope["method"] == "OPTIONS" and allowed:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"allow", ", ".join(allowed).encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_fixed(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405 and allowed:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": headers + [(b"allow", ", ".join(allowed).encode())]}
            await send(message)

        await self.app(scope, receive, send_fixed)
