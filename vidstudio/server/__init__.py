"""The generation server (``vidstudio serve``): an HTTP + WebSocket API on FastAPI/uvicorn over the job queue.

* :mod:`vidstudio.server.app`: :class:`ServerConfig` and :func:`create_app` (the routes);
* :mod:`vidstudio.server.run`: :func:`serve` (address checks, the socket, uvicorn);
* :mod:`vidstudio.server.build`: requests -> the project the worker runs (checks that name the field);
* :mod:`vidstudio.server.models`: the models the server can load, by id;
* :mod:`vidstudio.server.security`: loopback and token rules, body size limits.

The server process never imports torch, diffusers or Qt, nor any plugin's code: generation runs in the worker
process (:mod:`vidstudio.jobs`). See ``docs/server.md``.
"""
