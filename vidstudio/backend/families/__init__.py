"""The pipeline adapters, one module per family (the torch side of :mod:`vidstudio.families`).

A module here defines one :class:`vidstudio.backend.adapters.FamilyAdapter` subclass decorated with
``@register("<family id>")``; the id must be a family spec's. :func:`adapter_class` imports the module of that
name on first use, so adding a family is one spec module in ``vidstudio/families/`` plus one adapter module
here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from vidstudio.families import SPECS, get_spec

if TYPE_CHECKING:
    from vidstudio.backend.adapters import FamilyAdapter

_REGISTRY: dict[str, type[FamilyAdapter]] = {}


def register(family: str) -> Callable[[type[FamilyAdapter]], type[FamilyAdapter]]:
    """Class decorator: registers an adapter for the family spec ``family`` (sets its ``family`` and ``spec``).

    Raises:
        ValueError: for an id that no family spec has, or a second adapter for the same family.
    """
    spec = get_spec(family)

    def deco(cls: type[FamilyAdapter]) -> type[FamilyAdapter]:
        if family in _REGISTRY and _REGISTRY[family] is not cls:
            raise ValueError(f"family {family} already has an adapter ({_REGISTRY[family].__name__})")
        cls.family = family
        cls.spec = spec
        _REGISTRY[family] = cls
        return cls

    return deco


def adapter_class(family: str) -> type[FamilyAdapter]:
    """The adapter class of ``family``, importing ``vidstudio.backend.families.<family>`` on first use.

    Raises:
        ValueError: for an unknown family, or a spec without an adapter module.
    """
    get_spec(family)
    if family not in _REGISTRY:
        try:
            importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{family}":
                raise
        if family not in _REGISTRY:
            raise ValueError(
                f"family {family} has a spec but no adapter: add vidstudio/backend/families/{family}.py "
                f"with @register({family!r})"
            )
    return _REGISTRY[family]


def all_adapters() -> dict[str, type[FamilyAdapter]]:
    """Every family's adapter class, by family id, in spec order (imports them all).

    Raises:
        ValueError: for a spec without an adapter.
    """
    return {f: adapter_class(f) for f in SPECS}
