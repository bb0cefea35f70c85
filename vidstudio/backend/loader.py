"""Loading pipelines: device and dtype choice, memory options, and the process-level cache that keeps the last
used pipeline loaded between jobs.

A long-lived worker (the server's GPU process) keeps one :class:`PipelineCache` for its life, either the
process default (:func:`default_cache`) or one it puts in ``ctx.services["pipeline_cache"]``; a job that uses
the same model and load options as the previous one reuses the loaded weights. Task pipelines of the same
family (text-to-video, video-to-video, SparseCtrl, conditions...) are derived with ``from_pipe``, which shares
the weights.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from vidstudio.backend.bundle import ModelRef
from vidstudio.backend.checkpoint_files import locate_model
from vidstudio.backend.locate import ModelLocation, hf_offline
from vidstudio.errors import ModelError

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def quiet_libraries() -> None:
    """Silences diffusers' and transformers' loading progress bars and info chatter (VidStudio reports
    progress itself); ``VIDSTUDIO_DEBUG=1`` keeps them."""
    import os

    if os.environ.get("VIDSTUDIO_DEBUG"):
        return
    import diffusers.utils.logging as dlog
    import transformers.utils.logging as tlog

    dlog.set_verbosity_error()
    dlog.disable_progress_bar()
    tlog.set_verbosity_error()
    tlog.disable_progress_bar()


def dtype_kwargs(dtype: torch.dtype) -> dict[str, Any]:
    """``{"dtype": dtype}`` for diffusers versions that take it, else the older ``{"torch_dtype": dtype}``."""
    from diffusers.pipelines import pipeline_utils

    return {"dtype": dtype} if hasattr(pipeline_utils, "_resolve_dtype") else {"torch_dtype": dtype}


def choose_device(requested: str = "auto") -> str:
    """The torch device to run on: ``cuda`` when available, else ``mps``, else ``cpu`` (``auto``), or the
    requested one.

    Raises:
        ModelError: when the requested device is not available here.
    """
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if requested in ("", "auto"):
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cuda" and not cuda:
        raise ModelError("device 'cuda' was chosen but this torch has no CUDA device; choose 'auto' or 'cpu'")
    if requested == "mps" and not mps:
        raise ModelError("device 'mps' was chosen but Apple's Metal (MPS) is not available; choose 'auto' or 'cpu'")
    if requested not in ("cuda", "mps", "cpu"):
        raise ModelError(f"unknown device {requested!r}; expected auto, cuda, mps or cpu")
    return requested


def describe_device(requested: str = "auto") -> str:
    """The device this process would render on, in words for an artist: ``"cuda: NVIDIA H200, 140 GiB
    (torch 2.13.0)"``, ``"mps: Apple GPU (torch ...)"`` or ``"cpu: no GPU (torch ...)"``.

    Raises:
        ModelError: when the requested device is not available here (see :func:`choose_device`).
    """
    dev = choose_device(requested)
    if dev == "cuda":
        idx = torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        what = f"{props.name}, {props.total_memory / 2**30:.0f} GiB"
        if torch.cuda.device_count() > 1:
            what += f", 1 of {torch.cuda.device_count()} GPUs"
    elif dev == "mps":
        what = "Apple GPU"
    else:
        what = "no GPU"
    return f"{dev}: {what} (torch {torch.__version__})"


def device_memory_bytes(requested: str = "auto") -> int | None:
    """The total memory of the device this process would render on, in bytes (CUDA), or None where it cannot be
    told (CPU and MPS share the system's memory; :mod:`vidstudio.budget` then checks no device limit)."""
    if choose_device(requested) != "cuda":
        return None
    return int(torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory)


def choose_dtype(requested: str, device: str) -> torch.dtype:
    """The weights' dtype: ``auto`` is bf16 on CUDA with bf16 support, fp16 on other CUDA devices and MPS,
    fp32 on CPU; ``bf16``/``fp16``/``fp32`` as asked.

    Raises:
        ModelError: for an unknown name.
    """
    if requested in ("", "auto"):
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device == "mps":
            return torch.float16
        return torch.float32
    if requested not in _DTYPES:
        raise ModelError(f"unknown dtype {requested!r}; expected auto, bf16, fp16 or fp32")
    return _DTYPES[requested]


@dataclass
class LoadedModel:
    """A loaded base pipeline and what was derived from it.

    Attributes:
        ref: the reference it was loaded for; location: where it came from.
        pipe: the base diffusers pipeline.
        device, dtype: where and in which precision it runs.
        notes: what loading changed or ignored (memory options on CPU, ...).
        derived: task pipelines by class name (``from_pipe``), sharing the weights.
        extras: lazily loaded extra models by name (``sparsectrl``, ``preview``).
        ip_adapter: the IP-Adapter source loaded into the UNet, or None.
        active: the class name of the pipeline that ran last (offload hooks follow it).
    """

    ref: ModelRef
    location: ModelLocation
    pipe: Any
    device: str
    dtype: torch.dtype
    notes: list[str] = field(default_factory=list)
    derived: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    ip_adapter: str | None = None
    active: str = ""

    @property
    def family(self) -> str:
        """The model family id."""
        return self.location.family

    @property
    def variant(self) -> str:
        """The checkpoint variant (a Stable Diffusion 1.5 model with a motion adapter counts as ``t2v``)."""
        return "t2v" if self.location.variant == "sd15" else self.location.variant

    def task_pipeline(self, cls_name: str, **components: Any) -> Any:
        """The pipeline of class ``cls_name`` (a diffusers class name) sharing the base weights, created with
        ``from_pipe`` on first use (``components`` adds or replaces components, e.g. a SparseCtrl
        ``controlnet``)."""
        import diffusers

        if type(self.pipe).__name__ == cls_name and not components:
            pipe = self.pipe
        else:
            key = cls_name + "".join(f"|{k}={id(v)}" for k, v in sorted(components.items()))
            pipe = self.derived.get(key)
            if pipe is None:
                cls = getattr(diffusers, cls_name)
                pipe = cls.from_pipe(self.pipe, **dtype_kwargs(self.dtype), **components)
                pipe.set_progress_bar_config(disable=True)
                self.derived[key] = pipe
        if self.ref.offload in ("model", "sequential") and self.device != "cpu" and self.active != cls_name:
            apply_pipeline_offload(pipe, self.ref.offload, self.device)
        self.active = cls_name
        return pipe


def apply_pipeline_offload(pipe: Any, offload: str, device: str) -> None:
    """Enables model (``"model"``) or sequential (``"sequential"``) CPU offload of ``pipe`` onto ``device``;
    called again whenever the components or the active task pipeline change."""
    if offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)


