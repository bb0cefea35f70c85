"""The CogVideoX adapter: the torch side of :mod:`vidstudio.families.cogvideox`."""

from __future__ import annotations

from typing import Any

from vidstudio.backend.adapters import FamilyAdapter, Plan, fit_image, video_frames, video_to_video_strength
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register


@register("cogvideox")
class CogVideoXAdapter(FamilyAdapter):
    """CogVideoX: CogVideoXPipeline (text-to-video), CogVideoXImageToVideoPipeline (first frame, on an i2v
    checkpoint), CogVideoXVideoToVideoPipeline (guide video, on a t2v checkpoint)."""

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        notes: list[str] = []
        kw: dict[str, Any] = {
            "prompt": bundle.prompt,
            "negative_prompt": bundle.negative_prompt or None,
            "guidance_scale": self.guidance(bundle),
            "num_inference_steps": bundle.steps,
            "height": height,
            "width": width,
            "max_sequence_length": int(L.pipe.transformer.config.max_text_seq_length),
        }
        if L.variant == "i2v":
            pipe = L.task_pipeline("CogVideoXImageToVideoPipeline")
            kf0 = next(k for k in bundle.keyframes if k.frame == 0)
            kw.update(image=fit_image(kf0.image, width, height), num_frames=frames)
            noise_via = "latents"
        elif bundle.guide is not None:
            pipe = L.task_pipeline("CogVideoXVideoToVideoPipeline")
            kw.update(
                video=video_frames(bundle.guide, frames, width, height, notes), strength=video_to_video_strength(bundle)
            )
            noise_via = "hook"
        else:
            pipe = L.task_pipeline("CogVideoXPipeline")
            kw["num_frames"] = frames
            noise_via = "latents"
        tr, sr = int(pipe.vae_scale_factor_temporal), int(pipe.vae_scale_factor_spatial)
        C = int(pipe.vae.config.latent_channels)
        t_lat = (frames - 1) // tr + 1
        lead = 0
        pt = pipe.transformer.config.get("patch_size_t")
        if pt and noise_via == "latents" and t_lat % pt:
            lead = pt - t_lat % pt  # CogVideoX 1.5 pads latent frames at the front
        plan = Plan(
            pipe,
            kw,
            (C, t_lat, height // sr, width // sr),
            tr,
            sr,
            layout="BTCHW",
            lead_frames=lead,
            noise_via=noise_via,
            notes=notes,
        )
        if L.variant == "i2v":
            plan = self.image_to_video_hook(plan, bundle)  # per-family image-to-video extension point
        return plan
