"""LTX-Video: a DiT over a 32x / 8x compressed latent space, with conditions at any frame."""

from __future__ import annotations

from vidstudio.families._spec import Configs, FamilySpec, GeometryRule, Support, Variant, lcm


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = VAE patch x 2 per spatio-temporal scaling stage x transformer patch (at least 32, the
    pipeline's own check); frame step = VAE temporal patch x 2 per stage x transformer temporal patch."""
    patch = int(c.vae.get("patch_size", 4))
    scaling = c.vae.get("spatio_temporal_scaling", (True, True, True, False))
    stages = sum(bool(s) for s in scaling)
    spatial = patch * 2 ** stages * int(c.transformer.get("patch_size", 1))
    temporal = int(c.vae.get("patch_size_t", 1)) * 2 ** stages * int(c.transformer.get("patch_size_t", 1))
    return GeometryRule(frame_step=temporal, side_multiple=lcm(32, spatial), source=c.folder)


SPEC = FamilySpec(
    id="ltx",
    title="LTX-Video",
    order=1,
    pipelines={"t2v": "LTXPipeline", "conditions": "LTXConditionPipeline", "upsample": "LTXLatentUpsamplePipeline"},
    variants=(
        Variant("t2v", "text-to-video with conditions", ("LTXPipeline", "LTXImageToVideoPipeline",
                                                         "LTXConditionPipeline"),
                example="Lightricks/LTX-Video"),
    ),
    controls={
        "text": Support("LTXPipeline / LTXConditionPipeline prompt"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support("LTXConditionPipeline LTXVideoCondition(image, frame_index)", cell="any frame (conditions)"),
        "guide_video": Support("LTXConditionPipeline LTXVideoCondition(video, frame_index=guide start, strength)",
                               cell="yes (video condition)"),
        "trajectories": Support("trajectory-aware initial noise", cell="noise"),
        "camera": Support("camera-warped initial noise", cell="noise"),
    },
    default_steps=40,
    recommended_steps=(30, 50),
    default_guidance=3.0,
    guidance_range=(3.0, 3.5),
    rule=GeometryRule(frame_step=8, side_multiple=32),
    refine_rule=refine_rule,
    native=(768, 512, 24),
    pipelines_text="LTXPipeline (text-to-video), LTXConditionPipeline (`LTXVideoCondition` items)",
    variants_text="one kind",
    latent_format="LTXV (128 ch): ComfyUI comfy/latent_formats.py, class LTXV (with bias)",
)
