"""Hostile checkpoint files, one or more per class of attack, written on demand (no blobs).

Each builder writes a small file into a folder and returns its path. Every file is refused
by `load_model` (except the NaN/Inf ones, which load with a warning) quickly and in little
memory. `python tests/hostile_files.py DIR` writes them all (for measuring the CLI).
"""
from __future__ import annotations

import argparse
import io
import json
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures_path import FIXTURES                                   # noqa: E402
from foreign_files import (dcgan_state, dump_nvidia_like, lucidrains_gan_state,  # noqa: E402
                           module_state, persistent)
from tiny_models import rewrite_native_header, save_tiny_dcgan  # noqa: E402


# ---------------------------------------------------------------- building blocks

def dag(depth: int = 64) -> list:
    """depth lists, each holding the previous one twice: 2**depth paths, ~depth objects."""
    x: list = []
    for _ in range(depth):
        x = [x, x]
    return x


def dag_tuple(depth: int = 64) -> tuple:
    x: tuple = ()
    for _ in range(depth):
        x = (x, x)
    return x


def cycle() -> list:
    x: list = [1]
    x.append(x)
    return x


def torch_bytes(obj, legacy: bool = False) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def rezip(blob: bytes, replace: dict[str, bytes] | None = None, deflate: tuple[str, ...] = ()) -> bytes:
    """A torch zip with some members replaced and some compressed (torch itself stores them)."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as w:
        for info in src.infolist():
            data = src.read(info)
            for suffix, new in (replace or {}).items():
                if info.filename.endswith(suffix):
                    data = new
            packed = any(info.filename.endswith(s) for s in deflate)
            w.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED if packed else zipfile.ZIP_STORED)
    return out.getvalue()


def nvidia_generator(kwargs: dict, params: dict | None = None, **attrs) -> object:
    """A persistent 'Generator' with a synthesis.b4.const, so that it reads as StyleGAN2."""
    b4 = persistent("SynthesisBlock", module_state(params or {"const": torch.zeros(4, 4, 4)}))
    synth = persistent("SynthesisNetwork", module_state({}, {}, {"b4": b4}))
    return persistent("Generator", module_state({}, {}, {"synthesis": synth}, _init_args=(),
                                                _init_kwargs=kwargs, **attrs))


SMALL_SG2 = dict(z_dim=8, c_dim=0, w_dim=8, img_resolution=8, img_channels=3,
                 mapping_kwargs={"num_layers": 1}, synthesis_kwargs={"channel_base": 64, "channel_max": 8})


def _nvidia(path: Path, snap: dict) -> Path:
    path.write_bytes(dump_nvidia_like(snap))
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _native_with(path: Path, mutate: Callable[[dict], None], **kw) -> Path:
    """A tiny native DCGAN whose JSON description is changed by `mutate`."""
    return rewrite_native_header(save_tiny_dcgan(path, **kw), mutate)


# Hand-written pickles: {'G_ema': <expr>} where <expr> poisons an allow-listed global.
def _poison(expr: bytes) -> bytes:
    return b"\x80\x04}\x8c\x05G_ema" + expr + b"s." + b" torch_utils.persistence"


_EASYDICT = b"\x8c\x0bdnnlib.util\x8c\x08EasyDict\x93"
_CODECS = b"\x8c\x07_codecs\x8c\x06encode\x93"
_ODICT = b"\x8c\x0bcollections\x8c\x0bOrderedDict\x93"
_NONE_ITEMS = b"N}\x8c\x05itemsNs\x86"   # state (None, {'items': None}) for BUILD's setattr


# ---------------------------------------------------------------- the files, by class

def shared_kwargs(d: Path) -> Path:
    return _nvidia(d / "nvidia_kwargs_dag.pkl", {"G_ema": nvidia_generator({**SMALL_SG2, "extra": dag()})})


def shared_dataset_path(d: Path) -> Path:
    return _nvidia(d / "nvidia_dataset_dag.pkl", {"G_ema": nvidia_generator(SMALL_SG2),
                                                  "training_set_kwargs": {"path": dag()}})


def shared_cycle(d: Path) -> Path:
    return _nvidia(d / "nvidia_kwargs_cycle.pkl", {"G_ema": nvidia_generator({**SMALL_SG2, "loop": cycle()})})


def shared_string(d: Path) -> Path:
    # One 64 KB string referenced 2**20 times through a DAG: cheap to store, 64 GB to print.
    s = "x" * 65536
    x: list = [s]
    for _ in range(20):
        x = [x, x]
    return _nvidia(d / "nvidia_shared_string.pkl", {"G_ema": nvidia_generator({**SMALL_SG2, "note": x})})


def shared_lucidrains_version(d: Path) -> Path:
    return _write(d / "lucidrains_version_dag.pt", torch_bytes({"GAN": lucidrains_gan_state(), "version": dag()}))


def _dag_key_pickle(depth: int = 64, prefix: bytes = b"") -> bytes:
    """{<prefix items>, <64-level shared tuple>: 1}, written by hand: building the dict in
    Python would hash the key, which is exactly what never finishes."""
    key = b")q\x01" + b"h\x01h\x01\x86q\x01" * depth
    return b"\x80\x02}q\x00" + prefix + key + b"K\x01s."


def shared_dcgan_key(d: Path) -> Path:
    blob = torch_bytes({"main.0.weight": torch.zeros(1)})
    return _write(d / "dcgan_key_dag.pth", rezip(blob, {"data.pkl": _dag_key_pickle()}))


def shared_deep_tuple_key(d: Path) -> Path:
    # A key nested 3,000,000 tuples deep (3 MB): hashing it overflows the C stack (a segfault).
    key = b")" + b"\x85" * 3_000_000
    blob = torch_bytes({"main.0.weight": torch.zeros(1)})
    return _write(d / "dcgan_deep_tuple_key.pth", rezip(blob, {"data.pkl": b"\x80\x02}" + key + b"K\x01s."}))


def shared_many_items(d: Path) -> Path:
    # 3 million small integers in one list (6 MB): minutes and gigabytes to unpickle as objects.
    body = b"\x80\x02}X\x05\x00\x00\x00G_ema]" + (b"(" + b"K\x01" * 1000 + b"e") * 3000 + b"s."
    return _write(d / "nvidia_many_items.pkl", body + b" torch_utils.persistence")


def shared_nvidia_key(d: Path) -> Path:
    head = b"X\x05\x00\x00\x00G_emaq\x02X\x17\x00\x00\x00torch_utils.persistenceq\x03s"
    return _write(d / "nvidia_key_dag.pkl", _dag_key_pickle(prefix=head))


def shared_rosinality_args(d: Path) -> Path:
    ref = torch.load(FIXTURES / "rosinality_32.pt", weights_only=True, map_location="cpu") \
        if (FIXTURES / "rosinality_32.pt").is_file() else {"g_ema": {"input.input": torch.zeros(1, 4, 4, 4),
                                                                     "style.1.weight": torch.zeros(4, 4)}}
    ref["args"] = argparse.Namespace(size=32, note=dag())
    return _write(d / "rosinality_args_dag.pt", torch_bytes(ref))


def shared_deep(d: Path) -> Path:
    x: list = []
    for _ in range(5_000):     # deeper than Python's recursion limit: naive walkers would crash
        x = [x]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)   # pickle's writer recurses; our reader must not
    try:
        return _nvidia(d / "nvidia_deep.pkl", {"G_ema": nvidia_generator({**SMALL_SG2, "deep": x})})
    finally:
        sys.setrecursionlimit(old)


def size_native_resolution(d: Path) -> Path:
    return _native_with(d / "native_huge_resolution.safetensors",
                        lambda m: m["nets"]["G"]["kwargs"].update(img_resolution=1 << 20))


def size_native_many_nets(d: Path) -> Path:
    # Thousands of networks described (each would be built and loaded in turn).
    return _native_with(d / "native_many_nets.safetensors",
                        lambda m: m["nets"].update({f"G{i}": m["nets"]["G"] for i in range(5000)}))


def size_native_channels(d: Path) -> Path:
    # Within every named limit, but 8192-channel layers the file holds no weights for.
    return _native_with(d / "native_wide.safetensors",
                        lambda m: m["nets"]["G"]["kwargs"].update(channels=[8192, 8192, 4096],
                                                                  channel_max=8192, ngf=4096))


def size_nvidia_wdim(d: Path) -> Path:
    return _nvidia(d / "nvidia_huge_wdim.pkl", {"G_ema": nvidia_generator({**SMALL_SG2, "w_dim": 1 << 20})})


def size_nvidia_within_limits(d: Path) -> Path:
    # Every setting within limits, yet a network of several GB declared by a 2 KB file.
    kw = dict(z_dim=4096, c_dim=0, w_dim=4096, img_resolution=4096, img_channels=3,
              mapping_kwargs={"num_layers": 8}, synthesis_kwargs={"channel_base": 1 << 20, "channel_max": 8192})
    return _nvidia(d / "nvidia_big_declared.pkl", {"G_ema": nvidia_generator(kw)})


def size_safetensors_shape(d: Path) -> Path:
    # A native file whose header gives a weight 1000x the shape its bytes can hold.
    path = save_tiny_dcgan(d / "native_shape_beyond_data.safetensors")
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header["G.main.0.weight"]["shape"][0] *= 1000
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return _write(path, struct.pack("<Q", len(raw)) + raw + data[8 + n:])


def size_dcgan_stride0(d: Path) -> Path:
    # Every weight a stride-0 view of one float: a 720 M-parameter DCGAN in a few KB.
    one = torch.zeros(1)
    chans = [100, 8192, 4096, 2048, 1024, 3]
    sd = {}
    for j in range(5):
        sd[f"main.{3 * j}.weight"] = one.expand(chans[j], chans[j + 1], 4, 4)
        if j < 4:
            for name in ("weight", "bias", "running_mean", "running_var"):
                sd[f"main.{3 * j + 1}.{name}"] = one.expand(chans[j + 1])
    return _write(d / "dcgan_stride0.pth", torch_bytes(sd))


def size_dcgan_overlap(d: Path) -> Path:
    # Overlapping strides (each step moves one element in every dimension).
    base = torch.zeros(10_000)
    _, sd = dcgan_state()
    w = sd["main.0.weight"]
    sd["main.0.weight"] = base.as_strided((4096, w.shape[1], 4, 4), (1, 1, 1, 1))
    return _write(d / "dcgan_overlap.pth", torch_bytes(sd))


def size_dcgan_legacy_stride0(d: Path) -> Path:
    _, sd = dcgan_state()
    sd["main.0.weight"] = torch.zeros(1).expand(4096, sd["main.0.weight"].shape[1], 4, 4)
    return _write(d / "dcgan_legacy_stride0.pth", torch_bytes(sd, legacy=True))


def size_nvidia_stride0(d: Path) -> Path:
    const = torch.zeros(1).expand(4096, 4, 4)
    return _nvidia(d / "nvidia_stride0.pkl", {"G_ema": nvidia_generator(SMALL_SG2, {"const": const})})


def size_zip_bomb(d: Path) -> Path:
    # 400 MB of zeros deflated into a few hundred KB, as the storage of a DCGAN weight.
    _, sd = dcgan_state()
    n = 100_000_000
    sd["main.0.weight"] = torch.zeros(8)
    blob = torch_bytes(sd)
    z = zipfile.ZipFile(io.BytesIO(blob))
    pkl = next(i.filename for i in z.infolist() if i.filename.endswith("data.pkl"))
    data = z.read(pkl)
    key = next(i.filename.rsplit("/", 1)[1] for i in z.infolist() if "/data/" in i.filename
               and z.getinfo(i.filename).file_size == 32)
    # The storage of that tensor now claims n floats; its member holds them, deflated.
    data = data.replace(b"K\x08t", b"J" + n.to_bytes(4, "little") + b"t", 1)
    return _write(d / "zip_bomb.pth", rezip(blob, {pkl: data, f"data/{key}": bytes(4 * n)},
                                            deflate=(f"data/{key}",)))


def size_nested_zip_storage(d: Path) -> Path:
    # NVIDIA storages are legacy streams; a zip inside one could be a bomb and is refused.
    class _Storage:
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (torch_bytes(torch.zeros(4)),))
    g = nvidia_generator(SMALL_SG2, {"const": torch.zeros(4, 4, 4)})
    return _nvidia(d / "nvidia_nested_zip.pkl", {"G_ema": g, "extra": _Storage()})


def size_legacy_declared_numel(d: Path) -> Path:
    # A nested legacy storage stream whose header claims 2**30 floats but holds 4.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # TypedStorage: what NVIDIA's pickles hold
        inner = bytearray(torch_bytes(torch.zeros(4).storage(), legacy=True))

    class _Storage:
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (bytes(inner),))
    i = inner.find(b"K\x04", inner.find(b"cpu"))   # the persistent id's numel: BININT1 4
    inner[i:i + 2] = b"J" + (1 << 30).to_bytes(4, "little")
    return _nvidia(d / "nvidia_legacy_numel.pkl", {"G_ema": nvidia_generator(SMALL_SG2), "s": _Storage()})


def poison_easydict(d: Path) -> Path:
    return _write(d / "poison_easydict_items.pkl", _poison(_EASYDICT + _NONE_ITEMS + b"b"))


def poison_function_defaults(d: Path) -> Path:
    state = b"N}\x8c\x0c__defaults__\x8c\x05utf-8\x85s\x86"
    return _write(d / "poison_function_defaults.pkl", _poison(_CODECS + state + b"b"))


def poison_function_dict(d: Path) -> Path:
    state = b"}\x8c\x04evil\x88s"   # BUILD with a plain dict state: func.__dict__.update
    return _write(d / "poison_function_dict.pkl", _poison(_CODECS + state + b"b"))


def poison_class_items(d: Path) -> Path:
    return _write(d / "poison_setitem_class.pkl", _poison(_ODICT + b"\x8c\x01kK\x01s"))


def poison_newobj(d: Path) -> Path:
    # NEWOBJ on numpy.dtype (our inert stand-in) with no arguments, then BUILD on it.
    return _write(d / "poison_newobj.pkl", _poison(b"\x8c\x05numpy\x8c\x05dtype\x93)\x81" + _NONE_ITEMS + b"b"))


def nonfinite_native(d: Path) -> Path:
    path = save_tiny_dcgan(d / "native_nan.safetensors")
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(path))
    w = tensors["G.main.0.weight"]
    w.view(-1)[:3] = float("nan")
    w.view(-1)[3] = float("inf")
    save_file(tensors, str(path), metadata=meta)
    return path


def nonfinite_dcgan(d: Path) -> Path:
    _, sd = dcgan_state()
    sd["main.1.running_var"][:] = float("inf")
    return _write(d / "dcgan_inf_running_var.pth", torch_bytes(sd))


def message_unsafe_opcode(d: Path) -> Path:
    # A torch zip whose pickle uses an opcode torch's safe unpickler refuses (INST).
    blob = torch_bytes({"main.0.weight": torch.zeros(1)})
    z = zipfile.ZipFile(io.BytesIO(blob))
    pkl = next(i.filename for i in z.infolist() if i.filename.endswith("data.pkl"))
    bad = b"\x80\x02(i__main__\nX\n."
    return _write(d / "torch_inst_opcode.pt", rezip(blob, {pkl: bad}))


def message_damaged_safetensors(d: Path) -> Path:
    path = save_tiny_dcgan(d / "native_damaged_header.safetensors")
    data = bytearray(path.read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    cut = data[: 8 + n]
    cut[8 + n - 40: 8 + n] = b" " * 40   # the JSON loses its end
    return _write(path, bytes(cut) + bytes(data[8 + n:]))


# class -> builders; every file of every class but "nonfinite" is refused.
CLASSES: dict[str, list[Callable[[Path], Path]]] = {
    "shared": [shared_kwargs, shared_dataset_path, shared_cycle, shared_string, shared_lucidrains_version,
               shared_dcgan_key, shared_deep_tuple_key, shared_many_items, shared_nvidia_key,
               shared_rosinality_args, shared_deep],
    "size": [size_native_resolution, size_native_many_nets, size_native_channels, size_safetensors_shape,
             size_nvidia_wdim, size_nvidia_within_limits, size_dcgan_stride0, size_dcgan_overlap,
             size_dcgan_legacy_stride0, size_nvidia_stride0, size_zip_bomb, size_nested_zip_storage,
             size_legacy_declared_numel],
    "poison": [poison_easydict, poison_function_defaults, poison_function_dict, poison_class_items,
               poison_newobj],
    "message": [message_unsafe_opcode, message_damaged_safetensors],
    "nonfinite": [nonfinite_native, nonfinite_dcgan],
}
REFUSED = [b for cls, bs in CLASSES.items() if cls != "nonfinite" for b in bs]
ALL = [b for bs in CLASSES.values() for b in bs]


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [build(folder) for build in ALL]


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1])):
        print(p, p.stat().st_size)


# ---------------------------------------------------------------- full-size files (measuring)

def persistent_module(net: torch.nn.Module, kwargs: dict | None = None) -> object:
    """`net` as NVIDIA's persistence would pickle it: class name, parameters, buffers and
    submodules (recursively); the top level also records its constructor kwargs."""
    mods = {name: persistent_module(m) for name, m in net._modules.items() if m is not None}
    extra = {"_init_args": (), "_init_kwargs": kwargs} if kwargs is not None else {}
    return persistent(type(net).__name__, module_state(
        {k: v.detach() for k, v in net._parameters.items() if v is not None},
        {k: v for k, v in net._buffers.items() if v is not None}, mods, **extra))


def big_nvidia_snapshot(path: Path, resolution: int = 1024, hostile: bool = False) -> Path:
    """A StyleGAN2 config-f snapshot the size of the real 1024 px ones (G, G_ema and a
    discriminator-sized extra), written from our own network. `hostile`: G_ema's kwargs
    carry a shared-reference bomb as well."""
    from ganexplorer.models.stylegan2 import StyleGAN2Generator
    kw = dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=resolution, img_channels=3,
              mapping_kwargs={"num_layers": 8}, synthesis_kwargs={"channel_base": 32768, "channel_max": 512})
    G = StyleGAN2Generator(**kw)
    ema_kw = {**kw, "bomb": dag()} if hostile else kw
    d_weights = {f"w{i}": torch.randn(512, 512, 3, 3) for i in range(12)}   # ~113 MB, like D
    snap = {"G": persistent_module(G, kw), "G_ema": persistent_module(G, ema_kw),
            "D": persistent("Discriminator", module_state(d_weights, _init_args=(), _init_kwargs={})),
            "training_set_kwargs": {"path": "~/datasets/ffhq.zip"}}
    return _nvidia(path, snap)
