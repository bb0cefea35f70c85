"""Go-with-the-Flow warped noise (vidstudio.motion.warped_noise): it stays unit Gaussian, moves along the flow,
keeps the noise integral of a moving region, and degrades to independent noise.

The statistical tolerances come from the sample count ``n`` (channels x seeds, independent draws of the same
warp): a cell's sample mean has standard error ``1 / sqrt(n)`` and its sample variance ``sqrt(2 / n)``. Each cell
must be within 6 standard errors: over the ~5000 cells checked, a correct warp exceeds that with probability
below 1e-4 (and the seeds are fixed, so a pass is a pass), while a wrong copy or merge rule is off by 0.3-0.5
in variance (10+ standard errors) where it acts.
"""

from __future__ import annotations

import numpy as np
import pytest

from vidstudio.motion.warped_noise import NoiseWarper, latent_frame_sources, mix_fresh_noise, warped_noise

#: Per-cell tolerance, in standard errors (see the module docstring).
SE_TOL = 6.0
#: Correlation along the flow on non-occluded cells must exceed this (pure transport gives 1).
ALONG = 0.95
#: Same, for a sub-pixel motion at the pixel level (measured 0.96: samples at the object's edge get split).
ALONG_SUBPIXEL = 0.9


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def zoom_flow(frames: int, size: int, scale: float) -> np.ndarray:
    """``(frames - 1, size, size, 2)``: every frame zoomed by ``scale`` about the centre."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    c = size / 2 - 0.5
    f = np.stack([(xx - c) * (scale - 1), (yy - c) * (scale - 1)], -1)
    return np.repeat(f[None], frames - 1, 0)


def square_flow(frames: int, h: int, w: int, v: tuple[float, float], box: tuple[int, int, int, int]) -> np.ndarray:
    """A ``box`` (x0, y0, x1, y1 px at frame 0) moving by ``v`` px per frame over a still background."""
    f = np.zeros((frames - 1, h, w, 2), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    x0, y0, x1, y1 = box
    for t in range(frames - 1):
        dx, dy = np.floor(v[0] * t + 0.5), np.floor(v[1] * t + 0.5)
        f[t][(xx >= x0 + dx) & (xx < x1 + dx) & (yy >= y0 + dy) & (yy < y1 + dy)] = v
    return f


def samples(flow: np.ndarray, shape: tuple[int, int, int, int], seeds: int, **kw) -> np.ndarray:
    """``(n, T, h, w)``: channels of several seeds, each an independent draw of the same warp."""
    return np.concatenate([warped_noise(flow, shape, seed, degradation=0.0, **kw) for seed in range(seeds)], axis=0)


@pytest.mark.parametrize(
    "name,flow,cell",
    [
        # a square moving over a zoom-in: merges at its front, copies behind it and in the stretch, frame edges lost
        ("zoom in + square", zoom_flow(5, 32, 1.08) + square_flow(5, 32, 32, (2.6, 1.3), (4, 6, 20, 22)), 1),
        # zoom-out: merges everywhere, fresh noise at the frame edges
        ("zoom out", zoom_flow(5, 32, 0.9), 1),
        # on an 8 px latent grid: the downsampling area(n w) / sqrt(area(w^2))
        ("zoom in, 8 px cells", zoom_flow(5, 64, 1.08), 8),
    ],
)
def test_every_cell_stays_unit_gaussian(name, flow, cell):
    size = flow.shape[1] // cell
    z = samples(flow, (256, 5, size, size), seeds=4, pixels_per_cell=cell)  # n = 1024
    n = z.shape[0]
    mean_dev = np.abs(z.mean(0)) * np.sqrt(n)
    var_dev = np.abs(z.var(0) - 1.0) / np.sqrt(2.0 / n)
    assert mean_dev.max() < SE_TOL, (name, mean_dev.max())
    assert var_dev.max() < SE_TOL, (name, var_dev.max())
    # pooled over every cell: no bias in the variance either (n * cells samples)
    assert abs(z.var() - 1.0) < 5 * np.sqrt(2.0 / z.size), (name, z.var())
    # white: neighbouring cells do not correlate
    cov = (z[..., :-1] * z[..., 1:]).mean(0) * np.sqrt(n)
    assert np.abs(cov).max() < SE_TOL, (name, np.abs(cov).max())


def test_zero_flow_keeps_the_same_noise():
    z = warped_noise(np.zeros((8, 32, 32, 2), np.float32), (4, 9, 4, 4), seed=5, degradation=0.0)
    assert all(corr(z[:, t], z[:, t + 1]) > 0.9999 for t in range(8))


def test_latent_frames_correlate_along_a_translation_where_nothing_is_occluded():
    """A 48 x 40 px square moving 2 px per frame right over a still background, 13 frames, a CogVideoX-like VAE
    (8 px cells, 4 frames per latent frame: latent frames at pixel frames 0, 2, 6, 10). From latent frame 2 to 3
    the square moves 8 px, one cell: its cells correlate with those one cell back, except the front column,
    where the background it covers is merged in (occluded); the still background keeps its noise."""
    f = square_flow(13, 64, 96, (2.0, 0.0), (8, 16, 56, 56))
    z = warped_noise(f, (16, 4, 8, 12), seed=1, temporal_ratio=4, degradation=0.0)
    assert list(latent_frame_sources(4, 4, 13)) == [0, 2, 6, 10]
    # frame 6: square x 20..68 px, frame 10: 28..76; its front 2 px (74..76, cell 9) is occluded background
    rows = slice(2, 7)
    along = corr(z[:, 3, rows, 4:9], z[:, 2, rows, 3:8])
    assert along > ALONG, along
    assert corr(z[:, 3, :, 10:], z[:, 2, :, 10:]) > ALONG  # the background behind the square's path
    assert abs(corr(z[:, 3, rows, 4:9], z[:, 2, rows, 4:9])) < 0.2  # not where the square is not going


def test_a_sub_pixel_motion_adds_up_with_offsets():
    """1.75 x 0.5 px per frame: in 4 frames the square has moved 7 x 2 px. With sub-pixel offsets the noise
    follows; without them every step rounds to 2 x 0 or 2 x 1 px and it lands elsewhere."""
    f = square_flow(9, 48, 48, (1.75, 0.5), (8, 8, 32, 32))
    at_8 = (slice(None), 8, slice(12, 34), slice(22, 39))
    at_4 = (slice(None), 4, slice(10, 32), slice(15, 32))
    z = warped_noise(f, (8, 9, 48, 48), seed=2, degradation=0.0, pixels_per_cell=1)
    assert corr(z[at_8], z[at_4]) > ALONG_SUBPIXEL, corr(z[at_8], z[at_4])
    z = warped_noise(f, (8, 9, 48, 48), seed=2, degradation=0.0, pixels_per_cell=1, subpixel=False)
    assert corr(z[at_8], z[at_4]) < 0.5


def integral(w: NoiseWarper, mask: np.ndarray) -> np.ndarray:
    """``(C,)`` the noise integral over ``mask``: ``sum(n sqrt(w))`` (a sample carries ``w`` pixels of area)."""
    m = mask.ravel()
    return (w.noise[m].astype(np.float64) * np.sqrt(w.weight[m])[:, None]).sum(0)


def test_a_contracting_region_keeps_its_noise_integral():
    """Zoom-out by 2: four samples of weight 1 merge into one of weight 4; the integral over the 32 x 32 px
    region equals the integral over its 16 x 16 image (float32 rounding only)."""
    H = W = 64
    yy, xx = np.mgrid[0:H, 0:W]
    c = W / 2 - 0.5
    w = NoiseWarper(512, H, W, np.random.default_rng(1))
    region = (xx >= 16) & (xx < 48) & (yy >= 16) & (yy < 48)
    before = integral(w, region)
    w.step(np.stack([(c - xx) / 2.0, (c - yy) / 2.0], -1))
    after = integral(w, (xx >= 24) & (xx < 40) & (yy >= 24) & (yy < 40))
    assert np.abs(after - before).max() < 1e-4 * np.sqrt(region.sum())


def test_a_moving_square_keeps_its_noise_integral_frame_to_frame():
    """A 24 px square moving (2, 1) px per frame over a still background for 8 frames: its integral at frame
    t + 1 is its integral at t plus that of the background strip it covers (merged in). Unequal weights make
    the merge ``sum(w n) / sqrt(sum(w^2))`` only approximately integral-preserving at the front: measured
    correlation >= 0.987 and RMS error <= 0.16 of the integral's RMS; tolerance 0.98 and 0.25."""
    H = W = 64
    yy, xx = np.mgrid[0:H, 0:W]
    v, x0, y0, s = (2, 1), 10, 12, 24

    def box(t):
        x, y = x0 + v[0] * t, y0 + v[1] * t
        return (xx >= x) & (xx < x + s) & (yy >= y) & (yy < y + s)

    w = NoiseWarper(512, H, W, np.random.default_rng(0))
    for t in range(8):
        before = integral(w, box(t)) + integral(w, box(t + 1) & ~box(t))
        f = np.zeros((H, W, 2))
        f[box(t)] = v
        w.step(f)
        after = integral(w, box(t + 1))
        assert corr(before, after) > 0.98, t
        assert np.sqrt(np.mean((after - before) ** 2) / np.mean(before**2)) < 0.25, t


