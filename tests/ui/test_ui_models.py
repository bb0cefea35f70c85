"""The Models window driven with pytest-qt against a stand-in client that answers the server's model routes:
the cached models with sizes, a download with its progress bar and cancel, removal."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")


class Answer:
    def __init__(self, data):
        self.data = data

    def json(self):
        return self.data


class FakeServer:
    """Answers like vidstudio.server.downloads: a download advances one step per poll."""

    def __init__(self):
        self.models = [{"id": "org/tiny", "size": 3 * 2**20, "family": "wan", "variant": "t2v"}]
        self.calls = []
        self.polls = 0
        self.cancelled = False

    def request(self, method, path, **kw):
        self.calls.append((method, path, kw.get("json")))
        if path == "/v1/models/cache":
            return Answer(list(self.models))
        if method == "DELETE" and path.startswith("/v1/models/cache/"):
            repo = path[len("/v1/models/cache/") :]
            self.models = [m for m in self.models if m["id"] != repo]
            return Answer({"id": repo, "freed_bytes": 3 * 2**20})
        if method == "DELETE":
            self.cancelled = True
        if method == "GET":
            self.polls += 1
        status = "cancelled" if self.cancelled else "succeeded" if self.polls >= 3 else "running"
        done = min(self.polls, 3) * 100
        if status == "succeeded" and not any(m["id"] == "org/new" for m in self.models):
            self.models.append({"id": "org/new", "size": 300, "family": "ltx", "variant": "t2v"})
        return Answer(
            {
                "download_id": "dl_000000000001",
                "id": "org/new",
                "status": status,
                "done_bytes": done,
                "total_bytes": 300,
                "bytes_per_second": 100.0,
                "eta_seconds": (300 - done) / 100.0,
            }
        )


@pytest.fixture
def dialog(qtbot):
    from vidstudio.ui.state.tasks import TaskRunner
    from vidstudio.ui.widgets.dialogs.models_dialog import ModelsDialog

    server = FakeServer()
    runner = TaskRunner()
    d = ModelsDialog(lambda ready, failed: ready(server), runner)
    qtbot.addWidget(d)
    d.server = server
    yield d
    runner.shutdown()


def test_lists_downloads_with_progress_and_removes(dialog, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    assert dialog.table.item(0, 0).text() == "org/tiny" and dialog.table.item(0, 1).text() == "3.0 MiB"
    dialog.repo.setText("org/new")
    from PySide6.QtCore import Qt

    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("POST", "/v1/models/downloads", {"id": "org/new"}) in dialog.server.calls)
    qtbot.waitUntil(lambda: dialog.cancel_button.isEnabled())
    assert "of 300 B" in dialog.status.text() and "/s" in dialog.status.text()
    qtbot.waitUntil(lambda: dialog.progress.value() == 1000 and "succeeded" in dialog.status.text(), timeout=5000)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    assert not dialog.cancel_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.table.selectRow(0)
    dialog.remove_selected()
    qtbot.waitUntil(lambda: "removed org/tiny (3.0 MiB freed)" in dialog.status.text() or dialog.table.rowCount() == 1)
    assert ("DELETE", "/v1/models/cache/org/tiny", None) in dialog.server.calls


def test_cancel_stops_the_download(dialog, qtbot):
    dialog.repo.setText("org/new")
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.cancel_button.isEnabled())
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text())
    assert ("DELETE", "/v1/models/downloads/dl_000000000001", None) in dialog.server.calls
    assert dialog.download_button.isEnabled() and not dialog.timer.isActive()
