"""Tiny LoRAs for the tests, made with peft on the tiny models' own denoisers and saved in diffusers' key layout
(``save_lora_weights``) and in ComfyUI's original-Wan layout (``diffusion_model.blocks.N.self_attn.q.lora_down``
with ``.alpha`` keys), as users download them."""

from __future__ import annotations

from pathlib import Path

#: diffusers Wan layer names -> original Wan names (the inverse of diffusers' converter).
_WAN_ORIGINAL = {
    f"{a}.{p}": f"{oa}.{op}"
    for a, oa in (("attn1", "self_attn"), ("attn2", "cross_attn"))
    for p, op in (("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "o"))
}
_WAN_ORIGINAL.update({"ffn.net.0.proj": "ffn.0", "ffn.net.2": "ffn.2"})
#: The layers the test LoRAs train: Wan's attention and feed-forward (musubi files always have both).
WAN_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "net.0.proj", "net.2"]


def _original(module: str) -> str:
    """``blocks.0.attn1.to_q`` -> ``blocks.0.self_attn.q``."""
    parts = module.split(".")
    return ".".join(parts[:2] + [_WAN_ORIGINAL[".".join(parts[2:])]])


def lora_state(
    model_folder: Path,
    component: str = "transformer",
    rank: int = 4,
    seed: int = 7,
    targets: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0"),
) -> dict:
    """A random LoRA (peft, ``init_lora_weights=False`` so it changes the output) on the attention projections of
    the ``component`` of a saved pipeline; returns the peft state dict (``blocks.0.attn1.to_q.lora_A.weight``)."""
    import json

    import diffusers
    import torch
    from peft import LoraConfig, get_peft_model_state_dict

    index = json.loads((Path(model_folder) / "model_index.json").read_text())
    cls = getattr(diffusers, index[component][1])
    model = cls.from_pretrained(Path(model_folder) / component)
    torch.manual_seed(seed)
    model.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False, target_modules=list(targets)))
    sd = get_peft_model_state_dict(model)
    # random B at peft's init is small; make the LoRA's effect plain on a tiny model
    return {k: (v * 3.0 if "lora_B" in k else v).contiguous() for k, v in sd.items()}


def save_diffusers(sd: dict, out: Path, pipeline_class: str = "WanPipeline", prefix: str = "transformer") -> Path:
    """Saves ``sd`` with the pipeline's ``save_lora_weights`` (diffusers layout, ``transformer.`` prefix)."""
    import diffusers

    out.mkdir(parents=True, exist_ok=True)
    cls = getattr(diffusers, pipeline_class)
    cls.save_lora_weights(str(out), **{f"{prefix}_lora_layers": sd}, weight_name="lora.safetensors")
    return out / "lora.safetensors"


def save_comfy_wan(sd: dict, out: Path) -> Path:
    """Saves a Wan LoRA in the ComfyUI/original key layout: ``diffusion_model.<original name>.lora_down/up`` plus
    ``.alpha`` (= rank, so the scale is 1)."""
    import torch
    from safetensors.torch import save_file

    comfy = {}
    for k, v in sd.items():
        module, kind = k.rsplit(".lora_", 1)
        name = _original(module)
        down_up = "lora_down" if kind.startswith("A") else "lora_up"
        comfy[f"diffusion_model.{name}.{down_up}.weight"] = v
        if down_up == "lora_down":
            comfy[f"diffusion_model.{name}.alpha"] = torch.tensor(float(v.shape[0]))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(comfy, str(out))
    return out


def save_musubi_wan(sd: dict, out: Path) -> Path:
    """Saves a Wan LoRA in musubi-tuner's key layout: ``lora_unet_blocks_0_self_attn_q.lora_down.weight`` plus
    ``.alpha``."""
    import torch
    from safetensors.torch import save_file

    musubi = {}
    for k, v in sd.items():
        module, kind = k.rsplit(".lora_", 1)
        name = _original(module).replace(".", "_")
        down_up = "lora_down" if kind.startswith("A") else "lora_up"
        musubi[f"lora_unet_{name}.{down_up}.weight"] = v
        if down_up == "lora_down":
            musubi[f"lora_unet_{name}.alpha"] = torch.tensor(float(v.shape[0]))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(musubi, str(out))
    return out
