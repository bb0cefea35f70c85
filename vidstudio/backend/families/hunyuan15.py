"""The HunyuanVideo 1.5 adapter: the torch side of :mod:`vidstudio.families.hunyuan15`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vidstudio.backend.adapters import FamilyAdapter, Plan, fit_image
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register


@register("hunyuan15")
class HunyuanVideo15Adapter(FamilyAdapter):
    """HunyuanVideo 1.5: HunyuanVideo15Pipeline (text-to-video) and HunyuanVideo15ImageToVideoPipeline (a
    keyframe at frame 0).

    Two things differ from the other families' pipelines (diffusers 0.42.1):

    - the guidance scale is not a call argument: the pipeline's ``guider`` (``ClassifierFreeGuidance``) holds it,
      so it is set on the guider for the call and restored afterwards (scale 1 turns the unconditional pass off);
    - the image-to-video pipeline takes no ``height``/``width``: it picks the size bucket of the checkpoint's
      ``target_size`` nearest the image's aspect ratio (``calculate_default_height_width``). The requested
      (validated) size is used instead for the call, so the output has the size the graph asked for.
    """

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        notes: list[str] = []
        kw: dict[str, Any] = {
            "prompt": bundle.prompt,
            "negative_prompt": bundle.negative_prompt or None,
            "num_inference_steps": bundle.steps,
            "num_frames": frames,
        }
        cleanup: list[Callable[[], None]] = []
        kf0 = next((k for k in bundle.keyframes if k.frame == 0), None)
        if L.variant == "i2v":
            pipe = L.task_pipeline(self.spec.pipelines["i2v"])
            kw["image"] = fit_image(kf0.image, width, height)
            vp = pipe.video_processor
            vp.calculate_default_height_width = lambda *_a, _s=(height, width), **_k: _s
            cleanup.append(lambda: vp.__dict__.pop("calculate_default_height_width", None))
        else:
            pipe = L.task_pipeline(self.spec.pipelines["t2v"])
            kw.update(height=height, width=width)
        cleanup += self._guidance(pipe, self.guidance(bundle), notes, bool(bundle.negative_prompt))
        tr, sr = int(pipe.vae_scale_factor_temporal), int(pipe.vae_scale_factor_spatial)
        C = int(pipe.num_channels_latents)
        plan = Plan(
            pipe,
            kw,
            (C, (frames - 1) // tr + 1, height // sr, width // sr),
            tr,
            sr,
            layout="BCTHW",
            noise_via="latents",
            notes=notes,
            cleanup=cleanup,
        )
        if "image" in kw:
            plan = self.image_to_video_hook(plan, bundle)  # per-family image-to-video extension point
        return plan

    @staticmethod
    def _guidance(pipe: Any, scale: float, notes: list[str], negative: bool) -> list[Callable[[], None]]:
        """Sets the guider's ``guidance_scale`` for this call; returns the function that restores it."""
        guider = pipe.guider
        old = guider.guidance_scale
        guider.guidance_scale = float(scale)
        if negative and scale <= 1.0:
            notes.append("negative_prompt: guidance scale 1 runs no unconditional pass, so it has no effect")

        def restore() -> None:
            guider.guidance_scale = old

        return [restore]
