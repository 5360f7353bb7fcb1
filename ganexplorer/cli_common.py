"""What every CLI command module shares: argument types, opening a model, checking --out,
export metadata, reading latents and writing a recorded optimisation.

`cli.py` (the parser and most commands), `cli_drag.py` and `cli_labelled.py` import from
here and never from each other's privates, so the CLI has no import cycle (the layers
contract in pyproject.toml puts this module below the command modules).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with what the user asked for; the message names it."""


# ---------------------------------------------------------------- argument types

def psi_value(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--psi must be a number such as 0.7, not {text!r}") from None
    if not np.isfinite(v) or not -5 <= v <= 5:
        raise argparse.ArgumentTypeError(f"--psi must be between -5 and 5, got {text}")
    return v


def seed_list(text: str) -> list[int]:
    from .latent.sampling import parse_seeds
    try:
        return parse_seeds(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def positive(name: str, lo: int = 1, hi: int = 100_000):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be between {lo} and {hi}, got {v}")
        return v
    return parse


def number(name: str, nonneg: bool = False):
    """A finite float (and >= 0 with nonneg) for flag `name`, else a message naming it."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if not np.isfinite(v) or (nonneg and v < 0):
            rule = "zero or more" if nonneg else "a finite number"
            raise argparse.ArgumentTypeError(f"{name} must be {rule}, got {text}")
        return v
    return parse


def nonneg_float(name: str):
    return number(name, nonneg=True)


def finite(name: str):
    return number(name)


def pair(name: str):
    def parse(text: str) -> tuple[float, float]:
        parts = text.split(",")
        if len(parts) != 2:
            raise argparse.ArgumentTypeError(f"{name} takes two numbers X,Y such as 0.1,-0.2, not {text!r}")
        return (finite(name)(parts[0]), finite(name)(parts[1]))
    return parse


# ---------------------------------------------------------------- opening a model

@dataclass
class LoadOptions:
    """The flags of the current command that change how a checkpoint opens (set by cli.main)."""
    allow_nonfinite: bool = False   # --allow-nonfinite
    c_dim: int | None = None        # --c-dim: a DCGAN's label size


LOAD = LoadOptions()


def set_load_options(allow_nonfinite: bool, c_dim: int | None) -> None:
    LOAD.allow_nonfinite, LOAD.c_dim = allow_nonfinite, c_dim


def open_model(path: str, device: str):
    from .models.registry import load_model
    model = load_model(path)
    if model.nonfinite and not LOAD.allow_nonfinite:
        raise UsageError(f"{model.path.name}: {model.nonfinite} Pass --allow-nonfinite to use it anyway.")
    from .models.declared import apply_declared
    model = apply_declared(model, LOAD.c_dim)   # a DCGAN's declared (or remembered) label size
    dev = resolve_device(device)
    if dev != "cpu":
        model.G.to(dev)
    return model


def resolve_device(name: str) -> str:
    import torch
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA GPU is available; use --device cpu")
    return name


# ---------------------------------------------------------------- files in and out

def check_out(out: str, allowed: tuple[str, ...]) -> Path:
    p = Path(out)
    if p.suffix.lower() not in allowed:
        raise UsageError(f"--out {out}: the file name must end in {' or '.join(allowed)}")
    if not p.parent.exists():
        raise UsageError(f"--out {out}: the folder {p.parent} does not exist")
    return p


def export_meta(model, **extra) -> dict:
    return {"app": "ganexplorer", "checkpoint": model.path.name, "checkpoint_sha256": model.sha256,
            "format": model.format, **extra}


def load_array(path: str, name: str) -> np.ndarray:
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise UsageError(f"{name} {path}: not a readable .npy array ({e})") from None
    if isinstance(a, np.lib.npyio.NpzFile):
        raise UsageError(f"{name} {path}: give a .npy array, not an .npz archive")
    return a


def load_latent(path: str, G) -> np.ndarray:
    """--latent: .npy [num_ws, w_dim] / [1, num_ws, w_dim] (a DCGAN also takes [z_dim]), or .npz with 'ws'."""
    if path.lower().endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as d:
                if "ws" not in d:
                    raise UsageError(f"--latent {path}: the archive has no 'ws' array")
                a = d["ws"]
        except (OSError, ValueError) as e:
            raise UsageError(f"--latent {path}: not a readable .npz archive ({e})") from None
    else:
        a = load_array(path, "--latent")
    a = np.asarray(a, np.float32)
    if a.ndim == 1 and a.shape[0] == G.w_dim:
        a = a[None]
    if a.ndim == 2 and a.shape == (1, G.w_dim) and G.num_ws > 1:
        a = np.repeat(a, G.num_ws, axis=0)
    if a.ndim == 2:
        a = a[None]
    if a.shape != (1, G.num_ws, G.w_dim):
        raise UsageError(f"--latent {path}: expected ws [1, {G.num_ws}, {G.w_dim}], got {list(a.shape)}")
    return a


def write_recording(model, recording, path: Path, fps: float) -> int:
    """Render the recorded best latents start -> result and write them as GIF/MP4."""
    from .export.animation import save_animation
    from .export.images import to_uint8
    from .render.synth import synthesize
    ws = recording.frames_ws()
    save_animation(to_uint8(synthesize(model.G, ws)), path, fps=fps)
    return len(ws)
