"""Model downloads as server jobs: ``POST /v1/models/downloads`` starts one (``{"id": "org/name", "revision":
null, "include": null}``), ``GET /v1/models/downloads[/{download_id}]`` reports them, ``DELETE
/v1/models/downloads/{download_id}`` cancels one; ``GET /v1/models/cache`` lists the cached models with their
sizes and ``DELETE /v1/models/cache/{org}/{name}`` removes one; progress goes to the event stream (``/v1/events``) as
``{"type": "download", "download": {...}}`` messages, at most five a second per download.

Self-contained: :func:`add_download_routes` adds the routes to an app (``create_app`` calls it); the downloads
run in threads through :func:`vidstudio.backend.hub.download` (huggingface_hub, torch-free), one at a time
per repo id.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from vidstudio.progress import CancelToken

REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$"
DOWNLOAD_ID_PATTERN = r"^dl_[0-9a-f]{12}$"


class DownloadRequest(BaseModel):
    """What to download."""

    id: str = Field(pattern=REPO_PATTERN, description="Hugging Face repo id, org/name")
    revision: str | None = Field(None, max_length=200, description="branch, tag or commit; null: the default")
    include: list[str] | None = Field(None, max_length=50, description="glob patterns of the files to fetch")


class Download(BaseModel):
    """One download and its progress."""

    download_id: str
    id: str
    revision: str | None = None
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    done_bytes: int = 0
    total_bytes: int = 0
    bytes_per_second: float = 0.0
    eta_seconds: float | None = None
    folder: str | None = None
    error: str | None = None


class DownloadManager:
    """Runs downloads in threads and publishes their progress through ``publish(text)`` (thread-safe)."""

    def __init__(self, publish: Any = None):
        self.publish = publish
        self.downloads: dict[str, Download] = {}
        self.tokens: dict[str, CancelToken] = {}
        self._lock = threading.Lock()

    def start(self, req: DownloadRequest) -> Download:
        """Starts (or returns the running download of) ``req.id``."""
        with self._lock:
            for d in self.downloads.values():
                if d.id == req.id and d.status in ("queued", "running"):
                    return d
            d = Download(download_id="dl_" + secrets.token_hex(6), id=req.id, revision=req.revision, status="queued")
            self.downloads[d.download_id] = d
            self.tokens[d.download_id] = CancelToken()
        threading.Thread(target=self._run, args=(d, req), name=f"download-{req.id}", daemon=True).start()
        return d

    def cancel(self, download_id: str) -> Download | None:
        """Asks a download to stop (it turns ``cancelled`` within a chunk); None for an unknown id."""
        d = self.downloads.get(download_id)
        if d is not None and d.status in ("queued", "running"):
            self.tokens[download_id].cancel("cancelled by request")
        return d

    def _emit(self, d: Download) -> None:
        if self.publish is not None:
            self.publish(json.dumps({"type": "download", "time": time.time(), "download": d.model_dump()}))

    def _run(self, d: Download, req: DownloadRequest) -> None:
        from vidstudio.backend.hub import download
        from vidstudio.errors import Cancelled, ModelError

        token = self.tokens[d.download_id]
        d.status = "running"
        self._emit(d)

        def progress(p: Any) -> None:
            d.done_bytes, d.total_bytes, d.bytes_per_second, d.eta_seconds = p.done, p.total, p.speed, p.eta
            self._emit(d)

        try:
            folder = download(req.id, revision=req.revision, include=req.include, progress=progress, cancel=token)
            d.status, d.folder = "succeeded", str(folder)
        except Cancelled:
            d.status = "cancelled"
        except ModelError as e:
            d.status, d.error = "failed", str(e)
        except Exception as e:  # never let a thread die silently
            d.status, d.error = "failed", f"{e.__class__.__name__}: {e}"
        self._emit(d)


def add_download_routes(app: FastAPI, manager: Any = None) -> DownloadManager:
    """Adds the ``/v1/models/downloads`` routes to ``app``; progress goes to ``manager``'s event subscribers (a
    :class:`vidstudio.jobs.manager.JobManager`; None: no events). Returns the :class:`DownloadManager` (also
    ``app.state.downloads``)."""

    def publish(text: str) -> None:
        if manager is None:
            return

        def offer() -> None:
            for s in list(manager.subscribers):
                s.offer("progress", None, text)

        manager._call(offer)

    downloads = DownloadManager(publish)
    app.state.downloads = downloads
    missing = {"error": {"type": "not_found", "message": "no such download"}}

    @app.post(
        "/v1/models/downloads",
        response_model=Download,
        status_code=202,
        tags=["models"],
        summary="Download a model from the Hugging Face Hub into the server's cache",
    )
    async def start_download(req: DownloadRequest = Body(...)) -> Download:
        return downloads.start(req)

    @app.get("/v1/models/downloads", response_model=list[Download], tags=["models"], summary="Downloads")
    async def list_downloads() -> list[Download]:
        return list(downloads.downloads.values())

    @app.get(
        "/v1/models/downloads/{download_id}",
        response_model=Download,
        tags=["models"],
        summary="One download",
        responses={404: {"description": "no such download"}},
    )
    async def get_download(download_id: str) -> Any:
        d = downloads.downloads.get(download_id)
        return d if d is not None else JSONResponse(missing, status_code=404)

    @app.delete(
        "/v1/models/downloads/{download_id}",
        response_model=Download,
        tags=["models"],
        summary="Cancel a download",
        responses={404: {"description": "no such download"}},
    )
    async def cancel_download(download_id: str) -> Any:
        d = downloads.cancel(download_id)
        return d if d is not None else JSONResponse(missing, status_code=404)

    @app.get("/v1/models/cache", tags=["models"], summary="The models in the server's Hugging Face cache, with sizes")
    async def cache_listing() -> list[dict[str, Any]]:
        from vidstudio.backend.hub import cached_models

        return cached_models()

    @app.delete(
        "/v1/models/cache/{org}/{name}",
        tags=["models"],
        summary="Remove a model from the server's cache",
        responses={404: {"description": "not in the cache"}},
    )
    async def cache_remove(org: str, name: str) -> Any:
        from vidstudio.backend.hub import remove
        from vidstudio.errors import ModelError

        if any(d.id == f"{org}/{name}" and d.status in ("queued", "running") for d in downloads.downloads.values()):
            return JSONResponse(
                {"error": {"type": "conflict", "message": f"{org}/{name} is downloading; cancel it first"}},
                status_code=409,
            )
        try:
            return {"id": f"{org}/{name}", "freed_bytes": remove(f"{org}/{name}")}
        except ModelError as e:
            return JSONResponse({"error": {"type": "not_found", "message": str(e)}}, status_code=404)

    return downloads
