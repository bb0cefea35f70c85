"""Warped initial noise: Gaussian noise carried from frame to frame along a forward optical flow.

The method is Go-with-the-Flow (Burgert et al., "Go-with-the-Flow: Motion-Controllable Video Diffusion
Models Using Real-Time Warped Noise", arXiv 2501.08331; reference code github.com/Eyeline-Labs/Go-with-the-Flow,
``make_warped_noise.py`` and the ``noise_warp`` helpers it imports from github.com/RyannDaGreat/CommonSource).
Its LoRAs for CogVideoX were fine-tuned on such noise, passed as the pipeline's initial latents; the motion of
the noise then becomes the motion of the video. This module is the torch-free numpy version; the animatic's
Motion Flow node gives the exact forward flow, so no optical-flow model is needed.

Every pixel of the warp grid holds a noise sample ``n`` (one value per latent channel), a weight ``w`` (the
share of the original frame's area the sample carries, 1 at the start) and, optionally, a sub-pixel offset
(where the sample really is, relative to the pixel centre). One step along the flow ``F`` (pixel ``p`` of
frame ``t`` moves to ``p + F(p)``):

1. every sample moves to the pixel nearest ``p + offset + F(p)`` (samples that leave the frame are dropped);
   its new offset is what the rounding left;
2. a pixel that no sample reaches (a disocclusion or a stretch) takes a copy of the sample at the pixel nearest
   ``q - F(q)`` (the flow read backwards), or a fresh sample with weight 1 where that is outside the frame;
3. a sample used ``k`` times (where it landed plus its copies) becomes ``n / sqrt(k) + (z_i - mean(z))`` with
   ``k`` fresh unit Gaussians ``z_i``, weight ``w / k`` each: every copy keeps unit variance, two copies do not
   correlate, and the copies' sum is ``sqrt(k) n`` (the sample's integral is kept);
4. several samples that land on one pixel merge into ``sum(w n) / sqrt(sum(w^2))`` with weight ``sum(w)``
   (unit variance again) and the weighted mean of their offsets.

The latent noise is the grid downsampled by ``area(n w) / sqrt(area(w^2))`` per latent cell (unit variance),
with a *degradation* ``a`` mixing in fresh noise: ``(n (1 - a) + fresh a) / sqrt(a^2 + (1 - a)^2)``
(``mix_new_noise`` in the reference; its default is 0.5). Unlike the reference, weights are not renormalised
to mean 1 after each step (merges and the downsampling do not depend on their scale), and disoccluded pixels
get fresh samples instead of re-Gaussianised zeros.

Numpy only, seeded :class:`numpy.random.Generator`: the same seed and flow give the same noise everywhere.
"""

from __future__ import annotations

import numpy as np

#: The Go-with-the-Flow default degradation (the reference's ``degradation=.5``).
DEFAULT_DEGRADATION = 0.5
#: The model family the Go-with-the-Flow LoRAs were trained for (CogVideoX 2B/5B T2V, 5B I2V).
TRAINED_FAMILY = "cogvideox"


def family_warning(family: str) -> str | None:
    """What to tell a user who asks for warped noise on ``family``: None on CogVideoX, else that the mode is meant
    for the Go-with-the-Flow LoRAs of CogVideoX (the noise stays valid Gaussian noise elsewhere, but no other
    model was trained to follow it)."""
    if family == TRAINED_FAMILY:
        return None
    return (
        f"initial noise 'warped' is meant for the Go-with-the-Flow LoRAs of CogVideoX; {family} was not trained "
        "on it (it gets valid Gaussian noise that moves with the flow)"
    )


def latent_frame_sources(latent_frames: int, temporal_ratio: int, pixel_frames: int) -> np.ndarray:
    """The pixel frame each latent frame stands for.

    A causal video VAE with temporal compression ``temporal_ratio`` maps pixel frame 0 to latent frame 0 and
    pixel frames ``(j - 1) * ratio + 1 .. j * ratio`` to latent frame ``j``; this returns the middle of each
    group, rounded, clamped to the pixel frames there are.

    Returns:
        ``(latent_frames,)`` int array of pixel frame indices.
    """
    j = np.arange(latent_frames, dtype=np.float64)
    if temporal_ratio <= 1:
        src = j
    else:
        src = np.where(j == 0, 0.0, (j - 1) * temporal_ratio + 1 + (temporal_ratio - 1) / 2.0)
    return np.clip(np.rint(src).astype(int), 0, max(pixel_frames - 1, 0))


