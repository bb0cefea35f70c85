"""The node API for plugins: everything a plugin's node module needs, in one stable place.

A plugin imports only from here::

    from vidstudio.api import Input, Node, Output, Param, PortType, frame_rng

Names in :data:`__all__` keep their meaning for every release with the same major :data:`API_VERSION`; a plugin
declares the API versions it works with in its manifest (``api_versions = ">=1.0,<2"``), and VidStudio refuses
to load a plugin whose range does not contain the running API version (it is listed as *incompatible*). The
modules these names come from (``vidstudio.graph``, ``vidstudio.media``, ...) are internal and may move.

Conventions (the same as the built-in nodes): video frames are ``(H, W, 3)`` float32 in [0, 1] and a VIDEO
port carries a lazy :class:`Clip`; positions are pixels of the output frame, origin top-left, y down; time is
in frames, converted to seconds with ``ctx.fps``; an animatable (keyable) parameter reaches ``execute`` as a
``(frame_count,)`` float64 array. See ``docs/plugins.md``.

Importing this module imports neither Qt nor torch.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from vidstudio.errors import Cancelled, NodeError
from vidstudio.graph.node import RUNS_ON, ExecutionContext, Input, Node, Output, Param, RunsOn
from vidstudio.graph.types import DESCRIPTIONS as PORT_TYPE_DESCRIPTIONS
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip, as_clip
from vidstudio.motion.curves import FCurve
from vidstudio.motion.tracks import Track, TrackSet

#: The node API version, ``"MAJOR.MINOR"``. MINOR grows when names are added here; MAJOR when a name changes
#: meaning or goes away (plugins then need a new release).
API_VERSION = "1.1"  # 1.1: Node.runs_on, RunsOn, RUNS_ON


def _salt_int(part: int | str) -> int:
    if isinstance(part, bool) or not isinstance(part, (int, np.integer, str)):
        raise TypeError(f"a seed salt must be an int or a str, not {type(part).__name__}")
    if isinstance(part, str):
        return zlib.crc32(part.encode("utf-8"))
    return int(part) % (1 << 64)


def rng(seed: int, *salt: int | str) -> np.random.Generator:
    """A NumPy random generator determined by ``seed`` and ``salt`` alone (no global state).

    The same arguments give the same stream on every machine and in every process, so a node's output
    depends only on its parameters. Use ``salt`` to draw independent streams for independent things
    (``rng(seed, "x", track_name)``).

    Args:
        seed: the user's seed (any int; negative values wrap modulo 2**64).
        salt: ints and strings (strings are hashed with CRC-32, so they are stable across runs).

    Returns:
        a ``numpy.random.Generator`` (PCG64) seeded from ``numpy.random.SeedSequence([seed, *salt])``.

    Raises:
        TypeError: for a salt that is neither an int nor a str.
    """
    return np.random.default_rng(np.random.SeedSequence([_salt_int(seed), *(_salt_int(s) for s in salt)]))


def frame_rng(seed: int, frame: int, *salt: int | str) -> np.random.Generator:
    """The random generator for one frame: ``rng(seed, frame, *salt)``.

    Seeding per frame makes any single frame render the same on its own as in a full render (scrubbing,
    ``vidstudio render --frames``), which a stream shared across frames would not.

    Args:
        seed: the user's seed; frame: the frame number (0-based); salt: see :func:`rng`.

    Returns:
        a ``numpy.random.Generator``.
    """
    return rng(seed, int(frame), *salt)


def per_frame(value: Any, frame_count: int, name: str = "value") -> np.ndarray:
    """A number or per-frame sequence as a ``(frame_count,)`` float64 array.

    Useful for NUMBER inputs (a float or a ``(T,)`` array) and for code shared between keyable and constant
    parameters.

    Args:
        value: a number, or a sequence of ``frame_count`` numbers.
        frame_count: the number of frames ``T``.
        name: what the value is, for the error message.

    Returns:
        ``(frame_count,)`` float64 array (a scalar is repeated).

    Raises:
        NodeError: when ``value`` is a sequence of another length or holds non-numbers.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NodeError(f"{name}: expected a number or one number per frame, got {type(value).__name__}") from None
    if arr.ndim == 0:
        return np.full(frame_count, float(arr), dtype=np.float64)
    if arr.shape != (frame_count,):
        raise NodeError(f"{name}: expected {frame_count} values (one per frame), got shape {arr.shape}")
    return arr


__all__ = [
    "API_VERSION",
    # node declarations
    "Node",
    "Input",
    "Output",
    "Param",
    "ExecutionContext",
    "PortType",
    "PORT_TYPE_DESCRIPTIONS",
    "RunsOn",
    "RUNS_ON",
    # values that flow along links
    "Clip",
    "as_clip",
    "Track",
    "TrackSet",
    "FCurve",
    # errors
    "NodeError",
    "Cancelled",
    # helpers
    "rng",
    "frame_rng",
    "per_frame",
]
