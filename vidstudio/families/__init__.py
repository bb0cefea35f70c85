"""The model families as data: one spec module per family, torch-free.

Each module here (``animatediff.py``, ``ltx.py``, ``wan.py``, ...) declares one
:class:`~vidstudio.families._spec.FamilySpec` named ``SPEC``: its id and title, checkpoint variants and how to
recognise them from ``model_index.json`` and the configs, the diffusers pipeline classes per task, the controls
it honours, what is required or exclusive, default and recommended steps and guidance, frame and size rules
(and how a model's configs refine them), example model ids. The modules are found by name, so adding a family
is one spec module here plus one adapter module in ``vidstudio/backend/families/`` registered under the same id.

Graph validation, ``vidstudio nodes --json``, the server and the commands read the specs without loading
torch (an import-linter contract holds it); the capability table (:func:`describe`, :func:`table_lines`) and
docs/backend.md's tables are generated from them.

Compatibility views of the older parallel tables (:data:`FAMILIES`, :data:`VARIANTS`, :data:`CAPABILITIES`,
...) are derived from the specs here.
"""

from __future__ import annotations

from vidstudio.families._check import (
    CANNOT_EXTEND,
    CardEstimate,
    CheckResult,
    Recognised,
    Request,
    card_size,
    check_request,
    describe,
    extend_method,
    families_that_can,
    fps_problem,
    read_configs,
    recognise,
    rules_for_folder,
    table_lines,
    uses_video_to_video,
    video_to_video_problem,
)
from vidstudio.families._registry import SPECS, get_spec, spec_modules
from vidstudio.families._spec import (
    CONTROLS,
    FRAME_ORDER,
    REQUIREMENTS,
    CardSize,
    Checkpoint,
    Configs,
    FamilySpec,
    FrameLimit,
    GeometryRule,
    Support,
    Variant,
    When,
)
from vidstudio.families.animatediff import MAX_FRAMES as ANIMATEDIFF_MAX_FRAMES
from vidstudio.families.animatediff import WINDOW as ANIMATEDIFF_WINDOW

#: The model family ids, in palette order.
FAMILIES: tuple[str, ...] = tuple(SPECS)
#: Human names of the families.
FAMILY_TITLES: dict[str, str] = {f: s.title for f, s in SPECS.items()}
#: Checkpoint variants per family (those ``vidstudio dev tiny-model`` can write); the first is its default.
VARIANTS: dict[str, tuple[str, ...]] = {f: tuple(v.id for v in s.variants if v.tiny) for f, s in SPECS.items()}
#: ``model_index.json`` ``_class_name`` -> (family, variant) for the classes that name one variant alone
#: (where several variants share a class, :func:`recognise` reads the configs).
PIPELINE_CLASSES: dict[str, tuple[str, str]] = {}
for _f, _s in SPECS.items():
    for _v in reversed(_s.variants):  # the first declared variant of a class wins
        for _c in _v.pipeline_classes:
            if not _v.when:
                PIPELINE_CLASSES[_c] = (_f, _v.id)
            else:
                PIPELINE_CLASSES.setdefault(_c, (_f, _v.id))
#: Example checkpoints per (family, variant), named in messages that ask for another checkpoint.
EXAMPLE_MODELS: dict[tuple[str, str], str] = {(f, v.id): v.example for f, s in SPECS.items() for v in s.variants}
#: family -> control -> :class:`Support`.
CAPABILITIES: dict[str, dict[str, Support]] = {f: dict(s.controls) for f, s in SPECS.items()}
#: Default guidance scale per family (what the model cards use).
DEFAULT_GUIDANCE: dict[str, float] = {f: s.default_guidance for f, s in SPECS.items()}
#: The frame and size rules of each family's published checkpoints.
FAMILY_RULES: dict[str, GeometryRule] = {f: s.rule for f, s in SPECS.items()}

__all__ = [
    "CANNOT_EXTEND",
    "ANIMATEDIFF_MAX_FRAMES",
    "ANIMATEDIFF_WINDOW",
    "CAPABILITIES",
    "CONTROLS",
    "DEFAULT_GUIDANCE",
    "EXAMPLE_MODELS",
    "FAMILIES",
    "FAMILY_RULES",
    "FAMILY_TITLES",
    "FRAME_ORDER",
    "PIPELINE_CLASSES",
    "REQUIREMENTS",
    "SPECS",
    "VARIANTS",
    "CheckResult",
    "Checkpoint",
    "Configs",
    "FamilySpec",
    "FrameLimit",
    "CardEstimate",
    "CardSize",
    "GeometryRule",
    "Recognised",
    "Request",
    "Support",
    "Variant",
    "When",
    "card_size",
    "check_request",
    "describe",
    "extend_method",
    "families_that_can",
    "fps_problem",
    "get_spec",
    "read_configs",
    "recognise",
    "rules_for_folder",
    "spec_modules",
    "table_lines",
    "uses_video_to_video",
    "video_to_video_problem",
]
