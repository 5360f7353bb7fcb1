"""Screenshots of a brush edit in the Edit panel: before (strokes drawn), review, after (accepted).

    QT_QPA_PLATFORM=offscreen python tools/edit_screenshots.py [--model CKPT] [--out docs/screenshots]

The strokes are drawn with real mouse events sent to the image view (press, moves with the
left button held, release), so the shots also check that brushes draw where the mouse is.
Default model: the sample face DCGAN (64x64), else the app's default model.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def mouse_stroke(view, points) -> None:
    """Drag with the left button through image-pixel `points` on the ImageView."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    vp = view.viewport()

    def to_widget(x: float, y: float) -> QPointF:
        scene = view.view_box.mapViewToScene(QPointF(x, y))
        return QPointF(view.mapFromScene(scene))

    def send(kind, pos: QPointF, buttons) -> None:
        from PySide6.QtTest import QTest
        button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
        ev = QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)
        QTest.qWait(25)   # pyqtgraph drops mouse moves that come faster than the screen refreshes

    left = Qt.MouseButton.LeftButton
    send(QEvent.Type.MouseButtonPress, to_widget(*points[0]), left)
    for x, y in points[1:]:
        send(QEvent.Type.MouseMove, to_widget(x, y), left)
    send(QEvent.Type.MouseButtonRelease, to_widget(*points[-1]), Qt.MouseButton.NoButton)


def faces_model():
    """The sample face DCGAN's path (the shots' default model), or None for the app's default."""
    from ganexplorer.models import samples
    faces = [s.path for s in samples.list_sample_models() if "Faces" in s.name]
    return faces[0] if faces else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="checkpoint (default: the sample face DCGAN)")
    ap.add_argument("--out", default="docs/screenshots")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    from ganexplorer.ui.headless import open_window, settle, wait_until
    model = a.model or faces_model()
    w = open_window(model, size=(1280, 1000))
    w.change(f"seed {a.seed}", None, seed=a.seed)
    settle(w)
    p = w.edit_panel
    if p is None:
        print("the Edit panel did not load", file=sys.stderr)
        return 1
    w.tabs.setCurrentWidget(p)
    p.live_box.setChecked(False)     # these shots show the Optimise path (edit_live_screenshots.py: Live)
    settle(w)
    w.image_view.fit()
    R = w.current_model().G.img_resolution
    s = R / 64
    p.set_tool("color")
    p.set_color((230, 30, 30))
    p.width_spin.setValue(max(2, round(9 * s)))
    mouse_stroke(w.image_view, [(x * s, y * s) for x, y in [(7, 8), (14, 6), (22, 5), (30, 5), (38, 6),
                                                             (46, 6), (54, 8)]])
    p.set_tool("sketch")
    p.width_spin.setValue(max(2, round(6 * s)))
    mouse_stroke(w.image_view, [(x * s, y * s) for x, y in [(20, 54), (28, 56), (36, 56), (44, 54)]])
    p.set_tool("pan")
    if len(p.doc.strokes) != 2:
        print(f"mouse strokes did not register ({len(p.doc.strokes)} strokes)", file=sys.stderr)
        return 1
    print("strokes (image px):", [(st.type, [tuple(round(v, 1) for v in pt) for pt in st.points][:3])
                                  for st in p.doc.strokes])
    settle(w)
    before = out / "edit_before.png"
    w.grab().save(str(before))
    print(f"wrote {before}")
    p.steps_spin.setValue(60)
    p.start_edit()
    wait_until(lambda: not p.running(), 300, "the edit")
    if not p.has_result():
        print(f"no result: {p.status.text()}", file=sys.stderr)
        return 1
    status = p.status.text()
    review = out / "edit_review.png"     # the live result over the image, candidates, slider
    w.grab().save(str(review))
    print(f"wrote {review}")
    p.accept_result()
    settle(w)
    w.left_tabs.setCurrentIndex(1)   # the history: the edit is one step
    p.status.setText(status.replace(" Accept or Discard.", " — accepted."))
    settle(w)
    after = out / "edit_after.png"
    w.grab().save(str(after))
    print(f"wrote {after}")
    w.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
