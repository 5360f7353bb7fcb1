"""Our native checkpoint: one `.safetensors` file, weights plus a JSON description.

The JSON sits in the safetensors header under `__metadata__["ganexplorer"]`:

    {"format": "ganexplorer-checkpoint", "version": 1,
     "nets": {"G": {"class_name": "DCGANGenerator", "kwargs": {...}}, "D": {...}},
     "info": {"name", "kind", "credit", "licence", "provenance", ...}}

Tensors are named `<net>.<state-dict key>`, e.g. `G.main.0.weight`. `G` is the generator
the app shows (the EMA copy for trained models); `D` (discriminator) and `E` (inversion
encoder) are optional. Nothing in the file is executed: class names are looked up in
`networks.network_classes()`. Before a network is built, its declared settings are held to
`limits`, it is built on the meta device and every shape is compared with the header's
(`fit`), so a 450-byte header cannot make us allocate gigabytes.
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
from .fit import check_fit, load_state, probe
from .limits import check_declared
from .messages import shorten
from .networks import build_network, network_classes
from .untrusted import check_tree

FORMAT = "ganexplorer-checkpoint"
VERSION = 1
SUFFIX = ".safetensors"
MAX_DESCRIPTION = 4 << 20   # characters of the JSON description (real ones: a few KB)
MAX_NETS = 8                # networks in one file (real ones: G, D, E)


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


def is_safetensors(head: bytes) -> bool:
    """Sniff any safetensors file (u64 header length, then a JSON object): ours are told apart,
    and damaged or foreign ones, by `read_header`, which names what is wrong."""
    return len(head) >= 10 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") > 1


def is_native(head: bytes) -> bool:
    """Sniff: a safetensors header (u64 length, then '{') that mentions our format."""
    if len(head) < 10 or head[8:9] != b"{":
        return False
    n = int.from_bytes(head[:8], "little")
    return 0 < n < 100_000_000 and b"ganexplorer" in head[8:8 + min(n, len(head) - 8)]


def _header_damage(path: Path) -> str | None:
    """Why safetensors refuses the header, in our words (None when it opens)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
    if n + 8 > size:
        return f"it claims {n:,} bytes but the file has {size:,}"
    try:
        with safe_open(str(path), framework="pt"):
            return None
    except Exception as e:  # safetensors raises several types for damaged files
        text = " ".join(str(e).split())
        return shorten(text.split("deserializing header: ", 1)[-1], 160)


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    name = path.name
    damage = _header_damage(path)
    if damage:
        raise CheckpointError(f"{name}: the safetensors header is damaged: {damage}; the file may be "
                              "truncated or damaged, so save or convert it again.")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if len(meta.get("ganexplorer", "")) > MAX_DESCRIPTION:
        raise CheckpointError(f"refused to load {name}: its checkpoint description is "
                              f"{len(meta['ganexplorer']):,} characters, far more than a real one.")
    try:
        header = json.loads(meta["ganexplorer"])
    except (KeyError, json.JSONDecodeError, RecursionError):
        raise CheckpointError(f"{name} is a safetensors file but not a GAN Explorer checkpoint "
                              "(no 'ganexplorer' description in its header).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{name}: unknown checkpoint description; expected format {FORMAT!r}.")
    check_tree(header, name)
    version = header.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{name}: the checkpoint description has no valid format version.")
    if version > VERSION:
        raise CheckpointError(f"{name} was written by a newer GAN Explorer (format version "
                              f"{version}); update GAN Explorer to open it.")
    return header


def _spec(name: str, net_name: str, spec: Any) -> tuple[str, dict]:
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) \
            or not isinstance(spec.get("kwargs", {}), dict):
        raise CheckpointError(f"{name}: the description of network '{net_name}' is malformed.")
    if spec["class_name"] not in network_classes():
        raise CheckpointError(f"{name}: network '{net_name}' has an unknown class "
                              f"{shorten(repr(spec['class_name']), 60)}.")
    kwargs = dict(spec.get("kwargs", {}))
    check_declared(kwargs, f"{name}: network '{net_name}'")
    return spec["class_name"], kwargs


def load_checkpoint(path: str | os.PathLike, which: tuple[str, ...] | None = None) -> NativeCheckpoint:
    """Read a native checkpoint. `which` limits the networks built (default: all)."""
    name = Path(path).name
    header = read_header(path)
    specs = header.get("nets")
    if not isinstance(specs, dict) or "G" not in specs:
        raise CheckpointError(f"{name} describes no generator 'G'.")
    if len(specs) > MAX_NETS:
        raise CheckpointError(f"refused to load {name}: it describes {len(specs):,} networks; a checkpoint "
                              f"holds at most {MAX_NETS} (G, D, E).")
    nets: dict[str, nn.Module] = {}
    try:
        with safe_open(str(path), framework="pt") as f:
            keys = list(f.keys())
            for net_name, spec in specs.items():
                if which is not None and net_name not in which:
                    continue
                class_name, kwargs = _spec(name, str(net_name), spec)
                what = f"{name}: network '{net_name}'"

                def factory(class_name=class_name, kwargs=kwargs):
                    return build_network(class_name, dict(kwargs))

                prefix = f"{net_name}."
                mine = [k for k in keys if k.startswith(prefix)]
                shapes, stored = {}, 0
                for k in mine:   # shapes and sizes from the header: nothing read yet
                    sl = f.get_slice(k)
                    shape = list(sl.get_shape())
                    shapes[k[len(prefix):]] = shape
                    stored += _DTYPE_BYTES.get(sl.get_dtype(), 8) * _prod(shape)
                try:
                    check_fit(probe(factory, what), shapes, stored, what)
                    net = factory()
                except CheckpointError:
                    raise
                except (TypeError, ValueError) as e:
                    raise CheckpointError(f"{what}: its configuration is invalid "
                                          f"({shorten(str(e), 160)}).") from None
                state = {k[len(prefix):]: f.get_tensor(k) for k in mine}
                nets[net_name] = load_state(net, state, what).eval().requires_grad_(False)
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(f"{name}: could not read the weights ({type(e).__name__}: "
                              f"{shorten(str(e), 160)}); the file may be truncated or damaged.") from None
    return NativeCheckpoint(nets=nets, info=dict(header.get("info") or {}))


_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1, "U16": 2, "U32": 4, "U64": 8}


def _prod(shape: list[int]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n
