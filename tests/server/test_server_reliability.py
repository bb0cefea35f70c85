"""Issue 15, the server's points: the budget before allocation (refused before queuing, naming the numbers),
request bodies nested too deeply (422, never a 500), a full data disk (507, no orphan job folder or .tmp file),
and a worker the server kills itself reported as such."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from server.server_helpers import steps_project, wait_for
from vidstudio.client import ServerError


@pytest.fixture(scope="module")
def server(start_server, models_dir):
    return start_server(models=models_dir, extra=("--max-pixels", "1000", "--max-frames", "64", "--max-steps", "50"))


@pytest.fixture(scope="module")
def client(server):
    with server.client() as c:
        yield c


def generation(width=64, height=64, frames=9, steps=60):
    return {
        "format_version": 1,
        "settings": {"width": width, "height": height, "fps": "8", "frame_count": frames},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"family": "auto", "model": "tiny-ltx"}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox", "steps": steps}},
            {"id": "gen", "type": "Generate", "params": {}},
            {"id": "export", "type": "ExportVideo", "params": {"path": "out.mp4"}},
        ],
        "links": [
            {"from": "model.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
            {"from": "gen.video", "to": "export.video"},
        ],
    }


def job_folders(server) -> set[str]:
    d = Path(server.data_dir) / "jobs"
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def test_a_generation_over_the_limits_is_refused_before_it_is_queued(server, client):
    before, folders = {j.id for j in client.jobs(limit=100)}, job_folders(server)
    with pytest.raises(ServerError) as e:
        client.request("POST", "/v1/videos/generations", json={"project": generation(), "output_node": "export"})
    assert e.value.status == 422
    text = " ".join(m for _, m in e.value.details) or str(e.value)
    assert "64x64 is 4,096 pixels a frame, more than the limit of 1,000 (--max-pixels)" in text
    assert "60 steps is more than the limit of 50 (--max-steps)" in text
    assert {j.id for j in client.jobs(limit=100)} == before and job_folders(server) == folders


def test_a_request_body_nested_too_deeply_is_a_422_not_a_500(client):
    for depth in (100, 5000):
        body = '{"project": {"format_version": 1, "x": ' + "[" * depth + "]" * depth + '}, "output_node": "export"}'
        with pytest.raises(ServerError) as e:
            client.request(
                "POST", "/v1/videos/generations", content=body.encode(), headers={"Content-Type": "application/json"}
            )
        text = str(e.value) + " ".join(m for _, m in e.value.details)
        assert e.value.status == 422 and ("nested too deeply" in text or "levels deep" in text), text


def test_the_server_says_when_it_killed_its_own_worker(tmp_path):
    from vidstudio.jobs.supervisor import WorkerSupervisor

    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")  # a worker that never answers (stuck in a long step)
    fake.chmod(0o755)
    exits = []
    sup = WorkerSupervisor(lambda h, p: None, lambda reason, expected: exits.append(reason), python=str(fake))
    sup.start()
    try:
        wait_for(lambda: sup.pid is not None, 10, what="the fake worker")
        sup.kill("job gen_x did not stop 10 s after it was cancelled")
        wait_for(lambda: exits, 20, what="the exit report")
    finally:
        sup.stop(timeout=1)
    assert exits[0] == "the GPU worker was killed by the server: job gen_x did not stop 10 s after it was cancelled"


def _png(size: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB tmpfs for a server's data folder (needs root and a kernel that lets us mount; skipped otherwise)."""
    d = tmp_path / "disk"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(d)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    yield d
    subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_a_full_data_disk_is_a_507_and_leaves_nothing_behind(tiny_disk, tmp_path, plugins_folder):
    from server.server_helpers import server_env
    from vidstudio.client import LocalServer

    srv = LocalServer(tiny_disk / "data", token="", env=server_env(tmp_path, plugins_folder), log_file=tmp_path / "log")
    srv.start(timeout=90)
    try:
        _full_disk(srv, tiny_disk)
    finally:
        srv.stop()


