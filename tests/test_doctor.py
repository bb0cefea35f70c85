"""``vidstudio doctor``: a healthy installation passes; a broken one fails with the fix named."""

import json

from helpers import run_cli


def test_doctor_reports_every_area_and_passes_here():
    r = run_cli("doctor", "--json", timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    checks = {c["name"]: c for c in json.loads(r.stdout)}
    assert set(checks) == {
        "python",
        "ffmpeg",
        "imaging and physics",
        "generation backend",
        "models",
        "desktop application",
        "plugins",
        "folders",
    }
    assert checks["ffmpeg"]["status"] == "ok" and "libx264" in checks["ffmpeg"]["detail"]
    assert "torch" in checks["generation backend"]["detail"]
    assert all(c["status"] in ("ok", "warn") for c in checks.values())
    assert all(c["fix"] for c in checks.values() if c["status"] != "ok")


def test_doctor_fails_with_a_fix_when_ffmpeg_is_broken(tmp_path):
    r = run_cli("doctor", env={"IMAGEIO_FFMPEG_EXE": str(tmp_path / "no-such-ffmpeg")}, timeout=300)
    assert r.returncode == 1
    line = next(l for l in r.stdout.splitlines() if "ffmpeg:" in l)
    assert line.startswith("[FAIL] ffmpeg:") and "no-such-ffmpeg" in line
    assert "reinstall imageio-ffmpeg" in r.stdout
