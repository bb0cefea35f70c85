"""Trajectory-aware and camera-aware initial noise, without training.

The idea comes from FreeTraj (Qiu et al., "FreeTraj: Tuning-Free Trajectory Control in Video Diffusion
Models", arXiv 2406.16863): the initial noise decides a great deal of the layout of what a video diffusion
model generates, so noise that *moves* with an object along its trajectory nudges the model to move the
object that way. FreeTraj also edits attention; VidStudio implements only the noise part, in latent space:

- **objects**: every object ``n`` has its own reference noise patch ``P_n`` (unit Gaussian, the size of its
  box in latent cells at its first visible frame). In each latent frame ``t`` where the object is visible,
  the latent cells under its box become ``sqrt(r) * P_n(u, v) + sqrt(1 - r) * eps_t`` where ``(u, v)`` is the
  cell's relative position inside the box (nearest-neighbour, so the patch stretches with the box) and
  ``eps_t`` is the frame's fresh noise. Two frames of the same object therefore correlate by ``r`` under its
  box, while background cells stay independent from frame to frame.
- **camera**: with a camera move, the background of latent frame ``t`` is ``sqrt(r) * R(A_t p) +
  sqrt(1 - r) * eps_t`` where ``R`` is a reference noise field in frame 0's latent grid and ``A_t`` maps a
  latent cell of frame ``t`` to frame 0 through the camera affines (the noise sticks to the world as the
  camera moves, as in noise-warping methods); cells that map outside frame 0 keep ``eps_t``.

Every cell keeps unit variance (``r + (1 - r) = 1``), so the schedulers see valid initial noise.
``r`` is :attr:`vidstudio.backend.bundle.Conditioning.trajectory_noise` (default 0.5).

The pixel frame each latent frame stands for is :func:`vidstudio.motion.warped_noise.latent_frame_sources`
(re-exported here), shared with the Go-with-the-Flow warped noise.

Numpy only (seeded ``numpy.random.Generator``): the same seed gives the same noise on every device.
"""

from __future__ import annotations

import numpy as np

from vidstudio.motion.warped_noise import latent_frame_sources

__all__ = ["boxes_to_latent", "camera_to_latent", "latent_frame_sources", "structured_noise"]


def boxes_to_latent(boxes: np.ndarray, sources: np.ndarray, spatial_ratio: float) -> np.ndarray:
    """Pixel boxes per pixel frame -> latent-grid boxes per latent frame.

    Args:
        boxes: ``(T, N, 4)`` float ``(x0, y0, x1, y1)`` pixels, NaN where not visible.
        sources: ``(T_lat,)`` pixel frame of each latent frame (:func:`latent_frame_sources`).
        spatial_ratio: pixels per latent cell.

    Returns:
        ``(T_lat, N, 4)`` float64 boxes in latent cells (NaN where not visible).
    """
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 3 or b.shape[2] != 4:
        raise ValueError(f"boxes must have shape (T, N, 4), got {b.shape}")
    return b[np.clip(sources, 0, b.shape[0] - 1)] / float(spatial_ratio)