def test_degradation_one_gives_independent_frames_and_a_half_halves_the_correlation():
    still = np.zeros((8, 32, 32, 2), np.float32)
    z = warped_noise(still, (64, 9, 4, 4), seed=5, degradation=1.0)
    n = z[:, 0].size  # 1024 cells x channels per frame pair
    assert max(abs(corr(z[:, t], z[:, t + 1])) for t in range(8)) < 5 / np.sqrt(n)
    # a = 0.5: (n + fresh) / sqrt(2) per frame, so consecutive frames correlate by 0.5
    z = warped_noise(still, (64, 9, 4, 4), seed=5, degradation=0.5)
    r = np.mean([corr(z[:, t], z[:, t + 1]) for t in range(8)])
    assert abs(r - 0.5) < 5 / np.sqrt(8 * n), r
    assert abs(z.var() - 1.0) < 5 * np.sqrt(2 / z.size)


def test_same_seed_same_noise_other_seed_differs():
    f = square_flow(9, 32, 32, (1.5, 0.5), (4, 4, 20, 20))
    a = warped_noise(f, (4, 3, 4, 4), seed=11, temporal_ratio=4)
    b = warped_noise(f, (4, 3, 4, 4), seed=11, temporal_ratio=4)
    c = warped_noise(f, (4, 3, 4, 4), seed=12, temporal_ratio=4)
    assert a.dtype == np.float32 and a.shape == (4, 3, 4, 4)
    assert np.array_equal(a, b) and abs(corr(a, c)) < 0.5


