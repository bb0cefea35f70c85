"""The Export dialog: write a VIDEO (the graph's picture, any node's VIDEO output, or a generated result)
to an MP4 (H.264, CRF, preset, fps, frame range, the project embedded, the picture's sound as AAC) or a PNG
sequence, with progress, Cancel and "Show in Folder". The work runs on a worker thread as a :class:`~vidstudio.ui.state.tasks.Job`, so it
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
from vidstudio.media.audio import Audio, AudioFile, file_sound
from vidstudio.media.clip import Clip, as_clip
from vidstudio.media.export import clip_rate_and_range, export_clip
from vidstudio.media.video import PRESETS, PROJECT_METADATA_KEY, parse_fps, probe_video, read_metadata
from vidstudio.progress import CancelToken
from vidstudio.project import Project, embeddable_json
from vidstudio.project.view import sound_sources
from vidstudio.ui.genops import generators_needed, server_only_message
from vidstudio.ui.state.session import Session
from vidstudio.ui.state.tasks import Job, JobList, TaskRunner, error_text
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
        audio: mux the picture's sound (:func:`find_sound`) into the MP4 as AAC, when it has any.
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
    audio: bool = False


@dataclass
class FoundSound:
    """The sound that goes with an export's picture.

    Attributes:
        audio: the track (a lazy :class:`~vidstudio.media.audio.AudioFile` where it comes from a file), or None.
        text: where it comes from, or why there is none, in words for the user.
    """

    audio: Audio | None
    text: str


def find_sound(
    engine: Engine,
    project: Project,
    node_id: str | None,
    port: str | None,
    source_file: Path | None = None,
    cancel: CancelToken | None = None,
) -> FoundSound:
    """The sound of an export's picture (on the calling thread: a worker; it may evaluate part of the graph).

    A result's sound is its file's audio stream. A node's is the first of
    :func:`vidstudio.project.view.sound_sources` whose value is sound: the Export Video node's audio input when
    that node writes this picture (taken as it is, silence included, so that the dialog writes the file the
    node writes), else the picture's own sound (Load Video, Retime, an LTX-2 Generate) or a Load Audio track on
    the Timeline, where it is not None or silence (a Load Video of a file without sound gives silence).

    Raises:
        vidstudio.errors.VidStudioError: when the graph that makes the sound fails (the message says where);
            Cancelled when cancelled.
    """
    if node_id is None or port is None:
        if source_file is None or not source_file.is_file():
            return FoundSound(None, "the result has no file to take a sound from")
        audio = file_sound(source_file)
        if audio is None:
            return FoundSound(None, f"{source_file.name} has no sound")
        return FoundSound(audio, f"the sound of {source_file.name}")
    found = sound_sources(project, engine.registry, node_id, port)
    if not found:
        return FoundSound(None, f"nothing in the graph gives {node_id}.{port} a sound")
    why = []
    for src in found:
        gens = generators_needed(project, engine.registry, [src.node_id])
        if gens:
            why.append(f"{src.ref} needs {', '.join(gens)}, which only the generation server runs")
            continue
        run = engine.run(
            project, project.settings, targets=[src.node_id], project_dir=project.project_dir, cancel=cancel
        )
        value = run.values.get(src.node_id, {}).get(src.port)
        if isinstance(value, Audio) and (src.linked or isinstance(value, AudioFile) or value.samples.any()):
            return FoundSound(value, f"{src.ref} ({src.why})")
        why.append(f"{src.ref} is {'silent' if isinstance(value, Audio) else 'empty'}")
    return FoundSound(None, "; ".join(why))


def run_export(
    engine: Engine, project: Project, spec: ExportSpec, job: Job | None = None, cancel: CancelToken | None = None
) -> tuple[Path, list[str]]:
    """Computes the clip (on the calling thread: a worker) and writes it through
    :func:`vidstudio.media.export.export_clip`, the one export path of the Export Video node too (the same frame
    range, odd-size padding, embedded project and clip metadata such as the seed and model, and with
    ``spec.audio`` the same sound: :func:`find_sound`, cut or padded to the frames written).

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
    audio = None
    if spec.audio and spec.fmt == "mp4":
        if job is not None:
            job.update(None, "finding the sound", status="running", force=True)
        audio = find_sound(engine, project, spec.node_id, spec.port, spec.source_file, token).audio

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
        audio=audio,
    )


