"""The training loop. `iter_train(cfg)` is a generator of events (see events.py); `train(cfg)`
drives it with a progress bar and signal handling.

One step = one D update then one G update on the same fakes (pytorch/examples' DCGAN
order; StyleGAN2 uses the same schedule with lazy R1 and style mixing). Per step the host
never waits on the device: batches are drawn on the device, losses are accumulated in
device tensors and read only at ticks (every --tick-kimg or --tick-seconds).

Files in the run directory (only rank 0 writes):
  config.json                         the resolved TrainConfig
  events.jsonl                        the event log (contract in events.py)
  samples/grid-<kimg>.png             G_ema on fixed latents: seeds 0..grid_size-1
  network-snapshot-<kimg>.safetensors native checkpoint for the app: {G: EMA G, D};
                                      <kimg> is whole kimg ("000120"), or "000120.064"
                                      for a second snapshot within the same kimg
  resume-<step>.pt                    everything to continue: G, D, G_ema, optimisers,
                                      augment p, RNG states, data order, step, nimg
All writes are atomic; the last --keep snapshots and resume states are kept.
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Generator

import numpy as np
import torch
from torch import nn

from ganexplorer.atomic import atomic_path
from ganexplorer.models.checkpoint import save_checkpoint
from ganexplorer.models.dcgan import DCGANGenerator
from ganexplorer.models.discriminator import DCGANDiscriminator, StyleGAN2Discriminator

from . import distributed as dist_glue
from . import events as ev
from . import losses
from .augment import Augment
from .config import TrainConfig
from .data import BatchSource, Dataset, DatasetError, load_dataset

RESUME_GLOB = "resume-*.pt"
SNAP_GLOB = "network-snapshot-*.safetensors"


class TrainError(Exception):
    """A run cannot start or continue; the message says why and what to do."""


class SaveError(Exception):
    """Writing `path` failed with OSError `error` (full disk, permissions); nothing partial remains."""

    def __init__(self, path: Path, error: OSError):
        super().__init__(f"{path.name}: {error}")
        self.path, self.error = path, error


# ------------------------------------------------------------------ setup helpers

def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise TrainError("--device cuda: no CUDA GPU is available to this PyTorch build; use --device cpu")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise TrainError("--device mps: Apple's Metal backend is not available here; use --device cpu")
    return torch.device(name)


def bf16_native(device: torch.device) -> bool:
    """Whether bfloat16 matmuls/convolutions run natively (and so faster) on `device`.

    CUDA: Ampere or newer. CPU: oneDNN's bf16 kernels need AVX512-BF16 or AMX; elsewhere
    bf16 is emulated and slower than float32, so mixed precision stays off.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return False


def amp_enabled(cfg: TrainConfig, device: torch.device) -> bool:
    """bfloat16 autocast for this run: --amp (the default) where the device runs bf16 natively.

    Weights, optimiser state and losses stay float32. Measured on an AVX512-BF16 CPU: DCGAN
    1.6x per step (bench/train_throughput.py), StyleGAN2 1.2x (bench/train_amp_stylegan2.py).
    """
    return cfg.amp and bf16_native(device)


def _dcgan_init(m: nn.Module) -> None:
    """pytorch/examples' weights_init: convs N(0, 0.02), BatchNorm N(1, 0.02) and bias 0."""
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def build_networks(cfg: TrainConfig, img_channels: int) -> tuple[nn.Module, nn.Module]:
    if cfg.arch == "dcgan":
        G = DCGANGenerator(z_dim=cfg.z_dim, img_resolution=cfg.resolution, img_channels=img_channels,
                           ngf=cfg.ngf)
        D = DCGANDiscriminator(img_resolution=cfg.resolution, img_channels=img_channels, ndf=cfg.ndf)
        G.apply(_dcgan_init)
        D.apply(_dcgan_init)
        return G, D
    from ganexplorer.models.stylegan2 import StyleGAN2Generator
    G = StyleGAN2Generator(z_dim=cfg.z_dim, c_dim=0, w_dim=cfg.w_dim, img_resolution=cfg.resolution,
                           img_channels=img_channels,
                           mapping_kwargs=dict(num_layers=cfg.map_layers),
                           # conv_clamp 256 as in StyleGAN2-ADA: keeps activations finite.
                           synthesis_kwargs=dict(channel_base=cfg.cbase, channel_max=cfg.cmax,
                                                 conv_clamp=256))
    D = StyleGAN2Discriminator(c_dim=0, img_resolution=cfg.resolution, img_channels=img_channels,
                               channel_base=cfg.cbase, channel_max=cfg.cmax,
                               mbstd_group_size=min(4, cfg.batch))
    return G, D