def test_flow_at_another_resolution_is_resized_and_a_short_flow_holds_still():
    """A 16 px/frame pan at 128 px is 8 px/frame on a 64 px grid; frames past the flow repeat its last one."""
    f = np.zeros((2, 128, 128, 2), np.float32)
    f[..., 0] = 16.0
    z = warped_noise(f, (16, 5, 8, 8), seed=3, degradation=0.0, pixels_per_cell=8, pixel_frames=5)
    assert corr(z[:, 1, :, 1:], z[:, 0, :, :-1]) > 0.9999  # one cell right
    assert corr(z[:, 4], z[:, 2]) > 0.9999  # no flow beyond frame 2


def test_bad_input_is_refused_with_what_is_wrong():
    with pytest.raises(ValueError, match="flow must have shape"):
        warped_noise(np.zeros((3, 8, 8)), (4, 2, 1, 1), 0)
    with pytest.raises(ValueError, match="NaN"):
        warped_noise(np.full((1, 8, 8, 2), np.nan), (4, 2, 1, 1), 0)
    with pytest.raises(ValueError, match="degradation"):
        warped_noise(np.zeros((1, 8, 8, 2)), (4, 2, 1, 1), 0, degradation=1.5)
    with pytest.raises(ValueError, match="degradation"):
        mix_fresh_noise(np.zeros(3), -0.1, np.random.default_rng(0))
