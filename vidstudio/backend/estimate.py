"""A torch-free estimate of the GPU memory a model's weights take, per quantisation choice, before anything
loads (shown by ``vidstudio validate`` for each Load Model node).

The parameter count of each component is read from the ``.safetensors`` headers of its files (tensor shapes
and dtypes, no tensor data), or from a single checkpoint file; a GGUF file's tensors count at their stored
size. Bytes per weight per choice: the load dtype's (bf16/fp16 2, fp32 4) for ``none``; 1 for
``fp8_layerwise``, ``int8_torchao`` and ``fp8_torchao``; 0.5625 for ``nf4_bnb`` (4 bits plus one fp32 absmax per
64-value block). Activations, the VAE decode and the CUDA context come on top, so the figure is a lower bound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

#: Bytes per weight of each quantisation choice (None: the load dtype's).
BYTES_PER_WEIGHT = {"none": None, "fp8_layerwise": 1.0, "int8_torchao": 1.0, "fp8_torchao": 1.0, "nf4_bnb": 0.5625}
_DTYPE_BYTES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I8": 1,
    "U8": 1,
    "I32": 4,
    "I64": 8,
    "BOOL": 1,
}


def safetensors_params(path: str | Path) -> tuple[int, int]:
    """``(parameter count, bytes on disk of the tensors)`` of a ``.safetensors`` file, from its header only.

    Raises:
        OSError, ValueError: an unreadable file or header.
    """
    from vidstudio.backend.checkpoint_files import safetensors_header

    header = safetensors_header(path)
    count = size = 0
    for k, v in header.items():
        if k == "__metadata__":
            continue
        c = 1
        for d in v["shape"]:
            c *= int(d)
        count += c
        size += c * _DTYPE_BYTES.get(v["dtype"], 2)
    return count, size


def component_params(folder: Path) -> int | None:
    """The parameter count of a component folder (``transformer/``, ``text_encoder/``...), or None when it holds
    no ``.safetensors`` weights (not downloaded, or ``.bin`` only)."""
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return None
    variants = [f for f in files if f.name.count(".") == 1]  # skip fp16 etc. variant copies
    return sum(safetensors_params(f)[0] for f in (variants or files))


def weights_gib(
    loc: object, quantize: str = "none", quantize_text_encoder: str = "none", dtype_bytes: float = 2.0
) -> dict[str, float | None]:
    """Estimated GiB of each component's weights on the GPU under the choices.

    Args:
        loc: a :class:`vidstudio.backend.locate.ModelLocation` (``folder``; ``single_file`` for a checkpoint file).
        quantize, quantize_text_encoder: the choices (:data:`BYTES_PER_WEIGHT` keys).
        dtype_bytes: bytes per weight of the load dtype (2 for bf16/fp16, the GPU default).

    Returns:
        ``{"transformer": GiB, "text_encoder": GiB, "vae": GiB, ...}`` for the pipeline's components with weights
        (None where the weights are not on disk).
    """
    folder = Path(loc.folder)
    out: dict[str, float | None] = {}
    try:
        index = json.loads((folder / "model_index.json").read_text())
    except (OSError, ValueError):
        return out
    single = str(getattr(loc, "single_file", "") or "")
    for comp, spec in index.items():
        if (
            comp.startswith("_")
            or not isinstance(spec, list)
            or comp in ("scheduler", "feature_extractor")
            or comp.startswith("tokenizer")
            or not (folder / comp).is_dir()
        ):
            continue
        denoiser = comp in ("transformer", "transformer_2", "unet")
        choice = quantize if denoiser else quantize_text_encoder if comp.startswith("text_encoder") else "none"
        per = BYTES_PER_WEIGHT.get(choice) or dtype_bytes
        if denoiser and single and comp != "transformer_2":
            p = Path(single)
            if p.suffix.lower() == ".gguf":
                out[comp] = p.stat().st_size / 2**30
                continue
            try:
                n, _ = safetensors_params(p)
            except (OSError, ValueError):
                out[comp] = None
                continue
        else:
            try:
                n = component_params(folder / comp)
            except (OSError, ValueError):
                n = None
        out[comp] = None if n is None else n * per / 2**30
    return out


def vram_message(loc: object, quantize: str = "none", quantize_text_encoder: str = "none") -> str:
    """One line for the user: the estimated weights' GPU memory under the chosen quantisation and the other
    choices, e.g. ``"weights on the GPU (estimate, bf16): 28.6 GiB as chosen (transformer 26.6, text_encoder
    ...); transformer quantisation none 28.6, fp8_layerwise 15.3, ..."``."""
    chosen = weights_gib(loc, quantize, quantize_text_encoder)
    known = {k: v for k, v in chosen.items() if v is not None}
    if not known:
        return "weights on the GPU: no estimate (the model's weights are not on this computer yet)"
    parts = ", ".join(f"{k} {_size(v)}" for k, v in known.items())
    others = []
    for q in BYTES_PER_WEIGHT:
        total = sum(v for v in weights_gib(loc, q, quantize_text_encoder).values() if v is not None)
        others.append(f"{q} {_size(total)}")
    missing = [k for k, v in chosen.items() if v is None]
    tail = f"; not on disk: {', '.join(missing)}" if missing else ""
    gguf = gguf_type(loc)
    if gguf:
        return (
            f"weights on the GPU (estimate: the GGUF transformer at its file size, {gguf} quantised already; the "
            f"rest at 16-bit; activations extra): {_size(sum(known.values()))} ({parts}){tail}; transformer "
            "quantisation does not apply to a GGUF file"
        )
    return (
        f"weights on the GPU (estimate at 16-bit, activations extra): {_size(sum(known.values()))} as chosen "
        f"({parts}){tail}; with transformer quantisation {', '.join(others)}"
    )


