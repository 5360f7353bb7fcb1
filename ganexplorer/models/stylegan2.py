"""StyleGAN2 generator (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN"), with the training-time details of StyleGAN2-ADA (Karras et al. 2020, "Training
Generative Adversarial Networks with Limited Data"): conv_clamp and fp16 for the highest
resolutions.

Written from the papers and the published checkpoint format. Constructor arguments and
parameter/buffer names follow NVIDIA's stylegan2-ada-pytorch, so a `G_ema` state dict
from one of their network pickles loads key for key:

    mapping.fc{i}.{weight,bias}, mapping.embed.*, mapping.w_avg
    synthesis.b4.const, synthesis.b{R}.{conv0,conv1}.{weight,bias,noise_const,noise_strength,
        resample_filter,affine.{weight,bias}}, synthesis.b{R}.torgb.*,
    synthesis.b{R}.resample_filter, synthesis.b{R}.skip.weight (resnet)

Weights are stored unscaled (N(0, 1) at init) and the equalised-learning-rate gain
(ProGAN, Karras et al. 2018) is applied at run time.

`G.mapping(...)` and `G.synthesis(...)` are the Generator protocol's methods; the modules
behind them (state-dict prefixes `mapping.` and `synthesis.`) are `G.mapping_network` and
`G.synthesis_network`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .protocol import NOISE_MODES, GeneratorBase

LRELU_ALPHA = 0.2
LRELU_GAIN = math.sqrt(2)   # keeps the activations' second moment through a leaky ReLU


# ---------------------------------------------------------------- primitive operations

def setup_filter(f: list[float] | np.ndarray | torch.Tensor) -> torch.Tensor:
    """1-D taps -> normalised 2-D FIR filter (outer product), e.g. [1,3,3,1] -> [4, 4]."""
    f = torch.as_tensor(np.asarray(f, dtype=np.float32))
    if f.ndim == 1:
        f = torch.outer(f, f)
    return f / f.sum()


def upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int = 1,
              padding: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1) -> torch.Tensor:
    """Upsample by zero insertion, pad (or crop, negative), convolve with FIR f.

    x [N, C, H, W]; f [fh, fw]; padding (x0, x1, y0, y1). The filter is applied as a true
    convolution (flipped); our filters are symmetric, so that only matters for odd ones.
    """
    N, C, H, W = x.shape
    if up > 1:   # [N, C, H, W] -> [N, C, H*up, W*up] with zeros between samples
        x = x.reshape(N, C, H, 1, W, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(N, C, H * up, W * up)
    px0, px1, py0, py1 = padding
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0):x.shape[2] - max(-py1, 0), max(-px0, 0):x.shape[3] - max(-px1, 0)]
    f = (f * gain ** (f.ndim / 2)).to(x.dtype).flip([0, 1])
    weight = f[None, None].expand(C, 1, *f.shape)   # depthwise: [C, 1, fh, fw]
    return F.conv2d(x, weight, groups=C)


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
        x = _conv(x, w, up, padding, resample_filter, groups=N)
        x = x.reshape(N, O, *x.shape[2:])
        return x if noise is None else x + noise.to(x.dtype)

    x = x * styles.to(x.dtype).reshape(N, I, 1, 1)
    x = _conv(x, weight.to(x.dtype), up, padding, resample_filter, groups=1)
    if dcoefs is not None:
        x = x * dcoefs.to(x.dtype).reshape(N, O, 1, 1)
    return x if noise is None else x + noise.to(x.dtype)


def _conv(x: torch.Tensor, w: torch.Tensor, up: int, padding: int,
          f: torch.Tensor | None, groups: int) -> torch.Tensor:
    """Plain conv (up=1) or stride-2 transposed conv + FIR (up=2). w [groups*O, I, k, k]."""
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


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (+ optional 2x up-sampling), per-pixel noise, bias, lrelu, clamp."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 kernel_size: int = 3, up: int = 1, use_noise: bool = True, activation: str = "lrelu",
                 resample_filter: list[float] = (1, 3, 3, 1), conv_clamp: float | None = None,
                 channels_last: bool = False):
        super().__init__()
        self.resolution, self.up, self.use_noise = resolution, up, use_noise
        self.activation, self.conv_clamp = activation, conv_clamp
        self.padding = kernel_size // 2
        self.act_gain = LRELU_GAIN if activation == "lrelu" else 1.0
        self.register_buffer("resample_filter", setup_filter(list(resample_filter)))
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)   # w -> styles [N, I]
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))  # [H, W]
            self.noise_strength = nn.Parameter(torch.zeros([]))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random", fused: bool = True,
                gain: float = 1, generator: torch.Generator | None = None) -> torch.Tensor:
        styles = self.affine(w)   # [N, I]
        noise = None
        if self.use_noise and noise_mode == "random":
            noise = torch.randn([x.shape[0], 1, self.resolution, self.resolution],
                                device=x.device, generator=generator) * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength   # [H, W] broadcast over N, C
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, fused=fused)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1x1 conv to image channels, not demodulated (the output keeps its scale)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1,
                 conv_clamp: float | None = None, channels_last: bool = False):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)   # no demod: He gain here

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool = True) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fused)
        return bias_act(x, self.bias, clamp=self.conv_clamp)


class Conv2dLayer(nn.Module):
    """Plain equalised-lr conv; here only the resnet skip path (1x1, up 2, no bias)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: str = "linear", up: int = 1, resample_filter: list[float] = (1, 3, 3, 1),
                 conv_clamp: float | None = None, channels_last: bool = False):
        super().__init__()
        self.activation, self.up, self.conv_clamp = activation, up, conv_clamp
        self.register_buffer("resample_filter", setup_filter(list(resample_filter)))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.act_gain = LRELU_GAIN if activation == "lrelu" else 1.0
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels])) if bias else None

    def forward(self, x: torch.Tensor, gain: float = 1) -> torch.Tensor:
        w = (self.weight * self.weight_gain).to(x.dtype)
        x = _conv(x, w, self.up, self.padding, self.resample_filter, groups=1)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


