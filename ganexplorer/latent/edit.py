"""iGAN-style editing (Zhu et al. 2016): steer the latent so G's image obeys the user's strokes.

    for ev in edit_latent(G, ws_start, constraints, EditConfig(), cancel=flag.is_set):
        show(ev.best_image); strip(ev.top_images)      # ev.done on the last one

A batch of K starting latents — the current one and K-1 seeded perturbations of it — is
optimised together with Adam:

  * DCGAN: on z, projected after every step back onto the prior's shell (|z| = |z_start|,
    where a Gaussian prior keeps almost all its mass) or into its ball — iGAN clipped its
    uniform z to the cube for the same reason: stay where G was trained.
  * StyleGAN (G.has_styles): on w (one vector broadcast to all layers) or w+ (one per layer).

The cost per candidate (iGAN eq. 5, with the paper's terms):

    L = λ_color  · masked mean squared colour error
      + λ_sketch · edge loss: HOG-like oriented-gradient features of G(z) vs those of the
                   sketch, on the sketched lines (iGAN used HOG on edge maps)
      + λ_warp   · moved-patch constraint: the region a warp selected in the *start* image
                   must reappear at its destination
      + λ_latent · mean (latent − latent_start)²
      + λ_keep   · mean squared change of the image where no stroke asks for one (not in
                   iGAN, which restored the context afterwards with its flow-based transfer;
                   λ_keep = 0 gives the paper's cost)
      + λ_real   · softplus(−D(G(z)))      (only when the checkpoint holds a discriminator)

Every Adam step yields an `EditProgress` with the best candidate (image and ws) and the
top-k strip; the last one has `done=True` and carries the lowest cost seen. The generator
checks `cancel()` between steps; closing the generator also stops it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models.protocol import GeneratorBase
from .optim_shared import CancelFn, has_batch_statistics, is_cancelled, resolve_space, w_std
from .strokes import Constraints

LUMA = (0.299, 0.587, 0.114)   # RGB -> grey for one-channel models (ITU-R BT.601)
SPACES = ("auto", "z", "w", "w+")
PRIORS = ("shell", "ball", "none")


@dataclass
class EditConfig:
    steps: int = 60               # Adam steps at most
    candidates: int = 8           # K: the current latent + K-1 perturbations of it
    sigma: float = 0.4            # perturbation scale: z units (DCGAN) or w std units (StyleGAN)
    lr: float = 0.08              # Adam learning rate (cosine-decayed to lr/10)
    space: str = "auto"           # 'z' (DCGAN), 'w' or 'w+' (StyleGAN); auto picks
    prior: str = "shell"          # DCGAN z: 'shell' (|z| fixed), 'ball' (|z| capped) or 'none'
    lambda_color: float = 1.0     # weight of the masked colour error
    lambda_sketch: float = 0.5    # weight of the edge (HOG) loss
    lambda_warp: float = 1.0      # weight of the moved-patch loss
    lambda_latent: float = 0.1    # weight of mean (latent - start)^2 (iGAN λ_s: stay near the start)
    lambda_realism: float = 0.02  # weight of softplus(-D(G(z))) when D is present
    lambda_keep: float = 1.0      # weight of mean squared change outside the strokes (0: iGAN's plain cost)
    top_k: int = 4                # candidates shown in the strip
    seed: int = 0                 # seeds the perturbations
    noise_mode: str = "const"     # StyleGAN noise while editing
    tol: float = 0.0              # stop early when the best cost improved < tol over 10 steps (0: never)

    def validate(self) -> list[str]:
        problems = []
        if self.steps < 1:
            problems.append("steps must be at least 1")
        if self.candidates < 1:
            problems.append("candidates must be at least 1")
        if self.space not in SPACES:
            problems.append(f"space must be one of {', '.join(SPACES)}")
        if self.prior not in PRIORS:
            problems.append(f"prior must be one of {', '.join(PRIORS)}")
        if self.lr <= 0:
            problems.append("lr must be positive")
        for name in ("sigma", "lambda_color", "lambda_sketch", "lambda_warp", "lambda_latent",
                     "lambda_realism", "lambda_keep", "tol"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        return problems


@dataclass
class EditProgress:
    step: int                    # 0 = the starting batch; k = after k Adam updates
    steps: int                   # planned number of updates
    loss: np.ndarray             # [K] total cost per candidate at this step
    terms: dict[str, float]      # the best candidate's cost terms
    best_ws: np.ndarray          # [1, num_ws, w_dim]
    best_image: np.ndarray       # [1, C, H, W] float in [-1, 1]
    top_ws: np.ndarray           # [k, num_ws, w_dim], best first
    top_images: np.ndarray       # [k, C, H, W]
    top_loss: np.ndarray         # [k]
    elapsed: float               # seconds since the generator started
    done: bool = False           # the last event: best_* is the lowest cost seen overall
    cancelled: bool = False      # stopped by cancel() before `steps`
    ws: np.ndarray | None = None # [K, num_ws, w_dim] every candidate at this step (candidate order)
    best_index: int = 0          # which candidate best_* is (done: the overall winner)
    best_step: int = 0           # the step best_* comes from (done: where the lowest cost was seen)

    @property
    def best_loss(self) -> float:
        return float(self.top_loss[0])


# ---------------------------------------------------------------- feature helpers

def to_grey(x: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, 1, H, W] (luma for RGB)."""
    if x.shape[1] == 1:
        return x
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def image_gradients(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sobel derivatives of a grey image [N, 1, H, W], scaled to units per pixel."""
    kx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=g.dtype, device=g.device) / 8
    k = torch.stack([kx, kx.t()])[:, None]                       # [2, 1, 3, 3]
    d = F.conv2d(F.pad(g, (1, 1, 1, 1), mode="replicate"), k)
    return d[:, :1], d[:, 1:]


def hog_features(x: torch.Tensor, bins: int = 8, cell: int = 3) -> torch.Tensor:
    """HOG-like oriented gradient energy [N, bins, H, W], dense (stride 1), differentiable.

    Unsigned orientation θ ∈ [0, π): bin b gets |∇| · max(0, cos 2(θ − πb/bins)), pooled over
    a cell×cell window. Uses the doubled-angle vector (gx² − gy², 2 gx gy)/|∇|, so no atan2.
    """
    gx, gy = image_gradients(to_grey(x))
    mag = torch.sqrt(gx * gx + gy * gy + 1e-8)
    c2 = (gx * gx - gy * gy) / mag                                # |∇| cos 2θ
    s2 = 2 * gx * gy / mag                                        # |∇| sin 2θ
    ang = torch.arange(bins, dtype=x.dtype, device=x.device) * (2 * math.pi / bins)
    resp = F.relu(c2 * torch.cos(ang).reshape(1, -1, 1, 1) + s2 * torch.sin(ang).reshape(1, -1, 1, 1))
    return F.avg_pool2d(resp, cell, stride=1, padding=cell // 2, count_include_pad=False)


def _normalise(h: torch.Tensor, eps: float) -> torch.Tensor:
    return h / (h.norm(dim=1, keepdim=True) + eps)


# ---------------------------------------------------------------- the cost

class EditCost(nn.Module):
    """The constraint terms for one `Constraints` at G's resolution (no latent terms)."""

    HOG_EPS = 0.08   # gradient energy (per pixel, image range 2) below which an edge counts as weak

    def __init__(self, cons: Constraints, img_channels: int, start_image: torch.Tensor | None,
                 device: torch.device):
        super().__init__()
        R = cons.resolution
        t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=device)
        self.color_mask = t(cons.color_mask)[None, None]                    # [1, 1, H, W]
        target = t(cons.color_target)[None]                                # [1, 3, H, W]
        if img_channels == 1:
            target = to_grey(target)
        self.color_target = target
        self.sketch_mask = t(cons.sketch_mask)[None, None]
        self.has_color = bool(self.color_mask.sum() > 0)
        self.has_sketch = bool(self.sketch_mask.sum() > 0)
        if self.has_sketch:
            # Target features: HOG of the sketch drawn as a line image; compared on the
            # lines and a cell around them.
            target_hog = hog_features(self.sketch_mask * 2 - 1)
            self.sketch_region = F.max_pool2d(self.sketch_mask, 5, stride=1, padding=2)
            strength = target_hog.norm(dim=1, keepdim=True)
            self.sketch_region = self.sketch_region * (strength > 1e-3).float()
            self.sketch_target = _normalise(target_hog, 1e-6)
        # Context: where nothing is asked for, the start image should stay (grown 2 px
        # around every constraint so that a stroke's edge may blend).
        self.keep_mask = None
        if start_image is not None:
            asked = torch.maximum(self.color_mask, self.sketch_mask)
            for wp in cons.warps:
                x0, y0, x1, y1 = wp.src
                asked[..., max(y0 + wp.dy, 0):max(y1 + wp.dy, 0), max(x0 + wp.dx, 0):max(x1 + wp.dx, 0)] = 1
                asked[..., y0:y1, x0:x1] = 1   # the region the patch left may change
            asked = F.max_pool2d((asked > 0).float(), 5, stride=1, padding=2)
            self.keep_mask = 1 - asked
            self.start_image = start_image
        self.has_warp = bool(cons.warps)
        if self.has_warp:
            if start_image is None:
                raise ValueError("a warp needs the start image")
            wt = torch.zeros(1, img_channels, R, R, device=device)
            wm = torch.zeros(1, 1, R, R, device=device)
            for wp in cons.warps:
                x0, y0, x1, y1 = wp.src
                # Destination rectangle, clipped to the image; the source follows the clip.
                dx0, dy0 = max(x0 + wp.dx, 0), max(y0 + wp.dy, 0)
                dx1, dy1 = min(x1 + wp.dx, R), min(y1 + wp.dy, R)
                if dx1 <= dx0 or dy1 <= dy0:
                    continue
                wt[..., dy0:dy1, dx0:dx1] = start_image[..., dy0 - wp.dy:dy1 - wp.dy, dx0 - wp.dx:dx1 - wp.dx]
                wm[..., dy0:dy1, dx0:dx1] = 1
            self.warp_target, self.warp_mask = wt, wm
            self.has_warp = bool(wm.sum() > 0)

    @staticmethod
    def _masked_mse(x: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[N]: sum(mask * (x - target)^2) / (sum(mask) * C)."""
        err = ((x - target) ** 2 * mask).sum(dim=(1, 2, 3))
        return err / (mask.sum() * x.shape[1]).clamp_min(1e-6)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x [N, C, H, W] -> {'color': [N], 'sketch': [N], 'warp': [N]} (present terms only)."""
        out: dict[str, torch.Tensor] = {}
        if self.has_color:
            out["color"] = self._masked_mse(x, self.color_target, self.color_mask)
        if self.has_sketch:
            h = _normalise(hog_features(x), self.HOG_EPS)
            d = ((h - self.sketch_target) ** 2).sum(1, keepdim=True)
            out["sketch"] = (d * self.sketch_region).sum(dim=(1, 2, 3)) / self.sketch_region.sum().clamp_min(1e-6)
        if self.has_warp:
            out["warp"] = self._masked_mse(x, self.warp_target, self.warp_mask)
        if self.keep_mask is not None:
            out["keep"] = self._masked_mse(x, self.start_image, self.keep_mask)
        return out


def discriminator_logits(D: nn.Module, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """D's raw score [N] for images x (conditional D gets the label too).

    A D with minibatch statistics scores each image alone, so that the K candidates of
    one edit do not judge each other.
    """
    if len(x) > 1 and has_batch_statistics(D):
        return torch.cat([discriminator_logits(D, x[i:i + 1], None if c is None else c[i:i + 1])
                          for i in range(len(x))])
    out = D(x, c) if c is not None else D(x)
    if isinstance(out, (tuple, list)):
        out = out[0]
    return out.reshape(out.shape[0], -1).mean(1)


# ---------------------------------------------------------------- latent parameterisation

class LatentBatch:
    """K latents being optimised and the map from the free parameter to ws [K, num_ws, w_dim].

    Fresh: the start itself, then K-1 seeded perturbations of it. With `carry` (live
    painting restarts from the best candidates of the run a new stroke interrupted): those
    come first (at most K-1 of them, or the one slot when K = 1), then the start and
    perturbations fill the rest, so a stroke that undoes the last one can still fall back.
    """

    def __init__(self, G: GeneratorBase, ws_start: torch.Tensor, space: str, K: int, sigma: float,
                 prior: str, seed: int, carry: torch.Tensor | None = None):
        self.G, self.space, self.prior = G, space, prior
        self.num_ws, self.w_dim = G.num_ws, G.w_dim
        gen = torch.Generator().manual_seed(int(seed))
        dev = ws_start.device
        self.ws_start = ws_start                                         # [1, num_ws, w_dim]
        if space == "z":
            self.z_dim = G.z_dim
            start = ws_start[:, 0, :self.z_dim]                           # [1, z_dim]
            self.label = ws_start[:, 0, self.z_dim:]                      # [1, c_dim] (kept fixed)
            self.radius = float(start.norm())
            noise = torch.randn(K, self.z_dim, generator=gen).to(dev) * sigma
            noise[0] = 0
            init = self._project(start + noise)
            # The start's own point stays exact (projection could move it by rounding).
            init[0] = start[0]
            base = start
            carried = None if carry is None else self._project(carry[:, 0, :self.z_dim])
        else:
            scale = w_std(G, seed) if sigma > 0 else torch.zeros(self.w_dim, device=dev)
            base = ws_start if space == "w+" else ws_start[:, :1]
            noise = torch.randn(K, *base.shape[1:], generator=gen).to(dev) * sigma * scale.to(dev)
            noise[0] = 0
            init = base + noise
            carried = None if carry is None else (carry if space == "w+" else carry[:, :1])
        if carried is not None and len(carried):
            n = min(len(carried), max(K - 1, 1))
            init = torch.cat([carried[:n].to(dev, init.dtype), init[:K - n]])
        self.start_param = base.detach().clone()                          # the current latent
        self.param = init.detach().clone().requires_grad_(True)

    def _project(self, z: torch.Tensor) -> torch.Tensor:
        if self.prior == "shell" and self.radius > 0:
            return z * (self.radius / z.norm(dim=1, keepdim=True).clamp_min(1e-8))
        if self.prior == "ball":
            cap = math.sqrt(self.z_dim) + 3 * math.sqrt(0.5)   # chi(d): mean ≈ √d, sd ≈ 1/√2
            cap = max(cap, self.radius)
            n = z.norm(dim=1, keepdim=True)
            return torch.where(n > cap, z * (cap / n.clamp_min(1e-8)), z)
        return z

    @torch.no_grad()
    def constrain(self) -> None:
        if self.space == "z":
            self.param.copy_(self._project(self.param))

    def ws(self, param: torch.Tensor | None = None) -> torch.Tensor:
        p = self.param if param is None else param
        if self.space == "z":
            w = torch.cat([p, self.label.expand(len(p), -1)], dim=1) if self.label.shape[1] else p
            return w[:, None, :]
        if self.space == "w":
            return p.expand(-1, self.num_ws, -1)
        return p

    def latent_distance(self) -> torch.Tensor:
        """[K] mean squared distance of each candidate's free latent from the start."""
        d = (self.param - self.start_param) ** 2
        return d.reshape(len(d), -1).mean(1)


def _lr_at(cfg: EditConfig, step: int) -> float:
    """Cosine decay from lr to lr/10 over the planned steps."""
    t = min(step / max(cfg.steps, 1), 1.0)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


# ---------------------------------------------------------------- the optimisation

def edit_latent(G: GeneratorBase, ws_start: np.ndarray, constraints: Constraints,
                cfg: EditConfig | None = None, D: nn.Module | None = None,
                cancel: CancelFn | None = None, init_ws: np.ndarray | None = None,
                interrupt: CancelFn | None = None) -> Iterator[EditProgress]:
    """Optimise K latents toward the constraints; yields one EditProgress per step.

    ws_start: [1, num_ws, w_dim] the image being edited (the proximity and keep terms
    measure from it). constraints: `rasterize(doc, G.img_resolution)`. D: the checkpoint's
    discriminator (realism term), or None. init_ws: [n, num_ws, w_dim] candidates to
    continue from, best first (live painting: the run the new stroke interrupted); None
    starts from ws_start and its perturbations. interrupt: checked after every Adam update;
    True ends the generator there, without a last event (live painting: a newer stroke
    supersedes this run, so the forward pass a final event needs would be wasted), whereas
    `cancel` ends with a `done` event carrying the best seen.
    """
    cfg = cfg or EditConfig()
    problems = cfg.validate()
    if problems:
        raise ValueError("; ".join(problems))
    t0 = time.perf_counter()
    dev = G.w_avg.device
    ws0 = torch.as_tensor(np.asarray(ws_start, np.float32), device=dev)
    if ws0.ndim == 2:
        ws0 = ws0[None]
    G.check_ws(ws0)
    if ws0.shape[0] != 1:
        raise ValueError(f"edit one image at a time: ws_start must be [1, {G.num_ws}, {G.w_dim}]")
    if constraints.resolution != G.img_resolution:
        raise ValueError(f"constraints are rasterised at {constraints.resolution}px but the model "
                         f"makes {G.img_resolution}px images")
    space = resolve_space(G, ws0, cfg.space)
    carry = None
    if init_ws is not None:
        carry = torch.as_tensor(np.asarray(init_ws, np.float32), device=dev)
        if carry.ndim != 3 or tuple(carry.shape[1:]) != (G.num_ws, G.w_dim):
            raise ValueError(f"init_ws must be [n, {G.num_ws}, {G.w_dim}], got {list(carry.shape)}")
    c_label = None
    if G.c_dim and D is not None:
        c_label = ws0[:, 0, G.z_dim:] if not G.has_styles else None
        if c_label is None:
            D = None   # a conditional StyleGAN's label is not recoverable from ws
    requires = [p.requires_grad for p in G.parameters()]
    G.requires_grad_(False)
    if D is not None:
        D.requires_grad_(False)
    try:
        with torch.enable_grad():
            start_image = None
            if constraints.warps or cfg.lambda_keep > 0:
                with torch.no_grad():
                    start_image = G.synthesis(ws0, noise_mode=cfg.noise_mode)
            cost = EditCost(constraints, G.img_channels, start_image, dev)
            batch = LatentBatch(G, ws0, space, cfg.candidates, cfg.sigma, cfg.prior, cfg.seed, carry)
            opt = torch.optim.Adam([batch.param], lr=cfg.lr, betas=(0.9, 0.999))
            best_loss, best_ws, best_img, best_at = math.inf, None, None, (0, 0)
            history: list[float] = []
            step = 0
            while True:
                if step > 0 and is_cancelled(interrupt):
                    return
                stop = step >= cfg.steps or is_cancelled(cancel)
                ws = batch.ws()
                x = G.synthesis(ws, noise_mode=cfg.noise_mode)            # [K, C, H, W]
                terms = cost(x)
                total = torch.zeros(len(x), device=dev)
                weights = {"color": cfg.lambda_color, "sketch": cfg.lambda_sketch, "warp": cfg.lambda_warp,
                           "keep": cfg.lambda_keep}
                for k, v in terms.items():
                    total = total + weights[k] * v
                terms["latent"] = batch.latent_distance()
                total = total + cfg.lambda_latent * terms["latent"]
                if D is not None and cfg.lambda_realism > 0:
                    cl = c_label.expand(len(x), -1) if c_label is not None else None
                    terms["realism"] = F.softplus(-discriminator_logits(D, x, cl))
                    total = total + cfg.lambda_realism * terms["realism"]
                loss_np = total.detach().cpu().numpy().copy()
                order = np.argsort(loss_np, kind="stable")
                b = int(order[0])
                if loss_np[b] < best_loss:
                    best_loss = float(loss_np[b])
                    best_ws = ws[b:b + 1].detach().cpu().numpy().copy()
                    best_img = x[b:b + 1].detach().cpu().numpy().copy()
                    best_at = (b, step)
                history.append(float(loss_np[b]))
                if cfg.tol > 0 and len(history) > 10 and history[-11] - history[-1] < cfg.tol:
                    stop = True
                top = order[:max(1, min(cfg.top_k, len(order)))]
                cancelled = is_cancelled(cancel) and step < cfg.steps
                ev = EditProgress(
                    step=step, steps=cfg.steps, loss=loss_np,
                    terms={k: float(v[b].detach()) for k, v in terms.items()} | {"total": float(loss_np[b])},
                    best_ws=ws[b:b + 1].detach().cpu().numpy().copy(),
                    best_image=x[b:b + 1].detach().cpu().numpy().copy(),
                    top_ws=ws[top].detach().cpu().numpy().copy(), top_images=x[top].detach().cpu().numpy().copy(),
                    top_loss=loss_np[top], elapsed=time.perf_counter() - t0,
                    ws=ws.detach().cpu().numpy().copy(), best_index=b, best_step=step)
                if stop:
                    ev.done, ev.cancelled = True, cancelled
                    ev.best_ws, ev.best_image = best_ws, best_img
                    ev.best_index, ev.best_step = best_at
                    ev.top_loss = np.concatenate([[best_loss], ev.top_loss[1:]]).astype(np.float32)
                    yield ev
                    return
                yield ev
                opt.zero_grad(set_to_none=True)
                total.sum().backward()
                for group in opt.param_groups:
                    group["lr"] = _lr_at(cfg, step)
                opt.step()
                batch.constrain()
                step += 1
    finally:
        for p, r in zip(G.parameters(), requires):
            p.requires_grad_(r)


def warm_up(G: GeneratorBase, candidates: int = 8) -> None:
    """One forward and backward pass through G with a batch of `candidates` latents.

    PyTorch sets up its kernels lazily; the first optimisation step of a process pays for
    that (about 1-2 s on a CPU). The window calls this in the background when a model
    opens, so that the first brush edit updates at full speed.
    """
    requires = [p.requires_grad for p in G.parameters()]
    G.requires_grad_(False)
    try:
        with torch.enable_grad():
            ws = G.w_avg.detach().reshape(1, 1, -1).repeat(candidates, G.num_ws, 1).requires_grad_(True)
            G.synthesis(ws).square().mean().backward()
    finally:
        for p, r in zip(G.parameters(), requires):
            p.requires_grad_(r)


def run_edit(G: GeneratorBase, ws_start: np.ndarray, constraints: Constraints,
             cfg: EditConfig | None = None, D: nn.Module | None = None,
             cancel: CancelFn | None = None,
             on_progress: Callable[[EditProgress], None] | None = None) -> EditProgress:
    """Drive `edit_latent` to the end and return its last event (the result)."""
    last = None
    for ev in edit_latent(G, ws_start, constraints, cfg, D, cancel):
        if on_progress is not None:
            on_progress(ev)
        last = ev
    assert last is not None
    return last


@dataclass
class Recording:
    """What an edit or projection went through, replayed as an animation start -> result.

    Edits: every candidate's latent at every step (`add(ev)`); the animation follows the
    winning candidate's own path — so it does not jump between candidates — and starts with
    a short spherical interpolation from the start latent to that candidate's first point
    when the winner began as a perturbation. Projections: the best latent per step (`add_ws`).
    """
    ws: list[np.ndarray] = field(default_factory=list)   # start + best per step, each [1, num_ws, w_dim]
    steps: list[np.ndarray] = field(default_factory=list)  # edits: [K, num_ws, w_dim] per step
    winner: tuple[int, int] | None = None                  # edits: (candidate, step) of the result

    def add(self, ev: EditProgress) -> None:
        self.add_ws(ev.best_ws)
        if ev.ws is not None:
            self.steps.append(np.asarray(ev.ws, np.float32))
        if ev.done:
            self.winner = (ev.best_index, ev.best_step)

    def add_ws(self, ws: np.ndarray) -> None:
        """ws [1, num_ws, w_dim]."""
        self.ws.append(np.asarray(ws, np.float32).reshape(1, *np.shape(ws)[-2:]))

    def path(self) -> list[np.ndarray]:
        """The latents [num_ws, w_dim] from the start to the result."""
        if self.winner is not None and self.steps:
            from .interp import slerp
            k, last = self.winner
            trail = [self.steps[t][k] for t in range(min(last + 1, len(self.steps)))]
            start = self.ws[0][0]
            lead = []
            if not np.allclose(trail[0], start, atol=1e-6):
                lead = [slerp(start, trail[0], t).astype(np.float32) for t in np.linspace(0, 1, 6)[:-1]]
            return lead + trail
        return [w[0] for w in self.ws]

    def frames_ws(self, max_frames: int = 48, hold: int = 8) -> np.ndarray:
        """[T, num_ws, w_dim]: up to max_frames evenly spaced along `path()`, then the result
        held `hold` more frames."""
        path = self.path() if (self.ws or self.steps) else []
        if not path:
            raise ValueError("nothing was recorded")
        idx = np.unique(np.linspace(0, len(path) - 1, min(max_frames, len(path))).round().astype(int))
        seq = [path[i] for i in idx] + [path[-1]] * hold
        return np.stack(seq).astype(np.float32)
