"""The server's routers (in process, no worker): the OpenAPI document keeps every operation with its status
codes, and the routers themselves require the token through their dependency, with the store and the catalogue
reached through dependencies a test can override."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from vidstudio.server.app import ServerConfig, create_app
from vidstudio.server.deps import get_catalog
from vidstudio.server.errors import install_handlers
from vidstudio.server.routes import ROUTERS, health

#: ``(method, path): sorted status codes`` of every operation: those of create_app when it was one function,
#: then the model-download routes added after the split.
OPERATIONS = {
    ("get", "/v1/health"): ["200"],
    ("get", "/v1/nodes"): ["200"],
    ("get", "/v1/models"): ["200"],
    ("post", "/v1/assets"): ["201", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/assets/{asset_id}"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("post", "/v1/videos/generations"): ["202", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/videos/generations"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/videos/generations/{job_id}"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("delete", "/v1/videos/generations/{job_id}"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/videos/generations/{job_id}/output.mp4"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/videos/generations/{job_id}/frames/{n}.png"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/videos/generations/{job_id}/preview.jpg"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    # added since: model downloads as jobs and the model cache (vidstudio/server/downloads.py), which declare the
    # shared error answers like every other route
    ("get", "/v1/models/downloads"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("post", "/v1/models/downloads"): ["202", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/models/downloads/{download_id}"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("delete", "/v1/models/downloads/{download_id}"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("get", "/v1/models/cache"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("delete", "/v1/models/cache/{org}/{name}"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    # the plugins the server knows, and enabling again one that crashed the worker (vidstudio/server/routes/plugins.py)
    ("get", "/v1/plugins"): ["200", "400", "401", "404", "409", "413", "415", "422"],
    ("post", "/v1/plugins/{name}/enable"): ["200", "400", "401", "404", "409", "413", "415", "422"],
}


def test_the_openapi_document_keeps_every_operation_and_its_status_codes(tmp_path: Path):
    doc = create_app(ServerConfig(data_dir=tmp_path, token="t", scan_hf_cache=False)).openapi()
    ops = {(m, p): sorted(op["responses"]) for p, item in doc["paths"].items() for m, op in item.items()}
    assert ops == OPERATIONS
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(set(ids)) == len(ids) == len(OPERATIONS) and "create_generation_v1_videos_generations_post" in ids
    post = doc["paths"]["/v1/videos/generations"]["post"]
    assert post["responses"]["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Job"}
    assert post["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    assert {"Event", "SimpleGenerationForm", "ProjectGeneration", "Health", "ErrorResponse"} <= set(
        doc["components"]["schemas"]
    )
    assert doc["security"] == [{"bearer": []}] and "/v1/events" in doc["x-websockets"]
    assert all("description" not in op for item in doc["paths"].values() for op in item.values())
    schemas = doc["components"]["schemas"]
    for path, method in (("/v1/models/downloads", "post"), ("/v1/models/downloads/{download_id}", "delete")):
        answers = doc["paths"][path][method]["responses"]
        assert answers["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    # a model entry says what it is, so that a client can offer each file where it belongs (all new fields optional)
    info = schemas["ModelInfo"]
    assert info["properties"]["kind"]["enum"] == ["pipeline", "checkpoint", "lora", "vae", "text_encoder"]
    assert info["properties"]["format"]["enum"] == ["diffusers", "safetensors", "gguf"]
    assert {"component", "size_bytes", "dtype", "error"} <= set(info["properties"])
    assert set(info["required"]) == {"id", "family", "variant", "class_name", "source"}
    # download progress is an event of the stream's schema
    assert {"$ref": "#/components/schemas/DownloadEvent"} in schemas["Event"]["oneOf"]
    assert schemas["Event"]["discriminator"]["mapping"]["download"] == "#/components/schemas/DownloadEvent"
    assert schemas["DownloadEvent"]["properties"]["download"] == {"$ref": "#/components/schemas/Download"}
    # a plugin the server disabled after a crash is listed with the reason (typed; no path on the server)
    listing = doc["paths"]["/v1/plugins"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing == {"$ref": "#/components/schemas/PluginList"}
    plugin = schemas["ServerPlugin"]["properties"]
    assert set(plugin) == {"name", "version", "status", "reason", "crashed", "node_types"}
    assert plugin["status"]["enum"] == ["enabled", "disabled", "failed", "incompatible"]


def test_a_router_alone_requires_the_token_and_takes_its_parts_from_dependencies():
    """Without the app's middleware (a router mounted elsewhere) the dependency still refuses a missing or wrong
    token with the error shape of every answer; the catalogue comes from a dependency override."""
    app = FastAPI()
    app.state.config = SimpleNamespace(token="s3cret")
    install_handlers(app)
    app.include_router(health.router)
    entry = SimpleNamespace(
        id="tiny",
        family="ltx",
        variant="t2v",
        class_name="LTXPipeline",
        source="local",
        rule=SimpleNamespace(describe=lambda: {"frames": "8k+1", "source": "x"}),
        kind="pipeline",
        component="",
        format="diffusers",
        size=1234,
        dtype="",
        error="",
    )
    app.dependency_overrides[get_catalog] = lambda: SimpleNamespace(entries=lambda: [entry], default_id=lambda: "tiny")
    with TestClient(app) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            r = c.get("/v1/models", headers=headers)
            assert r.status_code == 401 and r.json()["error"]["field"] == "Authorization"
        r = c.get("/v1/models", headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200
        assert r.json()["default"] == "tiny" and r.json()["data"][0]["rules"] == {"frames": "8k+1"}
        assert r.json()["data"][0]["size_bytes"] == 1234 and r.json()["data"][0]["dtype"] is None
    assert len(ROUTERS) == 5


def test_the_model_cache_is_typed_and_sends_no_path_on_the_server(tmp_path: Path, monkeypatch):
    """``GET /v1/models/cache`` answers CachedModel records (id, size, revisions, refs, family, variant) and never
    the snapshot folder; the client's typed methods read it and remove an entry by its id."""
    from vidstudio.client import Client
    from vidstudio.protocol import CachedModel, CacheRemoval

    hub = tmp_path / "hf"
    repo = hub / "models--someorg--svd-xt"
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "model_index.json").write_text('{"_class_name": "StableVideoDiffusionPipeline"}')
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    app = create_app(ServerConfig(data_dir=tmp_path / "data", token="t", scan_hf_cache=False))
    schema = app.openapi()
    ok = schema["paths"]["/v1/models/cache"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"type": "array", "items": {"$ref": "#/components/schemas/CachedModel"}, "title": ok.get("title")}
    assert "folder" not in schema["components"]["schemas"]["CachedModel"]["properties"]
    removal = schema["paths"]["/v1/models/cache/{org}/{name}"]["delete"]["responses"]["200"]["content"]
    assert removal["application/json"]["schema"] == {"$ref": "#/components/schemas/CacheRemoval"}
    tc = TestClient(app)  # no lifespan: no worker
    raw = tc.get("/v1/models/cache", headers={"Authorization": "Bearer t"}).json()
    assert [{k: v for k, v in m.items() if k != "size"} for m in raw] == [
        {
            "id": "someorg/svd-xt",
            "revisions": ["abc123"],
            "refs": ["main"],
            "family": "svd",
            "variant": "i2v",
            "source": "huggingface",
        }
    ]
    assert isinstance(raw[0]["size"], int) and raw[0]["size"] >= 0
    assert all("folder" not in m and str(tmp_path) not in json.dumps(m) for m in raw)
    client = Client("http://127.0.0.1:9")
    client.request = lambda method, path, **kw: tc.request(method, path, headers={"Authorization": "Bearer t"}, **kw)
    (entry,) = client.model_cache()
    assert isinstance(entry, CachedModel) and (entry.id, entry.family, entry.variant) == (
        "someorg/svd-xt",
        "svd",
        "i2v",
    )
    gone = client.remove_cached_model("someorg/svd-xt")
    assert isinstance(gone, CacheRemoval) and gone.id == "someorg/svd-xt" and not repo.exists()
    assert client.model_cache() == []
    with pytest.raises(ValueError, match="org/name"):
        client.remove_cached_model("../etc")


