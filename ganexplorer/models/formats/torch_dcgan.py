"""pytorch/examples DCGAN generator state dicts (`netG_epoch_N.pth` and the tutorial's wraps).

Accepted: a bare state dict of an `nn.Sequential` named `main`, or one wrapped under
'netG_state_dict', 'state_dict', 'generator', 'netG', 'G' or 'model'; keys may carry
DataParallel's 'module.' prefix. The architecture is read off the shapes:

    transposed convs  main.{i}.weight [in, out, 4, 4]    (first in = nz, last out = nc)
    batch norms       main.{i}.{weight,bias,running_mean,running_var,num_batches_tracked}

Parameter-free layers (ReLU, Dropout) may sit anywhere: only the order of the weighted
layers matters, so we renumber them into DCGANGenerator's triplets. Anything else (other
kernel sizes, extra convolutions, a missing batch norm) is refused with what was found.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..fit import build_checked
from ..limits import check_declared
from ..loaded import LoadedModel
from . import torch_file

ID = "torch-dcgan"
LABEL = "PyTorch DCGAN generator (pytorch/examples layout)"

WRAPPERS = ("netG_state_dict", "state_dict", "generator", "netG", "G", "model")
_KEY = re.compile(r"^main\.(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$")
BN_KEYS = ("weight", "bias", "running_mean", "running_var")


def _state_dict(obj: Any) -> tuple[dict | None, str]:
    """Find the generator's state dict: bare or under a wrapper key."""
    if isinstance(obj, dict):
        sd = torch_file.unwrap_prefix(obj)
        if any(isinstance(k, str) and k.startswith("main.") for k in sd):
            return sd, "bare state dict"
        for key in WRAPPERS:
            inner = obj.get(key)
            if isinstance(inner, dict):
                sd = torch_file.unwrap_prefix(inner)
                if any(isinstance(k, str) and k.startswith("main.") for k in sd):
                    return sd, f"state dict under '{key}'"
    return None, ""


def sniff(path: Path, head: bytes) -> bool:
    sd, _ = _state_dict(torch_file.try_load(path, head))
    return sd is not None


def infer(sd: dict) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """-> (DCGANGenerator kwargs, state dict renamed to its layout). Raises CheckpointError."""
    layers: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in sd.items():
        m = _KEY.match(str(key))
        if not m:
            raise CheckpointError(f"unexpected entry {key!r} in a DCGAN generator state dict "
                                  "(expected only main.{i}.weight/bias and batch-norm statistics).")
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{key} is not a tensor.")
        layers.setdefault(int(m.group(1)), {})[m.group(2)] = value
    order = sorted(layers)
    kinds = []
    for i in order:
        p = layers[i]
        w = p.get("weight")
        if w is not None and w.ndim == 4:
            kinds.append(("conv", i))
        elif "running_mean" in p:
            if w is None or "bias" not in p:
                raise CheckpointError(f"main.{i} is a batch norm without learnable scale/shift "
                                      "(affine=False); DCGANGenerator expects affine batch norms.")
            kinds.append(("bn", i))
        else:
            raise CheckpointError(f"main.{i} holds {sorted(p)} with shapes "
                                  f"{[list(t.shape) for t in p.values()]}: not a transposed conv or a batch norm.")
    pattern = "".join("C" if k == "conv" else "B" for k, _ in kinds)
    if not re.fullmatch(r"(CB)+C", pattern):
        raise CheckpointError(f"the layers read as {pattern} (C = transposed conv, B = batch norm); "
                              "a DCGAN generator alternates CB ... CB and ends with C.")
    convs = [layers[i] for k, i in kinds if k == "conv"]
    bns = [layers[i] for k, i in kinds if k == "bn"]
    for j, c in enumerate(convs):
        if tuple(c["weight"].shape[2:]) != (4, 4):
            raise CheckpointError(f"transposed conv {j} has a {tuple(c['weight'].shape[2:])} kernel; "
                                  "the DCGAN layout uses 4x4 kernels throughout.")
        if j and c["weight"].shape[0] != convs[j - 1]["weight"].shape[1]:
            raise CheckpointError(f"transposed conv {j} takes {c['weight'].shape[0]} channels but the "
                                  f"previous layer gives {convs[j - 1]['weight'].shape[1]}.")
    for j, b in enumerate(bns):
        if b["weight"].shape[0] != convs[j]["weight"].shape[1]:
            raise CheckpointError(f"batch norm {j} has {b['weight'].shape[0]} channels, its conv "
                                  f"{convs[j]['weight'].shape[1]}.")
    has_bias = ["bias" in c for c in convs]
    if any(has_bias) != all(has_bias):
        raise CheckpointError("only some transposed convs have a bias; DCGANGenerator needs all or none.")
    nz = int(convs[0]["weight"].shape[0])
    nc = int(convs[-1]["weight"].shape[1])
    channels = [int(c["weight"].shape[1]) for c in convs[:-1]]
    res = 2 ** (len(channels) + 2)
    if nc not in (1, 3):
        raise CheckpointError(f"the last layer makes {nc} channels; GAN Explorer shows 1 (grey) or 3 (RGB).")
    if res not in (16, 32, 64, 128, 256):
        raise CheckpointError(f"{len(convs)} transposed convs make {res}x{res} images; "
                              "supported are 16 to 256 pixels.")
    kwargs = dict(z_dim=nz, img_resolution=res, img_channels=nc, ngf=channels[-1],
                  channel_max=max(channels), channels=channels, bias=bool(has_bias[0]))
    out: dict[str, torch.Tensor] = {}
    for j, c in enumerate(convs):   # our Sequential: conv 3j, bn 3j+1, relu 3j+2; last conv at 3n
        for name, t in c.items():
            out[f"main.{3 * j}.{name}"] = t.float()
    for j, b in enumerate(bns):
        for name, t in b.items():
            out[f"main.{3 * j + 1}.{name}"] = t if name == "num_batches_tracked" else t.float()
        out.setdefault(f"main.{3 * j + 1}.num_batches_tracked", torch.tensor(0))
    return kwargs, out


def build(sd: dict):
    from ..dcgan import DCGANGenerator
    kwargs, out = infer(sd)
    check_declared(kwargs, "the DCGAN generator")
    # Shapes compared on the meta device before the network is allocated.
    return build_checked(lambda: DCGANGenerator(**kwargs), out, "the DCGAN generator")


def read(path: Path, sha256: str) -> LoadedModel:
    sd, where = _state_dict(torch_file.load(path))
    if sd is None:
        raise CheckpointError(f"{path.name} holds no DCGAN generator state dict.")
    try:
        G = build(sd)
    except CheckpointError as e:
        raise CheckpointError(f"{path.name}: {e}") from None
    info = {"name": path.stem, "provenance": f"PyTorch DCGAN ({where})",
            "note": "z is [N, nz]; the first layer's input is taken as z: a conditional DCGAN "
                    "(nz + n_classes inputs) cannot be told apart from its shapes."}
    return LoadedModel(G=G, path=path, format=ID, sha256=sha256, info=info)
