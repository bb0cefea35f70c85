"""Errors a user can act on, shared by every layer.

Every error here carries a message that names *what* is wrong and *where* (a file and JSON path, a node id
and port or parameter, a frame). The command line maps them to exit codes: :class:`VidStudioError` and its
subclasses are bad input (exit 2), :class:`Cancelled` is exit 130, anything else is an internal error (exit 1).

This module imports nothing from the project so that every layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass


class VidStudioError(Exception):
    """Base of the errors caused by input the user can fix (a file, a graph, a value).

    Attributes:
        exit_code: the process exit status the command line uses for this error (2: bad input).
    """

    exit_code: int = 2


@dataclass(frozen=True)
class Problem:
    """One problem found in a document or graph.

    Attributes:
        where: the location, e.g. ``$.nodes[2].params.zoom`` for a JSON path, or
            ``node 'cam' param 'zoom'`` for a graph element.
        message: what is wrong there, in words.
    """

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ProjectError(VidStudioError):
    """A project file could not be read, parsed, validated or written.

    Args:
        source: the file path (or ``<string>``) the problems belong to.
        problems: one :class:`Problem` per thing wrong; at least one.

    ``str(error)`` is one line per problem, each starting with ``source``.
    """

    def __init__(self, source: str, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.source = str(source)
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Returns one ``"<source>: <where>: <message>"`` line per problem."""
        return [f"{self.source}: {p}" for p in self.problems]


class GraphError(VidStudioError):
    """The node graph is invalid (unknown node type, missing input, type mismatch, cycle, bad value).

    Args:
        issues: the validation issues (objects with ``__str__`` naming node id and port or parameter).
    """

    def __init__(self, issues: list):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues) or "invalid graph")


class NodeError(VidStudioError):
    """A node could not do its work because of its input (a file that will not decode, an empty path...).

    Args:
        node_id: the id of the node in the graph, when known (the engine fills it in).
        message: what went wrong, naming the file or value.
    """

    def __init__(self, message: str, node_id: str | None = None, node_type: str | None = None):
        self.node_id = node_id
        self.node_type = node_type
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        if self.node_id:
            kind = f" ({self.node_type})" if self.node_type else ""
            return f"node '{self.node_id}'{kind}: {self.detail}"
        return self.detail

    def at_node(self, node_id: str, node_type: str | None = None) -> NodeError:
        """Returns this error attributed to ``node_id`` (used by the engine)."""
        self.node_id = node_id
        self.node_type = node_type
        self.args = (self._format(),)
        return self


class MediaError(VidStudioError):
    """An image or video could not be read or written (the message names the file)."""


class ModelError(VidStudioError):
    """A generation model could not be found, loaded or used (the message says which and what to do).

    Attributes:
        code: what kind of problem, for code that must decide without reading the message: ``"no-model"``
            (nothing chosen), ``"model-not-local"`` (a folder that does not exist and is not a repo id),
            ``"model-not-downloaded"`` (a repo id not in the Hugging Face cache, which could not be fetched),
            or None (found but wrong, or failed to load).
    """

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        self.code = code


class Cancelled(VidStudioError):
    """The work was cancelled by the user (Ctrl-C, a Cancel button, a DELETE request)."""

    exit_code = 130

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)
