"""Generator speed: our render path (`ganexplorer.render.synth.synthesize`) in each back end
against the eager float32 reference and a peer, in the same run, rounds alternating.

    .venv/bin/python bench/generator_speed.py [--json] [--device cpu|cuda] [--rounds N]
        [--threads N] [--models dcgan64,dcgan64-b64,sg2-256,sg2-1024,sg3t-256] [--busy K]
        [--peer-src DIR]

Networks (random weights in NVIDIA's layer layout; biases and noise strengths drawn too,
so no term is zero):
  dcgan64 / dcgan64-b64   DCGAN-64 (pytorch/examples widths, ngf 64), batch 1 / 64; the
                          peer is pytorch/examples' Generator, re-created below
  sg2-256                 StyleGAN2-256, stylegan2-ada `--cfg=auto` widths (channel_base
                          16384, 2 mapping layers, conv_clamp 256)
  sg2-1024                StyleGAN2-1024, config-f widths (channel_base 32768, 8 mapping layers)
  sg3t-256                StyleGAN3-T 256 (channel_base 16384, NVIDIA's 256-px setting)
Columns per row: for the reference (our synthesis network called directly, eager float32),
the peer (when there is one) and `synthesize` in each back end: median and p95 ms per
call, GFLOP/s (FLOPs counted once with torch.utils.flop_counter), speed-up over the
reference, and max abs difference from the reference's image. `--busy K` runs every row
again while K processes spin on the CPU and reports each p95 beside its quiet figure.
`--peer-src DIR` times NVIDIA's own generator from a local copy of stylegan2-ada-pytorch
or stylegan3 (never shipped; skipped when absent).

Figures are per call of the whole batch; divide by the batch for per image.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganexplorer.models.dcgan import DCGANGenerator  # noqa: E402
from ganexplorer.models.stylegan2 import StyleGAN2Generator  # noqa: E402
from ganexplorer.render import backends  # noqa: E402
from ganexplorer.render.synth import synthesize  # noqa: E402

BACKENDS = ("eager", "openvino")
MODELS = ("dcgan64", "dcgan64-b64", "sg2-256", "sg2-1024", "sg3t-256", "tiny-dcgan", "tiny-sg2")


# ---------------------------------------------------------------- the peer (pytorch/examples)

class ExamplesDCGAN(nn.Module):
    """pytorch/examples dcgan/main.py's Generator, re-created: z [N, nz, 1, 1] -> [N, nc, 64, 64]."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


# ---------------------------------------------------------------- networks

def _randomise(G: nn.Module, seed: int) -> nn.Module:
    """Trained-looking random weights: N(0, 1) weights (equalised lr), small random biases,
    noise strengths, BatchNorm statistics, w_avg; so every term of the forward pass counts."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(G.named_parameters()) + list(G.named_buffers()):
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "noise_strength":
                t.copy_(torch.rand(t.shape, generator=gen) * 0.2)
            elif leaf == "bias" and ".affine." not in name:
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
            elif leaf == "running_mean" or leaf == "w_avg":
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
            elif leaf == "running_var":
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif leaf == "weight" and t.ndim == 1:   # BatchNorm scale
                t.copy_(1 + torch.randn(t.shape, generator=gen) * 0.1)
            elif leaf == "weight" and t.ndim >= 2 and isinstance(G, DCGANGenerator):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.02)   # DCGAN's init (no runtime gain)
    return G.eval().requires_grad_(False)   # inference only (and FlopCounterMode wants it)


def build(name: str):
    """-> (G, batch, description) for a model name of the table."""
    if name in ("dcgan64", "dcgan64-b64"):
        return (_randomise(DCGANGenerator(z_dim=100, img_resolution=64, ngf=64), 1),
                64 if name.endswith("b64") else 1, "DCGAN-64 (pytorch/examples widths)")
    if name == "sg2-256":
        G = StyleGAN2Generator(512, 0, 512, 256, 3, dict(num_layers=2),
                               dict(channel_base=16384, channel_max=512, num_fp16_res=4, conv_clamp=256))
        return _randomise(G, 2), 1, "StyleGAN2-256, stylegan2-ada --cfg=auto widths"
    if name == "sg2-1024":
        G = StyleGAN2Generator(512, 0, 512, 1024, 3, dict(num_layers=8),
                               dict(channel_base=32768, channel_max=512))
        return _randomise(G, 3), 1, "StyleGAN2-1024, config-f widths"
    if name == "sg3t-256":
        from ganexplorer.models.stylegan3 import StyleGAN3Generator
        G = StyleGAN3Generator(512, 0, 512, 256, 3, channel_base=16384, channel_max=512)
        return _randomise(G, 4), 1, "StyleGAN3-T 256 (channel_base 16384)"
    if name == "tiny-dcgan":     # the smoke test's sizes
        return _randomise(DCGANGenerator(z_dim=16, img_resolution=64, ngf=4), 5), 2, "tiny DCGAN-64 (ngf 4)"
    if name == "tiny-sg2":
        G = StyleGAN2Generator(32, 0, 32, 16, 3, dict(num_layers=2), dict(channel_base=256, channel_max=32))
        return _randomise(G, 6), 1, "tiny StyleGAN2-16"
    raise SystemExit(f"generator_speed: unknown model {name!r}")


def count_flops(fn) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        fn()
    return float(fc.get_total_flops())


# ---------------------------------------------------------------- peers

def examples_peer(G: DCGANGenerator, ws: torch.Tensor):
    peer = ExamplesDCGAN(G.z_dim, G.ngf, G.img_channels).eval()
    peer.load_state_dict(G.state_dict(), strict=True)    # the same layout, key for key
    z = ws[:, 0, :, None, None].contiguous()
    return "pytorch/examples G", lambda: peer(z)


def nvidia_peer(src: Path, G: nn.Module, ws: torch.Tensor, device: torch.device):
    """NVIDIA's generator from a local checkout, loaded with our weights (key for key)."""
    sys.path.insert(0, str(src))
    try:
        if G.kind == "stylegan3":
            from training.networks_stylegan3 import Generator   # type: ignore[import-not-found]
        else:
            try:
                from training.networks_stylegan2 import Generator  # type: ignore[import-not-found]  # stylegan3 repo
            except ImportError:
                from training.networks import Generator  # type: ignore[import-not-found]  # stylegan2-ada-pytorch
        cfg = G.config()
        kwargs = dict(z_dim=cfg["z_dim"], c_dim=cfg["c_dim"], w_dim=cfg["w_dim"],
                      img_resolution=cfg["img_resolution"], img_channels=cfg["img_channels"],
                      mapping_kwargs=cfg.get("mapping_kwargs") or {})
        if G.kind == "stylegan3":
            kwargs.update({k: v for k, v in cfg.items() if k not in kwargs})
        else:
            kwargs["synthesis_kwargs"] = cfg.get("synthesis_kwargs") or {}
        peer = Generator(**kwargs).eval().to(device)
        peer.load_state_dict(G.state_dict(), strict=False)
        return "NVIDIA's code", lambda: peer.synthesis(ws, noise_mode="const", force_fp32=True)
    finally:
        sys.path.remove(str(src))


