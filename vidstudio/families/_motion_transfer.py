"""Time-to-Move settings without torch: which families take a motion signal, the published ``t_weak`` /
``t_strong`` per family and control kind, and how a step index or a fraction of the schedule becomes a step.

Time-to-Move (TTM: Singer et al., "Time-to-Move: Training-Free Motion Controlled Video Generation via
Dual-Clock Denoising", arXiv 2511.08633; reference code github.com/time-to-move/TTM) starts an image-to-video
model from a crude motion signal (the animatic) noised to the level of step ``t_weak`` and, until step
``t_strong``, puts the motion signal back inside its mask after every step, noised to the next step's level.
The denoising itself is in :mod:`vidstudio.backend.ttm` (torch); this module is read by the nodes, validation
and the run report, which must not load torch.
"""

from __future__ import annotations

import math

#: The name the run report and the MP4 metadata give the method.
METHOD = "time_to_move"

#: Control kinds: ``object`` (cut-and-drag: the mask covers the moved objects) and ``camera`` (the whole
#: frame moves: the mask is the whole frame).
KINDS: tuple[str, ...] = ("object", "camera")

#: The number of steps the published settings are given for (the reference runs 50 steps for every model).
PAPER_STEPS = 50

#: ``(family, kind) -> (t_weak, t_strong)`` at :data:`PAPER_STEPS` steps, from the reference README and run
#: scripts: Wan 2.2 cut-and-drag 3 / 7, camera control 2 / 5; CogVideoX-5B-I2V 4 / 9; SVD-XT 16 / 21. The
#: reference publishes no camera settings for CogVideoX and SVD: they use their object settings.
PAPER_SETTINGS: dict[tuple[str, str], tuple[int, int]] = {
    ("wan", "object"): (3, 7),
    ("wan", "camera"): (2, 5),
    ("cogvideox", "object"): (4, 9),
    ("cogvideox", "camera"): (4, 9),
    ("svd", "object"): (16, 21),
    ("svd", "camera"): (16, 21),
}

#: The families and checkpoint variants whose image-to-video pipeline runs Time-to-Move (the reference's
#: three), and the diffusers pipeline class each runs through.
TTM_PIPELINES: dict[str, str] = {
    "wan": "WanImageToVideoPipeline",
    "cogvideox": "CogVideoXImageToVideoPipeline",
    "svd": "StableVideoDiffusionPipeline",
}

#: Why the other families refuse a motion signal (shown by validation).
REFUSED: dict[str, str] = {
    "ltx": (
        "LTX-Video's LTXConditionPipeline conditions frames by its own per-token noise levels on packed "
        "latents; Time-to-Move was published and checked for Wan, CogVideoX and SVD only, and re-noising "
        "LTX's condition tokens every step has not been shown to keep them, so it is not offered"
    ),
    "animatediff": "AnimateDiff is text-to-video: Time-to-Move needs an image-to-video model (a first frame)",
}


def scaled(index: int, steps: int) -> int:
    """A step index published for :data:`PAPER_STEPS` steps moved to a schedule of ``steps`` steps
    (``floor(index * steps / 50 + 0.5)``, so 3 of 50 is 2 of 25 and 7 of 50 is 4 of 25)."""
    return int(math.floor(index * steps / PAPER_STEPS + 0.5))


def default_steps(family: str, kind: str, steps: int) -> tuple[int, int]:
    """The published ``(t_weak, t_strong)`` of ``family`` and ``kind`` for a schedule of ``steps`` steps.

    Returns:
        step indices with ``0 <= t_weak <= t_strong <= steps - 1``.

    Raises:
        ValueError: for a family without Time-to-Move or an unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown motion kind {kind!r}; expected one of {', '.join(KINDS)}")
    if (family, kind) not in PAPER_SETTINGS:
        raise ValueError(f"{family} has no Time-to-Move settings; families that have: {', '.join(TTM_PIPELINES)}")
    w, s = PAPER_SETTINGS[(family, kind)]
    last = max(steps - 1, 0)
    t_weak = min(scaled(w, steps), last)
    return t_weak, min(max(scaled(s, steps), t_weak), last)


def step_index(value: float, steps: int, name: str) -> int:
    """A ``t_weak`` / ``t_strong`` value as a step index: a whole number is an index into the schedule
    (0 = the first, noisiest step), a number strictly between 0 and 1 a fraction of it
    (``floor(value * steps + 0.5)``).

    Raises:
        ValueError: for a negative value, a fraction above 1 that is not whole, naming ``name``.
    """
    v = float(value)
    if v < 0 or not math.isfinite(v):
        raise ValueError(f"param '{name}': {v:g} is not a step index or a fraction of the schedule")
    if v == int(v):
        return int(v)
    if v < 1:
        return int(math.floor(v * steps + 0.5))
    raise ValueError(f"param '{name}': {v:g} is neither a whole step index nor a fraction between 0 and 1")


def resolve_steps(family: str, kind: str, steps: int, t_weak: float | None, t_strong: float | None) -> tuple[int, int]:
    """The ``(t_weak, t_strong)`` step indices a run uses: the given values (step indices or fractions, see
    :func:`step_index`), and the published defaults (:func:`default_steps`) for those that are None or -1.

    Raises:
        ValueError: naming the parameter, when ``t_weak`` leaves no step (``>= steps``), ``t_strong`` is past
            the last step or before ``t_weak``, or the family has no Time-to-Move.
    """
    dw, ds = default_steps(family, kind, steps)
    w = dw if t_weak is None or t_weak == -1 else step_index(t_weak, steps, "t_weak")
    s = ds if t_strong is None or t_strong == -1 else step_index(t_strong, steps, "t_strong")
    if t_strong is None or t_strong == -1:
        s = max(s, w)
    if w > steps - 1:
        raise ValueError(f"param 't_weak': step {w} of {steps} leaves no denoising step; use at most {steps - 1}")
    if s > steps - 1:
        raise ValueError(f"param 't_strong': step {s} is past the last of {steps} steps; use at most {steps - 1}")
    if s < w:
        raise ValueError(f"param 't_strong': step {s} comes before t_weak (step {w}); t_strong must be >= t_weak")
    return w, s
