"""The generator calls every front end shares: seeds -> ws, ws -> images, in batches.

Plain functions, no threads: the CLI calls them directly, the render thread calls them
off the GUI thread.
"""
from __future__ import annotations

import threading
import time
import weakref

import numpy as np
import torch
import torch.nn.functional as F

from ..latent.sampling import class_labels, seeds_to_z
from ..models.protocol import GeneratorBase
from ..models.stylegan2 import StyleGAN2Generator
from .backends import render_synthesis

PREVIEW_BUDGET_MS = 33.0    # a drag's frame budget: about 30 frames/s
PREVIEW_GAIN = 0.6          # a preview stage is used only when it costs at most this share of the full image


@torch.no_grad()
def z_to_ws(G: GeneratorBase, z: np.ndarray, c: np.ndarray | None = None, psi: float = 1.0,
            truncation_cutoff: int | None = None) -> np.ndarray:
    """z [N, z_dim] (+ c [N, c_dim]) -> ws [N, num_ws, w_dim] float32."""
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != G.z_dim:
        raise ValueError(f"z must have shape [N, {G.z_dim}] for this model, got {list(z.shape)}")
    if G.c_dim:
        if c is None:
            raise ValueError(f"this model is conditional: give class labels [N, {G.c_dim}] (--c C.npy) "
                             "or one class for all (--class K).")
        c = np.asarray(c, np.float32)
        if c.shape != (z.shape[0], G.c_dim):
            raise ValueError(f"c must have shape [{z.shape[0]}, {G.c_dim}], got {list(c.shape)}")
    dev = G.w_avg.device
    ct = torch.from_numpy(c).to(dev) if G.c_dim else None
    ws = G.mapping(torch.from_numpy(z).to(dev), ct, psi=psi, truncation_cutoff=truncation_cutoff)
    return ws.float().cpu().numpy()


def labels_for(G: GeneratorBase, seeds: list[int], class_index: int | None = None) -> np.ndarray | None:
    """[N, c_dim] one-hot labels for a conditional G (None otherwise): `class_index` for every
    seed, or by default NVIDIA's convention, class = seed % c_dim ("class follows seed")."""
    if not G.c_dim:
        if class_index is not None:
            raise ValueError("this model is not conditional, so it has no classes to choose from.")
        return None
    if class_index is None:
        return class_labels(seeds, G.c_dim)
    if not 0 <= int(class_index) < G.c_dim:
        raise ValueError(f"class {class_index} does not exist: this model has classes 0-{G.c_dim - 1}.")
    c = np.zeros((len(seeds), G.c_dim), np.float32)
    c[:, int(class_index)] = 1
    return c


def seeds_to_ws(G: GeneratorBase, seeds: list[int], psi: float = 1.0,
                truncation_cutoff: int | None = None, class_index: int | None = None) -> np.ndarray:
    """NVIDIA's gen_images.py convention: z from RandomState(seed), class = seed % c_dim
    unless `class_index` picks one class for all."""
    return z_to_ws(G, seeds_to_z(seeds, G.z_dim), labels_for(G, seeds, class_index), psi,
                   truncation_cutoff)


