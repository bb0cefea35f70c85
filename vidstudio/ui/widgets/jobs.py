"""The Jobs pane: long work with a progress bar, the latest message, seconds per step, a preview and
Cancel; errors are shown in words.

Today it lists the local jobs (exports and renders, which run in this process on worker threads). The
generation server's jobs will be :class:`~vidstudio.ui.state.tasks.Job` objects in the same
:class:`~vidstudio.ui.state.tasks.JobList` (``kind="generate"``, with ``seconds_per_step`` and ``preview``), so
they appear here without a change to this pane; the banner says whether a server is configured.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vidstudio.ui.state.tasks import Job, JobList
from vidstudio.ui.widgets import theme

STATUS_COLORS = {
    "queued": theme.TEXT_DIM,
    "running": theme.ACCENT,
    "done": theme.OK,
    "failed": theme.ERROR,
    "cancelled": theme.TEXT_DIM,
}
KIND_ICONS = {"export": "mdi6.export-variant", "render": "mdi6.movie-open-play-outline", "generate": "mdi6.creation"}


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits (``…`` in the middle) and the whole text as
    its tooltip; it never widens the pane."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(24)
        self._full = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        """Sets the text (elided to the width)."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        """The whole text."""
        return self._full

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(self.width(), 24)))


class JobRow(QFrame):
    """One job: icon, title, status, progress bar, message, seconds per step, preview, Cancel / Show."""

    PREVIEW_SIZE = (128, 72)

    def __init__(self, job: Job, parent: QWidget | None = None):
        super().__init__(parent)
        self.job = job
        self._shown_preview = None
        self.setObjectName("JobRow")
        self.setStyleSheet(
            f"#JobRow {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER}; border-radius: 4px; }}"
        )
        icon = QLabel(self)
        icon.setPixmap(theme.icon(KIND_ICONS.get(job.kind, "mdi6.cog-outline")).pixmap(18, 18))
        self.title = ElidedLabel(job.title, self)
        self.title.setStyleSheet("font-weight: 600;")
        self.status = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics = ElidedLabel("", self)
        self.metrics.setProperty("role", "dim")
        self.metrics.hide()
        self.preview = QLabel(self)
        self.preview.setFixedSize(*self.PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet(f"background: {theme.BASE}; border: 1px solid {theme.BORDER};")
        self.preview.setToolTip("The latest denoising step")
        self.preview.setVisible(job.kind == "generate")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(job.cancel)
        self.show_button = QToolButton(self)
        self.show_button.setIcon(theme.icon("mdi6.folder-open-outline"))
        self.show_button.setToolTip("Show in folder")
        self.show_button.setAutoRaise(True)
        self.show_button.clicked.connect(self.show_in_folder)
        self.show_button.hide()
        self.open_button = QToolButton(self)
        self.open_button.setIcon(theme.icon("mdi6.play-box-outline"))
        self.open_button.setToolTip("Open the file with the system's player")
        self.open_button.setAutoRaise(True)
        self.open_button.clicked.connect(self.open_output)
        self.open_button.hide()
        self.import_button = QToolButton(self)
        self.import_button.setIcon(theme.icon("mdi6.movie-open-plus-outline"))
        self.import_button.setToolTip("Add to Timeline: download the result and put it on this project's timeline")
        self.import_button.setAutoRaise(True)
        self.import_button.clicked.connect(lambda: getattr(self.job, "import_result", lambda: None)())
        self.import_button.hide()
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(self.title, 1)
        top.addWidget(self.status)
        top.addWidget(self.import_button)
        top.addWidget(self.open_button)
        top.addWidget(self.show_button)
        top.addWidget(self.cancel_button)
        text = QVBoxLayout()
        text.setSpacing(3)
        text.addWidget(self.bar)
        text.addWidget(self.metrics)
        text.addWidget(self.message)
        text.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignTop)
        body.addLayout(text, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addLayout(body)
        job.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Shows the job's current status, progress, message, metrics, preview and buttons."""
        j = self.job
        color = STATUS_COLORS.get(j.status, theme.TEXT)
        self.status.setText(f"<span style='color:{color}'>{j.status}</span>")
        if j.progress is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(j.progress * 1000))
        self.message.setText(j.message)
        self.message.setToolTip(j.output or "")
        self.message.setStyleSheet(f"color: {theme.ERROR};" if j.status == "failed" else f"color: {theme.TEXT_DIM};")
        metrics = self.metrics_text(j)
        self.metrics.set_full_text(metrics)
        self.metrics.setVisible(bool(metrics))
        if isinstance(j.preview, QImage) and not j.preview.isNull():
            if j.preview is not self._shown_preview:
                self._shown_preview = j.preview
                w, h = self.PREVIEW_SIZE
                self.preview.setPixmap(
                    QPixmap.fromImage(j.preview).scaled(
                        w - 2, h - 2, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                    )
                )
            self.preview.show()
        self.cancel_button.setVisible(not j.is_final)
        self.cancel_button.setEnabled(not j.message.startswith("cancelling"))
        self.import_button.setVisible(bool(getattr(j, "importable", False)))
        has_file = j.status == "done" and bool(j.output)
        self.show_button.setVisible(has_file)
        self.open_button.setVisible(has_file and str(j.output).lower().endswith((".mp4", ".mov", ".m4v")))

    @staticmethod
    def metrics_text(j: Job) -> str:
        """``"step 3/20  ·  0.41 s/step  ·  ETA 12 s"`` for a running job (empty when there is nothing to say; the
        node is named in the message line)."""
        from vidstudio.ui.genops import duration_text

        if j.is_final:
            return ""
        parts = []
        if j.step is not None and j.total:
            parts.append(f"step {j.step}/{j.total}")
        if j.seconds_per_step:
            parts.append(f"{j.seconds_per_step:.2f} s/step")
        if j.eta is not None:
            parts.append(f"ETA {duration_text(j.eta)}")
        return "  ·  ".join(parts)

    def open_output(self) -> None:
        """Opens the job's output file with the system's default application."""
        if self.job.output:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.job.output)))

    def show_in_folder(self) -> None:
        """Opens the folder of the job's output in the file manager."""
        if not self.job.output:
            return
        from pathlib import Path

        p = Path(self.job.output)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(p if p.is_dir() else p.parent)))


