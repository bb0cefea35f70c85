"""Model downloads and the Hugging Face cache, through ``huggingface_hub`` (torch-free).

- :func:`download`: ``snapshot_download`` with progress in bytes, speed and ETA, a free-disk check against the
  download's size before it starts (``dry_run=True`` gives every file's size and whether it is cached), and
  cancellation: Ctrl-C (``KeyboardInterrupt``) or a :class:`vidstudio.progress.CancelToken` stops it. The hub
  library writes each file into a process-unique ``blobs/*.incomplete`` file, removes it when interrupted and
  links a file into the model's snapshot only once it is complete, so a cancelled download leaves nothing
  half-written under the model's name; the next run resumes file by file (finished files are kept, the files
  in flight start again: huggingface_hub 2.x no longer continues a partial file).
- :func:`cached_models`: ``scan_cache_dir`` (size on disk, revisions) with family and variant read from each
  snapshot's ``model_index.json``; :func:`cached_pipelines`: the cached repos that are diffusers pipelines (what
  the server's model catalogue offers); :func:`remove`: ``delete_revisions(...).execute()``.

VidStudio never reads the cache's folder layout itself: listing goes through ``scan_cache_dir`` and finding a
file of a revision through ``try_to_load_from_cache`` (:func:`vidstudio.backend.locate.locate`).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidstudio.errors import Cancelled, ModelError
from vidstudio.fsutil import human_bytes  # re-exported: `vidstudio models` prints sizes with it


@dataclass
class DownloadProgress:
    """One progress report of :func:`download`.

    Attributes:
        done, total: bytes downloaded in this run and bytes this run has to download.
        speed: bytes per second (mean since the start); eta: seconds left, or None while unknown.
    """

    done: int
    total: int
    speed: float
    eta: float | None

    def line(self) -> str:
        """``"1.2 GiB of 9.8 GiB, 41.0 MiB/s, 3 min 35 s left"``."""
        eta = "" if self.eta is None else f", {_duration(self.eta)} left"
        return f"{human_bytes(self.done)} of {human_bytes(self.total)}, {human_bytes(self.speed)}/s{eta}"


def _duration(s: float) -> str:
    s = int(round(s))
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{s} s"


def _progress_class(report: Callable[[int], None], cancel: Any) -> type:
    """A tqdm class for ``snapshot_download`` that forwards the bytes of its byte bars to ``report`` and
    raises :class:`Cancelled` from ``update`` once ``cancel`` is set (the download threads then stop)."""
    from tqdm.auto import tqdm

    class Bytes(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._bytes = kwargs.get("unit") == "B"
            kwargs["disable"] = True
            kwargs.pop("name", None)
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            if cancel is not None and cancel.cancelled:
                raise Cancelled(cancel.reason or "download cancelled")
            if self._bytes and n:
                report(int(n))
            return None

    return Bytes


def download(
    repo_id: str,
    *,
    revision: str | None = None,
    include: list[str] | None = None,
    progress: Callable[[DownloadProgress], None] | None = None,
    cancel: Any = None,
    cache_dir: str | Path | None = None,
) -> Path:
    """Downloads (or resumes) ``repo_id`` into the Hugging Face cache.

    Args:
        repo_id: ``org/name``; revision: branch, tag or commit (None: the default branch).
        include: glob patterns of the files to fetch (``allow_patterns``); None: all.
        progress: called with a :class:`DownloadProgress` at most every 0.2 s and at the end.
        cancel: a :class:`vidstudio.progress.CancelToken` (checked between chunks).
        cache_dir: the hub cache (default: huggingface_hub's, from ``HF_HUB_CACHE`` / ``HF_HOME``).

    Returns:
        the snapshot folder.

    Raises:
        ModelError: the repo or revision does not exist, the Hub cannot be reached, or the disk has less free
            space than the download needs (says how much of each).
        Cancelled: when ``cancel`` was set; KeyboardInterrupt passes through (finished files stay in the cache
            and the next run fetches only the rest).
    """
    from huggingface_hub import errors as hf_errors
    from huggingface_hub import snapshot_download

    cache = Path(cache_dir or hub_cache())
    kw: dict[str, Any] = {"revision": revision or None, "allow_patterns": include or None, "cache_dir": str(cache)}
    try:
        plan = snapshot_download(repo_id, dry_run=True, tqdm_class=_progress_class(lambda n: None, cancel), **kw)
        need = sum(int(f.file_size or 0) for f in plan if f.will_download)
        cache.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(cache).free
        if need > free:
            raise ModelError(
                f"model {repo_id} needs {human_bytes(need)} more on disk, but {cache} has "
                f"{human_bytes(free)} free; free some space or set HF_HUB_CACHE to a larger disk"
            )
        lock = threading.Lock()
        done = [0]
        t0 = time.monotonic()
        last = [0.0]

        def report(n: int, final: bool = False) -> None:
            with lock:
                done[0] += n
                now = time.monotonic()
                if progress is None or (not final and now - last[0] < 0.2):
                    return
                last[0] = now
                speed = done[0] / max(now - t0, 1e-6)
                eta = (need - done[0]) / speed if speed > 0 and need else None
                progress(
                    DownloadProgress(
                        min(done[0], need) if need else done[0], need, speed, max(eta, 0.0) if eta is not None else None
                    )
                )

        folder = snapshot_download(repo_id, tqdm_class=_progress_class(report, cancel), **kw)
        report(0, final=True)
        return Path(folder)
    except (ModelError, Cancelled, KeyboardInterrupt):
        raise
    except hf_errors.RepositoryNotFoundError:
        raise ModelError(
            f"model {repo_id!r} was not found on the Hugging Face Hub (or is private: log in with `hf auth login`)"
        ) from None
    except hf_errors.RevisionNotFoundError:
        raise ModelError(f"model {repo_id!r} has no revision {revision!r}") from None
    except Exception as e:
        if isinstance(getattr(e, "__cause__", None), Cancelled) or "Cancelled" in type(e).__name__:
            raise Cancelled("download cancelled") from None
        raise ModelError(f"downloading {repo_id!r} failed: {e.__class__.__name__}: {e}") from None


def _scan(cache_dir: str | Path | None) -> Any:
    """``scan_cache_dir`` of ``cache_dir`` (default: :func:`hub_cache`), or None when the cache does not exist."""
    from huggingface_hub import CacheNotFound, scan_cache_dir

    try:
        return scan_cache_dir(cache_dir or hub_cache())
    except CacheNotFound:
        return None


def cached_pipelines(cache_dir: str | Path | None = None) -> list[tuple[str, int]]:
    """The model repos in the Hugging Face cache with a ``model_index.json`` at the top of some snapshot (diffusers
    pipelines, possibly of another library's classes), found with ``scan_cache_dir``.

    Returns:
        ``(repo id, bytes on disk of all its revisions)`` pairs sorted by repo id; empty when the cache does not
        exist. Repos that ``scan_cache_dir`` reports as corrupted are left out. Never raises for a missing cache.
    """
    info = _scan(cache_dir)
    if info is None:
        return []
    out = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        if any(f.file_path == Path(r.snapshot_path) / "model_index.json" for r in repo.revisions for f in r.files):
            out.append((repo.repo_id, int(repo.size_on_disk)))
    return sorted(out)


def cached_models(cache_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """The models in the Hugging Face cache (``scan_cache_dir``).

    Returns:
        one dict per model repo: ``id``, ``size`` (bytes on disk), ``revisions`` (commit hashes), ``refs``
        (branch names), ``folder`` (the newest snapshot), ``family`` and ``variant`` ("" for a repo that is not
        one of VidStudio's pipelines, or not complete enough to tell), ``source`` ``"huggingface"``. Empty when
        the cache does not exist.
    """
    info = _scan(cache_dir)
    if info is None:
        return []
    out = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        revs = sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)
        folder = revs[0].snapshot_path if revs else None
        family = variant = ""
        if folder is not None and (Path(folder) / "model_index.json").is_file():
            from vidstudio.backend.locate import locate

            try:
                loc = locate(str(folder))
                family, variant = loc.family, loc.variant
            except ModelError:
                pass
        out.append(
            {
                "id": repo.repo_id,
                "size": int(repo.size_on_disk),
                "revisions": [r.commit_hash for r in revs],
                "refs": sorted({ref for r in revs for ref in r.refs}),
                "folder": str(folder) if folder else "",
                "family": family,
                "variant": variant,
                "source": "huggingface",
            }
        )
    return out


def remove(repo_id: str, cache_dir: str | Path | None = None) -> int:
    """Deletes every revision of ``repo_id`` from the cache.

    Returns:
        the bytes freed.

    Raises:
        ModelError: the model is not in the cache (names what is).
    """
    info = _scan(cache_dir)
    repo = next((r for r in (info.repos if info else ()) if r.repo_id == repo_id and r.repo_type == "model"), None)
    if repo is None:
        have = ", ".join(sorted(r.repo_id for r in info.repos)) if info else "nothing"
        raise ModelError(f"model {repo_id!r} is not in the Hugging Face cache (it holds {have or 'nothing'})")
    strategy = info.delete_revisions(*[r.commit_hash for r in repo.revisions])
    strategy.execute()
    if Path(repo.repo_path).exists():  # blobs of unfinished downloads
        shutil.rmtree(repo.repo_path, ignore_errors=True)
    return int(strategy.expected_freed_size)


def hub_cache() -> Path:
    """The Hugging Face hub cache folder (``HF_HUB_CACHE``, ``HF_HOME``...), read at call time
    (huggingface_hub's ``scan_cache_dir`` binds its default at import): :func:`vidstudio.backend.locate.hf_cache_dir`."""
    from vidstudio.backend.locate import hf_cache_dir

    return hf_cache_dir()
