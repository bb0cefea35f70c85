"""The models a generation server has, in the GUI: the Models window lists a remote server's model files and
pipeline folders from ``GET /v1/models`` (kind, family, variant, size, dtype), and the Inspector's model fields
(Load Model's model, VAE and text-encoder files, Load LoRA's LoRA) offer the server's entries of their kind in a
drop-down and a completer. Against one real ``vidstudio serve`` on a loopback port whose models folder is a
ComfyUI-like folder of safetensors files (headers only, sparse data) written here; no torch in this process."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from server.server_helpers import server_env
from test_ui_model_files import wan_pipeline, write_safetensors

from uihelpers import wait_for

pytestmark = pytest.mark.gui

TOKEN = "models-test-token"

LORA = {"diffusion_model.blocks.0.self_attn.q.lora_A.weight": ("BF16", (16, 1536))}
WAN = {
    "model.diffusion_model.blocks.0.self_attn.q.weight": ("BF16", (64, 64)),
    "model.diffusion_model.head.modulation": ("F32", (1, 2, 64)),
}
VAE = {"decoder.conv_in.weight": ("F32", (8, 8)), "encoder.conv_in.weight": ("F32", (8, 8))}
T5 = {"shared.weight": ("F16", (64, 32)), "encoder.block.0.layer.0.SelfAttention.q.weight": ("F16", (32, 32))}


@pytest.fixture(scope="module")
def comfy(tmp_path_factory) -> Path:
    """The server's models folder: a Wan pipeline folder, a transformer, a LoRA, a VAE and a text encoder."""
    root = tmp_path_factory.mktemp("remote") / "ComfyUI" / "models"
    wan_pipeline(root / "Wan-1.3B")
    write_safetensors(root / "diffusion_models" / "wan_t2v.safetensors", WAN)
    write_safetensors(root / "loras" / "fox_style.safetensors", LORA)
    write_safetensors(root / "vae" / "wan_vae.safetensors", VAE)
    write_safetensors(root / "text_encoders" / "umt5.safetensors", T5)
    return root


@pytest.fixture(scope="module")
def server(comfy, tmp_path_factory):
    from vidstudio.client import LocalServer

    base = tmp_path_factory.mktemp("models-server")
    s = LocalServer(base / "data", token=TOKEN, env=server_env(base, None), extra_args=["--models-dir", str(comfy)])
    s.start(timeout=90)
    yield s
    s.stop()


@pytest.fixture
def remote_window(server, window_factory, tmp_path):
    """A main window whose settings name the module's server (Remote mode), with a model folder of this computer
    in Preferences that must not be what is listed."""
    from vidstudio.ui.state.settings import ServerConfig

    mine = tmp_path / "my-models"
    write_safetensors(mine / "loras" / "only_here.safetensors", LORA)
    ServerConfig("remote", server.url, TOKEN, (str(mine),)).save()
    win = window_factory()
    assert not win.generation.config.is_local
    return win


def _rows(dlg) -> dict[str, list[str]]:
    t = dlg.table
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())}


def test_the_models_window_lists_a_remote_servers_files(remote_window, comfy, qtbot):
    from vidstudio.ui.widgets.dialogs.models_dialog import human_bytes

    dlg = remote_window.models_window()
    wait_for(lambda: "loras/fox_style.safetensors" in _rows(dlg), qtbot=qtbot, timeout=20)
    rows = _rows(dlg)
    headers = [dlg.table.horizontalHeaderItem(c).text() for c in range(dlg.table.columnCount())]
    assert headers == ["Model", "Size", "Kind", "Family", "Variant", "Dtype", "Note"]
    size = (comfy / "loras" / "fox_style.safetensors").stat().st_size
    assert rows["loras/fox_style.safetensors"] == [
        "loras/fox_style.safetensors",
        human_bytes(size),
        "lora (safetensors)",
        "wan",
        "-",
        "BF16",
        "",
    ]
    transformer = rows["diffusion_models/wan_t2v.safetensors"]
    assert transformer[2:4] == ["transformer (safetensors)", "wan"] and transformer[5] == "BF16"
    assert rows["vae/wan_vae.safetensors"][2] == "vae (safetensors)"
    assert rows["text_encoders/umt5.safetensors"][2] == "text encoder (safetensors)"
    assert rows["Wan-1.3B"][2:4] == ["pipeline (diffusers)", "wan"]  # a pipeline folder of the server's
    assert not any("only_here" in k for k in rows)  # this computer's model folder is not the server's
    assert str(comfy) not in " ".join(rows)  # the server's paths stay on the server
    assert "5 file(s) on the server" in dlg.summary.text()
    dlg.resize(900, 320)
    qtbot.wait(50)
    dlg.grab().save("/tmp/models-window-remote.png")
    dlg.close()


