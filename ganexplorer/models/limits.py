"""The limits every checkpoint reader holds a file to, in one place.

They are far above any real network (StyleGAN2 config-f at 1024 px: 30 M parameters, a
360 MB pickle with G, D and G_ema) and far below what would hurt the machine: any file is
refused or loaded within seconds and a couple of GB of memory.
"""
from __future__ import annotations

# Unpickled data (untrusted.check_tree): items after expanding shared references, and nesting.
MAX_TREE_COST = 2_000_000
MAX_TREE_DEPTH = 200
MAX_PICKLE_OPS = 1_000_000   # opcodes of one pickle (a 1024 px snapshot has about 15,000)

# Declared network sizes (declared.check_declared); each with the word a message uses.
MAX_RESOLUTION = 4096        # img_resolution / image_size, pixels per side
MAX_LATENT = 8192            # z_dim, w_dim, latent_dim
MAX_CLASSES = 100_000        # c_dim
MAX_IMG_CHANNELS = 4         # RGB(A) or grey
MAX_CHANNELS = 16_384        # feature maps of one layer (channel_max, ngf, channels[i])
MAX_CHANNEL_BASE = 1 << 20   # NVIDIA's channel_base (32768 for config-f, 65536 for StyleGAN3-R)
MAX_LAYERS = 64              # mapping layers, style depth, blocks
MAX_INT_SETTING = 1 << 24    # any other integer in a network's settings

# Memory a load may allocate (budget.AllocationBudget): a fixed allowance plus a multiple of
# the file's size (weights stored as float16 become float32; a native file holds G, D and E).
ALLOC_BASE_BYTES = 512 << 20
ALLOC_PER_FILE_BYTE = 3
MAX_FACTORY_CALLS = 200_000  # tensors created while building networks

# A network may be larger than the unique tensor data the file holds only by this much
# (buffers the constructor computes: noise images, filters, w_avg) and by widening to float32.
NET_SLACK_BYTES = 64 << 20
NET_PER_STORED_BYTE = 4

# Torch zip archives (torch_file): members are normally stored, not compressed.
ZIP_MAX_RATIO = 20           # uncompressed / compressed size of one member
ZIP_SLACK_BYTES = 16 << 20   # total uncompressed may exceed the file size by this much ...
ZIP_PER_FILE_BYTE = 2        # ... or by this factor, whichever is larger
ZIP_MAX_MEMBERS = 100_000


# ---------------------------------------------------------------- declared settings

_NAMED = {  # setting -> (limit, what it is)
    "img_resolution": (MAX_RESOLUTION, "resolution"), "image_size": (MAX_RESOLUTION, "resolution"),
    "z_dim": (MAX_LATENT, "latent size"), "w_dim": (MAX_LATENT, "latent size"),
    "latent_dim": (MAX_LATENT, "latent size"), "c_dim": (MAX_CLASSES, "class count"),
    "img_channels": (MAX_IMG_CHANNELS, "image channel count"),
    "channel_max": (MAX_CHANNELS, "channel count"), "ngf": (MAX_CHANNELS, "channel count"),
    "fmap_max": (MAX_CHANNELS, "channel count"), "channels": (MAX_CHANNELS, "channel count"),
    "channel_base": (MAX_CHANNEL_BASE, "channel base"), "num_layers": (MAX_LAYERS, "layer count"),
    "style_depth": (MAX_LAYERS, "layer count"), "network_capacity": (MAX_CHANNELS, "channel count"),
}


def check_declared(settings: object, what: str = "the network") -> None:
    """CheckpointError naming the first declared size beyond the limits above.

    `settings` is a network's constructor arguments (nested dicts and lists allowed); it must
    already be a checked tree (untrusted.check_tree), so walking it is cheap."""
    from .errors import CheckpointError

    def go(value: object, key: str, depth: int) -> None:
        if depth > MAX_TREE_DEPTH:
            raise CheckpointError(f"{what}: its settings are nested implausibly deep.")
        if isinstance(value, dict):
            for k, v in value.items():
                go(v, str(k) if isinstance(k, str) else key, depth + 1)
        elif isinstance(value, (list, tuple)):
            for v in value:
                go(v, key, depth + 1)
        elif isinstance(value, int) and not isinstance(value, bool):
            limit, word = _NAMED.get(key, (MAX_INT_SETTING, "value"))
            if value > limit:
                shown = value if value.bit_length() < 64 else "a huge number"
                raise CheckpointError(f"{what} declares {key} = {shown}, beyond the largest {word} "
                                      f"GAN Explorer opens ({limit:,}).")
            if value < 0 and key in _NAMED:
                raise CheckpointError(f"{what} declares a negative {key} ({value}).")
        elif isinstance(value, float) and key in _NAMED and not (0 <= value <= _NAMED[key][0]):
            raise CheckpointError(f"{what} declares {key} = {value:g}, which is not a usable {_NAMED[key][1]}.")

    go(settings, "", 0)
