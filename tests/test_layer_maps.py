"""The layer viewer's Qt-free parts: channel ranking, norm, tiling, spectrum, colours
(render.layer_maps), and per-layer noise strength on the generators (G.scaled_noise),
which must change that layer's noise only and never the shared G. No Qt."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from tiny_models import tiny_dcgan

from ganexplorer.models.lucidrains_stylegan2 import LucidrainsGenerator
from ganexplorer.models.stylegan2 import StyleGAN2Generator
from ganexplorer.render import layer_maps as lm


def tiny_stylegan2() -> StyleGAN2Generator:
    torch.manual_seed(0)
    G = StyleGAN2Generator(z_dim=12, w_dim=10, img_resolution=16, img_channels=3,
                           mapping_kwargs=dict(num_layers=2),
                           synthesis_kwargs=dict(channel_base=256, channel_max=16)).eval()
    with torch.no_grad():   # a fresh G's noise strengths are 0: give every layer some noise
        for i, p in enumerate(q for n, q in G.named_parameters() if n.endswith("noise_strength")):
            p.fill_(0.5 + 0.1 * i)
    return G


def tiny_lucidrains() -> LucidrainsGenerator:
    torch.manual_seed(0)
    return LucidrainsGenerator(image_size=16, latent_dim=8, network_capacity=2, style_depth=2).eval()


def some_ws(G, n: int = 1) -> torch.Tensor:
    return G.mapping(torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(3)))


# ---------------------------------------------------------------- maths

def test_the_spectrum_of_a_sinusoid_peaks_at_its_frequency_around_the_centre():
    H = W = 32
    y, x = np.mgrid[0:H, 0:W]
    along_x = np.cos(2 * np.pi * 5 * x / W) + 3.0          # 5 cycles across; an offset (DC) too
    s = lm.spectrum(along_x)
    assert s.shape == (H, W)
    peaks = {tuple(int(v) for v in p) for p in np.argwhere(s > s.max() - 1e-4)}
    assert peaks == {(16, 11), (16, 21)}                    # W // 2 ± 5 on the centre row
    along_y = np.sin(2 * np.pi * 3 * y / H)
    peaks = {tuple(int(v) for v in p) for p in np.argwhere(lm.spectrum(along_y) > lm.spectrum(along_y).max() - 1e-4)}
    assert peaks == {(13, 16), (19, 16)}
    # Averaged over maps: magnitudes add, so two maps in opposite phase do not cancel.
    both = lm.spectrum(np.stack([along_y, -along_y]))
    np.testing.assert_allclose(both, lm.spectrum(along_y), atol=1e-5)
    assert lm.spectrum(np.full((8, 8), 7.0)).max() < 1e-5  # a constant map has no spectrum left


def test_the_strongest_channels_are_ranked_by_mean_absolute_activation():
    feat = np.zeros((5, 2, 2), np.float32)
    feat[0] = [[1, -1], [1, -1]]      # mean |f| 1
    feat[2] = [[3, 0], [0, 0]]        # 0.75
    feat[3] = [[-2, -2], [-2, -2]]    # 2 (negative activations count by magnitude)
    feat[4] = [[0, 0], [0, -3]]       # 0.75, the same as channel 2: the lower index first
    np.testing.assert_allclose(lm.channel_strength(feat), [1, 0, 0.75, 2, 0.75])
    assert lm.strongest_channels(feat, 4).tolist() == [3, 0, 2, 4]
    assert lm.strongest_channels(feat, 99).tolist() == [3, 0, 2, 4, 1]   # capped at C
    with pytest.raises(ValueError, match=r"must be \[C, H, W\], got \[2, 2\]"):
        lm.strongest_channels(feat[0], 2)


def test_feature_norm_is_the_per_pixel_length_of_the_feature_vector():
    feat = np.array([[[3, 0]], [[4, 1]]], np.float32)   # [2, 1, 2]
    np.testing.assert_allclose(lm.feature_norm(feat), [[5, 1]])


def test_tiles_sit_row_major_with_gaps_and_empty_cells_marked():
    maps = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    t = lm.tile(maps, gap=1)
    assert lm.grid_shape(3) == (2, 2) and t.shape == (5, 5)
    np.testing.assert_array_equal(t[0:2, 0:2], maps[0])
    np.testing.assert_array_equal(t[0:2, 3:5], maps[1])
    np.testing.assert_array_equal(t[3:5, 0:2], maps[2])
    assert np.isnan(t[2]).all() and np.isnan(t[:, 2]).all() and np.isnan(t[3:5, 3:5]).all()
    assert lm.grid_shape(16) == (4, 4) and lm.grid_shape(5) == (2, 3)


def test_colours_map_sign_and_magnitude_and_gaps():
    rgb = lm.colour_signed(np.array([[-2.0, 0.0, 2.0, np.nan]]))
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 4, 3)
    blue, grey, red, gap = (tuple(int(v) for v in p) for p in rgb[0])
    assert blue == (59, 76, 192) and grey == (221, 221, 221) and red == (180, 4, 38)
    assert gap == lm.GAP_RGB
    mag = lm.colour_magnitude(np.array([[1.0, 5.0, 3.0]]))
    dark, light, mid = (int(p.sum()) for p in mag[0])
    assert dark < mid < light
    assert (lm.colour_magnitude(np.ones((2, 2))) == lm.colour_magnitude(np.zeros((2, 2)))).all()
    # each grid channel is scaled by its own peak: a weak channel is as vivid as a strong one
    feat = np.stack([np.full((2, 2), 0.01), np.full((2, 2), 100.0)]).astype(np.float32)
    g = lm.channel_grid(feat, [1, 0])
    assert (g[0:2, 0:2] == g[0:2, 3:5]).all() and tuple(g[0, 0]) == (180, 4, 38)


def test_big_layers_are_transformed_in_chunks_and_block_averaged_for_the_grid(monkeypatch):
    maps = np.random.RandomState(0).randn(5, 16, 16).astype(np.float32)
    whole = lm.spectrum(maps)
    monkeypatch.setattr(lm, "FFT_CHUNK", 2 * 16 * 16)          # two maps at a time
    np.testing.assert_allclose(lm.spectrum(maps), whole, rtol=1e-5)
    a = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_allclose(lm.shrink(a, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    big = np.random.RandomState(1).randn(64, 256, 256).astype(np.float32)
    g = lm.channel_grid(big, np.arange(64), max_side=512)       # 8 columns of 256 -> of 64
    assert g.shape == (8 * 64 + 7, 8 * 64 + 7, 3)


def test_fit_scales_up_sharply_and_centres():
    rgb = np.zeros((2, 4, 3), np.uint8)
    rgb[:, 2:] = 255
    out = lm.fit(rgb, 8)
    assert out.shape == (8, 8, 3)
    assert (out[2:6, 0:4] == 0).all() and (out[2:6, 4:8] == 255).all()    # each pixel a 2x2 block
    assert (out[0:2] == lm.GAP_RGB).all() and (out[6:8] == lm.GAP_RGB).all()


# ---------------------------------------------------------------- noise strength per layer

def test_noise_layers_are_named_by_block_and_conv():
    assert tiny_stylegan2().noise_layers() == ("b4.conv1", "b8.conv0", "b8.conv1", "b16.conv0", "b16.conv1")
    assert tiny_lucidrains().noise_layers() == ("b4.conv1", "b4.conv2", "b8.conv1", "b8.conv2",
                                                "b16.conv1", "b16.conv2")
    G = tiny_dcgan()
    assert G.noise_layers() == ()
    with pytest.raises(ValueError, match="this model's are none"):
        with G.scaled_noise({"b4.conv1": 0.0}):
            pass


@pytest.mark.parametrize("make", [tiny_stylegan2, tiny_lucidrains], ids=["stylegan2", "lucidrains"])
def test_noise_strength_zero_everywhere_is_noise_mode_none(make):
    G = make()
    ws = some_ws(G)
    with torch.no_grad():
        plain = G.synthesis(ws, noise_mode="const")
        with G.scaled_noise({name: 0.0 for name in G.noise_layers()}):
            zeroed = G.synthesis(ws, noise_mode="const")
        with G.scaled_noise({name: 1.0 for name in G.noise_layers()}):
            ones = G.synthesis(ws, noise_mode="const")
        assert torch.equal(zeroed, G.synthesis(ws, noise_mode="none"))
        assert not torch.equal(zeroed, plain)
        assert torch.equal(ones, plain)                  # strength 1 is the model as trained
        assert torch.equal(G.synthesis(ws, noise_mode="const"), plain)   # nothing left behind


@pytest.mark.parametrize("make", [tiny_stylegan2, tiny_lucidrains], ids=["stylegan2", "lucidrains"])
def test_scaling_one_layers_noise_changes_the_maps_from_that_layer_on_only(make):
    G = make()
    ws = some_ws(G)
    blocks = G.feature_layers()                           # b4, b8, b16
    with torch.no_grad():
        _, ref = G.synthesis_features(ws, blocks)
        for strength in (0.0, 3.0):
            with G.scaled_noise({"b8.conv1": strength}):
                img, feats = G.synthesis_features(ws, blocks)
            assert torch.equal(feats["b4"], ref["b4"])        # before the layer: untouched
            assert not torch.allclose(feats["b8"], ref["b8"])  # the layer's own block ...
            assert not torch.allclose(feats["b16"], ref["b16"])  # ... and everything after
        # zero on one layer is 'none' on that layer alone: the others keep their noise
        with G.scaled_noise({"b8.conv1": 0.0}):
            one = G.synthesis(ws)
        assert not torch.equal(one, G.synthesis(ws, noise_mode="none"))
    with pytest.raises(ValueError, match=r"no noise layer 'b8\.torgb'; this model's are b4\.conv1"):
        with G.scaled_noise({"b8.torgb": 0.0}):
            pass
    with pytest.raises(ValueError, match="must be a finite number"):
        with G.scaled_noise({"b8.conv1": float("nan")}):
            pass


def test_noise_strength_and_feature_capture_never_reach_another_thread():
    """The render thread and jobs share one G: a strength set, or a capture open, on one
    thread leaves another thread's synthesis of the same G exactly as it was."""
    G = tiny_stylegan2()
    ws = some_ws(G)
    with torch.no_grad():
        plain = G.synthesis(ws)
        seen: dict[str, torch.Tensor] = {}

        def other() -> None:
            seen["img"] = G.synthesis(ws)

        with G.scaled_noise({name: 0.0 for name in G.noise_layers()}), \
                G.capture_features(["b8"]) as feats:
            t = threading.Thread(target=other)
            t.start()
            t.join()
            assert feats == {}                              # the other thread's pass was not caught
            mine = G.synthesis(ws)
            assert set(feats) == {"b8"}
        assert torch.equal(seen["img"], plain) and not torch.equal(mine, plain)
        assert not any(m._forward_hooks for m in G.modules())   # G's own modules never got hooks


