"""Projection of a real image into the latent space: find ws with G(ws) ≈ the image.

    target = load_target(path, G.img_resolution, G.img_channels)     # [1, C, R, R] in [-1, 1]
    for ev in project(G, target, ProjectConfig(steps=200), E=model.E, D=model.D, cancel=...):
        show(ev.image, ev.psnr)                                       # ev.done on the last one

What is optimised:
  * DCGAN: z (kept inside the prior's ball). The start is iGAN's hybrid when an inversion
    encoder E is stored with the checkpoint (E(image) is the first guess, by default the
    only start); otherwise the `starts` best of `pool` seeded random z by the same cost,
    optimised as a batch, the best winning.
  * StyleGAN: w (or w+), starting from E's guess or w_avg, with StyleGAN2's projector
    schedule (Karras et al. 2020, appendix D): learning-rate ramp, decaying noise added to
    w, and — when the synthesis has constant noise buffers (`noise_const`) — those noise
    maps optimised too, with the multi-scale autocorrelation penalty that keeps them noise.

The image cost: pixel MSE + MSE of a Gaussian pyramid (1/2, 1/4, 1/8) — coarse structure
first — + the relative squared distance of the discriminator's intermediate features when
the checkpoint holds a D (`D.features(x)` if it has one, else its activations by hooks). There is no
pretrained perceptual network (VGG/LPIPS) here: no download is allowed at run time.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models.protocol import GeneratorBase
from .optim_shared import has_batch_statistics, is_cancelled, resolve_space, w_std


@dataclass
class ProjectConfig:
    steps: int = 150              # Adam steps
    starts: int = 2               # latents optimised side by side; the best wins
    encoder_starts: int = 1       # starts when E gives a first guess (iGAN's hybrid: E's guess alone)
    pool: int = 256               # DCGAN: random z scored to choose the starts (0: just seeded draws)
    lr: float = 0.1               # DCGAN z learning rate (cosine-decayed to lr/20)
    lr_w: float = 0.1             # StyleGAN w learning rate (NVIDIA projector's initial_learning_rate)
    space: str = "auto"           # 'z' (DCGAN), 'w' or 'w+' (StyleGAN)
    scales: int = 3               # pyramid levels below full resolution in the cost
    lambda_pyramid: float = 0.1   # weight of the pyramid terms (each level)
    lambda_features: float = 0.05 # weight of the D-feature distance (relative, averaged over layers) when D exists
    lambda_prior: float = 1e-3    # DCGAN: weight of (|z|^2/z_dim - 1)^2, soft pull to the shell
    optimize_noise: bool = True   # StyleGAN: optimise the constant noise maps too
    noise_weight: float = 1e5     # StyleGAN: noise regularisation (NVIDIA regularize_noise_weight)
    initial_noise_factor: float = 0.05   # StyleGAN: w noise at the start, times w std
    noise_ramp_length: float = 0.75      # fraction of the steps over which that noise decays
    lr_rampup: float = 0.05              # fraction of the steps for the lr warm-up
    lr_rampdown: float = 0.25            # fraction of the steps for the lr cool-down
    seed: int = 0                 # seeds the random starts and the w noise
    report_every: int = 1         # yield progress every n steps

    def validate(self) -> list[str]:
        problems = []
        if self.steps < 1:
            problems.append("steps must be at least 1")
        if self.starts < 1 or self.encoder_starts < 1:
            problems.append("starts and encoder_starts must be at least 1")
        if self.pool < 0:
            problems.append("pool must not be negative")
        if self.space not in ("auto", "z", "w", "w+"):
            problems.append("space must be auto, z, w or w+")
        if self.report_every < 1:
            problems.append("report_every must be at least 1")
        return problems


@dataclass
class ProjectProgress:
    step: int                     # Adam updates done
    steps: int
    loss: float                   # cost of the best start at this step
    psnr: float                   # dB of the best start against the target ([-1, 1] range, peak 2)
    ws: np.ndarray                # [1, num_ws, w_dim] best so far
    image: np.ndarray             # [1, C, H, W] its image
    elapsed: float                # seconds since the generator started
    done: bool = False
    cancelled: bool = False
    noise: dict[str, np.ndarray] = field(default_factory=dict)   # optimised noise maps (StyleGAN)


# ---------------------------------------------------------------- the target image

def load_target(image, resolution: int, channels: int) -> np.ndarray:
    """A path, PIL image or [H, W, 3|1] uint8 array -> [1, C, R, R] float32 in [-1, 1].

    Centre-cropped to a square, resized with Lanczos, turned grey (luma) for 1-channel models.
    """
    from PIL import Image, ImageOps
    if isinstance(image, (str, os.PathLike)):
        try:
            with Image.open(image) as im:
                im.load()
                img = ImageOps.exif_transpose(im)
        except OSError as e:
            raise ValueError(f"{os.fspath(image)}: not an image that can be opened ({e})") from None
    elif isinstance(image, np.ndarray):
        a = image if image.ndim == 3 else image[..., None]
        if a.dtype != np.uint8:
            raise ValueError("image arrays must be uint8 [H, W, C]")
        img = Image.fromarray(a[..., 0] if a.shape[2] == 1 else a[..., :3])
    else:
        img = image
    img = img.convert("RGB")
    w, h = img.size
    s = min(w, h)
    img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    img = img.resize((resolution, resolution), Image.LANCZOS)
    if channels == 1:
        img = img.convert("L")
    a = np.asarray(img, np.float32) / 127.5 - 1
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return a[None].astype(np.float32)


def psnr(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2), after clipping x to that range."""
    x = torch.as_tensor(x).float().clamp(-1, 1)
    y = torch.as_tensor(y).float()
    mse = float(((x - y) ** 2).mean())
    return 10 * math.log10(4 / max(mse, 1e-12))


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two 8-bit images as shown on screen (peak 255); inf when identical."""
    if np.shape(a) != np.shape(b) or np.size(a) == 0:
        raise ValueError(f"images must have one shape, got {np.shape(a)} and {np.shape(b)}")
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    mse = float(np.mean(d * d))
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


# ---------------------------------------------------------------- costs

def _pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Gaussian-ish pyramid (2x2 box then halve): [x/2, x/4, ...] down to 4 px."""
    out = []
    for _ in range(levels):
        if x.shape[-1] <= 4:
            break
        x = F.avg_pool2d(x, 2)
        out.append(x)
    return out


