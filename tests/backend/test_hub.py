"""Model downloads without network: a local stand-in for the Hub (tests/backend/fakehub.py) reached through
HF_ENDPOINT serves a tiny pipeline; progress, the free-disk check, cancel and resume, listing and removal."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backend.conftest import CLI_ENV
from backend.fakehub import FakeHub, tiny_repo_files

BIG = "transformer/diffusion_pytorch_model.safetensors"


@pytest.fixture
def hub(tiny, tmp_path, monkeypatch):
    files = tiny_repo_files(tiny("wan", "t2v"))
    with FakeHub("tiny/wan", files) as h:
        import huggingface_hub.constants as c

        monkeypatch.setenv("HF_ENDPOINT", h.url)
        monkeypatch.setattr(c, "ENDPOINT", h.url)
        monkeypatch.setattr(c, "HUGGINGFACE_CO_URL_TEMPLATE", h.url + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        monkeypatch.setattr(c, "HF_HUB_DISABLE_XET", True)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)
        cache = tmp_path / "hub"
        monkeypatch.setenv("HF_HUB_CACHE", str(cache))
        monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
        h.cache = cache
        yield h


def test_download_reports_bytes_speed_and_eta_and_lists_the_model(hub):
    from vidstudio.backend.hub import cached_models, download, remove

    seen = []
    folder = download("tiny/wan", progress=seen.append)
    total = sum(len(d) for d in hub.files.values())
    assert (folder / "model_index.json").is_file() and (folder / BIG).stat().st_size == len(hub.files[BIG])
    assert seen[-1].done == seen[-1].total == total and seen[-1].speed > 0
    assert "KiB of" in seen[-1].line() and "/s" in seen[-1].line()
    (entry,) = cached_models()
    assert (entry["id"], entry["family"], entry["variant"]) == ("tiny/wan", "wan", "t2v")
    assert entry["size"] >= total
    assert remove("tiny/wan") >= total and cached_models() == []


def test_too_little_free_disk_is_refused_before_anything_is_written(hub, monkeypatch):
    import shutil

    from vidstudio.backend import hub as hubmod
    from vidstudio.errors import ModelError

    monkeypatch.setattr(hubmod.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**6, 10**6 - 100, 100))
    with pytest.raises(ModelError, match=r"needs .* more on disk, but .* has 100 B free"):
        hubmod.download("tiny/wan")
    assert not list(hub.cache.glob("models--tiny--wan/blobs/*"))


def test_a_cancelled_download_leaves_nothing_half_written_and_resumes(hub, monkeypatch):
    import huggingface_hub.constants as c

    from vidstudio.backend.hub import download
    from vidstudio.errors import Cancelled
    from vidstudio.progress import CancelToken

    monkeypatch.setattr(c, "DOWNLOAD_CHUNK_SIZE", 4096)  # progress (and cancel) every 4 KiB
    hub.throttle = (4096, 0.01)
    token = CancelToken()
    big = len(hub.files[BIG])

    def progress(p):
        if p.done > big // 3:
            token.cancel("test")

    with pytest.raises(Cancelled):
        download("tiny/wan", progress=progress, cancel=token)
    (snap,) = hub.cache.glob("models--tiny--wan/snapshots/*")
    assert not (snap / BIG).exists()  # nothing half-written under the model's name
    assert not list(hub.cache.glob("models--tiny--wan/blobs/*.incomplete"))
    kept = {str(f.relative_to(snap)) for f in snap.rglob("*") if f.is_file()}
    assert all((snap / k).read_bytes() == hub.files[k] for k in kept)  # what is there is complete
    hub.throttle, first = None, len(hub.gets)
    seen = []
    folder = download("tiny/wan", progress=seen.append)
    assert all((folder / k).read_bytes() == d for k, d in hub.files.items())
    again = set(hub.gets[first:])
    assert BIG in again and not (again & kept)  # resumed: the files finished before are not fetched again
    assert seen[-1].total == sum(len(hub.files[k]) for k in hub.files if k not in kept)


def test_models_command_lists_and_removes(hub, tmp_path):
    from vidstudio.backend.hub import download

    download("tiny/wan")
    env = {**os.environ, **CLI_ENV, "HF_HUB_CACHE": str(hub.cache)}
    out = subprocess.run(
        [sys.executable, "-m", "vidstudio", "models", "list"], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("tiny/wan"))
    assert "wan" in line.split()[3:] and "t2v" in line and "KiB" in line
    out = subprocess.run(
        [sys.executable, "-m", "vidstudio", "models", "remove", "tiny/wan"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0 and "removed tiny/wan" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "vidstudio", "models", "remove", "tiny/wan"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2 and "not in the Hugging Face cache" in out.stderr


def test_server_download_routes_report_progress_and_cancel(hub):
    """The routes run a download as a job; its events are stamped and sent the way the job manager sends every
    event, and each one is valid against the OpenAPI document's ``Event`` schema (what a client validates)."""
    import time

    import jsonschema
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from vidstudio.protocol import DownloadEvent, parse_event
    from vidstudio.server.app import _openapi_components
    from vidstudio.server.downloads import add_download_routes

    events, kinds = [], []
    schema = {"$ref": "#/components/schemas/Event", "components": {"schemas": _openapi_components()}}

    class Manager:
        """The two members of JobManager the routes use: its event loop hand-over and its publishing."""

        @staticmethod
        def _call(fn, *args):
            fn(*args)

        @staticmethod
        def _publish(kind, job_id, event):
            text = event.model_dump_json()
            jsonschema.validate(json.loads(text), schema)
            back = parse_event(text)
            assert isinstance(back, DownloadEvent) and job_id is None
            events.append(json.loads(text))
            kinds.append((kind, back.download.status))

    app = FastAPI()
    add_download_routes(app, Manager())
    client = TestClient(app)

    def wait(did):
        for _ in range(300):
            d = client.get(f"/v1/models/downloads/{did}").json()
            if d["status"] not in ("queued", "running"):
                return d
            time.sleep(0.05)
        raise AssertionError("download did not finish")

    r = client.post("/v1/models/downloads", json={"id": "tiny/wan"})
    assert r.status_code == 202
    done = wait(r.json()["download_id"])
    assert done["status"] == "succeeded" and done["done_bytes"] == done["total_bytes"] > 0
    assert any(e["type"] == "download" and e["download"]["status"] == "running" for e in events)
    # progress may be dropped for a slow subscriber, a change of status never is
    assert ("download", "running") in kinds and ("download", "succeeded") in kinds and ("progress", "running") in kinds
    assert client.post("/v1/models/downloads", json={"id": "not a repo"}).status_code == 422
    r = client.get("/v1/models/downloads/dl_000000000000")
    assert r.status_code == 404 and r.json()["error"]["field"] == "download_id"
    from vidstudio.client import Client, NotFound, ServerRefused

    typed = Client("http://127.0.0.1:1")  # the client's typed calls, through the same in-process app
    typed._http = client
    (listed,) = typed.model_downloads()
    assert listed.status == "succeeded" and listed.finished and typed.model_download(listed.download_id).folder
    with pytest.raises(NotFound, match="no download 'dl_000000000000'"):
        typed.model_download("dl_000000000000")
    with pytest.raises(ServerRefused):
        typed.request("POST", "/v1/models/downloads", json={"id": "a/b", "extra": 1})
    from vidstudio.backend.hub import remove

    remove("tiny/wan")
    import huggingface_hub.constants as c

    c.DOWNLOAD_CHUNK_SIZE, old = 4096, c.DOWNLOAD_CHUNK_SIZE
    hub.throttle = (4096, 0.05)
    try:
        did = typed.start_model_download("tiny/wan").download_id
        time.sleep(0.3)
        assert typed.cancel_model_download(did).id == "tiny/wan"
        assert wait(did)["status"] == "cancelled"
    finally:
        c.DOWNLOAD_CHUNK_SIZE = old


