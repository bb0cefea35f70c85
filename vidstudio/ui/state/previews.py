"""Previews of media files for the Timeline, made off the GUI thread: thumbnails of a Load Video's frames and the
waveform peaks of a sound.

The Timeline asks while it paints; an answer that is not there yet is requested from a worker thread and the
paint goes on with a stand-in (the latest answer for the same file at another size, else nothing: the Timeline
draws placeholders). When the worker is done, ``changed`` is emitted on the GUI thread and the Timeline
repaints. The GUI thread never opens a media file here, not even to ``stat`` it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from vidstudio.media import preview
from vidstudio.ui.state.tasks import TaskRunner, error_text

#: Answers kept (each a few thumbnails of at most 24 x 16 pixels high, or 256 peaks).
MAX_ENTRIES = 64


@dataclass(frozen=True)
class Preview:
    """An answer of :class:`MediaPreviews`.

    Attributes:
        ready: True when ``value`` (or ``error``) answers this very request; False while it is being made
            (``value`` is then a stand-in: the latest answer for the same file at another count, or None).
        value: thumbnails: ``(frame_count, [(frame, QImage RGB888), ...])``; peaks: ``(seconds, (buckets, 2)
            float32 min/max)``; None while nothing is known.
        error: the reason in words when the file cannot be decoded (a MediaError's message), else None.
    """

    ready: bool
    value: Any = None
    error: str | None = None


def _to_qimages(answer: tuple[int, list[tuple[int, np.ndarray]]]) -> tuple[int, list[tuple[int, QImage]]]:
    """``(frame_count, [(frame, (h, w, 3) uint8)])`` to QImages that own their pixels (made on the worker)."""
    n, thumbs = answer
    out = []
    for f, img in thumbs:
        img = np.ascontiguousarray(img[..., :3], dtype=np.uint8)
        h, w = img.shape[:2]
        out.append((int(f), QImage(img.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()))
    return int(n), out


class MediaPreviews(QObject):
    """Thumbnails and waveform peaks of media files, made on a worker thread and kept (module docstring).

    Args:
        runner: the worker (default: a one-thread :class:`~vidstudio.ui.state.tasks.TaskRunner` of its own,
            ``vidstudio-previews``, stopped by :meth:`shutdown`).

    Attributes:
        thumbnailer: ``(path, fps, trim_in, trim_out, count, height) -> (frame_count, [(frame, (h, w, 3)
            uint8)])``, run on the worker (default :func:`vidstudio.media.preview.video_thumbnails`).
        peaker: ``(path, trim_in, trim_out, buckets) -> (seconds, (buckets, 2) float32)``, run on the worker
            (default :func:`vidstudio.media.preview.audio_peaks`).

    Signal ``changed()`` when an answer arrives (on the GUI thread).
    """

    changed = Signal()

    def __init__(self, runner: TaskRunner | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._own_runner = runner is None
        self.runner = runner or TaskRunner(max_workers=1, name="vidstudio-previews", parent=self)
        self.thumbnailer: Callable[..., tuple[int, list[tuple[int, np.ndarray]]]] = preview.video_thumbnails
        self.peaker: Callable[..., tuple[float, np.ndarray]] = preview.audio_peaks
        self._answers: OrderedDict[tuple, Preview] = OrderedDict()
        self._latest: dict[tuple, tuple] = {}  # request without its count -> the latest answered request
        self._pending: set[tuple] = set()
        self._generation = 0  # forget() drops what was asked before
        self._closed = False

    def thumbnails(
        self, path: str | Path, fps: Fraction | float, trim_in: float, trim_out: float, count: int, height: int
    ) -> Preview:
        """Thumbnails of a trimmed video at ``fps`` (see :func:`vidstudio.media.preview.video_thumbnails`):
        the answer, or a stand-in while the worker makes it. Never blocks."""
        fps_text = str(Fraction(fps).limit_denominator(100000))
        family = ("thumbs", str(path), fps_text, float(trim_in), float(trim_out), int(height))
        key = (*family, int(count))

        def work() -> tuple[int, list[tuple[int, QImage]]]:
            return _to_qimages(
                self.thumbnailer(path, Fraction(fps_text), float(trim_in), float(trim_out), int(count), int(height))
            )

        return self._ask(key, family, work)

    def peaks(self, path: str | Path, trim_in: float, trim_out: float, buckets: int) -> Preview:
        """The waveform peaks of a file's sound over a trim (:func:`vidstudio.media.preview.audio_peaks`): the
        answer, or a stand-in while the worker makes it. Never blocks."""
        family = ("peaks", str(path), float(trim_in), float(trim_out))
        key = (*family, int(buckets))
        return self._ask(key, family, lambda: self.peaker(path, float(trim_in), float(trim_out), int(buckets)))

    def _ask(self, key: tuple, family: tuple, work: Callable[[], Any]) -> Preview:
        got = self._answers.get(key)
        if got is not None:
            self._answers.move_to_end(key)
            return got
        if key not in self._pending and not self._closed:
            self._pending.add(key)
            generation = self._generation

            def done(value: Any) -> None:
                self._answer(generation, key, family, Preview(True, value))

            def failed(e: BaseException) -> None:
                self._answer(generation, key, family, Preview(True, None, error_text(e)))

            self.runner.submit(work, on_done=done, on_error=failed)
        stand_in = self._answers.get(self._latest.get(family, ()))
        return Preview(False, stand_in.value if stand_in is not None else None)

    def _answer(self, generation: int, key: tuple, family: tuple, answer: Preview) -> None:
        if generation != self._generation or self._closed:
            return
        self._pending.discard(key)
        self._answers[key] = answer
        if answer.error is None:
            self._latest[family] = key
        while len(self._answers) > MAX_ENTRIES:
            old, _ = self._answers.popitem(last=False)
            self._latest = {f: k for f, k in self._latest.items() if k != old}
        self.changed.emit()

    @property
    def pending(self) -> int:
        """Requests the worker has not answered yet."""
        return len(self._pending)

    def forget(self) -> None:
        """Drops every answer (a project was opened: its files may have changed on disk); answers to earlier
        requests that are still on their way are dropped too."""
        self._generation += 1
        self._answers.clear()
        self._latest.clear()
        self._pending.clear()
        self.changed.emit()

    def shutdown(self) -> None:
        """Stops the worker (waits for the preview being made) when it is this object's own."""
        self._closed = True
        if self._own_runner:
            self.runner.shutdown(wait=True)


__all__ = ["MAX_ENTRIES", "MediaPreviews", "Preview"]
