"""From the model paths a project holds to the model ids the local generation server knows them by.

The Inspector's model fields (:class:`vidstudio.ui.widgets.param_editors.ModelPathEditor`) keep what the user
picked or typed: a path (what ``vidstudio render`` on this computer loads), a Hugging Face repo id, or a server
model id. A generation server loads only its own models, named by id (``GET /v1/models``): a pipeline folder
directly inside one of its model folders by the folder's name, a single file by its path relative to the model
folder (``loras/fox.safetensors``, as :func:`vidstudio.backend.checkpoint_files.checkpoint_files_in` finds it).
The local server's model folders are those of Preferences, so Generate sends each path inside them as that id
(:func:`to_server_ids`), and says, before anything is sent, which path the server cannot see and what to do
(:func:`server_ref`). No Qt, no torch: the folders' listings only.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MODEL_PARAMS", "ServerRef", "folder_to_add", "server_ref", "to_server_ids"]

#: The parameters that name a model, per node type (the server checks the same ones).
MODEL_PARAMS: dict[str, tuple[str, ...]] = {
    "LoadModel": (
        "model",
        "base_model",
        "vae_file",
        "text_encoder_file",
        "sparsectrl",
        "ip_adapter",
        "motion_adapter",
        "preview_decoder",
    ),
    "LoadLoRA": ("lora",),
}
#: A folder name the server takes as a pipeline id (as :mod:`vidstudio.server.models` does).
_LOCAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class ServerRef:
    """What the local server calls a model parameter's value.

    Attributes:
        value: the parameter's value as the project holds it.
        id: the server's model id when the value is a path inside one of the model folders (send this); None
            when the value is not a path on this computer (a repo id or a model id: sent as it is) or when
            the server cannot see it (``problem`` says why).
        path: the file or folder the value names on this computer, or None when it names none.
        problem: why the server cannot load the path, with what to do (Preferences > Model folders), or None.
    """

    value: str
    id: str | None = None
    path: Path | None = None
    problem: str | None = None


def _local_path(value: str, project_dir: Path | None) -> Path | None:
    """The existing file or folder ``value`` names (relative: from ``project_dir``), or None."""
    p = Path(value).expanduser()
    if not p.is_absolute():
        if project_dir is None:
            return None
        p = Path(project_dir) / p
    return p if p.exists() else None


def _ids_in(folder: Path) -> dict[Path, str]:
    """``{resolved path: id}`` of what the server lists in one model folder: its pipeline folders (direct
    children with ``model_index.json``) and its single files (as
    :func:`vidstudio.backend.checkpoint_files.checkpoint_files_in` finds them)."""
    from vidstudio.nodes.generate import LoadModel

    out: dict[Path, str] = {}
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return out
    for child in children:
        if _LOCAL_ID.fullmatch(child.name) and (child / "model_index.json").is_file():
            out.setdefault(child.resolve(), child.name)
    for f in LoadModel.model_files([folder]):
        path = Path(str(f["path"]))
        out.setdefault(path.resolve(), path.relative_to(folder).as_posix())
    return out


def folder_to_add(path: Path) -> Path:
    """The folder to add to Preferences > Model folders so that the server lists ``path``: a pipeline folder's
    parent; a file's folder, or the folder above it when that is a ComfyUI subfolder (``loras``, ``vae``...),
    so that the file keeps the kind its folder gives it."""
    from vidstudio.nodes.generate import LoadModel

    parent = path.parent
    if path.is_file() and parent.name.lower() in LoadModel.folder_kinds():
        return parent.parent
    return parent


def server_ref(value: Any, project_dir: Path | None, models_dirs: Sequence[str | Path]) -> ServerRef:
    """What the local server (model folders ``models_dirs``) calls a model parameter's ``value``.

    Args:
        value: the parameter's value (a path, absolute or relative to ``project_dir``; a repo id; a model id).
        project_dir: the project's folder (None: an unsaved project, relative values are ids).
        models_dirs: the model folders of Preferences, in order (the first that lists a file names it).

    Returns:
        a :class:`ServerRef`; never raises (an unreadable folder lists nothing).
    """
    text = str(value or "").strip()
    if not text:
        return ServerRef(text)
    path = _local_path(text, project_dir)
    if path is None:
        return ServerRef(text)
    real = path.resolve()
    for d in models_dirs:
        folder = Path(d).expanduser()
        if not folder.is_dir():
            continue
        rid = _ids_in(folder).get(real)
        if rid is not None:
            return ServerRef(text, rid, path)
    for d in models_dirs:
        folder = Path(d).expanduser()
        try:
            inside = real.is_relative_to(folder.resolve())
        except OSError:
            inside = False
        if inside:
            what = (
                "a pipeline folder is listed only directly inside a model folder"
                if path.is_dir()
                else "a file is listed only directly in a model folder or under its ComfyUI subfolders "
                "(diffusion_models, loras, vae, text_encoders...)"
            )
            return ServerRef(
                text,
                None,
                path,
                f"{path} is inside model folder {folder} but the local server does not list it: {what}; move it, "
                f"or add {folder_to_add(path)} in Preferences > Model folders",
            )
    return ServerRef(
        text,
        None,
        path,
        f"{path} is not in a model folder: the local server loads only the models of Preferences > Model "
        f"folders; add {folder_to_add(path)} there",
    )


def to_server_ids(
    project: Any, models_dirs: Sequence[str | Path], needed: Collection[str] | None = None
) -> list[tuple[str, str, str]]:
    """Rewrites, in ``project`` (a :class:`vidstudio.project.Project`, a copy to send), each model parameter
    (:data:`MODEL_PARAMS`) that names a path inside the model folders as the local server's id for it.

    Args:
        needed: the ids of the nodes the request runs (None: all); only their problems are returned.

    Returns:
        ``(node_id, param, problem)`` for each path the server cannot see (left as it is); empty when all is
        well.
    """
    problems: list[tuple[str, str, str]] = []
    project_dir = getattr(project, "project_dir", None)
    for node in project.nodes:
        for name in MODEL_PARAMS.get(node.type, ()):
            if name not in node.params:
                continue
            ref = server_ref(node.params[name], project_dir, models_dirs)
            if ref.id is not None:
                node.params[name] = ref.id
            elif ref.problem is not None and (needed is None or node.id in needed):
                problems.append((node.id, name, ref.problem))
    return problems