FEATURE_MODULES = ("LeakyReLU", "DiscriminatorBlock")   # D layers whose outputs are compared


def discriminator_features(D: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """D's intermediate activations for x: `D.features(x)` when D has it, else the outputs
    of its LeakyReLU layers (DCGAN D) or residual blocks (StyleGAN2 D), caught by hooks.
    Images go through D one by one when D uses minibatch statistics."""
    if hasattr(D, "features"):
        return list(D.features(x))
    if len(x) > 1 and has_batch_statistics(D):
        per = [discriminator_features(D, x[i:i + 1]) for i in range(len(x))]
        return [torch.cat(fs) for fs in zip(*per)]
    feats: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: feats.append(out.clone()))
             for m in D.modules() if type(m).__name__ in FEATURE_MODULES]
    try:
        D(x)
    finally:
        for h in hooks:
            h.remove()
    return feats


class ImageCost(nn.Module):
    """Per-sample cost [N] of G's images against one target [1, C, H, W]."""

    def __init__(self, target: torch.Tensor, cfg: ProjectConfig, D: nn.Module | None):
        super().__init__()
        self.cfg = cfg
        self.target = target
        self.target_pyr = _pyramid(target, cfg.scales)
        self.D = D if (D is not None and cfg.lambda_features > 0) else None
        if self.D is not None:
            with torch.no_grad():
                self.target_feats = [f.detach() for f in discriminator_features(self.D, target)]
            # Each layer's error relative to the target's own energy there: layers weigh alike.
            self.feat_scale = [1.0 / float(t.square().mean().clamp_min(1e-8)) for t in self.target_feats]
            if not self.target_feats:
                self.D = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cost = ((x - self.target) ** 2).mean(dim=(1, 2, 3))
        for xp, tp in zip(_pyramid(x, self.cfg.scales), self.target_pyr):
            cost = cost + self.cfg.lambda_pyramid * ((xp - tp) ** 2).mean(dim=(1, 2, 3))
        if self.D is not None:
            feats = discriminator_features(self.D, x)
            n = len(feats)
            for f, t, k in zip(feats, self.target_feats, self.feat_scale):
                err = ((f - t) ** 2).reshape(len(f), -1).mean(1)
                cost = cost + self.cfg.lambda_features / n * k * err
        return cost


