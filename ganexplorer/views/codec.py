"""Sub-states to JSON and back, field by field from their type annotations, so a new view's
sub-state is saved in the session file without code of its own.

Supported field types: bool, int, float, str, an Enum, None-able (`X | None`), tuples
(`tuple[X, ...]` and fixed `tuple[X, Y]`), nested frozen dataclasses and float32 arrays
(`np.ndarray`, stored bit-exactly as base64). Reading raises ValueError naming the field.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

import numpy as np

from ..export.metadata import decode_array, encode_array
from .base import freeze


def to_json(obj: Any) -> Any:
    """A sub-state (or any value of a supported type) as JSON-ready data."""
    if isinstance(obj, np.ndarray):
        return encode_array(np.asarray(obj, np.float32))
    if isinstance(obj, Enum):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_json(v) for v in obj]
    return obj


def from_json(cls: type, data: Any) -> Any:
    """An instance of the dataclass `cls` from `to_json`'s data; fields not in `data` keep
    their defaults, unknown keys are ignored (a newer file opens)."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} is not a mapping")
    hints = typing.get_type_hints(cls)
    kw = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kw[f.name] = field_from_json(cls, f.name, data[f.name], hints)
    return cls(**kw)


def field_from_json(cls: type, name: str, value: Any, hints: dict | None = None) -> Any:
    """One field of `cls` from JSON data; ValueError naming the field when it is damaged."""
    tp = (hints or typing.get_type_hints(cls))[name]
    try:
        return _read(tp, value)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ValueError(f"{cls.__name__}.{name} is damaged ({type(e).__name__}: {e})") from None


def _read(tp: Any, v: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if v is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot read a value of type {tp}")
        return _read(inner[0], v)
    if origin is tuple:
        if not isinstance(v, (list, tuple)):
            raise TypeError(f"expected a list, got {type(v).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_read(args[0], x) for x in v)
        if len(v) != len(args):
            raise ValueError(f"expected {len(args)} values, got {len(v)}")
        return tuple(_read(a, x) for a, x in zip(args, v))
    if tp is np.ndarray:
        return freeze(decode_array(v))
    if dataclasses.is_dataclass(tp):
        return from_json(tp, v)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(v)
    if tp is bool:
        if not isinstance(v, bool):
            raise TypeError(f"expected true or false, got {v!r}")
        return v
    if tp in (int, float, str):
        if isinstance(v, (dict, list)) or v is None:
            raise TypeError(f"expected a {tp.__name__}, got {type(v).__name__}")
        return tp(v)
    raise TypeError(f"cannot read a value of type {tp}")
