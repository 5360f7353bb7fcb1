"""lucidrains/stylegan2-pytorch checkpoints: `models/NAME/model_N.pt` = {'GAN': state_dict,
'version': ..., ['amp']}, with the trainer's hyper-parameters in `models/NAME/.config.json`
(image_size, network_capacity, transparent, attn_layers, no_const, and in newer versions lr_mlp).

We take the EMA copies (`SE.*` style network, `GE.*` generator) into LucidrainsGenerator.
Everything but lr_mlp can be read off the tensors; lr_mlp comes from the config, else
their command line's default 0.1 (and the info says so).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..fit import build_checked
from ..loaded import LoadedModel
from . import torch_file

ID = "lucidrains"
LABEL = "lucidrains stylegan2-pytorch checkpoint"

CONFIG_NAME = ".config.json"
DEFAULT_LR_MLP = 0.1
W_AVG_SAMPLES = 10_000
W_AVG_SEED = 123


def _gan_dict(obj: Any) -> dict | None:
    if isinstance(obj, dict) and isinstance(obj.get("GAN"), dict):
        sd = obj["GAN"]
        if any(isinstance(k, str) and k.startswith("GE.") for k in sd) and \
                any(isinstance(k, str) and k.startswith("SE.") for k in sd):
            return sd
    return None


def sniff(path: Path, head: bytes) -> bool:
    return _gan_dict(torch_file.try_load(path, head)) is not None


def read_config(path: Path) -> tuple[dict, str]:
    """The trainer's `.config.json` beside model_N.pt (their models/NAME/ folder)."""
    for cand in (path.parent / CONFIG_NAME, path.parent.parent / f"{path.parent.name}{CONFIG_NAME}"):
        if cand.is_file():
            if cand.stat().st_size > 1_000_000:
                raise CheckpointError(f"{cand.name} is too large to be a lucidrains config.")
            try:
                cfg = json.loads(cand.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
                raise CheckpointError(f"{cand} is not readable JSON ({e}).") from None
            if not isinstance(cfg, dict):
                raise CheckpointError(f"{cand} does not hold a JSON object.")
            return cfg, str(cand)
    return {}, ""


def _t(sd: dict, key: str) -> torch.Tensor:
    v = sd.get(key)
    if not isinstance(v, torch.Tensor):
        raise CheckpointError(f"the checkpoint lacks tensor {key}.")
    return v


def build(gan: dict, cfg: dict):
    """-> (LucidrainsGenerator with the EMA weights, notes)."""
    from ..lucidrains_stylegan2 import LucidrainsGenerator
    sd = {k: v for k, v in gan.items() if isinstance(k, str) and (k.startswith("SE.") or k.startswith("GE."))}
    n_blocks = 0
    while f"GE.blocks.{n_blocks}.conv1.weight" in sd:
        n_blocks += 1
    if n_blocks < 2:
        raise CheckpointError("no generator blocks (GE.blocks.{i}.conv1.weight) found.")
    attn_layers, attn_inner = _attention_layout(sd, n_blocks, cfg)
    depth = 0
    while f"SE.net.{2 * depth}.weight" in sd:
        depth += 1
    if depth == 0:
        raise CheckpointError("no style network layers (SE.net.{i}.weight) found.")
    latent_dim = int(_t(sd, "SE.net.0.weight").shape[1])
    channels = [int(_t(sd, f"GE.blocks.{i}.conv1.weight").shape[0]) for i in range(n_blocks)]
    rgb_out = int(_t(sd, "GE.blocks.0.to_rgb.conv.weight").shape[0])
    if rgb_out != 3:
        raise CheckpointError(f"the model makes {rgb_out}-channel images (transparent=True); "
                              "GAN Explorer shows RGB models only.")
    image_size = 2 ** (n_blocks + 1)
    if "image_size" in cfg and cfg["image_size"] != image_size:
        raise CheckpointError(f"the config says image_size {cfg['image_size']} but the weights "
                              f"have {n_blocks} blocks ({image_size}x{image_size}).")
    lr_mlp = cfg.get("lr_mlp", DEFAULT_LR_MLP)
    if not isinstance(lr_mlp, (int, float)) or not math.isfinite(lr_mlp) or lr_mlp <= 0:
        raise CheckpointError(f"the config's lr_mlp {lr_mlp!r} is not a positive number.")
    kwargs = dict(image_size=image_size, latent_dim=latent_dim,
                  network_capacity=int(cfg.get("network_capacity", 16)),
                  style_depth=depth, lr_mlp=float(lr_mlp),
                  no_const="GE.to_initial_block.weight" in sd,
                  initial_conv="GE.initial_conv.weight" in sd,
                  rgb_blur="GE.blocks.0.to_rgb.upsample.1.f" in sd,
                  channels=channels, attn_layers=attn_layers, attn_inner_dim=attn_inner)
    # Shapes checked on the meta device first (the shared fit helper); w_avg and the const
    # noise image are ours, not in their files.
    G = build_checked(lambda: LucidrainsGenerator(**kwargs), {k: v.float() for k, v in sd.items()},
                      "the lucidrains generator", optional=("w_avg", "noise_const"))
    G.w_avg.copy_(G.estimate_w_avg(W_AVG_SAMPLES, W_AVG_SEED))
    notes = {"truncation_center": f"mean w of {W_AVG_SAMPLES} z ~ N(0, I) (RandomState({W_AVG_SEED})); "
                                  "lucidrains stores none",
             "lr_mlp": float(lr_mlp) if "lr_mlp" in cfg else
             f"{DEFAULT_LR_MLP} (not in the config: their command line's default assumed)",
             "noise": "'const' uses a stored uniform noise image (seed 0); lucidrains always draws fresh noise"}
    if attn_layers:
        notes["attention"] = (f"linear attention before layer(s) {attn_layers} (their numbering), "
                              f"width {attn_inner} as 8 heads (their default; the file cannot say)")
    return G, notes


def _attention_layout(sd: dict, n_blocks: int, cfg: dict) -> tuple[list[int], int]:
    """(attn_layers in their numbering, attention width) from the GE.attns.{i}.* keys.

    Block i carries attention when `GE.attns.{i}.0.fn.fn.to_q.weight` exists (their current
    layout: residual PreNorm(LinearAttention) + residual PreNorm(1x1 MLP)). Early versions
    used another attention module (Rezero around ImageLinearAttention, keys `...0.fn.g`)."""
    blocks = sorted({int(m.group(1)) for k in sd if (m := re.match(r"GE\.attns\.(\d+)\.", k))})
    if any(f"GE.attns.{i}.0.fn.g" in sd for i in blocks):
        raise CheckpointError("this lucidrains model uses the attention of their early versions "
                              "(Rezero around linear_attention_transformer's ImageLinearAttention), "
                              "which GAN Explorer does not implement; only their current layout is read.")
    missing = [i for i in blocks if f"GE.attns.{i}.0.fn.fn.to_q.weight" not in sd]
    if missing or any(i >= n_blocks for i in blocks):
        raise CheckpointError(f"the attention tensors of block(s) {missing or blocks} are not in the "
                              "layout of lucidrains' attention (GE.attns.{i}.0.fn.fn.to_q.weight).")
    layers = [n_blocks - i for i in blocks]          # their numbering: the last block is 1
    declared = cfg.get("attn_layers")
    if isinstance(declared, list):   # their code ignores numbers beyond the block count
        declared = sorted(n for n in declared if isinstance(n, int) and 1 <= n <= n_blocks)
    if declared and declared != sorted(layers):
        raise CheckpointError(f"the config says attn_layers {declared} but the weights hold attention "
                              f"at layer(s) {sorted(layers)}.")
    inner = int(_t(sd, f"GE.attns.{blocks[0]}.0.fn.fn.to_q.weight").shape[0]) if blocks else 512
    return sorted(layers), inner


def read(path: Path, sha256: str) -> LoadedModel:
    obj = torch_file.load(path)
    gan = _gan_dict(obj)
    if gan is None:
        raise CheckpointError(f"{path.name} has no lucidrains 'GAN' state dict with SE./GE. entries.")
    cfg, cfg_path = read_config(path)
    try:
        G, notes = build(gan, cfg)
    except CheckpointError as e:
        raise CheckpointError(f"{path.name}: {e}") from None
    m = re.match(r"model_(\d+)$", path.stem)
    info = {"name": f"{path.parent.name}/{path.stem}" if m else path.stem,
            "provenance": "lucidrains/stylegan2-pytorch checkpoint (EMA networks SE/GE)",
            "config_file": cfg_path or "none found (hyper-parameters read from the tensors)",
            "version": str(obj.get("version", "")), **notes}
    return LoadedModel(G=G, path=path, format=ID, sha256=sha256, info=info)
