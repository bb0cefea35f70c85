"""Reading and writing project documents.

Loading never raises anything but :class:`~vidstudio.errors.ProjectError` for a bad file (missing, empty,
binary, truncated, invalid JSON, wrong structure, future version), and every problem names the JSON path.
Saving is atomic, as Blender and Krita do it: the document goes to a temporary file in the target folder,
which is flushed and fsynced and then renamed over the target; the previous file is kept as
``NAME.vidproj.bak``. If anything fails before the rename the target is untouched; if the rename itself fails
the temporary file is kept and the error says where.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from vidstudio.errors import Problem, ProjectError
from vidstudio.project.document import Project
from vidstudio.project.migrations import migrate

if TYPE_CHECKING:  # pragma: no cover
    from vidstudio.graph.registry import NodeRegistry

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v")
#: Largest project document accepted, in bytes (a file, a request body, or the project embedded in an MP4).
MAX_PROJECT_BYTES = 32 * 1024 * 1024
#: Deepest JSON nesting accepted in a project (a real project nests about 8 deep; pydantic cannot serialise
#: beyond about 250, and the JSON parser overflows the stack near 1,000).
MAX_JSON_DEPTH = 64
#: Top-level key of an embedded project that records the folder of the project it was rendered from.
ORIGIN_KEY = "embedded_from"


_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(loc: tuple[Any, ...]) -> str:
    """Formats a pydantic error location as a JSON path: ``('nodes', 2, 'id')`` gives ``$.nodes[2].id``.

    A key that is not a plain name (an animation key ``"cam.zoom"``) is written in brackets, so that the path
    stays unambiguous: ``('animation', 'cam.zoom', 'keys')`` gives ``$.animation["cam.zoom"].keys``.
    """
    out = "$"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME_RE.fullmatch(str(part)):
            out += f".{part}"
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out


def _problems_from_validation(e: ValidationError) -> list[Problem]:
    problems = []
    for err in e.errors(include_url=False):
        msg = err.get("msg", "invalid")
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix) :]
        if err.get("type") not in ("missing", "value_error") and "input" in err:
            shown = repr(err["input"])
            if len(shown) <= 60:
                msg += f" (got {shown})"
        problems.append(Problem(json_path(tuple(err.get("loc", ()))), msg))
    return problems


def json_depth_problem(data: Any, limit: int = MAX_JSON_DEPTH) -> Problem | None:
    """Checks the nesting depth of parsed JSON without recursion (so any depth can be checked).

    ``data`` may also hold pydantic models (a :class:`Project` itself): their fields and extra keys count as
    an object's keys, so a document built in code is measured as it would be written.

    Returns:
        ``None`` when no list or object is nested more than ``limit`` deep, else a :class:`Problem` at the JSON
        path of the first container past the limit.
    """
    from pydantic import BaseModel

    containers = (dict, list, tuple, BaseModel)
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(data, 1, ())]
    while stack:
        value, depth, loc = stack.pop()
        if isinstance(value, BaseModel):
            items = list(vars(value).items()) + list((value.model_extra or {}).items())
        elif isinstance(value, dict):
            items = value.items()
        elif isinstance(value, (list, tuple)):
            items = enumerate(value)
        else:
            continue
        if depth > limit:
            shown = json_path(loc[:6]) + ("..." if len(loc) > 6 else "")
            return Problem(shown, f"nested more than {limit} levels deep (the limit of a project)")
        stack.extend((v, depth + 1, loc + (k,)) for k, v in items if isinstance(v, containers))
    return None


def _size_problem(size: int) -> Problem:
    return Problem(
        "$",
        f"the document is {size / 1e6:.1f} MB, more than the {MAX_PROJECT_BYTES / 1e6:.0f} MB "
        "a project may have (large data belongs in asset files next to it)",
    )


def loads_project(text: str | bytes, source: str = "<string>") -> Project:
    """Parses, upgrades and validates a project document.

    Args:
        text: the JSON (bytes are decoded as UTF-8).
        source: the file name used in messages.

    Returns:
        the :class:`Project` (not bound to a file).

    Raises:
        ProjectError: naming ``source`` and the JSON path of every problem; also for a document over
            :data:`MAX_PROJECT_BYTES` or nested more than :data:`MAX_JSON_DEPTH` deep.
    """
    if len(text) > MAX_PROJECT_BYTES:
        raise ProjectError(source, _size_problem(len(text)))
    if isinstance(text, (bytes, bytearray)):
        if b"\x00" in text[:8192]:
            raise ProjectError(source, "not a text file (it looks binary); a project is a JSON .vidproj file")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ProjectError(source, f"not UTF-8 text (byte {e.start}); a project is a JSON .vidproj file") from None
    if not text.strip():
        raise ProjectError(source, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        truncated = e.msg.startswith("Unterminated") or e.pos >= len(text.rstrip()) - 1
        hint = " (the file looks truncated)" if truncated else ""
        raise ProjectError(
            source, Problem("$", f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}{hint}")
        ) from None
    except RecursionError:
        raise ProjectError(
            source, Problem("$", f"nested more than {MAX_JSON_DEPTH} levels deep (the limit of a project)")
        ) from None
    if not isinstance(data, dict):
        raise ProjectError(source, Problem("$", f"expected a JSON object, found {type(data).__name__}"))
    deep = json_depth_problem(data)
    if deep is not None:
        raise ProjectError(source, deep)
    data = migrate(data, source)
    try:
        return Project.model_validate(data)
    except ValidationError as e:
        raise ProjectError(source, _problems_from_validation(e)) from None
    except (RecursionError, TypeError, ValueError, OverflowError) as e:
        raise ProjectError(source, Problem("$", f"invalid document: {e}")) from None


def load_project(path: str | os.PathLike) -> Project:
    """Loads a ``.vidproj`` file, or the project embedded in an MP4 that VidStudio rendered.

    Returns:
        the project, bound to ``path`` (for an MP4: not bound to a file, so that saving asks for a name,
        with relative paths resolving against the folder of the project it was rendered from when that
        folder still exists, else the MP4's folder).

    Raises:
        ProjectError: for a missing, unreadable or invalid file (see :func:`loads_project`), or an MP4 without
            an embedded project.
    """
    from vidstudio.fsutil import regular_file_problem

    p = Path(path)
    src = str(p)
    why = regular_file_problem(p)
    if why is not None:
        raise ProjectError(src, why.replace("not a file", "not a project file"))
    if p.suffix.lower() in VIDEO_SUFFIXES:
        from vidstudio.errors import MediaError
        from vidstudio.media.video import read_embedded_project

        try:
            text = read_embedded_project(p)
        except MediaError as e:
            raise ProjectError(src, str(e)) from None
        if text is None:
            raise ProjectError(src, "this video holds no VidStudio project (it was not rendered by VidStudio)")
        project = loads_project(text, src)
        origin = project.model_extra.get(ORIGIN_KEY) if project.model_extra else None
        base = Path(origin) if isinstance(origin, str) and Path(origin).is_dir() else p.parent
        if project.model_extra and ORIGIN_KEY in project.model_extra:
            del project.model_extra[ORIGIN_KEY]
        return project.bind(None, base)
    try:
        with open(p, "rb") as f:
            raw = f.read(MAX_PROJECT_BYTES + 1)
    except OSError as e:
        raise ProjectError(src, f"cannot read the file ({e.strerror or e})") from None
    if len(raw) > MAX_PROJECT_BYTES:
        raise ProjectError(src, _size_problem(p.stat().st_size))
    return loads_project(raw, src).bind(p)


def check_savable(project: Project, source: str = "<unsaved project>") -> dict[str, Any]:
    """Returns the project as JSON data, checked against the limits :func:`loads_project` applies, so that
    nothing is saved (or rendered, or sent) that could not be opened again.

    Raises:
        ProjectError: for nesting deeper than :data:`MAX_JSON_DEPTH` (with its JSON path) or a value that
            cannot be written as JSON.
    """
    deep = json_depth_problem(project)
    if deep is not None:
        raise ProjectError(source, deep)
    try:
        return project.to_dict()
    except (ValueError, TypeError, RecursionError) as e:
        raise ProjectError(source, Problem("$", f"cannot be written as JSON ({e})")) from None


def dumps_project(project: Project, *, indent: int | None = 2) -> str:
    """Serialises a project to JSON text (``format_version`` first, unknown keys kept, trailing newline).

    Raises:
        ProjectError: for a document :func:`loads_project` would refuse (see :func:`check_savable`).
    """
    data = check_savable(project, str(project.path) if project.path else "<unsaved project>")
    try:
        return json.dumps(data, indent=indent, ensure_ascii=False) + ("\n" if indent else "")
    except (ValueError, TypeError, RecursionError) as e:
        raise ProjectError(str(project.path or "<unsaved project>"), f"cannot be written as JSON ({e})") from None


def embeddable_json(project: Project) -> str:
    """The compact JSON to embed in a rendered video: the document plus the folder its paths are relative to."""
    data = check_savable(project)
    if project.project_dir is not None:
        data[ORIGIN_KEY] = str(project.project_dir)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(target: Path, text: str, *, backup: bool = False) -> Path:
    """Writes ``text`` to ``target`` atomically (temp file in the same folder, fsync, rename).

    Args:
        backup: keep the previous ``target`` as ``target.bak`` (replaced atomically as well).

    Returns:
        ``target``.

    Raises:
        OSError: when writing fails (the target is untouched), or the final rename fails (the temporary file
            is kept and its name is in the message).
    """
    from vidstudio.fsutil import clean_strays, match_mode, temp_prefix

    target.parent.mkdir(parents=True, exist_ok=True)
    clean_strays(target.parent, target.name)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".saving", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        match_mode(tmp, target)
        if backup and target.exists():
            bak = target.with_name(target.name + ".bak")
            fd2, tmp_bak = tempfile.mkstemp(prefix=temp_prefix(bak.name), suffix=".saving", dir=target.parent)
            os.close(fd2)
            try:
                shutil.copy2(target, tmp_bak)
                os.replace(tmp_bak, bak)
            except OSError:
                Path(tmp_bak).unlink(missing_ok=True)
                raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        os.replace(tmp, target)
    except OSError as e:
        raise OSError(e.errno, f"{e.strerror}; the new version is kept in {tmp}") from None
    _fsync_dir(target.parent)
    return target


def save_project(
    project: Project,
    path: str | os.PathLike | None = None,
    *,
    backup: bool = True,
    registry: NodeRegistry | None = None,
) -> Path:
    """Saves a project atomically and binds it to the file.

    Args:
        project: the document.
        path: where to save (default: the file it was loaded from). Saving into another folder rewrites the
            relative paths of assets (and, when ``registry`` is given, of ``file`` parameters) so that they
            still point at the same files.
        backup: keep the previous file as ``NAME.vidproj.bak``.
        registry: node types, to know which parameters are file paths.

    Returns:
        the absolute path written.

    Raises:
        ProjectError: when there is no path or the file cannot be written (the previous file is intact).
    """
    if path is None and project.path is None:
        raise ProjectError("<unsaved project>", "no file name given; use Save As")
    target = Path(path) if path is not None else project.path
    assert target is not None
    target = target.expanduser().resolve()
    old_dir = project.project_dir
    doc = project
    if old_dir is not None and old_dir != target.parent:
        doc = rebase_paths(project, old_dir, target.parent, registry)
    try:
        atomic_write_text(target, dumps_project(doc), backup=backup)
    except OSError as e:
        raise ProjectError(str(target), f"cannot save ({e.strerror or e})") from None
    if doc is not project:
        project.assets = doc.assets
        project.nodes = doc.nodes
    project.bind(target)
    return target


def rebase_paths(project: Project, old_dir: Path, new_dir: Path, registry: NodeRegistry | None) -> Project:
    """Returns a copy whose relative asset paths (and ``file`` parameters, given a registry) are relative to
    ``new_dir`` instead of ``old_dir``; absolute paths are left alone."""
    doc = project.copy_document()

    def move(p: str) -> str:
        if not p or Path(p).expanduser().is_absolute():
            return p
        absolute = (old_dir / p).resolve()
        try:
            return os.path.relpath(absolute, new_dir)
        except ValueError:  # another drive on Windows
            return str(absolute)

    for a in doc.assets:
        a.path = move(a.path)
    if registry is not None:
        for n in doc.nodes:
            cls = registry.find(n.type)
            if cls is None:
                continue
            for p in cls.params:
                if p.kind == "file" and isinstance(n.params.get(p.name), str):
                    n.params[p.name] = move(n.params[p.name])
    return doc
