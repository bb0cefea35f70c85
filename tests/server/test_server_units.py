"""The server's parts without a server: request building and snapping, path rules, addresses, exit reasons, the
job store's restart rule, the worker wire and the protocol models."""

from __future__ import annotations

import json
import signal
import socket
import threading

import numpy as np
import pytest
from pydantic import ValidationError

from vidstudio.errors import VidStudioError
from vidstudio.families import FAMILY_RULES, GeometryRule
from vidstudio.jobs.store import RESTART_REASON, AssetRow, JobStore, new_asset_id, new_job_id
from vidstudio.jobs.supervisor import describe_exit
from vidstudio.jobs.wire import Wire, WireClosed
from vidstudio.jobs.worker import encode_jpeg, inside_folder
from vidstudio.protocol import (
    JOB_ID_PATTERN,
    DownloadEvent,
    Job,
    PreviewEvent,
    ProgressEvent,
    SimpleGeneration,
    parse_event,
)
from vidstudio.server.build import RequestError, build_simple
from vidstudio.server.models import CatalogEntry, UnknownModel
from vidstudio.server.run import check_address
from vidstudio.server.security import is_loopback


class FakeCatalog:
    """A catalogue of one model per family, with the families' published rules."""

    def __init__(self, rules: dict[str, GeometryRule] | None = None):
        self.rules = rules or {}

    def resolve(self, model_id):
        family, _, checkpoint = (model_id or "ltx").partition("/")  # "wan/wan2.2-ti2v-5b": a known checkpoint
        if family not in FAMILY_RULES:
            raise UnknownModel(f"model {model_id!r} is not a model of this server")
        variant = {"svd": "i2v", "wan": "t2v", "cogvideox": "t2v"}.get(family, "t2v")
        return CatalogEntry(
            family,
            "local",
            f"/srv/models/{family}",
            family,
            variant,
            "Pipeline",
            self.rules.get(family, FAMILY_RULES[family]),
            checkpoint=checkpoint,
        )


class FakeStore:
    def __init__(self, assets=()):
        self.assets = {a: AssetRow(a, 0.0, 64, 48, "RGB", 100) for a in assets}

    def get_asset(self, aid):
        return self.assets.get(aid)


def _simple(**kw):
    return build_simple(
        SimpleGeneration(**kw),
        FakeCatalog(),
        FakeStore(kw.get("image_asset_id") and [kw["image_asset_id"]] or []),
        "gen_x",
    )


# ---------------------------------------------------------------------------------------------- simple requests
def test_simple_request_snaps_frames_and_size_to_the_model_and_says_so():
    spec = _simple(prompt="a fox", duration_seconds=2.0, fps=24, width=700, height=400, model="ltx", seed=5)
    doc = json.loads(spec.project)
    assert doc["settings"] == {"width": 704, "height": 416, "fps": "24", "frame_count": 49}
    assert spec.adjustments == [
        "ltx needs 8k+1 frames (9, 17, 25, 33, ...): generating 49 frames instead of 48",
        "ltx needs width and height divisible by 32: generating 704x416 instead of 700x400",
    ]
    types = {n["id"]: n["type"] for n in doc["nodes"]}
    assert types == {"model": "LoadModel", "cond": "Conditioning", "gen": "Generate", "export": "ExportVideo"}
    params = {n["id"]: n["params"] for n in doc["nodes"]}
    assert params["model"]["model"] == "/srv/models/ltx"  # the worker's document has the server's folder
    assert json.loads(spec.embed)["nodes"][0]["params"]["model"] == "ltx"  # the MP4's has the model id
    assert params["cond"]["seed"] == 5 and params["gen"]["snap_to_model"] is True


