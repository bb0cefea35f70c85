"""Edit > Preferences (Ctrl+,): the generation server and the model folders.

Local: VidStudio starts ``vidstudio serve`` in the background on the first Generate and stops it when the window
closes. Remote: a server's URL and token, with "Test connection", which asks the server's health and models on
a worker thread and says what it found (version, worker, loaded and default model) or the error in words. The
choice is stored in the settings file (the token too, in plain text: the dialog says where). Model folders hold
the user's own model files (``.safetensors``/``.gguf`` transformers, LoRAs, VAEs, text encoders; a ComfyUI
``models`` folder as it is): the local server gets them as ``--models-dir``, the Models window lists their
files, and Load Model's and Load LoRA's file pickers start there.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vidstudio.ui import genops
from vidstudio.ui.state.settings import ServerConfig, settings_file
from vidstudio.ui.state.tasks import TaskRunner
from vidstudio.ui.widgets import theme
from vidstudio.ui.widgets.dialogs.backend_box import BackendBox


def probe_server(url: str, token: str | None) -> str:
    """Worker: what the server at ``url`` says about itself, in words (HTML-escaped lines).

    Raises:
        vidstudio.client.ServerError: when it cannot be reached or refuses (the message says why).
    """
    from vidstudio.client import Client

    with Client(url, token or None, timeout=10.0) as c:
        h = c.health()
        try:
            models = c.models()
            names = [m.id + (" (default)" if m.default else "") for m in models.of_kind("pipeline")]
            files = len(models.data) - len(names)
            if files:  # single checkpoint, LoRA, VAE and text-encoder files: counted, not named
                names.append(f"and {files} model file{'s' if files != 1 else ''}")
        except Exception as e:  # health answered: say what models could not be listed
            names = [f"(models not listed: {e})"]
    w = h.worker
    lines = [
        f"VidStudio server {h.server.version} (API v{h.api_version}), pid {h.server.pid}; "
        f"token {'required' if h.auth else 'not required'}",
        f"GPU worker: {w.state}"
        + (f", pid {w.pid}" if w.pid else "")
        + (f"; last exit: {w.last_exit}" if w.last_exit else ""),
        f"Renders on: {w.device or 'not known yet (the worker is starting)'}",
        f"Loaded model: {w.loaded_model or 'none yet'}  ·  default model: {h.default_model or 'none'}",
        f"Models: {', '.join(names) if names else 'none found (put pipeline folders in its models folder)'}",
        f"Queue: {h.running} running, {h.queued} queued",
    ]
    return "<br>".join(html.escape(x) for x in lines)


class PreferencesDialog(QDialog):
    """The Preferences dialog (modeless is fine; ``exec`` is not needed).

    Args:
        config: the server settings to show; runner: worker threads for Test connection;
        local_url: ``(url, token)`` of the running local server, for Test connection in Local mode (None: not
            running).

    Signals: ``tested(str)`` after Test connection (the text shown), ``applied(ServerConfig)`` on OK.
    """

    tested = Signal(str)
    applied = Signal(object)

    def __init__(
        self,
        config: ServerConfig,
        runner: TaskRunner,
        parent: QWidget | None = None,
        local_url: Callable[[], tuple[str, str | None] | None] | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("PreferencesDialog")
        self.setWindowTitle("Preferences")
        self.runner = runner
        self.local_url = local_url or (lambda: None)
        self._probe = 0

        box = QGroupBox("Generation server", self)
        self.local_radio = QRadioButton("Local: start a server on this computer when I press Generate", box)
        self.remote_radio = QRadioButton("Remote server:", box)
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.remote_radio)
        local_help = QLabel(
            f"It keeps its jobs and results in {html.escape(str(genops.local_server_data_dir()))} "
            "(models go in its <i>models</i> folder) and stops when VidStudio closes.",
            box,
        )
        local_help.setProperty("role", "dim")
        local_help.setWordWrap(True)
        self.url_edit = QLineEdit(config.url, box)
        self.url_edit.setPlaceholderText("http://gpu-box:8765")
        self.token_edit = QLineEdit(config.token, box)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("empty: the server has no token")
        self.show_token = QToolButton(box)
        self.show_token.setIcon(theme.icon("mdi6.eye-outline"))
        self.show_token.setToolTip("Show the token")
        self.show_token.setCheckable(True)
        self.show_token.toggled.connect(
            lambda on: self.token_edit.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        )
        token_row = QHBoxLayout()
        token_row.setContentsMargins(0, 0, 0, 0)
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.show_token)
        form = QFormLayout()
        form.setContentsMargins(22, 0, 0, 0)
        form.addRow("URL", self.url_edit)
        form.addRow("Token", token_row)
        token_help = QLabel(
            f"The token is stored in plain text in VidStudio's settings file "
            f"({html.escape(settings_file())}, readable by you only): whoever reads that file can "
            "use the server. Across machines, reach the server through TLS or an SSH tunnel.",
            box,
        )
        token_help.setProperty("role", "dim")
        token_help.setWordWrap(True)
        self.test_button = QPushButton(theme.icon("mdi6.lan-connect"), "Test connection", box)
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel("", box)
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setMinimumHeight(self.result.fontMetrics().lineSpacing() * 6 + 4)  # room for the answer
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        bl = QVBoxLayout(box)
        bl.addWidget(self.local_radio)
        local_indent = QHBoxLayout()
        local_indent.setContentsMargins(22, 0, 0, 0)
        local_indent.addWidget(local_help)
        bl.addLayout(local_indent)
        bl.addSpacing(6)
        bl.addWidget(self.remote_radio)
        bl.addLayout(form)
        token_indent = QHBoxLayout()
        token_indent.setContentsMargins(22, 0, 0, 0)
        token_indent.addWidget(token_help)
        bl.addLayout(token_indent)
        bl.addSpacing(6)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.result, 1)
        bl.addLayout(test_row)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        self.backend = BackendBox(runner, self)
        folders_box = QGroupBox("Model folders", self)
        self.folders_list = QListWidget(folders_box)
        self.folders_list.addItems(list(config.models_dirs))
        self.folders_list.setMaximumHeight(self.folders_list.fontMetrics().lineSpacing() * 3 + 10)
        self.add_folder_button = QPushButton(theme.icon("mdi6.folder-plus-outline"), "Add Folder…", folders_box)
        self.add_folder_button.clicked.connect(lambda: self.add_folder())
        self.remove_folder_button = QPushButton("Remove", folders_box)
        self.remove_folder_button.clicked.connect(self.remove_folder)
        folders_help = QLabel(
            "Your own model files (.safetensors / .gguf transformers, LoRAs, VAEs, text encoders; a ComfyUI "
            "<i>models</i> folder works as it is): listed in Edit &gt; Models, where Load Model's and Load LoRA's "
            "file pickers start, and given to the local server (<tt>--models-dir</tt>).",
            folders_box,
        )
        folders_help.setProperty("role", "dim")
        folders_help.setWordWrap(True)
        folder_buttons = QVBoxLayout()
        folder_buttons.addWidget(self.add_folder_button)
        folder_buttons.addWidget(self.remove_folder_button)
        folder_buttons.addStretch(1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folders_list, 1)
        folder_row.addLayout(folder_buttons)
        fl = QVBoxLayout(folders_box)
        fl.addLayout(folder_row)
        fl.addWidget(folders_help)
        lay = QVBoxLayout(self)
        lay.addWidget(box)
        lay.addWidget(folders_box)
        lay.addWidget(self.backend)
        lay.addStretch(1)
        lay.addWidget(buttons)
        (self.remote_radio if config.mode == "remote" else self.local_radio).setChecked(True)
        self.local_radio.toggled.connect(self._mode_changed)
        self._mode_changed()
        self.setMinimumWidth(640)
        self.adjustSize()
        screen = self.screen()
        if screen is not None:  # adjustSize stops at 2/3 of the screen: the whole dialog where the screen has room
            room = screen.availableGeometry().height() - 60
            self.resize(self.width(), max(self.height(), min(self.sizeHint().height(), room)))

    def config(self) -> ServerConfig:
        """The settings as edited."""
        return ServerConfig(
            "remote" if self.remote_radio.isChecked() else "local",
            self.url_edit.text().strip(),
            self.token_edit.text().strip(),
            tuple(self.folders_list.item(i).text() for i in range(self.folders_list.count())),
        )

    def add_folder(self, path: str | None = None) -> None:
        """Adds a model folder (``path``, or one chosen in a folder dialog); one already listed is not added
        twice."""
        if path is None:
            path = QFileDialog.getExistingDirectory(self, "Add a model folder", "")
        path = (path or "").strip()
        listed = {self.folders_list.item(i).text() for i in range(self.folders_list.count())}
        if path and path not in listed:
            self.folders_list.addItem(path)

    def remove_folder(self) -> None:
        """Removes the selected model folder from the list (the folder itself is left alone)."""
        for item in self.folders_list.selectedItems():
            self.folders_list.takeItem(self.folders_list.row(item))

    def _mode_changed(self) -> None:
        remote = self.remote_radio.isChecked()
        for w in (self.url_edit, self.token_edit, self.show_token):
            w.setEnabled(remote)
        self.result.setText("")

    def _show(self, text: str, error: bool = False) -> None:
        color = theme.ERROR if error else theme.TEXT
        self.result.setText(f"<span style='color:{color}'>{text}</span>")
        self.tested.emit(self.result.text())

    def test_connection(self) -> None:
        """Asks the server for its health and models on a worker thread and shows what it found."""
        c = self.config()
        if c.is_local:
            running = self.local_url()
            if running is None:
                self._show("The local server is not running: it starts when you press Generate.")
                return
            url, token = running
        else:
            if not c.url:
                self._show("Enter the server's URL first (http://HOST:PORT).", True)
                return
            url, token = c.url, c.token or None
        self._probe += 1
        probe = self._probe
        self.test_button.setEnabled(False)
        self.result.setText(f"<span style='color:{theme.TEXT_DIM}'>asking {html.escape(url)}…</span>")

        def done(text: str) -> None:
            if probe == self._probe:
                self.test_button.setEnabled(True)
                self._show(f"<b>Connected to {html.escape(url)}</b><br>{text}")

        def failed(e: BaseException) -> None:
            if probe == self._probe:
                self.test_button.setEnabled(True)
                self._show(html.escape(genops.error_text(e, url)), True)

        self.runner.submit(probe_server, url, token, on_done=done, on_error=failed)

    def accept(self) -> None:
        c = self.config()
        if not c.is_local and not c.url:
            self._show("A remote server needs its URL (http://HOST:PORT).", True)
            return
        if not c.is_local:
            from vidstudio.client import Client, ServerError

            try:
                Client(c.url).close()  # checks the URL's form only; nothing is sent
            except ServerError as e:
                self._show(html.escape(str(e)), True)
                return
        self.applied.emit(c)
        super().accept()

    def closeEvent(self, event: Any) -> None:
        self._probe += 1  # a late answer is not shown
        super().closeEvent(event)
