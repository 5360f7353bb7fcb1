"""The window on StyleGAN3 and on a conditional model: the transform controls and the class
control, driven through their widgets, give the CLI's pixels and live in history, pins and
sessions (pytest-qt, offscreen)."""
from __future__ import annotations

import numpy as np
from PIL import Image
from ui_support import WAIT_MS, make_window, open_and_wait, settings, settle  # noqa: F401

from fixtures_path import fixture
from ganexplorer import cli
from ganexplorer.views import View


def shown(w) -> np.ndarray:
    return np.array(w.image_view.image(), copy=True)


def cli_png(tmp_path, ckpt, *args: str) -> np.ndarray:
    out = tmp_path / "cli.png"
    assert cli.main(["generate", str(ckpt), *args, "--out", str(out), "--device", "cpu"]) == 0
    return np.asarray(Image.open(out).convert("RGB"))


def test_stylegan3_transform_controls_match_the_cli_and_undo(qtbot, settings, tmp_path):
    ckpt = fixture("nvidia_sg3_r_32.pkl")
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, ckpt)
        p = w.sample_panel
        assert not p.transform_row.isHidden() and p.class_row.isHidden()   # R: moves, no classes
        plain = shown(w)
        p.tx.setValue(0.125)
        settle(qtbot, w)
        p.rot.setValue(30)
        settle(qtbot, w)
        assert w.state.translate == (0.125, 0.0) and w.state.rotate == 30
        assert np.array_equal(shown(w), cli_png(tmp_path, ckpt, "--seeds", str(w.state.seed),
                                                "--translate", "0.125,0", "--rotate", "30"))
        w.undo()
        settle(qtbot, w)
        assert p.rot.value() == 0 and p.tx.value() == 0.125      # the view follows the model
        w.undo()
        settle(qtbot, w)
        assert np.array_equal(shown(w), plain)
    finally:
        w.shutdown()


def test_class_control_matches_the_cli_and_lives_in_pins_and_sessions(qtbot, settings, tmp_path):
    ckpt = fixture("nvidia_sg3repo_sg2_64_cond.pkl")
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, ckpt)
        p = w.sample_panel
        assert not p.class_row.isHidden() and p.transform_row.isHidden()
        assert p.class_count.text() == "of 4" and p.class_follows.isChecked()   # default: follows seed
        w.change("seed 6", None, seed=6)
        settle(qtbot, w)
        assert np.array_equal(shown(w), cli_png(tmp_path, ckpt, "--seeds", "6"))     # class 6 % 4 = 2
        p.class_follows.setChecked(False)
        p.class_box.setValue(3)
        settle(qtbot, w)
        assert w.state.class_index == 3
        image = shown(w)
        assert np.array_equal(image, cli_png(tmp_path, ckpt, "--seeds", "6", "--class", "3"))
        w.pin_current()
        assert w.state.pins[-1].class_index == 3
        path = tmp_path / "s.ganexplorer.json"
        w.save_session(str(path))
        w2 = make_window(qtbot, settings)
        try:
            with qtbot.waitSignal(w2.modelChanged, timeout=WAIT_MS):
                w2.open_session(str(path))
            settle(qtbot, w2)
            assert w2.state.class_index == 3 and w2.state.pins[-1].class_index == 3
            assert not w2.sample_panel.class_follows.isChecked() and w2.sample_panel.class_box.value() == 3
            assert np.array_equal(shown(w2), image)
        finally:
            w2.shutdown()
        # class interpolation in the Interpolate panel: the label goes 0 -> 3 before the mapping
        w.show_panel(w.interp_panel)
        ip = w.interp_panel
        assert not ip.class_row.isHidden()
        settle(qtbot, w)
        seeds_classes = shown(w)
        ip.class_b.setValue(3)
        ip.class_path.setChecked(True)
        settle(qtbot, w)
        assert w.state.sub(View.INTERPOLATE).classes == (0, 3)
        assert not np.array_equal(shown(w), seeds_classes)
    finally:
        w.shutdown()


def test_declaring_a_dcgan_label_size_in_the_window_offers_the_class_control(qtbot, settings, tmp_path,
                                                                               monkeypatch):
    import torch

    from ganexplorer.models.dcgan import DCGANGenerator
    monkeypatch.setenv("GANEXPLORER_CONFIG_DIR", str(tmp_path / "config"))
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=10, c_dim=3, img_resolution=16, ngf=8).eval()
    path = tmp_path / "netG.pth"
    torch.save(G.state_dict(), path)
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, path)
        assert w.sample_panel.class_row.isHidden() and not w.info.label_row.isHidden()
        w.info.label_size.setValue(3)
        with qtbot.waitSignal(w.modelChanged, timeout=WAIT_MS):
            w.info.declare.click()
        settle(qtbot, w)
        assert w.current_model().G.c_dim == 3 and not w.sample_panel.class_row.isHidden()
        w.sample_panel.class_follows.setChecked(False)
        w.sample_panel.class_box.setValue(1)
        settle(qtbot, w)
        assert np.array_equal(shown(w), cli_png(tmp_path, path, "--seeds", str(w.state.seed), "--class", "1"))
    finally:
        w.shutdown()


def test_every_panel_works_on_stylegan3(qtbot, settings):
    """Sample, Interpolate, Mixing (presets by sampling rate) and Directions (SeFa on the style
    affines) on StyleGAN3-R; none leaves an error over the image."""
    w = make_window(qtbot, settings)
    try:
        open_and_wait(qtbot, w, fixture("nvidia_sg3_r_32.pkl"))
        for panel in (w.interp_panel, w.mix_panel):
            w.show_panel(panel)
            settle(qtbot, w)
            assert w.image_view.error_text() == "", (panel.title, w.image_view.error_text())
        assert w.mix_panel.presets["coarse"].isEnabled() and w.mix_panel.presets["fine"].isEnabled()
        w.mix_panel.presets["fine"].click()
        settle(qtbot, w)
        assert "sampling rates 32–32" in w.mix_panel.span_label.text()
        w.show_panel(w.dir_panel)
        qtbot.waitUntil(lambda: len(w.dir_panel.rows) > 0, timeout=WAIT_MS)
        before = shown(w)
        w.dir_panel.rows[0].slider.slider.setValue(150)
        settle(qtbot, w)
        assert w.image_view.error_text() == "" and not np.array_equal(shown(w), before)
    finally:
        w.shutdown()
