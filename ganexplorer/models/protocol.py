"""The Generator protocol every model satisfies, and the base class that implements it.

Names follow the StyleGAN papers and NVIDIA's code: `z` is the input latent, `w` the
intermediate latent, `ws` one `w` per synthesis layer ([N, num_ws, w_dim]), `c` the class
label (one-hot, [N, c_dim]), `psi` the truncation strength. A DCGAN has no mapping network:
its `w` *is* `z` (with the label appended when conditional) and `num_ws` is 1.

Callers use these members directly (`G.has_styles`, never `getattr(G, "has_styles", False)`):
every model class derives from `GeneratorBase`, which gives each member a meaning and,
where one exists, a default.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_hook

NOISE_MODES = ("const", "random", "none")

# Taps on a synthesis pass that leave G untouched (the render thread and jobs share it): feature
# maps are caught by a global forward hook that records only this thread's `capture_features`
# modules, and noise strengths are looked up by the noise layers themselves. Both live in a
# ContextVar, so another thread's pass, or a copy of G, is never affected.
_NOISE_SCALES: ContextVar[dict[int, float] | None] = ContextVar("noise_scales", default=None)
_CAPTURE: ContextVar[dict[int, tuple[str, dict]] | None] = ContextVar("feature_capture", default=None)


def noise_scale(module: nn.Module) -> float:
    """The factor the current `GeneratorBase.scaled_noise` context puts on this noise layer's
    noise (1: as trained). Called by the models' noise layers."""
    scales = _NOISE_SCALES.get()
    return 1.0 if scales is None else scales.get(id(module), 1.0)


@runtime_checkable
class Generator(Protocol):
    """What the explorer, the CLI and the editors may use of a generator."""

    kind: str              # 'dcgan' | 'stylegan2' | 'stylegan2-lucidrains' | ...
    z_dim: int             # input latent size
    c_dim: int             # conditioning label size, 0 = unconditional
    w_dim: int             # intermediate latent size (DCGAN: z_dim + c_dim, the label rides in w)
    num_ws: int            # number of w vectors the synthesis consumes (1 for a DCGAN)
    img_resolution: int    # output height = width
    img_channels: int      # 1 (grey) or 3 (RGB)
    w_avg: torch.Tensor    # [w_dim] centre of truncation
    # True when the ws rows are per-layer styles that may differ (StyleGAN family): style
    # mixing, w+ editing and projection in W apply. False: ws has one row, w = z (+ label),
    # and editing/projection work in Z under the prior.
    has_styles: bool
    # Consecutive ws rows that belong to one resolution block: 2 in NVIDIA's StyleGAN2
    # (conv0/conv1 of a block; the paper's pairing), 1 in lucidrains' (one w per block).
    # Style mixing turns a resolution range into ws rows with it.
    ws_per_resolution: int
    # True when synthesis(ws, transform=[3, 3]) moves/turns the picture (StyleGAN3's input).
    has_input_transform: bool
    # Per-sample noise synthesis(ws, noise=[N, *noise_shape]) takes in the original
    # package's own convention (lucidrains: [R, R, 1] uniform); None: no such input.
    noise_shape: tuple[int, ...] | None

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """z [N, z_dim] (+ c [N, c_dim]) -> ws [N, num_ws, w_dim], truncated toward w_avg."""
        ...

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> raw image [N, img_channels, R, R], about [-1, 1]."""
        ...

    def check_ws(self, ws: torch.Tensor) -> None:
        """Raise ValueError naming the expected shape unless ws is [N, num_ws, w_dim]."""
        ...

    def sefa_weights(self) -> torch.Tensor:
        """A [out, d] with d <= w_dim: the linear map(s) that first act on w, stacked; SeFa's
        directions are the top eigenvectors of AᵀA. d < w_dim only for a conditional DCGAN
        (the label columns are left out: directions never move the label)."""
        ...

    def feature_layers(self) -> tuple[str, ...]:
        """Names of the synthesis feature maps `synthesis_features` can return, coarse to
        fine, in NVIDIA's naming: 'b4', 'b8', ... the block at that resolution (StyleGAN2,
        lucidrains', DCGAN), 'L0_36_512', ... the layer (StyleGAN3)."""
        ...

    def synthesis_features(self, ws: torch.Tensor, layers: Sequence[str],
                           noise_mode: str = "const") -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """ws -> (image [N, C, R, R], {name: feature map [N, C_l, r, r]}), differentiable:
        the hook drag editing (DragGAN, Pan et al. 2023) uses for motion supervision and
        point tracking."""
        ...

    def noise_layers(self) -> tuple[str, ...]:
        """Names of the per-pixel noise inputs `scaled_noise` can scale, coarse to fine:
        'b4.conv1', 'b8.conv0', ... (StyleGAN2, lucidrains'); () for models without noise."""
        ...

    def scaled_noise(self, strengths: Mapping[str, float]) -> Any:
        """Context manager: eager synthesis passes of this G on this thread scale the noise
        of the named layers (0 = that layer's noise off, as noise_mode 'none' there)."""
        ...

    def config(self) -> dict[str, Any]:
        """Constructor keyword arguments: `type(G)(**G.config())` rebuilds the architecture."""
        ...

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        ...


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float,
             truncation_cutoff: int | None = None) -> torch.Tensor:
    """The truncation trick: w = w_avg + psi * (w - w_avg) on layers [0, cutoff).

    ws: [N, num_ws, w_dim]; w_avg: [w_dim]. cutoff None means every layer.
    """
    if psi == 1:
        return ws
    center = w_avg.to(ws.dtype).reshape(1, 1, -1)
    out = center + psi * (ws - center)
    if truncation_cutoff is None or truncation_cutoff >= ws.shape[1]:
        return out
    return torch.cat([out[:, :truncation_cutoff], ws[:, truncation_cutoff:]], dim=1)


