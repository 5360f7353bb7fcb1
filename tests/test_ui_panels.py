"""Panels against the CLI: the window shows the very pixels `ganexplorer arithmetic` and
`ganexplorer mix` write; an export's metadata renders the exported picture again."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from ui_support import WAIT_MS, dcgan_path, drag, make_window, open_and_wait, settings, settle, window  # noqa: F401

from ganexplorer import cli
from ganexplorer.export.metadata import read_metadata
from ganexplorer.render.figures import reproduce
from ganexplorer.render.recipes import arithmetic_ws, mixing_ws
from ganexplorer.session.state import Group
from ganexplorer.views import View


def shown(w) -> np.ndarray:
    return np.array(w.image_view.image(), copy=True)


def png(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_arithmetic_with_given_seeds_matches_the_cli(qtbot, window, dcgan_path, tmp_path):
    w = window
    groups = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    for g in groups:                                       # click samples in the browse grid to pin them
        for seed in g:
            w.sample_panel.grid.clickedData.emit(seed)
    ids = {p.seed: p.id for p in w.state.pins}
    w.show_panel(w.arith_panel)
    for i, g in enumerate(groups):
        for seed in g:                                     # what dropping a pin into a group does
            w.arith_panel.boxes[i].members.pinDropped.emit(ids[seed])
    w.arith_panel.boxes[1].sign.setCurrentIndex(1)         # the middle group is subtracted
    settle(qtbot, w)
    assert w.state.sub(View.ARITHMETIC).groups == (Group(1.0, (1, 2, 3)), Group(-1.0, (4, 5, 6)), Group(1.0, (7, 8, 9)))
    assert w.image_view.error_text() == ""
    out = tmp_path / "arith.png"
    assert cli.main(["arithmetic", str(dcgan_path), "--group", "+1,2,3", "--group", "-4,5,6",
                     "--group", "+7,8,9", "--device", "cpu", "--out", str(out)]) == 0
    assert np.array_equal(shown(w), png(out))
    r = arithmetic_ws(w.current_model().G, groups, [1, -1, 1])
    assert np.array_equal(w.core.last_result.data["arith_result"], r.result)
    # the sigma slider re-renders the neighbours; one drag, one undo step
    n = len(w.history)
    drag(w.arith_panel.sigma.slider, [40, 60])
    settle(qtbot, w)
    assert len(w.history) == n + 1 and not np.array_equal(shown(w), png(out))
    # save the concept as a direction and find it among the Directions panel's sliders
    w.arith_panel.name.setText("concept")
    w.arith_panel.save_dir.click()
    w.show_panel(w.dir_panel)
    w.dir_panel.method.setCurrentIndex(w.dir_panel.method.findData("saved"))
    assert [r.name for r in w.dir_panel.rows] == ["concept"]
    before = shown(w)
    w.dir_panel.rows[0].slider.slider.setValue(100)        # +1: the full saved step
    settle(qtbot, w)
    assert not np.array_equal(shown(w), before)


def test_directions_slider_moves_the_latent(qtbot, window):
    w = window
    w.show_panel(w.dir_panel)
    qtbot.waitUntil(lambda: len(w.dir_panel.rows) == 10, timeout=WAIT_MS)    # SeFa, computed in a job
    settle(qtbot, w)
    base = w.current_ws()
    before = shown(w)
    row = w.dir_panel.rows[0]
    drag(row.slider.slider, [50, 100, 150])
    settle(qtbot, w)
    assert w.state.edits[0].alpha == pytest.approx(1.5 * row.scale)
    assert np.allclose(w.current_ws(), base + 1.5 * row.scale * row.vector, atol=1e-5)
    assert not np.array_equal(shown(w), before)
    w.dir_panel.pin.click()
    assert w.state.pins[-1].label.endswith("edited")
    w.dir_panel.reset.click()
    settle(qtbot, w)
    assert np.array_equal(shown(w), before)


def test_export_writes_a_file_whose_metadata_reproduces_it(qtbot, window, tmp_path):
    from ganexplorer.ui.dialogs.export_dialog import ExportDialog
    w = window
    for seed in (3, 4, 5):
        w.pin_seed(seed)
    settle(qtbot, w)
    dlg = ExportDialog(w.ctx)                 # what the window hands the dialog (PanelHost)
    qtbot.addWidget(dlg)
    assert set(dlg.sources) >= {"Current view", "Pins", "Browse grid"}
    for source, fmt in (("Pins", "PNG"), ("Current view", "WebP")):
        dlg.source.setCurrentText(source)
        dlg.format.setCurrentText(fmt)
        dlg.tile.setValue(32)
        dlg.padding.setValue(3)
        dlg.labels.setChecked(True)
        dlg.path.setText(str(tmp_path / f"export-{source.replace(' ', '')}.png"))
        dlg._format_changed(fmt)
        with qtbot.waitSignal(dlg.exported, timeout=WAIT_MS) as sig:
            dlg.save_btn.click()
        meta, latents = read_metadata(sig.args[0])
        assert meta["checkpoint_sha256"] == w.current_model().sha256
        again = np.asarray(reproduce(w.current_model().G, meta, latents["ws"], meta["noise_mode"]))
        if fmt == "PNG":
            assert np.array_equal(again, png(sig.args[0]))
        else:   # lossy: the metadata gives back exactly the picture that was encoded
            assert again.shape == png(sig.args[0]).shape
            assert np.array_equal(again, np.asarray(dlg.figure().image(3, True, 32)))
    assert [p for p in meta["labels"]] == ["seed 0"]
    npy = tmp_path / "latent.npy"
    w.save_latent(str(npy))
    assert np.array_equal(np.load(npy), w.current_ws())


def test_interpolation_strip_and_export(qtbot, window, tmp_path):
    from ganexplorer.render.recipes import interpolation_ws
    w = window
    w.show_panel(w.interp_panel)
    settle(qtbot, w)
    G = w.current_model().G
    assert np.array_equal(w.core.figures["strip"].ws, interpolation_ws(G, [0, 1], 8))
    w.interp_panel.strip.clickedData.emit(7)                    # jump to the last frame
    settle(qtbot, w)
    assert w.state.sub(View.INTERPOLATE).t == 1.0
    assert np.array_equal(w.core.last_result.figure.ws, interpolation_ws(G, [0, 1], 8)[-1:])
    # play: t advances on a timer, and the whole playback is one undo step
    n = len(w.history)
    w.interp_panel.play.click()
    qtbot.waitUntil(lambda: 0.0 < w.state.sub(View.INTERPOLATE).t < 0.5, timeout=WAIT_MS)
    w.interp_panel.play.click()
    assert len(w.history) == n + 1 and not w.interp_panel.timer.isActive()
    out = tmp_path / "strip.gif"
    w.export_strip(str(out))
    qtbot.waitUntil(out.exists, timeout=WAIT_MS)
    with Image.open(out) as im:
        assert im.n_frames == 8


def _tiny_stylegan2(path):
    stylegan2 = pytest.importorskip("ganexplorer.models.stylegan2",
                                    reason="the StyleGAN2 generator is not in this tree yet")
    import torch

    from ganexplorer.models.checkpoint import save_checkpoint
    torch.manual_seed(0)
    G = stylegan2.StyleGAN2Generator(z_dim=32, w_dim=32, img_resolution=32, img_channels=3,
                                     mapping_kwargs={"num_layers": 2},
                                     synthesis_kwargs={"channel_base": 256, "channel_max": 32})
    save_checkpoint(path, {"G": G}, {"name": "tiny StyleGAN2"})
    return path


def test_style_mixing_with_given_seeds_matches_the_cli(qtbot, settings, tmp_path):
    ckpt = _tiny_stylegan2(tmp_path / "sg2.safetensors")
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, ckpt)
        assert w.tabs.isTabVisible(w.tab_index(w.mix_panel))      # shown for models with styles
        w.show_panel(w.mix_panel)
        w.mix_panel.rows.setText("0-2")
        w.mix_panel.rows.editingFinished.emit()
        w.mix_panel.cols.setText("3,4")
        w.mix_panel.cols.editingFinished.emit()
        w.mix_panel.presets["middle"].click()
        settle(qtbot, w)
        assert w.image_view.error_text() == ""
        out = tmp_path / "mix.png"
        assert cli.main(["mix", str(ckpt), "--rows", "0-2", "--cols", "3,4", "--layers", "middle",
                         "--device", "cpu", "--out", str(out)]) == 0
        assert np.array_equal(shown(w), png(out))
        _, _, cells = mixing_ws(w.current_model().G, [0, 1, 2], [3, 4], "middle")
        assert np.array_equal(w.core.last_result.figure.ws[5:], cells.reshape(6, *cells.shape[2:]))
        # a custom range on the range slider: one drag, one undo step
        n = len(w.history)
        rs = w.mix_panel.range
        rs.sliderPressed.emit()
        rs.setValue((1, 5))
        rs.setValue((2, 6))
        rs.sliderReleased.emit()
        settle(qtbot, w)
        assert w.state.sub(View.MIXING).layers == (2, 7) and len(w.history) == n + 1
        assert w.mix_panel.presets["custom"].isChecked()
    finally:
        w.shutdown()
