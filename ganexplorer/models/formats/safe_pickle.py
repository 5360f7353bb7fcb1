"""A restricted unpickler for NVIDIA's network pickles: data in, never code.

NVIDIA's loader re-executes the Python source embedded in every network object
(`torch_utils.persistence`). We read the same pickle with an allow-list of globals, each
mapped to an inert function that only builds plain data: dicts, lists, tensors, numbers.
Any other global (os.system, builtins.eval, a class from the file's own source, ...) is
refused with a CheckpointError that names it.

The allowed globals themselves are shared by the whole process, so the unpickler never
lets the file change them: BUILD (setting state) works only on objects it created of the
few kinds that need it (NumPy dtypes and arrays), NEWOBJ only makes our dicts, and items
are added only to containers. We use pickle's pure-Python machine, whose opcodes can be
overridden one by one (the C one cannot); network pickles have few, large opcodes, so it
is not noticeably slower. The resulting tree is checked (`untrusted.check_tree`) before
anything walks it: no loops, and a bounded size even counting shared references.
"""
from __future__ import annotations

import collections
import io
import math
import pickle
import re
from typing import Any

import numpy as np
import torch

from ..errors import CheckpointError
from ..limits import MAX_TREE_DEPTH, check_declared
from ..pickle_scan import scan_bytes
from ..tensor_checks import check_view
from ..untrusted import brief, check_tree

