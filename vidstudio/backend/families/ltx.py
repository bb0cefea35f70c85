"""The LTX-Video adapter: the torch side of :mod:`vidstudio.families.ltx`."""

from __future__ import annotations

from typing import Any

from vidstudio.backend.adapters import FamilyAdapter, Plan, fit_image, video_frames
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register


@register("ltx")
class LTXAdapter(FamilyAdapter):
    """LTX-Video: LTXPipeline (text-to-video) and LTXConditionPipeline (keyframes and the guide video as
    ``LTXVideoCondition`` items at frame indices)."""

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        notes: list[str] = []
        kw: dict[str, Any] = {"prompt": bundle.prompt, "negative_prompt": bundle.negative_prompt or None,
                              "guidance_scale": self.guidance(bundle), "num_inference_steps": bundle.steps,
                              "height": height, "width": width, "num_frames": frames,
                              "frame_rate": max(1, int(round(fps)))}
        if getattr(L.pipe.vae.config, "timestep_conditioning", False):
            kw.update(decode_timestep=0.05, decode_noise_scale=0.025)  # LTX-Video 0.9.1+ model card values
        if bundle.keyframes or bundle.guide is not None:
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition


            pipe = L.task_pipeline("LTXConditionPipeline")
            conds = []
            if bundle.guide is not None:
                tr = int(pipe.vae_temporal_compression_ratio)
                start = int(bundle.guide_start)
                n = min(frames - start, len(bundle.guide))
                n = ((n - 1) // tr) * tr + 1  # a video condition is k * ratio + 1 frames
                conds.append(LTXVideoCondition(video=video_frames(bundle.guide, n, width, height, notes),
                                               frame_index=start, strength=float(bundle.guide_strength)))
            for k in sorted(bundle.keyframes, key=lambda k: k.frame):
                conds.append(LTXVideoCondition(image=fit_image(k.image, width, height), frame_index=int(k.frame),
                                               strength=1.0))
            kw["conditions"] = conds
            noise_via, noise_layout = "hook", "BCTHW"
        else:
            pipe = L.task_pipeline("LTXPipeline")
            noise_via, noise_layout = "latents", "packed"
        tr, sr = int(pipe.vae_temporal_compression_ratio), int(pipe.vae_spatial_compression_ratio)
        C = int(pipe.transformer.config.in_channels)
        shape = (C, (frames - 1) // tr + 1, height // sr, width // sr)
        packing = (int(pipe.transformer_spatial_patch_size), int(pipe.transformer_temporal_patch_size))
        return Plan(pipe, kw, shape, tr, sr, layout="packed", noise_layout=noise_layout, noise_via=noise_via,
                    notes=notes, packing=packing)
