"""LTX-Video: a DiT over a 32x / 8x compressed latent space, with conditions at any frame."""

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
)

#: The T5-XXL (v1.1) encoder LTX-Video uses: 4.76B parameters (google/t5-v1_1-xxl, encoder only).
_T5_XXL = 4.76


_13B = When("transformer/config.json", "attention_head_dim", "==", 128)  # the 2B models have 64


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = the VAE's spatial compression x transformer patch (at least 32, the pipeline's own check);
    frame step = the VAE's temporal compression x transformer temporal patch. The compression is the VAE
    config's ``spatial_compression_ratio`` / ``temporal_compression_ratio`` where given (0.9.5 and later), else
    patch x 2 per scaling stage whose ``downsample_type`` scales that axis (``conv``: both; 0.9.0 / 0.9.1)."""
    patch = int(c.vae.get("patch_size", 4))
    scaling = c.vae.get("spatio_temporal_scaling", (True, True, True, False))
    types = c.vae.get("downsample_type") or ["conv"] * len(scaling)
    s_stages = sum(1 for on, t in zip(scaling, types) if on and t in ("conv", "spatial", "spatiotemporal"))
    t_stages = sum(1 for on, t in zip(scaling, types) if on and t in ("conv", "temporal", "spatiotemporal"))
    vs = int(c.vae.get("spatial_compression_ratio") or patch * 2**s_stages)
    vt = int(c.vae.get("temporal_compression_ratio") or int(c.vae.get("patch_size_t", 1)) * 2**t_stages)
    spatial = vs * int(c.transformer.get("patch_size", 1))
    temporal = vt * int(c.transformer.get("patch_size_t", 1))
    return GeometryRule(frame_step=temporal, side_multiple=lcm(32, spatial), source=c.folder)


SPEC = FamilySpec(
    id="ltx",
    title="LTX-Video",
    order=1,
    pipelines={"t2v": "LTXPipeline", "conditions": "LTXConditionPipeline", "upsample": "LTXLatentUpsamplePipeline"},
    variants=(
        Variant(
            "t2v",
            "text-to-video with conditions",
            ("LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline"),
            example="Lightricks/LTX-Video",
            checkpoints=(
                Checkpoint(
                    "ltx-13b-distilled",
                    "LTX-Video 0.9.7 / 0.9.8 13B distilled (few steps, guidance 1)",
                    (_13B, When("@name", "name", "contains", "distilled")),
                    ("Lightricks/LTX-Video-0.9.8-13B-distilled", "Lightricks/LTX-Video-0.9.7-distilled"),
                    default_steps=8,
                    default_guidance=1.0,
                    distilled=True,
                    fps=30,
                    notes="its configs are the 13B's: told apart by 'distilled' in the model's name",
                ),
                Checkpoint(
                    "ltx-13b",
                    "LTX-Video 0.9.7 / 0.9.8 13B",
                    (_13B,),
                    ("Lightricks/LTX-Video-0.9.7-dev", "Lightricks/LTX-Video-0.9.8-13B"),
                    sizes=(CardSize("", 13.0, _T5_XXL, 0.0, "Lightricks/LTX-Video model card (13B); T5-XXL encoder"),),
                    default_steps=30,
                    default_guidance=3.0,
                    # Lightricks/LTX-Video README (commit 5260738), v0.9.6 notes: "New default resolution and FPS:
                    # 1216 x 704 pixels at 30 FPS"; ltx_video/inference.py frame_rate default 30
                    fps=30,
                ),
                Checkpoint(
                    "ltx-2b",
                    "LTX-Video 2B (0.9.0 - 0.9.6)",
                    (When("transformer/config.json", "attention_head_dim", "==", 64),),
                    ("Lightricks/LTX-Video",),
                    sizes=(CardSize("", 2.0, _T5_XXL, 0.0, "Lightricks/LTX-Video model card (2B); T5-XXL encoder"),),
                ),
            ),
        ),
    ),
    controls={
        "text": Support("LTXPipeline / LTXConditionPipeline prompt"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support(
            "LTXConditionPipeline LTXVideoCondition(image, frame_index)", cell="any frame (conditions)"
        ),
        "guide_video": Support(
            "LTXConditionPipeline LTXVideoCondition(video, frame_index=guide start, strength)",
            cell="yes (video condition)",
        ),
        "trajectories": Support("trajectory-aware initial noise", cell="noise"),
        "camera": Support("camera-warped initial noise", cell="noise"),
    },
    default_steps=40,
    recommended_steps=(30, 50),
    default_guidance=3.0,
    guidance_range=(3.0, 3.5),
    rule=GeometryRule(frame_step=8, side_multiple=32),
    refine_rule=refine_rule,
    fps_argument="frame_rate",
    native=(768, 512, 24),
    window=257,
    pipelines_text="LTXPipeline (text-to-video), LTXConditionPipeline (`LTXVideoCondition` items)",
    variants_text="one kind",
    latent_format="LTXV (128 ch): Comfy-Org/ComfyUI comfy/latent_formats.py (commit 75399d78), class LTXV (with bias)",
)
