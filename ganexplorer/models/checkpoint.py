"""Our native checkpoint: one `.safetensors` file, weights plus a JSON description.

The JSON sits in the safetensors header under `__metadata__["ganexplorer"]`:

    {"format": "ganexplorer-checkpoint", "version": 1,
     "nets": {"G": {"class_name": "DCGANGenerator", "kwargs": {...}}, "D": {...}},
     "info": {"name", "kind", "credit", "licence", "provenance", ...}}

Tensors are named `<net>.<state-dict key>`, e.g. `G.main.0.weight`. `G` is the generator
the app shows (the EMA copy for trained models); `D` (discriminator) and `E` (inversion
encoder) are optional. Nothing in the file is executed: class names are looked up in
`networks.network_classes()`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from ..atomic import atomic_path
from .errors import CheckpointError
from .networks import build_network

FORMAT = "ganexplorer-checkpoint"
VERSION = 1
SUFFIX = ".safetensors"


@dataclass
class NativeCheckpoint:
    nets: dict[str, nn.Module]
    info: dict[str, Any] = field(default_factory=dict)


def network_spec(net: nn.Module) -> dict[str, Any]:
    return {"class_name": type(net).__name__, "kwargs": net.config()}


def save_checkpoint(path: str | os.PathLike, nets: dict[str, nn.Module],
                    info: dict[str, Any] | None = None) -> Path:
    """Write `nets` (name -> module with .config()) and `info` atomically to `path`."""
    path = Path(path)
    if "G" not in nets:
        raise ValueError("a checkpoint needs a generator under the name 'G'")
    header = {"format": FORMAT, "version": VERSION,
              "nets": {name: network_spec(net) for name, net in nets.items()},
              "info": info or {}}
    tensors: dict[str, torch.Tensor] = {}
    for name, net in nets.items():
        for key, value in net.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().to("cpu").contiguous()
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"ganexplorer": json.dumps(header)})
    return path


def is_native(head: bytes) -> bool:
    """Sniff: a safetensors header (u64 length, then '{') that mentions our format."""
    if len(head) < 10 or head[8:9] != b"{":
        return False
    n = int.from_bytes(head[:8], "little")
    return 0 < n < 100_000_000 and b"ganexplorer" in head[8:8 + min(n, len(head) - 8)]


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    name = Path(path).name
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as e:  # safetensors raises several types for damaged files
        raise CheckpointError(f"{name} is not a readable safetensors file ({e}); "
                              "it may be truncated or damaged — save or convert it again.") from None
    try:
        header = json.loads(meta["ganexplorer"])
    except (KeyError, json.JSONDecodeError):
        raise CheckpointError(f"{name} is a safetensors file but not a GAN Explorer checkpoint "
                              "(no 'ganexplorer' description in its header).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{name}: unknown checkpoint description; expected format {FORMAT!r}.")
    if header.get("version", 0) > VERSION:
        raise CheckpointError(f"{name} was written by a newer GAN Explorer (format version "
                              f"{header.get('version')}); update GAN Explorer to open it.")
    return header


def load_checkpoint(path: str | os.PathLike, which: tuple[str, ...] | None = None) -> NativeCheckpoint:
    """Read a native checkpoint. `which` limits the networks built (default: all)."""
    name = Path(path).name
    header = read_header(path)
    specs = header.get("nets")
    if not isinstance(specs, dict) or "G" not in specs:
        raise CheckpointError(f"{name} describes no generator 'G'.")
    nets: dict[str, nn.Module] = {}
    try:
        with safe_open(str(path), framework="pt") as f:
            keys = list(f.keys())
            for net_name, spec in specs.items():
                if which is not None and net_name not in which:
                    continue
                try:
                    net = build_network(spec["class_name"], dict(spec.get("kwargs", {})))
                except KeyError:
                    raise CheckpointError(f"{name}: network '{net_name}' has an unknown class "
                                          f"{spec.get('class_name')!r}.") from None
                except (TypeError, ValueError) as e:
                    raise CheckpointError(f"{name}: the configuration of '{net_name}' is invalid: {e}") from None
                prefix = net_name + "."
                state = {k[len(prefix):]: f.get_tensor(k) for k in keys if k.startswith(prefix)}
                try:
                    net.load_state_dict(state, strict=True)
                except RuntimeError as e:
                    first = str(e).strip().splitlines()
                    raise CheckpointError(f"{name}: the weights of '{net_name}' do not match its "
                                          f"configuration ({first[0] if first else e}).") from None
                nets[net_name] = net.eval().requires_grad_(False)
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(f"{name}: could not read the weights ({type(e).__name__}: {e}); "
                              "the file may be truncated or damaged.") from None
    return NativeCheckpoint(nets=nets, info=dict(header.get("info") or {}))
