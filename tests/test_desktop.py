"""Desktop integration: ``vidstudio install-desktop`` puts VidStudio in the menu with its icon and makes it
the application that opens ``.vidproj`` files; ``--uninstall`` takes exactly that back."""

import configparser
import os
import shlex
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT, run_cli
from vidstudio.datafiles import APP_ID

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="freedesktop.org desktops")


def _install(tmp_path, *extra):
    data, config = tmp_path / "data", tmp_path / "config"
    r = run_cli("install-desktop", "--data-home", str(data), "--config-home", str(config), *extra, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return data, config


def _entry(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser["Desktop Entry"]


def test_install_and_uninstall(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "mimeapps.list").write_text("[Default Applications]\ntext/plain=org.gnome.TextEditor.desktop\n")
    data, config = _install(tmp_path)
    entry = _entry(data / "applications" / f"{APP_ID}.desktop")
    assert set(entry["MimeType"].rstrip(";").split(";")) == {"application/x-vidstudio-project", "video/mp4"}
    exe = shlex.split(entry["Exec"])
    assert exe[-2:] == ["gui", "%f"] and os.access(exe[0], os.X_OK)
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / f"{entry['Icon']}.png").is_file()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / f"{entry['Icon']}.svg").is_file()
    assert (data / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    assert "*.vidproj" in (data / "mime" / "packages" / "vidstudio.xml").read_text()
    mimeapps = (config / "mimeapps.list").read_text()
    assert f"application/x-vidstudio-project={APP_ID}.desktop" in mimeapps
    assert "text/plain=org.gnome.TextEditor.desktop" in mimeapps  # the user's own defaults stay

    r = run_cli("install-desktop", "--uninstall", "--data-home", str(data), "--config-home", str(config))
    assert r.returncode == 0, r.stderr
    left = [p for p in data.rglob("*") if p.is_file() and "mime" not in p.relative_to(data).parts[:1]]
    assert left == []
    assert not (data / "mime" / "packages" / "vidstudio.xml").exists()
    mimeapps = (config / "mimeapps.list").read_text()
    assert "vidstudio" not in mimeapps.lower() and "text/plain=org.gnome.TextEditor.desktop" in mimeapps


@pytest.mark.skipif(
    not (shutil.which("gio") and shutil.which("update-mime-database")),
    reason="needs GLib's gio and shared-mime-info to ask the desktop",
)
def test_the_desktop_sees_projects_as_ours(tmp_path):
    data, config = _install(tmp_path)
    project = tmp_path / "shot.vidproj"
    shutil.copyfile(ROOT / "resources" / "examples" / "bouncing_ball.vidproj", project)
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(data),
        "XDG_CONFIG_HOME": str(config),
        "XDG_DATA_DIRS": f"{data}:/usr/share",
    }
    info = subprocess.run(
        ["gio", "info", "-a", "standard::content-type", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "application/x-vidstudio-project" in info
    default = subprocess.run(
        ["gio", "mime", "application/x-vidstudio-project"], env=env, capture_output=True, text=True, timeout=60
    ).stdout
    assert f"{APP_ID}.desktop" in default.splitlines()[0]


@pytest.mark.gui
def test_double_click_opens_the_project(tmp_path):
    """What the desktop runs for a double-click (the entry's Exec with %f) opens the project: with
    --screenshot appended it paints the window and exits."""
    data, _ = _install(tmp_path)
    exe = shlex.split(_entry(data / "applications" / f"{APP_ID}.desktop")["Exec"])
    project = ROOT / "resources" / "examples" / "bouncing_ball.vidproj"
    shot = tmp_path / "shot.png"
    argv = [str(project) if a == "%f" else a for a in exe] + ["--screenshot", str(shot)]
    r = subprocess.run(
        argv, capture_output=True, text=True, timeout=180, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert shot.stat().st_size > 10_000


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="needs appstreamcli")
def test_metainfo_is_valid_appstream():
    r = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(ROOT / "packaging" / "linux" / f"{APP_ID}.metainfo.xml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
