"""LTX-2: one DiT that generates video and its synchronised audio track together (Lightricks, 19B), over the
LTX 32x / 8x video latent space and a mel-spectrogram audio latent decoded by a vocoder
(``LTX2Pipeline``, ``LTX2ImageToVideoPipeline``; diffusers 0.37 and later)."""

from __future__ import annotations

from vidstudio.families._spec import Checkpoint, Configs, FamilySpec, GeometryRule, Support, Variant, When, lcm


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = the video VAE's ``spatial_compression_ratio`` (32) x the transformer's ``patch_size``;
    frame step = ``temporal_compression_ratio`` (8) x ``patch_size_t``."""
    spatial = int(c.vae.get("spatial_compression_ratio") or 32) * int(c.transformer.get("patch_size") or 1)
    temporal = int(c.vae.get("temporal_compression_ratio") or 8) * int(c.transformer.get("patch_size_t") or 1)
    return GeometryRule(frame_step=temporal, side_multiple=lcm(32, spatial), source=c.folder)


SPEC = FamilySpec(
    id="ltx2",
    title="LTX-2 (video with audio)",
    order=6,
    pipelines={"t2v": "LTX2Pipeline", "i2v": "LTX2ImageToVideoPipeline"},
    variants=(
        Variant(
            "t2v",
            "text-to-video with its audio track (and image-to-video from a frame-0 keyframe)",
            ("LTX2Pipeline", "LTX2ImageToVideoPipeline", "LTX2ConditionPipeline"),
            example="Lightricks/LTX-2",
            tiny=False,
            checkpoints=(
                Checkpoint(
                    "ltx2-19b-distilled",
                    "LTX-2 19B distilled (8 steps, guidance 1)",
                    (When("@name", "name", "contains", "distilled"),),
                    ("Lightricks/LTX-2",),
                    default_steps=8,
                    default_guidance=1.0,
                    distilled=True,
                    notes="ltx-2-19b-distilled: the dev checkpoint's configs, told apart by the name",
                ),
                Checkpoint(
                    "ltx2-19b-dev", "LTX-2 19B dev", (), ("Lightricks/LTX-2",), default_steps=40, default_guidance=4.0
                ),
            ),
        ),
    ),
    controls={
        "text": Support("LTX2Pipeline prompt (Gemma 3; it drives the video and the audio)"),
        "negative_prompt": Support("negative_prompt"),
        "keyframes": Support("LTX2ImageToVideoPipeline image (frame 0)", frames="first", cell="frame 0"),
        "trajectories": Support("trajectory-aware initial noise (packed video latents)", cell="noise"),
        "camera": Support("camera-warped initial noise (packed video latents)", cell="noise"),
    },
    default_steps=40,
    recommended_steps=(30, 50),
    default_guidance=4.0,
    guidance_range=(3.0, 5.0),
    rule=GeometryRule(frame_step=8, side_multiple=32),
    refine_rule=refine_rule,
    fps_argument="frame_rate",
    native=(768, 512, 24),
    # Lightricks publishes LTX-2 clips of up to 20 seconds (the longest duration of its LTX-2 API, docs.ltx.video;
    # the open model is the same network): 20 s at the native 24 fps on the 8k+1 rule is 481 frames (20.04 s).
    # diffusers' LTX2Pipeline makes 121 frames when num_frames is not given: a default, not the limit.
    window=481,
    pipelines_text="LTX2Pipeline, LTX2ImageToVideoPipeline (video and an audio track: Generate's `audio` output)",
    variants_text="one kind (19B dev, distilled)",
    latent_format="LTXAV (128 ch video stream): Comfy-Org/ComfyUI comfy/latent_formats.py (commit 75399d78), "
    "class LTXAV (with bias); diffed number by number, all equal",
)