def _noise_buffers(G: GeneratorBase) -> dict[str, torch.Tensor]:
    """StyleGAN's per-layer constant noise maps, by NVIDIA's buffer name 'noise_const'."""
    return {name: buf for name, buf in G.named_buffers() if "noise_const" in name}


def noise_regularisation(noises: list[torch.Tensor]) -> torch.Tensor:
    """StyleGAN2 projector: squared autocorrelation at 1-px shifts, over a pyramid of each map."""
    reg = torch.zeros((), device=noises[0].device)
    for v in noises:
        noise = v[None, None] if v.ndim == 2 else v
        while True:
            reg = reg + (noise * torch.roll(noise, shifts=1, dims=3)).mean() ** 2
            reg = reg + (noise * torch.roll(noise, shifts=1, dims=2)).mean() ** 2
            if noise.shape[2] <= 8:
                break
            noise = F.avg_pool2d(noise, kernel_size=2)
    return reg


# ---------------------------------------------------------------- projection

def project(G: GeneratorBase, target: np.ndarray, cfg: ProjectConfig | None = None,
            E: nn.Module | None = None, D: nn.Module | None = None,
            cancel: Callable[[], bool] | None = None,
            c: np.ndarray | None = None) -> Iterator[ProjectProgress]:
    """Optimise ws so that G(ws) matches target [1, C, R, R] (in [-1, 1]); yields progress.

    E: inversion encoder (image -> ws [N, num_ws, w_dim]) for the first guess. D: its
    `features(x)` join the cost when present. c: class label [1, c_dim] for a conditional DCGAN.
    """
    cfg = cfg or ProjectConfig()
    problems = cfg.validate()
    if problems:
        raise ValueError("; ".join(problems))
    t0 = time.perf_counter()
    dev = G.w_avg.device
    tgt = torch.as_tensor(np.asarray(target, np.float32), device=dev)
    expect = (1, G.img_channels, G.img_resolution, G.img_resolution)
    if tuple(tgt.shape) != expect:
        raise ValueError(f"target must be {list(expect)} (use load_target), got {list(tgt.shape)}")
    styles = G.has_styles
    label = None
    if G.c_dim and not styles:
        if c is None:
            raise ValueError(f"this model is conditional: give the class label c [1, {G.c_dim}]")
        label = torch.as_tensor(np.asarray(c, np.float32), device=dev).reshape(1, G.c_dim)
    requires = [p.requires_grad for p in G.parameters()]
    G.requires_grad_(False)
    if D is not None:
        D.requires_grad_(False)
    saved_noise = {k: v.detach().clone() for k, v in _noise_buffers(G).items()} if styles else {}
    try:
        with torch.enable_grad():
            cost_fn = ImageCost(tgt, cfg, D)
            if styles:
                yield from _project_w(G, tgt, cfg, cost_fn, E, cancel, t0)
            else:
                yield from _project_z(G, tgt, cfg, cost_fn, E, cancel, t0, label)
    finally:
        with torch.no_grad():   # the caller's G keeps its own noise maps (the window passes a job copy)
            for k, buf in _noise_buffers(G).items():
                if k in saved_noise:
                    buf.copy_(saved_noise[k])
        for p, r in zip(G.parameters(), requires):
            p.requires_grad_(r)


def _encoder_guess(E: nn.Module | None, tgt: torch.Tensor, G: GeneratorBase) -> torch.Tensor | None:
    if E is None:
        return None
    with torch.no_grad():
        ws = E(tgt)
    ws = ws.reshape(1, -1, G.w_dim)
    if ws.shape[1] == 1 and G.num_ws > 1:
        ws = ws.expand(-1, G.num_ws, -1)
    if ws.shape[1] != G.num_ws:
        raise ValueError(f"the encoder returns {ws.shape[1]} latents per image; the model needs {G.num_ws}")
    return ws.float()


