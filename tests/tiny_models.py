"""Tiny models made in the tests (real networks, small enough for a 2-core CI)."""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Callable

import torch

from ganexplorer.models.checkpoint import save_checkpoint
from ganexplorer.models.dcgan import DCGANGenerator


def tiny_dcgan(seed: int = 0, **kw) -> DCGANGenerator:
    torch.manual_seed(seed)
    args = dict(z_dim=16, img_resolution=16, img_channels=3, ngf=8)
    args.update(kw)
    G = DCGANGenerator(**args)
    # Random BatchNorm statistics so that eval-mode outputs are not near zero.
    for m in G.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.01, 0.05)
    return G.eval()


def save_tiny_dcgan(path: Path, seed: int = 0, **kw) -> Path:
    save_checkpoint(path, {"G": tiny_dcgan(seed, **kw)}, {"name": "tiny test DCGAN", "licence": "test"})
    return path


def rewrite_native_header(path: Path, mutate: Callable[[dict], None]) -> Path:
    """Change the JSON description inside a native .safetensors file in place (`mutate` edits
    the dict), keeping the tensors: for files that lie about their own architecture."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = json.loads(header["__metadata__"]["ganexplorer"])
    mutate(meta)
    header["__metadata__"]["ganexplorer"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)   # safetensors pads the header to 8 bytes
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    return path
