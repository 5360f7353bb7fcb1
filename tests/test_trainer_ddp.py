"""Two processes, gloo backend, DistributedDataParallel: both ranks end with identical weights."""
from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp

from trainer.config import from_preset
from trainer.distributed import DistInfo, cleanup
from trainer.loop import iter_train


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    cfg = from_preset("dcgan-32", data="digits", out=os.path.join(out, "run"), resolution=16, ngf=8,
                      ndf=8, z_dim=16, batch=16, kimg=0.08, snap_kimg=0.08, grid_size=4,
                      progress=False, device="cpu")
    gen = iter_train(cfg, dist=DistInfo(rank, world, rank))
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        result = stop.value
    state = {f"{net}.{k}": v.detach().clone() for net in ("G", "D", "G_ema")
             for k, v in result[net].state_dict().items()}
    state["step"] = torch.tensor(result["step"])
    torch.save(state, os.path.join(out, f"rank{rank}.pt"))
    cleanup(DistInfo(rank, world, rank, "gloo"))


def test_two_ranks_hold_identical_weights(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert a.keys() == b.keys() and int(a["step"]) == 5
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    # Only rank 0 writes the run directory.
    assert (tmp_path / "run" / "network-snapshot-000000.safetensors").is_file()
