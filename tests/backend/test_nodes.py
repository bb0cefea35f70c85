"""The generation nodes in graphs: validation before any model loads, and a whole run through the engine with
step reports to a service, as the server's worker will run it."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from backend.conftest import picture
from helpers import project_doc, trajectory_source
from vidstudio.errors import GraphError
from vidstudio.graph.engine import Engine
from vidstudio.graph.validate import validate_graph
from vidstudio.nodes import default_registry
from vidstudio.nodes.generate import Conditioning
from vidstudio.project import loads_project


def project(
    model: str,
    family: str = "auto",
    *,
    frames: int = 17,
    size=(64, 64),
    cond=None,
    gen=None,
    links_extra=(),
    nodes_extra=(),
) -> object:
    doc = project_doc(
        [
            {"id": "model", "type": "LoadModel", "params": {"family": family, "model": model}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 2, **(cond or {})}},
            {"id": "gen", "type": "Generate", "params": dict(gen or {})},
            *nodes_extra,
        ],
        [
            {"from": "model.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
            *links_extra,
        ],
        width=size[0],
        height=size[1],
        frames=frames,
    )
    return loads_project(json.dumps(doc))


def issues(p, severity="error"):
    return [str(i) for i in validate_graph(p, default_registry(), p.settings) if i.severity == severity]


def test_validation_names_node_control_and_families(tiny):
    svd = project(str(tiny("svd")), frames=14)
    text = "\n".join(issues(svd))
    assert (
        "node 'gen' control 'text': svd cannot honour a text prompt (control 'text'); families that can: "
        "animatediff, ltx, wan, cogvideox" in text
    )
    assert "node 'gen' control 'keyframes': svd needs an image to animate: a keyframe at frame 0" in text
    ok = project(
        str(tiny("svd")),
        frames=14,
        cond={"prompt": ""},
        nodes_extra=[{"id": "img", "type": "LoadImage", "params": {"path": "x.png"}}],
        links_extra=[{"from": "img.image", "to": "cond.keyframes"}],
    )
    assert issues(ok) == []
    # the family comes from the folder even when the node says auto; the rules come from its configs
    ltx = project(str(tiny("ltx")), frames=24)
    assert any("node 'gen' frames: ltx needs 8k+1 frames" in i and "the project has 24" in i for i in issues(ltx))
    assert issues(project(str(tiny("ltx")), frames=24, gen={"snap_to_model": True})) == []
    # a family chosen explicitly is checked even when the model cannot be found yet
    named = project("org/not-cached", family="cogvideox", frames=17, size=(100, 64))
    assert any("node 'gen' size: cogvideox needs width and height divisible by 16" in i for i in issues(named))


def test_validation_of_the_model_itself(tiny, tmp_path, monkeypatch):
    wrong = project(str(tiny("wan")), family="ltx")
    assert any("node 'model' param 'model':" in i and "(family wan), not a ltx pipeline" in i for i in issues(wrong))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # nothing downloaded
    offline = project("Lightricks/LTX-Video", family="ltx")  # HF_HUB_OFFLINE=1 in the tests: the run would stop
    (text,) = issues(offline)
    assert "node 'model' param 'model': model 'Lightricks/LTX-Video' is not in the Hugging Face cache" in text
    assert "HF_HUB_OFFLINE is set" in text and "`vidstudio models download Lightricks/LTX-Video`" in text
    monkeypatch.delenv("HF_HUB_OFFLINE")  # online: the first run downloads it (validation never asks the Hub)
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("the network was asked"))
    assert issues(offline) == []
    (text,) = [i for i in issues(offline, "warning") if i.startswith("node 'model'")]
    assert text == (
        "node 'model' param 'model': Lightricks/LTX-Video is not downloaded yet: the first run downloads it "
        "(about 14 GB), or `vidstudio models download Lightricks/LTX-Video` (warning)"
    )
    (text,) = [i for i in issues(project("nosuchorg/NoSuchModel", family="ltx"), "warning") if "model" in i[:14]]
    assert "NoSuchModel is not downloaded yet: the first run downloads it, or `vidstudio models" in text
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert issues(project("", family="ltx"))[0].startswith("node 'model' param 'model': no model chosen")
    weak = project(
        str(tiny("wan")),
        cond={"steps": 4, "guide_strength": 0.2},
        nodes_extra=[
            {"id": "cam", "type": "CameraMove", "params": {}},
            {"id": "img", "type": "LoadImage", "params": {"path": "x.png"}},
        ],
        links_extra=[{"from": "img.image", "to": "cam.image"}, {"from": "cam.video", "to": "cond.guide"}],
    )
    assert any(
        "node 'gen' control 'guide_video': guide_strength 0.2 with 4 steps leaves no denoising step" in i
        and i.endswith("raise 'guide_strength' to at least 0.25 or 'steps' to at least 5")
        for i in issues(weak)
    )
    missing = issues(project(str(tmp_path / "no-such-model"), family="ltx"))
    assert len(missing) == 1, missing  # said once, with what to do
    assert f"model folder {tmp_path / 'no-such-model'} does not exist" in missing[0]
    assert "a folder that holds model_index.json, or give a Hugging Face repo id" in missing[0]
    bad = project(
        str(tiny("wan")),
        cond={"keyframe_frames": [0, 8]},
        nodes_extra=[{"id": "img", "type": "LoadImage", "params": {"path": "x.png"}}],
        links_extra=[{"from": "img.image", "to": "cond.keyframes"}],
    )
    assert any(
        "node 'cond' param 'keyframe_frames': lists 2 frame(s) but 1 keyframe image(s)" in i for i in issues(bad)
    )


#: A test source of a TRAJECTORY: one point object moving right from x=16 to x=48 at y=32.
Tracks = trajectory_source("TestTracks", lambda T: np.stack([np.linspace(16, 48, T), np.full(T, 32.0)], 1), name="ball")


def test_engine_run_with_services_records_seed(tiny, tmp_path, pipeline_cache):
    from vidstudio.media import probe_video, read_metadata

    photo = tmp_path / "photo.png"
    from vidstudio.media import save_png

    save_png(photo, picture(64, 96))
    p = project(
        str(tiny("wan", "vace")),
        frames=9,
        cond={"seed": -1, "keyframe_frames": [8], "point_box": 24},
        nodes_extra=[
            {"id": "img", "type": "LoadImage", "params": {"path": str(photo)}},
            {"id": "cam", "type": "CameraMove", "params": {"pan": 0.0}},
            {"id": "tracks", "type": "TestTracks"},
            {
                "id": "export",
                "type": "ExportVideo",
                "params": {"path": str(tmp_path / "out.mp4"), "preset": "ultrafast"},
            },
        ],
        links_extra=[
            {"from": "img.image", "to": "cond.keyframes"},
            {"from": "img.image", "to": "cam.image"},
            {"from": "cam.video", "to": "cond.guide"},
            {"from": "cam.camera", "to": "cond.camera"},
            {"from": "tracks.tracks", "to": "cond.trajectory"},
            {"from": "gen.video", "to": "export.video"},
        ],
    )
    reg = default_registry()
    reg.register(Tracks)
    steps, progress = [], []
    result = Engine(reg).run(
        p,
        p.settings,
        services={"on_step": lambda *a: steps.append(a), "pipeline_cache": pipeline_cache},
        progress=lambda n, f, m: progress.append((n, f, m)),
    )
    assert [(s[0], s[1], s[2]) for s in steps] == [("gen", 1, 2), ("gen", 2, 2)]
    assert steps[0][4].shape == (8, 8, 3)
    gen_steps = [(f, m) for n, f, m in progress if n == "gen" and m.startswith("step")]
    assert [f for f, _ in gen_steps] == [0.5, 1.0] and gen_steps[-1][1].startswith("step 2/2, ")
    seed = int(result.output("gen", "seed"))
    assert any(f"random seed {seed}" in n for n in result.report["gen"].notes)
    info = probe_video(tmp_path / "out.mp4")
    assert (info.frame_count, info.width, info.height) == (9, 64, 64)
    meta = read_metadata(tmp_path / "out.mp4")
    assert meta["vidstudio_seed"] == str(seed) and meta["vidstudio_family"] == "wan"
    assert meta["vidstudio_pipeline"] == "WanVACEPipeline"


def test_conditioning_node_builds_the_bundle():
    reg = default_registry()
    reg.register(Tracks)
    doc = project_doc(
        [
            {"id": "a", "type": "LoadImage", "params": {"path": "x"}},
            {"id": "t", "type": "TestTracks"},
            {
                "id": "cond",
                "type": "Conditioning",
                "params": {"prompt_schedule": {"4": "jumps"}, "motion_strength": 0.3, "guidance_scale": 4.5},
            },
        ],
        [{"from": "t.tracks", "to": "cond.trajectory"}],
    )
    p = loads_project(json.dumps(doc))
    res = Engine(reg).run(p, p.settings, targets=["cond"])
    b = res.output("cond")
    assert b.prompt_schedule == {4: "jumps"} and b.motion_strength == 0.3 and b.noise_aug is None
    assert b.guidance_scale == 4.5 and b.boxes.shape == (9, 1, 4)
    assert np.allclose(b.boxes[0, 0], [16 - 32, 0, 16 + 32, 64])  # point track: a point_box (64 px) square
    assert b.controls() == {"prompt_schedule", "motion_strength", "trajectories"}
    assert Conditioning.keyframe_positions([], 3, 17) == [0, 8, 16]
    assert Conditioning.keyframe_positions([], 1, 17) == [0]
    late = dict(doc)
    late["nodes"] = [dict(n) for n in doc["nodes"]]
    late["nodes"][2]["params"] = {"prompt_schedule": {"4": "jumps", "12": "lands"}}
    p = loads_project(json.dumps(late))
    assert [str(i) for i in validate_graph(p, reg, p.settings)] == [
        "node 'cond' param 'prompt_schedule': frame 12 is beyond the project's 9 frames"
    ]
    bad = dict(doc)
    bad["nodes"] = [dict(n) for n in doc["nodes"]]
    bad["nodes"][2]["params"] = {"motion_strength": -0.5}
    p = loads_project(json.dumps(bad))
    with pytest.raises(GraphError, match="must be -1 .the model's default. or in 0..1"):
        Engine(reg).run(p, p.settings, targets=["cond"])


def test_trajectory_boxes_go_through_the_camera_and_anchors_hold_still():
    """A drawn path (world px) and an anchor, with a camera that zooms 2x about the centre over the clip: the
    boxes the noise follows are where the animatic shows the objects, and the anchor is one of them."""
    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": [
            {
                "id": "paths",
                "type": "Trajectory",
                "params": {
                    "paths": {
                        "version": 1,
                        "paths": [
                            {
                                "id": "a",
                                "interpolation": "linear",
                                "size": [8, 8],
                                "points": [{"x": 16, "y": 32}, {"x": 48, "y": 32}],
                            }
                        ],
                        "anchors": [{"id": "tree", "x": 40, "y": 20}],
                    }
                },
            },
            {"id": "cam", "type": "Camera", "params": {}},
            {"id": "cond", "type": "Conditioning", "params": {"point_box": 4}},
        ],
        "links": [{"from": "paths.trajectory", "to": "cond.trajectory"}],
        "animation": {},
    }
    reg = default_registry()
    p = loads_project(json.dumps(doc))
    still = Engine(reg).run(p, p.settings, targets=["cond"]).output("cond").boxes
    assert still.shape == (9, 2, 4)  # the path, then the anchor
    np.testing.assert_allclose(still[0, 0], [12, 28, 20, 36])
    np.testing.assert_allclose(still[8, 0], [44, 28, 52, 36])
    np.testing.assert_allclose(still[:, 1], np.tile([38, 18, 42, 22], (9, 1)))  # the anchor does not move

    doc["links"].append({"from": "cam.camera", "to": "cond.camera"})
    doc["animation"] = {
        "cam.zoom": {"keys": [{"frame": 0, "value": 1.0, "interpolation": "linear"}, {"frame": 8, "value": 2.0}]}
    }
    p = loads_project(json.dumps(doc))
    res = Engine(reg).run(p, p.settings, targets=["cond", "cam"])
    cam = np.asarray(res.output("cam"))
    boxes = res.output("cond").boxes
    for t in (0, 4, 8):
        for n, (world, half) in enumerate((([16 + 4 * t, 32], 4.0), ([40, 20], 2.0))):
            x, y, _ = cam[t] @ [*world, 1.0]
            zoom = np.sqrt(abs(np.linalg.det(cam[t][:2, :2])))
            np.testing.assert_allclose(
                boxes[t, n], [x - half * zoom, y - half * zoom, x + half * zoom, y + half * zoom], atol=1e-9
            )
    assert abs(boxes[8, 1, 2] - boxes[8, 1, 0] - 8.0) < 1e-6  # zoomed 2x: the anchor's 4 px box is 8 px
    assert not np.allclose(boxes[8, 1], boxes[0, 1])  # on screen the anchor moves with the camera


def test_nodes_document_and_listing_show_the_capability_table(capsys):
    import argparse

    from vidstudio.commands import nodes as nodes_cmd
    from vidstudio.nodes.catalogue import catalogue

    doc = catalogue(default_registry())
    assert doc["capabilities"]["families"]["wan"]["controls"]["mask"]["variants"] == ["vace"]
    assert {"LoadModel", "Conditioning", "Generate"} <= {n["type"] for n in doc["nodes"]}
    nodes_cmd.run(argparse.Namespace(json=False))
    out = capsys.readouterr().out
    assert "Model families and the controls they honour" in out and "keyframes" in out and "vace any" in out


def test_render_model_override_reads_family_from_folder(tiny, tmp_path):
    from vidstudio.commands.render import model_overrides
    from vidstudio.errors import VidStudioError

    p = project("org/x", family="ltx")
    assert model_overrides(p, None, str(tiny("svd")), None) == {"model": {"model": str(tiny("svd")), "family": "svd"}}
    assert model_overrides(p, None, "org/other", None) == {"model": {"model": "org/other", "family": "auto"}}
    assert model_overrides(p, None, None, None) == {}
    single = tmp_path / "diffusion_models" / "wan.safetensors"  # its family comes from its header at load
    single.parent.mkdir()
    single.write_bytes(b"not read here")
    assert model_overrides(p, None, str(single), None) == {"model": {"model": str(single), "family": "auto"}}
    empty = loads_project(json.dumps({"format_version": 1, "nodes": []}))
    with pytest.raises(VidStudioError, match="need a Load Model node"):
        model_overrides(empty, None, "org/x", None)
    assert Fraction(p.settings.fps) == 8