def _full_disk(srv, tiny_disk):
    with srv.client() as c:
        wait_for(lambda: c.health().worker.state in ("ready", "starting"), 60, what="the server")
        filler = tiny_disk / "filler"
        free = shutil.disk_usage(tiny_disk).free
        filler.write_bytes(b"\0" * max(0, free - 64 * 1024))  # leave 64 KB: less than the upload needs
        with pytest.raises(ServerError) as e:
            c.upload_image(_png(400), "big.png")
        assert e.value.status == 507 and "full" in str(e.value)
        assets = tiny_disk / "data" / "assets"
        assert [p.name for p in assets.iterdir()] == []  # no .tmp, no half PNG
        with open(filler, "ab", buffering=0) as f:  # now fill it to the last byte
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        before = job_folders(srv), {j.id for j in c.jobs(limit=100)}
        with pytest.raises(ServerError) as e:
            c.request("POST", "/v1/videos/generations", json={"project": steps_project(), "output_node": "export"})
        assert e.value.status == 507 and "data folder is full" in str(e.value)
        assert (job_folders(srv), {j.id for j in c.jobs(limit=100)}) == before  # no orphan job folder or record
        assert not [p for p in (tiny_disk / "data").rglob("*.tmp")]
        filler.unlink()
        c.upload_image(_png(64), "small.png")  # space again: the server goes on


def test_options_lists_every_method_of_a_path(tmp_path):
    from fastapi.testclient import TestClient

    from vidstudio.server.app import ServerConfig, create_app

    c = TestClient(create_app(ServerConfig(data_dir=tmp_path)))  # no lifespan: no worker is started
    r = c.options("/v1/videos/generations")
    assert r.status_code == 204 and r.headers["allow"] == "GET, HEAD, OPTIONS, POST"  # was: POST only
    assert c.options("/v1/videos/generations/gen_" + "0" * 24).headers["allow"] == "DELETE, GET, HEAD, OPTIONS"
    r = c.put("/v1/videos/generations")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert c.options("/v1/nothing-here").status_code == 404


def test_a_full_disk_during_an_upload_leaves_no_tmp_file_and_is_recognised(tmp_path, monkeypatch):
    """The same promise without a tmpfs (where mounting is not allowed): ENOSPC in the middle of writing."""
    import errno
    import sqlite3

    from PIL import Image as PILImage

    from vidstudio.jobs.store import JobStore
    from vidstudio.server import guards
    from vidstudio.server.app import store_upload

    store = JobStore(tmp_path / "data").open()
    data = _png(32)
    try:

        def full(self, fp, *a, **k):
            Path(fp).write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(PILImage.Image, "save", full)
        with pytest.raises(OSError) as e:
            store_upload(store, data, "image")
        assert guards.disk_full(e.value)
        assert list(store.assets_dir.iterdir()) == []
    finally:
        store.close()
    assert guards.disk_full(sqlite3.OperationalError("database or disk is full"))
    assert not guards.disk_full(OSError(errno.EACCES, "Permission denied"))


def test_a_video_upload_is_streamed_and_a_full_disk_leaves_no_file(tmp_path, monkeypatch):
    """A video upload is copied to the disk in chunks (never read whole), and a disk that fills up while it is
    written, or a database that cannot record it, leaves no file in the assets folder."""
    import errno
    import io
    import subprocess

    from vidstudio.jobs.store import JobStore
    from vidstudio.media.video import ffmpeg_exe
    from vidstudio.server import guards
    from vidstudio.server.routes import assets as assets_route

    clip = tmp_path / "take.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=32x32:rate=8:duration=1", str(clip)],
        check=True,
    )

    class ChunksOnly(io.BytesIO):
        def read(self, size=-1):
            assert size is not None and 0 < size <= 1 << 20, "the upload was read whole"
            return super().read(size)

    store = JobStore(tmp_path / "data").open()
    try:
        row = assets_route.store_upload_file(store, ChunksOnly(clip.read_bytes()), "file", None, "take.mp4")
        assert (row.kind, row.width, row.height, row.suffix) == ("video", 32, 32, ".mp4")
        assert store.asset_path(row.id, ".mp4").read_bytes() == clip.read_bytes()
        assert store.get_asset(row.id) == row
        before = sorted(p.name for p in store.assets_dir.iterdir())

        def full(src, dst, length=0):
            dst.write(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(assets_route.shutil, "copyfileobj", full)
        with pytest.raises(OSError) as e:
            assets_route.store_upload_file(store, io.BytesIO(clip.read_bytes()), "file", "video", "take.mp4")
        assert guards.disk_full(e.value)
        monkeypatch.undo()

        def no_record(row):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(store, "add_asset", no_record)
        with pytest.raises(OSError):
            assets_route.store_upload_file(store, io.BytesIO(clip.read_bytes()), "file", "video", "take.mp4")
        assert sorted(p.name for p in store.assets_dir.iterdir()) == before  # no .tmp, no half video
    finally:
        store.close()
