"""A memory budget for building networks from a file, whatever reader builds them.

A few hundred bytes can declare a 1 M-pixel resolution or a huge `w_dim`; the constructor
then allocates gigabytes before any shape is compared. The registry runs every reader
inside `AllocationBudget`, a torch function mode (per thread: the render thread is not
affected) that sizes each tensor factory call (`torch.empty`, `zeros`, `randn`, ... which
is how `nn.Module` constructors make their parameters) *before* it runs and refuses the
load once the total would pass the budget. Tensors on the `meta` device cost nothing.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.overrides import TorchFunctionMode

from .errors import CheckpointError
from .limits import ALLOC_BASE_BYTES, ALLOC_PER_FILE_BYTE, MAX_FACTORY_CALLS

# Factories whose first argument(s) are the size; randint takes it after low/high.
_SIZED = {torch.empty, torch.zeros, torch.ones, torch.rand, torch.randn, torch.full,
          torch.empty_strided, torch.empty_permuted}
_METHODS = {torch.Tensor.new_empty, torch.Tensor.new_zeros, torch.Tensor.new_ones,
            torch.Tensor.new_full}


def budget_for(file_size: int) -> int:
    return ALLOC_BASE_BYTES + ALLOC_PER_FILE_BYTE * max(file_size, 0)


def _numel(size) -> int | None:
    if isinstance(size, int):
        return size
    if isinstance(size, (Sequence, torch.Size)) and all(isinstance(s, int) for s in size):
        return math.prod(size)
    return None


def _requested(func, args, kwargs) -> int | None:
    """Elements a factory call asks for, or None when it is not one we size in advance."""
    if func in _SIZED:
        if "size" in kwargs:
            return _numel(kwargs["size"])
        if not args:
            return 0
        if func in (torch.full, torch.empty_strided, torch.empty_permuted) or not isinstance(args[0], int):
            return _numel(args[0])
        return _numel(tuple(a for a in args if isinstance(a, int)))   # torch.empty(2, 3)
    if func in _METHODS:   # args[0] is the tensor the method is called on
        if "size" in kwargs:
            return _numel(kwargs["size"])
        rest = args[1:]
        if not rest:
            return 0
        if func is torch.Tensor.new_full or not isinstance(rest[0], int):
            return _numel(rest[0])
        return _numel(tuple(a for a in rest if isinstance(a, int)))
    if func is torch.randint:
        return _numel(kwargs.get("size", args[-1] if args else ()))
    if func is torch.eye:
        n = args[0] if args else kwargs.get("n", 0)
        m = args[1] if len(args) > 1 and isinstance(args[1], int) else kwargs.get("m", n)
        return n * m if isinstance(n, int) and isinstance(m, int) else None
    if func in (torch.linspace, torch.logspace):
        steps = args[2] if len(args) > 2 else kwargs.get("steps")
        return steps if isinstance(steps, int) else None
    if func is torch.arange:
        nums = [a for a in args if isinstance(a, (int, float))]
        if len(nums) == 1:
            return max(int(nums[0]), 0)
        if len(nums) >= 2:
            step = nums[2] if len(nums) > 2 else kwargs.get("step", 1)
            return max(int((nums[1] - nums[0]) / step), 0) if step else None
    return None


def _itemsize(kwargs) -> int:
    dtype = kwargs.get("dtype") or torch.get_default_dtype()
    return dtype.itemsize if isinstance(dtype, torch.dtype) else 8


def _on_meta(args, kwargs) -> bool:
    dev = kwargs.get("device")
    if dev is None and args and isinstance(args[0], torch.Tensor):
        dev = args[0].device   # new_* methods inherit the device of self
    return dev is not None and torch.device(dev).type == "meta"


class AllocationBudget(TorchFunctionMode):
    """Refuse (CheckpointError) once tensor factories would allocate more than `limit` bytes."""

    def __init__(self, limit: int, what: str):
        super().__init__()
        self.limit, self.what = limit, what
        self.used = 0
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        n = _requested(func, args, kwargs)
        if n is not None and not _on_meta(args, kwargs):
            self.calls += 1
            self.used += max(n, 0) * _itemsize(kwargs)
            if self.used > self.limit:
                raise CheckpointError(
                    f"refused to load {self.what}: the network it declares needs more than "
                    f"{self.limit / 2**30:.1f} GB, far more than its weights in the file account for.")
            if self.calls > MAX_FACTORY_CALLS:
                raise CheckpointError(f"refused to load {self.what}: the network it declares has more "
                                      f"than {MAX_FACTORY_CALLS:,} tensors, far more than any real one.")
        return func(*args, **kwargs)
