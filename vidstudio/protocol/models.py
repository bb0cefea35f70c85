"""Pydantic models of the generation server's API (version :data:`API_VERSION`).

The API is asynchronous, in the polling style of the hosted video APIs: ``POST /v1/videos/generations`` answers
``202`` with a :class:`Job` (``id``, ``status``, ``eta``); ``GET /v1/videos/generations/{id}`` tells how it goes;
``DELETE`` cancels it; the MP4, single frames and a preview image are files under the job's URL; the WebSocket
``/v1/events`` streams :data:`Event` messages (queue changes, progress, preview images).

Units: times are Unix seconds (float, UTC); durations and ``eta`` are seconds; sizes are pixels; ``fps`` is a
rational written as a string (``"24"``, ``"30000/1001"``); preview images are base64 JPEG.

Nothing here does I/O or imports the rest of VidStudio.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

#: The API version in the URL prefix (``/v1``).
API_VERSION = "1"

#: Job ids are made by the server: ``gen_`` and 24 hex digits.
JOB_ID_PATTERN = r"^gen_[0-9a-f]{24}$"
#: Uploaded asset ids are made by the server: ``img_`` and 24 hex digits.
ASSET_ID_PATTERN = r"^img_[0-9a-f]{24}$"
#: A node id in a project (the same rule as :data:`vidstudio.graph.model.ID_PATTERN`).
NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
#: A model id: a local model's folder name, a Hugging Face repo id ``org/name``, or a model file's path in a
#: models folder (``loras/wan/lightx2v.safetensors``: up to eight parts).
MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*){0,7}$"

#: A job's status: ``queued`` (waiting for the worker), ``running``, then one of the finished ones.
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
#: The statuses a job never leaves.
FINISHED: tuple[str, ...] = ("succeeded", "failed", "cancelled")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------- requests
class ProjectGeneration(_Request):
    """Render a whole project: the document plus the node whose video is the job's output.

    Attributes:
        project: the ``.vidproj`` document (JSON object).
        output_node: the id of the output node: an Export Video node (its file goes into the job folder) or
            any node with a VIDEO output.
        assets: ``{value of a file parameter in the project: uploaded asset id}``; every non-empty input file
            parameter (e.g. a Load Image node's ``path``) of the nodes the output needs must be listed (upload
            the file first with ``POST /v1/assets``). Paths in a request never reach the server's file system.
        model: a model id from ``GET /v1/models`` for every Load Model node (like ``vidstudio render --model``);
            None: each Load Model node's ``model`` must itself be a model id of this server (empty: the server's
            default model).
    """

    project: dict[str, Any] = Field(description="The .vidproj document (JSON object).")
    output_node: str = Field(
        pattern=NODE_ID_PATTERN,
        max_length=128,
        description="Id of the node whose video is the output (Export Video or a VIDEO node).",
    )
    assets: dict[str, Annotated[str, Field(pattern=ASSET_ID_PATTERN)]] = Field(
        default_factory=dict,
        max_length=1000,
        description="File parameter value in the project -> uploaded asset id (POST /v1/assets).",
    )
    model: str | None = Field(
        None,
        pattern=MODEL_ID_PATTERN,
        max_length=200,
        description="Model id (GET /v1/models) for every Load Model node.",
    )


class SimpleGeneration(_Request):
    """Generate from a prompt (and optionally an image), without a project: the server builds the graph
    (Load Model, Conditioning, Generate, Export Video; Load Image when there is an image).

    The frame count ``duration_seconds * fps`` and the size are moved to the nearest values the model can make
    (the response's ``adjustments`` say what changed). Size: ``width`` and ``height``; or ``aspect_ratio`` at
    the model family's native pixel count; or one side plus ``aspect_ratio``; default: the family's native size.

    Attributes:
        prompt: what to generate (may be empty with an image, e.g. for Stable Video Diffusion).
        negative_prompt: what to avoid.
        image_asset_id: an uploaded image (``POST /v1/assets``) to animate from frame 0; multipart requests
            send the file itself in the ``image`` part instead.
        duration_seconds: clip length in seconds (0 < d <= 120).
        aspect_ratio: ``"W:H"`` such as ``"16:9"``.
        width, height: frame size in pixels (16..4096).
        fps: frames per second (default: the family's native rate).
        motion_bucket_id: Stable Video Diffusion's motion bucket (0..254; default 127); other families refuse it.
        seed: random seed; -1 picks one (recorded in ``adjustments`` and in the MP4).
        model: a model id from ``GET /v1/models`` (default: the server's default model).
        steps: denoising steps (default: the checkpoint's or the family's); guidance_scale: classifier-free guidance (default: the family's).
    """

    prompt: str = Field("", max_length=20000, description="What to generate.")
    negative_prompt: str = Field("", max_length=20000, description="What to avoid.")
    image_asset_id: str | None = Field(
        None, pattern=ASSET_ID_PATTERN, description="An uploaded image (POST /v1/assets) to animate from frame 0."
    )
    duration_seconds: float = Field(2.0, gt=0, le=120, description="Clip length in seconds.")
    aspect_ratio: str | None = Field(
        None, pattern=r"^\d{1,4}(\.\d{1,3})?:\d{1,4}(\.\d{1,3})?$", description="Frame aspect ratio 'W:H', e.g. '16:9'."
    )
    width: int | None = Field(None, ge=16, le=4096, description="Frame width in pixels.")
    height: int | None = Field(None, ge=16, le=4096, description="Frame height in pixels.")
    fps: float | None = Field(None, gt=0, le=120, description="Frames per second (default: the model's native rate).")
    motion_bucket_id: int | None = Field(
        None, ge=0, le=254, description="Stable Video Diffusion motion bucket (0..254)."
    )
    seed: int = Field(-1, ge=-1, le=2**31 - 1, description="Random seed; -1 picks one.")
    model: str | None = Field(
        None,
        pattern=MODEL_ID_PATTERN,
        max_length=200,
        description="Model id (GET /v1/models); default: the server's default model.",
    )
    steps: int | None = Field(
        None, ge=1, le=500, description="Denoising steps (default: the model's, e.g. 8 for a distilled checkpoint)."
    )
    guidance_scale: float | None = Field(None, ge=0, le=50, description="Classifier-free guidance scale.")

    @field_validator("aspect_ratio")
    @classmethod
    def _ratio(cls, v: str | None) -> str | None:
        if v is not None:
            a, b = (float(x) for x in v.split(":"))
            if a <= 0 or b <= 0 or not (1 / 8 <= a / b <= 8):
                raise ValueError("must be 'W:H' with both sides > 0 and a ratio between 1:8 and 8:1")
        return v

    def ratio(self) -> float | None:
        """The aspect ratio width / height, or None when not given."""
        if self.aspect_ratio is None:
            return None
        a, b = (float(x) for x in self.aspect_ratio.split(":"))
        return a / b


#: The body of ``POST /v1/videos/generations``: a project (has ``project``) or a simple request.
GenerationRequest = Union[ProjectGeneration, SimpleGeneration]


# ---------------------------------------------------------------------------------------------- jobs
class Progress(_Model):
    """Where a running job is.

    Attributes:
        node: the node running now (None before the first one); node_type: its type.
        fraction: the node's own progress in [0, 1] (None when unknown).
        message: the node's latest message (``"step 3/20, 0.41 s/step"``).
        step, total, seconds_per_step: denoising steps of a generating node (None for other nodes).
        nodes_done, nodes_total: nodes finished (run or from the cache) out of the nodes the output needs.
        overall: the job's progress in [0, 1] (nodes done plus the running node's fraction, over the total).
    """

    node: str | None = None
    node_type: str | None = None
    fraction: float | None = None
    message: str = ""
    step: int | None = None
    total: int | None = None
    seconds_per_step: float | None = None
    nodes_done: int = 0
    nodes_total: int = 0
    overall: float = 0.0


class JobOutput(_Model):
    """The result of a succeeded job.

    Attributes:
        video_url, preview_url: relative URLs of the MP4 and of a JPEG thumbnail.
        frame_url_template: relative URL of one frame as PNG, with ``{n}`` for the frame number (0-based).
        width, height: frame size in pixels; frame_count: frames; fps: frame rate (rational string);
        duration_seconds: frame_count / fps; bytes: size of the MP4.
        seed: the seed the model used (None when the output has none).
    """

    video_url: str
    preview_url: str
    frame_url_template: str
    width: int
    height: int
    frame_count: int
    fps: str
    duration_seconds: float
    bytes: int = 0
    seed: int | None = None


class Job(_Model):
    """A job record (``GET /v1/videos/generations/{id}``).

    Attributes:
        id: server-made id (``gen_...``); object: always ``"video.generation"``.
        status: queued, running, succeeded, failed or cancelled.
        kind: ``"project"`` or ``"simple"``.
        created_at, started_at, finished_at: Unix seconds (None until it happens).
        queue_position: 1 for the next job to run (None unless queued).
        progress: the latest progress (None before the job runs).
        eta: estimated seconds until the job finishes (None when there is nothing to estimate from).
        error: why it failed or was cancelled (None otherwise), e.g. ``"server restarted"``.
        adjustments: what the server changed in the request (snapped frame count or size, the chosen seed).
        notes: what the nodes reported while running (what they changed, warnings).
        output_node: the node whose video is the output; model: the model id asked for, if any.
        cancel_requested: True once ``DELETE`` was called on a running job that has not stopped yet.
        output: the result, once succeeded.
    """

    id: str
    object: Literal["video.generation"] = "video.generation"
    status: JobStatus
    kind: Literal["project", "simple"]
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    queue_position: int | None = None
    progress: Progress | None = None
    eta: float | None = None
    error: str | None = None
    adjustments: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    output_node: str
    model: str | None = None
    cancel_requested: bool = False
    output: JobOutput | None = None

    @property
    def finished(self) -> bool:
        """True for succeeded, failed and cancelled jobs."""
        return self.status in FINISHED


class JobList(_Model):
    """``GET /v1/videos/generations``: the newest jobs first.

    Attributes:
        data: the jobs; has_more: more jobs exist beyond ``limit``.
    """

    object: Literal["list"] = "list"
    data: list[Job]
    has_more: bool = False


# ---------------------------------------------------------------------------------------------- other resources
class Asset(_Model):
    """An uploaded file (``POST /v1/assets``): an image, decoded and stored by the server as PNG, or a video or
    sound, probed and decoded with PyAV and stored as sent.

    Attributes:
        id: server-made id (``img_...`` for every kind); kind: ``"image"``, ``"video"`` or ``"audio"``; width,
        height: pixels (0 for a sound); mode: the decoded image's Pillow mode (``RGB``, ``RGBA``, ``L``...),
        a video's or sound's codec (``h264``, ``aac``...); bytes: size of the stored file; created_at: Unix
        seconds.
    """

    id: str
    object: Literal["asset"] = "asset"
    kind: Literal["image", "video", "audio"] = "image"
    width: int
    height: int
    mode: str
    bytes: int
    created_at: float


#: What a model entry is: a diffusers ``pipeline`` (folder or cached repo), or a single file: a transformer/UNet
#: ``checkpoint`` (loaded with a base pipeline), a ``lora``, a ``vae`` or a ``text_encoder``.
ModelKind = Literal["pipeline", "checkpoint", "lora", "vae", "text_encoder"]


class ModelInfo(_Model):
    """A model the server can load: a pipeline, or a single file in its models folders.

    Attributes:
        id: what requests name it by (a local folder's name, a Hugging Face repo id, or a file's path relative to
            its models folder such as ``diffusion_models/wan2.1_t2v_1.3B_bf16.safetensors``).
        family, variant: from the pipeline class in its ``model_index.json``, or for a file from its tensor names
            (see ``vidstudio nodes``); "" when a file does not tell (the Load Model node's family then decides).
        class_name: that pipeline class ("" for a file); source: ``"local"`` (a folder or file in the server's
            models folders) or ``"huggingface"`` (the Hugging Face cache); default: True for the server's default
            model (always a pipeline).
        rules: frame and size rules (``frames``, ``frame_step``, ``exact_frames``, ``side_multiple``, ...); empty
            for a LoRA, VAE, text encoder or a file of no known family.
        kind: :data:`ModelKind` (``"pipeline"`` from servers older than this field). A ``checkpoint`` goes in a
            Load Model node's ``model`` with a pipeline of its family as ``base_model``; a ``lora`` in a Load
            LoRA node's ``lora``; a ``vae`` / ``text_encoder`` in Load Model's ``vae_file`` / ``text_encoder_file``.
        component: a file's component from its tensor names: ``transformer``, ``unet``, ``vae``,
            ``text_encoder``; "" for a pipeline, a LoRA, or when unknown.
        format: ``"diffusers"`` (a pipeline), ``"safetensors"`` or ``"gguf"``.
        size_bytes: bytes on disk (a pipeline folder's files, a cached repo's revisions, a file); None: unknown.
        dtype: a file's storage type of most of its weights: the safetensors dtype (``BF16``, ``F16``,
            ``F8_E4M3``...) or the GGUF quantisation type (``Q8_0``, ``Q4_K``...); None for a pipeline or unknown.
        error: why a file's header could not be read (the file is listed but cannot be used); None otherwise.
    """

    id: str
    family: str
    variant: str
    class_name: str
    source: Literal["local", "huggingface"]
    default: bool = False
    rules: dict[str, Any] = Field(default_factory=dict)
    kind: ModelKind = "pipeline"
    component: str = ""
    format: Literal["diffusers", "safetensors", "gguf"] = "diffusers"
    size_bytes: int | None = None
    dtype: str | None = None
    error: str | None = None


class ModelList(_Model):
    """``GET /v1/models``: ``data`` (the models: local pipelines, then local files, then cached pipelines) and
    ``default`` (the default model's id, or None)."""

    object: Literal["list"] = "list"
    data: list[ModelInfo]
    default: str | None = None

    def of_kind(self, *kinds: str) -> list[ModelInfo]:
        """The entries whose :attr:`ModelInfo.kind` is one of ``kinds`` (``"pipeline"``, ``"checkpoint"``,
        ``"lora"``, ``"vae"``, ``"text_encoder"``), in listing order."""
        return [m for m in self.data if m.kind in kinds]


#: A Hugging Face repo id ``org/name`` (what ``POST /v1/models/downloads`` takes).
REPO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$"
#: Download ids are made by the server: ``dl_`` and 12 hex digits.
DOWNLOAD_ID_PATTERN = r"^dl_[0-9a-f]{12}$"
#: A download's status: ``queued``, ``running``, then ``succeeded``, ``failed`` or ``cancelled``.
DownloadStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class DownloadRequest(_Request):
    """``POST /v1/models/downloads``: what to download into the server's Hugging Face cache.

    Attributes:
        id: the repo id ``org/name``; revision: branch, tag or commit (None: the default branch);
        include: glob patterns of the files to fetch (None: all), e.g. ``["transformer/*"]``.
    """

    id: str = Field(pattern=REPO_ID_PATTERN, description="Hugging Face repo id, org/name")
    revision: str | None = Field(None, max_length=200, description="branch, tag or commit; null: the default")
    include: list[Annotated[str, Field(max_length=500)]] | None = Field(
        None, max_length=50, description="glob patterns of the files to fetch"
    )


class Download(_Model):
    """One model download and its progress (``GET /v1/models/downloads/{download_id}``).

    Attributes:
        download_id: server-made id (``dl_...``); id: the repo id; revision: as asked (None: default branch).
        status: :data:`DownloadStatus`. done_bytes, total_bytes: bytes fetched in this run and bytes it has to
        fetch (files already in the cache are not counted); bytes_per_second: mean speed since it started;
        eta_seconds: seconds left (None while unknown); folder: the snapshot folder once succeeded; error: why
        it failed.
    """

    download_id: str
    id: str
    revision: str | None = None
    status: DownloadStatus = Field(description="queued, running, succeeded, failed or cancelled")
    done_bytes: int = 0
    total_bytes: int = 0
    bytes_per_second: float = 0.0
    eta_seconds: float | None = None
    folder: str | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        """True for succeeded, failed and cancelled downloads."""
        return self.status in FINISHED


class CachedModel(_Model):
    """One model repo in the server's Hugging Face cache (``GET /v1/models/cache``). No path on the server: a
    client names a cached model by its ``id`` (in a request's ``model``, or to remove it).

    Attributes:
        id: the repo id ``org/name``; size: bytes on disk (every cached revision).
        revisions: the cached commit hashes, newest first; refs: the branch names that point at them.
        family, variant: the VidStudio pipeline family and variant of the newest revision (``""`` for a repo
            that is not one of VidStudio's pipelines, or not complete enough to tell).
    """

    id: str
    size: int
    revisions: list[str] = Field(default_factory=list)
    refs: list[str] = Field(default_factory=list)
    family: str = ""
    variant: str = ""
    source: Literal["huggingface"] = "huggingface"


class CacheRemoval(_Model):
    """``DELETE /v1/models/cache/{org}/{name}``: the repo removed and the bytes freed."""

    id: str
    freed_bytes: int


class NodesDocument(_Model):
    """``GET /v1/nodes``: the node types the worker runs (``vidstudio nodes --json``'s document).

    Attributes:
        nodes: one description per type (ports, parameters, source plugin, availability).
        capabilities: the model families and the controls they honour.
        source: ``"worker"`` (what the running worker loaded, plugins included) or ``"server"`` (built-in types
            and plugin manifests, while the worker starts).
    """

    nodes: list[dict[str, Any]]
    capabilities: dict[str, Any] = Field(default_factory=dict)
    source: Literal["worker", "server"] = "server"


#: A plugin's name as manifests spell it (what ``POST /v1/plugins/{name}/enable`` takes).
PLUGIN_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,99}$"


class ServerPlugin(_Model):
    """One plugin the server knows (from its manifest; the server process never imports plugin code).

    Attributes:
        name, version: as its manifest says.
        status: ``enabled`` (its node types can be used), ``disabled`` (by the server's owner, or by the server
            after it crashed the worker: see ``crashed``), ``failed`` (bad manifest, import error) or
            ``incompatible`` (its API range excludes this VidStudio).
        reason: why it cannot be used, in one line with what to do (None when enabled).
        crashed: True when the server disabled it because the GPU worker died while its code ran; ``POST
            /v1/plugins/{name}/enable`` enables it again.
        node_types: the type ids of its nodes.
    """

    name: str
    version: str = ""
    status: Literal["enabled", "disabled", "failed", "incompatible"]
    reason: str | None = None
    crashed: bool = False
    node_types: list[str] = Field(default_factory=list)


class PluginList(_Model):
    """``GET /v1/plugins``: every plugin the server knows, by name."""

    object: Literal["list"] = "list"
    data: list[ServerPlugin]

    def disabled(self) -> list[ServerPlugin]:
        """The plugins whose status is ``disabled`` (crashed or by the server's owner)."""
        return [p for p in self.data if p.status == "disabled"]


class WorkerInfo(_Model):
    """The GPU worker process.

    Attributes:
        state: ``starting``, ``ready`` (idle), ``busy`` (running a job), ``died`` (waiting to restart) or
            ``stopped``; pid: its process id (None when there is none).
        restarts: how many times it was started again after dying; last_exit: why it last died.
        current_job: the job it runs; loaded_model: the pipeline it keeps loaded (None before the first
        generation); pipeline_loads: how many times it loaded a pipeline.
        device: the device it renders on, in words (``"cuda: NVIDIA H200, 140 GiB (torch 2.13.0)"``,
        ``"cpu: no GPU (torch ...)"``); None until the worker has looked, a few seconds after it starts.
    """

    state: Literal["starting", "ready", "busy", "died", "stopped"]
    pid: int | None = None
    restarts: int = 0
    last_exit: str | None = None
    current_job: str | None = None
    loaded_model: str | None = None
    pipeline_loads: int = 0
    device: str | None = None


class ActorInfo(_Model):
    """One worker of a pool (``vidstudio serve --ray``): a Ray actor that keeps its pipeline between jobs.

    Attributes:
        name: the actor's name in the ``vidstudio`` Ray namespace (a replacement gets a new name).
        state: ``pending`` (asked for and not answering yet: still starting, or waiting for room on the cluster,
            such as a free GPU; ``detail`` says which), ``ready`` (idle), ``busy``, ``died`` (being replaced) or
            ``stopped``; detail: what it waits for, in words (None when it waits for nothing).
        pid, node: its process id and the address of the node it runs on; device: its render device in words.
        current_job: the job it runs; loaded_model: the model id of the pipeline it keeps loaded; pipeline_loads:
            how many times it loaded a pipeline; jobs_run: jobs it finished.
        restarts: how many actors this slot has replaced; last_exit: why the last one died, in words.
    """

    name: str
    state: Literal["pending", "ready", "busy", "died", "stopped"]
    detail: str | None = None
    pid: int | None = None
    node: str | None = None
    device: str | None = None
    current_job: str | None = None
    loaded_model: str | None = None
    pipeline_loads: int = 0
    jobs_run: int = 0
    restarts: int = 0
    last_exit: str | None = None


class PoolInfo(_Model):
    """The pool of workers of ``vidstudio serve --ray`` (absent from :class:`Health` with the one local worker).

    Attributes:
        kind: ``"ray"``; address: the cluster's address (``auto``: a local instance the server started).
        actors: one entry per slot; size, busy, idle, pending: counts over ``actors``.
        models_loaded: the model ids loaded on some actor (sorted, no repeats).
        retries: how many times a job whose actor died is run again before it fails.
        resources: the cluster's total resources (``{"CPU": 16.0, "GPU": 4.0, ...}``), as Ray reports them.
    """

    kind: Literal["ray"] = "ray"
    address: str | None = None
    actors: list[ActorInfo] = Field(default_factory=list)
    size: int = 0
    busy: int = 0
    idle: int = 0
    pending: int = 0
    models_loaded: list[str] = Field(default_factory=list)
    retries: int = 0
    resources: dict[str, float] = Field(default_factory=dict)


class ServerInfo(_Model):
    """The server process: ``pid``, ``version`` and ``heavy_modules`` (GPU or GUI libraries it has loaded,
    which it never should: always empty)."""

    pid: int
    version: str
    heavy_modules: list[str] = Field(default_factory=list)


class Health(_Model):
    """``GET /v1/health``.

    Attributes:
        status: ``"ok"``; api_version: :data:`API_VERSION`; auth: whether requests need a token.
        server, worker: the two processes (with a pool, ``worker`` sums the pool up); queued, running: job
        counts; default_model: the default model id; pool: the pool of Ray actors (None: one local worker).
    """

    status: Literal["ok"] = "ok"
    api_version: str = API_VERSION
    auth: bool = False
    server: ServerInfo
    worker: WorkerInfo
    queued: int = 0
    running: int = 0
    default_model: str | None = None
    pool: PoolInfo | None = None


# ---------------------------------------------------------------------------------------------- errors
class ErrorDetail(_Model):
    """One problem: ``field`` (a dotted path into the request, e.g. ``duration_seconds`` or
    ``project.nodes.cam.params.zoom``; None for the request as a whole) and ``message``."""

    field: str | None = None
    message: str


class ErrorInfo(_Model):
    """What went wrong: ``type`` (``invalid_request``, ``unauthorized``, ``not_found``, ``conflict``,
    ``too_large``, ``unsupported_media_type``, ``internal``), ``message`` (every problem, each naming its
    field), ``field`` (the first problem's field) and ``details`` (one entry per problem)."""

    type: str
    message: str
    field: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(_Model):
    """Every 4xx/5xx answer: ``{"error": {...}}``."""

    error: ErrorInfo


# ---------------------------------------------------------------------------------------------- events
class _Event(_Model):
    seq: int = Field(0, description="Increases by one per event the server sends (across all connections).")
    time: float = Field(0.0, description="When the server sent it (Unix seconds).")


class HelloEvent(_Event):
    """The first message on a connection: the jobs queued or running now and the worker's state."""

    type: Literal["hello"] = "hello"
    jobs: list[Job] = Field(default_factory=list)
    worker: WorkerInfo


class JobEvent(_Event):
    """A job was queued, started, finished, or asked to cancel: its whole record."""

    type: Literal["job"] = "job"
    job: Job


class ProgressEvent(_Event):
    """A job's progress changed (a node started or finished, a denoising step ended).

    Attributes:
        id: the job; progress: where it is; eta: seconds left (estimate);
        worker_time: when the worker measured it (Unix seconds; latency = ``time`` - ``worker_time``).
    """

    type: Literal["progress"] = "progress"
    id: str
    progress: Progress
    eta: float | None = None
    worker_time: float | None = None


class PreviewEvent(_Event):
    """A preview image of a denoising step.

    Attributes:
        id: the job; node: the generating node; step, total: the step it shows;
        image: base64 JPEG (see :meth:`jpeg`); width, height: its size in pixels (latent resolution, or pixel
        resolution with a tiny autoencoder); worker_time: when the worker made it (Unix seconds).
    """

    type: Literal["preview"] = "preview"
    id: str
    node: str
    step: int
    total: int
    image: str
    width: int
    height: int
    worker_time: float | None = None

    def jpeg(self) -> bytes:
        """The JPEG file bytes of :attr:`image`."""
        return base64.b64decode(self.image)


class WorkerEvent(_Event):
    """The worker process changed state (started, became ready, died, restarted)."""

    type: Literal["worker"] = "worker"
    worker: WorkerInfo


class DownloadEvent(_Event):
    """A model download (``POST /v1/models/downloads``) started, progressed (at most five a second), or finished:
    its whole record. Sent to every connection, also those that follow one job."""

    type: Literal["download"] = "download"
    download: Download


#: A message of ``WS /v1/events`` (JSON object with ``type``).
Event = Annotated[
    Union[HelloEvent, JobEvent, ProgressEvent, PreviewEvent, WorkerEvent, DownloadEvent], Field(discriminator="type")
]
#: Validates an :data:`Event` from JSON: ``EventAdapter.validate_json(text)``.
EventAdapter: TypeAdapter = TypeAdapter(Event)


def parse_event(
    text: str | bytes,
) -> HelloEvent | JobEvent | ProgressEvent | PreviewEvent | WorkerEvent | DownloadEvent:
    """Parses one WebSocket message into its event model.

    Raises:
        pydantic.ValidationError: for a message that is not a known event.
    """
    return EventAdapter.validate_json(text)
