"""What an exported image carries: checkpoint hash, seeds, psi and the exact latents.

Stored as JSON in a PNG iTXt chunk named 'ganexplorer' (compressed). Latents are base64
of their float32 bytes, so reading them back gives the identical array. Formats without
text chunks (JPEG, WebP) get a sidecar `<name>.npz` + `<name>.json` instead.
"""
from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from ..atomic import atomic_path, atomic_write_text

KEY = "ganexplorer"


def encode_array(a: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(a, np.float32)
    return {"dtype": "float32", "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


def decode_array(d: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(d["b64"]), np.float32).reshape(d["shape"]).copy()


def save_image(image: Image.Image, path: str | os.PathLike, meta: dict[str, Any] | None = None,
               latents: dict[str, np.ndarray] | None = None, quality: int = 95) -> Path:
    """Write `image` atomically; `meta` (JSON-able) and `latents` go into the file or a sidecar."""
    path = Path(path)
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: choose a .png, .jpg or .webp file name")
    record = dict(meta or {})
    arrays = {k: np.asarray(v, np.float32) for k, v in (latents or {}).items()}
    if fmt == "PNG":
        record["latents"] = {k: encode_array(v) for k, v in arrays.items()}
        info = PngImagePlugin.PngInfo()
        info.add_itxt(KEY, json.dumps(record), zip=True)
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG", pnginfo=info)
        return path
    with atomic_path(path) as tmp:
        image.save(tmp, format=fmt, quality=quality)
    if arrays:
        with atomic_path(path.with_suffix(".npz")) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
    atomic_write_text(path.with_suffix(".json"), json.dumps(record, indent=1))
    return path


def read_metadata(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, latents) from a file written by save_image (PNG chunk or sidecars)."""
    path = Path(path)
    if path.suffix.lower() == ".png":
        with Image.open(path) as im:
            text = im.text.get(KEY) if hasattr(im, "text") else None
        if text is None:
            raise ValueError(f"{path.name} carries no GAN Explorer metadata")
        record = json.loads(text)
        latents = {k: decode_array(v) for k, v in record.pop("latents", {}).items()}
        return record, latents
    record = json.loads(path.with_suffix(".json").read_text())
    latents = {}
    npz = path.with_suffix(".npz")
    if npz.exists():
        with np.load(npz, allow_pickle=False) as d:
            latents = {k: d[k] for k in d.files}
    return record, latents


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
