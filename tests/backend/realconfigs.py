"""Pipelines built from the published configurations of real checkpoints, kept as small JSON files under
``tests/backend/configs/<checkpoint>/`` (each names its source; ``overrides`` are the only changes, with the
reason in ``why``: layers cut to one, and widths only where a full-width block would not fit a test process).

Random weights; saved with ``save_pretrained`` and loaded back through VidStudio's loader by the tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFIGS = Path(__file__).parent / "configs"


def component_config(checkpoint: str, file: str) -> dict[str, Any]:
    """The published config of one component with the overrides applied."""
    spec = json.loads((CONFIGS / checkpoint / file).read_text())
    cfg = dict(spec["config"])
    cfg.update(spec.get("overrides", {}))
    for key in spec.get("dropped", {}):  # keys newer than the installed library, each with its reason
        cfg.pop(key, None)
    return spec | {"config": cfg}


def _build(spec: dict[str, Any]) -> Any:
    import torch

    if spec["library"] == "transformers":
        import transformers

        cfg = getattr(transformers, spec["config_class"])(**spec["config"])
        return getattr(transformers, spec["class"])(cfg).eval()
    import diffusers

    cls = getattr(diffusers, spec["class"])
    if issubclass(cls, torch.nn.Module):
        return cls(**spec["config"]).eval()
    return cls.from_config(spec["config"])


def build(checkpoint: str, seed: int = 0) -> Any:
    """The pipeline of ``checkpoint`` (a folder under :data:`CONFIGS`), random weights, eval mode, fp32."""
    import diffusers
    import torch

    from vidstudio.backend.tiny import _tokenizer

    pipe_spec = json.loads((CONFIGS / checkpoint / "pipeline.json").read_text())
    parts: dict[str, Any] = {}
    for i, (name, file) in enumerate(pipe_spec["components"].items()):
        if name.startswith("tokenizer"):
            parts[name] = _tokenizer()
            continue
        torch.manual_seed(seed + i)
        parts[name] = _build(component_config(checkpoint, file))
    cls = getattr(diffusers, pipe_spec["class"])
    return cls(**parts, **pipe_spec.get("config", {}))


def write(checkpoint: str, out: Path) -> Path:
    """Builds ``checkpoint`` and saves it to ``out`` (``save_pretrained``, safetensors)."""
    pipe = build(checkpoint)
    pipe.save_pretrained(out, safe_serialization=True)
    return out