class GenerateStep(nn.Module):
    """z -> fake images for training: the one module DDP wraps around G.

    StyleGAN2: with probability `style_mixing` the ws after a random cutoff come from a
    second latent z2 (style-mixing regularisation, Karras et al. 2019), so that layers
    learn to work with styles that did not come from the same w.
    """

    def __init__(self, G: nn.Module, style_mixing: float):
        super().__init__()
        self.G = G
        self.style_mixing = style_mixing

    def forward(self, z: torch.Tensor, z2: torch.Tensor | None = None,
                mix_u: torch.Tensor | None = None) -> torch.Tensor:
        G = self.G
        if G.kind == "dcgan":
            return G.synthesis(G.mapping(z))                  # [N, C, R, R]
        w = G.mapping_network(z, None)                        # [N, w_dim], updates w_avg
        ws = w.unsqueeze(1).repeat(1, G.num_ws, 1)            # [N, num_ws, w_dim]
        if self.style_mixing > 0 and z2 is not None and mix_u is not None:
            w2 = G.mapping_network(z2, None, update_w_avg=False)
            # mix_u [2] uniform: one cutoff per batch in [1, num_ws), used with prob style_mixing
            cutoff = 1 + (mix_u[0] * (G.num_ws - 1)).long().clamp(max=G.num_ws - 2)
            cutoff = torch.where(mix_u[1] < self.style_mixing, cutoff, torch.full_like(cutoff, G.num_ws))
            layer = torch.arange(G.num_ws, device=ws.device).reshape(1, -1, 1)
            ws = torch.where(layer < cutoff, ws, w2.unsqueeze(1))
        return G.synthesis_network(ws, noise_mode="random")


def grid_latents(z_dim: int, n: int) -> torch.Tensor:
    """Seeds 0..n-1 with NVIDIA's convention (RandomState(seed).randn), as the app draws them."""
    return torch.from_numpy(np.stack([np.random.RandomState(s).randn(z_dim) for s in range(n)])).float()


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


def by_kimg(path: Path) -> float:
    """Sort key for snapshots: the kimg in the name ("000120.064" -> 120.064)."""
    label = path.name.removeprefix("network-snapshot-").removesuffix(".safetensors")
    try:
        return float(label)
    except ValueError:
        return -1.0


def kimg_label(run_dir: Path, nimg: int) -> str:
    """The kimg label of files saved at `nimg`: whole kimg as NVIDIA names them ("000120"),
    with the images beyond it ("000120.064") when a snapshot within that kimg exists already
    (stopping soon after a snapshot, or --snap-kimg below 1), so none is overwritten and the
    names order as the snapshots were taken."""
    whole = nimg // 1000
    if nimg % 1000 and any(by_kimg(p) >= whole for p in run_dir.glob(SNAP_GLOB)):
        return f"{whole:06d}.{nimg % 1000:03d}"
    return f"{whole:06d}"


def find_resume(run_dir: Path) -> list[Path]:
    """Complete resume states, newest first (temporary files start with '.')."""
    return sorted(run_dir.glob(RESUME_GLOB), reverse=True)


def _disk_message(e: OSError, what: Path, last: str | None) -> str:
    why = "the disk is full" if e.errno in (errno.ENOSPC, errno.EDQUOT) else f"{e.strerror or e}"
    tail = f"the last complete checkpoint is {last}" if last else "no checkpoint was saved yet"
    return f"could not save {what.name}: {why}. Nothing partial was left; {tail}. Free space and continue with --resume."


# ------------------------------------------------------------------ the loop

