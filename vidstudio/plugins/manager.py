"""Plugin discovery, enable/disable state, and lazy, isolated loading of plugin node classes.

Plugins come from two places:

* installed distributions that declare the entry point group ``vidstudio.nodes``; the entry point names
  the plugin's package (``example_nodes = "vidstudio_example_nodes"``), whose folder holds the manifest
  ``vidstudio-plugin.toml``. The folder is located with :func:`importlib.util.find_spec` on the top-level
  name, which does not run the package.
* the user plugins folder (:func:`plugins_dir`): each sub-folder is a plugin with a manifest and its module
  (``<folder>/vidstudio-plugin.toml`` and ``<folder>/<module>/__init__.py`` or ``<folder>/<module>.py``).

Discovery reads manifests only. A plugin's module is imported the first time one of its node types is needed
(:meth:`vidstudio.graph.NodeRegistry.get`). Nothing a plugin does can stop the others or VidStudio from
starting: a bad manifest, an incompatible API range, an import that raises (even ``SystemExit``), or a node
class that is missing or malformed is recorded with the plugin's name and the error, and its node types are
marked unavailable with that reason (napari/npe2 style). The outcome of an import is shared by every
:class:`PluginManager` in the process, as Python's modules are.

Three more guards keep a plugin from taking VidStudio down:

* a folder plugin whose module name is already an installed module's (``imageio_ffmpeg``, ``json``) is refused
  as a name clash at discovery, before it could shadow that module;
* a plugin's import runs in a helper thread with a time limit (:data:`IMPORT_TIMEOUT`, or
  ``$VIDSTUDIO_PLUGIN_IMPORT_TIMEOUT`` seconds): one that hangs fails "did not finish importing in N s" while
  the caller goes on, and a ``KeyboardInterrupt`` or ``SystemExit`` it raises is its failure, never the
  process's (a real Ctrl-C reaches the main thread, not the helper);
* while plugin code runs (its import, a node's ``execute``), a crash marker names it in
  ``<config_dir>/running-plugins/``; a process that dies there (a segfault in an extension) leaves the marker
  behind, and the next :class:`PluginManager` reads it, disables the plugin and reports it in
  :attr:`PluginManager.crashed`, so that VidStudio opens with it disabled and can offer to re-enable it
  (Blender's safe start after a crash, with the culprit named). A generation server's worker is the exception:
  its supervisor takes the markers (:func:`take_markers`), names the plugin on the job and disables it on that
  server only, in the server's own state file (:func:`record_crash_disabled`, read through ``crash_state``).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from vidstudio.api import API_VERSION
from vidstudio.errors import VidStudioError
from vidstudio.plugins.manifest import MANIFEST_NAME, PERMISSIONS, Manifest, ManifestError, load_manifest, peek_name

if TYPE_CHECKING:  # pragma: no cover
    from vidstudio.graph.node import Node
    from vidstudio.graph.registry import NodeRegistry

#: The entry point group installed plugin packages declare.
ENTRY_POINT_GROUP = "vidstudio.nodes"
#: The file under :func:`config_dir` that records disabled plugins: ``{"disabled": ["name", ...]}``.
STATE_FILE = "plugins.json"
#: The folder under :func:`config_dir` holding one crash marker per process and thread running plugin code.
MARKERS_DIR = "running-plugins"
#: Set to ``worker`` in the server's worker processes: their crash markers are the supervisor's to report (on
#: the job), never a reason to disable the plugin at the next start of anything.
ROLE_ENV = "VIDSTUDIO_PLUGIN_ROLE"
#: The path of a server's file of plugins disabled there after they crashed its worker
#: (``<data_dir>/plugins.json``); set for the server's worker so that it does not load them either.
CRASH_STATE_ENV = "VIDSTUDIO_PLUGIN_CRASH_STATE"
#: Seconds a plugin's import may take before it counts as hung (``$VIDSTUDIO_PLUGIN_IMPORT_TIMEOUT`` overrides).
IMPORT_TIMEOUT = 30.0

Status = Literal["enabled", "disabled", "failed", "incompatible"]
ENABLED: Status = "enabled"
DISABLED: Status = "disabled"
FAILED: Status = "failed"
INCOMPATIBLE: Status = "incompatible"


class PluginError(VidStudioError):
    """A plugin operation the user asked for cannot be done (unknown name, failed install...)."""


class PluginLoadError(Exception):
    """A plugin's code could not be imported, or a node class it declares is missing or malformed.

    Attributes:
        plugin: the plugin's name.
        unavailable_reason: the sentence the registry shows for its node types
            (``"plugin 'x' failed to import: ModuleNotFoundError: No module named 'y'"``).
        details: the formatted traceback, for plugin authors.
    """

    def __init__(self, plugin: str, message: str, details: str = ""):
        self.plugin = plugin
        self.unavailable_reason = f"plugin '{plugin}' failed to import: {message}"
        self.details = details
        super().__init__(message)


def plugins_dir() -> Path:
    """The user plugins folder: ``$VIDSTUDIO_PLUGINS_DIR``, else ``plugins`` in platformdirs' user data dir."""
    env = os.environ.get("VIDSTUDIO_PLUGINS_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("vidstudio", "VidStudio")) / "plugins"


def config_dir() -> Path:
    """VidStudio's configuration folder: ``$VIDSTUDIO_CONFIG_DIR``, else platformdirs' user config dir."""
    env = os.environ.get("VIDSTUDIO_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("vidstudio", "VidStudio"))


_default_plugins_dir, _default_config_dir = plugins_dir, config_dir


def import_timeout() -> float:
    """Seconds a plugin's import may take: ``$VIDSTUDIO_PLUGIN_IMPORT_TIMEOUT``, else :data:`IMPORT_TIMEOUT`."""
    try:
        return max(0.1, float(os.environ.get("VIDSTUDIO_PLUGIN_IMPORT_TIMEOUT", IMPORT_TIMEOUT)))
    except ValueError:
        return IMPORT_TIMEOUT


@dataclass(frozen=True)
class PluginCrash:
    """A plugin that was running when a VidStudio process died (found from its crash marker).

    Attributes:
        plugin: the plugin's name; what: ``"import"`` or ``"node 'Name'"``; pid: the process that died.
        message: one line for the user, naming the plugin and how to enable it again.
    """

    plugin: str
    what: str
    pid: int

    @property
    def message(self) -> str:
        return (
            f"plugin '{self.plugin}' was running ({self.what}) when VidStudio process {self.pid} stopped "
            f"unexpectedly; it is disabled. Enable it again with `vidstudio plugins enable {self.plugin}`"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


_EXIT_CLEANUP: set[Path] = set()


def _remove_own_markers(folder: Path) -> None:
    for f in folder.glob(f"{os.getpid()}-*.json"):
        with contextlib.suppress(OSError):
            f.unlink()


@contextlib.contextmanager
def running_plugin(plugin: str, what: str, base: Path | None = None):
    """Writes a crash marker naming ``plugin`` for as long as the block runs (plugin code: an import, a node).

    The marker is ``<config_dir>/running-plugins/<pid>-<thread id>.json``; it is removed when the block ends,
    however it ends, so only a process that dies inside the block leaves one. Nested blocks of one thread keep
    the outer marker. Best effort: a config folder that cannot be written only loses the protection.
    """
    folder = (base if base is not None else _default_config_dir()) / MARKERS_DIR
    marker = folder / f"{os.getpid()}-{threading.get_ident()}.json"
    if marker.exists():
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if folder not in _EXIT_CLEANUP:  # a normal exit (even with an import still hanging) blames nobody
            _EXIT_CLEANUP.add(folder)
            atexit.register(_remove_own_markers, folder)
        marker.write_text(
            json.dumps({"plugin": plugin, "what": what, "pid": os.getpid(), "role": os.environ.get(ROLE_ENV, "app")}),
            encoding="utf-8",
        )
    except OSError:
        marker = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.unlink()


_CRASH_NOTICES: list[PluginCrash] = []


def take_crash_notices() -> list[PluginCrash]:
    """The plugin crashes found in this process so far (by any :class:`PluginManager`), each returned once:
    the GUI asks about them at start-up (offering to re-enable the plugin), the command line prints them."""
    with _LOAD_LOCK:
        out = list(_CRASH_NOTICES)
        _CRASH_NOTICES.clear()
    return out


def take_markers(pid: int, base: Path | None = None) -> list[PluginCrash]:
    """Reads and removes the crash markers of process ``pid``, which has ended.

    The server's supervisor calls this when its worker exits: a crash is then reported on the job (naming the
    plugin) instead of disabling the plugin for the next start, and a deliberate kill is not taken for a
    plugin's crash.

    Returns:
        what the markers say was running, one :class:`PluginCrash` per thread (usually none or one).
    """
    folder = (base if base is not None else _default_config_dir()) / MARKERS_DIR
    out = []
    try:
        markers = sorted(folder.glob(f"{int(pid)}-*.json"))
    except OSError:
        return out
    for f in markers:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(f.read_text(encoding="utf-8"))
            out.append(PluginCrash(str(data["plugin"]), str(data.get("what", "")), int(pid)))
        with contextlib.suppress(OSError):
            f.unlink()
    return out


# ---------------------------------------------------------------------------------------------- a server's crashes
def read_crash_disabled(path: Path | None) -> dict[str, dict[str, Any]]:
    """The plugins disabled on a server because they crashed its worker, from its state file ``path``
    (``<data_dir>/plugins.json``: ``{"crashed": {name: {"what", "reason", "job", "at"}}}``).

    Returns:
        ``{plugin name: record}`` (``what``: ``"node 'Name'"`` or ``"import"``;
        ``reason``: how the worker ended, e.g. ``"the GPU worker crashed with a segmentation fault (SIGSEGV)"``;
        ``job``: the job it ran, or None; ``at``: Unix seconds). Empty when ``path`` is None, missing or
        unreadable (an unreadable file never stops the server).
    """
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    crashed = data.get("crashed") if isinstance(data, dict) else None
    if not isinstance(crashed, dict):
        return {}
    return {str(k): v for k, v in crashed.items() if isinstance(v, dict)}


_CRASH_STATE_LOCK = threading.Lock()


def _write_crash_state(path: Path, crashed: dict[str, dict[str, Any]]) -> None:
    from vidstudio.project.io import atomic_write_text

    data: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        old = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(old, dict):
            data = old  # keep keys other versions wrote
    data["crashed"] = crashed
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def record_crash_disabled(path: Path, crash: PluginCrash, reason: str, job: str | None = None) -> None:
    """Disables ``crash.plugin`` on the server whose state file is ``path``: its worker died while the plugin's
    code ran. The server refuses jobs that use its node types and its worker does not load it, until
    :func:`clear_crash_disabled` (``POST /v1/plugins/{name}/enable``).

    Raises:
        OSError: when the file cannot be written.
    """
    with _CRASH_STATE_LOCK:  # the supervisor's thread and the enable route may both write
        crashed = read_crash_disabled(path)
        crashed[crash.plugin] = {"what": crash.what, "reason": reason, "job": job, "at": time.time()}
        _write_crash_state(Path(path), crashed)


def clear_crash_disabled(path: Path, name: str) -> bool:
    """Enables plugin ``name`` again on the server whose state file is ``path``.

    Returns:
        True when it was disabled there (after a crash), False when it was not.

    Raises:
        OSError: when the file cannot be written.
    """
    with _CRASH_STATE_LOCK:
        crashed = read_crash_disabled(path)
        if crashed.pop(name, None) is None:
            return False
        _write_crash_state(Path(path), crashed)
    return True


def crash_disabled_reason(name: str, record: dict[str, Any]) -> str:
    """The sentence a server gives for a plugin it disabled after a crash: what ran, how the worker ended, and
    how to enable it again."""
    job = f" (job {record['job']})" if record.get("job") else ""
    died = record.get("reason") or "the GPU worker died"
    return (
        f"plugin '{name}' is disabled on this server: {died} while its code ran ({record.get('what') or 'unknown'})"
        f"{job}. Enable it again with POST /v1/plugins/{name}/enable "
        f"(`vidstudio plugins enable {name} --server URL`)"
    )


def _guard_execute(cls: type, plugin: str, node_name: str, base: Path) -> None:
    """Wraps the ``execute`` a plugin's node class defines so that a crash marker names it while it runs."""
    original = cls.__dict__.get("execute")
    if original is None or getattr(original, "_vidstudio_guarded", False):
        return

    def execute(self, *args, **kwargs):
        with running_plugin(plugin, f"node '{node_name}'", base):
            return original(self, *args, **kwargs)

    execute.__doc__ = original.__doc__
    execute.__wrapped__ = original  # type: ignore[attr-defined]
    execute._vidstudio_guarded = True  # type: ignore[attr-defined]
    cls.execute = execute  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------- views
@dataclass(frozen=True)
class PluginNode:
    """A node type a plugin provides, as its manifest declares it (no import needed).

    Attributes:
        type_id: the registry id (``"example_nodes.FilmGrain"``); name: the part after the dot.
        title, category, description: for the palette (``category`` is the plugin's unless the node sets one).
        class_path: ``"module:Class"`` where the class lives.
        runs_on: ``"anywhere"`` or ``"backend"`` (only on the generation backend), as the manifest declares.
    """

    type_id: str
    name: str
    title: str
    category: str
    description: str
    class_path: str
    runs_on: str = "anywhere"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready facts."""
        return {
            "type": self.type_id,
            "name": self.name,
            "title": self.title,
            "category": self.category,
            "description": self.description,
            "class": self.class_path,
            "runs_on": self.runs_on,
        }


@dataclass(frozen=True)
class PluginInfo:
    """A snapshot of one discovered plugin, for ``vidstudio plugins`` and the GUI's plugin manager.

    Attributes:
        name: the plugin's name (from the manifest; the folder or entry point name when that is unreadable).
        status: ``"enabled"`` (usable; imported on first use), ``"disabled"`` (by the user),
            ``"failed"`` (bad manifest, duplicate name, import error or bad node class: see ``error``) or
            ``"incompatible"`` (its ``api_versions`` exclude this VidStudio's :data:`vidstudio.api.API_VERSION`).
        error: why it failed or is incompatible, in one line; None otherwise.
        error_details: a traceback or the manifest's problems one per line, for plugin authors ("" if none).
        enabled: the user's setting (a failed plugin may be enabled).
        loaded: whether its code has been imported in this process.
        origin: ``"package"`` (entry point of an installed distribution) or ``"folder"`` (user plugins folder).
        location: the folder holding the manifest, or None when unknown.
        manifest_path: the manifest file, or None.
        distribution: the installed distribution's name (packages), or None.
        manifest: the parsed manifest, or None when it is invalid.
        nodes: the node types it declares.
        permissions: ``{permission: reason}`` as declared (Python cannot enforce them).
    """

    name: str
    status: Status
    error: str | None
    error_details: str
    enabled: bool
    loaded: bool
    origin: Literal["package", "folder"]
    location: Path | None
    manifest_path: Path | None
    distribution: str | None
    manifest: Manifest | None
    nodes: tuple[PluginNode, ...] = ()

    @property
    def version(self) -> str:
        """The plugin's version ("" when the manifest is invalid)."""
        return self.manifest.version if self.manifest else ""

    @property
    def title(self) -> str:
        """Display name."""
        return self.manifest.display_title if self.manifest else self.name

    @property
    def category(self) -> str:
        """The palette category of its nodes."""
        return self.manifest.display_category if self.manifest else self.name

    @property
    def permissions(self) -> dict[str, str]:
        """``{permission: reason}`` as declared."""
        return dict(self.manifest.permissions) if self.manifest else {}

    @property
    def usable(self) -> bool:
        """True when its node types can be used (status ``enabled``)."""
        return self.status == ENABLED

    def to_json(self) -> dict[str, Any]:
        """JSON-ready facts (``vidstudio plugins list --json``)."""
        m = self.manifest
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "enabled": self.enabled,
            "loaded": self.loaded,
            "error": self.error,
            "origin": self.origin,
            "location": str(self.location) if self.location else None,
            "manifest": str(self.manifest_path) if self.manifest_path else None,
            "distribution": self.distribution,
            "title": self.title,
            "description": m.description if m else "",
            "author": m.author if m else "",
            "license": m.license if m else "",
            "homepage": m.homepage if m else "",
            "category": self.category,
            "api_versions": m.api_versions if m else "",
            "requirements": list(m.requirements) if m else [],
            "permissions": [
                {"name": k, "reason": v, "meaning": PERMISSIONS.get(k, "")} for k, v in self.permissions.items()
            ],
            "nodes": [n.to_json() for n in self.nodes],
        }


# ---------------------------------------------------------------------------------------------- records
@dataclass
class _Record:
    name: str
    origin: Literal["package", "folder"]
    location: Path | None
    manifest_path: Path | None
    manifest: Manifest | None
    module: str = ""
    distribution: str | None = None
    problem: str | None = None
    problem_details: str = ""
    duplicate: bool = False

    @property
    def key(self) -> str:
        return f"{self.name}@{self.location}"


@dataclass
class _LoadState:
    """What importing a plugin did in this process (shared by every manager)."""

    error: PluginLoadError | None = None
    module_failed: bool = False
    imported: bool = False
    classes: dict[str, type] = field(default_factory=dict)


_LOAD_LOCK = threading.RLock()
_LOADS: dict[str, _LoadState] = {}


class _ImportTimeout(Exception):
    """A plugin's import did not finish in time (it goes on in its helper thread, which is abandoned)."""


def _run_with_timeout(fn: Callable[[], Any], seconds: float, name: str) -> tuple[Any, BaseException | None]:
    """Runs ``fn`` in a daemon thread.

    Returns:
        ``(value, None)``, or ``(None, exception)`` for whatever ``fn`` raised (any BaseException: a plugin's
        KeyboardInterrupt and SystemExit are returned, not raised), or ``(None, _ImportTimeout)`` when it has
        not finished after ``seconds`` (the thread is left to run). A real Ctrl-C interrupts the wait itself
        (signals go to the main thread) and propagates as usual.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:
            box["error"] = e

    t = threading.Thread(target=target, name=name, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        return None, _ImportTimeout(
            f"its import did not finish in {seconds:g} s (it hangs; set "
            "VIDSTUDIO_PLUGIN_IMPORT_TIMEOUT for a slower one)"
        )
    return box.get("value"), box.get("error")


def _load_state(key: str) -> _LoadState:
    with _LOAD_LOCK:
        return _LOADS.setdefault(key, _LoadState())


def _module_dir(module: str) -> Path | None:
    """The folder of package ``module`` without importing it (None when it is not installed)."""
    parts = module.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    locations = [Path(p) for p in spec.submodule_search_locations]
    for part in parts[1:]:
        nxt = next((loc / part for loc in locations if (loc / part).is_dir()), None)
        if nxt is None:
            return None
        locations = [nxt]
    return locations[0]


def _installed_module(top: str, plugin_folder: Path) -> str | None:
    """Where the importable module ``top`` lives when it is not the plugin's own (a name clash), else None.
    Finds it without importing it."""
    if top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()):
        return "the Python standard library"
    existing = sys.modules.get(top)
    try:
        spec = importlib.util.find_spec(top) if existing is None else getattr(existing, "__spec__", None)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    where = spec.origin or next(iter(spec.submodule_search_locations or []), None)
    if where is None or where in ("built-in", "frozen"):
        return where or "an installed package"
    try:
        if Path(where).resolve().is_relative_to(plugin_folder.resolve()):
            return None  # the plugin's own module, already imported
    except OSError:
        pass
    return str(Path(where).parent if Path(where).name == "__init__.py" else where)


class PluginManager:
    """Finds plugins, remembers which are disabled, and adds their node types to a registry.

    Args:
        plugins_dir: the user plugins folder (default :func:`plugins_dir`).
        config_dir: where the enabled/disabled state is kept (default :func:`config_dir`).
        entry_points: also discover installed packages (entry point group :data:`ENTRY_POINT_GROUP`).
        crash_state: a server's file of plugins disabled there after they crashed its worker
            (:func:`read_crash_disabled`; default ``$VIDSTUDIO_PLUGIN_CRASH_STATE``, else none): those count as
            disabled, with the crash as the reason, on top of the user's settings.

    Construction discovers (reads manifests, imports nothing); :meth:`refresh` discovers again (after an
    install). Typical use, e.g. by the GUI's plugin manager::

        manager = PluginManager()
        for p in manager.plugins:              # PluginInfo snapshots: status, error, manifest facts, nodes
            ...
        manager.disable("example_nodes")       # persisted; build a new registry to apply it:
        registry = vidstudio.nodes.default_registry()
    """

    def __init__(
        self,
        *,
        plugins_dir: Path | str | None = None,
        config_dir: Path | str | None = None,
        entry_points: bool = True,
        crash_state: Path | str | None = None,
    ):
        self.plugins_dir = Path(plugins_dir) if plugins_dir is not None else _default_plugins_dir()
        self.config_dir = Path(config_dir) if config_dir is not None else _default_config_dir()
        self.use_entry_points = entry_points
        env_state = os.environ.get(CRASH_STATE_ENV)
        self.crash_state = Path(crash_state) if crash_state is not None else (Path(env_state) if env_state else None)
        self._records: list[_Record] = []
        #: problems with the manager's own files (an unreadable state file), one line each.
        self.warnings: list[str] = []
        #: plugins that were running when an earlier process died; each is now disabled (see :class:`PluginCrash`).
        self.crashed: list[PluginCrash] = []
        self.refresh()

    # ------------------------------------------------------------------------------------------ discovery
    def refresh(self) -> None:
        """Discovers plugins again (entry points and the plugins folder) and re-reads the disabled list.
        After installing or removing packages in this process, call :func:`importlib.invalidate_caches` first
        (the installer does)."""
        self.warnings = []
        records: list[_Record] = []
        if self.use_entry_points:
            records.extend(self._from_entry_points())
        records.extend(self._from_folder())
        seen: dict[str, _Record] = {}
        for r in records:
            first = seen.get(r.name)
            if first is None:
                seen[r.name] = r
                continue
            r.duplicate = True
            if r.problem is None:
                r.problem = (
                    f"plugin '{r.name}' at {r.location} is ignored: a plugin with the same name is "
                    f"installed at {first.location}"
                )
        self._records = records
        self._disabled = self._read_disabled()
        #: plugins the server of :attr:`crash_state` disabled after a crash: ``{name: record}``.
        self.crash_disabled = read_crash_disabled(self.crash_state)
        self._collect_crashes()

    def reload_crash_state(self) -> dict[str, dict[str, Any]]:
        """Reads :attr:`crash_state` again (a server's worker crashed in a plugin since, or one was enabled
        again) without discovering again; returns :attr:`crash_disabled`. A registry built before keeps what it
        was given."""
        self.crash_disabled = read_crash_disabled(self.crash_state)
        return self.crash_disabled

    def crash_reasons(self) -> dict[str, str]:
        """``{plugin: sentence}`` for the plugins :attr:`crash_state` disables now (read again), each sentence
        naming the plugin, what ran, how the worker ended and how to enable it again."""
        return {n: crash_disabled_reason(n, r) for n, r in self.reload_crash_state().items()}

    def _collect_crashes(self) -> None:
        """Reads the crash markers of processes that are gone: disables their plugins, records them."""
        folder = self.config_dir / MARKERS_DIR
        try:
            markers = sorted(folder.glob("*.json"))
        except OSError:
            return
        found = []
        for f in markers:
            try:
                pid = int(f.name.split("-")[0])
            except ValueError:
                continue
            if pid == os.getpid() or _pid_alive(pid):
                continue
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
                if data.get("role") != "worker":  # a dead worker's (its server died too): nobody to blame
                    found.append(PluginCrash(str(data["plugin"]), str(data.get("what", "")), pid))
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass
            with contextlib.suppress(OSError):
                f.unlink()
        known = {r.name for r in self._records}
        with _LOAD_LOCK:
            _CRASH_NOTICES.extend(found)
        for c in found:
            if c.plugin in known and c.plugin not in self._disabled:
                self._disabled.add(c.plugin)
                try:
                    self._write_disabled()
                except PluginError as e:
                    self.warnings.append(str(e))
            self.crashed.append(c)

    def _from_entry_points(self) -> list[_Record]:
        out: list[_Record] = []
        try:
            eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        except Exception as e:  # a broken distribution on sys.path must not stop VidStudio
            self.warnings.append(f"cannot read installed packages' entry points: {e.__class__.__name__}: {e}")
            return out
        for ep in sorted(eps, key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dist_name = dist.name if dist is not None else None
            module = ep.module
            where = f"entry point {ep.name!r} = {ep.value!r}" + (f" of package {dist_name}" if dist_name else "")
            folder = _module_dir(module)
            if folder is None:
                out.append(
                    _Record(
                        ep.name,
                        "package",
                        None,
                        None,
                        None,
                        module,
                        dist_name,
                        f"plugin '{ep.name}' ({where}): package {module!r} is not installed or is not a package folder",
                    )
                )
                continue
            rec = self._read(folder / MANIFEST_NAME, fallback_name=ep.name, origin="package", folder=folder)
            rec.distribution = dist_name
            if rec.manifest is not None:
                rec.module = rec.manifest.module or module
                if rec.manifest.name != ep.name and rec.problem is None:
                    rec.problem = (
                        f"plugin '{rec.manifest.name}' ({where}): the entry point's name must be the "
                        f"manifest's name '{rec.manifest.name}'"
                    )
            out.append(rec)
        return out

    def _from_folder(self) -> list[_Record]:
        out: list[_Record] = []
        base = self.plugins_dir
        try:
            children = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        except FileNotFoundError:
            return out
        except OSError as e:
            self.warnings.append(f"cannot read the plugins folder {base}: {e.strerror or e}")
            return out
        for child in children:
            rec = self._read(child / MANIFEST_NAME, fallback_name=child.name, origin="folder", folder=child)
            if rec.manifest is not None and rec.problem is None:
                rec.module = rec.manifest.module or rec.manifest.name
                top = rec.module.split(".")[0]
                clash = _installed_module(top, child)
                if not ((child / top / "__init__.py").is_file() or (child / f"{top}.py").is_file()):
                    rec.problem = (
                        f"plugin '{rec.name}' ({child}): its module '{top}' is missing "
                        f"(expected {child / top / '__init__.py'} or {child / (top + '.py')})"
                    )
                elif clash is not None:
                    rec.problem = (
                        f"plugin '{rec.name}' ({child}): name clash: the module name '{top}' is already used "
                        f"by an installed module ({clash}); loading the plugin would shadow it, so it is "
                        "not loaded (its author must rename the module)"
                    )
                else:
                    for node in rec.manifest.nodes:
                        path = rec.manifest.class_path(node, rec.module)
                        if path.split(":")[0].split(".")[0] != top:
                            rec.problem = (
                                f"plugin '{rec.name}' ({child}): node '{node.name}' names class {path!r}, "
                                f"outside the plugin's module '{top}'"
                            )
                            break
            out.append(rec)
        return out

    def _read(
        self, manifest_path: Path, *, fallback_name: str, origin: Literal["package", "folder"], folder: Path
    ) -> _Record:
        try:
            manifest = load_manifest(manifest_path)
        except ManifestError as e:
            try:
                name = peek_name(manifest_path.read_bytes()) or fallback_name
            except OSError:
                name = fallback_name
            what = "has no manifest" if not manifest_path.exists() else "has an invalid manifest"
            return _Record(
                name,
                origin,
                folder,
                manifest_path if manifest_path.exists() else None,
                None,
                problem=f"plugin '{name}' {what}: {e.summary()}",
                problem_details="\n".join(e.lines()),
            )
        return _Record(manifest.name, origin, folder, manifest_path, manifest)

    # ------------------------------------------------------------------------------------------ state
    @property
    def state_file(self) -> Path:
        """The file that records disabled plugins."""
        return self.config_dir / STATE_FILE

    def _read_disabled(self) -> set[str]:
        f = self.state_file
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as e:
            self.warnings.append(f"{f}: cannot read the plugin settings ({e}); every plugin counts as enabled")
            return set()
        names = data.get("disabled", []) if isinstance(data, dict) else []
        return {n for n in names if isinstance(n, str)}

    def _write_disabled(self) -> None:
        from vidstudio.project.io import atomic_write_text

        f = self.state_file
        data: dict[str, Any] = {}
        try:
            old = json.loads(f.read_text(encoding="utf-8"))
            if isinstance(old, dict):
                data = old  # keep keys other versions wrote
        except (OSError, ValueError):
            pass
        data["disabled"] = sorted(self._disabled)
        try:
            atomic_write_text(f, json.dumps(data, indent=2) + "\n")
        except OSError as e:
            raise PluginError(f"cannot save the plugin settings to {f}: {e}") from None

    def is_enabled(self, name: str) -> bool:
        """The user's setting for ``name`` (True unless disabled)."""
        return name not in self._disabled

    def set_enabled(self, name: str, enabled: bool) -> PluginInfo:
        """Enables or disables plugin ``name`` and saves the setting under :attr:`config_dir`.

        A registry built before the change keeps its node types; build a new one
        (:func:`vidstudio.nodes.default_registry`) to apply it. Disabling a plugin whose code was already
        imported makes its node types unavailable in new registries; Python cannot unload the code itself.

        Returns:
            the plugin's updated :class:`PluginInfo`.

        Raises:
            PluginError: when no plugin has that name (the message lists the names there are), or the
                settings file cannot be written.
        """
        self.get(name)
        self._disabled = self._read_disabled()
        if enabled:
            self._disabled.discard(name)
        else:
            self._disabled.add(name)
        self._write_disabled()
        return self.get(name)

    def enable(self, name: str) -> PluginInfo:
        """``set_enabled(name, True)``."""
        return self.set_enabled(name, True)

    def disable(self, name: str) -> PluginInfo:
        """``set_enabled(name, False)``."""
        return self.set_enabled(name, False)

    # ------------------------------------------------------------------------------------------ views
    def _status(self, r: _Record) -> tuple[Status, str | None, str]:
        if r.problem is not None:
            return FAILED, r.problem, r.problem_details
        assert r.manifest is not None
        ok, why = r.manifest.compatible(API_VERSION)
        if not ok:
            return INCOMPATIBLE, why, ""
        if r.name in self._disabled or r.name in self.crash_disabled:
            return DISABLED, None, ""
        st = _LOADS.get(r.key)
        if st is not None and st.error is not None:
            return FAILED, st.error.unavailable_reason, st.error.details
        return ENABLED, None, ""

    def _info(self, r: _Record) -> PluginInfo:
        status, error, details = self._status(r)
        st = _LOADS.get(r.key)
        nodes: tuple[PluginNode, ...] = ()
        if r.manifest is not None:
            m = r.manifest
            nodes = tuple(
                PluginNode(
                    m.type_id(n),
                    n.name,
                    n.title or n.name,
                    n.category or m.display_category,
                    n.description,
                    m.class_path(n, r.module),
                    n.runs_on,
                )
                for n in m.nodes
            )
        return PluginInfo(
            name=r.name,
            status=status,
            error=error,
            error_details=details,
            enabled=r.name not in self._disabled,
            loaded=bool(st and st.imported),
            origin=r.origin,
            location=r.location,
            manifest_path=r.manifest_path,
            distribution=r.distribution,
            manifest=r.manifest,
            nodes=nodes,
        )

    @property
    def plugins(self) -> list[PluginInfo]:
        """Every discovered plugin (duplicates and failures included), sorted by name, as fresh snapshots."""
        return [self._info(r) for r in sorted(self._records, key=lambda r: (r.name, r.duplicate))]

    def get(self, name: str) -> PluginInfo:
        """The plugin called ``name`` (the first found when several share it).

        Raises:
            PluginError: naming the plugins there are when none has that name.
        """
        r = self._record(name)
        return self._info(r)

    def _record(self, name: str) -> _Record:
        for r in self._records:
            if r.name == name and not r.duplicate:
                return r
        known = sorted({r.name for r in self._records})
        raise PluginError(
            f"no plugin named {name!r} (installed: {', '.join(known) or 'none'}; plugins folder: {self.plugins_dir})"
        )

    # ------------------------------------------------------------------------------------------ loading
    def load(self, name: str) -> PluginInfo:
        """Imports an enabled plugin's code now and loads every node class it declares (``--check``, the GUI's
        "check" button). Failures are recorded, not raised.

        Returns:
            the updated :class:`PluginInfo` (status ``failed`` with the error when the import failed).

        Raises:
            PluginError: when no plugin has that name.
        """
        r = self._record(name)
        if self._status(r)[0] == ENABLED and r.manifest is not None:
            for node in r.manifest.nodes:
                try:
                    self._load_class(r, node.name)
                except PluginLoadError:
                    break
        return self._info(r)

    def _import_module(self, r: _Record) -> ModuleType:
        top = r.module.split(".")[0]
        if r.origin == "folder":
            assert r.location is not None
            existing = sys.modules.get(top)
            pkg_init = r.location / top / "__init__.py"
            path = pkg_init if pkg_init.is_file() else r.location / f"{top}.py"
            if existing is not None:
                origin = getattr(getattr(existing, "__spec__", None), "origin", None)
                if origin is None or Path(origin).resolve() != path.resolve():
                    raise ImportError(
                        f"the module name '{top}' is already used by {origin or existing!r}; "
                        "the plugin's module needs another name"
                    )
            else:
                spec = importlib.util.spec_from_file_location(
                    top, path, submodule_search_locations=[str(path.parent)] if path == pkg_init else None
                )
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot import {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[top] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    sys.modules.pop(top, None)
                    raise
        return importlib.import_module(r.module)

    def _load_class(self, r: _Record, node_name: str) -> type[Node]:
        from vidstudio.graph.node import Node, check_declaration

        st = _load_state(r.key)
        with _LOAD_LOCK:
            if node_name in st.classes:
                return st.classes[node_name]  # type: ignore[return-value]
            if st.module_failed and st.error is not None:
                raise st.error
            assert r.manifest is not None
            entry = next(n for n in r.manifest.nodes if n.name == node_name)
            type_id = r.manifest.type_id(entry)
            path = r.manifest.class_path(entry, r.module)
            stage = ["import"]

            def work() -> Any:
                with running_plugin(r.name, "import", self.config_dir):
                    if not st.imported:
                        self._import_module(r)
                        st.imported = True
                    stage[0] = "class"
                    mod_name, _, attr = path.partition(":")
                    found: Any = importlib.import_module(mod_name)
                    for part in attr.split("."):
                        found = getattr(found, part)
                return found

            # A plugin's prints must not end up in machine-readable output (``--json``). The caller redirects
            # (and restores on time even when the import hangs on in its thread).
            with contextlib.redirect_stdout(sys.stderr):
                obj, raised = _run_with_timeout(work, import_timeout(), f"plugin-import-{r.name}")
            try:
                if raised is not None:
                    raise raised
                if not (isinstance(obj, type) and issubclass(obj, Node)):
                    raise TypeError(f"{path} is not a subclass of vidstudio.api.Node")
                if obj.type_id != type_id:
                    raise TypeError(f"{path} declares type_id {obj.type_id!r}; the manifest says {type_id!r}")
                problems = check_declaration(obj)
                if problems:
                    raise TypeError(f"{path}: " + "; ".join(problems))
            except BaseException as exc:  # KeyboardInterrupt and SystemExit from a plugin are its failures too
                if isinstance(exc, _ImportTimeout):
                    stage[0] = "import"
                details = "".join(traceback.format_exception(exc))
                if stage[0] == "import":
                    err = PluginLoadError(
                        r.name,
                        f"{exc.__class__.__name__}: {exc}" if not isinstance(exc, _ImportTimeout) else str(exc),
                        details,
                    )
                    st.module_failed = True
                else:
                    err = PluginLoadError(
                        r.name, f"node '{node_name}' ({path}): {exc.__class__.__name__}: {exc}", details
                    )
                    err.unavailable_reason = f"plugin '{r.name}' cannot provide it: {err}"
                if st.error is None:
                    st.error = err
                raise err from None
            _guard_execute(obj, r.name, node_name, self.config_dir)
            st.classes[node_name] = obj
            return obj

    def _loader(self, r: _Record, node_name: str) -> Callable[[], type[Node]]:
        return lambda: self._load_class(r, node_name)

    # ------------------------------------------------------------------------------------------ registry
    def unavailable_reason(self, name: str) -> str | None:
        """Why plugin ``name``'s node types cannot be used now (disabled, incompatible, failed), or None."""
        r = self._record(name)
        status, error, _ = self._status(r)
        if status == DISABLED and name in self.crash_disabled:
            return crash_disabled_reason(name, self.crash_disabled[name])
        if status == DISABLED:
            return f"plugin '{name}' is disabled; enable it with `vidstudio plugins enable {name}`"
        return error

    def register_into(self, registry: NodeRegistry) -> None:
        """Adds every plugin's node types to ``registry``: lazily (imported on first use) for usable plugins,
        as unavailable with the reason for disabled, incompatible and failed ones. Never raises for a plugin's
        fault."""
        for r in self._records:
            if r.duplicate:
                continue
            status, error, _ = self._status(r)
            reason = self.unavailable_reason(r.name) if status != ENABLED else None
            if r.manifest is None:
                registry.mark_plugin_unavailable(r.name, reason or "its manifest cannot be read")
                continue
            m = r.manifest
            if reason:
                registry.mark_plugin_unavailable(m.name, reason)
            for node in m.nodes:
                type_id = m.type_id(node)
                info = m.node_info(node)
                if reason:
                    registry.mark_unavailable(type_id, reason, source=m.name, info=info)
                    continue
                st = _LOADS.get(r.key)
                if st is not None and node.name in st.classes:
                    registry.register(st.classes[node.name], source=m.name, replace=True)  # type: ignore[arg-type]
                    continue
                try:
                    registry.register_lazy(type_id, self._loader(r, node.name), source=m.name, info=info)
                except Exception as e:  # the id is taken: report on the type, keep going
                    registry.mark_unavailable(
                        type_id, f"plugin '{m.name}' cannot register it: {e}", source=m.name, info=info
                    )


def add_plugins(registry: NodeRegistry, manager: PluginManager | None = None) -> PluginManager | None:
    """Discovers plugins (or uses ``manager``) and adds their node types to ``registry``.

    A failure of discovery itself (an unexpected bug, an unreadable folder) is reported on stderr and leaves
    ``registry`` with what it had: VidStudio always starts.

    Returns:
        the manager used, or None when discovery failed.
    """
    try:
        manager = manager or PluginManager()
        manager.register_into(registry)
        for w in manager.warnings:
            print(f"vidstudio: warning: {w}", file=sys.stderr)
        for c in manager.crashed:
            print(f"vidstudio: warning: {c.message}", file=sys.stderr)
        return manager
    except Exception as e:  # defensive: plugins must never stop VidStudio
        print(
            f"vidstudio: warning: plugin discovery failed ({e.__class__.__name__}: {e}); "
            "continuing with the built-in nodes",
            file=sys.stderr,
        )
        return None
