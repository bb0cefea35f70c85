"""Leases on the local generation server: it lives while any window uses it.

Every window (in any process) that uses the local server of a data folder holds a lease: a small file
``<data_dir>/leases/<pid>-<random>.json`` with its process id and the time it was last renewed, renewed every
:data:`RENEW_EVERY` seconds by a daemon thread. A lease counts while its process runs and it was renewed
within :data:`TTL` seconds (a frozen or killed window stops counting on its own).

* A window that closes releases its lease. It stops the server it started only when no other lease counts
  (:func:`others_hold`); otherwise the server stays for the windows that still use it.
* The server started with ``--parent-pid`` (the starting window's process) keeps running after that process
  ends while other leases count, and stops once none does (:func:`vidstudio.server.run` asks
  :func:`live_leases`).

Standard library only; no Qt, so the GUI, the server and the tests share it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from pathlib import Path

#: The folder under the data folder holding the leases.
LEASE_DIR = "leases"
#: Seconds a lease counts after its last renewal.
TTL = 30.0
#: Seconds between renewals.
RENEW_EVERY = 5.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class Lease:
    """One window's claim on the local server of ``data_dir``.

    Args:
        data_dir: the local server's data folder.
        renew_every: seconds between renewals (the renewing thread starts with :meth:`acquire`).
    """

    def __init__(self, data_dir: str | os.PathLike, *, renew_every: float = RENEW_EVERY):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LEASE_DIR / f"{os.getpid()}-{secrets.token_hex(4)}.json"
        self.renew_every = renew_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def renew(self) -> None:
        """Writes the lease with the current time (atomically; best effort: an unwritable folder is ignored)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), "renewed_at": time.time()}))
            os.replace(tmp, self.path)
        except OSError:
            pass

    def acquire(self) -> Lease:
        """Writes the lease and starts renewing it in a daemon thread; returns ``self``."""
        self.renew()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vidstudio-server-lease", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.renew_every):
            self.renew()

    def release(self) -> None:
        """Stops renewing and removes the lease (never blocks on the thread: it is a daemon that exits)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self.path.unlink()

    @property
    def held(self) -> bool:
        """True while acquired and not released."""
        return self._thread is not None and not self._stop.is_set()


def live_leases(data_dir: str | os.PathLike, *, exclude: Path | None = None, ttl: float = TTL) -> list[Path]:
    """The leases of ``data_dir`` that count: their process runs and they were renewed within ``ttl`` seconds.
    Leases that no longer count are removed.

    Args:
        exclude: a lease file not to count (the caller's own).
    """
    folder = Path(data_dir) / LEASE_DIR
    out: list[Path] = []
    now = time.time()
    try:
        files = sorted(folder.glob("*.json"))
    except OSError:
        return out
    for f in files:
        if exclude is not None and f == exclude:
            continue
        try:
            d = json.loads(f.read_text())
            ok = _alive(int(d["pid"])) and now - float(d["renewed_at"]) <= ttl
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if ok:
            out.append(f)
        else:
            with contextlib.suppress(OSError):
                f.unlink()
    return out


def others_hold(lease: Lease) -> bool:
    """True when a lease other than ``lease`` counts on its data folder (another window uses the server)."""
    return bool(live_leases(lease.data_dir, exclude=lease.path))