MAX_DEPTH = MAX_TREE_DEPTH   # nesting of objects we are willing to walk



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
    if bytes(b[:2]) == b"PK":
        # A zip here could be a decompression bomb; real network pickles nest only legacy streams.
        raise CheckpointError("refused to load: a tensor storage inside the pickle is not a plain "
                              "torch storage stream.")
    scan_bytes(bytes(b), "a tensor storage inside the pickle", pickles=5)
    try:
        storage = torch.load(io.BytesIO(bytes(b)), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:   # torch's own allow-list refused something inside
        m = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = f"the Python global '{m.group(1)}'" if m else "something that is not tensor data"
        raise CheckpointError(f"refused to load: a tensor storage inside the pickle asks for {what}; "
                              "nothing from it was run.") from None
    except (RuntimeError, EOFError, ValueError, KeyError, TypeError, OverflowError, MemoryError,
            AttributeError, IndexError, AssertionError) as e:
        from ..messages import shorten
        raise CheckpointError(f"a tensor storage inside the pickle is damaged ({type(e).__name__}: "
                              f"{shorten(str(e).splitlines()[0] if str(e).strip() else '', 160)}).") from None
    if not isinstance(storage, torch.TypedStorage) or storage._untyped_storage.nbytes() > len(b):
        raise CheckpointError("refused to load: a tensor storage inside the pickle holds something "
                              "other than its own bytes.")
    return storage


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None) -> torch.Tensor:
    if not isinstance(storage, torch.TypedStorage):
        raise CheckpointError("a tensor in this pickle does not point at a storage.")
    if not (isinstance(storage_offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and all(isinstance(v, int) for v in size + stride) and len(size) == len(stride)):
        raise CheckpointError("a tensor in this pickle has a malformed shape or stride.")
    # Stride 0 or overlapping views would let a few bytes pose as a huge tensor.
    # (TypedStorage's public methods warn that it is deprecated; torch._utils reads it so too.)
    check_view(storage._untyped_storage.nbytes(), torch._utils._element_size(storage.dtype),
               storage_offset, size, stride,
               f"of shape {list(size)} in this pickle")
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
        count = math.prod(shape)   # exact: numpy's int64 product could wrap around to match
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


class TensorFlowPickleError(CheckpointError):
    """The pickle is from the TensorFlow StyleGAN/StyleGAN2 code (dnnlib.tflib)."""


_BUILDABLE = (_Dtype, _NdarrayStub)        # kinds whose state BUILD may set (on instances only)
_NEWOBJ_OK = (EasyDict, collections.OrderedDict)


def _refuse(what: str) -> CheckpointError:
    return CheckpointError(f"refused to load: the pickle {what}, which network pickles never do; "
                           "nothing from it was run.")


class RestrictedUnpickler(pickle._Unpickler):
    """pickle's Python unpickler with an allow-list of globals and guarded state opcodes."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module: str, name: str):
        key = (module, name)
        if key in ALLOWED:
            return ALLOWED[key]
        if module.startswith("dnnlib.tflib"):
            raise TensorFlowPickleError(
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

    # BUILD: setting an object's state. Never on a class or function (the allow-listed globals
    # are the process's own: EasyDict.items = None would break every later load).
    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) in _BUILDABLE:
            inst.__setstate__(state)
        elif type(inst) in _NEWOBJ_OK and not state:
            pass   # an empty state changes nothing
        else:
            raise _refuse(f"sets the state of {_kind(inst)}")
    dispatch[pickle.BUILD[0]] = load_build

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls not in _NEWOBJ_OK or args:
            raise _refuse(f"creates {_kind(cls)} through NEWOBJ")
        self.append(cls.__new__(cls))
    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls not in _NEWOBJ_OK or args or kwargs:
            raise _refuse(f"creates {_kind(cls)} through NEWOBJ_EX")
        self.append(cls.__new__(cls))
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def _no_instances(self):
        raise _refuse("builds a class instance with INST/OBJ")
    dispatch[pickle.INST[0]] = _no_instances
    dispatch[pickle.OBJ[0]] = _no_instances

    # Items go only into containers the pickle built, never into a class or function.
    def load_append(self):
        value = self.stack.pop()
        _container(self.stack[-1], list).append(value)
    dispatch[pickle.APPEND[0]] = load_append

    def load_appends(self):
        items = self.pop_mark()
        _container(self.stack[-1], list).extend(items)
    dispatch[pickle.APPENDS[0]] = load_appends

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        _container(self.stack[-1], dict)[key] = value
    dispatch[pickle.SETITEM[0]] = load_setitem

    def load_setitems(self):
        items = self.pop_mark()
        target = _container(self.stack[-1], dict)
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]
    dispatch[pickle.SETITEMS[0]] = load_setitems

    def load_additems(self):
        items = self.pop_mark()
        _container(self.stack[-1], set).update(items)
    dispatch[pickle.ADDITEMS[0]] = load_additems


def _kind(obj: Any) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__name__}"
    if callable(obj):
        return f"the function {getattr(obj, '__name__', type(obj).__name__)}"
    return f"a {type(obj).__name__}"


def _container(obj: Any, kind: type) -> Any:
    if not isinstance(obj, kind) or isinstance(obj, type):
        raise _refuse(f"adds items to {_kind(obj)}")
    return obj


def safe_loads(data: bytes) -> Any:
    """Unpickle `data` with the allow-list; NumPy array stubs become arrays."""
    scan_bytes(data, "this pickle")   # before unpickling: hashing a shared tuple could hang it
    obj = RestrictedUnpickler(io.BytesIO(data)).load()
    check_tree(obj, "this pickle")
    obj = _finish(obj, 0, {})
    _check_network_settings(obj)
    return obj


# Plain attributes a persistent network object records about its own size.
_SIZE_ATTRS = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "num_ws")


def _check_network_settings(root: Any) -> None:
    """Every persistent object's constructor arguments and size attributes within `limits`,
    whichever reader builds a network from them, before anything is built."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, PersistentObject):
            what = f"the pickled {brief(obj.class_name, 60, quote=False)}"
            st = obj.state
            check_declared({"args": st.get("_init_args"), **(st.get("_init_kwargs") or {})}
                           if isinstance(st.get("_init_kwargs") or {}, dict) else {}, what)
            check_declared({k: st[k] for k in _SIZE_ATTRS if isinstance(st.get(k), int)}, what)
            stack.append(st)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)


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
