"""The Inspector: the selected node's parameters as editors built from its declarations, a key button on
each animatable parameter (set or remove a key at the playhead), the node's problems and last run; with
nothing selected, the project settings.

An animated parameter shows its value at the playhead, and editing it keys that frame (as After Effects
does once a property is animated), so a change is never silently lost at the next frame.

A Load Model node (a node type with ``gpu_estimate``) also shows the GPU memory its weights would take under
its quantisation and offload choices, before anything loads (computed on a worker thread from the model's
configs and ``.safetensors`` headers; each quantisation choice's figure is in its drop-down), and
for a Hugging Face repo id that is not downloaded, a Download… button that opens the Models window with the id.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vidstudio.graph.node import Param
from vidstudio.media import timecode
from vidstudio.project import edits
from vidstudio.ui.state.session import GraphChange, Session
from vidstudio.ui.widgets import theme
from vidstudio.ui.widgets.motion_editors import register_motion_editors
from vidstudio.ui.widgets.param_editors import ModelPathEditor, ParamEditor, editor_for


class KeyButton(QToolButton):
    """The diamond next to an animatable parameter: hollow grey (not animated), hollow orange (animated,
    no key on this frame), filled orange (a key on this frame). Click: set or remove the key here."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAutoRaise(True)
        self.setFixedSize(22, 22)
        self.state = "none"
        self.set_state("none")

    def set_state(self, state: str) -> None:
        """``"none"``, ``"animated"`` or ``"key"``."""
        self.state = state
        if state == "key":
            self.setIcon(theme.icon("mdi6.rhombus", theme.ACCENT))
            self.setToolTip("Remove the key at the playhead")
        elif state == "animated":
            self.setIcon(theme.icon("mdi6.rhombus-outline", theme.ACCENT))
            self.setToolTip("Set a key at the playhead (the parameter is animated)")
        else:
            self.setIcon(theme.icon("mdi6.rhombus-outline", "#777777"))
            self.setToolTip("Set a key at the playhead (animates the parameter)")


class _ParamRow:
    def __init__(self, param: Param, label: QLabel, editor: ParamEditor, key: KeyButton | None, error: QLabel):
        self.param = param
        self.label = label
        self.editor = editor
        self.key = key
        self.error = error