def test_simple_request_defaults_come_from_the_family_and_the_aspect_ratio():
    doc = json.loads(_simple(prompt="x", model="wan", duration_seconds=1.0).project)
    assert doc["settings"] == {"width": 832, "height": 480, "fps": "16", "frame_count": 17}
    # a checkpoint with its own native rate: Wan 2.2 TI2V-5B makes 24 fps, CogVideoX 1.5 16 (their families: 16, 8)
    doc = json.loads(_simple(prompt="x", model="wan/wan2.2-ti2v-5b", duration_seconds=1.0).project)
    assert doc["settings"]["fps"] == "24" and doc["settings"]["frame_count"] == 25
    assert json.loads(_simple(prompt="x", model="cogvideox/cogvideox1.5-t2v").project)["settings"]["fps"] == "16"
    assert json.loads(_simple(prompt="x", model="cogvideox/cogvideox-t2v").project)["settings"]["fps"] == "8"
    spec = _simple(prompt="x", model="ltx", aspect_ratio="1:1", duration_seconds=1 / 3, fps=24)
    s = json.loads(spec.project)["settings"]
    assert s["width"] == s["height"] and abs(s["width"] ** 2 - 768 * 512) < 40 * 640
    assert s["width"] % 32 == 0 and s["frame_count"] == 9
    assert spec.adjustments[0].startswith("size 627x627 for aspect ratio 1:1")
    s = json.loads(_simple(prompt="x", model="ltx", width=320, aspect_ratio="16:9").project)["settings"]
    assert (s["width"], s["height"]) == (320, 192)  # 320 x 180 -> 192
    seeds = {json.loads(_simple(prompt="x", model="ltx").project)["nodes"][1]["params"]["seed"] for _ in range(4)}
    assert len(seeds) > 1 and all(0 <= v < 2**31 for v in seeds)


def test_simple_request_problems_name_their_fields():
    with pytest.raises(RequestError) as e:
        _simple(prompt="a horse", model="svd")
    fields = {f for f, _ in e.value.problems}
    assert fields == {"prompt", "image_asset_id"}  # svd takes no text and needs an image
    spec = _simple(prompt="", model="svd", image_asset_id="img_" + "1" * 24, motion_bucket_id=200)
    doc = json.loads(spec.project)
    assert doc["settings"] == {"width": 1024, "height": 576, "fps": "7", "frame_count": 14}  # SVD's native
    cond = [n for n in doc["nodes"] if n["id"] == "cond"][0]["params"]
    assert cond["motion_strength"] == pytest.approx(200 / 254)
    assert [l for l in doc["links"] if l["to"] == "cond.keyframes"] == [{"from": "image.image", "to": "cond.keyframes"}]
    with pytest.raises(RequestError) as e:
        _simple(prompt="x", model="nope")
    assert e.value.problems[0][0] == "model"
    with pytest.raises(ValidationError):
        SimpleGeneration(prompt="x", aspect_ratio="16:0")
    with pytest.raises(ValidationError):
        SimpleGeneration(prompt="x", width=10)


# ---------------------------------------------------------------------------------------------- rules
@pytest.mark.parametrize(
    "value, ok",
    [
        ("inputs/img_1.png", True),
        ("a/b/../c.png", False),
        ("../x.png", False),
        ("/etc/passwd", False),
        ("~/x.png", False),
        ("C:\\x.png", False),
        ("\\\\server\\share\\x", False),
        ("a\x00b", False),
        ("", False),
        ("output.mp4", True),
    ],
)
def test_file_parameters_must_stay_inside_the_job_folder(tmp_path, value, ok):
    assert inside_folder(value, tmp_path) is ok


def test_a_symlink_out_of_the_job_folder_is_refused(tmp_path):
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "link").symlink_to("/etc")
    assert not inside_folder("link/hostname", tmp_path / "job")


def test_addresses_and_tokens():
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.5"):
        assert is_loopback(host), host
        check_address(host, None)
    for host in ("0.0.0.0", "192.168.1.2", "::", "example.org"):
        assert not is_loopback(host), host
        with pytest.raises(VidStudioError, match="not a loopback address"):
            check_address(host, None)
        check_address(host, "token")


def test_worker_exit_reasons_in_words():
    assert "SIGKILL" in describe_exit(-signal.SIGKILL) and "memory" in describe_exit(-signal.SIGKILL)
    assert describe_exit(-signal.SIGSEGV) == "the GPU worker crashed with a segmentation fault (SIGSEGV)"
    assert (
        describe_exit(3, ["Traceback", "ImportError: no module x"])
        == "the GPU worker exited with status 3 (last output: ImportError: no module x)"
    )
    assert describe_exit(-signal.SIGABRT, ["torch.OutOfMemoryError: CUDA out of memory"]).endswith("ran out of memory")


