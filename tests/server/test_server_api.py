"""The generation server through its API, as a client uses it: one real ``vidstudio serve`` on an ephemeral
loopback port with a token, a tiny LTX model and the ``slowtest`` folder plugin (which proves plugin nodes run in
the worker)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from server.server_helpers import (
    ASSETS,
    decode_png,
    expected_frames,
    pid_alive,
    steps_project,
    wait_for,
    wait_running_step,
)
from vidstudio.client import Client, ServerError
from vidstudio.media.video import read_embedded_project, read_metadata, read_video

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def server(start_server, models_dir):
    return start_server(token=TOKEN, models=models_dir, extra=("--max-upload-mb", "0.5"))


@pytest.fixture(scope="module")
def client(server):
    with server.client() as c:
        yield c


def _wait_ready(client: Client) -> None:
    wait_for(lambda: client.health().worker.state == "ready", 60, what="the worker to be ready")


def _distinct(values: list) -> list:
    """``values`` without consecutive repeats (a node's end repeats its last step)."""
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


def _steps_job(client: Client, **kw):
    return client.submit_project(steps_project(**kw), "export")


# ---------------------------------------------------------------------------------------------- access
def test_token_is_required_on_every_request_and_the_event_stream(server, client):
    with httpx.Client(base_url=server.url, trust_env=False) as raw:
        for path in ("/v1/health", "/openapi.json", "/v1/videos/generations", "/docs"):
            r = raw.get(path)
            assert r.status_code == 401, path
            assert r.json()["error"]["field"] == "Authorization"
        assert raw.get("/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert raw.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    bad = Client(server.url, "wrong")
    with pytest.raises(ServerError) as e:
        bad.events()
    assert e.value.status == 401
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.port}/v1/events?token={TOKEN}", proxy=None) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    h = client.health()
    assert h.auth is True and h.api_version == "1"


def test_openapi_describes_the_api_and_the_events(client):
    doc = client.request("GET", "/openapi.json").json()
    for path in (
        "/v1/videos/generations",
        "/v1/videos/generations/{job_id}",
        "/v1/videos/generations/{job_id}/output.mp4",
        "/v1/videos/generations/{job_id}/frames/{n}.png",
        "/v1/videos/generations/{job_id}/preview.jpg",
        "/v1/health",
        "/v1/nodes",
        "/v1/models",
        "/v1/assets",
    ):
        assert path in doc["paths"], path
    schemas = doc["components"]["schemas"]
    for name in ("ProjectGeneration", "SimpleGeneration", "Job", "Event", "PreviewEvent", "ProgressEvent"):
        assert name in schemas, name
    assert doc["x-websockets"]["/v1/events"]["messages"] == {"$ref": "#/components/schemas/Event"}
    body = doc["paths"]["/v1/videos/generations"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}


def test_models_and_nodes_come_from_the_server_and_its_worker(client):
    models = client.models()
    assert models.default == "tiny-ltx"
    (m,) = [m for m in models.data if m.id == "tiny-ltx"]
    assert (m.family, m.variant, m.source, m.default) == ("ltx", "t2v", "local", True)
    assert m.rules["frame_step"] == 8 and "source" not in m.rules  # no server path leaks out
    _wait_ready(client)
    nodes = client.nodes(fresh=True)
    assert nodes.source == "worker"
    by_type = {d["type"]: d for d in nodes.nodes}
    assert by_type["slowtest.Steps"]["source"] == "slowtest"
    assert [p["name"] for p in by_type["slowtest.Steps"]["params"]] == ["steps", "seconds_per_step", "hue"]
    assert "LoadImage" in by_type and "ltx" in nodes.capabilities["families"]


def test_health_says_which_device_the_worker_renders_on(client):
    """The worker looks at torch once it has started and the server's health carries it, in words."""
    import torch

    deadline = time.monotonic() + 60
    while client.health().worker.device is None and time.monotonic() < deadline:
        time.sleep(0.2)
    device = client.health().worker.device
    assert device is not None, "the worker never said which device it renders on"
    expected = "cuda" if torch.cuda.is_available() else "cpu"  # CI: no GPU
    assert device.startswith(f"{expected}: ") and f"(torch {torch.__version__})" in device


# ---------------------------------------------------------------------------------------------- generation
def test_simple_request_generates_with_progress_previews_and_files(client, tmp_path):
    stream = client.events()
    assert stream.next(10).type == "hello"
    job = client.submit(prompt="a red fox", duration_seconds=1.0, fps=8, width=64, height=64, steps=3, seed=7)
    assert job.status in ("queued", "running") and job.id.startswith("gen_")
    assert job.adjustments == ["ltx needs 8k+1 frames (9, 17, 25, 33, ...): generating 9 frames instead of 8"]
    events = []
    with stream:
        while True:
            ev = stream.next(120)
            assert ev is not None, "no event for 120 s"
            events.append(ev)
            if ev.type == "job" and ev.job.id == job.id and ev.job.finished:
                break
    job = client.job(job.id)
    assert job.status == "succeeded", job.error
    steps = [e.progress for e in events if e.type == "progress" and e.progress.step is not None]
    assert _distinct([(p.step, p.total) for p in steps]) == [(1, 3), (2, 3), (3, 3)]
    assert all(p.node == "gen" and p.node_type == "Generate" and p.seconds_per_step > 0 for p in steps)
    previews = [e for e in events if e.type == "preview"]
    assert [p.step for p in previews] == [1, 2, 3]
    img = decode_png(previews[-1].jpeg())
    assert img.shape == (previews[-1].height, previews[-1].width, 3)
    statuses = [e.job.status for e in events if e.type == "job" and e.job.id == job.id]
    assert statuses[0] in ("queued", "running") and statuses[-1] == "succeeded" and "running" in statuses
    out = job.output
    assert (out.width, out.height, out.frame_count, out.fps, out.seed) == (64, 64, 9, "8", 7)
    mp4 = client.download(job.id, tmp_path / "fox.mp4")
    frames = read_video(mp4)
    assert frames.shape == (9, 64, 64, 3)
    assert read_metadata(mp4)["vidstudio_seed"] == "7"
    embedded = json.loads(read_embedded_project(mp4))
    assert [n["params"].get("model") for n in embedded["nodes"] if n["type"] == "LoadModel"] == ["tiny-ltx"]
    png = decode_png(client.frame(job.id, 4))
    assert png.shape == (64, 64, 3) and np.abs(png - frames[4]).max() < 0.02
    with pytest.raises(ServerError) as e:
        client.frame(job.id, 9)
    assert e.value.status == 404 and e.value.field == "n" and "9 frames" in str(e.value)
    thumb = decode_png(client.preview(job.id))
    assert thumb.shape == (64, 64, 3) and np.abs(thumb - frames[4]).mean() < 0.05
    # the worker keeps the pipeline loaded for the next job of the same model
    job2 = client.wait(
        client.submit(prompt="a blue fox", duration_seconds=0.5, fps=8, width=64, height=64, steps=2).id, timeout=120
    )
    assert job2.status == "succeeded", job2.error
    w = client.health().worker
    assert (w.loaded_model, w.pipeline_loads) == ("tiny-ltx", 1)


def test_the_server_process_never_loads_torch(server, client):
    job = client.wait(
        client.submit(prompt="a cat", duration_seconds=0.5, fps=8, width=64, height=64, steps=1).id, timeout=180
    )
    assert job.status == "succeeded", job.error
    h = client.health()
    assert h.server.heavy_modules == []
    assert h.server.pid == server.pid
    maps = Path(f"/proc/{server.pid}/maps")
    if maps.exists():
        text = maps.read_text()
        assert "libtorch" not in text and "libQt6" not in text
        worker_maps = Path(f"/proc/{h.worker.pid}/maps").read_text()
        assert "libtorch" in worker_maps  # the worker did load it: the check above can fail


def test_image_upload_is_decoded_size_limited_and_animated(client, tmp_path):
    asset = client.upload_image(ASSETS / "astronaut.png")
    assert asset.id.startswith("img_") and asset.width > 0 and asset.mode in ("RGB", "RGBA")
    with pytest.raises(ServerError) as e:
        client.upload_image(b"GIF89a but not really an image", "fake.gif")
    assert e.value.status in (415, 422) and e.value.field == "file"
    with pytest.raises(ServerError) as e:
        client.upload_image(b"\x00" * 700_000, "big.png")
    assert e.value.status == 413
    job = client.submit(
        prompt="the astronaut waves", image_asset_id=asset.id, duration_seconds=1, fps=8, width=64, height=64, steps=2
    )
    r = client.request(
        "POST",
        "/v1/videos/generations",
        data={
            "prompt": "the astronaut waves",
            "duration_seconds": "1",
            "fps": "8",
            "width": "64",
            "height": "64",
            "steps": "2",
        },
        files={"image": ("a.png", (ASSETS / "astronaut.png").read_bytes(), "image/png")},
    )
    assert r.status_code == 202
    for j in (job.id, r.json()["id"]):
        done = client.wait(j, timeout=120)
        assert done.status == "succeeded", done.error
    embedded = json.loads(read_embedded_project(client.download(job.id, tmp_path / "a.mp4")))
    (img,) = [n for n in embedded["nodes"] if n["type"] == "LoadImage"]
    assert img["params"]["path"] == f"inputs/{asset.id}.png"


# ---------------------------------------------------------------------------------------------- bad requests
def lora_project(lora: str, weight_name: str = "") -> dict:
    """Load Model -> Load LoRA -> Generate, for the server's checks of the LoRA it names."""
    return {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"model": "tiny-ltx"}},
            {"id": "lora", "type": "LoadLoRA", "params": {"lora": lora, "weight_name": weight_name}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox"}},
            {"id": "gen", "type": "Generate", "params": {}},
        ],
        "links": [
            {"from": "model.model", "to": "lora.model"},
            {"from": "lora.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
        ],
    }


