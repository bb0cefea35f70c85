"""Built-in node types: thin definitions that wire ports to :mod:`vidstudio.motion`, :mod:`vidstudio.media`
and the generation backend.

:func:`default_registry` is the registry the command line, the GUI and the server use.
"""

from __future__ import annotations

from vidstudio.graph.node import Node
from vidstudio.graph.registry import NodeRegistry
from vidstudio.nodes.camera import CameraMove
from vidstudio.nodes.export import ExportVideo
from vidstudio.nodes.generate import Conditioning, Extend, Generate, LoadLoRA, LoadModel
from vidstudio.nodes.image import LoadImage

#: Every built-in node class, in palette order.
BUILTIN_NODES: list[type[Node]] = [LoadImage, CameraMove, ExportVideo]
BUILTIN_NODES += [LoadModel, LoadLoRA, Conditioning, Generate, Extend]

# The motion layer (issue #3): curves, trajectories, camera, physics, sprites, animatic, conditioning maps,
# retime and grade.
from vidstudio.nodes.animatic import AnimaticRender  # noqa: E402
from vidstudio.nodes.camera import Camera  # noqa: E402
from vidstudio.nodes.conditioning_maps import Heatmaps, MotionFlow, ObjectBoxes, ObjectMasks  # noqa: E402
from vidstudio.nodes.curve import Curve  # noqa: E402
from vidstudio.nodes.cutout import CutOutNode  # noqa: E402
from vidstudio.nodes.grade import ColorGrade  # noqa: E402
from vidstudio.nodes.physics import PhysicsSceneNode, Simulate  # noqa: E402
from vidstudio.nodes.retime import Retime  # noqa: E402
from vidstudio.nodes.sprite import SpriteNode  # noqa: E402
from vidstudio.nodes.trajectory import Trajectory  # noqa: E402

BUILTIN_NODES += [
    Curve,
    Trajectory,
    Camera,
    PhysicsSceneNode,
    Simulate,
    SpriteNode,
    AnimaticRender,
    ObjectMasks,
    ObjectBoxes,
    Heatmaps,
    MotionFlow,
    Retime,
    ColorGrade,
]
BUILTIN_NODES += [CutOutNode]  # cut-and-drag (issue #12)

from vidstudio.nodes.interpolate import Interpolate  # noqa: E402
from vidstudio.nodes.upscale import Upscale  # noqa: E402
from vidstudio.nodes.video import LoadAudio, LoadVideo  # noqa: E402

BUILTIN_NODES += [LoadVideo, LoadAudio, Upscale, Interpolate]  # video in, sound, super-resolution (issue #16)


def builtin_registry() -> NodeRegistry:
    """A registry holding only the built-in node types."""
    reg = NodeRegistry()
    for cls in BUILTIN_NODES:
        reg.register(cls)
    return reg


def default_registry() -> NodeRegistry:
    """The built-in node types plus every discovered plugin's (:func:`vidstudio.plugins.add_plugins`): usable
    plugins' types are imported on first use; disabled, incompatible and failed plugins' types are known but
    unavailable, with the reason. Plugins never stop this from returning."""
    from vidstudio.plugins import add_plugins

    reg = builtin_registry()
    add_plugins(reg)
    return reg
