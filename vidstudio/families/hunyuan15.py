"""HunyuanVideo 1.5: an 8.3B-parameter DiT over a 16x / 4x compressed, 32-channel latent space, with a
Qwen2.5-VL text encoder (and ByT5 for quoted on-screen text), text-to-video and image-to-video checkpoints
(``HunyuanVideo15Pipeline``, ``HunyuanVideo15ImageToVideoPipeline``; diffusers 0.36 and later)."""

from __future__ import annotations

from vidstudio.families._spec import Checkpoint, Configs, FamilySpec, GeometryRule, Support, Variant, When, lcm

_720P = When("transformer/config.json", "target_size", "==", 960)  # the 480p checkpoints have 640
_DISTILLED = When("@name", "name", "contains", "distilled")
_MEANFLOW = When("transformer/config.json", "use_meanflow", "==", True)  # the step-distilled transformer


def refine_rule(c: Configs, rule: GeometryRule) -> GeometryRule:
    """Side multiple = the VAE's ``spatial_compression_ratio`` (16) x the transformer's ``patch_size`` (1), at
    least 16; frame step = ``temporal_compression_ratio`` (4) x ``patch_size_t`` (1)."""
    spatial = int(c.vae.get("spatial_compression_ratio") or 16) * int(c.transformer.get("patch_size") or 1)
    temporal = int(c.vae.get("temporal_compression_ratio") or 4) * int(c.transformer.get("patch_size_t") or 1)
    return GeometryRule(frame_step=temporal, side_multiple=lcm(16, spatial), source=c.folder)


def _checkpoints(task: str) -> tuple[Checkpoint, ...]:
    repo = f"hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-{{}}_{task}"
    step_distilled = (
        Checkpoint(
            f"hy15-{task}-step-distilled",
            f"HunyuanVideo 1.5 480p {task.upper()} step-distilled (8 steps, guidance 1)",
            (_MEANFLOW,),
            (repo.format("480p") + "_step_distilled",),
            # Tencent-Hunyuan/HunyuanVideo-1.5 README (commit 60783e7), "Optimal Inference Configurations":
            # 480p I2V Step Distilled, CFG scale 1, flow shift 7, 8 or 12 steps (recommended)
            default_steps=8,
            default_guidance=1.0,
            distilled=True,
            notes="a MeanFlow transformer (use_meanflow: a second timestep embedding of the next step); 8 or 12 "
            "steps, guidance 1; recognised by its config before the name's 'distilled'",
        ),
    )
    return (
        *(step_distilled if task == "i2v" else ()),
        Checkpoint(
            f"hy15-{task}-distilled",
            f"HunyuanVideo 1.5 {task.upper()} CFG-distilled (guidance 1)",
            (_DISTILLED,),
            (repo.format("480p") + "_distilled",),
            default_guidance=1.0,
            distilled=True,
            notes="its configs are the base checkpoint's: told apart by 'distilled' in the model's name; "
            "guidance 1 as diffusers' conversion script sets for it",
        ),
        Checkpoint(
            f"hy15-{task}-720p",
            f"HunyuanVideo 1.5 720p {task.upper()}",
            (_720P,),
            (repo.format("720p"),),
            notes="target_size 960 (1280x720 class)",
        ),
        Checkpoint(
            f"hy15-{task}-480p",
            f"HunyuanVideo 1.5 480p {task.upper()}",
            (),
            (repo.format("480p"),),
            notes="target_size 640 (848x480 class)",
        ),
    )


SPEC = FamilySpec(
    id="hunyuan15",
    title="HunyuanVideo 1.5",
    order=5,
    pipelines={"t2v": "HunyuanVideo15Pipeline", "i2v": "HunyuanVideo15ImageToVideoPipeline"},
    variants=(
        Variant(
            "t2v",
            "text-to-video",
            ("HunyuanVideo15Pipeline",),
            example="hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_t2v",
            checkpoints=_checkpoints("t2v"),
            tiny=False,
        ),
        Variant(
            "i2v",
            "image-to-video (first frame)",
            ("HunyuanVideo15ImageToVideoPipeline",),
            example="hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_i2v",
            requires=("keyframe0",),
            checkpoints=_checkpoints("i2v"),
            tiny=False,
        ),
    ),
    controls={
        "text": Support("HunyuanVideo15Pipeline prompt (Qwen2.5-VL; quoted text also through ByT5)"),
        "negative_prompt": Support("negative_prompt (used while the guider's scale is above 1)"),
        "keyframes": Support(
            "HunyuanVideo15ImageToVideoPipeline image (VAE latent of frame 0 + SigLIP embedding)",
            variants=("i2v",),
            frames="first",
            cell="i2v: frame 0",
        ),
        "trajectories": Support("trajectory-aware initial noise (latents)", cell="noise"),
        "camera": Support("camera-warped initial noise (latents)", cell="noise"),
    },
    default_steps=50,
    recommended_steps=(30, 50),
    default_guidance=6.0,
    guidance_range=(5.0, 7.0),
    rule=GeometryRule(frame_step=4, side_multiple=16),
    refine_rule=refine_rule,
    native=(848, 480, 24),
    # 121 frames (5 s at 24 fps), HunyuanVideo 1.5's published clip length: Tencent-Hunyuan/HunyuanVideo-1.5
    # README (generate.py `--video_length` default 121; its diffusers example passes num_frames=121) and
    # diffusers' HunyuanVideo15Pipeline / HunyuanVideo15ImageToVideoPipeline default (num_frames=121).
    window=121,
    pipelines_text="HunyuanVideo15Pipeline, HunyuanVideo15ImageToVideoPipeline (guidance through the pipeline's "
    "`guider`, ClassifierFreeGuidance)",
    variants_text="`t2v`, `i2v` (480p, 720p, CFG-distilled; i2v step-distilled)",
    latent_format="HunyuanVideo15 (32 ch): Comfy-Org/ComfyUI comfy/latent_formats.py (commit 75399d78), "
    "class HunyuanVideo15 (with bias); diffed number by number, all equal",
)
