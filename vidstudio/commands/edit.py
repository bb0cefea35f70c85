"""``vidstudio edit PROJECT EDIT... [-o OUT] [--dry-run]``: change a project from the command line.

The edits are the GUI's own (:class:`vidstudio.project.editor.DocumentEditor`), applied in the order given:

  --add-node ID:TYPE[@X,Y]          add a node (id made unique if taken; placed right of the others)
  --remove-node ID                  delete a node with its links and animation
  --link SRC.OUT=DST.IN             link an output to an input (replaces the link into a single input)
  --unlink SRC.OUT=DST.IN           remove a link
  --set NODE.PARAM=VALUE            set a parameter (VALUE is JSON; text that is not JSON is a string)
  --reset NODE.PARAM                back to the declared default
  --key NODE.PARAM@FRAME=VALUE      set a key (animates the parameter)
  --remove-key NODE.PARAM@FRAME     remove a key (the last one leaves the value static)
  --add-point NODE[.PATH][@FRAME]=X,Y
                                    add a control point (world px) to a Trajectory path (default: its first
                                    path; a new one when it has none or PATH is new); FRAME is its time key
  --setting NAME=VALUE              change a project setting (width, height, fps, frame_count...)

All edits succeed or nothing is written: the first that fails is named (its number and text) with the reason,
exit 2. The result is saved atomically through the project's save (a ``.bak`` of the previous file is kept),
to ``-o OUT`` when given, else over PROJECT. Graph problems left by the edits (a required input not linked yet)
are printed as notes; ``vidstudio validate`` checks the result.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

#: The edit options, in ``--help`` order: (flag, metavar, help).
EDIT_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--add-node", "ID:TYPE[@X,Y]", "add a node of TYPE with id ID (at scene position X,Y)"),
    ("--remove-node", "ID", "delete node ID with its links and animation"),
    ("--link", "SRC.OUT=DST.IN", "link output OUT of SRC to input IN of DST"),
    ("--unlink", "SRC.OUT=DST.IN", "remove that link"),
    ("--set", "NODE.PARAM=VALUE", "set a parameter; VALUE is JSON (text that is not JSON is a string)"),
    ("--reset", "NODE.PARAM", "remove a stored value (the parameter takes its default)"),
    ("--key", "NODE.PARAM@FRAME=VALUE", "set a key of an animatable parameter"),
    ("--remove-key", "NODE.PARAM@FRAME", "remove a key"),
    ("--add-point", "NODE[.PATH][@FRAME]=X,Y", "add a control point to a Trajectory node's path"),
    ("--setting", "NAME=VALUE", "change a project setting (width, height, fps, frame_count)"),
)


class _Ordered(argparse.Action):
    """Appends ``(flag, value)`` to one list so that edits of different kinds keep their command-line order."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = list(getattr(namespace, self.dest, None) or [])
        items.append((option_string, values))
        setattr(namespace, self.dest, items)


