"""The project document: settings, the node graph, animation and assets, with a format version.

A ``.vidproj`` file is UTF-8 JSON::

    {
      "format_version": 1,
      "settings": {"width": 768, "height": 512, "fps": "24", "frame_count": 48},
      "nodes": [{"id": "photo", "type": "LoadImage", "params": {"path": "assets/rocket.png"}, "position": [0, 0]}],
      "links": [{"from": "photo.image", "to": "cam.image"}],
      "animation": {"cam.zoom": {"keys": [{"frame": 0, "value": 1.0}, {"frame": 47, "value": 1.3}]}},
      "assets": [{"id": "rocket", "path": "assets/rocket.png", "source": "...", "license": "public domain"}]
    }

Paths are relative to the project file's folder. Keys the code does not know are kept through a round trip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from vidstudio.graph.model import Graph, Settings

#: The newest format this code reads and the one it writes.
FORMAT_VERSION = 1
SUFFIX = ".vidproj"


class Asset(BaseModel):
    """A file the project uses, with where it came from.

    Attributes:
        id: a short name; path: relative to the project file's folder; source: where it came from (URL,
        library and function); license: its licence; description: free text.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    path: str = Field(min_length=1)
    source: str = ""
    license: str = ""
    description: str = ""


class Project(Graph):
    """A whole project document (a :class:`~vidstudio.graph.model.Graph` plus settings, assets and version).

    Attributes:
        format_version: the file format version (see :data:`FORMAT_VERSION`).
        settings: frame size, fps and frame count.
        assets: files the project uses.
        path: where it was loaded from or last saved to (not part of the document).
    """

    format_version: int = FORMAT_VERSION
    settings: Settings = Field(default_factory=Settings)
    assets: list[Asset] = Field(default_factory=list)

    _path: Path | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The file this project was loaded from or saved to, or None for a new project."""
        return self._path

    @property
    def project_dir(self) -> Path | None:
        """The folder relative paths resolve against (the project file's folder), or None."""
        if self._base_dir is not None:
            return self._base_dir
        return self._path.parent if self._path is not None else None

    def bind(self, path: Path | None, base_dir: Path | None = None) -> Project:
        """Records the file and folder this document belongs to (done by load and save)."""
        self._path = Path(path).resolve() if path is not None else None
        self._base_dir = Path(base_dir).resolve() if base_dir is not None else None
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready document, ``format_version`` first."""
        data = self.model_dump(mode="json", by_alias=True)
        ordered: dict[str, Any] = {"format_version": data.pop("format_version")}
        for key in ("settings", "nodes", "links", "animation", "assets"):
            ordered[key] = data.pop(key)
        ordered.update(data)  # unknown keys, kept as they were
        return ordered

    def copy_document(self) -> Project:
        """A deep copy that stays bound to the same file."""
        other = self.model_copy(deep=True)
        other._path, other._base_dir = self._path, self._base_dir
        return other
