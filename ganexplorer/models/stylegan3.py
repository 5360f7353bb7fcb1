"""StyleGAN3 generator (Karras et al. 2021, "Alias-Free Generative Adversarial Networks"),
configurations T (3x3 convolutions) and R (1x1 convolutions, radially symmetric filters).

Written from the paper and the documented format of NVIDIA's stylegan3 network pickles
(no NVIDIA source was used). The synthesis network treats every feature map as samples of
a band-limited continuous signal:

* the input is a set of Fourier features (paper sec. 3.2): `channels` sinusoids with
  stored frequencies `freqs` [C, 2] and phases `phases` [C], evaluated on a grid of `size`
  pixels at `sampling_rate` samples per unit, rotated and translated by a per-sample
  (rotation, translation) pair that an affine layer reads off `ws[:, 0]`, then mixed by a
  learned `weight` [C, C];
* each of the `num_layers` layers is a modulated convolution (weights normalised, styles
  from its own w, demodulated, the input divided by sqrt(magnitude_ema), the running mean
  square of its input) followed by the filtered non-linearity (sec. 3.2): up-sample by
  `up_factor` with the low-pass `up_filter`, bias + leaky ReLU (gain sqrt 2, clamp
  ±conv_clamp) at the temporary rate, low-pass `down_filter` and down-sample by
  `down_factor`. In R the down filter is a 2-D radial (jinc) kernel except in the
  critically sampled layers;
* cut-offs grow geometrically from `first_cutoff` to img_resolution/2 over the layers, the
  last `num_critical` layers are critically sampled, stop-bands follow the same schedule
  (sec. 3.2 and appendix F); the last layer (ToRGB) is a modulated 1x1 convolution without
  demodulation or activation, and the image is scaled by `output_scale`.

Names (`mapping.fc{i}`, `mapping.w_avg`, `synthesis.input.{weight,affine,transform,freqs,
phases}`, `synthesis.L{i}_{size}_{channels}.{weight,bias,magnitude_ema,up_filter,
down_filter,affine}`) and constructor arguments follow NVIDIA's
`training.networks_stylegan3.Generator`, so a `G_ema` state dict loads key for key.

The layer geometry is derived from the kwargs with the paper's schedule (`geometry()`); a
reader may pass the geometry it found stored in a file instead (`layer_geometry`,
`input_geometry`), and `config()` keeps it so the safetensors conversion rebuilds the same
network.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .layers import (LRELU_ALPHA, LRELU_GAIN, FullyConnectedLayer, MappingNetwork, NvidiaModules,
                     upfirdn2d)
from .protocol import NOISE_MODES, GeneratorBase

# The keys every layer's geometry consists of (also the plain attributes NVIDIA stores).
GEOMETRY_KEYS = ("in_channels", "out_channels", "in_size", "out_size", "in_sampling_rate",
                 "out_sampling_rate", "tmp_sampling_rate", "in_cutoff", "out_cutoff",
                 "in_half_width", "out_half_width", "up_factor", "down_factor", "up_taps",
                 "down_taps", "padding", "conv_kernel", "is_torgb", "is_critically_sampled",
                 "down_radial", "use_fp16")
INPUT_GEOMETRY_KEYS = ("channels", "size", "sampling_rate", "bandwidth")
# Where layers marked use_fp16 run in float16 (a CPU computes half precision slowly and
# less exactly; NVIDIA's code does the same).
FP16_DEVICES = ("cuda",)


# ---------------------------------------------------------------- filter design

def _kaiser_beta(num_taps: int, width: float) -> float:
    """Kaiser window beta for a transition band `width` (fraction of Nyquist): Kaiser's
    empirical attenuation A = 2.285 (N - 1) pi width + 7.95 dB and his beta(A) formula."""
    a = 2.285 * (num_taps - 1) * np.pi * width + 7.95
    if a > 50:
        return 0.1102 * (a - 8.7)
    if a > 21:
        return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    return 0.0


def design_lowpass_filter(num_taps: int, cutoff: float, width: float, fs: float,
                          radial: bool = False) -> torch.Tensor | None:
    """Kaiser-windowed low-pass FIR at sampling rate fs (paper appendix C): a windowed sinc
    ([num_taps]), or for radial=True a windowed jinc ([num_taps, num_taps], rotation
    invariant, the R configuration). Unit DC gain. One tap means no filter (None)."""
    if num_taps == 1:
        return None
    nyq = fs / 2
    beta = _kaiser_beta(num_taps, width / nyq)
    window = np.kaiser(num_taps, beta)
    t = np.arange(num_taps) - (num_taps - 1) / 2                     # tap positions in samples
    if not radial:
        c = cutoff / nyq
        f = c * np.sinc(c * t) * window
        return torch.as_tensor(f / f.sum(), dtype=torch.float32)
    x = t / fs
    r = np.hypot(x[:, None], x[None, :])
    # Explicit CPU: a network built on the meta device (shape-only) still designs real taps.
    rt = torch.as_tensor(2 * np.pi * cutoff * r, dtype=torch.float64, device="cpu")
    j1 = torch.special.bessel_j1(rt).numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(r > 0, j1 / (np.pi * np.where(r > 0, r, 1)), np.pi * cutoff)   # jinc; limit at 0
    f = f * np.outer(window, window)
    return torch.as_tensor(f / f.sum(), dtype=torch.float32)


# ---------------------------------------------------------------- the paper's schedule

def geometry(w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
             channel_max: int = 512, num_layers: int = 14, num_critical: int = 2,
             first_cutoff: float = 2, first_stopband: float = 2 ** 2.1,
             last_stopband_rel: float = 2 ** 0.3, margin_size: int = 10, num_fp16_res: int = 4,
             conv_kernel: int = 3, filter_size: int = 6, lrelu_upsampling: int = 2,
             use_radial_filters: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(input geometry, [per-layer geometry]) from the constructor arguments."""
    last_cutoff = img_resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    exponents = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents            # f_c per layer
    stopbands = first_stopband * (last_stopband / first_stopband) ** exponents    # f_t per layer
    # Sampling rate: the smallest power of two above twice the stop-band (no aliasing), at
    # most the output resolution; the half-width of the transition band follows.
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + margin_size * 2
    sizes[-2:] = img_resolution          # the critically sampled tail has no margin
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels
    inp = dict(channels=int(channels[0]), size=[int(sizes[0])] * 2, sampling_rate=float(rates[0]),
               bandwidth=float(cutoffs[0]))
    layers = []
    for idx in range(num_layers + 1):
        prev = max(idx - 1, 0)
        is_torgb = idx == num_layers
        is_critical = idx >= num_layers - num_critical
        kernel = 1 if is_torgb else conv_kernel
        in_rate, out_rate = float(rates[prev]), float(rates[idx])
        tmp_rate = max(in_rate, out_rate) * (1 if is_torgb else lrelu_upsampling)
        up = int(np.rint(tmp_rate / in_rate))
        down = int(np.rint(tmp_rate / out_rate))
        up_taps = filter_size * up if up > 1 and not is_torgb else 1
        down_taps = filter_size * down if down > 1 and not is_torgb else 1
        in_size, out_size = int(sizes[prev]), int(sizes[idx])
        # Padding so that (up-sample, filter, down-sample) turns the conv output (in_size +
        # kernel - 1) into out_size; the low side takes the larger half plus up/2 so that
        # samples sit at pixel centres (the symmetric interpretation, appendix D.1).
        total = (out_size - 1) * down + 1 - (in_size + kernel - 1) * up + up_taps + down_taps - 2
        lo = (total + up) // 2
        hi = total - lo
        layers.append(dict(
            in_channels=int(channels[prev]), out_channels=int(channels[idx]),
            in_size=[in_size] * 2, out_size=[out_size] * 2,
            in_sampling_rate=in_rate, out_sampling_rate=out_rate, tmp_sampling_rate=tmp_rate,
            in_cutoff=float(cutoffs[prev]), out_cutoff=float(cutoffs[idx]),
            in_half_width=float(half_widths[prev]), out_half_width=float(half_widths[idx]),
            up_factor=up, down_factor=down, up_taps=up_taps, down_taps=down_taps,
            padding=[int(lo), int(hi), int(lo), int(hi)], conv_kernel=kernel, is_torgb=is_torgb,
            is_critically_sampled=is_critical, down_radial=bool(use_radial_filters and not is_critical),
            use_fp16=bool(rates[idx] * 2 ** num_fp16_res > img_resolution)))
    return inp, layers


