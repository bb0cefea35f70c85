"""Generate and the Jobs pane through a real generation server: one ``vidstudio serve`` on a loopback port with
a tiny LTX model and the ``slowtest`` folder plugin (its ``Steps`` node works step by step and waits, for
cancelling), shared by the module; the local-server test starts its own and checks that closing the window
stops it.

The GUI's own registry does not have the plugin (as with a remote server that has plugins this computer lacks):
the GUI sends the document, the server runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from server.server_helpers import pid_alive, server_env, steps_project, write_plugin

from uihelpers import EXAMPLES, ScriptedPrompts, image_to_array

pytestmark = pytest.mark.gui

TOKEN = "gui-test-token"


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gen")


@pytest.fixture(scope="module")
def plugins(base) -> Path:
    d = base / "plugins"
    write_plugin(d)
    return d


@pytest.fixture(scope="module")
def models(base) -> Path:
    from vidstudio.backend.tiny import write_tiny_model  # the test process only: the GUI never imports it

    d = base / "models"
    write_tiny_model("ltx", d / "tiny-ltx")
    return d


@pytest.fixture(scope="module")
def server(base, plugins, models):
    from vidstudio.client import LocalServer

    s = LocalServer(
        base / "data",
        token=TOKEN,
        env=server_env(base, plugins),
        extra_args=["--models-dir", str(models), "--cancel-grace", "10"],
    )
    s.start(timeout=90)
    yield s
    s.stop()


@pytest.fixture
def remote(server):
    """The settings name the module's server (Remote mode with its URL and token)."""
    from vidstudio.ui.state.settings import ServerConfig

    ServerConfig("remote", server.url, TOKEN).save()
    return server


def _text_to_video(folder: Path, steps: int = 3) -> Path:
    """The text_to_video example at 64x64, 9 frames, naming the server's tiny model, saved in ``folder``."""
    doc = json.loads((EXAMPLES / "text_to_video.vidproj").read_text())
    doc["settings"].update(width=64, height=64, frame_count=9, fps="8")
    for n in doc["nodes"]:
        if n["type"] == "LoadModel":
            n["params"].update(model="tiny-ltx", family="auto")
        if n["type"] == "Conditioning":
            n["params"].update(steps=steps)
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "fox.vidproj"
    p.write_text(json.dumps(doc))
    return p


