"""Weight quantisation of the transformer (or UNet) and of the text encoder, chosen on the Load Model node.

=================  ================================================================  =====================
choice             diffusers / transformers call                                     needs
=================  ================================================================  =====================
``none``           the weights in the load dtype                                     -
``fp8_layerwise``  ``apply_layerwise_casting(storage_dtype=float8_e4m3fn,            torch with float8
                   compute_dtype=dtype)`` (diffusers hooks): fp8 storage, each
                   layer upcast when it runs
``int8_torchao``   ``TorchAoConfig("int8_weight_only")`` in a                        torchao
                   ``PipelineQuantizationConfig(quant_mapping=...)``
``fp8_torchao``    ``TorchAoConfig("float8_weight_only")``                           torchao, CUDA with
                                                                                     compute capability 8.9+
``nf4_bnb``        ``BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")``  bitsandbytes, CUDA
=================  ================================================================  =====================

A choice whose package or device is missing is skipped with a note in the run report (the model then loads
unquantised); GGUF files are quantised already (:mod:`vidstudio.backend.single_file`). The VRAM each choice
needs is estimated before loading by :mod:`vidstudio.backend.estimate` (torch-free).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from vidstudio.errors import ModelError

CHOICES = ("none", "fp8_layerwise", "int8_torchao", "fp8_torchao", "nf4_bnb")


def unavailable(choice: str, device: str) -> str:
    """Why ``choice`` cannot run on ``device`` here ("" when it can).

    Raises:
        ModelError: for an unknown choice.
    """
    import torch

    if choice not in CHOICES:
        raise ModelError(f"param 'quantize': unknown quantisation {choice!r}; expected {', '.join(CHOICES)}")
    if choice == "none":
        return ""
    if choice == "fp8_layerwise":
        return "" if hasattr(torch, "float8_e4m3fn") else "this torch has no float8 dtype"
    if choice in ("int8_torchao", "fp8_torchao"):
        if importlib.util.find_spec("torchao") is None:
            return "it needs the torchao package (pip install torchao)"
        if choice == "fp8_torchao":
            if device != "cuda":
                return "fp8 weight-only needs a CUDA GPU"
            if torch.cuda.get_device_capability() < (8, 9):
                return "fp8 weight-only needs a GPU of compute capability 8.9 or newer (Ada, Hopper)"
        return ""
    if importlib.util.find_spec("bitsandbytes") is None:
        return "it needs the bitsandbytes package (pip install bitsandbytes)"
    if device != "cuda":
        return "bitsandbytes 4-bit needs a CUDA GPU"
    return ""


def _config(choice: str, library: str, dtype: Any) -> Any:
    lib = __import__(library)
    if choice == "int8_torchao":
        return lib.TorchAoConfig("int8_weight_only")
    if choice == "fp8_torchao":
        return lib.TorchAoConfig("float8_weight_only")
    return lib.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)


def quantization_kwargs(ref: Any, device: str, dtype: Any, loc: Any, notes: list[str]) -> dict[str, Any]:
    """The ``from_pretrained`` arguments for the load-time quantisation choices (torchao, bitsandbytes).

    Returns:
        ``{"quantization_config": PipelineQuantizationConfig}`` when something is quantised at load, plus
        ``"_transformer_config"`` (the denoiser's config) when the denoiser comes from a single ``.safetensors``
        file; empty otherwise. Unusable choices are noted and skipped.

    Raises:
        ModelError: for an unknown choice.
    """
    mapping: dict[str, Any] = {}
    single = bool(getattr(loc, "single_file", ""))
    for comp, choice, library in (
        ("transformer", ref.quantize, "diffusers"),
        ("text_encoder", ref.quantize_text_encoder, "transformers"),
    ):
        why = unavailable(choice or "none", device)
        if choice in ("none", "", "fp8_layerwise"):
            continue
        what = "text encoder" if comp == "text_encoder" else "transformer"
        if why:
            notes.append(f"quantisation '{choice}' of the {what} skipped: {why}; loaded in {str(dtype)[6:]}")
            continue
        if comp == "transformer" and single and str(loc.single_file).lower().endswith(".gguf"):
            notes.append(f"quantisation '{choice}' ignored: the GGUF file is quantised already")
            continue
        mapping[comp] = _config(choice, library, dtype)
        notes.append(f"{what} quantised: {choice}")
    if not mapping:
        return {}
    out: dict[str, Any] = {}
    index_comp = (
        "unet" if (loc.folder / "unet").is_dir() and not (loc.folder / "transformer").is_dir() else "transformer"
    )
    if "transformer" in mapping and index_comp != "transformer":
        mapping[index_comp] = mapping.pop("transformer")
    if single and index_comp in mapping:
        out["_transformer_config"] = mapping.pop(index_comp)
    if mapping:
        from diffusers import PipelineQuantizationConfig

        out["quantization_config"] = PipelineQuantizationConfig(quant_mapping=mapping)
    return out


def apply_layerwise_casting(pipe: Any, ref: Any, device: str, dtype: Any, notes: list[str]) -> None:
    """fp8 layerwise casting (diffusers ``apply_layerwise_casting``, storage ``float8_e4m3fn``, compute
    ``dtype``) of the denoisers and/or the text encoder, where the Load Model node asks for ``fp8_layerwise``."""
    import torch
    from diffusers.hooks import apply_layerwise_casting as cast

    for choice, comps, what in (
        (ref.quantize, ("transformer", "transformer_2", "unet"), "transformer"),
        (ref.quantize_text_encoder, ("text_encoder",), "text encoder"),
    ):
        if choice != "fp8_layerwise":
            continue
        why = unavailable(choice, device)
        if why:
            notes.append(f"fp8 layerwise casting of the {what} skipped: {why}")
            continue
        done = []
        for c in comps:
            model = getattr(pipe, c, None)
            if model is None:
                continue
            if hasattr(model, "enable_layerwise_casting"):
                model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
            else:
                cast(model, storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype, skip_modules_pattern=("norm",))
            done.append(c)
        if done:
            notes.append(
                f"fp8 layerwise casting of the {what} ({', '.join(done)}): weights stored in float8_e4m3fn, "
                f"computed in {str(dtype)[6:]}"
            )