def _nearest(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


def _group_sum(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """``(n, C)`` float64 sums of the rows of ``values`` ``(M, C)`` per ``index`` ``(M,)`` (one bincount)."""
    C = values.shape[1]
    flat = (index[:, None] * C + np.arange(C)).ravel()
    return np.bincount(flat, values.ravel().astype(np.float64), minlength=n * C).reshape(n, C)


def mix_fresh_noise(noise: np.ndarray, degradation: float, rng: np.random.Generator) -> np.ndarray:
    """Go-with-the-Flow's degradation: ``(n (1 - a) + fresh a) / sqrt(a^2 + (1 - a)^2)``.

    Args:
        noise: unit Gaussian noise of any shape (float32).
        degradation: ``a`` in [0, 1]: 0 keeps ``noise``, 1 replaces it by fresh noise.
        rng: where the fresh noise comes from.

    Returns:
        float32 noise of ``noise``'s shape, unit variance.

    Raises:
        ValueError: for a degradation outside [0, 1].
    """
    a = float(degradation)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"noise degradation must be in [0, 1], got {degradation}")
    if a == 0.0:
        return np.asarray(noise, dtype=np.float32)
    fresh = rng.standard_normal(np.shape(noise), dtype=np.float32)
    return ((np.asarray(noise) * (1.0 - a) + fresh * a) / np.sqrt(a * a + (1.0 - a) ** 2)).astype(np.float32)


class NoiseWarper:
    """The per-pixel state of the warp: noise, weight and sub-pixel offset, moved one frame at a time.

    Args:
        channels: noise channels ``C`` (the latent channels).
        height, width: the warp grid in pixels.
        rng: the random source (initial noise, copies' fresh parts, disocclusions).
        subpixel: carry sub-pixel offsets, so that a motion slower than a pixel per frame adds up; False moves
            every sample by the rounded flow (the reference's default ``xy_mode='none'``).

    Attributes:
        noise: ``(H * W, C)`` float32, row ``y * W + x``.
        weight: ``(H * W,)`` float64, > 0.
        offset: ``(H * W, 2)`` float64 ``(dx, dy)`` px, each in [-0.5, 0.5].

    Raises:
        ValueError: for a non-positive size or channel count.
    """

    def __init__(self, channels: int, height: int, width: int, rng: np.random.Generator, *, subpixel: bool = True):
        if channels < 1 or height < 1 or width < 1:
            raise ValueError(f"noise warp needs at least 1 channel and 1 x 1 pixels, got {channels}, {height}x{width}")
        self.channels, self.height, self.width = int(channels), int(height), int(width)
        self.rng = rng
        self.subpixel = bool(subpixel)
        n = self.height * self.width
        self.noise = rng.standard_normal((n, self.channels), dtype=np.float32)
        self.weight = np.ones(n)
        self.offset = np.zeros((n, 2))
        self._ix = np.tile(np.arange(self.width, dtype=np.float64), self.height)
        self._iy = np.repeat(np.arange(self.height, dtype=np.float64), self.width)

    def step(self, flow: np.ndarray) -> None:
        """Moves the noise one frame along ``flow``.

        Args:
            flow: ``(H, W, 2)`` px, the grid's forward flow: the sample at pixel ``p`` moves to ``p + flow[p]``.

        Raises:
            ValueError: for a flow of another size or with non-finite values.
        """
        H, W, C, N = self.height, self.width, self.channels, self.height * self.width
        f = np.asarray(flow, dtype=np.float64)
        if f.shape != (H, W, 2):
            raise ValueError(f"flow must have shape ({H}, {W}, 2), got {f.shape}")
        if not np.isfinite(f).all():
            raise ValueError("flow has NaN or infinite values")
        fx, fy = f[..., 0].ravel(), f[..., 1].ravel()
        px = self._ix + self.offset[:, 0] + fx
        py = self._iy + self.offset[:, 1] + fy
        dx, dy = _nearest(px), _nearest(py)
        inside = (dx >= 0) & (dx < W) & (dy >= 0) & (dy < H)
        land_src = np.flatnonzero(inside)
        land_dst = (dy * W + dx)[inside]
        hits = np.bincount(land_dst, minlength=N)
        holes = np.flatnonzero(hits == 0)
        sx, sy = _nearest(self._ix[holes] - fx[holes]), _nearest(self._iy[holes] - fy[holes])
        pull = (sx >= 0) & (sx < W) & (sy >= 0) & (sy < H)
        pull_dst, fresh_dst = holes[pull], holes[~pull]
        pull_src = (sy * W + sx)[pull]

        # every use of a sample is a copy: k copies become n / sqrt(k) + (z_i - mean(z)), weight w / k
        copy_src = np.concatenate([land_src, pull_src])
        k = np.bincount(copy_src, minlength=N)
        kc = k[copy_src]
        values = self.noise[copy_src]
        weights = self.weight[copy_src] / kc
        shared = np.flatnonzero(kc > 1)
        if shared.size:
            s = copy_src[shared]
            z = self.rng.standard_normal((shared.size, C), dtype=np.float32)
            zbar = (_group_sum(s, z, N)[s] / k[s, None]).astype(np.float32)
            values[shared] = values[shared] / np.sqrt(kc[shared]).astype(np.float32)[:, None] + (z - zbar)

        L = land_src.size
        noise = np.empty((N, C), dtype=np.float32)
        weight = np.empty(N)
        offset = np.zeros((N, 2))
        lv, lw = values[:L], weights[:L]
        loff = np.stack([px - dx, py - dy], axis=1)[inside] if self.subpixel else np.zeros((L, 2))
        alone = hits[land_dst] == 1
        d1 = land_dst[alone]
        noise[d1], weight[d1], offset[d1] = lv[alone], lw[alone], loff[alone]
        merged = np.flatnonzero(~alone)
        if merged.size:  # several samples on one pixel: sum(w n) / sqrt(sum(w^2))
            dm, wm = land_dst[merged], lw[merged]
            wsum = np.bincount(dm, wm, minlength=N)
            w2 = np.bincount(dm, wm * wm, minlength=N)
            targets = np.flatnonzero(hits > 1)
            num = _group_sum(dm, wm[:, None] * lv[merged], N)
            noise[targets] = num[targets] / np.sqrt(w2[targets])[:, None]
            weight[targets] = wsum[targets]
            for j in range(2):
                offset[targets, j] = np.bincount(dm, wm * loff[merged, j], minlength=N)[targets] / wsum[targets]
        noise[pull_dst], weight[pull_dst] = values[L:], weights[L:]
        if fresh_dst.size:
            noise[fresh_dst] = self.rng.standard_normal((fresh_dst.size, C), dtype=np.float32)
            weight[fresh_dst] = 1.0
        self.noise, self.weight, self.offset = noise, weight, offset

    def downsampled(self, factor: int) -> np.ndarray:
        """The noise on a grid ``factor`` times coarser: ``area(n w) / sqrt(area(w^2))`` per cell.

        Args:
            factor: pixels per cell side; the grid's height and width must be multiples of it.

        Returns:
            ``(C, H // factor, W // factor)`` float32, unit variance per cell.

        Raises:
            ValueError: when the grid is not a whole number of cells.
        """
        H, W, C, s = self.height, self.width, self.channels, int(factor)
        if s < 1 or H % s or W % s:
            raise ValueError(f"a {H}x{W} grid is not a whole number of {factor}x{factor} cells")
        h, w = H // s, W // s
        wt = self.weight.reshape(H, W)
        num = (self.noise.reshape(H, W, C) * wt[..., None]).reshape(h, s, w, s, C).sum(axis=(1, 3))
        den = np.sqrt((wt * wt).reshape(h, s, w, s).sum(axis=(1, 3)))
        return np.ascontiguousarray((num / den[..., None]).transpose(2, 0, 1), dtype=np.float32)


def _resize_flow(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(H, W, 2)`` px flow -> ``(height, width, 2)`` px: bilinear, vectors scaled per axis."""
    H, W = flow.shape[:2]
    if (H, W) == (height, width):
        return flow
    import cv2

    out = cv2.resize(np.ascontiguousarray(flow, dtype=np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= width / W
    out[..., 1] *= height / H
    return out


def warped_noise(
    flow: np.ndarray,
    shape: tuple[int, int, int, int],
    seed: int,
    *,
    temporal_ratio: int = 1,
    pixel_frames: int | None = None,
    degradation: float = DEFAULT_DEGRADATION,
    pixels_per_cell: int | None = None,
    subpixel: bool = True,
) -> np.ndarray:
    """Initial latent noise that moves with ``flow`` (Go-with-the-Flow; see the module docstring).

    Args:
        flow: ``(T - 1, H, W, 2)`` or ``(T, H, W, 2)`` float px at the animatic's resolution, ``flow[t, y, x]``
            the motion of pixel ``(x, y)`` from frame ``t`` to ``t + 1`` (the Motion Flow node's output; a
            flow for the last frame is not used). Past the flow's last frame the noise holds still.
        shape: ``(C, T_latent, h, w)``: latent channels, latent frames, latent height and width.
        seed: the random seed.
        temporal_ratio: pixel frames per latent frame of the VAE (CogVideoX 4); latent frame ``j`` takes the
            noise of pixel frame :func:`latent_frame_sources` ``[j]``.
        pixel_frames: the clip's pixel frame count ``T``; default ``len(flow) + 1``.
        degradation: share of fresh noise mixed in, in [0, 1] (:func:`mix_fresh_noise`); 0 is the pure warp.
        pixels_per_cell: warp-grid pixels per latent cell side (the VAE's spatial ratio, 8); default: the flow's
            height over ``h``, rounded (at least 1). The flow is resized to ``(h * s, w * s)`` when it differs.
        subpixel: carry sub-pixel offsets (:class:`NoiseWarper`).

    Returns:
        ``(C, T_latent, h, w)`` float32, unit Gaussian in every cell; the same arguments give the same noise.

    Raises:
        ValueError: for a flow of the wrong shape or with non-finite values, a bad shape, or a degradation
            outside [0, 1].
    """
    f = np.asarray(flow, dtype=np.float32)
    if f.ndim != 4 or f.shape[-1] != 2:
        raise ValueError(f"flow must have shape (T - 1, H, W, 2), got {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("flow has NaN or infinite values")
    C, T, h, w = (int(v) for v in shape)
    if min(C, T, h, w) < 1:
        raise ValueError(f"latent shape must be positive, got {tuple(shape)}")
    if not 0.0 <= float(degradation) <= 1.0:
        raise ValueError(f"noise degradation must be in [0, 1], got {degradation}")
    s = int(pixels_per_cell) if pixels_per_cell else max(1, int(round(f.shape[1] / h)))
    frames = int(pixel_frames) if pixel_frames is not None else f.shape[0] + 1
    src = latent_frame_sources(T, int(temporal_ratio), frames)
    src = np.minimum(src, f.shape[0])  # beyond the flow: the noise holds still
    warp_seq, mix_seq = np.random.SeedSequence(int(seed) & 0xFFFFFFFFFFFFFFFF).spawn(2)
    warper = NoiseWarper(C, h * s, w * s, np.random.default_rng(warp_seq), subpixel=subpixel)
    out = np.empty((C, T, h, w), dtype=np.float32)
    last = int(src.max())
    for t in range(last + 1):
        for j in np.flatnonzero(src == t):
            out[:, j] = warper.downsampled(s)
        if t < last:
            warper.step(_resize_flow(f[t], h * s, w * s))
    return mix_fresh_noise(out, degradation, np.random.default_rng(mix_seq))
