"""Single checkpoint files as ComfyUI users keep them (``diffusion_models/*.safetensors`` and ``*.gguf``,
``vae/``, ``text_encoders/``): reading their tensor names and recognising the model family from them.

Torch-free (validation and the model listing use it before anything loads): a ``.safetensors`` file's names
come from its JSON header (the format's first 8 bytes give the header length), a ``.gguf`` file's from the
``gguf`` package's reader (numpy only). Loading lives in :mod:`vidstudio.backend.single_file`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from vidstudio.errors import ModelError

#: File suffixes a single transformer / UNet checkpoint may have.
CHECKPOINT_SUFFIXES = (".safetensors", ".gguf")
#: Prefixes ComfyUI and the original repositories put before the model's own names.
_PREFIXES = ("model.diffusion_model.", "diffusion_model.", "model.")


def safetensors_header(path: str | Path) -> dict:
    """The JSON header of a ``.safetensors`` file (tensor name -> ``{"dtype", "shape", "data_offsets"}``, plus
    ``"__metadata__"``), read without the tensors (the format: an 8-byte little-endian length, then the JSON).

    Raises:
        OSError: the file cannot be read. ValueError: the header length or JSON is not a safetensors header.
    """
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n <= 0 or n > 200_000_000:
            raise ValueError(f"header length {n}")
        return json.loads(f.read(n))


def tensor_names(path: str | Path) -> list[str]:
    """The tensor names in a ``.safetensors`` or ``.gguf`` file, without reading the tensors.

    Raises:
        ModelError: the file is missing, of another kind, or its header cannot be read (names the file).
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"checkpoint file {p} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix == ".safetensors":
            return [k for k in safetensors_header(p) if k != "__metadata__"]
        if suffix == ".gguf":
            try:
                from gguf import GGUFReader
            except ImportError:
                raise ModelError(
                    f"checkpoint {p.name} is a GGUF file; reading it needs the gguf package (pip install gguf)"
                ) from None
            return [t.name for t in GGUFReader(str(p)).tensors]
    except ModelError:
        raise
    except (OSError, ValueError, struct.error) as e:
        raise ModelError(f"checkpoint file {p} cannot be read as {suffix[1:]}: {e.__class__.__name__}: {e}") from None
    raise ModelError(f"checkpoint file {p.name} is neither .safetensors nor .gguf")


def strip_prefix(names: list[str]) -> list[str]:
    """The names without a ComfyUI / original-repository prefix (``model.diffusion_model.``...)."""
    for pre in _PREFIXES:
        if names and sum(n.startswith(pre) for n in names) > len(names) // 2:
            return [n[len(pre) :] if n.startswith(pre) else n for n in names]
    return names


@dataclass(frozen=True)
class FileKind:
    """What a checkpoint file holds.

    Attributes:
        family: a family id, or "" when the names match none.
        component: ``transformer``, ``unet``, ``vae`` or ``text_encoder`` ("" when unknown).
        variant: the checkpoint variant the names show (``vace``, ``i2v``...), or "".
        layout: ``diffusers`` or ``original`` (ComfyUI / the model's own repository).
    """

    family: str
    component: str
    variant: str = ""
    layout: str = "original"


def _has(names: set[str], *parts: str) -> bool:
    return all(any(p in n for n in names) for p in parts)


