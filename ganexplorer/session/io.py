"""Sessions as JSON: the model (path and sha256) plus the whole SessionState.

Latents are stored bit-exactly (base64 of float32, as exported images carry them), so
reopening a session renders the identical images. Reading checks every field and raises
`SessionError` with a readable message; unknown fields are ignored (newer files open).

Version 2 keeps each view's sub-state under `state.views.<view name>`, written and read
field by field (views.codec), so a new view needs nothing here. Version 1 files (flat
fields: `interp_t`, `arith_space`, `mix_rows`, ...) still open: `V1_FIELDS` says where each
of their fields went.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..export.metadata import decode_array, encode_array
from ..views import REGISTRY, View, default_states
from ..views.codec import field_from_json, from_json, to_json
from .state import Edit, ModelRef, Pin, SavedDirection, SessionState, freeze

FORMAT = "ganexplorer-session"
VERSION = 2
SUFFIX = ".ganexplorer.json"

# version 1's flat fields: name -> (view, field of its sub-state)
V1_FIELDS: dict[str, tuple[View, str]] = {
    "grid_start": (View.SAMPLE, "grid_start"), "grid_size": (View.SAMPLE, "grid_size"),
    "groups": (View.ARITHMETIC, "groups"), "arith_space": (View.ARITHMETIC, "space"),
    "arith_sigma": (View.ARITHMETIC, "sigma"), "arith_neighbours": (View.ARITHMETIC, "neighbours"),
    "arith_noise_seed": (View.ARITHMETIC, "noise_seed"),
    "endpoints": (View.INTERPOLATE, "endpoints"), "interp_t": (View.INTERPOLATE, "t"),
    "interp_method": (View.INTERPOLATE, "method"), "interp_space": (View.INTERPOLATE, "space"),
    "interp_frames": (View.INTERPOLATE, "frames"), "interp_loop": (View.INTERPOLATE, "loop"),
    "interp_classes": (View.INTERPOLATE, "classes"),
    "mix_rows": (View.MIXING, "rows"), "mix_cols": (View.MIXING, "cols"), "mix_layers": (View.MIXING, "layers"),
    "dir_method": (View.DIRECTIONS, "method"),
}


class SessionError(Exception):
    """A session file could not be read; the message says why."""


def state_to_dict(s: SessionState) -> dict[str, Any]:
    return {
        "seed": s.seed, "psi": s.psi, "cutoff": s.cutoff, "noise_mode": s.noise_mode,
        "base_ws": None if s.base_ws is None else encode_array(s.base_ws), "base_label": s.base_label,
        "edits": [{"name": e.name, "vector": encode_array(e.vector), "alpha": e.alpha,
                   "start": e.start, "stop": e.stop} for e in s.edits],
        "pins": [{"id": p.id, "label": p.label, "seed": p.seed, "psi": p.psi, "ws": encode_array(p.ws),
                  "class_index": p.class_index} for p in s.pins],
        "next_pin_id": s.next_pin_id,
        "saved_directions": [{"name": d.name, "vector": encode_array(d.vector), "scale": d.scale,
                              "accuracy": d.accuracy} for d in s.saved_directions],
        "class_index": s.class_index, "translate": list(s.translate), "rotate": s.rotate,
        "view": s.view.value,
        "views": {v.view.value: to_json(v) for v in s.views},
    }


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


# the shared fields: name -> how to read its JSON value
_SHARED = {
    "seed": int, "psi": float, "cutoff": _opt_int, "noise_mode": str, "base_label": str,
    "next_pin_id": int, "class_index": _opt_int, "rotate": float,
    "base_ws": lambda v: None if v is None else freeze(decode_array(v)),
    "translate": lambda v: (float(v[0]), float(v[1])),
    "edits": lambda v: tuple(Edit(str(e["name"]), freeze(decode_array(e["vector"])), float(e["alpha"]),
                                  int(e["start"]), _opt_int(e["stop"])) for e in v),
    "pins": lambda v: tuple(Pin(int(p["id"]), str(p["label"]), freeze(decode_array(p["ws"])),
                                _opt_int(p.get("seed")), float(p.get("psi", 1.0)), _opt_int(p.get("class_index")))
                            for p in v),
    "saved_directions": lambda v: tuple(
        SavedDirection(str(d["name"]), freeze(decode_array(d["vector"])), float(d["scale"]),
                       None if d.get("accuracy") is None else float(d["accuracy"])) for d in v),
}


def state_from_dict(d: dict[str, Any], version: int = VERSION) -> SessionState:
    kw: dict[str, Any] = {}
    name = ""
    try:
        for name, read in _SHARED.items():
            if name in d:
                kw[name] = read(d[name])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise SessionError(f"the session's field {name!r} is damaged ({type(e).__name__}: {e})") from None
    view = d.get("view")
    kw["view"] = View(view) if view in {v.value for v in REGISTRY} else View.SAMPLE
    kw["views"] = _views_v1(d) if version < 2 else _views(d.get("views", {}))
    return SessionState(**kw)


def _views(d: Any) -> tuple:
    """Version 2: each registered view's sub-state from its own entry (defaults where absent)."""
    if not isinstance(d, dict):
        raise SessionError("the session's field 'views' is damaged (not a mapping)")
    out = []
    for default in default_states():
        data = d.get(default.view.value)
        try:
            out.append(default if data is None else from_json(type(default), data))
        except ValueError as e:
            raise SessionError(f"the session's {default.view.value} view is damaged: {e}") from None
    return tuple(out)


def _views_v1(d: dict[str, Any]) -> tuple:
    """Version 1: the flat fields, each into its view's sub-state."""
    fields: dict[View, dict[str, Any]] = {}
    for old, (view, name) in V1_FIELDS.items():
        if old in d:
            cls = REGISTRY[view].state
            try:
                fields.setdefault(view, {})[name] = field_from_json(cls, name, d[old])
            except ValueError as e:
                raise SessionError(f"the session's field {old!r} is damaged: {e}") from None
    return tuple(type(s)(**fields.get(s.view, {})) for s in default_states())


def save_session(path: str | os.PathLike, model: ModelRef | None, state: SessionState) -> Path:
    path = Path(path)
    doc = {"format": FORMAT, "version": VERSION,
           "model": None if model is None else {"path": model.path, "sha256": model.sha256, **model.extra},
           "state": state_to_dict(state)}
    atomic_write_text(path, json.dumps(doc, indent=1))
    return path


def load_session(path: str | os.PathLike) -> tuple[ModelRef | None, SessionState]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SessionError(f"{path.name} could not be read: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SessionError(f"{path.name} is not a GAN Explorer session (not JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SessionError(f"{path.name} is not a GAN Explorer session (expected format {FORMAT!r})")
    try:
        version = int(doc.get("version", 0))
    except (TypeError, ValueError):
        raise SessionError(f"{path.name} has a damaged version number") from None
    if version > VERSION:
        raise SessionError(f"{path.name} was saved by a newer GAN Explorer; update to open it")
    m = doc.get("model")
    model = None
    if isinstance(m, dict) and "path" in m:
        model = ModelRef(str(m["path"]), str(m.get("sha256", "")),
                         {k: v for k, v in m.items() if k not in ("path", "sha256")})
    state = doc.get("state")
    if not isinstance(state, dict):
        raise SessionError(f"{path.name} holds no session state")
    return model, state_from_dict(state, version)