def _steps_vidproj(folder: Path, **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "steps.vidproj"
    p.write_text(json.dumps(steps_project(**kw)))
    return p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(win):
    return [r for r in win.jobs_pane.rows if r.job.kind == "generate"]


def _save_shot(win, name: str, tmp_path: Path) -> Path:
    """A picture of the whole window (also into $VIDSTUDIO_SHOTS_DIR when set, to look at)."""
    out = tmp_path / name
    assert win.grab().save(str(out), "PNG")
    extra = os.environ.get("VIDSTUDIO_SHOTS_DIR")
    if extra:
        shutil.copy(out, Path(extra) / name)
    return out


# ---------------------------------------------------------------------------------------------- generate
def test_generate_shows_progress_and_previews_and_the_result_lands_on_the_timeline(
    remote, window_factory, qtbot, tmp_path
):
    from vidstudio.media.video import read_embedded_project, read_video

    win = window_factory(_text_to_video(tmp_path / "proj"))
    s = win.session
    qtbot.waitUntil(lambda: win.generation.state == "connected", timeout=20000)
    # the GUI never runs the diffusion model itself: the Viewer says where it runs
    assert "press Generate (Ctrl+G)" in (s.evaluation.last_result.error or "")
    assert s.evaluation.last_result.error_is_server_only and s.evaluation.last_result.server_only == ["gen"]

    seen = {"steps": set(), "progress": [], "previews": 0, "shot": None}
    qtbot.keyClick(win.editor, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(_rows(win)) == 1, timeout=5000)
    row = _rows(win)[0]
    job = row.job
    assert job.ours and job.output_node == "export"

    def changed():
        seen["progress"].append(job.progress)
        if job.step is not None:
            seen["steps"].add((job.step, job.total))
        if job.preview is not None:
            seen["previews"] += 1
            if seen["shot"] is None:
                seen["shot"] = _save_shot(win, "generate-running.png", tmp_path)
                seen["row"] = (row.metrics.full_text(), row.message.text(), row.bar.value())

    job.changed.connect(changed)
    qtbot.waitUntil(lambda: job.is_final, timeout=180000)
    assert job.status == "done", job.message
    assert (3, 3) in seen["steps"] and seen["previews"] >= 1
    assert any(p is not None and 0 < p < 1 for p in seen["progress"])
    metrics, message, bar = seen["row"]
    assert "step" in metrics and "s/step" in metrics
    assert not row.preview.pixmap().isNull()
    # the result: next to the project, on the timeline as its own track, shown in the Viewer
    out = Path(job.output)
    assert out == tmp_path / "proj" / "renders" / f"fox-{job.server_id}.mp4" and out.is_file()
    assert json.loads(read_embedded_project(out))["nodes"][0]["id"] == "model"
    assert [r.path for r in s.view.results] == [str(out)] and s.view.view_result == 0
    assert win.timeline is not None and row.show_button.isVisible() and row.open_button.isVisible()
    frames = read_video(out)
    assert frames.shape == (9, 64, 64, 3)
    s.transport.set_playhead(4)
    qtbot.waitUntil(lambda: win.viewer.shown_frame == 4, timeout=10000)
    painted = image_to_array(win.viewer.grab_frame_image()).astype(np.float32) / 255
    assert painted.shape == (64, 64, 3)
    assert np.abs(painted - frames[4]).max() <= 1.5 / 255
    assert frames[4].std() > 0.01  # a generated picture, not a flat slate
    _save_shot(win, "generate-done.png", tmp_path)


def test_cancel_a_long_job_from_its_row(remote, window_factory, qtbot, tmp_path):
    win = window_factory(_steps_vidproj(tmp_path, steps=2000, seconds_per_step=0.02))
    win.session.view.set_selection(["export"])  # a node type the GUI does not know feeds it: the server runs it
    job = win.generate()
    assert job is not None and job.status == "queued"  # submitted on a worker thread: the call does not wait
    qtbot.waitUntil(lambda: job.status == "running" and (job.step or 0) >= 1, timeout=60000)
    row = _rows(win)[0]
    assert row.cancel_button.isVisible()
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert row.message.text() == "cancelling..." and not row.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: job.is_final, timeout=30000)
    assert job.status == "cancelled"
    assert "cancelled" in row.status.text() and not row.cancel_button.isVisible()
    assert job.step < 2000 and not win.session.view.results


def test_a_result_lands_only_on_the_project_it_came_from(remote, window_factory, qtbot, tmp_path):
    """Generate, then File > New while the job runs: the result is downloaded next to the first project, but it
    is not put on the new project's timeline; the row says where it went."""
    from vidstudio.project import Project

    proj = _steps_vidproj(tmp_path / "first", steps=40, seconds_per_step=0.05)
    win = window_factory(proj)
    win.session.view.set_selection(["export"])
    job = win.generate()
    qtbot.waitUntil(lambda: job.status == "running" and (job.step or 0) >= 1, timeout=60000)
    win.session.set_project(Project())  # what File > New does once unsaved changes are settled
    qtbot.waitUntil(lambda: job.is_final, timeout=60000)
    assert job.status == "done", job.message
    assert "no longer open" in job.message and not win.session.view.results
    assert Path(job.output).is_file() and Path(job.output).parent == proj.parent / "renders"


