"""Headless commands: the same operations the window offers, for scripts and batch work.

    ganexplorer [CKPT]                open the window (on CKPT)
    ganexplorer info CKPT [--json]
    ganexplorer generate CKPT (--seeds 0-15 | --z Z.npy [--c C.npy]) [--psi P] --out OUT.png|OUT.npy|DIR/{seed}.png
        [--class K] [--translate X,Y --rotate DEG (StyleGAN3)] [--noise N.npy] [--c-dim K (DCGAN)]
    ganexplorer interpolate CKPT --seeds A,B[,C...] --steps N [--slerp] --out strip.png|anim.gif|anim.mp4
    ganexplorer arithmetic CKPT --group +1,2,3 --group -4,5,6 --group +7,8,9 --out grid.png
    ganexplorer mix CKPT --rows SEEDS --cols SEEDS --layers coarse|middle|fine|I-J --out grid.png
    ganexplorer directions CKPT --method pca|sefa --k 10 --out dirs.npz
    ganexplorer directions CKPT --method labelled --pos SEEDS --neg SEEDS [--csv F] [--orthogonal-to D.npz] --out d.npz
    ganexplorer drag CKPT (--seed S | --latent L.npy) --points "x0,y0>x1,y1;..." [--mask M.png] --out out.png
                     [--record anim.mp4] [--json track.json]
    ganexplorer edit CKPT (--seed S | --latent L.npy) --strokes strokes.json --out edited.png [--record anim.gif]
    ganexplorer project CKPT IMAGE [--steps N] --out result.npz|result.png [--record anim.gif]
    ganexplorer convert IN OUT.safetensors

Errors print one line and exit with status 2; --debug shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .cli_common import (EXIT_USAGE, UsageError, check_out, export_meta, finite, load_array, load_latent,
                         nonneg_float, open_model, pair, positive, psi_value, seed_list, set_load_options,
                         write_recording)
from .latent.arithmetic import DEFAULT_SIGMA


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


# ---------------------------------------------------------------- argument types

def _group(text: str) -> tuple[float, list[int], str]:
    """'+1,2,3', '-4,5,6' or 'smiling woman=+1,2,3': (sign, seeds, name or '')."""
    name, _, body = text.rpartition("=")
    body = body.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    body = body[1:] if body[:1] in "+-" else body
    return sign, seed_list(body), name.strip()


# ---------------------------------------------------------------- helpers

def _save_grid(model, ws: np.ndarray, out: Path, cols: int, meta: dict, labels=None,
               noise_mode: str = "const", images: np.ndarray | None = None) -> None:
    from .export.images import make_grid, to_uint8
    from .export.metadata import save_image
    from .render.synth import synthesize
    if images is None:
        images = synthesize(model.G, ws, noise_mode)
    grid = make_grid(to_uint8(images), cols=cols, labels=labels)
    save_image(grid, out, meta, latents={"ws": ws})


# ---------------------------------------------------------------- commands

def cmd_info(args) -> None:
    model = open_model(args.ckpt, "cpu")
    d = model.describe()
    if args.json:
        print(json.dumps(d, indent=1, default=str))
        return
    from .models.registry import format_label
    print(f"{model.path.name}: {format_label(model.format)}")
    print(f"  kind {d['kind']}, {d['img_resolution']}x{d['img_resolution']}, "
          f"{d['img_channels']} channel(s), {d['parameters']:,} parameters")
    print(f"  z_dim {d['z_dim']}, w_dim {d['w_dim']}, num_ws {d['num_ws']}, c_dim {d['c_dim']}")
    print(f"  sha256 {d['sha256']}")
    print(f"  config: {json.dumps(d['config'], default=str)}")
    for key in ("name", "variant", "repository", "classes", "c_dim_declared", "credit", "licence",
                "dataset", "provenance", "truncation_center", "lr_mlp", "note", "converted_from"):
        if model.info.get(key):
            print(f"  {key}: {model.info[key]}")


def cmd_generate(args) -> None:
    per_seed = "{seed}" in args.out          # --out dir/{seed}.png: one file per seed
    if per_seed and args.seeds is None:
        raise UsageError(f"--out {args.out}: {{seed}} in the file name needs --seeds")
    out = check_out(args.out.replace("{seed}", "0") if per_seed else args.out, (".png", ".npy"))
    model = open_model(args.ckpt, args.device)
    G = model.G
    from .render.synth import labels_for, seeds_to_ws, synthesize, z_to_ws
    if args.z is not None:
        z = load_array(args.z, "--z").astype(np.float32)
        if z.ndim == 1:
            z = z[None]
        c = load_array(args.c, "--c").astype(np.float32) if args.c else None
        if z.ndim != 2 or z.shape[1] != G.z_dim:
            raise UsageError(f"--z {args.z}: expected shape [N, {G.z_dim}], got {list(z.shape)}")
        if c is None and args.class_index is not None:
            c = labels_for(G, list(range(len(z))), args.class_index)
        ws = z_to_ws(G, z, c, args.psi, args.trunc_cutoff)
        seeds = None
    else:
        seeds = args.seeds
        ws = seeds_to_ws(G, seeds, args.psi, args.trunc_cutoff, class_index=args.class_index)
    _synthesis_options(args, G, len(ws))
    if per_seed:
        _save_per_seed(model, ws, seeds, args)
        return
    if out.suffix.lower() == ".npy":
        from .atomic import atomic_path
        img = synthesize(G, ws, args.noise_mode, **args.synthesis)
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, img.astype(np.float32))
    elif len(ws) == 1 and not args.labels:   # one image: its exact pixels, no grid frame
        _save_single(model, ws, out, export_meta(model, seeds=seeds, psi=args.psi, noise_mode=args.noise_mode,
                                           **args.synthesis_meta),
                     args.noise_mode, args.synthesis)
    else:
        _save_grid(model, ws, out, args.cols, export_meta(model, seeds=seeds, psi=args.psi,
                                                    noise_mode=args.noise_mode, **args.synthesis_meta),
                   labels=[str(s) for s in seeds] if (seeds and args.labels) else None,
                   noise_mode=args.noise_mode,
                   images=synthesize(G, ws, args.noise_mode, **args.synthesis))
    print(f"wrote {out} ({len(ws)} image{'' if len(ws) == 1 else 's'})")


def _save_single(model, ws: np.ndarray, out: Path, meta: dict, noise_mode: str,
                 synthesis: dict | None = None) -> None:
    """ws [1, num_ws, w_dim] -> one PNG of exactly img_resolution pixels (or one .npy).
    `synthesis`: extra `synthesize` arguments (StyleGAN3 transform, per-sample noise)."""
    from PIL import Image

    from .export.images import to_uint8
    from .export.metadata import save_image
    from .render.synth import synthesize
    img = synthesize(model.G, ws, noise_mode, **(synthesis or {}))        # [1, C, H, W]
    if out.suffix.lower() == ".npy":
        from .atomic import atomic_path
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, img.astype(np.float32))
    else:
        save_image(Image.fromarray(to_uint8(img)[0]), out, meta, latents={"ws": ws})


def _save_per_seed(model, ws: np.ndarray, seeds: list[int], args) -> None:
    """--out 'dir/{seed}.png': each seed's exact image in its own file."""
    for i, seed in enumerate(seeds):
        out = check_out(args.out.replace("{seed}", str(seed)), (".png", ".npy"))
        synthesis = dict(args.synthesis)
        if "noise" in synthesis:
            synthesis["noise"] = synthesis["noise"][i:i + 1]
        _save_single(model, ws[i:i + 1], out, export_meta(model, seeds=[seed], psi=args.psi,
                                                     noise_mode=args.noise_mode, **args.synthesis_meta),
                     args.noise_mode, synthesis)
    print(f"wrote {len(seeds)} files like {args.out.replace('{seed}', str(seeds[0]))}")