def _inspect(win, node_type: str) -> str:
    s = win.session
    nid = s.add_node(node_type, (0, 0))
    s.view.set_selection([])
    s.view.set_selection([nid])
    return nid


def test_the_model_fields_offer_what_the_server_has(remote_window, qtbot):
    from vidstudio.ui.widgets.param_editors import ModelPathEditor

    win = remote_window
    s = win.session
    lid = _inspect(win, "LoadLoRA")
    editor = win.inspector.rows["lora"].editor
    assert isinstance(editor, ModelPathEditor) and editor.pick_button.isVisible()
    wait_for(lambda: bool(editor.offered()), qtbot=qtbot, timeout=20)
    assert [c.value for c in editor.offered()] == ["loras/fox_style.safetensors"]

    # the drop-down beside the browse button: the entry with what it is, chosen with a click
    editor.pick_menu.aboutToShow.emit()
    entries = [a for a in editor.pick_menu.actions() if a.data()]
    assert [a.text() for a in entries] == [
        f"loras/fox_style.safetensors  —  wan · {entries[0].text().split(' · ')[1]} · BF16"
    ]
    entries[0].trigger()
    assert s.project.node(lid).params["lora"] == "loras/fox_style.safetensors"  # the server's id, as it is

    # Load Model: its model takes pipelines and checkpoints, its VAE and text-encoder files their kinds
    mid = _inspect(win, "LoadModel")
    rows = win.inspector.rows
    wait_for(lambda: bool(rows["model"].editor.offered()), qtbot=qtbot)
    assert [c.value for c in rows["model"].editor.offered()] == ["Wan-1.3B", "diffusion_models/wan_t2v.safetensors"]
    assert [c.value for c in rows["vae_file"].editor.offered()] == ["vae/wan_vae.safetensors"]
    assert [c.value for c in rows["text_encoder_file"].editor.offered()] == ["text_encoders/umt5.safetensors"]
    assert rows["model"].editor.pick_button.isVisible() and "2 model(s) the generation server has" in (
        rows["model"].editor.pick_button.toolTip()
    )
    win.inspector.grab().save("/tmp/inspector-model-pickers.png")

    # the completer: a few letters typed in the line, the server's id chosen from the pop-up
    line = rows["model"].editor.line
    line.setFocus()
    line.clear()
    qtbot.keyClicks(line, "t2v")
    completer = rows["model"].editor.completer
    wait_for(lambda: completer.popup().isVisible(), qtbot=qtbot)
    assert completer.completionCount() == 1
    assert completer.currentCompletion() == "diffusion_models/wan_t2v.safetensors"
    qtbot.keyClick(completer.popup(), Qt.Key.Key_Down)
    qtbot.keyClick(completer.popup(), Qt.Key.Key_Return)
    assert s.project.node(mid).params["model"] == "diffusion_models/wan_t2v.safetensors"


def test_a_local_server_offers_the_model_folders_files(window_factory, qtbot, tmp_path, monkeypatch):
    """With the local server (not started), the fields offer the files of the model folders of Preferences, by
    path, without starting it."""
    from vidstudio.ui.state.settings import ServerConfig

    mine = tmp_path / "models"
    write_safetensors(mine / "loras" / "mine.safetensors", LORA)
    write_safetensors(mine / "vae" / "v.safetensors", VAE)
    ServerConfig("local", "", "", (str(mine),)).save()
    win = window_factory()
    monkeypatch.setattr(win.generation, "ensure", lambda ready, failed: pytest.fail("the server was started"))
    lid = _inspect(win, "LoadLoRA")
    editor = win.inspector.rows["lora"].editor
    wait_for(lambda: bool(editor.offered()), qtbot=qtbot)
    assert [c.value for c in editor.offered()] == [str(mine / "loras" / "mine.safetensors")]
    assert "your model folders" in editor.pick_button.toolTip()
    editor.pick_menu.aboutToShow.emit()
    entry = next(a for a in editor.pick_menu.actions() if a.data())
    assert entry.text().startswith(f"{Path('loras') / 'mine.safetensors'}  —  wan")  # within its model folder
    entry.trigger()
    assert win.session.project.node(lid).params["lora"] == str(mine / "loras" / "mine.safetensors")
    assert win.generation.client is None
