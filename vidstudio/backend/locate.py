"""Finding a model without loading it: a local pipeline folder or a Hugging Face repo id in the cache.

Torch-free: node checks (validation before anything loads) and the loader both use it. Errors are
:class:`vidstudio.errors.ModelError` messages that say which model, where VidStudio looked, and what to do.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from vidstudio.errors import ModelError
from vidstudio.families import FAMILIES, GeometryRule, read_configs, recognise, rules_for_folder

_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def hf_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set to a true value (read at call time)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the Hugging Face Hub (``HF_ENDPOINT``, default ``https://huggingface.co``)
    opens within ``timeout`` seconds (name lookup included).

    A quick probe so that a machine without network hears so at once instead of after huggingface_hub's
    retries (about 25 s). Behind a proxy (``HTTPS_PROXY``, ``ALL_PROXY``) the answer is always True: only the
    proxy knows. Never raises.
    """
    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    import socket
    import threading
    from urllib.parse import urlsplit

    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = url.hostname or "huggingface.co"
    port = url.port or (80 if url.scheme == "http" else 443)
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, name="hub-probe", daemon=True)  # name lookups ignore socket timeouts
    t.start()
    t.join(timeout + 0.5)
    return bool(result and result[0])


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache folder, from ``HF_HUB_CACHE`` (or the older ``HUGGINGFACE_HUB_CACHE``),
    ``HF_HOME`` or ``XDG_CACHE_HOME``, in huggingface_hub's order but read at call time (huggingface_hub reads them
    once, at import). Only the folder's place: what is in it is read by huggingface_hub (``scan_cache_dir``,
    ``try_to_load_from_cache``)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("HF_HOME")
    if not home:
        home = os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
        )
    return Path(home).expanduser() / "hub"


def looks_like_repo_id(text: str) -> bool:
    """True for ``org/name`` (a Hugging Face repo id) that is not an existing local path."""
    return bool(_REPO_RE.fullmatch(text)) and not Path(text).expanduser().exists()


@dataclass(frozen=True)
class ModelLocation:
    """Where a model is and what it is.

    Attributes:
        model: what the user gave (folder or repo id).
        folder: the local folder holding ``model_index.json`` (a snapshot folder for cached Hub models).
        repo_id: the Hub repo id, or None for a local folder.
        class_name: the pipeline class in ``model_index.json``.
        family, variant: the family spec and variant the pipeline class (and configs) name
            (:func:`vidstudio.families.recognise`).
        checkpoint: the published checkpoint its configs match (e.g. ``"wan2.1-flf2v"``), or "" when unknown.
        single_file: a single transformer/UNet checkpoint file (``.safetensors``/``.gguf``) that replaces the
            pipeline's own (``folder`` is then the base pipeline's), or "" (see
            :func:`vidstudio.backend.checkpoint_files.locate_model`).
    """

    model: str
    folder: Path
    repo_id: str | None
    class_name: str
    family: str
    variant: str
    checkpoint: str = ""
    single_file: str = ""

    def rule(self) -> GeometryRule:
        """The frame/size rule read from the folder's configs."""
        return rules_for_folder(self.folder, self.family)


def _classify(index_file: Path, shown: str, family: str) -> tuple[str, str, str, str]:
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"model {shown}: cannot read {index_file}: {e}") from None
    cls = str(index.get("_class_name", ""))
    found = recognise(index, read_configs(index_file.parent, name=shown.strip("'")))
    if found is None:
        raise ModelError(
            f"model {shown} is a {cls or 'unnamed'} pipeline, which is none of VidStudio's families "
            f"({', '.join(FAMILIES)}); choose a pipeline of one of them"
        )
    fam = found.family
    if family not in ("", "auto") and family != fam:
        raise ModelError(
            f"model {shown} is a {cls} pipeline (family {fam}), not a {family} pipeline; set the Load "
            f"Model node's family to {fam} or 'auto', or choose a {family} model"
        )
    return cls, fam, found.variant, found.checkpoint