def _synthesis_options(args, G, n: int) -> None:
    """generate's --translate/--rotate (StyleGAN3) and --noise -> args.synthesis (extra
    synthesize arguments) and args.synthesis_meta (what the export metadata records)."""
    args.synthesis, args.synthesis_meta = {}, {}
    if args.class_index is not None:
        args.synthesis_meta["class"] = args.class_index
    if args.translate is not None or args.rotate is not None:
        if not G.has_input_transform:
            raise UsageError("--translate and --rotate move the input of StyleGAN3 models only, "
                             f"and this is a {G.kind} model.")
        from .render.synth import input_transform
        translate, rotate = args.translate or (0.0, 0.0), args.rotate or 0.0
        args.synthesis["transform"] = input_transform(translate, rotate)
        args.synthesis_meta.update(translate=list(translate), rotate=rotate)
    if args.noise is not None:
        noise = load_array(args.noise, "--noise").astype(np.float32)
        try:
            G.check_noise(noise.shape, n)
        except ValueError as e:
            raise UsageError(f"--noise {args.noise}: {e}") from None
        args.synthesis["noise"] = noise
        args.synthesis_meta["noise"] = Path(args.noise).name


def cmd_interpolate(args) -> None:
    out = check_out(args.out, (".png", ".gif", ".mp4"))
    if len(args.seeds) < 2:
        raise UsageError("--seeds needs at least two seeds, like 1,2")
    model = open_model(args.ckpt, args.device)
    from .export.images import make_grid, to_uint8
    from .render.recipes import interpolation_ws
    from .render.synth import synthesize
    method = "slerp" if args.slerp else "lerp"
    ws = interpolation_ws(model.G, args.seeds, args.steps, method, args.space, args.psi, args.loop,
                          class_index=args.class_index)
    frames = to_uint8(synthesize(model.G, ws))
    meta = export_meta(model, seeds=args.seeds, psi=args.psi, steps=args.steps, method=method, space=args.space)
    if out.suffix.lower() == ".png":
        from .export.metadata import save_image
        save_image(make_grid(frames, cols=len(frames)), out, meta, latents={"ws": ws})
    else:
        from .export.animation import save_animation
        save_animation(frames, out, fps=args.fps)
    print(f"wrote {out} ({len(frames)} frames)")