# ---------------------------------------------------------------- the view's render (no Qt)

def _render(G, part, **req):
    from pathlib import Path

    from ganexplorer.models.loaded import LoadedModel
    from ganexplorer.render.renderer import Renderer
    from ganexplorer.render.requests import RenderRequest, Source
    model = LoadedModel(G=G, path=Path("tiny.safetensors"), format="native", sha256="0" * 64)
    return Renderer().render(RenderRequest(stamp=1, model=model, current=Source(seed=5), part=part, **req))


def test_the_layer_figure_shows_the_maps_synthesis_features_returns():
    from ganexplorer.latent.sampling import seeds_to_z
    from ganexplorer.views.layers import LayersPart
    G = tiny_dcgan()
    res = _render(G, LayersPart("b8", "grid", 0, 4, "layer"))
    assert res.ok, res.error
    with torch.no_grad():
        ws = G.mapping(torch.from_numpy(seeds_to_z([5], G.z_dim)))
        img, feats = G.synthesis_features(ws, ["b8"])
    feat = feats["b8"][0].numpy()
    top = lm.strongest_channels(feat, 4)
    assert res.data["layer_shown"].tolist() == top.tolist()
    assert res.data["layer_shape"].tolist() == [feat.shape[0], 8, 8]
    fig = res.figure
    assert len(fig.tiles) == 3 and fig.labels[1] == f"b8: the 4 strongest of {feat.shape[0]} channels"
    np.testing.assert_array_equal(fig.tiles[1], lm.fit(lm.channel_grid(feat, top), fig.tiles.shape[1]))
    np.testing.assert_array_equal(fig.tiles[2], lm.fit(lm.colour_magnitude(lm.spectrum(feat)), fig.tiles.shape[1]))
    bad = _render(G, LayersPart("b8", "channel", feat.shape[0], 4, "off"))
    assert bad.error == (f"channel {feat.shape[0]} does not exist: layer b8 has {feat.shape[0]} "
                         f"channels (0–{feat.shape[0] - 1})")


