"""The registry of node types: built-ins and plugins, each with a version, looked up by type id.

A type can be registered as a class, or lazily as a loader that imports it on first use (plugins), or be
known but *unavailable* (a plugin that failed to import, or is disabled): projects that use it still open,
and validation names the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from vidstudio.graph.node import Node, check_declaration


class RegistryError(Exception):
    """A node class was declared wrongly or registered twice (a programming or plugin error)."""


@dataclass
class _Entry:
    type_id: str
    cls: type[Node] | None = None
    loader: Callable[[], type[Node]] | None = None
    source: str = "builtin"  # "builtin" or the plugin name
    info: dict[str, Any] = field(default_factory=dict)  # manifest facts about a lazy type (title, category)
    unavailable: str | None = None  # reason when the type cannot be used


class NodeRegistry:
    """Node types by type id.

    Thread-safe: lazy loaders run once even when several threads ask at the same time.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._plugin_notes: dict[str, str] = {}  # plugin name -> why its types cannot be used

    # ------------------------------------------------------------------------------------------ adding
    def register(self, cls: type[Node], *, source: str = "builtin", replace: bool = False) -> type[Node]:
        """Adds a node class (usable as a class decorator).

        Raises:
            RegistryError: when the class's declarations are malformed or the id is taken (unless ``replace``).
        """
        problems = check_declaration(cls)
        if problems:
            raise RegistryError(f"node class {cls.__qualname__} ({cls.type_id!r}): " + "; ".join(problems))
        with self._lock:
            old = self._entries.get(cls.type_id)
            if old is not None and not replace and old.unavailable is None and old.cls is not cls:
                raise RegistryError(f"node type {cls.type_id!r} is already registered by {old.source}")
            self._entries[cls.type_id] = _Entry(cls.type_id, cls=cls, source=source)
        return cls

    def register_lazy(
        self, type_id: str, loader: Callable[[], type[Node]], *, source: str, info: dict[str, Any] | None = None
    ) -> None:
        """Adds a type whose class is imported by ``loader`` the first time it is needed.

        Raises:
            RegistryError: when the id is taken.
        """
        with self._lock:
            if type_id in self._entries and self._entries[type_id].unavailable is None:
                raise RegistryError(f"node type {type_id!r} is already registered by {self._entries[type_id].source}")
            self._entries[type_id] = _Entry(type_id, loader=loader, source=source, info=dict(info or {}))

    def mark_unavailable(self, type_id: str, reason: str, *, source: str, info: dict[str, Any] | None = None) -> None:
        """Records a type that exists but cannot be used now (its plugin failed or is disabled)."""
        with self._lock:
            self._entries[type_id] = _Entry(type_id, source=source, info=dict(info or {}), unavailable=reason)

    def mark_plugin_unavailable(self, plugin: str, reason: str) -> None:
        """Records why plugin ``plugin`` cannot provide node types now (a manifest that cannot be read, so its
        types are not even known): a project using ``"<plugin>.<Name>"`` then gets this reason."""
        with self._lock:
            self._plugin_notes[plugin] = reason

    # ------------------------------------------------------------------------------------------ lookup
    def get(self, type_id: str) -> type[Node]:
        """Returns the node class for ``type_id``, importing a lazy one.

        Raises:
            KeyError: with a message: unknown type, or why the type is unavailable (which plugin, what error).
        """
        with self._lock:
            e = self._entries.get(type_id)
            if e is None:
                raise KeyError(f"unknown node type {type_id!r}")
            if e.unavailable is not None:
                raise KeyError(f"node type {type_id!r} is unavailable: {e.unavailable}")
            if e.cls is None and e.loader is not None:
                try:
                    cls = e.loader()
                    problems = check_declaration(cls)
                    if problems:
                        raise RegistryError("; ".join(problems))
                    if cls.type_id != type_id:
                        raise RegistryError(f"the loaded class declares type_id {cls.type_id!r}")
                except Exception as exc:  # a plugin that fails is reported, never fatal
                    e.unavailable = getattr(exc, "unavailable_reason", None) or (
                        f"plugin {e.source!r} failed to load it: {exc.__class__.__name__}: {exc}"
                    )
                    raise KeyError(f"node type {type_id!r} is unavailable: {e.unavailable}") from None
                e.cls = cls
            assert e.cls is not None
            return e.cls

    def find(self, type_id: str) -> type[Node] | None:
        """Like :meth:`get` but returns None instead of raising."""
        try:
            return self.get(type_id)
        except KeyError:
            return None

    def unavailable_reason(self, type_id: str) -> str | None:
        """Why a known type cannot be used, or None (also None for unknown types)."""
        e = self._entries.get(type_id)
        return e.unavailable if e else None

    def why_unusable(self, type_id: str) -> tuple[str, str] | None:
        """Why ``type_id`` cannot be used, naming the plugin it belongs to; None when it can be used.

        Loads a lazy type to find out (see :meth:`get`).

        Returns:
            ``(code, message)``: code ``"unavailable-type"`` (the type or its plugin is known but disabled,
            incompatible or failed: the message says which and gives the error) or ``"unknown-type"`` (nothing
            provides it; for ``"plugin.Name"`` the message says the plugin is not installed, or that the
            installed plugin has no such node type).
        """
        if self.find(type_id) is not None:
            return None
        reason = self.unavailable_reason(type_id)
        if reason:
            return "unavailable-type", f"node type {type_id!r} is unavailable: {reason}"
        plugin, dot, name = type_id.partition(".")
        if not dot:
            return "unknown-type", f"unknown node type {type_id!r}"
        note = self._plugin_notes.get(plugin)
        if note:
            return "unavailable-type", f"node type {type_id!r} is unavailable: {note}"
        provided = sorted(t.partition(".")[2] for t, e in self._entries.items() if e.source == plugin)
        if provided:
            return "unknown-type", (
                f"unknown node type {type_id!r}: plugin '{plugin}' has no node type '{name}' "
                f"(it provides: {', '.join(provided)})"
            )
        return "unknown-type", f"unknown node type {type_id!r}: plugin '{plugin}' is not installed"

    def summary(self, type_id: str) -> dict[str, Any]:
        """Palette facts without importing a lazy type: ``type``, ``title``, ``category``, ``description``,
        ``source`` (``"builtin"`` or the plugin), ``available`` (False when known to be unusable) and
        ``reason`` (why, or None). For a type not imported yet they come from its plugin's manifest.

        Raises:
            KeyError: for an unknown type.
        """
        e = self._entries.get(type_id)
        if e is None:
            raise KeyError(f"unknown node type {type_id!r}")
        if e.cls is not None:
            c = e.cls
            facts = {"title": c.title or c.type_id, "category": c.category, "description": c.description}
        else:
            facts = {
                "title": e.info.get("title", type_id),
                "category": e.info.get("category", "Misc"),
                "description": e.info.get("description", ""),
            }
        return {
            "type": type_id,
            **facts,
            "runs_on": self.runs_on(type_id),
            "source": e.source,
            "available": e.unavailable is None,
            "reason": e.unavailable,
        }

    def runs_on(self, type_id: str) -> str | None:
        """Where nodes of ``type_id`` may run (:data:`vidstudio.graph.node.RunsOn`): ``"backend"`` when the
        class declares ``runs_on = "backend"`` or, for a type whose plugin is not imported (or could not be),
        its manifest entry does (``runs_on = "backend"``), without importing it; else ``"anywhere"``. None for
        a type nobody provides."""
        e = self._entries.get(type_id)
        if e is None:
            return None
        declared = [e.info.get("runs_on")]
        if e.cls is not None:
            declared.append(e.cls.runs_on)
        return "backend" if "backend" in declared else "anywhere"

    def source(self, type_id: str) -> str | None:
        """``"builtin"`` or the plugin name that provides ``type_id``; None when unknown."""
        e = self._entries.get(type_id)
        return e.source if e else None

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def type_ids(self, *, available_only: bool = True) -> list[str]:
        """Sorted type ids (only usable ones by default)."""
        return sorted(t for t, e in self._entries.items() if not (available_only and e.unavailable))

    def describe(self, type_id: str) -> dict[str, Any]:
        """A JSON-ready description of a type; unavailable types give what is known and the reason."""
        e = self._entries.get(type_id)
        if e is None:
            raise KeyError(f"unknown node type {type_id!r}")
        if e.unavailable is None:
            try:
                d = self.get(type_id).describe()
                d["source"] = e.source
                d["runs_on"] = self.runs_on(type_id)
                return d
            except KeyError:
                pass
        return {"type": type_id, "source": e.source, **e.info, "available": False, "reason": e.unavailable}

    def describe_all(self) -> list[dict[str, Any]]:
        """Descriptions of every known type, sorted by id."""
        return [self.describe(t) for t in sorted(self._entries)]
