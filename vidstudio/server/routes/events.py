"""The WebSocket ``/v1/events``: a ``hello`` message (the active jobs and the worker), then every queue change,
progress step, preview image and worker change as JSON (:data:`vidstudio.protocol.Event`).

Query: ``job`` follows one job (worker events always come), ``previews=false`` leaves out preview images,
``token`` carries the token for clients that cannot set headers. The server closes the stream with 1001 when it
shuts down and refuses a malformed ``job`` with 1008.
"""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, Depends, WebSocket
from starlette.websockets import WebSocketDisconnect

from vidstudio.protocol.constants import EVENTS, WS_CLOSE_GOING_AWAY, WS_CLOSE_POLICY
from vidstudio.protocol.models import JOB_ID_PATTERN
from vidstudio.server.deps import Manager, require_token

router = APIRouter(dependencies=[Depends(require_token)])


@router.websocket(EVENTS)
async def events(ws: WebSocket, manager: Manager, job: str | None = None, previews: str = "true") -> None:
    if job is not None and not re.fullmatch(JOB_ID_PATTERN, job):
        await ws.close(code=WS_CLOSE_POLICY, reason="job: not a job id")
        return
    await ws.accept()
    sub = manager.subscribe(job, previews.lower() not in ("0", "false", "no", "off"))
    try:
        await ws.send_text(manager.hello())

        async def pump() -> None:
            while True:
                text = await sub.queue.get()
                if text is None:
                    await ws.close(code=WS_CLOSE_GOING_AWAY, reason="server shutting down")
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
