"""The layer viewer in the window, on a DCGAN and on a StyleGAN2: choose a layer, switch
what is shown, scale one layer's noise; the figure is drawn on the render thread and the
panel learns the layer's channels from the result."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from ui_support import dcgan_path, drag, make_window, open_and_wait, settings, settle, window  # noqa: F401

from ganexplorer.views import View
from ganexplorer.views.layers import LayersPart


def shown(w) -> np.ndarray:
    return np.array(w.image_view.image(), copy=True)


@pytest.fixture
def render_threads(monkeypatch):
    """The threads LayersPart.render ran on (the real render, recorded on its way through)."""
    seen: list[threading.Thread] = []
    real = LayersPart.render

    def spy(self, rc):
        seen.append(threading.current_thread())
        return real(self, rc)

    monkeypatch.setattr(LayersPart, "render", spy)
    return seen


def layers_panel(qtbot, w):
    panel = w.panel_for(View.LAYERS)
    w.show_panel(panel)
    settle(qtbot, w)
    assert w.core.last_result.view == View.LAYERS and w.image_view.error_text() == ""
    return panel


def test_layer_viewer_on_a_dcgan(qtbot, window, render_threads):
    w = window
    p = layers_panel(qtbot, w)
    G = w.current_model().G
    assert [p.layer.itemText(i) for i in range(p.layer.count())] == list(G.feature_layers())
    assert p.layer.currentText() == "b8"                       # the middle of b4, b8, b16
    assert not p.noise_box.isVisibleTo(p)                      # a DCGAN has no noise inputs
    # drawn on the render thread, and the panel's facts come from that result
    assert render_threads and all(t is not threading.main_thread() for t in render_threads)
    C = int(w.core.last_result.data["layer_shape"][0])
    assert p.info.text().startswith(f"{C} channels of 8×8")
    grid = shown(w)

    p.layer.setCurrentIndex(0)                                 # b4
    settle(qtbot, w)
    assert w.state.sub(View.LAYERS).layer == "b4"
    assert p.info.text().startswith(f"{int(w.core.last_result.data['layer_shape'][0])} channels of 4×4")
    assert not np.array_equal(shown(w), grid)

    p.layer.setCurrentIndex(1)
    p.modes["norm"].click()
    settle(qtbot, w)
    norm = shown(w)
    assert w.state.sub(View.LAYERS).mode == "norm" and not np.array_equal(norm, grid)
    assert not p._form.isRowVisible(p.count) and not p._form.isRowVisible(p.channel_row)

    p.modes["channel"].click()
    settle(qtbot, w)
    assert p.channel.maximum() == C - 1                        # learned from the result
    first = shown(w)
    p.channel.setValue(2)
    settle(qtbot, w)
    assert not np.array_equal(shown(w), first)
    p.strongest.click()                                        # jump to the strongest channel
    settle(qtbot, w)
    ranked = w.core.last_result.data["layer_ranked"]
    assert w.state.sub(View.LAYERS).channel == int(ranked[0])
    assert w.core.last_result.data["layer_shown"].tolist() == [int(ranked[0])]

    narrow = shown(w).shape[1]
    p.spectrum.setCurrentIndex(p.spectrum.findData("image"))  # a third tile: the spectrum
    settle(qtbot, w)
    assert shown(w).shape[1] > narrow and w.core.last_result.figure.labels[-1] == "spectrum of the image"
    w.core.undo()                                              # one gesture, one undo step
    settle(qtbot, w)
    assert w.state.sub(View.LAYERS).spectrum == "off" and shown(w).shape[1] == narrow


def _tiny_stylegan2(path):
    import torch

    from ganexplorer.models.checkpoint import save_checkpoint
    from ganexplorer.models.stylegan2 import StyleGAN2Generator
    torch.manual_seed(0)
    G = StyleGAN2Generator(z_dim=16, w_dim=16, img_resolution=32, img_channels=3,
                           mapping_kwargs={"num_layers": 2},
                           synthesis_kwargs={"channel_base": 256, "channel_max": 16})
    with torch.no_grad():   # a fresh G's noise strengths are 0: give every layer visible noise
        for name, q in G.named_parameters():
            if name.endswith("noise_strength"):
                q.fill_(0.8)
    save_checkpoint(path, {"G": G}, {"name": "tiny StyleGAN2 with noise"})
    return path


def test_layer_viewer_noise_strength_on_a_stylegan2(qtbot, settings, tmp_path, render_threads):  # noqa: F811
    ckpt = _tiny_stylegan2(tmp_path / "sg2.safetensors")
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, ckpt)
        p = layers_panel(qtbot, w)
        names = ("b4.conv1", "b8.conv0", "b8.conv1", "b16.conv0", "b16.conv1", "b32.conv0", "b32.conv1")
        assert p.noise_box.isVisibleTo(p) and tuple(p.noise_sliders) == names
        assert p.layer.currentText() == "b16"
        before, tiles = shown(w), w.core.last_result.figure.tiles
        p.noise_sliders["b8.conv0"].spin.setValue(0.0)         # zero one layer's noise
        settle(qtbot, w)
        assert w.state.sub(View.LAYERS).noise == (("b8.conv0", 0.0),)
        assert not np.array_equal(shown(w), before)
        image, maps = w.core.last_result.figure.tiles[:2]
        assert not np.array_equal(image, tiles[0]) and not np.array_equal(maps, tiles[1])  # both follow
        assert p.noise_reset.isEnabled()
        # a later layer scaled up by a slider drag: one undo step for the whole drag
        steps = len(w.history)
        drag(p.noise_sliders["b32.conv1"].slider, [120, 160, 200])
        settle(qtbot, w)
        assert len(w.history) == steps + 1
        assert dict(w.state.sub(View.LAYERS).noise) == {"b8.conv0": 0.0, "b32.conv1": 2.0}
        assert p.noise_sliders["b32.conv1"].value() == 2.0
        # the sub-state goes into the session file and comes back
        path = tmp_path / "s.json"
        assert w.save_session(str(path))
        _, loaded = w.core.read_session(path)
        assert loaded.sub(View.LAYERS).noise == w.state.sub(View.LAYERS).noise
        p.noise_reset.click()
        settle(qtbot, w)
        assert w.state.sub(View.LAYERS).noise == ()
        assert np.array_equal(shown(w), before)                 # strength 1 everywhere: as trained
        assert all(s.value() == 1.0 for s in p.noise_sliders.values())
        assert render_threads and all(t is not threading.main_thread() for t in render_threads)
    finally:
        w.shutdown()