@pytest.mark.parametrize(
    "lora, weight_name, field",
    [
        ("/etc/passwd", "", "project.nodes.lora.params.lora"),
        ("loras/../../secret.safetensors", "", "project.nodes.lora.params.lora"),
        ("some-org/some-lora", "../../outside.safetensors", "project.nodes.lora.params.weight_name"),
    ],
)
def test_a_lora_is_a_repo_id_or_a_server_model_never_a_server_path(client, lora, weight_name, field):
    with pytest.raises(ServerError) as e:
        client.request(
            "POST", "/v1/videos/generations", json={"project": lora_project(lora, weight_name), "output_node": "gen"}
        )
    assert e.value.status == 422 and e.value.field == field, e.value


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"prompt": "x", "duration_seconds": -1}, "duration_seconds", "greater than 0"),
        ({"prompt": "x", "widht": 64}, "widht", "not a field"),
        ({"prompt": "x", "model": "nope"}, "model", "not a model of this server"),
        ({"prompt": "x", "model": "/etc/models/x"}, "model", "pattern"),
        ({"prompt": "x", "motion_bucket_id": 100}, "motion_bucket_id", "Stable Video Diffusion"),
        ({"prompt": "x", "width": 64, "height": 64, "aspect_ratio": "16:9"}, "aspect_ratio", "contradicts"),
        ({"prompt": "", "duration_seconds": 1}, "prompt", "prompt, an image"),
        ({"prompt": "x", "image_asset_id": "img_" + "0" * 24}, "image_asset_id", "no uploaded asset"),
        ({"project": {"format_version": 1, "nodes": "many"}, "output_node": "x"}, "project.nodes", "list"),
        ({"project": steps_project(), "output_node": "nothere"}, "output_node", "no node 'nothere'"),
        (
            {"project": {**steps_project(), "nodes": [{"id": "work", "type": "Nope.Node"}]}, "output_node": "work"},
            "project.nodes.work.type",
            "unknown node type 'Nope.Node'",
        ),
    ],
)
def test_bad_requests_get_4xx_naming_the_field(client, body, field, words):
    with pytest.raises(ServerError) as e:
        client.request("POST", "/v1/videos/generations", json=body)
    assert e.value.status == 422
    assert e.value.field == field, e.value
    assert words in str(e.value)


