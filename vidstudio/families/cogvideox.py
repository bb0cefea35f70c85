"""CogVideoX: text-, image- and video-to-video with a 3D full-attention transformer."""

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

#: CogVideoX's text encoder: T5-XXL (v1.1) encoder, 4.76B parameters; the transformers' sizes are the model
#: cards' (THUDM/CogVideoX-2b, -5b, -5b-I2V).
_T5_XXL = 4.76
_CARD = "THUDM model card; T5-XXL encoder"


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = VAE 8 x patch 2; frame step 8 (8k+1 frames) for CogVideoX 1.0 and 1.5 alike: an odd
    number of latent frames, because the VAE decodes latents in pairs
    (``AutoencoderKLCogVideoX.num_latent_frames_batch_size = 2``) and an even count decodes to the wrong length
    (5 frames asked, 8 made; 13 asked, 16 made). Found by the real-configuration tests of CogVideoX-2b and of
    CogVideoX1.5-5B (whose pipeline pads the latent frames to its temporal patch 2 and drops the padding before
    decoding, so the pairs problem stays; its published 81 and 161 frames are 8k+1). CogVideoX-5b-I2V's learned
    positional embeddings make only its training size."""
    vs = vae_spatial(c.vae)
    spatial = vs * int(c.transformer.get("patch_size", 2))
    temporal = int(c.vae.get("temporal_compression_ratio", 4)) * 2  # an odd number of latent frames
    exact = None
    if c.transformer.get("use_learned_positional_embeddings"):
        exact = (int(c.transformer["sample_width"]) * vs, int(c.transformer["sample_height"]) * vs)
    return GeometryRule(frame_step=temporal, side_multiple=lcm(8, spatial), source=c.folder, exact_size=exact)


_V15_NOTES = "81 frames at 16 fps in one pass (CogVideoX 1.0: 49 at 8); temporal patch 2"

SPEC = FamilySpec(
    id="cogvideox",
    title="CogVideoX",
    order=4,
    pipelines={
        "t2v": "CogVideoXPipeline",
        "v2v": "CogVideoXVideoToVideoPipeline",
        "i2v": "CogVideoXImageToVideoPipeline",
    },
    variants=(
        Variant(
            "t2v",
            "text-to-video",
            ("CogVideoXPipeline", "CogVideoXVideoToVideoPipeline"),
            example="THUDM/CogVideoX-2b",
            checkpoints=(
                Checkpoint(
                    "cogvideox1.5-t2v",
                    "CogVideoX 1.5 5B",
                    (When("transformer/config.json", "patch_size_t", "set"),),
                    ("THUDM/CogVideoX1.5-5B",),
                    fps=16,
                    window=81,
                    notes=_V15_NOTES,
                ),
                Checkpoint(
                    "cogvideox-t2v",
                    "CogVideoX 2B / 5B",
                    (),
                    ("THUDM/CogVideoX-2b", "THUDM/CogVideoX-5b"),
                    sizes=(
                        CardSize("THUDM/CogVideoX-2b", 2.0, _T5_XXL, 0.0, _CARD),
                        CardSize("THUDM/CogVideoX-5b", 5.0, _T5_XXL, 0.0, _CARD),
                    ),
                ),
            ),
        ),
        Variant(
            "i2v",
            "image-to-video",
            ("CogVideoXImageToVideoPipeline",),
            example="THUDM/CogVideoX-5b-I2V",
            requires=("keyframe0",),
            checkpoints=(
                Checkpoint(
                    "cogvideox1.5-i2v",
                    "CogVideoX 1.5 5B I2V",
                    (When("transformer/config.json", "patch_size_t", "set"),),
                    ("THUDM/CogVideoX1.5-5B-I2V",),
                    fps=16,
                    window=81,
                    notes=_V15_NOTES,
                ),
                Checkpoint(
                    "cogvideox-i2v",
                    "CogVideoX 5B I2V",
                    (),
                    ("THUDM/CogVideoX-5b-I2V",),
                    sizes=(CardSize("", 5.0, _T5_XXL, 0.0, _CARD),),
                ),
            ),
        ),
    ),
    controls={
        "text": Support("CogVideoXPipeline prompt (an i2v checkpoint needs a keyframe at frame 0 too)"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support(
            "CogVideoXImageToVideoPipeline image", variants=("i2v",), frames="first", cell="i2v: frame 0"
        ),
        "guide_video": Support(
            "CogVideoXVideoToVideoPipeline video + strength",
            variants=("t2v",),
            frames="first",
            cell="t2v (video-to-video)",
        ),
        "trajectories": Support("trajectory-aware initial noise (latents)", cell="noise"),
        "camera": Support("camera-warped initial noise (latents)", cell="noise"),
        "motion_signal": Support(
            "Time-to-Move on CogVideoXImageToVideoPipeline (vidstudio.backend.ttm)",
            variants=("i2v",),
            cell="Time-to-Move",
        ),
    },
    default_steps=50,
    recommended_steps=(30, 50),
    default_guidance=6.0,
    guidance_range=(5.0, 7.0),
    rule=GeometryRule(frame_step=8, side_multiple=16),
    refine_rule=refine_rule,
    native=(720, 480, 8),
    window=49,
    pipelines_text="CogVideoXPipeline, CogVideoXVideoToVideoPipeline, CogVideoXImageToVideoPipeline",
    variants_text="`t2v`, `i2v`",
    latent_format="CogVideoX (16 ch): kijai/ComfyUI-CogVideoXWrapper latent_preview.py (commit 666f7832), "
    "Latent2RGBPreviewer (ComfyUI itself has no CogVideoX entry)",
)
