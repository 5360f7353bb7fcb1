"""What opening a checkpoint gives back: the generator plus where it came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from .protocol import GeneratorBase


@dataclass
class LoadedModel:
    G: GeneratorBase                 # the generator to show (EMA copy when there is one)
    path: Path                       # the file it came from
    format: str                      # reader id: 'native', 'nvidia-pkl', 'rosinality', ...
    sha256: str                      # of the file's bytes; exported images carry it
    info: dict[str, Any] = field(default_factory=dict)  # name, credit, licence, provenance
    D: nn.Module | None = None       # discriminator, when the file holds one (edit realism)
    E: nn.Module | None = None       # inversion encoder image -> latent, when trained
    warnings: list[str] = field(default_factory=list)  # one sentence each, for the window and CLI
    nonfinite: str | None = None     # the warning about NaN/Inf weights, when there are any

    @property
    def name(self) -> str:
        return str(self.info.get("name") or self.path.stem)

    def describe(self) -> dict[str, Any]:
        """Plain facts for `ganexplorer info` and the info panel."""
        G = self.G
        return {"path": str(self.path), "format": self.format, "sha256": self.sha256,
                "kind": G.kind, "img_resolution": G.img_resolution, "img_channels": G.img_channels,
                "z_dim": G.z_dim, "w_dim": G.w_dim, "num_ws": G.num_ws, "c_dim": G.c_dim,
                "has_discriminator": self.D is not None, "has_encoder": self.E is not None,
                "parameters": sum(p.numel() for p in G.parameters()),
                "config": G.config(), "info": self.info, "warnings": list(self.warnings)}
