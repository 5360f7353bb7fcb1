"""Damaged checkpoints of every format give CheckpointError, never another exception,
a hang or a crash. Hypothesis truncates files and flips bytes (derandomised: same cases
every run); each load runs under a hard wall-clock alarm."""
from __future__ import annotations

import io
import signal
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures_path import FIXTURES
from foreign_files import save_dcgan, save_lucidrains
from ganexplorer.models.errors import CheckpointError
from ganexplorer.models.registry import load_model
from tiny_models import save_tiny_dcgan


HARD_TIMEOUT_S = 10     # one load of a damaged small file takes well under a second
EXAMPLES = 40           # per format and mutation kind; the whole file stays well under a minute
WINDOW = 4096           # headers and zip directories live near the start and the end


def _valid_files(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    files["native"] = save_tiny_dcgan(root / "native.safetensors").read_bytes()
    save_dcgan(root / "dcgan_zip.pth", "netG_state_dict")
    files["dcgan-zip"] = (root / "dcgan_zip.pth").read_bytes()
    save_dcgan(root / "dcgan_legacy.pth", "bare", legacy=True)
    files["dcgan-legacy"] = (root / "dcgan_legacy.pth").read_bytes()
    path, _ = save_lucidrains(root / "models", config=None)
    files["lucidrains"] = path.read_bytes()
    for name, key in (("nvidia_sg2ada_skip_32.pkl", "nvidia-pkl"), ("rosinality_32.pt", "rosinality")):
        if (FIXTURES / name).is_file():
            files[key] = (FIXTURES / name).read_bytes()
    return files


_CACHE: dict[str, bytes] = {}


def valid(kind: str, tmp_root: Path) -> bytes:
    if not _CACHE:
        tmp_root.mkdir(parents=True, exist_ok=True)
        _CACHE.update(_valid_files(tmp_root))
    if kind not in _CACHE:
        pytest.skip(f"no valid {kind} file (shared fixture missing)")
    return _CACHE[kind]


class HardTimeout(BaseException):
    """BaseException so that no `except Exception` in the code under test can swallow it."""


def _alarm(signum, frame):
    raise HardTimeout(f"loading took longer than {HARD_TIMEOUT_S} s")


def load_damaged(data: bytes, path: Path) -> None:
    path.write_bytes(data)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HARD_TIMEOUT_S)
    try:
        try:
            model = load_model(path)
        except CheckpointError as e:
            assert str(e).strip(), "a CheckpointError needs a message"
            return
        # It loaded (the damage hit plain weight bytes): the model must still run.
        G = model.G
        with torch.no_grad():
            z = torch.zeros(1, G.z_dim)
            c = torch.zeros(1, G.c_dim) if G.c_dim else None
            G.synthesis(G.mapping(z, c))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


