"""LoRAs on the tiny models: made with peft, saved in diffusers' and ComfyUI's key layouts, loaded through
diffusers' converters for one job and removed after it, without reloading the base pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backend.loras import WAN_TARGETS, lora_state, save_comfy_wan, save_diffusers, save_musubi_wan

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from vidstudio.backend.bundle import Conditioning, LoraRef, ModelRef
from vidstudio.backend.generate import generate
from vidstudio.backend.loader import PipelineCache
from vidstudio.errors import ModelError

BUNDLE = Conditioning(prompt="a fox", steps=2, seed=1)


@pytest.fixture(scope="module")
def wan_loras(tiny, tmp_path_factory):
    folder = tiny("wan", "t2v")
    out = tmp_path_factory.mktemp("loras")
    sd = lora_state(folder, targets=WAN_TARGETS)
    other = lora_state(folder, seed=8)
    return {
        "folder": folder,
        "diffusers": save_diffusers(sd, out / "d"),
        "comfy": save_comfy_wan(sd, out / "comfy" / "style_comfy.safetensors"),
        "musubi": save_musubi_wan(sd, out / "musubi" / "style_musubi.safetensors"),
        "other": save_diffusers(other, out / "o"),
        "dir": out,
    }


def run(cache, folder, loras=(), bundle=BUNDLE, **kw):
    ref = ModelRef(model=str(folder), loras=tuple(loras), **kw)
    return generate(ref, bundle, width=64, height=64, frames=9, cache=cache)


def test_lora_in_diffusers_comfy_and_musubi_layout_applies_for_the_job_only(wan_loras, pipeline_cache):
    cache, loads = pipeline_cache, pipeline_cache.loads
    base = run(cache, wan_loras["folder"])
    d = run(cache, wan_loras["folder"], [LoraRef(str(wan_loras["diffusers"]))])
    c = run(cache, wan_loras["folder"], [LoraRef(str(wan_loras["comfy"]))])
    m = run(cache, wan_loras["folder"], [LoraRef(str(wan_loras["musubi"]))])
    zero = run(cache, wan_loras["folder"], [LoraRef(str(wan_loras["diffusers"]), strength=0.0)])
    after = run(cache, wan_loras["folder"])
    assert np.abs(d.frames - base.frames).mean() > 1e-3  # the LoRA changes the picture
    assert np.allclose(c.frames, d.frames, atol=1e-5)  # ComfyUI keys convert to the same layers
    assert np.allclose(m.frames, d.frames, atol=1e-5)  # ... and musubi's
    assert np.array_equal(zero.frames, base.frames)  # strength 0 is no LoRA
    assert np.array_equal(after.frames, base.frames)  # removed after its job
    assert cache.loads - loads <= 1  # ... without reloading the base pipeline
    assert "LoRA style_comfy.safetensors at strength 1" in c.notes


@pytest.mark.slow
def test_several_loras_combine_with_their_strengths(wan_loras, pipeline_cache):
    cache, loads = pipeline_cache, pipeline_cache.loads
    a = run(cache, wan_loras["folder"], [LoraRef(str(wan_loras["diffusers"]))])
    a_plus_nothing = run(
        cache,
        wan_loras["folder"],
        [LoraRef(str(wan_loras["diffusers"])), LoraRef(str(wan_loras["other"]), strength=0.0)],
    )
    both = run(cache, wan_loras["folder"], [LoraRef(str(wan_loras["diffusers"])), LoraRef(str(wan_loras["other"]))])
    assert np.allclose(a_plus_nothing.frames, a.frames, atol=1e-6)
    assert np.abs(both.frames - a.frames).mean() > 1e-4
    assert cache.loads - loads <= 1


def test_a_lora_with_layers_the_model_lacks_is_an_error_naming_the_file(wan_loras, tiny, pipeline_cache):
    from safetensors.torch import load_file, save_file

    cache, loads = pipeline_cache, pipeline_cache.loads
    base = run(cache, wan_loras["folder"])
    sd = load_file(str(wan_loras["diffusers"]))
    extra = dict(sd)
    for k, v in sd.items():
        if ".blocks.0." in k:
            extra[k.replace(".blocks.0.", ".blocks.7.")] = v.clone()  # a bigger checkpoint's block
    bigger = wan_loras["dir"] / "bigger.safetensors"
    save_file(extra, str(bigger))
    with pytest.raises(ModelError, match=r"LoRA bigger\.safetensors does not fit .* 10 of its 30 layers .*blocks\.7\."):
        run(cache, wan_loras["folder"], [LoraRef(str(bigger))])
    ltx = save_diffusers(lora_state(tiny("ltx")), wan_loras["dir"] / "ltx", "LTXPipeline")
    with pytest.raises(ModelError, match=r"LoRA lora\.safetensors does not fit .*another model family"):
        run(cache, wan_loras["folder"], [LoraRef(str(ltx))])
    with pytest.raises(ModelError, match="does not exist"):
        run(cache, wan_loras["folder"], [LoraRef(str(wan_loras["dir"] / "missing.safetensors"))])
    assert np.array_equal(run(cache, wan_loras["folder"]).frames, base.frames)  # nothing left behind
    assert cache.loads - loads <= 1


def test_a_step_distilled_preset_sets_steps_and_guidance_and_is_reported(wan_loras, pipeline_cache):
    seen = {}
    ref = ModelRef(
        model=str(wan_loras["folder"]),
        loras=(LoraRef(str(wan_loras["diffusers"]), preset_steps=1, preset_guidance=1.0),),
    )
    res = generate(
        ref,
        Conditioning(prompt="a fox", steps=20),
        width=64,
        height=64,
        frames=9,
        cache=pipeline_cache,
        call_hook=lambda plan, kw: seen.update(kw),
    )
    assert seen["num_inference_steps"] == 1 and seen["guidance_scale"] == 1.0 and res.steps == 1
    assert "LoRA lora.safetensors preset: 1 steps (instead of 20), guidance 1" in res.notes


@pytest.mark.slow
def test_two_expert_wan_lora_goes_into_the_chosen_expert(wan_loras, tmp_path):
    from diffusers import WanPipeline, WanTransformer3DModel

    base = WanPipeline.from_pretrained(str(wan_loras["folder"]))
    torch.manual_seed(5)
    t2 = WanTransformer3DModel.from_config(base.transformer.config).eval()
    two = WanPipeline(
        **{k: v for k, v in base.components.items() if k != "transformer_2"}, transformer_2=t2, boundary_ratio=0.5
    )
    two.save_pretrained(tmp_path / "two", safe_serialization=True)
    cache = PipelineCache()
    seen = {}

    def during_the_call(*_):
        seen["lists"] = {k: list(v) for k, v in cache.current.pipe.get_list_adapters().items()}

    for expert, parts in (
        ("low", ["transformer_2"]),
        ("high", ["transformer"]),
        ("both", ["transformer", "transformer_2"]),
    ):
        ref = ModelRef(model=str(tmp_path / "two"), loras=(LoraRef(str(wan_loras["comfy"]), expert=expert),))
        res = generate(ref, BUNDLE, width=64, height=64, frames=9, cache=cache, on_step=during_the_call, previews=False)
        assert sorted(k for k, v in seen["lists"].items() if v) == parts, expert
        assert any(f"({expert}" in n for n in res.notes)
    assert cache.loads == 1 and not cache.current.pipe.get_list_adapters().get("transformer")


def test_load_lora_nodes_chain_in_a_graph(wan_loras, pipeline_cache):
    from vidstudio.graph.engine import Engine
    from vidstudio.graph.validate import validate_graph
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"model": str(wan_loras["folder"])}},
            {"id": "l1", "type": "LoadLoRA", "params": {"lora": str(wan_loras["comfy"]), "strength": 0.5}},
            {"id": "l2", "type": "LoadLoRA", "params": {"lora": str(wan_loras["other"])}},
            {"id": "cond", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 2}},
            {"id": "gen", "type": "Generate", "params": {}},
        ],
        "links": [
            {"from": "model.model", "to": "l1.model"},
            {"from": "l1.model", "to": "l2.model"},
            {"from": "l2.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
        ],
    }
    p = loads_project(json.dumps(doc))
    reg = default_registry()
    assert not [i for i in validate_graph(p, reg, p.settings) if i.severity == "error"]
    bad = json.loads(json.dumps(doc))
    bad["settings"]["frame_count"] = 10  # Wan takes 4k+1 frames: checked through the LoRA chain
    pb = loads_project(json.dumps(bad))
    assert any("frames" in str(i) for i in validate_graph(pb, reg, pb.settings))
    result = Engine(reg).run(p, p.settings, services={"pipeline_cache": pipeline_cache})
    notes = result.report["gen"].notes
    assert "LoRA style_comfy.safetensors at strength 0.5" in notes and "LoRA lora.safetensors at strength 1" in notes


def test_a_lora_for_another_family_is_refused_at_validation(wan_loras, tiny):
    from vidstudio.backend.checkpoint_files import recognise_lora
    from vidstudio.graph.validate import validate_graph
    from vidstudio.nodes import default_registry
    from vidstudio.project import loads_project

    assert {recognise_lora(wan_loras[k]) for k in ("diffusers", "comfy", "musubi")} == {"wan"}
    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": [
            {"id": "model", "type": "LoadModel", "params": {"model": str(tiny("animatediff"))}},
            {"id": "l1", "type": "LoadLoRA", "params": {"lora": str(wan_loras["comfy"])}},
        ],
        "links": [{"from": "model.model", "to": "l1.model"}],
    }
    p = loads_project(json.dumps(doc))
    issues = [str(i) for i in validate_graph(p, default_registry(), p.settings)]
    assert any(
        "LoRA style_comfy.safetensors is a wan LoRA (from its layer names), but the model is animatediff" in i
        for i in issues
    ), issues
