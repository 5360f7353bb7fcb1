"""Speed of live iGAN painting in the real window, and of the optimisers themselves.

    QT_QPA_PLATFORM=offscreen python bench/edit_speed.py [--model CKPT] [--strokes 12] [--threads N] [--json F]
    QT_QPA_PLATFORM=offscreen python bench/edit_speed.py --core [--ckpt CKPT] [--project-ckpt CKPT]

Live painting (the default): a 1280x800 offscreen window on the model the window opens by
default (the first bundled model: mnist5k-dcgan32), Edit tab, Live on, the app's default
EditConfig (K = 8, 60 steps). Strokes are real mouse events on the image view (press, a move
every 20 ms with the left button held, release), colour and sketch in turn, one every
`--gap` ms so that each stroke lands while the previous one's optimisation is still
running (it has to be interrupted and restarted from its best candidates). Measured:

* stroke -> first candidate update: from sending the release event to the moment the
  candidate strip shows the first frame of the run that release started, strip and image
  view repainted. p50 / p95 over the strokes (the first stroke set aside: it also pays
  for the session's model copy). Also given: the first frame after an optimisation step
  (step >= 1; step 0 is the restarted batch scored under the new strokes). Target p50/p95
  <= 100 ms.
* GUI stall: a 1 ms PreciseTimer heartbeat on the GUI thread from the first stroke until
  the last run ends; every gap between two beats is time the GUI could not react (mouse
  handling and the overlay's redraw included). Target p99 <= 10 ms.
* cancellation: from sending a request to the end of the run it interrupted (one step).

--core (implied by --ckpt or --project-ckpt) adds the earlier figures of the optimisers
alone (no window), per edit and per projection: first update, updates/s, time to 90 % of the
final cost, projection time and PSNR (medians; wall clock and the working thread's CPU time).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values, float), q)) if len(values) else float("nan")


def _default_models():
    from ganexplorer.models import samples
    from ganexplorer.resources import bundled_models
    shipped = [p for p in bundled_models() if "dcgan" in p.name.lower()]
    face = [s.path for s in samples.list_sample_models() if "Faces" in s.name]
    return (shipped[0] if shipped else (face[0] if face else None)), (face[0] if face else None)


def _strokes(R: int):
    from ganexplorer.latent.strokes import ColorStroke, SketchStroke, StrokeDocument, WarpStroke
    s = R / 64
    return {
        "colour": StrokeDocument((R, R), [ColorStroke((255, 40, 40), 10 * s, [(20 * s, 44 * s), (28 * s, 46 * s)])]),
        "sketch": StrokeDocument((R, R), [SketchStroke(2 * s, [(12 * s, 34 * s), (52 * s, 34 * s)])]),
        "warp": StrokeDocument((R, R), [WarpStroke((16 * s, 20 * s, 32 * s, 16 * s), (0, 8 * s))]),
    }


def bench_edit(model, seeds, candidates: int, steps: int) -> dict:
    from ganexplorer.latent.edit import EditConfig, edit_latent
    from ganexplorer.latent.strokes import rasterize
    from ganexplorer.render.synth import seeds_to_ws
    G = model.G
    R = G.img_resolution
    docs = _strokes(R)
    cfg = EditConfig(steps=steps, candidates=candidates)
    runs = []
    cold = None
    for name, doc in docs.items():
        cons = rasterize(doc, R)
        for seed in seeds:
            ws = seeds_to_ws(G, [seed])
            t0, c0 = time.perf_counter(), time.thread_time()
            times, cpu, costs = [], [], []
            for ev in edit_latent(G, ws, cons, cfg, D=model.D):
                times.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
                costs.append(float(ev.loss.min()))
            best = np.minimum.accumulate(costs)
            start, final = best[0], best[-1]
            i90 = int(np.argmax(best <= final + 0.1 * (start - final)))
            run = {"strokes": name, "seed": seed, "first_event_s": times[0], "first_update_s": times[1],
                   "updates_per_s": (len(times) - 2) / (times[-1] - times[1]), "t90_s": times[i90],
                   "cpu_first_update_s": cpu[1], "cpu_updates_per_s": (len(cpu) - 2) / (cpu[-1] - cpu[1]),
                   "cpu_t90_s": cpu[i90], "steps_to_90": i90,
                   "total_s": times[-1], "cost_start": float(start), "cost_final": float(final)}
            if cold is None:
                cold = run      # the first run of the process: lazy start-up included
            else:
                runs.append(run)
    med = lambda k: float(np.median([r[k] for r in runs]))
    return {"model": str(model.path.name), "resolution": R, "channels": G.img_channels,
            "candidates": candidates, "steps": steps,
            "first_update_ms": 1000 * med("first_update_s"), "updates_per_s": med("updates_per_s"),
            "t90_s": med("t90_s"), "worst_first_update_ms": 1000 * max(r["first_update_s"] for r in runs),
            "worst_t90_s": max(r["t90_s"] for r in runs), "min_updates_per_s": min(r["updates_per_s"] for r in runs),
            "cold_first_update_ms": 1000 * cold["first_update_s"],
            "cpu_first_update_ms": 1000 * med("cpu_first_update_s"), "cpu_updates_per_s": med("cpu_updates_per_s"),
            "cpu_t90_s": med("cpu_t90_s"), "steps_to_90": med("steps_to_90"), "runs": runs}


def bench_project(model, seeds) -> dict:
    import torch
    from ganexplorer.latent.project import ProjectConfig, load_target, run_projection
    G = model.G
    cfg = ProjectConfig()
    runs = []
    with torch.no_grad():   # warm-up (not timed)
        G.synthesis(G.mapping(torch.zeros(2, G.z_dim)))
    for seed in seeds:
        z = torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            tgt = G.synthesis(G.mapping(z)).numpy()
        c0 = time.thread_time()
        ev = run_projection(G, tgt, cfg, E=model.E, D=model.D)
        runs.append({"target": f"G(z*), z* seed {seed}", "seconds": ev.elapsed, "psnr": ev.psnr,
                     "cpu_seconds": time.thread_time() - c0})
    real = None
    try:
        from skimage import data
        img = data.astronaut()
        ev = run_projection(G, load_target(img, G.img_resolution, G.img_channels), cfg, E=model.E, D=model.D)
        real = {"target": "scikit-image astronaut (real photo)", "seconds": ev.elapsed, "psnr": ev.psnr}
    except Exception as e:   # the photo is optional
        real = {"target": "astronaut", "error": str(e)}
    return {"model": str(model.path.name), "resolution": G.img_resolution, "steps": cfg.steps,
            "starts": cfg.encoder_starts if model.E is not None else cfg.starts, "encoder": model.E is not None,
            "median_s": float(np.median([r["seconds"] for r in runs])),
            "max_s": float(max(r["seconds"] for r in runs)),
            "cpu_median_s": float(np.median([r["cpu_seconds"] for r in runs])),
            "median_psnr": float(np.median([r["psnr"] for r in runs])),
            "min_psnr": float(min(r["psnr"] for r in runs)), "runs": runs, "real_photo": real}


# ---------------------------------------------------------------- live painting in the window

def _stroke_points(i: int, R: int) -> tuple[str, list[tuple[float, float]]]:
    """Stroke i: colour and sketch in turn, at different heights, 9 points across the image."""
    s = R / 32
    y = (6 + (i * 5) % 20) * s
    xs = np.linspace(5 * s, 27 * s, 9)
    kind = "color" if i % 2 == 0 else "sketch"
    return kind, [(float(x), float(y + (1.5 * s if j % 2 else 0))) for j, x in enumerate(xs)]


def bench_live(model_path, strokes: int, gap_ms: int, move_ms: int, threads: int) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from ganexplorer.ui.headless import application, open_window, settle, wait_until
    application()
    w = open_window(model_path, size=(1280, 800))
    import torch
    # The window set its render threads; threads started from now on (the live session's
    # worker) take this count (torch's intra-op pool size is per thread).
    torch.set_num_threads(threads)
    m = w.current_model()
    p = w.edit_panel
    w.show_panel(p)
    p.live_box.setChecked(True)
    settle(w)
    w.image_view.fit()
    wait_until(lambda: w.jobs.active() == 0, 120, "the edit warm-up")
    R = m.G.img_resolution
    view, vp = w.image_view, w.image_view.viewport()
    clock = QElapsedTimer()
    clock.start()
    now = lambda: clock.nsecsElapsed() / 1e6          # noqa: E731  ms

    def spin(ms: float) -> None:                       # let the event loop run for ms
        loop = QEventLoop()
        QTimer.singleShot(max(0, round(ms)), loop.quit)
        loop.exec()

    def at(x: float, y: float) -> QPointF:
        return QPointF(view.mapFromScene(view.view_box.mapViewToScene(QPointF(x, y))))

    def send(kind, pos, button, buttons) -> None:
        QApplication.sendEvent(vp, QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons,
                                               Qt.KeyboardModifier.NoModifier))

    shown: list[tuple[int, int, float]] = []          # (serial, step, time repainted)

    def on_shown(serial: int, step: int) -> None:
        p.strip.viewport().repaint()                   # "visible" means painted
        vp.repaint()
        shown.append((serial, step, now()))

    p.candidatesShown.connect(on_shown)
    frame_ms: list[float] = []                         # GUI time per frame shown (strip, preview, status)
    show = p._show_frame_event

    frame_cpu_ms: list[float] = []

    def timed_show(frame) -> None:
        t, c = now(), time.thread_time()
        show(frame)
        frame_ms.append(now() - t)
        frame_cpu_ms.append(1000 * (time.thread_time() - c))

    p._show_frame_event = timed_show
    beats: list[float] = []
    heart = QTimer()
    heart.setTimerType(Qt.TimerType.PreciseTimer)
    heart.setInterval(1)
    heart.timeout.connect(lambda: beats.append(now()))
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    released: list[tuple[int, float]] = []            # (serial the release started, time sent)
    put_at: dict[int, float] = {}                      # serial -> when the worker put its first frame
    handler_ms: list[float] = []                       # GUI time per mouse event
    handler_cpu_ms: list[float] = []                   # of it, the GUI thread's own CPU time
    # A first stroke outside the figures: the session's model copy and warm-up happen here.
    for i in range(strokes + 1):
        if i == 1:
            wait_until(lambda: not p.running(), 120, "the first run")
            beats.clear()
            heart.start()
            first_serial = p._serial + 1
            # Where the latency goes: the worker's first frame of each run, as it is put out.
            box, put = p._outbox, p._outbox.put

            def timed_put(frame, box_put=put):
                if frame.progress is not None and frame.serial not in put_at:
                    put_at[frame.serial] = now()
                return box_put(frame)

            box.put = timed_put
        kind, pts = _stroke_points(i, R)
        p.set_tool(kind)
        p.width_spin.setValue(max(2, round(R / 8)) if kind == "color" else max(1, round(R / 16)))
        if kind == "color":
            p.set_color((255, 255, 255) if i % 4 == 0 else (20, 20, 20))
        t, c = now(), time.thread_time()
        send(QEvent.Type.MouseButtonPress, at(*pts[0]), left, left)
        handler_ms.append(now() - t)
        handler_cpu_ms.append(1000 * (time.thread_time() - c))
        for x, y in pts[1:]:
            spin(move_ms)
            t, c = now(), time.thread_time()
            send(QEvent.Type.MouseMove, at(x, y), none, left)
            handler_ms.append(now() - t)
            handler_cpu_ms.append(1000 * (time.thread_time() - c))
        spin(move_ms)
        t, c = now(), time.thread_time()
        send(QEvent.Type.MouseButtonRelease, at(*pts[-1]), left, none)
        handler_ms.append(now() - t)
        handler_cpu_ms.append(1000 * (time.thread_time() - c))
        if i > 0:
            released.append((p._serial, t))
        spin(gap_ms)
    wait_until(lambda: not p.running(), 300, "the last run")
    heart.stop()
    first_any, first_opt, worker_ms, deliver_ms = [], [], [], []
    for serial, t in released:
        later = [(step, ts) for s, step, ts in shown if s == serial and ts >= t]
        if later:
            first_any.append(later[0][1] - t)
            if serial in put_at:
                worker_ms.append(put_at[serial] - t)
                deliver_ms.append(later[0][1] - put_at[serial])
        opt = [ts for step, ts in later if step >= 1]
        if opt:
            first_opt.append(opt[0] - t)
    ends = {e.serial: e for e in p.run_log if e.serial >= first_serial}
    cancel_ms = []
    for e in ends.values():
        nxt = e.serial + 1
        if e.how == "interrupted" and nxt in p.submitted_at:
            cancel_ms.append(1000 * (e.t - p.submitted_at[nxt]))
    gaps = np.diff(beats)
    fig = {
        "model": f"{m.name} ({m.G.kind}, {R}px, {m.G.img_channels} ch)", "path": str(m.path.name),
        "worker_torch_threads": threads, "cpu_count": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "candidates": p.cand_spin.value(), "steps": p.steps_spin.value(), "strokes": len(released),
        "gap_ms": gap_ms, "move_ms": move_ms, "released_strokes_measured": len(first_any),
        "first_update_ms_p50": round(pct(first_any, 50), 1), "first_update_ms_p95": round(pct(first_any, 95), 1),
        "first_update_ms_max": round(max(first_any), 1) if first_any else None,
        "release_to_first_frame_out_ms_p50": round(pct(worker_ms, 50), 1),
        "first_frame_out_to_shown_ms_p50": round(pct(deliver_ms, 50), 1),
        "first_optimised_update_ms_p50": round(pct(first_opt, 50), 1),
        "first_optimised_update_ms_p95": round(pct(first_opt, 95), 1),
        "gui_stall_ms_p50": round(pct(gaps, 50), 2), "gui_stall_ms_p99": round(pct(gaps, 99), 2),
        "gui_stall_ms_max": round(float(gaps.max()), 2) if len(gaps) else None,
        "heartbeats": len(beats), "mouse_handler_ms_p50": round(pct(handler_ms, 50), 2),
        "mouse_handler_ms_p99": round(pct(handler_ms, 99), 2),
        "mouse_handler_cpu_ms_p50": round(pct(handler_cpu_ms, 50), 2),
        "mouse_handler_cpu_ms_p99": round(pct(handler_cpu_ms, 99), 2),
        "frame_handler_ms_p50": round(pct(frame_ms, 50), 2), "frame_handler_ms_p99": round(pct(frame_ms, 99), 2),
        "frame_handler_cpu_ms_p50": round(pct(frame_cpu_ms, 50), 2),
        "frame_handler_cpu_ms_p99": round(pct(frame_cpu_ms, 99), 2),
        "cancel_ms_p50": round(pct(cancel_ms, 50), 1), "cancel_ms_p95": round(pct(cancel_ms, 95), 1),
        "cancel_ms_all": [round(v, 1) for v in cancel_ms],
        "runs": [(e.serial, e.steps, e.how, e.carried) for e in p.run_log],
        "runs_interrupted": sum(e.how == "interrupted" for e in ends.values()),
        "runs_done": sum(e.how == "done" for e in ends.values()),
        "frames_shown": len(shown), **{f"session_{k}": v for k, v in p.session_stats().items()},
    }
    fig["first_update_ok"] = fig["first_update_ms_p95"] <= 100.0
    fig["stall_ok"] = fig["gui_stall_ms_p99"] <= 10.0
    p.candidatesShown.disconnect(on_shown)
    p._show_frame_event = show
    w.shutdown()
    w.close()                          # cancels the jobs: the live session ends within 0.25 s
    wait_until(lambda: w.jobs.active() == 0, 10, "the live session to end")
    application().processEvents()
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="live: checkpoint (default: the model the window opens by default)")
    ap.add_argument("--strokes", type=int, default=12, help="live: strokes measured (default 12)")
    ap.add_argument("--gap", type=int, default=400, help="live: ms from one release to the next press")
    ap.add_argument("--move-ms", type=int, default=20, help="live: ms between two mouse moves of a stroke")
    ap.add_argument("--core", action="store_true", help="also the optimisers alone (edit and projection)")
    ap.add_argument("--ckpt", help="core: model for the edit figures")
    ap.add_argument("--project-ckpt", help="core: model for the projection figures (64x64 by default)")
    ap.add_argument("--threads", type=int,
                    help="torch CPU threads of the working thread (default: what the window uses, half "
                         "the cores up to 4; an oversubscribed pool is many times slower than one thread)")
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--switch-interval", type=float, help="sys.setswitchinterval (s) for the run (experiments)")
    ap.add_argument("--json", help="write all figures here")
    a = ap.parse_args(argv)
    a.core = a.core or bool(a.ckpt or a.project_ckpt)   # the optimisers' own flags ask for their figures
    if a.switch_interval:
        sys.setswitchinterval(a.switch_interval)
    import torch

    from ganexplorer.models.registry import load_model
    from ganexplorer.render.renderer import default_cpu_threads
    from ganexplorer.ui.main_window import default_model
    live_threads = a.threads or default_cpu_threads()
    out = {"threads": live_threads, "torch": torch.__version__}
    live_path = a.model or default_model()
    if live_path is None:
        print("no model for the live figures: pass --model", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    f = out["live"] = bench_live(live_path, a.strokes, a.gap, a.move_ms, live_threads)
    print(f"live painting on {f['model']}, K={f['candidates']}, {f['steps']} steps, {live_threads} threads, "
          f"{f['strokes']} strokes {a.gap} ms apart, load average {f['load_average'][0]}, "
          f"{time.perf_counter() - t0:.0f} s:")
    print(f"  stroke -> first candidate update   p50 {f['first_update_ms_p50']:6.1f} ms   "
          f"p95 {f['first_update_ms_p95']:6.1f} ms   target <= 100 ms  {'met' if f['first_update_ok'] else 'MISSED'}")
    print(f"    (first optimised step, step >= 1: p50 {f['first_optimised_update_ms_p50']:.1f} ms, "
          f"p95 {f['first_optimised_update_ms_p95']:.1f} ms; of the first update, p50: release -> the "
          f"worker's first frame {f['release_to_first_frame_out_ms_p50']:.1f} ms, that frame -> on screen "
          f"{f['first_frame_out_to_shown_ms_p50']:.1f} ms)")
    print(f"  GUI stall (1 ms heartbeat)          p99 {f['gui_stall_ms_p99']:6.2f} ms   "
          f"max {f['gui_stall_ms_max']:6.1f} ms   target p99 <= 10 ms  {'met' if f['stall_ok'] else 'MISSED'}")
    print(f"    (GUI time per mouse event p50 {f['mouse_handler_ms_p50']:.2f} ms, p99 {f['mouse_handler_ms_p99']:.2f}"
          f" ms, CPU p50 {f['mouse_handler_cpu_ms_p50']:.2f} ms; per frame shown, repaint included, "
          f"p50 {f['frame_handler_ms_p50']:.2f} ms, p99 {f['frame_handler_ms_p99']:.2f} ms, "
          f"CPU p50 {f['frame_handler_cpu_ms_p50']:.2f} ms)")
    print(f"  running run stopped after a new stroke in p50 {f['cancel_ms_p50']:.1f} ms, "
          f"p95 {f['cancel_ms_p95']:.1f} ms; {f['runs_interrupted']} runs interrupted, {f['runs_done']} done")
    print("  README row:")
    print(f"  | `{Path(f['path']).stem}` | {f['first_update_ms_p50']:.0f} ms / {f['first_update_ms_p95']:.0f} ms "
          f"(≤ 100 ms) | {f['gui_stall_ms_p99']:.1f} ms (≤ 10 ms) | {f['cancel_ms_p50']:.0f} ms | "
          f"load {f['load_average'][0]:.1f}, {live_threads} threads |")
    if a.core:
        a.threads = live_threads
        torch.set_num_threads(a.threads)      # the optimisers run on this (the main) thread
        out["core_threads"] = a.threads
        edit_default, proj_default = _default_models()
        edit_path = a.ckpt or edit_default
        proj_path = a.project_ckpt or proj_default
        seeds = [int(s) for s in a.seeds.split(",")]
        if edit_path is None:
            print("no model for the edit figures: pass --ckpt", file=sys.stderr)
            return 2
        e = out["edit"] = bench_edit(load_model(edit_path), seeds, a.candidates, a.steps)
        print(f"edit on {e['model']} ({e['resolution']}px, {e['channels']} ch), K={e['candidates']}, "
              f"{e['steps']} steps, {a.threads} threads, median of {len(e['runs'])} runs:")
        print(f"  first visible update  {e['first_update_ms']:7.1f} ms  (worst {e['worst_first_update_ms']:.1f}; "
              f"cold first run {e['cold_first_update_ms']:.0f})   target <= 100 ms")
        print(f"  updates per second    {e['updates_per_s']:7.1f}     (slowest run {e['min_updates_per_s']:.1f})"
              f"          target >= 10")
        print(f"  (thread CPU time: first update {e['cpu_first_update_ms']:.1f} ms, "
              f"{e['cpu_updates_per_s']:.1f} updates/s, "
              f"90% after {e['cpu_t90_s']:.2f} s = {e['steps_to_90']:.0f} steps)")
        print(f"  time to 90% of cost   {e['t90_s']:7.2f} s   (worst {e['worst_t90_s']:.2f})"
              f"                  target <= 2 s")
        if proj_path is not None:
            pr = out["project"] = bench_project(load_model(proj_path), [1000 + s for s in seeds])
            print(f"projection on {pr['model']} ({pr['resolution']}px), {pr['steps']} steps x {pr['starts']} starts, "
                  f"encoder {'yes' if pr['encoder'] else 'no'}:")
            print(f"  time   median {pr['median_s']:.2f} s, max {pr['max_s']:.2f} s "
                  f"(thread CPU {pr['cpu_median_s']:.2f} s)   target <= 5 s")
            print(f"  PSNR   median {pr['median_psnr']:.2f} dB, min {pr['min_psnr']:.2f} dB   target >= 25 dB")
            r = pr["real_photo"]
            if "psnr" in r:
                print(f"  real photo (astronaut): {r['psnr']:.2f} dB in {r['seconds']:.2f} s")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
