"""Curve: a keyable value offered as a CURVE (the F-curve itself) and as NUMBER (one value per frame)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vidstudio.graph.node import ExecutionContext, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.motion.curves import FCurve


class Curve(Node):
    """A keyframed value to drive other nodes (one curve feeding several parameters, like a driver).

    Key the ``value`` parameter in the timeline (or leave it constant).

    Outputs:
        curve: the :class:`~vidstudio.motion.curves.FCurve` of ``value`` (a one-key curve when not keyed);
            consumers may evaluate it at any float frame.
        values: ``(frame_count,)`` float64, the curve sampled at frames ``0 .. frame_count - 1``.
    """

    type_id = "Curve"
    title = "Curve"
    category = "Animation"
    description = "A keyable value as a curve (CURVE) and as one number per frame (NUMBER)."
    outputs = (
        Output("curve", PortType.CURVE, "the F-curve (evaluate at any float frame)"),
        Output("values", PortType.NUMBER, "(T,) float64: one value per frame"),
    )
    params = (
        Param(
            "value",
            "float",
            0.0,
            step=0.01,
            animatable=True,
            help="The value; key it to make a curve (interpolation, handles and easing per key).",
        ),
    )
    uses_settings = ("frame_count",)

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        values = np.asarray(params["value"], dtype=np.float64)
        curve = ctx.curves.get("value") or FCurve.constant(float(values[0]))
        return {"curve": curve, "values": values}
