"""TrainConfig: every knob of a training run, typed, with presets and readable validation.

A run directory's `config.json` is `asdict(cfg)`; `--resume RUN` reads it back, so a
resumed run trains the same networks with the same settings. `validate()` returns
sentences that name the command-line flag to change, never raises.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ARCHS = ("dcgan", "stylegan2")
LOSSES = ("ns", "lsgan", "wgan-gp", "hinge")
AUGMENTS = ("none", "diffaug", "ada")
DIFFAUG_OPS = ("color", "translation", "cutout")
DEVICES = ("auto", "cpu", "cuda", "mps")
RESIZES = ("crop", "pad", "stretch", "refuse")


@dataclass
class TrainConfig:
    # --- what to train on and where to write
    data: str = ""                      # folder, .zip, or digits|mnist5k|twemoji|lfw-subset
    out: str = ""                       # run directory (created; must be empty or absent unless resuming)
    preset: str = ""                    # name of the preset the defaults came from (record only)
    resume: str = ""                    # run directory to continue; its config.json wins
    # --- networks
    arch: str = "dcgan"                 # 'dcgan' | 'stylegan2'
    resolution: int = 32                # image side; the data is resized to it
    channels: int = 0                   # 1 grey, 3 RGB, 0 = decide from the data
    resize: str = "crop"                # how non-square/mixed sizes become square: crop|pad|stretch|refuse
    z_dim: int = 100                    # latent size (DCGAN's nz; StyleGAN2's z_dim)
    w_dim: int = 256                    # StyleGAN2 intermediate latent size
    map_layers: int = 2                 # StyleGAN2 mapping depth; 2 is enough for small data (ADA paper)
    ngf: int = 64                       # DCGAN G channels at the last hidden layer
    ndf: int = 64                       # DCGAN D channels at the first layer
    cbase: int = 16384                  # StyleGAN2 channel_base: channels = min(cbase / res, cmax)
    cmax: int = 512                     # StyleGAN2 channel_max
    # --- optimisation
    kimg: float = 200.0                 # length of training in thousands of real images shown to D
    batch: int = 64                     # total minibatch over all processes
    lr_G: float = 2e-4                  # Adam learning rate of G
    lr_D: float = 2e-4                  # Adam learning rate of D
    beta1: float = 0.5                  # Adam beta1; 0.5 for DCGAN, 0 for StyleGAN2 (both from the papers)
    beta2: float = 0.999                # Adam beta2
    loss: str = "ns"                    # ns (non-saturating logistic) | lsgan | wgan-gp | hinge
    r1_gamma: float = 0.0               # R1 penalty weight on real images (0 = off)
    r1_interval: int = 16               # lazy R1: apply every N D steps, scaled by N (StyleGAN2)
    gp_lambda: float = 10.0             # WGAN-GP gradient penalty weight
    style_mixing: float = 0.9           # StyleGAN2: probability of mixing two ws in a batch
    ema_kimg: float = 10.0              # half-life of the EMA generator in kimg (0 = no EMA)
    ema_rampup: float = 0.05            # early on, EMA half-life <= this fraction of images seen (0 = off)
    # --- augmentation (keeps D from memorising small datasets)
    xflip: bool = False                 # random horizontal flips of real images (not for digits/text)
    augment: str = "none"               # none | diffaug (always on) | ada (adaptive probability p)
    diffaug_ops: str = "color,translation,cutout"   # DiffAugment ops, comma separated
    ada_target: float = 0.6             # ADA: target of E[sign(D(real))]; higher = less aug
    ada_kimg: float = 100.0             # ADA: images (kimg) for p to go 0 -> 1
    ada_interval: int = 4               # ADA: adjust p every N D steps
    # --- bookkeeping
    tick_kimg: float = 1.0              # a progress tick at least this often (and every tick_seconds)
    tick_seconds: float = 3.0           # ... and at least every N seconds, so a UI stays live
    snap_kimg: float = 10.0             # checkpoint + sample grid every N kimg (and at the end)
    metric_kimg: float = 0.0            # FID/KID every N kimg (0 = only with --metrics at the end)
    metric_samples: int = 2000          # fakes (and at most as many reals) for FID/KID
    final_metrics: bool = False         # compute FID/KID once when training ends
    keep: int = 3                       # keep the last K snapshots and resume states
    grid_size: int = 64                 # images in the sample grid (fixed latents, seed-derived)
    seed: int = 0                       # seeds weights, batches, latents and augmentation
    # --- hardware
    device: str = "auto"                # auto | cpu | cuda | mps
    amp: bool = True                    # bfloat16 autocast where native (Ampere+ GPUs, AVX512-BF16/AMX CPUs)
    channels_last: bool = True          # NHWC memory layout: faster convolutions on CPU and GPU
    compile: bool = False               # torch.compile the networks (first steps are slow)
    threads: int = 0                    # torch CPU threads (0 = torch's default)
    progress: bool = True               # tqdm bar on stderr
    dry_run: bool = False               # print the resolved config and dataset summary, train nothing

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def save(self, path: str | Path) -> None:
        from ganexplorer.atomic import atomic_write_text
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    def validate(self) -> list[str]:
        """Readable problems, each naming the flag to change. Empty list = fine."""
        p: list[str] = []

        def need(ok: bool, msg: str) -> None:
            if not ok:
                p.append(msg)

        def finite(x) -> bool:
            return isinstance(x, (int, float)) and math.isfinite(x)

        need(bool(self.data), "--data is required: a folder, a .zip, or digits|mnist5k|twemoji|lfw-subset")
        need(bool(self.out) or bool(self.resume) or self.dry_run, "--out is required: the run directory to write")
        need(self.arch in ARCHS, f"--arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        lo = 16 if self.arch == "dcgan" else 8
        need(self.resolution in [2 ** i for i in range(int(math.log2(lo)), 9)],
             f"--resolution must be a power of two from {lo} to 256, got {self.resolution}")
        need(self.channels in (0, 1, 3), f"--channels must be 1, 3 or 0 (auto), got {self.channels}")
        need(self.resize in RESIZES, f"--resize must be one of {', '.join(RESIZES)}, got {self.resize!r}")
        need(1 <= self.z_dim <= 2048, f"--z-dim must be between 1 and 2048, got {self.z_dim}")
        need(1 <= self.w_dim <= 2048, f"--w-dim must be between 1 and 2048, got {self.w_dim}")
        need(1 <= self.map_layers <= 16, f"--map-layers must be between 1 and 16, got {self.map_layers}")
        need(1 <= self.ngf <= 1024, f"--ngf must be between 1 and 1024, got {self.ngf}")
        need(1 <= self.ndf <= 1024, f"--ndf must be between 1 and 1024, got {self.ndf}")
        need(64 <= self.cbase <= 65536, f"--cbase must be between 64 and 65536, got {self.cbase}")
        need(1 <= self.cmax <= 1024, f"--cmax must be between 1 and 1024, got {self.cmax}")
        need(finite(self.kimg) and 0 < self.kimg <= 1e6, f"--kimg must be > 0 and at most 1e6, got {self.kimg}")
        need(1 <= self.batch <= 4096, f"--batch must be between 1 and 4096, got {self.batch}")
        if self.arch == "stylegan2":
            need(self.batch >= 2, f"--batch must be at least 2 for StyleGAN2 (minibatch std), got {self.batch}")
        for flag, v in (("--lr-G", self.lr_G), ("--lr-D", self.lr_D)):
            need(finite(v) and 0 < v <= 1, f"{flag} must be > 0 and at most 1, got {v}")
        for flag, v in (("--beta1", self.beta1), ("--beta2", self.beta2)):
            need(finite(v) and 0 <= v < 1, f"{flag} must be in [0, 1), got {v}")
        need(self.loss in LOSSES, f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        need(finite(self.r1_gamma) and 0 <= self.r1_gamma <= 1e4, f"--r1-gamma must be between 0 and 1e4, got {self.r1_gamma}")
        need(1 <= self.r1_interval <= 1000, f"--r1-interval must be between 1 and 1000, got {self.r1_interval}")
        need(finite(self.gp_lambda) and self.gp_lambda >= 0, f"--gp-lambda must be >= 0, got {self.gp_lambda}")
        need(finite(self.style_mixing) and 0 <= self.style_mixing <= 1,
             f"--style-mixing must be a probability in [0, 1], got {self.style_mixing}")
        need(finite(self.ema_kimg) and self.ema_kimg >= 0, f"--ema-kimg must be >= 0, got {self.ema_kimg}")
        need(finite(self.ema_rampup) and self.ema_rampup >= 0, f"--ema-rampup must be >= 0, got {self.ema_rampup}")
        need(self.augment in AUGMENTS, f"--augment must be one of {', '.join(AUGMENTS)}, got {self.augment!r}")
        ops = [o for o in self.diffaug_ops.split(",") if o]
        need(all(o in DIFFAUG_OPS for o in ops),
             f"--diffaug-ops takes a comma list of {', '.join(DIFFAUG_OPS)}, got {self.diffaug_ops!r}")
        need(finite(self.ada_target) and 0 < self.ada_target < 1, f"--ada-target must be in (0, 1), got {self.ada_target}")
        need(finite(self.ada_kimg) and self.ada_kimg > 0, f"--ada-kimg must be > 0, got {self.ada_kimg}")
        need(1 <= self.ada_interval <= 1000, f"--ada-interval must be between 1 and 1000, got {self.ada_interval}")
        need(finite(self.tick_kimg) and self.tick_kimg > 0, f"--tick-kimg must be > 0, got {self.tick_kimg}")
        need(finite(self.tick_seconds) and self.tick_seconds > 0, f"--tick-seconds must be > 0, got {self.tick_seconds}")
        need(finite(self.snap_kimg) and self.snap_kimg > 0, f"--snap-kimg must be > 0, got {self.snap_kimg}")
        need(finite(self.metric_kimg) and self.metric_kimg >= 0, f"--metric-kimg must be >= 0 (0 = off), got {self.metric_kimg}")
        need(10 <= self.metric_samples <= 100_000, f"--metric-samples must be between 10 and 100000, got {self.metric_samples}")
        need(1 <= self.keep <= 1000, f"--keep must be between 1 and 1000, got {self.keep}")
        need(1 <= self.grid_size <= 256, f"--grid-size must be between 1 and 256, got {self.grid_size}")
        need(0 <= self.seed < 2 ** 32, f"--seed must be between 0 and 2**32-1, got {self.seed}")
        need(self.device in DEVICES, f"--device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        need(0 <= self.threads <= 1024, f"--threads must be between 0 and 1024, got {self.threads}")
        return p


def field_help() -> dict[str, str]:
    """Each field's comment in this file, for --help: the source is the documentation."""
    import inspect
    import re
    out = {}
    for line in inspect.getsource(TrainConfig).splitlines():
        m = re.match(r"\s+(\w+): [^=]+=.*?#\s*(.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


# Presets: overrides on the dataclass defaults. Hyper-parameters follow the papers' own
# configurations (pytorch/examples DCGAN; StyleGAN2-ADA's 'auto' config scaled for size).
PRESETS: dict[str, dict[str, Any]] = {
    "dcgan-32": dict(arch="dcgan", resolution=32, batch=64, lr_G=2e-4, lr_D=2e-4, beta1=0.5,
                     beta2=0.999, loss="ns", r1_gamma=0.0, ema_kimg=1.0, ngf=64, ndf=64, z_dim=100,
                     snap_kimg=5.0),
    "dcgan-64": dict(arch="dcgan", resolution=64, batch=64, lr_G=2e-4, lr_D=2e-4, beta1=0.5,
                     beta2=0.999, loss="ns", r1_gamma=0.0, ema_kimg=1.0, ngf=64, ndf=64, z_dim=100,
                     snap_kimg=5.0),
    "stylegan2-64": dict(arch="stylegan2", resolution=64, batch=32, lr_G=2.5e-3, lr_D=2.5e-3,
                         beta1=0.0, beta2=0.99, loss="ns", r1_gamma=0.1, r1_interval=16,
                         z_dim=256, w_dim=256, map_layers=2, cbase=16384, cmax=256,
                         ema_kimg=10.0, augment="ada", xflip=False, snap_kimg=10.0),
    "stylegan2-128": dict(arch="stylegan2", resolution=128, batch=32, lr_G=2.5e-3, lr_D=2.5e-3,
                          beta1=0.0, beta2=0.99, loss="ns", r1_gamma=0.5, r1_interval=16,
                          z_dim=512, w_dim=512, map_layers=2, cbase=16384, cmax=512,
                          ema_kimg=10.0, augment="ada", snap_kimg=20.0),
    "stylegan2-256": dict(arch="stylegan2", resolution=256, batch=32, lr_G=2.5e-3, lr_D=2.5e-3,
                          beta1=0.0, beta2=0.99, loss="ns", r1_gamma=1.0, r1_interval=16,
                          z_dim=512, w_dim=512, map_layers=2, cbase=16384, cmax=512,
                          ema_kimg=10.0, augment="ada", snap_kimg=50.0),
}


def from_preset(name: str, **overrides: Any) -> TrainConfig:
    if name not in PRESETS:
        raise KeyError(name)
    values = {**PRESETS[name], **overrides, "preset": name}
    return TrainConfig(**values)
