"""Network classes that our native checkpoints can name, by `class_name`.

A checkpoint stores `{"class_name": ..., "kwargs": {...}}` per network; this table turns
that back into a module. Only classes listed here can be built: data never picks code.
"""
from __future__ import annotations

from torch import nn


def network_classes() -> dict[str, type[nn.Module]]:
    from .dcgan import DCGANGenerator
    table: dict[str, type[nn.Module]] = {"DCGANGenerator": DCGANGenerator}
    from .lucidrains_stylegan2 import LucidrainsGenerator
    from .stylegan2 import StyleGAN2Generator
    table["StyleGAN2Generator"] = StyleGAN2Generator
    table["LucidrainsGenerator"] = LucidrainsGenerator
    from .stylegan3 import StyleGAN3Generator
    table["StyleGAN3Generator"] = StyleGAN3Generator
    from . import discriminator, encoder   # D (edit realism) and E (inversion): plain imports,
    table.update(discriminator.CLASSES)     # so a broken module fails loudly, never "unknown class"
    table.update(encoder.CLASSES)
    return table


def build_network(class_name: str, kwargs: dict) -> nn.Module:
    table = network_classes()
    if class_name not in table:
        raise KeyError(class_name)
    return table[class_name](**kwargs)
