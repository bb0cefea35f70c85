"""Pipelines built from the published configurations of real checkpoints, kept as small JSON files under
``tests/backend/configs/<checkpoint>/`` (each names its source; ``overrides`` are the only changes, with the
reason in ``why``: layers cut to one, and widths only where a full-width block would not fit a test process).

Random weights; saved with ``save_pretrained`` and loaded back through VidStudio's loader by the tests.
:func:`write_configs` writes a folder's JSON files alone (no torch), for recognition tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFIGS = Path(__file__).parent / "configs"


def component_config(checkpoint: str, file: str, full: bool = False) -> dict[str, Any]:
    """The published config of one component with the overrides applied (``full``: without them, the
    real full-size configuration, for benchmarks/bench_gpu.py)."""
    spec = json.loads((CONFIGS / checkpoint / file).read_text())
    cfg = dict(spec["config"])
    for k, v in (
        {} if full else spec.get("overrides", {})
    ).items():  # nested configs (a text_config) are updated, not replaced
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
    for key in spec.get("dropped", {}):  # keys newer than the installed library, each with its reason
        cfg.pop(key, None)
    return spec | {"config": cfg}


def _build(spec: dict[str, Any]) -> Any:
    import torch

    if spec["library"] == "transformers":
        import transformers

        if spec.get("processor"):
            return getattr(transformers, spec["class"])(**spec["config"])
        cfg = getattr(transformers, spec["config_class"])(**spec["config"])
        return getattr(transformers, spec["class"])(cfg).eval()
    import importlib

    cls = getattr(importlib.import_module(spec.get("module", "diffusers")), spec["class"])
    if issubclass(cls, torch.nn.Module):
        return cls(**spec["config"]).eval()
    return cls.from_config(spec["config"])


def component(checkpoint: str, file: str, seed: int = 0) -> Any:
    """One component of ``checkpoint`` (e.g. AnimateDiff's ``motion_adapter.json``) with random weights, for a
    component that Load Model names beside the pipeline."""
    import torch

    torch.manual_seed(seed)
    return _build(component_config(checkpoint, file))


#: A chat template for the test tokenizer (pipelines that call ``apply_chat_template``: HunyuanVideo 1.5's Qwen2.5-VL).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _tokenizer_of(kind: str) -> Any:
    """The tokenizer a ``pipeline.json`` names: ``"byt5"`` (transformers' ByT5Tokenizer, which needs no files),
    ``"chat"`` (the byte-level test tokenizer with :data:`CHAT_TEMPLATE`), ``"clip"`` (the test tokenizer cut at
    CLIP's 77 tokens), anything else the test tokenizer."""
    from vidstudio.backend.tiny import _tokenizer

    if kind == "byt5":
        from transformers import ByT5Tokenizer

        return ByT5Tokenizer()
    from vidstudio.backend.tiny import CLIP_MAX_TOKENS

    tok = _tokenizer(CLIP_MAX_TOKENS) if kind == "clip" else _tokenizer()
    if kind == "chat":
        tok.chat_template = CHAT_TEMPLATE
    return tok


def build(checkpoint: str, seed: int = 0, full: bool = False) -> Any:
    """The pipeline of ``checkpoint`` (a folder under :data:`CONFIGS`), random weights, eval mode, in the default
    dtype and on the default device (fp32 on the CPU unless the caller sets them); ``full``: at the published
    sizes, without the overrides (the test tokenizer and its vocabulary stay)."""
    import diffusers
    import torch

    pipe_spec = json.loads((CONFIGS / checkpoint / "pipeline.json").read_text())
    parts: dict[str, Any] = {}
    for i, (name, file) in enumerate(pipe_spec["components"].items()):
        if name.startswith("tokenizer"):
            parts[name] = _tokenizer_of(file)
            continue
        torch.manual_seed(seed + i)
        cfg = component_config(checkpoint, file, full=full)
        if full and "vocab_size" in cfg["config"]:
            cfg["config"]["vocab_size"] = 260  # the test tokenizer's; the embedding table is not what is timed
        parts[name] = _build(cfg)
    cls = getattr(diffusers, pipe_spec["class"])
    return cls(**parts, **pipe_spec.get("config", {}))


def write(checkpoint: str, out: Path) -> Path:
    """Builds ``checkpoint`` and saves it to ``out`` (``save_pretrained``, safetensors)."""
    pipe = build(checkpoint)
    pipe.save_pretrained(out, safe_serialization=True)
    return out


#: The config file a component's ``save_config`` writes, by how its class name ends (diffusers: schedulers,
#: guiders; transformers: image processors); anything else writes ``config.json``.
_CONFIG_FILES = (("Scheduler", "scheduler_config.json"), ("Guidance", "guider_config.json"))


def _config_file(spec: dict[str, Any]) -> str:
    if spec["library"] == "transformers":
        return "preprocessor_config.json" if spec.get("processor") else "config.json"
    return next((f for end, f in _CONFIG_FILES if spec["class"].endswith(end)), "config.json")


def write_configs(checkpoint: str, out: Path, full: bool = True) -> Path:
    """Writes the JSON files of ``checkpoint``'s pipeline folder to ``out``, without weights and without torch:
    ``model_index.json`` (the pipeline class, each component as ``[library, class]``, absent optional
    components as ``[null, null]``, the pipeline's own config such as ``boundary_ratio``) and each component's
    config (``config.json``, ``scheduler_config.json``, ...), as ``save_config`` writes them (benchmarks/bench_gpu.py's
    ``cached``). ``full``: the published configs (the default, what a downloaded checkpoint holds); False: with
    the tests' overrides, as :func:`write` saves them.

    Returns:
        ``out``.
    """
    pipe_spec = json.loads((CONFIGS / checkpoint / "pipeline.json").read_text())
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {"_class_name": pipe_spec["class"], "_diffusers_version": "0.42.1"}
    for name, file in pipe_spec["components"].items():
        if name.startswith("tokenizer"):
            index[name] = ["transformers", "ByT5Tokenizer" if file == "byt5" else "PreTrainedTokenizerFast"]
            continue
        spec = component_config(checkpoint, file, full=full)
        index[name] = [spec["library"], spec["class"]]
        data = dict(spec["config"])
        if spec["library"] == "diffusers":
            data = {"_class_name": spec["class"], "_diffusers_version": "0.42.1", **data}
        (out / name).mkdir(exist_ok=True)
        (out / name / _config_file(spec)).write_text(json.dumps(data, indent=2) + "\n")
    for key, value in pipe_spec.get("config", {}).items():
        index[key] = [None, None] if value is None else value
    (out / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")
    return out