# ---------------------------------------------------------------- modules

def _modulated_conv(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, padding: int,
                    demodulate: bool, input_gain: torch.Tensor | None) -> torch.Tensor:
    """x [N, I, H, W], weight [O, I, k, k], styles [N, I] -> [N, O, H+2p-k+1, ...].

    Weights and styles are first normalised to unit mean square (per output channel / per
    sample) so that fp16 cannot overflow; demodulation cancels that scale. `input_gain`
    (1/sqrt(magnitude_ema)) divides the input, folded into the weights."""
    N, I = styles.shape
    O, _, kh, kw = weight.shape
    if demodulate:
        weight = weight * weight.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean(dim=1, keepdim=True).rsqrt()
    w = weight.unsqueeze(0) * styles.reshape(N, 1, I, 1, 1)                # [N, O, I, k, k]
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    if input_gain is not None:
        w = w * input_gain
    x = x.reshape(1, N * I, *x.shape[2:])                                    # samples as groups
    x = F.conv2d(x, w.reshape(N * O, I, kh, kw).to(x.dtype), padding=padding, groups=N)
    return x.reshape(N, O, *x.shape[2:])


class SynthesisInput(nn.Module):
    """Fourier features: ws[:, 0] -> [N, channels, size_y, size_x]."""

    def __init__(self, w_dim: int, channels: int, size: int | list[int], sampling_rate: float,
                 bandwidth: float):
        super().__init__()
        self.w_dim, self.channels = w_dim, int(channels)
        self.size = [int(s) for s in (size if isinstance(size, (list, tuple)) else [size, size])]   # [w, h]
        self.sampling_rate, self.bandwidth = float(sampling_rate), float(bandwidth)
        if not 1 <= self.channels <= 1 << 16 or len(self.size) != 2 or not all(1 <= v <= 1 << 14 for v in self.size):
            raise ValueError(f"input geometry channels={channels}, size={size} is implausible")
        if not 0 < self.bandwidth < self.sampling_rate / 2:
            raise ValueError(f"input bandwidth {bandwidth} must lie below half the sampling rate {sampling_rate}")
        # Random frequencies inside the band (re-drawn only for a fresh network; files store theirs).
        freqs = torch.randn([self.channels, 2])
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * self.bandwidth
        self.weight = nn.Parameter(torch.randn([self.channels, self.channels]))
        # w -> (cos, sin, tx, ty); starts at the identity (no rotation, no shift).
        self.affine = FullyConnectedLayer(w_dim, 4, bias_init=0)
        with torch.no_grad():
            self.affine.weight.zero_()
            self.affine.bias.copy_(torch.tensor([1.0, 0, 0, 0]))
        self.register_buffer("transform", torch.eye(3))     # [3, 3] user transform of the input
        self.register_buffer("freqs", freqs)                 # [C, 2] cycles per unit
        self.register_buffer("phases", torch.rand([self.channels]) - 0.5)   # [C] cycles

    def forward(self, w: torch.Tensor, transform: torch.Tensor | None = None) -> torch.Tensor:
        N = w.shape[0]
        user = (self.transform if transform is None else transform.to(w.device, torch.float32))
        # Per-sample rotation and translation from w; normalising by the rotation pair's
        # length keeps the rotation a pure rotation (and scales the shift with it).
        t = self.affine(w)                                                   # [N, 4]
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        rot = torch.eye(3, device=w.device).repeat(N, 1, 1)
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift = torch.eye(3, device=w.device).repeat(N, 1, 1)
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        m = rot @ shift @ user.unsqueeze(0)                                  # [N, 3, 3]
        # A sinusoid f.x + phi evaluated at m x: frequency f m, phase phi + f.(translation of m).
        freqs = self.freqs.unsqueeze(0)                                      # [1, C, 2]
        phases = self.phases.unsqueeze(0) + (freqs @ m[:, :2, 2:]).squeeze(2)   # [N, C]
        freqs = freqs @ m[:, :2, :2]                                         # [N, C, 2]
        # Fade out frequencies that a transform pushed towards Nyquist (no aliasing).
        amp = (1 - (freqs.norm(dim=2) - self.bandwidth)
               / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)      # [N, C]
        # Pixel centres in units: spacing 1/sampling_rate, centred on 0.
        sx, sy = self.size
        gx = (torch.arange(sx, device=w.device, dtype=torch.float32) + 0.5 - sx / 2) / self.sampling_rate
        gy = (torch.arange(sy, device=w.device, dtype=torch.float32) + 0.5 - sy / 2) / self.sampling_rate
        arg = (gx.reshape(1, 1, sx, 1) * freqs[:, :, 0].reshape(N, 1, 1, -1)
               + gy.reshape(1, sy, 1, 1) * freqs[:, :, 1].reshape(N, 1, 1, -1)
               + phases.reshape(N, 1, 1, -1))                                # [N, H, W, C]
        x = torch.sin(arg * (2 * math.pi)) * amp.reshape(N, 1, 1, -1)
        x = x @ (self.weight / math.sqrt(self.channels)).t()                 # mix the channels
        return x.permute(0, 3, 1, 2)                                         # [N, C, H, W]


