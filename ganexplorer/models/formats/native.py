"""Reader for our own format (safetensors + JSON description)."""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import is_safetensors, load_checkpoint
from ..loaded import LoadedModel

ID = "native"
LABEL = "GAN Explorer checkpoint (safetensors)"


def sniff(path: Path, head: bytes) -> bool:
    return is_safetensors(head)   # damaged or foreign safetensors get a named message


def read(path: Path, sha256: str) -> LoadedModel:
    ckpt = load_checkpoint(path)
    return LoadedModel(G=ckpt.nets["G"], path=path, format=ID, sha256=sha256, info=ckpt.info,
                       D=ckpt.nets.get("D"), E=ckpt.nets.get("E"))
