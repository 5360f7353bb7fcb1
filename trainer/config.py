"""TrainConfig: every knob of a training run, typed, with presets and readable validation.

A run directory's `config.json` is `asdict(cfg)`; `--resume RUN` reads it back, so a
resumed run trains the same networks with the same settings. `validate()` returns
sentences that name the command-line flag to change, never raises.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARCHS = ("dcgan", "stylegan2")
# The losses and augmentations: name -> (label, what it does). --loss/--augment accept the
# names; the wizard's menus show the rest.
LOSSES: dict[str, tuple[str, str]] = {
    "ns": ("Non-saturating logistic", "Goodfellow's non-saturating loss; the default of DCGAN and "
           "StyleGAN2 and the safest choice."),
    "lsgan": ("Least squares (LSGAN)", "Mao et al. 2017: smoother gradients, sometimes steadier on "
              "small images."),
    "wgan-gp": ("Wasserstein + gradient penalty", "Gulrajani et al. 2017: a loss whose value tracks "
                "quality; slower (an extra backward pass per step)."),
    "hinge": ("Hinge", "The hinge loss of SAGAN/BigGAN: stable for larger models."),
    "rpgan": ("Relativistic pairing + R1/R2 (R3GAN)", "Huang et al. 2024: D compares each real image "
              "with a fake one, regularised by R1 and R2 (needs --r1-gamma > 0); --schedule cosine adds "
              "the paper's ramps of γ, learning rate, Adam beta2 and EMA. An option to try."),
}
AUGMENTS: dict[str, tuple[str, str]] = {
    "none": ("None", "Real images as they are. Fine with many thousands of images."),
    "diffaug": ("DiffAugment", "Zhao et al. 2020: colour, translation and cutout on every image D sees, "
                "real and fake. Keeps D from memorising a small dataset."),
    "ada": ("Adaptive (ADA-like)", "Karras et al. 2020: the same operations with a probability p that "
            "rises only when D starts to overfit. Best for small datasets."),
}
DIFFAUG_OPS = ("color", "translation", "cutout")
DEVICES = ("auto", "cpu", "cuda", "mps")
# How γ, the learning rates, Adam beta2 and the EMA half-life move over a run (trainer/schedules.py).
SCHEDULES = ("constant", "cosine")
RESIZES = ("crop", "pad", "stretch", "refuse")


@dataclass
class TrainConfig:
    # --- what to train on and where to write
    data: str = ""                      # folder, .zip, or digits|mnist5k|twemoji|lfw-subset
    out: str = ""                       # run directory (created; must be empty or absent unless resuming)
    preset: str = ""                    # name of the preset the defaults came from (record only)
    resume: str = ""                    # run directory to continue; its config.json wins
    init: str = ""                      # a checkpoint whose G and D start this run (fine-tuning; no EMA ramp-up)
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
    loss: str = "ns"                    # ns (non-saturating logistic) | lsgan | wgan-gp | hinge | rpgan (R3GAN)
    r1_gamma: float = 0.0               # R1 penalty weight on real images (0 = off); rpgan: R1 and R2
    r1_interval: int = 16               # lazy R1: apply every N D steps, scaled by N (StyleGAN2)
    gp_lambda: float = 10.0             # WGAN-GP gradient penalty weight
    style_mixing: float = 0.9           # StyleGAN2: probability of mixing two ws in a batch
    ema_kimg: float = 10.0              # half-life of the EMA generator in kimg (0 = no EMA)
    ema_rampup: float = 0.05            # early on, EMA half-life <= this fraction of images seen (0 = off)
    schedule: str = "constant"          # constant | cosine (R3GAN: cosine ramps of γ, lr, Adam beta2, EMA half-life)
    schedule_kimg: float = 0.0          # cosine: length of the ramps in kimg, end values after (0 = the whole run)
    gamma_end: float = 0.1              # cosine: R1/R2 γ at the end, as a fraction of --r1-gamma (R3GAN: 1/10)
    lr_end: float = 0.25                # cosine: final learning rates as a fraction of --lr-G/--lr-D (R3GAN: 1/4)
    beta2_start: float = 0.9            # cosine: Adam beta2 at the start, rising to --beta2 (R3GAN: 0.9 -> 0.99)
    # --- augmentation (keeps D from memorising small datasets)
    xflip: bool = False                 # random horizontal flips of real images (not for digits/text)
    augment: str = "none"               # none | diffaug (always on) | ada (adaptive probability p)
    diffaug_ops: str = "color,translation,cutout"   # DiffAugment ops, comma separated
    ada_target: float = 0.6             # ADA: target of E[sign(D(real))]; higher = less aug
    ada_kimg: float = 100.0             # ADA: images (kimg) for p to go 0 -> 1
    ada_interval: int = 4               # ADA: adjust p every N D steps
    ada_p: float = 0.0                  # ADA: p at step 0 (with --init: the p the model was trained at)
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

    def to_args(self) -> list[str]:
        """The trainer's command line for this config (after `python -m trainer`): the preset,
        then every field that differs from it (data, kimg, device and out always)."""
        base = from_preset(self.preset) if self.preset in PRESETS else TrainConfig()
        args = ["--preset", self.preset] if self.preset in PRESETS else []
        seen = set()
        for name in [*_ALWAYS_SHOWN[:2], *(f.name for f in dataclasses.fields(self))]:
            if name in seen or name in _NOT_FLAGS:
                continue
            seen.add(name)
            value = getattr(self, name)
            if (name in _ALWAYS_SHOWN and value != "") or value != getattr(base, name):
                args += _field_args(name, value)
        return args

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
        need(finite(self.r1_gamma) and 0 <= self.r1_gamma <= 1e4,
             f"--r1-gamma must be between 0 and 1e4, got {self.r1_gamma}")
        if self.loss == "rpgan":
            need(not finite(self.r1_gamma) or self.r1_gamma > 0,
                 f"--r1-gamma must be > 0 with --loss rpgan (R3GAN needs its R1 and R2 penalties), got {self.r1_gamma}")
        if finite(self.kimg) and self.kimg > 0 and isinstance(self.batch, int) and self.batch >= 1:
            need(self.kimg * 1000 >= self.batch,
                 f"--kimg {self.kimg:g} is less than one step of --batch {self.batch} images "
                 f"({self.batch / 1000:g} kimg); train for at least that long")
        need(1 <= self.r1_interval <= 1000, f"--r1-interval must be between 1 and 1000, got {self.r1_interval}")
        need(finite(self.gp_lambda) and self.gp_lambda >= 0, f"--gp-lambda must be >= 0, got {self.gp_lambda}")
        need(finite(self.style_mixing) and 0 <= self.style_mixing <= 1,
             f"--style-mixing must be a probability in [0, 1], got {self.style_mixing}")
        need(finite(self.ema_kimg) and self.ema_kimg >= 0, f"--ema-kimg must be >= 0, got {self.ema_kimg}")
        need(finite(self.ema_rampup) and self.ema_rampup >= 0, f"--ema-rampup must be >= 0, got {self.ema_rampup}")
        need(self.schedule in SCHEDULES, f"--schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        need(finite(self.schedule_kimg) and 0 <= self.schedule_kimg <= 1e6,
             f"--schedule-kimg must be between 0 (the whole run) and 1e6, got {self.schedule_kimg}")
        need(finite(self.gamma_end) and 0 < self.gamma_end <= 1,
             f"--gamma-end must be a fraction of --r1-gamma in (0, 1], got {self.gamma_end}")
        need(finite(self.lr_end) and 0 < self.lr_end <= 1,
             f"--lr-end must be a fraction of the learning rates in (0, 1], got {self.lr_end}")
        need(finite(self.beta2_start) and 0 <= self.beta2_start < 1,
             f"--beta2-start must be in [0, 1), got {self.beta2_start}")
        if self.schedule == "cosine" and finite(self.beta2_start) and finite(self.beta2):
            need(self.beta2_start <= self.beta2,
                 f"--beta2-start {self.beta2_start:g} must not exceed --beta2 {self.beta2:g}: "
                 "the cosine schedule raises beta2 from the first to the second")
        need(self.augment in AUGMENTS, f"--augment must be one of {', '.join(AUGMENTS)}, got {self.augment!r}")
        ops = [o for o in self.diffaug_ops.split(",") if o]
        need(all(o in DIFFAUG_OPS for o in ops),
             f"--diffaug-ops takes a comma list of {', '.join(DIFFAUG_OPS)}, got {self.diffaug_ops!r}")
        need(finite(self.ada_target) and 0 < self.ada_target < 1,
             f"--ada-target must be in (0, 1), got {self.ada_target}")
        need(finite(self.ada_kimg) and self.ada_kimg > 0, f"--ada-kimg must be > 0, got {self.ada_kimg}")
        need(1 <= self.ada_interval <= 1000, f"--ada-interval must be between 1 and 1000, got {self.ada_interval}")
        need(finite(self.ada_p) and 0 <= self.ada_p <= 1, f"--ada-p must be a probability in [0, 1], got {self.ada_p}")
        if self.init and not self.resume:    # a resumed run has its weights in its resume state
            need(Path(self.init).expanduser().is_file(),
                 f"--init {self.init}: no such checkpoint file; give a .safetensors snapshot of a run")
        need(finite(self.tick_kimg) and self.tick_kimg > 0, f"--tick-kimg must be > 0, got {self.tick_kimg}")
        need(finite(self.tick_seconds) and self.tick_seconds > 0,
             f"--tick-seconds must be > 0, got {self.tick_seconds}")
        need(finite(self.snap_kimg) and self.snap_kimg > 0, f"--snap-kimg must be > 0, got {self.snap_kimg}")
        need(finite(self.metric_kimg) and self.metric_kimg >= 0,
             f"--metric-kimg must be >= 0 (0 = off), got {self.metric_kimg}")
        need(10 <= self.metric_samples <= 100_000,
             f"--metric-samples must be between 10 and 100000, got {self.metric_samples}")
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


@dataclass(frozen=True)
class Preset:
    label: str                      # short name for menus ("DCGAN, 32×32")
    about: str                      # what it is good for, in a sentence or two (the wizard shows it)
    overrides: dict[str, Any]       # values that differ from the dataclass defaults
    # Rough speeds in real images per second, for an estimate before any run measured one:
    # "cpu" for a 4-core desktop (scales with the cores; DCGAN: twice the float32 figures
    # measured on 2 cores, bfloat16 CPUs ~1.4x faster still), "cuda" for a recent data-centre
    # GPU. They only set the order of magnitude.
    rough_img_per_s: dict[str, float] = dataclasses.field(default_factory=dict)


# Presets: overrides on the dataclass defaults. Hyper-parameters follow the papers' own
# configurations (pytorch/examples DCGAN; StyleGAN2-ADA's 'auto' config scaled for size).
# The DCGAN paper's objective and optimiser (pytorch/examples' dcgan): non-saturating loss,
# Adam betas 0.5 / 0.999, no gradient penalty, constant values.
DCGAN_OBJECTIVE: dict[str, Any] = dict(loss="ns", schedule="constant", beta1=0.5, beta2=0.999, r1_gamma=0.0)

# pytorch/examples' DCGAN recipe, shared by both DCGAN presets.
_DCGAN = dict(arch="dcgan", batch=64, lr_G=2e-4, lr_D=2e-4, **DCGAN_OBJECTIVE,
              ema_kimg=1.0, ngf=64, ndf=64, z_dim=100, snap_kimg=5.0)

# The R3GAN recipe (Huang et al. 2024) on top of any preset: the relativistic pairing loss with
# R1 + R2, Adam beta1 0 and beta2 rising 0.9 -> 0.99, and cosine ramps of γ (to 1/10), the
# learning rates (to 1/4) and the EMA half-life (from 0). γ depends on the data: pass
# --r1-gamma with it. dcgan-32's default (it won on bench/quality_vs_peer.py: README).
R3GAN_RECIPE: dict[str, Any] = dict(loss="rpgan", beta1=0.0, beta2=0.99, schedule="cosine",
                                    gamma_end=0.1, lr_end=0.25, beta2_start=0.9)

# The one catalogue of presets: the trainer's --preset and the wizard's menu.
PRESETS: dict[str, Preset] = {
    "dcgan-32": Preset(
        "DCGAN, 32×32",
        "The classic DCGAN networks (Radford et al. 2015) trained with the R3GAN objective: small "
        "and fast. Good for digits, icons and first experiments; minutes on a CPU. No style "
        "mixing or per-layer controls.",
        # Batch 16, not the example's 64: at the same image budget, four times the updates, in
        # about the same CPU time per image; and the R3GAN objective and schedules with
        # γ 0.1. bench/quality_vs_peer.py measures both gains (README).
        dict(_DCGAN, resolution=32, batch=16, **R3GAN_RECIPE, r1_gamma=0.1),
        rough_img_per_s={"cpu": 750.0, "cuda": 20000.0}),
    "dcgan-64": Preset(
        "DCGAN, 64×64",
        "The same DCGAN at 64×64: four times the pixels, roughly three times the time per image.",
        dict(_DCGAN, resolution=64),
        rough_img_per_s={"cpu": 150.0, "cuda": 8000.0}),
    "stylegan2-64": Preset(
        "StyleGAN2, 64×64",
        "StyleGAN2 (Karras et al. 2020) with a mapping network: much better images and "
        "latent controls (style mixing, W space), but hours on a CPU — use a GPU.",
        dict(arch="stylegan2", resolution=64, batch=32, lr_G=2.5e-3, lr_D=2.5e-3,
             beta1=0.0, beta2=0.99, loss="ns", r1_gamma=0.1, r1_interval=16,
             z_dim=256, w_dim=256, map_layers=2, cbase=16384, cmax=256,
             ema_kimg=10.0, augment="ada", xflip=False, snap_kimg=10.0),
        rough_img_per_s={"cpu": 6.0, "cuda": 1200.0}),
    "stylegan2-128": Preset(
        "StyleGAN2, 128×128", "StyleGAN2 at 128×128: needs a GPU and thousands of images.",
        dict(arch="stylegan2", resolution=128, batch=32, lr_G=2.5e-3, lr_D=2.5e-3,
             beta1=0.0, beta2=0.99, loss="ns", r1_gamma=0.5, r1_interval=16,
             z_dim=512, w_dim=512, map_layers=2, cbase=16384, cmax=512,
             ema_kimg=10.0, augment="ada", snap_kimg=20.0),
        rough_img_per_s={"cpu": 1.5, "cuda": 500.0}),
    "stylegan2-256": Preset(
        "StyleGAN2, 256×256",
        "StyleGAN2 at 256×256: a GPU for a day or more; tens of thousands of images help.",
        dict(arch="stylegan2", resolution=256, batch=32, lr_G=2.5e-3, lr_D=2.5e-3,
             beta1=0.0, beta2=0.99, loss="ns", r1_gamma=1.0, r1_interval=16,
             z_dim=512, w_dim=512, map_layers=2, cbase=16384, cmax=512,
             ema_kimg=10.0, augment="ada", snap_kimg=50.0),
        rough_img_per_s={"cpu": 0.4, "cuda": 200.0}),
}

# The resume rule: a resumed run trains the networks its config.json describes; only these
# fields (how long, how often to report and save, on which hardware) may change.
RESUMABLE = frozenset({"kimg", "tick_kimg", "tick_seconds", "snap_kimg", "metric_kimg", "metric_samples",
                       "final_metrics", "keep", "device", "threads", "progress", "compile", "amp"})
_ALWAYS_SHOWN = ("data", "kimg", "device", "out")     # in a command line even at their defaults
_NOT_FLAGS = ("preset", "resume", "dry_run")


def flag(name: str) -> str:
    """The command-line flag of a TrainConfig field (lr_G -> --lr-G)."""
    return "--" + name.replace("_", "-")


def _arg(value: Any) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _field_args(name: str, value: Any) -> list[str]:
    if isinstance(value, bool):
        return [flag(name) if value else "--no-" + flag(name)[2:]]
    return [flag(name), _arg(value)]


def resumable_args(args: list[str]) -> list[str]:
    """The part of a first launch's flags that a resume may repeat (RESUMABLE)."""
    kinds = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    value_flags = {flag(n) for n in RESUMABLE if kinds[n] not in ("bool", bool)}
    bool_flags = {v for n in RESUMABLE if kinds[n] in ("bool", bool) for v in (flag(n), "--no-" + flag(n)[2:])}
    out: list[str] = []
    i = 0
    while i < len(args):
        name = args[i].split("=", 1)[0]
        if name in value_flags:
            if "=" in args[i]:
                out.append(args[i])
            elif i + 1 < len(args):
                out += [args[i], args[i + 1]]
                i += 1
        elif name in bool_flags:
            out.append(args[i])
        i += 1
    return out


def from_preset(name: str, **overrides: Any) -> TrainConfig:
    if name not in PRESETS:
        raise KeyError(name)
    values = {**PRESETS[name].overrides, **overrides, "preset": name}
    return TrainConfig(**values)
