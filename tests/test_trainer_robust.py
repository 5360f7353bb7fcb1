"""The trainer survives an unlucky user: full disks, kills before the first save, NaNs in
buffers, decompression bombs in --data, leftovers of killed saves, torn event lines, bad
flags and runs that diverge (issue 12 items 6-11, issue 15 "Bad input")."""
from __future__ import annotations

import errno
import importlib.util
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors import SafetensorError

import ganexplorer.models.checkpoint as checkpoint_module
from ganexplorer.models.registry import load_model
from ganexplorer.runs import folder as layout
from ganexplorer.runs.events import EventLog, read_events
from trainer import loop, progress, resume_state
from trainer import run_folder as folder
from trainer.__main__ import main as trainer_main
from trainer.config import DCGAN_OBJECTIVE, from_preset
from trainer.data import DatasetError, load_dataset, summarize
from trainer_runs import ROOT, run_all, tiny, trainer_env

TINY_ARGS = ["--preset", "dcgan-32", "--data", "digits", "--resolution", "16", "--ngf", "8", "--ndf", "8",
             "--z-dim", "16", "--batch", "16", "--grid-size", "4", "--threads", "1", "--device", "cpu",
             "--no-progress"]





def _assert_nothing_partial(run: Path) -> None:
    assert layout.leftovers(run) == []
    for snap in run.glob(layout.SNAP_GLOB):
        load_model(snap)
    for state in run.glob(layout.RESUME_GLOB):
        torch.load(state, map_location="cpu", weights_only=True)


# ------------------------------------------------------------------ item 6: full disk

def _partial_then(exc):
    def write(*args, **kwargs):
        target = next(a for a in args if isinstance(a, (str, os.PathLike)))
        Path(target).write_bytes(b"partial")
        raise exc
    return write


