"""Putting a file's weights into a network: compare every shape first, on the meta device.

`build_checked(factory, state)` builds the network on torch's `meta` device (no memory),
compares each parameter and buffer with the stored tensors and the network's total size
with the data the file really holds, and only then builds it for real and loads the
weights. `load_state(net, state)` is the one way to load a state dict: a misfit is one
short sentence naming the layer and both shapes, never torch's long message.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import torch
from torch import nn

from .errors import CheckpointError
from .limits import NET_PER_STORED_BYTE, NET_SLACK_BYTES
from .messages import shorten
from .tensor_checks import stored_bytes


def _shape(v) -> list[int]:
    return list(v.shape) if hasattr(v, "shape") else list(v)


def misfit(expected: Mapping[str, torch.Size | list], found: Mapping[str, torch.Size | list],
           optional: Collection[str] = ()) -> str | None:
    """The first difference between the architecture's shapes and the file's, as a clause."""
    for key, want in expected.items():
        if key in found and _shape(found[key]) != _shape(want):
            return (f"layer {key} has shape {_shape(found[key])} in the file but the architecture "
                    f"needs {_shape(want)}")
    missing = [k for k in expected if k not in found and k not in optional]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return f"the file lacks layer {missing[0]}{more} that the architecture needs"
    extra = [k for k in found if k not in expected]
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        return f"the file has layer {extra[0]}{more} that the architecture does not"
    return None


def load_state(net: nn.Module, state: Mapping[str, torch.Tensor], what: str = "the network",
               optional: Collection[str] = ()) -> nn.Module:
    """Copy `state` into `net` (strict except for `optional` keys, which keep the network's own
    values); CheckpointError "<what>: layer X has shape A in the file but the architecture needs B."."""
    mine = net.state_dict()
    problem = misfit({k: v.shape for k, v in mine.items()}, {k: v.shape for k, v in state.items()}, optional)
    if problem:
        raise CheckpointError(f"{what}: {problem}.")
    full = dict(mine)
    full.update(state)
    try:
        net.load_state_dict(full, strict=True)
    except RuntimeError as e:   # e.g. a dtype torch cannot copy: say so briefly
        first = (str(e).strip().splitlines() or ["unknown reason"])[0]
        raise CheckpointError(f"{what}: the weights could not be copied into the network "
                              f"({first.split(':')[0]}).") from None
    return net


def net_bytes(net: nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in net.state_dict().values())


def probe(factory: Callable[[], nn.Module], what: str = "the network") -> nn.Module:
    """`factory()` built on the meta device: every shape, no memory."""
    try:
        with torch.device("meta"):
            return factory()
    except CheckpointError:
        raise
    except (TypeError, ValueError, AssertionError, IndexError, KeyError, ZeroDivisionError,
            OverflowError, RuntimeError, NotImplementedError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CheckpointError(f"{what}: the file's network configuration cannot be built "
                              f"({shorten(first, 120)}).") from None


def check_fit(net: nn.Module, shapes: Mapping[str, torch.Size | list], stored: int,
              what: str = "the network", optional: Collection[str] = ()) -> None:
    """`net` (usually a meta probe) against the file's tensor shapes and its `stored` bytes."""
    problem = misfit({k: v.shape for k, v in net.state_dict().items()}, shapes, optional)
    if problem:
        raise CheckpointError(f"{what}: {problem}.")
    need = net_bytes(net)
    if need > NET_PER_STORED_BYTE * stored + NET_SLACK_BYTES:
        raise CheckpointError(f"refused to load {what}: its network needs {need / 2**20:,.0f} MB but the "
                              f"file holds only {stored / 2**20:,.1f} MB of weights for it.")


def build_checked(factory: Callable[[], nn.Module], state: Mapping[str, torch.Tensor],
                  what: str = "the network", optional: Collection[str] = (),
                  stored: int | None = None) -> nn.Module:
    """Build `factory()` and load `state` into it, after checking on `meta` that it fits.

    `stored`: bytes of weight data the file holds (default: the distinct storages behind
    `state`); the network may exceed it only by float32 widening and a small slack."""
    check_fit(probe(factory, what), {k: v.shape for k, v in state.items()},
              stored_bytes(state.values()) if stored is None else stored, what, optional)
    return load_state(factory(), state, what, optional)
