"""The dependencies (FastAPI ``Depends``) of the routes: the token check and the server's parts.

:func:`vidstudio.server.app.create_app` puts the parts on ``app.state`` (``config``, ``store``, ``manager``,
``catalog``, ``registry``); routes declare what they use with the ``Annotated`` aliases below (``store:
Store``), so that a route module never reaches a global and a test can override a part
(``app.dependency_overrides``). None of them adds a parameter to the OpenAPI document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, WebSocketException
from starlette.requests import HTTPConnection

from vidstudio.jobs.manager import JobManager
from vidstudio.jobs.store import JobRow, JobStore
from vidstudio.protocol.constants import WS_CLOSE_POLICY
from vidstudio.server.errors import ApiError
from vidstudio.server.models import ModelCatalog
from vidstudio.server.security import token_ok

if TYPE_CHECKING:
    from vidstudio.graph.registry import NodeRegistry
    from vidstudio.server.app import ServerConfig


def get_config(conn: HTTPConnection) -> ServerConfig:
    """The :class:`~vidstudio.server.app.ServerConfig` the app was built from."""
    return conn.app.state.config


def get_store(conn: HTTPConnection) -> JobStore:
    """The job store (database, job folders, uploads)."""
    return conn.app.state.store


def get_manager(conn: HTTPConnection) -> JobManager:
    """The job queue and its worker."""
    return conn.app.state.manager


def get_catalog(conn: HTTPConnection) -> ModelCatalog:
    """The models the server can load."""
    return conn.app.state.catalog


def get_registry(conn: HTTPConnection) -> NodeRegistry:
    """The server's node registry: built-in types and plugin types known from their manifests (never imported
    here)."""
    return conn.app.state.registry


def require_token(conn: HTTPConnection) -> None:
    """Refuses a request or WebSocket handshake without the server's bearer token (when it has one).

    :class:`vidstudio.server.security.TokenAuth` (middleware) already guards everything the app serves, the
    OpenAPI document and unknown paths included; this dependency puts the same check on the routers
    themselves, so that a router mounted without that middleware is never open.

    Raises:
        ApiError: 401 ``unauthorized`` naming ``Authorization`` (HTTP);
        fastapi.WebSocketException: close code 1008 (a WebSocket handshake).
    """
    token = get_config(conn).token
    if token and not token_ok(conn.scope, token.encode()):
        if conn.scope["type"] == "websocket":
            raise WebSocketException(WS_CLOSE_POLICY, "unauthorized")
        raise ApiError(
            401, "unauthorized", "this server needs a token: send 'Authorization: Bearer TOKEN'", "Authorization"
        )


Config = Annotated[Any, Depends(get_config)]  # a ServerConfig (not imported here: app.py imports this)
Store = Annotated[JobStore, Depends(get_store)]
Manager = Annotated[JobManager, Depends(get_manager)]
Catalog = Annotated[ModelCatalog, Depends(get_catalog)]
Registry = Annotated[Any, Depends(get_registry)]  # a NodeRegistry


def job_row(store: JobStore, job_id: str) -> JobRow:
    """The stored job ``job_id``.

    Raises:
        ApiError: 404 naming ``id`` when there is none.
    """
    row = store.get(job_id)
    if row is None:
        raise ApiError(404, "not_found", f"no job {job_id}", "id")
    return row
