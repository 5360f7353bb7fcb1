"""Headless commands: the same operations the window offers, for scripts and batch work.

    ganexplorer                       open the window
    ganexplorer info CKPT [--json]
    ganexplorer generate CKPT (--seeds 0-15 | --z Z.npy [--c C.npy]) [--psi P] --out OUT.png|OUT.npy
    ganexplorer interpolate CKPT --seeds A,B[,C...] --steps N [--slerp] --out strip.png|anim.gif|anim.mp4
    ganexplorer arithmetic CKPT --group +1,2,3 --group -4,5,6 --group +7,8,9 --out grid.png
    ganexplorer mix CKPT --rows SEEDS --cols SEEDS --layers coarse|middle|fine|I-J --out grid.png
    ganexplorer directions CKPT --method pca|sefa --k 10 --out dirs.npz
    ganexplorer convert IN OUT.safetensors

Errors print one line and exit with status 2; --debug shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with what the user asked for; the message names it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


# ---------------------------------------------------------------- argument types

def _psi(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--psi must be a number such as 0.7, not {text!r}") from None
    if not np.isfinite(v) or not -5 <= v <= 5:
        raise argparse.ArgumentTypeError(f"--psi must be between -5 and 5, got {text}")
    return v


def _seeds(text: str) -> list[int]:
    from .latent.sampling import parse_seeds
    try:
        return parse_seeds(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive(name: str, lo: int = 1, hi: int = 100_000):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be between {lo} and {hi}, got {v}")
        return v
    return parse


def _nonneg_float(name: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if not np.isfinite(v) or v < 0:
            raise argparse.ArgumentTypeError(f"{name} must be zero or more, got {text}")
        return v
    return parse


def _group(text: str) -> tuple[float, list[int]]:
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text[1:] if text[:1] in "+-" else text
    return sign, _seeds(body)


# ---------------------------------------------------------------- helpers

def _load(path: str, device: str):
    import torch
    from .models.registry import load_model
    model = load_model(path)
    dev = _device(device)
    if dev != "cpu":
        model.G.to(dev)
    torch.set_grad_enabled(False)
    return model


def _device(name: str) -> str:
    import torch
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA GPU is available; use --device cpu")
    return name


def _check_out(out: str, allowed: tuple[str, ...]) -> Path:
    p = Path(out)
    if p.suffix.lower() not in allowed:
        raise UsageError(f"--out {out}: the file name must end in {' or '.join(allowed)}")
    if not p.parent.exists():
        raise UsageError(f"--out {out}: the folder {p.parent} does not exist")
    return p


def _meta(model, **extra) -> dict:
    return {"app": "ganexplorer", "checkpoint": model.path.name, "checkpoint_sha256": model.sha256,
            "format": model.format, **extra}


def _save_grid(model, ws: np.ndarray, out: Path, cols: int, meta: dict, labels=None,
               noise_mode: str = "const", images: np.ndarray | None = None) -> None:
    from .export.images import make_grid, to_uint8
    from .export.metadata import save_image
    from .render.synth import synthesize
    if images is None:
        images = synthesize(model.G, ws, noise_mode)
    grid = make_grid(to_uint8(images), cols=cols, labels=labels)
    save_image(grid, out, meta, latents={"ws": ws})


def _load_array(path: str, name: str) -> np.ndarray:
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise UsageError(f"{name} {path}: not a readable .npy array ({e})") from None
    if isinstance(a, np.lib.npyio.NpzFile):
        raise UsageError(f"{name} {path}: give a .npy array, not an .npz archive")
    return a


# ---------------------------------------------------------------- commands

def cmd_info(args) -> None:
    model = _load(args.ckpt, "cpu")
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
    for key in ("name", "credit", "licence", "dataset"):
        if model.info.get(key):
            print(f"  {key}: {model.info[key]}")


def cmd_generate(args) -> None:
    out = _check_out(args.out, (".png", ".npy"))
    model = _load(args.ckpt, args.device)
    G = model.G
    from .render.synth import seeds_to_ws, synthesize, z_to_ws
    if args.z is not None:
        z = _load_array(args.z, "--z").astype(np.float32)
        if z.ndim == 1:
            z = z[None]
        c = _load_array(args.c, "--c").astype(np.float32) if args.c else None
        if z.ndim != 2 or z.shape[1] != G.z_dim:
            raise UsageError(f"--z {args.z}: expected shape [N, {G.z_dim}], got {list(z.shape)}")
        ws = z_to_ws(G, z, c, args.psi, args.trunc_cutoff)
        seeds = None
    else:
        seeds = args.seeds
        ws = seeds_to_ws(G, seeds, args.psi, args.trunc_cutoff)
    if out.suffix.lower() == ".npy":
        from .atomic import atomic_path
        img = synthesize(G, ws, args.noise_mode)
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, img.astype(np.float32))
    else:
        _save_grid(model, ws, out, args.cols, _meta(model, seeds=seeds, psi=args.psi,
                                                    noise_mode=args.noise_mode),
                   labels=[str(s) for s in seeds] if (seeds and args.labels) else None,
                   noise_mode=args.noise_mode)
    print(f"wrote {out} ({len(ws)} images)")


def cmd_interpolate(args) -> None:
    out = _check_out(args.out, (".png", ".gif", ".mp4"))
    if len(args.seeds) < 2:
        raise UsageError("--seeds needs at least two seeds, like 1,2")
    model = _load(args.ckpt, args.device)
    from .export.images import make_grid, to_uint8
    from .render.recipes import interpolation_ws
    from .render.synth import synthesize
    method = "slerp" if args.slerp else "lerp"
    ws = interpolation_ws(model.G, args.seeds, args.steps, method, args.space, args.psi, args.loop)
    frames = to_uint8(synthesize(model.G, ws))
    meta = _meta(model, seeds=args.seeds, psi=args.psi, steps=args.steps, method=method, space=args.space)
    if out.suffix.lower() == ".png":
        from .export.metadata import save_image
        save_image(make_grid(frames, cols=len(frames)), out, meta, latents={"ws": ws})
    else:
        from .export.animation import save_animation
        save_animation(frames, out, fps=args.fps)
    print(f"wrote {out} ({len(frames)} frames)")


def cmd_arithmetic(args) -> None:
    out = _check_out(args.out, (".png",))
    if len(args.group) < 2:
        raise UsageError("give at least two --group options, like --group +1,2,3 --group -4,5,6")
    model = _load(args.ckpt, args.device)
    from .export.images import make_grid, to_uint8
    from .export.metadata import save_image
    from .render.recipes import arithmetic_ws
    from .render.synth import synthesize
    signs = [s for s, _ in args.group]
    groups = [g for _, g in args.group]
    r = arithmetic_ws(model.G, groups, signs, args.space, args.psi, args.neighbours, args.sigma,
                      args.noise_seed)
    # Layout as in the DCGAN paper: one row per group (members then the mean, labelled with
    # its sign), a last row with the result and its neighbours.
    cols = max(max(len(g) for g in groups) + 1, 1 + args.neighbours)
    tiles, labels, ws_all = [], [], []
    blank = np.full((1, model.G.img_resolution, model.G.img_resolution, 3), 255, np.uint8)
    for gi, (sign, members) in enumerate(args.group):
        imgs = to_uint8(synthesize(model.G, np.concatenate([r.members[gi], r.means[gi:gi + 1]])))
        row = list(imgs[:-1]) + [blank[0]] * (cols - len(members) - 1) + [imgs[-1]]
        lab = [str(s) for s in members] + [""] * (cols - len(members) - 1) + [f"{'+' if sign > 0 else '-'}mean"]
        tiles += row
        labels += lab
        ws_all.append(np.concatenate([r.members[gi], r.means[gi:gi + 1]]))
    imgs = to_uint8(synthesize(model.G, np.concatenate([r.result, r.neighbours])))
    tiles += list(imgs) + [blank[0]] * (cols - len(imgs))
    labels += ["result"] + [f"n{i}" for i in range(len(r.neighbours))] + [""] * (cols - len(imgs))
    ws_all += [r.result, r.neighbours]
    grid = make_grid(np.stack(tiles), cols=cols, labels=labels if args.labels else None)
    meta = _meta(model, groups=groups, signs=signs, psi=args.psi, space=args.space,
                 neighbours=args.neighbours, sigma=args.sigma, noise_seed=args.noise_seed)
    save_image(grid, out, meta, latents={"result": r.result, "neighbours": r.neighbours,
                                          "means": r.means})
    print(f"wrote {out}")


def cmd_mix(args) -> None:
    out = _check_out(args.out, (".png",))
    model = _load(args.ckpt, args.device)
    from .export.images import make_grid, to_uint8
    from .export.metadata import save_image
    from .render.recipes import mixing_ws
    from .render.synth import synthesize
    rows, cols, cells = mixing_ws(model.G, args.rows, args.cols, args.layers, args.psi)
    R, C = len(rows), len(cols)
    row_img = to_uint8(synthesize(model.G, rows))
    col_img = to_uint8(synthesize(model.G, cols))
    cell_img = to_uint8(synthesize(model.G, cells.reshape(R * C, *cells.shape[2:])))
    blank = np.full_like(row_img[0], 255)
    tiles = [blank] + list(col_img)
    for i in range(R):
        tiles += [row_img[i]] + list(cell_img[i * C:(i + 1) * C])
    grid = make_grid(np.stack(tiles), cols=C + 1)
    from .latent.stylemix import resolve_layers
    span = resolve_layers(args.layers, model.G.num_ws, model.G.img_resolution)
    meta = _meta(model, rows=args.rows, cols=args.cols, layers=list(span), psi=args.psi)
    save_image(grid, out, meta, latents={"cells": cells})
    print(f"wrote {out} (layers {span[0]}-{span[1] - 1} from the column sources)")


def cmd_directions(args) -> None:
    out = _check_out(args.out, (".npz",))
    model = _load(args.ckpt, args.device)
    from .latent.directions import pca_directions, sefa_directions
    if args.method == "pca":
        d = pca_directions(model.G, args.k, args.samples, args.seed)
    else:
        d = sefa_directions(model.G, args.k)
    d.save(out)
    print(f"wrote {out} ({len(d.vectors)} {args.method} directions)")


def cmd_convert(args) -> None:
    out = _check_out(args.out, (".safetensors",))
    model = _load(args.inp, "cpu")
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
        return sp

    def common(sp, psi=True):
        if psi:
            sp.add_argument("--psi", type=_psi, default=1.0, help="truncation psi (default 1)")
        sp.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")

    sp = add("info", cmd_info, "describe a checkpoint")
    sp.add_argument("--json", action="store_true", help="machine-readable output")

    sp = add("generate", cmd_generate, "render seeds or given latents to a grid PNG or raw .npy")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--seeds", type=_seeds, help="seeds, e.g. 0-15 or 1,5,9")
    src.add_argument("--z", help="z latents as a .npy array [N, z_dim]")
    sp.add_argument("--c", help="class labels as a .npy array [N, c_dim] (conditional models)")
    sp.add_argument("--trunc-cutoff", type=_positive("--trunc-cutoff", 0, 1000), default=None,
                    help="truncate only the first N layers")
    sp.add_argument("--noise-mode", choices=("const", "random", "none"), default="const")
    sp.add_argument("--cols", type=_positive("--cols", 1, 1000), default=None)
    sp.add_argument("--labels", action="store_true", help="write seeds under the tiles")
    sp.add_argument("--out", required=True, help="OUT.png (grid) or OUT.npy (raw float32 [N, C, H, W])")
    common(sp)

    sp = add("interpolate", cmd_interpolate, "interpolate between seeds into a strip, GIF or MP4")
    sp.add_argument("--seeds", type=_seeds, required=True, help="two or more seeds: A,B[,C...]")
    sp.add_argument("--steps", type=_positive("--steps", 2, 10_000), default=8)
    sp.add_argument("--slerp", action="store_true", help="spherical instead of linear")
    sp.add_argument("--space", choices=("w", "z"), default="w", help="interpolate in W (default) or Z")
    sp.add_argument("--loop", action="store_true", help="return to the first seed")
    sp.add_argument("--fps", type=_positive("--fps", 1, 120), default=24)
    sp.add_argument("--out", required=True)
    common(sp)

    sp = add("arithmetic", cmd_arithmetic, "vector arithmetic on averaged latents (A - B + C)")
    sp.add_argument("--group", type=_group, action="append", default=[], required=True,
                    help="a signed group of seeds, e.g. +1,2,3 or -4,5,6 (repeat)")
    sp.add_argument("--neighbours", type=_positive("--neighbours", 0, 64), default=8)
    sp.add_argument("--sigma", type=_nonneg_float("--sigma"), default=0.25)
    sp.add_argument("--noise-seed", type=_positive("--noise-seed", 0, 2**32 - 1), default=0)
    sp.add_argument("--space", choices=("z", "w"), default="z", help="average in Z (the paper) or W")
    sp.add_argument("--labels", action="store_true")
    sp.add_argument("--out", required=True)
    common(sp)

    sp = add("mix", cmd_mix, "style-mixing grid: rows take layers from columns")
    sp.add_argument("--rows", type=_seeds, required=True)
    sp.add_argument("--cols", type=_seeds, required=True)
    sp.add_argument("--layers", default="coarse", help="coarse, middle, fine or a range I-J")
    sp.add_argument("--out", required=True)
    common(sp)

    sp = add("directions", cmd_directions, "find semantic directions (GANSpace PCA or SeFa)")
    sp.add_argument("--method", choices=("pca", "sefa"), default="sefa")
    sp.add_argument("--k", type=_positive("--k", 1, 4096), default=10)
    sp.add_argument("--samples", type=_positive("--samples", 10, 10_000_000), default=10_000)
    sp.add_argument("--seed", type=_positive("--seed", 0, 2**32 - 1), default=0)
    sp.add_argument("--out", required=True)
    common(sp, psi=False)

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


def main(argv: list[str] | None = None) -> int:
    argv = _glue_signed_groups(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from .__main__ import main as gui_main
        return gui_main([])
    try:
        args.func(args)
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