def recognise_file(path: str | Path) -> FileKind:
    """Recognises the family and component of a checkpoint file from its tensor names.

    Signatures (diffusers' single-file conversion code names the same keys): Wan ``blocks.N.self_attn`` /
    ``blocks.N.attn1`` with ``head.modulation`` or ``condition_embedder`` (VACE: ``vace_blocks``; image-to-video:
    ``img_emb`` / ``image_embedder``); LTX-Video ``transformer_blocks`` with ``adaln_single`` / ``patchify_proj``;
    CogVideoX ``transformer_blocks`` with ``patch_embed.text_proj``; AnimateDiff ``motion_modules``; SVD
    ``time_stack`` / ``time_mixer``; Wan VAE ``decoder.head`` with ``conv1``/``conv2``; T5/UMT5 text encoders
    ``encoder.block.N``.

    Returns:
        the :class:`FileKind`; ``family`` "" when no signature matches (the user is asked for the family).

    Raises:
        ModelError: see :func:`tensor_names`.
    """
    raw = tensor_names(path)
    names = set(strip_prefix(raw))
    diffusers_layout = _has(names, "attn1.to_q") or _has(names, "condition_embedder")
    layout = "diffusers" if diffusers_layout else "original"
    if (
        _has(names, "blocks.0.")
        and (_has(names, "self_attn.q") or _has(names, "condition_embedder") or _has(names, "head.modulation"))
        and not _has(names, "transformer_blocks")
    ):
        variant = (
            "vace"
            if _has(names, "vace_blocks")
            else "i2v"
            if (_has(names, "img_emb") or _has(names, "image_embedder"))
            else ""
        )
        return FileKind("wan", "transformer", variant, layout)
    if _has(names, "transformer_blocks.0.") and (_has(names, "adaln_single") or _has(names, "patchify_proj")):
        return FileKind("ltx", "transformer", "", layout)
    if _has(names, "transformer_blocks.0.") and _has(names, "patch_embed.text_proj"):
        return FileKind("cogvideox", "transformer", "", layout)
    if _has(names, "motion_modules"):
        return FileKind("animatediff", "unet", "", layout)
    if _has(names, "time_stack") or _has(names, "time_mixer"):
        return FileKind("svd", "unet", "", layout)
    if _has(names, "encoder.block.0.") and _has(names, "shared"):
        return FileKind("", "text_encoder", "", "original")
    if _has(names, "decoder.") and _has(names, "encoder.") and (_has(names, "conv1") or _has(names, "conv_in")):
        return FileKind("", "vae", "", layout)
    return FileKind("", "", "", layout)


def list_checkpoint_files(folders: list[str | Path]) -> list[dict[str, object]]:
    """The single checkpoint files under ``folders`` (ComfyUI's ``diffusion_models``, ``unet``, ``checkpoints``
    and ``loras`` subfolders, or the folders themselves), recognised from their names (a LoRA's family by
    :func:`recognise_lora`).

    Returns:
        one dict per file: ``path``, ``name``, ``size`` (bytes), ``kind`` (``checkpoint`` or ``lora``),
        ``family``, ``component``, ``variant`` ("" when unknown), ``format`` (``safetensors``/``gguf``), and
        ``error`` when the header could not be read. Never raises.
    """
    out: list[dict[str, object]] = []
    seen: set[Path] = set()
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for f in sorted(root.rglob("*")):
            if f.suffix.lower() not in CHECKPOINT_SUFFIXES or not f.is_file() or f.resolve() in seen:
                continue
            seen.add(f.resolve())
            rel = f.relative_to(root).parts
            is_lora = "loras" in rel[:-1] or "lora" in f.stem.lower()
            entry: dict[str, object] = {
                "path": str(f),
                "name": f.name,
                "size": f.stat().st_size,
                "kind": "lora" if is_lora else "checkpoint",
                "family": "",
                "component": "",
                "variant": "",
                "format": f.suffix.lower()[1:],
            }
            try:
                if is_lora:
                    entry["family"] = recognise_lora(f)
                else:
                    k = recognise_file(f)
                    entry.update(family=k.family, component=k.component, variant=k.variant)
            except ModelError as e:
                entry["error"] = str(e)
            out.append(entry)
    return out


def is_checkpoint_file(model: str, project_dir: Path | None = None) -> Path | None:
    """The path when ``model`` names an existing ``.safetensors``/``.gguf`` file (relative to ``project_dir``),
    else None."""
    if not model or Path(model).suffix.lower() not in CHECKPOINT_SUFFIXES:
        return None
    p = Path(model).expanduser()
    if not p.is_absolute() and project_dir is not None:
        p = Path(project_dir) / p
    return p if p.is_file() else None


