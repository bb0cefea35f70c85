"""The plugin manifest, ``vidstudio-plugin.toml``: what a plugin is, what it provides and what it asks for,
read without importing any of its code (as napari's npe2 manifest and Blender's ``blender_manifest.toml``).

Example::

    manifest_version = 1
    name = "example_nodes"                  # identifier; node type ids become "example_nodes.FilmGrain"
    version = "0.1.0"                       # PEP 440
    api_versions = ">=1.0,<2"               # node API versions it works with (PEP 440 specifiers)
    title = "Example Nodes"
    description = "Film grain and a wiggle for trajectories."
    author = "VidStudio developers"
    license = "Apache-2.0"
    homepage = "https://example.org/vidstudio-example-nodes"
    category = "Example Nodes"              # palette category of its nodes (default: the title)
    module = "vidstudio_example_nodes"      # imported on first use (default: entry point / the name)
    requirements = ["numpy>=1.26"]          # PEP 508; pip installs them with a folder plugin

    [permissions]                           # each with the reason shown to the user
    network = "Downloads grain scans from example.org"

    [[nodes]]
    name = "FilmGrain"
    class = "vidstudio_example_nodes.grain:FilmGrain"   # default "<module>:<name>"
    title = "Film Grain"
    description = "Seeded, keyable film grain."
    # runs_on = "backend"                   # only on the generation backend (a diffusion model); default "anywhere"

Permissions cannot be enforced by Python; they are the author's honest declaration, shown before install and
by ``vidstudio plugins info``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vidstudio.api import API_VERSION
from vidstudio.errors import Problem, VidStudioError

#: The file name of a manifest, in a plugin folder or inside a plugin package.
MANIFEST_NAME = "vidstudio-plugin.toml"
#: The newest manifest format this VidStudio reads.
MANIFEST_VERSION = 1
#: Permissions a plugin may declare, with what each means.
PERMISSIONS: dict[str, str] = {
    "network": "connects to other machines (downloads, uploads, web APIs)",
    "files": "reads or writes files outside the project folder and the files its parameters name",
    "subprocess": "runs other programs",
}
MAX_REASON = 200

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MODULE_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_CLASS_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class ManifestError(VidStudioError):
    """A manifest could not be read or is invalid.

    Args:
        source: the manifest's path (or ``"<string>"``, or ``"wheel.whl!pkg/vidstudio-plugin.toml"``).
        problems: one :class:`~vidstudio.errors.Problem` per thing wrong (``where`` is a key path such as
            ``nodes[1].name``).

    ``str(error)`` is one line per problem, each starting with ``source``.
    """

    def __init__(self, source: str, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.source = str(source)
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One ``"<source>: <where>: <message>"`` line per problem."""
        return [f"{self.source}: {p}" for p in self.problems]

    def summary(self) -> str:
        """All problems on one line (for lists and the plugin manager)."""
        return f"{self.source}: " + "; ".join(str(p) for p in self.problems)


