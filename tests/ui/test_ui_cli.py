"""``vidstudio gui PROJECT --screenshot OUT.png``: opens, settles, saves the whole window, exits 0."""

from __future__ import annotations

import numpy as np
from PIL import Image

from uihelpers import KEN_BURNS


def test_screenshot_of_the_example_project(cli, tmp_path):
    out = tmp_path / "shot.png"
    r = cli(
        "gui",
        str(KEN_BURNS),
        "--screenshot",
        str(out),
        "--frame",
        "40",
        "--select",
        "cam",
        env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 0, r.stderr
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    h, w, _ = img.shape
    assert w >= 1280 and h >= 720
    # a dark theme: mostly dark pixels; and the photograph (a blue sky) is painted in the Viewer
    assert np.median(img) < 70
    blue_sky = (img[..., 2] > img[..., 0] + 40) & (img[..., 2] > 90)
    assert blue_sky.sum() > 20_000


def test_screenshot_of_a_missing_project_exits_2(cli, tmp_path):
    r = cli(
        "gui",
        str(tmp_path / "nope.vidproj"),
        "--screenshot",
        str(tmp_path / "x.png"),
        env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 2 and "nope.vidproj: file not found" in r.stderr
    assert not (tmp_path / "x.png").exists()


def test_importing_the_gui_pulls_in_no_torch():
    import os
    import subprocess
    import sys

    from uihelpers import ROOT

    code = (
        "import sys, vidstudio.ui.widgets.colors\n"
        "a = sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'qtawesome', 'torch'})\n"
        "import vidstudio.ui.widgets.main_window, vidstudio.ui.app\n"
        "b = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers'})\n"
        "print(','.join(a) + '|' + ','.join(b))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.stdout.strip() == "|"


def test_the_gui_starts_without_httpx_until_it_talks_to_a_server():
    """httpx (and the click, rich and pygments it pulls in) is a fifth of the GUI's import time: the window
    opens without it, and the client still raises its typed error once it is used."""
    import os
    import subprocess
    import sys

    from uihelpers import ROOT

    code = (
        "import sys\n"
        "from vidstudio.ui.app import application\n"
        "from vidstudio.ui.widgets.main_window import MainWindow\n"
        "app = application()\n"
        "w = MainWindow(persist=False)\n"
        "w.show()\n"
        "app.processEvents()\n"
        "heavy = {'httpx', 'httpcore', 'click', 'rich', 'pygments'}\n"
        "at_start = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "from vidstudio.client import Client, ServerUnreachable\n"
        "try:\n"
        "    Client('http://127.0.0.1:9', timeout=2).health()\n"
        "    err = 'none'\n"
        "except ServerUnreachable as e:\n"
        "    err = type(e).__name__\n"
        "print(','.join(at_start) + '|' + err + '|' + str('httpx' in sys.modules))\n"
        "w.shutdown()\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "|ServerUnreachable|True"
