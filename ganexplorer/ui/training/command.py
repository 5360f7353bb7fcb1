"""The trainer's command line, built from the wizard's choices.

Kept free of widgets: the wizard fills a `TrainOptions`, this turns it into the exact
program, arguments and environment that `QProcess` starts and that the summary page
shows for copying into a terminal.
"""
from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainOptions:
    preset: str = "dcgan-32"            # --preset
    data: str = "digits"                # --data: folder, zip or sample name
    kimg: float = 50.0                  # --kimg: thousands of real images shown to D
    batch: int | None = None            # --batch; None lets the preset decide
    loss: str | None = None             # --loss; None lets the preset decide
    augment: str | None = None          # --augment; None lets the preset decide
    device: str = "auto"                # --device: auto, cpu or cuda
    gpus: tuple[int, ...] = ()          # CUDA devices to use; 2+ means torchrun
    out: Path | None = None             # --out: the run folder
    extra: list[str] = field(default_factory=list)  # further flags passed through verbatim

    def trainer_args(self) -> list[str]:
        """Flags after `python -m trainer`."""
        args = ["--preset", self.preset, "--data", self.data, "--kimg", _num(self.kimg)]
        if self.batch is not None:
            args += ["--batch", str(self.batch)]
        if self.loss:
            args += ["--loss", self.loss]
        if self.augment:
            args += ["--augment", self.augment]
        args += ["--device", "cuda" if self.gpus else self.device]
        if self.out is not None:
            args += ["--out", str(self.out)]
        return args + list(self.extra)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Command:
    program: str                                   # the executable
    args: tuple[str, ...]                          # its arguments
    env: tuple[tuple[str, str], ...] = ()          # variables set on top of the app's environment

    def shell(self, python: str = "python") -> str:
        """The command as one line a person can paste into a terminal."""
        program = python if self.program == sys.executable else self.program
        words = [f"{k}={shlex.quote(v)}" for k, v in self.env if k != "PYTHONUNBUFFERED"]
        return " ".join(words + [shlex.quote(program)] + [shlex.quote(a) for a in self.args])


def trainer_command(trainer_args: list[str], gpus: tuple[int, ...] = ()) -> Command:
    """`python -m trainer ARGS` on one device, or through torchrun on several GPUs."""
    env: list[tuple[str, str]] = [("PYTHONUNBUFFERED", "1")]
    if len(gpus) >= 2:
        env.append(("CUDA_VISIBLE_DEVICES", ",".join(map(str, gpus))))
        args = ("-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={len(gpus)}",
                "-m", "trainer", *trainer_args)
    else:
        if len(gpus) == 1:
            env.append(("CUDA_VISIBLE_DEVICES", str(gpus[0])))
        args = ("-m", "trainer", *trainer_args)
    return Command(sys.executable, args, tuple(env))


def dry_run_command(trainer_args: list[str]) -> Command:
    """The trainer's `--dry-run --json`: resolved config and dataset summary, no training."""
    return Command(sys.executable, ("-m", "trainer", *trainer_args, "--dry-run", "--json"),
                   (("PYTHONUNBUFFERED", "1"),))