KINDS = ["native", "dcgan-zip", "dcgan-legacy", "lucidrains", "nvidia-pkl", "rosinality"]

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _position(draw_data, size: int) -> int:
    region = draw_data.draw(st.sampled_from(["head", "tail", "anywhere"]))
    if region == "head":
        return draw_data.draw(st.integers(0, min(WINDOW, size) - 1))
    if region == "tail":
        return draw_data.draw(st.integers(max(0, size - WINDOW), size - 1))
    return draw_data.draw(st.integers(0, size - 1))


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_truncated_files_give_checkpoint_error(kind, data, tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "fuzz_valid"
    blob = valid(kind, root)
    cut = _position(data, len(blob))
    load_damaged(blob[:max(cut, 1)], root / f"cut_{kind}.bin")


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_flipped_bytes_give_checkpoint_error(kind, data, tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "fuzz_valid"
    blob = bytearray(valid(kind, root))
    for _ in range(data.draw(st.integers(1, 8))):
        i = _position(data, len(blob))
        blob[i] = data.draw(st.integers(0, 255).filter(lambda b, old=blob[i]: b != old))
    load_damaged(bytes(blob), root / f"flip_{kind}.bin")


def test_the_harness_itself_catches_non_checkpoint_errors(tmp_path):
    # A zero-length file is refused politely; a working file loads and runs.
    with pytest.raises(CheckpointError):
        load_model(_write(tmp_path / "empty.pt", b""))
    buf = io.BytesIO()
    torch.save({"main.0.weight": torch.zeros(1)}, buf)
    load_damaged(buf.getvalue(), tmp_path / "odd.pth")   # refused: only CheckpointError


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- hostile classes (issue 12)

import hostile_files                                     # noqa: E402
from foreign_files import dcgan_state, dump_nvidia_like, lucidrains_gan_state  # noqa: E402

HOSTILE_EXAMPLES = 25
HOSTILE_SETTINGS = settings(SETTINGS, max_examples=HOSTILE_EXAMPLES)


def _shared(depth: int, fan: int, kind: str):
    x: object = 0
    for _ in range(depth):
        x = [x] * fan if kind == "list" else {f"k{i}": x for i in range(fan)} if kind == "dict" else (x,) * fan
    return x


def _hostile_file(where: str, value, root: Path) -> Path:
    if where == "nvidia-kwargs":
        data = dump_nvidia_like({"G_ema": hostile_files.nvidia_generator({**hostile_files.SMALL_SG2, "x": value})})
    elif where == "nvidia-dataset":
        data = dump_nvidia_like({"G_ema": hostile_files.nvidia_generator(hostile_files.SMALL_SG2),
                                 "training_set_kwargs": {"path": value}})
    elif where == "lucidrains-version":
        data = hostile_files.torch_bytes({"GAN": lucidrains_gan_state(), "version": value})
    else:   # a DCGAN state dict with an extra entry
        _, sd = dcgan_state()
        sd["extra"] = value
        data = hostile_files.torch_bytes(sd)
    path = root / f"hostile_{where}.bin"
    path.write_bytes(data)
    return path


@HOSTILE_SETTINGS
@given(depth=st.integers(8, 90), fan=st.integers(2, 4), kind=st.sampled_from(["list", "dict", "tuple"]),
       where=st.sampled_from(["nvidia-kwargs", "nvidia-dataset", "lucidrains-version", "dcgan-extra"]))
def test_shared_reference_bombs_finish(depth, fan, kind, where, tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "hostile"
    root.mkdir(exist_ok=True)
    path = _hostile_file(where, _shared(depth, fan, kind), root)
    load_damaged(path.read_bytes(), path)


_SG2_KEYS = ["img_resolution", "z_dim", "w_dim", "c_dim", "img_channels", "mapping_kwargs.num_layers",
             "synthesis_kwargs.channel_base", "synthesis_kwargs.channel_max"]
_DCGAN_KEYS = ["img_resolution", "z_dim", "ngf", "channel_max", "img_channels", "c_dim"]


@HOSTILE_SETTINGS
@given(data=st.data(), fmt=st.sampled_from(["nvidia", "native"]))
def test_declared_sizes_are_checked_before_building(data, fmt, tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "hostile_sizes"
    root.mkdir(exist_ok=True)
    key = data.draw(st.sampled_from(_SG2_KEYS if fmt == "nvidia" else _DCGAN_KEYS))
    value = data.draw(st.one_of(st.integers(0, 64), st.integers(0, 2 ** 40).map(lambda v: 2 ** (v.bit_length())),
                                st.integers(-5, 2 ** 62)))
    if fmt == "nvidia":
        kw = {**hostile_files.SMALL_SG2, "mapping_kwargs": {"num_layers": 1},
              "synthesis_kwargs": {"channel_base": 64, "channel_max": 8}}
        outer, _, inner = key.partition(".")
        (kw[outer].__setitem__(inner, value) if inner else kw.__setitem__(outer, value))
        path = root / "declared.pkl"
        path.write_bytes(dump_nvidia_like({"G_ema": hostile_files.nvidia_generator(kw)}))
    else:
        path = hostile_files._native_with(root / "declared.safetensors",
                                          lambda m: m["nets"]["G"]["kwargs"].update({key: value}))
    load_damaged(path.read_bytes(), path)
