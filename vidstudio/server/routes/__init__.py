"""The server's routes, one :class:`fastapi.APIRouter` per resource (FastAPI's "Bigger Applications" layout):

* :mod:`~vidstudio.server.routes.health`: ``/v1/health``, ``/v1/nodes``, ``/v1/models`` (the service and its
  catalogue);
* :mod:`~vidstudio.server.routes.assets`: uploaded images (``/v1/assets``) and the files of a job (its MP4,
  frames, preview);
* :mod:`~vidstudio.server.routes.generations`: queue, list, look at and cancel jobs;
* :mod:`~vidstudio.server.routes.events`: the WebSocket ``/v1/events``;
* :mod:`~vidstudio.server.routes.plugins`: ``/v1/plugins`` (status, and enabling a plugin that crashed the
  worker).

Each router requires the token (:func:`vidstudio.server.deps.require_token`) and reaches the store, the queue and
the model catalogue through :mod:`vidstudio.server.deps`. :func:`vidstudio.server.app.create_app` includes them
all (:data:`ROUTERS`). A new route goes into the module of its resource, or a new module listed here.

The route functions have no docstrings on purpose: FastAPI would publish one as the operation's description
and change the OpenAPI document that clients know; each route's ``summary=`` says what it does.
"""

from vidstudio.server.routes import assets, events, generations, health, plugins

#: Every router, in the order the app includes them.
ROUTERS = (health.router, assets.router, generations.router, events.router, plugins.router)

__all__ = ["ROUTERS", "assets", "events", "generations", "health", "plugins"]