class Inspector(QScrollArea):
    """The Inspector pane of a :class:`~vidstudio.ui.state.session.Session`.

    Attributes:
        rows: ``{param_name: row}`` of the inspected node, with ``row.editor`` (a
            :class:`~vidstudio.ui.widgets.param_editors.ParamEditor`) and ``row.key`` (a :class:`KeyButton` or None).
        node_id: the inspected node, or None (project settings shown).
        model_hints: ``{param_name: (label, button)}`` of the model fields (Load Model's, Load LoRA's): with the
            local server, a path outside the model folders of Preferences says so there (the server loads only
            those), and the button (``add_model_folder_requested(folder)``) adds its folder.
        estimate: the last GPU-memory estimate shown for a Load Model node (a
            :class:`vidstudio.backend.estimate.GpuEstimate`), or None; ``estimate_label`` shows it and
            ``download_button`` (shown for a repo id that is not downloaded) emits ``download_requested(repo_id)``.

    Args:
        runner: worker threads for the estimate (None: computed on the calling thread, for tests).
        model_choices: the window's :class:`~vidstudio.ui.state.model_choices.ModelChoices`, which the model
            fields (:class:`~vidstudio.ui.widgets.param_editors.ModelPathEditor`) offer; None: only typing and
            browsing.
    """

    download_requested = Signal(str)
    #: The folder a model path lies in, to add to Preferences > Model folders (the hint's button).
    add_model_folder_requested = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None, runner: Any = None, model_choices: Any = None):
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.model_choices = model_choices
        self.estimate: Any = None
        self.estimate_label: QLabel | None = None
        self.download_button: QPushButton | None = None
        self._estimate_ticket = 0
        self.setObjectName("Inspector")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.node_id: str | None = None
        self.title_edit: QLineEdit | None = None
        self.status_label: QLabel | None = None
        self.rows: dict[str, _ParamRow] = {}
        self.model_hints: dict[str, tuple[QLabel, QPushButton]] = {}
        self._hint_keys: dict[str, tuple] = {}
        self.settings_editors: dict[str, QWidget] = {}
        self._body: QWidget | None = None
        register_motion_editors()
        session.view.selection_changed.connect(self.rebuild)
        session.registry_changed.connect(self.rebuild)
        session.project_replaced.connect(self.rebuild)
        session.graph_changed.connect(self._graph_changed)
        session.transport.playhead_changed.connect(lambda _f: self.refresh_values())
        session.evaluation.evaluated.connect(lambda _r: self.refresh_status())
        self.rebuild()

    # ================================================================================== building
    def rebuild(self) -> None:
        """Rebuilds the pane for the current selection."""
        s = self.session
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)
        self.rows = {}
        self.model_hints, self._hint_keys = {}, {}
        self.settings_editors = {}
        self.title_edit = self.status_label = None
        self.estimate_label = self.download_button = None
        self.estimate = None
        sel = [n for n in s.view.selection if s.project.has_node(n)]
        if len(sel) == 1:
            self.node_id = sel[0]
            self._build_node(lay, sel[0])
        else:
            self.node_id = None
            if len(sel) > 1:
                h = QLabel(f"{len(sel)} nodes selected", body)
                h.setProperty("role", "heading")
                lay.addWidget(h)
                names = QLabel(", ".join(sel), body)
                names.setWordWrap(True)
                names.setProperty("role", "dim")
                lay.addWidget(names)
            self._build_settings(lay)
        lay.addStretch(1)
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(body)
        self._body = body
        self.refresh_values()
        self.refresh_status()
        self.refresh_estimate()
        self.refresh_model_hints()
        self.refresh_unused()

    def _build_node(self, lay: QVBoxLayout, node_id: str) -> None:
        s = self.session
        node = s.project.node(node_id)
        cls = s.registry.find(node.type)
        head = QGridLayout()
        head.setHorizontalSpacing(6)
        self.title_edit = QLineEdit(node.title)
        self.title_edit.setPlaceholderText(cls.title if cls is not None else node.type)
        self.title_edit.setToolTip("The label shown on the node (empty: the type's title)")
        f = QFont(self.title_edit.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() + 1)
        self.title_edit.setFont(f)
        self.title_edit.editingFinished.connect(lambda: s.set_title(node_id, self.title_edit.text().strip()))
        head.addWidget(self.title_edit, 0, 0, 1, 2)
        sub = QLabel(f"{node.type}  ·  id <b>{node_id}</b>" + (f"  ·  {cls.category}" if cls is not None else ""))
        sub.setProperty("role", "dim")
        sub.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(sub, 1, 0, 1, 2)
        lay.addLayout(head)
        if cls is not None and cls.description:
            d = QLabel(cls.description)
            d.setWordWrap(True)
            d.setProperty("role", "dim")
            lay.addWidget(d)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.status_label)
        if cls is None:
            reason = s.registry.unavailable_reason(node.type) or f"unknown node type {node.type!r}"
            msg = QLabel(
                f"This node's type is not available: {reason}.\nIts parameters are kept in the project as they are."
            )
            msg.setWordWrap(True)
            msg.setProperty("role", "error")
            lay.addWidget(msg)
            return
        if callable(getattr(cls, "gpu_estimate", None)):
            self._build_estimate(lay)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {theme.BORDER};")
        lay.addWidget(line)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(5)
        grid.setColumnStretch(1, 1)
        r = 0
        for p in cls.params:
            label = QLabel(p.display_name)
            label.setToolTip(p.help)
            label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            label.customContextMenuRequested.connect(
                lambda pos, p=p, label=label: self._param_menu(p, label.mapToGlobal(pos))
            )
            editor = editor_for(p, lambda: s.project.project_dir)
            editor.bind(s, node_id)
            if self.model_choices is not None and isinstance(editor, ModelPathEditor):
                editor.set_choices(self.model_choices)
            if p.kind != "json":
                editor.setToolTip(p.help)
            editor.edited.connect(lambda v, final, p=p: self._edited(node_id, p, v, final))
            editor.drag_started.connect(s.begin_interaction)
            editor.drag_finished.connect(s.end_interaction)
            unit = QLabel(p.unit)
            unit.setProperty("role", "dim")
            key = None
            if p.animatable:
                key = KeyButton()
                key.clicked.connect(lambda _c=False, p=p: self._toggle_key(node_id, p))
            err = QLabel()
            err.setProperty("role", "error")
            err.setWordWrap(True)
            err.hide()
            align = Qt.AlignmentFlag.AlignTop if p.kind in ("text", "json") else Qt.AlignmentFlag.AlignVCenter
            if getattr(editor, "wide", False):  # a document editor with its own form: full width, under its name
                label.setProperty("role", "heading")
                grid.addWidget(label, r, 0, 1, 4)
                grid.addWidget(editor, r + 1, 0, 1, 4)
                grid.addWidget(err, r + 2, 0, 1, 4)
                self.rows[p.name] = _ParamRow(p, label, editor, key, err)
                r += 3
                continue
            grid.addWidget(label, r, 0, align)
            grid.addWidget(editor, r, 1)
            grid.addWidget(unit, r, 2, align)
            if key is not None:
                grid.addWidget(key, r, 3, align)
            grid.addWidget(err, r + 1, 1, 1, 3)
            self.rows[p.name] = _ParamRow(p, label, editor, key, err)
            r += 2
            if isinstance(editor, ModelPathEditor):
                grid.addWidget(self._model_hint(p.name), r, 1, 1, 3)
                r += 1
        lay.addLayout(grid)

    def _model_hint(self, name: str) -> QWidget:
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        label = QLabel()
        label.setProperty("role", "error")
        label.setWordWrap(True)
        button = QPushButton(theme.icon("mdi6.folder-plus-outline"), "Add Its Folder to Model Folders")
        button.clicked.connect(lambda: self._add_model_folder(name))
        bl.addWidget(label)
        bl.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        box.hide()
        self.model_hints[name] = (label, button)
        return box

    def _server_config(self) -> Any:
        g = getattr(self.model_choices, "generation", None)
        if g is not None:
            return g.config
        from vidstudio.ui.state.settings import ServerConfig

        return ServerConfig.load()

    def refresh_unused(self) -> None:
        """Greys out the parameters the node ignores under its other values (its type's ``unused_params``, e.g.
        Load Model's AnimateDiff fields for a Wan model, Interpolate's ``factor`` in mode ``fps``), the reason
        in their tooltip."""
        s = self.session
        if self.node_id is None or not s.project.has_node(self.node_id):
            return
        node = s.project.node(self.node_id)
        cls = s.registry.find(node.type)
        if cls is None:
            return
        params = {p.name: p.default for p in cls.params} | dict(node.params)
        try:
            unused = dict(getattr(cls, "unused_params", lambda *_a: {})(params, s.project.project_dir))
        except Exception:  # a plugin's faulty method must not break the Inspector
            unused = {}
        for name, row in self.rows.items():
            why = unused.get(name)
            row.label.setEnabled(why is None)
            row.editor.setEnabled(why is None)
            row.label.setToolTip(why if why is not None else row.param.help)
            if row.param.kind != "json":
                row.editor.setToolTip(why if why is not None else row.param.help)

    def refresh_model_hints(self) -> None:
        """Says, under each model field whose value is a path the local server cannot see (outside the model
        folders of Preferences), so and what to do (:func:`vidstudio.ui.state.model_ids.server_ref`)."""
        from vidstudio.ui.state.model_ids import folder_to_add, server_ref

        s = self.session
        if self.node_id is None or not s.project.has_node(self.node_id):
            return
        config = self._server_config()
        params = s.project.node(self.node_id).params
        for name, (label, button) in self.model_hints.items():
            value = str(params.get(name, "") or "")
            key = (value, config.is_local, config.models_dirs, str(s.project.project_dir))
            if self._hint_keys.get(name) == key:
                continue
            self._hint_keys[name] = key
            ref = server_ref(value, s.project.project_dir, config.models_dirs) if config.is_local else None
            problem = ref.problem if ref is not None else None
            label.setText(problem or "")
            folder = str(folder_to_add(ref.path)) if (problem and ref.path is not None) else ""
            button.setProperty("folder", folder)
            button.setToolTip(f"Add {folder} to Preferences > Model folders (restarts the local server)")
            button.setVisible(bool(folder))
            label.parentWidget().setVisible(bool(problem))

    def _add_model_folder(self, name: str) -> None:
        hint = self.model_hints.get(name)
        folder = str(hint[1].property("folder") or "") if hint is not None else ""
        if folder:
            self.add_model_folder_requested.emit(folder)

    def _build_estimate(self, lay: QVBoxLayout) -> None:
        box = QFrame()
        box.setObjectName("GpuEstimate")
        box.setStyleSheet(f"#GpuEstimate {{ border: 1px solid {theme.BORDER}; border-radius: 4px; }}")
        bl = QVBoxLayout(box)
        bl.setContentsMargins(8, 6, 8, 6)
        self.estimate_label = QLabel("GPU memory: estimating…")
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setTextFormat(Qt.TextFormat.RichText)
        self.estimate_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.estimate_label.setToolTip(
            "The model's weights on the GPU under the quantisation and offload choices, from its configs and "
            "weight-file headers; activations, the VAE decode and the CUDA context come on top."
        )
        bl.addWidget(self.estimate_label)
        self.download_button = QPushButton(theme.icon("mdi6.download-outline"), "Download…")
        self.download_button.hide()
        self.download_button.clicked.connect(self._download)
        bl.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(box)

    def _download(self) -> None:
        e = self.estimate
        if e is not None and e.repo_id:
            self.download_requested.emit(e.repo_id)

    def refresh_estimate(self) -> None:
        """Computes the Load Model node's GPU-memory estimate again (on the runner's worker thread when there is
        one) and shows it; an answer for an older state of the node is dropped."""
        s = self.session
        nid = self.node_id
        if self.estimate_label is None or nid is None or not s.project.has_node(nid):
            return
        node = s.project.node(nid)
        cls = s.registry.find(node.type)
        if cls is None:
            return
        params = {p.name: p.default for p in cls.params} | dict(node.params)
        project_dir = s.project.project_dir
        self._estimate_ticket += 1
        ticket = self._estimate_ticket

        def show(e: Any) -> None:
            if ticket == self._estimate_ticket and self.node_id == nid and self.estimate_label is not None:
                self._show_estimate(e)

        if self.runner is None:
            show(cls.gpu_estimate(params, project_dir))
        else:
            self.runner.submit(
                cls.gpu_estimate,
                params,
                project_dir,
                on_done=show,
                on_error=lambda exc: show(_Unknown(f"no estimate: {exc.__class__.__name__}: {exc}")),
            )

    def _show_estimate(self, e: Any) -> None:
        from vidstudio.ui.widgets.dialogs.models_dialog import human_bytes

        def size(gib: float | None) -> str:
            return "?" if gib is None else human_bytes(gib * 2**30)

        self.estimate = e
        dim = theme.TEXT_DIM
        figures = e.status == "ok" or any(v is not None for v in getattr(e, "components", {}).values())
        gguf = getattr(e, "gguf", "")
        card = getattr(e, "source", "files") == "model card"
        if not figures:
            color = theme.WARNING if e.status == "not-downloaded" else dim
            text = f"<b>GPU memory:</b> <span style='color:{color}'>{_esc(e.message)}</span>"
        else:
            choice = e.quantize.replace("_", " ")
            if e.on_gpu is None:
                head = (
                    f"<b>GPU memory:</b> weights streamed from the CPU ({e.offload} offload): not estimated, a "
                    f"small part of the {size(e.weights)} at a time"
                )
            else:
                offload = "" if e.offload == "none" else f", {e.offload} offload: the largest component"
                if gguf:
                    choice = f"GGUF {gguf}"
                where = ", from the model card" if card else ""
                head = f"<b>GPU memory (estimate{where}): {size(e.on_gpu)}</b> ({choice}{offload})"
            parts = " · ".join(f"{k.replace('_', ' ')} {size(v)}" for k, v in e.components.items() if v is not None)
            missing = [k.replace("_", " ") for k, v in e.components.items() if v is None]
            basis = getattr(e, "basis", "weights at 16-bit, activations extra")
            lines = [head, f"<span style='color:{dim}'>{parts}; {_esc(basis)}</span>"]
            if card:
                lines.insert(0, f"<span style='color:{theme.WARNING}'>{_esc(e.repo_id)} is not downloaded yet</span>")
            if missing:
                lines.append(f"<span style='color:{dim}'>not on disk: {', '.join(missing)}</span>")
            if gguf:
                lines.append(
                    f"<span style='color:{dim}'>transformer quantisation: does not apply to a GGUF file "
                    f"(its weights are {_esc(gguf)} already)</span>"
                )
            elif any(v is not None for v in e.per_choice.values()):
                per = " · ".join(f"{q.replace('_', ' ')} {size(v)}" for q, v in e.per_choice.items())
                lines.append(f"<span style='color:{dim}'>by transformer quantisation: {per}</span>")
            text = "<br>".join(lines)
        self.estimate_label.setText(text)
        if self.download_button is not None:
            self.download_button.setVisible(e.status == "not-downloaded")
            self.download_button.setToolTip(
                f"Open Edit > Models with {e.repo_id} in the download box" if e.repo_id else ""
            )
        for name, per in (("quantize", e.per_choice), ("quantize_text_encoder", e.per_choice_text_encoder)):
            row = self.rows.get(name)
            combo = getattr(row.editor, "combo", None) if row is not None else None
            if combo is None:
                continue
            for i in range(combo.count()):
                q = combo.itemData(i)
                label = str(q).replace("_", " ")
                if gguf and name == "quantize" and q != "none":
                    combo.setItemText(i, f"{label}  —  ignored: the GGUF file is quantised already")
                    continue
                gib = per.get(q) if figures else None
                combo.setItemText(i, f"{label}  —  {size(gib)}" if gib is not None else label)

    def _build_settings(self, lay: QVBoxLayout) -> None:
        s = self.session
        h = QLabel("Project settings")
        h.setProperty("role", "heading")
        lay.addWidget(h)
        path = s.project.path
        where = QLabel(str(path) if path else "not saved yet")
        where.setProperty("role", "dim")
        where.setWordWrap(True)
        lay.addWidget(where)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        st = s.settings
        width = QSpinBox()
        width.setRange(16, 8192)
        width.setSuffix(" px")
        width.setKeyboardTracking(False)
        height = QSpinBox()
        height.setRange(16, 8192)
        height.setSuffix(" px")
        height.setKeyboardTracking(False)
        frames = QSpinBox()
        frames.setRange(1, 100000)
        frames.setKeyboardTracking(False)
        fps = QLineEdit()
        fps.setToolTip("Frames per second: 24, 25, 30, or a ratio such as 30000/1001")
        width.setValue(st.width)
        height.setValue(st.height)
        frames.setValue(st.frame_count)
        fps.setText(str(st.model_dump(mode="json")["fps"]))
        self.settings_error = QLabel()
        self.settings_error.setProperty("role", "error")
        self.settings_error.setWordWrap(True)
        self.settings_error.hide()

        def apply(**kw: Any) -> None:
            try:
                s.set_settings(**kw)
                self.settings_error.hide()
            except ValueError as e:
                self.settings_error.setText(str(e))
                self.settings_error.show()

        width.valueChanged.connect(lambda v: apply(width=v))
        height.valueChanged.connect(lambda v: apply(height=v))
        frames.valueChanged.connect(lambda v: apply(frame_count=v))
        fps.editingFinished.connect(lambda: apply(fps=fps.text().strip()))
        form.addRow("Width", width)
        form.addRow("Height", height)
        form.addRow("Frame rate", fps)
        form.addRow("Frames", frames)
        self.duration = QLabel()
        self.duration.setProperty("role", "dim")
        form.addRow("Duration", self.duration)
        lay.addLayout(form)
        lay.addWidget(self.settings_error)
        self.settings_editors = {"width": width, "height": height, "frame_count": frames, "fps": fps}
        issues = [i for i in s.evaluation.issues if i.node_id is None]
        if issues:
            e = QLabel("<br>".join(f"⚠ {i}" for i in issues))
            e.setProperty("role", "error")
            e.setWordWrap(True)
            lay.addWidget(e)
        tip = QLabel("Select a node to edit its parameters. Tab in the Node Editor adds one.")
        tip.setProperty("role", "dim")
        tip.setWordWrap(True)
        lay.addSpacing(8)
        lay.addWidget(tip)

    # ================================================================================== syncing
    def _graph_changed(self, change: GraphChange) -> None:
        nid = self.node_id
        if nid is None:
            if change.settings:
                self.refresh_values()
            return
        if nid in change.removed or not self.session.project.has_node(nid):
            self.rebuild()
            return
        if nid in change.nodes or any(k.split(".")[0] == nid for k in change.animation) or change.settings:
            node = self.session.project.node(nid)
            if self.title_edit is not None and not self.title_edit.hasFocus():
                with QSignalBlocker(self.title_edit):
                    self.title_edit.setText(node.title)
            self.refresh_values()
            if nid in change.nodes:
                self.refresh_estimate()
                self.refresh_model_hints()
                self.refresh_unused()

    def refresh_values(self) -> None:
        """Shows the current values (animated ones at the playhead) and key states."""
        s = self.session
        if self.node_id is None:
            st = s.settings
            ed = self.settings_editors
            if ed:
                for name in ("width", "height", "frame_count"):
                    w = ed[name]
                    with QSignalBlocker(w):
                        w.setValue(getattr(st, name))  # type: ignore[attr-defined]
                if not ed["fps"].hasFocus():
                    ed["fps"].setText(str(st.model_dump(mode="json")["fps"]))  # type: ignore[attr-defined]
                self.duration.setText(f"{st.duration:.3f} s  ·  {timecode.timecode(st.frame_count, st.fps)}")
            return
        if not s.project.has_node(self.node_id):
            return
        f = s.transport.playhead
        for name, row in self.rows.items():
            curve = s.project.curve(self.node_id, name)
            value = edits.param_value(s.project, s.registry, self.node_id, name, f if curve is not None else None)
            row.editor.set_value(value)
            if row.key is not None:
                row.key.set_state("none" if curve is None else ("key" if curve.key_at(f) is not None else "animated"))
            row.label.setStyleSheet(f"color: {theme.ACCENT};" if curve is not None else "")

    def refresh_status(self) -> None:
        """Shows the node's problems and how it was computed in the last run."""
        s = self.session
        if self.node_id is None or self.status_label is None:
            return
        parts = []
        issues = s.evaluation.node_issues(self.node_id)
        for i in issues:
            color = theme.ERROR if i.severity == "error" else theme.WARNING
            parts.append(f"<span style='color:{color}'>⚠ {(i.where + ': ') if i.where else ''}{i.message}</span>")
        rep = s.evaluation.node_status.get(self.node_id)
        if rep is not None:
            if rep.status == "cached":
                parts.append(f"<span style='color:{theme.CACHED}'>● from the cache</span>")
            else:
                why = "; ".join(rep.reasons)
                parts.append(f"<span style='color:{theme.OK}'>● ran in {rep.seconds:.2f} s: {why}</span>")
            parts += [f"<span style='color:{theme.TEXT_DIM}'>note: {n}</span>" for n in rep.notes]
        self.status_label.setText("<br>".join(parts))
        self.status_label.setVisible(bool(parts))
        by_param: dict[str, list[str]] = {}
        for i in issues:
            if i.where.startswith("param '"):
                by_param.setdefault(i.where.split("'")[1], []).append(i.message)
        for name, row in self.rows.items():
            msgs = by_param.get(name)
            row.error.setText("; ".join(msgs) if msgs else "")
            row.error.setVisible(bool(msgs))

    # ================================================================================== editing
    def _edited(self, nid: str, p: Param, value: Any, final: bool) -> None:
        s = self.session
        if not s.project.has_node(nid):
            return  # an editor committing while its node goes away (undo, delete)
        row = self.rows.get(p.name) if nid == self.node_id else None
        try:
            if p.animatable and s.project.curve(nid, p.name) is not None:
                s.set_key(nid, p.name, s.transport.playhead, float(value), merge=("key", nid, p.name))
            else:
                s.set_param(nid, p.name, value, merge=("param", nid, p.name))
            if row is not None and row.error.text().startswith("cannot"):
                row.error.hide()
        except ValueError as e:
            if row is not None:
                row.error.setText(f"cannot set: {e}")
                row.error.show()
            s.message.emit(str(e))
            self.refresh_values()

    def _toggle_key(self, nid: str, p: Param) -> None:
        if not self.session.project.has_node(nid):
            return
        try:
            self.session.toggle_key(nid, p.name, self.session.transport.playhead)
        except ValueError as e:
            self.session.message.emit(str(e))

    def _param_menu(self, p: Param, global_pos) -> None:
        s = self.session
        nid = self.node_id
        if nid is None:
            return
        menu = QMenu(self)
        animated = s.project.curve(nid, p.name) is not None
        if p.animatable:
            menu.addAction(
                "Remove Key at Playhead"
                if animated and s.project.curve(nid, p.name).key_at(s.transport.playhead)
                else "Set Key at Playhead",
                lambda: self._toggle_key(nid, p),
            )
            if animated:
                menu.addAction("Clear Animation (keep the value here)", lambda: s.clear_animation(nid, p.name))
        menu.addAction("Reset to Default", lambda: s.reset_param(nid, p.name))
        menu.popup(global_pos)

    def row(self, name: str) -> _ParamRow:
        """The row of parameter ``name`` (for tests)."""
        return self.rows[name]


class _Unknown:
    """An estimate that failed (what ``gpu_estimate`` returns for an unknown model, for a node type of a plugin
    whose ``gpu_estimate`` raised)."""

    status, repo_id, quantize, offload = "unknown", "", "", ""

    def __init__(self, message: str):
        self.message = message
        self.per_choice: dict = {}
        self.per_choice_text_encoder: dict = {}


def _esc(text: str) -> str:
    import html

    return html.escape(str(text))
