"""NVIDIA-style layers shared by our StyleGAN2 G and D and StyleGAN3 (issue 13 item 6).

Written from the papers: equalised learning rate (ProGAN, Karras et al. 2018: weights
stored N(0, 1), the He gain lr/sqrt(fan_in) applied at run time, so a foreign state dict's
raw values load as they are), StyleGAN2's weight (de)modulation (Karras et al. 2020) and
its FIR resampling, and the mapping network z (+ c) -> w with its running mean w_avg.
Parameter and buffer names follow NVIDIA's (`weight`, `bias`, `weight_gain`, `bias_gain`,
`fc{i}`, `embed`, `w_avg`, `resample_filter`), so their network pickles load key for key.
"""
from __future__ import annotations

import math
import threading

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LRELU_ALPHA = 0.2
LRELU_GAIN = math.sqrt(2)   # keeps the activations' second moment through a leaky ReLU


# ---------------------------------------------------------------- primitive operations

def setup_filter(f: list[float] | np.ndarray | torch.Tensor) -> torch.Tensor:
    """1-D taps -> normalised 2-D FIR filter (outer product), e.g. [1,3,3,1] -> [4, 4]."""
    f = torch.as_tensor(np.asarray(f, dtype=np.float32))
    if f.ndim == 1:
        f = torch.outer(f, f)
    return f / f.sum()


def upfirdn2d(x: torch.Tensor, f: torch.Tensor | None, up: int = 1, down: int = 1,
              padding: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1) -> torch.Tensor:
    """Upsample by zero insertion, pad (or crop, negative), convolve with FIR f, keep every
    `down`-th sample.

    x [N, C, H, W]; f [fh, fw] (2-D), [k] (separable: the same taps along x, then y) or
    None (no filter); padding (x0, x1, y0, y1). The filter is applied as a true convolution
    (flipped); our filters are symmetric, so that only matters for odd ones. `gain` is the
    total gain of the 2-D operation (a separable filter gets sqrt(gain) per pass).
    """
    if f is not None and f.ndim == 1:   # separable: one 1-D pass per axis
        f1 = (f * gain ** 0.5).to(x.dtype)
        x = _axis_pass(x, f1, up, down, padding[0], padding[1], dim=3)
        return _axis_pass(x, f1, up, down, padding[2], padding[3], dim=2)
    N, C, H, W = x.shape
    if up > 1:   # [N, C, H, W] -> [N, C, H*up, W*up] with zeros between samples
        x = x.reshape(N, C, H, 1, W, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(N, C, H * up, W * up)
    px0, px1, py0, py1 = padding
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0):x.shape[2] - max(-py1, 0), max(-px0, 0):x.shape[3] - max(-px1, 0)]
    if f is None:
        x = x * gain if gain != 1 else x
    else:
        f = (f * gain ** (f.ndim / 2)).to(x.dtype).flip([0, 1])
        weight = f[None, None].expand(C, 1, *f.shape)   # depthwise: [C, 1, fh, fw]
        x = F.conv2d(x, weight, groups=C, stride=down)
        down = 1
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


# Maps up to this many (input x output) samples per axis go through a dense matrix product;
# bigger ones (StyleGAN3 above ~128 px) through the banded convolutions, whose cost grows
# with the filter length instead of the map size.
_DENSE_MAX = 40_000


def _axis_pass(x: torch.Tensor, f: torch.Tensor, up: int, down: int, p0: int, p1: int, dim: int) -> torch.Tensor:
    length = x.shape[dim]
    out_len = (length * up + p0 + p1 - f.numel()) // down + 1
    if length * out_len > _DENSE_MAX:
        return _upfirdn1d(x, f, up, down, p0, p1, dim)
    m = _axis_matrix(length, f, up, down, p0, p1)             # [length, out]
    return torch.matmul(x, m) if dim == 3 else torch.matmul(m.t(), x)


