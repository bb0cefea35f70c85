"""The plugin manager (Edit > Plugins…): every plugin VidStudio found, its status and errors, its manifest's
facts and declared permissions; enable and disable; load one now to check it; install from a plugin folder or
a wheel (after showing what it is, what it declares and the warning that a plugin is code that runs on this
machine); uninstall.

It is a view over :class:`vidstudio.plugins.PluginManager` and :mod:`vidstudio.plugins.install`, which do
the work on the window's worker threads (the GUI thread never reads plugin folders or runs pip). After a
change the session gets a new registry (:func:`vidstudio.nodes.default_registry`), so the palette, the node
editor and the Inspector show the plugin's node types, or why a project's node is unavailable now. Nothing a
plugin does stops the GUI: a plugin that fails is listed as failed with its error and details.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from vidstudio.ui.state.session import Session
from vidstudio.ui.state.tasks import TaskRunner, error_text
from vidstudio.ui.widgets import theme

STATUS_COLORS = {"enabled": theme.OK, "disabled": theme.TEXT_DIM, "failed": theme.ERROR, "incompatible": theme.WARNING}
STATUS_ICONS = {
    "enabled": "mdi6.check-circle-outline",
    "disabled": "mdi6.cancel",
    "failed": "mdi6.alert-circle-outline",
    "incompatible": "mdi6.alert-outline",
}


def _default_manager() -> Any:
    from vidstudio.plugins import PluginManager

    return PluginManager()


def _default_registry() -> Any:
    from vidstudio.nodes import default_registry

    return default_registry()


class _LogRelay(QObject):
    """Carries pip's output lines from a worker thread to the dialog's log."""

    line = Signal(str)


class PluginManagerDialog(QDialog):
    """The plugin manager window (not modal).

    Args:
        session: the session whose registry is replaced after a change.
        runner: the window's :class:`~vidstudio.ui.state.tasks.TaskRunner` (plugin folders and pip run there).
        manager_factory: makes the :class:`~vidstudio.plugins.PluginManager` (on a worker thread).
        registry_factory: makes the new registry after a change (on a worker thread).

    Attributes:
        plugins: the :class:`~vidstudio.plugins.PluginInfo` snapshots shown.
        confirm_install: ``confirm_install(lines) -> bool`` asks before installing (tests replace it).
        confirm_uninstall: ``confirm_uninstall(name) -> bool``.

    Signals: ``refreshed()`` after the list was (re)read, ``busy_changed(bool)``, ``failed(str)`` when an
    operation failed (the message is also shown in the dialog).
    """

    refreshed = Signal()
    busy_changed = Signal(bool)
    failed = Signal(str)

    def __init__(
        self,
        session: Session,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        manager_factory: Callable[[], Any] = _default_manager,
        registry_factory: Callable[[], Any] = _default_registry,
    ):
        super().__init__(parent)
        self.setObjectName("PluginManager")
        self.setWindowTitle("Plugins")
        self.session = session
        self.runner = runner
        self.manager_factory = manager_factory
        self.registry_factory = registry_factory
        self.manager: Any = None
        self.plugins: list[Any] = []
        self.busy = False
        self._scratch: tempfile.TemporaryDirectory | None = None
        self.confirm_install: Callable[[list[str]], bool] = self._ask_install
        self.confirm_uninstall: Callable[[str], bool] = self._ask_uninstall
        self._relay = _LogRelay(self)
        self._relay.line.connect(self._append_log)

        self.list = QListWidget(self)
        self.list.setMinimumWidth(230)
        self.list.currentRowChanged.connect(lambda _r: self._show_current())
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.details.setOpenExternalLinks(True)
        self.error_details = QPlainTextEdit(self)
        self.error_details.setReadOnly(True)
        f = self.error_details.font()
        f.setFamily("DejaVu Sans Mono")
        f.setPointSizeF(8.5)
        self.error_details.setFont(f)
        self.error_details.hide()
        self.toggle_button = QPushButton("Disable", self)
        self.toggle_button.clicked.connect(self._toggle_current)
        self.load_button = QPushButton(theme.icon("mdi6.refresh"), "Load Now", self)
        self.load_button.setToolTip("Import the plugin's code now and check every node it declares")
        self.load_button.clicked.connect(self._load_current)
        self.details_button = QPushButton("Error Details", self)
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self.error_details.setVisible)
        self.uninstall_button = QPushButton(theme.icon("mdi6.delete-outline"), "Uninstall…", self)
        self.uninstall_button.clicked.connect(self._uninstall_current)
        actions = QHBoxLayout()
        for b in (self.toggle_button, self.load_button, self.details_button):
            actions.addWidget(b)
        actions.addStretch(1)
        actions.addWidget(self.uninstall_button)
        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(8, 0, 0, 0)
        scroll = QScrollArea(right)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.details)
        rl.addWidget(scroll, 2)
        rl.addWidget(self.error_details, 1)
        rl.addLayout(actions)
        split = QSplitter(self)
        split.addWidget(self.list)
        split.addWidget(right)
        split.setStretchFactor(1, 1)

        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setFixedHeight(90)
        self.log.setFont(f)
        self.log.setPlaceholderText("Install and uninstall output appears here.")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.install_folder_button = QPushButton(theme.icon("mdi6.folder-plus-outline"), "Install from Folder…", self)
        self.install_folder_button.clicked.connect(lambda: self._choose_install("folder"))
        self.install_file_button = QPushButton(theme.icon("mdi6.package-variant-closed"), "Install Wheel…", self)
        self.install_file_button.clicked.connect(lambda: self._choose_install("file"))
        self.folder_button = QPushButton(theme.icon("mdi6.folder-open-outline"), "Plugins Folder", self)
        self.folder_button.setToolTip("Open the user plugins folder")
        self.folder_button.clicked.connect(self._open_folder)
        self.refresh_button = QPushButton(theme.icon("mdi6.refresh"), "Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        for b in (self.install_folder_button, self.install_file_button, self.folder_button, self.refresh_button):
            bottom.addWidget(b)
        bottom.addStretch(1)
        bottom.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)
        lay.addWidget(self.log)
        lay.addLayout(bottom)
        self.resize(900, 600)
        self._show_current()
        self.refresh()

    # ------------------------------------------------------------------------------------ plumbing
    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        for b in (
            self.toggle_button,
            self.load_button,
            self.uninstall_button,
            self.install_folder_button,
            self.install_file_button,
            self.refresh_button,
        ):
            b.setEnabled(not busy)
        if busy:
            self.status.setText(f"<span style='color:{theme.TEXT_DIM}'>{html.escape(text, quote=False)}</span>")
        else:
            self._show_current()
        self.busy_changed.emit(busy)

    def _run(self, text: str, fn: Callable[[], Any], done: Callable[[Any], None]) -> bool:
        """Runs ``fn`` on a worker thread, then ``done(result)`` here; failures are shown, never raised."""
        if self.busy:
            return False
        self._set_busy(True, text)

        def ok(result: Any) -> None:
            self._set_busy(False)
            done(result)

        def bad(e: BaseException) -> None:
            self._set_busy(False)
            msg = error_text(e)
            self._say(msg, error=True)
            self.failed.emit(msg)

        self.runner.submit(fn, on_done=ok, on_error=bad)
        return True

    def _say(self, text: str, error: bool = False) -> None:
        color = theme.ERROR if error else theme.TEXT
        self.status.setText(
            f"<span style='color:{color}'>{html.escape(text, quote=False).replace(chr(10), '<br>')}</span>"
        )

    def _append_log(self, line: str) -> None:
        self.log.appendPlainText(line)

    def _log_from_worker(self, line: str) -> None:
        self._relay.line.emit(line)

    # ------------------------------------------------------------------------------------ list
    def refresh(self) -> bool:
        """Discovers the plugins again (on a worker thread) and shows them."""

        def work() -> tuple[Any, list[Any]]:
            m = self.manager if self.manager is not None else self.manager_factory()
            if self.manager is not None:
                m.refresh()
            return m, m.plugins

        def done(result: tuple[Any, list[Any]]) -> None:
            self.manager, plugins = result
            self._fill(plugins)
            warnings = list(getattr(self.manager, "warnings", []))
            if warnings:
                self._say("; ".join(warnings), error=True)

        return self._run("reading the plugins…", work, done)

    def _fill(self, plugins: list[Any], select: str | None = None) -> None:
        current = select or self.current_name()
        self.plugins = list(plugins)
        self.list.blockSignals(True)
        self.list.clear()
        row = 0
        for i, p in enumerate(self.plugins):
            item = QListWidgetItem(
                theme.icon(STATUS_ICONS.get(p.status, "mdi6.puzzle-outline"), STATUS_COLORS.get(p.status, theme.TEXT)),
                f"{p.title}  {p.version}\n{p.status}" + (f" · {p.origin}" if p.origin else ""),
            )
            item.setData(Qt.ItemDataRole.UserRole, p.name)
            item.setToolTip(p.error or f"{p.name}: {p.status}")
            self.list.addItem(item)
            if p.name == current:
                row = i
        self.list.blockSignals(False)
        if self.plugins:
            self.list.setCurrentRow(row)
        self._show_current()
        self.refreshed.emit()

    def current_name(self) -> str | None:
        """The name of the plugin shown in the details."""
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def current(self) -> Any:
        """The :class:`~vidstudio.plugins.PluginInfo` shown, or None."""
        name = self.current_name()
        return next((p for p in self.plugins if p.name == name), None)

    def select(self, name: str) -> None:
        """Shows plugin ``name``."""
        for i, p in enumerate(self.plugins):
            if p.name == name:
                self.list.setCurrentRow(i)
                return
        raise KeyError(f"no plugin named {name!r} in the list")

    def _show_current(self) -> None:
        p = self.current()
        has = p is not None
        for b in (self.toggle_button, self.load_button, self.details_button, self.uninstall_button):
            b.setVisible(has)
        if not has:
            self.details.setText(
                f"<p style='color:{theme.TEXT_DIM}'>No plugins found.</p>"
                "<p>Install one from a plugin folder or a wheel, or put a plugin folder into the "
                "plugins folder. A plugin adds node types; see <i>docs/plugins.md</i>.</p>"
            )
            self.error_details.hide()
            return
        self.details.setText(self.describe(p))
        self.toggle_button.setText("Disable" if p.enabled else "Enable")
        self.toggle_button.setEnabled(not self.busy and p.manifest is not None)
        self.load_button.setEnabled(not self.busy and p.status == "enabled")
        self.details_button.setVisible(bool(p.error_details))
        self.error_details.setPlainText(p.error_details or "")
        self.error_details.setVisible(bool(p.error_details) and self.details_button.isChecked())
        self.uninstall_button.setEnabled(not self.busy)

    @staticmethod
    def describe(p: Any) -> str:
        """The details of a plugin as rich text: status and error, manifest facts, node types, permissions."""
        from vidstudio.plugins import PERMISSIONS

        e = html.escape
        color = STATUS_COLORS.get(p.status, theme.TEXT)
        out = [
            f"<h3 style='margin:0'>{e(p.title)} <span style='color:{theme.TEXT_DIM}; font-weight:normal'>{e(p.version)}</span></h3>",
            f"<p style='margin-top:2px'><b>{e(p.name)}</b> · <span style='color:{color}'><b>{e(p.status)}</b></span>"
            + ("" if p.enabled else " (disabled by you)")
            + (" · loaded" if p.loaded else "")
            + "</p>",
        ]
        if p.error:
            out.append(f"<p style='color:{theme.ERROR}'>⚠ {e(p.error)}</p>")
        m = p.manifest
        if m is not None:
            out.append(f"<p>{e(m.description)}</p>")
            rows = [
                ("Author", e(m.author)),
                ("Licence", e(m.license)),
                ("Homepage", f"<a href='{e(m.homepage)}'>{e(m.homepage)}</a>" if m.homepage else "—"),
                ("Category", e(p.category)),
                ("Node API", e(m.api_versions)),
                ("Requirements", e(", ".join(m.requirements)) or "none"),
            ]
            rows.append(
                (
                    "Installed",
                    e(
                        f"{p.origin}"
                        + (f" ({p.distribution})" if p.distribution else "")
                        + (f" at {p.location}" if p.location else "")
                    ),
                )
            )
            out.append(
                "<table cellspacing=3>"
                + "".join(
                    f"<tr><td style='color:{theme.TEXT_DIM}; padding-right:10px'>{k}</td><td>{v}</td></tr>"
                    for k, v in rows
                )
                + "</table>"
            )
            out.append(
                "<p style='margin-bottom:2px'><b>Node types</b></p><ul style='margin-top:0'>"
                + "".join(
                    f"<li><b>{e(n.title)}</b> <span style='color:{theme.TEXT_DIM}'>{e(n.type_id)} · {e(n.category)}</span>"
                    + (f"<br>{e(n.description)}" if n.description else "")
                    + "</li>"
                    for n in p.nodes
                )
                + "</ul>"
            )
            if p.permissions:
                out.append(
                    f"<p style='margin-bottom:2px'><b>Permissions it declares</b> "
                    f"<span style='color:{theme.TEXT_DIM}'>(the author's word: VidStudio cannot enforce them)</span></p><ul style='margin-top:0'>"
                    + "".join(
                        f"<li><b style='color:{theme.WARNING}'>{e(k)}</b>: {e(v)}<br>"
                        f"<span style='color:{theme.TEXT_DIM}'>{e(PERMISSIONS.get(k, ''))}</span></li>"
                        for k, v in p.permissions.items()
                    )
                    + "</ul>"
                )
            else:
                out.append(
                    f"<p style='color:{theme.TEXT_DIM}'>It declares no permissions (no network, no files "
                    "outside the project, no other programs).</p>"
                )
        elif p.location:
            out.append(f"<p style='color:{theme.TEXT_DIM}'>At {e(str(p.location))}</p>")
        return "".join(out)

    # ------------------------------------------------------------------------------------ actions
    def _after_change(self, name: str | None, message: str) -> None:
        """Shows the fresh list and gives the session a registry built with the change."""

        def work() -> tuple[list[Any], Any]:
            return self.manager.plugins, self.registry_factory()

        def done(result: tuple[list[Any], Any]) -> None:
            plugins, registry = result
            self.session.set_registry(registry)
            self._fill(plugins, select=name)
            self._say(message)

        self._run("updating the node types…", work, done)

    def set_enabled(self, name: str, enabled: bool) -> bool:
        """Enables or disables plugin ``name`` (saved in the settings), then applies it."""

        def work() -> Any:
            return self.manager.set_enabled(name, enabled)

        def done(info: Any) -> None:
            what = "enabled" if enabled else "disabled"
            self._after_change(
                name,
                f"plugin '{name}' {what}"
                + ("" if enabled else "; its node types are unavailable now (nodes using them keep their settings)"),
            )

        return self._run(f"{'enabling' if enabled else 'disabling'} {name}…", work, done)

    def _toggle_current(self) -> None:
        p = self.current()
        if p is not None:
            self.set_enabled(p.name, not p.enabled)

    def load(self, name: str) -> bool:
        """Imports plugin ``name`` now and checks every node type it declares."""

        def done(info: Any) -> None:
            self._fill(self.manager.plugins, select=name)
            if info.status == "failed":
                self._say(f"plugin '{name}' failed: {info.error}", error=True)
            else:
                self._say(f"plugin '{name}' loaded: {len(info.nodes)} node type(s) ready")

        return self._run(f"loading {name}…", lambda: self.manager.load(name), done)

    def _load_current(self) -> None:
        p = self.current()
        if p is not None:
            self.load(p.name)

    def _choose_install(self, how: str) -> None:
        if how == "folder":
            path = QFileDialog.getExistingDirectory(self, "Install a Plugin Folder")
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, "Install a Plugin Package", "", "Python packages (*.whl *.tar.gz *.zip);;All files (*)"
            )
        if path:
            self.install_from(path)

    def install_from(self, target: str | Path) -> bool:
        """Installs a plugin folder, wheel or source archive: reads its manifest (worker), shows what it is,
        what it declares and the warning (:attr:`confirm_install`), then installs it (worker; pip's output in
        the log) and applies it."""
        from vidstudio.plugins.install import describe_plan, inspect_target

        if self.manager is None:
            self._say("the plugin list is not read yet", error=True)
            return False
        self._cleanup_scratch()
        self._scratch = tempfile.TemporaryDirectory(prefix="vidstudio-plugin-")
        work_dir = Path(self._scratch.name)
        target = str(target)

        def inspect() -> tuple[Any, list[str]]:
            plan = inspect_target(target, work_dir, self._log_from_worker)
            return plan, describe_plan(plan, self.manager)

        def inspected(result: tuple[Any, list[str]]) -> None:
            plan, lines = result
            self.log.appendPlainText("\n".join(lines))
            if not self.confirm_install(lines):
                self._say("install cancelled: nothing was changed")
                self._cleanup_scratch()
                return
            self._install(plan)

        return self._run(f"reading {target}…", inspect, inspected)

    def _install(self, plan: Any) -> None:
        from vidstudio.plugins.install import install

        def done(info: Any) -> None:
            self._cleanup_scratch()
            self._after_change(info.name, f"installed plugin '{info.name}' {info.version} ({info.status})")

        def work() -> Any:
            return install(plan, self.manager, self._log_from_worker)

        if not self._run(f"installing {plan.manifest.name}…", work, done):
            self._cleanup_scratch()

    def uninstall(self, name: str) -> bool:
        """Removes plugin ``name`` (pip uninstall, or its folder in the plugins folder) after asking."""
        from vidstudio.plugins.install import uninstall

        if not self.confirm_uninstall(name):
            return False
        return self._run(
            f"uninstalling {name}…",
            lambda: uninstall(name, self.manager, self._log_from_worker),
            lambda info: self._after_change(None, f"uninstalled plugin '{name}'"),
        )

    def _uninstall_current(self) -> None:
        p = self.current()
        if p is not None:
            self.uninstall(p.name)

    def _open_folder(self) -> None:
        folder = getattr(self.manager, "plugins_dir", None)
        if folder is None:
            return
        # made first (on a worker thread) so that the file manager has something to open
        self.runner.submit(
            lambda: Path(folder).mkdir(parents=True, exist_ok=True),
            on_done=lambda _r: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))),
            on_error=lambda e: self._say(f"cannot make the plugins folder {folder}: {e}", error=True),
        )

    def _ask_install(self, lines: list[str]) -> bool:
        """The question before an install: the plugin, the permissions it declares and the warning, with every
        fact of :func:`~vidstudio.plugins.install.describe_plan` under Show Details."""
        e = html.escape
        start = next((i for i, ln in enumerate(lines) if ln.strip().startswith("permissions it declares")), len(lines))
        warn = next((i for i, ln in enumerate(lines) if ln.startswith("WARNING")), len(lines))
        perms = [ln.strip() for ln in lines[start:warn]]
        info = "<br>".join(e(x) for x in perms)
        info += f"<p style='color:{theme.WARNING}'>" + e(" ".join(lines[warn:])) + "</p>"
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Install plugin", lines[0] if lines else "Install this plugin?", parent=self
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(info)
        box.setDetailedText("\n".join(lines))
        ok = box.addButton("Install", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is ok

    def _ask_uninstall(self, name: str) -> bool:
        return (
            QMessageBox.question(
                self,
                "Uninstall plugin",
                f"Uninstall plugin '{name}'? Projects that use its "
                "nodes keep them, unavailable, until it is installed again.",
            )
            == QMessageBox.StandardButton.Yes
        )

    def _cleanup_scratch(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def closeEvent(self, event) -> None:
        if not self.busy:
            self._cleanup_scratch()
        super().closeEvent(event)
