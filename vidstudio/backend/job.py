"""What a job adds on top of the cached base pipeline and takes away after it: LoRAs
(:mod:`vidstudio.backend.lora`), step caching and the attention backend (:mod:`vidstudio.backend.speed`), and
the steps/guidance preset of a step-distilled LoRA. :func:`vidstudio.backend.generate.generate` calls
:func:`job_preset` before planning and :func:`job_options` just before the pipeline call; the cleanups run
after the call, success or not, so the cache keeps the base pipeline as it was loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidstudio.backend.bundle import Conditioning, ModelRef


def job_preset(ref: ModelRef, bundle: Conditioning, notes: list[str]) -> Conditioning:
    """The bundle with a step-distilled LoRA's preset (steps, guidance) applied and noted
    (:func:`vidstudio.backend.lora.apply_preset`)."""
    from vidstudio.backend.lora import apply_preset

    return apply_preset(tuple(ref.loras), bundle, notes)


def job_options(
    loaded: Any, ref: ModelRef, plan: Any, kwargs: dict[str, Any], project_dir: Path | None, notes: list[str]
) -> list[Callable[[], None]]:
    """Applies the job's LoRAs, attention backend and step cache to the loaded pipeline.

    Returns:
        the cleanup functions, in the order they must run (cache, attention, LoRAs).

    Raises:
        vidstudio.errors.ModelError: a LoRA that cannot be loaded, an unknown option (whatever was applied is
            undone first).
    """
    from vidstudio.backend.lora import apply_loras
    from vidstudio.backend.speed import enable_step_cache, set_attention

    undo: list[Callable[[], None]] = []
    try:
        undo[:0] = apply_loras(loaded, tuple(ref.loras), project_dir, notes)
        undo[:0] = set_attention(plan.pipe, ref.attention, notes)
        undo[:0] = enable_step_cache(loaded, plan, kwargs, ref.step_cache, float(ref.cache_threshold), notes)
    except BaseException:
        for fn in undo:
            fn()
        raise
    return undo
