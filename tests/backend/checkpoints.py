"""Single checkpoint files for the tests, written the way ComfyUI users have them: a tiny Wan transformer in the
original Wan key layout (``model.diffusion_model.blocks.0.self_attn.q.weight``) as one ``.safetensors`` file, and
the same as GGUF (Q8_0 where a row splits into 32-value blocks, F32 elsewhere, as city96's files do for small
tensors), written with the ``gguf`` package."""

from __future__ import annotations

from pathlib import Path

#: diffusers Wan names -> original Wan names (the inverse of diffusers' convert_wan_transformer_to_diffusers).
_TO_ORIGINAL = [
    ("condition_embedder.time_embedder.linear_1", "time_embedding.0"),
    ("condition_embedder.time_embedder.linear_2", "time_embedding.2"),
    ("condition_embedder.text_embedder.linear_1", "text_embedding.0"),
    ("condition_embedder.text_embedder.linear_2", "text_embedding.2"),
    ("condition_embedder.time_proj", "time_projection.1"),
    ("attn2", "cross_attn"),
    ("attn1", "self_attn"),
    (".to_out.0.", ".o."),
    (".to_q.", ".q."),
    (".to_k.", ".k."),
    (".to_v.", ".v."),
    ("ffn.net.0.proj", "ffn.0"),
    ("ffn.net.2", "ffn.2"),
    ("norm2", "norm__x"),
    ("norm3", "norm2"),
    ("norm__x", "norm3"),
]


def wan_original_state(transformer_folder: Path) -> dict:
    """The tiny Wan transformer's weights under the original names with ComfyUI's ``model.diffusion_model.``."""
    from safetensors.torch import load_file

    sd = load_file(str(Path(transformer_folder) / "diffusion_pytorch_model.safetensors"))
    out = {}
    for k, v in sd.items():
        n = k
        for a, b in _TO_ORIGINAL:
            n = n.replace(a, b)
        if n == "scale_shift_table":
            n = "head.modulation"
        elif n.startswith("proj_out."):
            n = "head.head." + n[len("proj_out.") :]
        elif n.endswith(".scale_shift_table"):
            n = n[: -len("scale_shift_table")] + "modulation"
        out["model.diffusion_model." + n] = v.contiguous()
    return out


def save_safetensors(sd: dict, out: Path) -> Path:
    from safetensors.torch import save_file

    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(out))
    return out


def save_gguf_q8(sd: dict, out: Path) -> tuple[Path, int]:
    """Writes ``sd`` as GGUF: Q8_0 for 2-D weights whose rows split into 32-value blocks, F32 otherwise.

    Returns:
        ``(path, number of Q8_0 tensors)``.
    """
    import gguf
    import numpy as np

    out.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(out), arch="wan")
    q8 = 0
    for k, v in sd.items():
        k = k[len("model.diffusion_model.") :]
        a = v.float().numpy()
        if a.ndim == 2 and a.shape[-1] % 32 == 0:
            w.add_tensor(
                k, gguf.quants.quantize(a, gguf.GGMLQuantizationType.Q8_0), raw_dtype=gguf.GGMLQuantizationType.Q8_0
            )
            q8 += 1
        else:
            w.add_tensor(k, np.ascontiguousarray(a, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return out, q8