def test_jobs_already_on_the_server_are_listed(remote, window_factory, qtbot):
    from vidstudio.client import Client

    with Client(remote.url, TOKEN) as c:
        before = c.wait(c.submit_project(steps_project(steps=1), "export").id, timeout=60)
    assert before.status == "succeeded"
    win = window_factory()
    qtbot.waitUntil(lambda: before.id in win.generation.by_id, timeout=20000)
    job = win.generation.by_id[before.id]
    assert not job.ours and job.status == "done" and "submitted elsewhere" in job.message
    (row,) = [r for r in win.jobs_pane.rows if r.job is job]
    qtbot.waitUntil(row.import_button.isVisible, timeout=5000)  # (a row added to a shown list appears next)
    assert not win.session.view.results
    qtbot.mouseClick(row.import_button, Qt.MouseButton.LeftButton)  # Add to Timeline
    qtbot.waitUntil(lambda: job.is_final and bool(job.output), timeout=30000)
    assert job.status == "done" and Path(job.output).is_file() and not row.import_button.isVisible()
    assert [r.path for r in win.session.view.results] == [job.output]


def test_a_worker_crash_fails_the_row_with_the_reason(remote, window_factory, qtbot, tmp_path):
    doc = steps_project()
    doc["nodes"][0] = {"id": "work", "type": "crashtest.Segfault", "params": {}}
    p = tmp_path / "crash.vidproj"
    p.write_text(json.dumps(doc))
    win = window_factory(p)
    win.session.view.set_selection(["export"])
    job = win.generate()
    qtbot.waitUntil(lambda: job.is_final, timeout=60000)
    assert job.status == "failed" and "segmentation fault" in job.message
    assert "segmentation fault" in _rows(win)[0].message.text()


def test_server_unreachable_is_said_in_words_and_the_gui_goes_on(window_factory, qtbot, tmp_path):
    from vidstudio.ui.state.settings import ServerConfig

    url = f"http://127.0.0.1:{_free_port()}"
    ServerConfig("remote", url, "").save()
    win = window_factory(_text_to_video(tmp_path))
    qtbot.waitUntil(lambda: win.generation.state == "unreachable", timeout=10000)
    assert f"server unreachable at {url}" in win.jobs_pane.banner.text()
    job = win.generate()
    assert job is not None and not job.is_final and "submitting" in job.message
    qtbot.waitUntil(lambda: job.is_final, timeout=20000)
    assert job.status == "failed" and job.message.startswith(f"server unreachable at {url}")
    row = _rows(win)[0]
    assert f"server unreachable at {url}" in row.message.text()
    win.session.transport.set_playhead(3)  # the GUI goes on
    assert win.timeline.isVisible() and win.session.transport.playhead == 3


def test_nothing_to_generate_is_said_in_words(window_factory, qtbot):
    prompts = ScriptedPrompts()
    win = window_factory(EXAMPLES / "ken_burns.vidproj", prompts=prompts)
    assert win.generate() is None
    assert prompts.errors and "no Generate node" in prompts.errors[-1][1]
    assert not _rows(win)


