"""Tiny, randomly initialised but complete pipelines of every family, for tests and demos.

:func:`write_tiny_model` saves one with ``save_pretrained`` so that it loads back through
:func:`vidstudio.backend.loader.load_pipeline` exactly as a user's model does (``vidstudio dev tiny-model``).
Nothing is downloaded: the tokenizers are built in code (a byte-level BPE without merges, so every
different prompt gives different token ids) and every model is built from a small config.

The sizes follow the dummy components of diffusers' own pipeline tests (``tests/pipelines/<family>/``,
``get_dummy_components``) but keep the latent channels and compression ratios of the real models where that is cheap, so that frame
and size rules, latent geometry and previews behave as with the real weights: the SVD VAE compresses 8x in
space, LTX 32x in space and 8x in time, Wan and CogVideoX 8x in space and 4x in time. The AnimateDiff VAE
compresses 16x (SD's 8x would make CPU demos four times slower); its size rule is then 16.

Extras written with the AnimateDiff model (VidStudio conventions, found by the loader):
``sparsectrl/`` (a SparseControlNetModel for RGB keyframes) and ``ip_adapter/`` (IP-Adapter weights in
diffusers' safetensors layout plus ``ip_adapter/image_encoder/``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from vidstudio.families import FAMILIES, VARIANTS

#: Token length of the tiny CLIP text encoder (as SD 1.5's) and of the T5-style tokenizers.
CLIP_MAX_TOKENS = 77
T5_MAX_TOKENS = 512
#: Text tokens the tiny CogVideoX transformer takes (the real ones take 226).
COG_TEXT_TOKENS = 32


def _tokenizer(max_len: int = T5_MAX_TOKENS):
    """A byte-level BPE tokenizer without merges (one token per byte), built in code.

    Returns:
        a ``transformers.PreTrainedTokenizerFast`` with ``<pad>`` = 0, ``</s>`` = 1, ``<unk>`` = 2 and an
        end-of-sequence token appended to every text.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for ch in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=max_len
    )


def _t5():
    """A tiny T5 encoder (d_model 32, d_ff 37, d_kv 8, 4 heads, 5 layers; diffusers' test sizes)."""
    from transformers import T5Config, T5EncoderModel

    cfg = T5Config(
        vocab_size=259 + 1,
        d_model=32,
        d_ff=37,
        d_kv=8,
        num_heads=4,
        num_layers=5,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return T5EncoderModel(cfg)


def _clip_text(hidden: int = 8):
    from transformers import CLIPTextConfig, CLIPTextModel

    cfg = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=0,
        hidden_size=hidden,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=260,
        max_position_embeddings=CLIP_MAX_TOKENS,
    )
    return CLIPTextModel(cfg)


