"""Editors for node parameters, chosen by the declaration's ``kind`` (and ``min``/``max``/``step``,
``choices``, ``file_role``), so that a new node type gets a working inspector without GUI changes.

Every editor emits ``edited(value, final)``: ``final`` is False while a slider is dragged (the session
merges those into one undo step between ``drag_started`` and ``drag_finished``) and True for a committed
value. :meth:`ParamEditor.set_value` never emits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from vidstudio.graph.node import Param
from vidstudio.project import edits
from vidstudio.ui.widgets import theme

SLIDER_STEPS = 1000


class ParamEditor(QWidget):
    """Base of the parameter editors.

    Args:
        param: the declaration.
        project_dir: returns the project folder (file paths are stored relative to it when inside it).
    """

    edited = Signal(object, bool)
    drag_started = Signal()
    drag_finished = Signal()

    def __init__(
        self, param: Param, project_dir: Callable[[], Path | None] = lambda: None, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.param = param
        self.project_dir = project_dir
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(4)

    def set_value(self, value: Any) -> None:
        """Shows ``value`` without emitting ``edited``."""
        raise NotImplementedError

    def value(self) -> Any:
        """The value shown."""
        raise NotImplementedError

    def bind(self, session: Any, node_id: str) -> None:
        """Called by the Inspector once the editor shows a parameter of node ``node_id`` of ``session``
        (a :class:`~vidstudio.ui.state.session.Session`). Editors of whole documents use it to name their undo steps,
        follow the playhead and share the Viewer's editing state; the default does nothing."""


def _decimals(step: float | None) -> int:
    """Decimals shown for a float with this step (0.01 -> 2, 0.5 -> 1, 1 -> 1; no step -> 3)."""
    if not step:
        return 3
    if step >= 1:
        return 1
    return min(5, max(1, math.ceil(-math.log10(step) - 1e-9)))


class NumberEditor(ParamEditor):
    """``float`` and ``int``: a spin box, with a slider when both bounds are set and the range is not huge
    (at most 1000 steps of ``step``)."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.is_int = param.kind == "int"
        lo = param.min if param.min is not None else -1e9
        hi = param.max if param.max is not None else 1e9
        if self.is_int:
            self.spin: QSpinBox | QDoubleSpinBox = QSpinBox(self)
            self.spin.setRange(int(max(lo, -(2**31) + 1)), int(min(hi, 2**31 - 1)))
            self.spin.setSingleStep(int(param.step or 1))
        else:
            self.spin = QDoubleSpinBox(self)
            self.spin.setDecimals(_decimals(param.step))
            self.spin.setRange(lo, hi)
            self.spin.setSingleStep(param.step or 0.1)
        self.spin.setKeyboardTracking(False)
        self.spin.setAccelerated(True)
        self.spin.setMinimumWidth(86)
        self.spin.valueChanged.connect(lambda v: self.edited.emit(self.value(), True) if not self._dragging else None)
        self.slider: QSlider | None = None
        self._dragging = False
        if param.min is not None and param.max is not None and param.max > param.min:
            steps = (param.max - param.min) / (
                param.step or (1 if self.is_int else (param.max - param.min) / SLIDER_STEPS)
            )
            if steps <= 1000:  # a slider over a huge range is useless: the spin box alone then
                self.slider = QSlider(Qt.Orientation.Horizontal, self)
                self.slider.setRange(0, SLIDER_STEPS)
                self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                self.slider.sliderPressed.connect(self._press)
                self.slider.sliderReleased.connect(self._release)
                self.slider.valueChanged.connect(self._slid)
                self._lay.addWidget(self.slider, 3)
        self._lay.addWidget(self.spin, 2)

    def _to_slider(self, v: float) -> int:
        p = self.param
        return int(round((v - p.min) / (p.max - p.min) * SLIDER_STEPS))  # type: ignore[operator]

    def _from_slider(self, s: int) -> float:
        p = self.param
        v = p.min + (p.max - p.min) * s / SLIDER_STEPS  # type: ignore[operator]
        if p.step:
            v = p.min + round((v - p.min) / p.step) * p.step  # type: ignore[operator]
        return int(round(v)) if self.is_int else round(float(v), 6)

    def _press(self) -> None:
        self._dragging = True
        self.drag_started.emit()

    def _release(self) -> None:
        self._dragging = False
        self.edited.emit(self.value(), True)
        self.drag_finished.emit()

    def _slid(self, s: int) -> None:
        v = self._from_slider(s)
        with QSignalBlocker(self.spin):
            self.spin.setValue(v)
        self.edited.emit(self.value(), not self._dragging)

    def set_value(self, value: Any) -> None:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return
        with QSignalBlocker(self.spin):
            self.spin.setValue(int(round(v)) if self.is_int else v)
        if self.slider is not None and not self._dragging:
            with QSignalBlocker(self.slider):
                self.slider.setValue(self._to_slider(min(max(v, self.param.min), self.param.max)))  # type: ignore[type-var]

    def value(self) -> Any:
        v = self.spin.value()
        return int(v) if self.is_int else float(v)


class BoolEditor(ParamEditor):
    """``bool``: a check box."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.box = QCheckBox(self)
        self.box.toggled.connect(lambda on: self.edited.emit(bool(on), True))
        self._lay.addWidget(self.box)
        self._lay.addStretch(1)

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            self.box.setChecked(bool(value))

    def value(self) -> Any:
        return self.box.isChecked()


