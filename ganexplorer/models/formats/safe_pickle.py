"""A restricted unpickler for NVIDIA's network pickles: data in, never code.

NVIDIA's loader re-executes the Python source embedded in every network object
(`torch_utils.persistence`). We read the same pickle with an allow-list of globals, each
mapped to an inert function that only builds plain data: dicts, lists, tensors, numbers.
Any other global (os.system, builtins.eval, a class from the file's own source, ...) is
refused with a CheckpointError that names it.
"""
from __future__ import annotations

import collections
import io
import pickle
import re
from typing import Any

import numpy as np
import torch

from ..errors import CheckpointError

MAX_DEPTH = 200   # nesting of persistent objects we are willing to walk


class EasyDict(dict):
    """Stand-in for dnnlib.util.EasyDict: a plain dict (attribute access is not needed)."""


class PersistentObject:
    """What `torch_utils.persistence._reconstruct_persistent_obj(meta)` leaves us: the
    class's bare name and its `__dict__` (`state`). Its `module_src` is never looked at."""

    def __init__(self, class_name: str, state: dict):
        self.class_name = class_name
        self.state = state

    def __repr__(self) -> str:
        return f"PersistentObject({self.class_name!r})"


def _reconstruct_persistent_obj(meta: Any) -> PersistentObject:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise CheckpointError("a persistent object in this pickle has an unexpected description "
                              f"(type {meta.get('type') if isinstance(meta, dict) else type(meta).__name__!r}).")
    class_name, state = meta.get("class_name"), meta.get("state")
    if not isinstance(class_name, str) or not isinstance(state, dict):
        raise CheckpointError("a persistent object in this pickle lacks its class name or state.")
    return PersistentObject(class_name, state)


def _load_from_bytes(b: Any):
    """Tensor storages are nested legacy torch.save streams: load them with weights_only."""
    if not isinstance(b, (bytes, bytearray)):
        raise CheckpointError("a tensor storage in this pickle is not a byte string.")
    try:
        return torch.load(io.BytesIO(bytes(b)), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:   # torch's own allow-list refused something inside
        m = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = f"the Python global '{m.group(1)}'" if m else "something that is not tensor data"
        raise CheckpointError(f"refused to load: a tensor storage inside the pickle asks for {what}; "
                              "nothing from it was run.") from None
    except (RuntimeError, EOFError, ValueError, KeyError, TypeError, OverflowError, MemoryError) as e:
        raise CheckpointError(f"a tensor storage inside the pickle is damaged ({type(e).__name__}: "
                              f"{' '.join(str(e).split())[:200]}).") from None


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None) -> torch.Tensor:
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise CheckpointError("a tensor in this pickle does not point at a storage.")
    if not (isinstance(storage_offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and all(isinstance(v, int) for v in size + stride) and len(size) == len(stride)):
        raise CheckpointError("a tensor in this pickle has a malformed shape or stride.")
    return torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, False,
                                           collections.OrderedDict())


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise CheckpointError("a parameter in this pickle holds no tensor.")
    return data   # a plain tensor: the module we build makes its own Parameters


# NumPy scalars and arrays only of plain numeric kinds: an object dtype would let raw
# bytes become pointers.
_NUMERIC_KINDS = "biufc"


class _Dtype:
    """Inert numpy.dtype: numpy.dtype('f8', False, True) then BUILD (state) sets the byte order."""

    def __init__(self, spec=None, align=False, copy=False):
        if not isinstance(spec, str):
            raise CheckpointError(f"a NumPy dtype in this pickle is not a simple type ({type(spec).__name__}).")
        dt = np.dtype(spec)
        if dt.kind not in _NUMERIC_KINDS or dt.fields is not None:
            raise CheckpointError(f"NumPy dtype {spec!r} in this pickle is not a plain numeric type.")
        self.dtype = dt

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.dtype = self.dtype.newbyteorder(state[1]) if state[1] in "<>" else self.dtype


def _scalar(dtype, data=None):
    if not isinstance(dtype, _Dtype) or not isinstance(data, (bytes, bytearray)):
        raise CheckpointError("a NumPy scalar in this pickle is malformed.")
    if len(data) != dtype.dtype.itemsize:
        raise CheckpointError("a NumPy scalar in this pickle has the wrong number of bytes.")
    return np.frombuffer(bytes(data), dtype=dtype.dtype, count=1)[0]


