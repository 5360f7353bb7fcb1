"""NVIDIA stylegan2-ada-pytorch / stylegan3 network pickles (`network-snapshot-*.pkl`).

A plain pickle of dict(G, D, G_ema, augment_pipe, training_set_kwargs) (stylegan2-ada puts
training_set_kwargs first) whose networks are `torch_utils.persistence` objects. We read it
with the restricted unpickler (the embedded `module_src` is never executed, nor looked at)
and rebuild `G_ema` (else `G`) from its `_init_kwargs`, stored attributes and state dict:

* StyleGAN3 (`training.networks_stylegan3.Generator`, T or R) -> StyleGAN3Generator; told
  by its state-dict keys (`synthesis.input.*`, `synthesis.L<i>_<size>_<channels>.*`), since
  class names such as `Generator` and `MappingNetwork` exist in both repositories' modules;
* StyleGAN2 from stylegan2-ada-pytorch (`training.networks.Generator`: synthesis settings
  nested in `synthesis_kwargs`, conv_clamp default None) or from the stylegan3 repository
  (`training.networks_stylegan2.Generator`: synthesis settings at the top level, defaults
  conv_clamp 256, num_fp16_res 4) -> StyleGAN2Generator.

TensorFlow-era pickles (`dnnlib.tflib`) and other programs' generators are refused with a
message that says what was found.
"""
from __future__ import annotations

import collections
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import CheckpointError
from ..fit import build_checked
from ..loaded import LoadedModel
from .safe_pickle import PersistentObject, safe_loads

ID = "nvidia-pkl"
LABEL = "NVIDIA StyleGAN2/StyleGAN3 network pickle"

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
    if isinstance(v, np.ndarray) and v.ndim == 1 and v.size <= 64:   # StyleGAN3 sizes [w, h]
        return [_plain(x) for x in v]
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        return v.item()
    return v


def _load_snapshot(path: Path) -> dict:
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
    return snap


def _constructor_kwargs(path: Path, G_obj: PersistentObject, positional: tuple[str, ...], what: str) -> dict:
    kwargs = _plain(G_obj.state.get("_init_kwargs") or {})
    args = G_obj.state.get("_init_args") or ()
    if not isinstance(kwargs, dict) or not isinstance(args, (list, tuple)):
        raise CheckpointError(f"{path.name}: the {what} generator's constructor arguments are unreadable.")
    if args:   # Generator(z_dim, c_dim, w_dim, img_resolution, img_channels, ...) positionally
        kwargs = {**dict(zip(positional, _plain(list(args)))), **kwargs}
    kwargs.pop("class_name", None)
    for name in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"):
        if name not in kwargs and name in G_obj.state:   # fall back on the plain attributes
            kwargs[name] = _plain(G_obj.state[name])
    missing = [n for n in ("z_dim", "w_dim", "img_resolution", "img_channels") if n not in kwargs]
    if missing:
        raise CheckpointError(f"{path.name}: the {what} generator does not record {', '.join(missing)}.")
    return kwargs


def _submodule(obj: PersistentObject, dotted: str) -> PersistentObject | None:
    for name in dotted.split("."):
        mods = obj.state.get("_modules") or {}
        obj = mods.get(name) if isinstance(mods, dict) else None
        if not isinstance(obj, PersistentObject):
            return None
    return obj


def _is_stylegan3(state: dict, G_obj: PersistentObject) -> bool:
    syn = _submodule(G_obj, "synthesis")
    names = syn.state.get("layer_names") if syn is not None else None
    return ("synthesis.input.freqs" in state or any(k.startswith("synthesis.L0_") for k in state)
            or (isinstance(names, list) and bool(names) and str(names[0]).startswith("L0_")))


