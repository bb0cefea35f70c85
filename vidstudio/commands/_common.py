"""Helpers shared by subcommands: loading a project with its registry, a cancel token bound to Ctrl-C,
a terminal progress bar, and the per-project run history behind ``--explain``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vidstudio.progress import CancelToken


def load(path: str):
    """Loads a project (``.vidproj`` or a VidStudio MP4) and the default node registry.

    Raises:
        vidstudio.errors.ProjectError: for a bad file.
    """
    from vidstudio.nodes import default_registry
    from vidstudio.project import load_project

    return load_project(path), default_registry()


@contextlib.contextmanager
def ctrl_c_cancels(token: CancelToken) -> Iterator[CancelToken]:
    """While active, the first Ctrl-C cancels ``token`` (the run stops cleanly at its next check); a second
    Ctrl-C raises KeyboardInterrupt at once."""
    if threading.current_thread() is not threading.main_thread():
        yield token
        return

    def handler(signum, frame):
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel("cancelled by Ctrl-C")
        print("\nvidstudio: cancelling (Ctrl-C again to abort at once)", file=sys.stderr)

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield token
    finally:
        signal.signal(signal.SIGINT, old)


class ProgressBar:
    """A tqdm bar per node on stderr (hidden when stderr is not a terminal or ``quiet``)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet or not sys.stderr.isatty()
        self._bar = None
        self._node: str | None = None

    def __call__(self, node_id: str, fraction: float | None, message: str) -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        if node_id != self._node:
            self.close()
            self._node = node_id
            self._bar = tqdm(
                total=100,
                desc=f"{node_id:<12}",
                unit="%",
                leave=False,
                file=sys.stderr,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}",
            )
        if self._bar is not None:
            if fraction is not None:
                self._bar.n = int(round(fraction * 100))
            self._bar.set_postfix_str(message, refresh=True)

    def close(self) -> None:
        """Removes the current bar from the terminal."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def disk_cache(off: bool = False):
    """The disk cache of node outputs for a command (:class:`vidstudio.graph.diskcache.DiskCache` in the user
    cache folder, ``$VIDSTUDIO_CACHE_DIR`` overriding it, bounded by ``$VIDSTUDIO_CACHE_BYTES``), or None when
    ``off`` (``--no-cache``) or ``VIDSTUDIO_NO_CACHE`` is set.

    Raises:
        vidstudio.errors.VidStudioError: for a ``VIDSTUDIO_CACHE_BYTES`` that is not a size.
    """
    from vidstudio.errors import VidStudioError
    from vidstudio.graph.diskcache import DiskCache, disk_cache_disabled

    if off or disk_cache_disabled():
        return None
    try:
        return DiskCache()
    except ValueError as e:
        raise VidStudioError(str(e)) from None


def _history_file(project_path: Path | None) -> Path | None:
    if project_path is None:
        return None
    base = os.environ.get("VIDSTUDIO_CACHE_DIR")
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("vidstudio", "VidStudio")
    digest = hashlib.sha1(str(project_path.resolve()).encode()).hexdigest()[:16]
    return Path(base) / "history" / f"{digest}.json"


def load_history(project_path: Path | None) -> dict[str, Any]:
    """The signatures of the last command-line run of a project (for ``--explain``), or ``{}``."""
    f = _history_file(project_path)
    try:
        return json.loads(f.read_text()) if f and f.exists() else {}
    except (OSError, ValueError):
        return {}


def save_history(project_path: Path | None, history: dict[str, Any]) -> None:
    """Stores run signatures for the next ``--explain`` (best effort: failures are ignored)."""
    f = _history_file(project_path)
    if f is None:
        return
    try:
        from vidstudio.project.io import atomic_write_text

        atomic_write_text(f, json.dumps(history))
    except (OSError, TypeError, ValueError):
        pass
