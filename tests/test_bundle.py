"""The Linux desktop bundle (``make package``): built with PyInstaller into an AppDir without torch, it starts,
opens the example project and takes a screenshot, and renders an animatic to MP4. Minutes to build: marked
``package``, run by ``make package-test`` (set VIDSTUDIO_BUNDLE=path/to/VidStudio.AppDir to test a built one)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

pytestmark = [pytest.mark.package, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux bundle")]


@pytest.fixture(scope="module")
def appdir(tmp_path_factory):
    given = os.environ.get("VIDSTUDIO_BUNDLE")
    if given:
        return Path(given)
    pytest.importorskip("PyInstaller")
    out = tmp_path_factory.mktemp("bundle")
    r = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "linux" / "build_bundle.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert list(out.glob("VidStudio-*.tar.gz")) or list(out.glob("VidStudio-*.AppImage"))
    return out / "VidStudio.AppDir"


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, **extra}


def test_the_bundle_has_no_torch(appdir):
    lib = appdir / "usr" / "lib" / "vidstudio"
    names = {p.name for p in lib.rglob("*")}
    assert not {"torch", "diffusers", "transformers"} & names
    size = sum(p.stat().st_size for p in lib.rglob("*") if p.is_file())
    assert size < 1_500_000_000, f"{size / 1e6:.0f} MB"


def test_the_bundle_opens_the_example_and_takes_a_screenshot(appdir, tmp_path):
    shot = tmp_path / "shot.png"
    project = appdir / "usr" / "share" / "vidstudio" / "examples" / "ken_burns.vidproj"
    r = subprocess.run(
        [str(appdir / "AppRun"), "gui", str(project), "--screenshot", str(shot), "--frame", "20"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_clean_env(QT_QPA_PLATFORM="offscreen"),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    from PIL import Image

    img = Image.open(shot)
    assert img.size[0] >= 1280 and len(set(img.convert("L").resize((64, 40)).tobytes())) > 20  # a real picture


def test_the_bundle_renders_an_animatic(appdir, tmp_path):
    out = tmp_path / "ball.mp4"
    project = appdir / "usr" / "share" / "vidstudio" / "examples" / "bouncing_ball.vidproj"
    r = subprocess.run(
        [str(appdir / "AppRun"), "render", str(project), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_clean_env(),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    from vidstudio.media.video import read_video

    assert read_video(out).shape[0] > 10
