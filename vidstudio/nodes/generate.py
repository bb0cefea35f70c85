"""Generation nodes: Load Model (a MODEL reference), Conditioning (the bundle), Generate (MODEL + CONDITIONING
-> VIDEO).

Nothing here imports torch: Load Model and Conditioning only build data (:mod:`vidstudio.backend.bundle`),
and Generate imports the backend inside ``execute``. Their checks enforce the capability table and the
frame/size rules of :mod:`vidstudio.families` during validation, before any model loads:
Generate's :meth:`Generate.check_in_graph` looks at the Load Model and Conditioning nodes that feed it.

Services a running Generate node uses from ``ctx.services`` (all optional):

- ``"pipeline_cache"``: a :class:`vidstudio.backend.loader.PipelineCache` (default: the process-wide one, so a
  long-lived worker keeps the last pipeline loaded between jobs);
- ``"on_step"``: ``on_step(node_id, step, total, seconds_per_step, preview)`` after every denoising step,
  ``preview`` an ``(h, w, 3)`` float32 RGB image in [0, 1] or None;
- cancellation comes from ``ctx.cancel`` and stops within one step, skipping the VAE decode.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import TypeAdapter

from vidstudio.backend.bundle import (
    ATTENTION,
    DEVICES,
    DTYPES,
    INITIAL_NOISE,
    LORA_EXPERTS,
    OFFLOAD,
    QUANTIZE,
    STEP_CACHES,
    Keyframe,
    LoraRef,
    ModelRef,
)
from vidstudio.backend.bundle import Conditioning as Bundle
from vidstudio.errors import ModelError, NodeError
from vidstudio.families import (
    CANNOT_EXTEND,
    FAMILIES,
    Request,
    check_request,
    extend_method,
    fps_problem,
    get_spec,
    uses_video_to_video,
    video_to_video_problem,
)
from vidstudio.families._motion_transfer import KINDS as MOTION_KINDS
from vidstudio.families._motion_transfer import TTM_PIPELINES, resolve_steps, step_index
from vidstudio.fsutil import folder_size
from vidstudio.graph.node import ExecutionContext, Input, Node, Output, Param
from vidstudio.graph.types import PortType
from vidstudio.media.clip import Clip, as_clip
from vidstudio.motion.warped_noise import family_warning

_FRAMES = TypeAdapter(list[int])
_SCHEDULE = TypeAdapter(dict[int, str])


def _frames_list(value: Any) -> list[int]:
    frames = _FRAMES.validate_python(value)
    if any(f < 0 for f in frames):
        raise ValueError("frame numbers must be >= 0")
    return frames


def _schedule(value: Any) -> dict[str, str]:
    sched = _SCHEDULE.validate_python(value)
    if any(k < 0 for k in sched):
        raise ValueError("frame numbers must be >= 0")
    return {str(k): v for k, v in sorted(sched.items())}


def _project_dir(graph: Any) -> Path | None:
    try:
        return getattr(graph, "project_dir", None)
    except Exception:
        return None


def not_downloaded_message(repo: str) -> str:
    """The words for a repo id that is not in the Hugging Face cache while online: ``"not downloaded yet: the first
    run downloads it (about 68 GB)"``, the size from the model card where a family spec knows it
    (:func:`vidstudio.families.card_size`, bf16 weights)."""
    from vidstudio.families import card_size

    card = card_size(repo)
    size = f" (about {card.gigabytes():.0f} GB)" if card is not None else ""
    return f"{repo} is not downloaded yet: the first run downloads it{size}, or `vidstudio models download {repo}`"


class LoadModel(Node):
    """Names a generation model and how to load it; loads nothing (the Generate node loads it on demand and
    keeps the last one loaded).

    Output ``model``: a :class:`vidstudio.backend.bundle.ModelRef`.
    """

    type_id = "LoadModel"
    title = "Load Model"
    category = "Generate"
    description = (
        "A video model: a local diffusers pipeline folder or a Hugging Face repo id, with load options. A single "
        "transformer/UNet file (.safetensors or .gguf, e.g. ComfyUI's diffusion_models) works too, with "
        "base_model naming the pipeline that gives the VAE, text encoder and scheduler."
    )
    outputs = (Output("model", PortType.MODEL, "a model reference (family, folder or repo id, options)"),)
    params = (
        Param(
            "family",
            "choice",
            "auto",
            choices=("auto",) + FAMILIES,
            help="Model family; auto reads it from the pipeline class in the model's model_index.json.",
        ),
        Param(
            "model",
            "string",
            "",
            file_role="model",
            help="A local diffusers pipeline folder (relative to the project file) or a Hugging Face repo id "
            "such as Lightricks/LTX-Video (found in the Hugging Face cache; HF_HUB_OFFLINE honoured).",
        ),
        Param("revision", "string", "", help="Hub revision (branch, tag or commit); empty: the default branch."),
        Param("weights_variant", "string", "", help="Weights file variant such as fp16; empty: the default files."),
        Param(
            "dtype",
            "choice",
            "auto",
            choices=DTYPES,
            help="auto: bf16 on CUDA with bf16 support, fp16 on other GPUs and Apple MPS, fp32 on the CPU.",
        ),
        Param("device", "choice", "auto", choices=DEVICES, help="auto: cuda, else mps, else cpu."),
        Param(
            "offload",
            "choice",
            "none",
            choices=OFFLOAD,
            help="Save GPU memory: model CPU offload, group offload (block level) or sequential offload.",
        ),
        Param("vae_tiling", "bool", False, help="Decode the VAE in tiles (less memory for large frames)."),
        Param("vae_slicing", "bool", False, help="Decode the VAE a slice at a time (less memory)."),
        Param("compile", "bool", False, help="torch.compile the transformer / UNet (slow first run, faster after)."),
        Param(
            "sparsectrl",
            "string",
            "",
            help="AnimateDiff: SparseCtrl RGB model for keyframes (folder or repo id); empty: the model "
            "folder's 'sparsectrl' subfolder.",
        ),
        Param(
            "ip_adapter",
            "string",
            "",
            help="AnimateDiff: IP-Adapter weights for style references (file, or org/name/subfolder/file); "
            "empty: the model folder's 'ip_adapter' subfolder.",
        ),
        Param(
            "motion_adapter",
            "string",
            "",
            help="AnimateDiff on a Stable Diffusion 1.5 model: the motion adapter (folder or repo id).",
        ),
        Param(
            "preview_decoder",
            "string",
            "",
            help="Tiny autoencoder for step previews: a TAESD folder or a TAEHV .pth/.safetensors file; "
            "empty: linear latent-to-RGB previews.",
        ),
        Param(
            "latent_upsampler",
            "string",
            "",
            help="LTX-Video: a latent upsampler (an LTXLatentUpsamplePipeline folder or its latent_upsampler "
            "folder, e.g. Lightricks/ltxv-spatial-upscaler-0.9.7) as a second stage: generate at half the "
            "size, upsample the latents 2x, refine at full size (denoise strength 0.4).",
        ),
        Param(
            "base_model",
            "string",
            "",
            file_role="model",
            help="When 'model' is a single transformer/UNet file (.safetensors or .gguf, e.g. from ComfyUI's "
            "diffusion_models folder): the diffusers pipeline (folder or repo id) of the same model that "
            "gives the VAE, text encoder, scheduler and configs.",
        ),
        Param(
            "vae_file",
            "string",
            "",
            file_role="model",
            help="A single VAE .safetensors file replacing the base pipeline's VAE.",
        ),
        Param(
            "text_encoder_file",
            "string",
            "",
            file_role="model",
            help="A single text-encoder .safetensors file replacing the base pipeline's text encoder.",
        ),
        Param(
            "quantize",
            "choice",
            "none",
            choices=QUANTIZE,
            help="Transformer weights: fp8 layerwise casting, torchao int8 / fp8 weight-only, bitsandbytes nf4 "
            "(each where its package and GPU allow; otherwise noted and loaded as is).",
        ),
        Param("quantize_text_encoder", "choice", "none", choices=QUANTIZE, help="Text-encoder weights, as 'quantize'."),
        Param(
            "step_cache",
            "choice",
            "none",
            choices=STEP_CACHES,
            help="Skip transformer work on steps that change little: First Block Cache, MagCache (calibrates "
            "once per step count), TaylorSeer. Faster, slightly different frames.",
        ),
        Param(
            "cache_threshold",
            "float",
            0.0,
            min=0.0,
            max=1.0,
            step=0.01,
            help="Step-cache threshold (higher: faster, less faithful); 0: the method's default.",
        ),
        Param(
            "attention",
            "choice",
            "native",
            choices=ATTENTION,
            help="Attention backend: native (PyTorch SDPA), flash (flash-attn), sage (SageAttention), xformers.",
        ),
    )
    uses_settings = ()

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        from vidstudio.backend.locate import looks_like_repo_id

        model = params["model"].strip()
        if not model:
            return [
                (
                    "param 'model'",
                    "no model chosen: a local pipeline folder or a Hugging Face repo id "
                    "(or pass --model to vidstudio render)",
                    "model-not-local",
                )
            ]
        p = Path(model).expanduser()
        if p.suffix.lower() in (".safetensors", ".gguf") and not str(params.get("base_model", "")).strip():
            return [
                (
                    "param 'base_model'",
                    f"{p.name} is a single transformer file: set 'base_model' to a diffusers "
                    "pipeline (folder or repo id) for the other components",
                )
            ]
        if p.is_absolute() and not p.exists() and not looks_like_repo_id(model):
            return [
                (
                    "param 'model'",
                    f"model folder {p} does not exist; point the model at a folder that holds "
                    "model_index.json, or give a Hugging Face repo id (org/name)",
                    "model-not-local",
                )
            ]
        return []

    #: Parameters only some families use, and those families.
    FAMILY_PARAMS: ClassVar[dict[str, tuple[str, ...]]] = {
        "sparsectrl": ("animatediff",),
        "ip_adapter": ("animatediff",),
        "motion_adapter": ("animatediff",),
        "latent_upsampler": ("ltx",),
    }

    @classmethod
    def unused_params(cls, params: dict[str, Any], project_dir: Path | None = None) -> dict[str, str]:
        """The family-specific parameters (:data:`FAMILY_PARAMS`) the model's family does not use: the family
        chosen, or with ``auto`` the one found from the model's configs (cache and files only, never the
        network); nothing when the family is not known yet. Never raises."""
        fam = str(params.get("family", "auto") or "auto")
        if fam == "auto":
            if not str(params.get("model", "") or "").strip():
                return {}
            try:
                fam = str(cls.locate_static(params, project_dir).family or "")
            except Exception:  # not found yet, unreadable: every parameter stays offered
                return {}
        if not fam or fam == "auto":
            return {}
        from vidstudio.families import FAMILY_TITLES

        return {
            name: f"not used by {FAMILY_TITLES.get(fam, fam)} (only {', '.join(FAMILY_TITLES.get(f, f) for f in fams)})"
            for name, fams in cls.FAMILY_PARAMS.items()
            if fam not in fams
        }

    @classmethod
    def check_in_graph(cls, node_id: str, graph: Any, registry: Any, settings: Any) -> list[tuple[str, ...]]:
        """Finds the model without loading it or touching the network: a folder that is not a pipeline or is of
        another family, or a missing folder, is an error; a repo id (the model, or a single file's base
        pipeline) that is not in the Hugging Face cache is a warning online (``model-not-downloaded``: the first
        run downloads it; its size when a family spec knows it, :func:`vidstudio.families.card_size`) and an
        error while ``HF_HUB_OFFLINE`` is set (``model-not-local``: the run would stop there), naming
        ``vidstudio models download ID``."""
        from vidstudio.backend.checkpoint_files import is_checkpoint_file, locate_model
        from vidstudio.backend.locate import hf_offline

        params = graph.node(node_id).params
        model = str(params.get("model", "")).strip()
        if not model or cls.check({"model": model, "base_model": params.get("base_model", "")}, settings):
            return []  # nothing chosen, or already reported by check()
        ref = ModelRef(
            family=str(params.get("family", "auto")), model=model, base_model=str(params.get("base_model", "")).strip()
        )
        try:
            locate_model(ref, _project_dir(graph), download=False)
        except ModelError as e:
            if e.code == "model-not-downloaded":
                single = is_checkpoint_file(model, _project_dir(graph)) is not None
                where, repo = ("param 'base_model'", ref.base_model) if single else ("param 'model'", model)
                if hf_offline():  # the message names `vidstudio models download ID`
                    return [(where, str(e), "model-not-local")]
                return [(where, not_downloaded_message(repo), "model-not-downloaded")]
            if e.code in ("no-model", "model-not-local"):
                return [("param 'model'", str(e), "model-not-local")]
            return [("param 'model'", str(e))]
        return []

    @classmethod
    def locate_static(cls, params: dict[str, Any], project_dir: Path | None = None) -> Any:
        """Finds the node's model on this computer without downloading or loading anything (torch-free):
        the :class:`vidstudio.backend.locate.ModelLocation` of its folder, cached repo or single file plus
        base pipeline.

        Raises:
            ModelError: as :func:`vidstudio.backend.checkpoint_files.locate_model` with ``download=False``
                (code ``model-not-downloaded`` for a repo id that is not in the Hugging Face cache).
        """
        from vidstudio.backend.checkpoint_files import locate_model

        ref = ModelRef(
            family=str(params.get("family", "auto")),
            model=str(params.get("model", "")).strip(),
            revision=str(params.get("revision", "")).strip(),
            base_model=str(params.get("base_model", "")).strip(),
        )
        return locate_model(ref, project_dir, download=False)

    @classmethod
    def gpu_estimate(cls, params: dict[str, Any], project_dir: Path | None = None) -> Any:
        """The GPU memory the node's weights would take under its quantisation and offload choices, before
        anything loads (the Inspector shows it; reads config and ``.safetensors`` headers, so call it off the
        GUI thread).

        Returns:
            a :class:`vidstudio.backend.estimate.GpuEstimate`: ``status`` ``"ok"``; ``"not-downloaded"`` with
            ``repo_id`` for a Hugging Face repo id (the model, or the base pipeline of a single file) that is not
            in the cache, with figures from the model card when a family spec knows the repo
            (``source="model card"``, :func:`vidstudio.backend.estimate.card_estimate`); ``"unknown"`` with the
            reason otherwise. Never raises.
        """
        from vidstudio.backend.checkpoint_files import is_checkpoint_file
        from vidstudio.backend.estimate import GpuEstimate, card_estimate, gpu_estimate
        from vidstudio.families import card_size

        choices = {
            "quantize": str(params.get("quantize", "none")),
            "quantize_text_encoder": str(params.get("quantize_text_encoder", "none")),
            "offload": str(params.get("offload", "none")),
        }
        model = str(params.get("model", "")).strip()
        if not model:
            return GpuEstimate("unknown", "no estimate: no model chosen", **choices)
        try:
            loc = cls.locate_static(params, project_dir)
        except ModelError as e:
            if e.code == "model-not-downloaded":
                single = is_checkpoint_file(model, project_dir) is not None
                repo = str(params.get("base_model", "")).strip() if single else model
                card = card_size(repo) if not single else None
                if card is not None:
                    return card_estimate(card, repo, **choices)
                return GpuEstimate(
                    "not-downloaded",
                    f"no estimate: {repo} is not downloaded (not in the Hugging Face cache)",
                    repo_id=repo,
                    **choices,
                )
            return GpuEstimate("unknown", f"no estimate: {e}", **choices)
        except Exception as e:  # an unreadable file or config: the Inspector must still show the node
            return GpuEstimate("unknown", f"no estimate: {e.__class__.__name__}: {e}", **choices)
        try:
            return gpu_estimate(loc, **choices)
        except (OSError, ValueError) as e:
            return GpuEstimate("unknown", f"no estimate: {e}", **choices)

    @staticmethod
    def model_files(folders: list[str | Path]) -> list[dict[str, Any]]:
        """The single checkpoint files (transformers, LoRAs, VAEs, text encoders; ``.safetensors``/``.gguf``)
        under the model folders, as :func:`vidstudio.backend.checkpoint_files.list_checkpoint_files` lists them
        (``path``, ``name``, ``size``, ``kind``, ``family``, ``component``, ``variant``, ``format``), read from
        the files' headers without torch; for the GUI's Models window. Never raises."""
        from vidstudio.backend.checkpoint_files import list_checkpoint_files

        return list_checkpoint_files(list(folders))

    @staticmethod
    def pipeline_folders(folders: list[str | Path]) -> list[dict[str, Any]]:
        """The diffusers pipeline folders (a ``model_index.json`` inside) directly in the model folders, as the
        local server lists them, recognised from their configs (:func:`vidstudio.families.recognise`, no torch):
        dicts like :meth:`model_files` entries with ``kind`` ``"pipeline"``, ``format`` ``"diffusers"``,
        ``size`` (bytes of the files under it), and ``error`` when no family has its pipeline class. A folder
        reached through two model folders is listed once. Never raises."""

        from vidstudio.families import read_configs, recognise

        out: list[dict[str, Any]] = []
        seen: set[Path] = set()
        for folder in folders:
            root = Path(folder).expanduser()
            try:
                children = sorted(root.iterdir())
            except OSError:
                continue
            for child in children:
                try:
                    if child.name.startswith(".") or not (child / "model_index.json").is_file():
                        continue
                    real = child.resolve()
                except OSError:
                    continue
                if real in seen:
                    continue
                seen.add(real)
                c = read_configs(child)
                rec = recognise(c.index, c)
                size = folder_size(child)
                entry: dict[str, Any] = {
                    "path": str(child),
                    "name": child.name,
                    "folder": str(root),
                    "size": size,
                    "kind": "pipeline",
                    "family": rec.family if rec else "",
                    "component": "",
                    "variant": rec.variant if rec else "",
                    "format": "diffusers",
                    "dtype": "",
                }
                if rec is None:
                    cls = c.index.get("_class_name") or "no _class_name"
                    entry["error"] = f"pipeline class {cls} is not one VidStudio knows"
                out.append(entry)
        return out

    @staticmethod
    def folder_kinds() -> dict[str, str]:
        """ComfyUI's model subfolders (lower case) and the kind of file each holds
        (:data:`vidstudio.backend.checkpoint_files.FOLDER_KINDS`), for the GUI."""
        from vidstudio.backend.checkpoint_files import FOLDER_KINDS

        return dict(FOLDER_KINDS)

    @classmethod
    def fingerprint(cls, params: dict[str, Any], ctx: ExecutionContext) -> str | None:
        index = ctx.resolve_path(params["model"]) / "model_index.json" if params["model"] else None
        if index is not None and index.parent.is_file():
            index = index.parent  # a single checkpoint file
        try:
            st = index.stat() if index is not None else None
        except OSError:
            return None
        return f"{st.st_size}:{st.st_mtime_ns}" if st else None

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        def local(v: str) -> str:
            v = v.strip()
            if not v:
                return ""
            p = ctx.resolve_path(v)
            return str(p) if p.exists() else v  # a repo id, or a missing folder the loader reports

        model = local(params["model"])
        extras = {
            name: local(params[name])
            for name in (
                "sparsectrl",
                "ip_adapter",
                "motion_adapter",
                "preview_decoder",
                "latent_upsampler",
                "base_model",
                "vae_file",
                "text_encoder_file",
            )
        }
        ref = ModelRef(
            family=params["family"],
            model=model,
            revision=params["revision"].strip(),
            weights_variant=params["weights_variant"].strip(),
            dtype=params["dtype"],
            device=params["device"],
            offload=params["offload"],
            vae_tiling=params["vae_tiling"],
            vae_slicing=params["vae_slicing"],
            compile=params["compile"],
            quantize=params["quantize"],
            quantize_text_encoder=params["quantize_text_encoder"],
            step_cache=params["step_cache"],
            cache_threshold=float(params["cache_threshold"]),
            attention=params["attention"],
            **extras,
        )
        return {"model": ref}


class LoadLoRA(Node):
    """Adds a LoRA to a model reference (chain several; each applies for the job and is removed after it, the
    loaded base pipeline stays cached). See :mod:`vidstudio.backend.lora`.

    Input/output ``model``: a :class:`vidstudio.backend.bundle.ModelRef` (the output has this LoRA appended).
    """

    type_id = "LoadLoRA"
    title = "Load LoRA"
    category = "Generate"
    description = "A LoRA (style, character, step-distilled) on the model: a .safetensors file or a repo id."
    inputs = (Input("model", PortType.MODEL, help="From Load Model or another Load LoRA."),)
    outputs = (Output("model", PortType.MODEL, "the model reference with this LoRA added"),)
    params = (
        Param(
            "lora",
            "string",
            "",
            file_role="model",
            help="A LoRA .safetensors file (diffusers, ComfyUI/original or musubi keys; relative to the project "
            "file), or a Hugging Face repo id with 'weight_name'.",
        ),
        Param("weight_name", "string", "", help="The LoRA file inside the repo (or folder); empty: the default."),
        Param(
            "strength",
            "float",
            1.0,
            min=-4.0,
            max=4.0,
            step=0.05,
            help="How strongly the LoRA applies (0: not at all, 1: as trained).",
        ),
        Param(
            "expert",
            "choice",
            "both",
            choices=LORA_EXPERTS,
            help="Two-expert Wan 2.2 A14B checkpoints: the high-noise expert, the low-noise expert, or both.",
        ),
        Param(
            "preset_steps",
            "int",
            0,
            min=0,
            max=500,
            help="A step-distilled LoRA's steps (LightX2V: 4), replacing the Conditioning's; 0: none.",
        ),
        Param(
            "preset_guidance",
            "float",
            -1.0,
            min=-1.0,
            max=50.0,
            step=0.5,
            help="A step-distilled LoRA's guidance scale (LightX2V: 1); -1: none.",
        ),
    )
    uses_settings = ()

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        from vidstudio.backend.locate import looks_like_repo_id

        src = str(params["lora"]).strip()
        if not src:
            return [("param 'lora'", "no LoRA chosen: a .safetensors file or a Hugging Face repo id")]
        p = Path(src).expanduser()
        if p.is_absolute() and not p.exists():
            return [("param 'lora'", f"LoRA file {p} does not exist")]
        if p.suffix and p.suffix.lower() not in (".safetensors", ".bin", ".pt", ".pth", ".ckpt") and not p.is_dir():
            return [("param 'lora'", f"{p.name} is not a LoRA file (.safetensors expected)")]
        if not p.suffix and not p.exists() and not looks_like_repo_id(src):
            return [("param 'lora'", f"{src!r} is neither a LoRA file nor a Hugging Face repo id (org/name)")]
        return []

    @classmethod
    def check_in_graph(cls, node_id: str, graph: Any, registry: Any, settings: Any) -> list[tuple[str, ...]]:
        """A LoRA file whose layer names say it is for another family than the model it is applied to is an
        error (the file and both families named); nothing is said when either cannot be told without loading."""
        from vidstudio.backend.checkpoint_files import locate_model, recognise_lora

        src = str(graph.node(node_id).params.get("lora", "")).strip()
        p = Path(src).expanduser() if src else None
        if p is not None and not p.is_absolute() and _project_dir(graph) is not None:
            p = Path(_project_dir(graph)) / p
        if p is None or not p.is_file() or p.suffix.lower() != ".safetensors":
            return []
        m = graph.node(node_id)
        for _ in range(64):
            up = graph.links_into(m.id, "model")
            if len(up) != 1:
                return []
            m = graph.node(up[0].source_node)
            if m.type != cls.type_id:
                break
        if m.type != LoadModel.type_id or not str(m.params.get("model", "")).strip():
            return []
        try:
            fam = recognise_lora(p)
            loc = locate_model(
                ModelRef(
                    family=str(m.params.get("family", "auto")),
                    model=str(m.params["model"]).strip(),
                    base_model=str(m.params.get("base_model", "")).strip(),
                ),
                _project_dir(graph),
                download=False,
            )
        except ModelError:
            return []
        if fam and fam != loc.family:
            return [
                (
                    "param 'lora'",
                    f"LoRA {p.name} is a {fam} LoRA (from its layer names), but the model is "
                    f"{loc.family}; choose a LoRA made for {loc.family}",
                )
            ]
        return []

    @classmethod
    def fingerprint(cls, params: dict[str, Any], ctx: ExecutionContext) -> str | None:
        try:
            st = ctx.resolve_path(params["lora"]).stat()
        except (OSError, ValueError):
            return None
        return f"{st.st_size}:{st.st_mtime_ns}"

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        ref = inputs["model"]
        if not isinstance(ref, ModelRef):
            raise NodeError(f"input 'model' got a {type(ref).__name__}, expected a model reference (Load Model)")
        src = str(params["lora"]).strip()
        p = ctx.resolve_path(src) if src else None
        lora = LoraRef(
            source=str(p) if p is not None and p.exists() else src,
            weight_name=str(params["weight_name"]).strip(),
            strength=float(params["strength"]),
            expert=params["expert"],
            preset_steps=int(params["preset_steps"]),
            preset_guidance=None if params["preset_guidance"] < 0 else float(params["preset_guidance"]),
        )
        return {"model": ref.with_(loras=tuple(ref.loras) + (lora,))}


class Conditioning(Node):
    """Builds the conditioning bundle: prompts, keyframes at frame indices, a guide video and its strength,
    masks, boxes along trajectories, a camera move, style references, SVD motion, seed, steps and guidance.

    Linked inputs are what the bundle asks the model to follow; the Generate node checks them against the
    model family (``vidstudio nodes`` shows the table). Output ``conditioning``: a
    :class:`vidstudio.backend.bundle.Conditioning`.
    """

    type_id = "Conditioning"
    title = "Conditioning"
    category = "Generate"
    description = "Prompts, keyframes, guide video, trajectories, camera, style, seed, steps: what to generate."
    inputs = (
        Input("prompt", PortType.TEXT, optional=True, help="The prompt (replaces the 'prompt' parameter)."),
        Input(
            "keyframes",
            PortType.IMAGE,
            optional=True,
            multi=True,
            help="Keyframe images, pinned to the frames in 'keyframe_frames' (link order).",
        ),
        Input("guide", PortType.VIDEO, optional=True, help="A guide video (e.g. the animatic) to follow."),
        Input(
            "mask",
            PortType.MASK,
            optional=True,
            help="(T, H, W) masks: white is generated, black is kept from the guide video (Wan VACE).",
        ),
        Input(
            "boxes",
            PortType.BOXES,
            optional=True,
            help="(T, N, 4) object boxes in output-frame px (e.g. Object Boxes, through its camera), NaN where hidden.",
        ),
        Input(
            "trajectory",
            PortType.TRAJECTORY,
            optional=True,
            help="Object tracks and anchors in world px (as drawn or simulated; seen through the linked camera); "
            "their boxes steer the noise.",
        ),
        Input("camera", PortType.CAMERA, optional=True, help="(T, 3, 3) camera affines; the noise follows them."),
        Input("style", PortType.IMAGE, optional=True, multi=True, help="Style / identity reference images."),
        Input(
            "motion",
            PortType.VIDEO,
            optional=True,
            help="Time-to-Move motion signal (normally the Animatic Render video, which brings its sprites' mask "
            "along): the image-to-video model follows its motion (Wan i2v, CogVideoX i2v, SVD).",
        ),
        Input(
            "motion_mask",
            PortType.MASK,
            optional=True,
            help="(T, H, W) where the motion signal moves (replaces the mask the animatic brings); none and no "
            "animatic mask: the whole frame.",
        ),
        Input(
            "flow",
            PortType.FLOW,
            optional=True,
            help="(T-1, H, W, 2) forward flow in px (a Motion Flow node's): the 'warped' initial noise moves "
            "along it (Go-with-the-Flow).",
        ),
    )
    outputs = (Output("conditioning", PortType.CONDITIONING, "the conditioning bundle"),)
    params = (
        Param("prompt", "text", "", help="What to generate."),
        Param("negative_prompt", "text", "", help="What to avoid."),
        Param(
            "prompt_schedule",
            "json",
            {},
            validator=_schedule,
            help='Prompts that take over at given frames, e.g. {"24": "the cat jumps"} (AnimateDiff FreeNoise).',
        ),
        Param(
            "keyframe_frames",
            "json",
            [],
            validator=_frames_list,
            unit="frames",
            help="Frame of each linked keyframe image, in link order; empty: spread evenly from the first "
            "frame to the last (one image: frame 0).",
        ),
        Param(
            "guide_start",
            "int",
            0,
            min=0,
            max=100000,
            unit="frames",
            help="The frame where the guide video's first frame goes (LTX and Wan VACE; video-to-video needs 0).",
        ),
        Param(
            "guide_strength",
            "float",
            0.6,
            min=0.0,
            max=1.0,
            step=0.05,
            help="How closely the guide video is followed (video-to-video strength, LTX condition "
            "strength, VACE conditioning scale).",
        ),
        Param(
            "boxes_as_mask",
            "bool",
            True,
            help="Wan VACE with a guide video and no mask: generate inside the boxes, keep the rest.",
        ),
        Param(
            "trajectory_noise",
            "float",
            0.5,
            min=0.0,
            max=1.0,
            step=0.05,
            help="Share of the initial noise carried along trajectories and the camera move (FreeTraj idea); "
            "0 turns it off.",
        ),
        Param(
            "initial_noise",
            "choice",
            "trajectory",
            choices=INITIAL_NOISE,
            help="The initial noise: trajectory (follows the boxes and the camera, by 'trajectory_noise'; plain "
            "noise without them), iid (plain noise), warped (Go-with-the-Flow: noise warped along the linked "
            "'flow', meant for the Go-with-the-Flow LoRAs of CogVideoX).",
        ),
        Param(
            "noise_degradation",
            "float",
            0.5,
            min=0.0,
            max=1.0,
            step=0.05,
            help="Warped noise: share of fresh noise mixed in (Go-with-the-Flow's degradation); 0 follows the flow "
            "most strictly, 1 is plain noise.",
        ),
        Param(
            "point_box",
            "float",
            64.0,
            min=1.0,
            max=4096.0,
            unit="px",
            help="Box side used for trajectory objects that have no size (points).",
        ),
        Param(
            "style_strength",
            "float",
            0.6,
            min=0.0,
            max=1.0,
            step=0.05,
            help="How strongly the style references apply (AnimateDiff IP-Adapter scale).",
        ),
        Param(
            "motion_strength",
            "float",
            -1.0,
            min=-1.0,
            max=1.0,
            step=0.05,
            help="SVD motion, 0..1 (motion bucket id = 254 x strength); -1: the model's default (127).",
        ),
        Param(
            "noise_aug",
            "float",
            -1.0,
            min=-1.0,
            max=1.0,
            step=0.01,
            help="SVD noise augmentation of the input image, 0..1; -1: the default 0.02.",
        ),
        Param(
            "seed",
            "int",
            0,
            min=-1,
            max=2**31 - 1,
            help="Random seed; the same inputs and seed give the same frames. -1: a new seed each run "
            "(recorded in the output).",
        ),
        Param(
            "steps",
            "int",
            0,
            min=0,
            max=500,
            help="Denoising steps; 0: the checkpoint's default (e.g. 8 for LTX-Video 13B distilled), else the "
            "family's (AnimateDiff 25, LTX 40, Wan 50, ...); the run report says which was used.",
        ),
        Param(
            "guidance_scale",
            "float",
            -1.0,
            min=-1.0,
            max=50.0,
            step=0.5,
            help="Classifier-free guidance scale; -1: the family's default (AnimateDiff 7.5, LTX 3, Wan 5, "
            "SVD 3, CogVideoX 6).",
        ),
        Param(
            "guidance_scale_2",
            "float",
            -1.0,
            min=-1.0,
            max=50.0,
            step=0.5,
            help="Two-expert checkpoints (Wan 2.2 A14B): guidance scale of the low-noise expert; -1: the "
            "checkpoint's default (the guidance scale).",
        ),
        Param(
            "boundary_ratio",
            "float",
            -1.0,
            min=-1.0,
            max=1.0,
            step=0.025,
            help="Two-expert checkpoints (Wan 2.2 A14B): the fraction of the noise schedule the high-noise "
            "expert runs above; -1: the checkpoint's (0.875 text-to-video, 0.9 image-to-video).",
        ),
        Param(
            "motion_kind",
            "choice",
            "object",
            choices=MOTION_KINDS,
            help="Time-to-Move control: object (cut-and-drag: the mask's objects follow the motion signal) or "
            "camera (the whole frame follows it; the mask is ignored).",
        ),
        Param(
            "t_weak",
            "float",
            -1.0,
            min=-1.0,
            max=500.0,
            step=1.0,
            unit="step",
            help="Time-to-Move: the step denoising starts at, from the motion signal noised to its level (a step "
            "index, or a fraction of the steps between 0 and 1); -1: the family's published value (at 50 "
            "steps Wan 3, camera 2; CogVideoX 4; SVD 16; scaled to 'steps'). Lower: freer, may deform; "
            "higher: a static background.",
        ),
        Param(
            "t_strong",
            "float",
            -1.0,
            min=-1.0,
            max=500.0,
            step=1.0,
            unit="step",
            help="Time-to-Move: until this step the masked region is held to the motion signal (a step index or "
            "a fraction); -1: the published value (at 50 steps Wan 7, camera 5; CogVideoX 9; SVD 21). "
            "Lower: the object drifts off its path; higher: it moves rigidly.",
        ),
    )
    uses_settings = ("width", "height", "frame_count")

    @classmethod
    def check(cls, params: dict[str, Any], settings: Any) -> list[tuple[str, str]]:
        problems = []
        for name in ("t_weak", "t_strong"):
            v = params[name]
            if v != -1.0 and int(params["steps"]) > 0:  # with the default steps: checked once the model is known
                try:
                    step_index(v, int(params["steps"]), name)
                except ValueError as e:
                    problems.append((f"param '{name}'", str(e).split(": ", 1)[-1]))
        for name in ("motion_strength", "noise_aug"):
            v = params[name]
            if v != -1.0 and not 0.0 <= v <= 1.0:
                problems.append((f"param '{name}'", f"must be -1 (the model's default) or in 0..1, got {v:g}"))
        frames = params["keyframe_frames"]
        fc = getattr(settings, "frame_count", None)
        for f in frames:
            if fc is not None and f >= fc:
                problems.append(("param 'keyframe_frames'", f"frame {f} is beyond the project's {fc} frames"))
        for k in params["prompt_schedule"] or {}:
            if fc is not None and int(k) >= fc:
                problems.append(("param 'prompt_schedule'", f"frame {k} is beyond the project's {fc} frames"))
        return problems

    @classmethod
    def check_in_graph(cls, node_id: str, graph: Any, registry: Any, settings: Any) -> list[tuple[str, str]]:
        params = graph.node(node_id).params
        frames = params.get("keyframe_frames") or []
        n = len(graph.links_into(node_id, "keyframes"))
        problems = []
        if frames and len(frames) != n:
            problems.append(
                (
                    "param 'keyframe_frames'",
                    f"lists {len(frames)} frame(s) but {n} keyframe image(s) "
                    "are linked; give one frame per image, in link order",
                )
            )
        mode = params.get("initial_noise", "trajectory")
        has_flow = bool(graph.links_into(node_id, "flow"))
        if mode == "warped" and not has_flow:
            problems.append(
                (
                    "input 'flow'",
                    "initial noise 'warped' needs a flow: link a Motion Flow node's 'flow' output to this input "
                    "(or choose another 'initial_noise')",
                )
            )
        elif has_flow and mode != "warped":
            problems.append(
                (
                    "input 'flow'",
                    f"the flow is linked but 'initial_noise' is {mode!r}: it is not used (choose 'warped')",
                    "warning",
                )
            )
        if graph.links_into(node_id, "motion_mask") and not graph.links_into(node_id, "motion"):
            problems.append(
                (
                    "input 'motion_mask'",
                    "a motion mask without a motion signal: link the 'motion' input "
                    "too (e.g. an Animatic Render video)",
                )
            )
        return problems

    @staticmethod
    def keyframe_positions(frames: list[int], count: int, frame_count: int) -> list[int]:
        """The frames of ``count`` keyframes: ``frames`` when given, else spread evenly over the clip."""
        if frames:
            return [int(f) for f in frames]
        if count <= 1:
            return [0] * count
        return [int(round(x)) for x in np.linspace(0, frame_count - 1, count)]

    @classmethod
    def static_request(cls, node_id: str, graph: Any, settings: Any) -> Request:
        """The controls this node will ask for, judged from its parameters and linked inputs (no execution)."""
        params = {p.name: graph.node(node_id).params.get(p.name, p.default) for p in cls.params}
        linked = {l.target_port for l in graph.links_into(node_id)}
        controls: set[str] = set()
        if str(params["prompt"]).strip() or "prompt" in linked:
            controls.add("text")
        if any(str(k) != "0" and str(v).strip() for k, v in dict(params["prompt_schedule"] or {}).items()):
            controls.add("prompt_schedule")
        if str(params["negative_prompt"]).strip():
            controls.add("negative_prompt")
        kf: list[int] = []
        if "keyframes" in linked:
            controls.add("keyframes")
            kf = cls.keyframe_positions(
                list(params["keyframe_frames"] or []), len(graph.links_into(node_id, "keyframes")), settings.frame_count
            )
        for port, control in (
            ("guide", "guide_video"),
            ("mask", "mask"),
            ("boxes", "trajectories"),
            ("trajectory", "trajectories"),
            ("camera", "camera"),
            ("style", "style"),
            ("motion", "motion_signal"),
        ):
            if port in linked:
                controls.add(control)
        if params["motion_strength"] != -1.0:
            controls.add("motion_strength")
        if params["noise_aug"] != -1.0:
            controls.add("noise_aug")
        return Request(
            controls=controls,
            keyframe_frames=kf,
            guide_start=int(params["guide_start"]),
            width=settings.width,
            height=settings.height,
            frames=settings.frame_count,
        )

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        T = ctx.frame_count
        prompt = inputs["prompt"] if inputs["prompt"] is not None else params["prompt"]
        images = list(inputs["keyframes"] or [])
        positions = self.keyframe_positions(params["keyframe_frames"], len(images), T)
        if len(positions) != len(images):
            raise NodeError(f"param 'keyframe_frames' lists {len(positions)} frame(s) for {len(images)} image(s)")
        keyframes = [Keyframe(int(f), np.asarray(img, np.float32)) for f, img in zip(positions, images)]
        guide = as_clip(inputs["guide"]) if inputs["guide"] is not None else None
        masks = None
        if inputs["mask"] is not None:
            masks = np.asarray(inputs["mask"], dtype=np.float32)
            if masks.ndim == 2:
                masks = masks[None]
            if masks.ndim != 3:
                raise NodeError(f"input 'mask' has shape {masks.shape}, expected (T, H, W)")
        box_sets = []
        if inputs["boxes"] is not None:
            b = np.asarray(inputs["boxes"], dtype=np.float64)
            if b.ndim != 3 or b.shape[2] != 4:
                raise NodeError(f"input 'boxes' has shape {b.shape}, expected (T, N, 4)")
            box_sets.append(_resample_frames(b, T))
        camera = None
        if inputs["camera"] is not None:
            camera = np.asarray(inputs["camera"], dtype=np.float64)
            if camera.ndim != 3 or camera.shape[1:] != (3, 3):
                raise NodeError(f"input 'camera' has shape {camera.shape}, expected (T, 3, 3)")
            camera = _resample_frames(camera, T)
        if inputs["trajectory"] is not None:
            box_sets.append(_track_boxes(inputs["trajectory"], T, params["point_box"], camera))
        boxes = np.concatenate(box_sets, axis=1) if box_sets else None
        style = [np.asarray(s, np.float32)[..., :3] for s in (inputs["style"] or [])]
        motion = motion_mask = None
        if inputs["motion"] is not None:
            motion = as_clip(inputs["motion"])
            m = inputs["motion_mask"] if inputs["motion_mask"] is not None else getattr(inputs["motion"], "mask", None)
            if m is not None and params["motion_kind"] == "object":
                motion_mask = np.asarray(m, dtype=np.float32)
                if motion_mask.ndim == 2:
                    motion_mask = motion_mask[None]
                if motion_mask.ndim != 3:
                    raise NodeError(f"input 'motion_mask' has shape {motion_mask.shape}, expected (T, H, W)")
        elif inputs["motion_mask"] is not None:
            raise NodeError("input 'motion_mask' is linked without a motion signal: link the 'motion' input too")
        flow = None
        if inputs["flow"] is not None:
            flow = np.asarray(inputs["flow"], dtype=np.float32)
            if flow.ndim != 4 or flow.shape[-1] != 2:
                raise NodeError(f"input 'flow' has shape {flow.shape}, expected (T-1, H, W, 2)")
        if params["initial_noise"] == "warped" and flow is None:
            raise NodeError("param 'initial_noise' is 'warped' but input 'flow' is not linked: link a Motion Flow node")
        schedule = {int(k): v for k, v in (params["prompt_schedule"] or {}).items()}
        bundle = Bundle(
            prompt=str(prompt),
            prompt_schedule=schedule,
            negative_prompt=params["negative_prompt"],
            keyframes=keyframes,
            guide=guide,
            guide_start=params["guide_start"],
            guide_strength=params["guide_strength"],
            masks=masks,
            boxes=boxes,
            boxes_as_mask=params["boxes_as_mask"],
            trajectory_noise=params["trajectory_noise"],
            initial_noise=params["initial_noise"],
            flow=flow,
            noise_degradation=params["noise_degradation"],
            camera=camera,
            style=style,
            style_strength=params["style_strength"],
            motion_strength=None if params["motion_strength"] == -1.0 else params["motion_strength"],
            noise_aug=None if params["noise_aug"] == -1.0 else params["noise_aug"],
            seed=params["seed"],
            steps=params["steps"] or None,
            guidance_scale=None if params["guidance_scale"] == -1.0 else params["guidance_scale"],
            guidance_scale_2=None if params.get("guidance_scale_2", -1.0) == -1.0 else params["guidance_scale_2"],
            boundary_ratio=None if params.get("boundary_ratio", -1.0) == -1.0 else params["boundary_ratio"],
            motion=motion,
            motion_mask=motion_mask,
            motion_kind=params["motion_kind"],
            t_weak=None if params["t_weak"] == -1.0 else params["t_weak"],
            t_strong=None if params["t_strong"] == -1.0 else params["t_strong"],
        )
        return {"conditioning": bundle}


def _resample_frames(a: np.ndarray, n: int) -> np.ndarray:
    """Per-frame data ``(T, ...)`` -> ``(n, ...)`` by nearest frame (same time span)."""
    if a.shape[0] == n:
        return a
    idx = np.clip(np.rint(np.linspace(0, a.shape[0] - 1, n)).astype(int), 0, a.shape[0] - 1)
    return a[idx]


def _track_boxes(value: Any, n: int, point_box: float, camera: np.ndarray | None = None) -> np.ndarray:
    """Boxes of a TRAJECTORY value (a TrackSet, a Track, or a list of tracks) in output-frame pixels.

    Tracks are in world pixels (as drawn or simulated); with ``camera`` (``(n, 3, 3)`` world-to-frame affines)
    they are seen through it, as in the animatic. Tracks without a size (points) get a ``point_box`` square.
    The TrackSet's anchors (things that must not move) become static ``point_box`` squares at their world
    positions, so the trajectory noise holds still there.

    Returns:
        ``(n, N + K, 4)`` float64 ``(x0, y0, x1, y1)`` px for ``N`` tracks and ``K`` anchors, NaN where hidden.

    Raises:
        NodeError: for a value that is not a trajectory.
    """
    from vidstudio.motion.tracks import Track, TrackSet

    if isinstance(value, Track):
        value = TrackSet([value])
    elif isinstance(value, (list, tuple)):
        value = TrackSet(list(value))
    if not isinstance(value, TrackSet):
        raise NodeError(f"input 'trajectory' got a {type(value).__name__}, expected a TrackSet")
    ts = value.resample(n) if len(value) and value.frame_count != n else value
    tracks = []
    for t in ts.tracks:
        if t.size == (0.0, 0.0):
            t = Track(t.name, t.position, t.angle, t.scale, t.visible, (point_box, point_box))
        tracks.append(t)
    for i, (x, y) in enumerate(np.asarray(value.anchors, dtype=np.float64).reshape(-1, 2)):
        tracks.append(Track(f"anchor {i}", np.tile([x, y], (n, 1)), size=(point_box, point_box)))
    if camera is not None:
        tracks = [t.transformed(camera) for t in tracks]
    if not tracks:
        return np.zeros((n, 0, 4))
    return np.stack([t.boxes() for t in tracks], axis=1)


class Generate(Node):
    """Generates a video with a model (Load Model) and a conditioning bundle (Conditioning).

    Imports the backend (torch, diffusers) only when it runs. Before anything loads, the request is checked
    against the family's capability table and frame/size rules (validation does the same from the graph); a
    project frame rate other than the checkpoint's native one is a validation warning that names both
    (:func:`vidstudio.families.fps_problem`). Reports every denoising step (``ctx.report``;
    ``ctx.services["on_step"]`` with a preview) and stops within one step when cancelled, without decoding.

    Outputs: ``video`` (T, H, W, 3) float32 frames (a Clip whose ``metadata`` records seed and model), ``seed``
    the seed used.
    """

    type_id = "Generate"
    title = "Generate"
    category = "Generate"
    runs_on = "backend"  # a diffusion model: the GUI sends it to the generation server
    description = "Runs the video model on the conditioning: the generated video, with step previews."
    inputs = (
        Input("model", PortType.MODEL, help="From a Load Model node."),
        Input("conditioning", PortType.CONDITIONING, help="From a Conditioning node."),
    )
    outputs = (
        Output("video", PortType.VIDEO, "the generated frames"),
        Output("seed", PortType.NUMBER, "the seed used (the chosen one when the seed is -1)"),
        Output(
            "audio",
            PortType.AUDIO,
            "the sound track made with the video (LTX-2), as long as the video; None for the video-only families",
        ),
    )
    params = (
        Param(
            "snap_to_model",
            "bool",
            False,
            help="Move a frame count or size the model cannot make to the nearest one it can (and say so); "
            "off: refuse, stating the rule.",
        ),
        Param("previews", "bool", True, help="Make a small preview image at every denoising step."),
    )
    uses_settings = ("width", "height", "fps", "frame_count")

    @classmethod
    def check_in_graph(cls, node_id: str, graph: Any, registry: Any, settings: Any) -> list[tuple[str, ...]]:
        """The family checks of :func:`family_problems` for the model and conditioning linked in."""
        found = graph_model(node_id, graph, settings)
        fps = getattr(settings, "fps", None)
        return family_problems(node_id, graph, found, fps=fps) if found is not None else []

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from vidstudio.backend.generate import generate

        ref: ModelRef = inputs["model"]
        bundle: Bundle = inputs["conditioning"]
        if not isinstance(ref, ModelRef):
            raise NodeError(f"input 'model' got a {type(ref).__name__}, expected a model reference (Load Model)")
        if not isinstance(bundle, Bundle):
            raise NodeError(f"input 'conditioning' got a {type(bundle).__name__}, expected a Conditioning bundle")
        on_step_service = ctx.services.get("on_step")
        on_step = None
        if on_step_service is not None:

            def on_step(step: int, total: int, sps: float, preview: Any) -> None:
                on_step_service(ctx.node_id, step, total, sps, preview)

        result = generate(
            ref,
            bundle,
            width=ctx.width,
            height=ctx.height,
            frames=ctx.frame_count,
            fps=ctx.fps,
            snap=params["snap_to_model"],
            project_dir=ctx.project_dir,
            cache=ctx.services.get("pipeline_cache"),
            progress=ctx.report,
            on_step=on_step,
            cancel=ctx.cancel,
            previews=params["previews"],
        )
        for n in result.notes:
            ctx.note(n)
        if bundle.seed < 0:  # a new seed each run: another process must not get this video from the disk cache
            ctx.keep_off_disk(f"seed {bundle.seed} chose seed {result.seed} for this run only")
        ctx.note(
            f"{result.family} {result.pipeline}, seed {result.seed}, {result.steps} steps at "
            f"{result.seconds_per_step:.2f} s/step"
        )
        if result.motion:
            m = result.motion
            ctx.note(
                f"motion: {m['method']} ({m['kind']}), t_weak {m['t_weak']}, t_strong {m['t_strong']} of "
                f"{m['steps']} steps ({m['steps_run']} run)"
            )
        clip = Clip.from_array(result.frames, label=f"{ctx.node_id} video")
        clip.metadata.update(result.metadata())
        return {"video": clip, "seed": float(result.seed), "audio": result.audio}


class Extend(Node):
    """Generates a clip longer than one pass of the model: windows chained with overlap, each conditioned on the
    last frames of the one before (:func:`vidstudio.backend.extend.extend`): keyframes at their frame indices
    (LTX-Video conditions, the Wan VACE control video with mask 0 on the overlap), the first frame (image-to-video
    checkpoints), or video-to-video from the overlap frames and the guide video (Wan and CogVideoX text-to-video).

    The prompt schedule, keyframes, guide video (the animatic), masks, trajectory boxes, camera and the
    Time-to-Move motion signal are sliced per window, and colours are matched across each seam. Video-to-video
    windows also hold their overlap latents on the frames already made for ``overlap_hold`` of the schedule
    (:mod:`vidstudio.backend.latent_hold`). The run report lists the windows with their method, then every
    window's own notes (an identical note once, ``windows 0-3: ...``). Validation runs Generate's checks on the
    first window and Extend's own (:meth:`check_in_graph`).

    Outputs: ``video`` (the project's frame count), ``seed`` the first window's seed, ``audio`` the windows'
    sound tracks joined under their new frames (LTX-2; None for the other families).
    """

    type_id = "Extend"
    title = "Extend"
    category = "Generate"
    runs_on = "backend"
    description = "Generates past the model's window: passes chained with overlap, colour-matched at the seams."
    inputs = Generate.inputs
    outputs = Generate.outputs
    params = (
        Param(
            "window",
            "int",
            0,
            min=0,
            max=100000,
            step=1,
            unit="frames",
            help="Frames per pass (must meet the model's frame rule); 0: the family's longest pass.",
        ),
        Param(
            "overlap",
            "int",
            0,
            min=0,
            max=1000,
            step=1,
            unit="frames",
            help="Frames each pass shares with the one before; 0: one latent step plus one (1 for checkpoints "
            "that take a first frame only).",
        ),
        Param(
            "overlap_hold",
            "float",
            1.0,
            min=0.0,
            max=1.0,
            step=0.05,
            help="Video-to-video passes (Wan and CogVideoX text-to-video): the fraction of the schedule during "
            "which the overlap's latents are held on the frames already made, noised to each step's level; "
            "1: every step (the overlap ends on those frames); 0: the guide strength alone holds it.",
        ),
    )
    uses_settings = ("width", "height", "fps", "frame_count")

    @classmethod
    def check_in_graph(cls, node_id: str, graph: Any, registry: Any, settings: Any) -> list[tuple[str, ...]]:
        """Generate's checks (:func:`family_problems`) on one pass, the first window (the window's frame count,
        the keyframes inside it), plus Extend's own: a checkpoint that cannot condition a window on the one
        before (:func:`vidstudio.families.extend_method` None), a window longer than the model's longest pass or
        off its frame rule, an overlap that leaves no new frame, an overlap a first-frame checkpoint cannot take
        (a warning: it is 1), and a guide strength that leaves video-to-video windows no step."""
        found = graph_model(node_id, graph, settings)
        if found is None:
            return []
        params = {p.name: graph.node(node_id).params.get(p.name, p.default) for p in cls.params}
        family, variant = found.family, found.variant
        method = extend_method(family, variant)
        if method is None:
            return [("input 'model'", CANNOT_EXTEND.format(family=family, variant=variant or "this checkpoint"))]
        spec = get_spec(family)
        rule = found.loc.rule() if found.loc is not None else spec.rule
        longest = spec.window_for(found.checkpoint)
        frames = found.request.frames
        window, overlap = int(params["window"]), int(params["overlap"])
        win = window or (min(longest, frames) if longest else frames)
        problems: list[tuple[str, ...]] = []
        if longest and win > longest:
            problems.append(("param 'window'", f"{win} frames; {family} makes at most {longest} frames in one pass"))
        elif not rule.frames_ok(win):
            problems.append(("param 'window'", f"{family} needs {rule.frames_rule()} per pass, not {win}"))
        ov = overlap or (rule.frame_step + 1 if method != "first_frame" else 1)
        if method == "first_frame" and ov > 1:
            problems.append(
                (
                    "param 'overlap'",
                    f"{family} ({variant or 'this checkpoint'}) takes a first frame only: each window starts from "
                    f"the last frame of the one before (overlap 1, not {ov})",
                    "warning",
                )
            )
        elif ov >= win:
            problems.append(
                (
                    "param 'overlap'",
                    f"{ov} frames must be less than the window ({win} frames): each pass needs at least one new frame",
                )
            )
        first = dataclasses.replace(
            found.request, frames=win, keyframe_frames=[f for f in found.request.keyframe_frames if f < win]
        )
        problems += [
            p
            for p in family_problems(node_id, graph, found, first, fps=getattr(settings, "fps", None))
            if p[0] != "frames"
        ]
        if method == "video_to_video" and frames > win and "guide_video" not in found.request.controls:
            cp = {p.name: found.cond.params.get(p.name, p.default) for p in Conditioning.params}
            steps = int(cp["steps"]) or spec.default_steps_for(found.checkpoint)[0]
            problem = video_to_video_problem(float(cp["guide_strength"]), steps)
            if problem:
                problems.append(
                    (f"conditioning '{found.cond.id}' param 'guide_strength'", f"the video-to-video windows: {problem}")
                )
        return problems

    def execute(self, ctx: ExecutionContext, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from vidstudio.backend.extend import extend

        ref, bundle = inputs["model"], inputs["conditioning"]
        if not isinstance(ref, ModelRef):
            raise NodeError(f"input 'model' got a {type(ref).__name__}, expected a model reference (Load Model)")
        if not isinstance(bundle, Bundle):
            raise NodeError(f"input 'conditioning' got a {type(bundle).__name__}, expected a Conditioning bundle")
        result = extend(
            ref,
            bundle,
            width=ctx.width,
            height=ctx.height,
            frames=ctx.frame_count,
            window=params["window"],
            overlap=params["overlap"],
            overlap_hold=params["overlap_hold"],
            fps=ctx.fps,
            project_dir=ctx.project_dir,
            cache=ctx.services.get("pipeline_cache"),
            progress=ctx.report,
            cancel=ctx.cancel,
        )
        for n in result.notes:  # Extend's own, the windows, then every window's notes (identical ones once)
            ctx.note(n)
        if bundle.seed < 0:
            ctx.keep_off_disk("a random seed chosen for this run only")
        clip = Clip.from_array(result.frames, label=f"{ctx.node_id} video")
        clip.metadata.update(result.last.metadata())
        clip.metadata["vidstudio_windows"] = str(len(result.windows))
        return {"video": clip, "seed": float(result.windows[0].seed), "audio": result.audio}


@dataclass
class GraphModel:
    """What validation knows of the model and conditioning feeding a Generate or Extend node (no execution).

    Attributes:
        family: the family id (from the located model, else the Load Model node's ``family``).
        loc: the :class:`vidstudio.backend.locate.ModelLocation` found without loading, or None (not found yet).
        cond: the Conditioning node. request: its :meth:`Conditioning.static_request`.
    """

    family: str
    loc: Any
    cond: Any
    request: Request

    @property
    def variant(self) -> str | None:
        """The checkpoint variant, or None when the model is not found yet."""
        return self.loc.variant if self.loc is not None else None

    @property
    def checkpoint(self) -> str | None:
        """The known checkpoint id, or None."""
        return (self.loc.checkpoint or None) if self.loc is not None else None


def graph_model(node_id: str, graph: Any, settings: Any) -> GraphModel | None:
    """The :class:`GraphModel` of the node's ``model`` and ``conditioning`` inputs, following a chain of Load LoRA
    nodes to the Load Model node; None where the inputs are not linked once each, come from other node types
    (checked when the run reaches the node), the model is wrong (reported on the Load Model node), or the family is
    not known until the model is found."""
    from vidstudio.backend.locate import static_location

    model_links = graph.links_into(node_id, "model")
    cond_links = graph.links_into(node_id, "conditioning")
    if len(model_links) != 1 or len(cond_links) != 1:
        return None
    m = graph.node(model_links[0].source_node)
    c = graph.node(cond_links[0].source_node)
    for _ in range(64):  # through a chain of Load LoRA nodes to the Load Model node
        up = graph.links_into(m.id, "model") if m.type == LoadLoRA.type_id else []
        if len(up) != 1:
            break
        m = graph.node(up[0].source_node)
    if m.type != LoadModel.type_id or c.type != Conditioning.type_id:
        return None
    family = str(m.params.get("family", "auto"))
    loc = None
    try:
        if str(m.params.get("base_model", "")).strip():
            from vidstudio.backend.checkpoint_files import locate_model

            loc = locate_model(
                ModelRef(
                    family=family,
                    model=str(m.params["model"]).strip(),
                    base_model=str(m.params["base_model"]).strip(),
                ),
                _project_dir(graph),
                download=False,
            )
        elif str(m.params.get("model", "")).strip():
            loc = static_location(str(m.params["model"]), family, _project_dir(graph))
    except ModelError:
        return None
    if loc is not None:
        family = loc.family
    if family not in FAMILIES:
        return None
    return GraphModel(family, loc, c, Conditioning.static_request(c.id, graph, settings))


def family_problems(
    node_id: str, graph: Any, found: GraphModel, request: Request | None = None, fps: Any = None
) -> list[tuple[str, ...]]:
    """The checks a generating node runs at validation for its model: the capability table and the frame/size rules
    (:func:`vidstudio.families.check_request` on ``request``, default ``found.request``), the Time-to-Move steps,
    a video-to-video guide strength that leaves no step, the warped-noise family warning, and (with the project's
    ``fps``, frames per second) a warning when it is not the checkpoint's native rate
    (:func:`vidstudio.families.fps_problem`).

    Returns:
        ``(where, message)`` problems, ``(where, message, "warning")`` for warnings.
    """
    family, loc, c = found.family, found.loc, found.cond
    request = request or found.request
    snap = bool(graph.node(node_id).params.get("snap_to_model", False))
    res = check_request(
        family,
        request,
        variant=found.variant,
        checkpoint=found.checkpoint,
        rule=loc.rule() if loc else None,
        snap=snap,
    )
    problems: list[tuple[str, ...]] = [(_where(control), msg) for control, msg in res.problems]
    cp = {p.name: c.params.get(p.name, p.default) for p in Conditioning.params}
    steps = int(cp["steps"]) or get_spec(family).default_steps_for(found.checkpoint)[0]
    if "motion_signal" in request.controls and family in TTM_PIPELINES and not res.problems:
        try:
            resolve_steps(
                family,
                str(cp["motion_kind"]),
                steps,
                None if cp["t_weak"] == -1.0 else float(cp["t_weak"]),
                None if cp["t_strong"] == -1.0 else float(cp["t_strong"]),
            )
        except ValueError as e:
            problems.append((_where("motion_signal"), str(e)))
    if "guide_video" in request.controls and uses_video_to_video(family, found.variant):
        problem = video_to_video_problem(float(cp["guide_strength"]), steps)
        if problem:
            problems.append((_where("guide_video"), problem))
    if c.params.get("initial_noise", "trajectory") == "warped":
        note = family_warning(family)
        if note:
            problems.append((f"conditioning '{c.id}' param 'initial_noise'", note, "warning"))
    off_rate = fps_problem(family, found.checkpoint, fps) if fps else None
    if off_rate:
        problems.append(("project setting 'fps'", off_rate, "warning"))
    return problems


def _where(control: str) -> str:
    return {"frames": "frames", "size": "size"}.get(control, f"control '{control}'")
