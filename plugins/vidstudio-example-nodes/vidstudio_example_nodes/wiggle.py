"""Wiggle: smooth procedural noise added to a trajectory (every track, both axes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.api import ExecutionContext, Input, Node, NodeError, Output, Param, PortType, Track, TrackSet, rng


def gradient_noise(phase: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """One-dimensional gradient noise (Perlin's, with his quintic fade), scaled to [-1, 1].

    At lattice point ``k`` the noise is 0 with slope ``2 * gradients[k]``; between lattice points it blends the
    two ramps with the fade ``6f^5 - 15f^4 + 10f^3``, which makes it twice continuously differentiable. Since
    ``|gradients| <= 1`` the value stays within [-1, 1].

    Source: K. Perlin, "Improving Noise", SIGGRAPH 2002 (the fade curve), restricted to one dimension.

    Args:
        phase: ``(T,)`` float64 non-negative positions on the lattice (in cycles).
        gradients: ``(K,)`` float64 slopes in [-1, 1], ``K >= floor(max(phase)) + 2``.

    Returns:
        ``(T,)`` float64 noise values in [-1, 1].
    """
    i = np.floor(phase).astype(np.int64)
    f = phase - i
    fade = f * f * f * (f * (f * 6.0 - 15.0) + 10.0)
    return 2.0 * ((1.0 - fade) * gradients[i] * f + fade * gradients[i + 1] * (f - 1.0))


class Wiggle(Node):
    """Adds smooth noise to every track's position: ``offset(t) = amplitude(t) * noise(phase(t))`` per axis,
    where ``noise`` is :func:`gradient_noise` and ``phase(t) = integral of frequency over seconds`` (cycles).

    So ``|offset| <= amplitude`` (pixels) at every frame, the noise changes direction about ``frequency``
    times a second, and it passes through zero (the drawn path) at the first frame and whenever the phase
    is a whole number, i.e. every ``1 / frequency`` seconds for a constant frequency. Each track and axis
    gets its own noise, seeded by ``seed`` and the track's name, so adding a track does not change the
    others. Angle, scale, visibility, size and the anchors are passed through unchanged.

    Input/output ``trajectory``: a :class:`vidstudio.api.TrackSet` (positions ``(T, 2)`` px per track).
    """

    type_id = "example_nodes.Wiggle"
    title = "Wiggle"
    category = "Example Nodes"
    description = "Adds smooth procedural noise to every track of a trajectory."
    inputs = (Input("trajectory", PortType.TRAJECTORY, help="The paths to shake."),)
    outputs = (Output("trajectory", PortType.TRAJECTORY, "the paths with the noise added"),)
    params = (
        Param(
            "amplitude",
            "float",
            8.0,
            min=0.0,
            max=10000.0,
            step=0.5,
            animatable=True,
            unit="px",
            help="The largest distance the noise moves a point from its path.",
        ),
        Param(
            "frequency",
            "float",
            1.0,
            min=0.0,
            max=120.0,
            step=0.1,
            animatable=True,
            unit="Hz",
            help="How many times a second the noise swings (0 freezes it).",
        ),
        Param("seed", "int", 0, min=0, max=2**31 - 1, help="Another seed gives another wiggle."),
    )
    uses_settings = ("fps", "frame_count")

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        tracks = inputs["trajectory"]
        if not isinstance(tracks, TrackSet):
            raise NodeError(f"input 'trajectory' must be a TrackSet, got {type(tracks).__name__}")
        T = tracks.frame_count
        if T == 0:
            return {"trajectory": tracks}
        amplitude = np.atleast_1d(np.asarray(params["amplitude"], dtype=np.float64))  # (frame_count,) keyable
        frequency = np.atleast_1d(np.asarray(params["frequency"], dtype=np.float64))
        # The tracks normally have one sample per frame; other sample counts span the same frames.
        F = len(amplitude)
        frames = np.arange(T, dtype=np.float64) if T == F else np.linspace(0.0, F - 1.0, T)
        amp = np.interp(frames, np.arange(F), amplitude)
        freq = np.interp(frames, np.arange(F), frequency)
        seconds_per_frame = float(1 / ctx.fps)
        # phase = integral of frequency over time (trapezoid rule), in cycles
        steps = 0.5 * (freq[1:] + freq[:-1]) * np.diff(frames) * seconds_per_frame
        phase = np.concatenate([[0.0], np.cumsum(steps)])
        n_grad = int(np.floor(phase[-1])) + 2
        seed = int(params["seed"])
        out = []
        for tr in tracks:
            offset = np.empty((T, 2))
            for axis in range(2):
                g = rng(seed, "wiggle", tr.name, axis).uniform(-1.0, 1.0, n_grad)
                offset[:, axis] = amp * gradient_noise(phase, g)
            out.append(
                Track(tr.name, tr.position + offset, tr.angle.copy(), tr.scale.copy(), tr.visible.copy(), tr.size)
            )
        return {"trajectory": TrackSet(out, tracks.anchors.copy())}
