"""Wan 2.1 / 2.2: flow-matching DiTs over a causal 3D VAE; text-, image-, first-and-last-frame- and
VACE-controlled video, and the two-expert (high-noise + low-noise) A14B checkpoints of Wan 2.2."""

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

#: The umT5-XXL encoder all Wan checkpoints use (5.7B parameters: its 11.4 GB of bf16 weights) and the Wan VAE
#: (127M, the Wan paper, arXiv 2503.20314); the transformers' sizes are the model cards' (the repo names).
_UMT5, _WAN_VAE = 5.7, 0.127
#: The CLIP ViT-H/14 image encoder of Wan 2.1 I2V and FLF2V (0.63B, open_clip ViT-H-14).
_CLIP_H = 0.63
_CARD = "model card (Wan-AI on Hugging Face); umT5-XXL encoder; Wan-VAE 127M (arXiv 2503.20314)"


_TWO_EXPERTS = When("model_index.json", "transformer_2", "set")
_TI2V = When("model_index.json", "expand_timesteps", "==", True)


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = the VAE's spatial compression (``scale_factor_spatial``: 8 for Wan 2.1, 16 for the Wan 2.2
    TI2V VAE) x the transformer's spatial patch (at least 16); frame step = temporal compression x temporal
    patch."""
    down = c.vae.get("temperal_downsample", [False, True, True])
    patch = c.transformer.get("patch_size") or [1, 2, 2]
    spatial = int(c.vae.get("scale_factor_spatial") or 2 ** len(down)) * int(patch[1])
    temporal = int(c.vae.get("scale_factor_temporal") or 2 ** sum(bool(d) for d in down)) * int(patch[0])
    return GeometryRule(frame_step=temporal, side_multiple=lcm(16, spatial), source=c.folder)


SPEC = FamilySpec(
    id="wan",
    title="Wan 2.1 / 2.2",
    order=2,
    pipelines={
        "t2v": "WanPipeline",
        "v2v": "WanVideoToVideoPipeline",
        "i2v": "WanImageToVideoPipeline",
        "vace": "WanVACEPipeline",
    },
    variants=(
        Variant(
            "t2v",
            "text-to-video",
            ("WanPipeline", "WanVideoToVideoPipeline"),
            example="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
            checkpoints=(
                Checkpoint(
                    "wan2.2-t2v-a14b",
                    "Wan 2.2 T2V-A14B (two experts)",
                    (_TWO_EXPERTS,),
                    ("Wan-AI/Wan2.2-T2V-A14B-Diffusers",),
                    sizes=(CardSize("", 14.0, _UMT5, _WAN_VAE, _CARD + ": 2 x 14B experts"),),
                    default_steps=40,
                    default_guidance=4.0,
                    experts=2,
                    guidance_2=3.0,
                    notes="high-noise expert until boundary_ratio (0.875), then transformer_2 "
                    "with guidance_scale_2 (3.0)",
                ),
                Checkpoint(
                    "wan2.1-t2v",
                    "Wan 2.1 T2V",
                    (),
                    ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "Wan-AI/Wan2.1-T2V-14B-Diffusers"),
                    sizes=(
                        CardSize("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", 1.3, _UMT5, _WAN_VAE, _CARD),
                        CardSize("Wan-AI/Wan2.1-T2V-14B-Diffusers", 14.0, _UMT5, _WAN_VAE, _CARD),
                    ),
                ),
            ),
        ),
        Variant(
            "i2v",
            "image-to-video (first frame; first and last frame where the checkpoint has it)",
            ("WanImageToVideoPipeline",),
            example="Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
            requires=("keyframe0",),
            checkpoints=(
                Checkpoint(
                    "wan2.1-flf2v",
                    "Wan 2.1 FLF2V (first and last frame)",
                    (When("transformer/config.json", "pos_embed_seq_len", "set"),),
                    ("Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",),
                    sizes=(CardSize("", 14.0, _UMT5, _WAN_VAE + _CLIP_H, _CARD + "; CLIP ViT-H image encoder"),),
                    keyframes="first_last",
                    requires=("keyframe_last",),
                    notes="its image embedding is trained on two images: a first frame alone is refused",
                ),
                Checkpoint(
                    "wan2.2-i2v-a14b",
                    "Wan 2.2 I2V-A14B (two experts)",
                    (_TWO_EXPERTS,),
                    ("Wan-AI/Wan2.2-I2V-A14B-Diffusers",),
                    sizes=(CardSize("", 14.0, _UMT5, _WAN_VAE, _CARD + ": 2 x 14B experts"),),
                    keyframes="first_last",
                    default_steps=40,
                    default_guidance=3.5,
                    experts=2,
                    notes="high-noise expert until boundary_ratio (0.9), then transformer_2; no CLIP image "
                    "encoder: the first (and last) frame go in through the VAE",
                ),
                Checkpoint(
                    "wan2.1-i2v",
                    "Wan 2.1 I2V (first frame)",
                    (When("model_index.json", "image_encoder", "set"),),
                    ("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers"),
                    sizes=(CardSize("", 14.0, _UMT5, _WAN_VAE + _CLIP_H, _CARD + "; CLIP ViT-H image encoder"),),
                    keyframes="first",
                ),
            ),
        ),
        Variant(
            "vace",
            "VACE: keyframes at any frame, control video, masks, reference images",
            ("WanVACEPipeline",),
            example="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
            checkpoints=(
                Checkpoint(
                    "wan2.1-vace",
                    "Wan 2.1 VACE",
                    (),
                    ("Wan-AI/Wan2.1-VACE-1.3B-diffusers", "Wan-AI/Wan2.1-VACE-14B-diffusers"),
                    sizes=(
                        CardSize("Wan-AI/Wan2.1-VACE-1.3B-diffusers", 1.3, _UMT5, _WAN_VAE, _CARD),
                        CardSize("Wan-AI/Wan2.1-VACE-14B-diffusers", 14.0, _UMT5, _WAN_VAE, _CARD),
                    ),
                ),
            ),
        ),
        Variant(
            "ti2v",
            "text- and image-to-video in one checkpoint (Wan 2.2 TI2V-5B)",
            ("WanPipeline", "WanImageToVideoPipeline"),
            when=(_TI2V,),
            tiny=False,
            example="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
            checkpoints=(
                Checkpoint(
                    "wan2.2-ti2v-5b",
                    "Wan 2.2 TI2V-5B",
                    (),
                    ("Wan-AI/Wan2.2-TI2V-5B-Diffusers",),
                    sizes=(CardSize("", 5.0, _UMT5, 0.0, _CARD + " (its Wan2.2-VAE not counted)"),),
                    default_steps=50,
                    default_guidance=5.0,
                    # Wan-Video/Wan2.2 wan/configs/wan_ti2v_5B.py (commit 42bf4cf): frame_num 121, sample_fps 24
                    # (the other Wan 2.x models: wan/configs/shared_config.py, 81 frames at 16)
                    fps=24,
                    window=121,
                    notes="its own VAE (16x in space, 48 latent channels); 121 frames at 24 fps in one pass",
                ),
            ),
        ),
    ),
    controls={
        "text": Support("WanPipeline / WanVACEPipeline prompt (an i2v checkpoint needs a keyframe at frame 0 too)"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support(
            "WanImageToVideoPipeline image (+ last_image), or WanVACEPipeline frames with a mask",
            variants=("i2v", "vace", "ti2v"),
            frames="first_last",
            variant_frames={"i2v": "first_last", "vace": "any", "ti2v": "first"},
            cell="i2v: frame 0 (+ last); ti2v: frame 0; vace: any frame",
        ),
        "guide_video": Support(
            "WanVideoToVideoPipeline video + strength, or WanVACEPipeline control video "
            "(conditioning_scale = strength)",
            variants=("t2v", "vace"),
            frames="first",
            variant_frames={"t2v": "first", "vace": "any"},
            cell="t2v (video-to-video), vace (control video)",
        ),
        "mask": Support("WanVACEPipeline mask (needs a guide video)", variants=("vace",)),
        "trajectories": Support(
            "trajectory-aware initial noise; on VACE with a guide video also the boxes as mask",
            cell="noise (+ vace mask)",
        ),
        "camera": Support("camera-warped initial noise", cell="noise"),
        "motion_signal": Support(
            "Time-to-Move on WanImageToVideoPipeline (vidstudio.backend.ttm)", variants=("i2v",), cell="Time-to-Move"
        ),
        "style": Support(
            "WanVACEPipeline reference_images (strength fixed by VACE)",
            variants=("vace",),
            cell="vace reference images",
        ),
    },
    default_steps=50,
    recommended_steps=(30, 50),
    default_guidance=5.0,
    guidance_range=(3.0, 6.0),
    rule=GeometryRule(frame_step=4, side_multiple=16),
    refine_rule=refine_rule,
    native=(832, 480, 16),
    window=81,
    pipelines_text="WanPipeline (`transformer_2`, `boundary_ratio`, `guidance_scale_2` for Wan 2.2 A14B), "
    "WanVideoToVideoPipeline, WanImageToVideoPipeline (`last_image`), WanVACEPipeline",
    variants_text="`t2v` (2.1, 2.2 A14B), `i2v` (2.1 first frame, 2.1 FLF2V first and last frame, 2.2 A14B), "
    "`ti2v` (2.2 TI2V-5B), `vace`",
    latent_format="Wan21 (16 ch): Comfy-Org/ComfyUI comfy/latent_formats.py (commit 75399d78), class Wan21 (with bias); "
    "class Wan22 (48 ch, with bias) for the TI2V-5B VAE",
)
