"""Stable Video Diffusion: image-to-video with a spatio-temporal UNet (``StableVideoDiffusionPipeline``)."""

from __future__ import annotations

from vidstudio.families._spec import (
    CardSize,
    Checkpoint,
    Configs,
    FamilySpec,
    GeometryRule,
    Support,
    Variant,
    When,
    lcm,
    vae_spatial,
)

#: SVD's UNet: 1.52B parameters (Blattmann et al., Stable Video Diffusion, arXiv 2311.15127); no text encoder,
#: a CLIP ViT-H/14 image encoder (0.63B) instead.
_SVD = CardSize("", 1.52, 0.0, 0.63, "arXiv 2311.15127 (UNet 1.52B); CLIP ViT-H/14 image encoder")


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = the VAE's spatial compression (at least 8); frames = ``unet.config.num_frames``."""
    nf = c.unet.get("num_frames")
    return GeometryRule(
        frame_step=1, exact_frames=int(nf) if nf else None, side_multiple=lcm(8, vae_spatial(c.vae)), source=c.folder
    )


SPEC = FamilySpec(
    id="svd",
    title="Stable Video Diffusion",
    order=3,
    pipelines={"i2v": "StableVideoDiffusionPipeline"},
    variants=(
        Variant(
            "i2v",
            "image-to-video",
            ("StableVideoDiffusionPipeline",),
            example="stabilityai/stable-video-diffusion-img2vid-xt",
            requires=("keyframe0",),
            checkpoints=(
                Checkpoint(
                    "svd-xt",
                    "SVD-XT (25 frames)",
                    (When("unet/config.json", "num_frames", "==", 25),),
                    (
                        "stabilityai/stable-video-diffusion-img2vid-xt",
                        "stabilityai/stable-video-diffusion-img2vid-xt-1-1",
                    ),
                    sizes=(_SVD,),
                ),
                Checkpoint(
                    "svd",
                    "SVD (14 frames)",
                    (When("unet/config.json", "num_frames", "==", 14),),
                    ("stabilityai/stable-video-diffusion-img2vid",),
                    sizes=(_SVD,),
                ),
            ),
        ),
    ),
    controls={
        "keyframes": Support("StableVideoDiffusionPipeline image", frames="first"),
        "trajectories": Support("trajectory-aware initial noise (latents)", cell="noise"),
        "camera": Support("camera-warped initial noise (latents)", cell="noise"),
        "motion_signal": Support(
            "Time-to-Move on StableVideoDiffusionPipeline (vidstudio.backend.ttm)", cell="Time-to-Move"
        ),
        "motion_strength": Support("motion_bucket_id = round(254 * strength)", cell="motion bucket id"),
        "noise_aug": Support("noise_aug_strength", cell="noise augmentation"),
    },
    requires=("keyframe0",),
    default_steps=25,
    recommended_steps=(20, 30),
    default_guidance=3.0,
    guidance_range=(1.0, 3.0),
    rule=GeometryRule(frame_step=1, side_multiple=8, frames_text="the UNet's num_frames (14 for SVD, 25 for SVD-XT)"),
    refine_rule=refine_rule,
    fps_argument="fps",
    native=(1024, 576, 7),
    pipelines_text="StableVideoDiffusionPipeline",
    variants_text="one kind (`img2vid` 14 frames, `-xt` 25)",
    latent_format="SD 1.5 (4 ch): Comfy-Org/ComfyUI comfy/latent_formats.py (commit 75399d78), class SD15 "
    "(SVD's VAE shares SD 1.x's space)",
)