def test_project_checks_name_the_node_and_parameter(client):
    cam = {
        "format_version": 1,
        "settings": {"width": 64, "height": 48, "fps": "12", "frame_count": 4},
        "nodes": [
            {"id": "photo", "type": "LoadImage", "params": {"path": "/etc/passwd"}},
            {"id": "cam", "type": "CameraMove", "params": {"zoom": -3}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "/tmp/evil.mp4"}},
        ],
        "links": [{"from": "photo.image", "to": "cam.image"}, {"from": "cam.video", "to": "export.video"}],
    }
    with pytest.raises(ServerError) as e:
        client.submit_project(cam, "export", upload=False)
    assert e.value.field == "project.nodes.photo.params.path" and "upload it" in str(e.value)
    asset = client.upload_image(ASSETS / "rocket.png")
    body = {"project": cam, "output_node": "export", "assets": {"/etc/passwd": asset.id}}
    with pytest.raises(ServerError) as e:
        client.request("POST", "/v1/videos/generations", json=body)
    assert e.value.field == "project.nodes.cam.params.zoom" and "below the minimum" in str(e.value)
    reader = {
        **steps_project(),
        "nodes": [
            {"id": "work", "type": "slowtest.Reader", "params": {"path": "/etc/hosts"}},
            {"id": "export", "type": "ExportVideo"},
        ],
    }
    _wait_ready(client)
    with pytest.raises(ServerError) as e:
        client.submit_project(reader, "export", upload=False)
    assert e.value.field == "project.nodes.work.params.path"  # a plugin's file parameter, known from the worker
    for method, path, status in (
        ("GET", "/v1/videos/generations/gen_" + "a" * 24, 404),
        ("GET", "/v1/videos/generations/../../etc", 404),
        ("GET", "/v1/videos/generations/gen_x/output.mp4", 422),
        ("DELETE", "/v1/videos/generations/gen_" + "b" * 24, 404),
        ("GET", "/v1/assets/img_nope", 422),
    ):
        with pytest.raises(ServerError) as e:
            client.request(method, path)
        assert e.value.status == status, path