class NodeEntry(BaseModel):
    """One node type a plugin provides.

    Attributes:
        name: the type's name inside the plugin (identifier); the type id is ``"<plugin>.<name>"``.
        class_: ``"module:Class"`` (TOML key ``class``) where the :class:`vidstudio.api.Node` subclass lives;
            empty means ``"<manifest module>:<name>"``.
        title, category, description: shown in the palette before the plugin is imported (``category``
            defaults to the plugin's category).
        runs_on: ``"anywhere"`` (default) or ``"backend"``: the node needs the generation backend (a diffusion
            model), so the GUI sends it to the generation server instead of running it, known before the
            plugin is imported (the class's own ``runs_on`` says the same once it is).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    class_: str = Field("", alias="class")
    title: str = ""
    category: str = ""
    description: str = ""
    runs_on: Literal["anywhere", "backend"] = "anywhere"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not a node name (a letter, then letters, digits or _)")
        return v

    @field_validator("class_")
    @classmethod
    def _class(cls, v: str) -> str:
        if v and not _CLASS_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not 'module:Class' (e.g. 'my_plugin.nodes:Blur')")
        return v


class Manifest(BaseModel):
    """A parsed, validated ``vidstudio-plugin.toml`` (see the module docstring for the format).

    Attributes:
        manifest_version: the format version (1).
        name: the plugin's name, an identifier; it prefixes its node type ids.
        version: the plugin's version (PEP 440).
        api_versions: the node API versions it works with, as PEP 440 specifiers (``">=1.0,<2"``).
        title: display name (default: ``name``).
        description, author, license, homepage: facts shown to the user (``homepage`` an http(s) URL or empty).
        category: the palette category of its nodes (default: the title).
        module: the Python module imported on first use (empty: the entry point's module for a package, the
            plugin name for a folder plugin).
        requirements: PEP 508 requirements (installed with pip for folder plugins).
        permissions: ``{permission: reason}`` for permissions in :data:`PERMISSIONS`.
        nodes: the node types, at least one.
    """

    model_config = ConfigDict(extra="forbid")

    manifest_version: int = MANIFEST_VERSION
    name: str
    version: str
    api_versions: str
    title: str = ""
    description: str = Field(min_length=1)
    author: str = Field(min_length=1)
    license: str = Field(min_length=1)
    homepage: str = ""
    category: str = ""
    module: str = ""
    requirements: list[str] = Field(default_factory=list)
    permissions: dict[str, str] = Field(default_factory=dict)
    nodes: list[NodeEntry] = Field(min_length=1)

    @field_validator("manifest_version")
    @classmethod
    def _manifest_version(cls, v: int) -> int:
        if v < 1 or v > MANIFEST_VERSION:
            raise ValueError(f"manifest_version {v} is not supported (this VidStudio reads up to {MANIFEST_VERSION})")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.fullmatch(v):
            raise ValueError(
                f"{v!r} is not a plugin name (a letter, then letters, digits or _; it prefixes node type ids)"
            )
        return v

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        try:
            Version(v)
        except InvalidVersion:
            raise ValueError(f"{v!r} is not a version (PEP 440, e.g. '1.2.0')") from None
        return v

    @field_validator("api_versions")
    @classmethod
    def _api(cls, v: str) -> str:
        try:
            spec = SpecifierSet(v)
        except InvalidSpecifier:
            raise ValueError(f"{v!r} is not a version range (PEP 440 specifiers, e.g. '>=1.0,<2')") from None
        if not str(spec):
            raise ValueError("is empty; say which node API versions the plugin works with, e.g. '>=1.0,<2'")
        return v

    @field_validator("homepage")
    @classmethod
    def _homepage(cls, v: str) -> str:
        if v and not re.match(r"^https?://\S+$", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @field_validator("module")
    @classmethod
    def _module(cls, v: str) -> str:
        if v and not _MODULE_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not a Python module name")
        return v

    @field_validator("requirements")
    @classmethod
    def _requirements(cls, v: list[str]) -> list[str]:
        for i, r in enumerate(v):
            try:
                Requirement(r)
            except InvalidRequirement as e:
                raise ValueError(f"[{i}] {r!r} is not a requirement (PEP 508, e.g. 'scipy>=1.11'): {e}") from None
        return v

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, v: dict[str, str]) -> dict[str, str]:
        for key, reason in v.items():
            if key not in PERMISSIONS:
                raise ValueError(f"unknown permission {key!r} (known: {', '.join(PERMISSIONS)})")
            if not reason.strip():
                raise ValueError(f"{key}: give the reason the plugin needs it (shown to the user)")
            if len(reason) > MAX_REASON:
                raise ValueError(f"{key}: the reason is longer than {MAX_REASON} characters")
        return v

    @model_validator(mode="after")
    def _nodes(self) -> Manifest:
        seen: set[str] = set()
        for i, n in enumerate(self.nodes):
            if n.name in seen:
                raise ValueError(f"nodes[{i}].name {n.name!r} repeats; node names must be unique")
            seen.add(n.name)
        return self

    # ------------------------------------------------------------------------------------------ facts
    @property
    def display_title(self) -> str:
        """``title``, or ``name``."""
        return self.title or self.name

    @property
    def display_category(self) -> str:
        """``category``, or the title."""
        return self.category or self.display_title

    def type_id(self, node: NodeEntry) -> str:
        """The registry id of ``node``: ``"<plugin name>.<node name>"``."""
        return f"{self.name}.{node.name}"

    def class_path(self, node: NodeEntry, default_module: str = "") -> str:
        """Where ``node``'s class lives, ``"module:Class"`` (``class``, else ``<module>:<name>``); empty when
        neither ``class`` nor a module is known."""
        if node.class_:
            return node.class_
        module = self.module or default_module
        return f"{module}:{node.name}" if module else ""

    def node_info(self, node: NodeEntry) -> dict[str, Any]:
        """Palette facts for ``node`` before import: ``title``, ``category``, ``description``, ``runs_on``,
        ``plugin``."""
        return {
            "title": node.title or node.name,
            "category": node.category or self.display_category,
            "description": node.description,
            "runs_on": node.runs_on,
            "plugin": self.name,
        }

    def compatible(self, api_version: str = API_VERSION) -> tuple[bool, str]:
        """Whether the plugin works with node API ``api_version``.

        Returns:
            ``(ok, reason)``: ``reason`` is empty when ``ok``, else says what the plugin needs.
        """
        if Version(api_version) in SpecifierSet(self.api_versions):
            return True, ""
        return False, (
            f"plugin '{self.name}' {self.version} needs node API {self.api_versions}, "
            f"this VidStudio provides {api_version}; install a release of the plugin made for it"
        )


def parse_manifest(text: str | bytes, source: str = "<string>") -> Manifest:
    """Parses and validates manifest text.

    Args:
        text: the TOML (bytes are decoded as UTF-8); source: the file name used in messages.

    Returns:
        the :class:`Manifest`.

    Raises:
        ManifestError: naming ``source`` and the key of every problem (invalid TOML gives the line and column).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ManifestError(source, f"not UTF-8 text (byte {e.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(source, f"invalid TOML: {e}") from None
    return manifest_from_dict(data, source)


def manifest_from_dict(data: dict[str, Any], source: str = "<string>") -> Manifest:
    """Validates already parsed manifest data (see :func:`parse_manifest`).

    Raises:
        ManifestError: naming ``source`` and the key of every problem.
    """
    try:
        return Manifest.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            loc = "".join(
                f"[{p}]" if isinstance(p, int) else f".{'class' if p == 'class_' else p}" for p in err.get("loc", ())
            )
            msg = err.get("msg", "invalid")
            for prefix in ("Value error, ", "Assertion failed, "):
                if msg.startswith(prefix):
                    msg = msg[len(prefix) :]
            if err.get("type") == "missing":
                msg = "is required"
            elif err.get("type") == "extra_forbidden":
                msg = "is not a manifest key (misspelt?)"
            problems.append(Problem(loc.lstrip("."), msg))
        raise ManifestError(source, problems) from None


def load_manifest(path: str | Path) -> Manifest:
    """Reads and validates a manifest file.

    Raises:
        ManifestError: for a missing or unreadable file or an invalid manifest (the message names the file).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ManifestError(str(p), "file not found") from None
    except OSError as e:
        raise ManifestError(str(p), f"cannot read the file ({e.strerror or e})") from None
    return parse_manifest(raw, str(p))


def peek_name(text: str | bytes) -> str | None:
    """The ``name`` of a manifest that may be invalid (for attributing its errors), or None."""
    try:
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8-sig", errors="replace")
        name = tomllib.loads(text).get("name")
    except (tomllib.TOMLDecodeError, AttributeError):
        m = re.search(r'^\s*name\s*=\s*"([A-Za-z][A-Za-z0-9_]*)"', text if isinstance(text, str) else "", re.M)
        return m.group(1) if m else None
    return name if isinstance(name, str) and _NAME_RE.fullmatch(name) else None
