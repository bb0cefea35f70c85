"""The application's settings file (QSettings) and the generation server's part of it.

``$VIDSTUDIO_CONFIG_DIR/gui.ini`` when that is set (tests, portable installs), else the platform's native place.
The server settings (:class:`ServerConfig`) are the mode (a local server started when needed, or a remote one),
the remote URL and its token, and the model folders (single checkpoint files, e.g. ComfyUI's ``models`` folder)
the local server is given with ``--models-dir``; the token is stored in this file in plain text (the Preferences dialog says so).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings


def app_settings() -> QSettings:
    """The application's settings: ``$VIDSTUDIO_CONFIG_DIR/gui.ini`` when that is set (tests, portable
    installs), else the platform's native place."""
    folder = os.environ.get("VIDSTUDIO_CONFIG_DIR")
    if folder:
        return QSettings(str(Path(folder) / "gui.ini"), QSettings.Format.IniFormat)
    return QSettings("VidStudio", "VidStudio")


@dataclass(frozen=True)
class ServerConfig:
    """Which generation server Generate uses.

    Attributes:
        mode: ``"local"`` (a ``vidstudio serve`` started in the background on the first Generate, stopped when
            VidStudio closes) or ``"remote"`` (``url`` with ``token``).
        url: ``http://HOST:PORT`` of the remote server.
        token: its bearer token ("" for none).
        models_dirs: folders of the user's own model files (``.safetensors``/``.gguf`` transformers, LoRAs,
            VAEs, text encoders; a ComfyUI ``models`` folder works as it is): passed to the local server as
            ``--models-dir``, listed in the Models window, where Load Model's and Load LoRA's file pickers start.
    """

    mode: str = "local"
    url: str = ""
    token: str = ""
    models_dirs: tuple[str, ...] = ()

    MODES = ("local", "remote")

    @classmethod
    def load(cls, settings: QSettings | None = None) -> ServerConfig:
        """Reads the server settings (``server/mode``, ``server/url``, ``server/token``, ``models/folders``);
        defaults: local, no model folders."""
        st = settings or app_settings()
        mode = str(st.value("server/mode", "local") or "local")
        folders = st.value("models/folders", []) or []
        if isinstance(folders, str):  # QSettings gives a one-item list back as a string
            folders = [folders]
        return cls(
            mode if mode in cls.MODES else "local",
            str(st.value("server/url", "") or ""),
            str(st.value("server/token", "") or ""),
            tuple(str(f) for f in folders if str(f).strip()),
        )

    def save(self, settings: QSettings | None = None) -> None:
        """Writes the server settings. With a token, the settings file is made readable by its owner only
        (0600; Qt keeps a file's permissions when it rewrites it), as ``ssh`` and ``gh`` keep their secrets.

        Raises:
            OSError: when the file's permissions cannot be changed.
        """
        st = settings or app_settings()
        st.setValue("server/mode", self.mode)
        st.setValue("server/url", self.url)
        st.setValue("server/token", self.token)
        st.setValue("models/folders", list(self.models_dirs))
        st.sync()
        if self.token:
            restrict_to_owner(st)

    @property
    def is_local(self) -> bool:
        """True for a local server started by VidStudio."""
        return self.mode != "remote"


def restrict_to_owner(settings: QSettings) -> None:
    """Makes the settings file readable and writable by its owner only (0600). Nothing to do where the
    settings are not a file (the Windows registry).

    Raises:
        OSError: when the permissions cannot be changed.
    """
    if os.name == "nt" and settings.format() == QSettings.Format.NativeFormat:
        return
    path = Path(settings.fileName())
    if path.is_file():
        path.chmod(0o600)


def settings_file() -> str:
    """Where the settings are stored (a file path, or the registry key on Windows), for messages."""
    return app_settings().fileName()