@torch.no_grad()
def synthesize(G: GeneratorBase, ws: np.ndarray, noise_mode: str = "const",
               batch_size: int = 16, transform: np.ndarray | None = None,
               noise: np.ndarray | None = None, backend: str | None = None) -> np.ndarray:
    """ws [N, num_ws, w_dim] -> raw float32 images [N, C, H, W] (unclamped).

    backend: 'auto' | 'eager' | a back end's name (render.backends); None: the preference.

    transform [3, 3]: StyleGAN3's input transform for this call (`input_transform`).
    noise: per-sample noise [N, ...] in the model's own convention (`G.noise_shape`), used
    instead of `noise_mode`'s noise.
    """
    preview = None
    if isinstance(G, Previewed):   # a drag: maybe a cheaper stage (below), scaled up to full size
        preview, G = G, G.inner
        preview.stage = None
    ws = np.asarray(ws, np.float32)
    G.check_ws(torch.from_numpy(ws[:1]) if len(ws) else torch.empty(0))
    dev = G.w_avg.device
    kwargs = {}
    if transform is not None:
        if not G.has_input_transform:
            raise ValueError("only StyleGAN3 models have an input transform (translate/rotate).")
        kwargs["transform"] = torch.as_tensor(np.asarray(transform, np.float32)).to(dev)
    if noise is not None:
        noise = np.asarray(noise, np.float32)
        G.check_noise(noise.shape, len(ws))
    if isinstance(G, Steered):   # the back ends see the model itself, the transform as an argument
        if G._transform is not None:
            kwargs.setdefault("transform", G._transform.to(dev))
        G = G.base
    stage = choose_stage(G, preview.budget_ms) if preview is not None and noise is None else None
    if stage is not None:
        kwargs["stop_res"] = preview.stage = stage
    out = []
    for start in range(0, len(ws), batch_size):
        chunk = torch.from_numpy(ws[start:start + batch_size]).to(dev)
        if noise is not None:
            kwargs["noise"] = torch.from_numpy(noise[start:start + batch_size]).to(dev)
        t0 = time.perf_counter()
        img = render_synthesis(G, chunk, noise_mode, kwargs, backend)
        if len(chunk) == 1:      # single images (what a drag renders) time the stages
            STAGE_TIMES.note(G, stage or G.img_resolution, time.perf_counter() - t0)
        if stage is not None:    # shown at full size, like the image it stands for
            img = F.interpolate(img, size=(G.img_resolution, G.img_resolution), mode="bilinear",
                                align_corners=False)
        out.append(img.cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, G.img_channels, G.img_resolution,
                                                      G.img_resolution), np.float32)


def input_transform(translate: tuple[float, float] = (0.0, 0.0), rotate: float = 0.0) -> np.ndarray:
    """[3, 3] StyleGAN3 input transform that moves the image by `translate` (fractions of
    its size, as NVIDIA's visualizer) and turns it by `rotate` degrees."""
    from ..models.stylegan3 import make_transform
    return make_transform(translate, rotate).numpy()


class Steered:
    """G as the window shows it: one chosen class for every sample (instead of class = seed %
    c_dim) and/or a StyleGAN3 input transform. Every generator call of the figures and
    recipes then obeys both without each taking arguments. Not a module and never mutates
    G: attribute reads are G's, `mapping` swaps the label, `synthesis` adds the transform."""

    def __init__(self, G: GeneratorBase, class_index: int | None = None,
                 transform: np.ndarray | None = None):
        if class_index is not None:
            labels_for(G, [0], class_index)   # checks the model is conditional and the class exists
        if transform is not None and not G.has_input_transform:
            raise ValueError("only StyleGAN3 models have an input transform (translate/rotate).")
        self.base, self.class_index = G, class_index
        self._transform = None if transform is None else torch.as_tensor(np.asarray(transform, np.float32))

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("base", "class_index", "_transform"):
            raise AttributeError(name)   # copy/pickle probe an unset instance: no recursion
        return getattr(self.base, name)

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        if self.class_index is not None:
            c = torch.zeros(z.shape[0], self.base.c_dim, device=z.device)
            c[:, self.class_index] = 1
        return self.base.mapping(z, c, psi, truncation_cutoff)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", **kwargs) -> torch.Tensor:
        if self._transform is not None:
            kwargs.setdefault("transform", self._transform.to(ws.device))
        return self.base.synthesis(ws, noise_mode=noise_mode, **kwargs)


def steered(G: GeneratorBase, class_index: int | None = None, translate: tuple[float, float] = (0.0, 0.0),
            rotate: float = 0.0) -> GeneratorBase:
    """G itself when nothing is chosen, else a `Steered` view of it. Translate/rotate apply to
    StyleGAN3 only (a zero transform is ignored for other models, as there is nothing to move)."""
    base = G.base if isinstance(G, Steered) else G
    moved = (tuple(translate) != (0.0, 0.0) or rotate != 0.0)
    if moved and not base.has_input_transform:
        raise ValueError("only StyleGAN3 models have an input transform (translate/rotate).")
    if class_index is None and not moved:
        return base
    return Steered(base, class_index, input_transform(translate, rotate) if moved else None)  # type: ignore[return-value]


def chosen_class(G: GeneratorBase) -> int | None:
    """The class a `Steered` view fixes (None: class follows the seed)."""
    return G.class_index if isinstance(G, Steered) else None


