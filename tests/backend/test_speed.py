"""Speed and memory options on the tiny Wan model: each reaches its diffusers call for the job it is asked for,
is undone after it (the cached base pipeline gives the base frames again), and says so in the run report when
it cannot apply here (missing package or device)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vidstudio.backend.bundle import Conditioning, ModelRef
from vidstudio.backend.generate import generate
from vidstudio.errors import ModelError

BUNDLE = Conditioning(prompt="a fox", steps=6, seed=1)


def run(cache, folder, **kw):
    return generate(ModelRef(model=str(folder), **kw), BUNDLE, width=64, height=64, frames=9, cache=cache)


@pytest.mark.slow
def test_step_caches_skip_work_for_their_job_and_are_removed_after_it(tiny, pipeline_cache):
    folder = tiny("wan", "t2v")
    base = run(pipeline_cache, folder)
    loads = pipeline_cache.loads
    fbc = run(pipeline_cache, folder, step_cache="first_block", cache_threshold=0.5)
    assert "step cache: First Block Cache, threshold 0.5" in fbc.notes
    assert np.abs(fbc.frames - base.frames).max() > 1e-4  # steps were skipped: the frames change
    mag = run(pipeline_cache, folder, step_cache="mag")
    assert "MagCache calibrated on this model at 6 steps (one extra run, nothing skipped)" in mag.notes
    assert "step cache: MagCache" in mag.notes
    mag2 = run(pipeline_cache, folder, step_cache="mag")
    assert not any("calibrated" in n for n in mag2.notes)  # the ratios are kept with the loaded model
    assert np.array_equal(mag2.frames, mag.frames)
    ts = run(pipeline_cache, folder, step_cache="taylorseer")
    assert "step cache: TaylorSeer cache" in ts.notes
    assert np.abs(ts.frames - base.frames).max() > 1e-4  # attention outputs were predicted, not computed
    assert np.array_equal(run(pipeline_cache, folder).frames, base.frames)  # disabled after each job
    assert pipeline_cache.loads == loads  # per-job options do not reload the pipeline
    with pytest.raises(ModelError, match="unknown step cache 'teacache'"):
        run(pipeline_cache, folder, step_cache="teacache")


def test_attention_backend_without_its_package_is_a_note(tiny, pipeline_cache):
    folder = tiny("wan", "t2v")
    base = run(pipeline_cache, folder)
    for backend, package in (("flash", "flash_attn"), ("sage", "sageattention"), ("xformers", "xformers")):
        if importlib.util.find_spec(package) is not None:
            continue
        res = run(pipeline_cache, folder, attention=backend)
        assert any(
            n.startswith(f"attention backend '{backend}' is not usable here") and "native attention used" in n
            for n in res.notes
        ), res.notes
        assert np.array_equal(res.frames, base.frames)


def test_fp8_layerwise_casting_and_unavailable_quantisation(tiny, pipeline_cache):
    folder = tiny("wan", "t2v")
    base = run(pipeline_cache, folder)
    fp8 = run(pipeline_cache, folder, quantize="fp8_layerwise")
    assert any(n.startswith("fp8 layerwise casting of the transformer") for n in fp8.notes)
    assert pipeline_cache.current.pipe.transformer.blocks[0].attn1.to_q.weight.dtype == torch.float8_e4m3fn
    diff = np.abs(fp8.frames - base.frames)
    assert 0 < diff.mean() < 0.1  # fp8 rounding of the weights, the same picture
    if importlib.util.find_spec("torchao") is None:
        res = run(pipeline_cache, folder, quantize="int8_torchao")
        assert (
            "quantisation 'int8_torchao' of the transformer skipped: it needs the torchao package "
            "(pip install torchao); loaded in float32" in res.notes
        )
        assert np.array_equal(res.frames, base.frames)
    if not torch.cuda.is_available():
        res = run(pipeline_cache, folder, quantize_text_encoder="nf4_bnb")
        assert any("quantisation 'nf4_bnb' of the text encoder skipped" in n for n in res.notes)
