"""What a generation will need, estimated before anything is allocated, and the limits it must stay within.

Torch-free (standard library only), so that ``vidstudio validate``, the server at submission and the GUI can
all ask it. The estimate is a lower bound built from the numbers a video diffusion pipeline is made of:

* the latent: ``channels x latent_frames x (height / spatial) x (width / spatial)``, where ``spatial`` and
  ``temporal`` are the VAE's compression factors and ``latent_frames = (frames - 1) // temporal + 1``
  (the causal video VAEs of LTX-Video, Wan and CogVideoX; image VAEs compress no frames);
* the transformer's tokens: the latent cells grouped by its patch size, and its activations: tokens x hidden
  width x a few tensors kept per block (attention is taken as memory-efficient, linear in the tokens);
* the transformer's weights: its parameter count x the bytes of the dtype;
* the decoded video: ``frames x height x width x 3`` float32 (what the pipeline hands back).

The table :data:`FAMILY_BUDGETS` holds those numbers per model family (from each family's diffusers config:
``vae_scale_factor_spatial``/``_temporal``, ``latent_channels``, the transformer's ``patch_size`` and
``num_attention_heads x attention_head_dim``, and the parameter count of the family's usual checkpoint). It is
kept here, small and explicit, so that the estimate needs no model files; the lead engineer will point it at
the torch-free family specs (``vidstudio.families``) once they exist, which carry the same factors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GB = 1e9


@dataclass(frozen=True)
class FamilyBudget:
    """The numbers of one model family that decide its memory.

    Attributes:
        spatial: VAE spatial compression (pixels per latent cell along a side).
        temporal: VAE temporal compression (frames per latent frame; 1 for image VAEs).
        channels: latent channels.
        patch: the transformer's spatial patch size (latent cells per token along a side; 1 for a UNet).
        hidden: the transformer's hidden width (heads x head dimension).
        params: the parameters of the family's usual transformer or UNet (count).
    """

    spatial: int
    temporal: int
    channels: int
    patch: int
    hidden: int
    params: float


#: Per family: LTX-Video (0.9, 2B), Wan 2.1 (1.3B T2V), CogVideoX (2B), Stable Video Diffusion (1.5B UNet),
#: AnimateDiff (SD 1.5 UNet with its motion module, about 1.3B). Unknown families use :data:`DEFAULT_BUDGET`.
FAMILY_BUDGETS: dict[str, FamilyBudget] = {
    "ltx": FamilyBudget(spatial=32, temporal=8, channels=128, patch=1, hidden=2048, params=1.9e9),
    "wan": FamilyBudget(spatial=8, temporal=4, channels=16, patch=2, hidden=1536, params=1.3e9),
    "cogvideox": FamilyBudget(spatial=8, temporal=4, channels=16, patch=2, hidden=1920, params=1.7e9),
    "svd": FamilyBudget(spatial=8, temporal=1, channels=4, patch=1, hidden=320, params=1.5e9),
    "animatediff": FamilyBudget(spatial=8, temporal=1, channels=4, patch=1, hidden=320, params=1.3e9),
}
#: The most forgiving of the table (8x spatial, 4x temporal), for a family the table does not know.
DEFAULT_BUDGET = FamilyBudget(spatial=8, temporal=4, channels=16, patch=2, hidden=1536, params=1.3e9)
#: Activation tensors of hidden width kept per token during a transformer block (residual, norm, q, k, v,
#: attention output, and the MLP's 4x expansion counted as four).
ACTIVATIONS_PER_TOKEN = 10


@dataclass(frozen=True)
class Limits:
    """What a server (``vidstudio serve --max-pixels/--max-frames/--max-steps``) or ``validate`` accepts.

    Attributes:
        max_pixels: pixels per frame (width x height); default 1920 x 1088 (1080p, rounded to the 32 px
            multiple the models need).
        max_frames: frames per generation; default 1024 (about 43 s at 24 fps; LTX-Video makes up to 257).
        max_steps: denoising steps; default 200.
    """

    max_pixels: int = 1920 * 1088
    max_frames: int = 1024
    max_steps: int = 200


@dataclass(frozen=True)
class Estimate:
    """What one generation needs, at least.

    Attributes:
        family: the family the numbers come from ("" when unknown: :data:`DEFAULT_BUDGET`).
        width, height, frames, steps: the request, in pixels, frames and denoising steps.
        latent_shape: ``(channels, latent_frames, latent_height, latent_width)``.
        tokens: the transformer's sequence length.
        weights_bytes, activation_bytes, latent_bytes, video_bytes: the parts, in bytes.
    """

    family: str
    width: int
    height: int
    frames: int
    steps: int
    latent_shape: tuple[int, int, int, int]
    tokens: int
    weights_bytes: float
    activation_bytes: float
    latent_bytes: float
    video_bytes: float

    @property
    def device_bytes(self) -> float:
        """Bytes the accelerator must hold at the peak of a denoising step: weights, activations, latents."""
        return self.weights_bytes + self.activation_bytes + self.latent_bytes

    def describe(self) -> str:
        """``"at least 41.2 GB (weights 3.8 GB, activations 37.0 GB, latents 0.4 GB)"``."""
        return (
            f"at least {self.device_bytes / GB:.1f} GB (weights {self.weights_bytes / GB:.1f} GB, activations "
            f"{self.activation_bytes / GB:.1f} GB for {self.tokens:,} tokens, latents {self.latent_bytes / GB:.1f} GB)"
        )


def estimate(
    family: str | None,
    width: int,
    height: int,
    frames: int,
    steps: int,
    *,
    dtype_bytes: int = 2,
    params: float | None = None,
) -> Estimate:
    """Estimates the memory of one generation (see the module docstring for the model).

    Args:
        family: ``"ltx"``, ``"wan"``, ... (None or unknown: :data:`DEFAULT_BUDGET`).
        width, height: frame size in pixels; frames: frame count; steps: denoising steps (they cost time, not
            memory, and are carried for :func:`check`).
        dtype_bytes: bytes per weight and activation (2: float16/bfloat16, 4: float32).
        params: the transformer's parameter count when known (else the family's usual one).

    Returns:
        the :class:`Estimate`.
    """
    b = FAMILY_BUDGETS.get(family or "", DEFAULT_BUDGET)
    w, h, t = max(1, int(width)), max(1, int(height)), max(1, int(frames))
    lf = (t - 1) // b.temporal + 1
    lh, lw = -(-h // b.spatial), -(-w // b.spatial)
    tokens = lf * -(-lh // b.patch) * -(-lw // b.patch)
    latent = b.channels * lf * lh * lw
    batch = 2  # classifier-free guidance runs the conditional and unconditional halves together
    return Estimate(
        family=family if family in FAMILY_BUDGETS else "",
        width=w,
        height=h,
        frames=t,
        steps=int(steps),
        latent_shape=(b.channels, lf, lh, lw),
        tokens=tokens,
        weights_bytes=(params or b.params) * dtype_bytes,
        activation_bytes=float(batch * tokens * b.hidden * ACTIVATIONS_PER_TOKEN * dtype_bytes),
        latent_bytes=float(latent * 4 * 4),  # float32 latents, noise, prediction and scheduler state
        video_bytes=float(t * h * w * 3 * 4),
    )


def check(
    est: Estimate, limits: Limits, *, device_bytes: float | None = None, device: str = "the worker's device"
) -> list[tuple[str, str]]:
    """What in ``est`` exceeds ``limits`` or the device, naming the numbers.

    Args:
        est: from :func:`estimate`.
        limits: the configured limits.
        device_bytes: the memory of the device the worker renders on (None: unknown, not checked).
        device: its name for the message.

    Returns:
        ``(field, message)`` pairs, field one of ``settings.width``, ``settings.frame_count``, ``steps``,
        ``device``; empty when the generation fits.
    """
    out: list[tuple[str, str]] = []
    px = est.width * est.height
    if px > limits.max_pixels:
        out.append(
            (
                "settings.width",
                f"{est.width}x{est.height} is {px:,} pixels a frame, more than the limit of "
                f"{limits.max_pixels:,} (--max-pixels)",
            )
        )
    if est.frames > limits.max_frames:
        out.append(
            (
                "settings.frame_count",
                f"{est.frames:,} frames is more than the limit of {limits.max_frames:,} (--max-frames)",
            )
        )
    if est.steps > limits.max_steps:
        out.append(("steps", f"{est.steps:,} steps is more than the limit of {limits.max_steps:,} (--max-steps)"))
    if device_bytes is not None and est.device_bytes > device_bytes:
        out.append(
            (
                "device",
                f"{est.width}x{est.height}, {est.frames:,} frames needs {est.describe()}, more than "
                f"the {device_bytes / GB:.1f} GB of {device}",
            )
        )
    return out


@dataclass
class GraphBudget:
    """The estimate of one Generate node of a project: ``node_id``, its :class:`Estimate`, and where its steps
    come from (``steps_node``: the Conditioning node)."""

    node_id: str
    estimate: Estimate
    steps_node: str | None = None
    family_node: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)


def _source(graph: Any, node_id: str, port: str) -> Any:
    links = graph.links_into(node_id, port)
    if len(links) != 1 or not graph.has_node(links[0].source_node):
        return None
    return graph.node(links[0].source_node)


def graph_budgets(
    graph: Any, settings: Any, *, families: dict[str, str] | None = None, only: Iterable[str] | None = None
) -> list[GraphBudget]:
    """Estimates every ``Generate`` node of a project from the project settings, its Load Model's family and its
    Conditioning's steps (node type names, so that no node classes are imported).

    Args:
        graph: a Project or Graph (``nodes``, ``links_into``, ``node``, ``has_node``).
        settings: the project settings (``width``, ``height``, ``frame_count``).
        families: ``{load_model_node_id: family}`` where the caller knows better than the node's ``family``
            parameter (the server resolves ``auto`` from its model catalog).
        only: restrict to these node ids.

    Returns:
        one :class:`GraphBudget` per Generate node.
    """
    keep = set(only) if only is not None else None
    out = []
    for n in graph.nodes:
        if n.type != "Generate" or (keep is not None and n.id not in keep):
            continue
        m, c = _source(graph, n.id, "model"), _source(graph, n.id, "conditioning")
        fam = None
        if m is not None:
            fam = (families or {}).get(m.id) or str(m.params.get("family", "auto") or "auto")
        steps = c.params.get("steps", 25) if c is not None else 25
        try:
            steps = int(steps)
        except (TypeError, ValueError):
            steps = 25
        est = estimate(
            None if fam in (None, "auto") else fam, settings.width, settings.height, settings.frame_count, steps
        )
        out.append(GraphBudget(n.id, est, c.id if c is not None else None, m.id if m is not None else None))
    return out


def check_graph(
    graph: Any,
    settings: Any,
    limits: Limits,
    *,
    families: dict[str, str] | None = None,
    device_bytes: float | None = None,
    device: str = "the worker's device",
    only: Iterable[str] | None = None,
) -> list[tuple[str, str, str]]:
    """:func:`graph_budgets` then :func:`check` for each Generate node.

    Returns:
        ``(node_id, field, message)`` for every limit exceeded (``node_id`` is the Conditioning node for
        ``steps``, the Generate node otherwise); empty when everything fits.
    """
    out = []
    for gb in graph_budgets(graph, settings, families=families, only=only):
        for fld, msg in check(gb.estimate, limits, device_bytes=device_bytes, device=device):
            nid = gb.steps_node if fld == "steps" and gb.steps_node else gb.node_id
            out.append((nid, fld, msg))
    return out