# ---------------------------------------------------------------- timing

def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_rounds(contenders: dict, rounds: int, device: torch.device) -> dict[str, list[float]]:
    """Each round calls every contender once, in turn (alternating: drifting load hits all)."""
    times = {k: [] for k in contenders}
    with torch.no_grad():
        for fn in contenders.values():   # warm-up
            fn()
        _sync(device)
        for _ in range(rounds):
            for k, fn in contenders.items():
                t0 = time.perf_counter()
                fn()
                _sync(device)
                times[k].append(time.perf_counter() - t0)
    return times


def _stats(ts: list[float]) -> dict:
    return {"median_ms": statistics.median(ts) * 1e3, "p95_ms": float(np.percentile(ts, 95)) * 1e3}


def run_row(name: str, args, device: torch.device) -> dict:
    try:
        G, batch, desc = build(name)
    except (ImportError, TypeError, ValueError) as e:
        return {"model": name, "skipped": f"{type(e).__name__}: {e}"}
    G = G.to(device)
    ws = torch.from_numpy(np.random.RandomState(7).randn(batch, G.z_dim).astype(np.float32)).to(device)
    with torch.no_grad():
        ws = G.mapping(ws, None, psi=0.7)          # [N, num_ws, w_dim]
    ws_np = ws.cpu().numpy()
    contenders: dict = {"reference": lambda: G.synthesis(ws, noise_mode="const")}
    outputs: dict = {}
    peer_name = None
    if isinstance(G, DCGANGenerator):
        peer_name, contenders["peer"] = examples_peer(G, ws)
    elif args.peer_src:
        try:
            peer_name, contenders["peer"] = nvidia_peer(Path(args.peer_src), G, ws, device)
        except Exception as e:   # a checkout that does not import here: say so, keep the row
            peer_name = f"skipped ({type(e).__name__}: {e})"
    row: dict = {"model": name, "description": desc, "batch": batch, "device": device.type,
                 "peer_name": peer_name, "backends": {}}
    for b in BACKENDS:
        if b != "eager" and device.type != "cpu":
            continue
        if b != "eager":
            t0 = time.perf_counter()
            prepared = backends.prepare_async(G, tuple(ws.shape))
            prepared.wait()
            row["backends"][b] = {"build_s": time.perf_counter() - t0, "from_disk": prepared.from_disk,
                                  "state": prepared.state, "error": prepared.error}
            if not prepared.ready():
                continue
        contenders[b] = (lambda b=b: synthesize(G, ws_np, batch_size=batch, backend=b))
    with torch.no_grad():
        for k, fn in contenders.items():
            out = fn()
            outputs[k] = torch.as_tensor(np.asarray(out.cpu() if torch.is_tensor(out) else out)).float()
    flops = count_flops(contenders["reference"])
    row["gflop"] = flops / 1e9
    times = time_rounds(contenders, args.rounds, device)
    ref_med = statistics.median(times["reference"])
    for k, ts in times.items():
        s = _stats(ts)
        s["gflops"] = flops / statistics.median(ts) / 1e9
        s["speedup_vs_reference"] = ref_med / statistics.median(ts)
        s["max_abs_diff"] = float((outputs[k] - outputs["reference"]).abs().max())
        if k in ("reference", "peer"):
            row[k] = s
        else:
            row["backends"].setdefault(k, {}).update(s)
    if "peer" in times:
        peer_med = statistics.median(times["peer"])
        for k in row["backends"]:
            if k in times:
                row["backends"][k]["speedup_vs_peer"] = peer_med / statistics.median(times[k])
    if args.busy:
        row["busy"] = busy_rerun(contenders, args, device)
        for k, s in row["busy"].items():
            quiet = row[k] if k in ("reference", "peer") else row["backends"][k]
            s["p95_vs_quiet"] = s["p95_ms"] / quiet["p95_ms"]
    return row


