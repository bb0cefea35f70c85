"""The Wan 2.1 / 2.2 adapter: the torch side of :mod:`vidstudio.families.wan`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from vidstudio.backend.adapters import (
    FamilyAdapter,
    Plan,
    fit_image,
    rasterize_boxes,
    resample_masks,
    to_pil,
    video_frames,
    video_to_video_strength,
)
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register
from vidstudio.errors import ModelError, NodeError


@register("wan")
class WanAdapter(FamilyAdapter):
    """Wan 2.1 / 2.2: WanPipeline (text-to-video), WanVideoToVideoPipeline (guide video),
    WanImageToVideoPipeline (first frame, first and last frame), WanVACEPipeline (keyframes at any frame,
    control video, masks, reference images)."""

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
        }
        variant = L.variant
        lead = 0
        if variant == "vace":
            pipe = L.task_pipeline(self.spec.pipelines["vace"])
            kw["num_frames"] = frames
            video = mask = None
            if bundle.guide is not None or bundle.keyframes or bundle.masks is not None:
                video = [np.full((height, width, 3), 0.5, np.float32) for _ in range(frames)]  # gray: no control
                if bundle.guide is not None:
                    start = int(bundle.guide_start)
                    n = min(frames - start, len(bundle.guide))
                    for i, f in enumerate(video_frames(bundle.guide, n, width, height, notes)):
                        video[start + i] = np.asarray(f, np.float32) / 255.0
                m = np.ones((frames, height, width), np.float32)
                if bundle.masks is not None:
                    m = resample_masks(bundle.masks, frames, width, height)
                elif bundle.guide is not None and bundle.boxes is not None and bundle.boxes_as_mask:
                    m = rasterize_boxes(bundle.boxes, frames, width, height, (width, height))
                    notes.append("VACE mask from the boxes: inside them is generated, the rest follows the guide video")
                for k in bundle.keyframes:
                    video[k.frame] = np.asarray(fit_image(k.image, width, height), np.float32) / 255.0
                    m[k.frame] = 0.0
                video = [Image.fromarray((np.clip(f, 0, 1) * 255 + 0.5).astype(np.uint8)) for f in video]
                mask = [Image.fromarray((m[i] * 255 + 0.5).astype(np.uint8), "L") for i in range(frames)]
                kw["conditioning_scale"] = float(bundle.guide_strength) if bundle.guide is not None else 1.0
            kw["video"], kw["mask"] = video, mask
            if bundle.style:
                kw["reference_images"] = [to_pil(s) for s in bundle.style]
                lead = len(bundle.style)
            noise_via = "latents"
        elif variant == "i2v" or (variant == "ti2v" and any(k.frame == 0 for k in bundle.keyframes)):
            pipe = L.task_pipeline(self.spec.pipelines["i2v"])
            kfs = {k.frame: k for k in bundle.keyframes}
            kw.update(num_frames=frames, image=fit_image(kfs[0].image, width, height))
            if frames - 1 in kfs and frames > 1 and variant == "i2v":
                tcfg = pipe.transformer.config if pipe.transformer is not None else pipe.transformer_2.config
                if getattr(pipe, "image_encoder", None) is not None and tcfg.get("pos_embed_seq_len") is None:
                    raise ModelError(
                        "this Wan image-to-video checkpoint takes a first frame only; a last frame too "
                        "needs a first-and-last-frame checkpoint (e.g. "
                        "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers or Wan-AI/Wan2.2-I2V-A14B-Diffusers) "
                        "or a VACE one"
                    )
                kw["last_image"] = fit_image(kfs[frames - 1].image, width, height)
            noise_via = "latents"
        elif bundle.guide is not None:
            pipe = L.task_pipeline(self.spec.pipelines["v2v"])
            kw.update(
                video=video_frames(bundle.guide, frames, width, height, notes), strength=video_to_video_strength(bundle)
            )
            noise_via = "hook"
        else:
            pipe = L.task_pipeline(self.spec.pipelines["t2v"])
            kw["num_frames"] = frames
            noise_via = "latents"
        cleanup = self._experts(pipe, bundle, kw, notes)
        tr, sr = int(pipe.vae_scale_factor_temporal), int(pipe.vae_scale_factor_spatial)
        C = int(pipe.vae.config.z_dim)
        plan = Plan(
            pipe,
            kw,
            (C, (frames - 1) // tr + 1, height // sr, width // sr),
            tr,
            sr,
            layout="BCTHW",
            lead_frames=lead,
            noise_via=noise_via,
            notes=notes,
            cleanup=cleanup,
        )
        if "image" in kw:
            plan = self.image_to_video_hook(plan, bundle)  # per-family image-to-video extension point
        return plan

    def _experts(
        self, pipe: Any, bundle: Conditioning, kw: dict[str, Any], notes: list[str]
    ) -> list[Callable[[], None]]:
        """Wan 2.2 A14B's two experts: ``guidance_scale_2`` for the low-noise expert, and the bundle's
        ``boundary_ratio`` set on the pipeline's config for this call (restored afterwards). On a one-expert
        checkpoint both are noted as not applying.

        Returns:
            the cleanup functions (restore the boundary ratio).
        """
        two = getattr(pipe, "transformer_2", None) is not None and pipe.config.get("boundary_ratio") is not None
        if not two:
            for name in ("guidance_scale_2", "boundary_ratio"):
                if getattr(bundle, name) is not None:
                    notes.append(f"{name} applies to two-expert checkpoints (Wan 2.2 A14B) only; ignored")
            return []
        ck = self.checkpoint
        kw["guidance_scale_2"] = (
            float(bundle.guidance_scale_2)
            if bundle.guidance_scale_2 is not None
            else float(ck.guidance_2)
            if ck is not None and ck.guidance_2 is not None
            else kw["guidance_scale"]
        )
        if bundle.boundary_ratio is None:
            return []
        if not 0.0 < float(bundle.boundary_ratio) < 1.0:
            raise NodeError(
                f"param 'boundary_ratio': {bundle.boundary_ratio:g} is outside 0..1 (the fraction of the "
                "noise schedule the high-noise expert runs above)"
            )
        old = pipe.config.boundary_ratio
        pipe.register_to_config(boundary_ratio=float(bundle.boundary_ratio))
        notes.append(f"two experts: boundary_ratio {float(bundle.boundary_ratio):g} (the checkpoint's is {old:g})")
        return [lambda: pipe.register_to_config(boundary_ratio=old)]
