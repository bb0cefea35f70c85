"""The Export dialog: write a VIDEO (the graph's picture, any node's VIDEO output, or a generated result)
to an MP4 (H.264, CRF, preset, fps, frame range, the project embedded) or a PNG sequence, with progress,
Cancel and "Show in Folder". The work runs on a worker thread as a :class:`~vidstudio.ui.state.tasks.Job`, so it
is also listed in the Jobs pane.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vidstudio.errors import MediaError, VidStudioError
from vidstudio.graph.engine import Engine
from vidstudio.media.clip import Clip, as_clip
from vidstudio.media.export import clip_rate_and_range, export_clip
from vidstudio.media.video import PRESETS, PROJECT_METADATA_KEY, parse_fps, read_metadata
from vidstudio.progress import CancelToken
from vidstudio.project import Project, embeddable_json
from vidstudio.ui.genops import generators_needed, server_only_message
from vidstudio.ui.state.session import Session
from vidstudio.ui.state.tasks import Job, JobList, TaskRunner
from vidstudio.ui.widgets import theme


@dataclass
class ExportSpec:
    """What to export.

    Attributes:
        node_id, port: the VIDEO output to write (None when exporting ``clip``).
        clip: a clip to write instead (a result).
        fmt: ``"mp4"`` or ``"png"``.
        path: the target file (``.mp4``) or folder (PNG sequence), absolute.
        crf, preset: H.264 quality and speed.
        fps: frame rate of the file; None: the clip's own (``vidstudio_fps``, set by Interpolate), else the
            project's.
        start, stop: project frames ``start <= i < stop``; a clip with its own rate writes the same seconds
            (:func:`vidstudio.media.export.clip_rate_and_range`).
        embed_project: embed the project in the MP4 (so that it opens again as a project).
        odd_size: ``"pad"`` or ``"refuse"`` odd frame sizes (H.264 needs even sides), as the Export Video node.
        source_file: the file a result clip was read from, whose ``vidstudio_*`` metadata (seed, model) the
            export keeps.
    """

    node_id: str | None
    port: str | None
    clip: Clip | None
    fmt: str
    path: Path
    crf: int
    preset: str
    fps: Fraction | None
    start: int
    stop: int
    embed_project: bool = True
    odd_size: str = "pad"
    source_file: Path | None = None


def run_export(
    engine: Engine, project: Project, spec: ExportSpec, job: Job | None = None, cancel: CancelToken | None = None
) -> tuple[Path, list[str]]:
    """Computes the clip (on the calling thread: a worker) and writes it through
    :func:`vidstudio.media.export.export_clip`, the one export path of the Export Video node too (the same frame
    range, odd-size padding, embedded project and clip metadata such as the seed and model).

    Args:
        engine: the session's engine (its cache makes the graph part instant after a preview).
        project: a private copy of the document.
        spec: what and where.
        job: receives progress.

    Returns:
        ``(file or folder written, notes)``: notes say what changed on the way (padding of an odd size).

    Raises:
        vidstudio.errors.VidStudioError: for a bad graph, file or setting (the message says which), or a picture
            that needs a generating node (only the generation server runs those);
            Cancelled when cancelled (nothing is left under the target name).
    """
    token = cancel or (job.token if job is not None else CancelToken())
    if spec.clip is not None:
        clip = spec.clip
    else:
        assert spec.node_id is not None and spec.port is not None
        gens = generators_needed(project, engine.registry, [spec.node_id])
        if gens:  # the GUI process never runs a diffusion model
            raise VidStudioError(
                server_only_message(gens, project) + " To export a generated video, choose its "
                "result track as the source."
            )
        if job is not None:
            job.update(None, f"evaluating {spec.node_id}", status="running", force=True)
        run = engine.run(
            project, project.settings, targets=[spec.node_id], project_dir=project.project_dir, cancel=token
        )
        clip = as_clip(run.values[spec.node_id][spec.port], label=f"{spec.node_id}.{spec.port}")
    metadata = {}
    if spec.source_file is not None and spec.source_file.is_file():
        try:
            metadata = {
                k: v
                for k, v in read_metadata(spec.source_file).items()
                if k.startswith("vidstudio_") and k != PROJECT_METADATA_KEY
            }
        except MediaError:  # the result's frames are in memory; only its file's tags are lost
            metadata = {}

    def progress(fraction, message):
        if job is not None:
            job.update(fraction, f"writing {message}", status="running")

    settings = project.settings
    fps, start, stop = clip_rate_and_range(clip, spec.fps, settings.fps, spec.start, spec.stop, settings.frame_count)
    return export_clip(
        clip,
        spec.path,
        fps,
        fmt=spec.fmt,
        start=start,
        stop=stop,
        crf=spec.crf,
        preset=spec.preset,
        odd_size=spec.odd_size,
        project_json=embeddable_json(project) if spec.embed_project else None,
        metadata={**metadata, **clip.metadata},
        progress=progress,
        cancel=token,
    )


def start_export(session: Session, runner: TaskRunner, jobs: JobList, spec: ExportSpec) -> Job:
    """Starts an export job on a worker thread and returns it (listed in ``jobs``)."""
    what = spec.path.name
    job = jobs.add(Job(f"Export {what}", "export"))
    doc = session.project.copy_document()
    n = spec.stop - spec.start

    def done(result: tuple[Path, list[str]]) -> None:
        path, notes = result
        job.finish("done", f"wrote {path} ({n} frames)" + "".join(f"; {x}" for x in notes), str(path))
        session.message.emit(f"exported {path}")

    job.update(0.0, "starting", status="running", force=True)
    runner.submit(run_export, session.engine, doc, spec, job, on_done=done, on_error=job.fail)
    return job


class ExportDialog(QDialog):
    """The Export dialog (see the module docstring).

    Attributes:
        job: the running or last export job, or None.
    """

    def __init__(self, session: Session, runner: TaskRunner, jobs: JobList, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.jobs = jobs
        self.job: Job | None = None
        self.setWindowTitle("Export Video")
        self.setMinimumWidth(520)
        s = session

        self.source = QComboBox(self)
        for n in s.project.nodes:
            cls = s.registry.find(n.type)
            for o in cls.outputs if cls is not None else ():
                if str(o.type) == "VIDEO":
                    self.source.addItem(f"{n.id}.{o.name}  ({n.title or cls.title})", ("node", n.id, o.name))
        for i, r in enumerate(s.view.results):
            self.source.addItem(f"Result: {r.label}", ("result", i, None))
        if s.view.view_result is not None:
            self.source.setCurrentIndex(self.source.findData(("result", s.view.view_result, None)))
        elif s.view.view_target is not None and s.view.view_target.kind == "VIDEO":
            self.source.setCurrentIndex(
                max(self.source.findData(("node", s.view.view_target.node_id, s.view.view_target.port)), 0)
            )

        self.fmt = QComboBox(self)
        self.fmt.addItem("MP4 (H.264)", "mp4")
        self.fmt.addItem("PNG sequence", "png")
        self.fmt.currentIndexChanged.connect(self._fmt_changed)
        self.path = QLineEdit(self)
        browse = QToolButton(self)
        browse.setIcon(theme.icon("mdi6.folder-open-outline"))
        browse.setAutoRaise(True)
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.crf = QSpinBox(self)
        self.crf.setRange(0, 51)
        self.crf.setValue(18)
        self.crf.setToolTip("0 lossless, 18 visually lossless, 23 default, 28 small")
        self.preset = QComboBox(self)
        self.preset.addItems(list(PRESETS))
        self.preset.setCurrentText("medium")
        self.fps = QLineEdit(self)
        self.fps.setPlaceholderText(f"the clip's own, else the project's ({s.settings.model_dump(mode='json')['fps']})")
        self.fps.setToolTip(
            "24, 25, 30, or a ratio such as 30000/1001; empty: the clip's own rate (Interpolate sets one), "
            "else the project's"
        )
        self.first = QSpinBox(self)
        self.last = QSpinBox(self)
        for w in (self.first, self.last):
            w.setRange(0, s.frame_count - 1)
        self.first.setValue(s.transport.in_point)
        self.last.setValue(s.transport.out_point)
        whole = QPushButton("Whole Clip", self)
        whole.clicked.connect(lambda: (self.first.setValue(0), self.last.setValue(s.frame_count - 1)))
        inout = QPushButton("In/Out", self)
        inout.clicked.connect(
            lambda: (self.first.setValue(s.transport.in_point), self.last.setValue(s.transport.out_point))
        )
        rng = QHBoxLayout()
        rng.addWidget(self.first)
        rng.addWidget(QLabel("to", self))
        rng.addWidget(self.last)
        rng.addWidget(whole)
        rng.addWidget(inout)
        rng.addStretch(1)
        self.embed = QCheckBox("Embed the project (the MP4 opens again as a project)", self)
        self.embed.setChecked(True)

        form = QFormLayout()
        form.addRow("Source", self.source)
        form.addRow("Format", self.fmt)
        form.addRow("File", path_row)
        form.addRow("Quality (CRF)", self.crf)
        form.addRow("Encoder preset", self.preset)
        form.addRow("Frame rate", self.fps)
        form.addRow("Frames", rng)
        form.addRow("", self.embed)
        self._mp4_rows = [self.crf, self.preset, self.embed]

        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.show_button = self.buttons.addButton("Show in Folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.show_button.setEnabled(False)
        self.cancel_button = self.buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.export_button.clicked.connect(self.start)
        self.show_button.clicked.connect(self.show_in_folder)
        self.cancel_button.clicked.connect(self._cancel_or_close)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)
        self._set_default_path()

    def _set_default_path(self) -> None:
        s = self.session
        base = s.project.project_dir or Path.cwd()
        stem = s.project.path.stem if s.project.path is not None else "export"
        name = f"{stem}.mp4" if self.fmt.currentData() == "mp4" else f"{stem}_frames"
        self.path.setText(str(base / "out" / name))

    def _fmt_changed(self) -> None:
        mp4 = self.fmt.currentData() == "mp4"
        for w in self._mp4_rows:
            w.setEnabled(mp4)
        p = Path(self.path.text() or "export")
        self.path.setText(str(p.with_suffix(".mp4") if mp4 else p.with_suffix("")))

    def _browse(self) -> None:
        if self.fmt.currentData() == "mp4":
            path, _ = QFileDialog.getSaveFileName(self, "Export MP4", self.path.text(), "MP4 video (*.mp4)")
        else:
            path = QFileDialog.getExistingDirectory(
                self, "Export PNG sequence into", str(Path(self.path.text()).parent)
            )
        if path:
            self.path.setText(path)

    def spec(self) -> ExportSpec:
        """The export as set in the dialog.

        Raises:
            ValueError: naming the field that is wrong.
        """
        data = self.source.currentData()
        if data is None:
            raise ValueError("nothing to export: the project has no node with a VIDEO output")
        text = self.path.text().strip()
        if not text:
            raise ValueError("choose a file to write")
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = (self.session.project.project_dir or Path.cwd()) / path
        try:
            fps = parse_fps(self.fps.text().strip()) if self.fps.text().strip() else None
        except VidStudioError as e:
            raise ValueError(f"frame rate: {e}") from None
        a, b = self.first.value(), self.last.value()
        if b < a:
            raise ValueError(f"the last frame ({b}) is before the first ({a})")
        kind, x, port = data
        result = self.session.view.results[x] if kind == "result" else None
        return ExportSpec(
            x if kind == "node" else None,
            port,
            result.clip if result else None,
            self.fmt.currentData(),
            path,
            self.crf.value(),
            self.preset.currentText(),
            fps,
            a,
            b + 1,
            self.embed.isChecked(),
            source_file=Path(result.path) if result is not None and result.path else None,
        )

    def start(self) -> Job | None:
        """Starts the export (Export button)."""
        try:
            spec = self.spec()
        except ValueError as e:
            self.status.setText(f"<span style='color:{theme.ERROR}'>{e}</span>")
            return None
        self.job = start_export(self.session, self.runner, self.jobs, spec)
        self.job.changed.connect(self._job_changed)
        self.export_button.setEnabled(False)
        self.show_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self._job_changed()
        return self.job

    def _job_changed(self) -> None:
        j = self.job
        if j is None:
            return
        if j.progress is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(j.progress * 1000))
        color = theme.ERROR if j.status == "failed" else theme.TEXT
        self.status.setText(f"<span style='color:{color}'>{j.message}</span>")
        if j.is_final:
            self.export_button.setEnabled(True)
            self.cancel_button.setText("Close")
            self.show_button.setEnabled(j.status == "done")

    def _cancel_or_close(self) -> None:
        if self.job is not None and not self.job.is_final:
            self.job.cancel()
        else:
            self.reject()

    def show_in_folder(self) -> None:
        """Opens the folder that holds the export."""
        if self.job is None or not self.job.output:
            return
        p = Path(self.job.output)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(p if p.is_dir() else p.parent)))

    def reject(self) -> None:
        # Closing the window does not cancel: the export goes on and stays listed in the Jobs pane.
        super().reject()
