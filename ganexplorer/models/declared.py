"""Label sizes the user declared for conditional DCGANs whose files do not say so.

A DCGAN state dict cannot tell noise inputs from a one-hot label: its first transposed
convolution takes `nz + n_classes` channels either way (a published eye-generator DCGAN
takes 100 noise + 8 label inputs). The user declares the label size (`--c-dim K`, or the
window's control); we remember it per file, by the sha256 of its bytes, in a small JSON file
in the user's configuration folder, and from then on open that file as conditional.
`convert` writes it into our own format, which records c_dim itself.

The folder: $GANEXPLORER_CONFIG_DIR, else $XDG_CONFIG_HOME/ganexplorer, else
~/.config/ganexplorer. Qt-free, so the CLI and the window share it.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from .errors import CheckpointError
from .loaded import LoadedModel

FILE_NAME = "declared_labels.json"


def config_dir() -> Path:
    env = os.environ.get("GANEXPLORER_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".config") / "ganexplorer"


def _path() -> Path:
    return config_dir() / FILE_NAME


def _read() -> dict[str, int]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}   # a damaged memory file must not keep any model from opening
    if not isinstance(data, dict):
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0}


def remembered_c_dim(sha256: str) -> int | None:
    return _read().get(sha256)


def remember_c_dim(sha256: str, c_dim: int | None) -> None:
    """Store (or with None forget) the declared label size of the file with this sha256."""
    from ..atomic import atomic_path
    data = _read()
    if c_dim is None:
        data.pop(sha256, None)
    else:
        data[sha256] = int(c_dim)
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")


def with_c_dim(model: LoadedModel, c_dim: int) -> LoadedModel:
    """The same DCGAN read with its last `c_dim` inputs as a one-hot label (a new LoadedModel,
    so nothing keyed by the old one sees a changed generator); 0 reads every input as noise."""
    from .dcgan import DCGANGenerator
    G = model.G
    if not isinstance(G, DCGANGenerator):
        raise CheckpointError(f"{model.path.name}: a label size can be declared only for a DCGAN "
                              f"(this is a {G.kind} model, whose file says whether it is conditional).")
    inputs = G.z_dim + G.c_dim
    if not 0 <= c_dim < inputs:
        raise CheckpointError(f"{model.path.name}: the generator has {inputs} inputs, so the label size "
                              f"must be between 1 and {inputs - 1} (or 0 for none), not {c_dim}.")
    if c_dim == G.c_dim:
        return model
    cfg = G.config()
    cfg.update(z_dim=inputs - c_dim, c_dim=c_dim)
    new = DCGANGenerator(**cfg)
    new.load_state_dict(G.state_dict(), strict=True)
    new.eval().requires_grad_(False)
    info = {k: v for k, v in model.info.items() if k not in ("c_dim_declared", "classes")}
    if c_dim:
        info["c_dim_declared"] = f"{c_dim} (declared by the user: z_dim {inputs - c_dim} + label {c_dim})"
        info["classes"] = f"{c_dim} (default: class = seed % {c_dim})"
    return dataclasses.replace(model, G=new.to(G.w_avg.device), info=info)


def apply_declared(model: LoadedModel, c_dim: int | None = None) -> LoadedModel:
    """Declare `c_dim` (and remember it), or apply the remembered one for this file."""
    if c_dim is not None:
        model = with_c_dim(model, c_dim)
        remember_c_dim(model.sha256, c_dim or None)   # 0: forget the declaration
        return model
    if model.G.kind != "dcgan":
        return model
    remembered = remembered_c_dim(model.sha256)
    if remembered and model.G.c_dim != remembered:
        return with_c_dim(model, remembered)
    if not remembered and "c_dim_declared" in model.info:   # forgotten since it was opened
        return with_c_dim(model, 0)
    return model
