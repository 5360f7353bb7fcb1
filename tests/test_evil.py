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


# ---------------------------------------------------------------- classes of hostile files (issue 12)

import signal                                                   # noqa: E402
import types                                                    # noqa: E402

import hostile_files                                            # noqa: E402
from ganexplorer.models import registry                         # noqa: E402
from ganexplorer.models.budget import AllocationBudget          # noqa: E402
from ganexplorer.models.fit import load_state                   # noqa: E402
from ganexplorer.models.formats import safe_pickle              # noqa: E402
from ganexplorer.models.messages import shorten, tidy           # noqa: E402
from ganexplorer.models.tensor_checks import check_tensor, check_view  # noqa: E402
from ganexplorer.models.untrusted import brief, check_tree      # noqa: E402

LIMIT_S = 10


class _Slow(BaseException):
    pass


def _load_within(path, seconds=LIMIT_S):
    def alarm(signum, frame):
        raise _Slow(f"{path.name} took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return load_model(path)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _one_sentence(msg: str) -> None:
    assert msg.endswith((".", "…")) and "\n" not in msg and len(msg) <= 420, msg
    assert "weights_only" not in msg and "Traceback" not in msg, msg
    assert "torch.Size([" not in msg, msg


WORDS = {"shared": r"refused to load.*(shared references|loop|nested|tuple|pickle instructions)",
         "size": (r"refused to load|declares|layer .* in the file but the architecture needs|cannot be built"
                  r"|storage inside the pickle is damaged|safetensors header is damaged"),
         "poison": r"refused to load: the pickle (sets the state|adds items|creates)",
         "message": r"could not be read safely \(unsupported pickle opcode|safetensors header is damaged"}


@pytest.mark.parametrize("cls,build", [(c, b) for c, bs in hostile_files.CLASSES.items() if c != "nonfinite"
                                       for b in bs], ids=lambda v: getattr(v, "__name__", v))
def test_hostile_file_is_refused_quickly_in_one_sentence(cls, build, tmp_path, marker):
    path = build(tmp_path)
    with pytest.raises(CheckpointError, match=WORDS[cls]) as err:
        _load_within(path)
    _one_sentence(str(err.value))


def _allowed_state():
    return {key: (getattr(v, "__defaults__", None), dict(getattr(v, "__dict__", {}))
                  if not isinstance(v, type) else dict(vars(v)))
            for key, v in safe_pickle.ALLOWED.items()}


def test_hostile_files_leave_the_next_good_load_unaffected(tmp_path):
    before = _allowed_state()
    for build in hostile_files.ALL:
        try:
            _load_within(build(tmp_path))
        except CheckpointError:
            pass
    assert safe_pickle.EasyDict.items is dict.items
    assert safe_pickle._codecs_encode.__defaults__ == ("utf-8",)
    assert _allowed_state() == before, "an allow-listed global was changed by a file"
    m = load_model(fixture("nvidia_sg2ada_skip_32.pkl"))
    ref = np.load(fixture("nvidia_sg2ada_skip_32_psi0.7.npz"))
    with torch.no_grad():
        img = m.G(torch.from_numpy(ref["z"]), None, psi=0.7).numpy()
    assert np.abs(img - ref["img"]).max() <= 1e-4
    assert m.warnings == [] and m.nonfinite is None


@pytest.mark.parametrize("build", hostile_files.CLASSES["nonfinite"], ids=lambda b: b.__name__)
def test_nonfinite_weights_warn_and_the_cli_refuses_unless_allowed(build, tmp_path, capsys):
    path = build(tmp_path)
    m = load_model(path)
    assert m.nonfinite and m.warnings == [m.nonfinite]
    assert "NaN or infinite" in m.nonfinite and m.describe()["warnings"] == [m.nonfinite]
    assert cli.main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert "NaN or infinite" in err and "--allow-nonfinite" in err and "Traceback" not in err
    assert cli.main(["info", "--allow-nonfinite", str(path)]) == 0


def test_views_must_fit_their_storage():
    t = torch.arange(24.0).reshape(2, 3, 4)
    check_tensor(t, "t")
    check_tensor(t.transpose(0, 2), "transposed")        # not contiguous, but no element twice
    check_tensor(t[:, 1:, ::2], "slice")
    for bad in (torch.zeros(1).expand(5, 5), t.as_strided((4, 4), (1, 1))):
        with pytest.raises(CheckpointError, match="reuses its storage"):
            check_tensor(bad, "bad")
    with pytest.raises(CheckpointError, match="beyond its storage"):
        check_view(16, 4, 2, (3,), (1,), "x")           # elements 2..4 of a 4-element storage
    check_view(16, 4, 1, (3,), (1,), "x")


def test_tree_walks_are_linear_and_loop_safe():
    dag = hostile_files.dag(64)
    t = time.monotonic()
    with pytest.raises(CheckpointError, match="shared references"):
        check_tree(dag, "x")
    assert len(brief(dag, 60)) <= 70
    assert time.monotonic() - t < 1
    with pytest.raises(CheckpointError, match="loop"):
        check_tree(hostile_files.cycle(), "x")
    assert check_tree({"a": [1, 2, (3, 4)]}, "x") == 8     # dict, 'a', list, 1, 2, tuple, 3, 4


def test_allocation_budget_refuses_before_allocating():
    with pytest.raises(CheckpointError, match="needs more than"):
        with AllocationBudget(1 << 20, "f.pkl"):
            torch.empty(1 << 40)                              # 4 TB: refused, never attempted
    with AllocationBudget(1 << 20, "f.pkl") as b:
        with torch.device("meta"):
            torch.empty(1 << 40)                              # meta tensors cost nothing
        torch.zeros(16, 16)
    assert b.used == 16 * 16 * 4


def test_state_dict_misfit_names_the_layer_and_both_shapes():
    net = torch.nn.Sequential(torch.nn.Linear(4, 3))
    with pytest.raises(CheckpointError) as err:
        load_state(net, {"0.weight": torch.zeros(3, 5), "0.bias": torch.zeros(3)}, "m.pkl")
    assert str(err.value) == ("m.pkl: layer 0.weight has shape [3, 5] in the file but the "
                              "architecture needs [3, 4].")
    with pytest.raises(CheckpointError, match=r"the file lacks layer 0\.bias that the architecture needs"):
        load_state(net, {"0.weight": torch.zeros(3, 4)}, "m.pkl")


def test_messages_drop_unsafe_advice_and_never_cut_a_token():
    torch_text = ("Weights only load failed. Re-running `torch.load` with `weights_only` set to `False` "
                  "will likely succeed, but it can result in arbitrary code execution. Do it only if you "
                  "got the file from a trusted source.")
    assert "weights_only" not in tidy(f"x.pt could not be read ({torch_text})")
    long = "x.pkl: missing " + ", ".join(f"torch.Size([{i}, {i + 1}, 3, 3])" for i in range(100))
    short = shorten(long, 120)
    assert len(short) <= 125 and short.endswith("…")
    assert not short.rstrip(" …").endswith(("[", "(", ",")) and "Size([3)" not in short
    assert short.count("(") == short.count(")") and short.count("[") == short.count("]")


def test_damaged_and_foreign_safetensors_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="the safetensors header is damaged: "):
        load_model(hostile_files.message_damaged_safetensors(tmp_path))
    from safetensors.torch import save_file
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match="safetensors file but not a GAN Explorer checkpoint"):
        load_model(tmp_path / "other.safetensors")


def test_readers_are_imported_explicitly():
    assert all(isinstance(r, types.ModuleType) for r in registry.READERS)
    assert [r.ID for r in registry.READERS][-1] == "torch"
    assert "importlib" not in open(registry.__file__).read()


def test_the_window_warns_about_nonfinite_weights_and_survives_hostile_files(qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from ui_support import WAIT_MS, make_window, open_and_wait
    w = make_window(qtbot, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    try:
        open_and_wait(qtbot, w, hostile_files.nonfinite_native(tmp_path))
        assert "NaN or infinite" in w.statusBar().currentMessage()
        good = w.current_model()
        for build in (hostile_files.poison_easydict, hostile_files.shared_kwargs, hostile_files.size_zip_bomb):
            with qtbot.waitSignal(w.modelLoadFailed, timeout=WAIT_MS) as sig:
                w.open_model(str(build(tmp_path)))
            assert "refused to load" in sig.args[0]
            assert w.current_model() is good
    finally:
        w.shutdown()