# ---------------------------------------------------------------------------------------------- plugins, cancel, kill
def test_a_plugin_node_runs_in_the_worker_and_its_video_comes_back(client, tmp_path):
    job = client.wait(_steps_job(client, steps=2, hue=0.75, frames=5).id, timeout=60)
    assert job.status == "succeeded", job.error
    frames = read_video(client.download(job.id, tmp_path / "steps.mp4"))
    assert frames.shape == (5, 24, 32, 3)
    assert np.abs(frames - expected_frames(5, 24, 32, 0.75)).max() < 0.03  # crf 0
    assert job.progress.nodes_done == job.progress.nodes_total == 2


def test_cancel_a_queued_and_a_running_job_with_etas(client):
    _wait_ready(client)
    assert client.wait(_steps_job(client, steps=1).id, timeout=60).status == "succeeded"  # a run time to go by
    a = _steps_job(client, steps=2000, seconds_per_step=0.02)
    b = _steps_job(client, steps=1)
    b = client.job(b.id)
    assert b.status == "queued" and b.queue_position == 1
    a = wait_running_step(client, a.id)
    assert a.eta >= (2000 - a.progress.step) * 0.02 - 1  # steps left x seconds per step (>= 0.02 by construction)
    b = client.job(b.id)
    assert b.eta is not None and b.eta >= a.eta - 5
    b = client.cancel(b.id)
    assert (b.status, b.error) == ("cancelled", "cancelled before it started")
    a = client.cancel(a.id)
    assert a.status == "running" and a.cancel_requested
    a = client.wait(a.id, timeout=30)
    assert a.status == "cancelled" and a.output is None
    assert a.progress.step < 2000
    with pytest.raises(ServerError) as e:
        client.request("GET", f"/v1/videos/generations/{a.id}/output.mp4")
    assert e.value.status == 409 and "cancelled" in str(e.value)
    with pytest.raises(ServerError) as e:
        client.cancel(a.id)
    assert e.value.status == 409


def test_sigkill_of_the_worker_mid_job_fails_that_job_and_the_next_one_runs(client):
    _wait_ready(client)
    before = client.health().worker
    job = _steps_job(client, steps=2000, seconds_per_step=0.02)
    nxt = _steps_job(client, steps=2, hue=0.25)
    wait_running_step(client, job.id)
    pid = client.health().worker.pid
    os.kill(pid, signal.SIGKILL)
    job = client.wait(job.id, timeout=30)
    assert job.status == "failed"
    assert "SIGKILL" in job.error and "while running this job" in job.error
    nxt = client.wait(nxt.id, timeout=90)
    assert nxt.status == "succeeded", nxt.error
    w = client.health().worker
    assert w.restarts == before.restarts + 1 and w.pid != pid and w.last_exit and "SIGKILL" in w.last_exit
    assert not pid_alive(pid)


