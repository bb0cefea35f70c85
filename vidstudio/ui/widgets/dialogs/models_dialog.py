"""The Models window (Edit > Models…): the models in the generation server's Hugging Face cache with their
size on disk, family and variant, and the single checkpoint files (``.safetensors``/``.gguf`` transformers,
LoRAs, VAEs, text encoders) with their storage type; a download box (repo id) with a progress bar in bytes,
speed and ETA, and Cancel; Remove for a cached model.

The cache is a view over the server's ``/v1/models/cache`` and ``/v1/models/downloads`` routes
(:mod:`vidstudio.server.downloads`) through the client. The files: with the local server, those of the model
folders of Preferences, read here from the files' headers (:meth:`vidstudio.nodes.generate.LoadModel.model_files`,
torch-free, without waiting for the server); with a remote server, the server's own, from ``GET /v1/models``
(:meth:`vidstudio.client.Client.models`: the pipeline folders and files of its models folders, by the ids
requests name them by). Every call runs on the window's worker threads, and a timer polls the running download
twice a second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from vidstudio.fsutil import human_bytes
from vidstudio.ui.state.tasks import TaskRunner, error_text
from vidstudio.ui.widgets import theme

__all__ = ["ModelsDialog", "human_bytes"]


class ModelsDialog(QDialog):
    """The Models window.

    Args:
        ensure_client: ``ensure_client(ready, failed)`` calls ``ready(client)`` once there is a server (the
            generation service's ``ensure``), or ``failed(message)``.
        runner: the window's worker threads.
        initial: a repo id to put in the download box (Load Model offering a missing model).
        model_folders: returns the folders of single checkpoint files to list (Preferences' model folders when
            the server is the local one; empty for a remote server, whose files are not this computer's).
        remote: returns True while the server is a remote one: its files are listed from ``GET /v1/models``.

    Rows: cached pipelines (kind ``pipeline``, removable) first, then the pipeline folders of the model folders
    and the files, each with its kind (``pipeline``, ``transformer``, ``unet``, ``lora``, ``vae``, ``text
    encoder``, ``checkpoint`` for a file of a checkpoint folder that cannot be read, or ``checkpoint (not
    recognised)``; and the format), family, variant, storage type (``BF16``, ``Q8_0``...) and a note: why a file
    cannot be read (``unreadable: REASON``), or why a pipeline folder is not one VidStudio knows.
    """

    COLUMNS = ("model", "size", "kind", "family", "variant", "dtype", "note")

    def __init__(
        self,
        ensure_client: Callable[[Callable[[Any], None], Callable[[str], None]], None],
        runner: TaskRunner,
        parent: Any = None,
        initial: str = "",
        model_folders: Callable[[], Sequence[str]] = lambda: (),
        remote: Callable[[], bool] = lambda: False,
    ):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(720, 420)
        self.ensure_client, self.runner = ensure_client, runner
        self.model_folders, self.remote = model_folders, remote
        self._folders: list[str] = []
        self.client: Any = None
        self.cached: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.download_id: str | None = None
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([c.title() if c != "dtype" else "Dtype" for c in self.COLUMNS])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.repo = QLineEdit(initial)
        self.repo.setPlaceholderText("Hugging Face repo id, e.g. Lightricks/LTX-Video")
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.remove_button = QPushButton("Remove")
        self.refresh_button = QPushButton("Refresh")
        self.summary = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        for w in (self.repo, self.download_button, self.cancel_button):
            row.addWidget(w)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.summary)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self.poll)
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh_button.clicked.connect(self.refresh)
        self.refresh_files()
        self.ensure_client(self._connected, self._failed)

    # ------------------------------------------------------------------------------------------ server
    def _connected(self, client: Any) -> None:
        self.client = client
        self.refresh()

    def _failed(self, message: str) -> None:
        self.status.setText(f"no generation server: {message}")

    def _call(self, method: str, path: str, done: Callable[[Any], None], **kw: Any) -> None:
        if self.client is None:
            self.status.setText("not connected to the generation server yet")
            return
        client = self.client
        self.runner.submit(
            lambda: client.request(method, path, **kw).json(),
            on_done=done,
            on_error=lambda e: self.status.setText(error_text(e)),
        )

    # ------------------------------------------------------------------------------------------ listing
    def refresh(self) -> None:
        """Reads the cached models and the model files again."""
        self.refresh_files()
        self._call("GET", "/v1/models/cache", self._show)

    def refresh_files(self) -> None:
        """Lists the single checkpoint files again (on a worker thread): a remote server's (``GET /v1/models``,
        once connected), else those of the model folders."""
        if self.remote():
            self._folders = []
            if self.client is None:
                self._show_files([])
                return
            self.runner.submit(
                self.client.models,
                on_done=lambda models: self._show_files(self.server_files(models)),
                on_error=lambda e: self.status.setText(f"the server's models: {error_text(e)}"),
            )
            return
        folders = [str(f) for f in self.model_folders()]
        self._folders = folders
        if not folders:
            self._show_files([])
            return
        from vidstudio.nodes.generate import LoadModel

        self.runner.submit(
            lambda: LoadModel.pipeline_folders(folders) + LoadModel.model_files(folders),
            on_done=self._show_files,
            on_error=lambda e: self.status.setText(f"model folders: {error_text(e)}"),
        )

    @staticmethod
    def server_files(models: Any) -> list[dict[str, Any]]:
        """The rows of a server's :class:`vidstudio.protocol.ModelList` that the cache does not list: its model
        files and the pipeline folders of its models folders, as dicts like the local listing's (``path`` is the
        server's id)."""
        return [
            {
                "path": m.id,
                "size": m.size_bytes or 0,
                "kind": m.kind,
                "component": m.component,
                "format": m.format,
                "family": m.family,
                "variant": m.variant,
                "dtype": m.dtype,
                "error": m.error,
            }
            for m in models.data
            if m.kind != "pipeline" or m.source == "local"
        ]

    def _show(self, models: list[dict[str, Any]]) -> None:
        self.cached = list(models)
        self._fill()

    def _show_files(self, files: list[dict[str, Any]]) -> None:
        self.files = list(files)
        self._fill()

    def _fill(self) -> None:
        rows: list[tuple[tuple[str, ...], str, dict[str, Any]]] = []
        for m in self.cached:
            texts = (
                m["id"],
                human_bytes(m["size"]),
                "pipeline",
                m.get("family") or "-",
                m.get("variant") or "-",
                "-",
            )
            rows.append((texts, "hub cache", m))
        for f in self.files:
            shown = self._shown_path(str(f["path"]))
            error = str(f.get("error") or "").replace(str(f["path"]), shown)
            kind = str(f.get("kind") or "checkpoint")
            if kind == "checkpoint":  # the header tells transformer or UNet; the folder only "checkpoint"
                kind = str(f.get("component") or ("checkpoint" if error else "checkpoint (not recognised)"))
            note = "" if not error else (error if kind == "pipeline" else f"unreadable: {error}")
            texts = (
                shown,
                human_bytes(int(f["size"])),
                f"{kind.replace('_', ' ')} ({f.get('format', '')})",
                str(f.get("family") or "-"),
                str(f.get("variant") or "-"),
                str(f.get("dtype") or "-"),
                note,
            )
            rows.append((texts, error or str(f["path"]), f))
        self.table.setRowCount(len(rows))
        for r, (texts, tip, entry) in enumerate(rows):
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if c == len(texts) - 1 and text:
                    item.setForeground(QColor(theme.ERROR))
                item.setData(Qt.ItemDataRole.UserRole, "cache" if entry in self.cached else "file")
                self.table.setItem(r, c, item)
        text = f"{len(self.cached)} model(s) in the server's cache, {human_bytes(sum(m['size'] for m in self.cached))}"
        if self.files:
            where = "on the server" if self.remote() else "in the model folders"
            text += f"; {len(self.files)} file(s) {where}, {human_bytes(sum(f['size'] for f in self.files))}"
        self.summary.setText(text)

    def _shown_path(self, path: str) -> str:
        """A file's path relative to the model folder it is in (the whole path is its tooltip)."""
        from pathlib import Path

        for folder in self._folders:
            try:
                return str(Path(path).relative_to(folder))
            except ValueError:
                continue
        return path

    def remove_selected(self) -> None:
        """Removes the selected model from the cache (after asking)."""
        rows = {i.row() for i in self.table.selectedItems()}
        if len(rows) != 1:
            self.status.setText("select one model to remove")
            return
        item = self.table.item(rows.pop(), 0)
        if item.data(Qt.ItemDataRole.UserRole) == "file":
            self.status.setText(
                "a model on the server: remove it there"
                if self.remote()
                else "a file in your model folders: delete it in your file manager if you must"
            )
            return
        repo = item.text()
        if (
            QMessageBox.question(self, "Remove model", f"Delete {repo} from the cache?")
            != QMessageBox.StandardButton.Yes
        ):
            return
        self._call(
            "DELETE",
            f"/v1/models/cache/{repo}",
            lambda r: (self.status.setText(f"removed {repo} ({human_bytes(r['freed_bytes'])} freed)"), self.refresh()),
        )

    # ------------------------------------------------------------------------------------------ downloads
    def start_download(self) -> None:
        """Starts downloading the repo id in the box."""
        repo = self.repo.text().strip()
        if "/" not in repo:
            self.status.setText("enter a Hugging Face repo id (org/name)")
            return
        self._call("POST", "/v1/models/downloads", self._update, json={"id": repo})

    def cancel_download(self) -> None:
        """Cancels the running download."""
        if self.download_id:
            self._call("DELETE", f"/v1/models/downloads/{self.download_id}", self._update)

    def poll(self) -> None:
        """Reads the running download's progress."""
        if self.download_id:
            self._call("GET", f"/v1/models/downloads/{self.download_id}", self._update)

    def _update(self, d: dict[str, Any]) -> None:
        self.download_id = d["download_id"]
        running = d["status"] in ("queued", "running")
        self.download_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        total, done = int(d.get("total_bytes") or 0), int(d.get("done_bytes") or 0)
        self.progress.setValue(int(1000 * done / total) if total else (1000 if d["status"] == "succeeded" else 0))
        if running:
            eta = d.get("eta_seconds")
            self.status.setText(
                f"{d['id']}: {human_bytes(done)} of {human_bytes(total)}, "
                f"{human_bytes(d.get('bytes_per_second') or 0)}/s" + (f", {eta:.0f} s left" if eta is not None else "")
            )
            if not self.timer.isActive():
                self.timer.start()
            return
        self.timer.stop()
        self.status.setText(f"{d['id']}: {d['status']}" + (f": {d['error']}" if d.get("error") else ""))
        if d["status"] == "succeeded":
            self.refresh()
