"""AnimateDiff: a Stable Diffusion 1.5 UNet with a motion module (``AnimateDiffPipeline`` and its siblings)."""

from __future__ import annotations

from vidstudio.families._spec import Configs, FamilySpec, FrameLimit, GeometryRule, Support, Variant, lcm, vae_spatial

#: Frames the AnimateDiff motion module sees at once; longer clips go through FreeNoise windows.
WINDOW = 16
#: The AnimateDiff motion module's longest sequence (``motion_max_seq_length``); SparseCtrl keyframes cannot go
#: through FreeNoise, so a clip with keyframes is at most this long.
MAX_FRAMES = 32


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = the VAE's spatial compression (at least 8); any frame count."""
    return GeometryRule(frame_step=1, side_multiple=lcm(8, vae_spatial(c.vae)), source=c.folder)


SPEC = FamilySpec(
    id="animatediff",
    title="AnimateDiff (Stable Diffusion 1.5 + motion module)",
    order=0,
    pipelines={
        "t2v": "AnimateDiffPipeline",
        "v2v": "AnimateDiffVideoToVideoPipeline",
        "keyframes": "AnimateDiffSparseControlNetPipeline",
    },
    variants=(
        Variant(
            "t2v",
            "an AnimateDiff pipeline (motion adapter included)",
            ("AnimateDiffPipeline", "AnimateDiffSparseControlNetPipeline", "AnimateDiffVideoToVideoPipeline"),
            example="guoyww/animatediff-motion-adapter-v1-5-3 on a Stable Diffusion 1.5 model",
        ),
        Variant(
            "sd15",
            "a Stable Diffusion 1.5 pipeline, with Load Model's motion_adapter",
            ("StableDiffusionPipeline",),
            loads_as="t2v",
            tiny=False,
            example="stable-diffusion-v1-5/stable-diffusion-v1-5 + guoyww/animatediff-motion-adapter-v1-5-3",
        ),
    ),
    controls={
        "text": Support("AnimateDiffPipeline prompt"),
        "prompt_schedule": Support("FreeNoise (enable_free_noise) with a {frame: prompt} dict", cell="yes (FreeNoise)"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support(
            "AnimateDiffSparseControlNetPipeline conditioning_frames + controlnet_frame_indices",
            needs="a SparseCtrl RGB model (Load Model 'sparsectrl', or a 'sparsectrl' folder in the "
            "model folder), e.g. guoyww/animatediff-sparsectrl-rgb",
            cell="any frame (SparseCtrl)",
        ),
        "guide_video": Support(
            "AnimateDiffVideoToVideoPipeline video + strength", frames="first", cell="yes (video-to-video)"
        ),
        "trajectories": Support("trajectory-aware initial noise (latents)", cell="noise"),
        "camera": Support("camera-warped initial noise (latents)", cell="noise"),
        "style": Support(
            "IP-Adapter (ip_adapter_image, set_ip_adapter_scale)",
            needs="IP-Adapter weights (Load Model 'ip_adapter', or an 'ip_adapter' folder in the model "
            "folder), e.g. h94/IP-Adapter/models/ip-adapter_sd15.safetensors",
            cell="IP-Adapter",
        ),
    },
    exclusive=(
        ("keyframes", "guide_video", "SparseCtrl keyframes and video-to-video are different pipelines"),
        ("keyframes", "prompt_schedule", "FreeNoise prompt schedules do not work with SparseCtrl"),
    ),
    frame_limits=(FrameLimit("keyframes", MAX_FRAMES, "longer clips (FreeNoise) cannot take keyframes"),),
    default_steps=25,
    recommended_steps=(20, 30),
    default_guidance=7.5,
    guidance_range=(5.0, 9.0),
    rule=GeometryRule(frame_step=1, side_multiple=8),
    refine_rule=refine_rule,
    native=(512, 512, 8),
    pipelines_text="AnimateDiffPipeline, AnimateDiffVideoToVideoPipeline, AnimateDiffSparseControlNetPipeline; "
    "FreeNoise; IP-Adapter",
    variants_text="AnimateDiff pipelines, or a Stable Diffusion 1.5 pipeline + `motion_adapter`",
    latent_format="SD 1.5 (4 ch): Comfy-Org/ComfyUI comfy/latent_formats.py (commit 75399d78), class SD15",
)
