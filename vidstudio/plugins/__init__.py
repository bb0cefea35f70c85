"""Plugins: node types other people wrote, found, described, enabled and loaded without risking the rest.

* :mod:`vidstudio.plugins.manifest`: the ``vidstudio-plugin.toml`` manifest (facts, node list, permissions).
* :mod:`vidstudio.plugins.manager`: discovery (entry point group ``vidstudio.nodes`` and the user plugins
  folder), enable/disable state, lazy isolated loading, and :func:`add_plugins` which
  :func:`vidstudio.nodes.default_registry` calls.
* :mod:`vidstudio.plugins.install`: install and uninstall (pip into the application's environment, or a copy
  into the plugins folder), used by ``vidstudio plugins``.

The node API plugins program against is :mod:`vidstudio.api`. Headless: no Qt, no torch.
"""

from vidstudio.plugins.manager import (
    DISABLED,
    ENABLED,
    ENTRY_POINT_GROUP,
    FAILED,
    INCOMPATIBLE,
    PluginError,
    PluginInfo,
    PluginLoadError,
    PluginManager,
    PluginNode,
    add_plugins,
    config_dir,
    plugins_dir,
)
from vidstudio.plugins.manifest import (
    MANIFEST_NAME,
    PERMISSIONS,
    Manifest,
    ManifestError,
    NodeEntry,
    load_manifest,
    parse_manifest,
)

__all__ = [
    "DISABLED",
    "ENABLED",
    "ENTRY_POINT_GROUP",
    "FAILED",
    "INCOMPATIBLE",
    "PluginError",
    "PluginInfo",
    "PluginLoadError",
    "PluginManager",
    "PluginNode",
    "add_plugins",
    "config_dir",
    "plugins_dir",
    "MANIFEST_NAME",
    "PERMISSIONS",
    "Manifest",
    "ManifestError",
    "NodeEntry",
    "load_manifest",
    "parse_manifest",
]
