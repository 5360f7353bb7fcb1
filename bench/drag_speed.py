"""Speed and accuracy of drag editing (DragGAN, `ganexplorer.latent.drag`) on the CPU.

    python bench/drag_speed.py [--ckpt CKPT] [--seeds 8] [--steps 100] [--drag 8]
                               [--threads 2] [--lr LR] [--layer b32] [--json out.json]

On the bundled 64-px StyleGAN2 by default: for each of --seeds seeds, one handle placed
at a seeded random point of the image's central half and a target --drag pixels away in a
seeded random direction (kept inside the image); at most --steps steps of the default
DragConfig (or the flags given). Targets (issue 14): >= 8 steps/s and a mean handle-target
distance < 2 px after <= 100 steps, for 8-px drags on 8 seeds.

Figures: steps/s by the wall clock over all steps of all drags (the first drag's first
step, which pays PyTorch's lazy start-up, is left out), by the CPU time of the calling
thread (meaningful with --threads 1: it does not grow when other processes share the
cores), and the final distance of every drag with its mean. Run it on a quiet machine:
a loaded one gives lower steps/s and the same distances.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _default_ckpt() -> Path:
    from ganexplorer.resources import bundled_models
    found = [p for p in bundled_models() if "stylegan2" in p.name.lower()]
    if not found:
        sys.exit("no bundled StyleGAN2 in resources/models; pass --ckpt")
    return found[0]


def drag_problem(seed: int, R: int, drag: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """A seeded (handle, target) pair: handle in the central half, target `drag` px away."""
    rng = np.random.RandomState(10_000 + seed)
    for _ in range(100):
        h = rng.uniform(R / 4, 3 * R / 4, size=2).round()
        a = rng.uniform(0, 2 * np.pi)
        t = (h + drag * np.array([np.cos(a), np.sin(a)])).round(2)
        if (t >= 0).all() and (t <= R - 1).all():
            return (float(h[0]), float(h[1])), (float(t[0]), float(t[1]))
    raise RuntimeError("no target inside the image")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--drag", type=float, default=8.0, help="drag length in pixels")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--layer", default=None)
    ap.add_argument("--r1", type=float, default=None)
    ap.add_argument("--r2", type=int, default=None)
    ap.add_argument("--n-ws", type=int, default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import torch
    torch.set_num_threads(args.threads)
    from ganexplorer.latent.drag import DragConfig, drag_steps, feature_layer, tracking_radius
    from ganexplorer.models.registry import load_model
    from ganexplorer.render.synth import seeds_to_ws
    ckpt = Path(args.ckpt) if args.ckpt else _default_ckpt()
    G = load_model(ckpt).G.eval()
    over = {k: v for k, v in dict(steps=args.steps, lr=args.lr, layer=args.layer, r1=args.r1,
                                  r2=args.r2, n_ws=args.n_ws).items() if v is not None}
    cfg = DragConfig(**over)
    R = G.img_resolution
    runs = []
    wall = cpu = 0.0
    n_timed = 0
    for i, seed in enumerate(range(args.seeds)):
        h, t = drag_problem(seed, R, args.drag)
        ws = seeds_to_ws(G, [seed])
        last = None
        t_wall, t_cpu = time.perf_counter(), time.thread_time()
        for st in drag_steps(G, ws, [h], [t], cfg=cfg):
            now_wall, now_cpu = time.perf_counter(), time.thread_time()
            if not (i == 0 and st.step == 1):      # the very first step pays the start-up
                wall += now_wall - t_wall
                cpu += now_cpu - t_cpu
                n_timed += 1
            t_wall, t_cpu = now_wall, now_cpu
            last = st
        runs.append({"seed": seed, "handle": h, "target": t, "steps": last.step,
                     "final_handle": last.handles[0].tolist(),
                     "distance": float(last.distances[0]), "reached": last.reached})
        print(f"seed {seed}: {h} -> {t}: {last.step} steps, distance {last.distances[0]:.2f} px"
              + (" (reached)" if last.reached else ""))
    dist = float(np.mean([r["distance"] for r in runs]))
    res = {"ckpt": ckpt.name, "img_resolution": R, "layer": cfg.layer or feature_layer(G),
           "config": {**{k: getattr(cfg, k) for k in ("steps", "lr", "r1", "lambda_mask", "n_ws")},
                      "r2": tracking_radius(cfg, R)},
           "threads": args.threads, "drag_px": args.drag,
           "steps_per_s_wall": n_timed / wall if wall else float("nan"),
           "steps_per_s_cpu": n_timed / cpu if cpu else float("nan"),
           "mean_distance_px": dist, "runs": runs}
    print(f"{ckpt.name} ({R} px, features {res['layer']}), {args.seeds} seeds, {args.drag:g}-px drags, "
          f"<= {cfg.steps} steps, {args.threads} thread(s):")
    print(f"  steps/s {res['steps_per_s_wall']:.1f} (wall), {res['steps_per_s_cpu']:.1f} (thread CPU time); "
          f"target >= 8")
    print(f"  mean handle-target distance {dist:.2f} px; target < 2")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
