"""The engine's output cache on disk: node outputs kept across processes, so that a second
``vidstudio render --explain`` of an unchanged project says "from the cache".

Entries are keyed exactly as the in-memory cache (:class:`vidstudio.graph.engine.Engine`): the content-addressed
signature of a node (type, version, parameters, curves, settings, file fingerprints, upstream keys). Each entry
is a folder ``<root>/<key[:2]>/<key>/`` with ``entry.json`` (the outputs as tagged JSON) and one ``.npy`` file
per array, written with ``allow_pickle=False`` and read the same way: nothing in the cache is ever unpickled.

Only known types are stored: ``None``, ``bool``, ``int``, ``float``, ``str``, ``Fraction``, NumPy scalars and
arrays of numbers, lists, tuples and string-keyed dicts of those, :class:`~vidstudio.media.clip.Clip` objects
whose frames are already computed (``Clip.array``: a generated video; a clip made on demand is not rendered
just to be stored), pydantic models defined in ``vidstudio`` that survive a JSON round trip, and dataclasses
defined in ``vidstudio`` (tracks, sprites) whose fields are of these types (rebuilt through their constructor;
private fields with defaults, such as a frame cache or a lock, are made afresh). Classes are only ever looked
up in ``vidstudio`` modules. An output of another type is not stored, and :meth:`DiskCache.put` says why
(``--explain`` shows it).

Writes are atomic (a temporary folder renamed into place); an entry that cannot be read back (a torn write, a
file edited by hand, a format or a VidStudio release other than the running one) is ignored and removed.
The cache is bounded in bytes: when it grows past ``max_bytes`` the least recently used entries (by the time
of their last read or write) are removed first.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import shutil
import time
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

#: Default size bound of the disk cache, in bytes (2 GiB); ``VIDSTUDIO_CACHE_BYTES`` overrides it.
DEFAULT_MAX_BYTES = 2 << 30
#: Bumped when the entry format changes; entries of another format are ignored and removed.
FORMAT = 1


class Unstorable(Exception):
    """An output value of a type the disk cache does not store (the message names the type and where)."""


def cache_root() -> Path:
    """The folder of the disk cache: ``$VIDSTUDIO_CACHE_DIR/outputs``, else ``outputs`` in the user cache folder
    (``platformdirs.user_cache_dir("vidstudio", "VidStudio")``)."""
    base = os.environ.get("VIDSTUDIO_CACHE_DIR")
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("vidstudio", "VidStudio")
    return Path(base).expanduser() / "outputs"


def disk_cache_disabled() -> bool:
    """True when ``VIDSTUDIO_NO_CACHE`` is set to something other than ``""``, ``0``, ``false`` or ``no``."""
    return os.environ.get("VIDSTUDIO_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no")


def default_max_bytes() -> int:
    """``$VIDSTUDIO_CACHE_BYTES`` (bytes; suffixes K, M, G allowed, powers of 1024), else :data:`DEFAULT_MAX_BYTES`.

    Raises:
        ValueError: for a value that is not a size.
    """
    text = os.environ.get("VIDSTUDIO_CACHE_BYTES", "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1].upper(), 1)
    number = text[:-1] if scale != 1 else text
    try:
        value = int(float(number) * scale)
    except ValueError:
        raise ValueError(f"VIDSTUDIO_CACHE_BYTES={text!r}: expected a size in bytes, e.g. 2G or 500M") from None
    if value < 0:
        raise ValueError(f"VIDSTUDIO_CACHE_BYTES={text!r}: must not be negative")
    return value


class DiskCache:
    """Node outputs on disk, by cache key, within a byte budget (see the module docstring).

    Args:
        root: the cache folder (default :func:`cache_root`); created on the first write.
        max_bytes: the budget in bytes for all entries together (default :func:`default_max_bytes`).

    Safe to use from several processes: entries are written under a unique temporary name and renamed into
    place; a reader never sees a half-written entry, and a racing writer of the same key simply loses.
    """

    def __init__(self, root: Path | str | None = None, max_bytes: int | None = None):
        self.root = Path(root) if root is not None else cache_root()
        self.max_bytes = default_max_bytes() if max_bytes is None else int(max_bytes)
        self._total: int | None = None  # bytes on disk as last counted plus what this object wrote since

    def _dir(self, key: str) -> Path:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"cache key {key!r} is not a hex digest")
        return self.root / key[:2] / key

    # ------------------------------------------------------------------------------------------ reading
    def get(self, key: str) -> dict[str, Any] | None:
        """The outputs stored under ``key`` (``{port: value}``), or None when absent or unreadable (an unreadable
        entry is removed). Marks the entry as recently used."""
        folder = self._dir(key)
        meta = folder / "entry.json"
        if not meta.is_file():
            return None
        try:
            doc = json.loads(meta.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT or doc.get("key") != key or doc.get("vidstudio") != _release():
                raise ValueError("another format, key or release")  # node code may have changed since
            outputs = _decode(doc["outputs"], folder)
            if not isinstance(outputs, dict):
                raise ValueError("outputs are not a dict")
        except Exception:  # corrupt, truncated or foreign: forget it
            shutil.rmtree(folder, ignore_errors=True)
            return None
        try:
            os.utime(meta)
        except OSError:
            pass
        return outputs

    # ------------------------------------------------------------------------------------------ writing
    def put(self, key: str, outputs: dict[str, Any]) -> str | None:
        """Stores ``outputs`` under ``key`` (atomically), then trims the cache to ``max_bytes``.

        Returns:
            None when stored (or already there), else why not, in words (an output of a type it does not
            store, larger than the whole budget, or a write that failed).
        """
        folder = self._dir(key)
        if (folder / "entry.json").is_file():
            return None
        files: dict[str, np.ndarray] = {}
        try:
            doc = {
                "format": FORMAT,
                "key": key,
                "vidstudio": _release(),
                "outputs": _encode(dict(outputs), files, "outputs"),
            }
        except Unstorable as e:
            return f"not kept on disk: {e}"
        size = sum(a.nbytes for a in files.values())
        if size > self.max_bytes:
            return (
                f"not kept on disk: {size / 2**20:.0f} MiB is more than the disk cache's "
                f"{self.max_bytes / 2**20:.0f} MiB"
            )
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        try:
            tmp.mkdir(parents=True)
            for name, arr in files.items():
                with open(tmp / name, "wb") as f:
                    np.save(f, arr, allow_pickle=False)
            with open(tmp / "entry.json", "w", encoding="utf-8") as f:
                json.dump(doc, f, separators=(",", ":"), allow_nan=False)
                f.flush()
                os.fsync(f.fileno())
            folder.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tmp, folder)
            except OSError:
                if not (folder / "entry.json").is_file():
                    raise
        except (OSError, ValueError, TypeError) as e:
            return f"not kept on disk: {e.__class__.__name__}: {e}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if self._total is None:
            self._total = self.nbytes
        else:
            self._total += size
        if self._total > self.max_bytes:  # counted again from disk (other processes write too), then trimmed
            self.trim()
        return None

    def entries(self) -> list[tuple[float, int, Path]]:
        """``(last used, bytes, folder)`` of every entry, least recently used first."""
        out = []
        if not self.root.is_dir():
            return out
        for sub in self.root.iterdir():
            if not sub.is_dir() or sub.name.startswith("."):
                continue
            for folder in sub.iterdir():
                try:
                    used = (folder / "entry.json").stat().st_mtime
                    size = sum(f.stat().st_size for f in folder.iterdir())
                except OSError:
                    continue  # being written or removed by another process
                out.append((used, size, folder))
        out.sort(key=lambda e: e[0])
        return out

    @property
    def nbytes(self) -> int:
        """Bytes on disk used by the entries."""
        return sum(size for _, size, _ in self.entries())

    def trim(self) -> None:
        """Removes least recently used entries until the cache fits ``max_bytes``; also removes temporary
        folders older than an hour (left by a process that died while writing)."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        for _, size, folder in entries:
            if total <= self.max_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= size
        self._total = total
        if self.root.is_dir():
            now = time.time()
            for tmp in self.root.glob(".tmp-*"):
                try:
                    if now - tmp.stat().st_mtime > 3600:
                        shutil.rmtree(tmp, ignore_errors=True)
                except OSError:
                    pass

    def clear(self) -> None:
        """Removes every entry."""
        shutil.rmtree(self.root, ignore_errors=True)


