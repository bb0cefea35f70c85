"""Error answers of the server: every 4xx/5xx is ``{"error": {"type", "message", "field", "details"}}``
(:class:`vidstudio.protocol.ErrorResponse`) and names the field.

* :class:`ApiError`: raised by a route for one problem (status, error type, message, field);
* :func:`install_handlers`: the exception handlers that turn :class:`ApiError`, request validation errors,
  :class:`vidstudio.server.build.RequestError`, Starlette's HTTP errors and anything unexpected (500) into that
  shape;
* :data:`ERRORS`: the ``responses`` that routes declare in the OpenAPI document.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vidstudio.protocol.models import ErrorResponse
from vidstudio.server.build import RequestError
from vidstudio.server.security import error_body

#: The error ``type`` of each status.
ERROR_TYPES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}
#: ``responses=`` of the routes: the error answers the OpenAPI document lists.
ERRORS = {
    code: {"model": ErrorResponse, "description": kind.replace("_", " ")}
    for code, kind in ERROR_TYPES.items()
    if code in (400, 401, 404, 409, 413, 415, 422)
}


class ApiError(Exception):
    """An error answer: ``status``, ``kind`` (error type), ``message``, ``field``."""

    def __init__(self, status: int, kind: str, message: str, field: str | None = None):
        self.status, self.kind, self.message, self.field = status, kind, message, field
        super().__init__(message)


def json_error(
    status: int,
    kind: str,
    message: str,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error answer with status ``status`` (details default to the one problem)."""
    return Response(
        error_body(kind, message, field, details), status_code=status, media_type="application/json", headers=headers
    )


def validation_problems(errors: list[dict[str, Any]], skip_first: bool) -> list[tuple[str | None, str]]:
    """pydantic errors -> ``[(dotted field, message), ...]`` (``skip_first``: drop FastAPI's ``body``/``query``
    location prefix)."""
    out = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if skip_first and loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        fld = ".".join(str(p) for p in loc) or None
        msg = str(err.get("msg", "invalid"))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix) :]
        if err.get("type") == "extra_forbidden":
            msg = "is not a field of this request"
        elif err.get("type") != "missing" and "input" in err:
            shown = repr(err["input"])
            if len(shown) <= 60:
                msg += f" (got {shown})"
        out.append((fld, msg))
    return out


def problems_response(
    problems: list[tuple[str | None, str]], status: int = 422, kind: str = "invalid_request"
) -> Response:
    """One error answer for several problems (the message lists them all; ``field`` is the first one's)."""
    details = [{"field": f, "message": m} for f, m in problems]
    message = "; ".join(f"{f}: {m}" if f else m for f, m in problems) or "invalid request"
    return json_error(status, kind, message, problems[0][0] if problems else None, details)


def install_handlers(app: FastAPI) -> None:
    """Adds the exception handlers that give every error answer the shape of :class:`ErrorResponse`."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return problems_response(validation_problems(list(exc.errors()), True))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        kind = ERROR_TYPES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.method} {request.url.path}"
        fld = "body" if exc.status_code == 413 else None
        return json_error(exc.status_code, kind, detail, fld, headers=getattr(exc, "headers", None))

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        return json_error(exc.status, exc.kind, exc.message, exc.field)

    @app.exception_handler(RequestError)
    async def _request(request: Request, exc: RequestError) -> Response:
        return problems_response(exc.problems, exc.status, exc.kind)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
        return json_error(500, "internal", f"internal error: {exc.__class__.__name__}: {exc}")

    @app.exception_handler(OSError)
    @app.exception_handler(sqlite3.OperationalError)
    async def _storage(request: Request, exc: Exception) -> Response:
        # Handled here (not by the catch-all, which Starlette re-raises and which closes the connection): a full
        # data disk is the server's state, not a bug, and the connection stays usable.
        from vidstudio.server import guards

        if guards.disk_full(exc):
            return json_error(
                507,
                "insufficient_storage",
                f"the server's data folder is full ({exc}); nothing was kept of this request",
            )
        return await _internal(request, exc)