def test_the_cache_is_read_through_huggingface_hub_for_the_catalogue_and_revisions(hub, monkeypatch):
    """A cache laid out by huggingface_hub itself (a download from the stand-in Hub): the server's catalogue lists
    it through ``scan_cache_dir`` with its size on disk, a revision resolves to its snapshot, and a model or
    revision that is not there while offline is an error that says what to do."""
    from vidstudio.backend.hub import cached_pipelines, download
    from vidstudio.backend.locate import locate
    from vidstudio.errors import ModelError
    from vidstudio.server.models import ModelCatalog

    assert cached_pipelines() == [] and ModelCatalog([]).entries() == []
    download("tiny/wan", include=["vae/*"])  # no model_index.json: not a pipeline (yet)
    assert cached_pipelines() == [] and ModelCatalog([]).entries() == []
    folder = download("tiny/wan")
    ((repo, size),) = cached_pipelines()
    assert repo == "tiny/wan" and size == sum(len(d) for d in hub.files.values())
    (e,) = ModelCatalog([]).entries()
    assert (e.id, e.source, e.family, e.variant, e.size, e.kind) == (
        "tiny/wan",
        "huggingface",
        "wan",
        "t2v",
        size,
        "pipeline",
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert locate("tiny/wan", revision=hub.commit).folder == folder
    assert locate("tiny/wan").folder == folder  # the default branch's ref
    with pytest.raises(
        ModelError,
        match=r"at revision '0{40}' is not in the Hugging Face cache .* HF_HUB_OFFLINE is set.*vidstudio models download tiny/wan --revision",
    ):
        locate("tiny/wan", revision="0" * 40)
    with pytest.raises(ModelError, match=r"'tiny/other' is not in the Hugging Face cache \(looked in .*hub\)"):
        locate("tiny/other")
