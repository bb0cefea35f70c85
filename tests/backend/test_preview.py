"""Linear latent-to-RGB step previews (vidstudio.backend.preview): each family's published factors applied the
right way round, with their bias, to the latent format whose channel count the latents have."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vidstudio.backend.preview import FAMILY_FORMAT, LATENT_RGB, latent_format, linear_preview


def _known_rgb(h: int = 6, w: int = 5) -> np.ndarray:
    """A ``(h, w, 3)`` picture in [-0.8, 0.8] (the factors' output range, inside the [-1, 1] the preview clamps)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x / (w - 1), y / (h - 1), 1.0 - x / (w - 1)], -1) * 1.6 - 0.8


@pytest.mark.parametrize("family,fmt", [(f, fmt) for f, fmts in FAMILY_FORMAT.items() for fmt in fmts])
def test_a_latent_made_from_a_known_picture_previews_back_to_it(family, fmt):
    """Latents made from a known picture through the pseudo-inverse of the format's factors (``(rgb - bias) @
    pinv(F)``, one latent cell per pixel) preview back to that picture: the factors are applied as ``latent @ F``
    (channels x RGB, not transposed), the bias is added, [-1, 1] maps to [0, 1], the format is chosen by the
    latents' channel count (Wan: 16 -> Wan21, 48 -> Wan22), and every table has full rank 3 (a usable preview)."""
    factors, bias, _ = LATENT_RGB[fmt]
    F = np.asarray(factors, np.float64)
    b = np.zeros(3) if bias is None else np.asarray(bias, np.float64)
    assert np.linalg.matrix_rank(F) == 3
    rgb = _known_rgb()
    lat = (rgb - b) @ np.linalg.pinv(F)  # (h, w, C)
    latents = torch.from_numpy(lat.transpose(2, 0, 1)[:, None].astype(np.float32)).repeat(1, 3, 1, 1)  # (C, 3, h, w)
    assert latent_format(family, F.shape[0]) == fmt
    out = linear_preview(latents, family)
    np.testing.assert_allclose(out, (rgb + 1) * 0.5, atol=2e-4)
    # the same latents with one channel too many are another model's: they fall back to standardised channels
    other = torch.cat([latents, latents[:1]])
    assert latent_format(family, other.shape[0]) is None
    assert not np.allclose(linear_preview(other, family), out, atol=1e-2)


#: sha256 (first 16 hex digits) of ``json.dumps([factors, bias])`` per format, taken after every number was diffed
#: against its source (Comfy-Org/ComfyUI comfy/latent_formats.py @ 75399d78: SD15, LTXV, Wan21, Wan22, LTXAV,
#: HunyuanVideo15; kijai/ComfyUI-CogVideoXWrapper latent_preview.py @ 666f7832: CogVideoX); all were equal. A
#: change to a table must come with a new diff against its source, and the new digest here.
DIFFED = {
    "sd15": (4, "99d2de98db769677"),
    "ltxv": (128, "3dce4cec07dd8943"),
    "wan21": (16, "660da4073258fbba"),
    "wan22": (48, "b3397aceec94d5af"),
    "cogvideox": (16, "8ef2f90118346f36"),
    "ltxav": (128, "c1cd4aef1de4091d"),
    "hunyuan15": (32, "c3d16ab8c5f96a50"),
}


def test_factor_tables_are_the_diffed_values():
    """Each table has its VAE's latent channel count and is the one diffed against its source (see
    :data:`DIFFED`); the source string names the file and commit."""
    assert set(LATENT_RGB) == set(DIFFED)
    for fmt, (factors, bias, source) in LATENT_RGB.items():
        channels, digest = DIFFED[fmt]
        assert len(factors) == channels and all(len(r) == 3 for r in factors), fmt
        assert bias is None or len(bias) == 3, fmt
        assert hashlib.sha256(json.dumps([factors, bias]).encode()).hexdigest()[:16] == digest, fmt
        assert "@ 75399d78" in source or "@ 666f7832" in source, source


def test_each_family_previews_its_checkpoints_latents_with_factors():
    """The latent channel counts of the published checkpoints each take a format with factors (the Wan 2.2
    TI2V-5B's 48 channels take Wan22's, not the standardised fallback)."""
    published = {
        "animatediff": {4: "sd15"},
        "svd": {4: "sd15"},
        "ltx": {128: "ltxv"},
        "wan": {16: "wan21", 48: "wan22"},
        "cogvideox": {16: "cogvideox"},
        "hunyuan15": {32: "hunyuan15"},
        "ltx2": {128: "ltxav"},
    }
    assert set(published) == set(FAMILY_FORMAT)
    for family, by_channels in published.items():
        for channels, fmt in by_channels.items():
            assert latent_format(family, channels) == fmt, (family, channels)