# Bounds far beyond any real network: geometry read from a file must not make the filter
# design or a probe allocate without limit.
_LIMITS = {"in_channels": 1 << 16, "out_channels": 1 << 16, "up_factor": 16, "down_factor": 16,
           "up_taps": 1024, "down_taps": 1024, "conv_kernel": 31}


def _check_geometry(g: dict[str, Any]) -> None:
    missing = [k for k in GEOMETRY_KEYS if k not in g]
    if missing:
        raise ValueError(f"layer geometry lacks {', '.join(missing)}")
    for key, hi in _LIMITS.items():
        if not 1 <= int(g[key]) <= hi:
            raise ValueError(f"layer geometry {key}={g[key]} is outside 1..{hi}")
    for key in ("in_size", "out_size"):
        if len(g[key]) != 2 or not all(1 <= int(v) <= 1 << 14 for v in g[key]):
            raise ValueError(f"layer geometry {key}={g[key]} is not two sizes in 1..16384")
    if len(g["padding"]) != 4 or not all(abs(int(v)) <= 1 << 14 for v in g["padding"]):
        raise ValueError(f"layer geometry padding={g['padding']} is not four numbers within ±16384")
    for key in ("in_sampling_rate", "out_sampling_rate", "tmp_sampling_rate", "in_cutoff", "out_cutoff",
                "in_half_width", "out_half_width"):
        if not 0 < float(g[key]) < 1e6:
            raise ValueError(f"layer geometry {key}={g[key]} is not a positive rate")


