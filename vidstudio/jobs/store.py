"""Job and asset records in SQLite, in the server's data folder.

The database (``jobs.sqlite3``, WAL journal) holds one row per job: its status, timestamps, the work the worker
needs (the project as JSON, the output node, the document to embed in the MP4), what the server changed in the
request, the nodes' notes, the error and a description of the output. Job outputs are files in ``jobs/<id>/``;
uploaded images are PNG files in ``assets/``, uploaded videos and sounds keep their container there. Only the server process opens the database.

:meth:`JobStore.recover` runs at start-up: jobs that were running when the previous server process ended are
marked failed with the reason ``"server restarted"``; queued jobs stay queued and run again.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Bumped when the tables change; older databases are upgraded in :meth:`JobStore.open`.
SCHEMA_VERSION = 1
#: Why jobs that were running when the server stopped are failed at the next start.
RESTART_REASON = "server restarted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    output_node TEXT NOT NULL,
    model TEXT,
    spec TEXT NOT NULL,
    adjustments TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    output TEXT,
    progress TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    mode TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'image',
    suffix TEXT NOT NULL DEFAULT '.png'
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def new_job_id() -> str:
    """A fresh job id: ``gen_`` and 24 random hex digits (matches ``JOB_ID_PATTERN``)."""
    return "gen_" + secrets.token_hex(12)


def new_asset_id() -> str:
    """A fresh asset id: ``img_`` and 24 random hex digits (matches ``ASSET_ID_PATTERN``)."""
    return "img_" + secrets.token_hex(12)


@dataclass
class JobRow:
    """One job as stored.

    Attributes:
        seq: insertion order (the queue order); id, kind, status: see :class:`vidstudio.protocol.Job`.
        spec: what the worker needs: ``project`` (JSON text of the document the worker runs), ``embed``
            (JSON text of the document embedded in the MP4), ``assets`` (asset ids to copy into the job folder).
        adjustments, notes: lists of strings; error: text or None; output: the output facts (dict) or None;
        progress: the last progress (dict) or None; cancel_requested: DELETE was called while it ran.
    """

    seq: int
    id: str
    kind: str
    status: str
    created_at: float
    output_node: str
    spec: dict[str, Any]
    model: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    adjustments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    output: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    cancel_requested: bool = False


@dataclass
class AssetRow:
    """One uploaded file: ``id``, ``created_at`` (Unix s), ``width``, ``height`` (px; 0 for a sound), ``mode``
    (an image's Pillow mode, a video's or sound's codec name), ``bytes`` (size of the stored file), ``kind``
    (``image``, ``video`` or ``audio``) and ``suffix`` (of the stored file: ``.png`` for every image)."""

    id: str
    created_at: float
    width: int
    height: int
    mode: str
    bytes: int
    kind: str = "image"
    suffix: str = ".png"


_JOB_COLUMNS = (
    "seq",
    "id",
    "kind",
    "status",
    "created_at",
    "started_at",
    "finished_at",
    "output_node",
    "model",
    "spec",
    "adjustments",
    "notes",
    "error",
    "output",
    "progress",
    "cancel_requested",
)


def _row_to_job(r: sqlite3.Row) -> JobRow:
    def js(v: str | None, default: Any) -> Any:
        return json.loads(v) if v else default

    return JobRow(
        seq=r["seq"],
        id=r["id"],
        kind=r["kind"],
        status=r["status"],
        created_at=r["created_at"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        output_node=r["output_node"],
        model=r["model"],
        spec=js(r["spec"], {}),
        adjustments=js(r["adjustments"], []),
        notes=js(r["notes"], []),
        error=r["error"],
        output=js(r["output"], None),
        progress=js(r["progress"], None),
        cancel_requested=bool(r["cancel_requested"]),
    )


class JobStore:
    """The SQLite database of jobs and assets in ``data_dir`` (``jobs.sqlite3``), plus the folders beside it.

    Thread-safe (one connection behind a lock); every write commits at once. Durable against a crash of the
    process (WAL journal); a power cut may lose the last commits.

    Args:
        data_dir: the server's data folder (created).

    Raises:
        sqlite3.DatabaseError: when the database file is not a database (the message names it).
    """

    def __init__(self, data_dir: Path | str):
        self.data_dir = Path(data_dir)
        self.jobs_dir = self.data_dir / "jobs"
        self.assets_dir = self.data_dir / "assets"
        self.path = self.data_dir / "jobs.sqlite3"
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    # ------------------------------------------------------------------------------------------ lifetime
    def open(self) -> JobStore:
        """Opens (creating) the database and the folders; returns self."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.jobs_dir.mkdir(exist_ok=True)
        self.assets_dir.mkdir(exist_ok=True)
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            columns = {r["name"] for r in db.execute("PRAGMA table_info(assets)")}
            for column, default in (("kind", "image"), ("suffix", ".png")):  # a database made before videos
                if column not in columns:
                    db.execute(f"ALTER TABLE assets ADD COLUMN {column} TEXT NOT NULL DEFAULT '{default}'")
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as e:
            raise sqlite3.DatabaseError(f"{self.path}: {e}") from None
        self._db = db
        return self

    def close(self) -> None:
        """Closes the database (idempotent)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        """The open SQLite connection.

        Raises:
            RuntimeError: when the store is not open."""
        if self._db is None:
            raise RuntimeError("the job store is not open")
        return self._db

    def job_dir(self, job_id: str) -> Path:
        """The folder of a job's files (``jobs/<id>``); ``job_id`` must be a server-made id."""
        return self.jobs_dir / job_id

    def asset_path(self, asset_id: str, suffix: str = ".png") -> Path:
        """The stored file of an asset (an image's PNG; a video's or sound's file has its ``suffix``);
        ``asset_id`` must be a server-made id."""
        return self.assets_dir / f"{asset_id}{suffix}"

    # ------------------------------------------------------------------------------------------ jobs
    def recover(self) -> tuple[list[str], list[str]]:
        """Start-up: fails the jobs that were running (reason :data:`RESTART_REASON`).

        Returns:
            ``(failed_ids, queued_ids)``: the jobs failed now, and the queued jobs in queue order.
        """
        now = time.time()
        with self._lock:
            running = [r["id"] for r in self.db.execute("SELECT id FROM jobs WHERE status = 'running' ORDER BY seq")]
            self.db.execute(
                "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE status = 'running'",
                (RESTART_REASON, now),
            )
            queued = [r["id"] for r in self.db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq")]
        return running, queued

    def insert(
        self,
        job_id: str,
        kind: str,
        output_node: str,
        spec: dict[str, Any],
        *,
        model: str | None = None,
        adjustments: Iterable[str] = (),
    ) -> JobRow:
        """Adds a queued job and returns it."""
        now = time.time()
        with self._lock:
            cur = self.db.execute(
                "INSERT INTO jobs (id, kind, status, created_at, output_node, model, spec, adjustments) "
                "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                (job_id, kind, now, output_node, model, json.dumps(spec), json.dumps(list(adjustments))),
            )
            seq = cur.lastrowid
        return JobRow(
            seq=int(seq or 0),
            id=job_id,
            kind=kind,
            status="queued",
            created_at=now,
            output_node=output_node,
            spec=spec,
            model=model,
            adjustments=list(adjustments),
        )

    def update(self, job_id: str, **values: Any) -> None:
        """Sets columns of a job (lists and dicts are stored as JSON).

        Raises:
            KeyError: for a column that does not exist.
        """
        if not values:
            return
        cols, args = [], []
        for k, v in values.items():
            if k not in _JOB_COLUMNS or k in ("seq", "id"):
                raise KeyError(f"jobs has no updatable column {k!r}")
            if isinstance(v, (list, dict)):
                v = json.dumps(v)
            elif isinstance(v, bool):
                v = int(v)
            cols.append(f"{k} = ?")
            args.append(v)
        with self._lock:
            self.db.execute(f"UPDATE jobs SET {', '.join(cols)} WHERE id = ?", (*args, job_id))

    def get(self, job_id: str) -> JobRow | None:
        """The job, or None."""
        with self._lock:
            r = self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _row_to_job(r) if r else None

    def list(
        self, *, status: str | None = None, limit: int = 50, before_seq: int | None = None
    ) -> tuple[list[JobRow], bool]:
        """The newest jobs first.

        Args:
            status: only jobs with this status; limit: at most this many; before_seq: only older jobs than this.

        Returns:
            ``(jobs, has_more)``.
        """
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if before_seq is not None:
            where.append("seq < ?")
            args.append(before_seq)
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq DESC LIMIT ?"
        with self._lock:
            rows = self.db.execute(sql, (*args, limit + 1)).fetchall()
        jobs = [_row_to_job(r) for r in rows[:limit]]
        return jobs, len(rows) > limit

    def recent_durations(self, n: int = 20) -> list[float]:
        """Run times (seconds from start to finish) of the last ``n`` succeeded jobs, newest first."""
        with self._lock:
            rows = self.db.execute(
                "SELECT finished_at - started_at AS d FROM jobs WHERE status = 'succeeded' AND started_at IS NOT NULL "
                "AND finished_at IS NOT NULL ORDER BY seq DESC LIMIT ?",
                (n,),
            ).fetchall()
        return [float(r["d"]) for r in rows if r["d"] is not None and r["d"] >= 0]

    # ------------------------------------------------------------------------------------------ assets
    def add_asset(self, row: AssetRow) -> None:
        """Records an uploaded file (it must already be at :meth:`asset_path` with the row's suffix)."""
        with self._lock:
            self.db.execute(
                "INSERT INTO assets (id, created_at, width, height, mode, bytes, kind, suffix) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row.id, row.created_at, row.width, row.height, row.mode, row.bytes, row.kind, row.suffix),
            )

    def get_asset(self, asset_id: str) -> AssetRow | None:
        """The asset, or None."""
        with self._lock:
            r = self.db.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)).fetchone()
        if r is None:
            return None
        return AssetRow(
            r["id"], r["created_at"], r["width"], r["height"], r["mode"], r["bytes"], r["kind"], r["suffix"]
        )