def gib_text(gib: float) -> str:
    """A GiB figure for people: ``"28.6 GiB"``, ``"1.25 MiB"`` below 0.1 GiB, ``"512 B"`` below 0.01 MiB."""
    return f"{gib:.1f} GiB" if gib >= 0.1 else f"{gib * 1024:.2f} MiB" if gib * 1024 >= 0.01 else f"{gib * 2**30:.0f} B"


_size = gib_text


def on_gpu_gib(components: dict[str, float | None], offload: str = "none") -> float | None:
    """The GiB of weights on the GPU at once under an offload choice, from :func:`weights_gib`'s components.

    ``none``: all components (their sum); ``model`` (diffusers' ``enable_model_cpu_offload``, one component on
    the GPU at a time): the largest; ``group`` and ``sequential`` stream the weights block by block (layer by
    layer), so the figure depends on the largest block and is not estimated (None). None too when no
    component's weights are on disk.
    """
    known = [v for v in components.values() if v is not None]
    if not known or offload in ("group", "sequential"):
        return None
    return max(known) if offload == "model" else sum(known)


@dataclass(frozen=True)
class GpuEstimate:
    """What a Load Model node's weights take on the GPU, for the Inspector and ``vidstudio validate``.

    Attributes:
        status: ``"ok"`` (estimated), ``"not-downloaded"`` (a Hugging Face repo id that is not in the cache:
            ``repo_id`` says which), ``"unknown"`` (no model chosen, a missing folder, or weights not on disk;
            ``message`` says why).
        message: one line for the user.
        repo_id: the repo id to download when ``status == "not-downloaded"``, else "".
        quantize, quantize_text_encoder, offload: the choices the figures are for.
        components: ``{component: GiB or None}`` under the chosen quantisation (:func:`weights_gib`).
        weights: the sum of the known components (GiB), None when none is known.
        on_gpu: the GiB on the GPU at once under the offload choice (:func:`on_gpu_gib`), None when unknown.
        per_choice: ``{transformer quantisation choice: GiB on the GPU (or None)}`` for each choice of
            :data:`BYTES_PER_WEIGHT`, with the other choices as given.
        per_choice_text_encoder: the same for each text-encoder quantisation choice.
        source: ``"files"`` (the weight files' headers) or ``"model card"`` (not downloaded: the family spec's
            :class:`~vidstudio.families.CardSize` figures, :func:`card_estimate`).
        gguf: the storage type of a GGUF transformer file (``Q8_0``, ``Q4_K``...; ``"GGUF"`` when unknown), whose
            weights are quantised already: the transformer quantisation choices do not apply to it; "" otherwise.
    """

    status: str
    message: str
    repo_id: str = ""
    quantize: str = "none"
    quantize_text_encoder: str = "none"
    offload: str = "none"
    components: dict[str, float | None] = field(default_factory=dict)
    weights: float | None = None
    on_gpu: float | None = None
    per_choice: dict[str, float | None] = field(default_factory=dict)
    per_choice_text_encoder: dict[str, float | None] = field(default_factory=dict)
    source: str = "files"
    gguf: str = ""

    @property
    def basis(self) -> str:
        """What the figures rest on, in words: the weight files at 16-bit, a GGUF transformer's file size, or
        the model card's parameter counts (a model that is not downloaded)."""
        if self.source == "model card":
            return "from the model card: its parameter counts at 16-bit (or as quantised), activations extra"
        if self.gguf:
            return (
                f"transformer: the GGUF file's size ({self.gguf}, quantised already); the rest at 16-bit, "
                "activations extra"
            )
        return "weights at 16-bit, activations extra"


