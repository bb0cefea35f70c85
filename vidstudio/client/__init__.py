"""The one way the command line and the GUI talk to a generation server.

* :class:`Client`: blocking calls (health, nodes, models, upload, submit a project or a simple request, jobs,
  job status, cancel, download, frames, previews, ``wait``, ``result``), safe from any thread;
* :class:`EventStream`: one connection to the WebSocket of queue changes, progress and preview images
  (``Client.events``);
* :class:`EventFeed`: the connection owned for you: follows the events across reconnections (with a back-off),
  resyncs the jobs it tracks, reports a job gone from the server (:mod:`vidstudio.client.feed`);
* :class:`LocalServer`: start ``vidstudio serve`` in the background on a free loopback port with a fresh token,
  and stop it;
* errors by type (:mod:`vidstudio.client.errors`): :class:`ClientError` and its kinds
  :class:`ServerUnreachable`, :class:`ServerRefused` (:class:`TokenRefused`, :class:`NotFound`,
  :class:`Conflict`), :class:`ServerFailed`, :class:`StreamClosed`, :class:`JobFailed`, :class:`JobCancelled`.

The data are the models of :mod:`vidstudio.protocol`. Imports neither the server nor torch nor Qt.
"""

from vidstudio.client.client import Client, EventStream
from vidstudio.client.errors import (
    ClientError,
    Conflict,
    InvalidServerUrl,
    JobCancelled,
    JobFailed,
    LocalServerFailed,
    NotFound,
    ServerError,
    ServerFailed,
    ServerRefused,
    ServerUnreachable,
    StreamClosed,
    TokenRefused,
)
from vidstudio.client.feed import Connected, Disconnected, EventFeed, JobMissing, Synced, wait_for_job
from vidstudio.client.local import LocalServer

__all__ = [
    "Client",
    "ClientError",
    "Conflict",
    "Connected",
    "Disconnected",
    "EventFeed",
    "EventStream",
    "InvalidServerUrl",
    "JobCancelled",
    "JobFailed",
    "JobMissing",
    "LocalServer",
    "LocalServerFailed",
    "NotFound",
    "ServerError",
    "ServerFailed",
    "ServerRefused",
    "ServerUnreachable",
    "StreamClosed",
    "Synced",
    "TokenRefused",
    "wait_for_job",
]
