"""What the server and its clients must agree on besides the models: routes, event names, header and
environment names, the default address, limits and WebSocket close codes.

The server (:mod:`vidstudio.server`) and the client (:mod:`vidstudio.client`) both import these; neither spells
a route or a limit itself. Route templates use FastAPI's ``{name}`` placeholders (fill them with
``str.format``). Nothing here does I/O.
"""

from __future__ import annotations

#: The URL prefix of every route (``/v1``: :data:`vidstudio.protocol.models.API_VERSION`).
API_PREFIX = "/v1"

# ---------------------------------------------------------------------------------------------- routes
#: ``GET``: the server, its worker and the queue (:class:`~vidstudio.protocol.models.Health`).
HEALTH = f"{API_PREFIX}/health"
#: ``GET``: the node types the worker runs (:class:`~vidstudio.protocol.models.NodesDocument`).
NODES = f"{API_PREFIX}/nodes"
#: ``GET``: the models the server can load (:class:`~vidstudio.protocol.models.ModelList`).
MODELS = f"{API_PREFIX}/models"
#: ``POST``: download a model into the server's Hugging Face cache; ``GET``: the downloads
#: (:class:`~vidstudio.protocol.models.Download`).
MODEL_DOWNLOADS = f"{API_PREFIX}/models/downloads"
#: ``GET``: one download; ``DELETE``: cancel it.
MODEL_DOWNLOAD = MODEL_DOWNLOADS + "/{download_id}"
#: ``GET``: the plugins the server knows and whether each can be used
#: (:class:`~vidstudio.protocol.models.PluginList`).
PLUGINS = f"{API_PREFIX}/plugins"
#: ``POST``: enable again a plugin the server disabled after it crashed the worker.
PLUGIN_ENABLE = PLUGINS + "/{name}/enable"
#: ``GET``: the models in the server's Hugging Face cache (:class:`~vidstudio.protocol.models.CachedModel`).
MODEL_CACHE = f"{API_PREFIX}/models/cache"
#: ``DELETE``: remove one from the cache (:class:`~vidstudio.protocol.models.CacheRemoval`).
MODEL_CACHE_ENTRY = MODEL_CACHE + "/{org}/{name}"
#: ``POST``: upload an image (multipart field ``file``).
ASSETS = f"{API_PREFIX}/assets"
#: ``GET``: one uploaded image's facts.
ASSET = ASSETS + "/{asset_id}"
#: ``POST``: queue a generation; ``GET``: jobs, newest first.
GENERATIONS = f"{API_PREFIX}/videos/generations"
#: ``GET``: one job; ``DELETE``: cancel it.
GENERATION = GENERATIONS + "/{job_id}"
#: ``GET``: the job's MP4.
GENERATION_OUTPUT = GENERATION + "/output.mp4"
#: ``GET``: one frame of the job's video as PNG (``n`` from 0).
GENERATION_FRAME = GENERATION + "/frames/{n}.png"
#: ``GET``: the job's preview as JPEG.
GENERATION_PREVIEW = GENERATION + "/preview.jpg"
#: WebSocket: queue changes, progress and preview images (query ``job``, ``previews``, ``token``).
EVENTS = f"{API_PREFIX}/events"
#: The OpenAPI document of the running server.
OPENAPI = "/openapi.json"

# ---------------------------------------------------------------------------------------------- events
#: The ``type`` of each message of :data:`EVENTS`, in the order a connection first sees them.
EVENT_HELLO, EVENT_JOB, EVENT_PROGRESS, EVENT_PREVIEW, EVENT_WORKER = "hello", "job", "progress", "preview", "worker"
#: The ``type`` of a model download's messages (:data:`MODEL_DOWNLOADS`), which come at any time.
EVENT_DOWNLOAD = "download"
#: Every event type.
EVENT_TYPES = (EVENT_HELLO, EVENT_JOB, EVENT_PROGRESS, EVENT_PREVIEW, EVENT_WORKER, EVENT_DOWNLOAD)
#: Query parameters of :data:`EVENTS`: follow one job; ``false`` for no preview images; the token (for clients
#: that cannot set headers).
EVENTS_JOB_QUERY, EVENTS_PREVIEWS_QUERY, TOKEN_QUERY = "job", "previews", "token"
#: WebSocket close codes the server uses: a refused handshake (bad query, no token) and a server going away.
WS_CLOSE_POLICY, WS_CLOSE_GOING_AWAY = 1008, 1001

# ---------------------------------------------------------------------------------------------- auth
#: The header that carries the token, and its scheme: ``Authorization: Bearer TOKEN``.
AUTH_HEADER, AUTH_SCHEME = "Authorization", "Bearer"
#: Environment variable read for the token when none is given on the command line (keeps it out of ``ps``).
TOKEN_ENV = "VIDSTUDIO_SERVER_TOKEN"

# ---------------------------------------------------------------------------------------------- address
#: Where ``vidstudio serve`` listens unless told otherwise (loopback: no token needed).
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765

# ---------------------------------------------------------------------------------------------- limits
#: Largest upload (image) request body and largest JSON request body, in bytes (server defaults).
MAX_UPLOAD_BYTES, MAX_JSON_BYTES = 32 << 20, 16 << 20
#: Jobs one ``GET`` of :data:`GENERATIONS` lists by default and at most.
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 50, 500
#: The highest frame number :data:`GENERATION_FRAME` accepts.
MAX_FRAME_NUMBER = 100_000
#: Largest WebSocket message a client accepts, in bytes (a preview image is far smaller).
MAX_EVENT_BYTES = 64 << 20


def bearer(token: str) -> dict[str, str]:
    """The header that carries ``token``: ``{"Authorization": "Bearer TOKEN"}``."""
    return {AUTH_HEADER: f"{AUTH_SCHEME} {token}"}