def _cells(box: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Row and column indices of the latent cells whose centres lie in ``box`` (at least the nearest cell)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if not np.all(np.isfinite([x0, y0, x1, y1])):
        return None
    c0, c1 = int(np.ceil(x0 - 0.5)), int(np.floor(x1 - 0.5))
    r0, r1 = int(np.ceil(y0 - 0.5)), int(np.floor(y1 - 0.5))
    if c1 < c0:
        c0 = c1 = int(np.floor(0.5 * (x0 + x1)))
    if r1 < r0:
        r0 = r1 = int(np.floor(0.5 * (y0 + y1)))
    c0, c1 = max(c0, 0), min(c1, w - 1)
    r0, r1 = max(r0, 0), min(r1, h - 1)
    if c1 < c0 or r1 < r0:
        return None
    return np.arange(r0, r1 + 1), np.arange(c0, c1 + 1)


def structured_noise(
    shape: tuple[int, int, int, int],
    seed: int,
    *,
    boxes: np.ndarray | None = None,
    camera: np.ndarray | None = None,
    ratio: float = 0.5,
) -> np.ndarray:
    """Initial latent noise whose patches follow object boxes and the camera.

    Args:
        shape: ``(C, T, h, w)``: latent channels, latent frames, latent height and width.
        seed: the random seed (``numpy.random.default_rng``).
        boxes: ``(T, N, 4)`` boxes in latent cells per latent frame (:func:`boxes_to_latent`), NaN where an
            object is not visible; None for none.
        camera: ``(T, 3, 3)`` affines mapping latent coordinates ``(x, y, 1)`` of frame ``t`` (cell centres
            at ``i + 0.5``) to latent coordinates of frame 0; None for a still camera.
        ratio: ``r`` in [0, 1], the share of variance carried along (see the module docstring); 0 gives plain
            independent noise.

    Returns:
        ``(C, T, h, w)`` float32 noise with unit variance in every cell.

    Raises:
        ValueError: for a ratio outside [0, 1] or boxes/camera of the wrong shape.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"trajectory noise ratio must be in [0, 1], got {ratio}")
    C, T, h, w = (int(s) for s in shape)
    rng = np.random.default_rng(int(seed))
    z = rng.standard_normal((C, T, h, w), dtype=np.float32)
    if ratio == 0.0:
        return z
    a, b = np.float32(np.sqrt(ratio)), np.float32(np.sqrt(1.0 - ratio))
    if camera is not None:
        cam = np.asarray(camera, dtype=np.float64)
        if cam.shape != (T, 3, 3):
            raise ValueError(f"camera must have shape ({T}, 3, 3) for {T} latent frames, got {cam.shape}")
        ref = rng.standard_normal((C, h, w), dtype=np.float32)
        yy, xx = np.mgrid[0:h, 0:w]
        pts = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5, np.ones(h * w)])
        for t in range(T):
            q = cam[t] @ pts
            qx, qy = q[0] / q[2], q[1] / q[2]
            ix, iy = np.floor(qx).astype(int), np.floor(qy).astype(int)
            inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
            rows, cols = yy.ravel()[inside], xx.ravel()[inside]
            z[:, t, rows, cols] = a * ref[:, iy[inside], ix[inside]] + b * z[:, t, rows, cols]
    if boxes is not None:
        bx = np.asarray(boxes, dtype=np.float64)
        if bx.ndim != 3 or bx.shape[0] != T or bx.shape[2] != 4:
            raise ValueError(f"boxes must have shape ({T}, N, 4) for {T} latent frames, got {bx.shape}")
        fresh = rng.standard_normal((C, T, h, w), dtype=np.float32)
        for n in range(bx.shape[1]):
            visible = [t for t in range(T) if _cells(bx[t, n], h, w) is not None]
            if not visible:
                continue
            t0 = visible[0]
            rr0, cc0 = _cells(bx[t0, n], h, w)
            ph, pw = len(rr0), len(cc0)
            patch = rng.standard_normal((C, ph, pw), dtype=np.float32)
            for t in visible:
                x0, y0, x1, y1 = bx[t, n]
                rr, cc = _cells(bx[t, n], h, w)
                # relative position of each cell centre inside the box -> nearest patch cell
                u = np.clip(((cc + 0.5) - x0) / max(x1 - x0, 1e-6), 0.0, 1.0 - 1e-9)
                v = np.clip(((rr + 0.5) - y0) / max(y1 - y0, 1e-6), 0.0, 1.0 - 1e-9)
                pu = np.minimum((u * pw).astype(int), pw - 1)
                pv = np.minimum((v * ph).astype(int), ph - 1)
                sub = patch[:, pv[:, None], pu[None, :]]
                z[:, t, rr[:, None], cc[None, :]] = a * sub + b * fresh[:, t, rr[:, None], cc[None, :]]
    return z


def camera_to_latent(camera: np.ndarray, sources: np.ndarray, spatial_ratio: float) -> np.ndarray:
    """World-to-frame pixel affines per pixel frame -> latent maps from frame ``t`` to frame 0.

    Args:
        camera: ``(T, 3, 3)`` world-to-frame affines in pixels (the CAMERA port's value).
        sources: ``(T_lat,)`` pixel frame per latent frame (:func:`latent_frame_sources`).
        spatial_ratio: pixels per latent cell.

    Returns:
        ``(T_lat, 3, 3)`` affines taking latent coordinates of latent frame ``t`` to latent coordinates of
        latent frame 0 (``S M_0 M_t^-1 S^-1`` with ``S`` the pixel-to-latent scaling).

    Raises:
        ValueError: for a camera of the wrong shape or a singular affine.
    """
    cam = np.asarray(camera, dtype=np.float64)
    if cam.ndim != 3 or cam.shape[1:] != (3, 3):
        raise ValueError(f"camera must have shape (T, 3, 3), got {cam.shape}")
    idx = np.clip(sources, 0, cam.shape[0] - 1)
    S = np.diag([1.0 / spatial_ratio, 1.0 / spatial_ratio, 1.0])
    Si = np.diag([spatial_ratio, spatial_ratio, 1.0])
    m0 = cam[idx[0]]
    try:
        return np.stack([S @ m0 @ np.linalg.inv(cam[i]) @ Si for i in idx])
    except np.linalg.LinAlgError:
        raise ValueError("a camera affine is singular (zoom 0?)") from None
