"""The torch-free VRAM estimate per quantisation choice, shown before loading."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from backend.conftest import CLI_ENV

torch = pytest.importorskip("torch")


def test_parameter_counts_from_the_headers_match_the_loaded_model(tiny):
    from diffusers import WanTransformer3DModel

    from vidstudio.backend.estimate import component_params, weights_gib
    from vidstudio.backend.locate import locate

    folder = tiny("wan", "t2v")
    model = WanTransformer3DModel.from_pretrained(folder / "transformer")
    n = sum(p.numel() for p in model.parameters())
    assert component_params(folder / "transformer") == n
    loc = locate(str(folder))
    none, fp8, nf4 = (weights_gib(loc, q)["transformer"] for q in ("none", "fp8_layerwise", "nf4_bnb"))
    assert none == pytest.approx(n * 2 / 2**30) and fp8 == pytest.approx(none / 2)
    assert nf4 == pytest.approx(none * 0.5625 / 2)
    te = weights_gib(loc, "none", "int8_torchao")["text_encoder"]
    assert te == pytest.approx(weights_gib(loc)["text_encoder"] / 2)


def test_validate_prints_the_estimate_per_load_model_node(tiny, tmp_path):
    import os

    doc = {
        "format_version": 1,
        "settings": {"width": 64, "height": 64, "fps": "8", "frame_count": 9},
        "nodes": [
            {"id": "m", "type": "LoadModel", "params": {"model": str(tiny("wan", "t2v")), "quantize": "fp8_layerwise"}},
            {"id": "c", "type": "Conditioning", "params": {"prompt": "a fox", "steps": 2}},
            {"id": "g", "type": "Generate", "params": {}},
        ],
        "links": [{"from": "m.model", "to": "g.model"}, {"from": "c.conditioning", "to": "g.conditioning"}],
    }
    f = tmp_path / "p.vidproj"
    f.write_text(json.dumps(doc))
    out = subprocess.run(
        [sys.executable, "-m", "vidstudio", "validate", str(f)],
        capture_output=True,
        text=True,
        env={**os.environ, **CLI_ENV},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if "node 'm'" in ln)
    assert "weights on the GPU (estimate" in line and "with transformer quantisation none" in line
    assert "nf4_bnb" in line
