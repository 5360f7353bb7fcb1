"""Writers of foreign checkpoint layouts for the tests, built from the formats' documented
key layouts (see shared/docs/checkpoint-formats.md), never by running the foreign code."""
from __future__ import annotations

import argparse
import contextlib
import json
import pickle
import sys
import types
from pathlib import Path

import torch

from tiny_models import tiny_dcgan


# ---------------------------------------------------------------- pytorch/examples DCGAN

def dcgan_state(seed: int = 0, bias: bool = False, **kw) -> tuple[torch.nn.Module, dict]:
    G = tiny_dcgan(seed, bias=bias, **kw)
    return G, {k: v.clone() for k, v in G.state_dict().items()}


def shift_layers(sd: dict, stride: int = 4) -> dict:
    """Renumber main.{3j(+1)} as if a parameter-free layer (e.g. Dropout) followed each ReLU."""
    out = {}
    for k, v in sd.items():
        _, i, name = k.split(".", 2)
        j, r = divmod(int(i), 3)
        out[f"main.{j * stride + r}.{name}"] = v
    return out


def save_dcgan(path: Path, variant: str, seed: int = 0, legacy: bool = False, **kw) -> torch.nn.Module:
    """variant: bare | netG_state_dict | state_dict | generator | module | dropout | bias."""
    G, sd = dcgan_state(seed, bias=variant == "bias", **kw)
    if variant == "module":
        obj = {f"module.{k}": v for k, v in sd.items()}
    elif variant == "dropout":
        obj = shift_layers(sd)
    elif variant in ("netG_state_dict", "state_dict", "generator"):
        obj = {variant: sd, "epoch": 3}
        if variant == "netG_state_dict":
            obj["netD_state_dict"] = {"main.0.weight": torch.zeros(8, 3, 4, 4)}
    else:
        obj = sd
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return G


# ---------------------------------------------------------------- lucidrains/stylegan2-pytorch

def lucidrains_gan_state(image_size: int = 16, latent_dim: int = 24, style_depth: int = 2,
                         channels: tuple[int, ...] = (16, 12, 8), seed: int = 0,
                         initial_conv: bool = True, blur: bool = True) -> dict:
    """The 'GAN' state dict of lucidrains' StyleGAN2 module: S/G (training), SE/GE (EMA), D.

    Keys follow their Generator: initial_block [1, C, 4, 4], initial_conv, blocks.{i}.{to_style1,
    to_noise1, conv1, to_style2, to_noise2, conv2, to_rgb.{to_style, conv, upsample.1.f}}.
    """
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=1.0):
        return torch.randn(*shape, generator=g) * scale

    def net(prefix: str) -> dict:
        sd = {}
        for i in range(style_depth):
            sd[f"{prefix}.net.{2 * i}.weight"] = r(latent_dim, latent_dim)
            sd[f"{prefix}.net.{2 * i}.bias"] = r(latent_dim, scale=0.5)
        return sd

    def gen(prefix: str) -> dict:
        sd = {f"{prefix}.initial_block": r(1, channels[0], 4, 4)}
        if initial_conv:
            sd[f"{prefix}.initial_conv.weight"] = r(channels[0], channels[0], 3, 3, scale=0.2)
            sd[f"{prefix}.initial_conv.bias"] = r(channels[0], scale=0.1)
        ins = [channels[0]] + list(channels[:-1])
        for i, (cin, cout) in enumerate(zip(ins, channels)):
            b = f"{prefix}.blocks.{i}"
            sd[f"{b}.to_style1.weight"] = r(cin, latent_dim, scale=0.2)
            sd[f"{b}.to_style1.bias"] = r(cin, scale=0.2)
            sd[f"{b}.to_noise1.weight"] = r(cout, 1, scale=0.3)
            sd[f"{b}.to_noise1.bias"] = r(cout, scale=0.1)
            sd[f"{b}.conv1.weight"] = r(cout, cin, 3, 3, scale=0.3)
            sd[f"{b}.to_style2.weight"] = r(cout, latent_dim, scale=0.2)
            sd[f"{b}.to_style2.bias"] = r(cout, scale=0.2)
            sd[f"{b}.to_noise2.weight"] = r(cout, 1, scale=0.3)
            sd[f"{b}.to_noise2.bias"] = r(cout, scale=0.1)
            sd[f"{b}.conv2.weight"] = r(cout, cout, 3, 3, scale=0.3)
            sd[f"{b}.to_rgb.to_style.weight"] = r(cout, latent_dim, scale=0.2)
            sd[f"{b}.to_rgb.to_style.bias"] = r(cout, scale=0.2)
            sd[f"{b}.to_rgb.conv.weight"] = r(3, cout, 1, 1, scale=0.3)
            if blur and i != len(channels) - 1:
                sd[f"{b}.to_rgb.upsample.1.f"] = torch.tensor([1.0, 2.0, 1.0])
        return sd

    assert image_size == 2 ** (len(channels) + 1)
    out = {}
    out.update(net("S"))
    out.update(gen("G"))
    out.update(net("SE"))
    out.update(gen("GE"))
    out["D.to_logit.weight"] = r(1, 16)   # a discriminator entry, ignored
    out["D.to_logit.bias"] = r(1)
    return out