def _one_node_job(client: Client, node_type: str):
    doc = {**steps_project(), "nodes": [{"id": "work", "type": node_type}, {"id": "export", "type": "ExportVideo"}]}
    return client.wait(client.submit_project(doc, "export").id, timeout=90)


def test_running_out_of_memory_fails_the_job_and_the_worker_goes_on(client):
    _wait_ready(client)
    pid = client.health().worker.pid
    job = _one_node_job(client, "slowtest.Oom")
    assert job.status == "failed" and job.error.startswith("out of memory") and "80 GiB" in job.error
    job = client.wait(_steps_job(client, steps=1).id, timeout=90)
    assert job.status == "succeeded" and client.health().worker.pid == pid


def test_jobs_are_listed_newest_first_with_paging(client):
    jobs = client.jobs(limit=3)
    assert len(jobs) == 3 and jobs[0].created_at >= jobs[1].created_at >= jobs[2].created_at
    older = client.jobs(limit=2, after=jobs[1].id)
    assert older[0].id == jobs[2].id
    assert all(j.status == "succeeded" for j in client.jobs(status="succeeded"))


# ---------------------------------------------------------------------------------------------- the command line
def _render(*args: str, cwd: Path, env: dict | None = None, **kw):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "vidstudio", "render", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "VIDSTUDIO_SERVER_TOKEN": TOKEN, **(env or {})},
        **kw,
    )


def test_render_with_server_gives_the_same_video_as_a_local_render(server, tmp_path):
    import shutil

    shutil.copy(ASSETS / "rocket.png", tmp_path / "rocket.png")
    proj = {
        "format_version": 1,
        "settings": {"width": 64, "height": 48, "fps": "12", "frame_count": 6},
        "nodes": [
            {"id": "photo", "type": "LoadImage", "params": {"path": "rocket.png"}},
            {"id": "cam", "type": "CameraMove", "params": {"zoom": 1.2}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "out/kb.mp4", "crf": 0}},
        ],
        "links": [{"from": "photo.image", "to": "cam.image"}, {"from": "cam.video", "to": "export.video"}],
    }
    (tmp_path / "kb.vidproj").write_text(json.dumps(proj))
    r = _render("kb.vidproj", "--server", server.url, "-o", "remote.mp4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and (tmp_path / "remote.mp4").is_file()
    r = _render("kb.vidproj", "-o", "local.mp4", cwd=tmp_path, env={"VIDSTUDIO_SERVER_TOKEN": ""})
    assert r.returncode == 0, r.stderr
    remote, local = read_video(tmp_path / "remote.mp4"), read_video(tmp_path / "local.mp4")
    assert remote.shape == local.shape == (6, 48, 64, 3)
    assert np.abs(remote - local).max() < 1e-6
    embedded = json.loads(read_embedded_project(tmp_path / "remote.mp4"))
    assert embedded["nodes"][0]["params"]["path"] == "rocket.png"  # the client's document, not the server's


def test_ctrl_c_cancels_the_remote_job_and_exits_130(server, client, tmp_path):
    import subprocess

    (tmp_path / "slow.vidproj").write_text(json.dumps(steps_project(steps=5000, seconds_per_step=0.02)))
    known = {j.id for j in client.jobs(limit=100)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vidstudio",
            "render",
            "slow.vidproj",
            "--server",
            server.url,
            "--token",
            TOKEN,
            "-o",
            "slow.mp4",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job = wait_for(
            lambda: next((j for j in client.jobs(limit=5) if j.id not in known), None), 60, what="the CLI's job"
        )
        wait_running_step(client, job.id)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert f"job {job.id} was cancelled" in err
    assert client.wait(job.id, timeout=30).status == "cancelled"
    assert not (tmp_path / "slow.mp4").exists()


def test_render_with_server_refuses_local_only_options(server, tmp_path):
    (tmp_path / "p.vidproj").write_text(json.dumps(steps_project()))
    r = _render("p.vidproj", "--server", server.url, "--frames", "0:2", cwd=tmp_path)
    assert r.returncode == 2 and "--frames is not available with --server" in r.stderr
    r = _render("p.vidproj", "--server", server.url, "--family", "wan", cwd=tmp_path)
    assert r.returncode == 2 and "the server reads the family from its model" in r.stderr and "--model" in r.stderr
    r = _render("p.vidproj", "--server", server.url, "--token", "wrong", cwd=tmp_path)
    assert r.returncode == 2 and "401" in r.stderr


def test_event_stream_can_follow_one_job_without_previews(client):
    _wait_ready(client)
    other = _steps_job(client, steps=2, seconds_per_step=0.5)  # runs first: time to connect before `job` starts
    job = _steps_job(client, steps=3)
    with client.events(job=job.id, previews=False) as stream:
        seen = []
        while True:
            ev = stream.next(60)
            assert ev is not None
            seen.append(ev)
            if ev.type == "job" and ev.job.finished:
                break
    ids = {getattr(e, "id", None) or (e.job.id if e.type == "job" else None) for e in seen if e.type != "hello"}
    assert ids - {None} == {job.id}
    assert not any(e.type == "preview" for e in seen)
    assert _distinct([e.progress.step for e in seen if e.type == "progress" and e.progress.step]) == [1, 2, 3]
    assert client.wait(other.id, timeout=30).status == "succeeded"


def test_the_request_model_overrides_the_project_model_and_its_family(client):
    """`render --server --model ID` of a project made for another family (an LTX example rendered with a Wan
    model): the request's model replaces the project's model and its family instead of being refused for the
    very mismatch it overrides; without it the mismatch is still refused, naming the node's family."""
    proj = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"family": "wan", "model": "some-org/some-wan"}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox"}},
            {"id": "gen", "type": "Generate", "params": {}},
        ],
        "links": [{"from": "model.model", "to": "gen.model"}, {"from": "cond.conditioning", "to": "gen.conditioning"}],
    }
    job = client.submit_project(proj, "gen", model="tiny-ltx")
    assert job.status in ("queued", "running")
    with contextlib.suppress(ServerError):  # 409 when it has already finished
        client.cancel(job.id)
    proj["nodes"][0]["params"]["model"] = "tiny-ltx"
    with pytest.raises(ServerError) as e:
        client.submit_project(proj, "gen")
    assert e.value.status == 422 and e.value.field == "project.nodes.model.params.family"
    assert "is wan but model 'tiny-ltx' is a ltx model" in str(e.value)