def _axis_matrix(length: int, f: torch.Tensor, up: int, down: int, p0: int, p1: int) -> torch.Tensor:
    """[length, out]: upfirdn along one axis as the matrix it is (up-sampling, padding, the FIR
    filter and decimation are all linear). Built by passing the identity through
    `_upfirdn1d`, so it holds exactly those taps; one matrix product per axis then beats the
    depthwise (transposed) convolutions on a CPU by a wide margin for these map sizes."""
    # Cached by the taps' values (a filter is a dozen numbers) and the geometry: a StyleGAN3
    # forward pass needs ~30 of these, the same ones every time.
    key = (f.detach().cpu().numpy().tobytes(), f.dtype, str(f.device), length, up, down, p0, p1)
    with _AXIS_LOCK:        # the render thread and job threads share it
        m = _AXIS_MATRICES.get(key)
    if m is None:
        with torch.no_grad():
            eye = torch.eye(length, dtype=f.dtype, device=f.device).reshape(length, 1, 1, length)
            m = _upfirdn1d(eye, f.detach(), up, down, p0, p1, dim=3).reshape(length, -1)
        with _AXIS_LOCK:
            if len(_AXIS_MATRICES) >= 512:
                _AXIS_MATRICES.pop(next(iter(_AXIS_MATRICES)))
            _AXIS_MATRICES[key] = m
    return m


_AXIS_MATRICES: dict[tuple, torch.Tensor] = {}
_AXIS_LOCK = threading.Lock()