def start_export(session: Session, runner: TaskRunner, jobs: JobList, spec: ExportSpec) -> Job:
    """Starts an export job on a worker thread and returns it (listed in ``jobs``)."""
    what = spec.path.name
    job = jobs.add(Job(f"Export {what}", "export"))
    doc = session.project.copy_document()

    def work() -> tuple[Path, list[str], int]:
        path, notes = run_export(session.engine, doc, spec, job)
        return path, notes, written_frame_count(path, spec.stop - spec.start)

    def done(result: tuple[Path, list[str], int]) -> None:
        path, notes, n = result
        job.finish("done", f"wrote {path} ({n} frames)" + "".join(f"; {x}" for x in notes), str(path))
        session.message.emit(f"exported {path}")

    job.update(0.0, "starting", status="running", force=True)
    runner.submit(work, on_done=done, on_error=job.fail)
    return job


def written_frame_count(path: Path, fallback: int) -> int:
    """The frames in an exported file or PNG folder (an Interpolate's clip is written at its own rate, so not
    the project frames chosen): an MP4 probed back, a sequence's PNG files; ``fallback`` when it cannot be read.
    """
    p = Path(path)
    try:
        if p.is_dir():
            return sum(1 for f in p.iterdir() if f.suffix.lower() == ".png")
        return probe_video(p).frame_count
    except (OSError, MediaError):
        return fallback


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
        # QComboBox.findData compares Python tuples by identity: look them up by value
        sources = [self.source.itemData(i) for i in range(self.source.count())]
        shown = None
        if s.view.view_result is not None:
            shown = ("result", s.view.view_result, None)
        elif s.view.view_target is not None and s.view.view_target.kind == "VIDEO":
            shown = ("node", s.view.view_target.node_id, s.view.view_target.port)
        if shown in sources:
            self.source.setCurrentIndex(sources.index(shown))

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
        self.sound = QCheckBox("Include sound", self)
        self.sound.setChecked(True)
        self.sound.setEnabled(False)
        self.sound.clicked.connect(lambda on: setattr(self, "_sound_wanted", on))
        self._sound_wanted = True  # the user's choice, kept while the source changes
        self._sound_request = 0
        self.sound_found: FoundSound | None = None  # None while it is being looked for

        form = QFormLayout()
        form.addRow("Source", self.source)
        form.addRow("Format", self.fmt)
        form.addRow("File", path_row)
        form.addRow("Quality (CRF)", self.crf)
        form.addRow("Encoder preset", self.preset)
        form.addRow("Frame rate", self.fps)
        form.addRow("Frames", rng)
        form.addRow("", self.embed)
        form.addRow("", self.sound)
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
        self.source.currentIndexChanged.connect(self.find_sound)
        self.find_sound()

    def _source(self) -> tuple[str | None, str | None, Path | None]:
        """``(node_id, port, source_file)`` of the chosen source (a result: ``(None, None, its file)``)."""
        data = self.source.currentData()
        if data is None:
            return None, None, None
        kind, x, port = data
        if kind == "node":
            return x, port, None
        r = self.session.view.results[x]
        return None, None, Path(r.path) if r.path else None

    def find_sound(self) -> None:
        """Looks for the chosen source's sound on a worker (:func:`find_sound`); until the answer the "Include
        sound" box waits, checked (an export started meanwhile takes the sound if there is any), disabled."""
        self._sound_request += 1
        request = self._sound_request
        self.sound_found = None
        self.sound.setEnabled(False)
        self.sound.setChecked(self._sound_wanted)
        self.sound.setToolTip("Looking for the sound of the picture…")
        node_id, port, file = self._source()
        if node_id is None and file is None and self.source.currentData() is None:
            self._sound_answer(request, FoundSound(None, "nothing to export"))
            return
        doc = self.session.project.copy_document()

        def failed(e: BaseException) -> None:
            self._sound_answer(request, FoundSound(None, f"the sound could not be made: {error_text(e)}"))

        self.runner.submit(
            find_sound,
            self.session.engine,
            doc,
            node_id,
            port,
            file,
            on_done=lambda found: self._sound_answer(request, found),
            on_error=failed,
        )

    def _sound_answer(self, request: int, found: FoundSound) -> None:
        if request != self._sound_request:
            return  # the source changed since
        try:
            self.sound_found = found
            self._sync_sound()
        except RuntimeError:  # the dialog was deleted while the worker looked
            pass

    def _sync_sound(self) -> None:
        found = self.sound_found
        if found is None:
            return
        has = found.audio is not None
        mp4 = self.fmt.currentData() == "mp4"
        self.sound.setEnabled(has and mp4)
        self.sound.setChecked(has and self._sound_wanted)
        if not has:
            self.sound.setToolTip(f"No sound to include: {found.text}")
        elif not mp4:
            self.sound.setToolTip("A PNG sequence has no sound")
        else:
            self.sound.setToolTip(f"Mux the sound as AAC, cut to the frames written: {found.text}")

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
        self._sync_sound()
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
            audio=self.sound.isChecked(),
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
