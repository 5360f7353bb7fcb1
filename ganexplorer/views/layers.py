"""Layers: look inside the generator, like the layer widget of NVIDIA's visualizer. One
synthesis layer of the current latent (any of `G.feature_layers()`) as a grid of its strongest
channels (by mean activation magnitude), one channel enlarged, or the per-pixel feature norm;
optionally the centred 2-D spectrum (FFT log-magnitude) of that map or of the image; and, for
StyleGAN models, the strength of each layer's noise (0: that layer's noise off), which the
image and the maps both follow.

The figure is three tiles side by side: the image, the layer's picture, the spectrum. One
synthesis pass on the render thread catches the maps (`G.capture_features`) and scales the
noise (`G.scaled_noise`); neither changes the G the render thread shares with jobs."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ..export.images import to_uint8
from ..render import layer_maps as lm
from ..render.figures import Figure
from ..render.synth import Steered
from .base import BuildContext, SubState, View, ViewSpec

MIN_TILE = 256          # each tile's side in pixels at least (small maps are scaled up sharply)
COUNTS = (4, 9, 16, 25, 36, 64)   # grid sizes the panel offers
MAX_STRENGTH = 4.0      # the largest noise strength (the panel's sliders go 0 .. 4)


@dataclass(frozen=True, eq=False)
class LayersState(SubState):
    view: ClassVar[View] = View.LAYERS
    layer: str = ""                        # a name of G.feature_layers(); '' the middle one
    mode: str = "grid"                     # 'grid' strongest channels | 'channel' one | 'norm'
    channel: int = 0                       # 'channel': which one (0 .. C-1)
    count: int = 16                        # 'grid': how many of the strongest channels
    spectrum: str = "off"                  # 'off' | 'layer' (the map shown) | 'image'
    noise: tuple[tuple[str, float], ...] = ()   # (noise layer, strength) where it is not 1

    def strength(self, name: str) -> float:
        return dict(self.noise).get(name, 1.0)

    def with_strength(self, name: str, value: float) -> "LayersState":
        """This state with one noise layer's strength set (1 drops it: as trained)."""
        rest = tuple((n, s) for n, s in self.noise if n != name)
        return dataclasses.replace(self, noise=rest + (((name, float(value)),) if value != 1 else ()))

    def for_new_model(self) -> "LayersState":
        # the layer names and channel numbers belong to the old model; how to look stays
        return LayersState(mode=self.mode, count=self.count, spectrum=self.spectrum)


def middle_layer(G) -> str:
    """The default layer: the middle one of G.feature_layers() (coarse layers are tiny)."""
    names = G.feature_layers()
    return names[len(names) // 2]


@dataclass(frozen=True, eq=False)
class LayersPart:
    view: ClassVar[View] = View.LAYERS
    layer: str = ""
    mode: str = "grid"
    channel: int = 0
    count: int = 16
    spectrum: str = "off"
    noise: tuple[tuple[str, float], ...] = ()

    def render(self, rc) -> Figure:
        G, req = rc.G, rc.req
        if self.mode not in lm.MODES:
            raise ValueError(f"the layer view shows {', '.join(lm.MODES)}, not {self.mode!r}")
        if self.spectrum not in lm.SPECTRA:
            raise ValueError(f"the spectrum can be {', '.join(lm.SPECTRA)}, not {self.spectrum!r}")
        base = G.base if isinstance(G, Steered) else G     # the taps sit on the model itself
        ws = torch.from_numpy(np.asarray(rc.current_ws, np.float32)).to(base.w_avg.device)
        with base.capture_features([self.layer]) as feats, base.scaled_noise(dict(self.noise)):
            img = G.synthesis(ws, noise_mode=req.noise_mode)   # through G: StyleGAN3's transform
        img = img[0].float().cpu().numpy()                      # [C, R, R]
        feat = feats[self.layer][0].cpu().numpy()                 # [C_l, r, r]
        C, r = feat.shape[0], feat.shape[1:]
        strength = lm.channel_strength(feat)
        ranked = lm.strongest_channels(feat, C)
        if self.mode == "grid":
            shown = ranked[:max(1, min(self.count, C))]
            picture = lm.channel_grid(feat, shown, max_side=max(MIN_TILE, G.img_resolution))
            what = f"{self.layer}: the {len(shown)} strongest of {C} channels"
            fft_of = feat                                          # every channel's spectrum, averaged
        elif self.mode == "channel":
            if not 0 <= self.channel < C:
                raise ValueError(f"channel {self.channel} does not exist: layer {self.layer} has "
                                 f"{C} channels (0–{C - 1})")
            shown = np.array([self.channel])
            picture = lm.colour_signed(feat[self.channel])
            what = f"{self.layer}: channel {self.channel} of {C}"
            fft_of = feat[self.channel]
        else:
            shown = ranked[:0]
            norm = lm.feature_norm(feat)
            picture = lm.colour_magnitude(norm)
            what = f"{self.layer}: feature norm over {C} channels"
            fft_of = norm
        size = max(MIN_TILE, G.img_resolution)
        tiles = [lm.fit(to_uint8(img)[0], size), lm.fit(picture, size)]
        labels = ["image", what]
        if self.spectrum != "off":
            source = lm.image_luma(img) if self.spectrum == "image" else fft_of
            tiles.append(lm.fit(lm.colour_magnitude(lm.spectrum(source)), size))
            labels.append("spectrum of the image" if self.spectrum == "image" else f"spectrum of {self.layer}")
        rc.data["layer_shape"] = np.array([C, *r], np.int64)      # [C_l, r, r]
        rc.data["layer_shown"] = np.asarray(shown, np.int64)       # the channels in the picture
        rc.data["layer_ranked"] = np.asarray(ranked, np.int64)     # every channel, strongest first
        rc.data["layer_strength"] = strength                       # [C_l] mean |activation|
        meta = {"seed": req.current.seed if req.current.ws is None else None, "psi": req.psi,
                "noise_mode": req.noise_mode, "layer": self.layer, "mode": self.mode,
                "channels": [int(c) for c in shown], "spectrum": self.spectrum,
                "noise_strength": dict(self.noise), **rc.steering_meta()}
        ws_np = np.asarray(rc.current_ws, np.float32)
        return Figure(np.stack(tiles), ws_np, [0] + [-1] * (len(tiles) - 1), len(tiles), labels, meta)


def request(sub: LayersState, ctx: BuildContext) -> LayersPart:
    G = ctx.G
    layer = sub.layer if sub.layer in G.feature_layers() else middle_layer(G)
    names = set(G.noise_layers())   # a session from another model may name other layers
    noise = tuple((n, min(max(float(s), 0.0), MAX_STRENGTH)) for n, s in sub.noise if n in names)
    return LayersPart(layer, sub.mode, int(sub.channel), int(sub.count), sub.spectrum, noise)


SPEC = ViewSpec(View.LAYERS, "Layers", LayersState, request)
