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
from torch import nn

from .layers import (  # noqa: F401  (re-exported: older imports name them here)
    LRELU_ALPHA, LRELU_GAIN, Conv2dLayer, FullyConnectedLayer, MappingNetwork, NvidiaModules, bias_act,
    conv2d_resample, modulated_conv2d, normalize_2nd_moment, setup_filter, upfirdn2d, upsample2d)
from .protocol import NOISE_MODES, GeneratorBase, noise_scale

# The primitives (FIR resampling, bias_act, modulated conv) and the equalised-lr dense and
# conv layers live in layers.py: D and StyleGAN3 use the same ones.


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
        if noise is not None and (scale := noise_scale(self)) != 1:
            noise = noise * scale   # a strength chosen per call (G.scaled_noise), G unchanged
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
                generator: torch.Generator | None = None, stop_res: int | None = None) -> torch.Tensor:
        """stop_res: end after that block and return the RGB image the skip architecture has
        summed so far, [N, C, stop_res, stop_res] (a drag's cheap preview)."""
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            # A block's toRGB shares its w with the next block's first conv (paper fig. 7).
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            w_idx += block.num_conv
            x, img = block(x, img, block_ws, noise_mode, force_fp32, generator)
            if res == stop_res:
                break
        return img


# ---------------------------------------------------------------- the generator

class StyleGAN2Generator(NvidiaModules, GeneratorBase):
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
        self._set_nvidia_modules(mapping, synthesis)

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
                  generator: torch.Generator | None = None, stop_res: int | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> raw image [N, img_channels, R, R] (float32, unclamped).

        noise_mode: 'const' the stored noise maps, 'random' fresh N(0, 1) noise drawn from
        `generator` (seed it for reproducible output), 'none' no noise.
        stop_res: one of `preview_resolutions()`: the image as it stands after that block,
        [N, C, stop_res, stop_res], for a cheap preview.
        """
        self.check_ws(ws)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if stop_res is not None and stop_res not in self.preview_resolutions():
            raise ValueError(f"this model has no preview at {stop_res} px; it has "
                             f"{self.preview_resolutions() or 'none (not the skip architecture)'}")
        return self.synthesis_network(ws, noise_mode=noise_mode, force_fp32=force_fp32, generator=generator,
                                      stop_res=stop_res)

    def preview_resolutions(self) -> list[int]:
        """Blocks after which the image so far is a usable preview: in the skip architecture
        every block adds its toRGB output to the up-sampled sum (paper fig. 7), so the sum at
        32 or 64 px is the coarse image; 'orig' and 'resnet' have no image before the last block."""
        net = self.synthesis_network
        if net.b4.architecture != "skip":
            return []
        return [r for r in net.block_resolutions if 32 <= r < self.img_resolution]

    def stage_cost(self, res: int) -> float:
        """Fraction of a full synthesis's multiply-adds spent up to and including block `res`
        (convolution weights x pixels): what a preview at `res` is expected to cost."""
        net = self.synthesis_network
        cost = {}
        for r in net.block_resolutions:
            block = getattr(net, f"b{r}")
            convs = [getattr(block, n) for n in ("conv0", "conv1", "torgb") if hasattr(block, n)]
            cost[r] = sum(c.weight.numel() for c in convs) * r * r
        total = sum(cost.values())
        return sum(v for r, v in cost.items() if r <= res) / total

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

    def _feature_modules(self) -> dict[str, nn.Module]:
        # Each synthesis block's feature output x (not its RGB skip): b4 .. b{R}.
        net = self.synthesis_network
        return {f"b{res}": getattr(net, f"b{res}") for res in net.block_resolutions}

    def _noise_modules(self) -> dict[str, nn.Module]:
        # Every conv with a noise input, by block and conv: b4.conv1, b8.conv0, b8.conv1, ...
        net, out = self.synthesis_network, {}
        for res in net.block_resolutions:
            block = getattr(net, f"b{res}")
            for name in ("conv0", "conv1"):
                layer = getattr(block, name, None)
                if layer is not None and layer.use_noise:
                    out[f"b{res}.{name}"] = layer
        return out