def gpu_estimate(
    loc: object, quantize: str = "none", quantize_text_encoder: str = "none", offload: str = "none"
) -> GpuEstimate:
    """The :class:`GpuEstimate` of a located model (a :class:`vidstudio.backend.locate.ModelLocation`) under
    the choices; reads the ``.safetensors`` headers only (no torch). Never raises for unreadable weights (they
    count as unknown)."""
    chosen = weights_gib(loc, quantize, quantize_text_encoder)
    known = {k: v for k, v in chosen.items() if v is not None}
    gguf = gguf_type(loc)
    per = {q: on_gpu_gib(weights_gib(loc, q, quantize_text_encoder), offload) for q in BYTES_PER_WEIGHT}
    per_te = {q: on_gpu_gib(weights_gib(loc, quantize, q), offload) for q in BYTES_PER_WEIGHT}
    args = {"quantize": quantize, "quantize_text_encoder": quantize_text_encoder, "offload": offload}
    if not known:
        return GpuEstimate(
            "unknown", "no estimate: the model's weights are not on this computer yet", components=chosen, **args
        )
    weights = sum(known.values())
    gpu = on_gpu_gib(chosen, offload)
    parts = ", ".join(f"{k.replace('_', ' ')} {gib_text(v)}" for k, v in known.items())
    missing = [k for k, v in chosen.items() if v is None]
    tail = f"; not on disk: {', '.join(missing)}" if missing else ""
    if gpu is None:
        head = f"weights streamed from the CPU ({offload} offload): a small part of {gib_text(weights)} at a time"
    elif offload == "model":
        head = f"{gib_text(gpu)} on the GPU (model offload: the largest component; {gib_text(weights)} in all)"
    else:
        head = f"{gib_text(gpu)} on the GPU"
    e = GpuEstimate(
        "ok",
        "",
        components=chosen,
        weights=weights,
        on_gpu=gpu,
        per_choice=per,
        per_choice_text_encoder=per_te,
        gguf=gguf,
        **args,
    )
    return replace(e, message=f"{head} ({parts}){tail}; {e.basis}")


def gguf_type(loc: object) -> str:
    """The storage type of the located model's GGUF transformer file (``Q8_0``, ``Q4_K``...; ``"GGUF"`` when its
    header does not tell), or "" when the model is not a GGUF file. Reads the file's header only."""
    single = str(getattr(loc, "single_file", "") or "")
    if not single.lower().endswith(".gguf"):
        return ""
    from vidstudio.backend.checkpoint_files import describe_file

    try:
        return str(describe_file(single).get("dtype") or "GGUF")
    except OSError:
        return "GGUF"


def card_estimate(
    card: object, repo_id: str, quantize: str = "none", quantize_text_encoder: str = "none", offload: str = "none"
) -> GpuEstimate:
    """The estimate of a model that is not downloaded, from its model card's parameter counts.

    Args:
        card: a :class:`vidstudio.families.CardEstimate` (:func:`vidstudio.families.card_size`).
        repo_id: the repo to download (the estimate's ``repo_id``).
        quantize, quantize_text_encoder, offload: the choices, as :func:`gpu_estimate`.

    Returns:
        a :class:`GpuEstimate` with ``status`` ``"not-downloaded"``, ``source`` ``"model card"`` and the figures:
        billions of parameters x :data:`BYTES_PER_WEIGHT` (2 bytes for ``none``) per component.
    """
    params = card.components()  # type: ignore[attr-defined]

    def gib(q: str, qte: str) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for comp, billions in params.items():
            choice = q if comp.startswith("transformer") else qte if comp == "text_encoder" else "none"
            out[comp] = billions * 1e9 * (BYTES_PER_WEIGHT.get(choice) or 2.0) / 2**30
        return out

    chosen = gib(quantize, quantize_text_encoder)
    gpu = on_gpu_gib(chosen, offload)
    weights = sum(v for v in chosen.values() if v is not None)
    parts = ", ".join(f"{k.replace('_', ' ')} {gib_text(v)}" for k, v in chosen.items() if v is not None)
    head = f"{gib_text(gpu)} on the GPU" if gpu is not None else f"weights streamed from the CPU ({offload} offload)"
    e = GpuEstimate(
        "not-downloaded",
        "",
        repo_id=repo_id,
        quantize=quantize,
        quantize_text_encoder=quantize_text_encoder,
        offload=offload,
        components=chosen,
        weights=weights,
        on_gpu=gpu,
        per_choice={q: on_gpu_gib(gib(q, quantize_text_encoder), offload) for q in BYTES_PER_WEIGHT},
        per_choice_text_encoder={q: on_gpu_gib(gib(quantize, q), offload) for q in BYTES_PER_WEIGHT},
        source="model card",
    )
    return replace(e, message=f"{repo_id} is not downloaded yet; {head} ({parts}), {e.basis}")
