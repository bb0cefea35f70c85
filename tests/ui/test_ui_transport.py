"""The transport without widgets: playhead, in/out range and playback, emitting only on a real change."""

from __future__ import annotations

import pytest

from uihelpers import KEN_BURNS
from vidstudio.project import load_project


class FrameRequests:
    """Stands in for the FrameCache: records which frames the transport asked for."""

    def __init__(self):
        self.requested: list[int] = []
        self.prefetched: list[int] = []

    def request(self, index: int) -> None:
        self.requested.append(index)

    def prefetch_from(self, start: int) -> None:
        self.prefetched.append(start)


@pytest.fixture
def transport(qapp):
    from vidstudio.ui.state.transport import Transport

    t = Transport(FrameRequests(), 50, 24)
    seen: list[tuple] = []
    t.playhead_changed.connect(lambda f: seen.append(("playhead", f)))
    t.range_changed.connect(lambda: seen.append(("range", t.in_point, t.out_point, t.frame_count)))
    t.playing_changed.connect(lambda p: seen.append(("playing", p)))
    t.seen = seen
    yield t
    t.stop()
    t.deleteLater()


@pytest.fixture
def kb_session(session_factory):
    s = session_factory(load_project(KEN_BURNS))
    assert s.wait_idle(10)
    return s


def test_signals_only_on_a_real_change_but_the_frame_is_always_asked_for(transport):
    t = transport
    t.set_playhead(5)
    t.set_playhead(5)
    t.set_playhead(-3)
    assert t.seen == [("playhead", 5), ("playhead", 0)]
    assert t.frames.requested == [5, 5, 0]  # the frame under the playhead is asked for even when it stays
    t.seen.clear()
    t.set_playhead(20)
    t.set_in()
    t.set_in(20)
    t.set_out(30)
    t.set_out(30)
    assert t.frame_range == (20, 31)
    t.clear_in_out()
    t.clear_in_out()
    assert t.seen == [("playhead", 20), ("range", 20, 49, 50), ("range", 20, 30, 50), ("range", 0, 49, 50)]
    t.seen.clear()
    t.set_out(10)
    t.set_in(15)  # after the out point: the out point goes back to the end
    assert t.seen == [("range", 0, 10, 50), ("range", 15, 49, 50)]
    t.seen.clear()
    t.set_timebase(50, 24)  # nothing changed
    assert t.seen == []
    t.set_timebase(12, 30)  # shorter: range and playhead clamp
    assert t.seen == [("playhead", 11), ("range", 11, 11, 12)] and t.fps == 30


def test_reset_hands_back_what_changed_for_the_session_to_announce(transport):
    t = transport
    t.set_playhead(40)
    t.set_in(10)
    t.seen.clear()
    pending = t.reset(30, 25)
    assert t.seen == [] and (t.in_point, t.out_point, t.playhead) == (0, 29, 29)
    assert [(sig, args) for sig, args in pending] == [(t.range_changed, ()), (t.playhead_changed, (29,))]
    assert t.reset(30, 25) == []


def test_playback_loops_over_the_range_at_the_frame_rate(transport, qtbot):
    t = transport
    t.set_timebase(50, 200)  # 200 fps: five loops of the range in well under a second
    t.set_in(10)
    t.set_out(14)
    t.set_playhead(12)
    t.seen.clear()
    t.play()
    assert t.playing and t.frames.prefetched == [12]
    visited: set[int] = set()
    t.playhead_changed.connect(visited.add)
    qtbot.waitUntil(lambda: visited >= {10, 11, 12, 13, 14}, timeout=5000)
    assert visited <= {10, 11, 12, 13, 14}
    t.toggle_play()
    assert not t.playing and t.seen[0] == ("playing", True) and t.seen[-1] == ("playing", False)
    t.loop = False
    t.set_playhead(13)
    t.play()
    qtbot.waitUntil(lambda: not t.playing, timeout=5000)  # stops at the out point instead of wrapping
    assert t.playhead == 14


def test_time_range_playback_state_and_settings_clamp(kb_session):
    s = kb_session
    s.transport.set_playhead(500)
    assert s.transport.playhead == 71
    s.transport.set_playhead(10)
    s.transport.set_in()
    s.transport.set_playhead(30)
    s.transport.set_out()
    assert s.transport.frame_range == (10, 31)
    s.transport.shuttle("l")
    assert s.transport.playing and s.transport.play_direction == 1 and s.transport.play_speed == 1
    s.transport.shuttle("l")
    assert s.transport.play_speed == 2
    s.transport.shuttle("j")
    assert s.transport.play_direction == -1 and s.transport.play_speed == 1
    s.transport.shuttle("k")
    assert not s.transport.playing
    s.set_settings(frame_count=20)
    assert s.transport.playhead == 19 and s.transport.out_point == 19 and s.transport.in_point == 10
    s.transport.go_start()
    assert s.transport.playhead == 10
    s.transport.go_start()
    assert s.transport.playhead == 0
    s.undo_stack.undo()  # the settings again: the transport follows the document's length
    assert s.transport.frame_count == 72
    s.transport.go_end()
    assert s.transport.playhead == 19  # the out point
    s.set_project(load_project(KEN_BURNS))
    assert (s.transport.in_point, s.transport.out_point, s.transport.playhead) == (0, 71, 19)
