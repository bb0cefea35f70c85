"""Preferences > Local server > Backend: install, upgrade or remove the managed generation backend (VidStudio's
own environment with the torch build for this machine's GPU, :mod:`vidstudio.managed`) with a progress bar."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from vidstudio import managed
from vidstudio.ui.state.tasks import TaskRunner, error_text
from vidstudio.ui.widgets import theme

#: (label, torch build) choices offered; the CLI takes any --cuda / --rocm version.
BUILDS = [
    ("CPU only", "cpu"),
    ("NVIDIA, CUDA 12.8", "cu128"),
    ("NVIDIA, CUDA 12.6", "cu126"),
    ("AMD, ROCm 6.4", "rocm6.4"),
]


class BackendBox(QGroupBox):
    """The managed backend's status, a torch build to choose, Install / Upgrade / Remove, and progress.

    Args:
        runner: worker threads (the install runs on one); parent: the owning widget.
        install: the function that installs (default :func:`vidstudio.managed.install`; tests pass another).

    Signals: ``finished(str)`` after an install, upgrade or removal ends (the message shown); the local server
    started after that uses the environment (:func:`vidstudio.managed.server_python`).
    """

    finished = Signal(str)
    _progress = Signal(float, str)  # from the worker thread, queued to the GUI thread

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None, install=None):
        super().__init__("Local server: generation backend", parent)
        self.setObjectName("BackendBox")
        self.runner = runner
        self._install = install or managed.install
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.build = QComboBox(self)
        for label, build in BUILDS:
            self.build.addItem(label, build)
        self.install_button = QPushButton(theme.icon("mdi6.download"), "Install", self)
        self.install_button.clicked.connect(self.install)
        self.remove_button = QPushButton(theme.icon("mdi6.delete-outline"), "Remove", self)
        self.remove_button.clicked.connect(self.remove)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.hide()
        self.message = QLabel(self)
        self.message.setProperty("role", "dim")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("torch build", self))
        row.addWidget(self.build, 1)
        row.addWidget(self.install_button)
        row.addWidget(self.remove_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addLayout(row)
        lay.addWidget(self.bar)
        lay.addWidget(self.message)
        self._progress.connect(self._show_progress)
        self.refresh()

    def refresh(self) -> None:
        """Shows whether a managed backend is installed and what it renders on."""
        info = managed.installed()
        if info is None:
            self.status.setText(
                "No managed backend: the local server runs on VidStudio's own Python. Install one "
                f"to render on your GPU (into {html.escape(str(managed.backend_root()))})."
            )
            self.install_button.setText("Install")
            self.remove_button.setEnabled(False)
        else:
            self.status.setText(
                f"Managed backend: torch {html.escape(info.torch)} ({html.escape(info.build)}), "
                f"renders on <b>{html.escape(info.device)}</b>; the local server starts from it."
            )
            self.install_button.setText("Upgrade")
            self.remove_button.setEnabled(True)
            i = self.build.findData(info.build)
            if i >= 0:
                self.build.setCurrentIndex(i)

    def _busy(self, on: bool) -> None:
        for w in (self.install_button, self.remove_button, self.build):
            w.setEnabled(not on)
        self.bar.setVisible(on)

    def _show_progress(self, fraction: float, text: str) -> None:
        self.bar.setValue(int(fraction * 100))
        self.message.setText(html.escape(text))

    def _done(self, text: str, error: bool = False) -> None:
        self._busy(False)
        self.refresh()
        color = theme.ERROR if error else theme.TEXT
        self.message.setText(f"<span style='color:{color}'>{html.escape(text)}</span>")
        self.finished.emit(text)

    def install(self) -> None:
        """Installs (or upgrades) the backend with the chosen build on a worker thread."""
        upgrade = managed.installed() is not None
        build = self.build.currentData()
        self._busy(True)
        self._show_progress(0.0, "starting…")
        self.runner.submit(
            lambda: self._install(build=build, upgrade=upgrade, progress=lambda f, m: self._progress.emit(f, m)),
            on_done=lambda info: self._done(f"ready: torch {info.torch} on {info.device}"),
            on_error=lambda e: self._done(error_text(e), error=True),
        )

    def remove(self) -> None:
        """Deletes the managed backend (the local server then runs on VidStudio's own Python)."""
        self._busy(True)
        self.runner.submit(
            managed.remove,
            on_done=lambda _: self._done("removed"),
            on_error=lambda e: self._done(error_text(e), error=True),
        )
