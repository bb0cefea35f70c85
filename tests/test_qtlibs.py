"""What Qt's platform plugin needs, found with the loader: ``vidstudio gui`` exits with the packages to
install instead of Qt's abort, and ``vidstudio doctor`` fails the desktop check with the same fix."""

import shutil
import subprocess
import sys

import pytest

from helpers import run_cli
from vidstudio import qtlibs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the loader check is Linux's")


@pytest.fixture(scope="module")
def broken_plugin_dir(tmp_path_factory):
    """A folder with a fake ``libqxcb.so`` that links ``libvsmissing.so``, which then is deleted."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc to build a fake platform plugin")
    d = tmp_path_factory.mktemp("platforms")
    (d / "stub.c").write_text("int vs_missing(void) { return 1; }\n")
    (d / "plug.c").write_text("int vs_missing(void);\nint vs_plugin(void) { return vs_missing(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(d / "libvsmissing.so"), str(d / "stub.c")], check=True)
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-o",
            str(d / "libqxcb.so"),
            str(d / "plug.c"),
            f"-L{d}",
            "-Wl,--no-as-needed",
            "-lvsmissing",
        ],
        check=True,
    )
    (d / "libvsmissing.so").unlink()
    return d


def _env(plugin_dir):
    return {"QT_QPA_PLATFORM": "xcb", "QT_QPA_PLATFORM_PLUGIN_PATH": str(plugin_dir), "DISPLAY": ":99"}


def test_gui_names_the_missing_library_instead_of_aborting(broken_plugin_dir):
    r = run_cli("gui", env=_env(broken_plugin_dir), timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "cannot start" in r.stderr and "libvsmissing.so" in r.stderr
    assert "apt-file search" in r.stderr  # no package is known for it: says how to find one
    assert "core dumped" not in r.stderr and "could not load the Qt platform plugin" not in r.stderr.lower()


def test_doctor_fails_the_desktop_check_with_the_same_library(broken_plugin_dir):
    r = run_cli("doctor", env=_env(broken_plugin_dir), timeout=300)
    assert r.returncode == 1
    line = next(l for l in r.stdout.splitlines() if "desktop application:" in l)
    assert line.startswith("[FAIL]") and "libvsmissing.so" in line


def test_known_libraries_are_named_with_their_packages(monkeypatch, broken_plugin_dir):
    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", str(broken_plugin_dir))
    monkeypatch.setattr(qtlibs, "unresolved", lambda path, ldd=None: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    monkeypatch.setattr(qtlibs.ctypes.util, "find_library", lambda name: None)
    missing = qtlibs.missing_platform_libraries("xcb")
    assert [m.soname for m in missing] == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"]
    hint = qtlibs.install_hint(missing)
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in hint
    assert "sudo dnf install xcb-util-cursor xcb-util-keysyms xcb-util-wm" in hint


def test_the_real_plugin_agrees_with_ldd():
    plugin = qtlibs.plugin_file("xcb")
    if plugin is None or shutil.which("ldd") is None:
        pytest.skip("no PySide6 xcb plugin or no ldd here")
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    expected = {line.split()[0] for line in out.splitlines() if "not found" in line}
    found = {m.soname for m in qtlibs.missing_platform_libraries("xcb")}
    assert expected <= found
    assert found - expected <= {"libxcb-cursor.so.0"}


def test_platform_choice_follows_qt(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen;xcb")
    assert qtlibs.qt_platform() == "offscreen"
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    assert qtlibs.qt_platform() == "wayland"
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert qtlibs.qt_platform() == "xcb"
