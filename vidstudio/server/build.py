"""From a request to the work a job does: checks that name the field, and the project the worker runs.

* A **simple request** becomes a small project: Load Model -> Conditioning (-> Load Image as a keyframe at frame
  0) -> Generate -> Export Video, with ``duration_seconds * fps`` frames and a size moved to the nearest values
  the model can make (:func:`vidstudio.families.check_request` with snapping; the job's
  ``adjustments`` say what changed).
* A **project request** is checked without importing any plugin code: the document, the output node, the node
  types, the models (ids of this server, replaced by their folders), the input files (uploaded assets only,
  copied into the job folder under server-made names), and, when every node it needs is built in, full graph
  validation. Nodes of plugins are validated by the worker when the job runs.

Two documents come out: the one the worker runs (server paths) and the one embedded in the MP4 (the request's
own document: model ids and the client's file names, so the MP4 opens again on the client).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from vidstudio.families import SPECS
from vidstudio.protocol.models import ProjectGeneration, SimpleGeneration
from vidstudio.server.models import CatalogEntry, ModelCatalog, UnknownModel

#: ``family: (width, height, fps)``: the published checkpoints' native size and frame rate, used for the
#: defaults of a simple request.
NATIVE: dict[str, tuple[int, int, int]] = {f: spec.native for f, spec in SPECS.items()}
#: Which request field a capability-table control comes from (simple requests).
CONTROL_FIELDS = {
    "text": "prompt",
    "negative_prompt": "negative_prompt",
    "keyframes": "image_asset_id",
    "motion_strength": "motion_bucket_id",
    "frames": "duration_seconds",
    "size": "width",
}
#: Load Model parameters that name extra models; each must be a model id or a Hugging Face repo id.
MODEL_EXTRAS = (
    "sparsectrl",
    "ip_adapter",
    "motion_adapter",
    "preview_decoder",
    "base_model",
    "vae_file",
    "text_encoder_file",
)
#: A catalogue entry's kind in words (messages).
_KIND_WORDS = {
    "pipeline": "pipeline",
    "checkpoint": "transformer/UNet checkpoint",
    "lora": "LoRA",
    "vae": "VAE",
    "text_encoder": "text encoder",
}
#: The kinds of catalogue entry a Load Model parameter takes (``model``: a pipeline or a checkpoint file).
PARAM_KINDS = {
    "model": ("pipeline", "checkpoint"),
    "base_model": ("pipeline",),
    "vae_file": ("vae",),
    "text_encoder_file": ("text_encoder",),
    "lora": ("lora",),
}
_REPO_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*){1,4}$")


class RequestError(Exception):
    """A request the server refuses (answered with 4xx).

    Args:
        problems: ``(field, message)`` pairs; field is a dotted path into the request, or None.
        status: the HTTP status (422 unless said otherwise).
        kind: the error type in the answer (``invalid_request``, ``not_found``, ...).
    """

    def __init__(self, problems: list[tuple[str | None, str]], status: int = 422, kind: str = "invalid_request"):
        self.problems = problems
        self.status = status
        self.kind = kind
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in problems))


@dataclass
class JobSpec:
    """What a new job needs.

    Attributes:
        id: the server-made job id; kind: ``"simple"`` or ``"project"``; output_node: the node to render.
        project: JSON of the document the worker runs; embed: JSON of the document embedded in the MP4.
        model: the model id asked for (or None); adjustments: what the server changed, in words.
        assets: asset ids copied into the job folder's ``inputs/``.
    """

    id: str
    kind: str
    output_node: str
    project: str
    embed: str
    model: str | None = None
    adjustments: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)


def input_path(asset_id: str, suffix: str = ".png") -> str:
    """The relative path (inside the job folder) where an uploaded asset is put for the worker (``suffix``: of
    the stored file, ``.png`` for an image)."""
    return f"inputs/{asset_id}{suffix}"


def copy_assets(store: Any, spec: JobSpec) -> None:
    """Puts the job's assets into ``jobs/<id>/inputs/`` (hard links where possible).

    Raises:
        RequestError: when an asset file is missing (404).
    """
    folder = store.job_dir(spec.id) / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    for aid in spec.assets:
        row = store.get_asset(aid)
        suffix = row.suffix if row is not None else ".png"
        src, dst = store.asset_path(aid, suffix), folder / f"{aid}{suffix}"
        if dst.exists():
            continue
        try:
            os.link(src, dst)
        except OSError:
            try:
                shutil.copyfile(src, dst)
            except OSError:
                raise RequestError(
                    [("assets", f"the file of asset {aid} is gone from the server")], 404, "not_found"
                ) from None


#: The ComfyUI folder of super-resolution models (Upscale's model file), inside a models folder of the server.
UPSCALE_FOLDER = "upscale_models"


def model_file(catalog: ModelCatalog, value: str) -> str | None:
    """The server path of a model file named by its path inside one of the server's models folders (e.g.
    ``upscale_models/4x.pth``), or None when it is not one (an absolute path, ``..``, or no such file)."""
    rel = value.replace("\\", "/").strip()
    if not _REPO_PATH.fullmatch(rel) or ".." in rel.split("/"):
        return None
    for d in catalog.dirs:
        root = d.expanduser().resolve()
        f = (root / rel).resolve()
        if f.is_file() and f.is_relative_to(root):
            return str(f)
    return None


def _fps_text(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _wrong_kind(entry: CatalogEntry, param: str) -> str:
    """Why catalogue entry ``entry`` does not fit the Load Model / Load LoRA parameter ``param``."""
    want = " or ".join(_KIND_WORDS[k] for k in PARAM_KINDS[param])
    where = {"lora": "a Load LoRA node's 'lora'", "vae": "Load Model's 'vae_file'"}.get(entry.kind)
    where = where or {"text_encoder": "Load Model's 'text_encoder_file'"}.get(entry.kind, "Load Model's 'model'")
    return f"model {entry.id!r} is a {_KIND_WORDS[entry.kind]}, not a {want}; it goes in {where}"


def _resolve_model(catalog: ModelCatalog, model_id: str | None, where: str) -> CatalogEntry:
    try:
        return catalog.resolve(model_id)
    except UnknownModel as e:
        raise RequestError([(where, str(e))]) from None


# ---------------------------------------------------------------------------------------------- simple
def _size(req: SimpleGeneration, native: tuple[int, int, int]) -> tuple[int, int, list[str]]:
    nw, nh, _ = native
    r = req.ratio()
    notes: list[str] = []
    if req.width and req.height:
        if r is not None and abs(req.width / req.height - r) > 0.02 * r:
            raise RequestError(
                [
                    (
                        "aspect_ratio",
                        f"{req.aspect_ratio} contradicts width {req.width} x height "
                        f"{req.height}; give one or the other",
                    )
                ]
            )
        return req.width, req.height, notes
    if req.width or req.height:
        r = r or nw / nh
        w = req.width or max(16, round(req.height * r))
        h = req.height or max(16, round(req.width / r))
        return int(w), int(h), notes
    if r is not None:
        area = nw * nh
        w = max(16, round(math.sqrt(area * r)))
        h = max(16, round(w / r))
        notes.append(f"size {w}x{h} for aspect ratio {req.aspect_ratio} at the model's native pixel count")
        return w, h, notes
    return nw, nh, notes


def build_simple(req: SimpleGeneration, catalog: ModelCatalog, store: Any, job_id: str) -> JobSpec:
    """Turns a simple request into a job.

    Raises:
        RequestError: naming the field (unknown model or asset, a control the model family cannot honour,
            a motion bucket for a family without one, contradicting size fields, neither prompt nor image).
    """
    from vidstudio.families import Request, check_request

    entry = _resolve_model(catalog, req.model, "model")
    if entry.kind != "pipeline":
        raise RequestError(
            [
                (
                    "model",
                    f"model {entry.id!r} is a single {_KIND_WORDS[entry.kind]} file; a simple request needs a "
                    "pipeline (GET /v1/models: kind 'pipeline'), or send a project whose Load Model node names "
                    "the file and a base_model",
                )
            ]
        )
    family = entry.family
    native = NATIVE.get(family, (512, 512, 8))
    if entry.checkpoint and family in SPECS:  # the checkpoint's own rate (CogVideoX 1.5: 16 fps, not 8)
        native = (native[0], native[1], SPECS[family].fps_for(entry.checkpoint)[0])
    problems: list[tuple[str | None, str]] = []
    adjustments: list[str] = []
    fps = Fraction(req.fps).limit_denominator(1001) if req.fps else Fraction(native[2])
    if fps <= 0:
        problems.append(("fps", f"must be more than 0, got {req.fps}"))
        fps = Fraction(native[2])
    width, height, notes = _size(req, native)
    adjustments += notes
    frames = max(1, round(req.duration_seconds * float(fps)))
    if frames > 10_000:
        problems.append(
            (
                "duration_seconds",
                f"{req.duration_seconds:g} s at {_fps_text(fps)} fps is {frames} frames; at most 10000",
            )
        )
    asset = None
    if req.image_asset_id is not None:
        asset = store.get_asset(req.image_asset_id)
        if asset is None:
            problems.append(("image_asset_id", f"no uploaded asset {req.image_asset_id} (upload with POST /v1/assets)"))
        elif asset.kind != "image":
            problems.append(("image_asset_id", f"asset {asset.id} is a {asset.kind}, not an image"))
            asset = None
    if not req.prompt.strip() and req.image_asset_id is None:
        problems.append(("prompt", "give a prompt, an image, or both"))
    if req.motion_bucket_id is not None and family != "svd":
        problems.append(
            (
                "motion_bucket_id",
                f"only Stable Video Diffusion (svd) models have a motion bucket; model {entry.id!r} is {family}",
            )
        )
    controls: set[str] = set()
    if req.prompt.strip():
        controls.add("text")
    if req.negative_prompt.strip():
        controls.add("negative_prompt")
    if req.image_asset_id is not None:
        controls.add("keyframes")
    if req.motion_bucket_id is not None and family == "svd":
        controls.add("motion_strength")
    res = check_request(
        family,
        Request(
            controls=controls,
            keyframe_frames=[0] if "keyframes" in controls else [],
            width=width,
            height=height,
            frames=frames,
        ),
        variant=entry.variant,
        rule=entry.rule,
        snap=True,
    )
    for control, msg in res.problems:
        problems.append((CONTROL_FIELDS.get(control, control), msg))
    if problems:
        raise RequestError(problems)
    adjustments += res.notes
    seed = req.seed
    if seed < 0:
        seed = secrets.randbelow(2**31)
        adjustments.append(f"seed -1: chose seed {seed}")
    cond = {"prompt": req.prompt, "negative_prompt": req.negative_prompt, "seed": seed}
    if req.steps is not None:
        cond["steps"] = req.steps
    if req.guidance_scale is not None:
        cond["guidance_scale"] = float(req.guidance_scale)
    if req.motion_bucket_id is not None:
        cond["motion_strength"] = req.motion_bucket_id / 254.0
    nodes: list[dict[str, Any]] = [
        {"id": "model", "type": "LoadModel", "params": {"family": family, "model": entry.id}, "position": [0, 0]},
        {"id": "cond", "type": "Conditioning", "params": cond, "position": [0, 200]},
        {"id": "gen", "type": "Generate", "params": {"snap_to_model": True}, "position": [280, 80]},
        {"id": "export", "type": "ExportVideo", "params": {"path": "output.mp4"}, "position": [540, 80]},
    ]
    links = [
        {"from": "model.model", "to": "gen.model"},
        {"from": "cond.conditioning", "to": "gen.conditioning"},
        {"from": "gen.video", "to": "export.video"},
    ]
    assets: list[str] = []
    if asset is not None:
        nodes.append(
            {
                "id": "image",
                "type": "LoadImage",
                "params": {"path": input_path(asset.id), "alpha": False},
                "position": [-280, 200],
            }
        )
        links.append({"from": "image.image", "to": "cond.keyframes"})
        assets.append(asset.id)
    doc = {
        "format_version": 1,
        "settings": {"width": res.width, "height": res.height, "fps": _fps_text(fps), "frame_count": res.frames},
        "nodes": nodes,
        "links": links,
        "description": f"Made by the VidStudio server from a simple request: {req.prompt[:200]}",
    }
    embed = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    nodes[0]["params"]["model"] = entry.target
    work = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return JobSpec(
        id=job_id,
        kind="simple",
        output_node="export",
        project=work,
        embed=embed,
        model=entry.id,
        adjustments=adjustments,
        assets=assets,
    )


# ---------------------------------------------------------------------------------------------- project
def _json_field(where: str) -> str:
    """``$.nodes[2].id`` -> ``project.nodes[2].id``."""
    return "project" + where[1:] if where.startswith("$") else (f"project.{where}" if where else "project")


def _issue_field(issue: Any) -> str:
    if not issue.node_id:
        return "project"
    base = f"project.nodes.{issue.node_id}"
    m = re.match(r"(param|port|input) '([^']+)'", issue.where or "")
    if m:
        return f"{base}.{'params' if m.group(1) == 'param' else 'inputs'}.{m.group(2)}"
    if issue.where == "type":
        return f"{base}.type"
    return base


class NodeTypes:
    """What the server knows about node types without importing plugin code: built-in classes, and the
    descriptions the worker reported (plugins included).

    Args:
        registry: :func:`vidstudio.nodes.default_registry`-like registry (plugins registered lazily, never
            loaded here).
        worker_doc: the worker's ``nodes`` document, or None while it starts.
        crash_disabled: ``{plugin: why}`` for the plugins this server disabled after they crashed its worker
            (their node types are refused, naming the plugin and how to enable it again).
    """

    def __init__(self, registry: Any, worker_doc: dict[str, Any] | None, crash_disabled: dict[str, str] | None = None):
        self.registry = registry
        self.crash_disabled = dict(crash_disabled or {})
        self.described = {d.get("type"): d for d in (worker_doc or {}).get("nodes", []) if isinstance(d, dict)}

    def builtin(self, type_id: str) -> Any:
        """The class of a built-in type, else None (plugin types are never imported in the server)."""
        if self.registry.source(type_id) != "builtin":
            return None
        return self.registry.find(type_id)

    def describe(self, type_id: str) -> dict[str, Any] | None:
        """Ports and parameters of a type (None when not known yet)."""
        cls = self.builtin(type_id)
        if cls is not None:
            return cls.describe()
        d = self.described.get(type_id)
        return d if d and d.get("available", True) is not False and "params" in d else None

    def problem(self, type_id: str) -> str | None:
        """Why a type cannot be used, or None."""
        plugin = self.registry.source(type_id)
        if plugin in self.crash_disabled:
            return f"node type {type_id!r} is unavailable: {self.crash_disabled[plugin]}"
        reason = self.registry.unavailable_reason(type_id)
        if reason:
            return f"node type {type_id!r} is unavailable: {reason}"
        d = self.described.get(type_id)
        if d is not None and d.get("available") is False:
            return f"node type {type_id!r} is unavailable: {d.get('reason')}"
        if type_id not in self.registry and type_id not in self.described:
            return f"unknown node type {type_id!r} (GET /v1/nodes lists the node types of this server)"
        return None


def build_project(req: ProjectGeneration, catalog: ModelCatalog, store: Any, types: NodeTypes, job_id: str) -> JobSpec:
    """Turns a project request into a job.

    Raises:
        RequestError: naming the field: the document's JSON path, ``output_node``, a node's type, model or file
            parameter, an asset id, or a graph validation issue.
    """
    from vidstudio.errors import GraphError, ProjectError
    from vidstudio.graph.engine import Engine
    from vidstudio.nodes import builtin_registry
    from vidstudio.project import dumps_project, loads_project

    try:
        project = loads_project(json.dumps(req.project), source="project")
    except ProjectError as e:
        raise RequestError([(_json_field(p.where), p.message) for p in e.problems]) from None
    except (TypeError, ValueError) as e:
        raise RequestError([("project", f"not a JSON document: {e}")]) from None
    embed = json.dumps(project.to_dict(), ensure_ascii=False, separators=(",", ":"))
    out = req.output_node
    if not project.has_node(out):
        ids = ", ".join(n.id for n in project.nodes[:20]) or "none"
        raise RequestError([("output_node", f"the project has no node {out!r} (its nodes: {ids})")])
    try:
        order = Engine(types.registry).needed_nodes(project, [out])
    except GraphError as e:
        raise RequestError([("project.links", str(e))]) from None
    problems: list[tuple[str | None, str]] = []
    for nid in order:
        why = types.problem(project.node(nid).type)
        if why:
            problems.append((f"project.nodes.{nid}.type", why))
    if problems:
        raise RequestError(problems)
    out_type = project.node(out).type
    out_desc = types.describe(out_type)
    if (
        out_type != "ExportVideo"
        and out_desc is not None
        and not any(o.get("type") == "VIDEO" for o in out_desc.get("outputs", []))
    ):
        problems.append(
            (
                "output_node",
                f"node {out!r} ({out_type}) gives no VIDEO; choose an Export Video node or a node with a VIDEO output",
            )
        )
    work = project.model_copy(deep=True)
    used_assets: list[str] = []
    for nid in order:
        inst = work.node(nid)
        if inst.type == "LoadLoRA":
            # Like Load Model's extras: a server model id or a Hugging Face repo id, never a path on the server.
            v = str(inst.params.get("lora", "") or "").strip()
            known = next((e for e in catalog.entries() if e.id == v), None) if v else None
            if known is not None and known.kind != "lora":
                problems.append(
                    (
                        f"project.nodes.{nid}.params.lora",
                        f"model {v!r} is a {_KIND_WORDS[known.kind]}, not a LoRA (GET /v1/models: kind 'lora')",
                    )
                )
            elif known is not None:
                inst.params["lora"] = known.target
            elif v and (not _REPO_PATH.fullmatch(v) or ".." in v):
                problems.append(
                    (
                        f"project.nodes.{nid}.params.lora",
                        f"{v!r} looks like a path; the server loads only its own models (GET /v1/models) and "
                        "Hugging Face repo ids (with weight_name)",
                    )
                )
            weight = str(inst.params.get("weight_name", "") or "")
            if ".." in weight.replace("\\", "/").split("/") or weight.startswith(("/", "\\")):
                problems.append(
                    (
                        f"project.nodes.{nid}.params.weight_name",
                        f"{weight!r}: a file inside the repo or model folder, without '..' or a leading slash",
                    )
                )
        if inst.type == "LoadModel":
            where = "model" if req.model else f"project.nodes.{nid}.params.model"
            value = req.model or str(inst.params.get("model", "") or "").strip()
            try:
                entry = catalog.resolve(value or None)
            except UnknownModel as e:
                problems.append((where, str(e)))
                continue
            if entry.kind not in PARAM_KINDS["model"]:
                problems.append((where, _wrong_kind(entry, "model")))
                continue
            if entry.kind == "checkpoint" and not str(inst.params.get("base_model", "") or "").strip():
                problems.append(
                    (
                        f"project.nodes.{nid}.params.base_model",
                        f"model {entry.id!r} is a single transformer/UNet file; set base_model to a "
                        f"{entry.family or 'matching'} pipeline (GET /v1/models: kind 'pipeline') for the VAE, "
                        "text encoder and scheduler",
                    )
                )
            # The request's model overrides the project's model and its family (like `render --model`): the
            # family is then read from the model, so only the project's own model is checked against it.
            fam = "auto" if req.model else str(inst.params.get("family", "auto") or "auto")
            if entry.family and fam not in ("auto", entry.family):
                problems.append(
                    (
                        f"project.nodes.{nid}.params.family",
                        f"is {fam} but model {entry.id!r} is a {entry.family} model; set it to {entry.family} or auto",
                    )
                )
            inst.params["model"] = entry.target
            if req.model:
                inst.params["family"] = "auto"
            for extra in MODEL_EXTRAS:
                v = str(inst.params.get(extra, "") or "").strip()
                if not v:
                    continue
                known = next((e for e in catalog.entries() if e.id == v), None)
                if known is not None and extra in PARAM_KINDS and known.kind not in PARAM_KINDS[extra]:
                    problems.append((f"project.nodes.{nid}.params.{extra}", _wrong_kind(known, extra)))
                elif known is not None:
                    inst.params[extra] = known.target
                elif not _REPO_PATH.fullmatch(v) or ".." in v:
                    problems.append(
                        (
                            f"project.nodes.{nid}.params.{extra}",
                            f"{v!r} looks like a path; the server loads only its own models (GET "
                            "/v1/models) and Hugging Face repo ids",
                        )
                    )
        desc = types.describe(inst.type)
        if desc is None:
            continue  # a plugin type the worker has not described yet: the worker checks its files
        for p in desc.get("params", []):
            if p.get("kind") != "file" or str(p.get("file_role", "any")).startswith("save"):
                continue
            v = inst.params.get(p["name"], p.get("default"))
            if not isinstance(v, str) or not v:
                continue
            where = f"project.nodes.{nid}.params.{p['name']}"
            role = str(p.get("file_role", "any"))
            if role == "model":  # model files are never uploaded: a file in the server's models folders
                found = model_file(catalog, v)
                if found is None:
                    problems.append(
                        (
                            where,
                            f"{v!r}: model files are not uploaded; put the file in a models folder of the server "
                            f"(e.g. {UPSCALE_FOLDER}/) and name it by its path there ('{UPSCALE_FOLDER}/NAME.pth')",
                        )
                    )
                else:
                    inst.params[p["name"]] = found
                continue
            aid = req.assets.get(v)
            if aid is None:
                problems.append(
                    (
                        where,
                        f"{v!r} is a file on the client; upload it (POST /v1/assets) and map it in "
                        "the request's 'assets'",
                    )
                )
                continue
            row = store.get_asset(aid)
            if row is None:
                problems.append((f"assets.{v}", f"no uploaded asset {aid}"))
                continue
            kind = getattr(row, "kind", "image")
            if role in ("image", "video", "audio") and kind != role:
                problems.append((where, f"{v!r} was uploaded as a {kind} (asset {aid}); this parameter reads a {role}"))
                continue
            inst.params[p["name"]] = input_path(aid, getattr(row, "suffix", ".png"))
            if aid not in used_assets:
                used_assets.append(aid)
    if problems:
        raise RequestError(problems)
    if all(types.builtin(work.node(nid).type) is not None for nid in order):
        errors = Engine(builtin_registry()).plan(work, work.settings, [out]).errors
        if errors:
            raise RequestError([(_issue_field(i), str(i)) for i in errors])
    return JobSpec(
        id=job_id,
        kind="project",
        output_node=out,
        project=dumps_project(work, indent=None),
        embed=embed,
        model=req.model,
        assets=used_assets,
    )
