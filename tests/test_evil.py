"""Checkpoints are data, never code: hostile files are refused and nothing in them runs."""
from __future__ import annotations

import io
import os
import pickle
import time

import numpy as np
import pytest
import torch

from fixtures_path import EVIL, fixture
from foreign_files import dump_nvidia_like, module_state, persistent
from ganexplorer import cli
from ganexplorer.models.errors import CheckpointError
from ganexplorer.models.registry import load_model


EVIL_FILES = ["reduce_os_system.pkl", "torch_zip_reduce.pt", "nvidia_module_src.pkl"]


@pytest.fixture
def marker(tmp_path, monkeypatch):
    path = tmp_path / "gex_evil_marker"
    monkeypatch.setenv("GEX_EVIL_MARKER", str(path))
    yield path
    assert not path.exists(), "a payload ran: the marker file was created"


def _evil(name: str):
    return fixture(f"evil/{name}")


@pytest.mark.parametrize("name", ["reduce_os_system.pkl", "torch_zip_reduce.pt"])
def test_reduce_payloads_are_refused(name, marker):
    with pytest.raises(CheckpointError) as err:
        load_model(_evil(name))
    msg = str(err.value)
    assert "refused" in msg and "posix.system" in msg and "Nothing from it was run" in msg.replace("nothing", "Nothing")
    assert not marker.exists()


def test_module_src_is_never_executed(marker):
    m = load_model(_evil("nvidia_module_src.pkl"))   # the weights are the clean fixture's
    ref = np.load(fixture("nvidia_sg2ada_skip_32_psi0.7.npz"))
    with torch.no_grad():
        img = m.G(torch.from_numpy(ref["z"]), None, psi=0.7).numpy()
    assert np.abs(img - ref["img"]).max() <= 1e-4
    assert not marker.exists()


def test_every_evil_file_through_the_cli(marker, capsys):
    present = sorted(p.name for p in EVIL.glob("*")) if EVIL.is_dir() else []
    if not present:
        pytest.skip(f"no evil fixtures under {EVIL}")
    assert set(EVIL_FILES) <= set(present)
    for name in present:
        with torch.enable_grad():
            rc = cli.main(["info", str(EVIL / name)])
        err = capsys.readouterr().err
        if name != "nvidia_module_src.pkl":
            assert rc == 2 and "refused" in err, name
            assert "Traceback" not in err
    assert not marker.exists()


# ---------------------------------------------------------------- hand-made hostile pickles

class _Reduce:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_builtins_eval_is_refused_by_name(tmp_path, marker):
    code = f"open({str(marker)!r}, 'w').write('x')"
    data = pickle.dumps({"G_ema": _Reduce(eval, (code,))}, protocol=4)
    with pytest.raises(CheckpointError, match="builtins.eval"):
        load_model(_write(tmp_path, "eval.pkl", data))


def test_payload_inside_a_tensor_storage_is_refused(tmp_path, marker):
    # NVIDIA pickles nest legacy torch.save streams; torch's own loader would unpickle them
    # with weights_only=False. Ours loads them with weights_only=True.
    inner = pickle.dumps(_Reduce(os.system, (f"touch {marker}",)), protocol=2)
    with_storage = _Reduce(torch.storage._load_from_bytes, (inner,))
    G = persistent("Generator", module_state({"x": with_storage}, _init_args=(), _init_kwargs={}))
    data = dump_nvidia_like({"G_ema": G})
    with pytest.raises(CheckpointError, match=r"refused.*(posix|os)\.system"):
        load_model(_write(tmp_path, "storage.pkl", data))


def test_numpy_object_dtype_is_refused(tmp_path):
    # numpy.core.multiarray.scalar(dtype('O8'), b'AAAAAAAA') would turn bytes into a pointer.
    data = (b"\x80\x04\x8c\x15numpy.core.multiarray\x94\x8c\x06scalar\x94\x93\x94"
            b"\x8c\x05numpy\x94\x8c\x05dtype\x94\x93\x94\x8c\x02O8\x94\x89\x88\x87\x94R\x94"
            b"C\x08AAAAAAAA\x94\x86\x94R\x94.")
    data += b"G_ema torch_utils.persistence"   # after STOP: only makes it sniff as NVIDIA's
    with pytest.raises(CheckpointError, match="not a plain numeric type"):
        load_model(_write(tmp_path, "objdtype.pkl", data))


def test_shared_reference_bomb_finishes_quickly(tmp_path):
    # 60 levels of [x, x]: 2**60 paths through shared objects; walked once each.
    x: list = []
    for _ in range(60):
        x = [x, x]
    data = pickle.dumps({"G_ema": x, "torch_utils.persistence": 1}, protocol=4)
    t = time.monotonic()
    with pytest.raises(CheckpointError):
        load_model(_write(tmp_path, "dag.pkl", data))
    assert time.monotonic() - t < 5


def test_huge_length_claims_are_refused(tmp_path):
    # BINBYTES8 claiming 2**62 bytes, in a pickle that sniffs as an NVIDIA snapshot.
    data = b"\x80\x04\x8c\x05G_ema\x94" + b"\x8e" + (2 ** 62).to_bytes(8, "little") + b"xx"
    data += b"torch_utils.persistence"
    with pytest.raises(CheckpointError):
        load_model(_write(tmp_path, "huge.pkl", data))


def test_torch_zip_with_a_pickled_module_is_refused_with_advice(tmp_path):
    path = tmp_path / "whole_model.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(CheckpointError, match=r"torch\.nn\.modules.*state_dict"):
        load_model(path)


def test_truncated_and_empty_files(tmp_path):
    good = fixture("nvidia_sg2ada_skip_32.pkl").read_bytes()
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        load_model(_write(tmp_path, "cut.pkl", good[: len(good) // 2]))
    with pytest.raises(CheckpointError, match="empty"):
        load_model(_write(tmp_path, "empty.pt", b""))
    buf = io.BytesIO()
    torch.save({"g_ema": {}}, buf)
    with pytest.raises(CheckpointError):
        load_model(_write(tmp_path, "cut.pt", buf.getvalue()[:200]))