def save_lucidrains(models_dir: Path, name: str = "default", num: int = 3, config: dict | None = None,
                    **kw) -> tuple[Path, dict]:
    """models_dir/NAME/model_NUM.pt and models_dir/NAME/.config.json, as their Trainer.save does."""
    folder = models_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    gan = lucidrains_gan_state(**kw)
    path = folder / f"model_{num}.pt"
    torch.save({"GAN": gan, "version": "1.8.9"}, path)
    if config is not None:
        (folder / ".config.json").write_text(json.dumps(config))
    return path, gan


# ---------------------------------------------------------------- rosinality train.py layout

def save_rosinality_train_layout(src: Path, dst: Path) -> None:
    ckpt = torch.load(src, weights_only=True, map_location="cpu")
    g_ema = ckpt["g_ema"]
    args = argparse.Namespace(size=32, latent=64, n_mlp=2, channel_multiplier=1, r1=10.0, iter=800000)
    torch.save({"g": g_ema, "d": {"convs.0.0.weight": torch.zeros(1)}, "g_ema": g_ema,
                "g_optim": {}, "d_optim": {}, "args": args, "ada_aug_p": 0.0}, dst)


# ---------------------------------------------------------------- NVIDIA-style pickles

@contextlib.contextmanager
def fake_modules(names_to_attrs: dict[str, dict]):
    """Temporarily install modules so that pickle can write globals under their names."""
    added = []
    for mod_name, attrs in names_to_attrs.items():
        parts = mod_name.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name not in sys.modules:
                sys.modules[name] = types.ModuleType(name)
                added.append(name)
        for attr, value in attrs.items():
            setattr(sys.modules[mod_name], attr, value)
            value.__module__ = mod_name
            value.__qualname__ = attr
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


def _reconstruct_persistent_obj(meta):   # pragma: no cover - only pickled by reference
    raise AssertionError("never called")


class _Persistent:
    def __init__(self, meta):
        self.meta = meta

    def __reduce__(self):
        return (_reconstruct_persistent_obj, (self.meta,))


def module_state(params: dict, buffers: dict | None = None, modules: dict | None = None, **attrs) -> dict:
    return {"training": False, "_parameters": dict(params), "_buffers": dict(buffers or {}),
            "_non_persistent_buffers_set": set(), "_modules": dict(modules or {}), **attrs}


def persistent(class_name: str, state: dict) -> _Persistent:
    return _Persistent({"type": "class", "version": 6, "module_src": "# placeholder",
                        "class_name": class_name, "state": state})


def dump_nvidia_like(obj) -> bytes:
    with fake_modules({"torch_utils.persistence": {"_reconstruct_persistent_obj": _reconstruct_persistent_obj}}):
        return pickle.dumps(obj, protocol=4)


def stylegan3_like_pickle() -> bytes:
    """A snapshot whose G_ema has StyleGAN3's synthesis.input (freqs, phases, transform)."""
    inp = persistent("SynthesisInput", module_state(
        {"weight": torch.nn.Parameter(torch.randn(8, 4))},
        {"transform": torch.eye(3), "freqs": torch.randn(8, 2), "phases": torch.randn(8)}))
    synth = persistent("SynthesisNetwork", module_state({}, {}, {"input": inp}))
    G = persistent("Generator", module_state({}, {}, {"synthesis": synth},
                                             _init_args=(), _init_kwargs={"z_dim": 8}))
    return dump_nvidia_like({"G_ema": G, "G": G, "training_set_kwargs": {}})


class _TFNetwork:
    def __init__(self):
        pass

    def __reduce__(self):
        return (_TFNetworkClass, (), {"version": 4, "name": "G", "build_module_src": "# tf"})


class _TFNetworkClass:   # stands in for dnnlib.tflib.network.Network when pickling
    pass


def tensorflow_like_pickle() -> bytes:
    """A TensorFlow-era StyleGAN pickle: a tuple (G, D, Gs) of dnnlib.tflib.network.Network."""
    with fake_modules({"dnnlib.tflib.network": {"Network": _TFNetworkClass}}):
        return pickle.dumps((_TFNetwork(), _TFNetwork(), _TFNetwork()), protocol=2)
