"""The user's own model files in the GUI: the Inspector's GPU-memory estimate of a Load Model node (per
quantisation choice, following the choice), its Download… offer for a repo id that is not downloaded, the
model folders of Preferences (listed in the Models window, given to the local server, where the model file
pickers start). No torch: the weight files are safetensors headers written here, with sparse data."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from uihelpers import wait_for


def write_safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]]) -> int:
    """A ``.safetensors`` file with these ``{name: (dtype, shape)}`` tensors (the format: an 8-byte header
    length, the JSON header, the data; the data left sparse). Returns the parameter count."""
    size = {"BF16": 2, "F16": 2, "F32": 4}
    header, offset, count = {}, 0, 0
    for name, (dtype, shape) in tensors.items():
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + n * size[dtype]]}
        offset += n * size[dtype]
        count += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        f.truncate(8 + len(raw) + offset)
    return count


def wan_pipeline(folder: Path) -> Path:
    """A Wan 2.1 text-to-video pipeline folder with a 1.3B-parameter transformer, as far as model_index.json
    and the weights' headers tell (nothing loadable)."""
    index = {
        "_class_name": "WanPipeline",
        "_diffusers_version": "0.35.0",
        "transformer": ["diffusers", "WanTransformer3DModel"],
        "text_encoder": ["transformers", "UMT5EncoderModel"],
        "tokenizer": ["transformers", "T5TokenizerFast"],
        "vae": ["diffusers", "AutoencoderKLWan"],
        "scheduler": ["diffusers", "UniPCMultistepScheduler"],
    }
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps(index))
    write_safetensors(
        folder / "transformer" / "diffusion_pytorch_model.safetensors",
        {f"blocks.{i}.attn.to_q.weight": ("BF16", (1536, 1536 * 19)) for i in range(30)},
    )
    write_safetensors(folder / "text_encoder" / "model.safetensors", {"shared.weight": ("BF16", (256384, 4096))})
    write_safetensors(folder / "vae" / "diffusion_pytorch_model.safetensors", {"decoder.w": ("F32", (1024, 1024))})
    return folder


def _load_model(win, params):
    s = win.session
    nid = s.add_node("LoadModel", (0, 0))
    for k, v in params.items():
        s.set_param(nid, k, v)
    s.view.set_selection([])
    s.view.set_selection([nid])  # as a click in the Node Editor does
    return nid


def _human(gib: float) -> str:
    from vidstudio.ui.widgets.dialogs.models_dialog import human_bytes

    return human_bytes(gib * 2**30)


def test_inspector_shows_the_gpu_estimate_and_follows_the_quantisation(qtbot, window_factory, tmp_path):
    from vidstudio.backend.estimate import weights_gib
    from vidstudio.backend.locate import locate

    folder = wan_pipeline(tmp_path / "Wan-1.3B")
    loc = locate(str(folder), download=False)
    expected = {q: sum(weights_gib(loc, q).values()) for q in ("none", "fp8_layerwise", "nf4_bnb")}
    assert len({_human(v) for v in expected.values()}) == 3  # the figures differ as shown
    win = window_factory()
    _load_model(win, {"model": str(folder)})
    ins = win.inspector
    wait_for(lambda: ins.estimate is not None and ins.estimate.status == "ok", qtbot=qtbot)
    text = ins.estimate_label.text()
    assert f"GPU memory (estimate): {_human(expected['none'])}" in text
    assert f"nf4 bnb {_human(expected['nf4_bnb'])}" in text  # every choice's figure
    combo = ins.rows["quantize"].editor.combo
    assert combo.itemText(combo.findData("fp8_layerwise")) == f"fp8 layerwise  —  {_human(expected['fp8_layerwise'])}"
    te_combo = ins.rows["quantize_text_encoder"].editor.combo
    te_int8 = sum(weights_gib(loc, "none", "int8_torchao").values())
    assert te_combo.itemText(te_combo.findData("int8_torchao")) == f"int8 torchao  —  {_human(te_int8)}"
    assert not ins.download_button.isVisible()

    combo.setFocus()
    while combo.currentData() != "fp8_layerwise":  # the user steps through the drop-down with the arrow key
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    wait_for(lambda: ins.estimate.quantize == "fp8_layerwise", qtbot=qtbot)
    assert win.session.project.node(ins.node_id).params["quantize"] == "fp8_layerwise"
    assert f"GPU memory (estimate): {_human(expected['fp8_layerwise'])}" in ins.estimate_label.text()
    qtbot.wait(50)
    win.inspector.grab().save("/tmp/inspector-gpu-estimate.png")

    win.session.set_param(ins.node_id, "offload", "model")  # one component on the GPU at a time: the largest
    wait_for(lambda: ins.estimate.offload == "model", qtbot=qtbot)
    biggest = max(weights_gib(loc, "fp8_layerwise").values())
    assert f"GPU memory (estimate): {_human(biggest)}" in ins.estimate_label.text()
    win.session.set_param(ins.node_id, "offload", "sequential")
    wait_for(lambda: ins.estimate.offload == "sequential", qtbot=qtbot)
    assert "streamed from the CPU (sequential offload): not estimated" in ins.estimate_label.text()


