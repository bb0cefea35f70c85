"""Single checkpoint files as ComfyUI users keep them (``diffusion_models/*.safetensors`` and ``*.gguf``,
``vae/``, ``text_encoders/``): reading their tensor names and recognising the model family from them.

Torch-free (validation and the model listing use it before anything loads): a ``.safetensors`` file's names
come from its JSON header (the format's first 8 bytes give the header length), a ``.gguf`` file's from the
``gguf`` package's reader (numpy only). Loading lives in :mod:`vidstudio.backend.single_file`.
"""

from __future__ import annotations

import json
import os
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


def _tensors(path: str | Path) -> list[tuple[str, str, int]]:
    """``(name, storage type, element count)`` of every tensor in a ``.safetensors`` or ``.gguf`` file, without
    reading the tensors (storage type: the safetensors ``dtype`` such as ``BF16`` or ``F8_E4M3``, or the GGUF
    quantisation type such as ``Q8_0`` or ``F32``).

    Raises:
        ModelError: the file is missing, of another kind, or its header cannot be read (names the file).
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"checkpoint file {p} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix == ".safetensors":
            out = []
            for k, v in safetensors_header(p).items():
                if k == "__metadata__" or not isinstance(v, dict):
                    continue
                n = 1
                for d in v.get("shape") or ():
                    n *= int(d)
                out.append((k, str(v.get("dtype", "")), n))
            return out
        if suffix == ".gguf":
            try:
                from gguf import GGUFReader
            except ImportError:
                raise ModelError(
                    f"checkpoint {p.name} is a GGUF file; reading it needs the gguf package (pip install gguf)"
                ) from None
            return [(t.name, t.tensor_type.name, int(t.n_elements)) for t in GGUFReader(str(p)).tensors]
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
        raise ModelError(f"checkpoint file {p} cannot be read as {suffix[1:]}: {e.__class__.__name__}: {e}") from None
    raise ModelError(f"checkpoint file {p.name} is neither .safetensors nor .gguf")


def tensor_names(path: str | Path) -> list[str]:
    """The tensor names in a ``.safetensors`` or ``.gguf`` file, without reading the tensors.

    Raises:
        ModelError: the file is missing, of another kind, or its header cannot be read (names the file).
    """
    return [name for name, _, _ in _tensors(path)]


def main_dtype(tensors: list[tuple[str, str, int]]) -> str:
    """The storage type that holds most of the weights' elements (``BF16``, ``F8_E4M3``, ``Q8_0``, ``Q4_K``...),
    from :func:`_tensors`' triples; "" for no tensors."""
    count: dict[str, int] = {}
    for _, dtype, n in tensors:
        count[dtype] = count.get(dtype, 0) + n
    return max(count, key=lambda d: count[d]) if count else ""


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
    return _recognise_names(tensor_names(path))


def _recognise_names(raw: list[str]) -> FileKind:
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


#: ComfyUI's model subfolders (lower case) and the kind of file each holds; :func:`list_checkpoint_files` reads
#: these, files directly in a models folder, and a models folder that is itself one of them.
FOLDER_KINDS = {
    "diffusion_models": "checkpoint",
    "unet": "checkpoint",
    "checkpoints": "checkpoint",
    "loras": "lora",
    "lora": "lora",
    "vae": "vae",
    "text_encoders": "text_encoder",
    "clip": "text_encoder",
}
#: The kinds of single files: a transformer/UNet checkpoint, a LoRA, a VAE, a text encoder.
FILE_KINDS = ("checkpoint", "lora", "vae", "text_encoder")


def _is_lora(names: list[str]) -> bool:
    """Whether tensor names are a LoRA's (``lora_A``/``lora_B``, kohya's ``lora_down``/``lora_up``, ``.alpha``)."""
    return any(".lora_" in n or "lora_down" in n or "lora_up" in n or n.startswith("lora_") for n in names[:2000])


_DESCRIBED: dict[tuple[str, int, int], dict[str, object]] = {}