def _clip_vision(hidden: int, projection: int, image_size: int = 224, patch: int = 14):
    """A tiny CLIP vision tower with projection. ``image_size`` 224 matches what SVD and IP-Adapter feed it."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    cfg = CLIPVisionConfig(
        hidden_size=hidden,
        projection_dim=projection,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        intermediate_size=16,
        patch_size=patch,
    )
    return CLIPVisionModelWithProjection(cfg)


def _image_processor(size: int = 224):
    import transformers

    cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    return cls(crop_size=size, size={"shortest_edge": size})


# --------------------------------------------------------------------------------------------- families
def _animatediff_parts() -> dict[str, Any]:
    """The components of the tiny AnimateDiff model: a Stable Diffusion 1.5-style UNet, VAE, text encoder,
    tokenizer and scheduler, plus the motion adapter."""
    from diffusers import AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel

    ch = (8, 8, 8)
    cross = 8
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=ch,
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross,
        norm_num_groups=2,
    )
    # Five VAE stages (16x in space, SD's VAE has 8x): a tiny motion UNet on CPU is dominated by the number of
    # latent cells, so this keeps AnimateDiff demos fast.
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 8, 8, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 5,
        up_block_types=["UpDecoderBlock2D"] * 5,
        latent_channels=4,
        norm_num_groups=2,
        layers_per_block=1,
    )
    adapter = MotionAdapter(
        block_out_channels=ch,
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
        motion_max_seq_length=32,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False, steps_offset=1
    )
    return {
        "vae": vae,
        "text_encoder": _clip_text(cross),
        "tokenizer": _tokenizer(CLIP_MAX_TOKENS),
        "unet": unet,
        "scheduler": scheduler,
        "motion_adapter": adapter,
    }


def _animatediff() -> tuple[Any, dict[str, Any]]:
    from diffusers import AnimateDiffPipeline, SparseControlNetModel

    ch, cross = (8, 8, 8), 8
    pipe = AnimateDiffPipeline(**_animatediff_parts(), feature_extractor=None, image_encoder=None)
    torch.manual_seed(1)
    sparsectrl = SparseControlNetModel(
        block_out_channels=ch,
        layers_per_block=1,
        in_channels=4,
        conditioning_channels=3,
        down_block_types=("DownBlockMotion", "DownBlockMotion", "CrossAttnDownBlockMotion"),
        cross_attention_dim=cross,
        conditioning_embedding_out_channels=(8, 8, 8, 8, 8),
        norm_num_groups=1,
        motion_num_attention_heads=2,
        use_simplified_condition_embedding=False,
    )
    return pipe, {"sparsectrl": sparsectrl, "ip_adapter": _ip_adapter_state(pipe.unet, cross)}


def _ip_adapter_state(unet, cross: int, image_embed: int = 8) -> dict[str, torch.Tensor]:
    """Random IP-Adapter weights for ``unet`` in diffusers' safetensors layout (``image_proj.*``,
    ``ip_adapter.{id}.to_k_ip.weight``), numbered as ``UNet2DConditionLoadersMixin`` numbers cross-attention
    processors (ids 1, 3, 5, ... over every processor that is not self-attention nor a motion module)."""
    g = torch.Generator().manual_seed(2)
    sd: dict[str, torch.Tensor] = {
        "image_proj.proj.weight": torch.randn(cross * 4, image_embed, generator=g) * 0.1,
        "image_proj.proj.bias": torch.zeros(cross * 4),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    key_id = 1
    chans = list(unet.config.block_out_channels)
    for name in unet.attn_processors:
        if name.endswith("attn1.processor") or "motion_modules" in name:
            continue
        if name.startswith("mid_block"):
            hidden = chans[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(chans))[int(name[len("up_blocks.")])]
        else:
            hidden = chans[int(name[len("down_blocks.")])]
        sd[f"ip_adapter.{key_id}.to_k_ip.weight"] = torch.randn(hidden, cross, generator=g) * 0.1
        sd[f"ip_adapter.{key_id}.to_v_ip.weight"] = torch.randn(hidden, cross, generator=g) * 0.1
        key_id += 2
    return sd


def _ltx() -> tuple[Any, dict[str, Any]]:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=128,
        out_channels=128,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    # patch 4 x three 2x stages = 32x in space, three 2x stages = 8x in time: the real LTX-Video ratios.
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=128,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        timestep_conditioning=False,
        patch_size=4,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    scheduler = FlowMatchEulerDiscreteScheduler()
    pipe = LTXConditionPipeline(
        scheduler=scheduler, vae=vae, text_encoder=_t5(), tokenizer=_tokenizer(), transformer=transformer
    )
    return pipe, {}


#: The tiny Wan transformer's shared configuration (diffusers' own tests' sizes: 2 heads x 12 dims).
_WAN_TRANSFORMER: dict[str, Any] = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=12,
    out_channels=16,
    text_dim=32,
    freq_dim=256,
    ffn_dim=32,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    rope_max_seq_len=1024,
)
#: The tiny Wan 2.1 VAE (base_dim 3, z_dim 16, 4x temporal compression).
_WAN_VAE: dict[str, Any] = dict(
    base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
)


def _wan(variant: str) -> tuple[Any, dict[str, Any]]:
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanPipeline,
        WanTransformer3DModel,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLWan(**_WAN_VAE)
    scheduler = FlowMatchEulerDiscreteScheduler(shift=7.0)
    common = dict(_WAN_TRANSFORMER)
    torch.manual_seed(0)
    if variant == "vace":
        transformer = WanVACETransformer3DModel(
            in_channels=16, num_layers=3, vace_layers=[0, 2], vace_in_channels=96, **common
        )
        pipe = WanVACEPipeline(
            tokenizer=_tokenizer(), text_encoder=_t5(), vae=vae, scheduler=scheduler, transformer=transformer
        )
    elif variant == "i2v":
        # A first-and-last-frame (FLF2V) transformer: two images' CLIP tokens (2 x (8x8 patches + 1)) in sequence.
        transformer = WanTransformer3DModel(
            in_channels=36, num_layers=2, image_dim=4, pos_embed_seq_len=2 * 65, **common
        )
        pipe = WanImageToVideoPipeline(
            tokenizer=_tokenizer(),
            text_encoder=_t5(),
            vae=vae,
            scheduler=scheduler,
            transformer=transformer,
            image_encoder=_clip_vision(4, 4, 32, 4),
            image_processor=_image_processor(32),
        )
    else:
        transformer = WanTransformer3DModel(in_channels=16, num_layers=2, **common)
        pipe = WanPipeline(
            tokenizer=_tokenizer(), text_encoder=_t5(), vae=vae, scheduler=scheduler, transformer=transformer
        )
    return pipe, {}


def _svd() -> tuple[Any, dict[str, Any]]:
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 32),
        layers_per_block=1,
        sample_size=8,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=16,
        num_attention_heads=2,
        projection_class_embeddings_input_dim=3 * 8,
        addition_time_embed_dim=8,
        num_frames=14,
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 32, 32, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        latent_channels=4,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    pipe = StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=_clip_vision(8, 16),
        unet=unet,
        scheduler=scheduler,
        feature_extractor=_image_processor(224),
    )
    return pipe, {}


def _cogvideox(variant: str) -> tuple[Any, dict[str, Any]]:
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=32 if variant == "i2v" else 16,
        out_channels=16,
        time_embed_dim=2,
        text_embed_dim=32,
        num_layers=1,
        sample_width=4,
        sample_height=4,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=COG_TEXT_TOKENS,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=False,
    )
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(2, 2, 2, 2),
        latent_channels=16,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    scheduler = CogVideoXDDIMScheduler(
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        prediction_type="v_prediction",
        rescale_betas_zero_snr=True,
        snr_shift_scale=1.0,
        clip_sample=False,
        set_alpha_to_one=True,
    )
    cls = CogVideoXImageToVideoPipeline if variant == "i2v" else CogVideoXPipeline
    pipe = cls(tokenizer=_tokenizer(), text_encoder=_t5(), vae=vae, transformer=transformer, scheduler=scheduler)
    return pipe, {}


def build_tiny_pipeline(family: str, variant: str | None = None) -> tuple[Any, dict[str, Any]]:
    """Builds a tiny random pipeline of ``family`` in memory, every model in eval mode.

    Args:
        family: one of :data:`vidstudio.families.FAMILIES`.
        variant: the checkpoint kind (``wan``: ``t2v``, ``i2v``, ``vace``; ``cogvideox``: ``t2v``, ``i2v``);
            None for the family's first.

    Returns:
        ``(pipeline, extras)``: the diffusers pipeline (fp32, CPU) and extra components by name
        (AnimateDiff: ``"sparsectrl"`` model and ``"ip_adapter"`` state dict).

    Raises:
        ValueError: for an unknown family or variant, naming the valid ones.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")
    variants = VARIANTS[family]
    if not variants:
        raise ValueError(
            f"family {family} has no tiny model (its test pipelines are built from the published "
            f"configs in tests/backend/configs); families with one: "
            f"{', '.join(f for f in FAMILIES if VARIANTS[f])}"
        )
    variant = variant or variants[0]
    if variant not in variants:
        raise ValueError(f"family {family} has no variant {variant!r}; expected one of {', '.join(variants)}")
    from vidstudio.backend.loader import quiet_libraries

    quiet_libraries()
    builders = {
        "animatediff": _animatediff,
        "ltx": _ltx,
        "svd": _svd,
        "wan": lambda: _wan(variant),
        "cogvideox": lambda: _cogvideox(variant),
    }
    pipe, extras = builders[family]()
    # Models built from a config start in training mode (dropout on); from_pretrained puts them in eval mode.
    for comp in list(pipe.components.values()) + list(extras.values()):
        if isinstance(comp, torch.nn.Module):
            comp.eval()
    return pipe, extras