def load_pipeline(
    ref: ModelRef, *, project_dir: Path | None = None, location: ModelLocation | None = None, progress: Any = None
) -> LoadedModel:
    """Loads the pipeline ``ref`` names (no caching; see :class:`PipelineCache`).

    Args:
        ref: the model reference (a local folder or a repo id, family, dtype, device, memory options).
        project_dir: folder relative model paths resolve against.
        location: the result of :func:`vidstudio.backend.locate.locate` when already known.
        progress: optional ``progress(fraction, message)``.

    Returns:
        the :class:`LoadedModel` on its device, in eval mode, progress bars off.

    Raises:
        ModelError: the model cannot be found or is of another family (see :func:`locate`); the weights fail
            to load (the message names the model and the loader's error); a requested device is missing.
    """
    loc = location or locate_model(ref, project_dir)
    device = choose_device(ref.device)
    dtype = choose_dtype(ref.dtype, device)
    notes: list[str] = []
    if progress:
        progress(None, f"loading {loc.model}")
    import diffusers

    quiet_libraries()
    source = loc.repo_id or str(loc.folder)
    kwargs: dict[str, Any] = dtype_kwargs(dtype)
    if loc.repo_id:
        kwargs["local_files_only"] = hf_offline()
        if ref.revision:
            kwargs["revision"] = ref.revision
    if ref.weights_variant:
        kwargs["variant"] = ref.weights_variant
    try:
        if loc.variant == "sd15":
            if not ref.motion_adapter:
                raise ModelError(
                    f"model {loc.model} is a Stable Diffusion 1.5 pipeline; AnimateDiff needs a motion "
                    "adapter too: set the Load Model node's 'motion_adapter' (e.g. "
                    "guoyww/animatediff-motion-adapter-v1-5-3)"
                )
            adapter_loc = _resolve_extra(ref.motion_adapter, project_dir)
            adapter = diffusers.MotionAdapter.from_pretrained(
                adapter_loc, **dtype_kwargs(dtype), local_files_only=hf_offline()
            )
            pipe = diffusers.AnimateDiffPipeline.from_pretrained(source, motion_adapter=adapter, **kwargs)
        else:
            from vidstudio.backend.quant import quantization_kwargs
            from vidstudio.backend.single_file import single_file_components

            quant = quantization_kwargs(ref, device, dtype, loc, notes)
            kwargs.update(
                single_file_components(loc, ref, dtype, project_dir, notes, quant.pop("_transformer_config", None))
            )
            kwargs.update(quant)
            cls = getattr(diffusers, loc.class_name)
            pipe = cls.from_pretrained(source, **kwargs)
    except ModelError:
        raise
    except (OSError, ValueError) as e:
        raise ModelError(
            f"model {loc.model} ({loc.class_name}) could not be loaded from {source}: {e.__class__.__name__}: {e}"
        ) from None
    pipe.set_progress_bar_config(disable=True)
    if ref.offload != "none" and device == "cpu":
        notes.append(f"offload '{ref.offload}' ignored: the model runs on the CPU")
    if ref.offload == "group" and device != "cpu":
        pipe.enable_group_offload(
            onload_device=torch.device(device),
            offload_device=torch.device("cpu"),
            offload_type="block_level",
            num_blocks_per_group=1,
        )
    elif ref.offload in ("model", "sequential") and device != "cpu":
        apply_pipeline_offload(pipe, ref.offload, device)
    else:
        pipe.to(device)
    from vidstudio.backend.quant import apply_layerwise_casting

    apply_layerwise_casting(pipe, ref, device, dtype, notes)
    vae = getattr(pipe, "vae", None)
    for flag, method in (("vae_tiling", "enable_tiling"), ("vae_slicing", "enable_slicing")):
        if getattr(ref, flag) and vae is not None:
            try:
                getattr(vae, method)()
            except (NotImplementedError, AttributeError):
                notes.append(f"{flag.replace('_', ' ')} is not supported by {type(vae).__name__}; ignored")
    if ref.compile:
        model = getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)
        if getattr(model, "_repeated_blocks", None):
            model.compile_repeated_blocks()
            notes.append(f"compiled the repeated blocks of the {type(model).__name__} (torch.compile)")
        elif model is not None:
            model.compile()
            notes.append(f"compiled the {type(model).__name__} (torch.compile)")
    loaded = LoadedModel(
        ref=ref, location=loc, pipe=pipe, device=device, dtype=dtype, notes=notes, active=type(pipe).__name__
    )
    return loaded