@pytest.mark.parametrize("where", ["snapshot", "resume", "grid", "events"])
def test_every_write_path_ends_with_the_designed_line(tmp_path, monkeypatch, capsys, where):
    """Each writer's own way of saying "disk full" (SafetensorError, torch's inline_container
    RuntimeError without an errno, PIL's OSError, a failed event append) ends the run with
    the one line, exit status 2, and nothing partial."""
    run = tmp_path / "run"
    name = {"snapshot": "network-snapshot-000000.safetensors", "resume": "resume-00000002.pt",
            "grid": "grid-000000.png", "events": "events.jsonl"}[where]
    if where == "snapshot":
        monkeypatch.setattr(checkpoint_module, "save_file", lambda tensors, path, metadata=None: _partial_then(
            SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)"))(path))
    elif where == "resume":
        monkeypatch.setattr(torch, "save", lambda obj, f, *a, **k: _partial_then(
            RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534"))(f))
        monkeypatch.setattr(folder, "_free_bytes", lambda path: 4096)
    elif where == "grid":
        monkeypatch.setattr(Image.Image, "save", lambda self, fp, *a, **k: _partial_then(
            OSError(errno.ENOSPC, "No space left on device"))(fp))
    else:
        real_write, calls = EventLog.write, [0]

        def write(self, event):
            calls[0] += 1
            if calls[0] >= 3:
                self._f.write('{"type": "tick", "st')     # what a full disk leaves: a torn line
                self._f.flush()
                raise OSError(errno.ENOSPC, "No space left on device")
            real_write(self, event)
        monkeypatch.setattr(EventLog, "write", write)
    status = loop.train(tiny(run, kimg=0.064, snap_kimg=0.032, tick_kimg=0.016))
    out = capsys.readouterr().out
    assert status == 2
    line = next(ln for ln in out.splitlines() if ln.startswith("could not save"))
    assert line.startswith(f"could not save {name}: the disk is full. Nothing partial was left;")
    assert "Traceback" not in out
    monkeypatch.undo()
    _assert_nothing_partial(run)
    # all or none: no snapshot or sample grid of the failed save stays without its resume state
    saved = {p.name for p in run.glob(layout.RESUME_GLOB)}
    assert len(list(run.glob(layout.SNAP_GLOB))) == len(saved) == len(list((run / "samples").glob("*.png")))
    # With space again, the advice in the line works.
    ev, _ = run_all(tiny(run, kimg=0.064, snap_kimg=0.032, resume=str(run)) if layout.holds_run(run)
                    else tiny(run, kimg=0.064, snap_kimg=0.032))
    assert ev[0]["type"] == "start" and ev[-1]["reason"] == "done"
    assert [e["type"] for e in read_events(run / "events.jsonl")].count("start") == 2


def test_full_disk_before_the_first_event_is_the_same_line(tmp_path, monkeypatch, capsys):
    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("trainer.config.TrainConfig.save", full)
    assert trainer_main([*TINY_ARGS, "--kimg", "0.032", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "could not save config.json: the disk is full. Nothing partial was left; no checkpoint" in err


def test_write_failures_are_told_apart_from_bugs(tmp_path):
    assert folder.write_failure(OSError(errno.ENOSPC, "x"), tmp_path) == "the disk is full"
    assert folder.write_failure(OSError(errno.EACCES, "Permission denied"), tmp_path) == "Permission denied"
    assert folder.write_failure(SafetensorError("I/O error: (os error 28)"), tmp_path) == "the disk is full"
    # torch's zip writer on a folder with plenty of space: a failed write, not a full disk
    assert folder.write_failure(RuntimeError("[enforce fail at inline_container.cc:1] . file write failed"),
                                tmp_path).startswith("the write failed")
    assert folder.write_failure(RuntimeError("shape mismatch"), tmp_path) is None   # a bug: not hidden
    assert folder.write_failure(ValueError("x"), tmp_path) is None
    # the advice follows the cause
    assert "Free space and run" in folder.SaveError(tmp_path / "a.pt", "the disk is full").message(None)
    denied = folder.SaveError(tmp_path / "a.pt", "Permission denied").message("network-snapshot-000001.safetensors")
    assert denied == ("could not save a.pt: Permission denied. Nothing partial was left; the last complete "
                      "checkpoint is network-snapshot-000001.safetensors. Fix that and continue with --resume.")


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB tmpfs (needs root; skipped where mounting is not permitted)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip() or r.returncode}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(disk: Path, leave: int) -> Path:
    """Fill `disk` to the last byte, then give back `leave` bytes."""
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (64 << 10))
                f.flush()
        except OSError:
            pass
    size = filler.stat().st_size
    os.truncate(filler, max(size - leave, 0))
    return filler


@pytest.mark.slow   # two trainer processes per case (make test-fast skips it)
@pytest.mark.parametrize("leave_kb", [0, 16, 120])
def test_real_full_disk(tiny_disk, leave_kb):
    """A real 3 MB filesystem filled up to 0, 16 and 120 KB: config.json, the snapshot and
    the resume state are the writes that fail. Always exit 2 with the line, no traceback,
    nothing partial; after freeing space the run goes on in place."""
    filler = _fill(tiny_disk, leave_kb << 10)
    run = tiny_disk / "run"
    r = subprocess.run([sys.executable, "-m", "trainer", *TINY_ARGS, "--kimg", "0.064", "--snap-kimg", "0.032",
                        "--out", str(run)], cwd=ROOT, env=trainer_env(), capture_output=True, text=True, timeout=120)
    said = r.stdout + r.stderr
    assert r.returncode == 2, said
    assert "could not save " in said and ": the disk is full. Nothing partial was left;" in said, said
    assert "Traceback" not in said
    _assert_nothing_partial(run)
    filler.unlink()
    again = ["--resume", str(run), "--threads", "1"] if (run / "config.json").is_file() \
        else [*TINY_ARGS, "--kimg", "0.064", "--out", str(run)]
    r = subprocess.run([sys.executable, "-m", "trainer", *again], cwd=ROOT, env=trainer_env(), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert read_events(run / "events.jsonl")[-1]["reason"] == "done"


# ------------------------------------------------------------------ item 7: killed before the first save

@pytest.mark.parametrize("left", ["config only", "torn start", "snapshot without state"])
def test_a_run_without_a_complete_state_starts_again_in_place(tmp_path, left):
    run = tmp_path / "run"
    run.mkdir()
    cfg = tiny(run, kimg=0.032)
    if left in ("config only", "snapshot without state"):
        cfg.save(run / "config.json")
    if left == "torn start":
        (run / "events.jsonl").write_text('{"type": "start", "time": 1.0, "conf')
    if left == "snapshot without state":
        (run / "events.jsonl").write_text(json.dumps({"type": "start", "time": 1.0}) + "\n")
        ev, _ = run_all(tiny(tmp_path / "other", kimg=0.032))
        (tmp_path / "other" / ev[-1]["last_checkpoint"]).rename(run / ev[-1]["last_checkpoint"])
    assert not layout.holds_run(run)
    ev, res = run_all(cfg)                                     # --out the same folder
    assert ev[0]["step"] == 0 and ev[-1]["reason"] == "done" and res["step"] == 2
    starts = [e for e in read_events(run / "events.jsonl") if e["type"] == "start"]
    assert starts[-1]["run_dir"] == str(run.resolve())


def test_resume_without_a_complete_state_starts_from_step_0(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    tiny(run, kimg=0.032).save(run / "config.json")
    (run / "resume-00000004.pt").write_bytes(b"PK\x03\x04 torn")     # damaged: not a state
    ev, res = run_all(tiny(run, kimg=0.032, resume=str(run)))
    assert ev[0]["step"] == 0 and ev[0]["resumed_from"] is None
    assert ev[-1]["reason"] == "done" and res["step"] == 2


def _kill_bench():
    spec = importlib.util.spec_from_file_location("train_kill9", ROOT / "bench" / "train_kill9.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow   # two trainer processes per kill (make test-fast skips it)
@pytest.mark.parametrize("moment", [dict(delay=0.5), dict(when="events"), dict(when="checkpoint")])
def test_kill_9_at_any_moment_then_the_run_goes_on(tmp_path, moment):
    """kill -9 while starting, as soon as events exist, and right after the first checkpoint
    (bench/train_kill9.py does it at 20 random moments)."""
    r = _kill_bench().trial(tmp_path / "run", **moment)
    assert r["rc"] == 0, r["err"]
    assert r["leftovers"] == [] and r["end"]["reason"] == "done"


# ------------------------------------------------------------------ item 8: NaN in buffers

def _poison_running_var_after(monkeypatch, n_steps: int) -> list[str]:
    real_call, calls, poisoned = loop.TrainStep.__call__, [0], []

    def call(self, *a, **k):
        out = real_call(self, *a, **k)
        calls[0] += 1
        if calls[0] == n_steps:
            for name, buf in self.nets.D.named_buffers():
                if name.endswith("running_var"):
                    buf.fill_(float("inf"))      # what a huge learning rate does to BatchNorm
                    poisoned.append(name)
                    break
        return out
    monkeypatch.setattr(loop.TrainStep, "__call__", call)
    return poisoned


def test_nan_in_batchnorm_buffers_stops_and_names_a_finite_checkpoint(tmp_path, monkeypatch):
    run = tmp_path / "run"
    poisoned = _poison_running_var_after(monkeypatch, 5)
    ev, res = run_all(tiny(run, kimg=1.0, snap_kimg=0.064, tick_kimg=0.016))
    end = ev[-1]
    assert poisoned and end["reason"] == "nan" and "by step 5" in end["message"]
    assert end["last_checkpoint"] == "network-snapshot-000000.safetensors"
    model = load_model(run / end["last_checkpoint"])
    assert not resume_state.nonfinite_tensors(model.G) and not resume_state.nonfinite_tensors(model.D)
    assert sorted(p.name for p in run.glob("resume-*.pt")) == ["resume-00000004.pt"]


def test_last_good_means_loadable_and_finite(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run_all(tiny(run, kimg=0.096, snap_kimg=0.032))         # snapshots at steps 2, 4, 6
    snaps = [p.name for p in layout.snapshots(run)]
    states = [p.name for p in layout.find_resume(run)]       # newest first
    assert len(snaps) == 3 and len(states) == 3
    # The newest snapshot is torn, the one before holds an inf buffer: the oldest is the good one.
    data = (run / snaps[-1]).read_bytes()
    (run / snaps[-1]).write_bytes(data[: len(data) // 2])
    model = load_model(run / snaps[-2])
    for name, buf in model.D.named_buffers():
        if name.endswith("running_var"):
            buf.fill_(float("inf"))
            break
    from ganexplorer.models.checkpoint import save_checkpoint
    save_checkpoint(run / snaps[-2], {"G": model.G, "D": model.D}, model.info)
    assert folder.last_good_snapshot(run) == snaps[0]
    # The newest resume state holds an inf buffer: resuming skips it for the one before.
    state = torch.load(run / states[0], weights_only=True)
    key = next(k for k in state["D"] if k.endswith("running_var"))
    state["D"][key].fill_(float("inf"))
    torch.save(state, run / states[0])
    ev, _ = run_all(tiny(run, kimg=0.128, snap_kimg=0.032, resume=str(run)))
    assert ev[0]["resumed_from"] == states[1] and ev[0]["step"] == 4


# ------------------------------------------------------------------ item 9: decompression bombs

def _png_declaring(path: Path, width: int, height: int) -> None:
    """A tiny PNG whose header declares width x height (grey), with one short IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 100_000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture
def bomb_folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(10):
        Image.new("RGB", (20, 20), (10 * i, 0, 0)).save(data / f"ok{i}.png")
    _png_declaring(data / "bomb.png", 20000, 20000)          # PIL itself raises at open
    _png_declaring(data / "big.png", 10000, 10000)           # PIL only warns: our own limit
    return data


def test_decompression_bombs_are_named_problems(bomb_folder, capsys):
    with pytest.raises(DatasetError) as info:
        load_dataset(str(bomb_folder), resolution=16)
    text = " ".join(info.value.problems)
    assert "bomb.png" in text and "big.png (10000x10000)" in text and "megapixels" in text
    s = summarize(str(bomb_folder), 16)
    assert any("bomb.png" in p for p in s["problems"]) and s["size_histogram"] == {"20x20": 10}
    # --dry-run --json: one JSON object the wizard reads, naming the files
    assert trainer_main(["--data", str(bomb_folder), "--resolution", "16", "--dry-run", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert any("bomb.png" in p for p in report["problems"])
    assert report["dataset"]["size_histogram"] == {"20x20": 10}
    assert trainer_main(["--data", str(bomb_folder), "--resolution", "16", "--dry-run"]) == 1
    assert "bomb.png" in capsys.readouterr().out
    # training: refused before any work, naming them
    run = bomb_folder.parent / "run"
    assert trainer_main([*TINY_ARGS[4:], "--data", str(bomb_folder), "--out", str(run), "--kimg", "0.016"]) == 2
    assert "bomb.png" in capsys.readouterr().err and not run.exists()


# ------------------------------------------------------------------ items 10, 11: leftovers, torn lines

def test_leftovers_of_a_kill_are_cleaned_on_the_next_start(tmp_path):
    run = tmp_path / "run"
    run_all(tiny(run, kimg=0.032))
    left = [run / ".tmpa1b2c3d4", run / ".network-snapshot-000000.x1y2.safetensors.part.safetensors",
            run / ".resume-00000002.k9.pt.part.pt", run / "samples" / ".grid-000000.q7.png.part.png"]
    for p in left:
        p.write_bytes(b"partial")
    assert sorted(layout.leftovers(run)) == sorted(left)
    run_all(tiny(run, kimg=0.048, resume=str(run)))
    assert layout.leftovers(run) == [] and not any(p.exists() for p in left)


def test_torn_last_event_line_is_skipped_and_the_next_start_begins_on_a_new_line(tmp_path):
    run = tmp_path / "run"
    run_all(tiny(run, kimg=0.032))
    with open(run / "events.jsonl", "a") as f:
        f.write('{"type": "tick", "step": 9, "kim')          # killed mid-write
    n_before = len(read_events(run / "events.jsonl"))        # the torn line is skipped
    ev, _ = run_all(tiny(run, kimg=0.048, resume=str(run)))
    after = read_events(run / "events.jsonl")
    assert len(after) == n_before + len(ev) and after[n_before]["type"] == "start"
    lines = (run / "events.jsonl").read_text().splitlines()
    assert '{"type": "tick", "step": 9, "kim' in lines


# ------------------------------------------------------------------ bad input, divergence (issue 15)

@pytest.mark.parametrize("args,flag", [
    (["--loss", "bce"], "--loss"),
    (["--loss", "rpgan", "--r1-gamma", "0"], "--r1-gamma"),
    (["--r1-gamma", "-1"], "--r1-gamma"),
    (["--kimg", "0.001"], "--kimg"),
])
def test_bad_flags_are_refused_before_any_work(tmp_path, capsys, args, flag):
    run = tmp_path / "run"
    assert trainer_main([*TINY_ARGS, "--out", str(run), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"ganexplorer-train: error: {flag}") and not run.exists()


def test_dataset_smaller_than_the_batch_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(10):
        Image.new("RGB", (20, 20), (10 * i, 0, 0)).save(data / f"ok{i}.png")
    run = tmp_path / "run"
    args = ["--preset", "dcgan-32", "--data", str(data), "--batch", "16", "--kimg", "0.016"]
    assert trainer_main([*args, "--out", str(run)]) == 2
    assert "--batch 16 is larger than the dataset (10 images)" in capsys.readouterr().err
    assert not run.exists()
    assert trainer_main([*args, "--dry-run", "--json"]) == 1
    assert any(p.startswith("--batch 16") for p in json.loads(capsys.readouterr().out)["problems"])


def test_d_loss_stuck_at_zero_is_reported_as_divergence(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "COLLAPSE_TICKS", 3)
    monkeypatch.setattr(progress, "COLLAPSE_KIMG", 0.04)
    real_real, real_fake = loop.losses.d_loss_real, loop.losses.d_loss_fake
    # D "wins": its loss reads ~0 (scaled down, so training itself goes on unchanged in kind)
    monkeypatch.setattr(loop.losses, "d_loss_real", lambda kind, x: real_real(kind, x) * 1e-4)
    monkeypatch.setattr(loop.losses, "d_loss_fake", lambda kind, x: real_fake(kind, x) * 1e-4)
    ev, _ = run_all(tiny(tmp_path / "run", kimg=0.16, tick_kimg=0.016, **DCGAN_OBJECTIVE))  # ns: d_loss_*
    warnings = [e for e in ev if e["type"] == "warning"]
    assert len(warnings) == 1 and warnings[0]["kind"] == "d_collapse"
    assert "diverging" in warnings[0]["message"] and "--augment ada" in warnings[0]["message"]
    assert warnings in ([e for e in read_events(tmp_path / "run" / "events.jsonl") if e["type"] == "warning"],)


def test_healthy_run_has_no_divergence_warning(tmp_path):
    ev, _ = run_all(tiny(tmp_path / "run", kimg=0.096, tick_kimg=0.016))
    assert not [e for e in ev if e["type"] == "warning"]


@pytest.mark.parametrize("arch", ["dcgan", "stylegan2"])
def test_rpgan_trains_with_r1_and_r2(tmp_path, arch):
    cfg = tiny(tmp_path / "run", kimg=0.064, loss="rpgan", r1_gamma=1.0, r1_interval=1, tick_kimg=0.016) \
        if arch == "dcgan" else \
        from_preset("stylegan2-64", data="digits", out=str(tmp_path / "run"), resolution=16, cbase=256, cmax=16,
                    z_dim=16, w_dim=16, batch=4, kimg=0.012, snap_kimg=0.012, loss="rpgan", r1_gamma=1.0,
                    r1_interval=2, grid_size=4, progress=False, threads=1, tick_seconds=0.1, augment="none")
    assert cfg.validate() == []
    ev, res = run_all(cfg)
    ticks = [e for e in ev if e["type"] == "tick"]
    assert ev[-1]["reason"] == "done"
    assert any(t["loss_r1"] is not None for t in ticks) and any(t["loss_r2"] is not None for t in ticks)
    assert all(t["loss_D"] is not None and t["loss_D"] > 0 for t in ticks)
    G = load_model(tmp_path / "run" / ev[-1]["last_checkpoint"]).G
    assert torch.isfinite(G(torch.randn(2, G.z_dim))).all()
