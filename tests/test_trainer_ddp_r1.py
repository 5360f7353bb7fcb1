"""R1 under torchrun is the same R1 (issue 15 item 4): DDP does not support double backward
directly, so the trainer runs R1's pass inside `no_sync` and lets the last (synced) pass
average every gradient. Two gloo ranks with half the batch each must end with the weights
of one process that trains on the whole batch, for R1 on every step, lazy R1, and rpgan's
R1 + R2."""
from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from trainer import distributed as dist_glue
from trainer import networks
from trainer.augment import Augment
from trainer.config import from_preset
from trainer.step import TrainStep

pytestmark = pytest.mark.slow   # spawns two ranks (make test-fast skips it)

BATCH, STEPS = 8, 4
CASES = {"R1 every step": dict(loss="ns", r1_interval=1), "lazy R1": dict(loss="ns", r1_interval=2),
         "rpgan R1+R2": dict(loss="rpgan", r1_interval=1)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(case: dict, dist: dist_glue.DistInfo) -> dict[str, torch.Tensor]:
    """STEPS trainer steps on fixed data; this rank takes its share of each batch."""
    cfg = from_preset("stylegan2-64", data="digits", out="unused", resolution=8, cbase=256, cmax=16, z_dim=8,
                      w_dim=8, map_layers=1, batch=BATCH, augment="none", style_mixing=0.0,
                      amp=False, device="cpu", **{"r1_gamma": 1.0, **case})
    device = torch.device("cpu")
    nets = networks.make_networks(cfg, 1, device, dist)
    # No minibatch-std layer: it mixes the images of a group, so half a batch would see other
    # statistics than the whole one and the two runs could not agree for any R1.
    nets.D = networks.StyleGAN2Discriminator(c_dim=0, img_resolution=8, img_channels=1, channel_base=256,
                                             channel_max=16, mbstd_num_channels=0)
    torch.manual_seed(1)
    for p in nets.D.parameters():
        torch.nn.init.normal_(p, 0.0, 0.5)
    nets.opt_D = torch.optim.Adam(nets.D.parameters(), lr=cfg.lr_D, betas=(cfg.beta1, cfg.beta2))
    networks.wrap(nets, cfg, device, dist)
    step_module = nets.G_fwd.module if dist.enabled else nets.G_fwd
    step_module.noise_mode = "const"     # the same fakes in both runs
    gen = torch.Generator().manual_seed(0)
    aug = Augment("none", "", device, gen, 0.6, 0.0, reduce=lambda t: dist_glue.all_sum(dist, t))
    train_step = TrainStep(cfg, nets, aug, networks.autocast_factory(device, False), gen, dist)
    share = slice(dist.rank * BATCH // dist.world_size, (dist.rank + 1) * BATCH // dist.world_size)
    data = torch.Generator().manual_seed(123)
    for step in range(STEPS):
        real = torch.rand(BATCH, 1, 8, 8, generator=data) * 2 - 1
        z = torch.randn(BATCH, 8, generator=data)
        train_step(step, real[share], z[share])
    return {f"{k}.{n}": t.detach().clone() for k in ("G", "D") for n, t in getattr(nets, k).state_dict().items()}


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    info = dist_glue.init(dist_glue.DistInfo(rank, world, rank), torch.device("cpu"))
    results = {name: _train(case, info) for name, case in CASES.items()}
    if rank == 0:
        torch.save(results, os.path.join(out, "ranks.pt"))
    dist_glue.cleanup(info)


def test_two_ranks_with_r1_match_one_process_with_the_combined_batch(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    two = torch.load(tmp_path / "ranks.pt", weights_only=True)
    torch.set_num_threads(1)
    for name, case in CASES.items():
        one = _train(case, dist_glue.DistInfo())
        for key, value in one.items():
            if key.endswith("w_avg"):   # a running mean of rank 0's ws (DDP broadcasts buffers): no weight
                continue
            torch.testing.assert_close(two[name][key], value, rtol=1e-4, atol=1e-5, msg=f"{name}: {key}")
        # R1 (and R2) changed the result, so agreeing is not trivially true
        without = _train({**case, "r1_gamma": 0.0}, dist_glue.DistInfo())
        assert any(not torch.allclose(without[k], one[k], rtol=1e-4, atol=1e-5)
                   for k in one if k.startswith("D.")), name