def _project_z(G, tgt, cfg: ProjectConfig, cost_fn, E, cancel, t0, label) -> Iterator[ProjectProgress]:
    dev = tgt.device
    d = G.z_dim
    gen = torch.Generator().manual_seed(int(cfg.seed))

    def ws_of(z: torch.Tensor) -> torch.Tensor:
        w = torch.cat([z, label.expand(len(z), -1)], dim=1) if label is not None else z
        return w[:, None, :]

    cands = []
    guess = _encoder_guess(E, tgt, G)
    starts = cfg.starts
    if guess is not None:
        cands.append(guess[:, 0, :d])
        starts = cfg.encoder_starts
    n_random = starts - len(cands)
    if n_random > 0:
        with torch.no_grad():
            # Score a seeded pool of random z by the image cost and keep the best as starts.
            pool = torch.randn(max(cfg.pool, n_random), d, generator=gen).to(dev)
            if cfg.pool > n_random:
                scores = torch.cat([cost_fn(G.synthesis(ws_of(pool[i:i + 64])))
                                    for i in range(0, len(pool), 64)])
                pool = pool[torch.argsort(scores)]
            cands.append(pool[:n_random])
    z = torch.cat(cands).clone().requires_grad_(True)
    cap = math.sqrt(d) + 3 * math.sqrt(0.5)
    opt = torch.optim.Adam([z], lr=cfg.lr)
    best = (math.inf, None, None)
    for step in range(cfg.steps + 1):
        stop = step == cfg.steps or is_cancelled(cancel)
        ws = ws_of(z)
        x = G.synthesis(ws)
        cost = cost_fn(x)
        total = cost + cfg.lambda_prior * ((z * z).mean(1) - 1) ** 2
        cost = cost.detach()
        b = int(torch.argmin(cost))
        if float(cost[b]) < best[0]:
            best = (float(cost[b]), ws[b:b + 1].detach().cpu().numpy().copy(),
                    x[b:b + 1].detach().cpu().numpy().copy())
        if stop or step % cfg.report_every == 0:
            ev = ProjectProgress(step, cfg.steps, float(cost[b]), psnr(x[b:b + 1].detach(), tgt),
                                 ws[b:b + 1].detach().cpu().numpy().copy(), x[b:b + 1].detach().cpu().numpy().copy(),
                                 time.perf_counter() - t0)
            if stop:
                ev.loss, ev.ws, ev.image = best
                ev.psnr = psnr(best[2], tgt.cpu())
                ev.done, ev.cancelled = True, step < cfg.steps
                yield ev
                return
            yield ev
        opt.zero_grad(set_to_none=True)
        total.sum().backward()
        t = step / cfg.steps
        for g in opt.param_groups:
            g["lr"] = cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))
        opt.step()
        with torch.no_grad():   # stay inside the prior's ball
            n = z.norm(dim=1, keepdim=True)
            z.copy_(torch.where(n > cap, z * (cap / n), z))