class SynthesisBlock(nn.Module):
    """One resolution: [const | conv0 (up 2)], conv1, and toRGB; 'skip' sums up-sampled RGB
    outputs of every block, 'resnet' adds a 1x1 skip around the convs (scaled by sqrt(1/2)),
    'orig' (StyleGAN1-like) has toRGB on the last block only."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 img_channels: int, is_last: bool, architecture: str = "skip",
                 resample_filter: list[float] = (1, 3, 3, 1), conv_clamp: float | None = None,
                 use_fp16: bool = False, fp16_channels_last: bool = False,
                 fused_modconv_default: Any = True, **layer_kwargs):
        super().__init__()
        if architecture not in ("orig", "skip", "resnet"):
            raise ValueError(f"architecture must be 'orig', 'skip' or 'resnet', got {architecture!r}")
        self.in_channels, self.resolution, self.is_last = in_channels, resolution, is_last
        self.architecture, self.use_fp16 = architecture, use_fp16
        self.register_buffer("resample_filter", setup_filter(list(resample_filter)))
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))  # [C, 4, 4]
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2,
                                        resample_filter=resample_filter, conv_clamp=conv_clamp, **layer_kwargs)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution,
                                    conv_clamp=conv_clamp, **layer_kwargs)
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, kernel_size=1, bias=False, up=2,
                                    resample_filter=resample_filter)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor,
                noise_mode: str, force_fp32: bool, generator: torch.Generator | None):
        """x [N, C_in, R/2, R/2] or None, img [N, 3, R/2, R/2] or None, ws [N, num_conv+num_torgb, w_dim]."""
        w_iter = iter(ws.unbind(dim=1))
        # fp16 only on a GPU: half-precision convolutions on a CPU are slow and inexact.
        fp16 = self.use_fp16 and not force_fp32 and ws.device.type == "cuda"
        dtype = torch.float16 if fp16 else torch.float32
        # One grouped conv per sample batch is fastest for inference; the shared-weight form
        # is cheaper to differentiate and safer in fp16 with big batches.
        fused = not self.training and (dtype == torch.float32 or ws.shape[0] == 1)
        kw = dict(noise_mode=noise_mode, fused=fused, generator=generator)
        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        else:
            x = x.to(dtype)
        if self.in_channels == 0:
            x = self.conv1(x, next(w_iter), **kw)
        elif self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, next(w_iter), **kw)
            x = self.conv1(x, next(w_iter), gain=math.sqrt(0.5), **kw)
            x = y + x
        else:
            x = self.conv0(x, next(w_iter), **kw)
            x = self.conv1(x, next(w_iter), **kw)
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        if self.is_last or self.architecture == "skip":
            y = self.torgb(x, next(w_iter), fused=fused).to(torch.float32)
            img = img + y if img is not None else y
        return x, img


def block_channels(img_resolution: int, channel_base: int, channel_max: int) -> dict[int, int]:
    """{R: min(channel_base // R, channel_max)} for R = 4 .. img_resolution."""
    log2 = int(math.log2(img_resolution))
    return {2 ** i: min(channel_base // 2 ** i, channel_max) for i in range(2, log2 + 1)}


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> image [N, img_channels, R, R], blocks b4 .. b{R}."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int,
                 channel_base: int = 32768,        # channels at R = channel_base / R ...
                 channel_max: int = 512,           # ... capped at channel_max
                 num_fp16_res: int = 0,            # highest resolutions that run in fp16 (GPU)
                 channels: list[int] | None = None,  # explicit widths per block (foreign files)
                 **block_kwargs):
        super().__init__()
        if img_resolution < 4 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two >= 4, got {img_resolution}")
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        log2 = int(math.log2(img_resolution))
        self.block_resolutions = [2 ** i for i in range(2, log2 + 1)]
        if channels is not None:
            if len(channels) != len(self.block_resolutions):
                raise ValueError(f"channels needs {len(self.block_resolutions)} entries "
                                 f"(4 .. {img_resolution}), got {len(channels)}")
            channels_dict = dict(zip(self.block_resolutions, (int(ch) for ch in channels)))
        else:
            channels_dict = block_channels(img_resolution, channel_base, channel_max)
        fp16_resolution = max(2 ** (log2 + 1 - num_fp16_res), 8)
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = channels_dict[res // 2] if res > 4 else 0
            is_last = res == img_resolution
            block = SynthesisBlock(in_channels, channels_dict[res], w_dim, res, img_channels, is_last,
                                   use_fp16=res >= fp16_resolution, **block_kwargs)
            self.num_ws += block.num_conv + (block.num_torgb if is_last else 0)
            setattr(self, f"b{res}", block)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", force_fp32: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            # A block's toRGB shares its w with the next block's first conv (paper fig. 7).
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            w_idx += block.num_conv
            x, img = block(x, img, block_ws, noise_mode, force_fp32, generator)
        return img


# ---------------------------------------------------------------- the generator

class StyleGAN2Generator(GeneratorBase):
    """z [N, z_dim] (+ c [N, c_dim]) -> mapping -> ws [N, num_ws, w_dim] -> synthesis -> [N, C, R, R].

    Keyword arguments are NVIDIA's `training.networks.Generator`'s, so
    `StyleGAN2Generator(**G_ema_init_kwargs).load_state_dict(G_ema_state_dict)` works.
    """

    kind = "stylegan2"
    has_styles = True
    class_name = "StyleGAN2Generator"

    _MAPPING_KEYS = ("num_layers", "embed_features", "layer_features", "activation",
                     "lr_multiplier", "w_avg_beta")
    _SYNTHESIS_KEYS = ("channel_base", "channel_max", "num_fp16_res", "channels", "architecture",
                       "resample_filter", "conv_clamp", "use_noise", "activation", "kernel_size",
                       "fp16_channels_last", "fused_modconv_default", "channels_last")

    def __init__(self,
                 z_dim: int = 512,                 # input latent size
                 c_dim: int = 0,                   # label size, 0 = unconditional
                 w_dim: int = 512,                 # intermediate latent size
                 img_resolution: int = 1024,       # output resolution, power of two
                 img_channels: int = 3,            # output channels
                 mapping_kwargs: dict | None = None,    # MappingNetwork: num_layers, lr_multiplier, ...
                 synthesis_kwargs: dict | None = None):  # SynthesisNetwork: channel_base, channel_max,
                                                         # num_fp16_res, conv_clamp, architecture, ...
        super().__init__()
        mapping_kwargs = dict(mapping_kwargs or {})
        synthesis_kwargs = dict(synthesis_kwargs or {})
        for key in mapping_kwargs:
            if key not in self._MAPPING_KEYS:
                raise TypeError(f"unknown mapping_kwargs entry {key!r}")
        for key in synthesis_kwargs:
            if key not in self._SYNTHESIS_KEYS:
                raise TypeError(f"unknown synthesis_kwargs entry {key!r}")
        self.z_dim, self.c_dim, self.w_dim = int(z_dim), int(c_dim), int(w_dim)
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        self._mapping_kwargs, self._synthesis_kwargs = mapping_kwargs, synthesis_kwargs
        synthesis = SynthesisNetwork(w_dim=self.w_dim, img_resolution=self.img_resolution,
                                     img_channels=self.img_channels, **synthesis_kwargs)
        self.num_ws = synthesis.num_ws
        mapping = MappingNetwork(z_dim=self.z_dim, c_dim=self.c_dim, w_dim=self.w_dim,
                                 num_ws=self.num_ws, **mapping_kwargs)
        # Registered under NVIDIA's names (state-dict prefixes 'synthesis.' and 'mapping.');
        # plain attribute access finds the protocol methods of the same names first.
        self._modules["synthesis"] = synthesis
        self._modules["mapping"] = mapping

    # -------- the modules behind the protocol methods
    @property
    def mapping_network(self) -> MappingNetwork:
        return self._modules["mapping"]

    @property
    def synthesis_network(self) -> SynthesisNetwork:
        return self._modules["synthesis"]

    @property
    def w_avg(self) -> torch.Tensor:
        return self._modules["mapping"].w_avg   # [w_dim]

    def config(self) -> dict[str, Any]:
        def plain(v):   # JSON-able copies (EasyDicts, tuples, numpy scalars from pickles)
            if isinstance(v, dict):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            if isinstance(v, np.generic):
                return v.item()
            return v
        return dict(z_dim=self.z_dim, c_dim=self.c_dim, w_dim=self.w_dim,
                    img_resolution=self.img_resolution, img_channels=self.img_channels,
                    mapping_kwargs=plain(self._mapping_kwargs),
                    synthesis_kwargs=plain(self._synthesis_kwargs))

    # -------- protocol
    def _map(self, z: torch.Tensor, c: torch.Tensor | None, update_w_avg: bool | None = None) -> torch.Tensor:
        """-> untruncated ws [N, num_ws, w_dim]; in training mode also tracks w_avg."""
        w = self.mapping_network(z, c, update_w_avg=update_w_avg)   # [N, w_dim]
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", force_fp32: bool = False,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> raw image [N, img_channels, R, R] (float32, unclamped).

        noise_mode: 'const' the stored noise maps, 'random' fresh N(0, 1) noise drawn from
        `generator` (seed it for reproducible output), 'none' no noise.
        """
        self.check_ws(ws)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        return self.synthesis_network(ws, noise_mode=noise_mode, force_fp32=force_fp32, generator=generator)

    def forward(self, z, c=None, psi=1.0, truncation_cutoff=None, noise_mode="const", **synthesis_kwargs):
        return self.synthesis(self.mapping(z, c, psi, truncation_cutoff), noise_mode=noise_mode,
                              **synthesis_kwargs)

    def style_affines(self) -> list[FullyConnectedLayer]:
        """The affine maps w -> styles of every modulated conv, in ws order (toRGBs left out)."""
        out = []
        for res in self.synthesis_network.block_resolutions:
            block = getattr(self.synthesis_network, f"b{res}")
            for name in ("conv0", "conv1"):
                if hasattr(block, name):
                    out.append(getattr(block, name).affine)
        return out

    def sefa_weights(self) -> torch.Tensor:
        """[sum of conv input channels, w_dim]: every conv layer's style affine, with its
        runtime gain, stacked. SeFa (Shen & Zhou 2021) factorises these maps, the first
        that act on w; the toRGB affines are left out as in SeFa's StyleGAN2 code."""
        return torch.cat([a.weight * a.weight_gain for a in self.style_affines()], dim=0)