def standard_normal_z(n: int, z_dim: int, seed: int) -> np.ndarray:
    """[n, z_dim] float32 from np.random.RandomState(seed): the draw behind every seeded
    sample of w (latent.sampling.sample_ws and estimate_w_avg below)."""
    return np.random.RandomState(int(seed)).randn(int(n), int(z_dim)).astype(np.float32)


class GeneratorBase(nn.Module):
    """Shared behaviour: argument checks, forward = synthesis(mapping(...)), config(),
    feature maps by forward hooks.

    Subclasses set the dimension attributes, implement `_map(z, c) -> ws` (untruncated),
    `synthesis`, `sefa_weights` and `_feature_modules`, and list their constructor
    arguments in `config()` so that `type(G)(**G.config())` rebuilds the same architecture.
    """

    kind = "generator"
    has_styles = False     # see Generator.has_styles
    ws_per_resolution = 2  # see Generator.ws_per_resolution
    has_input_transform = False              # see Generator.has_input_transform
    noise_shape: tuple[int, ...] | None = None   # see Generator.noise_shape

    def ws_sampling_rates(self) -> list[float] | None:
        """[num_ws] the sampling rate each w acts at, for generators without resolution
        blocks (StyleGAN3: style mixing groups layers by it); None: use ws_per_resolution."""
        return None

    def check_noise(self, shape: tuple[int, ...], n: int) -> None:
        """ValueError unless `shape` is per-sample noise [n, *noise_shape] for this model."""
        if self.noise_shape is None:
            raise ValueError("this model takes no per-sample noise array (only the noise modes)")
        want = (n, *self.noise_shape)
        if tuple(shape) != want:
            raise ValueError(f"the noise must be {list(want)} for this model, got {list(shape)}")

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """z [N, z_dim], c [N, c_dim] or None -> ws [N, num_ws, w_dim]."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        if self.c_dim:
            if c is None or c.shape != (z.shape[0], self.c_dim):
                raise ValueError(f"this model is conditional: c must be [N, {self.c_dim}]")
        else:
            c = None
        ws = self._map(z, c)
        return truncate(ws, self.w_avg, psi, truncation_cutoff)

    def check_ws(self, ws: torch.Tensor) -> None:
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def estimate_w_avg(self, n: int = 10_000, seed: int = 123) -> torch.Tensor:
        """[w_dim] mean untruncated w over n seeded z ~ N(0, I), for files that store no
        truncation centre (NVIDIA's projector estimates w_avg from 10,000 samples too).

        The same z as `latent.sampling.sample_ws(G, n, seed)` (models sit below latent and
        cannot import it; both draw through `standard_normal_z`)."""
        was_training = self.training
        self.eval()   # eval: the StyleGAN2 mapping must not update its own w_avg here
        z = torch.from_numpy(standard_normal_z(n, self.z_dim, seed))
        w = self._map(z.to(self.w_avg.device), None)[:, 0].mean(dim=0)
        self.train(was_training)
        return w

    def sefa_weights(self) -> torch.Tensor:
        """[out, d]: the linear map that first acts on w, for SeFa's closed form."""
        raise NotImplementedError

    # -------- feature maps (drag editing)
    def _feature_modules(self) -> dict[str, nn.Module]:
        """{name: module whose output (or first output) is that feature map}, coarse to fine."""
        raise NotImplementedError

    def feature_layers(self) -> tuple[str, ...]:
        return tuple(self._feature_modules())

    @contextmanager
    def capture_features(self, layers: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
        """Within the block, each synthesis pass of this G on this thread stores the named
        feature maps (float32 [N, C_l, r, r], with their gradients) in the dict it yields.

        G itself is not changed (no hooks on its modules): a global forward hook, there only
        for the block, records a module only when it is one of this capture's on this thread.
        So it is safe on the generator the render thread shares with background copies.
        """
        modules = self._feature_modules()
        unknown = [name for name in layers if name not in modules]
        if unknown:
            raise ValueError(f"no feature layer {', '.join(map(repr, unknown))}; this model has "
                             f"{', '.join(modules)}")
        feats: dict[str, torch.Tensor] = {}
        mine = {id(modules[name]): (name, feats) for name in dict.fromkeys(layers)}

        def hook(module, _inputs, out):
            cap = _CAPTURE.get()
            if cap is mine and id(module) in cap:
                name, into = cap[id(module)]
                into[name] = (out[0] if isinstance(out, (tuple, list)) else out).float()

        token = _CAPTURE.set(mine)
        handle = register_module_forward_hook(hook)
        try:
            yield feats
        finally:
            handle.remove()
            _CAPTURE.reset(token)

    def synthesis_features(self, ws: torch.Tensor, layers: Sequence[str],
                           noise_mode: str = "const") -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """ws [N, num_ws, w_dim] -> (image, {name: [N, C_l, r, r]}) in one synthesis pass, with
        gradients through the maps (see `capture_features`)."""
        with self.capture_features(layers) as feats:
            img = self.synthesis(ws, noise_mode=noise_mode)
        return img, {name: feats[name] for name in layers}

    # -------- per-layer noise strength (the layer viewer)
    def _noise_modules(self) -> dict[str, nn.Module]:
        """{name: the module whose `noise_scale(module)` scales that noise input}, coarse to fine."""
        return {}

    def noise_layers(self) -> tuple[str, ...]:
        return tuple(self._noise_modules())

    @contextmanager
    def scaled_noise(self, strengths: Mapping[str, float]) -> Iterator[None]:
        """Within the block, eager synthesis passes of this G on this thread multiply the noise
        of each named layer by its strength (0: no noise there, as noise_mode 'none' for that
        layer; 1: as trained). G is not changed and other threads are not affected. Compiled
        render graphs (render.backends) do not see it: call G.synthesis itself."""
        modules = self._noise_modules()
        unknown = [name for name in strengths if name not in modules]
        if unknown:
            have = ", ".join(modules) if modules else "none (this model has no noise inputs)"
            raise ValueError(f"no noise layer {', '.join(map(repr, unknown))}; this model's are {have}")
        bad = [name for name, s in strengths.items() if not np.isfinite(float(s))]
        if bad:
            raise ValueError(f"the noise strength of {', '.join(bad)} must be a finite number")
        scales = dict(_NOISE_SCALES.get() or {})
        scales.update({id(modules[name]): float(s) for name, s in strengths.items()})
        token = _NOISE_SCALES.set(scales)
        try:
            yield
        finally:
            _NOISE_SCALES.reset(token)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis(self.mapping(z, c, psi, truncation_cutoff), noise_mode=noise_mode)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device
