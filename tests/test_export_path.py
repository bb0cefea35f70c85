"""One export path (:func:`vidstudio.media.export.export_clip`): what the Export Video node writes, checked
without Qt (the GUI's Export dialog is checked against the node in tests/ui/test_ui_export.py)."""

from __future__ import annotations

import numpy as np
import pytest

from vidstudio.errors import MediaError
from vidstudio.media import probe_video, read_metadata, read_video
from vidstudio.media.clip import Clip
from vidstudio.media.export import export_clip, mp4_path


def _clip(t=5, h=31, w=45) -> Clip:
    ramp = ((np.arange(w, dtype=np.float32) + 0.5) / w)[None, :, None]
    clip = Clip(t, h, w, lambda i: np.broadcast_to(ramp * (i + 1) / t, (h, w, 3)).astype(np.float32))
    clip.metadata.update(vidstudio_seed="7", vidstudio_model="tiny")
    return clip


def test_an_odd_clip_is_padded_and_keeps_its_metadata_and_the_project(tmp_path):
    out, notes = export_clip(
        _clip(),
        tmp_path / "a",
        "24",
        start=1,
        stop=4,
        project_json='{"format_version": 1}',
        metadata={"vidstudio_family": "ltx"},
    )
    assert out == tmp_path / "a.mp4" and notes == ["padded 45x31 to 46x32 (yuv420p needs even sides)"]
    info = probe_video(out)
    assert (info.width, info.height, info.frame_count) == (46, 32, 3)
    tags = read_metadata(out)
    assert (tags["vidstudio_seed"], tags["vidstudio_model"], tags["vidstudio_family"]) == ("7", "tiny", "ltx")
    assert tags["vidstudio_project"] == '{"format_version": 1}'
    frames = read_video(out)
    assert frames[0, 10, 44, 0] == pytest.approx(2 / 5 * (44.5 / 45), abs=0.03)  # frame 1 of the clip
    with pytest.raises(MediaError, match="needs even sides, the frames are 45x31"):
        export_clip(_clip(), tmp_path / "b.mp4", 24, odd_size="refuse")
    assert not (tmp_path / "b.mp4").exists()


def test_png_sequences_are_numbered_from_the_first_frame_and_bad_ranges_are_named(tmp_path):
    out, notes = export_clip(_clip(), tmp_path / "frames", 24, fmt="png", start=2)
    assert notes == [] and sorted(p.name for p in out.iterdir()) == [
        "frame_00002.png",
        "frame_00003.png",
        "frame_00004.png",
    ]
    with pytest.raises(MediaError, match="frame range 9:12 is outside the clip's 5 frames"):
        export_clip(_clip(), tmp_path / "c.mp4", 24, start=9, stop=12)
    with pytest.raises(MediaError, match="unknown export format 'gif'"):
        export_clip(_clip(), tmp_path / "c.gif", 24, fmt="gif")
    assert mp4_path("x/out") == mp4_path("x/out.mov") == mp4_path("x/out.mp4")
