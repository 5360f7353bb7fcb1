"""Train an inversion encoder E (image -> latent) for a trained generator, on its own samples.

    python -m trainer.encoder CKPT --out CKPT2 [--kimg N] [--batch 64] [--device auto]

iGAN (Zhu et al. 2016, sec. 3.2) projects a real image by optimisation started from a
feed-forward network's guess. E is trained on pairs (G(w), w) the generator makes itself:
w = mapping(z), z ~ N(0, I) seeded; the cost is the latent error plus the image error of
the reconstruction G(E(G(w))) (`--lambda-image`). The result is written as a native
checkpoint holding the same G (and D when there is one) plus E, so opening it in the app
turns on encoder-started projection.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from ganexplorer.models.encoder import LatentEncoder


@dataclass
class EncoderConfig:
    ckpt: str                     # the trained generator's checkpoint (any readable format)
    out: str                      # where to write the checkpoint with E (.safetensors)
    kimg: float = 50.0            # thousands of generated images to train on
    batch: int = 64               # images per step
    lr: float = 1e-3              # Adam learning rate (cosine-decayed to lr/20)
    lambda_image: float = 1.0     # weight of the reconstruction image error |G(E(x)) - x|^2
    wplus: bool = False           # StyleGAN: predict one w per layer (w+) instead of one w
    nef: int = 32                 # E's first-layer channels
    psi: float = 1.0              # truncation of the training samples
    seed: int = 0                 # seeds z and E's initial weights
    device: str = "auto"          # 'auto' | 'cpu' | 'cuda'

    def validate(self) -> list[str]:
        problems = []
        if not Path(self.ckpt).exists():
            problems.append(f"CKPT {self.ckpt}: no such file")
        if Path(self.out).suffix.lower() != ".safetensors":
            problems.append(f"--out {self.out}: the file name must end in .safetensors")
        elif not Path(self.out).resolve().parent.exists():
            problems.append(f"--out {self.out}: the folder does not exist")
        if not 0 < self.kimg <= 100_000:
            problems.append("--kimg must be between 0 and 100000")
        if not 1 <= self.batch <= 4096:
            problems.append("--batch must be between 1 and 4096")
        if self.lr <= 0:
            problems.append("--lr must be positive")
        if self.lambda_image < 0:
            problems.append("--lambda-image must not be negative")
        if self.device not in ("auto", "cpu", "cuda"):
            problems.append("--device must be auto, cpu or cuda")
        elif self.device == "cuda" and not torch.cuda.is_available():
            problems.append("--device cuda: no CUDA GPU is available")
        return problems


@dataclass
class EncoderEvent:
    step: int                 # optimisation steps done
    steps: int                # planned steps
    kimg: float               # images seen / 1000
    loss_latent: float        # mean squared latent error (this batch)
    loss_image: float         # mean squared image error of the reconstruction
    elapsed: float            # seconds
    done: bool = False
    path: str | None = None   # the checkpoint written (on the last event)


def iter_train_encoder(cfg: EncoderConfig, cancel: Callable[[], bool] | None = None) -> Iterator[EncoderEvent]:
    """Train E, yielding an event per step; the last event (done) names the file written."""
    from ganexplorer.models.checkpoint import save_checkpoint
    from ganexplorer.models.registry import load_model
    problems = cfg.validate()
    if problems:
        raise ValueError("; ".join(problems))
    t0 = time.perf_counter()
    dev = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if cfg.device == "auto" else cfg.device))
    model = load_model(cfg.ckpt)
    G = model.G.to(dev).eval().requires_grad_(False)
    num_ws = G.num_ws if (cfg.wplus and G.has_styles) else 1
    torch.manual_seed(cfg.seed)
    E = LatentEncoder(G.img_resolution, G.img_channels, G.w_dim, num_ws, nef=cfg.nef).to(dev)
    with torch.no_grad():   # start at the centre of W: the last layer's bias = w_avg
        E.fc[-1].bias.copy_(G.w_avg.repeat(num_ws))
    gen = torch.Generator().manual_seed(cfg.seed)
    steps = max(1, int(math.ceil(cfg.kimg * 1000 / cfg.batch)))
    opt = torch.optim.Adam(E.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    step = 0
    for step in range(1, steps + 1):
        if cancel is not None and cancel():
            return
        with torch.no_grad():
            z = torch.randn(cfg.batch, G.z_dim, generator=gen).to(dev)
            c = None
            if G.c_dim:
                idx = torch.randint(G.c_dim, (cfg.batch,), generator=gen)
                c = F.one_hot(idx, G.c_dim).float().to(dev)
            ws = G.mapping(z, c, psi=cfg.psi)                        # [B, num_ws, w_dim]
            x = G.synthesis(ws)                                      # [B, C, H, W]
        target = ws if num_ws > 1 else ws[:, :1]
        pred = E(x)                                                  # [B, num_ws_E, w_dim]
        loss_latent = F.mse_loss(pred, target)
        loss = loss_latent
        loss_image = torch.zeros((), device=dev)
        if cfg.lambda_image > 0:
            ws_pred = pred if num_ws > 1 else pred.expand(-1, G.num_ws, -1)
            if G.c_dim and not G.has_styles:   # a DCGAN keeps its label
                ws_pred = torch.cat([ws_pred[..., :G.z_dim], ws[..., G.z_dim:]], dim=2)
            loss_image = F.mse_loss(G.synthesis(ws_pred), x)
            loss = loss + cfg.lambda_image * loss_image
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for g in opt.param_groups:
            g["lr"] = cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        opt.step()
        ev = EncoderEvent(step, steps, step * cfg.batch / 1000, float(loss_latent.detach()), float(loss_image.detach()),
                          time.perf_counter() - t0)
        if step < steps:
            yield ev
    nets = {"G": model.G.cpu()}
    if model.D is not None and hasattr(model.D, "config"):
        nets["D"] = model.D.cpu()
    nets["E"] = E.cpu().eval().requires_grad_(False)
    info = dict(model.info)
    info.setdefault("name", model.path.stem)
    info["encoder"] = {"trained_on": "generated samples", "kimg": cfg.kimg, "batch": cfg.batch,
                       "lambda_image": cfg.lambda_image, "psi": cfg.psi, "seed": cfg.seed,
                       "num_ws": num_ws, "from_checkpoint_sha256": model.sha256,
                       "final_loss_latent": ev.loss_latent, "final_loss_image": ev.loss_image}
    save_checkpoint(cfg.out, nets, info)
    ev.done, ev.path = True, str(cfg.out)
    yield ev


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.encoder",
                                description="Train an inversion encoder E for a checkpoint's generator.")
    p.add_argument("ckpt", metavar="CKPT")
    p.add_argument("--out", required=True, help="output checkpoint (.safetensors) with G, D and E")
    p.add_argument("--kimg", type=float, default=EncoderConfig.kimg)
    p.add_argument("--batch", type=int, default=EncoderConfig.batch)
    p.add_argument("--lr", type=float, default=EncoderConfig.lr)
    p.add_argument("--lambda-image", type=float, default=EncoderConfig.lambda_image)
    p.add_argument("--wplus", action="store_true", help="StyleGAN: predict w+ (one w per layer)")
    p.add_argument("--psi", type=float, default=EncoderConfig.psi)
    p.add_argument("--seed", type=int, default=EncoderConfig.seed)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and stop")
    a = p.parse_args(argv)
    cfg = EncoderConfig(a.ckpt, a.out, a.kimg, a.batch, a.lr, a.lambda_image, a.wplus, psi=a.psi,
                        seed=a.seed, device=a.device)
    problems = cfg.validate()
    if problems:
        for msg in problems:
            sys.stderr.write(f"trainer.encoder: error: {msg}\n")
        return 2
    if a.dry_run:
        print(cfg)
        return 0
    from ganexplorer.models.errors import CheckpointError
    try:
        last_print = 0.0
        for ev in iter_train_encoder(cfg):
            if ev.done or ev.elapsed - last_print > 5:
                last_print = ev.elapsed
                print(f"step {ev.step}/{ev.steps}  kimg {ev.kimg:.1f}  latent {ev.loss_latent:.4f}  "
                      f"image {ev.loss_image:.4f}  {ev.elapsed:.0f}s", flush=True)
            if ev.done:
                print(f"wrote {ev.path}")
    except CheckpointError as e:
        sys.stderr.write(f"trainer.encoder: error: {e}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
