"""Model downloads as server jobs: ``POST /v1/models/downloads`` starts one (``{"id": "org/name", "revision":
null, "include": null}``), ``GET /v1/models/downloads[/{download_id}]`` reports them, ``DELETE
/v1/models/downloads/{download_id}`` cancels one; ``GET /v1/models/cache`` lists the cached models with their
sizes and ``DELETE /v1/models/cache/{org}/{name}`` removes one; progress goes to the event stream (``/v1/events``) as
``{"type": "download", "download": {...}}`` messages (:class:`vidstudio.protocol.DownloadEvent`, in the
``Event`` schema), at most five a second per download.

Self-contained: :func:`add_download_routes` adds the routes to an app (``create_app`` calls it); the downloads
run in threads through :func:`vidstudio.backend.hub.download` (huggingface_hub, torch-free), one at a time
per repo id.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from fastapi import Body, FastAPI
from fastapi.responses import Response

from vidstudio.progress import CancelToken
from vidstudio.protocol.constants import MODEL_CACHE, MODEL_CACHE_ENTRY
from vidstudio.protocol.models import (
    DOWNLOAD_ID_PATTERN,
    REPO_ID_PATTERN,
    CachedModel,
    CacheRemoval,
    Download,
    DownloadEvent,
    DownloadRequest,
)
from vidstudio.server.errors import ERRORS, json_error

__all__ = [
    "DOWNLOAD_ID_PATTERN",
    "REPO_PATTERN",
    "Download",
    "DownloadManager",
    "DownloadRequest",
    "add_download_routes",
]

#: The repo id pattern of a request (:data:`vidstudio.protocol.models.REPO_ID_PATTERN`).
REPO_PATTERN = REPO_ID_PATTERN


class DownloadManager:
    """Runs downloads in threads and publishes each change through ``publish(event, final)`` (called from the
    download's thread with a :class:`vidstudio.protocol.DownloadEvent` holding a copy of the record; ``final``:
    a change of status, which a slow subscriber must not miss, rather than progress)."""

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

    def _emit(self, d: Download, final: bool = True) -> None:
        if self.publish is not None:
            self.publish(DownloadEvent(download=d.model_copy()), final)

    def _run(self, d: Download, req: DownloadRequest) -> None:
        from vidstudio.backend.hub import download
        from vidstudio.errors import Cancelled, ModelError

        token = self.tokens[d.download_id]
        d.status = "running"
        self._emit(d)

        def progress(p: Any) -> None:
            d.done_bytes, d.total_bytes, d.bytes_per_second, d.eta_seconds = p.done, p.total, p.speed, p.eta
            self._emit(d, final=False)

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
    """Adds the ``/v1/models/downloads`` and ``/v1/models/cache`` routes to ``app`` (each declares the shared error
    answers, :data:`vidstudio.server.errors.ERRORS`); download events go to ``manager``'s event stream (a
    :class:`vidstudio.jobs.manager.JobManager`: stamped with ``seq`` and ``time`` in its event loop, progress as
    ``progress`` events that a slow subscriber may miss, changes of status never missed; None: no events).
    Returns the :class:`DownloadManager` (also ``app.state.downloads``)."""

    def publish(event: DownloadEvent, final: bool) -> None:
        if manager is not None:
            manager._call(manager._publish, "download" if final else "progress", None, event)

    downloads = DownloadManager(publish)
    app.state.downloads = downloads

    def missing(download_id: str) -> Response:
        return json_error(
            404,
            "not_found",
            f"no download {download_id!r} (GET /v1/models/downloads lists them)",
            "download_id",
        )

    @app.post(
        "/v1/models/downloads",
        response_model=Download,
        status_code=202,
        tags=["models"],
        summary="Download a model from the Hugging Face Hub into the server's cache",
        responses=ERRORS,
    )
    async def start_download(req: DownloadRequest = Body(...)) -> Download:
        return downloads.start(req)

    @app.get(
        "/v1/models/downloads", response_model=list[Download], tags=["models"], summary="Downloads", responses=ERRORS
    )
    async def list_downloads() -> list[Download]:
        return list(downloads.downloads.values())

    @app.get(
        "/v1/models/downloads/{download_id}",
        response_model=Download,
        tags=["models"],
        summary="One download",
        responses=ERRORS,
    )
    async def get_download(download_id: str) -> Any:
        d = downloads.downloads.get(download_id)
        return d if d is not None else missing(download_id)

    @app.delete(
        "/v1/models/downloads/{download_id}",
        response_model=Download,
        tags=["models"],
        summary="Cancel a download",
        responses=ERRORS,
    )
    async def cancel_download(download_id: str) -> Any:
        d = downloads.cancel(download_id)
        return d if d is not None else missing(download_id)

    @app.get(
        MODEL_CACHE,
        response_model=list[CachedModel],
        tags=["models"],
        summary="The models in the server's Hugging Face cache, with sizes",
        responses=ERRORS,
    )
    async def cache_listing() -> list[CachedModel]:
        from vidstudio.backend.hub import cached_models

        # the snapshot folder is a path on the server: of no use to a client, which names a model by its id
        return [CachedModel.model_validate({k: v for k, v in m.items() if k != "folder"}) for m in cached_models()]

    @app.delete(
        MODEL_CACHE_ENTRY,
        response_model=CacheRemoval,
        tags=["models"],
        summary="Remove a model from the server's cache",
        responses=ERRORS,
    )
    async def cache_remove(org: str, name: str) -> Any:
        from vidstudio.backend.hub import remove
        from vidstudio.errors import ModelError

        repo = f"{org}/{name}"
        if any(d.id == repo and d.status in ("queued", "running") for d in downloads.downloads.values()):
            return json_error(409, "conflict", f"{repo} is downloading; cancel it first")
        try:
            return CacheRemoval(id=repo, freed_bytes=remove(repo))
        except ModelError as e:
            return json_error(404, "not_found", str(e))

    return downloads
