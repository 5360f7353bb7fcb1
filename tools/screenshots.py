"""Render every panel of the explorer window into PNG files (offscreen or under Xvfb).

    QT_QPA_PLATFORM=offscreen python tools/screenshots.py --out docs/screenshots
    make screenshots

Uses the default model (first bundled model, else the first sample model); style mixing
needs a StyleGAN model: --stylegan PATH, else the first bundled StyleGAN, else it is skipped.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="docs/screenshots", help="folder for the PNG files")
    p.add_argument("--model", help="checkpoint for the DCGAN-style shots (default: the app's default)")
    p.add_argument("--stylegan", help="a StyleGAN checkpoint for the style-mixing shot")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from ganexplorer import resources
    from ganexplorer.models.registry import load_model
    from ganexplorer.ui.headless import open_window, settle, wait_until

    w = open_window(args.model)
    written: list[Path] = []

    def shot(name: str, widget=None, dialog=None) -> None:
        settle(w)
        path = out / f"explorer_{name}.png"
        pix = (widget or w).grab()
        if dialog is not None:      # a dialog is its own window: paint it over the main window
            from PySide6.QtGui import QPainter
            d = dialog.grab()
            p = QPainter(pix)
            p.drawPixmap((pix.width() - d.width()) // 2, (pix.height() - d.height()) // 3, d)
            p.end()
        pix.save(str(path))
        written.append(path)
        print(f"wrote {path}")

    w.act_smooth.setChecked(True)
    # Sample: browse grid, a few pins
    w.change("seed 11", None, seed=11, psi=0.8)
    settle(w)
    for s in (2, 5, 7, 9):
        w.pin_seed(s)
    settle(w)
    shot("sample")
    # Interpolate: a path through three seeds
    w.show_panel(w.interp_panel)
    from ganexplorer.session.state import Endpoint, Group, View
    w.change_sub(View.INTERPOLATE, "path", None, endpoints=(Endpoint(seed=5), Endpoint(seed=7), Endpoint(seed=2)),
                 t=0.35, frames=10)
    shot("interpolate")
    # Arithmetic: three groups of pins
    for s in (0, 1, 3, 4, 6, 8):
        w.pin_seed(s)
    ids = {p.seed: p.id for p in w.state.pins}
    w.show_panel(w.arith_panel)
    w.change_sub(View.ARITHMETIC, "groups", None, groups=(Group(1.0, (ids[1], ids[2], ids[5]), "nine"),
                                                          Group(-1.0, (ids[4], ids[6], ids[8]), "seven"),
                                                          Group(1.0, (ids[0], ids[3], ids[9]), "round")))
    shot("arithmetic")
    # Directions: two sliders moved
    w.show_panel(w.dir_panel)
    wait_until(lambda: len(w.dir_panel.rows) > 0, 120, "directions")
    w.dir_panel.rows[0].slider.slider.setValue(150)
    w.dir_panel.rows[2].slider.slider.setValue(-120)
    shot("directions")
    # Labels: 200 seeds labelled from their pictures (ink in the upper half), a few by hand, learned
    labels_shot(w, shot)
    # History
    w.left_tabs.setCurrentIndex(1)
    shot("history")
    w.left_tabs.setCurrentIndex(0)
    # Export dialog
    w.export_dialog()
    dlg = w._export_dialog
    dlg.source.setCurrentText("Pins")
    dlg.labels.setChecked(True)
    wait_until(lambda: dlg.isVisible(), 10, "the export dialog")
    shot("export_dialog", dlg)
    dlg.close()
    # A bad file: the loader's message in a dialog, the old model stays
    bad = Path(tempfile.mkdtemp()) / "not-a-model.pkl"
    bad.write_bytes(b"this is not a checkpoint")
    w.open_model(str(bad))
    wait_until(lambda: w.last_error != "", 30, "the error")
    shot("bad_file", dialog=w._last_box)
    w._last_box.close()
    # A render error over the image
    w.show_panel(w.arith_panel)
    groups = w.state.sub(View.ARITHMETIC).groups
    w.change_sub(View.ARITHMETIC, "clear group", None, groups=(Group(1.0, ()),) + groups[1:])
    settle(w)
    shot("render_error")
    w.undo()
    # Style mixing, on a StyleGAN model
    sg = args.stylegan
    if sg is None:
        for path in resources.bundled_models():
            try:
                if load_model(path).G.has_styles:
                    sg = str(path)
                    break
            except Exception:   # a broken bundled file is reported by the app, not here
                continue
    if sg:
        w.open_model(sg)
        wait_until(lambda: w.current_model() is not None and str(w.current_model().path) == str(Path(sg)),
                   120, "the StyleGAN model")
        w.show_panel(w.mix_panel)
        w.apply(w.state.replace(psi=0.8).change_sub(View.MIXING, rows="0-3", cols="4-8"), "mix")
        shot("mixing")
    else:
        print("no StyleGAN model: style-mixing screenshot skipped (pass --stylegan PATH)")
    w.shutdown()
    w.close()
    print(f"{len(written)} screenshots in {out}")
    return 0


def labels_shot(w, shot) -> None:
    import numpy as np

    from ganexplorer.render.synth import seeds_to_ws, synthesize
    from ganexplorer.ui.headless import wait_until
    from ganexplorer.views import View
    panel = w.panel_for(View.LABELS)
    w.set_view(View.LABELS)
    G = w.current_model().G
    img = synthesize(G, seeds_to_ws(G, list(range(1000))))
    ink = img[:, :, : img.shape[-1] // 2].mean(axis=(1, 2, 3))
    order = np.argsort(ink)
    csv = Path(tempfile.mkdtemp()) / "ink_top.csv"
    csv.write_text("seed,label\n" + "".join(f"{i},1\n" for i in order[-100:])
                   + "".join(f"{i},0\n" for i in order[:100]))
    w.change_sub(View.LABELS, "attribute", None, attribute="ink at the top", page_size=24)
    previous = w.state.seed
    w.change("seed 0", None, seed=0)                    # a latent whose walk shows the change well
    panel.import_file(str(csv))
    page = np.argsort(ink[:24])
    for i in page[-4:]:
        panel.toggle(("seed", int(i)))                  # one click: +
    for i in page[:4]:
        panel.toggle(("seed", int(i)))                  # two clicks: −
        panel.toggle(("seed", int(i)))
    learned: list[str] = []
    panel.learned.connect(learned.append)
    panel.learn_btn.click()
    wait_until(lambda: bool(learned), 120, "the labelled direction")
    shot("labels")
    w.change(f"seed {previous}", None, seed=previous)


if __name__ == "__main__":
    sys.exit(main())
