"""`ganexplorer directions --method labelled`: an InterFaceGAN direction from labelled seeds.

    ganexplorer directions CKPT --method labelled --pos SEEDS --neg SEEDS [--csv FILE]
                           [--orthogonal-to D.npz] [--name NAME] --out d.npz

The arguments are added to cli.py's `directions` command, whose `cmd_directions` hands
this method over to `run_labelled` (shared helpers from cli_common.py, never from cli.py).
"""
from __future__ import annotations

import numpy as np

from .cli_common import UsageError, check_out, nonneg_float, open_model, seed_list


def add_labelled_arguments(sp) -> None:
    """The labelled method's flags on the `directions` sub-parser."""
    sp.add_argument("--pos", type=seed_list, default=None,
                    help="labelled: seeds that have the attribute, e.g. 1,4,9-12")
    sp.add_argument("--neg", type=seed_list, default=None, help="labelled: seeds that lack it")
    sp.add_argument("--csv", default=None, help="labelled: a 'seed,label' file (label 1/0, yes/no, +/-)")
    sp.add_argument("--orthogonal-to", dest="orthogonal_to", action="append", default=[],
                    metavar="D.npz", help="labelled: keep the directions in this file fixed "
                    "(conditional manipulation; repeat for more files)")
    sp.add_argument("--name", default=None, help="labelled: the attribute's name (default: the file name)")
    sp.add_argument("--svm-c", dest="svm_c", type=nonneg_float("--svm-c"), default=None,
                    help="labelled: the linear SVM's regularisation C (default 0.01)")


def reject_labelled_flags(args) -> None:
    """pca/sefa with labelled flags: say so rather than ignore them."""
    used = [flag for flag, v in (("--pos", args.pos), ("--neg", args.neg), ("--csv", args.csv),
                                 ("--orthogonal-to", args.orthogonal_to), ("--name", args.name),
                                 ("--svm-c", args.svm_c)) if v]
    if used:
        raise UsageError(f"{', '.join(used)} only apply to --method labelled")


def run_labelled(args) -> None:
    from .latent.directions import Directions
    from .latent.labelled import DEFAULT_C, labelled_direction, read_label_csv
    out = check_out(args.out, (".npz",))
    pos, neg = list(args.pos or []), list(args.neg or [])
    if args.csv:
        try:
            p2, n2 = read_label_csv(args.csv)
        except OSError as e:
            raise UsageError(f"--csv {args.csv}: cannot read it ({e.strerror or e})") from None
        pos, neg = pos + p2, neg + n2
    if not pos or not neg:
        raise UsageError("--method labelled needs positive and negative seeds: give --pos and --neg, "
                         "or a --csv file of 'seed,label' rows")
    if args.svm_c is not None and args.svm_c <= 0:
        raise UsageError("--svm-c must be more than 0")
    model = open_model(args.ckpt, args.device)
    G = model.G
    others = []
    for path in args.orthogonal_to:
        try:
            d = Directions.load(path)
        except (OSError, KeyError, ValueError) as e:
            raise UsageError(f"--orthogonal-to {path}: not a direction file ({e})") from None
        if d.vectors.ndim != 2 or d.vectors.shape[1] != G.w_dim:
            raise UsageError(f"--orthogonal-to {path}: its directions have {d.vectors.shape[-1]} "
                             f"components, this model's latents {G.w_dim}")
        others.append(d.vectors)
    from pathlib import Path
    name = args.name or Path(args.out).stem
    r = labelled_direction(G, pos, neg, name=name,
                           orthogonal_to=np.concatenate(others) if others else None,
                           C=args.svm_c if args.svm_c is not None else DEFAULT_C,
                           n_samples=args.samples, seed=args.seed)
    r.to_directions().save(out)
    space = "W" if G.has_styles else "Z"
    msg = (f"wrote {out} (labelled direction {name!r} in {space} from {r.n_pos} positive and {r.n_neg} "
           f"negative seeds; held-out accuracy {r.accuracy:.3f} ({r.folds}-fold); "
           f"std of w along it {r.scale:.3g}")
    if r.conditioned_on:
        msg += f"; orthogonal to {r.conditioned_on} other direction{'s' if r.conditioned_on > 1 else ''}"
    print(msg + ")")
