"""Retime: a keyed speed curve that remaps time for a video or a trajectory."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.errors import NodeError
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip, as_clip
from vidstudio.motion.retime import blend_weights, source_times


class Retime(Node):
    """Plays a video and/or a trajectory at a keyable speed.

    Output frame ``k`` shows source time ``start + integral of speed`` (see :mod:`vidstudio.motion.retime`):
    1 is normal speed, 0.5 half speed (slow motion), 2 double, 0 a freeze, negative backwards; the source's
    first and last frames hold outside it. Slowed-down video is frame-blended (``blend``) so that motion stays
    smooth; trajectories are interpolated.

    Outputs (each None when its input is not linked):
        video: a lazy :class:`vidstudio.media.Clip` of ``frame_count`` frames.
        trajectory: the :class:`~vidstudio.motion.tracks.TrackSet` sampled at the remapped times.
        audio: the sound at the same speed with its pitch kept (FFmpeg's atempo), silent where frames are
            frozen or run backwards (:func:`vidstudio.media.audio.retime_audio`).
    """

    type_id = "Retime"
    title = "Retime"
    category = "Time"
    description = "Keyed speed ramp (slow motion, freeze, reverse) for a video or a trajectory, frame-blended."
    inputs = (
        Input("video", PortType.VIDEO, optional=True, help="The video to retime."),
        Input("trajectory", PortType.TRAJECTORY, optional=True, help="The trajectory to retime."),
        Input(
            "audio",
            PortType.AUDIO,
            optional=True,
            help="The video's sound: sped up or slowed with its pitch kept, silent where frozen or reversed.",
        ),
    )
    outputs = (
        Output("video", PortType.VIDEO, "the retimed video"),
        Output("trajectory", PortType.TRAJECTORY, "the retimed trajectory"),
        Output("audio", PortType.AUDIO, "the retimed sound"),
    )
    params = (
        Param(
            "speed",
            "float",
            1.0,
            min=-16.0,
            max=16.0,
            step=0.05,
            animatable=True,
            unit="x",
            help="Source frames per output frame: 1 normal, 0.5 slow motion, 0 freeze, negative reverse.",
        ),
        Param(
            "start",
            "float",
            0.0,
            min=-100000,
            max=100000,
            step=1,
            unit="frames",
            help="Source frame shown at output frame 0.",
        ),
        Param(
            "blend",
            "choice",
            "blend",
            choices=("blend", "nearest"),
            help="Between source frames: cross-fade the neighbours, or show the nearest.",
        ),
    )
    uses_settings = ("frame_count",)

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if inputs["video"] is None and inputs["trajectory"] is None and inputs.get("audio") is None:
            raise NodeError("nothing to retime: link a video, a trajectory or a sound")
        tau = source_times(params["speed"], params["start"])
        out: dict[str, Any] = {"video": None, "trajectory": None, "audio": None}
        if inputs.get("audio") is not None:
            from vidstudio.media.audio import retime_audio

            out["audio"] = retime_audio(inputs["audio"], tau, ctx.fps)
        if inputs["video"] is not None:
            src = as_clip(inputs["video"])
            i0, i1, w = blend_weights(tau, src.frame_count, params["blend"])

            def render(k: int) -> np.ndarray:
                a = src.frame(int(i0[k]))
                if w[k] == 0.0:
                    return a
                b = src.frame(int(i1[k]))
                return a + (b - a) * w[k]

            out["video"] = Clip(ctx.frame_count, src.height, src.width, render, label=f"{ctx.node_id} retimed")
        if inputs["trajectory"] is not None:
            tracks = inputs["trajectory"]
            n = max(tracks.frame_count, 1)
            out["trajectory"] = tracks.sample_at(np.clip(tau, 0, n - 1)) if len(tracks) else tracks
        return out
