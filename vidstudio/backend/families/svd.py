"""The Stable Video Diffusion adapter: the torch side of :mod:`vidstudio.families.svd`."""

from __future__ import annotations

from vidstudio.backend.adapters import FamilyAdapter, Plan, fit_image
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register


@register("svd")
class SVDAdapter(FamilyAdapter):
    """Stable Video Diffusion: StableVideoDiffusionPipeline (image-to-video) with motion bucket id, fps and
    noise augmentation."""

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        pipe = L.task_pipeline("StableVideoDiffusionPipeline")
        kf0 = next(k for k in bundle.keyframes if k.frame == 0)
        motion = 0.5 if bundle.motion_strength is None else float(bundle.motion_strength)
        kw = {
            "image": fit_image(kf0.image, width, height),
            "height": height,
            "width": width,
            "num_frames": frames,
            "num_inference_steps": bundle.steps,
            "min_guidance_scale": 1.0,
            "max_guidance_scale": self.guidance(bundle),
            "fps": max(2, int(round(fps))),
            "motion_bucket_id": int(round(254 * motion)),
            "noise_aug_strength": 0.02 if bundle.noise_aug is None else float(bundle.noise_aug),
            "decode_chunk_size": min(frames, 8),
        }
        s = int(pipe.vae_scale_factor)
        C = int(pipe.unet.config.in_channels) // 2
        plan = Plan(pipe, kw, (C, frames, height // s, width // s), 1, s, layout="BTCHW", noise_via="latents")
        return self.image_to_video_hook(plan, bundle)  # per-family image-to-video extension point
