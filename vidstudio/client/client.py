"""A blocking client of the generation server (httpx for HTTP, websockets for the event stream; both imported
when first used, so that importing the client, as the GUI does at start, costs neither).

Every method is a plain blocking call, safe to use from any thread (the GUI calls it from worker threads);
:class:`EventStream` is read in one thread and may be closed from another. Errors are typed
(:mod:`vidstudio.client.errors`): :class:`~vidstudio.client.errors.ServerUnreachable` when no answer came,
:class:`~vidstudio.client.errors.ServerRefused` (and its kinds: token, not found, conflict) carrying the server's
message, which names the field, :class:`~vidstudio.client.errors.ServerFailed` for a 5xx; each is a
:class:`~vidstudio.client.errors.ClientError` (a :class:`vidstudio.errors.VidStudioError`).

Typical use::

    with Client("http://127.0.0.1:8765", token) as c:
        job = c.submit_project(project, "export")            # uploads the images the project reads
        job = c.wait(job.id, on_event=print)                  # progress and previews as they come
        c.download(job.id, "out.mp4")
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from vidstudio.client.errors import (
    ClientError,
    InvalidServerUrl,
    ServerError,
    ServerUnreachable,
    StreamClosed,
    refused,
)
from vidstudio.protocol.constants import (
    ASSETS,
    EVENTS,
    EVENTS_JOB_QUERY,
    EVENTS_PREVIEWS_QUERY,
    GENERATION,
    GENERATION_FRAME,
    GENERATION_OUTPUT,
    GENERATION_PREVIEW,
    GENERATIONS,
    HEALTH,
    LIST_LIMIT_DEFAULT,
    MAX_EVENT_BYTES,
    MODEL_CACHE,
    MODEL_CACHE_ENTRY,
    MODEL_DOWNLOAD,
    MODEL_DOWNLOADS,
    MODELS,
    NODES,
    PLUGIN_ENABLE,
    PLUGINS,
    bearer,
)
from vidstudio.protocol.models import (
    REPO_ID_PATTERN,
    Asset,
    CachedModel,
    CacheRemoval,
    Download,
    DownloadRequest,
    Health,
    Job,
    JobList,
    ModelInfo,
    ModelList,
    NodesDocument,
    PluginList,
    ProjectGeneration,
    ServerPlugin,
    SimpleGeneration,
    parse_event,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["ORIGIN_KEY", "Client", "ClientError", "EventStream", "ServerError", "StreamClosed"]

#: Key of the embedded document that says which folder its relative paths belong to (the same key as
#: ``vidstudio.project.io.ORIGIN_KEY``): set on a submitted project so that its MP4 opens again on this machine.
ORIGIN_KEY = "embedded_from"


def _is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _needed(doc: dict[str, Any], output_node: str) -> list[str]:
    """Ids of the nodes the output needs (the output and everything upstream of it), in document order."""
    preds: dict[str, set[str]] = {}
    for link in doc.get("links", []) or []:
        try:
            src, dst = str(link["from"]).split(".")[0], str(link["to"]).split(".")[0]
        except (KeyError, TypeError, AttributeError):
            continue
        preds.setdefault(dst, set()).add(src)
    need, stack = set(), [output_node]
    while stack:
        n = stack.pop()
        if n not in need:
            need.add(n)
            stack.extend(preds.get(n, ()))
    return [str(n.get("id")) for n in doc.get("nodes", []) or [] if isinstance(n, dict) and n.get("id") in need]


class EventStream:
    """The server's event stream (``WS /v1/events``): iterate for :mod:`vidstudio.protocol` events.

    Args:
        url: the ``ws://`` URL with its query; headers: extra handshake headers; open_timeout: seconds.

    Raises:
        ServerUnreachable: when no connection can be opened; ServerRefused: when the handshake is refused
            (TokenRefused for 401/403).
    """

    def __init__(self, url: str, headers: dict[str, str], *, open_timeout: float = 10.0):
        from websockets.exceptions import InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        kwargs: dict[str, Any] = {
            "additional_headers": headers,
            "open_timeout": open_timeout,
            "max_size": MAX_EVENT_BYTES,
        }
        if _is_loopback_url(url):
            kwargs["proxy"] = None
        self._stack = contextlib.ExitStack()
        base = url.split("?")[0]
        server = base[: -len(EVENTS)] if base.endswith(EVENTS) else base
        server = server.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        status = None
        try:
            self._ws = self._stack.enter_context(connect(url, **kwargs))
        except InvalidStatus as e:
            status = e.response.status_code
        except (OSError, TimeoutError, InvalidHandshake) as e:  # no answer, or not a WebSocket server's answer
            raise ServerUnreachable(f"cannot open the event stream at {base}: {e}", reason=str(e), url=server) from None
        if status is not None:
            raise refused(
                server,
                status,
                f"the event stream at {base} was refused ({status})",
                kind="unauthorized" if status == 401 else None,
            )
        self.closed = False

    def next(self, timeout: float | None = None):
        """The next event, or None when ``timeout`` seconds pass without one.

        Raises:
            StreamClosed: when the stream has ended (closed by either side).
        """
        from websockets.exceptions import ConnectionClosed

        if self.closed:
            raise StreamClosed("the event stream is closed")
        try:
            text = self._ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except (ConnectionClosed, OSError, RuntimeError) as e:
            self.closed = True
            raise StreamClosed(f"the event stream has ended ({e})") from None
        return parse_event(text)

    def __iter__(self) -> Iterator[Any]:
        """Events until the stream ends."""
        while True:
            try:
                ev = self.next()
            except StreamClosed:
                return
            if ev is not None:
                yield ev

    def close(self) -> None:
        """Ends the stream (from any thread; an iteration in progress stops)."""
        self.closed = True
        try:
            self._ws.close()
            self._stack.close()
        except Exception:
            pass

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Client:
    """A connection to a VidStudio server.

    Args:
        url: ``http://host:port`` of the server.
        token: its bearer token, if it has one.
        timeout: seconds to wait for an answer (downloads: between chunks).
    """

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 30.0):
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidServerUrl(f"{url!r} is not a server URL (expected http://HOST:PORT)")
        self.token = token or None
        headers = bearer(self.token) if self.token else {}
        import httpx  # here, not at the top: it costs the GUI's start a fifth of its imports (click, rich, pygments)

        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, trust_env=not _is_loopback_url(self.url)
        )
        self._nodes: NodesDocument | None = None

    # ------------------------------------------------------------------------------------------ plumbing
    def close(self) -> None:
        """Closes the HTTP connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _raise_for(self, r: httpx.Response) -> None:
        if r.status_code < 400:
            return
        try:
            err = r.json()["error"]
            message, kind, field = str(err["message"]), err.get("type"), err.get("field")
            details = [(d.get("field"), d.get("message", "")) for d in err.get("details") or []]
        except (ValueError, KeyError, TypeError):
            message, kind, field, details = (r.text[:500] or r.reason_phrase), None, None, []
        raise refused(self.url, r.status_code, message, kind=kind, field=field, details=details)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Sends a request and returns the answer.

        Raises:
            ServerRefused: for a 4xx answer (with the server's message; TokenRefused, NotFound, Conflict by status);
            ServerFailed: for a 5xx answer; ServerUnreachable: when no answer comes.
        """
        import httpx

        try:
            r = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as e:
            raise ServerUnreachable(
                f"server {self.url} did not answer {method} {path} in time ({e})",
                reason=f"no answer in time ({e})",
                url=self.url,
            ) from None
        except httpx.HTTPError as e:
            raise ServerUnreachable(
                f"cannot reach the VidStudio server at {self.url}: {e}", reason=str(e), url=self.url
            ) from None
        self._raise_for(r)
        return r

    # ------------------------------------------------------------------------------------------ service
    def health(self) -> Health:
        """``GET /v1/health``: the server, its worker and the queue."""
        return Health.model_validate(self.request("GET", HEALTH).json())

    def nodes(self, *, fresh: bool = False) -> NodesDocument:
        """``GET /v1/nodes``: the node types the server runs (kept after the first call unless ``fresh``)."""
        if self._nodes is None or fresh or self._nodes.source != "worker":
            self._nodes = NodesDocument.model_validate(self.request("GET", NODES).json())
        return self._nodes

    def models(self) -> ModelList:
        """``GET /v1/models``: the models the server can load, by id: pipelines and the single files of its models
        folders, each with its ``kind``, ``family``, ``variant``, ``size_bytes``, ``format`` and ``dtype``."""
        return ModelList.model_validate(self.request("GET", MODELS).json())

    def model_files(self, *kinds: str) -> list[ModelInfo]:
        """The single model files the server offers (``GET /v1/models`` without the pipelines), in listing order.

        Args:
            kinds: only these kinds (``"checkpoint"``, ``"lora"``, ``"vae"``, ``"text_encoder"``); none: all four.
        """
        return self.models().of_kind(*(kinds or ("checkpoint", "lora", "vae", "text_encoder")))

    def start_model_download(
        self, repo_id: str, *, revision: str | None = None, include: list[str] | None = None
    ) -> Download:
        """``POST /v1/models/downloads``: downloads (or resumes) a Hugging Face repo into the server's cache;
        returns at once with the download (its progress also comes as ``download`` events on :meth:`events`).
        Asking again while the same repo downloads returns that download.

        Raises:
            ServerRefused: 422 for an id that is not ``org/name``.
        """
        body = DownloadRequest(id=repo_id, revision=revision, include=include).model_dump()
        return Download.model_validate(self.request("POST", MODEL_DOWNLOADS, json=body).json())

    def model_downloads(self) -> list[Download]:
        """``GET /v1/models/downloads``: the downloads since the server started."""
        return [Download.model_validate(d) for d in self.request("GET", MODEL_DOWNLOADS).json()]

    def model_download(self, download_id: str) -> Download:
        """``GET /v1/models/downloads/{id}``: one download's status and progress (bytes, speed, ETA).

        Raises:
            NotFound: 404 for an unknown download id.
        """
        return Download.model_validate(self.request("GET", MODEL_DOWNLOAD.format(download_id=download_id)).json())

    def cancel_model_download(self, download_id: str) -> Download:
        """``DELETE /v1/models/downloads/{id}``: asks a download to stop (``cancelled`` within a chunk; the files
        finished stay in the cache and a later download resumes).

        Raises:
            NotFound: 404 for an unknown download id.
        """
        return Download.model_validate(self.request("DELETE", MODEL_DOWNLOAD.format(download_id=download_id)).json())

    def model_cache(self) -> list[CachedModel]:
        """``GET /v1/models/cache``: the model repos in the server's Hugging Face cache, by id, with their size on
        disk, revisions, refs and VidStudio family and variant."""
        return [CachedModel.model_validate(m) for m in self.request("GET", MODEL_CACHE).json()]

    def remove_cached_model(self, repo_id: str) -> CacheRemoval:
        """``DELETE /v1/models/cache/{org}/{name}``: removes a model repo from the server's cache.

        Raises:
            NotFound: 404 when it is not in the cache. ServerRefused: 409 while it downloads (cancel it first).
            ValueError: for an id that is not ``org/name``.
        """
        import re

        if not re.fullmatch(REPO_ID_PATTERN, repo_id):
            raise ValueError(f"model id {repo_id!r}: expected a Hugging Face repo id org/name")
        org, _, name = repo_id.partition("/")
        path = MODEL_CACHE_ENTRY.format(org=org, name=name)
        return CacheRemoval.model_validate(self.request("DELETE", path).json())

    def plugins(self) -> PluginList:
        """``GET /v1/plugins``: the plugins the server knows, each with its ``status`` and, when it cannot be
        used, the ``reason``; ``crashed`` marks one the server disabled because the GPU worker died in its code."""
        return PluginList.model_validate(self.request("GET", PLUGINS).json())

    def enable_plugin(self, name: str) -> ServerPlugin:
        """``POST /v1/plugins/{name}/enable``: enables again a plugin the server disabled after it crashed the
        worker (the worker restarts once idle to load it; its loaded model is lost). Enabling an enabled plugin
        changes nothing.

        Raises:
            NotFound: 404 for a plugin the server does not know.
            ServerRefused: 409 for a plugin disabled by the server's owner, not after a crash (the owner enables
                it with ``vidstudio plugins enable`` on the server's machine).
        """
        return ServerPlugin.model_validate(self.request("POST", PLUGIN_ENABLE.format(name=name)).json())

    # ------------------------------------------------------------------------------------------ submitting
    def upload_image(self, source: str | os.PathLike | bytes, filename: str | None = None) -> Asset:
        """Uploads an image (``POST /v1/assets``, kind ``image``); the server decodes it before accepting it.

        Args:
            source: a file path or the file's bytes; filename: the name sent (default: the path's name).

        Raises:
            ServerRefused: not an image (415), too large (413), damaged (422); OSError: the file cannot be read.
        """
        return self.upload_file(source, "image", filename)

    def upload_file(
        self, source: str | os.PathLike | bytes, kind: str | None = None, filename: str | None = None
    ) -> Asset:
        """Uploads an image, a video or a sound (``POST /v1/assets``); a file is streamed from the disk, never
        read whole. The server decodes an image completely and opens a video or sound with PyAV (its first
        frame must decode) before accepting it.

        Args:
            source: a file path or the file's bytes. kind: ``"image"``, ``"video"``, ``"audio"``, or None to let
                the server tell from the content. filename: the name sent (default: the path's name).

        Returns:
            the asset (``kind`` says what the server took it for).

        Raises:
            ServerRefused: not a file of the kind (415), too large (413), damaged (422), each naming the file;
            OSError: the file cannot be read.
        """
        data = {"kind": kind} if kind else None
        if isinstance(source, (bytes, bytearray)):
            name = filename or kind or "file"
            r = self.request(
                "POST", ASSETS, files={"file": (name, bytes(source), "application/octet-stream")}, data=data
            )
        else:
            p = Path(source)
            with open(p, "rb") as f:
                r = self.request(
                    "POST", ASSETS, files={"file": (filename or p.name, f, "application/octet-stream")}, data=data
                )
        return Asset.model_validate(r.json())

    def submit(
        self,
        request: SimpleGeneration | dict[str, Any] | None = None,
        *,
        image: str | os.PathLike | bytes | None = None,
        **fields: Any,
    ) -> Job:
        """Queues a simple request (prompt, duration, size, fps, seed, model...; see
        :class:`vidstudio.protocol.SimpleGeneration`), optionally with an image file to animate.

        Returns:
            the new job (``adjustments`` says what the server changed).

        Raises:
            ServerRefused: 422 naming the field; pydantic.ValidationError: fields that are wrong before sending.
        """
        data = request.model_dump(exclude_none=True) if isinstance(request, SimpleGeneration) else dict(request or {})
        data.update(fields)
        req = SimpleGeneration.model_validate(data)
        body = req.model_dump(mode="json", exclude_none=True)
        if image is not None:
            body["image_asset_id"] = self.upload_image(image).id
        return Job.model_validate(self.request("POST", GENERATIONS, json=body).json())

    def submit_project(
        self,
        project: Any,
        output_node: str,
        *,
        model: str | None = None,
        project_dir: str | os.PathLike | None = None,
        upload: bool = True,
    ) -> Job:
        """Queues a whole project for one output node.

        The files the output needs (input file parameters, per the server's node types: Load Image's image,
        Load Video's video, Load Audio's sound...) are uploaded first, each as its parameter's kind, and mapped,
        unless ``upload`` is False. Model files (Upscale's model) are never uploaded: they name a file in the
        server's models folders (``upscale_models/NAME.pth``). The document is sent with the folder it came from
        (``embedded_from``), so that the MP4 it becomes opens again here with its files.

        Args:
            project: a :class:`vidstudio.project.Project` or its JSON document (dict).
            output_node: the Export Video node (or any VIDEO node) to render.
            model: a model id of the server for every Load Model node (like ``vidstudio render --model``).
            project_dir: where relative paths of the project start (default: the project's folder).

        Raises:
            ServerRefused: 422 naming the field (``project.nodes.<id>.params.<name>``, ``output_node``, ``model``).
            OSError: a file the project names cannot be read.
        """
        doc = project.to_dict() if hasattr(project, "to_dict") else json.loads(json.dumps(project))
        pdir = Path(project_dir) if project_dir is not None else getattr(project, "project_dir", None)
        if pdir is not None:
            doc.setdefault(ORIGIN_KEY, str(Path(pdir).resolve()))
        assets: dict[str, str] = {}
        if upload:
            types = {d.get("type"): d for d in self.nodes().nodes}
            by_id = {str(n.get("id")): n for n in doc.get("nodes", []) if isinstance(n, dict)}
            for nid in _needed(doc, output_node):
                node = by_id[nid]
                for p in (types.get(node.get("type")) or {}).get("params", []):
                    role = str(p.get("file_role", "any"))
                    if p.get("kind") != "file" or role.startswith("save") or role == "model":
                        continue
                    value = (node.get("params") or {}).get(p["name"], p.get("default"))
                    if not isinstance(value, str) or not value or value in assets:
                        continue
                    path = Path(value).expanduser()
                    if not path.is_absolute() and pdir is not None:
                        path = Path(pdir) / path
                    if path.is_file():
                        kind = role if role in ("image", "video", "audio") else None
                        assets[value] = self.upload_file(path, kind).id
        req = ProjectGeneration(project=doc, output_node=output_node, assets=assets, model=model)
        body = req.model_dump(mode="json", exclude_none=True)
        return Job.model_validate(self.request("POST", GENERATIONS, json=body).json())

    # ------------------------------------------------------------------------------------------ jobs
    def jobs(
        self, *, status: str | None = None, limit: int = LIST_LIMIT_DEFAULT, after: str | None = None
    ) -> list[Job]:
        """``GET /v1/videos/generations``: jobs, newest first (``after``: older than this job id)."""
        params = {k: v for k, v in (("status", status), ("limit", limit), ("after", after)) if v is not None}
        return JobList.model_validate(self.request("GET", GENERATIONS, params=params).json()).data

    def job(self, job_id: str) -> Job:
        """``GET /v1/videos/generations/{id}``: status, progress, ETA, error, output."""
        return Job.model_validate(self.request("GET", GENERATION.format(job_id=job_id)).json())

    def cancel(self, job_id: str) -> Job:
        """``DELETE /v1/videos/generations/{id}``: cancels a queued job at once, or asks a running one to stop
        (it becomes ``cancelled`` within a denoising step).

        Raises:
            Conflict: 409 when the job has already finished; NotFound: 404 for an unknown job.
        """
        return Job.model_validate(self.request("DELETE", GENERATION.format(job_id=job_id)).json())

    def download(self, job_id: str, dest: str | os.PathLike) -> Path:
        """Downloads the job's MP4 to ``dest`` (written to a temporary file, then renamed: never half a file).

        The file gets the user's default mode (or that of the file it replaces), and temporary files a killed
        download of ``dest`` left are removed first (:func:`vidstudio.fsutil.clean_strays`).

        Returns:
            the path written.

        Raises:
            Conflict: 409 while the job has not succeeded; ServerUnreachable: the download broke off;
            OSError: ``dest`` cannot be written.
        """
        import httpx

        from vidstudio.fsutil import clean_strays, match_mode, temp_prefix

        dest = Path(dest).expanduser()
        dest.parent.mkdir(parents=True, exist_ok=True)
        clean_strays(dest.parent, dest.name)  # what a killed download of this file left
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(dest.name), suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                try:
                    with self._http.stream("GET", GENERATION_OUTPUT.format(job_id=job_id)) as r:
                        if r.status_code >= 400:
                            r.read()
                            self._raise_for(r)
                        for chunk in r.iter_bytes(1 << 20):
                            f.write(chunk)
                except httpx.HTTPError as e:
                    raise ServerUnreachable(
                        f"downloading job {job_id} from {self.url} failed: {e}", reason=str(e), url=self.url
                    ) from None
            match_mode(tmp, dest)  # the mode the user's other files get (or the replaced file's), not 0600
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest

    def frame(self, job_id: str, n: int) -> bytes:
        """Frame ``n`` (0-based) of the job's video as PNG bytes."""
        return self.request("GET", GENERATION_FRAME.format(job_id=job_id, n=int(n))).content

    def preview(self, job_id: str) -> bytes:
        """The job's preview as JPEG bytes (the latest step while running, the middle frame once done)."""
        return self.request("GET", GENERATION_PREVIEW.format(job_id=job_id)).content

    # ------------------------------------------------------------------------------------------ events
    def events(self, *, job: str | None = None, previews: bool = True, open_timeout: float = 10.0) -> EventStream:
        """Opens ``WS /v1/events``: a ``hello`` event first, then job, progress, preview and worker events.

        Args:
            job: only this job's events (worker events always come); previews: include preview images.
        """
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = {EVENTS_PREVIEWS_QUERY: "true" if previews else "false"}
        if job:
            query[EVENTS_JOB_QUERY] = job
        url = f"{scheme}://{parts.netloc}{parts.path}{EVENTS}?{urlencode(query)}"
        headers = bearer(self.token) if self.token else {}
        return EventStream(url, headers, open_timeout=open_timeout)

    def wait(
        self,
        job_id: str,
        *,
        on_event: Callable[[Any], None] | None = None,
        timeout: float | None = None,
        poll: float = 2.0,
        cancel: Any = None,
        give_up: float = 60.0,
    ) -> Job:
        """Waits until the job has finished, passing its events to ``on_event`` as they come
        (:func:`vidstudio.client.feed.wait_for_job`: an event feed that reconnects and resyncs, so a server
        restart only slows the wait down; HTTP polls every ``poll`` seconds while the stream is down).

        Args:
            cancel: an object with a ``cancelled`` property (a :class:`vidstudio.progress.CancelToken`, e.g. set
                by Ctrl-C or a Cancel button in another thread); once it is true the job is cancelled on the
                server, and the wait goes on until the job has stopped.
            give_up: seconds without any answer from the server before the wait fails.

        Returns:
            the finished job (succeeded, failed or cancelled: look at ``status``; :meth:`result` raises instead).

        Raises:
            TimeoutError: after ``timeout`` seconds; ServerUnreachable: no answer for ``give_up`` seconds;
            ServerRefused: the token (TokenRefused) or the job (NotFound) is refused.
        """
        from vidstudio.client.feed import wait_for_job

        return wait_for_job(self, job_id, on_event=on_event, timeout=timeout, poll=poll, cancel=cancel, give_up=give_up)

    def result(self, job_id: str, **wait_kwargs: Any) -> Job:
        """Waits for the job like :meth:`wait` and returns it once it has succeeded.

        Raises:
            JobFailed: it failed (``error.job`` is its record, ``job.error`` says why);
            JobCancelled: it was cancelled; and what :meth:`wait` raises.
        """
        from vidstudio.client.errors import JobCancelled, JobFailed

        job = self.wait(job_id, **wait_kwargs)
        if job.status == "cancelled":
            raise JobCancelled(
                f"job {job.id} was cancelled on {self.url} ({job.error or 'cancelled'})", job, url=self.url
            )
        if job.status != "succeeded":
            raise JobFailed(f"job {job.id} failed on {self.url}: {job.error or 'no reason given'}", job, url=self.url)
        return job
