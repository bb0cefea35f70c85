"""Edits of the motion documents that the Viewer and the Inspector draw and change, free of Qt.

Two JSON documents are edited by hand in the GUI:

* a Trajectory node's ``paths`` parameter, a trajectory document (:mod:`vidstudio.motion.trajectory`):
  paths of control points in world pixels, each with its colour, frames, interpolation and timing;
* a Physics Scene node's ``bodies`` parameter, a list of bodies (:class:`vidstudio.motion.physics.Body`).

Every function here takes the document as stored in the project (plain JSON data: dicts, lists, numbers) and
returns a *new* document (the argument is never changed), so that the caller can hand it to
:meth:`vidstudio.project.editor.DocumentEditor.set_param` as one undoable edit. Keys this module does not know are kept.
Positions are world pixels (the output frame at rest camera, origin top-left, y down); offsets of Bezier
handles are pixels relative to their point; frames are clip frames.

Functions raise ``KeyError`` for an unknown path or body id (naming it and the ids there are) and
``IndexError`` for a control point that does not exist.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from vidstudio import ids
from vidstudio.motion.trajectory import CompiledPath, MotionPath, compile_path, path_handles

#: Overlay colours given to new paths and bodies in turn ([r, g, b] in 0..1): distinct on photographs and
#: for the common colour-vision deficiencies (orange, sky blue, yellow-green, pink, violet, yellow, teal, red).
PATH_COLORS: tuple[tuple[float, float, float], ...] = (
    (1.0, 0.55, 0.1),
    (0.3, 0.72, 1.0),
    (0.6, 0.9, 0.25),
    (1.0, 0.42, 0.7),
    (0.72, 0.55, 1.0),
    (1.0, 0.86, 0.2),
    (0.25, 0.88, 0.78),
    (0.95, 0.3, 0.28),
)
EMPTY_DOCUMENT: dict[str, Any] = {"version": 1, "paths": [], "anchors": []}
#: The colours a path and a body have when their document does not say (the schemas' defaults).
DEFAULT_PATH_COLOR = (1.0, 0.55, 0.1)
DEFAULT_BODY_COLOR = (0.9, 0.3, 0.2)


# ------------------------------------------------------------------------------------------------ documents
def as_document(value: Any) -> dict[str, Any]:
    """A trajectory document as plain JSON data, deep-copied: a dict passes through (copied), a pydantic model
    is dumped, None gives an empty document. Missing ``paths`` / ``anchors`` lists are added."""
    if value is None:
        doc: dict[str, Any] = copy.deepcopy(EMPTY_DOCUMENT)
    elif hasattr(value, "model_dump"):
        doc = value.model_dump(mode="json")
    else:
        doc = copy.deepcopy(dict(value))
    doc.setdefault("version", 1)
    doc.setdefault("paths", [])
    doc.setdefault("anchors", [])
    return doc


def path_index(doc: dict[str, Any], path_id: str) -> int:
    """The index of path ``path_id`` in ``doc["paths"]``.

    Raises:
        KeyError: naming the id and the ids there are.
    """
    for i, p in enumerate(doc.get("paths", [])):
        if p.get("id") == path_id:
            return i
    ids = ", ".join(str(p.get("id")) for p in doc.get("paths", [])) or "none"
    raise KeyError(f"no path with id {path_id!r} (paths: {ids})")


def _taken_ids(doc: dict[str, Any]) -> set[str]:
    return {str(p.get("id")) for p in doc.get("paths", [])} | {str(a.get("id")) for a in doc.get("anchors", [])}


def unused_id(base: str, taken: Iterable[str]) -> str:
    """An id from ``base`` (made valid: letters, digits, ``_``, ``-``; not starting with a digit) that is not
    in ``taken``: ``base``, ``base_2``, ``base_3``..."""
    return ids.unique_id(base, taken, fallback="path", prefix="p_")


def next_color(used: Iterable[Any]) -> list[float]:
    """The first colour of :data:`PATH_COLORS` not in ``used`` (colours as ``[r, g, b]``), cycling when every
    one is taken."""
    taken = [tuple(round(float(c), 3) for c in u) for u in used if u is not None]
    for c in PATH_COLORS:
        if tuple(round(x, 3) for x in c) not in taken:
            return list(c)
    return list(PATH_COLORS[len(taken) % len(PATH_COLORS)])


def add_path(
    doc: Any,
    x: float,
    y: float,
    *,
    start_frame: float = 0.0,
    end_frame: float | None = None,
    name: str | None = None,
    **fields: Any,
) -> tuple[dict[str, Any], str]:
    """Adds a path whose first control point is ``(x, y)``.

    Args:
        doc: the trajectory document.
        x, y: the first point, world px.
        start_frame, end_frame: the motion's frames (``None``: the clip's last frame).
        name: the object's name (default: the new id, ``path``, ``path_2``...).
        fields: more path fields (``interpolation``, ``timing``, ``easing``, ``size``...).

    Returns:
        ``(document, new path id)``; the new path gets the next free colour.
    """
    d = as_document(doc)
    pid = unused_id(name or "path", _taken_ids(d) | {str(p.get("name")) for p in d["paths"] if p.get("name")})
    path = {
        "id": pid,
        "name": name or pid,
        "color": next_color(p.get("color", DEFAULT_PATH_COLOR) for p in d["paths"]),
        "start_frame": float(start_frame),
        "end_frame": None if end_frame is None else float(end_frame),
        "interpolation": "catmull_rom",
        "timing": "constant_speed",
        "points": [{"x": float(x), "y": float(y)}],
    }
    path.update(fields)
    d["paths"].append(path)
    return d, pid


def delete_path(doc: Any, path_id: str) -> dict[str, Any]:
    """Removes path ``path_id``."""
    d = as_document(doc)
    del d["paths"][path_index(d, path_id)]
    return d


def duplicate_path(doc: Any, path_id: str, offset: tuple[float, float] = (24.0, 24.0)) -> tuple[dict[str, Any], str]:
    """Copies path ``path_id`` (moved by ``offset`` px, with the next free colour and a new id and name),
    inserted after it. Returns ``(document, new id)``."""
    d = as_document(doc)
    i = path_index(d, path_id)
    src = copy.deepcopy(d["paths"][i])
    taken = _taken_ids(d) | {str(p.get("name")) for p in d["paths"] if p.get("name")}
    new_id = unused_id(re.sub(r"_\d+$", "", str(src["id"])), taken)
    src["id"] = new_id
    src["name"] = new_id
    src["color"] = next_color(p.get("color", DEFAULT_PATH_COLOR) for p in d["paths"])
    for pt in src.get("points", []):
        pt["x"] = float(pt["x"]) + offset[0]
        pt["y"] = float(pt["y"]) + offset[1]
    d["paths"].insert(i + 1, src)
    return d, new_id


def update_path(doc: Any, path_id: str, **fields: Any) -> dict[str, Any]:
    """Sets fields of path ``path_id`` (``name``, ``color``, ``start_frame``, ``end_frame``, ``interpolation``,
    ``timing``, ``easing``, ``rotation``, ``scale``, ``size``, ``outside``...) as given (JSON data)."""
    d = as_document(doc)
    d["paths"][path_index(d, path_id)].update(copy.deepcopy(fields))
    return d


def _points(d: dict[str, Any], path_id: str) -> list[dict[str, Any]]:
    return d["paths"][path_index(d, path_id)]["points"]


def _check_point(points: list, i: int, path_id: str) -> None:
    if not 0 <= i < len(points):
        raise IndexError(f"path {path_id!r} has no control point {i} (it has {len(points)})")


def append_point(doc: Any, path_id: str, x: float, y: float) -> tuple[dict[str, Any], int]:
    """Adds control point ``(x, y)`` at the end of path ``path_id``. Returns ``(document, its index)``."""
    d = as_document(doc)
    pts = _points(d, path_id)
    pts.append({"x": float(x), "y": float(y)})
    return d, len(pts) - 1


def insert_point(doc: Any, path_id: str, index: int, x: float, y: float) -> dict[str, Any]:
    """Inserts control point ``(x, y)`` before point ``index`` of path ``path_id`` (``index == n``: at the
    end)."""
    d = as_document(doc)
    pts = _points(d, path_id)
    if not 0 <= index <= len(pts):
        raise IndexError(f"path {path_id!r}: cannot insert at {index} (it has {len(pts)} points)")
    pts.insert(index, {"x": float(x), "y": float(y)})
    return d


def move_point(doc: Any, path_id: str, index: int, x: float, y: float) -> dict[str, Any]:
    """Moves control point ``index`` of path ``path_id`` to ``(x, y)`` (its handles move with it)."""
    d = as_document(doc)
    pts = _points(d, path_id)
    _check_point(pts, index, path_id)
    pts[index]["x"], pts[index]["y"] = float(x), float(y)
    return d


def delete_point(doc: Any, path_id: str, index: int) -> tuple[dict[str, Any], bool]:
    """Deletes control point ``index`` of path ``path_id``; deleting a path's only point deletes the path.

    Returns:
        ``(document, path_removed)``.
    """
    d = as_document(doc)
    pts = _points(d, path_id)
    _check_point(pts, index, path_id)
    if len(pts) == 1:
        return delete_path(d, path_id), True
    del pts[index]
    return d, False


def set_point_frame(doc: Any, path_id: str, index: int, frame: float | None) -> dict[str, Any]:
    """Sets (or, with None, clears) the time key of control point ``index`` (used by timing ``keys``)."""
    d = as_document(doc)
    pts = _points(d, path_id)
    _check_point(pts, index, path_id)
    if frame is None:
        pts[index].pop("frame", None)
    else:
        pts[index]["frame"] = float(frame)
    return d


def set_handle(
    doc: Any, path_id: str, index: int, which: str, dx: float, dy: float, *, mirror: bool = True
) -> tuple[dict[str, Any], bool]:
    """Sets a Bezier handle of control point ``index``: ``which`` is ``"in"`` or ``"out"``, ``(dx, dy)`` the
    handle's offset from its point in px.

    A path that is not ``bezier`` yet becomes one first, with every point's handles fixed at the handles its
    curve had (:func:`vidstudio.motion.trajectory.path_handles`), so the shape changes only where the user
    drags. With ``mirror`` the opposite handle turns to stay collinear (a smooth point), keeping its length.

    Returns:
        ``(document, converted)``: converted is True when the path was turned into a Bezier path.

    Raises:
        ValueError: for ``which`` other than ``"in"`` / ``"out"``.
    """
    if which not in ("in", "out"):
        raise ValueError(f"handle must be 'in' or 'out', got {which!r}")
    d = as_document(doc)
    i = path_index(d, path_id)
    path = d["paths"][i]
    pts = path["points"]
    _check_point(pts, index, path_id)
    converted = False
    if path.get("interpolation", "catmull_rom") != "bezier":
        converted = True
        model = MotionPath.model_validate(path)
        hin, hout = path_handles(model)
        for k, p in enumerate(pts):
            for key, h in (("handle_in", hin[k]), ("handle_out", hout[k])):
                if np.all(np.isfinite(h)):
                    p[key] = [round(float(h[0]) - float(p["x"]), 4), round(float(h[1]) - float(p["y"]), 4)]
        path["interpolation"] = "bezier"
    p = pts[index]
    key, other = ("handle_out", "handle_in") if which == "out" else ("handle_in", "handle_out")
    p[key] = [float(dx), float(dy)]
    if mirror:
        length = float(np.hypot(dx, dy))
        old = p.get(other)
        keep = float(np.hypot(*old)) if old is not None else length
        if length > 1e-9:
            p[other] = [-float(dx) / length * keep, -float(dy) / length * keep]
    return d, converted


def reset_handles(doc: Any, path_id: str, index: int) -> dict[str, Any]:
    """Makes point ``index``'s Bezier handles automatic again (smooth, from its neighbours)."""
    d = as_document(doc)
    pts = _points(d, path_id)
    _check_point(pts, index, path_id)
    pts[index].pop("handle_in", None)
    pts[index].pop("handle_out", None)
    return d


