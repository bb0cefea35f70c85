"""Upscale (issue 16 point 3): tiled super-resolution keeps memory to one tile and leaves no seams."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vidstudio.backend.upscale import Upscaler, load_upscaler, tiled_upscale
from vidstudio.errors import ModelError, NodeError


def esrgan_like(scale: int = 2, seed: int = 0) -> torch.nn.Module:
    """A small random ESRGAN-style network: convolutions, then a pixel shuffle (receptive radius 3 px)."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(8, 8, 3, padding=1),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(8, 3 * scale * scale, 3, padding=1),
        torch.nn.PixelShuffle(scale),
        torch.nn.Sigmoid(),
    )
    return net.eval()


def test_tiles_with_enough_context_equal_the_whole_frame_at_once():
    up = Upscaler(esrgan_like(2), 2)
    rng = np.random.default_rng(0)
    img = rng.random((37, 53, 3)).astype(np.float32)
    whole = tiled_upscale(up, img, tile=4096, overlap=0)
    assert whole.shape == (74, 106, 3)
    tiled = tiled_upscale(up, img, tile=16, overlap=4)  # 3 x 4 tiles, each with 4 px of context
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    seams = tiled_upscale(up, img, tile=16, overlap=0)  # without context the tile borders show
    assert np.abs(seams - whole).max() > 1e-3


def test_a_constant_image_stays_constant_across_tiles():
    up = Upscaler(esrgan_like(4, seed=1), 4)
    img = np.full((40, 40, 3), 0.3, np.float32)
    out = tiled_upscale(up, img, tile=12, overlap=4)
    inner = out[16:-16, 16:-16]  # away from the frame's own zero-padded border
    # A random pixel-shuffle network gives each of the 4x4 sub-pixel phases its own value; every 4x4 block of the
    # output is the same block, across the tile borders at 48, 96, 144 output px too: no seam.
    blocks = inner.reshape(inner.shape[0] // 4, 4, inner.shape[1] // 4, 4, 3).transpose(0, 2, 1, 3, 4)
    assert np.abs(blocks - blocks[0, 0]).max() < 1e-5


def test_bad_files_and_tiles_are_named(tmp_path):
    with pytest.raises(ModelError, match="missing.pth: upscale model file not found"):
        load_upscaler(tmp_path / "missing.pth")
    with pytest.raises(NodeError, match="param 'tile' must be at least 8"):
        tiled_upscale(Upscaler(esrgan_like(), 2), np.zeros((8, 8, 3), np.float32), tile=4)


def test_spandrel_detects_esrgan_from_a_random_state_dict(tmp_path):
    spandrel = pytest.importorskip("spandrel")
    from spandrel.architectures.ESRGAN import ESRGAN

    net = ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=2)
    path = tmp_path / "tiny_esrgan.pth"
    torch.save(net.state_dict(), path)
    up = load_upscaler(path)
    assert up.scale == 2 and isinstance(spandrel.__version__, str)
    out = tiled_upscale(up, np.random.default_rng(0).random((20, 24, 3)).astype(np.float32), tile=8, overlap=8)
    assert out.shape == (40, 48, 3)


def test_upscale_node_makes_a_lazy_clip_of_larger_frames(tmp_path, monkeypatch):
    import vidstudio.backend.upscale as mod
    from vidstudio.graph import Engine, Graph, Link, NodeInstance, Settings
    from vidstudio.graph.node import Node, Output
    from vidstudio.graph.registry import NodeRegistry
    from vidstudio.graph.types import PortType
    from vidstudio.media.clip import Clip
    from vidstudio.nodes.upscale import Upscale

    seen = []
    monkeypatch.setattr(
        mod,
        "load_upscaler",
        lambda path, device="auto": seen.append((path.name, device)) or Upscaler(esrgan_like(2), 2, "ESRGAN"),
    )

    class Frames(Node):
        type_id = "Frames"
        outputs = (Output("video", PortType.VIDEO),)
        uses_settings = ()

        def execute(self, ctx, inputs, params):
            return {"video": Clip.from_array(np.random.default_rng(0).random((3, 20, 30, 3)).astype(np.float32))}

    reg = NodeRegistry()
    reg.register(Frames)
    reg.register(Upscale)
    (tmp_path / "x2.pth").write_bytes(b"")
    g = Graph(
        nodes=[
            NodeInstance(id="src", type="Frames"),
            NodeInstance(id="up", type="Upscale", params={"model": "x2.pth", "tile": 8, "overlap": 4}),
        ],
        links=[Link.make("src", "video", "up", "video")],
    )
    r = Engine(reg).run(g, Settings(width=32, height=32, frame_count=3), project_dir=tmp_path)
    clip = r.output("up", "video")
    assert seen == [("x2.pth", "auto")] and clip.shape == (3, 40, 60, 3) and clip.array is None
    assert clip.frame(2).shape == (40, 60, 3)
    assert any("ESRGAN x2: 30x20 to 60x40" in n for n in r.report["up"].notes)
