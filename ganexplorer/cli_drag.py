"""`ganexplorer drag`: DragGAN point editing from the command line.

    ganexplorer drag CKPT (--seed S | --latent L.npy) --points "x0,y0>x1,y1;..." [--mask M.png]
                     --steps N --out out.png [--record anim.mp4|anim.gif] [--json track.json]

Registered by `cli.build_parser` (one concern per file: cli_common.py holds the helpers every
command shares, this module the drag command). Points are image pixels of the model's output
size: x the column, y the row, (0, 0) the top-left pixel's centre.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from .cli_common import UsageError, check_out, export_meta, finite, load_latent, nonneg_float, open_model, positive
from .latent.drag import SPACES

_NUMBER = r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*"
_PAIR = re.compile(rf"^({_NUMBER}),({_NUMBER})>({_NUMBER}),({_NUMBER})$")


def parse_points(text: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """'x0,y0>x1,y1;x2,y2>x3,y3' -> (handles, targets)."""
    handles, targets = [], []
    for part in [p for p in text.split(";") if p.strip()]:
        m = _PAIR.match(part)
        if not m:
            raise argparse.ArgumentTypeError(
                f"--points takes handle>target pairs like \"20,30>28,30;40,12>40,20\", not {part.strip()!r}")
        x0, y0, x1, y1 = (float(g) for g in m.groups())
        handles.append((x0, y0))
        targets.append((x1, y1))
    if not handles:
        raise argparse.ArgumentTypeError("--points needs at least one pair like \"20,30>28,30\"")
    return handles, targets


def load_mask(path: str, resolution: int) -> np.ndarray:
    """A picture -> [R, R] float in [0, 1]: white where the image may move, black where it
    stays (resized to the model's size when painted at another)."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im = im.convert("L")
            if im.size != (resolution, resolution):
                im = im.resize((resolution, resolution), Image.BILINEAR)
            m = np.asarray(im, np.float32) / 255.0
    except (OSError, UnidentifiedImageError) as e:
        raise UsageError(f"--mask {path}: not a readable picture ({e})") from None
    if m.max() < 0.5:
        raise UsageError(f"--mask {path}: the mask is black everywhere; paint white where the image may move")
    return m


def cmd_drag(args) -> None:
    from .atomic import atomic_write_text
    from .export.images import to_uint8
    from .export.metadata import save_image
    from .latent.drag import DragConfig, drag_steps, feature_layer, tracking_radius
    from .latent.drag_record import DragRecording
    from .render.synth import seeds_to_ws
    from .views.drag import save_recording
    out = check_out(args.out, (".png",))
    rec_path = check_out(args.record, (".gif", ".mp4")) if args.record else None
    json_path = check_out(args.json, (".json",)) if args.json else None
    handles, targets = args.points
    model = open_model(args.ckpt, args.device)
    G = model.G
    R = G.img_resolution
    for name, pts in (("handle", handles), ("target", targets)):
        for x, y in pts:
            if not (0 <= x <= R - 1 and 0 <= y <= R - 1):
                raise UsageError(f"--points: the {name} point {x:g},{y:g} lies outside the "
                                 f"{R}x{R} image (x and y go from 0 to {R - 1})")
    if args.layer is not None and args.layer not in G.feature_layers():
        raise UsageError(f"--layer {args.layer}: this model's feature layers are {', '.join(G.feature_layers())}")
    mask = load_mask(args.mask, R) if args.mask else None
    ws0 = load_latent(args.latent, G) if args.latent else seeds_to_ws(G, [args.seed], args.psi)
    cfg = DragConfig(steps=args.steps, lr=args.lr, r1=args.r1, r2=args.r2, lambda_mask=args.lambda_mask,
                     n_ws=args.n_ws, layer=args.layer, stop_distance=args.stop_distance, space=args.space)
    problems = cfg.validate()
    if problems:
        raise UsageError("; ".join(problems))
    rec = DragRecording(ws0, handles, targets)     # bounded: long drags keep every k-th step
    track = []
    st = None
    for st in drag_steps(G, ws0, handles, targets, mask, cfg):
        rec.add(st.step, st.ws, st.handles)
        track.append({"step": st.step, "handles": st.handles.round(3).tolist(),
                      "distance": st.distances.round(3).tolist(), "loss": round(st.loss, 6)})
    drag_meta = {"handles": [list(p) for p in handles], "targets": [list(p) for p in targets],
                 "final_handles": st.handles.round(3).tolist(), "steps": st.step, "reached": st.reached,
                 "layer": cfg.layer or feature_layer(G), "lr": cfg.lr, "r1": cfg.r1,
                 "r2": tracking_radius(cfg, R),
                 "n_ws": cfg.n_ws, "space": cfg.space, "lambda_mask": cfg.lambda_mask if mask is not None else 0.0,
                 "mask": Path(args.mask).name if args.mask else None}
    from PIL import Image
    save_image(Image.fromarray(to_uint8(st.image)[0]), out,
               export_meta(model, drag=drag_meta, seed=None if args.latent else args.seed, psi=args.psi),
               latents={"ws": st.ws, "ws_start": ws0})
    msg = (f"wrote {out} ({st.step} steps, {st.elapsed:.1f}s; handles "
           + ", ".join(f"{d:.1f}" for d in st.distances) + " px from their targets"
           + (", reached)" if st.reached else ")"))
    if json_path:
        atomic_write_text(json_path, json.dumps({
            "checkpoint": model.path.name, "checkpoint_sha256": model.sha256,
            "handles": drag_meta["handles"], "targets": drag_meta["targets"],
            "reached": st.reached, "track": track}, indent=1))
        msg += f"; {json_path}"
    if rec_path:
        meta = {"checkpoint": model.path.name, "checkpoint_sha256": model.sha256,
                "seed": None if args.latent else args.seed, "psi": args.psi, **drag_meta}
        msg += "; " + save_recording(G, rec, str(rec_path), "const", not args.no_markers, meta, args.fps)
    print(msg)


def add_drag_parser(add, common) -> None:
    """Register `drag` with cli.build_parser's `add` and `common` helpers."""
    from .latent.drag import PAPER_LR, PAPER_N_WS
    sp = add("drag", cmd_drag, "DragGAN point editing: drag handle points of an image to targets")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--seed", type=positive("--seed", 0, 2**32 - 1), help="start from this seed")
    src.add_argument("--latent", help="start from ws in a .npy (or a projection's .npz)")
    sp.add_argument("--points", type=parse_points, required=True,
                    help='handle>target pairs in image pixels, e.g. "20,30>28,30;40,12>40,20"')
    sp.add_argument("--mask", help="picture of the region that may move (white) and that stays (black)")
    sp.add_argument("--steps", type=positive("--steps", 1, 100_000), default=200,
                    help="optimisation steps at most (stops early when every handle arrives)")
    sp.add_argument("--lr", type=finite("--lr"), default=PAPER_LR,
                    help=f"Adam step size on the optimised ws (default {PAPER_LR:g}, the paper's)")
    sp.add_argument("--r1", type=nonneg_float("--r1"), default=3.0,
                    help="motion-supervision radius in pixels (default 3)")
    sp.add_argument("--r2", type=positive("--r2", 0, 1000), default=None,
                    help="point-tracking search half-size in pixels (default 12, the paper's; "
                    "image size / 16 below 192 px)")
    sp.add_argument("--lambda-mask", type=nonneg_float("--lambda-mask"), default=20.0,
                    help="weight of keeping the unmasked region fixed (default 20)")
    sp.add_argument("--space", choices=SPACES, default="w+",
                    help="w+: the first --n-ws rows of w+ move each on their own (the paper's); "
                         "w: one offset shared by every row")
    sp.add_argument("--n-ws", type=positive("--n-ws", 1, 1000), default=PAPER_N_WS,
                    help=f"optimise the first N ws rows; the rest stay fixed (default {PAPER_N_WS})")
    sp.add_argument("--layer", default=None, help="feature map for supervision and tracking "
                    "(default: the paper's 6th block, or the one before the last on small models)")
    sp.add_argument("--stop-distance", type=nonneg_float("--stop-distance"), default=None,
                    help="stop when every handle is this close, in pixels (default 1; 2 for > 5 handles)")
    sp.add_argument("--record", help="also write the drag start -> result as anim.gif or anim.mp4")
    sp.add_argument("--no-markers", action="store_true",
                    help="leave the handle/target points and arrows out of the --record frames")
    sp.add_argument("--fps", type=positive("--fps", 1, 120), default=12)
    sp.add_argument("--json", help="track.json: the handle positions after every step")
    sp.add_argument("--out", required=True, help="out.png (the latents ride in its metadata)")
    common(sp)