class _NdarrayStub:
    """Inert numpy.ndarray reconstruction: _reconstruct(ndarray, (0,), b'b') then BUILD."""

    def __init__(self):
        self.array: np.ndarray | None = None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise CheckpointError("a NumPy array in this pickle is malformed.")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _Dtype) or not isinstance(raw, (bytes, bytearray)):
            raise CheckpointError("a NumPy array in this pickle is not plain numeric data.")
        if not isinstance(shape, tuple) or not all(isinstance(s, int) and s >= 0 for s in shape):
            raise CheckpointError("a NumPy array in this pickle has a malformed shape.")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if count * dtype.dtype.itemsize != len(raw):
            raise CheckpointError("a NumPy array in this pickle has the wrong number of bytes.")
        a = np.frombuffer(bytes(raw), dtype=dtype.dtype).copy()
        self.array = a.reshape(shape, order="F" if fortran else "C")


def _ndarray_reconstruct(cls, shape=None, typecode=None):
    if cls is not _NdarrayStub:
        raise CheckpointError("numpy _reconstruct in this pickle builds something other than an array.")
    return _NdarrayStub()


def _codecs_encode(text, encoding="utf-8"):
    # Protocol-2 pickles spell bytes as _codecs.encode(str, 'latin1').
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise CheckpointError("this pickle uses _codecs.encode in an unexpected way.")
    return text.encode("latin1")


ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("dnnlib", "EasyDict"): EasyDict,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("_codecs", "encode"): _codecs_encode,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("numpy", "dtype"): _Dtype,
    ("numpy", "ndarray"): _NdarrayStub,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy.core.multiarray", "_reconstruct"): _ndarray_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _ndarray_reconstruct,
}


class TensorFlowPickle(CheckpointError):
    """The pickle is from the TensorFlow StyleGAN/StyleGAN2 code (dnnlib.tflib)."""


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        key = (module, name)
        if key in ALLOWED:
            return ALLOWED[key]
        if module.startswith("dnnlib.tflib"):
            raise TensorFlowPickle(
                "this is a TensorFlow-era StyleGAN pickle (dnnlib.tflib.Network); GAN Explorer "
                "reads only PyTorch networks. Convert it first with NVIDIA's stylegan2-ada-pytorch "
                "`legacy.py` (python legacy.py --source=IN.pkl --dest=OUT.pkl), then open OUT.pkl.")
        raise CheckpointError(f"refused to load: the pickle asks for the Python global "
                              f"'{module}.{name}', which is not on GAN Explorer's allow-list of "
                              "data-only types. The file may be malicious or from an unsupported program; "
                              "nothing from it was run.")

    def persistent_load(self, pid):
        raise CheckpointError("refused to load: the pickle uses persistent references, "
                              "which plain network pickles do not contain.")


def safe_loads(data: bytes) -> Any:
    """Unpickle `data` with the allow-list; NumPy array stubs become arrays."""
    obj = RestrictedUnpickler(io.BytesIO(data)).load()
    return _finish(obj, 0, {})


def _finish(obj: Any, depth: int, seen: dict[int, tuple[Any, Any]]) -> Any:
    """Replace array stubs by arrays. `seen` (by id) visits shared objects once, so a
    hostile DAG of shared lists cannot blow up into exponential work."""
    if id(obj) in seen:
        return seen[id(obj)][1]
    if depth > MAX_DEPTH:
        raise CheckpointError("this pickle is nested too deeply to be a network snapshot.")
    out = obj
    seen[id(obj)] = (obj, obj)   # keeps obj alive so its id cannot be reused
    if isinstance(obj, _NdarrayStub):
        if obj.array is None:
            raise CheckpointError("a NumPy array in this pickle has no data.")
        out = obj.array
    elif isinstance(obj, _Dtype):
        out = obj.dtype
    elif isinstance(obj, PersistentObject):
        obj.state = _finish(obj.state, depth + 1, seen)
    elif isinstance(obj, dict):
        for k in list(obj.keys()):
            obj[k] = _finish(obj[k], depth + 1, seen)
    elif isinstance(obj, list):
        obj[:] = [_finish(v, depth + 1, seen) for v in obj]
    elif isinstance(obj, tuple):
        out = tuple(_finish(v, depth + 1, seen) for v in obj)
    seen[id(obj)] = (obj, out)
    return out
