"""``vidstudio plugins list | info | install | uninstall | enable | disable``: manage node plugins (``enable NAME
--server URL``: on a generation server that disabled the plugin after it crashed the worker).

Plugins come from installed packages (entry point group ``vidstudio.nodes``) and from the user plugins folder
(``$VIDSTUDIO_PLUGINS_DIR``, default in the user data folder). ``install`` shows the plugin's manifest and
permissions and asks before anything runs; pip installs into the Python environment VidStudio runs in.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio plugins list|info|install|uninstall|enable|disable`` to the subcommand parser."""
    p = sub.add_parser(
        "plugins",
        help="list, inspect, install, enable or disable node plugins",
        description="Manage node plugins. Plugins come from installed packages (entry point group "
        "'vidstudio.nodes') and from the user plugins folder ($VIDSTUDIO_PLUGINS_DIR, default in the "
        "user data folder). 'install' shows the plugin's manifest and permissions and asks first; pip "
        "installs into the Python environment VidStudio runs in.",
    )
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    ps = p.add_subparsers(dest="plugins_command", metavar="ACTION")

    q = ps.add_parser("list", help="every plugin with its status (enabled, disabled, failed, incompatible)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.add_argument("--check", action="store_true", help="import each enabled plugin now, to find import errors")
    q.set_defaults(func=run_list)

    q = ps.add_parser("info", help="a plugin's manifest, permissions, nodes, status and errors")
    q.add_argument("name")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.add_argument("--check", action="store_true", help="import the plugin now (if enabled), to find import errors")
    q.set_defaults(func=run_info)

    q = ps.add_parser(
        "install",
        help="install a plugin folder, a wheel or a package (asks first)",
        description="Installs a plugin folder (copied into the plugins folder, its requirements "
        "through pip), a package folder, a wheel or source archive, or a package name (through pip, "
        "into this Python environment). Shows the manifest and permissions and asks first. pip's own "
        "settings apply (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX...).",
    )
    q.add_argument("target", metavar="PATH_OR_PACKAGE")
    q.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    q.set_defaults(func=run_install)

    q = ps.add_parser("uninstall", help="remove a plugin (pip uninstall, or delete its folder)")
    q.add_argument("name")
    q.set_defaults(func=run_uninstall)

    q = ps.add_parser("enable", help="enable a disabled plugin (here, or on a server that disabled it after a crash)")
    q.add_argument("name")
    q.add_argument(
        "--server",
        metavar="URL",
        help="enable it on this VidStudio server, which disabled it because its GPU worker crashed in the "
        "plugin's code (POST /v1/plugins/NAME/enable)",
    )
    q.add_argument("--token", help="the server's token (default: $VIDSTUDIO_SERVER_TOKEN)")
    q.set_defaults(func=lambda args: _enable_on_server(args) if args.server else _set_enabled(args.name, True))

    q = ps.add_parser("disable", help="disable a plugin (its nodes become unavailable; projects keep them)")
    q.add_argument("name")
    q.set_defaults(func=lambda args: _set_enabled(args.name, False))


def _manager():
    from vidstudio.plugins import PluginManager

    m = PluginManager()
    for w in m.warnings:
        print(f"vidstudio: warning: {w}", file=sys.stderr)
    for c in m.crashed:
        print(f"vidstudio: warning: {c.message}", file=sys.stderr)
    return m


def run_list(args: argparse.Namespace) -> int:
    """``vidstudio plugins list``: every plugin with its status; returns the exit status."""
    from vidstudio.api import API_VERSION

    m = _manager()
    if args.check:
        for p in m.plugins:
            if p.status == "enabled" and not p.loaded:
                m.load(p.name)
    plugins = m.plugins
    if args.json:
        doc = {
            "api_version": API_VERSION,
            "plugins_dir": str(m.plugins_dir),
            "config": str(m.state_file),
            "plugins": [p.to_json() for p in plugins],
        }
        print(json.dumps(doc, indent=2))
        return 0
    if not plugins:
        print(f"no plugins installed (plugins folder: {m.plugins_dir})")
        return 0
    w = max(len(p.name) for p in plugins)
    print(f"{'NAME':<{w}}  {'VERSION':<9} {'STATUS':<12} {'ORIGIN':<8} NODES")
    for p in plugins:
        nodes = ", ".join(n.name for n in p.nodes) or "-"
        print(f"{p.name:<{w}}  {p.version or '?':<9} {p.status:<12} {p.origin:<8} {nodes}")
        if p.error:
            print(f"{'':<{w}}  error: {p.error}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """``vidstudio plugins info NAME``: one plugin's manifest facts, nodes and errors; returns the exit status."""
    from vidstudio.api import API_VERSION
    from vidstudio.plugins.manifest import PERMISSIONS

    m = _manager()
    p = m.get(args.name)
    if args.check and p.status == "enabled":
        p = m.load(p.name)
    if args.json:
        print(json.dumps(p.to_json(), indent=2))
        return 0
    d = p.to_json()
    print(f"{p.name} {p.version or '?'}: {p.title}")
    if d["description"]:
        print(f"  {d['description']}")
    note = " (and disabled by you)" if not p.enabled and p.status != "disabled" else ""
    print(f"  status:       {p.status}{note}" + (", loaded" if p.loaded else ""))
    if p.error:
        print(f"  error:        {p.error}")
    print(f"  author:       {d['author'] or '-'}")
    print(f"  licence:      {d['license'] or '-'}")
    print(f"  homepage:     {d['homepage'] or '-'}")
    print(f"  node API:     {d['api_versions'] or '?'} (this VidStudio: {API_VERSION})")
    print(f"  origin:       {p.origin}" + (f" (package {p.distribution})" if p.distribution else ""))
    print(f"  location:     {p.location or '-'}")
    print(f"  requirements: {', '.join(d['requirements']) or 'none'}")
    if p.permissions:
        print("  permissions (declared by the author; VidStudio cannot enforce them):")
        for key, reason in p.permissions.items():
            print(f"    {key:<11} {reason}  [{PERMISSIONS.get(key, '')}]")
    else:
        print("  permissions:  none declared")
    print(f"  category:     {p.category}")
    print("  nodes:")
    for n in p.nodes:
        where = " (runs only on the generation backend)" if n.runs_on == "backend" else ""
        print(f"    {n.type_id:<32} {n.title}" + (f": {n.description}" if n.description else "") + where)
    if p.error_details and p.error_details.strip() != (p.error or "").strip():
        print("  details:")
        for line in p.error_details.rstrip().splitlines():
            print(f"    {line}")
    return 0


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", flush=True)
    try:
        answer = sys.stdin.readline() if sys.stdin else ""
    except (OSError, ValueError):
        answer = ""
    if not answer or not sys.stdin.isatty():
        print()
    return answer.strip().lower() in ("y", "yes")


def run_install(args: argparse.Namespace) -> int:
    """``vidstudio plugins install TARGET``: shows the plan and its warning, asks, installs; returns the exit status
    (0 installed; 1 when the question is declined, with nothing changed)."""
    from vidstudio.api import API_VERSION
    from vidstudio.plugins.install import describe_plan, inspect_target, install, scratch_dir
    from vidstudio.plugins.manager import PluginError

    m = _manager()
    with scratch_dir() as work:
        from pathlib import Path

        plan = inspect_target(args.target, Path(work))
        for line in describe_plan(plan, m):
            print(line)
        ok, why = plan.manifest.compatible(API_VERSION)
        if not ok:
            raise PluginError(why)
        if not args.yes and not _confirm(f"Install {plan.manifest.name} {plan.manifest.version}?"):
            # Declining is an answer, not an interruption: exit 1 (130 is for Ctrl-C), and say nothing changed.
            print(
                f"vidstudio: {plan.manifest.name} was not installed; nothing changed (answer y, or pass --yes)",
                file=sys.stderr,
            )
            return 1
        info = install(plan, m)
    nodes = ", ".join(n.type_id for n in info.nodes)
    print(f"installed {info.name} {info.version} ({info.origin}): {nodes}")
    if not info.enabled:
        print(f"note: {info.name} is disabled; enable it with: vidstudio plugins enable {info.name}")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    """``vidstudio plugins uninstall NAME``: removes a plugin; returns the exit status."""
    from vidstudio.plugins.install import uninstall

    info = uninstall(args.name, _manager())
    print(f"uninstalled {info.name} {info.version}; projects that use its nodes keep them and open with placeholders")
    return 0


def _enable_on_server(args: argparse.Namespace) -> int:
    """``vidstudio plugins enable NAME --server URL``: enables again a plugin the server disabled after a crash.

    Raises:
        vidstudio.client.ClientError: unreachable server, wrong token, unknown plugin (404), or a plugin the
            server's owner disabled (409): exit 2 with the server's message.
    """
    import os

    from vidstudio.client import Client
    from vidstudio.protocol.constants import TOKEN_ENV

    with Client(args.server, args.token or os.environ.get(TOKEN_ENV) or None) as client:
        info = client.enable_plugin(args.name)
    extra = "" if info.status == "enabled" else f" but it is {info.status}: {info.reason}"
    print(f"enabled {info.name} on {args.server}{extra}; the server's worker loads it once it is idle")
    return 0


def _set_enabled(name: str, enabled: bool) -> int:
    m = _manager()
    before = m.get(name)
    if before.enabled == enabled:
        print(f"{name} is already {'enabled' if enabled else 'disabled'}")
        return 0
    info = m.set_enabled(name, enabled)
    if enabled:
        extra = "" if info.status == "enabled" else f" but it is {info.status}: {info.error}"
        print(f"enabled {name}{extra}")
    else:
        print(f"disabled {name}: its nodes are unavailable until you enable it again; projects keep them")
    return 0
