"""Training throughput: our DCGAN-64 step vs the pytorch/examples DCGAN loop, in one run.

    python bench/train_throughput.py [--device cpu|cuda] [--steps 30] [--rounds 3] [--threads N]

The peer is pytorch/examples' `dcgan/main.py` re-created here: the same Generator and
Discriminator (ngf = ndf = 64, nz = 100, BatchNorm, Sigmoid + BCELoss), the same
weights_init, Adam(lr 2e-4, betas 0.5/0.999), batch 64, and its training loop verbatim
(real and fake D passes with separate backward calls, `.item()` on every loss, the G
step through D's full backward). Its images come from a DataLoader over the same
in-memory tensor (more generous to it than decoding files as the example does).

Ours is `trainer.loop.iter_train` itself (preset dcgan-64), measured between its own
tick events: the same architecture, losses (BCE-with-logits = Sigmoid + BCE), optimiser
and batch, plus our EMA generator update, which the peer does not do. It runs twice per
round: as the trainer runs by default (bfloat16 autocast where the device runs bf16
natively: an Ampere+ GPU, or a CPU with AVX512-BF16/AMX) and with --no-amp (float32
throughout, as the peer), so that the gain from the loop alone is visible too.

Both read the twemoji images (4,009, resized to 64x64 RGB) on the same device. Rounds
alternate peer / ours so that other load on the machine hits both alike; the figure is
the median over rounds of img/s, and the ratio of medians.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.config import from_preset  # noqa: E402
from trainer.data import load_dataset  # noqa: E402
from trainer.loop import bf16_native, iter_train  # noqa: E402

NZ, NGF, NDF, NC, BATCH = 100, 64, 64, 3, 64


# ------------------------------------------------------------ pytorch/examples dcgan/main.py

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 8), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 4), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def peer_round(images_u8: torch.Tensor, device: torch.device, steps: int, warmup: int) -> float:
    """The example's loop for warmup + steps iterations; img/s over the timed steps."""
    torch.manual_seed(0)
    data = images_u8.float().div(127.5).sub(1)          # transforms.Normalize((.5,)*3, (.5,)*3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=BATCH,
                                         shuffle=True, drop_last=True, num_workers=0)
    netG = Generator().to(device)
    netG.apply(weights_init)
    netD = Discriminator().to(device)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    real_label, fake_label = 1.0, 0.0
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    it, n, t0 = 0, 0, None
    while True:
        for (real,) in loader:
            if it == warmup:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = real.to(device)
            batch_size = real_cpu.size(0)
            label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = torch.randn(batch_size, NZ, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            # (2) Update G network: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            _ = (errD.item(), errG.item(), D_x, D_G_z1, D_G_z2)   # the example prints these
            it += 1
            if it > warmup:
                n += batch_size
            if it == warmup + steps:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                return n / (time.perf_counter() - t0)


def timed_run(preset: str, steps: int, warmup: int, **overrides) -> float:
    """img/s of our loop (iter_train) on `preset`, timed between its tick events after
    `warmup` steps (ticks come every `warmup` steps; nothing is saved in between)."""
    with tempfile.TemporaryDirectory() as tmp:
        batch = from_preset(preset, **overrides).batch
        cfg = from_preset(preset, out=str(Path(tmp) / "run"), kimg=(warmup + steps) * batch / 1000,
                          tick_kimg=warmup * batch / 1000, tick_seconds=1e9, snap_kimg=1e6, grid_size=4,
                          progress=False, keep=1, final_metrics=False, **overrides)
        at = {e["step"]: (time.perf_counter(), e["kimg"]) for e in iter_train(cfg) if e["type"] == "tick"}
        (t0, k0), (t1, k1) = at[warmup], at[warmup + steps]
        return (k1 - k0) * 1000 / (t1 - t0)


def ours_round(device: torch.device, steps: int, warmup: int, threads: int, amp: bool) -> float:
    return timed_run("dcgan-64", steps, warmup, data="twemoji", device=device.type, threads=threads, amp=amp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=30, help="timed steps per round (multiple of --warmup)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    a = ap.parse_args()
    if a.steps % a.warmup:
        ap.error("--steps must be a multiple of --warmup (ours is timed between its ticks)")
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    images = load_dataset("twemoji", 64, 3).images
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"batch {BATCH}, {a.rounds} rounds x {a.steps} steps")
    amp = bf16_native(device)
    print("bfloat16 autocast (ours, default): " + ("on: the device runs bf16 natively" if amp else
                                                   "off: the device has no native bf16"))
    peer, ours, ours32 = [], [], []
    for r in range(a.rounds):
        peer.append(peer_round(images, device, a.steps, a.warmup))
        ours.append(ours_round(device, a.steps, a.warmup, a.threads, amp=True))
        ours32.append(ours_round(device, a.steps, a.warmup, a.threads, amp=False))
        print(f"round {r + 1}: pytorch/examples {peer[-1]:7.1f} img/s   ours {ours[-1]:7.1f} img/s "
              f"x{ours[-1] / peer[-1]:.2f}   ours --no-amp {ours32[-1]:7.1f} img/s x{ours32[-1] / peer[-1]:.2f}",
              flush=True)
    mp, mo, m32 = statistics.median(peer), statistics.median(ours), statistics.median(ours32)
    print(f"median: pytorch/examples DCGAN {mp:.1f} img/s, ours {mo:.1f} img/s (x{mo / mp:.2f}), "
          f"ours --no-amp {m32:.1f} img/s (x{m32 / mp:.2f})")


if __name__ == "__main__":
    main()
