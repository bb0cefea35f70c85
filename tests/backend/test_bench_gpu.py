"""benchmarks/bench_gpu.py without a GPU: its table of runs covers every real-configuration folder at a geometry
and with the inputs that pass VidStudio's validation for that checkpoint, its command line refuses bad input
with status 2, and without CUDA it says so and exits 0."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend.realconfigs import CONFIGS, write_configs
from vidstudio.families import check_request, get_spec, read_configs, recognise, rules_for_folder

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_gpu.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_gpu"] = mod  # its dataclasses look their module up
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop("bench_gpu", None)


def test_every_config_folder_is_benchmarked(bench):
    folders = sorted(p.name for p in CONFIGS.iterdir() if (p / "pipeline.json").is_file())
    assert sorted([*bench.NATIVE, *bench.NOT_BENCHMARKED]) == folders
    assert not set(bench.NATIVE) & set(bench.NOT_BENCHMARKED)


def test_each_run_passes_validation_at_its_native_geometry(bench, tmp_path):
    """What generate() checks before a GPU is touched: the controls, required keyframes (first and last for
    FLF2V), the frame and size rules read from the configs and the one-pass window; and the table's fps is the
    checkpoint's native rate."""
    for job in bench.plan([]):
        folder = write_configs(job.name, tmp_path / job.name)
        c = read_configs(folder)
        found = recognise(c.index, c)
        res = check_request(
            found.family,
            job.request(),
            variant=found.variant,
            checkpoint=found.checkpoint or None,
            rule=rules_for_folder(folder, found.family),
        )
        assert res.ok, (job.name, res.problems)
        assert job.fps == get_spec(found.family).fps_for(found.checkpoint or None)[0], job.name
    needs = {j.name: j.native.needs() for j in bench.plan([])}
    assert needs["wan21_flf2v_14b_720p"] == "a first and a last keyframe"
    assert needs["wan21_vace_1_3b"] == "a control video" and needs["svd"] == "a keyframe at frame 0, no prompt"


def test_the_conditioning_makes_the_request_checked(bench):
    """At a small override geometry (no full-size arrays): the bundle asks for what :meth:`Job.request` says."""
    for name in ("wan21_flf2v_14b_720p", "wan21_vace_1_3b", "svd", "ltx2_19b"):
        (job,) = bench.plan([name], frames=9, size=(48, 32))
        bundle = job.bundle(2)
        assert bundle.request(48, 32, 9) == job.request(), name
        if name == "wan21_vace_1_3b":
            assert bundle.guide.shape == (9, 32, 48, 3)
    assert [k.frame for k in bench.plan(["wan21_flf2v_14b_720p"])[0].bundle(2).keyframes] == [0, 80]


@pytest.mark.parametrize(
    "args,words",
    [
        (["--only", "wan21_t2v_1_3b,nope"], "--only: unknown config folder nope; expected one of"),
        (["--size", "832"], "--size must be WxH"),
        (["--steps", "1"], "--steps must be at least 2"),
    ],
)
def test_bad_arguments_exit_2_naming_them(bench, capsys, args, words):
    with pytest.raises(SystemExit) as e:
        bench.parse_args(args)
    assert e.value.code == 2 and words in capsys.readouterr().err


def test_list_and_no_gpu_exit_0():
    torch = pytest.importorskip("torch")
    listed = subprocess.run(
        [sys.executable, str(SCRIPT), "--list", "--only", "wan21_vace_1_3b"], capture_output=True, text=True
    )
    assert listed.returncode == 0 and "832x480x81" in listed.stdout and "a control video" in listed.stdout
    if torch.cuda.is_available():
        pytest.skip("a GPU is here: the benchmark would measure full-size models")
    run = subprocess.run([sys.executable, str(SCRIPT), "--steps", "2"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("bench_gpu: no CUDA GPU here")
