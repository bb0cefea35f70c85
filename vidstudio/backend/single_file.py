"""Loading single checkpoint files into a pipeline: a transformer or UNet file (``.safetensors``, or ``.gguf``
through diffusers' ``GGUFQuantizationConfig``), and optional VAE and text-encoder files, with the other
components from a base diffusers pipeline (``ModelRef.base_model``).

The denoiser and the VAE go through diffusers' ``ModelClass.from_single_file(path, config=base,
subfolder=...)``, which converts the ComfyUI/original key layouts (and keeps diffusers' own); the config comes
from the base pipeline, so the base must be the same model size as the file. A text-encoder file (ComfyUI's
``text_encoders/umt5_xxl.safetensors``, transformers key names) is loaded into the base's text-encoder class
built from its config; missing weights are an error naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vidstudio.backend.checkpoint_files import strip_prefix
from vidstudio.errors import ModelError


def _index(folder: Path) -> dict[str, Any]:
    return json.loads((Path(folder) / "model_index.json").read_text())


def single_file_components(
    loc: Any, ref: Any, dtype: Any, project_dir: Path | None, notes: list[str], quantization_config: Any = None
) -> dict[str, Any]:
    """The components loaded from single files for ``from_pretrained(base, **components)``.

    Args:
        loc: the :class:`vidstudio.backend.locate.ModelLocation` (``single_file`` set for a denoiser file).
        ref: the :class:`vidstudio.backend.bundle.ModelRef` (``vae_file``, ``text_encoder_file``).
        dtype: the torch dtype; project_dir: folder relative file paths resolve against.
        notes: appended to (what was loaded from which file).
        quantization_config: a diffusers quantisation config for a ``.safetensors`` denoiser (GGUF files always
            use ``GGUFQuantizationConfig(compute_dtype=dtype)``).

    Returns:
        ``{"transformer" | "unet": model, "vae": model, "text_encoder": model}`` for the files given.

    Raises:
        ModelError: a class diffusers cannot load from one file, a file that does not fit the base's config
            (names the file and the loader's error), GGUF without the ``gguf`` package.
    """
    import diffusers

    out: dict[str, Any] = {}
    index = _index(loc.folder)
    base = loc.repo_id or str(loc.folder)
    local_only = {"local_files_only": True} if not loc.repo_id else {}
    if loc.single_file:
        comp = "transformer" if "transformer" in index else "unet"
        out[comp] = _from_single_file(
            diffusers, index, comp, Path(loc.single_file), base, dtype, local_only, quantization_config
        )
        fmt = "GGUF" if loc.single_file.lower().endswith(".gguf") else "safetensors"
        notes.append(f"{comp} from {Path(loc.single_file).name} ({fmt}); other components from {base}")
    if getattr(ref, "vae_file", ""):
        path = _resolve(ref.vae_file, project_dir, "VAE")
        out["vae"] = _from_single_file(diffusers, index, "vae", path, base, dtype, local_only, None)
        notes.append(f"VAE from {path.name}")
    if getattr(ref, "text_encoder_file", ""):
        path = _resolve(ref.text_encoder_file, project_dir, "text encoder")
        out["text_encoder"] = _text_encoder(index, path, loc, dtype)
        notes.append(f"text encoder from {path.name}")
    return out


def _resolve(spec: str, project_dir: Path | None, what: str) -> Path:
    p = Path(spec).expanduser()
    if not p.is_absolute() and project_dir is not None:
        p = Path(project_dir) / p
    if not p.is_file():
        raise ModelError(f"{what} file {p} does not exist")
    return p


def _from_single_file(
    diffusers: Any,
    index: dict[str, Any],
    comp: str,
    path: Path,
    base: str,
    dtype: Any,
    local_only: dict[str, Any],
    quantization_config: Any,
) -> Any:
    if comp not in index:
        raise ModelError(f"the base pipeline has no {comp}, so {path.name} has nowhere to go")
    cls_name = index[comp][1]
    cls = getattr(diffusers, cls_name, None)
    if cls is None or not hasattr(cls, "from_single_file"):
        raise ModelError(
            f"{path.name}: diffusers {diffusers.__version__} cannot load a {cls_name} from a single file "
            "(no from_single_file); use a diffusers pipeline folder for this model"
        )
    kw: dict[str, Any] = {"config": base, "subfolder": comp, "torch_dtype": dtype, **local_only}
    if path.suffix.lower() == ".gguf":
        from diffusers import GGUFQuantizationConfig
        from diffusers.utils import is_gguf_available

        if not is_gguf_available():
            raise ModelError(f"{path.name} is a GGUF file; loading it needs the gguf package (pip install gguf)")
        kw["quantization_config"] = GGUFQuantizationConfig(compute_dtype=dtype)
    elif quantization_config is not None:
        kw["quantization_config"] = quantization_config
    try:
        return cls.from_single_file(str(path), **kw).eval()
    except ModelError:
        raise
    except Exception as e:
        raise ModelError(
            f"{path.name} could not be loaded as the {cls_name} of the base pipeline {base}: "
            f"{e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''} (is the base the same "
            "model and size as the file?)"
        ) from None


def _text_encoder(index: dict[str, Any], path: Path, loc: Any, dtype: Any) -> Any:
    import transformers
    from safetensors.torch import load_file

    if "text_encoder" not in index or index["text_encoder"][1] is None:
        raise ModelError(f"the base pipeline has no text encoder, so {path.name} has nowhere to go")
    cls = getattr(transformers, index["text_encoder"][1])
    base = loc.repo_id or str(loc.folder)
    config = transformers.AutoConfig.from_pretrained(
        base, subfolder="text_encoder", local_files_only=not bool(loc.repo_id)
    )
    model = cls(config)
    try:
        sd = load_file(str(path))
    except Exception as e:
        raise ModelError(f"text encoder file {path} cannot be read: {e.__class__.__name__}: {e}") from None
    names = list(sd)
    sd = dict(zip(strip_prefix(names), sd.values()))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    tied = {"encoder.embed_tokens.weight", "lm_head.weight"}
    missing = [m for m in missing if m not in tied]
    if missing or len(unexpected) > len(sd) // 2:
        raise ModelError(
            f"text encoder file {path.name} does not fit the base's {cls.__name__}: {len(missing)} "
            f"weights missing (e.g. {', '.join(missing[:3]) or '-'}), {len(unexpected)} unexpected"
        )
    return model.to(dtype).eval()
