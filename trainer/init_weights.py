"""--init: a run that starts from the weights of a checkpoint (fine-tuning on new data, or
continuing a shipped model whose run folder is gone).

As StyleGAN2-ADA's resume from a network pickle: G, G_ema and D take the file's weights (its
G is the EMA generator it was trained to); the optimisers and the step count start fresh, and
ADA's p starts at --ada-p. A run that continues from its own resume state ignores --init.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .networks import Networks, TrainError


def _mismatch(mine: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]) -> str | None:
    """The first difference between two state dicts' names and shapes, in words (None: none)."""
    for k in mine:
        if k not in theirs:
            return f"it has no {k}"
        if tuple(mine[k].shape) != tuple(theirs[k].shape):
            return f"{k} is {tuple(theirs[k].shape)}, this run's is {tuple(mine[k].shape)}"
    extra = [k for k in theirs if k not in mine]
    return f"it has {extra[0]}, which this run's network lacks" if extra else None


def load_init(nets: Networks, path: str) -> None:
    """G, G_ema <- the checkpoint's G; D <- its D. Raises TrainError naming --init."""
    from ganexplorer.models.checkpoint import load_checkpoint
    from ganexplorer.models.errors import CheckpointError
    name = Path(path).name
    try:
        ckpt = load_checkpoint(Path(path).expanduser(), which=("G", "D"))
    except CheckpointError as e:
        raise TrainError(f"--init {name}: {e}") from None
    targets: dict[str, list[nn.Module]] = {"G": [nets.G, nets.G_ema], "D": [nets.D]}
    for net_name, modules in targets.items():
        src = ckpt.nets.get(net_name)
        if src is None:
            raise TrainError(f"--init {name} holds no {net_name}; training from a checkpoint needs both G and D "
                             "(a snapshot of a run has them)")
        state = src.state_dict()
        if why := _mismatch(modules[0].state_dict(), state):
            raise TrainError(f"--init {name}: its {net_name} does not match this run's networks ({why}); "
                             "use the network flags of the run that made it (its config.json)")
        for m in modules:
            m.load_state_dict(state)      # copies into the run's tensors: device and layout stay
