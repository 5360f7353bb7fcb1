"""Drag previews (issue 16): during a slider drag a StyleGAN2 renders only up to a cheaper
block (the skip architecture's RGB sum at 32/64 px), shown at full size, chosen from the
measured render times; a pause or the release brings the full image; exports and the CLI
are always full."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from ui_support import WAIT_MS, make_window, open_and_wait, settings  # noqa: F401  (a fixture)

from ganexplorer.models.checkpoint import save_checkpoint
from ganexplorer.models.stylegan2 import StyleGAN2Generator
from ganexplorer.render import synth
from ganexplorer.render.synth import STAGE_TIMES, choose_stage, previewing, synthesize


def sg2_256(architecture: str = "skip") -> StyleGAN2Generator:
    """A random-weight 256-px StyleGAN2, narrow so it renders in milliseconds."""
    torch.manual_seed(0)
    G = StyleGAN2Generator(32, 0, 32, 256, 3, dict(num_layers=2),
                           dict(channel_base=1024, channel_max=32, architecture=architecture))
    return G.eval().requires_grad_(False)


def _ws(G, seed=0):
    return synth.seeds_to_ws(G, [seed])


def test_stopping_after_a_block_returns_the_skip_sum_so_far():
    G = sg2_256()
    assert G.preview_resolutions() == [32, 64, 128]
    ws = torch.from_numpy(_ws(G))
    seen = {}
    net = G.synthesis_network
    hooks = [getattr(net, f"b{r}").register_forward_hook(lambda m, i, o, r=r: seen.__setitem__(r, o[1]))
             for r in (32, 64)]
    G.synthesis(ws)                                      # the full pass: each block's RGB sum
    for h in hooks:
        h.remove()
    for res in (32, 64):
        part = G.synthesis(ws, stop_res=res)
        assert part.shape == (1, 3, res, res) and torch.equal(part, seen[res])
    assert 0 < G.stage_cost(32) < G.stage_cost(64) < G.stage_cost(128) < 1
    with pytest.raises(ValueError, match="no preview at 16 px"):
        G.synthesis(ws, stop_res=16)
    resnet = sg2_256("resnet")
    assert resnet.preview_resolutions() == []
    with pytest.raises(ValueError, match="not the skip architecture"):
        resnet.synthesis(ws, stop_res=32)


def test_the_stage_is_the_largest_whose_measured_time_fits_the_budget():
    G = sg2_256()
    assert choose_stage(G, 33) is None                  # never timed: full
    STAGE_TIMES.note(G, 256, 0.010)
    assert choose_stage(G, 33) is None                  # the full image fits: no preview
    STAGE_TIMES._times[G] = {256: 0.300}                # estimates from each stage's share of the work
    est = {r: 0.300 * G.stage_cost(r) for r in (32, 64, 128)}
    assert choose_stage(G, 1000 * est[64] + 0.1) == 64
    STAGE_TIMES._times[G].update({32: 0.020, 64: 0.040, 128: 0.120})   # measured times win
    assert choose_stage(G, 33) == 32
    assert choose_stage(G, 45) == 64
    assert choose_stage(G, 5) == 32                     # nothing fits: the cheapest stage
    STAGE_TIMES._times[G] = {256: 0.040, 32: 0.044, 64: 0.050, 128: 0.060}   # full drawn by a fast back end
    assert choose_stage(G, 33) is None                  # a stage no cheaper than the full image: full
    assert choose_stage(sg2_256("resnet"), 5) is None   # no stages: always full


def test_a_preview_is_shown_at_full_size_and_only_when_asked():
    G = sg2_256()
    ws = _ws(G)
    STAGE_TIMES._times[G] = {256: 1.0, 32: 0.001}
    view = previewing(G, 33.0)
    img = synthesize(view, ws)
    assert view.stage == 32 and img.shape == (1, 3, 256, 256)
    small = G.synthesis(torch.from_numpy(ws), stop_res=32)
    up = torch.nn.functional.interpolate(small, size=(256, 256), mode="bilinear", align_corners=False)
    assert np.allclose(img, up.numpy(), atol=1e-6)
    assert previewing(G, None) is G
    assert np.array_equal(synthesize(G, ws), G.synthesis(torch.from_numpy(ws)).numpy())


def test_the_cli_always_renders_the_full_image(tmp_path):
    from ganexplorer.cli import main
    G = sg2_256()
    ckpt = save_checkpoint(tmp_path / "sg2.safetensors", {"G": G})
    STAGE_TIMES._times[G] = {256: 10.0}                 # a "slow" model: still full
    assert main(["generate", str(ckpt), "--seeds", "3", "--backend", "eager", "--out", str(tmp_path / "o.npy")]) == 0
    out = np.load(tmp_path / "o.npy")
    assert out.shape[-2:] == (256, 256)
    ref = G.synthesis(torch.from_numpy(_ws(G, 3))).numpy()
    assert np.abs(out.reshape(ref.shape) - ref).max() < 1e-5


@pytest.fixture
def sg2_window(qtbot, settings, tmp_path):
    w = make_window(qtbot, settings)
    open_and_wait(qtbot, w, save_checkpoint(tmp_path / "sg2-256.safetensors", {"G": sg2_256()}))
    yield w
    w.shutdown()


def test_dragging_a_slider_shows_previews_then_the_full_image(qtbot, sg2_window):
    w = sg2_window
    w.core.preview_budget_ms = 1e-3      # no frame fits: every drag frame is a preview
    w.show_panel(w.sample_panel)
    slider = w.sample_panel.psi.slider
    seen: list[tuple[int | None, int]] = []      # (preview_res, source image width) per frame shown

    def on_frame(_stamp):
        r = w.core.last_result
        seen.append((r.figure.meta.get("preview_res"), r.image.shape[1]))
    w.frameShown.connect(on_frame)
    slider.setSliderDown(True)
    for i in range(4):
        with qtbot.waitSignal(w.frameShown, timeout=WAIT_MS):
            slider.setValue(slider.value() + 5 + i)
    assert [res for res, _ in seen] == [32] * len(seen) and len(seen) >= 4
    assert all(width == 256 for _, width in seen)          # scaled up to the model's size
    assert "preview 32 px" in w.ms_label.text()
    assert "Current view" not in w.export_sources()        # a preview is never exported
    # Holding still: the full image comes without a release.
    qtbot.waitUntil(lambda: seen[-1][0] is None, timeout=WAIT_MS)
    assert "full" in w.ms_label.text()
    with qtbot.waitSignal(w.frameShown, timeout=WAIT_MS):
        slider.setValue(slider.value() + 3)
    assert seen[-1][0] == 32
    n = len(seen)
    slider.setSliderDown(False)                            # release: the full image
    qtbot.waitUntil(lambda: len(seen) > n and seen[-1][0] is None, timeout=WAIT_MS)
    assert w.ms_label.text().endswith("full")
    fig = w.export_sources()["Current view"]
    assert fig.tiles.shape[1:3] == (256, 256) and "preview_res" not in fig.meta
    G = w.current_model().G
    full = synth.synthesize(G, w.core.current_ws())
    from ganexplorer.export.images import to_uint8
    assert np.array_equal(fig.tiles, to_uint8(full))
