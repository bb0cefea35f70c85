"""The models a server can load: local pipeline folders and single checkpoint files in its models folders, and
diffusers pipelines in the Hugging Face cache, each named by a model id that requests use instead of a path.

* a local model is a folder with ``model_index.json`` directly inside one of the models folders (by default
  ``<data dir>/models``); its id is the folder's name (``tiny-ltx``);
* a model file is a ``.safetensors`` or ``.gguf`` file directly in a models folder or under its ComfyUI
  subfolders (``diffusion_models/``, ``unet/``, ``checkpoints/``, ``loras/``, ``vae/``, ``text_encoders/``,
  ``clip/``); its id is its path relative to the models folder, with ``/`` (``loras/lightx2v.safetensors``), and
  its kind (transformer/UNet ``checkpoint``, ``lora``, ``vae``, ``text_encoder``), family and variant are read
  from its header (:func:`vidstudio.backend.checkpoint_files.describe_file`: JSON or the GGUF header, no torch);
* a cached model is a repo in the Hugging Face hub cache (``HF_HUB_CACHE``, ``HF_HOME/hub`` or
  ``~/.cache/huggingface/hub``, listed with ``huggingface_hub.scan_cache_dir``) whose snapshot has a
  ``model_index.json``; its id is the repo id (``Lightricks/LTX-Video``).

Family and variant of a pipeline come from the pipeline class in ``model_index.json`` (:mod:`vidstudio.backend.locate`,
which reads JSON only: no torch). Pipelines of classes that are none of VidStudio's families are left out; files
whose family cannot be told are listed with family "".
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from vidstudio.errors import ModelError
from vidstudio.families import GeometryRule
from vidstudio.fsutil import folder_size

_LOCAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
#: How long a listing is reused before the folders are read again (seconds).
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class CatalogEntry:
    """One model.

    Attributes:
        id: what requests call it; source: ``"local"`` or ``"huggingface"``.
        target: what the worker's node gets: the folder's or file's absolute path, or the repo id.
        family, variant: from ``model_index.json`` or the file's tensor names ("" when a file does not tell);
        class_name: the pipeline class ("" for a file); rule: its frame and size rules (None for a file of
        no known family, a LoRA, a VAE or a text encoder).
        kind: ``pipeline``, ``checkpoint`` (a transformer/UNet file), ``lora``, ``vae`` or ``text_encoder``.
        component: a file's component (``transformer``, ``unet``, ``vae``, ``text_encoder``; "" unknown).
        format: ``diffusers`` (a pipeline), ``safetensors`` or ``gguf``.
        size: bytes on disk (a pipeline's files, a cached repo's blobs, a file); None when unknown.
        dtype: a file's storage type of most weights (``BF16``, ``F8_E4M3``, ``Q8_0``...), "" unknown.
        error: why a file's header could not be read, or "".
        checkpoint: the published checkpoint a pipeline's configs match (``"wan2.2-ti2v-5b"``; "" when unknown or
            for a file): its native frame rate is a simple request's default fps.
    """

    id: str
    source: str
    target: str
    family: str
    variant: str
    class_name: str
    rule: GeometryRule | None
    kind: str = "pipeline"
    component: str = ""
    format: str = "diffusers"
    size: int | None = None
    dtype: str = ""
    error: str = ""
    checkpoint: str = ""


class UnknownModel(LookupError):
    """A request named a model this server does not have (the message lists what it has)."""


class ModelCatalog:
    """Lists and resolves model ids.

    Args:
        dirs: folders whose subfolders are local pipelines (missing folders are skipped).
        default: the default model: a model id, or a pipeline folder or repo id given by the server's operator
            (``vidstudio serve --default-model``); None: the first local model, else the first cached one.
        scan_hf_cache: also list the Hugging Face cache.
    """

    def __init__(self, dirs: list[Path], default: str | None = None, *, scan_hf_cache: bool = True):
        self.dirs = [Path(d) for d in dirs]
        self.default_spec = default
        self.scan_hf_cache = scan_hf_cache
        self._lock = threading.Lock()
        self._cached: tuple[float, list[CatalogEntry]] | None = None

    # ------------------------------------------------------------------------------------------ listing
    @staticmethod
    def _entry(model: str, ident: str, source: str, size: int | None = None) -> CatalogEntry | None:
        from vidstudio.backend.locate import locate

        try:
            loc = locate(model, "auto", download=False)
        except ModelError:
            return None
        target = str(loc.folder) if source == "local" else model
        try:
            rule = loc.rule()
        except Exception:
            from vidstudio.families import FAMILY_RULES

            rule = FAMILY_RULES[loc.family]
        if size is None and source == "local":
            size = folder_size(loc.folder)
        return CatalogEntry(
            ident, source, target, loc.family, loc.variant, loc.class_name, rule, size=size, checkpoint=loc.checkpoint
        )

    def _files(self, seen: set[str]) -> list[CatalogEntry]:
        from vidstudio.backend.checkpoint_files import list_checkpoint_files
        from vidstudio.families import FAMILY_RULES

        out: list[CatalogEntry] = []
        for f in list_checkpoint_files(self.dirs):
            path = Path(str(f["path"]))
            ident = path.relative_to(Path(str(f["folder"]))).as_posix()
            if ident in seen:
                continue
            family, kind = str(f["family"]), str(f["kind"])
            rule = FAMILY_RULES.get(family) if kind == "checkpoint" else None
            out.append(
                CatalogEntry(
                    ident,
                    "local",
                    str(path.resolve()),
                    family,
                    str(f["variant"]),
                    "",
                    rule,
                    kind=kind,
                    component=str(f["component"]),
                    format=str(f["format"]),
                    size=int(f["size"]),  # type: ignore[call-overload]
                    dtype=str(f["dtype"]),
                    error=str(f.get("error", "")).replace(str(path), ident),  # no server path in answers
                )
            )
            seen.add(ident)
        return out

    def _scan(self) -> list[CatalogEntry]:
        out: list[CatalogEntry] = []
        seen: set[str] = set()
        spec = (self.default_spec or "").strip()
        if spec:
            p = Path(spec).expanduser()
            if p.is_dir() and _LOCAL_ID.fullmatch(p.name):
                e = self._entry(str(p.resolve()), p.name, "local")
                if e is not None:
                    out.append(e)
                    seen.add(e.id)
        for d in self.dirs:
            try:
                children = sorted(d.iterdir())
            except OSError:
                continue
            for child in children:
                if (
                    child.name in seen
                    or not _LOCAL_ID.fullmatch(child.name)
                    or not (child / "model_index.json").is_file()
                ):
                    continue
                e = self._entry(str(child.resolve()), child.name, "local")
                if e is not None:
                    out.append(e)
                    seen.add(e.id)
        out += self._files(seen)
        if self.scan_hf_cache:
            from vidstudio.backend.hub import cached_pipelines

            for repo_id, size in cached_pipelines():
                if repo_id in seen:
                    continue
                e = self._entry(repo_id, repo_id, "huggingface", size)
                if e is not None:
                    out.append(e)
                    seen.add(e.id)
        return out

    def entries(self, *, fresh: bool = False) -> list[CatalogEntry]:
        """Every model, local ones first (the listing is reused for :data:`CACHE_SECONDS`)."""
        with self._lock:
            now = time.monotonic()
            if fresh or self._cached is None or now - self._cached[0] > CACHE_SECONDS:
                self._cached = (now, self._scan())
            return list(self._cached[1])

    def default_id(self) -> str | None:
        """The default model's id (always a pipeline), or None when the server has no pipeline."""
        entries = [e for e in self.entries() if e.kind == "pipeline"]
        spec = (self.default_spec or "").strip()
        if spec:
            p = Path(spec).expanduser()
            name = p.name if p.is_dir() else spec
            return name if any(e.id == name for e in entries) else None
        return entries[0].id if entries else None

    def name_of(self, target: str) -> str:
        """The model id of a loaded model reported as a folder path or repo id (the folder's name when it is
        not in the catalogue, so that no server path is shown)."""
        for e in self.entries():
            if e.target == target:
                return e.id
        return Path(target).name if Path(target).is_absolute() else target

    # ------------------------------------------------------------------------------------------ resolving
    def resolve(self, model_id: str | None) -> CatalogEntry:
        """The model named ``model_id`` (None or empty: the default model).

        Raises:
            UnknownModel: naming the id and listing the ids this server has.
        """
        entries = self.entries()
        ids = [e.id for e in entries]
        if not model_id:
            did = self.default_id()
            if did is None:
                if self.default_spec:
                    raise UnknownModel(
                        f"the server's default model {self.default_spec!r} is not available "
                        f"(models: {', '.join(ids) or 'none'})"
                    )
                raise UnknownModel(
                    "no model given and the server has none (put a diffusers pipeline folder in its "
                    "models folder, or start it with --default-model)"
                )
            model_id = did
        for e in entries:
            if e.id == model_id:
                return e
        fresh = self.entries(fresh=True)
        for e in fresh:
            if e.id == model_id:
                return e
        shown = ", ".join(e.id for e in fresh) or "none"
        raise UnknownModel(
            f"model {model_id!r} is not a model of this server (GET /v1/models lists them: {shown}); "
            "a request names models by id, never by a path"
        )
