"""Single model files in the server's models folders (ComfyUI's ``diffusion_models/``, ``loras/``, ``vae/``,
``text_encoders/``): ``GET /v1/models`` lists each with its kind, family, variant, size, format and storage type,
read from the header alone in the server process (no torch); requests check that each file goes where its kind
belongs. The files are written here without torch (numpy, the ``gguf`` package): only their headers matter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vidstudio.server.build import RequestError, build_project
from vidstudio.server.models import ModelCatalog

#: Original-layout (ComfyUI) names of a Wan transformer, with the VACE blocks that make it the ``vace`` variant.
WAN = [
    "model.diffusion_model.blocks.0.self_attn.q.weight",
    "model.diffusion_model.blocks.0.cross_attn.k.weight",
    "model.diffusion_model.head.modulation",
    "model.diffusion_model.vace_blocks.0.after_proj.weight",
]
LORA = ["diffusion_model.blocks.0.self_attn.q.lora_A.weight", "diffusion_model.blocks.0.self_attn.q.lora_B.weight"]
VAE = ["decoder.conv_in.weight", "encoder.conv_in.weight", "decoder.up.0.conv1.weight"]
T5 = ["shared.weight", "encoder.block.0.layer.0.SelfAttention.q.weight"]


def _safetensors(path: Path, names: list[str], dtype=np.float16, shape=(4, 32)) -> Path:
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({n: np.zeros(shape, dtype) for n in names}, str(path))
    return path


def _gguf_q8(path: Path, names: list[str]) -> Path:
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), arch="wan")
    for n in names:
        a = np.random.default_rng(0).random((4, 64), dtype=np.float32)
        w.add_tensor(
            n[len("model.diffusion_model.") :],
            gguf.quants.quantize(a, gguf.GGMLQuantizationType.Q8_0),
            raw_dtype=gguf.GGMLQuantizationType.Q8_0,
        )
    w.add_tensor("norm.bias", np.zeros(4, np.float32))  # a small F32 tensor, as real files have
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture
def comfy(tmp_path) -> Path:
    """A ComfyUI-like models folder, plus a pipeline folder whose own weights must not be listed as files."""
    root = tmp_path / "ComfyUI" / "models"
    _safetensors(root / "diffusion_models" / "wan_vace_fp8.safetensors", WAN, np.float32)
    _gguf_q8(root / "unet" / "wan" / "wan_vace-Q8_0.gguf", WAN)
    _safetensors(root / "loras" / "wan" / "lightx2v_4step.safetensors", LORA)
    _safetensors(root / "vae" / "wan_2.1_vae.safetensors", VAE)
    _safetensors(root / "text_encoders" / "umt5_xxl_fp16.safetensors", T5)
    _safetensors(root / "upscale_models" / "4x.safetensors", VAE)  # not a folder VidStudio reads
    (root / "diffusion_models" / "cut.safetensors").write_bytes(b"\x10\x00")  # a damaged file
    (root / "unet" / "bad.gguf").write_bytes(b"GGUF" + b"\xff" * 60)  # and a GGUF of no known version
    pipe = root / "wan-base"
    (pipe / "transformer").mkdir(parents=True)
    (pipe / "model_index.json").write_text(json.dumps({"_class_name": "WanPipeline"}))
    _safetensors(pipe / "transformer" / "diffusion_pytorch_model.safetensors", WAN)
    return root


def test_the_catalogue_lists_model_files_with_what_they_hold(comfy):
    cat = ModelCatalog([comfy], scan_hf_cache=False)
    got = {e.id: e for e in cat.entries()}
    assert list(got) == [
        "wan-base",
        "diffusion_models/cut.safetensors",
        "diffusion_models/wan_vace_fp8.safetensors",
        "loras/wan/lightx2v_4step.safetensors",
        "text_encoders/umt5_xxl_fp16.safetensors",
        "unet/bad.gguf",
        "unet/wan/wan_vace-Q8_0.gguf",
        "vae/wan_2.1_vae.safetensors",
    ]
    facts = {i: (e.kind, e.family, e.variant, e.component, e.format, e.dtype) for i, e in got.items()}
    assert facts["wan-base"] == ("pipeline", "wan", "t2v", "", "diffusers", "")
    assert facts["diffusion_models/wan_vace_fp8.safetensors"] == (
        "checkpoint",
        "wan",
        "vace",
        "transformer",
        "safetensors",
        "F32",
    )
    assert facts["unet/wan/wan_vace-Q8_0.gguf"] == ("checkpoint", "wan", "vace", "transformer", "gguf", "Q8_0")
    assert facts["loras/wan/lightx2v_4step.safetensors"] == ("lora", "wan", "", "", "safetensors", "F16")
    assert facts["vae/wan_2.1_vae.safetensors"][:1] + facts["vae/wan_2.1_vae.safetensors"][3:] == (
        "vae",
        "vae",
        "safetensors",
        "F16",
    )
    assert facts["text_encoders/umt5_xxl_fp16.safetensors"][0] == "text_encoder"
    cut = got["diffusion_models/cut.safetensors"]
    assert cut.kind == "checkpoint" and cut.family == "" and "cannot be read" in cut.error and cut.rule is None
    bad = got["unet/bad.gguf"]
    assert (bad.kind, bad.format, bad.dtype) == ("checkpoint", "gguf", "") and "cannot be read as gguf" in bad.error
    st = comfy / "diffusion_models" / "wan_vace_fp8.safetensors"
    e = got["diffusion_models/wan_vace_fp8.safetensors"]
    assert e.size == st.stat().st_size and e.target == str(st.resolve()) and e.rule is not None
    assert got["wan-base"].size == sum(f.stat().st_size for f in (comfy / "wan-base").rglob("*") if f.is_file())
    assert got["loras/wan/lightx2v_4step.safetensors"].rule is None
    # the default model is a pipeline, never a file listed before it
    assert cat.default_id() == "wan-base"
    assert ModelCatalog([comfy / "loras"], scan_hf_cache=False).default_id() is None
    # a models folder that is itself a ComfyUI subfolder is read whole, its kind from its name
    (only,) = ModelCatalog([comfy / "loras"], scan_hf_cache=False).entries()
    assert (only.id, only.kind) == ("wan/lightx2v_4step.safetensors", "lora")


def test_get_models_gives_the_new_fields_and_the_client_reads_them_typed(comfy, tmp_path):
    from fastapi.testclient import TestClient

    from vidstudio.client import Client
    from vidstudio.server.app import ServerConfig, create_app

    app = create_app(ServerConfig(data_dir=tmp_path / "data", models_dirs=[comfy], scan_hf_cache=False))
    client = Client("http://127.0.0.1:1")
    client._http = TestClient(app)  # the routes without the lifespan (no worker)
    raw = client.request("GET", "/v1/models").json()
    gguf = next(m for m in raw["data"] if m["id"] == "unet/wan/wan_vace-Q8_0.gguf")
    assert {k: gguf[k] for k in ("kind", "family", "variant", "component", "format", "dtype", "source")} == {
        "kind": "checkpoint",
        "family": "wan",
        "variant": "vace",
        "component": "transformer",
        "format": "gguf",
        "dtype": "Q8_0",
        "source": "local",
    }
    assert gguf["size_bytes"] == (comfy / "unet" / "wan" / "wan_vace-Q8_0.gguf").stat().st_size
    assert gguf["rules"]["frame_step"] == 4 and gguf["class_name"] == "" and gguf["error"] is None
    assert str(comfy) not in json.dumps(raw)  # no server path leaks out
    models = client.models()
    assert models.default == "wan-base" and models.of_kind("pipeline")[0].size_bytes > 0
    loras = client.model_files("lora")
    assert [(m.id, m.family, m.rules) for m in loras] == [("loras/wan/lightx2v_4step.safetensors", "wan", {})]
    assert {m.kind for m in client.model_files()} == {"checkpoint", "lora", "vae", "text_encoder"}


def test_the_server_process_lists_model_files_without_torch(comfy):
    code = (
        "import sys, pathlib\n"
        "from vidstudio.server.models import ModelCatalog\n"
        f"entries = ModelCatalog([pathlib.Path({str(comfy)!r})], scan_hf_cache=False).entries()\n"
        "print(sorted({e.format for e in entries}))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers'}))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["['diffusers', 'gguf', 'safetensors']", "[]"]


def _project(params: dict, lora: str | None = None) -> dict:
    nodes = [
        {"id": "m", "type": "LoadModel", "params": params},
        {"id": "c", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 2}},
        {"id": "g", "type": "Generate", "params": {}},
    ]
    links = [{"from": "c.conditioning", "to": "g.conditioning"}]
    if lora is None:
        links.append({"from": "m.model", "to": "g.model"})
    else:
        nodes.append({"id": "l", "type": "LoadLoRA", "params": {"lora": lora}})
        links += [{"from": "m.model", "to": "l.model"}, {"from": "l.model", "to": "g.model"}]
    return {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": nodes,
        "links": links,
    }


def test_requests_put_each_model_file_where_its_kind_belongs(comfy):
    from vidstudio.nodes import default_registry
    from vidstudio.protocol import ProjectGeneration
    from vidstudio.server.build import NodeTypes

    cat = ModelCatalog([comfy], scan_hf_cache=False)
    types = NodeTypes(default_registry(), None)

    def problems(params: dict, lora: str | None = None) -> list[tuple[str | None, str]]:
        req = ProjectGeneration(project=_project(params, lora), output_node="g")
        try:
            build_project(req, cat, None, types, "gen_" + "0" * 24)
        except RequestError as e:
            return e.problems
        return []

    st = "diffusion_models/wan_vace_fp8.safetensors"
    (p,) = problems({"model": st})
    assert p[0] == "project.nodes.m.params.base_model" and "single transformer/UNet file" in p[1]
    (p,) = problems({"model": "loras/wan/lightx2v_4step.safetensors"})
    assert p[0] == "project.nodes.m.params.model" and "is a LoRA, not a pipeline or transformer/UNet" in p[1]
    assert "a Load LoRA node's 'lora'" in p[1]
    (p,) = problems({"model": st, "base_model": "wan-base", "vae_file": "text_encoders/umt5_xxl_fp16.safetensors"})
    assert p[0] == "project.nodes.m.params.vae_file" and "is a text encoder, not a VAE" in p[1]
    (p,) = problems({"model": "wan-base"}, lora="vae/wan_2.1_vae.safetensors")
    assert p[0] == "project.nodes.l.params.lora" and "is a VAE, not a LoRA" in p[1]
    (p,) = problems({"model": st, "base_model": st})
    assert p[0] == "project.nodes.m.params.base_model" and "not a pipeline" in p[1]


def test_a_project_names_model_files_by_id_and_the_worker_gets_their_paths(comfy):
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project
    from vidstudio.protocol import ProjectGeneration
    from vidstudio.server.build import NodeTypes

    cat = ModelCatalog([comfy], scan_hf_cache=False)
    params = {
        "model": "unet/wan/wan_vace-Q8_0.gguf",
        "base_model": "wan-base",
        "vae_file": "vae/wan_2.1_vae.safetensors",
        "text_encoder_file": "text_encoders/umt5_xxl_fp16.safetensors",
    }
    req = ProjectGeneration(project=_project(params, lora="loras/wan/lightx2v_4step.safetensors"), output_node="g")
    spec = build_project(req, cat, None, NodeTypes(default_registry(), None), "gen_" + "0" * 24)
    work = loads_project(spec.project)
    m, lora = work.node("m").params, work.node("l").params
    assert m["model"] == str((comfy / "unet" / "wan" / "wan_vace-Q8_0.gguf").resolve())
    assert m["base_model"] == str((comfy / "wan-base").resolve())
    assert m["vae_file"] == str((comfy / "vae" / "wan_2.1_vae.safetensors").resolve())
    assert lora["lora"] == str((comfy / "loras" / "wan" / "lightx2v_4step.safetensors").resolve())


def test_a_simple_request_needs_a_pipeline_not_a_file(comfy):
    from vidstudio.protocol import SimpleGeneration
    from vidstudio.server.build import build_simple

    cat = ModelCatalog([comfy], scan_hf_cache=False)
    req = SimpleGeneration(prompt="a fox", model="diffusion_models/wan_vace_fp8.safetensors")
    with pytest.raises(RequestError, match="single transformer/UNet checkpoint file; a simple request needs a pipe"):
        build_simple(req, cat, None, "gen_" + "0" * 24)
    deep = SimpleGeneration(prompt="a fox", model="loras/wan/lightx2v_4step.safetensors")  # ids of 3 parts are valid
    with pytest.raises(RequestError, match="is a single LoRA file"):
        build_simple(deep, cat, None, "gen_" + "0" * 24)