class StringEditor(ParamEditor):
    """``string``: one line, committed on Enter or when focus leaves."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(param.help.split(";")[-1].strip() if param.help else "")
        self.line.editingFinished.connect(self._commit)
        self._lay.addWidget(self.line)
        self._shown = ""

    def _commit(self) -> None:
        if self.line.text() != self._shown:
            self._shown = self.line.text()
            self.edited.emit(self.line.text(), True)

    def set_value(self, value: Any) -> None:
        self._shown = "" if value is None else str(value)
        with QSignalBlocker(self.line):
            self.line.setText(self._shown)

    def value(self) -> Any:
        return self.line.text()


def typed_path(text: str, project_dir: Path | None) -> Path | None:
    """The path a file editor's line names: ``~`` expanded, a relative path taken from the project folder (kept
    relative when there is none); None for an empty line. Where a file dialog starts from."""
    text = text.strip()
    if not text:
        return None
    p = Path(text).expanduser()
    return p if p.is_absolute() or project_dir is None else Path(project_dir) / p


#: The subfolder of a model folder (ComfyUI's layout) where each model-path parameter's picker starts.
MODEL_SUBFOLDERS: dict[str, tuple[str, ...]] = {
    "lora": ("loras",),
    "vae_file": ("vae",),
    "text_encoder_file": ("text_encoders", "clip"),
    "model": ("diffusion_models", "unet", "checkpoints"),
}


def model_folders() -> list[Path]:
    """The model folders of Preferences (:attr:`~vidstudio.ui.state.settings.ServerConfig.models_dirs`) that
    exist."""
    from vidstudio.ui.state.settings import ServerConfig

    return [p for p in (Path(d).expanduser() for d in ServerConfig.load().models_dirs) if p.is_dir()]


class ModelPathEditor(StringEditor):
    """``string`` with ``file_role="model"`` (Load Model's model, base model, VAE and text-encoder files, Load
    LoRA's LoRA): a path or a Hugging Face repo id typed in the line, or a file (or pipeline folder) chosen
    with the browse button, whose dialog starts in the model folders of Preferences (in their ComfyUI
    subfolder for the parameter, :data:`MODEL_SUBFOLDERS`, when it exists) unless the value is a path.

    Once given the window's :class:`~vidstudio.ui.state.model_choices.ModelChoices` (:meth:`set_choices`), a
    second button (``pick_button``) drops down the models of the right kind that the server has (a remote
    server's ids) or the model folders hold (local), with family, variant, size and storage type; the line
    completes from the same list (``completer``), so that a model is chosen without typing its id.
    """

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.line.setPlaceholderText("a file, a pipeline folder or a Hugging Face repo id")
        self.button = QToolButton(self)
        self.button.setIcon(theme.icon("mdi6.folder-open-outline"))
        self.button.setToolTip("Browse your model folders…")
        self.button.setAutoRaise(True)
        menu = QMenu(self.button)
        menu.addAction("Choose Weights File…", lambda: self.browse("file"))
        if param.name in ("model", "base_model"):
            menu.addAction("Choose Model Folder…", lambda: self.browse("folder"))
        self.button.setMenu(menu)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.pick_button = QToolButton(self)
        self.pick_button.setIcon(theme.icon("mdi6.server"))
        self.pick_button.setToolTip("Choose from the models the generation server has…")
        self.pick_button.setAutoRaise(True)
        self.pick_menu = QMenu(self.pick_button)
        self.pick_menu.aboutToShow.connect(self._fill_pick_menu)
        self.pick_button.setMenu(self.pick_menu)
        self.pick_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.pick_button.hide()
        self._words = QStringListModel(self)
        self.completer = QCompleter(self._words, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.activated.connect(lambda text: self.pick(text))
        self.line.setCompleter(self.completer)
        self.choices: Any = None
        self._lay.setStretch(0, 1)
        self._lay.addWidget(self.pick_button)
        self._lay.addWidget(self.button)

    # ------------------------------------------------------------------------------------------ the server's list
    def set_choices(self, choices: Any) -> None:
        """Offers the models of ``choices`` (a :class:`~vidstudio.ui.state.model_choices.ModelChoices`) that this
        parameter takes, following its updates; reads the list when it has not been read yet."""
        self.choices = choices
        choices.changed.connect(self._choices_changed)
        self.pick_button.show()
        self._choices_changed()
        if not choices.choices and choices.status != "reading":
            choices.refresh()

    def offered(self) -> list[Any]:
        """The :class:`~vidstudio.ui.state.model_choices.ModelChoice` entries offered now (usable ones first)."""
        if self.choices is None:
            return []
        got = self.choices.for_param(self.param.name)
        return [c for c in got if not c.error] + [c for c in got if c.error]

    def _choices_changed(self) -> None:
        self._words.setStringList([c.value for c in self.offered() if not c.error])
        where = "the generation server has" if self.choices.remote else "your model folders hold"
        n = len(self.offered())
        self.pick_button.setToolTip(
            f"Choose from the {n} model(s) {where}…" if n else f"No model of this kind that {where} (yet)"
        )

    def _fill_pick_menu(self) -> None:
        self.pick_menu.clear()
        offered = self.offered()
        for c in offered:
            label = f"{c.shown}  —  {c.details}" if c.details else c.shown
            act = self.pick_menu.addAction(label, lambda v=c.value: self.pick(v))
            act.setData(c.value)
            act.setToolTip(c.value)
            if c.error:
                act.setEnabled(False)
                act.setToolTip(c.error)
        if not offered:
            status = self.choices.status if self.choices is not None else ""
            act = self.pick_menu.addAction(
                "reading the list…" if status == "reading" else (status or "no model of this kind")
            )
            act.setEnabled(False)
        self.pick_menu.addSeparator()
        if self.choices is not None:
            self.pick_menu.addAction("Read the List Again", self.choices.refresh)

    def pick(self, value: str) -> None:
        """Sets a model from the list (a server's id as it is; a local file's path as :meth:`choose` does)."""
        if self.choices is not None and not self.choices.remote:
            self.choose(value)
            return
        with QSignalBlocker(self.line):
            self.line.setText(value)
        self._commit()

    def start_dir(self) -> str:
        """Where the dialog starts: the folder of the current path when it is one on disk, else the first
        model folder (its subfolder for this parameter when there is one), else the project folder."""
        base = self.project_dir()
        p = typed_path(self.line.text(), base)
        if p is not None and p.exists():
            return str(p.parent if p.is_file() else p)
        for folder in model_folders():
            for sub in MODEL_SUBFOLDERS.get(self.param.name, ()):
                if (folder / sub).is_dir():
                    return str(folder / sub)
            return str(folder)
        return str(base) if base is not None else ""

    def browse(self, how: str = "file") -> None:
        """Opens the file (or folder) dialog and commits the choice."""
        title = f"Choose {self.param.display_name}"
        if how == "folder":
            path = QFileDialog.getExistingDirectory(self, title, self.start_dir())
        else:
            path, _ = QFileDialog.getOpenFileName(self, title, self.start_dir(), FILE_FILTERS["model"])
        if path:
            self.choose(path)

    def choose(self, path: str) -> None:
        """Sets a path as if picked in the dialog (relative to the project folder when inside it)."""
        with QSignalBlocker(self.line):
            self.line.setText(edits.relative_to_project(path, self.project_dir()))
        self._commit()


class _PlainText(QPlainTextEdit):
    focus_lost = Signal()
    submit = Signal()

    def focusOutEvent(self, e: QFocusEvent) -> None:
        super().focusOutEvent(e)
        self.focus_lost.emit()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submit.emit()
            return
        super().keyPressEvent(e)


class TextEditor(ParamEditor):
    """``text`` (prompts): a multi-line box, committed when focus leaves, on Ctrl+Enter, or after a pause
    in typing."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.box = _PlainText(self)
        self.box.setTabChangesFocus(True)
        self.box.setFixedHeight(78)
        self.box.setPlaceholderText(param.help or param.display_name)
        self._shown = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(900)
        self._timer.timeout.connect(self._commit)
        self.box.textChanged.connect(self._timer.start)
        self.box.focus_lost.connect(self._commit)
        self.box.submit.connect(self._commit)
        self._lay.addWidget(self.box)

    def _commit(self) -> None:
        self._timer.stop()
        text = self.box.toPlainText()
        if text != self._shown:
            self._shown = text
            self.edited.emit(text, True)

    def set_value(self, value: Any) -> None:
        text = "" if value is None else str(value)
        if text == self.box.toPlainText():
            self._shown = text
            return
        self._shown = text
        with QSignalBlocker(self.box):
            self.box.setPlainText(text)

    def value(self) -> Any:
        return self.box.toPlainText()


class ChoiceEditor(ParamEditor):
    """``choice``: a drop-down of the declared choices."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.combo = QComboBox(self)
        for c in param.choices:
            self.combo.addItem(str(c).replace("_", " "), c)
        self.combo.activated.connect(lambda i: self.edited.emit(self.combo.itemData(i), True))
        self._lay.addWidget(self.combo, 1)

    def set_value(self, value: Any) -> None:
        i = self.combo.findData(value)
        with QSignalBlocker(self.combo):
            if i < 0:
                self.combo.addItem(f"{value} (invalid)", value)
                i = self.combo.count() - 1
            self.combo.setCurrentIndex(i)

    def value(self) -> Any:
        return self.combo.currentData()


FILE_FILTERS: dict[str, str] = {
    "image": "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)",
    "video": "Videos (*.mp4 *.mov *.m4v *.mkv *.webm *.gif *.avi);;All files (*)",
    "audio": "Sound (*.wav *.mp3 *.flac *.aac *.m4a *.ogg *.opus);;All files (*)",
    "model": "Model weights (*.safetensors *.ckpt *.bin *.pt *.gguf);;All files (*)",
    "save_video": "MP4 video (*.mp4);;All files (*)",
    "any": "All files (*)",
}


class FileEditor(ParamEditor):
    """``file``: a path (relative to the project file when inside its folder) and a browse button whose
    dialog depends on ``file_role`` (images, videos, models: file or folder, save targets)."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(
            {
                "image": "choose an image…",
                "model": "a model folder, file or Hugging Face id",
                "save_video": "where to write",
                "save_folder": "a folder",
            }.get(param.file_role, "a file")
        )
        self.line.editingFinished.connect(self._commit)
        self.button = QToolButton(self)
        self.button.setIcon(theme.icon("mdi6.folder-open-outline"))
        self.button.setToolTip("Browse…")
        self.button.setAutoRaise(True)
        if param.file_role == "model":
            menu = QMenu(self.button)
            menu.addAction("Choose Weights File…", lambda: self.browse("file"))
            menu.addAction("Choose Model Folder…", lambda: self.browse("folder"))
            self.button.setMenu(menu)
            self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        else:
            self.button.clicked.connect(lambda: self.browse())
        self._lay.addWidget(self.line, 1)
        self._lay.addWidget(self.button)
        self._shown = ""

    def _start_dir(self) -> str:
        base = self.project_dir()
        p = typed_path(self.line.text(), base)
        if p is not None:
            return str(p.parent if p.suffix else p)
        return str(base) if base is not None else ""

    def browse(self, how: str | None = None) -> None:
        """Opens the file dialog for this role and commits the choice."""
        role = self.param.file_role
        start = self._start_dir()
        title = f"Choose {self.param.display_name}"
        if role == "save_folder" or how == "folder":
            path = QFileDialog.getExistingDirectory(self, title, start)
        elif role == "save_video":
            path, _ = QFileDialog.getSaveFileName(self, title, start, FILE_FILTERS["save_video"])
        else:
            path, _ = QFileDialog.getOpenFileName(self, title, start, FILE_FILTERS.get(role, FILE_FILTERS["any"]))
        if path:
            self.choose(path)

    def choose(self, path: str) -> None:
        """Sets a path as if picked in the dialog (stored relative to the project folder when inside it)."""
        rel = edits.relative_to_project(path, self.project_dir())
        with QSignalBlocker(self.line):
            self.line.setText(rel)
        self._commit()

    def _commit(self) -> None:
        text = self.line.text().strip()
        if text != self._shown:
            self._shown = text
            self.edited.emit(text, True)

    def set_value(self, value: Any) -> None:
        self._shown = "" if value is None else str(value)
        with QSignalBlocker(self.line):
            self.line.setText(self._shown)
        self.line.setToolTip(self._shown)

    def value(self) -> Any:
        return self.line.text().strip()


class ColorEditor(ParamEditor):
    """``color``: a swatch that opens a colour picker (with alpha for 4-component colours), and the hex."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self.swatch = QToolButton(self)
        self.swatch.setFixedSize(46, 20)
        self.swatch.setToolTip("Choose colour…")
        self.swatch.clicked.connect(self.pick)
        self.label = QLabel(self)
        self.label.setProperty("role", "dim")
        self._lay.addWidget(self.swatch)
        self._lay.addWidget(self.label, 1)
        self._value: list[float] = [0.0, 0.0, 0.0]

    def pick(self) -> None:
        """Opens the colour dialog."""
        opts = (
            QColorDialog.ColorDialogOption.ShowAlphaChannel
            if len(self._value) == 4
            else QColorDialog.ColorDialogOption(0)
        )
        c = QColorDialog.getColor(self._qcolor(), self, f"Choose {self.param.display_name}", opts)
        if c.isValid():
            self.choose(c)

    def choose(self, color: QColor) -> None:
        """Sets a colour as if picked in the dialog."""
        v = [round(color.redF(), 4), round(color.greenF(), 4), round(color.blueF(), 4)]
        if len(self._value) == 4:
            v.append(round(color.alphaF(), 4))
        self.set_value(v)
        self.edited.emit(v, True)

    def _qcolor(self) -> QColor:
        v = self._value
        c = QColor.fromRgbF(*(min(max(float(x), 0.0), 1.0) for x in v[:3]))
        if len(v) == 4:
            c.setAlphaF(min(max(float(v[3]), 0.0), 1.0))
        return c

    def set_value(self, value: Any) -> None:
        if isinstance(value, (list, tuple)) and len(value) in (3, 4):
            try:
                self._value = [float(x) for x in value]
            except (TypeError, ValueError):
                pass
        c = self._qcolor()
        self.swatch.setStyleSheet(
            f"QToolButton {{ background: {c.name()}; border: 1px solid #555; border-radius: 3px; }}"
        )
        self.label.setText(c.name() + (f"  α {self._value[3]:.2f}" if len(self._value) == 4 else ""))

    def value(self) -> Any:
        return list(self._value)


class JsonEditor(ParamEditor):
    """``json`` (and any kind without its own editor): the value as indented JSON, checked with the
    declaration's validator and committed when valid (focus out or Ctrl+Enter); an invalid text stays in
    the box with the reason under it, so nothing typed is lost."""

    def __init__(self, param: Param, project_dir=lambda: None, parent: QWidget | None = None):
        super().__init__(param, project_dir, parent)
        self._lay.setDirection(QHBoxLayout.Direction.TopToBottom)
        self.box = _PlainText(self)
        self.box.setTabChangesFocus(True)
        f = self.box.font()
        f.setFamily("DejaVu Sans Mono")
        self.box.setFont(f)
        self.box.setFixedHeight(96)
        self.box.focus_lost.connect(self._commit)
        self.box.submit.connect(self._commit)
        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self._lay.addWidget(self.box)
        self._lay.addWidget(self.error)
        self._shown = ""

    def _commit(self) -> None:
        text = self.box.toPlainText()
        if text == self._shown:
            return
        try:
            value = json.loads(text) if text.strip() else None
        except ValueError as e:
            self._show_error(f"not valid JSON: {e}")
            return
        _, msg = self.param.check(value)
        if msg:
            self._show_error(msg)
            return
        self._show_error("")
        self._shown = text
        self.edited.emit(value, True)  # the JSON as typed (validated), so the document keeps its own form

    def _show_error(self, msg: str) -> None:
        self.error.setText(msg)
        self.error.setVisible(bool(msg))

    def set_value(self, value: Any) -> None:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
            if len(text) > 60:  # long values one item per line; short ones stay readable on one line
                text = json.dumps(value, indent=1, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = str(value)
        if self.box.hasFocus() and self.box.toPlainText() != self._shown:
            return  # the user is typing: do not overwrite
        self._shown = text
        with QSignalBlocker(self.box):
            self.box.setPlainText(text)
        self._show_error("")

    def value(self) -> Any:
        try:
            return json.loads(self.box.toPlainText())
        except ValueError:
            return None


#: Editor class by parameter kind; plugins' kinds fall back to :class:`JsonEditor`.
EDITORS: dict[str, type[ParamEditor]] = {
    "float": NumberEditor,
    "int": NumberEditor,
    "bool": BoolEditor,
    "string": StringEditor,
    "text": TextEditor,
    "choice": ChoiceEditor,
    "file": FileEditor,
    "color": ColorEditor,
    "json": JsonEditor,
}


#: Editors for particular parameters, checked before :data:`EDITORS`: ``(match, editor class)`` where
#: ``match(param)`` is True for the declarations the editor is for (e.g. a ``json`` parameter whose validator
#: is the trajectory document's). See :func:`register_param_editor`.
PARAM_EDITORS: list[tuple[Callable[[Param], bool], type[ParamEditor]]] = []


def register_param_editor(match: Callable[[Param], bool], cls: type[ParamEditor]) -> None:
    """Makes parameters for which ``match(param)`` is True use editor ``cls`` (later registrations win).
    This is how the trajectory and physics documents get their own editors
    (:mod:`vidstudio.ui.widgets.motion_editors`), and how a plugin's GUI module could add one."""
    PARAM_EDITORS.insert(0, (match, cls))


def editor_for(
    param: Param, project_dir: Callable[[], Path | None] = lambda: None, parent: QWidget | None = None
) -> ParamEditor:
    """The editor widget for a parameter declaration: a registered one (:data:`PARAM_EDITORS`), else the one
    for its kind (:data:`EDITORS`), else :class:`JsonEditor`."""
    for match, cls in PARAM_EDITORS:
        try:
            hit = match(param)
        except Exception:  # a matcher must never break the Inspector
            hit = False
        if hit:
            return cls(param, project_dir, parent)
    if param.kind == "string" and param.file_role == "model":
        return ModelPathEditor(param, project_dir, parent)
    cls = EDITORS.get(param.kind, JsonEditor)
    return cls(param, project_dir, parent)


__all__ = [
    "ParamEditor",
    "EDITORS",
    "PARAM_EDITORS",
    "register_param_editor",
    "editor_for",
    "NumberEditor",
    "BoolEditor",
    "StringEditor",
    "ModelPathEditor",
    "TextEditor",
    "ChoiceEditor",
    "FileEditor",
    "ColorEditor",
    "JsonEditor",
]