# ---------------------------------------------------------------------------------------------- preferences
def test_preferences_persist_and_test_connection_reports(server, window_factory, qtbot):
    from vidstudio.ui.state.settings import ServerConfig, settings_file

    win = window_factory()
    assert win.generation.config.is_local and win.generation.state == "idle"
    assert "starts when you press Generate" in win.jobs_pane.banner.text()
    dlg = win.preferences()
    qtbot.waitExposed(dlg)
    assert dlg.local_radio.isChecked() and not dlg.url_edit.isEnabled()
    assert "plain text" in " ".join(w.text() for w in dlg.findChildren(type(dlg.result)))
    qtbot.mouseClick(dlg.remote_radio, Qt.MouseButton.LeftButton, pos=QPoint(8, dlg.remote_radio.height() // 2))
    assert dlg.remote_radio.isChecked() and dlg.url_edit.isEnabled()
    dlg.url_edit.setText(server.url)
    dlg.token_edit.setText("wrong")
    with qtbot.waitSignal(dlg.tested, timeout=20000) as sig:
        qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    assert "refused the token (401)" in sig.args[0]
    dlg.token_edit.setText(TOKEN)
    with qtbot.waitSignal(dlg.tested, timeout=20000) as sig:
        qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    text = sig.args[0]
    assert "Connected" in text and "VidStudio server" in text and "tiny-ltx (default)" in text
    assert "Loaded model" in text and "GPU worker" in text and "Renders on: " in text
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    assert ServerConfig.load() == ServerConfig("remote", server.url, TOKEN)
    if os.name != "nt":  # the token is a secret: the settings file is for its owner's eyes only
        assert Path(settings_file()).stat().st_mode & 0o077 == 0
    # the event thread follows the new server
    qtbot.waitUntil(lambda: win.generation.state == "connected", timeout=20000)
    assert server.url in win.jobs_pane.banner.text()
    dlg2 = win.preferences()
    assert dlg2.remote_radio.isChecked() and dlg2.url_edit.text() == server.url and dlg2.token_edit.text() == TOKEN
    dlg2.reject()


# ---------------------------------------------------------------------------------------------- local server
def test_local_server_starts_on_generate_and_closing_the_window_stops_it(
    plugins, window_factory, qtbot, tmp_path, monkeypatch
):
    from vidstudio.client import Client

    monkeypatch.setenv("VIDSTUDIO_SERVER_DATA", str(tmp_path / "server-data"))
    prompts = ScriptedPrompts()
    win = window_factory(_steps_vidproj(tmp_path / "proj", steps=2000, seconds_per_step=0.02), prompts=prompts)
    monkeypatch.setenv("VIDSTUDIO_PLUGINS_DIR", str(plugins))  # for the server (the GUI's registry is made)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    win.session.view.set_selection(["export"])
    job = win.generate()
    assert "starting local server" in job.message
    assert "starting local server" in win.jobs_pane.banner.text()
    qtbot.waitUntil(lambda: (job.step or 0) >= 1 or job.is_final, timeout=90000)
    assert job.status == "running", job.message
    # the local server dies (killed): the row says so, and the next Generate starts a new one
    dead = win.generation.local_pid
    os.kill(dead, signal.SIGKILL)
    qtbot.waitUntil(lambda: win.generation.state == "unreachable", timeout=10000)
    job2 = win.generate()
    assert job.status == "failed" and "local server ended" in job.message
    qtbot.waitUntil(lambda: (job2.step or 0) >= 1 or job2.is_final, timeout=90000)
    assert job2.status == "running", job2.message
    pid = win.generation.local_pid
    assert pid and pid != dead and pid_alive(pid)
    with Client(win.generation.client.url, win.generation.client.token) as c:
        worker_pid = c.health().worker.pid
    assert worker_pid and pid_alive(worker_pid)
    # closing asks first (like unsaved changes); "Cancel" keeps everything running
    prompts.stop_jobs = False
    win.close()
    assert win.isVisible() and pid_alive(pid) and ("stop_generation", (1, True)) in prompts.asked
    prompts.stop_jobs = True
    win.close()
    assert not win.isVisible()
    qtbot.waitUntil(lambda: not pid_alive(pid), timeout=20000)  # stopped without blocking the GUI thread
    qtbot.waitUntil(lambda: not pid_alive(worker_pid), timeout=10000)


def test_a_second_window_uses_the_local_server_of_the_first_and_replaces_it_once_it_ends(
    plugins, window_factory, qtbot, tmp_path, monkeypatch
):
    """The first window's local server (here: a LocalServer with a fresh token on the same data folder) holds
    the folder; a second window finds it with its token and uses it, never stops it, and starts its own once
    it has ended."""
    from vidstudio.client import LocalServer

    data = tmp_path / "server-data"
    monkeypatch.setenv("VIDSTUDIO_SERVER_DATA", str(data))
    monkeypatch.setenv("VIDSTUDIO_PLUGINS_DIR", str(plugins))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    first = LocalServer(data, env=server_env(tmp_path, plugins)).start(timeout=90)
    try:
        win = window_factory(_steps_vidproj(tmp_path / "proj", steps=3, seconds_per_step=0.01))
        win.session.view.set_selection(["export"])
        job = win.generate()
        qtbot.waitUntil(lambda: job.is_final, timeout=90000)
        assert job.status == "done", job.message
        assert win.generation.local is None and win.generation.external_pid == first.pid
        assert win.generation.client.token == first.token
        # the first window's server ends: the next Generate starts this window's own
        first_pid = first.pid
        first.stop()
        job2 = win.generate()
        qtbot.waitUntil(lambda: job2.is_final, timeout=90000)
        assert job2.status == "done", job2.message
        own = win.generation.local_pid
        assert own and own != first_pid and pid_alive(own)
        win.close()
        qtbot.waitUntil(lambda: not pid_alive(own), timeout=20000)
    finally:
        first.stop()


def test_the_event_thread_reconnects_after_a_server_restart_and_resyncs(base, plugins, window_factory, qtbot, tmp_path):
    from vidstudio.client import LocalServer
    from vidstudio.ui.state.settings import ServerConfig

    port, data, env = _free_port(), tmp_path / "data", server_env(tmp_path, plugins)
    first = LocalServer(data, port=port, token="", env=env).start(timeout=90)
    try:
        ServerConfig("remote", first.url, "").save()
        win = window_factory(_steps_vidproj(tmp_path / "proj", steps=2000, seconds_per_step=0.02))
        qtbot.waitUntil(lambda: win.generation.state == "connected", timeout=20000)
        win.session.view.set_selection(["export"])
        job = win.generate()
        qtbot.waitUntil(lambda: (job.step or 0) >= 1 or job.is_final, timeout=60000)
        assert job.status == "running", job.message
        first.stop()  # a graceful stop: the running job is failed with "server restarted" at the next start
        qtbot.waitUntil(lambda: win.generation.state == "unreachable", timeout=10000)
        assert not job.is_final
        second = LocalServer(data, port=port, token="", env=env).start(timeout=90)
        try:
            qtbot.waitUntil(lambda: job.is_final, timeout=30000)
            assert job.status == "failed" and "server restarted" in job.message
            qtbot.waitUntil(lambda: win.generation.state == "connected", timeout=10000)
        finally:
            second.stop()
    finally:
        first.stop()


def test_generate_asks_which_node_when_several_could_be_meant(window_factory, qtbot, tmp_path):
    from vidstudio.ui.state.settings import ServerConfig

    ServerConfig("remote", f"http://127.0.0.1:{_free_port()}", "").save()
    p = _text_to_video(tmp_path)
    doc = json.loads(p.read_text())
    doc["nodes"].append(
        {"id": "export2", "type": "ExportVideo", "params": {"path": "out/b.mp4"}, "position": [540, 300]}
    )
    doc["links"].append({"from": "gen.video", "to": "export2.video"})
    p.write_text(json.dumps(doc))
    prompts = ScriptedPrompts()
    prompts.output_choice = "export2"
    win = window_factory(p, prompts=prompts)
    job = win.generate()
    assert ("choose_output", ["export", "export2"]) in prompts.asked
    assert job is not None and job.output_node == "export2"
    qtbot.waitUntil(lambda: job.is_final, timeout=20000)  # (nothing listens there)
    prompts.output_choice = None
    prompts.choose_output = lambda candidates, labels: None  # the user cancels the question
    assert win.generate() is None and len(_rows(win)) == 1


def test_render_and_export_never_run_a_generating_node_here(window_factory, qtbot, tmp_path):
    from vidstudio.ui.state.settings import ServerConfig

    ServerConfig("remote", f"http://127.0.0.1:{_free_port()}", "").save()
    prompts = ScriptedPrompts()
    win = window_factory(_text_to_video(tmp_path), prompts=prompts)
    assert win.render_outputs() is None
    assert "runs on the generation server" in prompts.errors[-1][1] and "Generate (Ctrl+G)" in prompts.errors[-1][1]
    dlg = win.export_dialog()
    job = dlg.start()
    qtbot.waitUntil(lambda: job.is_final, timeout=10000)
    assert job.status == "failed" and "press Generate (Ctrl+G)" in job.message
    dlg.close()


def test_the_gui_process_never_imports_torch_for_a_generation_project(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from vidstudio.ui.app import application\n"
        "app = application()\n"
        "from vidstudio.ui.state.session import Session\n"
        "from vidstudio.project import load_project\n"
        f"s = Session(prefetch=False)\n"
        f"s.set_project(load_project({str(EXAMPLES / 'text_to_video.vidproj')!r}))\n"
        "assert s.wait_idle(60)\n"
        "err = s.evaluation.last_result.error\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers'})\n"
        "s.shutdown()\n"
        "print(json.dumps({'heavy': heavy, 'error': err}))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(EXAMPLES.parents[1])}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["heavy"] == [] and "press Generate (Ctrl+G)" in out["error"]


@pytest.mark.slow
def test_model_files_picked_in_the_model_folders_reach_the_local_server_as_its_ids(
    plugins, window_factory, qtbot, tmp_path, monkeypatch
):
    """A pipeline folder and a LoRA file chosen with the browse buttons are paths; the local server names models
    by id only: Generate sends the ids of the model folders of Preferences, and the server takes the request."""
    from PySide6.QtWidgets import QFileDialog
    from test_ui_model_files import write_safetensors

    from vidstudio.backend.tiny import write_tiny_model
    from vidstudio.ui.state.settings import ServerConfig

    folder = tmp_path / "models"
    write_tiny_model("ltx", folder / "tiny-ltx")
    lora = folder / "loras" / "x.safetensors"
    write_safetensors(lora, {"transformer.blocks.0.attn.to_q.lora_A.weight": ("F32", (4, 8))})
    ServerConfig("local", models_dirs=(str(folder),)).save()
    doc = json.loads(_text_to_video(tmp_path / "proj").read_text())
    doc["nodes"].append({"id": "lora", "type": "LoadLoRA", "params": {}, "position": [0, 300]})
    doc["links"] = [lk for lk in doc["links"] if lk["to"] != "gen.model"]
    doc["links"] += [{"from": "model.model", "to": "lora.model"}, {"from": "lora.model", "to": "gen.model"}]
    proj = tmp_path / "proj" / "lora.vidproj"
    proj.write_text(json.dumps(doc))
    monkeypatch.setenv("VIDSTUDIO_SERVER_DATA", str(tmp_path / "server-data"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    win = window_factory(proj)
    s = win.session
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a: (str(lora), ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(folder / "tiny-ltx"))
    s.view.set_selection(["lora"])
    win.inspector.rows["lora"].editor.browse()
    s.view.set_selection(["model"])
    win.inspector.rows["model"].editor.browse("folder")
    assert s.project.node("lora").params["lora"] == str(lora)  # the project keeps the paths (render loads them)
    assert s.project.node("model").params["model"] == str(folder / "tiny-ltx")
    assert not win.inspector.model_hints["model"][0].parentWidget().isVisibleTo(win.inspector)
    s.view.set_selection(["export"])
    job = win.generate()
    qtbot.waitUntil(lambda: job in win.generation.by_id.values() or job.is_final, timeout=120000)
    assert job in win.generation.by_id.values(), job.message  # the server took the request
    win.generation.cancel_job(job)
    qtbot.waitUntil(lambda: job.is_final, timeout=60000)
