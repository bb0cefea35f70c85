"""The plugins the server knows: ``GET /v1/plugins`` (each with its status and, when it cannot be used, why) and
``POST /v1/plugins/{name}/enable`` (enable again a plugin the server disabled because the GPU worker died while
its code ran).

A crash inside a plugin's code (a segfault in an extension, ``os._exit``) kills the worker; its crash marker
names the plugin (:mod:`vidstudio.plugins.manager`), the supervisor fails the job naming it and disables the
plugin in ``<data_dir>/plugins.json`` before the next worker starts. Jobs that use its node types are then
refused (422, naming the plugin and this route) until it is enabled again. Enabling rebuilds the server's
registry and restarts the worker once it is idle, so that the new worker loads the plugin.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam

from vidstudio.protocol.constants import PLUGIN_ENABLE, PLUGINS
from vidstudio.protocol.models import PLUGIN_NAME_PATTERN, PluginList, ServerPlugin
from vidstudio.server.deps import Manager, require_token
from vidstudio.server.errors import ERRORS, ApiError

router = APIRouter(tags=["plugins"], dependencies=[Depends(require_token)], responses=ERRORS)


def plugin_list(plugins) -> PluginList:
    """The API view of a :class:`vidstudio.plugins.PluginManager` (no paths on the server)."""
    plugins.reload_crash_state()
    out: dict[str, ServerPlugin] = {}
    for p in plugins.plugins:  # sorted by name, the one in use first where several share a name
        out.setdefault(
            p.name,
            ServerPlugin(
                name=p.name,
                version=p.version,
                status=p.status,
                reason=None if p.usable else plugins.unavailable_reason(p.name),
                crashed=p.name in plugins.crash_disabled,
                node_types=[n.type_id for n in p.nodes],
            ),
        )
    return PluginList(data=list(out.values()))


@router.get(PLUGINS, response_model=PluginList, summary="The plugins this server knows, each with its status")
async def list_plugins(request: Request) -> PluginList:
    return plugin_list(request.app.state.plugins)


@router.post(
    PLUGIN_ENABLE, response_model=ServerPlugin, summary="Enable again a plugin the server disabled after a crash"
)
async def enable_plugin(
    request: Request, manager: Manager, name: str = PathParam(pattern=PLUGIN_NAME_PATTERN)
) -> ServerPlugin:
    from vidstudio.plugins.manager import PluginError, clear_crash_disabled

    plugins = request.app.state.plugins
    try:
        plugins.get(name)
    except PluginError as e:
        raise ApiError(404, "not_found", str(e).split(" (installed")[0], "name") from None
    state = plugins.crash_state
    try:
        cleared = clear_crash_disabled(state, name)
    except OSError as e:
        raise ApiError(500, "internal", f"cannot save the server's plugin settings: {e.strerror or e}") from None
    if not cleared:
        info = next(p for p in plugin_list(plugins).data if p.name == name)
        if info.status == "enabled":
            return info
        raise ApiError(
            409,
            "conflict",
            f"plugin '{name}' was not disabled after a crash; {info.reason}. This route enables only what the "
            "server disabled itself; the server's owner enables the rest with `vidstudio plugins enable` there",
            "name",
        )
    request.app.state.rebuild_registry()
    manager.nodes_doc = None  # the worker's description has the plugin unavailable: the new worker's replaces it
    manager.restart_worker_when_idle(f"plugin '{name}' was enabled again; a new worker loads it")
    return next(p for p in plugin_list(plugins).data if p.name == name)