class SynthesisLayer(nn.Module):
    """Modulated conv + filtered leaky ReLU (or, for ToRGB, modulated 1x1 conv + bias)."""

    def __init__(self, w_dim: int, geometry: dict[str, Any], conv_clamp: float | None = 256,
                 magnitude_ema_beta: float = 0.999, filter_size: int = 6,
                 use_radial_filters: bool = False):
        super().__init__()
        g = dict(geometry)
        _check_geometry(g)
        self.w_dim = w_dim
        self.is_torgb = bool(g["is_torgb"])
        self.is_critically_sampled = bool(g["is_critically_sampled"])
        self.use_fp16 = bool(g["use_fp16"])
        self.in_channels, self.out_channels = int(g["in_channels"]), int(g["out_channels"])
        self.in_size, self.out_size = [int(v) for v in g["in_size"]], [int(v) for v in g["out_size"]]
        self.in_sampling_rate, self.out_sampling_rate = float(g["in_sampling_rate"]), float(g["out_sampling_rate"])
        self.tmp_sampling_rate = float(g["tmp_sampling_rate"])
        self.in_cutoff, self.out_cutoff = float(g["in_cutoff"]), float(g["out_cutoff"])
        self.in_half_width, self.out_half_width = float(g["in_half_width"]), float(g["out_half_width"])
        self.up_factor, self.down_factor = int(g["up_factor"]), int(g["down_factor"])
        self.up_taps, self.down_taps = int(g["up_taps"]), int(g["down_taps"])
        self.padding = [int(p) for p in g["padding"]]      # [x0, x1, y0, y1], negative crops
        self.conv_kernel = int(g["conv_kernel"])
        self.down_radial = bool(g["down_radial"])
        self.conv_clamp = conv_clamp
        self.magnitude_ema_beta = magnitude_ema_beta
        self.geometry = {k: g[k] for k in GEOMETRY_KEYS}
        self.affine = FullyConnectedLayer(w_dim, self.in_channels, bias_init=1)   # w -> styles
        self.weight = nn.Parameter(torch.randn([self.out_channels, self.in_channels,
                                                self.conv_kernel, self.conv_kernel]))
        self.bias = nn.Parameter(torch.zeros([self.out_channels]))
        self.register_buffer("magnitude_ema", torch.ones([]))   # running mean square of the input
        self.register_buffer("up_filter", design_lowpass_filter(
            self.up_taps, self.in_cutoff, self.in_half_width * 2, self.tmp_sampling_rate))
        self.register_buffer("down_filter", design_lowpass_filter(
            self.down_taps, self.out_cutoff, self.out_half_width * 2, self.tmp_sampling_rate,
            radial=self.down_radial))

    def forward(self, x: torch.Tensor, w: torch.Tensor, force_fp32: bool = False) -> torch.Tensor:
        if self.training:   # track the input's mean square (the EMA the file stores)
            with torch.no_grad():
                self.magnitude_ema.copy_(x.detach().float().square().mean().lerp(
                    self.magnitude_ema, self.magnitude_ema_beta))
        input_gain = self.magnitude_ema.rsqrt()
        styles = self.affine(w)                                              # [N, I]
        if self.is_torgb:   # no demodulation: the He gain of the 1x1 conv goes on the styles
            styles = styles * (1 / math.sqrt(self.in_channels * self.conv_kernel ** 2))
        fp16 = self.use_fp16 and not force_fp32 and x.device.type in FP16_DEVICES
        dtype = torch.float16 if fp16 else torch.float32
        # 'full' convolution (padding k-1): the filters below crop what they need.
        x = _modulated_conv(x.to(dtype), self.weight, styles, padding=self.conv_kernel - 1,
                            demodulate=not self.is_torgb, input_gain=input_gain)
        x = x + self.bias.to(x.dtype).reshape(1, -1, 1, 1)
        if self.is_torgb:
            x = upfirdn2d(x, None, padding=self.padding)
            return x.clamp(-self.conv_clamp, self.conv_clamp) if self.conv_clamp is not None else x
        # Filtered leaky ReLU: the non-linearity runs at the temporary (higher) rate between
        # an ideal-ish up-sampling and down-sampling, so its harmonics do not alias.
        x = upfirdn2d(x, self.up_filter, up=self.up_factor, padding=self.padding,
                      gain=self.up_factor ** 2)
        x = F.leaky_relu(x, LRELU_ALPHA) * LRELU_GAIN
        if self.conv_clamp is not None:
            x = x.clamp(-self.conv_clamp, self.conv_clamp)
        x = upfirdn2d(x, self.down_filter, down=self.down_factor)
        return x


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> image [N, img_channels, R, R]; num_ws = num_layers + 2."""

    _LAYER_KEYS = ("conv_kernel", "filter_size", "lrelu_upsampling", "use_radial_filters",
                   "conv_clamp", "magnitude_ema_beta")

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int,
                 channel_base: int = 32768,        # channels = channel_base / 2 / cutoff ...
                 channel_max: int = 512,           # ... capped at channel_max
                 num_layers: int = 14,             # layers before ToRGB
                 num_critical: int = 2,            # critically sampled layers at the end
                 first_cutoff: float = 2,          # cut-off of the first layer (cycles/unit)
                 first_stopband: float = 2 ** 2.1,  # stop-band of the first layer
                 last_stopband_rel: float = 2 ** 0.3,  # last stop-band / last cut-off
                 margin_size: int = 10,            # extra pixels around the non-critical maps
                 output_scale: float = 0.25,       # image = ToRGB output * output_scale
                 num_fp16_res: int = 4,            # layers at rates > R / 2**n run fp16 (GPU)
                 conv_kernel: int = 3,             # 3 (T) or 1 (R)
                 filter_size: int = 6,             # low-pass taps per resampling factor
                 lrelu_upsampling: int = 2,        # temporary rate of the non-linearity
                 use_radial_filters: bool = False,  # radial down filters (R)
                 conv_clamp: float | None = 256,   # clamp of the pre-activations
                 magnitude_ema_beta: float = 0.999,  # EMA decay of magnitude_ema (training)
                 input_geometry: dict | None = None,      # stored geometry (files), else derived
                 layer_geometry: list[dict] | None = None):
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.num_layers, self.num_critical = num_layers, num_critical
        self.margin_size, self.output_scale, self.num_fp16_res = margin_size, output_scale, num_fp16_res
        inp, layers = geometry(w_dim, img_resolution, img_channels, channel_base, channel_max,
                               num_layers, num_critical, first_cutoff, first_stopband,
                               last_stopband_rel, margin_size, num_fp16_res, conv_kernel,
                               filter_size, lrelu_upsampling, use_radial_filters)
        if input_geometry is not None:
            inp = {k: input_geometry[k] for k in INPUT_GEOMETRY_KEYS}
        if layer_geometry is not None:
            if len(layer_geometry) != num_layers + 1:
                raise ValueError(f"layer_geometry needs {num_layers + 1} entries, got {len(layer_geometry)}")
            layers = [{k: g[k] for k in GEOMETRY_KEYS} for g in layer_geometry]
        self.num_ws = num_layers + 2
        self.input = SynthesisInput(w_dim, **inp)
        self.layer_names = []
        for g in layers:
            layer = SynthesisLayer(w_dim, g, conv_clamp=conv_clamp, magnitude_ema_beta=magnitude_ema_beta)
            name = f"L{len(self.layer_names)}_{layer.out_size[0]}_{layer.out_channels}"
            setattr(self, name, layer)
            self.layer_names.append(name)
        last = getattr(self, self.layer_names[-1])
        if last.out_size != [img_resolution] * 2 or last.out_channels != img_channels:
            raise ValueError(f"the last layer makes {last.out_size} x {last.out_channels} channels, "
                             f"not {img_resolution}x{img_resolution} x {img_channels}")

    def layers(self) -> list[SynthesisLayer]:
        return [getattr(self, n) for n in self.layer_names]

    def forward(self, ws: torch.Tensor, transform: torch.Tensor | None = None,
                force_fp32: bool = False) -> torch.Tensor:
        ws = ws.to(torch.float32).unbind(dim=1)
        x = self.input(ws[0], transform)
        for layer, w in zip(self.layers(), ws[1:]):
            x = layer(x, w, force_fp32=force_fp32)
        x = x.to(torch.float32)
        return x * self.output_scale if self.output_scale != 1 else x


def make_transform(translate: tuple[float, float] = (0.0, 0.0), rotate: float = 0.0) -> torch.Tensor:
    """The input transform [3, 3] that moves the image by `translate` (in units of the image
    width/height, as NVIDIA's visualizer) and rotates it by `rotate` degrees.

    The Fourier features are evaluated at `transform @ (x, y, 1)`, so the matrix is the
    inverse of the image motion: rotate-then-translate the picture, un-do it on the grid."""
    a = math.radians(float(rotate))
    s, c = math.sin(a), math.cos(a)
    motion = np.array([[c, s, float(translate[0])], [-s, c, float(translate[1])], [0, 0, 1]])
    return torch.as_tensor(np.linalg.inv(motion), dtype=torch.float32)


# ---------------------------------------------------------------- the generator

class StyleGAN3Generator(NvidiaModules, GeneratorBase):
    """z [N, z_dim] (+ c [N, c_dim]) -> mapping -> ws [N, num_ws, w_dim] -> synthesis.

    Keyword arguments are NVIDIA's `training.networks_stylegan3.Generator`'s: mapping
    settings in `mapping_kwargs`, synthesis settings at the top level.
    """

    kind = "stylegan3"
    has_styles = True
    has_input_transform = True
    class_name = "StyleGAN3Generator"

    MAPPING_KEYS = ("num_layers", "lr_multiplier", "w_avg_beta")
    SYNTHESIS_KEYS = ("channel_base", "channel_max", "num_layers", "num_critical", "first_cutoff",
                      "first_stopband", "last_stopband_rel", "margin_size", "output_scale",
                      "num_fp16_res", "conv_kernel", "filter_size", "lrelu_upsampling",
                      "use_radial_filters", "conv_clamp", "magnitude_ema_beta",
                      "input_geometry", "layer_geometry")

    def __init__(self,
                 z_dim: int = 512,                 # input latent size
                 c_dim: int = 0,                   # label size, 0 = unconditional
                 w_dim: int = 512,                 # intermediate latent size
                 img_resolution: int = 1024,       # output resolution
                 img_channels: int = 3,            # output channels
                 mapping_kwargs: dict | None = None,   # num_layers (2), lr_multiplier, w_avg_beta
                 **synthesis_kwargs):              # SynthesisNetwork's arguments (see there)
        super().__init__()
        mapping_kwargs = dict(mapping_kwargs or {})
        unknown = [k for k in mapping_kwargs if k not in self.MAPPING_KEYS]
        unknown += [k for k in synthesis_kwargs if k not in self.SYNTHESIS_KEYS]
        if unknown:
            raise TypeError(f"unknown StyleGAN3 argument(s) {', '.join(map(repr, unknown))}")
        self.z_dim, self.c_dim, self.w_dim = int(z_dim), int(c_dim), int(w_dim)
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        self._mapping_kwargs, self._synthesis_kwargs = mapping_kwargs, dict(synthesis_kwargs)
        synthesis = SynthesisNetwork(w_dim=self.w_dim, img_resolution=self.img_resolution,
                                     img_channels=self.img_channels, **synthesis_kwargs)
        self.num_ws = synthesis.num_ws
        mk = dict(num_layers=2, w_avg_beta=0.998)
        mk.update(mapping_kwargs)
        mapping = MappingNetwork(z_dim=self.z_dim, c_dim=self.c_dim, w_dim=self.w_dim,
                                 num_ws=self.num_ws, **mk)
        self._set_nvidia_modules(mapping, synthesis)

    @property
    def conv_kernel(self) -> int:
        return self.synthesis_network.layers()[0].conv_kernel

    @property
    def variant(self) -> str:
        """'StyleGAN3-T' (3x3 convs) or 'StyleGAN3-R' (1x1 convs, radial filters)."""
        layers = self.synthesis_network.layers()
        return "StyleGAN3-R" if layers[0].conv_kernel == 1 or any(L.down_radial for L in layers) else "StyleGAN3-T"

    def config(self) -> dict[str, Any]:
        return dict(z_dim=self.z_dim, c_dim=self.c_dim, w_dim=self.w_dim,
                    img_resolution=self.img_resolution, img_channels=self.img_channels,
                    mapping_kwargs=_plain(self._mapping_kwargs), **_plain(self._synthesis_kwargs))

    # -------- protocol
    def _map(self, z: torch.Tensor, c: torch.Tensor | None, update_w_avg: bool | None = None) -> torch.Tensor:
        w = self.mapping_network(z, c, update_w_avg=update_w_avg)   # [N, w_dim]
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", force_fp32: bool = False,
                  transform: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> raw image [N, img_channels, R, R] (float32, unclamped).

        StyleGAN3 has no noise inputs: `noise_mode` is checked and otherwise ignored.
        `transform` [3, 3] replaces the stored input transform for this call only (see
        `make_transform`), so one generator can serve several views at once.
        """
        self.check_ws(ws)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if transform is not None and tuple(transform.shape) != (3, 3):
            raise ValueError(f"transform must be [3, 3], got {list(transform.shape)}")
        return self.synthesis_network(ws, transform=transform, force_fp32=force_fp32)

    def forward(self, z, c=None, psi=1.0, truncation_cutoff=None, noise_mode="const", **synthesis_kwargs):
        return self.synthesis(self.mapping(z, c, psi, truncation_cutoff), noise_mode=noise_mode,
                              **synthesis_kwargs)

    def ws_sampling_rates(self) -> list[float]:
        """[num_ws] the sampling rate each w acts at: the input's for ws[0], then each
        layer's output rate (StyleGAN3 has no resolution blocks; style mixing groups by these)."""
        syn = self.synthesis_network
        return [syn.input.sampling_rate] + [L.out_sampling_rate for L in syn.layers()]

    def _feature_modules(self) -> dict[str, nn.Module]:
        # Every layer's output but ToRGB's, by NVIDIA's layer name (L0_36_512 ... ).
        syn = self.synthesis_network
        return {name: getattr(syn, name) for name in syn.layer_names[:-1]}

    def style_affines(self) -> list[FullyConnectedLayer]:
        """The style affines of the modulated convolutions L0 .. L{n-1} (ToRGB left out)."""
        return [L.affine for L in self.synthesis_network.layers() if not L.is_torgb]

    def sefa_weights(self) -> torch.Tensor:
        """[sum of conv input channels, w_dim]: every layer's style affine with its runtime
        gain, stacked (SeFa, Shen & Zhou 2021; the input's transform affine and ToRGB left out)."""
        return torch.cat([a.weight * a.weight_gain for a in self.style_affines()], dim=0)


def _plain(v: Any) -> Any:
    """JSON-able copies (EasyDicts, tuples, numpy scalars and arrays from pickles)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, np.generic):
        return v.item()
    return v
