"""rosinality/stylegan2-pytorch checkpoints (`.pt`), converted into our StyleGAN2Generator.

Two layouts: `convert_weight.py` writes {'g_ema', 'latent_avg'}; `train.py` writes
{'g', 'd', 'g_ema', 'g_optim', 'd_optim', 'args', 'ada_aug_p'} (args an argparse.Namespace),
with no latent_avg: we then estimate it from 10,000 mapped samples (as NVIDIA's projector).

rosinality's Generator is the same network as NVIDIA's config-f 'skip' generator without
conv_clamp; only the names and a few shapes differ:

    style.{i+1}.*                   -> mapping.fc{i}.*          (EqualLinear, lr_mul 0.01)
    input.input [1, C, 4, 4]        -> synthesis.b4.const [C, 4, 4]
    conv1 / convs.{2k} / convs.{2k+1} -> b4.conv1 / b{8*2^k}.conv0 / .conv1
        .conv.weight [1, O, I, 3, 3] -> .weight [O, I, 3, 3]
        .conv.modulation.*           -> .affine.*
        .noise.weight [1]            -> .noise_strength []
        .activate.bias               -> .bias
    to_rgb1 / to_rgbs.{k}            -> b4.torgb / b{8*2^k}.torgb  (bias [1, 3, 1, 1] -> [3])
    noises.noise_{j} [1, 1, R, R]    -> the j-th conv's noise_const [R, R]

Both scale weights at run time by the same He gain and lr multiplier, so raw tensors copy over.
Channel widths are read from the tensor shapes (people change rosinality's table).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..fit import check_fit, load_state, probe
from ..limits import check_declared
from ..loaded import LoadedModel
from ..tensor_checks import stored_bytes
from . import torch_file

ID = "rosinality"
LABEL = "rosinality StyleGAN2 checkpoint"

LATENT_AVG_SAMPLES = 10_000   # as NVIDIA's projector estimates w_avg
LATENT_AVG_SEED = 123


def _generator_dict(obj: Any) -> dict | None:
    if isinstance(obj, dict) and isinstance(obj.get("g_ema"), dict):
        sd = torch_file.unwrap_prefix(obj["g_ema"])
        if "input.input" in sd and "style.1.weight" in sd:
            return sd
    return None


def sniff(path: Path, head: bytes) -> bool:
    return _generator_dict(torch_file.try_load(path, head)) is not None


def _t(sd: dict, key: str) -> torch.Tensor:
    if key not in sd:
        raise CheckpointError(f"the rosinality generator lacks {key}.")
    v = sd[key]
    if not isinstance(v, torch.Tensor):
        raise CheckpointError(f"{key} is not a tensor.")
    return v.float()


def convert(sd: dict, latent_avg: torch.Tensor | None, lr_mlp: float = 0.01):
    """rosinality g_ema state dict -> (StyleGAN2Generator, note about latent_avg)."""
    from ..stylegan2 import StyleGAN2Generator

    n_mlp = 0
    while f"style.{n_mlp + 1}.weight" in sd:
        n_mlp += 1
    w_dim = _t(sd, "style.1.weight").shape[1]
    const = _t(sd, "input.input")                        # [1, C4, 4, 4]
    if const.ndim != 4 or const.shape[2:] != (4, 4):
        raise CheckpointError(f"input.input has shape {list(const.shape)}, expected [1, C, 4, 4].")
    n_up = 0
    while f"convs.{2 * n_up}.conv.weight" in sd:
        n_up += 1
    img_resolution = 4 * 2 ** n_up
    channels = [const.shape[1]] + [_t(sd, f"convs.{2 * k}.conv.weight").shape[1] for k in range(n_up)]
    img_channels = _t(sd, "to_rgb1.conv.weight").shape[1]
    kwargs = dict(z_dim=int(w_dim), c_dim=0, w_dim=int(w_dim), img_resolution=img_resolution,
                  img_channels=int(img_channels),
                  mapping_kwargs=dict(num_layers=n_mlp, lr_multiplier=lr_mlp),
                  synthesis_kwargs=dict(channels=[int(c) for c in channels],
                                        architecture="skip", conv_clamp=None, num_fp16_res=0))
    check_declared(kwargs, "the rosinality generator")

    def factory() -> StyleGAN2Generator:
        return StyleGAN2Generator(**kwargs)

    G = probe(factory, "the rosinality generator")   # shapes only (meta); built for real below
    out: dict[str, torch.Tensor] = {}
    for i in range(n_mlp):
        out[f"mapping.fc{i}.weight"] = _t(sd, f"style.{i + 1}.weight")
        out[f"mapping.fc{i}.bias"] = _t(sd, f"style.{i + 1}.bias")
    out["synthesis.b4.const"] = const[0]

    def layer(dst: str, src: str, noise_idx: int, res: int):
        out[f"{dst}.weight"] = _t(sd, f"{src}.conv.weight")[0]
        out[f"{dst}.affine.weight"] = _t(sd, f"{src}.conv.modulation.weight")
        out[f"{dst}.affine.bias"] = _t(sd, f"{src}.conv.modulation.bias")
        out[f"{dst}.bias"] = _t(sd, f"{src}.activate.bias")
        out[f"{dst}.noise_strength"] = _t(sd, f"{src}.noise.weight").reshape([])
        noise_key = f"noises.noise_{noise_idx}"
        if noise_key in sd:
            out[f"{dst}.noise_const"] = _t(sd, noise_key).reshape(res, res)
        else:   # old checkpoints without stored noise: a fixed draw, seeded
            g = torch.Generator().manual_seed(noise_idx)
            out[f"{dst}.noise_const"] = torch.randn([res, res], generator=g)
        blur = f"{src}.conv.blur.kernel"
        if blur in sd:
            k = _t(sd, blur)
            out[f"{dst}.resample_filter"] = k / k.sum()

    def torgb(dst: str, src: str):
        out[f"{dst}.weight"] = _t(sd, f"{src}.conv.weight")[0]
        out[f"{dst}.affine.weight"] = _t(sd, f"{src}.conv.modulation.weight")
        out[f"{dst}.affine.bias"] = _t(sd, f"{src}.conv.modulation.bias")
        out[f"{dst}.bias"] = _t(sd, f"{src}.bias").reshape(-1)

    layer("synthesis.b4.conv1", "conv1", 0, 4)
    torgb("synthesis.b4.torgb", "to_rgb1")
    for k in range(n_up):
        res = 8 * 2 ** k
        b = f"synthesis.b{res}"
        layer(f"{b}.conv0", f"convs.{2 * k}", 2 * k + 1, res)
        layer(f"{b}.conv1", f"convs.{2 * k + 1}", 2 * k + 2, res)
        torgb(f"{b}.torgb", f"to_rgbs.{k}")
        up = f"to_rgbs.{k}.upsample.kernel"
        if up in sd:
            kern = _t(sd, up)
            out[f"{b}.resample_filter"] = kern / kern.sum()
    mine = G.state_dict()
    for key, value in out.items():
        if key not in mine:
            raise CheckpointError(f"internal mapping error: {key}")
        if mine[key].shape != value.shape:
            raise CheckpointError(f"layer {key} has shape {list(value.shape)} in the file but the "
                                  f"architecture needs {list(mine[key].shape)}.")
    if latent_avg is not None:
        latent_avg = latent_avg.float().reshape(-1)
        if latent_avg.shape[0] != w_dim:
            raise CheckpointError(f"latent_avg has {latent_avg.shape[0]} entries, expected {w_dim}.")
        out["mapping.w_avg"] = latent_avg
    else:
        out["mapping.w_avg"] = torch.zeros(w_dim)
    # Filters the file does not carry keep the network's defaults (optional keys).
    optional = [k for k in mine if k not in out]
    check_fit(G, {k: v.shape for k, v in out.items()}, stored_bytes(sd[k] for k in sd
              if isinstance(sd[k], torch.Tensor)), "the rosinality generator", optional)
    G = load_state(factory(), out, "the rosinality generator", optional)
    note = "latent_avg stored in the file"
    if latent_avg is None:
        G.mapping_network.w_avg.copy_(G.estimate_w_avg(LATENT_AVG_SAMPLES, LATENT_AVG_SEED))
        note = (f"no latent_avg in the file: estimated as the mean w of {LATENT_AVG_SAMPLES} "
                f"z ~ N(0, I) (RandomState({LATENT_AVG_SEED}))")
    return G, note


def read(path: Path, sha256: str) -> LoadedModel:
    obj = torch_file.load(path)
    sd = _generator_dict(obj)
    if sd is None:
        raise CheckpointError(f"{path.name} has no rosinality 'g_ema' generator.")
    latent_avg = obj.get("latent_avg")
    if latent_avg is not None and not isinstance(latent_avg, torch.Tensor):
        raise CheckpointError(f"{path.name}: latent_avg is a {type(latent_avg).__name__}, not a tensor.")
    args = obj.get("args")
    lr_mlp = getattr(args, "lr_mlp", 0.01) if isinstance(args, argparse.Namespace) else 0.01
    if not isinstance(lr_mlp, (int, float)) or not math.isfinite(lr_mlp) or lr_mlp <= 0:
        lr_mlp = 0.01
    layout = "train.py" if "g" in obj or "args" in obj else "convert_weight.py"
    G, note = convert(sd, latent_avg, lr_mlp)
    info = {"name": path.stem, "provenance": f"rosinality/stylegan2-pytorch checkpoint ({layout} layout)",
            "truncation_center": note}
    if isinstance(args, argparse.Namespace):
        info["train_args"] = {k: v for k, v in vars(args).items()
                              if isinstance(v, (int, float, str, bool)) or v is None}
    return LoadedModel(G=G, path=path, format=ID, sha256=sha256, info=info)
