"""Port types: what flows along a link, and which outputs may feed which inputs.

A port type is a string; the built-in ones are the members of :class:`PortType`. A plugin may declare its own
as ``"plugin_name.TYPE"``. An output may feed an input of the same type, and any output may feed an ``ANY``
input. The value each built-in type carries is given in :data:`DESCRIPTIONS` (shapes, dtypes, units).
"""

from __future__ import annotations

from enum import Enum


class PortType(str, Enum):
    """The built-in port types (``str`` values, so ``PortType.IMAGE == "IMAGE"``)."""

    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    CURVE = "CURVE"
    TRAJECTORY = "TRAJECTORY"
    CAMERA = "CAMERA"
    PHYSICS_SCENE = "PHYSICS_SCENE"
    SPRITE = "SPRITE"
    MODEL = "MODEL"
    CONDITIONING = "CONDITIONING"
    MASK = "MASK"
    BOXES = "BOXES"
    FLOW = "FLOW"
    AUDIO = "AUDIO"
    ANY = "ANY"

    def __str__(self) -> str:
        return self.value


DESCRIPTIONS: dict[str, str] = {
    "IMAGE": "numpy (H, W, 3) RGB or (H, W, 4) straight-alpha RGBA, float32 in [0, 1]",
    "VIDEO": "vidstudio.media.Clip: T frames of (H, W, 3) float32 in [0, 1], rendered on demand",
    "TEXT": "str",
    "NUMBER": "float, or a (T,) float64 array (one value per frame)",
    "CURVE": "vidstudio.motion.FCurve: a keyframed scalar curve over frames",
    "TRAJECTORY": "vidstudio.motion.tracks.TrackSet: per object, per-frame positions (T, 2) px (origin top-left, y down; world px = output-frame px at rest camera), angle, scale, visibility; plus static anchors",
    "CAMERA": "(T, 3, 3) float64 world-to-frame affines, one per frame",
    "PHYSICS_SCENE": "vidstudio.motion.physics.PhysicsScene: bodies, walls, gravity in px/s^2 (a description; the Simulate node runs it)",
    "SPRITE": "vidstudio.motion.sprites.Sprite: an image cut-out or a shape, with the track it follows",
    "MODEL": "a reference to a generation model (family, local folder or Hugging Face id, options); loaded by the backend",
    "CONDITIONING": "the conditioning bundle for a generation model (prompts, keyframes, guide video, controls, seed, steps)",
    "MASK": "numpy (T, H, W) bool or float32 in [0, 1]",
    "BOXES": "numpy (T, N, 4) float64 boxes (x0, y0, x1, y1) in px; NaN where an object is not visible",
    "FLOW": "numpy (T-1, H, W, 2) float32 forward flow in px",
    "AUDIO": "vidstudio.media.audio.Audio: samples (N, channels) float32 in [-1, 1] and sample_rate in Hz; sample 0 plays with frame 0",
    "ANY": "any value",
}


def can_connect(output_type: str, input_type: str) -> tuple[bool, str]:
    """Tells whether an output of ``output_type`` may feed an input of ``input_type``.

    Returns:
        ``(ok, reason)``: ``reason`` is empty when ``ok``, else says why in words.
    """
    o, i = str(output_type), str(input_type)
    if i == PortType.ANY or o == i:
        return True, ""
    return False, f"{_article(o)} {o} output cannot feed {_article(i)} {i} input"


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"