def test_unknown_model_says_so(qtbot, window_factory, tmp_path):
    win = window_factory()
    _load_model(win, {"model": str(tmp_path / "nowhere")})
    ins = win.inspector
    wait_for(lambda: ins.estimate is not None, qtbot=qtbot)
    assert ins.estimate.status == "unknown" and "no estimate" in ins.estimate_label.text()
    assert not ins.download_button.isVisible()


def test_a_missing_repo_id_offers_the_download(qtbot, window_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    win = window_factory()
    served = []
    # the Models window asks the generation service for a server: a stand-in answers with an empty cache
    monkeypatch.setattr(win.generation, "ensure", lambda ready, failed: served.append(1) or failed("no server here"))
    _load_model(win, {"model": "example-org/not-downloaded-video-model"})
    ins = win.inspector
    wait_for(lambda: ins.estimate is not None, qtbot=qtbot)
    assert ins.estimate.status == "not-downloaded"
    assert "example-org/not-downloaded-video-model is not downloaded" in ins.estimate_label.text()
    assert ins.download_button.isVisible()
    qtbot.mouseClick(ins.download_button, Qt.MouseButton.LeftButton)
    dlg = win._models_dialog
    assert dlg.isVisible() and dlg.repo.text() == "example-org/not-downloaded-video-model" and served
    dlg.close()


def test_model_folders_in_preferences_reach_the_models_window_the_server_and_the_pickers(
    qtbot, window_factory, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from vidstudio.ui.state.settings import ServerConfig
    from vidstudio.ui.widgets.dialogs.models_dialog import ModelsDialog, human_bytes
    from vidstudio.ui.widgets.param_editors import ModelPathEditor

    comfy = tmp_path / "ComfyUI" / "models"
    write_safetensors(
        comfy / "loras" / "fox_style.safetensors",
        {"diffusion_model.blocks.0.self_attn.q.lora_A.weight": ("BF16", (16, 1536))},
    )
    write_safetensors(
        comfy / "vae" / "wan_vae.safetensors",
        {"decoder.conv_in.weight": ("F32", (8, 8)), "encoder.conv_in.weight": ("F32", (8, 8))},
    )
    win = window_factory()
    prefs = win.preferences()
    prefs.add_folder(str(comfy))
    prefs.add_folder(str(comfy))  # listed once
    assert prefs.folders_list.count() == 1
    with qtbot.waitSignal(prefs.applied):
        prefs.buttons.button(prefs.buttons.StandardButton.Ok).click()
    assert ServerConfig.load().models_dirs == (str(comfy),)  # kept in the settings file
    assert win.generation.config.models_dirs == (str(comfy),)

    # the local server the window starts gets them as --models-dir
    from vidstudio.client.local import LocalServer
    from vidstudio.ui.state import generation

    started = []

    class Recorder(LocalServer):
        def start(self, timeout=60.0):
            started.append(self.command())
            raise RuntimeError("not started in this test")

    monkeypatch.setattr(generation, "LocalServer", Recorder)
    with pytest.raises(RuntimeError, match="not started"):
        win.generation._start_local(win.generation._generation)
    cmd = started[0]
    assert cmd[cmd.index("--models-dir") + 1] == str(comfy)

    monkeypatch.setattr(win.generation, "ensure", lambda ready, failed: failed("no server here"))
    dlg = win.models_window()
    assert isinstance(dlg, ModelsDialog)
    wait_for(lambda: dlg.table.rowCount() == 2, qtbot=qtbot)
    rows = {dlg.table.item(r, 0).text(): [dlg.table.item(r, c).text() for c in range(5)] for r in range(2)}
    lora = rows[str(Path("loras") / "fox_style.safetensors")]  # relative to its model folder
    size = (comfy / "loras" / "fox_style.safetensors").stat().st_size
    assert lora[1] == human_bytes(size) and lora[2] == "lora (safetensors)" and lora[3] == "wan"
    assert rows[str(Path("vae") / "wan_vae.safetensors")][2] == "vae (safetensors)"
    assert dlg.table.item(0, 0).toolTip() in (
        str(comfy / "loras" / "fox_style.safetensors"),
        str(comfy / "vae" / "wan_vae.safetensors"),
    )
    assert "2 file(s) in the model folders" in dlg.summary.text()
    dlg.close()

    # Load LoRA's picker starts in the loras folder, Load Model's in the model folder
    s = win.session
    lid = s.add_node("LoadLoRA", (0, 0))
    editor = win.inspector.rows["lora"].editor
    assert isinstance(editor, ModelPathEditor)
    seen = []
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileName",
        lambda parent, title, start, filt: seen.append(start) or (str(comfy / "loras" / "fox_style.safetensors"), ""),
    )
    editor.browse()
    assert seen == [str(comfy / "loras")]
    assert s.project.node(lid).params["lora"] == str(comfy / "loras" / "fox_style.safetensors")
    s.add_node("LoadModel", (0, 200))
    win.inspector.rows["model"].editor.browse()
    assert seen[-1] == str(comfy)  # no diffusion_models subfolder: the model folder itself


def test_a_remote_server_lists_no_local_files(qtbot, window_factory, tmp_path, monkeypatch):
    from vidstudio.ui.state.settings import ServerConfig

    write_safetensors(tmp_path / "m" / "x.safetensors", {"w": ("F16", (4, 4))})
    win = window_factory()
    win.generation.config = ServerConfig("remote", "http://127.0.0.1:9", "", (str(tmp_path / "m"),))
    monkeypatch.setattr(win.generation, "ensure", lambda ready, failed: failed("no server here"))
    dlg = win.models_window()
    qtbot.wait(100)
    assert dlg.table.rowCount() == 0
    dlg.close()


def test_the_estimate_and_the_file_listing_never_import_torch(tmp_path):
    import os
    import subprocess
    import sys

    folder = wan_pipeline(tmp_path / "wan")
    write_safetensors(tmp_path / "loras" / "a_lora.safetensors", {"blocks.0.lora_A.weight": ("BF16", (4, 4))})
    code = (
        "import sys, json\n"
        "from vidstudio.ui.app import application\n"
        "app = application()\n"
        "from vidstudio.ui.state.session import Session\n"
        "from vidstudio.ui.widgets.inspector import Inspector\n"
        "s = Session(prefetch=False)\n"
        "ins = Inspector(s)\n"
        "nid = s.add_node('LoadModel', (0, 0))\n"
        f"s.set_param(nid, 'model', {str(folder)!r})\n"
        "s.view.set_selection([nid])\n"
        "files = s.registry.find('LoadModel').model_files([" + repr(str(tmp_path / "loras")) + "])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'diffusers', 'transformers'})\n"
        "print(json.dumps({'heavy': heavy, 'status': ins.estimate.status, 'files': len(files)}))\n"
        "s.shutdown()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out == {"heavy": [], "status": "ok", "files": 1}


def test_a_single_file_with_a_missing_base_pipeline_offers_the_base(tmp_path, monkeypatch):
    from vidstudio.nodes.generate import LoadModel

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    f = tmp_path / "diffusion_models" / "wan_t2v.safetensors"
    write_safetensors(
        f,
        {
            "model.diffusion_model.blocks.0.self_attn.q.weight": ("BF16", (64, 64)),
            "model.diffusion_model.head.modulation": ("F32", (1, 2, 64)),
        },
    )
    e = LoadModel.gpu_estimate({"model": str(f), "base_model": "example-org/wan-base-diffusers"})
    assert e.status == "not-downloaded" and e.repo_id == "example-org/wan-base-diffusers"
    base = wan_pipeline(tmp_path / "base")
    e = LoadModel.gpu_estimate({"model": str(f), "base_model": str(base)})
    assert e.status == "ok" and e.components["transformer"] == pytest.approx((64 * 64 + 128) * 2 / 2**30)


def test_a_model_path_outside_the_model_folders_is_said_and_its_folder_added(qtbot, window_factory, tmp_path):
    """The local server loads only the models of Preferences > Model folders: a LoRA elsewhere is said under the
    field, its button adds the folder, and Generate refuses it in words before anything is sent."""
    from vidstudio.errors import ModelError
    from vidstudio.ui.state.model_ids import server_ref
    from vidstudio.ui.state.settings import ServerConfig

    inside = tmp_path / "models"
    write_safetensors(inside / "loras" / "in.safetensors", {"blocks.0.lora_A.weight": ("BF16", (4, 4))})
    write_safetensors(inside / "odd" / "deep" / "no.safetensors", {"w": ("BF16", (4, 4))})
    outside = tmp_path / "downloads" / "loras" / "fox.safetensors"
    write_safetensors(outside, {"blocks.0.lora_A.weight": ("BF16", (4, 4))})
    dirs = (str(inside),)
    assert server_ref(str(inside / "loras" / "in.safetensors"), None, dirs).id == "loras/in.safetensors"
    assert server_ref("loras/in.safetensors", None, dirs).id is None  # an id: sent as it is
    assert "does not list it" in server_ref(str(inside / "odd" / "deep" / "no.safetensors"), None, dirs).problem

    ServerConfig("local", models_dirs=dirs).save()
    win = window_factory()
    win.generation.config = ServerConfig.load()
    s = win.session
    lid = s.add_node("LoadLoRA", (0, 0))
    s.view.set_selection([lid])
    label, button = win.inspector.model_hints["lora"]
    assert not label.isVisibleTo(win.inspector)
    s.set_param(lid, "lora", str(outside))
    assert label.isVisibleTo(win.inspector) and "Preferences > Model folders" in label.text()
    assert str(tmp_path / "downloads") in label.text()  # the folder above loras/, so that it stays a LoRA

    class NoClient:
        def submit_project(self, *a, **kw):
            raise AssertionError("nothing is sent")

    with pytest.raises(ModelError, match="not in a model folder"):
        win.generation._submit(NoClient(), s.project.copy_document(), lid)

    button.click()
    assert win.generation.config.models_dirs == (str(inside), str(tmp_path / "downloads"))
    assert ServerConfig.load().models_dirs == win.generation.config.models_dirs
    assert not label.isVisibleTo(win.inspector)
    copy = s.project.copy_document()
    sent = []

    class Recorder:
        def submit_project(self, project, output_node):
            sent.append(project.node(lid).params["lora"])

    win.generation._submit(Recorder(), copy, lid)
    assert sent == ["loras/fox.safetensors"]


def test_the_models_window_shows_unreadable_files_by_their_folder_and_lists_pipeline_folders(
    qtbot, window_factory, tmp_path, monkeypatch
):
    from vidstudio.families import read_configs, recognise
    from vidstudio.ui.state.settings import ServerConfig

    folder = tmp_path / "models"
    (folder / "vae").mkdir(parents=True)
    (folder / "vae" / "broken.safetensors").write_bytes(b"\xff" * 64)  # a header length no file has
    pipe = wan_pipeline(folder / "Wan-1.3B")
    rec = recognise(read_configs(pipe).index, read_configs(pipe))
    win = window_factory()
    win.generation.config = ServerConfig("local", models_dirs=(str(folder),))
    monkeypatch.setattr(win.generation, "ensure", lambda ready, failed: failed("no server here"))
    dlg = win.models_window()
    wait_for(lambda: dlg.table.rowCount() == 2, qtbot=qtbot)
    cols = len(dlg.COLUMNS)
    rows = {dlg.table.item(r, 0).text(): [dlg.table.item(r, c).text() for c in range(cols)] for r in range(2)}
    broken = rows[str(Path("vae") / "broken.safetensors")]
    assert broken[2] == "vae (safetensors)"  # its folder's kind, not "checkpoint (not recognised)"
    assert broken[6].startswith("unreadable: ") and len(broken[6]) > len("unreadable: ") + 5
    assert str(tmp_path) not in broken[6]  # the path as shown, not the whole path again
    wan = rows["Wan-1.3B"]
    assert wan[2] == "pipeline (diffusers)" and wan[3] == "wan" == rec.family and wan[4] == rec.variant
    assert wan[6] == ""
    dlg.close()


def test_a_model_not_downloaded_is_estimated_from_its_model_card(qtbot, window_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # nothing downloaded
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    win = window_factory()
    monkeypatch.setattr(win.generation, "ensure", lambda ready, failed: failed("no server here"))
    _load_model(win, {"model": "Wan-AI/Wan2.2-I2V-A14B-Diffusers"})  # an example project's model
    ins = win.inspector
    wait_for(lambda: ins.estimate is not None, qtbot=qtbot)
    e = ins.estimate
    assert e.status == "not-downloaded" and e.source == "model card"
    gib = 1e9 * 2 / 2**30  # one billion bf16 parameters
    # the Wan 2.2 A14B model card: two 14B experts; the umT5-XXL encoder 5.7B; the Wan-VAE 127M
    assert e.on_gpu == pytest.approx((14 + 14 + 5.7 + 0.127) * gib)
    text = ins.estimate_label.text()
    assert f"GPU memory (estimate, from the model card): {_human(e.on_gpu)}" in text
    assert "is not downloaded yet" in text and ins.download_button.isVisible()
    combo = ins.rows["quantize"].editor.combo
    fp8 = (14 + 14) * 1e9 / 2**30 + (5.7 + 0.127) * gib
    assert combo.itemText(combo.findData("fp8_layerwise")) == f"fp8 layerwise  —  {_human(fp8)}"


def test_a_gguf_transformer_is_estimated_by_its_file_size_and_quantisation_does_not_apply(
    qtbot, window_factory, tmp_path
):
    import gguf
    import numpy as np

    f = tmp_path / "diffusion_models" / "wan_q8.gguf"
    f.parent.mkdir(parents=True)
    w = gguf.GGUFWriter(str(f), arch="wan")
    a = np.random.default_rng(0).random((4, 64), dtype=np.float32)
    for name in ("blocks.0.self_attn.q.weight", "head.modulation"):
        w.add_tensor(
            name, gguf.quants.quantize(a, gguf.GGMLQuantizationType.Q8_0), raw_dtype=gguf.GGMLQuantizationType.Q8_0
        )
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    base = wan_pipeline(tmp_path / "base")
    win = window_factory()
    _load_model(win, {"model": str(f), "base_model": str(base)})
    ins = win.inspector
    wait_for(lambda: ins.estimate is not None and ins.estimate.status == "ok", qtbot=qtbot)
    e = ins.estimate
    assert e.gguf == "Q8_0" and e.components["transformer"] == pytest.approx(f.stat().st_size / 2**30)
    text = ins.estimate_label.text()
    assert "transformer: the GGUF file" in text and "size (Q8_0, quantised already); the rest at 16-bit" in text
    assert "does not apply to a GGUF file" in text and "by transformer quantisation" not in text
    combo = ins.rows["quantize"].editor.combo
    assert combo.itemText(combo.findData("fp8_layerwise")).endswith("ignored: the GGUF file is quantised already")
    assert combo.itemText(combo.findData("none")) == f"none  —  {_human(e.per_choice['none'])}"


def test_parameters_a_node_does_not_use_are_greyed_out_with_the_reason(qtbot, window_factory, tmp_path):
    win = window_factory()
    s, ins = win.session, win.inspector
    nid = _load_model(win, {"model": str(wan_pipeline(tmp_path / "Wan-1.3B"))})  # family auto: wan, from its index
    for name in ("sparsectrl", "ip_adapter", "motion_adapter", "latent_upsampler"):
        row = ins.rows[name]
        assert not row.editor.isEnabled() and "not used by Wan" in row.label.toolTip()
    assert ins.rows["quantize"].editor.isEnabled() and ins.rows["model"].editor.isEnabled()
    s.set_param(nid, "family", "animatediff")  # chosen: its fields come back, LTX's stays grey
    assert ins.rows["sparsectrl"].editor.isEnabled() and ins.rows["motion_adapter"].label.isEnabled()
    assert not ins.rows["latent_upsampler"].editor.isEnabled()

    iid = s.add_node("Interpolate", (0, 300))
    s.view.set_selection([iid])
    assert ins.rows["factor"].editor.isEnabled() and not ins.rows["fps"].editor.isEnabled()
    s.set_param(iid, "mode", "fps")
    assert not ins.rows["factor"].editor.isEnabled() and ins.rows["fps"].editor.isEnabled()
    assert "not used in mode fps" in ins.rows["factor"].label.toolTip()