def test_the_plugins_route_lists_why_and_enables_only_what_a_crash_disabled(tmp_path: Path):
    """In process, no worker: ``GET /v1/plugins`` gives each plugin's status and reason (no path on the server);
    ``POST .../enable`` clears a crash-disabled plugin (and the server's registry has its types again), answers
    409 for one the owner disabled, 404 for an unknown name."""
    import os

    from server.server_helpers import write_plugin
    from vidstudio.plugins import PluginManager

    write_plugin(Path(os.environ["VIDSTUDIO_PLUGINS_DIR"]))
    PluginManager().disable("slowtest")  # the owner's setting, in the config folder
    data = tmp_path / "data"
    data.mkdir()
    record = {"what": "node 'Segfault'", "reason": "the GPU worker crashed (SIGSEGV)", "job": "gen_1", "at": 0}
    (data / "plugins.json").write_text(json.dumps({"crashed": {"crashtest": record}}))
    app = create_app(ServerConfig(data_dir=data, token="t", scan_hf_cache=False))
    auth = {"Authorization": "Bearer t"}
    tc = TestClient(app)  # no lifespan: no worker
    assert "crashtest.Exit" in app.state.registry and app.state.registry.find("crashtest.Exit") is None
    listed = {p["name"]: p for p in tc.get("/v1/plugins", headers=auth).json()["data"]}
    crash, owner = listed["crashtest"], listed["slowtest"]
    assert crash["status"] == "disabled" and crash["crashed"] is True
    assert crash["reason"].startswith("plugin 'crashtest' is disabled on this server: the GPU worker crashed (SIGSEGV)")
    assert "(node 'Segfault') (job gen_1)" in crash["reason"]
    assert owner["status"] == "disabled" and owner["crashed"] is False and "vidstudio plugins enable" in owner["reason"]
    assert str(tmp_path) not in json.dumps(listed)
    r = tc.post("/v1/plugins/slowtest/enable", headers=auth)
    assert r.status_code == 409 and "was not disabled after a crash" in r.json()["error"]["message"]
    r = tc.post("/v1/plugins/nosuch/enable", headers=auth)
    assert r.status_code == 404 and r.json()["error"]["field"] == "name"
    r = tc.post("/v1/plugins/crashtest/enable", headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "enabled" and r.json()["reason"] is None
    assert json.loads((data / "plugins.json").read_text())["crashed"] == {}
    assert app.state.registry.unavailable_reason("crashtest.Exit") is None  # usable again (loaded in the worker)