def locate_model(ref: object, project_dir: Path | None = None, *, download: bool | None = None) -> object:
    """:func:`vidstudio.backend.locate.locate` for a :class:`vidstudio.backend.bundle.ModelRef`, which may name a
    single transformer/UNet file plus a ``base_model`` pipeline for the other components.

    The file's family is recognised from its tensor names (:func:`recognise_file`); when they match no family,
    the Load Model node's family decides, and with ``auto`` the user is asked to choose it. The base pipeline
    must be of the same family.

    Returns:
        the :class:`vidstudio.backend.locate.ModelLocation` (``folder`` the base pipeline's, ``single_file`` set).

    Raises:
        ModelError: no base pipeline, a family that cannot be recognised with family ``auto``, a base pipeline of
            another family than the file, or any error of :func:`locate` for the base.
    """
    import dataclasses

    from vidstudio.backend.locate import locate

    model, family = str(getattr(ref, "model", "")), str(getattr(ref, "family", "auto") or "auto")
    revision = str(getattr(ref, "revision", ""))
    path = is_checkpoint_file(model.strip(), project_dir)
    if path is None:
        return locate(model, family, revision=revision, project_dir=project_dir, download=download)
    base = str(getattr(ref, "base_model", "")).strip()
    kind = recognise_file(path)
    if kind.component in ("vae", "text_encoder"):
        raise ModelError(
            f"checkpoint {path.name} holds a {kind.component.replace('_', ' ')}, not a transformer or "
            f"UNet; give it as the Load Model node's '{kind.component}_file' and the transformer as "
            "'model'"
        )
    if kind.family and family not in ("", "auto") and kind.family != family:
        raise ModelError(
            f"checkpoint {path.name} is a {kind.family} {kind.component} (from its tensor names), not "
            f"a {family} model; set the Load Model node's family to {kind.family} or 'auto'"
        )
    fam = kind.family or (family if family not in ("", "auto") else "")
    if not fam:
        raise ModelError(
            f"checkpoint {path.name}: its tensor names match no VidStudio family; choose the family "
            "on the Load Model node"
        )
    if not base:
        raise ModelError(
            f"model {path.name} is a single {kind.component or 'transformer'} file; set the Load "
            f"Model node's 'base_model' to a {fam} diffusers pipeline (folder or repo id) for the VAE, "
            "text encoder and scheduler"
        )
    loc = locate(base, fam, revision=revision, project_dir=project_dir, download=download)
    return dataclasses.replace(loc, model=model, single_file=str(path.resolve()))


def recognise_lora(path: str | Path) -> str:
    """The model family a LoRA file is for, from its layer names ("" when they do not tell).

    Signatures: Wan ``blocks.N.self_attn`` / ``blocks_N_self_attn`` (ComfyUI/original, musubi) or diffusers'
    ``transformer.blocks.N.attn1``; LTX-Video and CogVideoX ``transformer_blocks`` are told apart only by
    ComfyUI's ``diffusion_model.`` prefix (LTX) and otherwise give ""; Stable Diffusion 1.5 LoRAs (``unet.`` or
    kohya's ``lora_unet_down_blocks``) are AnimateDiff's.

    Raises:
        ModelError: see :func:`tensor_names`.
    """
    names = tensor_names(path)
    raw = set(names)
    stripped = set(strip_prefix([n[len("transformer.") :] if n.startswith("transformer.") else n for n in names]))
    if (
        _has(stripped, "blocks.0.self_attn")
        or _has(raw, "lora_unet_blocks_0_self_attn")
        or (_has(stripped, "blocks.0.attn1") and not _has(stripped, "transformer_blocks"))
    ):
        return "wan"
    if any(n.startswith("diffusion_model.transformer_blocks") for n in raw):
        return "ltx"
    if (
        any(n.startswith("unet.") for n in raw)
        or _has(raw, "lora_unet_down_blocks")
        or _has(raw, "lora_unet_up_blocks")
    ):
        return "animatediff"
    return ""
