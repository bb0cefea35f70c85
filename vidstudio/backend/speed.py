"""Speed options applied for one job: step caching and the attention backend (torch.compile and fp8 layerwise
casting are load options, see :mod:`vidstudio.backend.loader` and :mod:`vidstudio.backend.quant`).

Each maps to one diffusers call and, where it cannot apply, adds a note to the run report instead of failing:

- step caching, ``transformer.enable_cache(config)`` (diffusers ``CacheMixin``) with
  ``FirstBlockCacheConfig(threshold)`` (First Block Cache, ParaAttention), ``MagCacheConfig`` (MagCache, Ma et
  al. 2025: a calibration run with ``calibrate=True`` measures the magnitude ratios of this model at this step
  count; they are kept with the loaded model and reused) or ``TaylorSeerCacheConfig`` (TaylorSeer, Liu et al.
  2025); ``disable_cache()`` after the job;
- the attention backend, ``transformer.set_attention_backend(name)`` (``native`` torch SDPA, ``flash``
  flash-attn, ``sage`` SageAttention, ``xformers``); a backend whose package is missing is a note and the job
  runs on native attention; reset to native after the job.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable
from typing import Any

from vidstudio.errors import ModelError

#: Packages each attention backend needs (what the note tells the user to install).
ATTENTION_PACKAGES = {"flash": "flash-attn", "sage": "sageattention", "xformers": "xformers"}


def denoiser(pipe: Any) -> Any:
    """The pipeline's transformer or UNet (None when it has neither)."""
    return getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)


def denoisers(pipe: Any) -> list[Any]:
    """Every denoiser of the pipeline (Wan 2.2 A14B has two experts)."""
    out = [
        m
        for m in (getattr(pipe, "transformer", None), getattr(pipe, "transformer_2", None), getattr(pipe, "unet", None))
        if m is not None
    ]
    return out


def set_attention(pipe: Any, backend: str, notes: list[str]) -> list[Callable[[], None]]:
    """Sets the attention backend of the pipeline's denoisers (``set_attention_backend``).

    Returns:
        the cleanup functions (back to native); empty for ``native`` or when it could not apply (noted).

    Raises:
        ModelError: for an unknown backend name.
    """
    backend = (backend or "native").lower()
    if backend == "native":
        return []
    if backend not in ATTENTION_PACKAGES:
        raise ModelError(
            f"param 'attention': unknown attention backend {backend!r}; expected native, flash, sage or xformers"
        )
    models = [m for m in denoisers(pipe) if hasattr(m, "set_attention_backend")]
    if not models:
        notes.append(f"attention backend '{backend}' does not apply to {type(pipe).__name__}; native attention used")
        return []
    done = []
    for m in models:
        try:
            with _quiet("diffusers.models.modeling_utils"):
                m.set_attention_backend(backend)
            done.append(m)
        except (RuntimeError, ValueError, ImportError) as e:
            for d in done:
                d.set_attention_backend("native")
            notes.append(
                f"attention backend '{backend}' is not usable here ({_first_line(e)}); install "
                f"{ATTENTION_PACKAGES[backend]} on a machine whose GPU it supports; native attention used"
            )
            return []
    notes.append(f"attention backend: {backend}")

    def reset() -> None:
        for m in done:
            with _quiet("diffusers.models.modeling_utils"):
                m.set_attention_backend("native")

    return [reset]


def cache_config(kind: str, threshold: float, steps: int, mag_ratios: Any = None, calibrate: bool = False) -> Any:
    """The diffusers cache config for ``kind`` (``first_block``, ``mag``, ``taylorseer``).

    Args:
        threshold: the method's threshold (First Block Cache: relative change of the first block's residual,
            default 0.05; MagCache: accumulated error, default 0.06); 0 for the default. TaylorSeer has none.
        steps: the job's denoising steps (MagCache interpolates its ratios to them).

    Raises:
        ModelError: for an unknown kind.
    """
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig, TaylorSeerCacheConfig

    if kind == "first_block":
        return FirstBlockCacheConfig(threshold=threshold or 0.05)
    if kind == "mag":
        kw: dict[str, Any] = {"num_inference_steps": int(steps)}
        if threshold:
            kw["threshold"] = threshold
        if calibrate:
            return MagCacheConfig(calibrate=True, **kw)
        return MagCacheConfig(mag_ratios=list(mag_ratios), **kw)
    if kind == "taylorseer":
        import torch

        # diffusers' default patterns (``^blocks.*attn`` with fullmatch) miss Wan's ``blocks.N.attn1``: name the
        # attention modules of every transformer family here explicitly
        return TaylorSeerCacheConfig(
            cache_interval=2,
            disable_cache_before_step=2,
            taylor_factors_dtype=torch.float32,
            cache_identifiers=[r"(transformer_)?blocks\.\d+\.attn\d?"],
        )
    raise ModelError(f"param 'step_cache': unknown step cache {kind!r}; expected none, first_block, mag or taylorseer")


