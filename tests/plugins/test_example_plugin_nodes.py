"""The example plugin's nodes against analytic answers: Film Grain's strength, size and per-frame seeding;
Wiggle's bound, zeros, smoothness, frequency in Hz and independence of tracks. (Imported from the source
folder here; test_plugin_install.py uses them after a real install.)"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from plugin_helpers import example_on_path  # noqa: F401
from vidstudio.api import Clip, ExecutionContext, Track, TrackSet
from vidstudio.graph import Engine, Graph, Link, NodeInstance, NodeRegistry, Settings
from vidstudio.motion.curves import FCurve


@pytest.fixture
def nodes(example_on_path):
    from vidstudio_example_nodes.grain import FilmGrain, grain_field
    from vidstudio_example_nodes.wiggle import Wiggle, gradient_noise

    return FilmGrain, Wiggle, grain_field, gradient_noise


def ctx(frame_count: int, fps: int = 24, w: int = 96, h: int = 64) -> ExecutionContext:
    return ExecutionContext("n", width=w, height=h, fps=Fraction(fps), frame_count=frame_count)


def grain(FilmGrain, clip: Clip, amount, size=1.5, seed=0, color=False) -> Clip:
    T = clip.frame_count
    params = {
        "amount": np.broadcast_to(np.asarray(amount, float), (T,)).copy(),
        "size": np.broadcast_to(np.asarray(size, float), (T,)).copy(),
        "seed": seed,
        "color": color,
    }
    return FilmGrain().execute(ctx(T), {"video": clip}, params)["video"]


def gray(T=6, h=64, w=96) -> Clip:
    return Clip.from_array(np.full((T, h, w, 3), 0.5, np.float32))


def test_film_grain_amount_is_the_standard_deviation_and_keyable(nodes):
    FilmGrain = nodes[0]
    amount = [0.0, 0.02, 0.05, 0.1, 0.05, 0.02]
    out = np.asarray(grain(FilmGrain, gray(), amount))
    assert out.shape == (6, 64, 96, 3) and out.dtype == np.float32
    assert np.array_equal(out[0], np.full((64, 96, 3), 0.5, np.float32))  # amount 0: untouched
    np.testing.assert_allclose((out - 0.5).std(axis=(1, 2, 3)), amount, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose((out - 0.5).mean(axis=(1, 2, 3)), 0.0, atol=1e-6)
    assert np.array_equal(out[..., 0], out[..., 2])  # monochrome: the same grain in R, G and B
    color = np.asarray(grain(FilmGrain, gray(), 0.05, color=True))
    assert not np.array_equal(color[..., 0], color[..., 1])
    np.testing.assert_allclose((color - 0.5).std(axis=(1, 2)), 0.05, rtol=1e-3)
    bright = np.asarray(grain(FilmGrain, Clip.from_array(np.full((1, 16, 16, 3), 0.99, np.float32)), 0.5))
    assert bright.min() >= 0.0 and bright.max() <= 1.0  # clipped to the valid range


@pytest.mark.parametrize(
    "size, expected", [(2.0, np.exp(-1 / 4)), (4.0, np.exp(-1 / 16)), (8.0, np.exp(-1 / 64)), (0.5, 0.0)]
)
def test_film_grain_size_sets_the_correlation_between_neighbours(nodes, size, expected):
    # White noise smoothed by a Gaussian of standard deviation s = size / 2 px: the correlation of horizontal
    # neighbours is exp(-1 / (4 s^2)) (for s >= 1 px); below a pixel it is white noise (correlation ~0).
    grain_field = nodes[2]
    g = grain_field(seed=3, frame=0, height=256, width=256, size=size)[..., 0]
    measured = np.mean(g[:, 1:] * g[:, :-1]) / np.mean(g * g)
    assert measured == pytest.approx(expected, abs=0.02)


def test_film_grain_frames_are_seeded_per_frame(nodes):
    FilmGrain = nodes[0]
    full = grain(FilmGrain, gray(), 0.05, seed=11)
    alone = grain(FilmGrain, gray(), 0.05, seed=11)  # a new render that is asked for frame 4 only
    assert np.array_equal(alone.frame(4), np.asarray(full)[4])
    assert not np.array_equal(full.frame(3), full.frame(4))
    assert not np.array_equal(grain(FilmGrain, gray(), 0.05, seed=12).frame(4), full.frame(4))


def tracks(T: int = 48) -> TrackSet:
    t = np.arange(T, dtype=float)
    ball = Track("ball", np.stack([10 + 2 * t, np.full(T, 20.0)], axis=1), angle=np.linspace(0, 1, T), size=(8, 8))
    cube = Track("cube", np.tile([[50.0, 40.0]], (T, 1)), visible=t < 30)
    return TrackSet([ball, cube], anchors=np.array([[5.0, 5.0]]))


def wiggle(Wiggle, ts: TrackSet, amplitude=10.0, frequency=2.0, seed=7, fps=24) -> TrackSet:
    T = ts.frame_count
    params = {
        "amplitude": np.broadcast_to(np.asarray(amplitude, float), (T,)).copy(),
        "frequency": np.broadcast_to(np.asarray(frequency, float), (T,)).copy(),
        "seed": seed,
    }
    return Wiggle().execute(ctx(T, fps), {"trajectory": ts}, params)["trajectory"]


def offsets(before: TrackSet, after: TrackSet) -> np.ndarray:
    return after.positions() - before.positions()  # (T, N, 2)


def test_wiggle_is_bounded_zero_every_period_and_smooth(nodes):
    Wiggle = nodes[1]
    src = tracks()
    d = offsets(src, wiggle(Wiggle, src, amplitude=10.0, frequency=2.0))
    assert np.all(np.abs(d) <= 10.0 + 1e-9)
    assert np.abs(d).max() > 2.0  # it does move
    # gradient noise is zero on the lattice: at 2 Hz and 24 fps, every 12 frames (and at the start)
    np.testing.assert_allclose(d[[0, 12, 24, 36]], 0.0, atol=1e-9)
    assert np.all(np.abs(d[[6, 18, 30]]).max(axis=(1, 2)) > 0)
    # smooth: this noise has |n''| <= 15 (at f = 0 or 1 with opposite slopes), so the second difference of the
    # offset is at most amplitude * 15 * (cycles per frame)^2 = 10 * 15 * (2/24)^2 = 1.04 px
    assert np.abs(np.diff(d, 2, axis=0)).max() <= 10.0 * 15 * (2 / 24) ** 2
    # at 3 Hz the zeros come every 8 frames, in seconds through the fps
    d3 = offsets(src, wiggle(Wiggle, src, frequency=3.0))
    np.testing.assert_allclose(d3[::8], 0.0, atol=1e-9)
    d30 = offsets(src, wiggle(Wiggle, src, frequency=3.0, fps=30))
    np.testing.assert_allclose(d30[::10], 0.0, atol=1e-9)


def test_wiggle_keys_seeds_and_tracks(nodes):
    Wiggle = nodes[1]
    src = tracks()
    amp = np.where(np.arange(48) < 10, 0.0, 6.0)
    out = wiggle(Wiggle, src, amplitude=amp)
    d = offsets(src, out)
    assert np.array_equal(d[:10], np.zeros((10, 2, 2))) and np.abs(d[10:]).max() > 0.5
    assert np.all(np.abs(d) <= 6.0 + 1e-9)
    assert np.array_equal(offsets(src, wiggle(Wiggle, src, frequency=0.0)), np.zeros((48, 2, 2)))  # 0 Hz: still
    assert not np.allclose(d[:, 0], d[:, 1])  # each track has its own noise
    assert not np.allclose(d[:, :, 0], d[:, :, 1])  # and each axis
    assert not np.allclose(offsets(src, wiggle(Wiggle, src, seed=8)), offsets(src, wiggle(Wiggle, src, seed=7)))
    # angle, scale, visibility, size and anchors pass through
    for a, b in zip(src, out):
        assert (a.name, a.size) == (b.name, b.size)
        assert (
            np.array_equal(a.angle, b.angle)
            and np.array_equal(a.scale, b.scale)
            and np.array_equal(a.visible, b.visible)
        )
    assert np.array_equal(out.anchors, src.anchors)
    # a track's noise depends on its name, not on the other tracks
    more = TrackSet(list(src) + [Track("extra", np.zeros((48, 2)))])
    np.testing.assert_array_equal(offsets(more, wiggle(Wiggle, more))[:, :2], offsets(src, wiggle(Wiggle, src)))


def test_gradient_noise_bound_is_tight(nodes):
    gradient_noise = nodes[3]
    # with slopes +1 then -1 the noise peaks at exactly 1 halfway between the lattice points
    assert gradient_noise(np.array([0.5]), np.array([1.0, -1.0]))[0] == pytest.approx(1.0)
    assert gradient_noise(np.array([0.0, 1.0]), np.array([1.0, -1.0, 1.0])).tolist() == [0.0, 0.0]


def test_both_nodes_in_an_engine_graph_with_a_keyed_parameter(nodes):
    from vidstudio.api import Node, Output, PortType

    FilmGrain, Wiggle = nodes[0], nodes[1]

    class Gray(Node):
        type_id = "tests.Gray"
        outputs = (Output("video", PortType.VIDEO),)

        def execute(self, ctx, inputs, params):
            return {"video": Clip.from_array(np.full((ctx.frame_count, ctx.height, ctx.width, 3), 0.5, np.float32))}

    class Line(Node):
        type_id = "tests.Line"
        outputs = (Output("trajectory", PortType.TRAJECTORY),)

        def execute(self, ctx, inputs, params):
            return {"trajectory": tracks(ctx.frame_count)}

    reg = NodeRegistry()
    for cls in (Gray, Line):
        reg.register(cls)
    for cls in (FilmGrain, Wiggle):
        reg.register(cls, source="example_nodes")
    g = Graph(
        nodes=[
            NodeInstance(id="gray", type="tests.Gray"),
            NodeInstance(id="grain", type="example_nodes.FilmGrain"),
            NodeInstance(id="line", type="tests.Line"),
            NodeInstance(id="wig", type="example_nodes.Wiggle", params={"frequency": 2.0}),
        ],
        links=[Link.make("gray", "video", "grain", "video"), Link.make("line", "trajectory", "wig", "trajectory")],
        animation={
            "grain.amount": FCurve.model_validate(
                {"keys": [{"frame": 0, "value": 0.0, "interpolation": "linear"}, {"frame": 23, "value": 0.1}]}
            ),
            "wig.amplitude": FCurve.model_validate({"keys": [{"frame": 0, "value": 4.0}]}),
        },
    )
    res = Engine(reg).run(g, Settings(width=32, height=16, frame_count=24), targets=["grain", "wig"])
    video = np.asarray(res.output("grain", "video"))
    np.testing.assert_allclose((video - 0.5).std(axis=(1, 2, 3)), np.linspace(0, 0.1, 24), rtol=1e-3, atol=1e-6)
    d = offsets(tracks(24), res.output("wig", "trajectory"))
    assert np.abs(d).max() <= 4.0 and np.abs(d).max() > 0.5
    np.testing.assert_allclose(d[[0, 12]], 0.0, atol=1e-9)