def busy_rerun(contenders: dict, args, device: torch.device) -> dict:
    """The same contenders while `args.busy` processes keep cores busy."""
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        time.sleep(1.0)          # let the load show in /proc/stat before the policy reads it
        times = time_rounds(contenders, args.rounds, device)
    finally:
        for p in spin:
            p.kill()
            p.wait()
    return {k: _stats(ts) for k, ts in times.items()}


# ---------------------------------------------------------------- output

def print_table(rows: list[dict], meta: dict) -> None:
    print(f"# {meta['device']}, {meta['threads']} threads, {meta['rounds']} rounds, torch {meta['torch']}, "
          f"load {meta['loadavg']:.1f} at start")
    hdr = f"{'model':<13}{'batch':>6}  {'contender':<22}{'median ms':>11}{'p95 ms':>10}{'GFLOP/s':>9}" \
          f"{'vs ref':>8}{'vs peer':>9}{'max|diff|':>11}"
    print(hdr)
    for row in rows:
        if "skipped" in row:
            print(f"{row['model']:<13}  skipped: {row['skipped']}")
            continue
        entries = [("reference (eager)", row["reference"])]
        if "peer" in row:
            entries.append((row["peer_name"], row["peer"]))
        elif row.get("peer_name"):
            print(f"{row['model']:<13}  peer {row['peer_name']}")
        entries += [(f"synthesize[{k}]", v) for k, v in row["backends"].items() if "median_ms" in v]
        for label, s in entries:
            vp = s.get("speedup_vs_peer")
            print(f"{row['model']:<13}{row['batch']:>6}  {label[:22]:<22}{s['median_ms']:>11.3f}{s['p95_ms']:>10.3f}"
                  f"{s['gflops']:>9.1f}{s['speedup_vs_reference']:>7.2f}x"
                  f"{(f'{vp:.2f}x' if vp else '-'):>9}{s['max_abs_diff']:>11.2e}")
        for k, v in row["backends"].items():
            if "build_s" in v:
                print(f"{'':<19}{k}: graph {'read from disk' if v['from_disk'] else 'built'} in "
                      f"{v['build_s']:.1f} s, {v['state']}{' (' + v['error'] + ')' if v.get('error') else ''}")
        for k, s in row.get("busy", {}).items():
            print(f"{'':<19}busy x{meta['busy']}: {k} p95 {s['p95_ms']:.2f} ms = {s['p95_vs_quiet']:.2f}x quiet")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--rounds", type=int, default=30, help="timed calls per contender (default 30)")
    p.add_argument("--threads", type=int, default=None,
                   help="intra-op threads for every contender (default: the render path's load-aware "
                        "policy; the reference and peer use torch's default)")
    p.add_argument("--models", default="dcgan64,dcgan64-b64,sg2-256,sg2-1024,sg3t-256")
    p.add_argument("--busy", type=int, default=0, help="also time each row with K spinning processes")
    p.add_argument("--peer-src", default=None, help="a local copy of NVIDIA's stylegan2-ada-pytorch or stylegan3")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: this machine has no CUDA device torch can use")
    if args.peer_src and not Path(args.peer_src, "training").is_dir():
        print(f"generator_speed: --peer-src {args.peer_src} has no training/ folder; NVIDIA peer skipped",
              file=sys.stderr)
        args.peer_src = None
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ[backends.threads.THREADS_ENV] = str(args.threads)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        p.error(f"--models: unknown {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    device = torch.device(args.device)
    meta = {"device": args.device, "threads": args.threads or f"policy/{torch.get_num_threads()}",
            "rounds": args.rounds, "torch": torch.__version__, "loadavg": os.getloadavg()[0],
            "busy": args.busy, "tolerance": backends.TOLERANCE}
    rows = [run_row(name, args, device) for name in names]
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=1))
    else:
        print_table(rows, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
