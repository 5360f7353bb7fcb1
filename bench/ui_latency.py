"""GUI latency while dragging a slider: GUI-thread stalls and event-to-frame delay.

    QT_QPA_PLATFORM=offscreen python bench/ui_latency.py [--model CKPT] [--slider direction|psi]
    make bench-ui

A synthetic drag moves a slider at 60 Hz for 5 s (press, setValue per tick, release) on
the default model (first bundled model, else the first sample model; --random-dcgan64
uses a DCGAN-64 with random weights) on the CPU. Measured:

* GUI-thread stalls: a 1 ms heartbeat timer runs on the GUI thread; every gap between
  two beats is time the event loop could not react. Target: p99 <= 20 ms.
* Event -> displayed frame: for each slider event, the time until the first frame that
  includes it (its stamp or a newer one) is painted (set on the image item and the view
  repainted). Target: p95 <= the model's own render time + 10 ms.
* The model's own render time: the drag's own requests rendered again by a Renderer alone,
  GUI idle, one after another (median of about 40), and the render times during the drag.

Prints a table and, with --json, writes the figures to a file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pct(values, q) -> float:
    import numpy as np
    return float(np.percentile(np.asarray(values, float), q)) if len(values) else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="checkpoint (default: the app's default model)")
    ap.add_argument("--random-dcgan64", action="store_true", help="bench a DCGAN-64 with random weights")
    ap.add_argument("--slider", choices=("direction", "psi"), default="direction",
                    help="direction: a SeFa slider in the Directions panel (one image per frame); "
                         "psi: the truncation slider in the Sample panel (image and browse grid)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--hz", type=float, default=60.0)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    from ganexplorer.render.renderer import Renderer
    from ganexplorer.ui.headless import application, open_window, settle, tiny_dcgan64, wait_until
    from ganexplorer.ui.main_window import default_model

    application()
    model = args.model
    if args.random_dcgan64 or (model is None and default_model() is None):
        model = str(tiny_dcgan64(tempfile.mkdtemp()))
    w = open_window(model)
    m = w.current_model()
    name = f"{m.name} ({m.G.kind}, {m.G.img_resolution}px)"

    if args.slider == "direction":
        w.show_panel(w.dir_panel)
        wait_until(lambda: len(w.dir_panel.rows) > 0, 300, "directions")
        slider = w.dir_panel.rows[0].slider.slider
        lo, hi = -200, 200
    else:
        w.show_panel(w.sample_panel)
        slider = w.sample_panel.psi.slider
        lo, hi = 20, 150
    settle(w)

    clock = QElapsedTimer()
    clock.start()
    now = lambda: clock.nsecsElapsed() / 1e6          # noqa: E731  ms
    beats: list[float] = []
    events: list[tuple[int, float]] = []               # (stamp after the event, time)
    frames: list[tuple[int, float]] = []                # (stamp shown, time painted)
    render_ms: list[float] = []

    handler_ms: list[float] = []                      # GUI time per slider event (state, sync, request)
    paint_ms: list[float] = []                        # GUI time per frame (result, image, paint)

    def on_frame(stamp: int) -> None:
        t0 = now()
        w.image_view.viewport().repaint()              # paint now: "displayed" means painted
        frames.append((stamp, now()))
        paint_ms.append(now() - t0)
        if w.core.last_result is not None:
            render_ms.append(w.core.last_result.render_ms)

    w.frameShown.connect(on_frame)
    sent = []                                          # every request the drag submitted
    submit = w.render_thread.submit
    w.render_thread.submit = lambda req: (sent.append(req), submit(req))[1]
    heart = QTimer()
    heart.setTimerType(Qt.TimerType.PreciseTimer)
    heart.setInterval(1)
    heart.timeout.connect(lambda: beats.append(now()))
    n_ticks = int(args.seconds * args.hz)
    values = [int(round(lo + (hi - lo) * (0.5 - 0.5 * np.cos(2 * np.pi * 2 * i / n_ticks))))
              for i in range(n_ticks)]
    tick = {"i": 0}
    drag = QTimer()
    drag.setTimerType(Qt.TimerType.PreciseTimer)
    drag.setInterval(round(1000 / args.hz))
    start_at = {"t": 0.0}

    def step() -> None:
        i = tick["i"]
        if i == 0:
            slider.setSliderDown(True)
            start_at["t"] = now()
        if i >= n_ticks:
            slider.setSliderDown(False)
            drag.stop()
            return
        # schedule by wall clock so a late tick does not shift the whole drag
        t = now()
        slider.setValue(values[i] if values[i] != slider.value() else values[i] + 1)
        handler_ms.append(now() - t)
        events.append((w.core.gate.latest, t))
        tick["i"] = i + 1

    drag.timeout.connect(step)
    heart.start()
    drag.start()
    wait_until(lambda: not drag.isActive(), args.seconds + 60, "the drag")
    settle(w, 60)
    heart.stop()
    w.render_thread.submit = submit

    # the model's own render time: the drag's own requests again, one by one, GUI idle
    probe = Renderer()
    own = [probe.render(req).render_ms for req in sent[::max(1, len(sent) // 40)]]
    own_ms = float(np.median(own[3:]))

    gaps = np.diff(beats)
    delays = []
    fi = 0
    for stamp, t in events:
        while fi < len(frames) and frames[fi][0] < stamp:
            fi += 1
        if fi < len(frames):
            delays.append(frames[fi][1] - t)
    elapsed = (events[-1][1] - events[0][1]) / 1000 if len(events) > 1 else float("nan")
    shown = sum(1 for s, _ in frames if s > events[0][0] - 1) if events else 0
    fig = {
        "model": name, "device": "cpu", "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "slider": args.slider, "events": len(events),
        "drag_seconds": round(elapsed, 2), "frames_shown": shown,
        "fps": round(shown / elapsed, 1) if elapsed else None,
        "own_render_ms_median": round(own_ms, 2), "own_render_ms_p95": round(pct(own[3:], 95), 2),
        "gui_event_handler_ms_p50": round(pct(handler_ms, 50), 2),
        "gui_event_handler_ms_p99": round(pct(handler_ms, 99), 2),
        "gui_repaint_ms_p50": round(pct(paint_ms, 50), 2),
        "drag_render_ms_median": round(float(np.median(render_ms)), 2) if render_ms else None,
        "gui_gap_ms_p50": round(pct(gaps, 50), 2), "gui_gap_ms_p99": round(pct(gaps, 99), 2),
        "gui_gap_ms_max": round(float(gaps.max()), 2) if len(gaps) else None,
        "delay_ms_p50": round(pct(delays, 50), 2), "delay_ms_p95": round(pct(delays, 95), 2),
        "delay_ms_max": round(max(delays), 2) if delays else None,
        "target_gap_p99_ms": 20.0, "target_delay_p95_ms": round(own_ms + 10, 2),
        "dropped_requests": w.render_thread.mailbox.replaced,
        "gaps_over_50ms_at": [(round(beats[i] - start_at["t"]), round(float(g))) for i, g in enumerate(gaps)
                              if g > 50],
    }
    fig["gap_ok"] = fig["gui_gap_ms_p99"] <= 20.0
    fig["delay_ok"] = fig["delay_ms_p95"] <= fig["target_delay_p95_ms"]
    w.frameShown.disconnect(on_frame)
    w.shutdown()
    w.close()
    for obj in (heart, drag, w):
        obj.deleteLater()
    application().processEvents()
    width = max(len(k) for k in fig)
    for k, v in fig.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
