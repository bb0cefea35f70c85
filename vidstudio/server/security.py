"""Who may talk to the server and how much they may send.

* :func:`is_loopback`: the server listens on loopback by default and refuses any other address without a token.
* :class:`TokenAuth`: with a token, every HTTP request needs ``Authorization: Bearer TOKEN`` (else 401) and every
  WebSocket handshake the same header or ``?token=TOKEN`` (for clients that cannot set headers); tokens are
  compared in constant time (:func:`secrets.compare_digest`).
* :class:`BodyLimit`: request bodies larger than the limit are refused with 413, by ``Content-Length`` before
  anything is read and by counting while a body without one streams in.

Both are plain ASGI middleware, so that they wrap every route, the OpenAPI document included.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException

from vidstudio.protocol.constants import AUTH_HEADER, AUTH_SCHEME, TOKEN_QUERY

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    h = host.strip().strip("[]")
    if h.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def error_body(kind: str, message: str, field: str | None = None, details: list[dict[str, Any]] | None = None) -> bytes:
    """The JSON of an error answer (:class:`vidstudio.protocol.ErrorResponse`)."""
    return json.dumps(
        {
            "error": {
                "type": kind,
                "message": message,
                "field": field,
                "details": details if details is not None else [{"field": field, "message": message}],
            }
        }
    ).encode()


async def _send_json(
    send: Callable, status: int, body: bytes, headers: list[tuple[bytes, bytes]] = (), prefix: str = "http"
) -> None:
    await send(
        {
            "type": f"{prefix}.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": f"{prefix}.response.body", "body": body})


def token_ok(scope: dict, token: bytes) -> bool:
    """True when the ASGI ``scope`` carries ``token``: an ``Authorization: Bearer TOKEN`` header, or for a
    WebSocket handshake also ``?token=TOKEN`` (compared in constant time)."""
    auth, scheme = AUTH_HEADER.lower().encode(), AUTH_SCHEME.lower().encode()
    for k, v in scope.get("headers", []):
        if k == auth:
            got, _, cred = v.partition(b" ")
            if got.lower() == scheme and secrets.compare_digest(cred.strip(), token):
                return True
    if scope["type"] == "websocket":
        qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        for t in qs.get(TOKEN_QUERY, []):
            if secrets.compare_digest(t.encode(), token):
                return True
    return False


class TokenAuth:
    """Requires the bearer token on every HTTP request and WebSocket handshake.

    Args:
        app: the wrapped ASGI app; token: the secret (None or empty: no check).
    """

    def __init__(self, app: ASGIApp, token: str | None):
        self.app = app
        self.token = (token or "").encode()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if not self.token or scope["type"] not in ("http", "websocket") or token_ok(scope, self.token):
            await self.app(scope, receive, send)
            return
        body = error_body(
            "unauthorized",
            "this server needs a token: send 'Authorization: Bearer TOKEN' "
            "(WebSocket: the same header, or ?token=TOKEN)",
            "Authorization",
        )
        if scope["type"] == "http":
            await _send_json(send, 401, body, [(b"www-authenticate", b'Bearer realm="vidstudio"')])
            return
        if "websocket.http.response" in scope.get("extensions", {}):
            await _send_json(
                send, 401, body, [(b"www-authenticate", b'Bearer realm="vidstudio"')], prefix="websocket.http"
            )
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": "unauthorized"})


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413 (per route prefix: ``limits`` maps a path prefix to
    its own limit, e.g. uploads).

    Args:
        app: the wrapped ASGI app; max_bytes: the default limit; limits: ``{path prefix: limit}``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, limits: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.limits = dict(limits or {})

    def limit_for(self, path: str) -> int:
        """The largest body in bytes accepted for a request to ``path`` (the longest matching prefix's, else the default)."""
        for prefix, n in self.limits.items():
            if path.startswith(prefix):
                return n
        return self.max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    n = int(v)
                except ValueError:
                    await _send_json(
                        send, 400, error_body("invalid_request", "Content-Length is not a number", "Content-Length")
                    )
                    return
                if n > limit:
                    await _send_json(
                        send,
                        413,
                        error_body(
                            "too_large",
                            f"the request body is {n} bytes; this server accepts at most {limit} here",
                            "body",
                        ),
                    )
                    return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(
                        413, f"the request body is larger than the {limit} bytes this server accepts here"
                    )
            return message

        await self.app(scope, limited, send)