def describe_file(path: str | Path, hint: str = "") -> dict[str, object]:
    """What a single checkpoint file holds, from its header only (torch-free; a file unchanged since the last call,
    by size and modification time, is not read again).

    Args:
        path: a ``.safetensors`` or ``.gguf`` file. hint: the kind its folder suggests (:data:`FOLDER_KINDS`
            values, "" for none); the tensor names win, except that a file in a LoRA folder stays a LoRA.

    Returns:
        ``kind`` (one of :data:`FILE_KINDS`), ``family``, ``component`` (``transformer``, ``unet``, ``vae``,
        ``text_encoder``; "" unknown), ``variant`` ("" unknown), ``format`` (``safetensors``/``gguf``),
        ``dtype`` (the storage type of most weights: ``BF16``, ``F8_E4M3``, GGUF's ``Q8_0``...; "" unknown),
        ``size`` (bytes), and ``error`` (why the header could not be read) only when it could not.

    Raises:
        OSError: the file cannot be stat'ed.
    """
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key in _DESCRIBED:
        return dict(_DESCRIBED[key])
    fmt = p.suffix.lower()[1:]
    out: dict[str, object] = {
        "kind": hint or ("lora" if "lora" in p.stem.lower() else "checkpoint"),
        "family": "",
        "component": "",
        "variant": "",
        "format": fmt,
        "dtype": "",
        "size": st.st_size,
    }
    try:
        tensors = _tensors(p)
    except ModelError as e:
        out["error"] = str(e)
        return out  # not remembered: a file being copied may be complete on the next listing
    except Exception as e:  # a header no reader expected: listed with the reason, never a failed listing
        out["error"] = f"checkpoint file {p} cannot be read: {e.__class__.__name__}: {e}"
        return out
    names = [n for n, _, _ in tensors]
    out["dtype"] = main_dtype(tensors)
    if hint == "lora" or _is_lora(names):
        out.update(kind="lora", family=_lora_family(names))
    else:
        k = _recognise_names(names)
        kind = {"vae": "vae", "text_encoder": "text_encoder", "transformer": "checkpoint", "unet": "checkpoint"}.get(
            k.component, out["kind"]
        )
        out.update(kind=kind, family=k.family, component=k.component, variant=k.variant)
    if len(_DESCRIBED) > 4096:
        _DESCRIBED.clear()
    _DESCRIBED[key] = dict(out)
    return out


def checkpoint_files_in(folder: str | Path) -> list[tuple[Path, str]]:
    """The ``.safetensors``/``.gguf`` files of a models folder with the kind their folder suggests: files directly
    in it, and files anywhere under its ComfyUI subfolders (:data:`FOLDER_KINDS`); a folder named like one of
    those is read whole. Pipeline folders (with ``model_index.json``) and hidden entries are skipped; symbolic
    links are followed, each folder once. Sorted by path; empty for a missing folder.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        return []
    out: list[tuple[Path, str]] = []
    seen: set[str] = set()

    def walk(d: Path, hint: str, recurse: bool) -> None:
        try:
            real = os.path.realpath(d)
            if real in seen or (d / "model_index.json").exists():
                return
            seen.add(real)
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir():
                    sub = FOLDER_KINDS.get(e.name.lower())
                    if recurse or sub is not None:
                        walk(Path(e.path), sub or hint, True)
                elif e.is_file() and Path(e.name).suffix.lower() in CHECKPOINT_SUFFIXES:
                    out.append((Path(e.path), hint))
            except OSError:
                continue

    own = FOLDER_KINDS.get(root.name.lower())
    walk(root, own or "", own is not None)
    return sorted(out)


def list_checkpoint_files(folders: list[str | Path]) -> list[dict[str, object]]:
    """The single checkpoint files of ``folders`` (see :func:`checkpoint_files_in`), each recognised from its
    header (:func:`describe_file`).

    Returns:
        one dict per file: ``path``, ``name``, ``folder`` (the models folder it was found in), ``size`` (bytes),
        ``kind`` (``checkpoint``, ``lora``, ``vae`` or ``text_encoder``), ``family``, ``component``, ``variant``
        ("" when unknown), ``format`` (``safetensors``/``gguf``), ``dtype``, and ``error`` when the header could
        not be read. A file found through two folders is listed once. Never raises.
    """
    out: list[dict[str, object]] = []
    seen: set[Path] = set()
    for folder in folders:
        for f, hint in checkpoint_files_in(folder):
            try:
                real = f.resolve()
                if real in seen:
                    continue
                seen.add(real)
                entry: dict[str, object] = {"path": str(f), "name": f.name, "folder": str(Path(folder).expanduser())}
                entry.update(describe_file(f, hint))
            except OSError:
                continue
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
    return _lora_family(tensor_names(path))


def _lora_family(names: list[str]) -> str:
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