def _project_w(G, tgt, cfg: ProjectConfig, cost_fn, E, cancel, t0) -> Iterator[ProjectProgress]:
    """StyleGAN2's projector (NVIDIA projector.py), with our image cost instead of LPIPS."""
    dev = tgt.device
    gen = torch.Generator().manual_seed(int(cfg.seed))
    w_spread = float(w_std(G, cfg.seed, 10_000).pow(2).sum().sqrt())   # NVIDIA: sqrt(sum var) over w
    guess = _encoder_guess(E, tgt, G)
    start = guess if guess is not None else G.w_avg.reshape(1, 1, -1).expand(1, G.num_ws, -1)
    space = cfg.space if cfg.space in ("w", "w+") else ("w" if guess is None else
                                                         resolve_space(G, start, "auto"))
    if space == "w":
        w_opt = start[:, :1].detach().clone()                     # [1, 1, w_dim]
    else:
        w_opt = start.detach().clone()                            # [1, num_ws, w_dim]
    w_opt = w_opt.expand(cfg.starts, -1, -1).clone()
    if cfg.starts > 1:   # further starts: seeded offsets of one w std / sqrt(w_dim) per dim
        off = torch.randn(cfg.starts - 1, *w_opt.shape[1:], generator=gen).to(dev)
        w_opt[1:] += off * w_spread / math.sqrt(G.w_dim)
    w_opt.requires_grad_(True)
    noise_bufs = _noise_buffers(G) if cfg.optimize_noise else {}
    with torch.no_grad():
        for buf in noise_bufs.values():
            buf.copy_(torch.randn(buf.shape, generator=gen).to(buf.device))
    noises = list(noise_bufs.values())
    for buf in noises:
        buf.requires_grad_(True)
    opt = torch.optim.Adam([w_opt] + noises, betas=(0.9, 0.999), lr=cfg.lr_w)
    best = (math.inf, None, None)
    try:
        for step in range(cfg.steps + 1):
            stop = step == cfg.steps or is_cancelled(cancel)
            t = step / cfg.steps
            w_noise_scale = w_spread * cfg.initial_noise_factor * max(0.0, 1.0 - t / cfg.noise_ramp_length) ** 2
            lr_ramp = min(1.0, (1.0 - t) / cfg.lr_rampdown)
            lr_ramp = 0.5 - 0.5 * math.cos(lr_ramp * math.pi)
            lr_ramp = lr_ramp * min(1.0, t / cfg.lr_rampup) if cfg.lr_rampup > 0 else lr_ramp
            for g in opt.param_groups:
                g["lr"] = cfg.lr_w * lr_ramp
            clean = w_opt.expand(-1, G.num_ws, -1) if space == "w" else w_opt
            if stop:
                ws_in = clean
            else:
                ws_in = clean + torch.randn(clean.shape, generator=gen).to(dev) * w_noise_scale
            x = G.synthesis(ws_in, noise_mode="const")
            cost = cost_fn(x)
            reg = noise_regularisation(noises) if noises else torch.zeros((), device=dev)
            loss = cost.sum() + cfg.noise_weight * reg
            cost = cost.detach()
            b = int(torch.argmin(cost))
            if stop or step % cfg.report_every == 0 or float(cost[b]) < best[0]:
                with torch.no_grad():
                    xc = x if stop or w_noise_scale == 0 else G.synthesis(clean[b:b + 1], noise_mode="const")
                xb = xc[b:b + 1] if len(xc) > 1 else xc
                if float(cost[b]) < best[0]:
                    best = (float(cost[b]), clean[b:b + 1].detach().cpu().numpy().copy(),
                            xb.detach().cpu().numpy().copy())
                if stop or step % cfg.report_every == 0:
                    ev = ProjectProgress(step, cfg.steps, float(cost[b]), psnr(xb.detach(), tgt),
                                         clean[b:b + 1].detach().cpu().numpy().copy(), xb.detach().cpu().numpy().copy(),
                                         time.perf_counter() - t0)
                    if stop:
                        # The final, noise-free evaluation is the result (the noisy w of
                        # earlier steps is not a fair comparison).
                        ev.done, ev.cancelled = True, step < cfg.steps
                        ev.noise = {k: v.detach().cpu().numpy().copy() for k, v in noise_bufs.items()}
                        yield ev
                        return
                    yield ev
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():   # NVIDIA: renormalise the noise maps after every step
                for buf in noises:
                    buf -= buf.mean()
                    buf *= buf.square().mean().rsqrt()
    finally:
        for buf in noises:
            buf.requires_grad_(False)


def run_projection(G: GeneratorBase, target: np.ndarray, cfg: ProjectConfig | None = None,
                   E: nn.Module | None = None, D: nn.Module | None = None,
                   cancel: Callable[[], bool] | None = None,
                   on_progress: Callable[[ProjectProgress], None] | None = None,
                   c: np.ndarray | None = None) -> ProjectProgress:
    """Drive `project` to the end; returns the last event (the result)."""
    last = None
    for ev in project(G, target, cfg, E, D, cancel, c):
        if on_progress is not None:
            on_progress(ev)
        last = ev
    assert last is not None
    return last