def register(sub: argparse._SubParsersAction) -> None:
    """Adds ``vidstudio edit`` to the subcommand parser ``sub``."""
    p = sub.add_parser(
        "edit",
        help="change a project: nodes, links, parameters, keys, paths, settings",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", help="a .vidproj file (or an MP4 rendered by VidStudio, with -o OUT.vidproj)")
    for flag, metavar, help_ in EDIT_OPTIONS:
        p.add_argument(flag, dest="edits", action=_Ordered, metavar=metavar, help=help_)
    p.add_argument("-o", "--output", metavar="OUT", help="save to OUT (.vidproj) instead of over PROJECT")
    p.add_argument("--dry-run", action="store_true", help="apply and check the edits, write nothing")
    p.set_defaults(func=run, edits=[])


class EditSyntaxError(ValueError):
    """An edit whose text does not follow its option's syntax."""


def _split(text: str, sep: str, what: str) -> tuple[str, str]:
    if sep not in text:
        raise EditSyntaxError(f"expected {what}")
    a, b = text.split(sep, 1)
    if not a or not b:
        raise EditSyntaxError(f"expected {what}")
    return a, b


def _ref(text: str, what: str) -> tuple[str, str]:
    """``node.name`` split at its first dot (ids and names have none)."""
    return _split(text.strip(), ".", what)


def _number(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise EditSyntaxError(f"{what} must be a number, got {text!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise EditSyntaxError(f"{what} must be a finite number, got {text!r}")
    return v


def _xy(text: str, what: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise EditSyntaxError(f"{what} must be X,Y, got {text!r}")
    return _number(parts[0], f"{what} x"), _number(parts[1], f"{what} y")


def parse_value(text: str) -> Any:
    """A value on the command line: JSON when it parses (``0.5``, ``true``, ``[1, 2]``, ``"text"``), else the text
    itself as a string (``contain``)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _param_decl(editor, node_id: str, name: str):
    """The declaration of ``node_id``'s parameter ``name``; an error names the parameters there are."""
    node = editor.project.node(node_id)
    cls = editor.registry.find(node.type)
    if cls is None:
        return None
    decl = cls.param(name)
    if decl is None:
        names = ", ".join(p.name for p in cls.params) or "none"
        raise ValueError(f"node '{node_id}' ({node.type}) has no parameter '{name}' (parameters: {names})")
    return decl


def _next_position(project) -> tuple[float, float]:
    if not project.nodes:
        return 0.0, 0.0
    return max(n.position[0] for n in project.nodes) + 260.0, float(project.nodes[-1].position[1])


def apply_edit(editor, flag: str, text: str) -> str:
    """Applies one command-line edit through ``editor`` (a :class:`~vidstudio.project.editor.DocumentEditor`).

    Returns:
        what was done, in words (for the summary).

    Raises:
        EditSyntaxError: when ``text`` does not follow the option's syntax.
        ValueError, KeyError, vidstudio.errors.VidStudioError: when the project refuses the edit (the message
            names the node, port, parameter or setting).
    """
    from vidstudio.graph.model import Link
    from vidstudio.motion import pathedit

    project = editor.project
    if flag == "--add-node":
        nid, rest = _split(text, ":", "ID:TYPE[@X,Y]")
        type_id, at = (rest.split("@", 1) + [""])[:2] if "@" in rest else (rest, "")
        pos = _xy(at, "position") if at else _next_position(project)
        new = editor.add_node(type_id.strip(), pos, node_id=nid.strip())
        return f"added {new} ({type_id.strip()})"
    if flag == "--remove-node":
        nid = text.strip()
        project.node(nid)
        editor.remove_nodes([nid])
        return f"removed {nid}"
    if flag in ("--link", "--unlink"):
        src, dst = _split(text, "=", "SRC.OUT=DST.IN")
        (sn, sp), (dn, dp) = _ref(src, "SRC.OUT=DST.IN"), _ref(dst, "SRC.OUT=DST.IN")
        if flag == "--link":
            check = editor.connect_ports(sn, sp, dn, dp)
            if not check.ok:
                raise ValueError(check.reason)
            return f"linked {sn}.{sp} -> {dn}.{dp}"
        if not editor.disconnect_links([Link.make(sn, sp, dn, dp)]):
            raise ValueError(f"there is no link {sn}.{sp} -> {dn}.{dp}")
        return f"unlinked {sn}.{sp} -> {dn}.{dp}"
    if flag == "--set":
        ref, value = _split(text, "=", "NODE.PARAM=VALUE")
        nid, name = _ref(ref, "NODE.PARAM=VALUE")
        _param_decl(editor, nid, name)
        if project.curve(nid, name) is not None:
            raise ValueError(
                f"node '{nid}' param '{name}' is animated: set its keys with --key (or --remove-key every key first)"
            )
        editor.set_param(nid, name, parse_value(value))
        return f"set {nid}.{name}"
    if flag == "--reset":
        nid, name = _ref(text, "NODE.PARAM")
        _param_decl(editor, nid, name)
        editor.reset_param(nid, name)
        return f"reset {nid}.{name}"
    if flag == "--key":
        ref, value = _split(text, "=", "NODE.PARAM@FRAME=VALUE")
        ref, frame = _split(ref, "@", "NODE.PARAM@FRAME=VALUE")
        nid, name = _ref(ref, "NODE.PARAM@FRAME=VALUE")
        _param_decl(editor, nid, name)
        f = _number(frame, "FRAME")
        editor.set_key(nid, name, f, _number(value, "VALUE"))
        return f"keyed {nid}.{name} at frame {f:g}"
    if flag == "--remove-key":
        ref, frame = _split(text, "@", "NODE.PARAM@FRAME")
        nid, name = _ref(ref, "NODE.PARAM@FRAME")
        project.node(nid)
        f = _number(frame, "FRAME")
        editor.remove_key(nid, name, f)
        return f"removed the key of {nid}.{name} at frame {f:g}"
    if flag == "--add-point":
        ref, xy = _split(text, "=", "NODE[.PATH][@FRAME]=X,Y")
        ref, frame = ref.split("@", 1) if "@" in ref else (ref, "")
        nid, path_id = ref.split(".", 1) if "." in ref else (ref, "")
        x, y = _xy(xy, "X,Y")
        f = _number(frame, "FRAME") if frame else None
        node = project.node(nid.strip())
        decl = _param_decl(editor, node.id, "paths") if editor.registry.find(node.type) is not None else None
        if decl is None or decl.kind != "json":
            raise ValueError(f"node '{node.id}' ({node.type}) has no trajectory document (a 'paths' parameter)")
        doc = pathedit.as_document(node.params.get("paths", decl.default))
        ids = [p.get("id") for p in doc["paths"]]
        if path_id in ids or (not path_id and ids):
            pid = path_id or ids[0]
            doc, index = pathedit.append_point(doc, pid, x, y)
            if f is not None:
                doc = pathedit.set_point_frame(doc, pid, index, f)
                timing = doc["paths"][pathedit.path_index(doc, pid)].get("timing", "constant_speed")
                if timing != "keys":
                    print(
                        f"vidstudio: note: path '{pid}' of '{node.id}' has timing '{timing}': point frames count "
                        f"only with timing 'keys' (--set {node.id}.paths=...)",
                        file=sys.stderr,
                    )
            what = f"point {index + 1} of path '{pid}'"
        else:
            extra = {"timing": "keys"} if f is not None else {}
            doc, pid = pathedit.add_path(doc, x, y, name=path_id or None, **extra)
            if f is not None:
                doc = pathedit.set_point_frame(doc, pid, 0, f)
            what = f"new path '{pid}'"
        editor.set_param(node.id, "paths", doc)
        return f"added {what} to {node.id} at ({x:g}, {y:g})" + (f", frame {f:g}" if f is not None else "")
    if flag == "--setting":
        name, value = _split(text, "=", "NAME=VALUE")
        editor.set_settings(**{name.strip(): parse_value(value)})
        return f"set {name.strip()}"
    raise EditSyntaxError(f"unknown edit {flag}")  # pragma: no cover - argparse only passes known flags


def run(args: argparse.Namespace) -> int:
    """Applies the edits and saves (see the module docstring). Returns the exit code."""
    from pathlib import Path

    from vidstudio.commands._common import load
    from vidstudio.errors import ProjectError, VidStudioError
    from vidstudio.graph.validate import validate_graph
    from vidstudio.project import SUFFIX, save_project
    from vidstudio.project.editor import DocumentEditor

    if not args.edits:
        print("vidstudio: error: no edits given (see vidstudio edit --help)", file=sys.stderr)
        return 2
    try:
        project, registry = load(args.project)
    except ProjectError as e:
        for line in e.lines():
            print(line, file=sys.stderr)
        return 2
    target = Path(args.output) if args.output else project.path
    if not args.dry_run and (target is None or target.suffix.lower() != SUFFIX):
        print(
            f"vidstudio: error: {args.project}: the edited project is saved as a {SUFFIX} file: give -o OUT{SUFFIX}",
            file=sys.stderr,
        )
        return 2
    editor = DocumentEditor(project, registry)
    done = []
    for i, (flag, text) in enumerate(args.edits, 1):
        try:
            done.append(apply_edit(editor, flag, text))
        except (ValueError, VidStudioError) as e:
            print(f"vidstudio: error: edit {i} ({flag} {text}): {e}", file=sys.stderr)
            print("vidstudio: nothing written", file=sys.stderr)
            return 2
        except KeyError as e:
            msg = e.args[0] if e.args else str(e)
            if isinstance(msg, str) and " " not in msg:
                msg = f"there is no node '{msg}'"
            print(f"vidstudio: error: edit {i} ({flag} {text}): {msg}", file=sys.stderr)
            print("vidstudio: nothing written", file=sys.stderr)
            return 2
    for issue in validate_graph(project, registry, project.settings):
        print(f"vidstudio: note: {issue}", file=sys.stderr)
    for line in done:
        print(line)
    if args.dry_run:
        print(f"{args.project}: {len(done)} edit{'s' if len(done) != 1 else ''} checked, nothing written (--dry-run)")
        return 0
    written = save_project(project, target, registry=registry)
    print(f"{written}: saved ({len(done)} edit{'s' if len(done) != 1 else ''})")
    return 0