def enable_step_cache(
    loaded: Any, plan: Any, kwargs: dict[str, Any], kind: str, threshold: float, notes: list[str]
) -> list[Callable[[], None]]:
    """Enables step caching on the plan pipeline's transformer for one call (``enable_cache``).

    MagCache first runs the call once with ``calibrate=True`` (no steps skipped; callbacks off, the same seed)
    when this model has no ratios for this step count yet; the ratios are kept in ``loaded.extras``.

    Returns:
        the cleanup functions (``disable_cache``); empty when caching does not apply (noted).
    """
    if not kind or kind == "none":
        return []
    model = denoiser(plan.pipe)
    label = {"first_block": "First Block Cache", "mag": "MagCache", "taylorseer": "TaylorSeer cache"}.get(kind, kind)
    if model is None or not hasattr(model, "enable_cache"):
        notes.append(
            f"step cache '{kind}': {type(model).__name__} has no cache hooks in diffusers "
            "(transformer models only); ran without"
        )
        cache_config(kind, threshold, 1, mag_ratios=[1.0])  # still refuse an unknown kind
        return []
    if getattr(plan.pipe, "transformer_2", None) is not None:
        notes.append(f"step cache '{kind}': applied to the high-noise expert only")
    steps = int(kwargs.get("num_inference_steps") or 1)
    if kind == "mag":
        key = ("mag_ratios", type(plan.pipe).__name__, steps)
        ratios = loaded.extras.get(key)
        if ratios is None:
            try:
                ratios = _calibrate_mag(plan, kwargs, steps, threshold)
            except Exception as e:
                if isinstance(e, ModelError) or not isinstance(e, (IndexError, ValueError, RuntimeError)):
                    raise
                notes.append(
                    f"step cache 'mag': calibration failed on {type(model).__name__} "
                    f"({e.__class__.__name__}: {_first_line(e)}); ran without"
                )
                return []
            loaded.extras[key] = ratios
            notes.append(f"MagCache calibrated on this model at {steps} steps (one extra run, nothing skipped)")
        config = cache_config(kind, threshold, steps, mag_ratios=ratios)
    else:
        config = cache_config(kind, threshold, steps)
    try:
        model.enable_cache(config)
    except Exception as e:  # e.g. First Block Cache on a one-block transformer (IndexError inside diffusers)
        with contextlib.suppress(Exception):
            model.disable_cache()
        notes.append(
            f"step cache '{kind}' could not be enabled on {type(model).__name__} "
            f"({e.__class__.__name__}: {_first_line(e)}); ran without"
        )
        return []
    notes.append(f"step cache: {label}" + (f", threshold {threshold:g}" if threshold and kind != "taylorseer" else ""))
    return [model.disable_cache]


def _calibrate_mag(plan: Any, kwargs: dict[str, Any], steps: int, threshold: float) -> list[float]:
    """One pipeline call with ``MagCacheConfig(calibrate=True)``: the per-step magnitude ratios diffusers logs."""
    import torch

    model = denoiser(plan.pipe)
    kw = {k: v for k, v in kwargs.items() if not k.startswith("callback_on_step_end")}
    gen = kwargs.get("generator")
    if isinstance(gen, torch.Generator):
        g = torch.Generator(gen.device)
        g.set_state(gen.get_state())
        kw["generator"] = g
    kw["output_type"] = "latent"
    found: list[list[float]] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            msg = record.getMessage()
            if "Calibration Results:" in msg:
                import ast

                found.append([float(x) for x in ast.literal_eval(msg.split("Results:", 1)[1].strip())])

    log = logging.getLogger("diffusers.hooks.mag_cache")
    handler, old_level, old_propagate = Grab(), log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # diffusers' own handler would print the ratios and the hook placements
    model.enable_cache(cache_config("mag", threshold, steps, calibrate=True))
    try:
        with torch.inference_mode(), contextlib.redirect_stdout(io.StringIO()):
            plan.pipe(**kw)
    finally:
        model.disable_cache()
        log.removeHandler(handler)
        log.setLevel(old_level)
        log.propagate = old_propagate
    if not found:
        raise ModelError("MagCache calibration gave no magnitude ratios for this model; choose another step cache")
    return found[-1]


@contextlib.contextmanager
def _quiet(name: str):
    log = logging.getLogger(name)
    old = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(old)


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [e.__class__.__name__])[0]
