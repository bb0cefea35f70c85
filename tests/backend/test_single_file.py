"""Single checkpoint files as ComfyUI users keep them: a transformer file (.safetensors in the original key layout,
and GGUF Q8_0) plus a base pipeline, separate VAE and text-encoder files; the family read from the tensor names."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from backend.checkpoints import save_gguf_q8, save_safetensors, wan_original_state

torch = pytest.importorskip("torch")

from vidstudio.backend.bundle import Conditioning, ModelRef
from vidstudio.backend.checkpoint_files import list_checkpoint_files, locate_model, recognise_file
from vidstudio.backend.generate import generate
from vidstudio.errors import ModelError

BUNDLE = Conditioning(prompt="a fox", steps=2, seed=1)


@pytest.fixture(scope="module")
def comfy(tiny, tmp_path_factory):
    """A ComfyUI-like models folder holding the tiny Wan transformer as one file and as GGUF Q8_0, its VAE and
    text encoder as single files."""
    base = tiny("wan", "t2v")
    root = tmp_path_factory.mktemp("ComfyUI") / "models"
    sd = wan_original_state(base / "transformer")
    st = save_safetensors(sd, root / "diffusion_models" / "wan_tiny_t2v.safetensors")
    gg, q8 = save_gguf_q8(sd, root / "diffusion_models" / "wan_tiny_t2v-Q8_0.gguf")
    (root / "vae").mkdir()
    vae = shutil.copy(base / "vae" / "diffusion_pytorch_model.safetensors", root / "vae" / "wan_tiny_vae.safetensors")
    (root / "text_encoders").mkdir()
    te = shutil.copy(base / "text_encoder" / "model.safetensors", root / "text_encoders" / "umt5_tiny.safetensors")
    return {"base": base, "root": root, "safetensors": st, "gguf": gg, "q8": q8, "vae": vae, "te": te}


def run(cache, **ref):
    return generate(ModelRef(**ref), BUNDLE, width=64, height=64, frames=9, cache=cache)


def test_transformer_file_and_gguf_load_with_a_base_pipeline_and_render(comfy, pipeline_cache):
    base = run(pipeline_cache, model=str(comfy["base"]))
    st = run(pipeline_cache, model=str(comfy["safetensors"]), base_model=str(comfy["base"]))
    assert np.array_equal(st.frames, base.frames)  # the original key layout converts to the same weights
    assert f"transformer from wan_tiny_t2v.safetensors (safetensors); other components from {comfy['base']}" in st.notes
    gg = run(pipeline_cache, model=str(comfy["gguf"]), base_model=str(comfy["base"]))
    from diffusers.quantizers.gguf.utils import GGUFParameter

    params = [p for p in pipeline_cache.current.pipe.transformer.parameters() if isinstance(p, GGUFParameter)]
    assert len([p for p in params if p.quant_type.name == "Q8_0"]) >= 3  # stays quantised in memory
    assert 0 < np.abs(gg.frames - base.frames).max() < 1e-2  # Q8_0 rounding, nothing more
    files = run(
        pipeline_cache,
        model=str(comfy["safetensors"]),
        base_model=str(comfy["base"]),
        vae_file=str(comfy["vae"]),
        text_encoder_file=str(comfy["te"]),
    )
    assert np.array_equal(files.frames, base.frames)
    assert "VAE from wan_tiny_vae.safetensors" in files.notes
    assert "text encoder from umt5_tiny.safetensors" in files.notes


def test_the_family_is_read_from_the_tensor_names_or_asked_for(comfy, tiny, tmp_path):
    from safetensors.torch import save_file

    assert recognise_file(comfy["safetensors"]).family == "wan"
    assert recognise_file(comfy["gguf"]).family == "wan"
    assert recognise_file(comfy["te"]).component == "text_encoder"
    loc = locate_model(ModelRef(model=str(comfy["gguf"]), base_model=str(comfy["base"])))
    assert loc.family == "wan" and loc.single_file.endswith(".gguf") and loc.folder == comfy["base"].resolve()
    with pytest.raises(ModelError, match="set the Load Model node's 'base_model'"):
        locate_model(ModelRef(model=str(comfy["safetensors"])))
    with pytest.raises(ModelError, match=r"is a wan transformer .* not a ltx model"):
        locate_model(ModelRef(model=str(comfy["safetensors"]), family="ltx", base_model=str(tiny("ltx"))))
    with pytest.raises(ModelError, match="not a wan pipeline"):
        locate_model(ModelRef(model=str(comfy["safetensors"]), base_model=str(tiny("ltx"))))
    odd = tmp_path / "mystery.safetensors"
    save_file({"layer.weight": torch.zeros(2, 2)}, str(odd))
    with pytest.raises(ModelError, match="match no VidStudio family; choose the family"):
        locate_model(ModelRef(model=str(odd), base_model=str(comfy["base"])))
    assert locate_model(ModelRef(model=str(odd), family="wan", base_model=str(comfy["base"]))).family == "wan"
    with pytest.raises(ModelError, match="holds a text encoder"):
        locate_model(ModelRef(model=str(comfy["te"]), base_model=str(comfy["base"])))


def test_model_folders_list_the_files_and_load_model_validates_them(comfy):
    from vidstudio.graph.validate import validate_graph
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    listed = {e["name"]: e for e in list_checkpoint_files([comfy["root"]])}
    assert listed["wan_tiny_t2v-Q8_0.gguf"]["family"] == "wan" and listed["wan_tiny_t2v-Q8_0.gguf"]["format"] == "gguf"
    assert listed["wan_tiny_t2v.safetensors"]["component"] == "transformer"
    assert listed["wan_tiny_vae.safetensors"]["size"] > 0

    def issues(params, frames=9):
        doc = {
            "format_version": 1,
            "settings": {"width": 64, "height": 64, "fps": "16", "frame_count": frames},
            "nodes": [
                {"id": "m", "type": "LoadModel", "params": params},
                {"id": "c", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 2}},
                {"id": "g", "type": "Generate", "params": {}},
            ],
            "links": [{"from": "m.model", "to": "g.model"}, {"from": "c.conditioning", "to": "g.conditioning"}],
        }
        p = loads_project(json.dumps(doc))
        return [str(i) for i in validate_graph(p, default_registry(), p.settings)]

    assert any("param 'base_model'" in i for i in issues({"model": str(comfy["gguf"])}))
    assert issues({"model": str(comfy["gguf"]), "base_model": str(comfy["base"])}) == []
    assert any("frames" in i for i in issues({"model": str(comfy["gguf"]), "base_model": str(comfy["base"])}, 10))
