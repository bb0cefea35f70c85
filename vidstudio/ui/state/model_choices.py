"""What the model pickers offer: the models the generation server can load (``GET /v1/models``), by kind.

:class:`ModelChoices` (QtCore, no widgets) keeps the list the Inspector's model fields offer beside their browse
button (:class:`vidstudio.ui.widgets.param_editors.ModelPathEditor`): with a remote server, the server's
pipelines and single files (named by the ids the server knows them by, e.g. ``loras/fox.safetensors``); with the
local server, the single files of the model folders of Preferences read on this computer (by path, as the browse
button gives them), so that nothing waits for the local server to start. Each parameter offers the kinds it takes
(:data:`KINDS_FOR_PARAM`). The list is read on the window's worker threads, never on the GUI thread: again when the
server's event stream connects, when the server settings change, and when :meth:`ModelChoices.refresh` is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from vidstudio.fsutil import human_bytes
from vidstudio.ui.state.tasks import TaskRunner, error_text

__all__ = ["KINDS_FOR_PARAM", "ModelChoice", "ModelChoices", "choices_from_files", "choices_from_server", "human_bytes"]

#: The kinds of :attr:`vidstudio.protocol.ModelInfo.kind` each model-path parameter takes: Load Model's ``model``
#: a pipeline or a transformer/UNet checkpoint, its ``base_model`` a pipeline, ``vae_file`` / ``text_encoder_file``
#: those files, Load LoRA's ``lora`` a LoRA.
KINDS_FOR_PARAM: dict[str, tuple[str, ...]] = {
    "model": ("pipeline", "checkpoint"),
    "base_model": ("pipeline",),
    "lora": ("lora",),
    "vae_file": ("vae",),
    "text_encoder_file": ("text_encoder",),
}


@dataclass(frozen=True)
class ModelChoice:
    """One model a picker offers.

    Attributes:
        value: what goes into the parameter: the server's model id (remote) or the file's path (local folders).
        kind: ``pipeline``, ``checkpoint``, ``lora``, ``vae`` or ``text_encoder``.
        family, variant: as the server (or the file's header) tells; "" when unknown.
        size_bytes: bytes on disk (None: unknown); dtype: the storage type of most weights (``BF16``, ``Q8_0``...)
            or None; error: why the file cannot be used (it is listed, greyed), or None.
        where: ``"server"`` (from ``/v1/models``) or ``"folders"`` (the local model folders).
        name: what the list shows (a local file's path within its model folder); "" for ``value`` itself.
    """

    value: str
    kind: str
    family: str = ""
    variant: str = ""
    size_bytes: int | None = None
    dtype: str | None = None
    error: str | None = None
    where: str = "server"
    name: str = ""

    @property
    def shown(self) -> str:
        """What the list shows for it: ``name``, else ``value``."""
        return self.name or self.value

    @property
    def details(self) -> str:
        """``"wan vace · 1.3 GiB · BF16"``: family and variant, size, storage type (what is known)."""
        parts = [" ".join(p for p in (self.family, self.variant) if p)]
        if self.size_bytes is not None:
            parts.append(human_bytes(self.size_bytes))
        if self.dtype:
            parts.append(self.dtype)
        return " · ".join(p for p in parts if p)


def choices_from_server(models: Any) -> list[ModelChoice]:
    """The choices of a :class:`vidstudio.protocol.ModelList` (every entry, listing order)."""
    return [
        ModelChoice(m.id, m.kind, m.family or "", m.variant or "", m.size_bytes, m.dtype, m.error, "server")
        for m in models.data
    ]


def choices_from_files(files: Sequence[dict[str, Any]]) -> list[ModelChoice]:
    """The choices of :meth:`vidstudio.nodes.generate.LoadModel.model_files` entries (local model folders)."""
    return [
        ModelChoice(
            str(f["path"]),
            str(f.get("kind") or "checkpoint"),
            str(f.get("family") or ""),
            str(f.get("variant") or ""),
            int(f["size"]) if f.get("size") is not None else None,
            f.get("dtype") or None,
            f.get("error") or None,
            "folders",
            _within(str(f["path"]), f.get("folder")),
        )
        for f in files
    ]


def _within(path: str, folder: Any) -> str:
    """``path`` relative to ``folder`` when inside it, else ``path``."""
    from pathlib import Path

    try:
        return str(Path(path).relative_to(str(folder))) if folder else path
    except ValueError:
        return path


class ModelChoices(QObject):
    """The models the pickers of one window offer (see the module's text).

    Args:
        generation: the window's :class:`vidstudio.ui.state.generation.GenerationService` (its ``config``,
            ``client`` and ``connected`` signal).
        runner: the window's worker threads.

    Attributes:
        choices: the last list read (empty until then); status: ``""``, ``"reading"``, or why the list could not
            be read, in words.

    Signals: ``changed()`` after each reading (or failure).
    """

    changed = Signal()

    def __init__(self, generation: Any, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.generation, self.runner = generation, runner
        self.choices: list[ModelChoice] = []
        self.status = ""
        self._ticket = 0
        self._config = generation.config
        generation.connected.connect(self.refresh)
        generation.state_changed.connect(self._maybe_reconfigured)

    @property
    def remote(self) -> bool:
        """True when the window uses a remote server (the server's list), False for the local one (the folders)."""
        return not self.generation.config.is_local

    def for_param(self, name: str) -> list[ModelChoice]:
        """The choices parameter ``name`` takes (:data:`KINDS_FOR_PARAM`; none for another parameter)."""
        kinds = KINDS_FOR_PARAM.get(name, ())
        return [c for c in self.choices if c.kind in kinds]

    def refresh(self) -> None:
        """Reads the list again on a worker thread (remote: ``GET /v1/models`` once there is a client; local: the
        model folders); ``changed`` follows."""
        self._ticket += 1
        ticket = self._ticket
        if self.remote:
            client = self.generation.client
            if client is None:
                self._set(ticket, [], "not connected to the generation server")
                return
            work, args, convert = client.models, (), choices_from_server
        else:
            from vidstudio.nodes.generate import LoadModel

            folders = [str(d) for d in self.generation.config.models_dirs]
            work, args, convert = LoadModel.model_files, (folders,), choices_from_files
        self.status = "reading"
        try:
            self.runner.submit(
                work,
                *args,
                on_done=lambda r: self._set(ticket, convert(r), ""),
                on_error=lambda e: self._set(ticket, [], error_text(e)),
            )
        except RuntimeError:  # the window is closing
            pass

    def _maybe_reconfigured(self) -> None:
        if self.generation.config != self._config:  # another server (or other model folders) in Preferences
            self._config = self.generation.config
            self.refresh()

    def _set(self, ticket: int, choices: list[ModelChoice], status: str) -> None:
        if ticket != self._ticket:  # an older reading (another server) answered late
            return
        self.choices, self.status = choices, status
        self.changed.emit()