# ---------------------------------------------------------------------------------------------- videos and sounds
def _clip_with_sound(path: Path, frames: int = 8, fps: int = 8) -> Path:
    """An MP4 of ``frames`` 64x48 test-pattern frames at ``fps`` with a 440 Hz AAC sound (ffmpeg's lavfi)."""
    import subprocess

    from vidstudio.media.video import ffmpeg_exe

    seconds = frames / fps
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=64x48:rate={fps}:duration={seconds}", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _decoded(path: Path) -> tuple[int, object, float, float]:
    """``(video frames, average rate, seconds of sound, RMS of the sound)`` of an MP4, decoded back with PyAV."""
    import av

    with av.open(str(path)) as c:
        rate = c.streams.video[0].average_rate
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return frames, rate, 0.0, 0.0
        sr = c.streams.audio[0].rate
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
        channels = c.streams.audio[0].channels
    return frames, rate, samples.size / channels / sr, float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_render_with_server_of_a_video_with_sound_gives_the_local_render(server, tmp_path):
    """Load Video -> Interpolate -> Export (with the video's sound) through `render --server`: the video is
    uploaded as a video (it was refused as 'not an image') and the result has the local render's frame count,
    frame rate and sound."""
    _clip_with_sound(tmp_path / "take.mp4")
    proj = {
        "format_version": 1,
        "settings": {"width": 64, "height": 48, "fps": "8", "frame_count": 8},
        "nodes": [
            {"id": "take", "type": "LoadVideo", "params": {"path": "take.mp4", "rate": "source"}},
            {"id": "interp", "type": "Interpolate", "params": {"factor": 2}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "out/x.mp4"}},
        ],
        "links": [
            {"from": "take.video", "to": "interp.video"},
            {"from": "interp.video", "to": "export.video"},
            {"from": "take.audio", "to": "export.audio"},
        ],
    }
    (tmp_path / "interp.vidproj").write_text(json.dumps(proj))
    r = _render("interp.vidproj", "--server", server.url, "-o", "remote.mp4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _render("interp.vidproj", "-o", "local.mp4", cwd=tmp_path, env={"VIDSTUDIO_SERVER_TOKEN": ""})
    assert r.returncode == 0, r.stderr
    remote, local = _decoded(tmp_path / "remote.mp4"), _decoded(tmp_path / "local.mp4")
    assert remote[0] == local[0] >= 15 and remote[1] == local[1] == 16  # twice the frames, at twice the rate
    assert remote[2] == pytest.approx(local[2], abs=0.05) and remote[2] == pytest.approx(1.0, abs=0.1)
    assert remote[3] == pytest.approx(local[3], rel=0.05) and remote[3] > 0.05  # the sine (RMS 0.088), not silence


def test_videos_and_sounds_upload_by_kind_and_what_does_not_decode_is_refused(client, tmp_path):
    take = _clip_with_sound(tmp_path / "take.mp4")
    video = client.upload_file(take, "video")
    assert (video.kind, video.width, video.height, video.mode) == ("video", 64, 48, "h264")
    assert client.upload_file(take).kind == "video"  # sniffed
    sound = client.upload_file(take, "audio")
    assert (sound.kind, sound.width, sound.mode) == ("audio", 0, "aac")
    assert client.upload_file(ASSETS / "rocket.png").kind == "image"
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    for kind in ("video", None):
        with pytest.raises(ServerError) as e:
            client.upload_file(broken, kind)
        assert e.value.status in (415, 422) and e.value.field == "file"
        assert "broken.mp4" in str(e.value)
    with pytest.raises(ServerError) as e:
        client.upload_file(ASSETS / "rocket.png", "audio")
    assert e.value.status == 415 and "rocket.png" in str(e.value)
    with pytest.raises(ServerError) as e:
        client.upload_file(take, "image")
    assert e.value.status == 415 and "take.mp4" in str(e.value)
    # a video asset where the project reads a sound, or an image, is refused naming the parameter
    proj = {
        "format_version": 1,
        "settings": {"width": 64, "height": 48, "fps": "8", "frame_count": 8},
        "nodes": [
            {"id": "photo", "type": "LoadImage", "params": {"path": "take.mp4"}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "out/x.mp4"}},
        ],
        "links": [{"from": "photo.image", "to": "export.video"}],
    }
    body = {"project": proj, "output_node": "export", "assets": {"take.mp4": video.id}}
    with pytest.raises(ServerError) as e:
        client.request("POST", "/v1/videos/generations", json=body)
    assert e.value.field == "project.nodes.photo.params.path" and "uploaded as a video" in str(e.value)


