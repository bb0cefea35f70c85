"""Compatibility name: the capability table, the family ids and the frame and size rules now live in the
torch-free family specs, :mod:`vidstudio.families` (one module per family). Import from there; this module
re-exports them for code written against the old place."""

from __future__ import annotations

from vidstudio.families import (  # noqa: F401
    ANIMATEDIFF_MAX_FRAMES,
    ANIMATEDIFF_WINDOW,
    CAPABILITIES,
    CONTROLS,
    DEFAULT_GUIDANCE,
    EXAMPLE_MODELS,
    FAMILIES,
    FAMILY_RULES,
    FAMILY_TITLES,
    PIPELINE_CLASSES,
    VARIANTS,
    CheckResult,
    GeometryRule,
    Request,
    Support,
    check_request,
    describe,
    families_that_can,
    rules_for_folder,
    table_lines,
    uses_video_to_video,
    video_to_video_problem,
)
