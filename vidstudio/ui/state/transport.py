"""The transport: playhead, in/out range and playback of one session; QtCore only.

The Timeline, the Viewer's transport bar and the Inspector's keyed values subscribe to it. It knows the
project's length and frame rate (the session hands them over through :meth:`Transport.set_timebase` when the
settings change) and asks its :class:`~vidstudio.ui.state.evaluation.FrameCache` for the frame under the
playhead. Its signals emit only on a real change.
"""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal, Slot

from vidstudio.ui.state.evaluation import FrameCache


class Transport(QObject):
    """Playhead, loop range and playback over a clip of ``frame_count`` frames at ``fps``.

    Args:
        frames: the frame cache asked for the frame at the playhead (and to prefetch ahead while playing).
        frame_count: frames in the project (>= 1); fps: its frame rate (frames per second).

    Attributes:
        playhead: the current frame (0-based, within ``[0, frame_count)``).
        in_point, out_point: the loop range, inclusive frame numbers.
        loop: playback wraps at the out point (else it stops there).
        playing, play_direction (1 or -1), play_speed (times the fps): the playback state.

    Signals: ``playhead_changed(int)``, ``range_changed()`` (in/out or the length changed),
    ``playing_changed(bool)``.
    """

    playhead_changed = Signal(int)
    range_changed = Signal()
    playing_changed = Signal(bool)

    def __init__(self, frames: FrameCache, frame_count: int, fps: Fraction | float = 24, parent: QObject | None = None):
        super().__init__(parent)
        self.frames = frames
        self.frame_count = max(1, int(frame_count))
        self.fps = fps
        self.playhead = 0
        self.in_point = 0
        self.out_point = self.frame_count - 1
        self.loop = True
        self.playing = False
        self.play_direction = 1
        self.play_speed = 1.0
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(8)
        self._play_timer.timeout.connect(self._tick)
        self._play_clock = QElapsedTimer()
        self._play_origin = 0.0

    # ------------------------------------------------------------------------------------- length
    def set_timebase(self, frame_count: int, fps: Fraction | float) -> None:
        """The project's length or frame rate changed: clamps the range and the playhead to it."""
        self.fps = fps
        fc = max(1, int(frame_count))
        old = (self.frame_count, self.in_point, self.out_point)
        self.frame_count = fc
        last = fc - 1
        self.in_point = min(self.in_point, last)
        self.out_point = last if self.out_point > last or self.out_point < self.in_point else self.out_point
        if self.playhead > last:
            self.set_playhead(last)
        if (self.frame_count, self.in_point, self.out_point) != old:
            self.range_changed.emit()

    def reset(self, frame_count: int, fps: Fraction | float) -> list:
        """Another document: stops playback, the range becomes the whole clip, the playhead stays (clamped).

        Returns:
            ``[(signal, args), ...]`` to emit once the session has announced the new document.
        """
        self.stop()
        self.fps = fps
        old = (self.frame_count, self.in_point, self.out_point)
        self.frame_count = max(1, int(frame_count))
        self.in_point, self.out_point = 0, self.frame_count - 1
        pending = []
        if (self.frame_count, self.in_point, self.out_point) != old:
            pending.append((self.range_changed, ()))
        playhead = min(self.playhead, self.frame_count - 1)
        if playhead != self.playhead:
            self.playhead = playhead
            pending.append((self.playhead_changed, (playhead,)))
        return pending

    # ------------------------------------------------------------------------------------- playhead
    def set_playhead(self, frame: int) -> None:
        """Moves the playhead (clamped to the clip) and asks for that frame at once."""
        f = int(min(max(int(frame), 0), self.frame_count - 1))
        if f != self.playhead:
            self.playhead = f
            self.playhead_changed.emit(f)
        self.frames.request(f)

    def step(self, delta: int) -> None:
        """Moves the playhead by ``delta`` frames (stops playback)."""
        self.stop()
        self.set_playhead(self.playhead + delta)

    def go_start(self) -> None:
        """Playhead to the in point (or frame 0 when already there)."""
        self.stop()
        self.set_playhead(self.in_point if self.playhead != self.in_point else 0)

    def go_end(self) -> None:
        """Playhead to the out point (or the last frame when already there)."""
        self.stop()
        self.set_playhead(self.out_point if self.playhead != self.out_point else self.frame_count - 1)

    # ------------------------------------------------------------------------------------- range
    def _set_range(self, in_point: int, out_point: int) -> None:
        if (in_point, out_point) != (self.in_point, self.out_point):
            self.in_point, self.out_point = in_point, out_point
            self.range_changed.emit()

    def set_in(self, frame: int | None = None) -> None:
        """Sets the in point of the loop range (default: the playhead)."""
        f = int(min(max(self.playhead if frame is None else frame, 0), self.frame_count - 1))
        self._set_range(f, self.frame_count - 1 if self.out_point < f else self.out_point)

    def set_out(self, frame: int | None = None) -> None:
        """Sets the out point of the loop range (default: the playhead)."""
        f = int(min(max(self.playhead if frame is None else frame, 0), self.frame_count - 1))
        self._set_range(0 if self.in_point > f else self.in_point, f)

    def clear_in_out(self) -> None:
        """Resets the range to the whole clip."""
        self._set_range(0, self.frame_count - 1)

    @property
    def frame_range(self) -> tuple[int, int]:
        """``(start, stop)``: the in/out range as a half-open frame range."""
        return self.in_point, self.out_point + 1

    # ------------------------------------------------------------------------------------- playback
    def play(self, direction: int = 1, speed: float = 1.0) -> None:
        """Plays forward (1) or backward (-1) at ``speed`` times the project's fps, looping over in/out."""
        self.play_direction = 1 if direction >= 0 else -1
        self.play_speed = float(speed)
        self._play_origin = float(self.playhead)
        self._play_clock.start()
        if not self.playing:
            self.playing = True
            self._play_timer.start()
            self.playing_changed.emit(True)
        self.frames.prefetch_from(self.playhead)

    def stop(self) -> None:
        """Pauses playback."""
        if self.playing:
            self.playing = False
            self._play_timer.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        """Space: play forward, or pause."""
        if self.playing:
            self.stop()
        else:
            self.play(1, 1.0)

    def shuttle(self, key: str) -> None:
        """J/K/L shuttle: ``"l"`` plays forward (again: faster, up to 8x), ``"j"`` backward likewise,
        ``"k"`` pauses."""
        k = key.lower()
        if k == "k":
            self.stop()
            return
        d = 1 if k == "l" else -1
        if self.playing and self.play_direction == d:
            self.play(d, min(self.play_speed * 2, 8.0))
        else:
            self.play(d, 1.0)

    @Slot()
    def _tick(self) -> None:
        elapsed = self._play_clock.elapsed() / 1000.0
        pos = self._play_origin + self.play_direction * self.play_speed * elapsed * float(self.fps)
        a, b = self.in_point, self.out_point
        if a <= self._play_origin <= b:
            if self.loop:
                span = b - a + 1
                pos = a + (pos - a) % span
            elif pos > b or pos < a:
                self.set_playhead(b if pos > b else a)
                self.stop()
                return
        else:
            last = self.frame_count - 1
            if pos > last or pos < 0:
                pos = pos % (last + 1) if self.loop else min(max(pos, 0), last)
        self.set_playhead(int(pos))
