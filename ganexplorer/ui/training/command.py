"""The trainer's process: the program, arguments and environment that `QProcess` starts
and that the summary page shows for copying into a terminal.

Kept free of widgets. The wizard fills a `trainer.config.TrainConfig`, which renders its
own flags (`TrainConfig.to_args()`); this module only adds the interpreter, torchrun for
several GPUs, and the environment.
"""
from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass


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
