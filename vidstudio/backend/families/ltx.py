"""The LTX-Video adapter: the torch side of :mod:`vidstudio.families.ltx`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidstudio.backend.adapters import FamilyAdapter, Plan, fit_image, video_frames
from vidstudio.backend.bundle import Conditioning
from vidstudio.backend.families import register
from vidstudio.errors import ModelError, NodeError

#: Denoise strength of the refinement pass after latent upsampling (the LTX-Video 0.9.7 / 0.9.8 model cards'
#: two-stage recipe in diffusers' LTXConditionPipeline documentation).
REFINE_STRENGTH = 0.4


@register("ltx")
class LTXAdapter(FamilyAdapter):
    """LTX-Video: LTXPipeline (text-to-video) and LTXConditionPipeline (keyframes and the guide video as
    ``LTXVideoCondition`` items at frame indices).

    With Load Model's ``latent_upsampler`` set, a run has two stages (diffusers' documented multi-scale
    recipe): LTXConditionPipeline at half the width and height (``output_type="latent"``), the latents upsampled
    2x by ``LTXLatentUpsamplePipeline``, then LTXConditionPipeline again at the full size from the upsampled
    latents with ``denoise_strength`` :data:`REFINE_STRENGTH`, decoded. Width and height must then be multiples
    of 64 (half of them multiples of 32); trajectory noise, previews and the step count are those of the first
    stage (the refinement runs ``int(steps x 0.4)`` steps, at least one, reported as further steps).
    """

    def plan(self, bundle: Conditioning, width: int, height: int, frames: int, fps: float) -> Plan:
        L = self.loaded
        notes: list[str] = []
        upsampler = self.ref.latent_upsampler.strip()
        if upsampler and (width % 64 or height % 64):
            raise NodeError(
                f"LTX-Video with a latent upsampler generates at half the size and upsamples 2x: width "
                f"and height must be multiples of 64, got {width}x{height}"
            )
        W, H = (width // 2, height // 2) if upsampler else (width, height)
        kw: dict[str, Any] = {
            "prompt": bundle.prompt,
            "negative_prompt": bundle.negative_prompt or None,
            "guidance_scale": self.guidance(bundle),
            "num_inference_steps": bundle.steps,
            "height": H,
            "width": W,
            "num_frames": frames,
            "frame_rate": max(1, int(round(fps))),
        }
        if getattr(L.pipe.vae.config, "timestep_conditioning", False):
            kw.update(decode_timestep=0.05, decode_noise_scale=0.025)  # LTX-Video 0.9.1+ model card values
        if bundle.keyframes or bundle.guide is not None or upsampler:
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

            pipe = L.task_pipeline("LTXConditionPipeline")
            conds = []
            if bundle.guide is not None:
                tr = int(pipe.vae_temporal_compression_ratio)
                start = int(bundle.guide_start)
                n = min(frames - start, len(bundle.guide))
                n = ((n - 1) // tr) * tr + 1  # a video condition is k * ratio + 1 frames
                conds.append(
                    LTXVideoCondition(
                        video=video_frames(bundle.guide, n, W, H, notes),
                        frame_index=start,
                        strength=float(bundle.guide_strength),
                    )
                )
            for k in sorted(bundle.keyframes, key=lambda k: k.frame):
                conds.append(LTXVideoCondition(image=fit_image(k.image, W, H), frame_index=int(k.frame), strength=1.0))
            kw["conditions"] = conds or None
            noise_via, noise_layout = "hook", "BCTHW"
        else:
            pipe = L.task_pipeline("LTXPipeline")
            noise_via, noise_layout = "latents", "packed"
        tr, sr = int(pipe.vae_temporal_compression_ratio), int(pipe.vae_spatial_compression_ratio)
        C = int(pipe.transformer.config.in_channels)
        shape = (C, (frames - 1) // tr + 1, H // sr, W // sr)
        packing = (int(pipe.transformer_spatial_patch_size), int(pipe.transformer_temporal_patch_size))
        plan = Plan(
            pipe,
            kw,
            shape,
            tr,
            sr * (2 if upsampler else 1),
            layout="packed",
            noise_layout=noise_layout,
            noise_via=noise_via,
            notes=notes,
            packing=packing,
        )
        if upsampler:
            up = self._upsampler(upsampler)
            if bundle.guide is not None:
                notes.append("latent upsampler: the guide video conditions the first stage only")
            notes.append(
                f"two stages: {W}x{H}, latents upsampled 2x ({upsampler}), refined at {width}x{height} "
                f"with denoise strength {REFINE_STRENGTH}"
            )

            def call(kwargs: dict[str, Any]) -> Any:
                first = dict(kwargs, output_type="latent")
                latents = pipe(**first).frames
                upscaled = up(latents=latents, output_type="latent").frames
                step_end = kwargs.get("callback_on_step_end")
                second = dict(kwargs, width=width, height=height, latents=upscaled, denoise_strength=REFINE_STRENGTH)
                second["conditions"] = [
                    LTXVideoCondition(image=fit_image(k.image, width, height), frame_index=int(k.frame), strength=1.0)
                    for k in sorted(bundle.keyframes, key=lambda k: k.frame)
                ] or None
                if step_end is not None:  # progress and cancel in the refinement too; previews are the first stage's
                    second["callback_on_step_end"] = lambda p, i, t, k: (step_end(p, i, t, {}), k)[1]
                return pipe(**second)

            plan.call = call
        return plan

    def _upsampler(self, spec: str) -> Any:
        """The ``LTXLatentUpsamplePipeline`` for ``spec`` (a pipeline folder, a ``LTXLatentUpsamplerModel`` folder
        or a repo id), sharing the loaded VAE; cached on the loaded model.

        Raises:
            ModelError: when it cannot be loaded, naming what was tried.
        """
        L = self.loaded
        key = ("latent_upsampler", spec)
        if key in L.extras:
            return L.extras[key]
        from diffusers import LTXLatentUpsamplePipeline
        from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

        from vidstudio.backend.loader import dtype_kwargs

        path = Path(self._find_extra(spec, "latent_upsampler", "latent upsampler") or spec)
        sub = path / "latent_upsampler" if (path / "model_index.json").exists() else path
        try:
            model = LTXLatentUpsamplerModel.from_pretrained(str(sub), **dtype_kwargs(L.dtype))
        except (OSError, ValueError) as e:
            raise ModelError(
                f"latent upsampler {spec}: cannot load an LTXLatentUpsamplerModel from {sub} ({e}); "
                "give an LTXLatentUpsamplePipeline folder (e.g. Lightricks/ltxv-spatial-upscaler-0.9.7) "
                "or its latent_upsampler folder"
            ) from None
        up = LTXLatentUpsamplePipeline(vae=L.pipe.vae, latent_upsampler=model.to(L.device).eval())
        up.set_progress_bar_config(disable=True)
        L.extras[key] = up
        return up
