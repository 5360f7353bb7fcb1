"""Checks on tensors that came out of a file: honest views, and finite values.

A pickled tensor is (storage, offset, size, stride). Stride 0 or overlapping strides let a
few bytes of storage pose as a tensor of any size (a 5.5 KB torch zip "holding" 563 M
parameters); readers then copy it into a network of that size. Every tensor from a file
must therefore be a non-overlapping view that lies inside its storage, so that a tensor
can never claim more elements than its storage has bytes for.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from .errors import CheckpointError


def check_view(storage_nbytes: int, itemsize: int, offset: int, size: Sequence[int],
               stride: Sequence[int], name: str) -> None:
    """CheckpointError unless (offset, size, stride) is a non-overlapping view inside the storage."""
    if offset < 0 or any(s < 0 for s in size) or any(st < 0 for st in stride):
        raise CheckpointError(f"refused to load: tensor {name} has a negative size, stride or offset.")
    numel = 1
    for s in size:
        numel *= s
    if numel == 0:
        return
    # Non-overlapping: ordered by stride, each dimension steps over the whole of the previous ones.
    span = 1
    for st, s in sorted((st, s) for st, s in zip(stride, size) if s > 1):
        if st < span:
            raise CheckpointError(
                f"refused to load: tensor {name} reuses its storage (stride {list(stride)} for shape "
                f"{list(size)}), so it claims more values than the file holds.")
        span = st * s
    extent = offset + 1 + sum((s - 1) * st for s, st in zip(size, stride))
    if extent * itemsize > storage_nbytes:
        raise CheckpointError(f"refused to load: tensor {name} (shape {list(size)}) reaches beyond "
                              f"its storage of {storage_nbytes} bytes.")


def check_tensor(t: torch.Tensor, name: str) -> None:
    if t.layout != torch.strided or t.is_quantized or t.device.type != "cpu":
        raise CheckpointError(f"refused to load: tensor {name} is not a plain dense CPU tensor.")
    check_view(t.untyped_storage().nbytes(), t.element_size(), t.storage_offset(),
               tuple(t.shape), t.stride(), name)


def check_tensors(named: Iterable[tuple[str, torch.Tensor]]) -> None:
    for name, t in named:
        check_tensor(t, name)


def stored_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of distinct storages behind `tensors` (views of one storage count once)."""
    seen: dict[int, int] = {}
    for t in tensors:
        s = t.untyped_storage()
        seen[s.data_ptr() if s.nbytes() else id(s)] = s.nbytes()
    return sum(seen.values())


def nonfinite_message(net: nn.Module, what: str = "the generator") -> str | None:
    """One sentence naming NaN/Inf values in `net`'s parameters and buffers, or None."""
    bad_total, first, total = 0, "", 0
    for name, t in net.state_dict().items():
        if not t.is_floating_point():
            continue
        total += t.numel()
        bad = int((~torch.isfinite(t)).sum())
        if bad:
            bad_total += bad
            first = first or name
    if not bad_total:
        return None
    return (f"{what}'s weights hold {bad_total:,} NaN or infinite values (of {total:,}, first in "
            f"{first}), so its images will be broken.")