def _resolve_extra(spec: str, project_dir: Path | None) -> str:
    p = Path(spec).expanduser()
    if not p.is_absolute() and project_dir is not None and (Path(project_dir) / p).exists():
        p = Path(project_dir) / p
    return str(p) if p.exists() else spec


class PipelineCache:
    """Keeps the last used pipeline loaded (one at a time: a new model or new load options replace it).

    Thread-safe. ``loads`` counts real loads (for tests and the server's status).
    """

    def __init__(self) -> None:
        self._entry: LoadedModel | None = None
        self._key: tuple | None = None
        self._lock = threading.RLock()
        self.loads = 0

    @staticmethod
    def key(ref: ModelRef, location: ModelLocation) -> tuple:
        """What identifies a loaded pipeline: the resolved folder/repo and every load option. Extras a job adds
        on top (SparseCtrl, IP-Adapter, the preview decoder) are not part of it: they come from each job's own
        reference."""
        return (
            str(location.folder),
            location.repo_id,
            location.class_name,
            ref.revision,
            ref.weights_variant,
            ref.dtype,
            ref.device,
            ref.offload,
            ref.vae_tiling,
            ref.vae_slicing,
            ref.compile,
            ref.motion_adapter,
            location.single_file,
            ref.vae_file,
            ref.text_encoder_file,
            ref.quantize,
            ref.quantize_text_encoder,
        )

    def get(
        self,
        ref: ModelRef,
        *,
        project_dir: Path | None = None,
        location: ModelLocation | None = None,
        progress: Any = None,
    ) -> LoadedModel:
        """The loaded pipeline for ``ref``: the cached one when the key matches, else a fresh load (the old
        pipeline is released first, so that two never share the GPU).

        Raises:
            ModelError: see :func:`load_pipeline`.
        """
        loc = location or locate_model(ref, project_dir)
        k = self.key(ref, loc)
        with self._lock:
            if self._entry is not None and self._key == k:
                return self._entry
            self.clear()
            entry = load_pipeline(ref, project_dir=project_dir, location=loc, progress=progress)
            self._entry, self._key = entry, k
            self.loads += 1
            return entry

    @property
    def current(self) -> LoadedModel | None:
        """The loaded model, or None."""
        return self._entry

    def clear(self) -> None:
        """Releases the loaded pipeline (and the GPU memory it held)."""
        with self._lock:
            self._entry, self._key = None, None
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()


_DEFAULT_CACHE = PipelineCache()


def default_cache() -> PipelineCache:
    """The process-wide pipeline cache (used when ``ctx.services`` holds no ``"pipeline_cache"``)."""
    return _DEFAULT_CACHE