def _release() -> str:
    """The running VidStudio release: entries written by another one are dropped (built-in node code may
    change between releases without a node type's ``version`` changing)."""
    from vidstudio import __version__

    return __version__


# ----------------------------------------------------------------------------------------------- encoding
def _encode(value: Any, files: dict[str, np.ndarray], where: str) -> Any:
    from vidstudio.media.clip import Clip

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if isinstance(value, Fraction):
        return {"$": "fraction", "v": f"{value.numerator}/{value.denominator}"}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return {"$": "ndarray", "file": _array(np.asarray(value), files, where), "scalar": True}
    if isinstance(value, np.ndarray):
        return {"$": "ndarray", "file": _array(value, files, where), "writeable": bool(value.flags.writeable)}
    if isinstance(value, Clip):
        if value.array is None:
            raise Unstorable(f"{where} is a video made on demand (it is cheap to make again)")
        return {
            "$": "clip",
            "file": _array(value.array, files, where),
            "label": value.label,
            "metadata": {str(k): str(v) for k, v in value.metadata.items()},
        }
    if isinstance(value, (list, tuple)):
        items = [_encode(v, files, f"{where}[{i}]") for i, v in enumerate(value)]
        return {"$": "tuple" if isinstance(value, tuple) else "list", "items": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unstorable(f"{where} is a dict with keys that are not text")
        return {"$": "dict", "items": {k: _encode(v, files, f"{where}.{k}") for k, v in value.items()}}
    cls = type(value)
    if dataclasses.is_dataclass(value) and cls.__module__.startswith("vidstudio."):
        fields = {}
        for f in dataclasses.fields(value):
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            if f.name.startswith("_") and has_default:
                continue  # private state (a cache, a lock) that the constructor makes afresh
            if not f.init:
                raise Unstorable(f"{where} is a {cls.__name__} with a field its constructor does not take")
            fields[f.name] = _encode(getattr(value, f.name), files, f"{where}.{f.name}")
        return {"$": "dataclass", "class": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if hasattr(cls, "model_validate") and hasattr(value, "model_dump") and cls.__module__.startswith("vidstudio."):
        try:
            data = value.model_dump(mode="json")
            same = cls.model_validate(data) == value
        except Exception:
            same = False
        if same:
            return {"$": "model", "class": f"{cls.__module__}:{cls.__qualname__}", "v": data}
        raise Unstorable(f"{where} is a {cls.__name__} that does not survive a JSON round trip")
    raise Unstorable(f"{where} is a {cls.__module__}.{cls.__qualname__}, a type the disk cache does not store")


def _array(arr: np.ndarray, files: dict[str, np.ndarray], where: str) -> str:
    if arr.dtype.kind not in "biufc" or arr.dtype.hasobject:
        raise Unstorable(f"{where} is an array of {arr.dtype}, which the disk cache does not store")
    name = f"a{len(files)}.npy"
    files[name] = np.ascontiguousarray(arr)
    return name


def _decode(node: Any, folder: Path) -> Any:
    if not isinstance(node, dict):
        if isinstance(node, list):
            raise ValueError("a bare list in a cache entry")
        return node
    tag = node["$"]
    if tag == "float":
        return float(node["v"])
    if tag == "fraction":
        return Fraction(node["v"])
    if tag == "ndarray":
        arr = _load(folder, node["file"])
        if node.get("scalar"):
            return arr[()]
        if not node.get("writeable", False):
            arr.setflags(write=False)
        return arr
    if tag == "clip":
        from vidstudio.media.clip import Clip

        clip = Clip.from_array(_load(folder, node["file"]), label=str(node.get("label", "clip")))
        clip.metadata.update({str(k): str(v) for k, v in node.get("metadata", {}).items()})
        return clip
    if tag in ("list", "tuple"):
        items = [_decode(v, folder) for v in node["items"]]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict":
        return {str(k): _decode(v, folder) for k, v in node["items"].items()}
    if tag == "model":
        cls = _vidstudio_class(str(node["class"]))
        if not hasattr(cls, "model_validate"):
            raise ValueError(f"{node['class']!r} is not a pydantic model")
        return cls.model_validate(node["v"])
    if tag == "dataclass":
        cls = _vidstudio_class(str(node["class"]))
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{node['class']!r} is not a dataclass")
        return cls(**{str(k): _decode(v, folder) for k, v in node["fields"].items()})
    raise ValueError(f"unknown tag {tag!r}")


def _vidstudio_class(path: str) -> type:
    """The class ``"module:Qualname"`` of a VidStudio module (nothing else is ever imported from a cache entry)."""
    module, _, qualname = path.partition(":")
    if not module.startswith("vidstudio."):
        raise ValueError(f"class {path!r} is not VidStudio's")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"{path!r} is not a class")
    return obj


def _load(folder: Path, name: str) -> np.ndarray:
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"bad array file name {name!r}")
    return np.load(folder / name, allow_pickle=False)
