"""Finds the family spec modules (every public module of :mod:`vidstudio.families`) and orders them."""

from __future__ import annotations

import importlib
import pkgutil

from vidstudio.families._spec import FamilySpec


def spec_modules() -> list[str]:
    """The names of the spec modules (``vidstudio.families.<id>``), found by listing the package."""
    import vidstudio.families as pkg

    return sorted(f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def _load() -> dict[str, FamilySpec]:
    specs: list[FamilySpec] = []
    for name in spec_modules():
        spec = getattr(importlib.import_module(name), "SPEC", None)
        if not isinstance(spec, FamilySpec):
            raise TypeError(f"{name} has no SPEC = FamilySpec(...)")
        if spec.id != name.rsplit(".", 1)[1]:
            raise ValueError(f"{name}: SPEC.id {spec.id!r} must be the module's name")
        specs.append(spec)
    specs.sort(key=lambda s: (s.order, s.id))
    return {s.id: s for s in specs}


#: family id -> spec, in palette order (:attr:`FamilySpec.order`).
SPECS: dict[str, FamilySpec] = _load()


def get_spec(family: str) -> FamilySpec:
    """The spec of ``family``.

    Raises:
        ValueError: for an unknown family, naming the known ones.
    """
    try:
        return SPECS[family]
    except KeyError:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(SPECS)}") from None
