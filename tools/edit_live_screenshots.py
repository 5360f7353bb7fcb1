"""Screenshots of live iGAN painting and of a projection, at 1280x800.

    Xvfb :NN -screen 0 1280x800x24 &
    DISPLAY=:NN QT_QPA_PLATFORM=xcb python tools/edit_live_screenshots.py [--model CKPT] [--out docs/screenshots]

edit_live.png: a colour stroke painted with real mouse events, grabbed while its run is
still going (Live on: the best candidate over the image, the strip updating, no Optimise
pressed). edit_projection.png: a projection's target beside its result with the PSNR of
the two images as shown. The target is the model's own image for --target-seed (a target
the model can make; a real photo far from the training data gives an honest but
unpictorial 13 dB on the sample faces model, see docs/editing.md).
Default model: the sample face DCGAN (64x64), else the app's default model.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="checkpoint (default: the sample face DCGAN)")
    ap.add_argument("--out", default="docs/screenshots")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--target-seed", type=int, default=1001, help="the projection's target: G(this seed)")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    from edit_screenshots import faces_model, mouse_stroke
    from ganexplorer.export.images import to_uint8
    from ganexplorer.render.synth import seeds_to_ws, synthesize
    from ganexplorer.ui.headless import open_window, settle, wait_until
    model = a.model or faces_model()
    w = open_window(model, size=(1280, 800))
    w.change(f"seed {a.seed}", None, seed=a.seed)
    settle(w)
    p = w.edit_panel
    w.show_panel(p)
    p.live_box.setChecked(True)
    settle(w)
    w.image_view.fit()
    G = w.current_model().G
    R = G.img_resolution
    s = R / 64
    wait_until(lambda: w.jobs.active() == 0, 120, "the edit warm-up")
    p.steps_spin.setValue(200)            # a long run, so that the shot finds it going
    p.set_tool("color")
    p.set_color((230, 30, 30))
    p.width_spin.setValue(max(2, round(9 * s)))
    shown = []
    p.candidatesShown.connect(lambda serial, step: shown.append((serial, step)))
    mouse_stroke(w.image_view, [(x * s, y * s) for x, y in [(7, 8), (14, 6), (22, 5), (30, 5), (38, 6),
                                                             (46, 6), (54, 8)]])
    serial = p._serial
    wait_until(lambda: any(sr == serial and st >= 25 for sr, st in shown), 120, "the live run")
    live = out / "edit_live.png"
    w.grab().save(str(live))
    print(f"wrote {live}: {p.status.text()}")
    p.cancel()
    wait_until(lambda: not p.running(), 60, "the run to stop")
    p.discard_result()
    p.clear_strokes()
    p.set_tool("pan")
    target = to_uint8(synthesize(G, seeds_to_ws(G, [a.target_seed])))[0]
    photo = Path(tempfile.mkdtemp()) / "target.png"
    Image.fromarray(target).save(photo)
    p.start_projection(str(photo))
    wait_until(lambda: not p.running(), 300, "the projection")
    proj = out / "edit_projection.png"
    w.grab().save(str(proj))
    print(f"wrote {proj}: {p.compare.psnr_label.text()}; {p.status.text()}")
    w.shutdown()
    w.close()
    wait_until(lambda: w.jobs.active() == 0, 10, "the jobs to end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
