"""Conforming a clip at another rate to the project's timebase: the clip frame on screen at a project frame's
time (vidstudio.media.timecode.conform_frame), checked against exact Fractions."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from vidstudio.media.clip import Clip, clip_fps
from vidstudio.media.interpolate import output_positions
from vidstudio.media.timecode import conform_frame, conformed_length

NTSC = Fraction(30000, 1001)


def on_screen(f: int, project: Fraction, clip: Fraction) -> int:
    """The clip frame whose display interval [k / clip, (k + 1) / clip) holds t = f / project, in exact rationals."""
    t = Fraction(f) / project
    k = 0
    while Fraction(k + 1) / clip <= t:
        k += 1
    return k


@pytest.mark.parametrize(
    "project,clip", [(Fraction(24), Fraction(60)), (Fraction(24), NTSC), (Fraction(30), Fraction(24)), (NTSC, 24)]
)
def test_each_project_frame_shows_the_clip_frame_on_screen_at_its_time(project, clip):
    count = 10_000
    got = [conform_frame(f, project, clip, count) for f in range(200)]
    assert got == [on_screen(f, Fraction(project), Fraction(clip)) for f in range(200)]


def test_known_values():
    assert conform_frame(12, 24, 60, 300) == 30  # 0.5 s
    assert conform_frame(1, 24, 60, 300) == 2  # 1/24 s = 2.5 frames at 60: frame 2 is still on screen
    assert [conform_frame(f, 30, 24, 100) for f in range(6)] == [0, 0, 1, 2, 3, 4]  # 30 -> 24: one of 5 repeats
    # 24 -> 29.97: 1001 project frames are 1001/24 s = 1250 clip frames exactly
    assert conform_frame(1001, 24, NTSC, 2000) == 1250
    assert conform_frame(1000, 24, NTSC, 2000) == math.floor(Fraction(1000 * 1250, 1001)) == 1248
    assert conform_frame(1001, NTSC, 24, 2000) == 801  # and back: 1001 frames of 29.97 are 801.6 frames of 24


def test_float_rates_land_on_the_exact_frame():
    # 59.94 over 23.976 given as floats: project frame 2 is clip frame 4.999999999999999 in exact binary
    # arithmetic; the tolerance makes it frame 5, as the exact rates 60000/1001 and 24000/1001 give
    fast, slow = 60000 / 1001, 24000 / 1001
    assert math.floor(Fraction(2) * Fraction(fast) / Fraction(slow)) == 4
    got = [conform_frame(f, slow, fast, 10_000) for f in range(100)]
    assert got == [conform_frame(f, Fraction(24000, 1001), Fraction(60000, 1001), 10_000) for f in range(100)]
    assert got[2] == 5 and got[12] == 30
    assert conform_frame(1001, 24.0, 30000 / 1001, 2000) == 1250


def test_equal_rates_are_the_identity():
    assert [conform_frame(f, NTSC, NTSC, 50) for f in range(50)] == list(range(50))
    assert [conform_frame(f, 24, "24", 50) for f in range(50)] == list(range(50))
    assert conformed_length(50, 24, 24) == 50 and conformed_length(50, NTSC, NTSC) == 50


def test_the_last_frame_is_clamped():
    assert conform_frame(1000, 24, 60, 58) == 57
    assert conform_frame(-3, 24, 60, 58) == 0
    # an Interpolate 24 -> 60 of 24 frames keeps the project's duration: it spans the project; at a rate that is
    # not a whole multiple its last frame overruns by under half a frame of its own (30 frames at 29.97 are 1.001 s)
    for n, fps_out, span in ((24, Fraction(60), 24), (24, NTSC, 25), (100, Fraction(48), 100), (7, Fraction(25), 7)):
        count = len(output_positions(n, Fraction(24), fps_out))
        assert conform_frame(n - 1, 24, fps_out, count) == math.floor((n - 1) * fps_out / 24)
        assert conformed_length(count, fps_out, 24) == span


def test_conformed_length_counts_the_project_frames_that_start_before_the_clip_ends():
    assert conformed_length(60, 60, 24) == 24  # 1 s
    assert conformed_length(61, 60, 24) == 25  # 1.0167 s: frame 24 starts at 1 s, before the end
    assert conformed_length(24, 24, 60) == 60
    assert conformed_length(1, 60, 24) == 1
    assert conformed_length(1250, NTSC, 24) == 1001


def test_bad_rates_are_named():
    with pytest.raises(ValueError, match="clip frame rate 0 must be positive"):
        conform_frame(0, 24, 0, 10)
    with pytest.raises(ValueError, match="project frame rate 'x' is not a frame rate"):
        conformed_length(10, 24, "x")
    with pytest.raises(ValueError, match="at least 1 frame"):
        conform_frame(0, 24, 60, 0)


def test_clip_fps_reads_the_clips_own_rate():
    clip = Clip.still(np.zeros((2, 2, 3)), 3, label="c")
    assert clip_fps(clip) is None and clip_fps(clip, Fraction(24)) == 24
    clip.metadata["vidstudio_fps"] = "30000/1001"
    assert clip_fps(clip) == NTSC
    clip.metadata["vidstudio_fps"] = "-5"
    with pytest.raises(ValueError, match="c: vidstudio_fps '-5' is not a positive frame rate"):
        clip_fps(clip)