def iter_train(cfg: TrainConfig, stop: Callable[[], bool] | threading.Event | None = None,
               dist: dist_glue.DistInfo | None = None) -> Generator[dict[str, Any], None, dict[str, Any]]:
    """Train according to `cfg`, yielding events; stops cleanly when `stop()` turns true.

    Raises TrainError/DatasetError before the first event for problems found while setting
    up; after "start", every ending (done, stopped, NaN, error) is an "end" event.
    """
    should_stop = (stop.is_set if isinstance(stop, threading.Event) else stop) or (lambda: False)
    dist = dist or dist_glue.from_env()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device, dist.local_rank)
    dist = dist_glue.init(dist, device)
    if cfg.batch % dist.world_size:
        raise TrainError(f"--batch {cfg.batch} must be divisible by the number of processes ({dist.world_size})")
    batch = cfg.batch // dist.world_size
    main = dist.is_main

    # ---- run directory
    resuming = bool(cfg.resume)
    run_dir = Path(cfg.resume or cfg.out).expanduser().resolve()
    resume_states: list[Path] = []
    if resuming:
        if not run_dir.is_dir():
            raise TrainError(f"--resume {cfg.resume}: no such run directory")
        resume_states = find_resume(run_dir)
        if not resume_states:
            raise TrainError(f"--resume {cfg.resume}: the run has no complete resume-*.pt state yet; "
                             "start it again with --out")
    elif main:
        if run_dir.exists() and (run_dir / "events.jsonl").exists():
            raise TrainError(f"--out {cfg.out} already holds a run; continue it with --resume {cfg.out} "
                             "or choose another --out")
        run_dir.mkdir(parents=True, exist_ok=True)
    if main:
        (run_dir / "samples").mkdir(exist_ok=True)
        for leftover in list(run_dir.glob(".*.part.*")):   # temp files of a killed save
            leftover.unlink(missing_ok=True)

    # ---- data
    ds: Dataset = load_dataset(cfg.data, cfg.resolution, cfg.channels or None, cfg.resize)
    gen = torch.Generator(device=device)
    gen.manual_seed(cfg.seed * 1000 + dist.rank)
    src = BatchSource(ds, device, batch, cfg.xflip, gen)
    mem = torch.channels_last if (cfg.channels_last and cfg.arch == "dcgan") else torch.contiguous_format

    # ---- networks, identical on every rank (DDP also broadcasts rank 0's at wrap time)
    torch.manual_seed(cfg.seed)
    G, D = build_networks(cfg, ds.channels)
    G, D = G.to(device).train(), D.to(device).train()
    if mem is torch.channels_last:
        G, D = G.to(memory_format=mem), D.to(memory_format=mem)
    G_ema = losses.make_ema(G)
    torch.manual_seed(cfg.seed * 1000 + dist.rank + 1)   # per-rank noise from here on

    # Lazy R1 changes D's effective step; StyleGAN2 compensates lr and betas (mb_ratio).
    ratio = cfg.r1_interval / (cfg.r1_interval + 1) if cfg.r1_gamma > 0 else 1.0
    fused = device.type in ("cuda", "cpu")
    opt_G = torch.optim.Adam(G.parameters(), lr=cfg.lr_G, betas=(cfg.beta1, cfg.beta2), fused=fused)
    opt_D = torch.optim.Adam(D.parameters(), lr=cfg.lr_D * ratio,
                             betas=(cfg.beta1 ** ratio, cfg.beta2 ** ratio), fused=fused)
    aug_speed = cfg.batch * cfg.ada_interval / (cfg.ada_kimg * 1000)
    aug = Augment(cfg.augment, cfg.diffaug_ops, device, gen, cfg.ada_target, aug_speed,
                  reduce=lambda t: dist_glue.all_sum(dist, t))

    step, nimg = 0, 0
    resumed_from: str | None = None
    if resuming:
        state, used = None, None
        for path in resume_states:
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
                used = path
                break
            except Exception as e:   # a damaged file: fall back to the previous one
                print(f"warning: skipping {path.name} ({type(e).__name__}: {e})")
        if state is None:
            raise TrainError(f"--resume {cfg.resume}: no resume state could be read")
        G.load_state_dict(state["G"])
        D.load_state_dict(state["D"])
        G_ema.load_state_dict(state["G_ema"])
        opt_G.load_state_dict(state["opt_G"])
        opt_D.load_state_dict(state["opt_D"])
        aug.load_state(state["augment"])
        step, nimg = int(state["step"]), int(state["nimg"])
        if dist.world_size == int(state.get("world_size", 1)):
            _set_rng_state(gen, state["rng"])
            src.load_state(state["data"])
        resumed_from = used.name

    G_step = dist_glue.wrap(GenerateStep(G, cfg.style_mixing if cfg.arch == "stylegan2" else 0.0), device, dist)
    D_ddp = dist_glue.wrap(D, device, dist)
    D_fwd, G_fwd = D_ddp, G_step
    if cfg.compile:
        D_fwd, G_fwd = torch.compile(D_ddp), torch.compile(G_step)

    use_amp = amp_enabled(cfg, device)

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16) if use_amp else contextlib.nullcontext()

    z_grid = grid_latents(cfg.z_dim, cfg.grid_size).to(device)
    total_nimg = int(round(cfg.kimg * 1000))
    log = ev.EventLog(run_dir / "events.jsonl") if main else None
    if main:
        cfg.save(run_dir / "config.json")

    def emit(event: dict[str, Any]) -> dict[str, Any]:
        if log is not None:
            log.write(event)
        return event

    last_ckpt: str | None = None
    if resuming:
        snaps = sorted(run_dir.glob(SNAP_GLOB), key=by_kimg)
        last_ckpt = snaps[-1].name if snaps else None
    info_base = {"name": run_dir.name, "kind": cfg.arch, "dataset": ds.name, "credit": ds.credit,
                 "licence": ds.licence}
    last_metrics: dict[str, Any] = {}

    # ---- per-tick accumulators (device tensors: no host sync per step)
    acc = {k: torch.zeros((), device=device) for k in ("G", "D", "r1")}
    acc_n = {"G": 0, "D": 0, "r1": 0}
    bad_step = torch.full((), -1, dtype=torch.long, device=device)

    def do_tick(now: float) -> dict[str, Any]:
        nonlocal tick_time, tick_nimg
        vals = {k: (acc[k] / max(acc_n[k], 1)).item() for k in acc}
        dt = max(now - tick_time, 1e-9)
        ips = (nimg - tick_nimg) / dt
        e = ev.make("tick", step=step, kimg=nimg / 1000, loss_G=vals["G"], loss_D=vals["D"],
                    loss_r1=vals["r1"] if cfg.r1_gamma > 0 and acc_n["r1"] else None,
                    img_per_s=ips, lr=cfg.lr_G,
                    eta_s=(total_nimg - nimg) / ips if ips > 0 else None,
                    aug_p=float(aug.p.item()) if aug.enabled else None)
        for k in acc:
            acc[k].zero_()
            acc_n[k] = 0
        tick_time, tick_nimg = now, nimg
        return e

    def weights_nonfinite() -> bool:
        return not all(torch.isfinite(p).all() for p in [*G.parameters(), *D.parameters()])

    def nonfinite() -> str | None:
        b = int(bad_step.item())
        if b >= 0:
            return f"the loss became NaN or infinite at step {b}"
        if weights_nonfinite():
            return f"the weights became NaN or infinite by step {step}"
        return None

    def nan_message(what: str) -> str:
        return (f"training stopped: {what} (kimg {nimg / 1000:g}); nothing was saved after that. "
                f"Last good checkpoint: {last_ckpt or 'none'}. Try a lower --lr-G/--lr-D or a larger "
                "--r1-gamma.")

    @torch.no_grad()
    def save_grid(label: str) -> str:
        G_ema.eval()
        imgs = torch.cat([G_ema(z_grid[i:i + 32]).float().cpu() for i in range(0, len(z_grid), 32)])
        from ganexplorer.export.images import make_grid, to_uint8
        rel = f"samples/grid-{label}.png"
        with atomic_path(run_dir / rel) as tmp:
            make_grid(to_uint8(imgs.numpy()), padding=1).save(tmp, format="PNG")
        return rel

    def save_snapshot(label: str) -> tuple[str, str]:
        snap = f"network-snapshot-{label}.safetensors"
        info = {**info_base, "provenance": {"trainer": "ganexplorer-train", "step": step,
                                            "kimg": nimg / 1000, "config": cfg.to_dict()}}
        if last_metrics:
            info["metrics"] = dict(last_metrics)
        try:
            save_checkpoint(run_dir / snap, {"G": G_ema, "D": D}, info)
        except OSError as e:
            raise SaveError(run_dir / snap, e) from e
        res = f"resume-{step:08d}.pt"
        state = {"G": G.state_dict(), "D": D.state_dict(), "G_ema": G_ema.state_dict(),
                 "opt_G": opt_G.state_dict(), "opt_D": opt_D.state_dict(), "augment": aug.state(),
                 "rng": _rng_state(gen), "data": src.state(), "step": step, "nimg": nimg,
                 "world_size": dist.world_size, "config_json": json.dumps(cfg.to_dict())}
        try:
            with atomic_path(run_dir / res) as tmp:
                torch.save(state, tmp)
        except OSError as e:
            raise SaveError(run_dir / res, e) from e
        # keep the last K of each
        for old in [*sorted(run_dir.glob(SNAP_GLOB), key=by_kimg)[:-cfg.keep],
                    *find_resume(run_dir)[cfg.keep:]]:
            old.unlink(missing_ok=True)
        return snap, res

    def compute_metrics() -> dict[str, Any] | None:
        from . import metrics
        try:
            # As many reals as fakes (at most): FID's bias depends on both counts.
            r = metrics.fid_kid(G_ema, ds, num_fakes=cfg.metric_samples, device=device, seed=cfg.seed,
                                num_reals=cfg.metric_samples)
        except metrics.MetricError as e:
            print(f"warning: metrics skipped: {e}")
            return None
        last_metrics.update(fid=r["fid"], kid=r["kid"], kimg=nimg / 1000)
        return ev.make("metric", step=step, kimg=nimg / 1000, **r)

    if main:
        yield emit(ev.make("start", config=cfg.to_dict(), total_kimg=total_nimg / 1000,
                           run_dir=str(run_dir), resumed_from=resumed_from, step=step, kimg=nimg / 1000,
                           device=str(device), precision="bfloat16 autocast" if use_amp else "float32"))

    snap_every = max(int(round(cfg.snap_kimg * 1000)), 1)
    tick_every = max(int(round(cfg.tick_kimg * 1000)), 1)
    metric_every = int(round(cfg.metric_kimg * 1000))
    next_snap = (nimg // snap_every + 1) * snap_every
    next_tick = (nimg // tick_every + 1) * tick_every
    next_metric = (nimg // metric_every + 1) * metric_every if metric_every else None
    tick_time, tick_nimg = time.time(), nimg
    r1_on = cfg.r1_gamma > 0
    # One D call for reals and fakes needs BatchNorm groups (DCGAN's D) and no per-pass
    # penalty that needs its own forward; StyleGAN2's mbstd must not mix reals and fakes.
    batched_D = cfg.arch == "dcgan" and not r1_on and cfg.loss != "wgan-gp"
    mix = cfg.arch == "stylegan2" and cfg.style_mixing > 0

    reason, message = "done", f"trained to {total_nimg / 1000:g} kimg"
    try:
        while nimg < total_nimg:
            # ---------------- D step (reals and fakes in separate passes: BatchNorm, as DCGAN)
            D.requires_grad_(True)
            real = src.next(mem)
            z = torch.randn(batch, cfg.z_dim, device=device, generator=gen)
            z2 = torch.randn(batch, cfg.z_dim, device=device, generator=gen) if mix else None
            mix_u = torch.rand(2, device=device, generator=gen) if mix else None
            with autocast():
                fake = G_fwd(z, z2, mix_u)
            nosync = D_ddp.no_sync if dist.enabled else contextlib.nullcontext
            if batched_D:
                # DCGAN: reals and fakes through D in one call, BatchNorm per half — the same
                # math as two calls, with every convolution run once on the doubled batch.
                with autocast():
                    logits = D_fwd(torch.cat([aug(real), aug(fake.detach())]), bn_groups=2)
                logits_real, logits_fake = logits.float().chunk(2)
                loss_Dr = losses.d_loss_real(cfg.loss, logits_real)
                loss_Df = losses.d_loss_fake(cfg.loss, logits_fake)
                aug.accumulate(logits_real)
                (loss_Dr + loss_Df).backward()
            else:
                with nosync():
                    with autocast():
                        logits_real = D_fwd(aug(real))
                    loss_Dr = losses.d_loss_real(cfg.loss, logits_real.float())
                    aug.accumulate(logits_real)
                    loss_Dr.backward()
                    if r1_on and step % cfg.r1_interval == 0:
                        pen, lr_ = losses.r1_penalty(D_ddp, aug(real))
                        # 0 * logits keeps every D output in the graph (NVIDIA's trick for DDP).
                        (pen * (cfg.r1_gamma / 2 * cfg.r1_interval) + 0 * lr_.float().mean()).backward()
                        acc["r1"] += pen.detach()
                        acc_n["r1"] += 1
                    if cfg.loss == "wgan-gp" and cfg.gp_lambda > 0:
                        gp = losses.gradient_penalty(D_ddp, aug(real), aug(fake.detach()), gen)
                        (gp * cfg.gp_lambda).backward()
                with autocast():
                    logits_fake = D_fwd(aug(fake.detach()))
                loss_Df = losses.d_loss_fake(cfg.loss, logits_fake.float())
                loss_Df.backward()
            opt_D.step()
            opt_D.zero_grad(set_to_none=True)
            if aug.mode == "ada" and step % cfg.ada_interval == cfg.ada_interval - 1:
                aug.adjust()

            # ---------------- G step on the same fakes; D frozen so no D weight grads are made
            D.requires_grad_(False)
            with autocast():
                logits_gen = D(aug(fake))          # the raw D: its grads must not sync via DDP
            loss_G = losses.g_loss(cfg.loss, logits_gen.float())
            loss_G.backward()
            opt_G.step()
            opt_G.zero_grad(set_to_none=True)

            nimg += cfg.batch
            step += 1
            if cfg.ema_kimg > 0:
                losses.update_ema(G_ema, G, losses.ema_beta(cfg.batch, nimg, cfg.ema_kimg, cfg.ema_rampup))
            else:
                losses.update_ema(G_ema, G, 0.0)

            loss_D = (loss_Dr + loss_Df).detach()
            acc["G"] += loss_G.detach()
            acc["D"] += loss_D
            acc_n["G"] += 1
            acc_n["D"] += 1
            bad = ~torch.isfinite(loss_D + loss_G.detach())
            bad_step.copy_(torch.where(bad & (bad_step < 0), torch.full_like(bad_step, step), bad_step))

            # ---------------- bookkeeping
            snap_due = nimg >= next_snap or nimg >= total_nimg
            stop_now, any_bad = should_stop(), False
            if dist.enabled:
                # Every rank must leave the loop at the same step, or the others wait in a
                # collective forever: stop requests and non-finite losses are agreed on at
                # sync points (every 16 steps and at snapshots), never decided by one rank.
                if step % 16 == 0 or snap_due:
                    flags = torch.stack([torch.tensor(float(stop_now), device=device),
                                         (bad_step >= 0).float()])
                    stop_now, any_bad = dist_glue.any_flags(dist, flags)
                else:
                    stop_now = False
            at_snap = snap_due or stop_now
            now = time.time()
            if main and (nimg >= next_tick or now - tick_time >= cfg.tick_seconds or at_snap):
                next_tick = (nimg // tick_every + 1) * tick_every
                bad_msg = nonfinite() if not dist.enabled else None
                yield emit(do_tick(now))
                if bad_msg:
                    reason, message = "nan", nan_message(bad_msg)
                    break
            if any_bad:
                reason, message = "nan", nan_message(
                    (nonfinite() if main else None) or f"a loss became NaN or infinite by step {step}")
                break
            if next_metric is not None and nimg >= next_metric:
                next_metric = (nimg // metric_every + 1) * metric_every
                if main:
                    m = compute_metrics()
                    if m:
                        yield emit(m)
            if at_snap:
                next_snap = (nimg // snap_every + 1) * snap_every
                dist_glue.sync_buffers(dist, G, D, G_ema)
                # Weights are identical on every rank (DDP), so each reaches the same verdict.
                if weights_nonfinite():   # never write a NaN checkpoint over good ones
                    reason, message = "nan", nan_message(f"the weights became NaN or infinite by step {step}")
                    break
                failure = None
                if main:
                    label = kimg_label(run_dir, nimg)
                    try:
                        grid = save_grid(label)
                        yield emit(ev.make("grid", step=step, kimg=nimg / 1000, path=grid))
                        if nimg >= total_nimg and cfg.final_metrics and not last_metrics.get("kimg") == nimg / 1000:
                            m = compute_metrics()
                            if m:
                                yield emit(m)
                        snap, res = save_snapshot(label)
                        last_ckpt = snap
                        yield emit(ev.make("checkpoint", step=step, kimg=nimg / 1000, path=snap, resume=res))
                    except SaveError as e:
                        failure = _disk_message(e.error, e.path, last_ckpt)
                    except OSError as e:   # the sample grid
                        failure = _disk_message(e, Path(e.filename or "sample grid"), last_ckpt)
                # A failed save on rank 0 ends the run on every rank.
                (failed,) = dist_glue.any_flags(dist, torch.tensor([float(failure is not None)], device=device))
                if failed:
                    reason, message = "error", failure or "rank 0 could not save a checkpoint"
                    break
            if stop_now:
                reason, message = "stopped", f"stopped at step {step} (kimg {nimg / 1000:g}); " \
                                             f"continue with --resume {run_dir}"
                break
    except GeneratorExit:
        reason, message = "stopped", f"the caller closed the run at step {step}"
        if log is not None:
            log.write(ev.make("end", reason=reason, message=message, last_checkpoint=last_ckpt,
                              step=step, kimg=nimg / 1000))
            log.close()
        raise
    except Exception as e:
        reason, message = "error", f"{type(e).__name__}: {e}"
        if main:
            yield emit(ev.make("end", reason=reason, message=message, last_checkpoint=last_ckpt,
                               step=step, kimg=nimg / 1000))
            log.close()
        raise
    if main:
        yield emit(ev.make("end", reason=reason, message=message, last_checkpoint=last_ckpt,
                           step=step, kimg=nimg / 1000))
        log.close()
    # The generator's return value (`result = yield from iter_train(cfg)`): the trained
    # networks, on every rank — what a caller (or a test) inspects after the run.
    return {"G": G, "D": D, "G_ema": G_ema, "step": step, "nimg": nimg, "reason": reason,
            "aug_p": float(aug.p)}


# ------------------------------------------------------------------ the driver

def train(cfg: TrainConfig, progress: bool | None = None) -> int:
    """Run to the end with a tqdm bar; Ctrl-C / SIGTERM save and exit. -> exit status."""
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum, frame):
        if stop.is_set():           # a second Ctrl-C: give up at once
            raise KeyboardInterrupt
        stop.set()
        print(f"\n{signal.Signals(signum).name}: saving a checkpoint and stopping...", flush=True)

    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        for s in (signal.SIGINT, signal.SIGTERM):
            previous[s] = signal.signal(s, on_signal)
    bar = None
    status = 0
    try:
        for e in iter_train(cfg, stop):
            if e["type"] == "start":
                print(f"training to {e['total_kimg']:g} kimg in {e['run_dir']} "
                      f"({e['device']}, {e['precision']})", flush=True)
                if progress if progress is not None else cfg.progress:
                    from tqdm import tqdm
                    bar = tqdm(total=e["total_kimg"], initial=e["kimg"], unit="kimg", dynamic_ncols=True,
                               bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} kimg [{elapsed}<{remaining}{postfix}]")
            elif e["type"] == "tick" and bar is not None:
                bar.update(min(e["kimg"], bar.total) - bar.n)
                post = {"G": f"{e['loss_G']:.3f}" if e["loss_G"] is not None else "nan",
                        "D": f"{e['loss_D']:.3f}" if e["loss_D"] is not None else "nan",
                        "img/s": f"{e['img_per_s']:.0f}"}
                if e.get("aug_p") is not None:
                    post["p"] = f"{e['aug_p']:.2f}"
                bar.set_postfix(post, refresh=True)
            elif e["type"] == "metric":
                msg = f"kimg {e['kimg']:.1f}: FID {e['fid']:.2f}" + (f", KID {e['kid']:.4f}" if e.get("kid") is not None else "")
                (bar.write if bar else print)(msg)
            elif e["type"] == "checkpoint" and bar is None:
                print(f"kimg {e['kimg']:.2f}: saved {e['path']}", flush=True)
            elif e["type"] == "end":
                if bar is not None:
                    bar.close()
                    bar = None
                print(f"{e['reason']}: {e['message']}", flush=True)
                if e["last_checkpoint"]:
                    print(f"checkpoint: {Path(cfg.resume or cfg.out) / e['last_checkpoint']}", flush=True)
                status = 0 if e["reason"] in ("done", "stopped") else 1
    finally:
        if bar is not None:
            bar.close()
        for s, h in previous.items():
            signal.signal(s, h)
        dist_glue.cleanup(dist_glue.from_env())
    return status
