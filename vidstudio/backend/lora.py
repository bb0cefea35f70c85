"""LoRAs for one job: loaded into the cached base pipeline before the call, removed after it.

A LoRA (:class:`vidstudio.backend.bundle.LoraRef`, made by the Load LoRA node) is a ``.safetensors`` file or a
Hugging Face repo id with a weight name. Its state dict goes through the pipeline's own loader mixin
(``load_lora_weights``, e.g. diffusers' ``WanLoraLoaderMixin``), which converts the ComfyUI/original
(``diffusion_model.`` prefix) and musubi (``lora_unet_``) key layouts to diffusers'; several LoRAs combine
with ``set_adapters`` (one adapter per LoRA, its strength as the adapter weight). On a two-expert Wan 2.2
checkpoint a LoRA goes into the high-noise expert (``transformer``), the low-noise one (``transformer_2``, via
``load_into_transformer_2=True``) or both.

Before anything is injected, every LoRA layer of the converted state dict is looked up in the model: layers the
model lacks (a LoRA for another family or another checkpoint size) are a :class:`vidstudio.errors.ModelError`
naming the file and some of the missing layers. After the job ``unload_lora_weights`` restores the base
modules, so the loaded-pipeline cache keeps the base and the next job without the LoRA gives the base frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidstudio.backend.bundle import Conditioning, LoraRef
from vidstudio.errors import ModelError

#: ``<module path>.<lora A/B name>[.<adapter>].weight`` in a converted (diffusers/peft) state dict.
_LORA_KEY = re.compile(
    r"^(?P<module>.+?)\.(?:lora_A|lora_B|lora_down|lora_up|lora\.down|lora\.up)(?:\.[^.]+)?\.(?:weight|bias)$"
)


def lora_label(lora: LoraRef) -> str:
    """How a LoRA is named in messages: its file name, or ``repo/weight_name``."""
    p = Path(lora.source)
    if p.suffix:
        return p.name
    return f"{lora.source}/{lora.weight_name}" if lora.weight_name else lora.source


def apply_preset(loras: tuple[LoraRef, ...], bundle: Conditioning, notes: list[str]) -> Conditioning:
    """The bundle with the steps and guidance scale of the last LoRA that carries a preset (step-distilled LoRAs
    such as LightX2V's: 4 steps, guidance 1), noted for the run report; ``bundle`` itself when none does."""
    import dataclasses

    for lora in reversed(loras):
        if lora.preset_steps or lora.preset_guidance is not None:
            changes: dict[str, Any] = {}
            said = []
            if lora.preset_steps:
                changes["steps"] = int(lora.preset_steps)
                said.append(f"{int(lora.preset_steps)} steps (instead of {bundle.steps})")
            if lora.preset_guidance is not None:
                changes["guidance_scale"] = float(lora.preset_guidance)
                changes["guidance_scale_2"] = float(lora.preset_guidance)
                said.append(f"guidance {float(lora.preset_guidance):g}")
            notes.append(f"LoRA {lora_label(lora)} preset: {', '.join(said)}")
            return dataclasses.replace(bundle, **changes)
    return bundle


def _resolve(lora: LoraRef, project_dir: Path | None) -> tuple[str, dict[str, Any]]:
    """``(path_or_repo, kwargs)`` for ``lora_state_dict``."""
    src = lora.source.strip()
    if not src:
        raise ModelError("Load LoRA: no LoRA chosen (a .safetensors file, or a Hugging Face repo id and weight name)")
    p = Path(src).expanduser()
    if not p.is_absolute() and project_dir is not None and (Path(project_dir) / p).exists():
        p = Path(project_dir) / p
    if p.is_file():
        return str(p), {}
    if p.is_dir():
        return str(p), ({"weight_name": lora.weight_name} if lora.weight_name else {})
    from vidstudio.backend.locate import hf_offline, looks_like_repo_id

    if not looks_like_repo_id(src):
        raise ModelError(
            f"LoRA file {p} does not exist; choose a .safetensors file or give a Hugging Face repo id "
            "(org/name) and the weight name"
        )
    kw: dict[str, Any] = {"local_files_only": hf_offline()}
    if lora.weight_name:
        kw["weight_name"] = lora.weight_name
    return src, kw


def _state_dict(pipe: Any, lora: LoraRef, project_dir: Path | None) -> dict[str, Any]:
    """The LoRA's state dict converted to diffusers keys by the pipeline's own ``lora_state_dict``."""
    label = lora_label(lora)
    if not hasattr(pipe, "load_lora_weights"):
        raise ModelError(
            f"LoRA {label}: {type(pipe).__name__} has no LoRA loader in diffusers, so LoRAs cannot be "
            "applied to this model"
        )
    src, kw = _resolve(lora, project_dir)
    try:
        out = pipe.lora_state_dict(src, **kw)
    except ModelError:
        raise
    except Exception as e:  # a conversion that does not fit, a missing file on the Hub, a corrupt file
        raise ModelError(
            f"LoRA {label} could not be read as a {type(pipe).__name__} LoRA (diffusers' converter "
            f"failed: {e.__class__.__name__}: {e}); is it a LoRA for this model family?"
        ) from None
    sd = out[0] if isinstance(out, tuple) else out
    if not isinstance(sd, dict) or not sd:
        raise ModelError(f"LoRA {label} holds no LoRA weights")
    return dict(sd)


def check_layers(pipe: Any, state_dict: dict[str, Any], label: str, components: tuple[str, ...]) -> None:
    """Checks that every LoRA layer of ``state_dict`` (converted keys, ``<component>.<module>.lora_A.weight``)
    names a module of the pipeline's ``components`` (``transformer``, ``unet``, ``text_encoder``...).

    Raises:
        ModelError: naming the file, how many layers are missing, some of them, and the likely cause.
    """
    names: dict[str, set[str]] = {}
    layers: set[str] = set()
    missing: set[str] = set()
    for key in state_dict:
        m = _LORA_KEY.match(key)
        module = m.group("module") if m else key
        layers.add(module)
        if not m:
            missing.add(module)
            continue
        comp, _, rest = module.partition(".")
        if comp not in components and comp not in ("text_encoder", "text_encoder_2"):
            comp, rest = components[0], module  # an unprefixed key goes to the denoiser
        model = getattr(pipe, comp, None)
        if model is None:
            missing.add(module)
            continue
        if comp not in names:
            names[comp] = {n for n, _ in model.named_modules()}
        if rest not in names[comp]:
            missing.add(module)
    if missing:
        some = ", ".join(sorted(missing)[:3])
        raise ModelError(
            f"LoRA {label} does not fit this {type(pipe).__name__}: {len(missing)} of its {len(layers)} "
            f"layers are not in the model (e.g. {some}); it is probably a LoRA for another model family "
            "or checkpoint size"
        )


def apply_loras(
    loaded: Any, loras: tuple[LoraRef, ...], project_dir: Path | None, notes: list[str]
) -> list[Callable[[], None]]:
    """Loads ``loras`` into ``loaded.pipe`` (shared by its task pipelines) with their strengths.

    Args:
        loaded: the :class:`vidstudio.backend.loader.LoadedModel`; loras: in Load LoRA chain order.
        project_dir: folder relative LoRA paths resolve against; notes: appended to (what was applied).

    Returns:
        the cleanup functions (unload every LoRA, restoring the base modules); empty without LoRAs.

    Raises:
        ModelError: a LoRA file is missing, cannot be converted, has layers the model lacks, or names an expert
            the checkpoint does not have (the message names the file). Anything loaded before is unloaded.
    """
    pipe = loaded.pipe
    leftover = loaded.extras.pop("loras", None)
    if leftover:
        _unload(pipe)
    if not loras:
        return []
    from diffusers.utils import USE_PEFT_BACKEND

    if not USE_PEFT_BACKEND:
        raise ModelError(
            f"LoRA {lora_label(loras[0])}: LoRAs need the peft package (pip install peft, or "
            "pip install 'vidstudio[models]'), which diffusers uses to load them"
        )
    two = getattr(pipe, "transformer_2", None) is not None
    denoiser = "unet" if getattr(pipe, "unet", None) is not None else "transformer"
    per_model: dict[str, tuple[list[str], list[float]]] = {}
    loaded.extras["loras"] = True
    try:
        for i, lora in enumerate(loras):
            label = lora_label(lora)
            expert = lora.expert or "both"
            if expert not in ("both", "high", "low"):
                raise ModelError(f"LoRA {label}: unknown expert {expert!r}; expected both, high or low")
            if expert != "both" and not two:
                notes.append(
                    f"LoRA {label}: expert '{expert}' applies to two-expert checkpoints (Wan 2.2 A14B); "
                    "loaded into the one transformer"
                )
                expert = "both"
            sd = _state_dict(pipe, lora, project_dir)
            name = f"vs{i}_" + re.sub(r"[^A-Za-z0-9_]", "_", Path(label).stem)[:40]
            targets = (
                [denoiser]
                if not two
                else {"both": ["transformer", "transformer_2"], "high": ["transformer"], "low": ["transformer_2"]}[
                    expert
                ]
            )
            for target in targets:
                check_layers(pipe, _for_target(sd, target), label, (target,))
                kw = {"load_into_transformer_2": True} if target == "transformer_2" else {}
                try:
                    pipe.load_lora_weights(dict(sd), adapter_name=name, **kw)
                except Exception as e:
                    raise ModelError(
                        f"LoRA {label} could not be loaded into the {target}: {e.__class__.__name__}: {e}"
                    ) from None
            for comp, adapters in pipe.get_list_adapters().items():
                if name in adapters:
                    per_model.setdefault(comp, ([], []))
                    per_model[comp][0].append(name)
                    per_model[comp][1].append(float(lora.strength))
            where = (
                ""
                if not two
                else {"both": " (both experts)", "high": " (high-noise expert)", "low": " (low-noise expert)"}[expert]
            )
            notes.append(f"LoRA {label} at strength {float(lora.strength):g}{where}")
        for comp, (names, weights) in per_model.items():
            model = getattr(pipe, comp)
            if hasattr(model, "set_adapters") and callable(model.set_adapters):
                try:
                    model.set_adapters(names, weights)
                    continue
                except TypeError:
                    pass
            from diffusers.loaders.lora_base import set_adapters_for_text_encoder

            set_adapters_for_text_encoder(names, model, weights)
    except BaseException:
        _unload(pipe)
        loaded.extras.pop("loras", None)
        raise

    def cleanup() -> None:
        _unload(pipe)
        loaded.extras.pop("loras", None)

    return [cleanup]


def _for_target(sd: dict[str, Any], target: str) -> dict[str, Any]:
    """The keys of ``sd`` that ``load_lora_weights`` puts into ``target`` (Wan's low-noise expert takes the
    ``transformer.`` keys too)."""
    if target == "transformer_2":
        return {
            ("transformer_2." + k[len("transformer.") :] if k.startswith("transformer.") else k): v
            for k, v in sd.items()
        }
    return sd


def _unload(pipe: Any) -> None:
    if hasattr(pipe, "unload_lora_weights"):
        pipe.unload_lora_weights()
