"""NVIDIA stylegan2-ada-pytorch / stylegan3 network pickles (`network-snapshot-*.pkl`).

A plain pickle of dict(training_set_kwargs, G, D, G_ema, augment_pipe) whose networks
are `torch_utils.persistence` objects. We read it with the restricted unpickler (the
embedded `module_src` is never executed), rebuild `G_ema` (else `G`) as our
StyleGAN2Generator from its `_init_kwargs` and state dict, and recognise StyleGAN3 and
TensorFlow-era pickles by their contents to refuse them with a clear message.
"""
from __future__ import annotations

import collections
import pickle
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..loaded import LoadedModel
from .safe_pickle import PersistentObject, safe_loads

ID = "nvidia-pkl"
LABEL = "NVIDIA StyleGAN2-ADA network pickle"

_GENERATOR_KEYS = ("G_ema", "G")


def sniff(path: Path, head: bytes) -> bool:
    # A pickle (PROTO opcode 0x80, protocol 2..5) that mentions NVIDIA's persistence module
    # or the TensorFlow network class near its start.
    if len(head) < 2 or head[0] != 0x80 or not 2 <= head[1] <= 5:
        return False
    return (b"torch_utils.persistence" in head or b"_reconstruct_persistent_obj" in head
            or b"dnnlib.tflib" in head or b"G_ema" in head)


def state_dict_of(obj: PersistentObject, prefix: str = "", out: dict | None = None,
                  depth: int = 0) -> dict[str, torch.Tensor]:
    """Rebuild `module.state_dict()` from a pickled module's `__dict__` (parameters,
    persistent buffers, then submodules, as torch orders them)."""
    if depth > 50:
        raise CheckpointError("the network's modules are nested implausibly deep.")
    out = collections.OrderedDict() if out is None else out
    st = obj.state
    skip = st.get("_non_persistent_buffers_set") or set()
    for group in ("_parameters", "_buffers"):
        entries = st.get(group) or {}
        if not isinstance(entries, dict):
            raise CheckpointError(f"{obj.class_name}.{group} is not a mapping.")
        for name, t in entries.items():
            if t is None or (group == "_buffers" and name in skip):
                continue
            if not isinstance(t, torch.Tensor):
                raise CheckpointError(f"{prefix}{name} is not a tensor.")
            out[prefix + name] = t
    mods = st.get("_modules") or {}
    if not isinstance(mods, dict):
        raise CheckpointError(f"{obj.class_name}._modules is not a mapping.")
    for name, sub in mods.items():
        if sub is None:
            continue
        if not isinstance(sub, PersistentObject):
            raise CheckpointError(f"submodule {prefix}{name} is not a network object we can read.")
        state_dict_of(sub, f"{prefix}{name}.", out, depth + 1)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        return v.item()
    return v


def read(path: Path, sha256: str) -> LoadedModel:
    data = path.read_bytes()
    try:
        snap = safe_loads(data)
    except CheckpointError as e:
        raise CheckpointError(f"{path.name}: {e}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, UnicodeDecodeError, OverflowError, MemoryError, RecursionError) as e:
        # Broken opcodes or arguments: the pickle machine stopped before anything was built.
        raise CheckpointError(f"{path.name} is a damaged or truncated pickle ({type(e).__name__}: "
                              f"{' '.join(str(e).split())[:200]}).") from None
    if isinstance(snap, PersistentObject):   # a bare pickled network, not a snapshot dict
        snap = {"G": snap}
    if not isinstance(snap, dict):
        raise CheckpointError(f"{path.name} is a pickle but holds a {type(snap).__name__}, "
                              "not an NVIDIA network snapshot dict with 'G_ema'.")
    key = next((k for k in _GENERATOR_KEYS if isinstance(snap.get(k), PersistentObject)), None)
    if key is None:
        raise CheckpointError(f"{path.name} is a pickle without a generator: expected 'G_ema' or 'G', "
                              f"found keys {sorted(map(str, snap.keys()))[:10]}.")
    G_obj: PersistentObject = snap[key]
    state = state_dict_of(G_obj)
    if "synthesis.input.freqs" in state or any(k.startswith("synthesis.L0_") for k in state):
        raise CheckpointError(f"{path.name} is a StyleGAN3 network pickle (synthesis.input.freqs); "
                              "GAN Explorer does not open StyleGAN3 generators yet.")
    if "synthesis.b4.const" not in state:
        raise CheckpointError(f"{path.name}: the generator '{key}' ({G_obj.class_name}) is not a "
                              "StyleGAN2 network (no synthesis.b4.const).")
    kwargs = _plain(G_obj.state.get("_init_kwargs") or {})
    args = G_obj.state.get("_init_args") or ()
    if not isinstance(kwargs, dict):
        raise CheckpointError(f"{path.name}: the generator's constructor arguments are unreadable.")
    if args:   # Generator(z_dim, c_dim, w_dim, img_resolution, img_channels, ...) positionally
        names = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels",
                 "mapping_kwargs", "synthesis_kwargs")
        kwargs = {**dict(zip(names, _plain(list(args)))), **kwargs}
    kwargs.pop("class_name", None)
    for name in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"):
        if name not in kwargs and name in G_obj.state:   # fall back on the plain attributes
            kwargs[name] = _plain(G_obj.state[name])
    missing = [n for n in ("z_dim", "w_dim", "img_resolution", "img_channels") if n not in kwargs]
    if missing:
        raise CheckpointError(f"{path.name}: the generator does not record {', '.join(missing)}.")
    from ..stylegan2 import StyleGAN2Generator
    try:
        G = StyleGAN2Generator(**{k: v for k, v in kwargs.items()
                                  if k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels",
                                           "mapping_kwargs", "synthesis_kwargs")})
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path.name}: unsupported StyleGAN2 configuration {kwargs}: {e}") from None
    result = G.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{path.name}: the '{key}' weights do not fit a StyleGAN2 generator of its "
                              f"recorded configuration (missing {result.missing_keys[:5]}, "
                              f"unexpected {result.unexpected_keys[:5]}).")
    mine = G.state_dict()
    for k, t in state.items():
        if mine[k].shape != t.shape:
            raise CheckpointError(f"{path.name}: {k} has shape {list(t.shape)}, expected {list(mine[k].shape)}.")
    info: dict[str, Any] = {"name": path.stem, "generator_key": key,
                            "provenance": "NVIDIA stylegan2-ada-pytorch network pickle"}
    tsk = snap.get("training_set_kwargs")
    if isinstance(tsk, dict):
        info["dataset"] = str(tsk.get("path", ""))
    return LoadedModel(G=G, path=path, format=ID, sha256=sha256, info=info)