def write_tiny_sd15_and_motion_adapter(out_dir: str | Path) -> tuple[Path, Path]:
    """Writes the tiny AnimateDiff model the other way users have it: a Stable Diffusion 1.5 pipeline
    (``out_dir/sd15``) and a separate motion adapter (``out_dir/motion_adapter``).

    Returns:
        ``(sd15_folder, motion_adapter_folder)``.
    """
    from diffusers import StableDiffusionPipeline

    from vidstudio.backend.loader import quiet_libraries

    quiet_libraries()
    out = Path(out_dir)
    parts = _animatediff_parts()
    adapter = parts.pop("motion_adapter")
    sd = StableDiffusionPipeline(**parts, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    for comp in list(sd.components.values()) + [adapter]:
        if isinstance(comp, torch.nn.Module):
            comp.eval()
    sd.save_pretrained(out / "sd15", safe_serialization=True)
    adapter.save_pretrained(out / "motion_adapter", safe_serialization=True)
    return out / "sd15", out / "motion_adapter"


def write_tiny_model(family: str, out_dir: str | Path, variant: str | None = None) -> Path:
    """Writes a tiny random pipeline of ``family`` to ``out_dir`` with ``save_pretrained``.

    The folder loads back through :func:`vidstudio.backend.loader.load_pipeline` like any local model;
    its ``model_index.json`` names the pipeline class, from which the family is read.

    Args:
        family: see :func:`build_tiny_pipeline`; out_dir: the folder (created; existing files are
            overwritten); variant: see :func:`build_tiny_pipeline`.

    Returns:
        the folder.

    Raises:
        ValueError: for an unknown family or variant.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pipe, extras = build_tiny_pipeline(family, variant)
    pipe.save_pretrained(out, safe_serialization=True)
    if "sparsectrl" in extras:
        extras["sparsectrl"].save_pretrained(out / "sparsectrl", safe_serialization=True)
    if "ip_adapter" in extras:
        from safetensors.torch import save_file

        ipa = out / "ip_adapter"
        ipa.mkdir(exist_ok=True)
        save_file({k: v.contiguous() for k, v in extras["ip_adapter"].items()}, str(ipa / "ip-adapter.safetensors"))
        torch.manual_seed(3)
        enc = _clip_vision(8, 8)
        enc.save_pretrained(ipa / "image_encoder", safe_serialization=True)
    (out / "vidstudio_tiny.json").write_text(
        json.dumps(
            {
                "family": family,
                "variant": variant or VARIANTS[family][0],
                "note": "randomly initialised tiny pipeline written by `vidstudio dev tiny-model`; for tests and demos only",
            },
            indent=1,
        )
    )
    return out


def build_tiny_wan22_i2v(boundary_ratio: float | None = 0.9, shift: float = 5.0) -> Any:
    """A tiny random Wan 2.2 A14B-style image-to-video pipeline: two experts (``transformer`` for the high-noise
    steps, ``transformer_2`` below ``boundary_ratio * 1000``), no CLIP image encoder (the image reaches the model
    through the VAE only), as in Wan-AI/Wan2.2-I2V-A14B-Diffusers; every model in eval mode.

    Args:
        boundary_ratio: the expert switch as a fraction of the training timesteps (0.9 is the published I2V
            value); None: one expert only (``transformer_2`` is None).
        shift: the flow-matching scheduler's timestep shift (``FlowMatchEulerDiscreteScheduler(shift=...)``).

    Returns:
        the :class:`diffusers.WanImageToVideoPipeline` (fp32, CPU).
    """
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )

    from vidstudio.backend.loader import quiet_libraries

    quiet_libraries()
    common = dict(_WAN_TRANSFORMER, in_channels=36, num_layers=1)
    torch.manual_seed(0)
    vae = AutoencoderKLWan(**_WAN_VAE)
    experts = [WanTransformer3DModel(**common), WanTransformer3DModel(**common) if boundary_ratio else None]
    pipe = WanImageToVideoPipeline(
        tokenizer=_tokenizer(),
        text_encoder=_t5(),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=shift),
        transformer=experts[0],
        transformer_2=experts[1],
        boundary_ratio=boundary_ratio,
        image_encoder=None,
        image_processor=None,
    )
    for comp in pipe.components.values():
        if isinstance(comp, torch.nn.Module):
            comp.eval()
    return pipe
