"""Stable string ids for things a user makes (nodes, paths, anchors), shared by every layer.

Ids are what documents link by, so they are readable (derived from a name), valid (letters, digits, ``_`` and
``-``, not starting with a digit: the pattern of :data:`vidstudio.graph.model.ID_PATTERN`) and never reused
within their document. Never derived from ``id()`` or a counter that restarts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def unique_id(base: str, taken: Iterable[str], *, fallback: str = "node", prefix: str = "n_") -> str:
    """Returns an id derived from ``base`` that is not in ``taken``: ``base``, ``base_2``, ``base_3``...

    Args:
        base: the wished-for id, usually a name; characters outside letters, digits, ``_`` and ``-`` become
            ``_``.
        taken: the ids already used.
        fallback: the stem when ``base`` is empty.
        prefix: put in front of a stem that does not start with a letter or ``_``.
    """
    stem = re.sub(r"[^A-Za-z0-9_\-]", "_", base) or fallback
    if not re.match(r"[A-Za-z_]", stem[0]):
        stem = prefix + stem
    used = set(taken)
    if stem not in used:
        return stem
    i = 2
    while f"{stem}_{i}" in used:
        i += 1
    return f"{stem}_{i}"
