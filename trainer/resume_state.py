"""Phase 3 of a run: the resume state — everything needed to continue exactly where a run
stopped (G, D, G_ema, both optimisers, augment p, RNG states, data order, step, nimg) —
built for saving, and chosen and loaded when a run continues.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from . import distributed as dist_glue
from .augment import Augment
from .config import TrainConfig
from .data import BatchSource
from .networks import Networks, nonfinite_tensors


def _rng_state(gen: torch.Generator) -> dict[str, torch.Tensor]:
    s = {"torch_cpu": torch.get_rng_state(), "gen": gen.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        s["torch_cuda"] = torch.cuda.get_rng_state()
    return s


def _set_rng_state(gen: torch.Generator, s: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(s["torch_cpu"])
    gen.set_state(s["gen"])
    if "torch_cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state(s["torch_cuda"])


def build_state(nets: Networks, aug: Augment, gen: torch.Generator, src: BatchSource, step: int,
                nimg: int, cfg: TrainConfig, dist: dist_glue.DistInfo) -> dict[str, Any]:
    return {"G": nets.G.state_dict(), "D": nets.D.state_dict(), "G_ema": nets.G_ema.state_dict(),
            "opt_G": nets.opt_G.state_dict(), "opt_D": nets.opt_D.state_dict(), "augment": aug.state(),
            "rng": _rng_state(gen), "data": src.state(), "step": step, "nimg": nimg,
            "world_size": dist.world_size, "config_json": json.dumps(cfg.to_dict())}


def _read(path: Path) -> tuple[dict[str, Any] | None, str]:
    """A state that loads and whose networks are all finite, or (None, why not)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:   # noqa: BLE001 — a damaged file: the caller falls back to an older one
        return None, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    if not isinstance(state, dict) or not all(k in state for k in ("G", "D", "G_ema", "step", "nimg")):
        return None, "not a complete resume state"
    for name in ("G", "D", "G_ema"):
        sd = state[name]
        if any(torch.is_tensor(t) and t.is_floating_point() and not torch.isfinite(t).all() for t in sd.values()):
            return None, f"its {name} holds NaN or infinite numbers"
    return state, ""


def load_newest(states: list[Path]) -> tuple[dict[str, Any] | None, Path | None]:
    """The newest state that loads and is finite (older ones are the fallback)."""
    for path in states:
        state, why = _read(path)
        if state is not None:
            return state, path
        print(f"warning: skipping {path.name} ({why})", flush=True)
    return None, None


def restore(state: dict[str, Any], nets: Networks, aug: Augment, gen: torch.Generator,
            src: BatchSource, dist: dist_glue.DistInfo) -> tuple[int, int]:
    """Load `state` into the run's objects. -> (step, nimg)."""
    nets.G.load_state_dict(state["G"])
    nets.D.load_state_dict(state["D"])
    nets.G_ema.load_state_dict(state["G_ema"])
    nets.opt_G.load_state_dict(state["opt_G"])
    nets.opt_D.load_state_dict(state["opt_D"])
    aug.load_state(state["augment"])
    # The data order and RNG streams are per rank: they carry over only to the same world size.
    if dist.world_size == int(state.get("world_size", 1)):
        _set_rng_state(gen, state["rng"])
        src.load_state(state["data"])
    return int(state["step"]), int(state["nimg"])


def networks_nonfinite(nets: Networks) -> list[str]:
    """Names of NaN/inf parameters or buffers in G, D or G_ema (empty: all finite)."""
    return [f"{k}.{n}" for k, m in nets.modules().items() for n in nonfinite_tensors(m)]
