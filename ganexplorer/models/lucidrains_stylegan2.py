"""The generator of lucidrains/stylegan2-pytorch (MIT), which differs from NVIDIA's enough
that it gets its own small class rather than a conversion into StyleGAN2Generator:

- mapping ("StyleVectorizer"): z is L2-normalised (not by its mean square), then `depth`
  layers of EqualLinear (y = x (W lr)^T + b lr, no 1/sqrt(fan-in) gain) + leaky ReLU 0.2;
- one w per resolution block (num_ws = log2(R) - 1), shared by the block's two convs and
  its toRGB; style s enters the conv as W * (s + 1);
- noise: one uniform [0, 1) image [N, R, R, 1] per sample, cropped top-left to each block's
  size and turned into per-channel noise by a Linear(1, C) (weight and bias), laid out
  [N, C, W, H] (their permute swaps x and y; kept so outputs match);
- bilinear up-sampling; toRGB outputs are summed and up-sampled bilinearly then blurred
  with [1, 2, 1] (reflect padding, as kornia's filter2d); no tanh, images in about [0, 1].

Parameter names are lucidrains' EMA copies, `SE.*` (style network) and `GE.*` (generator),
so a checkpoint's `GAN` state dict restricted to those keys loads unchanged. Their own code
has no stored truncation centre (it averages 2,000 unseeded samples each run); ours is the
buffer `w_avg`, estimated once from seeded samples when the file is read. Their noise is
always random; our 'const' noise is a seeded, stored uniform image (`noise_const`).
- attention (`attn_layers`, numbered as they count blocks: the last block is 1): before each
  chosen block, a residual linear-attention layer and a residual 1x1 feed-forward, each
  after a per-pixel channel normalisation (see `_AttentionAndFeedForward`).
RGBA models are not supported.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .protocol import NOISE_MODES, GeneratorBase, noise_scale

NOISE_SEED = 0   # seeds the stored 'const' noise image


class _EqualLinear(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, lr_mul: float):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim))   # [out, in]
        self.bias = nn.Parameter(torch.zeros(out_dim))
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.lr_mul, self.bias * self.lr_mul)


class _StyleVectorizer(nn.Module):
    def __init__(self, latent_dim: int, depth: int, lr_mul: float):
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [_EqualLinear(latent_dim, latent_dim, lr_mul), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(F.normalize(z, dim=1))   # [N, latent_dim]


class _Conv2DMod(nn.Module):
    """Modulated conv: W' = W * (s + 1), optionally demodulated; 'same' padding."""

    def __init__(self, in_chan: int, out_chan: int, kernel: int, demod: bool = True):
        super().__init__()
        self.demod, self.kernel = demod, kernel
        self.weight = nn.Parameter(torch.randn(out_chan, in_chan, kernel, kernel))
        nn.init.kaiming_normal_(self.weight, a=0, mode="fan_in", nonlinearity="leaky_relu")

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        N, I, H, W = x.shape
        w = self.weight[None] * (s[:, None, :, None, None] + 1)           # [N, O, I, k, k]
        if self.demod:
            w = w * torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
        O = w.shape[1]
        x = F.conv2d(x.reshape(1, N * I, H, W), w.reshape(N * O, I, self.kernel, self.kernel),
                     padding=(self.kernel - 1) // 2, groups=N)
        return x.reshape(N, O, H, W)


class _Blur(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("f", torch.tensor([1.0, 2.0, 1.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.f[None, :] * self.f[:, None]
        f = (f / f.sum()).to(x.dtype)
        C = x.shape[1]
        x = F.pad(x, [1, 1, 1, 1], mode="reflect")
        return F.conv2d(x, f[None, None].expand(C, 1, 3, 3), groups=C)


class _RGBBlock(nn.Module):
    def __init__(self, latent_dim: int, in_chan: int, upsample: bool, blur: bool, out_chan: int = 3):
        super().__init__()
        self.to_style = nn.Linear(latent_dim, in_chan)
        self.conv = _Conv2DMod(in_chan, out_chan, 1, demod=False)
        up: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)]
        if blur:
            up.append(_Blur())
        self.upsample = nn.Sequential(*up) if upsample else None

    def forward(self, x, prev_rgb, w):
        x = self.conv(x, self.to_style(w))
        if prev_rgb is not None:
            x = x + prev_rgb
        return self.upsample(x) if self.upsample is not None else x


class _ChanNorm(nn.Module):
    """Normalise each pixel's channel vector to zero mean, unit variance; learned g, b."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))
        self.b = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(x, dim=1, unbiased=False, keepdim=True)
        return (x - mean) / (var + self.eps).sqrt() * self.g + self.b


class _PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module):
        super().__init__()
        self.fn, self.norm = fn, _ChanNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class _Residual(nn.Module):
    def __init__(self, fn: nn.Module):
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


class _DepthWiseConv2d(nn.Module):
    """3x3 depthwise conv then a 1x1 conv (both bias-free): keys and values see neighbours."""

    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(dim_in, dim_in, 3, padding=1, groups=dim_in, bias=False),
                                 nn.Conv2d(dim_in, dim_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _LinearAttention(nn.Module):
    """Linear ("efficient") attention over the pixels (Shen et al. 2021): queries are
    softmax-normalised over their features, keys over the positions, so the keys and values
    reduce to a [d, d] context per head first and the cost grows linearly with H*W."""

    def __init__(self, dim: int, inner_dim: int, heads: int):
        super().__init__()
        if inner_dim % heads:
            raise ValueError(f"attention width {inner_dim} does not split into {heads} heads")
        self.heads, self.dim_head = heads, inner_dim // heads
        self.to_q = nn.Conv2d(dim, inner_dim, 1, bias=False)
        self.to_kv = _DepthWiseConv2d(dim, inner_dim * 2)
        self.to_out = nn.Conv2d(inner_dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, _, H, W = x.shape
        h, d = self.heads, self.dim_head

        def heads_first(t: torch.Tensor) -> torch.Tensor:   # [N, h*d, H, W] -> [N*h, H*W, d]
            return t.reshape(N * h, d, H * W).transpose(1, 2)
        k, v = self.to_kv(x).chunk(2, dim=1)
        q = heads_first(self.to_q(x)).softmax(dim=-1) * d ** -0.5
        k = heads_first(k).softmax(dim=-2)
        context = k.transpose(1, 2) @ heads_first(v)                     # [N*h, d, d]
        out = (q @ context).transpose(1, 2).reshape(N, h * d, H, W)
        return self.to_out(F.gelu(out))


class _AttentionAndFeedForward(nn.Sequential):
    """attns.{i}: 0 = residual pre-normed linear attention, 1 = residual pre-normed 1x1 MLP
    (C -> 2C, leaky ReLU 0.2, -> C)."""

    def __init__(self, dim: int, inner_dim: int = 512, heads: int = 8):
        ff = nn.Sequential(nn.Conv2d(dim, dim * 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(dim * 2, dim, 1))
        super().__init__(_Residual(_PreNorm(dim, _LinearAttention(dim, inner_dim, heads))),
                         _Residual(_PreNorm(dim, ff)))


class _GeneratorBlock(nn.Module):
    def __init__(self, latent_dim: int, in_chan: int, filters: int, upsample: bool,
                 upsample_rgb: bool, blur: bool):
        super().__init__()
        self.upsample = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False) if upsample else None
        self.to_style1 = nn.Linear(latent_dim, in_chan)
        self.to_noise1 = nn.Linear(1, filters)
        self.conv1 = _Conv2DMod(in_chan, filters, 3)
        self.to_style2 = nn.Linear(latent_dim, filters)
        self.to_noise2 = nn.Linear(1, filters)
        self.conv2 = _Conv2DMod(filters, filters, 3)
        self.to_rgb = _RGBBlock(latent_dim, filters, upsample_rgb, blur)

    def forward(self, x, prev_rgb, w, inoise):
        """x [N, C, R/2, R/2], w [N, latent_dim], inoise [N, S, S, 1] uniform."""
        if self.upsample is not None:
            x = self.upsample(x)
        inoise = inoise[:, :x.shape[2], :x.shape[3], :]
        noise1 = self.to_noise1(_scaled(inoise, self.to_noise1)).permute(0, 3, 2, 1)   # [N, C, W, H]
        noise2 = self.to_noise2(_scaled(inoise, self.to_noise2)).permute(0, 3, 2, 1)
        x = F.leaky_relu(self.conv1(x, self.to_style1(w)) + noise1, 0.2)
        x = F.leaky_relu(self.conv2(x, self.to_style2(w)) + noise2, 0.2)
        return x, self.to_rgb(x, prev_rgb, w)


def _scaled(inoise: torch.Tensor, to_noise: nn.Module) -> torch.Tensor:
    """The noise image times the strength G.scaled_noise gives this layer (0 = as 'none':
    the Linear(1, C) bias stays, only the noise goes)."""
    scale = noise_scale(to_noise)
    return inoise if scale == 1 else inoise * scale


class _Synthesis(nn.Module):
    def __init__(self, image_size: int, latent_dim: int, channels: list[int], no_const: bool,
                 initial_conv: bool, rgb_blur: bool, attn_layers: list[int] = (),
                 attn_inner_dim: int = 512, attn_heads: int = 8):
        super().__init__()
        self.no_const = no_const
        num_layers = len(channels)
        init = channels[0]
        if no_const:
            self.to_initial_block = nn.ConvTranspose2d(latent_dim, init, 4, 1, 0, bias=False)
        else:
            self.initial_block = nn.Parameter(torch.randn(1, init, 4, 4))
        self.initial_conv = nn.Conv2d(init, init, 3, padding=1) if initial_conv else None
        ins = [init] + channels[:-1]
        self.blocks = nn.ModuleList([
            _GeneratorBlock(latent_dim, ins[i], channels[i], upsample=i != 0,
                            upsample_rgb=i != num_layers - 1, blur=rgb_blur)
            for i in range(num_layers)])
        # Block i is layer number num_layers - i in lucidrains' counting (the last block is 1).
        self.attns = nn.ModuleList([
            _AttentionAndFeedForward(ins[i], attn_inner_dim, attn_heads) if num_layers - i in attn_layers
            else None for i in range(num_layers)])

    def forward(self, ws: torch.Tensor, inoise: torch.Tensor) -> torch.Tensor:
        if self.no_const:
            x = self.to_initial_block(ws.mean(dim=1)[:, :, None, None])
        else:
            x = self.initial_block.expand(ws.shape[0], -1, -1, -1)
        if self.initial_conv is not None:
            x = self.initial_conv(x)
        rgb = None
        for i, (block, attn) in enumerate(zip(self.blocks, self.attns)):
            if attn is not None:
                x = attn(x)
            x, rgb = block(x, rgb, ws[:, i], inoise)
        return rgb


def default_channels(image_size: int, network_capacity: int, fmap_max: int) -> list[int]:
    num_layers = int(math.log2(image_size)) - 1
    return [min(fmap_max, network_capacity * 2 ** (i + 1)) for i in range(num_layers)][::-1]


class LucidrainsGenerator(GeneratorBase):
    kind = "stylegan2-lucidrains"
    ws_per_resolution = 1   # one w per block, shared by its two convs and toRGB
    has_styles = True
    class_name = "LucidrainsGenerator"

    def __init__(self,
                 image_size: int = 128,            # output resolution, power of two
                 latent_dim: int = 512,            # z and w size
                 network_capacity: int = 16,       # channel multiplier (when channels is None)
                 fmap_max: int = 512,              # channel cap (when channels is None)
                 style_depth: int = 8,             # mapping layers
                 lr_mlp: float = 0.1,              # mapping lr multiplier (their CLI default)
                 no_const: bool = False,           # initial block from w (ConvTranspose) instead of a constant
                 initial_conv: bool = True,        # 3x3 conv after the initial block (newer versions)
                 rgb_blur: bool = True,            # blur after RGB up-sampling (newer versions)
                 channels: list[int] | None = None,  # per block, 4x4 first (from the file's shapes)
                 attn_layers: list[int] | None = None,  # their attn_layers: blocks counted from the last (1)
                 attn_inner_dim: int = 512,        # attention width (their heads 8 x dim_head 64)
                 attn_heads: int = 8):             # attention heads
        super().__init__()
        if image_size < 8 or image_size & (image_size - 1):
            raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
        chans = list(channels) if channels else default_channels(image_size, network_capacity, fmap_max)
        if len(chans) != int(math.log2(image_size)) - 1:
            raise ValueError(f"{len(chans)} blocks cannot make {image_size}x{image_size}")
        self.image_size, self.latent_dim = int(image_size), int(latent_dim)
        self.network_capacity, self.fmap_max = int(network_capacity), int(fmap_max)
        self.style_depth, self.lr_mlp = int(style_depth), float(lr_mlp)
        self.no_const, self.initial_conv, self.rgb_blur = bool(no_const), bool(initial_conv), bool(rgb_blur)
        self.channels = [int(c) for c in chans]
        self.attn_layers = sorted(int(n) for n in (attn_layers or []))
        if any(not 1 <= n <= len(self.channels) for n in self.attn_layers):
            raise ValueError(f"attn_layers {self.attn_layers} must lie in 1..{len(self.channels)}")
        self.attn_inner_dim, self.attn_heads = int(attn_inner_dim), int(attn_heads)
        self.z_dim = self.w_dim = self.latent_dim
        self.c_dim = 0
        self.num_ws = len(self.channels)
        self.img_resolution, self.img_channels = self.image_size, 3
        self.SE = _StyleVectorizer(self.latent_dim, self.style_depth, self.lr_mlp)
        self.GE = _Synthesis(self.image_size, self.latent_dim, self.channels, self.no_const,
                             self.initial_conv, self.rgb_blur, self.attn_layers,
                             self.attn_inner_dim, self.attn_heads)
        self.noise_shape = (self.image_size, self.image_size, 1)   # their image_noise(n, size)
        self.register_buffer("w_avg", torch.zeros(self.latent_dim))   # [w_dim], set by the reader
        g = torch.Generator().manual_seed(NOISE_SEED)
        self.register_buffer("noise_const", torch.rand(self.image_size, self.image_size, generator=g))

    def config(self) -> dict[str, Any]:
        return dict(image_size=self.image_size, latent_dim=self.latent_dim,
                    network_capacity=self.network_capacity, fmap_max=self.fmap_max,
                    style_depth=self.style_depth, lr_mlp=self.lr_mlp, no_const=self.no_const,
                    initial_conv=self.initial_conv, rgb_blur=self.rgb_blur, channels=self.channels,
                    attn_layers=self.attn_layers, attn_inner_dim=self.attn_inner_dim,
                    attn_heads=self.attn_heads)

    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        w = self.SE(z.to(torch.float32))                   # [N, w_dim]
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)    # [N, num_ws, w_dim]

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const",
                  generator: torch.Generator | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> [N, 3, R, R] in about [-1, 1] (their [0, 1] output * 2 - 1).

        noise [N, R, R, 1]: the uniform noise image their code draws (`image_noise`), given
        explicitly so that their own outputs can be reproduced; it overrides noise_mode."""
        self.check_ws(ws)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        N, R = ws.shape[0], self.image_size
        if noise is not None:
            self.check_noise(tuple(noise.shape), N)
            inoise = noise.to(ws.device, torch.float32)
        elif noise_mode == "const":
            inoise = self.noise_const[None, :, :, None].expand(N, R, R, 1)
        elif noise_mode == "random":
            inoise = torch.rand(N, R, R, 1, generator=generator, device=ws.device)
        else:   # no noise image; the Linear(1, C) biases still act, as a per-channel bias
            inoise = torch.zeros(N, R, R, 1, device=ws.device)
        return self.GE(ws.to(torch.float32), inoise) * 2 - 1

    def sefa_weights(self) -> torch.Tensor:
        """[sum of conv input channels, w_dim]: the style maps of every modulated conv."""
        mats = []
        for block in self.GE.blocks:
            mats += [block.to_style1.weight, block.to_style2.weight]
        return torch.cat(mats, dim=0)

    def _feature_modules(self) -> dict[str, nn.Module]:
        # Each generator block's feature output (not its RGB): b4, b8, ... b{R}.
        return {f"b{4 * 2 ** i}": block for i, block in enumerate(self.GE.blocks)}

    def _noise_modules(self) -> dict[str, nn.Module]:
        # Each block's two noise inputs, named after the convs they join: b4.conv1, b4.conv2, ...
        out: dict[str, nn.Module] = {}
        for i, block in enumerate(self.GE.blocks):
            out[f"b{4 * 2 ** i}.conv1"], out[f"b{4 * 2 ** i}.conv2"] = block.to_noise1, block.to_noise2
        return out
