"""The AnimateDiff adapter: the torch side of :mod:`vidstudio.families.animatediff`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidstudio.backend.adapters import FamilyAdapter, Plan, fit_image, to_pil, video_frames, video_to_video_strength
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register
from vidstudio.backend.loader import apply_pipeline_offload, dtype_kwargs
from vidstudio.backend.locate import hf_offline
from vidstudio.errors import ModelError, NodeError
from vidstudio.families.animatediff import WINDOW as ANIMATEDIFF_WINDOW


@register("animatediff")
class AnimateDiffAdapter(FamilyAdapter):
    """AnimateDiff: AnimateDiffPipeline (text-to-video; FreeNoise for prompt schedules and long videos),
    AnimateDiffVideoToVideoPipeline (guide video), AnimateDiffSparseControlNetPipeline (RGB keyframes),
    IP-Adapter (style references)."""

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        base = L.pipe
        notes: list[str] = []
        cleanup: list[Callable[[], None]] = []
        kw: dict[str, Any] = {
            "negative_prompt": bundle.negative_prompt or None,
            "guidance_scale": self.guidance(bundle),
            "num_inference_steps": bundle.steps,
            "height": height,
            "width": width,
        }
        window = int(getattr(base.unet.config, "motion_max_seq_length", 32) or 32)
        schedule = {int(k): v for k, v in bundle.prompt_schedule.items() if v.strip()}
        if bundle.keyframes:
            if frames > window:
                raise NodeError(
                    f"AnimateDiff with SparseCtrl keyframes makes at most {window} frames (the motion "
                    f"module's window), {frames} were asked; FreeNoise long videos do not work with "
                    "SparseCtrl"
                )
            src = self._find_extra(self.ref.sparsectrl, "sparsectrl", "SparseCtrl")
            if src is None:
                raise ModelError(
                    "AnimateDiff keyframes need a SparseCtrl RGB model: set the Load Model node's "
                    "'sparsectrl' (e.g. guoyww/animatediff-sparsectrl-rgb) or put one in "
                    f"{L.location.folder / 'sparsectrl'}"
                )
            cn = L.extras.get(("sparsectrl", src))
            if cn is None:
                from diffusers import SparseControlNetModel

                try:
                    cn = SparseControlNetModel.from_pretrained(
                        src, **dtype_kwargs(L.dtype), local_files_only=hf_offline()
                    ).to(L.device)
                except (OSError, ValueError) as e:
                    raise ModelError(f"SparseCtrl model {src} could not be loaded: {e}") from None
                L.extras[("sparsectrl", src)] = cn
            pipe = L.task_pipeline("AnimateDiffSparseControlNetPipeline", controlnet=cn)
            kfs = sorted(bundle.keyframes, key=lambda k: k.frame)
            kw.update(
                prompt=bundle.prompt,
                num_frames=frames,
                conditioning_frames=[fit_image(k.image, width, height) for k in kfs],
                controlnet_frame_indices=[k.frame for k in kfs],
                controlnet_conditioning_scale=1.0,
            )
            noise_via = "latents"
        elif bundle.guide is not None:
            pipe = L.task_pipeline("AnimateDiffVideoToVideoPipeline")
            kw.update(
                prompt=bundle.prompt,
                video=video_frames(bundle.guide, frames, width, height, notes),
                strength=video_to_video_strength(bundle),
            )
            noise_via = "hook"
        else:
            pipe = L.task_pipeline("AnimateDiffPipeline")
            kw.update(prompt=bundle.prompt, num_frames=frames)
            noise_via = "latents"
        if not bundle.keyframes and (schedule or frames > window):
            ctx = min(ANIMATEDIFF_WINDOW, frames)
            pipe.enable_free_noise(context_length=ctx, context_stride=max(1, ctx // 4))
            cleanup.append(pipe.disable_free_noise)
            if schedule:
                prompts = {0: bundle.prompt}
                prompts.update({k: v for k, v in schedule.items() if k < frames})
                late = sorted(k for k in schedule if k >= frames)
                if late:
                    notes.append(
                        f"prompt schedule: frame(s) {', '.join(map(str, late))} are beyond the {frames} "
                        "frames generated and not used"
                    )
                kw["prompt"] = dict(sorted(prompts.items()))
                if kw["negative_prompt"] is None:
                    kw["negative_prompt"] = ""
            notes.append(
                f"FreeNoise: {ctx}-frame windows, stride {max(1, ctx // 4)}"
                + (f", prompt schedule at frames {sorted(kw['prompt'])}" if schedule else "")
            )
        if bundle.style:
            self._ensure_ip_adapter(pipe)
            pipe.set_ip_adapter_scale(float(bundle.style_strength))
            kw["ip_adapter_image"] = [[to_pil(s) for s in bundle.style]]
        elif L.ip_adapter is not None:
            L.pipe.unload_ip_adapter()
            L.ip_adapter = None
        s = int(base.vae_scale_factor)
        C = int(base.unet.config.in_channels)
        return Plan(
            pipe,
            kw,
            (C, frames, height // s, width // s),
            1,
            s,
            layout="BCTHW",
            noise_layout="BTCHW" if noise_via == "hook" else "BCTHW",
            noise_via=noise_via,
            cleanup=cleanup,
            notes=notes,
        )

    def _ensure_ip_adapter(self, pipe: Any) -> None:
        L = self.loaded
        src = self._find_extra(self.ref.ip_adapter, "ip_adapter", "IP-Adapter")
        if src is not None and Path(src).is_dir():
            files = sorted(Path(src).glob("*.safetensors")) + sorted(Path(src).glob("*.bin"))
            src = str(files[0]) if files else None
        if src is None:
            raise ModelError(
                "AnimateDiff style references need IP-Adapter weights: set the Load Model node's "
                "'ip_adapter' (e.g. h94/IP-Adapter/models/ip-adapter_sd15.safetensors) or put them in "
                f"{L.location.folder / 'ip_adapter'}"
            )
        if L.ip_adapter != src:
            if L.ip_adapter is not None:
                L.pipe.unload_ip_adapter()
            p = Path(src)
            try:
                if p.is_file():
                    L.pipe.load_ip_adapter(
                        str(p.parent), subfolder="", weight_name=p.name, image_encoder_folder="image_encoder"
                    )
                else:
                    parts = src.split("/")
                    if len(parts) < 3:
                        raise ModelError(
                            f"IP-Adapter {src!r}: expected a local weights file or "
                            "org/name/[subfolder/]file.safetensors"
                        )
                    L.pipe.load_ip_adapter(
                        "/".join(parts[:2]),
                        subfolder="/".join(parts[2:-1]),
                        weight_name=parts[-1],
                        local_files_only=hf_offline(),
                    )
            except (OSError, ValueError) as e:
                raise ModelError(f"IP-Adapter {src} could not be loaded: {e}") from None
            if L.pipe.image_encoder is not None:
                L.pipe.image_encoder.to(L.device, L.dtype)
            L.ip_adapter = src
        if pipe is not L.pipe:
            pipe.register_modules(image_encoder=L.pipe.image_encoder, feature_extractor=L.pipe.feature_extractor)
        if L.ref.offload in ("model", "sequential") and L.device != "cpu":
            apply_pipeline_offload(pipe, L.ref.offload, L.device)  # the image encoder joins the offload hooks
