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
    from ganexplorer.session.state import Endpoint, Group
    w.change("path", None, endpoints=(Endpoint(seed=5), Endpoint(seed=7), Endpoint(seed=2)),
             interp_t=0.35, interp_frames=10)
    shot("interpolate")
    # Arithmetic: three groups of pins
    for s in (0, 1, 3, 4, 6, 8):
        w.pin_seed(s)
    ids = {p.seed: p.id for p in w.state.pins}
    w.show_panel(w.arith_panel)
    w.change("groups", None, groups=(Group(1.0, (ids[2], ids[5])), Group(-1.0, (ids[7], ids[9], ids[0])),
                                     Group(1.0, (ids[1], ids[3]))))
    shot("arithmetic")
    # Directions: two sliders moved
    w.show_panel(w.dir_panel)
    wait_until(lambda: len(w.dir_panel.rows) > 0, 120, "directions")
    w.dir_panel.rows[0].slider.slider.setValue(150)
    w.dir_panel.rows[2].slider.slider.setValue(-120)
    shot("directions")
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
    w.change("clear group", None, groups=(Group(1.0, ()),) + w.state.groups[1:])
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
        w.change("mix", None, mix_rows="0-3", mix_cols="4-8", psi=0.8)
        shot("mixing")
    else:
        print("no StyleGAN model: style-mixing screenshot skipped (pass --stylegan PATH)")
    w.shutdown()
    w.close()
    print(f"{len(written)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
