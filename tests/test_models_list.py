"""`vidstudio models list --models-dir`: the single checkpoint files of a ComfyUI-style models folder."""

from __future__ import annotations

import numpy as np


def test_models_list_shows_the_models_folder_as_the_server_reads_it(tmp_path, capsys, monkeypatch):
    """A readable VAE file is listed with its storage type; a broken one is listed with the reason (a user who
    sees only "vae (safetensors)" cannot tell why the Load Model picker refuses it); a pipeline folder in it is
    listed, as `vidstudio serve --models-dir` offers it in /v1/models."""
    from safetensors.numpy import save_file

    from vidstudio.cli import main

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    vae = tmp_path / "models" / "vae"
    vae.mkdir(parents=True)
    save_file({"decoder.conv_in.weight": np.zeros((4, 4), np.float16)}, str(vae / "good.safetensors"))
    (vae / "broken.safetensors").write_bytes(b"junk\n")
    pipe = tmp_path / "models" / "my-ltx"  # a pipeline folder, as `vidstudio serve --models-dir` offers it
    pipe.mkdir()
    (pipe / "model_index.json").write_text('{"_class_name": "LTXPipeline", "transformer": ["diffusers", "X"]}')
    assert main(["models", "list", "--models-dir", str(tmp_path / "models")]) == 0
    out = capsys.readouterr().out
    good = next(ln for ln in out.splitlines() if "good.safetensors" in ln)
    broken = next(ln for ln in out.splitlines() if "broken.safetensors" in ln)
    assert "vae (safetensors, F16)" in good and "unreadable" not in good
    assert "unreadable" in broken and "cannot be read as safetensors" in broken
    folder = next(ln for ln in out.splitlines() if "my-ltx" in ln)
    assert folder.split()[3:6] == ["ltx", "t2v", "pipeline"], folder


def test_a_models_folder_that_does_not_exist_is_an_error(tmp_path, capsys, monkeypatch):
    from vidstudio.cli import main

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert main(["models", "list", "--models-dir", str(tmp_path / "ComfyUI" / "modles")]) == 2
    assert f"--models-dir {tmp_path / 'ComfyUI' / 'modles'}: no such folder" in capsys.readouterr().err


def test_serve_with_a_models_folder_that_does_not_exist_is_an_error(tmp_path, capsys, monkeypatch):
    """`vidstudio serve --models-dir MISSING` stops with exit 2 naming the folder, before it starts serving
    (it used to start and offer no models, silently)."""
    import vidstudio.server.run
    from vidstudio.cli import main

    monkeypatch.setattr(vidstudio.server.run, "serve", lambda *a, **k: 0)  # serving would block the test

    missing = tmp_path / "ComfyUI" / "modles"
    code = main(["serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--models-dir", str(missing)])
    assert code == 2
    assert f"--models-dir {missing}: no such folder" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