# ------------------------------------------------------------------------------------------------ geometry
def nearest_on_path(
    compiled: CompiledPath, x: float, y: float, samples_per_segment: int = 48
) -> tuple[int, float, np.ndarray]:
    """Where a click at ``(x, y)`` meets a path's curve, for inserting a control point there.

    Args:
        compiled: the path's :func:`~vidstudio.motion.trajectory.compile_path`.
        x, y: the click in world px.

    Returns:
        ``(index, distance, point)``: the index the new control point takes (between the two control points
        around the nearest spot of the curve), the distance in world px from the click to the curve, and the
        nearest point on the curve ``(2,)`` world px.
    """
    chain = compiled.chain
    S = chain.segment_count
    u = np.linspace(0.0, S, S * samples_per_segment + 1)
    pts = chain.point(u)
    dist = np.hypot(pts[:, 0] - x, pts[:, 1] - y)
    k = int(np.argmin(dist))
    # refine between the neighbouring samples (the distance is unimodal there): golden-section search
    lo, hi = u[max(k - 1, 0)], u[min(k + 1, len(u) - 1)]
    g = (np.sqrt(5.0) - 1.0) / 2.0

    def d(v: float) -> float:
        q = chain.point(np.array([v]))[0]
        return float(np.hypot(q[0] - x, q[1] - y))

    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = d(a), d(b)
    for _ in range(40):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = d(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = d(b)
    best = (a + b) / 2.0
    if d(best) > dist[k]:
        best = u[k]
    point = chain.point(np.array([best]))[0]
    index = int(np.searchsorted(compiled.point_u, best, side="right"))
    n = len(compiled.path.points)
    return int(np.clip(index, 1, max(n - 1, 1))) if n > 1 else 1, d(best), point


def compile_all(doc: Any) -> dict[str, CompiledPath]:
    """``{path id: compiled path}`` for every path of a document that validates on its own; paths that do not
    (a bad colour, end before start) are left out."""
    out: dict[str, CompiledPath] = {}
    for p in as_document(doc)["paths"]:
        try:
            model = MotionPath.model_validate(p)
            out[model.id] = compile_path(model)
        except ValueError:
            continue
    return out


# ------------------------------------------------------------------------------------------------ bodies
def as_bodies(value: Any) -> list[dict[str, Any]]:
    """A ``bodies`` parameter as plain JSON data, deep-copied (models are dumped; None gives ``[]``)."""
    if value is None:
        return []
    out = []
    for b in value:
        out.append(b.model_dump(mode="json") if hasattr(b, "model_dump") else copy.deepcopy(dict(b)))
    return out


def body_index(bodies: list[dict[str, Any]], body_id: str) -> int:
    """The index of body ``body_id``.

    Raises:
        KeyError: naming the id and the ids there are.
    """
    for i, b in enumerate(bodies):
        if b.get("id") == body_id:
            return i
    raise KeyError(f"no body with id {body_id!r} (bodies: {', '.join(str(b.get('id')) for b in bodies) or 'none'})")


def add_body(bodies: Any, shape: str, x: float, y: float, **fields: Any) -> tuple[list[dict[str, Any]], str]:
    """Adds a dynamic body of ``shape`` (``circle``, ``box``, ``polygon``, ``segment``) at ``(x, y)`` world px,
    with the next free colour and sensible sizes (radius 24; box 60 x 40; a triangle; a 160 px static
    segment). Returns ``(bodies, new id)``."""
    bs = as_bodies(bodies)
    taken = {str(b.get("id")) for b in bs} | {str(b.get("name")) for b in bs if b.get("name")}
    base = {"circle": "ball", "box": "box", "polygon": "poly", "segment": "ledge"}.get(shape, "body")
    bid = unused_id(base, taken)
    body: dict[str, Any] = {
        "id": bid,
        "shape": shape,
        "position": [float(x), float(y)],
        "color": next_color(b.get("color", DEFAULT_BODY_COLOR) for b in bs),
    }
    if shape == "circle":
        body["radius"] = 24.0
    elif shape == "box":
        body.update(width=60.0, height=40.0)
    elif shape == "polygon":
        body["vertices"] = [[-30.0, 20.0], [30.0, 20.0], [0.0, -30.0]]
    elif shape == "segment":
        body.update(kind="static", vertices=[[-80.0, 0.0], [80.0, 0.0]], radius=4.0)
    body.update(fields)
    bs.append(body)
    return bs, bid


def update_body(bodies: Any, body_id: str, **fields: Any) -> list[dict[str, Any]]:
    """Sets fields of body ``body_id`` (JSON data: ``position``, ``velocity``, ``kind``, ``radius``...)."""
    bs = as_bodies(bodies)
    bs[body_index(bs, body_id)].update(copy.deepcopy(fields))
    return bs


def remove_body(bodies: Any, body_id: str) -> list[dict[str, Any]]:
    """Removes body ``body_id``."""
    bs = as_bodies(bodies)
    del bs[body_index(bs, body_id)]
    return bs


def duplicate_body(
    bodies: Any, body_id: str, offset: tuple[float, float] = (30.0, 0.0)
) -> tuple[list[dict[str, Any]], str]:
    """Copies body ``body_id`` (moved by ``offset`` px, a new id and colour, no name) after it. Returns
    ``(bodies, new id)``."""
    bs = as_bodies(bodies)
    i = body_index(bs, body_id)
    b = copy.deepcopy(bs[i])
    taken = {str(x.get("id")) for x in bs} | {str(x.get("name")) for x in bs if x.get("name")}
    b["id"] = unused_id(re.sub(r"_\d+$", "", str(b["id"])), taken)
    b.pop("name", None)
    b["color"] = next_color(x.get("color", DEFAULT_BODY_COLOR) for x in bs)
    pos = b.get("position", [0.0, 0.0])
    b["position"] = [float(pos[0]) + offset[0], float(pos[1]) + offset[1]]
    bs.insert(i + 1, b)
    return bs, b["id"]


__all__ = [
    "PATH_COLORS",
    "EMPTY_DOCUMENT",
    "DEFAULT_PATH_COLOR",
    "DEFAULT_BODY_COLOR",
    "as_document",
    "path_index",
    "unused_id",
    "next_color",
    "add_path",
    "delete_path",
    "duplicate_path",
    "update_path",
    "append_point",
    "insert_point",
    "move_point",
    "delete_point",
    "set_point_frame",
    "set_handle",
    "reset_handles",
    "nearest_on_path",
    "compile_all",
    "as_bodies",
    "body_index",
    "add_body",
    "update_body",
    "remove_body",
    "duplicate_body",
]
