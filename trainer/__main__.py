"""`python -m trainer` / `ganexplorer-train`: train a DCGAN or StyleGAN2 from the command line.

    python -m trainer --preset dcgan-32 --data digits --kimg 2 --out runs/digits
    python -m trainer --preset stylegan2-64 --data ./my_images --out runs/mine
    python -m trainer --resume runs/mine --kimg 500          # continue, same step count
    python -m trainer --preset dcgan-64 --data x.zip --dry-run [--json]
    torchrun --nproc_per_node=2 -m trainer --preset stylegan2-64 --data ... --out ...

Flags override the preset; bad flags exit with status 2 and one line naming the flag.
`--dry-run --json` prints one JSON object {config, dataset, problems} for the training wizard.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from ganexplorer.runs.folder import CONFIG_FILE

from .config import PRESETS, RESUMABLE, TrainConfig, field_help, flag, from_preset

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


class _InProcessParser(argparse.ArgumentParser):
    def error(self, message: str):  # for callers in another program (the wizard): no exit
        raise ValueError(message)



def build_parser(parser_class: type = _Parser) -> argparse.ArgumentParser:
    p = parser_class(prog="ganexplorer-train", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1],
                argument_default=argparse.SUPPRESS)
    p.add_argument("--preset", help=f"starting point: {', '.join(PRESETS)}")
    p.add_argument("--json", action="store_true", help="with --dry-run: one JSON object on stdout")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    helps = field_help()
    for f in dataclasses.fields(TrainConfig):
        if f.name == "preset":
            continue
        opt = flag(f.name)
        default = f" (base default {f.default}; a preset may change it)" if f.default != "" else ""
        text = f"{helps.get(f.name, '')}{default}".replace("%", "%%")
        if f.type in ("bool", bool):
            p.add_argument(opt, dest=f.name, action=argparse.BooleanOptionalAction, help=text)
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            p.add_argument(opt, dest=f.name, type=_typed(kind, opt), metavar=f.name.upper().replace("_", "-"),
                           help=text)
    return p


def _typed(kind, opt):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{opt} takes {'a whole number' if kind is int else 'a number'}, "
                                             f"not {text!r}") from None
    return parse


def resolve(ns: argparse.Namespace) -> TrainConfig:
    """Preset (or a resumed run's config.json), then the flags given."""
    given = {k: v for k, v in vars(ns).items() if k not in ("preset", "json", "debug")}
    if given.get("resume"):
        run = Path(given["resume"]).expanduser()
        cfg_path = run / CONFIG_FILE
        if not cfg_path.is_file():
            raise ValueError(f"--resume {given['resume']}: no config.json there, so the run never started; "
                             "start it again in place with --out")
        base = TrainConfig.from_dict(json.loads(cfg_path.read_text()))
        fixed = sorted(k for k in given if k not in RESUMABLE | {"resume", "dry_run"}
                       and given[k] != getattr(base, k))
        if fixed:
            raise ValueError(f"{flag(fixed[0])} cannot change when resuming (the run's config.json "
                             f"fixes it); only {', '.join(flag(k) for k in sorted(RESUMABLE))} can")
        return dataclasses.replace(base, **given, out=str(run))
    preset = getattr(ns, "preset", None)
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        return from_preset(preset, **given)
    return TrainConfig(**given)


def config_from_args(args: list[str]) -> TrainConfig:
    """The TrainConfig these trainer flags describe, resolved as the trainer resolves them,
    without exiting: a bad flag raises ValueError with the one-line message. The wizard
    fills its config so and validates it in-process (`validate()`)."""
    return resolve(build_parser(_InProcessParser).parse_args(args))


def dry_run(cfg: TrainConfig, as_json: bool) -> int:
    from .data import batch_problem, summarize
    summary = summarize(cfg.data, cfg.resolution, cfg.channels or None, cfg.resize) if cfg.data else \
        {"name": "", "count": 0, "resolution": None, "channels": None, "size_histogram": {},
         "problems": ["--data is required"]}
    problems = [p for p in cfg.validate() if not p.startswith("--out")] + \
        [p for p in summary["problems"] if p not in cfg.validate()]
    too_small = batch_problem(cfg.batch, summary["count"]) if summary.get("count") else None
    if too_small:   # the refusal training gives too, before any work
        problems.append(too_small)
    if as_json:
        print(json.dumps({"config": cfg.to_dict(), "dataset": summary, "problems": problems}))
    else:
        print("resolved config:")
        for k, v in cfg.to_dict().items():
            print(f"  {k:16s} {v}")
        print("dataset:")
        for k in ("name", "count", "resolution", "channels", "size_histogram", "credit", "licence"):
            if summary.get(k) not in (None, "", {}):
                print(f"  {k:16s} {summary[k]}")
        for w in summary.get("warnings") or []:
            print(f"warning: {w}")
        for pr in problems:
            print(f"problem: {pr}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    debug = getattr(ns, "debug", False)
    as_json = getattr(ns, "json", False)
    try:
        cfg = resolve(ns)
    except ValueError as e:
        sys.stderr.write(f"ganexplorer-train: error: {e}\n")
        return EXIT_USAGE
    if cfg.dry_run:
        return dry_run(cfg, as_json)
    problems = cfg.validate()
    if problems:
        sys.stderr.write(f"ganexplorer-train: error: {problems[0]}\n")
        for extra in problems[1:]:
            sys.stderr.write(f"  also: {extra}\n")
        return EXIT_USAGE
    from .data import DatasetError
    from .loop import EXIT_SAVE_FAILED, SaveError, TrainError, train
    try:
        return train(cfg)
    except SaveError as e:   # before the first event (config.json, the event log): the same line
        if debug:
            raise
        sys.stderr.write(f"ganexplorer-train: error: {e.message(None)}\n")
        return EXIT_SAVE_FAILED
    except (DatasetError, TrainError) as e:
        if debug:
            raise
        sys.stderr.write(f"ganexplorer-train: error: {e}\n")
        return EXIT_USAGE if isinstance(e, DatasetError) else 1
    except KeyboardInterrupt:
        sys.stderr.write("ganexplorer-train: interrupted twice; stopped without saving\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
