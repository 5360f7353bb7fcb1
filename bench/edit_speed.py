"""Speed of iGAN-style editing and of projection on the CPU.

    python bench/edit_speed.py [--ckpt CKPT] [--project-ckpt CKPT] [--threads 2] [--json out.json]

Edit (on --ckpt; default: the shipped DCGAN in resources/models, else the sample face DCGAN):
three stroke sets (a colour blob, a sketch line, a warp) on three seeds each, K candidates,
the app's default EditConfig. For every run:

* first visible update: time from calling the generator until the event of step 1 (the
  first image that reflects an optimisation step; step 0 shows the starting batch).
  Target <= 100 ms. The very first edit of a process also pays PyTorch's lazy start-up;
  that "cold" figure is printed separately (the app can warm up when a model opens).
* updates/s: Adam steps per second after step 1. Target >= 10.
* time to 90%: first time the best cost is within 10% of the way from the start cost to
  the final cost. Target <= 2 s.

Projection (on --project-ckpt; default: the sample face DCGAN, 64x64 RGB): targets G(z*)
for three seeded z*, the default ProjectConfig. Target <= 5 s and PSNR >= 25 dB. A real
photo (scikit-image's astronaut, centre-cropped) is projected too, for an honest figure
on an image the model never made.

Figures are medians over the runs; --json writes them all. Each figure is given twice: by
the wall clock, and by the CPU time of the thread doing the work (`time.thread_time`),
which does not grow when other processes share the cores. The CPU-time figure is only
meaningful with --threads 1 (all work then runs on the calling thread).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", help="model for the edit figures")
    ap.add_argument("--project-ckpt", help="model for the projection figures (64x64 by default)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--json", help="write all figures here")
    a = ap.parse_args(argv)
    import torch
    torch.set_num_threads(a.threads)
    from ganexplorer.models.registry import load_model
    edit_default, proj_default = _default_models()
    edit_path = a.ckpt or edit_default
    proj_path = a.project_ckpt or proj_default
    seeds = [int(s) for s in a.seeds.split(",")]
    out = {"threads": a.threads, "torch": torch.__version__}
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
        p = out["project"] = bench_project(load_model(proj_path), [1000 + s for s in seeds])
        print(f"projection on {p['model']} ({p['resolution']}px), {p['steps']} steps x {p['starts']} starts, "
              f"encoder {'yes' if p['encoder'] else 'no'}:")
        print(f"  time   median {p['median_s']:.2f} s, max {p['max_s']:.2f} s (thread CPU {p['cpu_median_s']:.2f} s)"
              f"   target <= 5 s")
        print(f"  PSNR   median {p['median_psnr']:.2f} dB, min {p['min_psnr']:.2f} dB   target >= 25 dB")
        r = p["real_photo"]
        if "psnr" in r:
            print(f"  real photo (astronaut): {r['psnr']:.2f} dB in {r['seconds']:.2f} s")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
