"""torchrun / DistributedDataParallel glue. Nothing home-made: torch.distributed does the work.

Launch with `torchrun --nproc_per_node=N -m trainer ...`; torchrun sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT. Each process draws batch/WORLD_SIZE images with
its own seed; DDP averages the gradients, so all ranks keep identical weights. The backend
is NCCL on CUDA and gloo on CPU. Only rank 0 writes files and events.
"""
from __future__ import annotations

import inspect
import os
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


def sync_buffers(info: DistInfo, *modules: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm statistics, w_avg) to every rank.

    DDP syncs buffers at the start of each forward, so after the last step each rank still
    holds the statistics of its own last batch; call this before saving or comparing.
    """
    if not info.enabled:
        return
    for m in modules:
        for b in m.buffers():
            dist.broadcast(b, src=0)


def any_flags(info: DistInfo, flags: torch.Tensor) -> list[bool]:
    """Each flag true on every rank when it is set on any rank (one all-reduce for all).

    `flags` is a 1-D tensor on this rank's device, nonzero = set.
    """
    if info.enabled:
        flags = flags.clone()
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return [bool(v) for v in flags.tolist()]


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
