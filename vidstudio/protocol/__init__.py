"""The generation server's API as data: requests, job records, progress, events, errors (pydantic models).

No I/O and no imports from the rest of VidStudio: the GUI, the command line, the client and the server all use
these models, and importing them is cheap. The wire format is JSON; :mod:`vidstudio.protocol.models` documents
every field, :mod:`vidstudio.protocol.constants` what else server and client share (routes, event names, header
and environment names, the default address, limits).
"""

from vidstudio.protocol import constants
from vidstudio.protocol.models import (
    API_VERSION,
    ASSET_ID_PATTERN,
    FINISHED,
    JOB_ID_PATTERN,
    ActorInfo,
    Asset,
    ErrorDetail,
    ErrorInfo,
    ErrorResponse,
    Event,
    EventAdapter,
    GenerationRequest,
    Health,
    HelloEvent,
    Job,
    JobEvent,
    JobList,
    JobOutput,
    JobStatus,
    ModelInfo,
    ModelList,
    NodesDocument,
    PoolInfo,
    PreviewEvent,
    Progress,
    ProgressEvent,
    ProjectGeneration,
    ServerInfo,
    SimpleGeneration,
    WorkerEvent,
    WorkerInfo,
    parse_event,
)

__all__ = [
    "constants", "API_VERSION", "ASSET_ID_PATTERN", "FINISHED", "JOB_ID_PATTERN", "ActorInfo", "Asset", "ErrorDetail",
    "ErrorInfo",
    "ErrorResponse", "Event", "EventAdapter", "GenerationRequest", "Health", "HelloEvent", "Job", "JobEvent",
    "JobList", "JobOutput", "JobStatus", "ModelInfo", "ModelList", "NodesDocument", "PoolInfo", "Progress", "ProgressEvent",
    "PreviewEvent", "ProjectGeneration", "ServerInfo", "SimpleGeneration", "WorkerEvent", "WorkerInfo",
    "parse_event",
]
