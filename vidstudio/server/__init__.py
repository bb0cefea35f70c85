"""The generation server (``vidstudio serve``): an HTTP + WebSocket API on FastAPI/uvicorn over the job queue.

* :mod:`vidstudio.server.app`: :class:`ServerConfig` and :func:`create_app` (one app that includes the routers);
* :mod:`vidstudio.server.routes`: the routers, one per resource (health and catalogue, assets, generations,
  events); :mod:`vidstudio.server.deps`: their dependencies (token check, store, queue, catalogue, registry);
  :mod:`vidstudio.server.errors`: the error answers;
* :mod:`vidstudio.server.run`: :func:`serve` (address checks, the socket, uvicorn);
* :mod:`vidstudio.server.build`: requests -> the project the worker runs (checks that name the field);
* :mod:`vidstudio.server.models`: the models the server can load, by id;
* :mod:`vidstudio.server.security`: loopback and token rules, body size limits.

The server process never imports torch, diffusers or Qt, nor any plugin's code: generation runs in the worker
process (:mod:`vidstudio.jobs`). See ``docs/server.md``.
"""