def cmd_arithmetic(args) -> None:
    out = check_out(args.out, (".png",))
    if len(args.group) < 2:
        raise UsageError("give at least two --group options, like --group +1,2,3 --group -4,5,6")
    model = open_model(args.ckpt, args.device)
    from .export.metadata import save_image
    from .render.figures import arithmetic_figure
    from .render.recipes import arithmetic_ws
    signs = [s for s, _, _ in args.group]
    groups = [g for _, g, _ in args.group]
    names = [n or default for (_, _, n), default in zip(args.group, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")]
    r = arithmetic_ws(model.G, groups, signs, args.space, args.psi, args.neighbours, args.sigma,
                      args.noise_seed, class_index=args.class_index)
    # Laid out as the DCGAN paper's fig. 7 (shared with the window): each group's seeds in a
    # column over their mean, the signs between the means, "=", the result, its neighbours.
    fig = arithmetic_figure(model.G, r, signs, [[f"seed {s}" for s in g] for g in groups],
                            names=names, sigma=args.sigma)
    grid = fig.image()
    meta = export_meta(model, groups=groups, names=names, signs=signs, psi=args.psi, space=args.space,
                 neighbours=args.neighbours, sigma=args.sigma, noise_seed=args.noise_seed)
    save_image(grid, out, meta, latents={"result": r.result, "neighbours": r.neighbours,
                                          "means": r.means})
    print(f"wrote {out}")


def cmd_mix(args) -> None:
    out = check_out(args.out, (".png",))
    model = open_model(args.ckpt, args.device)
    from .export.metadata import save_image
    from .render.figures import mixing_figure
    from .render.recipes import mixing_ws
    rows, cols, cells = mixing_ws(model.G, args.rows, args.cols, args.layers, args.psi,
                                  class_index=args.class_index)
    grid = mixing_figure(model.G, rows, cols, cells).image()
    from .latent.stylemix import resolve_layers
    span = resolve_layers(args.layers, model.G.num_ws, model.G.img_resolution, model.G.ws_per_resolution,
                          model.G.ws_sampling_rates())
    meta = export_meta(model, rows=args.rows, cols=args.cols, layers=list(span), psi=args.psi)
    save_image(grid, out, meta, latents={"cells": cells})
    print(f"wrote {out} (layers {span[0]}-{span[1] - 1} from the column sources)")


def cmd_directions(args) -> None:
    from .cli_labelled import reject_labelled_flags, run_labelled   # InterFaceGAN's method lives there
    if args.method == "labelled":
        return run_labelled(args)
    reject_labelled_flags(args)
    out = check_out(args.out, (".npz",))
    model = open_model(args.ckpt, args.device)
    from .latent.directions import find_directions
    d = find_directions(model.G, args.method, args.k, args.samples, args.seed)
    d.save(out)
    # One unit for both methods: scales are the std of sampled w along each direction.
    print(f"wrote {out} ({len(d.vectors)} {args.method} directions; std of w along them: "
          + ", ".join(f"{s:.3g}" for s in d.scales) + ")")


def cmd_edit(args) -> None:
    out = check_out(args.out, (".png",))
    rec_path = check_out(args.record, (".gif", ".mp4")) if args.record else None
    from .latent.strokes import StrokeDocument, rasterize
    doc = StrokeDocument.load(args.strokes)
    if doc.is_empty():
        raise UsageError(f"--strokes {args.strokes}: no colour, sketch or warp strokes to satisfy")
    model = open_model(args.ckpt, args.device)
    G = model.G
    D = model.D.to(G.w_avg.device) if model.D is not None else None
    from .export.images import to_uint8
    from .export.metadata import save_image
    from .latent.edit import EditConfig, Recording, edit_latent
    from .render.synth import seeds_to_ws
    ws0 = load_latent(args.latent, G) if args.latent else seeds_to_ws(G, [args.seed], args.psi)
    cfg = EditConfig(steps=args.steps, candidates=args.candidates, lambda_latent=args.lambda_latent,
                     lambda_keep=args.lambda_keep,
                     space=args.space, seed=args.perturb_seed,
                     lambda_realism=args.lambda_realism if D is not None else 0.0)
    problems = cfg.validate()
    if problems:
        raise UsageError("; ".join(problems))
    rec = Recording([ws0])
    ev = None
    for ev in edit_latent(G, ws0, rasterize(doc, G.img_resolution), cfg, D):
        rec.add(ev)
    from PIL import Image
    img = Image.fromarray(to_uint8(ev.best_image)[0])
    meta = export_meta(model, edit={"strokes": doc.to_dict(), "steps": ev.step, "candidates": cfg.candidates,
                              "lambda_latent": cfg.lambda_latent, "lambda_keep": cfg.lambda_keep,
                              "perturb_seed": cfg.seed,
                              "cost": {k: round(v, 6) for k, v in ev.terms.items()}},
                 seed=None if args.latent else args.seed, psi=args.psi)
    save_image(img, out, meta, latents={"ws": ev.best_ws, "ws_start": ws0})
    msg = f"wrote {out} ({ev.step} steps, cost {ev.best_loss:.4f}, {ev.elapsed:.1f}s)"
    if rec_path:
        n = write_recording(model, rec, rec_path, args.fps)
        msg += f"; {rec_path} ({n} frames)"
    print(msg)


def cmd_project(args) -> None:
    out = check_out(args.out, (".npz", ".png"))
    rec_path = check_out(args.record, (".gif", ".mp4")) if args.record else None
    model = open_model(args.ckpt, args.device)
    G = model.G
    dev = G.w_avg.device
    E = model.E.to(dev) if (model.E is not None and not args.no_encoder) else None
    D = model.D.to(dev) if model.D is not None else None
    from .latent.edit import Recording
    from .latent.project import ProjectConfig, load_target, project
    target = load_target(args.image, G.img_resolution, G.img_channels)
    c = None
    if G.c_dim and not G.has_styles:
        if args.class_index is None or not 0 <= args.class_index < G.c_dim:
            raise UsageError(f"this model is conditional: give --class between 0 and {G.c_dim - 1}")
        c = np.eye(G.c_dim, dtype=np.float32)[args.class_index][None]
    cfg = ProjectConfig(steps=args.steps, starts=args.starts, space=args.space, seed=args.seed)
    problems = cfg.validate()
    if problems:
        raise UsageError("; ".join(problems))
    rec = Recording()
    ev = None
    for ev in project(G, target, cfg, E, D, c=c):
        rec.add_ws(ev.ws)
    if out.suffix.lower() == ".npz":
        from .atomic import atomic_path
        arrays = {"ws": ev.ws.astype(np.float32), "image": ev.image.astype(np.float32),
                  "target": target, "psnr": np.float32(ev.psnr)}
        arrays.update({f"noise/{k}": v for k, v in ev.noise.items()})
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
    else:
        from PIL import Image
        from .export.images import to_uint8
        from .export.metadata import save_image
        save_image(Image.fromarray(to_uint8(ev.image)[0]), out,
                   export_meta(model, projection={"image": Path(args.image).name, "steps": ev.step,
                                            "psnr": round(ev.psnr, 3), "encoder": E is not None}),
                   latents={"ws": ev.ws})
    msg = f"wrote {out} (PSNR {ev.psnr:.2f} dB after {ev.step} steps, {ev.elapsed:.1f}s"
    msg += ", started from the encoder's guess)" if E is not None else ")"
    if rec_path:
        n = write_recording(model, rec, rec_path, args.fps)
        msg += f"; {rec_path} ({n} frames)"
    print(msg)


def cmd_convert(args) -> None:
    out = check_out(args.out, (".safetensors",))
    model = open_model(args.inp, "cpu")
    from .models.checkpoint import save_checkpoint
    nets = {"G": model.G}
    if model.D is not None and hasattr(model.D, "config"):
        nets["D"] = model.D
    if model.E is not None and hasattr(model.E, "config"):
        nets["E"] = model.E
    info = dict(model.info)
    info.setdefault("name", model.path.stem)
    info["converted_from"] = {"file": model.path.name, "format": model.format, "sha256": model.sha256}
    save_checkpoint(out, nets, info)
    print(f"wrote {out} (from {model.format})")


# ---------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ganexplorer", description="Explore the latent space of trained GANs.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func, help: str, ckpt: bool = True) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if ckpt:
            sp.add_argument("ckpt", metavar="CKPT", help="checkpoint file (any supported format)")
        sp.add_argument("--allow-nonfinite", action="store_true",
                        help="use a model even when its weights hold NaN or infinite values")
        sp.add_argument("--c-dim", dest="c_dim", type=positive("--c-dim", 0, 100_000), default=None,
                        help="a DCGAN's last K inputs are a one-hot label (remembered for this file; 0 forgets)")
        return sp

    def conditional(sp):
        sp.add_argument("--class", dest="class_index", type=positive("--class", 0, 100_000), default=None,
                        help="class of a conditional model for every sample (default: seed %% classes)")

    def common(sp, psi=True):
        if psi:
            sp.add_argument("--psi", type=psi_value, default=1.0, help="truncation psi (default 1)")
        sp.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
        sp.add_argument("--backend", choices=("auto", "eager", "openvino"), default=None,
                        help="render back end: auto (the fast graph once built and checked), eager "
                             "(plain PyTorch) or a back end's name, built before rendering (default: "
                             "the saved preference, else eager)")

    sp = add("info", cmd_info, "describe a checkpoint")
    sp.add_argument("--json", action="store_true", help="machine-readable output")

    sp = add("generate", cmd_generate, "render seeds or given latents to a grid PNG or raw .npy")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--seeds", type=seed_list, help="seeds, e.g. 0-15 or 1,5,9")
    src.add_argument("--z", help="z latents as a .npy array [N, z_dim]")
    sp.add_argument("--c", help="class labels as a .npy array [N, c_dim] (conditional models)")
    sp.add_argument("--trunc-cutoff", type=positive("--trunc-cutoff", 0, 1000), default=None,
                    help="truncate only the first N layers")
    sp.add_argument("--noise-mode", choices=("const", "random", "none"), default="const")
    sp.add_argument("--cols", type=positive("--cols", 1, 1000), default=None)
    sp.add_argument("--labels", action="store_true", help="write seeds under the tiles")
    conditional(sp)
    sp.add_argument("--translate", type=pair("--translate"), default=None,
                    help="StyleGAN3: move the image by X,Y (fractions of its size)")
    sp.add_argument("--rotate", type=finite("--rotate"), default=None, help="StyleGAN3: turn the image (degrees)")
    sp.add_argument("--noise", help="per-sample noise .npy in the model's own convention "
                    "(lucidrains: [N, R, R, 1] uniform)")
    sp.add_argument("--out", required=True, help="OUT.png (one seed: its exact image; several: a grid), "
                    "OUT.npy (raw float32 [N, C, H, W]) or DIR/{seed}.png (one file per seed)")
    common(sp)

    sp = add("interpolate", cmd_interpolate, "interpolate between seeds into a strip, GIF or MP4")
    conditional(sp)
    sp.add_argument("--seeds", type=seed_list, required=True, help="two or more seeds: A,B[,C...]")
    sp.add_argument("--steps", type=positive("--steps", 2, 10_000), default=8)
    sp.add_argument("--slerp", action="store_true", help="spherical instead of linear")
    sp.add_argument("--space", choices=("w", "z"), default="w", help="interpolate in W (default) or Z")
    sp.add_argument("--loop", action="store_true", help="return to the first seed")
    sp.add_argument("--fps", type=positive("--fps", 1, 120), default=24)
    sp.add_argument("--out", required=True)
    common(sp)

    sp = add("arithmetic", cmd_arithmetic, "vector arithmetic on averaged latents (A - B + C)")
    conditional(sp)
    sp.add_argument("--group", type=_group, action="append", default=[], required=True,
                    help="a signed group of seeds, e.g. +1,2,3 or -4,5,6, optionally named: "
                         "'smiling woman=+1,2,3' (repeat; unnamed groups are A, B, C, ...)")
    sp.add_argument("--neighbours", type=positive("--neighbours", 0, 64), default=8)
    sp.add_argument("--sigma", type=nonneg_float("--sigma"), default=DEFAULT_SIGMA,
                    help=f"noise of the result's neighbours (default {DEFAULT_SIGMA})")
    sp.add_argument("--noise-seed", type=positive("--noise-seed", 0, 2**32 - 1), default=0)
    sp.add_argument("--space", choices=("z", "w"), default="z", help="average in Z (the paper) or W")
    sp.add_argument("--labels", action="store_true", help="(kept for old scripts: the figure is always captioned)")
    sp.add_argument("--out", required=True)
    common(sp)

    sp = add("mix", cmd_mix, "style-mixing grid: rows take layers from columns")
    conditional(sp)
    sp.add_argument("--rows", type=seed_list, required=True)
    sp.add_argument("--cols", type=seed_list, required=True)
    sp.add_argument("--layers", default="coarse", help="coarse, middle, fine or a range I-J")
    sp.add_argument("--out", required=True)
    common(sp)

    sp = add("edit", cmd_edit, "iGAN-style edit: steer a latent to obey colour/sketch/warp strokes")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--seed", type=positive("--seed", 0, 2**32 - 1), help="start from this seed")
    src.add_argument("--latent", help="start from ws in a .npy (or a projection's .npz)")
    sp.add_argument("--strokes", required=True, help="strokes JSON (the edit panel saves the same file)")
    sp.add_argument("--steps", type=positive("--steps", 1, 100_000), default=60)
    sp.add_argument("--candidates", type=positive("--candidates", 1, 256), default=8,
                    help="K latents optimised together (the start and K-1 perturbations)")
    sp.add_argument("--lambda-latent", type=nonneg_float("--lambda-latent"), default=0.1,
                    help="weight of staying near the start latent (default 0.1)")
    sp.add_argument("--lambda-keep", type=nonneg_float("--lambda-keep"), default=1.0,
                    help="weight of keeping the image where no stroke is (default 1; 0 = iGAN's cost)")
    sp.add_argument("--lambda-realism", type=nonneg_float("--lambda-realism"), default=0.02,
                    help="weight of the discriminator's realism term, when the checkpoint has D")
    sp.add_argument("--space", choices=("auto", "z", "w", "w+"), default="auto")
    sp.add_argument("--perturb-seed", type=positive("--perturb-seed", 0, 2**32 - 1), default=0,
                    help="seed of the K-1 perturbed starts")
    sp.add_argument("--record", help="also write the edit start -> result as anim.gif or anim.mp4")
    sp.add_argument("--fps", type=positive("--fps", 1, 120), default=12)
    sp.add_argument("--out", required=True, help="edited.png (the latents ride in its metadata)")
    common(sp)

    sp = add("project", cmd_project, "project a real image into the latent space")
    sp.add_argument("image", metavar="IMAGE", help="a picture; centre-cropped and resized to the model")
    sp.add_argument("--steps", type=positive("--steps", 1, 100_000), default=150)
    sp.add_argument("--starts", type=positive("--starts", 1, 256), default=2,
                    help="latents optimised side by side; the best wins")
    sp.add_argument("--space", choices=("auto", "z", "w", "w+"), default="auto")
    sp.add_argument("--seed", type=positive("--seed", 0, 2**32 - 1), default=0)
    sp.add_argument("--class", dest="class_index", type=positive("--class", 0, 100_000), default=None,
                    help="class of a conditional DCGAN")
    sp.add_argument("--no-encoder", action="store_true", help="ignore the checkpoint's encoder E")
    sp.add_argument("--record", help="also write the projection as anim.gif or anim.mp4")
    sp.add_argument("--fps", type=positive("--fps", 1, 120), default=12)
    sp.add_argument("--out", required=True, help="result.npz (ws, image, target, psnr) or result.png")
    common(sp, psi=False)

    sp = add("directions", cmd_directions, "find semantic directions (GANSpace PCA, SeFa, or labelled seeds)")
    sp.add_argument("--method", choices=("pca", "sefa", "labelled"), default="sefa")
    sp.add_argument("--k", type=positive("--k", 1, 4096), default=10)
    sp.add_argument("--samples", type=positive("--samples", 10, 10_000_000), default=10_000,
                   help="sampled w: PCA's population and every direction's std (its unit)")
    sp.add_argument("--seed", type=positive("--seed", 0, 2**32 - 1), default=0)
    from .cli_labelled import add_labelled_arguments
    add_labelled_arguments(sp)
    sp.add_argument("--out", required=True)
    common(sp, psi=False)

    from .cli_drag import add_drag_parser   # DragGAN point editing (its own module)
    add_drag_parser(add, common)

    sp = add("convert", cmd_convert, "write any readable checkpoint in GAN Explorer's format", ckpt=False)
    sp.add_argument("inp", metavar="IN")
    sp.add_argument("out", metavar="OUT", help="OUT.safetensors")
    return p


def _glue_signed_groups(argv: list[str]) -> list[str]:
    """`--group -4,5,6` would read as an option: glue it into `--group=-4,5,6`."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--group" and i + 1 < len(argv):
            out.append(f"--group={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _unknown_command(word: str, commands: list[str]) -> str:
    import difflib
    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    if close:
        return f"unknown command {word!r} (did you mean {close[0]!r}?)"
    if Path(word).suffix:
        return f"{word}: no such file (give an existing checkpoint or session, or a command)"
    return f"unknown command {word!r}; commands: {', '.join(commands)}"


def main(argv: list[str] | None = None) -> int:
    argv = _glue_signed_groups(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        if not Path(argv[0]).is_file():          # a typo must never open a window
            sys.stderr.write(f"ganexplorer: error: {_unknown_command(argv[0], sorted(commands))}\n")
            return EXIT_USAGE
        from .__main__ import main as gui_main   # `ganexplorer model.pkl` opens the window on it
        return gui_main(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        from .__main__ import main as gui_main
        return gui_main([])
    set_load_options(bool(getattr(args, "allow_nonfinite", False)), getattr(args, "c_dim", None))
    if getattr(args, "backend", None) is not None:
        from .render.backends import set_preference
        # A named back end is what the user asked for: build (or read) it, then render with it.
        set_preference(args.backend, wait=args.backend not in ("auto", "eager"))
    try:
        args.func(args)
    except BrokenPipeError:   # `ganexplorer info X | head`: the reader left; not an error of ours
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except Exception as e:
        from .models.errors import CheckpointError
        if args.debug:
            raise
        if isinstance(e, (CheckpointError, UsageError, ValueError, OSError)):
            msg = str(e) if not isinstance(e, OSError) else f"{e.strerror or e}: {e.filename or ''}".strip()
        else:
            msg = f"unexpected {type(e).__name__}: {e} (run with --debug for details)"
        sys.stderr.write(f"ganexplorer: error: {msg}\n")
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