class JobsPane(QWidget):
    """The Jobs pane over a :class:`~vidstudio.ui.state.tasks.JobList` (newest first).

    Attributes:
        banner: the line about the generation server.
    """

    def __init__(self, jobs: JobList, parent: QWidget | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.setObjectName("Jobs")
        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        banner_box = QFrame(self)
        banner_box.setProperty("role", "banner")
        bl = QHBoxLayout(banner_box)
        bl.setContentsMargins(8, 6, 8, 6)
        self.banner_icon = QLabel(banner_box)
        bl.addWidget(self.banner_icon, 0, Qt.AlignmentFlag.AlignTop)
        bl.addWidget(self.banner, 1)
        self.list = QWidget(self)
        self.list_lay = QVBoxLayout(self.list)
        self.list_lay.setContentsMargins(0, 0, 0, 0)
        self.list_lay.setSpacing(6)
        self.empty = QLabel(
            "No jobs yet. Generate (Ctrl+G), exports and renders appear here with their progress.", self.list
        )
        self.empty.setProperty("role", "dim")
        self.empty.setWordWrap(True)
        self.list_lay.addWidget(self.empty)
        self.list_lay.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.list)
        self.clear_button = QPushButton("Clear Finished", self)
        self.clear_button.clicked.connect(self.clear_finished)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(banner_box)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignRight)
        self.rows: list[JobRow] = []
        self.set_server(None)
        for j in jobs.jobs:
            self._add(j)
        jobs.added.connect(self._add)

    #: Banner icon and colour per server state.
    STATE_ICONS = {
        "none": ("mdi6.server-off", theme.TEXT_DIM),
        "idle": ("mdi6.server", theme.TEXT_DIM),
        "starting": ("mdi6.server", theme.WARNING),
        "connected": ("mdi6.server-network", theme.OK),
        "unreachable": ("mdi6.server-network-off", theme.ERROR),
    }

    def set_server(self, description: str | None, state: str = "connected") -> None:
        """Says which generation server is used and how it is (``state``: ``none``, ``idle`` (not started yet),
        ``starting``, ``connected``, ``unreachable``); None: no server configured."""
        if not description:
            state = "none"
            description = (
                "No generation server configured: Generate is not available. Exports and renders run "
                "here on this computer."
            )
        self.server_state = state
        self.banner.setText(description)
        name, color = self.STATE_ICONS.get(state, self.STATE_ICONS["idle"])
        self.banner_icon.setPixmap(theme.icon(name, color).pixmap(18, 18))
        self.banner.setStyleSheet(f"color: {theme.ERROR};" if state == "unreachable" else "")

    def _add(self, job: Job) -> None:
        row = JobRow(job, self.list)
        self.rows.insert(0, row)
        self.list_lay.insertWidget(0, row)
        self.empty.hide()

    def clear_finished(self) -> None:
        """Removes finished rows from the list."""
        for row in [r for r in self.rows if r.job.is_final]:
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
        self.empty.setVisible(not self.rows)
