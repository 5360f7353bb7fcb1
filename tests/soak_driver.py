"""Drive the real window for a long time through its own entry point (tests/test_soak.py runs
this in a subprocess, so an interpreter abort is a failed test, not a dead pytest).

    python tests/soak_driver.py --moves 20000 --report out.json DCGAN.safetensors SG2.safetensors

`ganexplorer.__main__.main([first model])` builds and shows the window and runs the event loop;
a timer started before it finds the window and plays a script of gestures from inside that
loop: drags of every visible slider (each `setValue` is one slider move), tab switches, model
switches between the given checkpoints, undo and redo. Between batches control returns to the
event loop, so renders come back and labels repaint as they do for a person.

Printed as it goes (one JSON object a line, flushed: the figures survive an abort) and written
to --report at the end: moves, seconds, None's reference count after each model switch, RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def log(**kw) -> None:
    print(json.dumps(kw), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs=2, help="a DCGAN and a StyleGAN2 checkpoint")
    ap.add_argument("--moves", type=int, default=20_000)
    ap.add_argument("--cycles", type=int, default=6, help="model switches (alternating)")
    ap.add_argument("--report", required=True)
    args = ap.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox, QSlider

    import ganexplorer.__main__ as entry
    from ganexplorer.ui.main_window import MainWindow
    from superqt import QRangeSlider

    app = QApplication([sys.argv[0]])
    rng = random.Random(0)
    report: dict = {"moves": 0, "tab_switches": 0, "model_switches": 0, "undos": 0, "redos": 0,
                    "discard_dialogs": 0,
                    "none_refs": [], "rss_mb": [], "sliders_seen": set(), "python": sys.version.split()[0]}
    import PySide6
    report["pyside"] = PySide6.__version__
    t0 = time.perf_counter()
    per_cycle = args.moves // args.cycles

    def window() -> MainWindow:
        return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))

    def visible_sliders(w: MainWindow) -> list[QSlider]:
        return [s for s in w.findChildren(QSlider) if s.isVisible() and s.isEnabled()]

    def move(slider: QSlider) -> None:
        lo, hi = slider.minimum(), slider.maximum()
        if isinstance(slider, QRangeSlider):
            a, b = sorted(rng.sample(range(lo, hi + 1), 2)) if hi > lo else (lo, hi)
            slider.setValue((a, b))
        else:
            slider.setValue(rng.randint(lo, hi))
        report["moves"] += 1
        if report["moves"] % 1000 == 0:
            log(moves=report["moves"], seconds=round(time.perf_counter() - t0, 1),
                none_refs=sys.getrefcount(None), rss_mb=round(rss_mb(), 1))

    def answer_discard() -> None:
        box = app.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "discard-dialog":
            report["discard_dialogs"] += 1
            box.button(QMessageBox.StandardButton.Discard).click()

    def script():
        """A generator: each `yield` hands control back to the event loop."""
        w = window()
        models = list(args.models)
        for cycle in range(args.cycles):
            path = models[cycle % 2]
            if cycle > 0:                                   # the first model came from main()
                QTimer.singleShot(50, answer_discard)          # the unsaved-work question, clicked
                w.open_model(path)
                report["model_switches"] += 1
            while w.current_model() is None or os.path.realpath(w.current_model().path) != os.path.realpath(path):
                yield 20
            yield 50
            report["none_refs"].append(sys.getrefcount(None))
            report["rss_mb"].append(round(rss_mb(), 1))
            log(cycle=cycle, model=os.path.basename(path), moves=report["moves"],
                seconds=round(time.perf_counter() - t0, 1), none_refs=report["none_refs"][-1],
                rss_mb=report["rss_mb"][-1])
            done = 0
            while done < per_cycle:
                tabs = [i for i in range(w.tabs.count()) if w.tabs.isTabVisible(i)]
                w.tabs.setCurrentIndex(rng.choice(tabs))
                report["tab_switches"] += 1
                yield 0
                sliders = visible_sliders(w)
                for s in sliders:
                    report["sliders_seen"].add(f"{type(w.tabs.currentWidget()).__name__}/"
                                               f"{type(s).__name__}/{s.objectName() or s.toolTip()[:30]}")
                    s.setSliderDown(True)                  # a drag: press, move, release
                    for _ in range(6):
                        move(s)
                        done += 1
                    s.setSliderDown(False)
                    yield 0
                for _ in range(3):
                    w.act_undo.trigger()
                    report["undos"] += 1
                w.act_redo.trigger()
                report["redos"] += 1
                yield 0
        yield 200                                          # last renders land
        report["none_refs"].append(sys.getrefcount(None))
        report["rss_mb"].append(round(rss_mb(), 1))

    steps = script()

    def tick() -> None:
        try:
            delay = next(steps)
        except StopIteration:
            report["seconds"] = round(time.perf_counter() - t0, 1)
            report["sliders_seen"] = sorted(report["sliders_seen"])
            w = window()
            report["history_len"] = len(w.history)
            with open(args.report, "w") as f:
                json.dump(report, f, indent=1)
            log(done=True, moves=report["moves"], seconds=report["seconds"])
            w.mark_saved()                                 # nothing to ask about on close
            w.close()
            app.quit()
            return
        QTimer.singleShot(delay, tick)

    QTimer.singleShot(0, tick)
    return entry.main([args.models[0]])


if __name__ == "__main__":
    sys.exit(main())
