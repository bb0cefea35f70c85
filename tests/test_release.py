"""Release hygiene: ``python -m build`` makes an sdist and a wheel that carry the example projects and the
desktop files; the wheel, installed into a fresh virtual environment, renders an example it carries; the
version is written in one place."""

import os
import shutil
import site
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import vidstudio
from helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Builds the sdist and the wheel from a copy of the tracked files (the checkout stays clean)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know the tracked files")
    pytest.importorskip("build")
    src = tmp_path_factory.mktemp("src")
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def test_the_version_comes_from_one_place(dist):
    wheel = next(dist.glob("*.whl"))
    assert wheel.name.startswith(f"vidstudio-{vidstudio.__version__}-")
    assert 'version = "' not in (ROOT / "pyproject.toml").read_text().split("[project]")[1].split("[")[0]
    assert f"## {vidstudio.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_sdist_and_wheel_carry_examples_and_icons(dist):
    names = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    share = [n.split("/data/share/vidstudio/", 1)[1] for n in names if "/data/share/vidstudio/" in n]
    examples = {p.name for p in (ROOT / "resources" / "examples").glob("*.vidproj")}
    assert {f"examples/{e}" for e in examples} <= set(share)
    assert "examples/assets/astronaut.png" in share
    assert "linux/io.github.vidstudio.VidStudio.desktop" in share
    assert "linux/icons/hicolor/256x256/apps/vidstudio.png" in share
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert "resources/examples/bouncing_ball.vidproj" in members
    assert "packaging/linux/icons/vidstudio.svg" in members and "CHANGELOG.md" in members


def test_the_wheel_renders_an_example_in_a_fresh_venv(dist, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, symlinks=True).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies (numpy, torch, ...) come from this test's environment, read as a plain path: its
    # .pth files (the editable install of the checkout among them) are not processed there.
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "vidstudio-test-deps.pth").write_text("\n".join(deps) + "\n")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(next(dist.glob("*.whl")))],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import vidstudio, vidstudio.datafiles as d; print(vidstudio.__file__); print(d.examples_dir())",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
        timeout=120,
    )
    package, examples = where.stdout.split()
    assert Path(package).is_relative_to(env_dir) and Path(examples).is_relative_to(env_dir), where.stdout
    out = tmp_path / "ball.mp4"
    r = subprocess.run(
        [str(env_dir / "bin" / "vidstudio"), "render", str(Path(examples) / "bouncing_ball.vidproj"), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    from vidstudio.media.video import read_video

    frames = read_video(out)
    assert frames.shape[0] > 10 and frames.shape[-1] == 3
