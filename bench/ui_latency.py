"""GUI latency while dragging a slider: GUI-thread stalls and event-to-frame delay.

    QT_QPA_PLATFORM=offscreen python bench/ui_latency.py [--model CKPT|random-NAME] [--slider direction|psi]
        [--seconds S] [--busy K] [--json OUT]
    make bench-ui

A synthetic drag moves a slider at 60 Hz for 5 s (press, setValue per tick, release) on
the default model (first bundled model, else the first sample model; --random-dcgan64
uses a DCGAN-64 with random weights; `--model random-sg2-1024` (or any other network of
bench/generator_speed.py: random-sg2-256, random-sg3t-256, ...) the bench's random-weight
network, saved to a temporary checkpoint) on the CPU. `--busy K` keeps K other processes
spinning during the drag (the load-aware thread policy should hold render p95 within 2x of
the quiet figure). Measured:

* GUI-thread stalls: a 1 ms heartbeat timer runs on the GUI thread; every gap between
  two beats is time the event loop could not react. Target: p99 <= 20 ms.
* Event -> displayed frame: for each slider event, the time until the first frame that
  includes it (its stamp or a newer one) is painted (set on the image item and the view
  repainted). Target: p95 <= the model's own render time + 10 ms.
* Event -> first frame / -> full frame: a StyleGAN2 drag shows previews (a cheaper stage,
  status "preview 64 px") and the full image when it pauses or ends, so the delay to the
  first frame that includes an event, and to the first *full* frame that includes it
  (during a continuous drag that is the end of the drag), are both reported, and the time
  from the last event (the release) to the full frame.
* The model's own render time: the drag's own requests rendered again by a Renderer alone,
  GUI idle, one after another (median of up to 40, at most --probe-seconds), and the render
  times during the drag (previews and full frames apart).

Prints a table and, with --json, writes the figures to a file.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
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
    ap.add_argument("--busy", type=int, default=0, help="K processes spinning on the CPU during the drag")
    ap.add_argument("--probe-seconds", type=float, default=20.0,
                    help="time limit of the own-render probe after the drag (default 20 s)")
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
    big = model is not None and model.startswith("random-")
    if big:
        model = str(random_network(model[len("random-"):], Path(tempfile.mkdtemp())))
        # Opened from the Directions view: the Sample view's browse grid (12 images) would
        # take minutes at 1024 px on a CPU before the first frame.
        w = open_window(None)
        w.show_panel(w.dir_panel)
        settle(w)
        w.open_model(model)
        wait_until(lambda: w.current_model() is not None and str(w.current_model().path) == model,
                   300, "the model")
        settle(w, 300)
    else:
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
    full_frames: list[tuple[int, float]] = []           # (stamp, time painted) of full (not preview) frames
    preview_ms: list[float] = []                        # render times of preview frames

    handler_ms: list[float] = []                      # GUI time per slider event (state, sync, request)
    paint_ms: list[float] = []                        # GUI time per frame (result, image, paint)

    def on_frame(stamp: int) -> None:
        t0 = now()
        w.image_view.viewport().repaint()              # paint now: "displayed" means painted
        frames.append((stamp, now()))
        paint_ms.append(now() - t0)
        r = w.core.last_result
        if r is not None:
            preview = r.figure is not None and "preview_res" in r.figure.meta
            (preview_ms if preview else render_ms).append(r.render_ms)
            if not preview:
                full_frames.append(frames[-1])

    w.frameShown.connect(on_frame)
    sent = []                                          # every request the drag submitted
    submit = w.core.submit
    w.core.submit = lambda req: (sent.append(req), submit(req))[1]
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
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        heart.start()
        drag.start()
        wait_until(lambda: not drag.isActive(), args.seconds + 120, "the drag")
        settle(w, 120)
        heart.stop()
    finally:
        for p in spin:
            p.kill()
            p.wait()
    w.core.submit = submit

    # the model's own render time: the drag's own requests again, one by one, GUI idle
    probe = Renderer()
    own: list[float] = []
    deadline = time.monotonic() + args.probe_seconds
    for req in sent[::max(1, len(sent) // 40)]:
        own.append(probe.render(req).render_ms)
        if time.monotonic() > deadline and len(own) >= 2:
            break
    own_ms = float(np.median(own[3:] if len(own) > 4 else own))
    full_req = dataclasses.replace(sent[-1], preview_ms=None)
    own_full = [probe.render(full_req).render_ms for _ in range(2)]

    gaps = np.diff(beats)
    delays = _delays(events, frames)
    full_delays = _delays(events, full_frames)
    after_stop = full_delays[-1] if full_delays and len(full_delays) == len(events) else None
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
        "event_to_full_frame_ms_p95": round(pct(full_delays, 95), 2),
        "release_to_full_frame_ms": round(after_stop, 2) if after_stop is not None else None,
        "preview_frames": len(preview_ms), "full_frames": len(render_ms),
        "preview_render_ms_median": round(float(np.median(preview_ms)), 2) if preview_ms else None,
        "own_full_render_ms": round(min(own_full), 2),
        "busy_processes": args.busy,
        "target_gap_p99_ms": 20.0, "target_delay_p95_ms": round(own_ms + 10, 2),
        "dropped_requests": w.render_thread.mailbox.replaced,
        "gaps_over_50ms_at": [(round(beats[i] - start_at["t"]), round(float(g))) for i, g in enumerate(gaps)
                              if g > 50],
    }
    fig["gap_ok"] = fig["gui_gap_ms_p99"] <= 20.0
    fig["delay_ok"] = fig["delay_ms_p95"] <= fig["target_delay_p95_ms"]
    w.frameShown.disconnect(on_frame)
    wait_until(lambda: w.jobs.active() == 0, 120, "the window's jobs")   # no worker inside torch at exit
    settle(w, 120)
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


def _delays(events: list[tuple[int, float]], frames: list[tuple[int, float]]) -> list[float]:
    """Per event, ms until the first of `frames` whose stamp includes it (events without one left out)."""
    out, fi = [], 0
    for stamp, t in events:
        while fi < len(frames) and frames[fi][0] < stamp:
            fi += 1
        if fi < len(frames):
            out.append(frames[fi][1] - t)
    return out


def random_network(name: str, folder: Path) -> Path:
    """bench/generator_speed.py's random-weight network `name` as a checkpoint in `folder`."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generator_speed import MODELS, build

    from ganexplorer.models.checkpoint import save_checkpoint
    if name not in MODELS:
        raise SystemExit(f"ui_latency: unknown random network {name!r}; choose one of {', '.join(MODELS)}")
    G, _batch, desc = build(name)
    return save_checkpoint(folder / f"random-{name}.safetensors", {"G": G}, {"name": f"{desc} (random weights)"})


if __name__ == "__main__":
    sys.exit(main())