# ---------------------------------------------------------------------------------------------- store and wire
def test_store_fails_running_jobs_at_restart_and_keeps_the_queue(tmp_path):
    store = JobStore(tmp_path).open()
    ids = [new_job_id() for _ in range(4)]
    for i in ids:
        store.insert(i, "project", "export", {"project": "{}"})
    store.update(ids[0], status="succeeded", started_at=1.0, finished_at=3.0)
    store.update(ids[1], status="running", started_at=2.0)
    store.close()
    store = JobStore(tmp_path).open()
    failed, queued = store.recover()
    assert failed == [ids[1]] and queued == ids[2:]
    assert (store.get(ids[1]).status, store.get(ids[1]).error) == ("failed", RESTART_REASON)
    assert store.get(ids[0]).status == "succeeded"
    rows, more = store.list(limit=2)
    assert [r.id for r in rows] == [ids[3], ids[2]] and more
    assert store.recent_durations() == [2.0]
    import re

    assert all(re.match(JOB_ID_PATTERN, i) for i in ids) and new_asset_id().startswith("img_")
    with pytest.raises(KeyError):
        store.update(ids[0], nonsense=1)


def test_wire_carries_headers_and_payloads_and_reports_the_end():
    a, b = socket.socketpair()
    wa, wb = Wire(a), Wire(b)
    big = bytes(range(256)) * 5000
    t = threading.Thread(target=lambda: [wa.send({"ev": "step", "i": i}, big if i == 1 else b"") for i in range(3)])
    t.start()
    got = [wb.recv() for _ in range(3)]
    t.join()
    assert [h["i"] for h, _ in got] == [0, 1, 2] and got[1][1] == big and got[0][1] == b""
    wa.close()
    with pytest.raises(WireClosed):
        wb.recv()


def test_previews_are_small_jpegs():
    jpeg, w, h = encode_jpeg(np.random.default_rng(0).random((600, 1200, 3), dtype=np.float32))
    assert (w, h) == (512, 256) and jpeg[:2] == b"\xff\xd8"
    _, w, h = encode_jpeg(np.zeros((4, 6, 3), np.float32))
    assert (w, h) == (6, 4)


def test_events_round_trip_through_json():
    ev = ProgressEvent(
        id="gen_" + "0" * 24,
        progress={"node": "gen", "step": 2, "total": 20, "seconds_per_step": 0.5},
        eta=9.0,
        seq=4,
        time=1.0,
    )
    back = parse_event(ev.model_dump_json())
    assert isinstance(back, ProgressEvent) and back.progress.step == 2 and back.eta == 9.0
    pv = PreviewEvent(id="gen_" + "0" * 24, node="gen", step=1, total=2, image="/9j/", width=1, height=1)
    assert parse_event(pv.model_dump_json()).jpeg() == b"\xff\xd8\xff"
    job = Job(id="gen_" + "0" * 24, status="cancelled", kind="simple", created_at=0.0, output_node="export")
    assert job.finished
    text = '{"type": "download", "seq": 3, "time": 1.0, "download": {"download_id": "dl_0123456789ab", "id": "a/b",'
    text += ' "status": "running", "done_bytes": 5, "total_bytes": 10, "bytes_per_second": 2.5, "eta_seconds": 2.0}}'
    dl = parse_event(text)
    assert isinstance(dl, DownloadEvent) and dl.download.eta_seconds == 2.0 and not dl.download.finished


def test_models_are_local_folders_and_hugging_face_cache_entries(tmp_path, monkeypatch):
    from vidstudio.server.models import ModelCatalog

    local = tmp_path / "models"
    for name, cls in (("wan-small", "WanPipeline"), ("not-video", "StableDiffusionXLPipeline")):
        (local / name).mkdir(parents=True)
        (local / name / "model_index.json").write_text(json.dumps({"_class_name": cls}))
    (local / "empty").mkdir()
    hub = tmp_path / "hf"
    snap = hub / "models--someorg--svd-xt" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "model_index.json").write_text(json.dumps({"_class_name": "StableVideoDiffusionPipeline"}))
    (hub / "models--someorg--svd-xt" / "refs").mkdir()
    (hub / "models--someorg--svd-xt" / "refs" / "main").write_text("abc123")
    extra = tmp_path / "elsewhere" / "ltx-dev"
    extra.mkdir(parents=True)
    (extra / "model_index.json").write_text(json.dumps({"_class_name": "LTXConditionPipeline"}))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    cat = ModelCatalog([local, tmp_path / "missing"])
    got = {e.id: (e.family, e.variant, e.source) for e in cat.entries()}
    assert got == {"wan-small": ("wan", "t2v", "local"), "someorg/svd-xt": ("svd", "i2v", "huggingface")}
    assert cat.default_id() == "wan-small" and cat.resolve(None).target == str((local / "wan-small").resolve())
    assert cat.resolve("someorg/svd-xt").target == "someorg/svd-xt"
    with pytest.raises(UnknownModel, match="wan-small, someorg/svd-xt"):
        cat.resolve("../models/wan-small")
    cat = ModelCatalog([local], str(extra), scan_hf_cache=False)
    assert [e.id for e in cat.entries()] == ["ltx-dev", "wan-small"] and cat.default_id() == "ltx-dev"
    assert cat.name_of(str(extra.resolve())) == "ltx-dev" and cat.name_of("/secret/place/x") == "x"
    assert ModelCatalog([tmp_path / "none"], "nope/nope", scan_hf_cache=False).default_id() is None