def without_class(G: GeneratorBase) -> GeneratorBase:
    """G with any chosen class dropped (its transform kept): for labels chosen per sample."""
    if not isinstance(G, Steered) or G.class_index is None:
        return G
    if G._transform is None:
        return G.base
    return Steered(G.base, None, G._transform.numpy())  # type: ignore[return-value]


# ---------------------------------------------------------------- drag previews

class StageTimes:
    """Measured seconds of one single-image synthesis per (generator, stage resolution),
    smoothed; the full image is the stage `img_resolution`. Thread-safe."""

    def __init__(self, smoothing: float = 0.5):
        self.smoothing = smoothing       # weight of the newest measurement
        self._lock = threading.Lock()
        self._times: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def note(self, G: GeneratorBase, res: int, seconds: float) -> None:
        with self._lock:
            table = self._times.setdefault(G, {})
            old = table.get(res)
            table[res] = seconds if old is None else (1 - self.smoothing) * old + self.smoothing * seconds

    def get(self, G: GeneratorBase, res: int) -> float | None:
        with self._lock:
            return self._times.get(G, {}).get(res)


STAGE_TIMES = StageTimes()


def preview_stages(G: GeneratorBase) -> list[int]:
    """Resolutions a drag preview of G can stop at, ascending ([] = none: G renders full).
    StyleGAN2 (skip architecture): the RGB sum after each block from 32 px. Not StyleGAN3:
    its layers all run at the output's sampling rates and the image exists only after the
    last layer, so a cheaper StyleGAN3 image would need another network; nor DCGAN, lucidrains'
    or non-skip StyleGAN2, which are either cheap already or have no image before the end."""
    base = G.base if isinstance(G, Steered) else G
    return base.preview_resolutions() if isinstance(base, StyleGAN2Generator) else []


def choose_stage(G: GeneratorBase, budget_ms: float) -> int | None:
    """The largest preview stage whose single-image time fits `budget_ms` (measured, or
    estimated from the full image's measured time and the stage's share of the work), the
    smallest when none fits; None (full image) when the full image fits or was never timed, or
    when that stage would not cost clearly less than the full image (PREVIEW_GAIN)."""
    stages = preview_stages(G)
    base = G.base if isinstance(G, Steered) else G
    full = STAGE_TIMES.get(base, base.img_resolution)
    if not stages or full is None or full * 1000.0 <= budget_ms:
        return None
    times = {}
    for res in stages:
        t = STAGE_TIMES.get(base, res)
        times[res] = full * base.stage_cost(res) if t is None else t
    fitting = [res for res in stages if times[res] * 1000.0 <= budget_ms]
    best = fitting[-1] if fitting else stages[0]
    # A preview must pay for its blur: on a small model, or when a faster back end draws the
    # full image (previews run eager), the stage can cost as much as the full image.
    return best if times[best] <= PREVIEW_GAIN * full else None


class Previewed:
    """G while a slider is dragged: `synthesize` renders the largest preview stage that fits
    `budget_ms` and scales it up to full size; afterwards `.stage` says which stage it used
    (None: the full image). A view of G like `Steered`, never a mutation."""

    def __init__(self, G: GeneratorBase, budget_ms: float):
        self.inner, self.budget_ms = G, float(budget_ms)
        self.stage: int | None = None

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("inner", "budget_ms", "stage"):
            raise AttributeError(name)
        return getattr(self.inner, name)


def previewing(G: GeneratorBase, budget_ms: float | None) -> GeneratorBase:
    """G itself when `budget_ms` is None (every export, the CLI, a still image), else a
    `Previewed` view of it for one figure of a drag."""
    return G if budget_ms is None else Previewed(G, budget_ms)  # type: ignore[return-value]


def note_preview(fig, G: GeneratorBase):
    """Mark figure `fig` made with `G` (from `previewing`) as a preview when it was one:
    meta['preview_res'] = the stage's resolution. Returns fig."""
    if isinstance(G, Previewed) and G.stage is not None:
        fig.meta["preview_res"] = G.stage
    return fig


def stage_text(meta: dict) -> str:
    """'preview 64 px' or 'full', for the status bar."""
    res = meta.get("preview_res")
    return f"preview {res} px" if res else "full"