def test_the_layer_request_falls_back_to_the_middle_layer_and_drops_foreign_noise_layers():
    from ganexplorer.views.base import BuildContext
    from ganexplorer.views.layers import LayersState, request
    G = tiny_stylegan2()
    sub = LayersState(layer="L3_36_512", noise=(("b8.conv0", 0.0), ("b512.conv1", 0.5), ("b4.conv1", 99.0)))
    part = request(sub, BuildContext(shared=None, G=G))
    assert part.layer == "b8" and part.noise == (("b8.conv0", 0.0), ("b4.conv1", 4.0))
    assert sub.with_strength("b8.conv0", 1.0).noise == (("b512.conv1", 0.5), ("b4.conv1", 99.0))


def test_stylegan3_layers_render_with_the_input_transform():
    from ganexplorer.models.stylegan3 import StyleGAN3Generator
    from ganexplorer.views.layers import LayersPart
    torch.manual_seed(0)
    G = StyleGAN3Generator(z_dim=8, w_dim=16, img_resolution=16, img_channels=1, channel_base=256,
                           channel_max=16, num_layers=6, num_critical=2, mapping_kwargs={"num_layers": 1}).eval()
    assert G.noise_layers() == ()
    layer = G.feature_layers()[2]
    still = _render(G, LayersPart(layer, "norm", 0, 16, "image"))
    moved = _render(G, LayersPart(layer, "norm", 0, 16, "image"), translate=(0.25, 0.0))
    assert still.ok and moved.ok, (still.error, moved.error)
    r = int(layer.split("_")[1])
    assert still.data["layer_shape"].tolist()[1:] == [r, r]
    # the transform moves the input, so the layer's maps move as well as the image
    assert not np.array_equal(still.figure.tiles[1], moved.figure.tiles[1])
    assert not np.array_equal(still.figure.tiles[0], moved.figure.tiles[0])