def _upfirdn1d(x: torch.Tensor, f: torch.Tensor, up: int, down: int, p0: int, p1: int,
               dim: int) -> torch.Tensor:
    """upfirdn along one axis (dim 2 = y, 3 = x) of [N, C, H, W] with 1-D taps f.

    Up-sampling is a stride-`up` transposed convolution (the zero-inserted samples are never
    multiplied), down-sampling a stride-`down` convolution: the same numbers as zero
    insertion + pad + filter + decimation at a fraction of the work."""
    C, K = x.shape[1], f.numel()
    f = f.to(x.dtype)
    along_x = dim == 3
    shape = (C, 1, 1, K) if along_x else (C, 1, K, 1)
    L = x.shape[dim]

    def pad(t: torch.Tensor, lo: int, hi: int) -> torch.Tensor:   # negative crops
        return F.pad(t, [lo, hi, 0, 0] if along_x else [0, 0, lo, hi])

    if up > 1:
        # Transposed conv = full convolution of the zero-inserted signal, length (L-1)up + K;
        # the padded-then-filtered result starts K-1-p0 samples into it.
        taps = f.reshape(1, 1, *shape[2:]).expand(shape)
        y = F.conv_transpose2d(x, taps, stride=(1, up) if along_x else (up, 1), groups=C)
        out_len = L * up + p0 + p1 - K + 1
        start = K - 1 - p0
        y = pad(y, -start, out_len - (y.shape[dim] - start))
        if down > 1:
            y = y[..., ::down] if along_x else y[:, :, ::down]
        return y
    x = pad(x, p0, p1)
    taps = f.flip([0]).reshape(1, 1, *shape[2:]).expand(shape)
    return F.conv2d(x, taps, groups=C, stride=(1, down) if along_x else (down, 1))


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, H*up, W*up]: zero insertion then the FIR low-pass (gain up²)."""
    fw = f.shape[-1]
    p0, p1 = (fw + up - 1) // 2, (fw - up) // 2
    return upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=up * up)


def bias_act(x: torch.Tensor, b: torch.Tensor | None, act: str = "linear", gain: float | None = None,
             clamp: float | None = None) -> torch.Tensor:
    """x + b (over channel dim 1), activation, gain, then clamp to [-clamp, clamp].

    'lrelu' defaults to gain sqrt(2), 'linear' to 1. The clamp (StyleGAN2-ADA's conv_clamp)
    keeps fp16 activations finite; NVIDIA applies it in fp32 too, so we always do.
    """
    if b is not None:
        x = x + b.to(x.dtype).reshape([1, -1] + [1] * (x.ndim - 2))
    if act == "lrelu":
        x = F.leaky_relu(x, LRELU_ALPHA)
        gain = LRELU_GAIN if gain is None else gain
    elif act != "linear":
        raise ValueError(f"unknown activation {act!r}")
    if gain is not None and gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """[N, D] -> each row scaled to unit mean square (StyleGAN's pixel norm on z)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                     noise: torch.Tensor | None = None, up: int = 1, padding: int = 0,
                     resample_filter: torch.Tensor | None = None, demodulate: bool = True,
                     fused: bool = True) -> torch.Tensor:
    """StyleGAN2's weight (de)modulation (paper sec. 2.2, eqs. 1-3).

    x [N, I, H, W]; weight [O, I, k, k]; styles [N, I]; noise broadcastable to [N, O, H', W'].
    Modulate: w'_ijk = s_i * w_ijk. Demodulate: w''_ijk = w'_ijk / sqrt(sum_ik w'^2 + eps).
    up=2 is a stride-2 transposed convolution followed by the FIR filter (padding 1, gain 4).
    `fused` runs one grouped convolution with per-sample weights (fast for inference);
    otherwise the styles scale x and the shared weight runs as one ordinary convolution,
    which is cheaper to differentiate (what NVIDIA does while training).
    """
    N = x.shape[0]
    O, I, kh, kw = weight.shape
    if x.dtype == torch.float16 and demodulate:
        # Pre-normalise so that fp16 products cannot overflow; demodulation undoes the scale.
        weight = weight * (1 / math.sqrt(I * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)

    dcoefs = None
    if demodulate or fused:
        w = weight.unsqueeze(0) * styles.reshape(N, 1, I, 1, 1)       # [N, O, I, k, k]
        if demodulate:
            dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]

    if fused:
        if dcoefs is not None:
            w = w * dcoefs.reshape(N, O, 1, 1, 1)
        x = x.reshape(1, N * I, *x.shape[2:])                         # samples become groups
        w = w.reshape(N * O, I, kh, kw).to(x.dtype)
        x = conv2d_resample(x, w, up, padding, resample_filter, groups=N)
        x = x.reshape(N, O, *x.shape[2:])
        return x if noise is None else x + noise.to(x.dtype)

    x = x * styles.to(x.dtype).reshape(N, I, 1, 1)
    x = conv2d_resample(x, weight.to(x.dtype), up, padding, resample_filter, groups=1)
    if dcoefs is not None:
        x = x * dcoefs.to(x.dtype).reshape(N, O, 1, 1)
    return x if noise is None else x + noise.to(x.dtype)


def conv2d_resample(x: torch.Tensor, w: torch.Tensor, up: int, padding: int,
                    f: torch.Tensor | None, groups: int, down: int = 1) -> torch.Tensor:
    """Plain conv (up=1, down=1), stride-2 transposed conv + FIR (up=2), or FIR + stride-2
    conv (down=2, StyleGAN2's anti-aliased down-sampling). w [groups*O, I, k, k]."""
    if down == 2:
        kw = w.shape[-1]
        p = (kw - 1) + (f.shape[-1] - 2)         # total padding of blur + stride-2 conv: H -> H/2
        x = upfirdn2d(x, f, padding=((p + 1) // 2, p // 2, (p + 1) // 2, p // 2))
        return F.conv2d(x, w, stride=2, groups=groups)
    if up == 1:
        return F.conv2d(x, w, padding=padding, groups=groups)
    GO, I, kh, kw = w.shape
    O = GO // groups
    if kh == 1 and kw == 1:   # 1x1: convolve, then up-sample (cheaper, same result)
        return upsample2d(F.conv2d(x, w, groups=groups), f, up)
    # conv_transpose2d wants [groups*I, O, k, k].
    wt = w.reshape(groups, O, I, kh, kw).transpose(1, 2).reshape(groups * I, O, kh, kw)
    fw = f.shape[-1]
    # Total padding of "up-sample then conv(k) then FIR(fw)" at output size H*up:
    p0 = padding + (fw + up - 1) // 2 - (kw - 1)
    p1 = padding + (fw - up) // 2 - (kw - up)
    pt = max(min(-p0, -p1), 0)          # let the transposed conv crop what it can
    x = F.conv_transpose2d(x, wt, stride=up, padding=pt, groups=groups)
    return upfirdn2d(x, f, padding=(p0 + pt, p1 + pt, p0 + pt, p1 + pt), gain=up * up)


# ---------------------------------------------------------------- layers

class FullyConnectedLayer(nn.Module):
    """Equalised-learning-rate dense layer: y = act(x (W * lr/sqrt(in))^T + b * lr)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 activation: str = "linear", lr_multiplier: float = 1, bias_init: float = 0):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)  # [out, in]
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)   # runtime He-gain x lr multiplier
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation)


class MappingNetwork(nn.Module):
    """z (+ embedded c) -> w through `num_layers` dense layers; keeps w_avg, the running mean of w."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int | None,
                 num_layers: int = 8,              # dense layers z -> w
                 embed_features: int | None = None,  # label embedding size (default w_dim)
                 layer_features: int | None = None,  # hidden width (default w_dim)
                 activation: str = "lrelu",
                 lr_multiplier: float = 0.01,      # StyleGAN: the mapping learns 100x slower
                 w_avg_beta: float | None = 0.995):  # EMA decay of w_avg while training
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        if embed_features is None:
            embed_features = w_dim
        if c_dim == 0:
            embed_features = 0
        if layer_features is None:
            layer_features = w_dim
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            setattr(self, f"fc{idx}", FullyConnectedLayer(features[idx], features[idx + 1],
                                                          activation=activation,
                                                          lr_multiplier=lr_multiplier))
        self.register_buffer("w_avg", torch.zeros([w_dim]))   # [w_dim] truncation centre

    def forward(self, z: torch.Tensor, c: torch.Tensor | None,
                update_w_avg: bool | None = None) -> torch.Tensor:
        """z [N, z_dim], c [N, c_dim] -> w [N, w_dim] (untruncated, not broadcast)."""
        x = None
        if self.z_dim > 0:
            x = normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        if update_w_avg is None:
            update_w_avg = self.training
        if update_w_avg and self.w_avg_beta is not None:
            with torch.no_grad():   # w_avg = beta * w_avg + (1 - beta) * mean(w)
                self.w_avg.copy_(x.detach().float().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        return x


class Conv2dLayer(nn.Module):
    """Plain equalised-lr conv (weights N(0, 1), He gain 1/sqrt(fan_in) at run time), with
    optional 2x up-sampling (StyleGAN2's resnet skip) or 2x down-sampling (D's blocks).
    `persistent_filter=False` keeps the FIR filter out of the state dict (our D's layout)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: str = "linear", up: int = 1, down: int = 1,
                 resample_filter: list[float] = (1, 3, 3, 1), conv_clamp: float | None = None,
                 channels_last: bool = False, persistent_filter: bool = True):
        super().__init__()
        if up not in (1, 2) or down not in (1, 2) or up * down > 2:
            raise ValueError(f"Conv2dLayer resamples by 2 at most (up={up}, down={down})")
        self.activation, self.up, self.down, self.conv_clamp = activation, up, down, conv_clamp
        self.kernel_size = kernel_size
        self.register_buffer("resample_filter", setup_filter(list(resample_filter)),
                             persistent=persistent_filter)
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.act_gain = LRELU_GAIN if activation == "lrelu" else 1.0
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels])) if bias else None

    def forward(self, x: torch.Tensor, gain: float = 1) -> torch.Tensor:
        w = (self.weight * self.weight_gain).to(x.dtype)
        x = conv2d_resample(x, w, self.up, self.padding, self.resample_filter, groups=1, down=self.down)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


class NvidiaModules:
    """The `mapping` and `synthesis` sub-networks of NVIDIA's generators (StyleGAN2 and 3),
    registered under NVIDIA's names so state-dict prefixes match their files; plain
    attribute access finds the Generator protocol's methods of the same names first."""

    def _set_nvidia_modules(self, mapping: nn.Module, synthesis: nn.Module) -> None:
        self._modules["synthesis"] = synthesis
        self._modules["mapping"] = mapping

    @property
    def mapping_network(self) -> nn.Module:
        return self._modules["mapping"]

    @property
    def synthesis_network(self) -> nn.Module:
        return self._modules["synthesis"]

    @property
    def w_avg(self) -> torch.Tensor:
        return self._modules["mapping"].w_avg   # [w_dim]
