"""Issue 15 point 1: the budget before allocation. The estimate's numbers against hand-computed ones, the
limits naming their numbers, and ``vidstudio validate`` refusing what a server would refuse."""

from __future__ import annotations

import json

from helpers import EXAMPLES
from vidstudio.budget import FAMILY_BUDGETS, GB, Limits, check, estimate
from vidstudio.cli import main


def test_latent_and_tokens_follow_the_familys_compression():
    e = estimate("ltx", 768, 512, 121, 30)  # LTX-Video: 32x spatial, 8x temporal, 128 channels, patch 1
    assert e.latent_shape == (128, 16, 16, 24) and e.tokens == 16 * 16 * 24
    e = estimate("wan", 832, 480, 81, 30)  # Wan: 8x, 4x, 16 channels, patch 2
    assert e.latent_shape == (16, 21, 60, 104) and e.tokens == 21 * 30 * 52
    b = FAMILY_BUDGETS["wan"]
    assert e.weights_bytes == b.params * 2
    assert e.activation_bytes == 2 * e.tokens * b.hidden * 10 * 2
    assert e.video_bytes == 81 * 480 * 832 * 3 * 4
    assert estimate("svd", 1024, 576, 25, 25).latent_shape == (4, 25, 72, 128)  # an image VAE keeps every frame


def test_the_issues_request_is_refused_naming_every_number():
    e = estimate("ltx", 4096, 4096, 9961, 500)
    problems = dict(check(e, Limits(), device_bytes=139 * GB, device="cuda: NVIDIA H200"))
    assert (
        problems["settings.width"]
        == "4096x4096 is 16,777,216 pixels a frame, more than the limit of 2,088,960 (--max-pixels)"
    )
    assert problems["settings.frame_count"] == "9,961 frames is more than the limit of 1,024 (--max-frames)"
    assert problems["steps"] == "500 steps is more than the limit of 200 (--max-steps)"
    assert "more than the 139.0 GB of cuda: NVIDIA H200" in problems["device"]
    small = estimate("ltx", 768, 512, 121, 30)
    assert check(small, Limits(), device_bytes=139 * GB) == []
    assert small.device_bytes < 8 * GB  # what a mid-range GPU holds
    assert [f for f, _ in check(small, Limits(max_steps=10), device_bytes=1 * GB)] == ["steps", "device"]


def test_validate_refuses_a_generation_over_the_limits(tmp_path, capsys):
    doc = json.loads((EXAMPLES / "text_to_video.vidproj").read_text())
    doc["settings"].update(width=4096, height=4096, frame_count=9961)
    cond = next(n for n in doc["nodes"] if n["type"] == "Conditioning")
    cond["params"]["steps"] = 500
    f = tmp_path / "huge.vidproj"
    f.write_text(json.dumps(doc))
    code = main(["validate", str(f)])
    out = capsys.readouterr().out
    assert code == 2, out
    assert "node 'gen': 4096x4096 is 16,777,216 pixels a frame, more than the limit of 2,088,960" in out
    assert "9,961 frames is more than the limit of 1,024" in out
    assert f"node '{cond['id']}' param 'steps': 500 steps is more than the limit of 200" in out
    main(["validate", str(f), "--max-pixels", "20000000", "--max-frames", "10000", "--max-steps", "500"])
    assert "more than the limit" not in capsys.readouterr().out  # the limits are the user's to raise
    doc["settings"].update(width=768, height=512, frame_count=121)
    cond["params"]["steps"] = 30
    f.write_text(json.dumps(doc))
    main(["validate", str(f)])
    assert "more than the limit" not in capsys.readouterr().out


def test_an_allocator_error_is_reported_as_out_of_memory():
    from vidstudio.errors import NodeError
    from vidstudio.jobs.worker import _is_oom

    cpu = RuntimeError(
        "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried "
        "to allocate 10452205568 bytes."
    )
    assert _is_oom(cpu) and _is_oom(MemoryError())
    wrapped = NodeError("generation failed")
    wrapped.__cause__ = cpu
    assert _is_oom(wrapped) and not _is_oom(RuntimeError("shape mismatch"))
