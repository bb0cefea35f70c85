"""The main window: dockable panes (Node Editor, Viewer, Timeline, Inspector, Jobs), menus, toolbar and
status bar, file handling that never loses work (unsaved-changes prompt, autosave, recovery, recent files),
drops, export and render.

File I/O runs on worker threads (:class:`~vidstudio.ui.state.tasks.TaskRunner`); questions to the user go
through :class:`Prompts`, which tests and ``--screenshot`` replace with answers that never block.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolButton,
    QWidget,
)

from vidstudio import __version__
from vidstudio.project import Project, find_recovery, list_recoveries, load_project, load_recovery, save_project
from vidstudio.project.recovery import RECOVERY_SUFFIX, RecoveryInfo, discard_recovery
from vidstudio.ui import genops
from vidstudio.ui.state.autosave import DEFAULT_DELAY_MS, Autosaver, owner_running
from vidstudio.ui.state.evaluation import EvalResult
from vidstudio.ui.state.generation import GenerationService, ServerJob
from vidstudio.ui.state.model_choices import ModelChoices
from vidstudio.ui.state.session import Session
from vidstudio.ui.state.settings import app_settings
from vidstudio.ui.state.tasks import Job, JobList, TaskRunner, error_text
from vidstudio.ui.widgets import theme
from vidstudio.ui.widgets.graph_editor import GraphEditor
from vidstudio.ui.widgets.inspector import Inspector
from vidstudio.ui.widgets.jobs import JobsPane
from vidstudio.ui.widgets.node_editor import NodeEditor
from vidstudio.ui.widgets.timeline import Timeline, make_transport_actions
from vidstudio.ui.widgets.viewer.viewer import Viewer

if TYPE_CHECKING:  # the dialogs are imported when first opened (not at start)
    from vidstudio.ui.widgets.dialogs.export_dialog import ExportDialog
    from vidstudio.ui.widgets.dialogs.preferences import PreferencesDialog

MAX_RECENT = 10
LAYOUT_VERSION = 1


class Prompts:
    """The questions the window asks the user, as modal dialogs. Replace for tests or non-interactive use."""

    def __init__(self, parent: QWidget):
        self.parent = parent

    def unsaved_changes(self, label: str) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"``."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Unsaved changes", f"{label} has changes that are not saved.", parent=self.parent
        )
        box.setInformativeText("Save them before closing?")
        save = box.addButton("Save", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Don't Save", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(save)
        box.exec()
        clicked = box.clickedButton()
        return "save" if clicked is save else "discard" if clicked is discard else "cancel"

    def offer_recovery(self, info: RecoveryInfo, label: str) -> str:
        """``"recover"`` (open the autosaved version), ``"discard"`` (delete it) or ``"keep"`` (decide later)."""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.written_at))
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover unsaved work",
            f"An autosaved version of {label} from {when} is newer than the file.",
            parent=self.parent,
        )
        box.setInformativeText("Recover it? Don't Recover deletes the autosave; Later keeps it for next time.")
        rec = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        dis = box.addButton("Don't Recover", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(rec)
        box.exec()
        c = box.clickedButton()
        return "recover" if c is rec else "discard" if c is dis else "keep"

    def error(self, title: str, text: str) -> None:
        """Shows an error in words."""
        QMessageBox.warning(self.parent, title, text)

    def open_path(self, start: str) -> str | None:
        """A project or VidStudio MP4 to open, or None."""
        path, _ = QFileDialog.getOpenFileName(
            self.parent, "Open Project", start, "VidStudio projects (*.vidproj *.mp4 *.mov *.m4v);;All files (*)"
        )
        return path or None

    def save_path(self, suggested: str) -> str | None:
        """Where to save the project, or None."""
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Save Project As", suggested, "VidStudio project (*.vidproj)"
        )
        if path and not path.endswith(".vidproj"):
            path += ".vidproj"
        return path or None

    def choose_output(self, candidates: list[str], labels: list[str]) -> str | None:
        """Which node Generate sends when several could be meant (``labels`` describe ``candidates``), or None."""
        choice, ok = QInputDialog.getItem(
            self.parent, "Generate", "Several nodes could be generated. Which one?", labels, 0, False
        )
        return candidates[labels.index(choice)] if ok and choice in labels else None

    def stop_generation(self, count: int, local: bool) -> bool:
        """Whether to close while ``count`` generation jobs run (True: close)."""
        jobs = f"{count} generation job{'s are' if count > 1 else ' is'} still running"
        if local:
            more = "Closing stops the local server: the job is cancelled and its result is lost."
        else:
            more = "It goes on on the server, but its result will not land on this timeline."
        box = QMessageBox(QMessageBox.Icon.Warning, "Generation running", f"{jobs}.", parent=self.parent)
        box.setInformativeText(more + " Close anyway?")
        close = box.addButton("Close", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is close

    def switch_server(self, count: int) -> bool:
        """Whether to change servers while ``count`` generation jobs run (True: change)."""
        return (
            QMessageBox.question(
                self.parent,
                "Change server",
                f"{count} generation job{'s are' if count > 1 else ' is'} still running on the current server. Changing "
                "servers stops following it (a local server is stopped, which cancels it). Change anyway?",
            )
            == QMessageBox.StandardButton.Yes
        )

    def reenable_crashed_plugin(self, plugin: str, what: str) -> bool:
        """Whether to enable again plugin ``plugin``, disabled because VidStudio died while it ran ``what``."""
        return (
            QMessageBox.question(
                self.parent,
                "A plugin stopped VidStudio",
                f"VidStudio stopped unexpectedly last time while plugin '{plugin}' was running ({what}). It has been "
                "disabled so that VidStudio opens safely. Enable it again (from the next project opened)?",
            )
            == QMessageBox.StandardButton.Yes
        )

    def choose_recovery(self, infos: list[RecoveryInfo]) -> RecoveryInfo | None:
        """One of the recovery files, or None."""
        labels = []
        for i in infos:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(i.written_at))
            labels.append(f"{when}  ·  {i.project_path or 'untitled project'}")
        choice, ok = QInputDialog.getItem(self.parent, "Recover Autosave", "Autosaved versions:", labels, 0, False)
        return infos[labels.index(choice)] if ok and choice in labels else None


class QuietPrompts(Prompts):
    """Answers without asking (``--screenshot``, scripted use): never saves, keeps recovery files, prints errors."""

    def unsaved_changes(self, label: str) -> str:
        return "discard"

    def offer_recovery(self, info: RecoveryInfo, label: str) -> str:
        return "keep"

    def error(self, title: str, text: str) -> None:
        print(f"vidstudio: {title}: {text}", file=sys.stderr)

    def open_path(self, start: str) -> str | None:
        return None

    def save_path(self, suggested: str) -> str | None:
        return None

    def choose_recovery(self, infos: list[RecoveryInfo]) -> RecoveryInfo | None:
        return None

    def choose_output(self, candidates: list[str], labels: list[str]) -> str | None:
        return None

    def stop_generation(self, count: int, local: bool) -> bool:
        return True

    def switch_server(self, count: int) -> bool:
        return True

    def reenable_crashed_plugin(self, plugin: str, what: str) -> bool:
        return False


def _load_with_recovery(path: str) -> tuple[Project, RecoveryInfo | None]:
    """Worker: loads a project and looks for a newer recovery file of it."""
    project = load_project(path)
    info = find_recovery(project.path) if project.path is not None else None
    return project, info


class MainWindow(QMainWindow):
    """The application window.

    Args:
        session: the session to show (default: a new one with the default registry).
        prompts: the question dialogs (default: :class:`Prompts`).
        autosave_ms: delay of the autosave after the first unsaved edit.
        persist: read and write layout and recent files in the settings (off for ``--screenshot``).

    Signals: ``opened(path)`` after a project was opened, ``saved(path)`` after it was saved.
    """

    opened = Signal(str)
    saved = Signal(str)
    open_failed = Signal(str)

    def __init__(
        self,
        session: Session | None = None,
        *,
        prompts: Prompts | None = None,
        autosave_ms: int = DEFAULT_DELAY_MS,
        persist: bool = True,
    ):
        super().__init__()
        self.setObjectName("VidStudioMainWindow")
        self.session = session or Session(parent=self)
        if self.session.parent() is None:
            self.session.setParent(self)
        self.prompts = prompts or Prompts(self)
        self.persist = persist
        self.runner = TaskRunner(parent=self)
        self.jobs = JobList(self)
        self.autosaver = Autosaver(self.session, self.runner, autosave_ms, parent=self)
        self.generation = GenerationService(self.session, self.runner, self.jobs, parent=self)
        self._stop_jobs_ok = False
        self._preferences: PreferencesDialog | None = None
        self._busy_open = False
        self._close_ok = False
        self._closed = False
        self._export_dialog: ExportDialog | None = None
        self._plugins_dialog = None
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AnimatedDocks
        )
        central = QWidget(self)
        central.hide()
        self.setCentralWidget(central)

        s = self.session
        self.transport = make_transport_actions(s, self)
        self.editor = NodeEditor(s)
        self.viewer = Viewer(s)
        self.timeline = Timeline(s, self.transport)
        self.model_choices = ModelChoices(self.generation, self.runner, parent=self)
        self.inspector = Inspector(s, runner=self.runner, model_choices=self.model_choices)
        self.inspector.download_requested.connect(self.models_window)
        self.inspector.add_model_folder_requested.connect(self.add_model_folder)
        self.jobs_pane = JobsPane(self.jobs)
        self.graph_editor = GraphEditor(s)
        self.docks: dict[str, QDockWidget] = {}
        for name, title, widget in (
            ("viewer", "Viewer", self.viewer),
            ("timeline", "Timeline", self.timeline),
            ("editor", "Node Editor", self.editor),
            ("inspector", "Inspector", self.inspector),
            ("jobs", "Jobs", self.jobs_pane),
            ("graph", "Graph Editor", self.graph_editor),
        ):
            d = QDockWidget(title, self)
            d.setObjectName(f"dock_{name}")
            d.setWidget(widget)
            d.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            self.docks[name] = d
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()
        self.resize(1600, 960)
        self.default_layout()
        self.editor.open_requested.connect(lambda p: self.open_path(p))
        s.dirty_changed.connect(lambda _d: self._update_title())
        s.path_changed.connect(self._update_title)
        s.message.connect(self.show_message)
        s.evaluation.evaluated.connect(self._evaluated)
        s.evaluation.evaluation_started.connect(self._evaluation_started)
        self.autosaver.autosaved.connect(lambda p: self._autosave_label.setText(f"autosaved {time.strftime('%H:%M')}"))
        self.autosaver.failed.connect(self.show_message)
        s.undo_stack.canUndoChanged.connect(self.act_undo.setEnabled)
        s.undo_stack.canRedoChanged.connect(self.act_redo.setEnabled)
        s.undo_stack.undoTextChanged.connect(lambda t: self.act_undo.setText(f"Undo {t}".strip()))
        s.undo_stack.redoTextChanged.connect(lambda t: self.act_redo.setText(f"Redo {t}".strip()))
        self.act_undo.setEnabled(False)
        self.act_redo.setEnabled(False)
        self.generation.state_changed.connect(self._server_state_changed)
        self.generation.result_added.connect(self._result_added)
        self._server_state_changed()
        self.generation.start()
        if persist:
            self.restore_layout()
        self._update_title()
        self._refresh_recent_menu()

    # ================================================================================== building
    def _action(self, text: str, slot: Callable, shortcut=None, icon: str | None = None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if icon:
            a.setIcon(theme.icon(icon))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(lambda _checked=False: slot())
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        S = QKeySequence.StandardKey
        self.act_new = self._action("New", self.new_project, S.New, "mdi6.file-outline")
        self.act_open = self._action("Open…", self.open_dialog, S.Open, "mdi6.folder-open-outline")
        self.act_save = self._action("Save", self.save, S.Save, "mdi6.content-save-outline")
        self.act_save_as = self._action("Save As…", self.save_as, "Ctrl+Shift+S", "mdi6.content-save-edit-outline")
        self.act_recover = self._action("Recover Autosave…", self.recover_dialog, None, "mdi6.lifebuoy")
        self.act_export = self._action(
            "Export Video…",
            self.export_dialog,
            "Ctrl+E",
            "mdi6.export-variant",
            "Write the picture to an MP4 or a PNG sequence",
        )
        self.act_render = self._action(
            "Render Export Nodes",
            self.render_outputs,
            "F12",
            "mdi6.movie-open-play-outline",
            "Run the project's Export nodes, as `vidstudio render` does",
        )
        self.act_quit = self._action("Quit", self.close, S.Quit, "mdi6.exit-to-app")
        self.act_undo = self._action("Undo", self.session.undo_stack.undo, S.Undo, "mdi6.undo")
        self.act_redo = self._action("Redo", self.session.undo_stack.redo, "Ctrl+Shift+Z", "mdi6.redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_settings = self._action(
            "Project Settings",
            lambda: self.session.view.set_selection([]),
            None,
            "mdi6.cog-outline",
            "Show the project settings in the Inspector",
        )
        self.act_plugins = self._action(
            "Plugins…",
            self.plugin_manager,
            None,
            "mdi6.puzzle-outline",
            "Installed plugins: status, errors, permissions; enable, disable, install",
        )
        self.act_models = self._action(
            "Models…",
            self.models_window,
            None,
            "mdi6.download-outline",
            "The generation server's models and your model folders' files: sizes, download with progress, remove",
        )
        self.act_generate = self._action(
            "Generate",
            self.generate,
            "Ctrl+G",
            "mdi6.creation",
            "Render the selected Generate (or its Export) on the generation server; the result lands on the timeline",
        )
        self.act_preferences = self._action(
            "Preferences…",
            self.preferences,
            "Ctrl+,",
            "mdi6.tune-variant",
            "The generation server: local or remote (URL and token)",
        )
        self.act_shortcuts = self._action("Keyboard Shortcuts", self.show_shortcuts, None, "mdi6.keyboard-outline")
        self.act_about = self._action("About VidStudio", self.show_about, None, "mdi6.information-outline")
        self.act_fit = self._action("Fit Viewer", self.viewer.view.fit, None, "mdi6.fit-to-screen-outline")
        self.act_one = self._action(
            "Viewer 100 %", lambda: self.viewer.view.set_zoom(1.0), None, "mdi6.numeric-1-box-outline"
        )
        self.act_guides = QAction(theme.icon("mdi6.grid"), "Safe Areas and Thirds", self)
        self.act_guides.setCheckable(True)
        self.act_guides.toggled.connect(self.viewer.set_guides)
        self.viewer.guides_button.toggled.connect(self.act_guides.setChecked)
        self.act_pin = self._action(
            "View Selected Node",
            self._pin_selected,
            "Ctrl+1",
            "mdi6.pin-outline",
            "Keep showing the selected node in the Viewer (again: follow the selection)",
        )
        self.act_reset_layout = self._action("Reset Layout", self.default_layout, None, "mdi6.view-dashboard-outline")

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        for a in (self.act_new, self.act_open):
            f.addAction(a)
        self.recent_menu = f.addMenu(theme.icon("mdi6.history"), "Open Recent")
        f.addAction(self.act_recover)
        f.addSeparator()
        f.addAction(self.act_save)
        f.addAction(self.act_save_as)
        f.addSeparator()
        f.addAction(self.act_export)
        f.addAction(self.act_render)
        f.addSeparator()
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        e.addSeparator()
        ea = self.editor.actions_by_name
        for name in ("cut", "copy", "paste", "duplicate", "delete", "select_all"):
            e.addAction(ea[name])
        e.addSeparator()
        e.addAction(ea["add_node"])
        e.addAction(self.act_settings)
        e.addAction(self.act_plugins)
        e.addAction(self.act_models)
        e.addSeparator()
        e.addAction(self.act_preferences)
        v = mb.addMenu("&View")
        v.addAction(ea["frame_all"])
        v.addAction(self.act_fit)
        v.addAction(self.act_one)
        v.addAction(self.act_guides)
        v.addAction(self.act_pin)
        v.addSeparator()
        panes = v.addMenu("Panes")
        for d in self.docks.values():
            panes.addAction(d.toggleViewAction())
        v.addAction(self.act_reset_layout)
        p = mb.addMenu("&Playback")
        for name in (
            "play",
            "shuttle_back",
            "pause",
            "shuttle_forward",
            "step_back",
            "step_forward",
            "go_start",
            "go_end",
        ):
            p.addAction(self.transport[name])
        p.addSeparator()
        for name in ("set_in", "set_out", "clear_range", "loop"):
            p.addAction(self.transport[name])
        g = mb.addMenu("&Generate")
        g.addAction(self.act_generate)
        g.addAction(self.docks["jobs"].toggleViewAction())
        h = mb.addMenu("&Help")
        h.addAction(self.act_shortcuts)
        h.addAction(self.act_about)

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("toolbar_main")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for a in (self.act_new, self.act_open, self.act_save):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        tb.addSeparator()
        tb.addAction(self.editor.actions_by_name["add_node"])
        tb.addSeparator()
        for name in ("go_start", "step_back", "play", "step_forward", "go_end", "loop"):
            tb.addAction(self.transport[name])
        tb.addSeparator()
        tb.addAction(self.act_export)
        gen = QToolButton(self)
        gen.setDefaultAction(self.act_generate)
        gen.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addWidget(gen)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self._eval_label = QLabel("", self)
        self._eval_label.setProperty("role", "dim")
        self._autosave_label = QLabel("", self)
        self._autosave_label.setProperty("role", "dim")
        sb.addPermanentWidget(self._eval_label)
        sb.addPermanentWidget(self._autosave_label)

    def offer_crashed_plugins(self) -> list[str]:
        """Asks about each plugin disabled at this start because VidStudio died while it ran (a crash marker,
        :func:`vidstudio.plugins.manager.take_crash_notices`), and enables again those the user wants back.

        Returns:
            the names of the plugins enabled again.
        """
        from vidstudio.plugins.manager import PluginManager, take_crash_notices

        back = []
        for c in take_crash_notices():
            if self.prompts.reenable_crashed_plugin(c.plugin, c.what):
                try:
                    PluginManager().enable(c.plugin)
                    back.append(c.plugin)
                except Exception as e:
                    self.prompts.error("Plugins", f"cannot enable plugin '{c.plugin}': {e}")
        return back

    def default_layout(self) -> None:
        """Viewer over Timeline (the Graph Editor a tab beside it) over Node Editor on the left; Inspector over Jobs
        on the right."""
        d = self.docks
        for dock in d.values():
            dock.setFloating(False)
            dock.show()
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["viewer"])
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d["inspector"])
        self.splitDockWidget(d["viewer"], d["timeline"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["timeline"], d["editor"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["inspector"], d["jobs"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["timeline"], d["graph"])  # the Graph Editor is a tab beside the Timeline
        d["timeline"].raise_()
        w = max(self.width(), 1280)
        h = max(self.height(), 720)
        self.resizeDocks([d["viewer"], d["inspector"]], [int(w * 0.70), int(w * 0.30)], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [d["viewer"], d["timeline"], d["editor"]],
            [int(h * 0.47), int(h * 0.22), int(h * 0.31)],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks([d["inspector"], d["jobs"]], [int(h * 0.66), int(h * 0.34)], Qt.Orientation.Vertical)

    # ================================================================================== settings
    def restore_layout(self) -> None:
        """Restores window geometry and pane layout from the settings."""
        st = app_settings()
        geo = st.value("window/geometry")
        state = st.value("window/state")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, LAYOUT_VERSION)

    def save_layout(self) -> None:
        """Stores window geometry and pane layout in the settings."""
        st = app_settings()
        st.setValue("window/geometry", self.saveGeometry())
        st.setValue("window/state", self.saveState(LAYOUT_VERSION))
        st.sync()

    def recent_files(self) -> list[str]:
        """Recently opened or saved projects, newest first."""
        v = app_settings().value("recent/files", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> None:
        """Puts ``path`` first in the recent files."""
        if not self.persist:
            return
        p = os.path.normpath(os.path.abspath(os.fspath(path)))  # no disk access on the GUI thread
        files = [p] + [f for f in self.recent_files() if f != p]
        st = app_settings()
        st.setValue("recent/files", files[:MAX_RECENT])
        st.sync()
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        m = self.recent_menu
        m.clear()
        files = self.recent_files() if self.persist else []
        for i, f in enumerate(files):
            a = m.addAction(f"{i + 1}  {Path(f).name}", lambda f=f: self.open_path(f))
            a.setToolTip(f)
            a.setStatusTip(f)
        if not files:
            m.addAction("(none)").setEnabled(False)
        else:
            m.addSeparator()
            m.addAction("Clear Recent Files", self._clear_recent)

    def _clear_recent(self) -> None:
        st = app_settings()
        st.remove("recent/files")
        st.sync()
        self._refresh_recent_menu()

    # ================================================================================== status
    def show_message(self, text: str, ms: int = 6000) -> None:
        """Shows a message in the status bar."""
        self.statusBar().showMessage(text, ms)

    def _update_title(self) -> None:
        s = self.session
        p = s.project
        label = (
            p.path.name if p.path is not None else ("Untitled" if p.project_dir is None else "Untitled (from video)")
        )
        self.setWindowTitle(f"{label}[*] — VidStudio")
        self.setWindowModified(s.is_dirty)

    def _evaluation_started(self) -> None:
        self._eval_label.setText("evaluating…")

    def _evaluated(self, r: EvalResult) -> None:
        errors = [i for i in r.issues if i.severity == "error"]
        if r.error and r.error_is_server_only and not errors:
            self._eval_label.setText("generated on the server: Generate (Ctrl+G)")
        elif r.error:
            self._eval_label.setText(
                f"<span style='color:{theme.ERROR}'>⚠ {len(errors) or 1} problem{'s' if len(errors) > 1 else ''}</span>"
            )
        elif errors:
            self._eval_label.setText(
                f"<span style='color:{theme.WARNING}'>⚠ {len(errors)} problem{'s' if len(errors) > 1 else ''} elsewhere</span>"
            )
        elif not r.report:
            self._eval_label.setText("")
        else:
            ran = sum(1 for x in r.report.values() if x.status == "ran")
            self._eval_label.setText(
                f"evaluated in {r.seconds * 1000:.0f} ms ({ran} ran, {len(r.report) - ran} cached)"
            )

    # ================================================================================== documents
    def confirm_discard(self, proceed: Callable[[], None]) -> None:
        """Runs ``proceed`` once unsaved changes are dealt with: at once when there are none or the user
        discards them, after a successful save when the user saves, never when the user cancels."""
        s = self.session
        if not s.is_dirty:
            proceed()
            return
        choice = self.prompts.unsaved_changes(s.label)
        if choice == "discard":
            self.autosaver.discard()
            proceed()
        elif choice == "save":
            self.save(then=proceed)

    def new_project(self) -> None:
        """File > New (asks about unsaved changes first)."""

        def go() -> None:
            self.session.set_project(Project())
            self.editor.frame_all()
            self.show_message("new project")

        self.confirm_discard(go)

    def open_dialog(self) -> None:
        """File > Open."""

        def go() -> None:
            start = str(self.session.project.project_dir or Path.cwd())
            path = self.prompts.open_path(start)
            if path:
                self.open_path(path, ask=False)

        self.confirm_discard(go)

    def open_path(self, path: str | Path, ask: bool = True) -> None:
        """Opens a ``.vidproj`` or a VidStudio MP4 on a worker thread (asks about unsaved changes first when
        ``ask``), then offers a newer recovery file. Emits ``opened`` or ``open_failed``."""
        if self._busy_open:
            return
        if ask:
            self.confirm_discard(lambda: self.open_path(path, ask=False))
            return
        self._busy_open = True
        self.show_message(f"opening {path}…", 0)

        def done(result: tuple[Project, RecoveryInfo | None]) -> None:
            self._busy_open = False
            project, info = result
            if info is not None:
                choice = self.prompts.offer_recovery(info, project.path.name if project.path else str(path))
                if choice == "recover":
                    self._recover(info)
                    return
                if choice == "discard":
                    self.runner.submit(discard_recovery, project.path)
            self._adopt(project, str(path), recent=str(path))

        def failed(e: BaseException) -> None:
            self._busy_open = False
            msg = error_text(e)
            self.show_message(f"cannot open {path}")
            self.prompts.error("Cannot open the project", msg)
            self.open_failed.emit(msg)

        self.runner.submit(_load_with_recovery, str(path), on_done=done, on_error=failed)

    def _adopt(self, project: Project, source: str, dirty: bool = False, recent: str | None = None) -> None:
        self.session.set_project(project, dirty=dirty)
        self.editor.frame_all()
        self.viewer.view.fit()
        if recent is not None or project.path is not None:
            self.add_recent(recent or project.path)  # a VidStudio MP4 is remembered as itself
        self.show_message(f"opened {source}")
        self.opened.emit(source)

    def _recover(self, info: RecoveryInfo) -> None:
        def done(project: Project) -> None:
            if project.path is None:
                # keep writing to the same untitled recovery file until the user saves
                self.autosaver.session_name = info.path.name[: -len(RECOVERY_SUFFIX)]
            self._adopt(project, f"{info.path} (recovered)", dirty=True)
            self.show_message("recovered the autosaved version: save it to keep it")

        def failed(e: BaseException) -> None:
            self.prompts.error("Cannot recover", str(e))

        self.runner.submit(load_recovery, str(info.path), on_done=done, on_error=failed)

    def check_untitled_recovery(self) -> None:
        """At start-up without a project: offers the newest autosave of a never-saved project, if any."""

        def done(infos: list[RecoveryInfo]) -> None:
            untitled = [i for i in infos if i.project_path is None and not owner_running(i.path)]
            if not untitled or self.session.project.nodes or self.session.is_dirty:
                return
            info = untitled[0]
            choice = self.prompts.offer_recovery(info, "an untitled project")
            if choice == "recover":
                self._recover(info)
            elif choice == "discard":
                self.runner.submit(lambda: info.path.unlink(missing_ok=True))

        self.runner.submit(list_recoveries, on_done=done)

    def recover_dialog(self) -> None:
        """File > Recover Autosave: lists every recovery file."""

        def done(infos: list[RecoveryInfo]) -> None:
            if not infos:
                self.prompts.error("Recover Autosave", "There are no autosaved versions.")
                return
            info = self.prompts.choose_recovery(infos)
            if info is not None:
                self.confirm_discard(lambda: self._recover(info))

        self.runner.submit(list_recoveries, on_done=done)

    def save(self, then: Callable[[], None] | None = None) -> None:
        """File > Save (Save As for a project without a file)."""
        p = self.session.project
        if p.path is None or p.path.suffix.lower() != ".vidproj":
            self.save_as(then=then)
            return
        self._save_to(p.path, then)

    def save_as(self, path: str | Path | None = None, then: Callable[[], None] | None = None) -> None:
        """File > Save As (asks for a name unless ``path`` is given)."""
        if path is None:
            p = self.session.project
            suggested = str(p.path) if p.path is not None else str((p.project_dir or Path.cwd()) / "untitled.vidproj")
            chosen = self.prompts.save_path(suggested)
            if not chosen:
                return
            path = chosen
        self._save_to(Path(path), then)

    def _save_to(self, path: Path, then: Callable[[], None] | None = None) -> None:
        s = self.session
        doc = s.project.copy_document()
        index = s.undo_stack.index()
        old_path = s.project.path
        old_dir = s.project.project_dir
        self.show_message(f"saving {path}…", 0)

        def done(target: Path) -> None:
            edited_meanwhile = s.undo_stack.index() != index
            if old_dir is not None and old_dir != target.parent and s.rebase_folder(old_dir, target.parent):
                self.show_message(f"saved {target}; file paths are now relative to its folder (undo history cleared)")
                index_saved = None if not edited_meanwhile else -1
            else:
                self.show_message(f"saved {target}")
                index_saved = index
            s.bind(target)
            if index_saved == -1:
                s.mark_dirty()  # edited while saving into a new folder: the newest edits are not on disk
            else:
                s.mark_saved(index_saved)
            self.autosaver.discard(target)
            if old_path is not None and old_path != target:
                self.runner.submit(discard_recovery, old_path)
            self.add_recent(target)
            self.saved.emit(str(target))
            if then is not None:
                then()

        def failed(e: BaseException) -> None:
            msg = error_text(e)
            self.show_message("save failed")
            self.prompts.error("Cannot save", msg + "\n\nYour work is still open; try another folder.")

        self.runner.submit(lambda: save_project(doc, path, registry=s.registry), on_done=done, on_error=failed)

    # ================================================================================== export / render
    def export_dialog(self) -> ExportDialog:
        """File > Export Video: opens the Export dialog (not modal)."""
        from vidstudio.ui.widgets.dialogs.export_dialog import ExportDialog

        dlg = ExportDialog(self.session, self.runner, self.jobs, self)
        self._export_dialog = dlg
        dlg.show()
        return dlg

    def render_outputs(self) -> Job | None:
        """Runs the project's Export nodes on a worker thread (as ``vidstudio render``) as a job."""
        from vidstudio.graph.engine import Engine
        from vidstudio.project import embeddable_json

        s = self.session
        outs = [n.id for n in s.project.nodes if (c := s.registry.find(n.type)) is not None and c.is_output]
        if not outs:
            self.prompts.error("Render", "The project has no Export node. Add one (Tab) or use File > Export Video.")
            return None
        remote = [o for o in outs if genops.generators_needed(s.project, s.registry, [o])]
        if remote:  # the GUI process never runs a diffusion model: those go to the server
            outs = [o for o in outs if o not in remote]
            msg = (
                f"{', '.join(remote)} need{'s' if len(remote) == 1 else ''} a generating node, which runs on the "
                "generation server: select it and press Generate (Ctrl+G)."
            )
            if not outs:
                self.prompts.error("Render", msg)
                return None
            self.show_message(msg)
        job = self.jobs.add(Job(f"Render {', '.join(outs)}", "render"))
        doc = s.project.copy_document()
        engine = Engine(s.registry)  # its own engine: a long render must not hold up the previews

        def work():
            def progress(node_id, fraction, message):
                job.update(fraction, f"{node_id}: {message}", status="running")

            return engine.run(
                doc,
                doc.settings,
                targets=outs,
                project_dir=doc.project_dir,
                progress=progress,
                cancel=job.token,
                project_json=embeddable_json(doc),
            )

        def done(result) -> None:
            files = [v.get("file") for v in (result.values.get(o, {}) for o in outs) if v.get("file")]
            s.evaluation.node_status.update({k: v for k, v in result.report.items() if k in outs})
            self.editor.refresh_states()
            job.finish("done", "wrote " + ", ".join(files), files[0] if files else None)

        job.update(0.0, "starting", status="running", force=True)
        self.runner.submit(work, on_done=done, on_error=job.fail)
        self.docks["jobs"].show()
        return job

    def plugin_manager(self):
        """Edit > Plugins…: opens the plugin manager (not modal; one per window)."""
        from vidstudio.ui.widgets.dialogs.plugins_dialog import PluginManagerDialog

        if self._plugins_dialog is None:
            self._plugins_dialog = PluginManagerDialog(self.session, self.runner, self)
        self._plugins_dialog.show()
        self._plugins_dialog.raise_()
        return self._plugins_dialog

    def models_window(self, repo_id: str = ""):
        """Edit > Models…: the server's models, the model folders' files, downloads and removal (not modal; one
        per window); ``repo_id`` goes into the download box (the Inspector's Download… for a missing model)."""
        from vidstudio.ui.widgets.dialogs.models_dialog import ModelsDialog

        if getattr(self, "_models_dialog", None) is None:

            def folders():
                c = self.generation.config
                return c.models_dirs if c.is_local else ()

            self._models_dialog = ModelsDialog(
                self.generation.ensure,
                self.runner,
                self,
                model_folders=folders,
                remote=lambda: not self.generation.config.is_local,
            )
        elif not self._models_dialog.isVisible():
            self._models_dialog.refresh_files()  # the model folders may have changed in Preferences
        if isinstance(repo_id, str) and repo_id:
            self._models_dialog.repo.setText(repo_id)
        self._models_dialog.show()
        self._models_dialog.raise_()
        return self._models_dialog

    # ================================================================================== generate
    def generate(self) -> ServerJob | None:
        """Generate > Generate (Ctrl+G): sends the project to the generation server for the output node (the
        selected one, else the only Export downstream of a Generate, else the only Generate; asks when several
        could be meant) and adds a row to the Jobs pane. Nothing is saved: the document as it is now is sent.

        Returns:
            the job's row, or None when there is nothing to generate (said in words) or the user cancelled.
        """
        s = self.session
        choice = genops.pick_output(s.project, s.registry, s.view.selection)
        if choice.error:
            self.prompts.error("Generate", choice.error)
            return None
        node = choice.node_id
        if node is None:
            labels = [f"{c}  ({s.project.node(c).type})" for c in choice.candidates]
            node = self.prompts.choose_output(choice.candidates, labels)
            if not node:
                return None
        job = self.generation.generate(s.project.copy_document(), node, s.label, source=s.project)
        self.docks["jobs"].show()
        self.docks["jobs"].raise_()
        self.show_message(f"Generate: {node} sent to the generation server")
        return job

    def preferences(self) -> PreferencesDialog:
        """Edit > Preferences (Ctrl+,): the generation server (not modal; one per window)."""
        from vidstudio.ui.widgets.dialogs.preferences import PreferencesDialog

        if self._preferences is None:

            def local_url():
                g = self.generation
                return (g.client.url, g.client.token) if (g.config.is_local and g.client is not None) else None

            dlg = PreferencesDialog(self.generation.config, self.runner, self, local_url=local_url)
            dlg.applied.connect(self._apply_preferences)
            dlg.finished.connect(lambda _r: setattr(self, "_preferences", None))
            dlg.finished.connect(dlg.deleteLater)
            self._preferences = dlg
        self._preferences.show()
        self._preferences.raise_()
        return self._preferences

    def _apply_preferences(self, config) -> None:
        old = self.generation.config
        if config == old:
            return
        if not config.is_local and dataclasses.replace(config, models_dirs=old.models_dirs) == old:
            config.save(app_settings())  # model folders only: a remote server keeps running as it is
            self.generation.config = config
            return
        active = self.generation.active_jobs()
        if active and not self.prompts.switch_server(len(active)):
            return
        config.save(app_settings())
        self.generation.reconfigure(config)
        self.show_message("generation server: " + ("local" if config.is_local else config.url))

    def add_model_folder(self, folder: str) -> None:
        """Adds ``folder`` to Preferences > Model folders (the Inspector's button for a model path outside them);
        the local server starts again with it on the next Generate."""
        old = self.generation.config
        if folder not in old.models_dirs:
            self._apply_preferences(dataclasses.replace(old, models_dirs=(*old.models_dirs, folder)))
        self.inspector.refresh_model_hints()

    def _server_state_changed(self) -> None:
        g = self.generation
        self.jobs_pane.set_server(g.status, g.state)

    def _result_added(self, job: ServerJob) -> None:
        self.show_message(f"the result of {job.output_node} is on the timeline")

    # ================================================================================== misc actions
    def _pin_selected(self) -> None:
        s = self.session
        if s.view.pinned is not None:
            s.view.pin_view(None)
        elif s.view.selection:
            s.view.pin_view(s.view.selection[-1])

    def show_shortcuts(self) -> None:
        """Help > Keyboard Shortcuts."""
        rows = [
            ("Tab / right-click", "add a node (Node Editor)"),
            ("drag output → input", "link; a refused link says why"),
            ("Delete / Backspace", "delete selected nodes or links"),
            ("Ctrl+D", "duplicate"),
            ("Ctrl+C / Ctrl+V", "copy / paste nodes (also between windows)"),
            ("F", "frame all (Node Editor), fit (Viewer)"),
            ("1", "Viewer 100 %"),
            ("wheel, middle-drag, Alt+drag", "zoom and pan"),
            ("double-click a node", "pin it in the Viewer"),
            ("Space", "play / pause"),
            ("J / K / L", "play backward / pause / forward (again: faster)"),
            ("Left / Right", "step one frame"),
            ("Home / End", "go to start / end"),
            ("I / O", "set in / out point"),
            ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
            ("Ctrl+S / Ctrl+Shift+S", "save / save as"),
            ("Ctrl+E", "export video"),
            ("P (Viewer)", "Draw Path: pick or make a Trajectory node and start a new path"),
            ("click / drag (Viewer)", "add a control point / move it; on a curve: insert one"),
            ("right-click (Viewer)", "delete a control point; menus for paths and bodies"),
            ("Ctrl+drag a handle", "break a Bezier point's symmetry"),
            ("N / Delete / Esc (Viewer)", "new path / delete point / cancel"),
        ]
        html = (
            "<table cellspacing=4>" + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows) + "</table>"
        )
        QMessageBox.information(self, "Keyboard Shortcuts", html)

    def show_about(self) -> None:
        """Help > About."""
        QMessageBox.about(
            self,
            "About VidStudio",
            f"<b>VidStudio {__version__}</b><br>Direct AI video from a node graph of "
            "prompts, keyframes, drawn paths and physics.",
        )

    # ================================================================================== drops
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        center = self.editor.mapToScene(self.editor.viewport().rect().center())
        self.editor.drop_files(paths, center)

    # ================================================================================== closing
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        s = self.session
        active = self.generation.active_jobs()
        if active and not self._stop_jobs_ok:
            if not self.prompts.stop_generation(len(active), self.generation.local is not None):
                event.ignore()
                return
            self._stop_jobs_ok = True
        if s.is_dirty and not self._close_ok:
            choice = self.prompts.unsaved_changes(s.label)
            if choice == "cancel":
                self._stop_jobs_ok = False
                event.ignore()
                return
            if choice == "save":
                event.ignore()

                def close_again() -> None:
                    self._close_ok = True
                    self.close()

                self.save(then=close_again)
                return
        # a deliberate close: the recovery file is no longer needed
        self.autosaver.discard()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stops playback, evaluation, workers and jobs (called on close)."""
        if self._closed:
            return
        self._closed = True
        if self.persist:
            self.save_layout()
        self.generation.shutdown()  # before the runner: a submit or download in flight fails fast
        self.jobs.cancel_all()
        self.session.shutdown()
        self.runner.shutdown(wait=True)
        if self._preferences is not None:
            self._preferences.close()
        if self._export_dialog is not None:
            self._export_dialog.close()
        if self._plugins_dialog is not None:
            self._plugins_dialog.close()