def test_an_upscale_model_file_is_named_in_the_models_folder_never_uploaded(client, models_dir, tmp_path):
    proj = {
        "format_version": 1,
        "settings": {"width": 64, "height": 48, "fps": "8", "frame_count": 2},
        "nodes": [
            {"id": "photo", "type": "LoadImage", "params": {"path": "rocket.png"}},
            {"id": "cam", "type": "CameraMove", "params": {"zoom": 1.1}},
            {"id": "up", "type": "Upscale", "params": {"model": str(tmp_path / "4x.pth")}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "out/x.mp4"}},
        ],
        "links": [
            {"from": "photo.image", "to": "cam.image"},
            {"from": "cam.video", "to": "up.video"},
            {"from": "up.video", "to": "export.video"},
        ],
    }
    import shutil

    shutil.copy(ASSETS / "rocket.png", tmp_path / "rocket.png")
    (tmp_path / "4x.pth").write_bytes(b"not uploaded")
    with pytest.raises(ServerError) as e:
        client.submit_project(proj, "export", project_dir=tmp_path)
    assert e.value.status == 422 and e.value.field == "project.nodes.up.params.model"
    assert "models folder of the server" in str(e.value) and "upscale_models/" in str(e.value)
    (models_dir / "upscale_models").mkdir(exist_ok=True)
    (models_dir / "upscale_models" / "4x.pth").write_bytes(b"a model file on the server")
    proj["nodes"][2]["params"]["model"] = "upscale_models/4x.pth"  # by its path in the server's models folder
    job = client.wait(client.submit_project(proj, "export", project_dir=tmp_path).id, timeout=120)
    # the worker went past its path check to the model itself (not a model, or no spandrel installed)
    assert job.status == "failed" and "outside the job" not in job.error and "Upscale" in job.error
    proj["nodes"][2]["params"]["model"] = "upscale_models/../../etc/passwd"
    with pytest.raises(ServerError) as e:
        client.submit_project(proj, "export", project_dir=tmp_path)
    assert e.value.field == "project.nodes.up.params.model"
