"""The one way the command line and the GUI talk to a generation server.

* :class:`Client`: blocking calls (health, nodes, models, upload, submit a project or a simple request, jobs,
  job status, cancel, download, frames, previews, ``wait``), safe from any thread;
* :class:`EventStream`: the WebSocket of queue changes, progress and preview images (``Client.events``);
* :class:`LocalServer`: start ``vidstudio serve`` in the background on a free loopback port with a fresh token,
  and stop it;
* :class:`ServerError`: what the server refused (its message names the field) or that it cannot be reached;
  :class:`StreamClosed`: the event stream ended.

The data are the models of :mod:`vidstudio.protocol`. Imports neither the server nor torch nor Qt.
"""

from vidstudio.client.client import Client, EventStream, ServerError, StreamClosed
from vidstudio.client.local import LocalServer

__all__ = ["Client", "EventStream", "LocalServer", "ServerError", "StreamClosed"]