def test_server_and_client_modules_load_neither_torch_nor_qt(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, pathlib\n"
        "import vidstudio.protocol\n"
        "light = sorted(m for m in sys.modules if m.startswith('vidstudio') and not m.startswith('vidstudio.protocol'))\n"
        "print('protocol-pulls:', ','.join(m for m in light if m != 'vidstudio'), 'numpy' in sys.modules)\n"
        "import vidstudio.client, vidstudio.server.run, vidstudio.jobs.manager, vidstudio.commands.serve\n"
        "from vidstudio.server.app import ServerConfig, create_app\n"
        f"create_app(ServerConfig(data_dir=pathlib.Path({str(tmp_path)!r})))\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers', 'PySide6', 'qtawesome'})\n"
        "print('heavy:', ','.join(heavy))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.splitlines() == ["protocol-pulls:  False", "heavy: "]


def test_download_events_reach_every_stream_stamped_and_their_end_is_never_dropped(tmp_path):
    """Download events go through the job manager's own publishing: numbered with ``seq``, sent also to a stream
    that follows one job, progress dropped for a slow reader like job progress, the end of a download never."""
    import asyncio

    from fastapi import FastAPI

    from vidstudio.jobs.executor import make_manager
    from vidstudio.jobs.manager import SUBSCRIBER_BACKLOG
    from vidstudio.protocol import Download
    from vidstudio.server.downloads import add_download_routes

    async def run():
        manager = make_manager(JobStore(tmp_path))  # not started: no worker, only its event publishing
        manager._loop = asyncio.get_running_loop()
        stream = manager.subscribe(job="gen_" + "1" * 24, previews=False)
        downloads = add_download_routes(FastAPI(), manager)
        d = Download(download_id="dl_0123456789ab", id="a/b", status="running")
        for i in range(SUBSCRIBER_BACKLOG + 5):
            downloads._emit(d.model_copy(update={"done_bytes": i}), final=False)
        downloads._emit(d.model_copy(update={"status": "succeeded"}))
        await asyncio.sleep(0.1)
        return [stream.queue.get_nowait() for _ in range(stream.queue.qsize())], stream.dropped

    texts, dropped = asyncio.run(run())
    events = [parse_event(t) for t in texts]
    assert all(isinstance(e, DownloadEvent) for e in events) and dropped == 5
    assert [e.download.done_bytes for e in events[:-1]] == list(range(SUBSCRIBER_BACKLOG))
    assert events[-1].download.status == "succeeded" and events[-1].download.finished
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and all(e.time > 0 for e in events)


def test_a_database_made_before_video_uploads_keeps_its_images(tmp_path):
    """A data folder from before videos and sounds could be uploaded (assets without kind and suffix) opens, and
    its images are still PNG images; new video assets record their kind and suffix."""
    import sqlite3

    from vidstudio.jobs.store import AssetRow, JobStore

    (tmp_path / "data").mkdir()
    db = sqlite3.connect(tmp_path / "data" / "jobs.sqlite3")
    db.execute(
        "CREATE TABLE assets (id TEXT PRIMARY KEY, created_at REAL NOT NULL, width INTEGER NOT NULL, "
        "height INTEGER NOT NULL, mode TEXT NOT NULL, bytes INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO assets VALUES ('img_' || printf('%024d', 1), 1.0, 64, 48, 'RGB', 100)")
    db.commit()
    db.close()
    store = JobStore(tmp_path / "data").open()
    try:
        old = store.get_asset("img_" + "0" * 23 + "1")
        assert (old.kind, old.suffix, old.width) == ("image", ".png", 64)
        assert store.asset_path(old.id).name == f"{old.id}.png"
        store.add_asset(AssetRow("img_" + "a" * 24, 2.0, 32, 32, "h264", 10, "video", ".mp4"))
        assert store.get_asset("img_" + "a" * 24).suffix == ".mp4"
    finally:
        store.close()
    JobStore(tmp_path / "data").open().close()  # opening again adds nothing twice