def read(path: Path, sha256: str) -> LoadedModel:
    snap = _load_snapshot(path)
    key = next((k for k in _GENERATOR_KEYS if isinstance(snap.get(k), PersistentObject)), None)
    if key is None:
        raise CheckpointError(f"{path.name} is a pickle without a generator: expected 'G_ema' or 'G', "
                              f"found keys {sorted(map(str, snap.keys()))[:10]}.")
    G_obj: PersistentObject = snap[key]
    state = state_dict_of(G_obj)
    if _is_stylegan3(state, G_obj):
        factory, info = _stylegan3(path, G_obj)
    elif "synthesis.b4.const" in state:
        factory, info = _stylegan2(path, G_obj, snap)
    else:
        some = ", ".join(list(state)[:3]) or "no tensors"
        raise CheckpointError(f"{path.name}: the generator '{key}' (class {G_obj.class_name}) is neither a "
                              f"StyleGAN2 nor a StyleGAN3 network (its weights start {some}); it may come "
                              "from another program built on NVIDIA's code.")
    # Shapes compared on the meta device first; a misfit names the layer and both shapes.
    G = build_checked(factory, state, f"{path.name} ('{key}', {info['variant']})")
    if info["variant"] == "StyleGAN3":   # T or R: read off the built layers
        info["variant"] = G.variant
        info["provenance"] = f"NVIDIA stylegan3 network pickle ({G.variant})"
    info.update({"name": path.stem, "generator_key": key})
    if G.c_dim:
        info["classes"] = f"{G.c_dim} (default: class = seed % {G.c_dim})"
    tsk = snap.get("training_set_kwargs")
    if isinstance(tsk, dict):
        info["dataset"] = str(tsk.get("path", ""))
    return LoadedModel(G=G, path=path, format=ID, sha256=sha256, info=info)


# ---------------------------------------------------------------- StyleGAN3

_SG3_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs")


def _stylegan3(path: Path, G_obj: PersistentObject):
    from ..stylegan3 import GEOMETRY_KEYS, INPUT_GEOMETRY_KEYS, StyleGAN3Generator, geometry
    kwargs = _constructor_kwargs(path, G_obj, _SG3_POSITIONAL, "StyleGAN3")
    ours = ("input_geometry", "layer_geometry")   # our own arguments, never NVIDIA's
    unknown = [k for k in kwargs if k not in _SG3_POSITIONAL and
               (k not in StyleGAN3Generator.SYNTHESIS_KEYS or k in ours)]
    unknown += [f"mapping_kwargs.{k}" for k in (kwargs.get("mapping_kwargs") or {})
                if k not in StyleGAN3Generator.MAPPING_KEYS]
    if unknown:
        raise CheckpointError(f"{path.name} is a StyleGAN3 pickle whose generator takes argument(s) "
                              f"{', '.join(unknown)} that NVIDIA's StyleGAN3 does not have; it may come "
                              "from a modified copy of that code, which GAN Explorer cannot follow.")
    # Prefer the geometry stored with every layer to the re-derived schedule, where they differ.
    syn = _submodule(G_obj, "synthesis")
    names = syn.state.get("layer_names") if syn is not None else None
    if not isinstance(names, list) or not names:
        raise CheckpointError(f"{path.name}: the StyleGAN3 synthesis network does not list its layers.")
    synth_kwargs = {k: v for k, v in kwargs.items() if k not in _SG3_POSITIONAL}
    try:
        n_layers = len(names) - 1
        for k in ("num_critical", "margin_size", "output_scale", "num_fp16_res"):
            if k in syn.state:
                synth_kwargs.setdefault(k, _plain(syn.state[k]))
        synth_kwargs.setdefault("num_layers", n_layers)
        if not 1 <= n_layers <= 256 or int(synth_kwargs["num_layers"]) != n_layers:
            raise ValueError(f"{len(names)} layer names for num_layers={synth_kwargs['num_layers']}")
        derive = {k: v for k, v in synth_kwargs.items() if k not in ("output_scale", "conv_clamp",
                                                                     "magnitude_ema_beta")}
        inp_d, layers_d = geometry(int(kwargs["w_dim"]), int(kwargs["img_resolution"]),
                                   int(kwargs["img_channels"]), **derive)
    except (TypeError, ValueError, ZeroDivisionError) as e:
        raise CheckpointError(f"{path.name}: unsupported StyleGAN3 configuration ({e}).") from None
    stored_layers = []
    for name in names:
        rec = _submodule(syn, str(name))
        if rec is None or any(k not in rec.state for k in GEOMETRY_KEYS):
            stored_layers = None
            break
        stored_layers.append({k: _plain(rec.state[k]) for k in GEOMETRY_KEYS})
    inp_rec = _submodule(syn, "input")
    stored_inp = ({k: _plain(inp_rec.state[k]) for k in INPUT_GEOMETRY_KEYS}
                  if inp_rec is not None and all(k in inp_rec.state for k in INPUT_GEOMETRY_KEYS) else None)
    if stored_layers is not None and not _same(stored_layers, layers_d):
        synth_kwargs["layer_geometry"] = stored_layers
    if stored_inp is not None and not _same(stored_inp, inp_d):
        synth_kwargs["input_geometry"] = stored_inp
    first = _submodule(syn, str(names[0]))
    if first is not None and "conv_clamp" in first.state:
        synth_kwargs["conv_clamp"] = _plain(first.state["conv_clamp"])
    top = {k: v for k, v in kwargs.items() if k in _SG3_POSITIONAL}

    def factory() -> StyleGAN3Generator:
        return StyleGAN3Generator(**top, **synth_kwargs)
    info = {"variant": "StyleGAN3", "repository": "NVlabs/stylegan3 (training.networks_stylegan3)"}
    if "layer_geometry" in synth_kwargs or "input_geometry" in synth_kwargs:
        info["note"] = "layer geometry read from the file (it differs from the paper's schedule)"
    return factory, info


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (bool, int, float)) and isinstance(b, (bool, int, float)):
        return float(a) == float(b)
    return a == b


