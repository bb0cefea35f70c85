"""Preferences > Local server: installing the managed backend from the GUI shows progress, then the
backend's build and device; the local server then starts from its interpreter; Remove takes it back."""

import json
import sys

import pytest

from vidstudio import managed
from vidstudio.client.local import LocalServer
from vidstudio.ui.state.tasks import TaskRunner
from vidstudio.ui.widgets.dialogs.backend_box import BackendBox

pytestmark = pytest.mark.gui


def _fake_install(calls):
    def install(*, build, upgrade, progress, **_):
        calls.append((build, upgrade))
        root = managed.backend_root()
        py = root / "venv" / "bin" / "python"
        py.parent.mkdir(parents=True, exist_ok=True)
        py.symlink_to(sys.executable)
        for f in (0.1, 0.55, 0.9):
            progress(f, f"step {f}")
        info = managed.BackendInfo(str(root), str(py), build, "2.13.0", "cuda", "0.1.0", 0.0)
        (root / "installed.json").write_text(json.dumps(info.__dict__))
        return info

    return install


def test_install_from_preferences_then_the_local_server_uses_it(qtbot):
    runner = TaskRunner()
    calls, seen = [], []
    box = BackendBox(runner, install=_fake_install(calls))
    qtbot.addWidget(box)
    box._progress.connect(lambda f, m: seen.append(f))
    assert box.install_button.text() == "Install" and not box.remove_button.isEnabled()
    assert LocalServer("/tmp/x").python == sys.executable
    box.build.setCurrentIndex(box.build.findData("cu128"))
    with qtbot.waitSignal(box.finished, timeout=10_000):
        box.install_button.click()
    assert calls == [("cu128", False)]
    assert seen == [0.1, 0.55, 0.9]
    assert "renders on <b>cuda</b>" in box.status.text() and box.install_button.text() == "Upgrade"
    assert LocalServer("/tmp/x").python == str(managed.backend_root() / "venv" / "bin" / "python")
    with qtbot.waitSignal(box.finished, timeout=10_000):
        box.remove_button.click()
    assert managed.installed() is None and box.install_button.text() == "Install"
    assert LocalServer("/tmp/x").python == sys.executable
    runner.shutdown()


def test_a_failed_install_is_shown_in_words(qtbot):
    runner = TaskRunner()

    def failing(**_):
        raise managed.VidStudioError("installing torch 2.13.0 (cu128) failed (exit 1)")

    box = BackendBox(runner, install=failing)
    qtbot.addWidget(box)
    with qtbot.waitSignal(box.finished, timeout=10_000):
        box.install_button.click()
    assert "failed (exit 1)" in box.message.text() and box.install_button.isEnabled()
    assert managed.installed() is None
    runner.shutdown()
