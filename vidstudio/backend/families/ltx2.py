"""The LTX-2 adapter: the torch side of :mod:`vidstudio.families.ltx2`."""

from __future__ import annotations

from typing import Any

from vidstudio.backend.adapters import FamilyAdapter, Plan, fit_image
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register
from vidstudio.errors import NodeError


@register("ltx2")
class LTX2Adapter(FamilyAdapter):
    """LTX-2: LTX2Pipeline (text-to-video and audio) and LTX2ImageToVideoPipeline (a keyframe at frame 0).

    The pipelines return the video and a waveform ``(B, channels, samples)`` at the vocoder's
    ``output_sampling_rate`` (24 kHz); :func:`vidstudio.backend.generate.generate` turns it into the result's
    :class:`vidstudio.media.audio.Audio`, fitted to the video's length. The audio guidance (``audio_guidance_scale``
    and the STG / modality scales) keeps the pipeline's defaults; ``guidance_scale`` is the video's.
    """

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        kw: dict[str, Any] = {
            "prompt": bundle.prompt,
            "negative_prompt": bundle.negative_prompt or None,
            "guidance_scale": self.guidance(bundle),
            "num_inference_steps": bundle.steps,
            "height": height,
            "width": width,
            "num_frames": frames,
            "frame_rate": float(fps),
        }
        if self.checkpoint is not None and self.checkpoint.distilled and bundle.guidance_scale is None:
            kw["audio_guidance_scale"] = 1.0  # a distilled checkpoint runs without guidance for both streams
        kf0 = next((k for k in bundle.keyframes if k.frame == 0), None)
        if kf0 is not None:
            if bundle.steps < 2:
                raise NodeError(
                    f"param 'steps': LTX-2 image-to-video needs at least 2 denoising steps, got "
                    f"{bundle.steps} (diffusers 0.42.1's LTX2ImageToVideoPipeline fails inside the "
                    "scheduler with one)"
                )
            pipe = L.task_pipeline(self.spec.pipelines["i2v"])
            kw["image"] = fit_image(kf0.image, width, height)
            noise_via, noise_layout = "hook", "BCTHW"
        else:
            pipe = L.task_pipeline(self.spec.pipelines["t2v"])
            noise_via, noise_layout = "latents", "packed"  # 5-D latents= would be read as clean latents
        tr, sr = int(pipe.vae_temporal_compression_ratio), int(pipe.vae_spatial_compression_ratio)
        C = int(pipe.transformer.config.in_channels)
        packing = (int(pipe.transformer_spatial_patch_size), int(pipe.transformer_temporal_patch_size))
        plan = Plan(
            pipe,
            kw,
            (C, (frames - 1) // tr + 1, height // sr, width // sr),
            tr,
            sr,
            layout="packed",
            noise_layout=noise_layout,
            noise_via=noise_via,
            packing=packing,
        )
        if "image" in kw:
            plan = self.image_to_video_hook(plan, bundle)  # per-family image-to-video extension point
        return plan

    def audio_sample_rate(self, pipe: Any) -> int:
        """The sample rate of the pipeline's waveform output (Hz): the vocoder's ``output_sampling_rate``."""
        return int(pipe.vocoder.config.output_sampling_rate)