# ---------------------------------------------------------------- StyleGAN2 (both repositories)

_SG2_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs")


def _stylegan2(path: Path, G_obj: PersistentObject, snap: dict):
    from ..stylegan2 import StyleGAN2Generator
    kwargs = _constructor_kwargs(path, G_obj, _SG2_POSITIONAL + ("synthesis_kwargs",), "StyleGAN2")
    synthesis_keys = StyleGAN2Generator._SYNTHESIS_KEYS
    top = [k for k in kwargs if k in synthesis_keys]
    unknown = [k for k in kwargs if k not in _SG2_POSITIONAL and k != "synthesis_kwargs" and k not in top]
    if unknown:
        raise CheckpointError(f"{path.name}: the StyleGAN2 generator takes argument(s) {', '.join(unknown)} "
                              "that neither NVIDIA repository's StyleGAN2 has.")
    # Which repository: stylegan2-ada nests the synthesis settings, the stylegan3 repository
    # passes them at the top; with neither, the snapshot's key order tells (ada writes
    # training_set_kwargs first).
    if "synthesis_kwargs" in kwargs:
        sg3_repo = False
    elif top:
        sg3_repo = True
    else:
        sg3_repo = next(iter(snap), None) != "training_set_kwargs"
    mapping_kwargs = dict(kwargs.get("mapping_kwargs") or {})
    if sg3_repo:
        synthesis_kwargs = {k: kwargs[k] for k in top}
        synthesis_kwargs.setdefault("conv_clamp", 256)     # that class's defaults differ from ada's
        synthesis_kwargs.setdefault("num_fp16_res", 4)
        mapping_kwargs.setdefault("w_avg_beta", 0.998)
    else:
        synthesis_kwargs = dict(kwargs.get("synthesis_kwargs") or {})
    # A stored attribute beats a class default: the clamp is what the layers were built with.
    conv = _submodule(G_obj, "synthesis.b4.conv1")
    if conv is not None and "conv_clamp" in conv.state:
        stored = _plain(conv.state["conv_clamp"])
        if stored != synthesis_kwargs.get("conv_clamp"):
            synthesis_kwargs["conv_clamp"] = stored
    block = _submodule(G_obj, f"synthesis.b{int(kwargs['img_resolution'])}")
    if block is not None and isinstance(block.state.get("architecture"), str):
        if block.state["architecture"] != synthesis_kwargs.get("architecture", "skip"):
            synthesis_kwargs["architecture"] = block.state["architecture"]
    dims = {k: kwargs[k] for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels") if k in kwargs}

    def factory() -> StyleGAN2Generator:
        return StyleGAN2Generator(**dims, mapping_kwargs=mapping_kwargs, synthesis_kwargs=synthesis_kwargs)
    if sg3_repo:
        info = {"variant": "StyleGAN2 (stylegan3 repository)",
                "repository": "NVlabs/stylegan3 (training.networks_stylegan2)",
                "provenance": "NVIDIA stylegan3 repository network pickle (StyleGAN2)"}
    else:
        info = {"variant": "StyleGAN2-ADA", "repository": "NVlabs/stylegan2-ada-pytorch (training.networks)",
                "provenance": "NVIDIA stylegan2-ada-pytorch network pickle"}
    return factory, info
