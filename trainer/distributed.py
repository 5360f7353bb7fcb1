"""torchrun / DistributedDataParallel glue. Nothing home-made: torch.distributed does the work.

Launch with `torchrun --nproc_per_node=N -m trainer ...`; torchrun sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT. Each process draws batch/WORLD_SIZE images with
its own seed; DDP averages the gradients, so all ranks keep identical weights. The backend
is NCCL on CUDA and gloo on CPU. Only rank 0 writes files and events.
"""
from __future__ import annotations

import inspect
import os
from collections import deque
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0            # global process index
    world_size: int = 1      # number of processes
    local_rank: int = 0      # index on this machine (picks the GPU)
    backend: str = ""        # 'nccl' | 'gloo' | '' when not distributed

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env() -> DistInfo:
    """Read torchrun's environment (no process group is created yet)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return DistInfo(rank=int(os.environ.get("RANK", "0")), world_size=world,
                    local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def init(info: DistInfo, device: torch.device) -> DistInfo:
    """Create the process group when running under torchrun with more than one process."""
    if not info.enabled:
        return info
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    return DistInfo(info.rank, info.world_size, info.local_rank, backend)


def wrap(module: nn.Module, device: torch.device, info: DistInfo) -> nn.Module:
    """DDP around `module` when distributed; the module itself otherwise.

    broadcast_buffers keeps BatchNorm statistics and StyleGAN2's w_avg equal on all ranks.
    """
    if not info.enabled:
        return module
    ids = [device.index] if device.type == "cuda" else None
    DDP = nn.parallel.DistributedDataParallel
    # torch 2.13 renamed broadcast_buffers to forward_sync_buffers; accept both.
    kw = ({"forward_sync_buffers": True} if "forward_sync_buffers" in inspect.signature(DDP).parameters
          else {"broadcast_buffers": True})
    return DDP(module, device_ids=ids, **kw)


# Handles of the latest collectives, held until the process exits. gloo's worker thread drops
# its reference to a finished collective after the caller has returned; when that is the last
# reference, it frees the tensors, which takes the GIL, and in a process that has begun to
# shut down its interpreter that aborts ("terminate called without an active exception";
# a rank that leaves within milliseconds of its last collective hit it). Holding the handle
# here makes this thread, which has the GIL, the one that frees them. (destroy_process_group
# does not help: once a DDP module has existed, gloo's threads outlive it.)
_recent_work: deque = deque(maxlen=16)


def _wait(work) -> None:
    work.wait()
    _recent_work.append(work)


def sync_buffers(info: DistInfo, *modules: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm statistics, w_avg) to every rank.

    DDP syncs buffers at the start of each forward, so after the last step each rank still
    holds the statistics of its own last batch; call this before saving or comparing.
    """
    if not info.enabled:
        return
    for m in modules:
        for b in m.buffers():
            _wait(dist.broadcast(b, src=0, async_op=True))


def _all_reduce(info: DistInfo, t: torch.Tensor, op) -> torch.Tensor:
    """`t` reduced over all ranks with `op` (a copy; `t` itself is left alone)."""
    if info.enabled:
        t = t.clone()
        _wait(dist.all_reduce(t, op=op, async_op=True))
    return t


def any_flags(info: DistInfo, flags: torch.Tensor) -> list[bool]:
    """Each flag true on every rank when it is set on any rank (one all-reduce for all).

    `flags` is a 1-D tensor on this rank's device, nonzero = set.
    """
    return [bool(v) for v in _all_reduce(info, flags, dist.ReduceOp.MAX).tolist()]


def agree(info: DistInfo, device: torch.device, sync_point: bool, *flags: bool) -> list[bool]:
    """Flags every rank acts on together. Every rank must leave the training loop at the same
    step, or the others wait in a collective forever: so stop requests, non-finite losses and
    failed writes are agreed on at sync points (the caller's: every 16 steps and at snapshots),
    and count as unset between them. One process: the flags as they are."""
    if not info.enabled:
        return list(flags)
    if not sync_point:
        return [False] * len(flags)
    return any_flags(info, torch.tensor([float(f) for f in flags], device=device))


def all_sum(info: DistInfo, t: torch.Tensor) -> torch.Tensor:
    """The sum of `t` over all ranks (a copy)."""
    return _all_reduce(info, t, dist.ReduceOp.SUM)


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