def locate(
    model: str,
    family: str = "auto",
    *,
    revision: str = "",
    project_dir: Path | None = None,
    download: bool | None = None,
) -> ModelLocation:
    """Finds ``model`` and reads its pipeline class, without loading weights.

    Args:
        model: a local diffusers pipeline folder, or a Hugging Face repo id ``org/name``.
        family: the family the user chose (``auto``: any); a pipeline of another family is an error.
        revision: Hub revision ("" for the default).
        project_dir: folder that relative paths resolve against.
        download: fetch ``model_index.json`` from the Hub when it is not cached (default: unless
            ``HF_HUB_OFFLINE`` is set); False only looks in the cache.

    Returns:
        the :class:`ModelLocation`.

    Raises:
        ModelError: nothing chosen; a folder that does not exist or is not a diffusers pipeline; a pipeline of
            another family; a repo id that is not in the cache while offline (the message names the id, the
            cache folder it looked in, and how to get the model); a repo that does not exist.
    """
    model = (model or "").strip()
    if not model:
        raise ModelError(
            "no model chosen: set the Load Model node's 'model' to a local pipeline folder or a "
            "Hugging Face repo id (or pass --model to vidstudio render)",
            code="no-model",
        )
    path = Path(model).expanduser()
    if not path.is_absolute() and project_dir is not None and not looks_like_repo_id(model):
        path = Path(project_dir) / path
    if path.exists():
        if path.is_file():
            if path.suffix.lower() in (".safetensors", ".gguf"):
                raise ModelError(
                    f"model {path} is a single checkpoint file; set the Load Model node's 'base_model' "
                    "to the diffusers pipeline (folder or repo id) its other components come from"
                )
            raise ModelError(
                f"model {path} is a file; VidStudio loads diffusers pipeline folders (a folder with "
                "model_index.json) or a .safetensors/.gguf transformer file with a base pipeline"
            )
        index = path / "model_index.json"
        if not index.is_file():
            raise ModelError(
                f"folder {path} is not a diffusers pipeline (it has no model_index.json); point the "
                "model at the folder that holds model_index.json"
            )
        cls, fam, variant, ck = _classify(index, str(path), family)
        return ModelLocation(model, path.resolve(), None, cls, fam, variant, ck)
    if not looks_like_repo_id(model):
        raise ModelError(
            f"model folder {path} does not exist, and {model!r} is not a Hugging Face repo id "
            "(org/name); point the model (the Load Model node, or --model) at a folder that holds "
            "model_index.json, or give a repo id such as Lightricks/LTX-Video",
            code="model-not-local",
        )
    cache = hf_cache_dir()
    offline = hf_offline()
    if download is None:
        download = not offline
    from huggingface_hub import errors as hf_errors
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cached = try_to_load_from_cache(model, "model_index.json", cache_dir=str(cache), revision=revision or None)
    index_path: str | None = cached if isinstance(cached, str) else None
    if index_path is None and download:
        try:
            if not hub_reachable():
                raise hf_errors.LocalEntryNotFoundError(f"no connection to the Hugging Face Hub for {model}")
            index_path = hf_hub_download(model, "model_index.json", revision=revision or None, cache_dir=str(cache))
        except hf_errors.LocalEntryNotFoundError:
            # huggingface_hub raises this (a subclass of EntryNotFoundError) when the Hub cannot be reached.
            raise ModelError(
                f"model {model!r} is not in the Hugging Face cache (looked in {cache}) and the Hugging Face Hub "
                f"could not be reached to download it. Connect to the network and run again (or download it with "
                f"`vidstudio models download {model}`), copy a cache folder that holds it here (or set HF_HOME / "
                "HF_HUB_CACHE to it), or point the Load Model node / --model at a local pipeline folder; set "
                "HF_HUB_OFFLINE=1 to skip the network attempts",
                code="model-not-downloaded",
            ) from None
        except hf_errors.RepositoryNotFoundError:
            raise ModelError(
                f"model {model!r} was not found on the Hugging Face Hub (or is private: log in with `hf auth login`)"
            ) from None
        except hf_errors.EntryNotFoundError:
            raise ModelError(
                f"model {model!r} on the Hugging Face Hub has no model_index.json: it is not a "
                "diffusers pipeline; use its Diffusers-format repo"
            ) from None
        except Exception as e:  # network failure, gated repo, ...
            raise ModelError(
                f"model {model!r} is not in the Hugging Face cache ({cache}) and downloading its "
                f"model_index.json failed: {e.__class__.__name__}: {e}",
                code="model-not-downloaded",
            ) from None
    if index_path is None:
        why = "HF_HUB_OFFLINE is set" if offline else "downloading is off"
        at, rev_arg = (f" at revision {revision!r}", f" --revision {revision}") if revision else ("", "")
        raise ModelError(
            f"model {model!r}{at} is not in the Hugging Face cache (looked in {cache}) and {why}, so it cannot be "
            f"downloaded. Download it once on a machine with network (`vidstudio models download {model}{rev_arg}`, "
            "or run without HF_HUB_OFFLINE), copy the cache folder here (or set HF_HOME / HF_HUB_CACHE to it), or "
            "point the Load Model node / --model at a local pipeline folder",
            code="model-not-downloaded",
        )
    cls, fam, variant, ck = _classify(Path(index_path), repr(model), family)
    return ModelLocation(model, Path(index_path).parent, model, cls, fam, variant, ck)


def static_location(model: str, family: str = "auto", project_dir: Path | None = None) -> ModelLocation | None:
    """Like :func:`locate` for validation: never downloads, returns None when the model cannot be found yet
    (the run reports that with the full message), and raises only for a model that is found but wrong.

    Raises:
        ModelError: for a folder that is not a pipeline or a pipeline of another family.
    """
    try:
        return locate(model, family, project_dir=project_dir, download=False)
    except ModelError as e:
        if e.code in ("model-not-downloaded", "no-model", "model-not-local"):
            return None
        raise
