"""End-to-end training runs on tiny networks: checkpoints, resume, kill -9, NaN, full disk."""
from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganexplorer.models.registry import load_model
from trainer import loop
from trainer.config import DCGAN_OBJECTIVE, from_preset
from trainer.events import EVENT_TYPES, read_events
from trainer_runs import ROOT, run_all, tiny, trainer_env






def test_cli_run_writes_checkpoint_the_app_reads(tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "trainer", "--preset", "dcgan-32", "--data", "digits", "--kimg", "0.128",
            "--resolution", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--threads", "1",
            "--no-progress", "--out", str(run)]
    r = subprocess.run(args, cwd=ROOT, env=trainer_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "config.json").read_text())["kimg"] == 0.128
    events = list(read_events(run / "events.jsonl"))
    assert events[0]["type"] == "start" and events[-1]["type"] == "end" and events[-1]["reason"] == "done"
    assert events[0]["device"] == "cpu" and events[0]["precision"] in ("bfloat16 autocast", "float32")
    assert f"(cpu, {events[0]['precision']})" in r.stdout
    assert all(e["type"] in EVENT_TYPES and isinstance(e["time"], float) for e in events)
    ticks = [e for e in events if e["type"] == "tick"]
    assert ticks and set(ticks[0]) >= {"step", "kimg", "loss_G", "loss_D", "loss_r1", "img_per_s",
                                       "lr", "eta_s", "aug_p"}
    ckpt = run / events[-1]["last_checkpoint"]
    model = load_model(ckpt)
    assert model.G.img_resolution == 16 and model.D is not None
    assert "digits" in model.info["credit"]
    grids = [e for e in events if e["type"] == "grid"]
    assert grids and (run / grids[-1]["path"]).is_file()
    info = subprocess.run([sys.executable, "-m", "ganexplorer.cli", "info", str(ckpt)], cwd=ROOT,
                          env=trainer_env(), capture_output=True, text=True, timeout=60)
    assert info.returncode == 0 and "dcgan, 16x16" in info.stdout, info.stderr


def test_resume_continues_step_count(tmp_path):
    run = tmp_path / "run"
    ev1, res1 = run_all(tiny(run, kimg=0.096, snap_kimg=0.048))
    assert res1["step"] == 6 and ev1[-1]["reason"] == "done"
    cfg2 = tiny(run, kimg=0.192, snap_kimg=0.048, resume=str(run))
    ev2, res2 = run_all(cfg2)
    start = ev2[0]
    assert start["type"] == "start" and start["step"] == 6 and start["resumed_from"] == "resume-00000006.pt"
    assert res2["step"] == 12
    # The resumed run appends to the same log; the last K states are kept.
    assert len(find := sorted(run.glob("resume-*.pt"))) <= 3 and find[-1].name == "resume-00000012.pt"
    assert [e["type"] for e in read_events(run / "events.jsonl")].count("start") == 2


def test_refuses_to_overwrite_a_run(tmp_path):
    run_all(tiny(tmp_path / "run", kimg=0.016))
    with pytest.raises(loop.TrainError, match="--resume"):
        run_all(tiny(tmp_path / "run", kimg=0.016))


def test_sigkill_then_resume(tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "trainer", "--preset", "dcgan-32", "--data", "digits", "--kimg", "50",
            "--resolution", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--snap-kimg", "0.032",
            "--threads", "1", "--no-progress", "--out", str(run)]
    p = subprocess.Popen(args, cwd=ROOT, env=trainer_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            log = run / "events.jsonl"
            if log.exists() and sum(e["type"] == "checkpoint" for e in read_events(log)) >= 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail("no checkpoint within 120 s")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(30)
    assert not any(e["type"] == "end" for e in read_events(run / "events.jsonl"))
    last_state = sorted(run.glob("resume-*.pt"))[-1]
    saved_step = int(last_state.stem.split("-")[1])
    cfg = json.loads((run / "config.json").read_text())
    ev, res = run_all(from_preset("dcgan-32", **{**cfg, "resume": str(run), "kimg": saved_step * 16 / 1000 + 0.064}))
    assert ev[0]["step"] == saved_step
    assert res["step"] == saved_step + 4 and ev[-1]["reason"] == "done"


def test_stop_saves_and_ends_stopped(tmp_path):
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] >= 3
    ev, res = run_all(tiny(tmp_path / "run", kimg=10), stop=stop)
    assert res["step"] == 3 and ev[-1]["reason"] == "stopped"
    assert ev[-1]["last_checkpoint"] and (tmp_path / "run" / ev[-1]["last_checkpoint"]).is_file()


def test_nan_stops_and_keeps_good_checkpoint(tmp_path, monkeypatch):
    run = tmp_path / "run"
    real_g_loss = loop.losses.g_loss
    count = {"n": 0}

    def exploding(kind, fake):
        count["n"] += 1
        loss = real_g_loss(kind, fake)
        return loss * float("nan") if count["n"] > 5 else loss
    monkeypatch.setattr(loop.losses, "g_loss", exploding)
    ev, res = run_all(tiny(run, kimg=1.0, snap_kimg=0.064, tick_kimg=0.016, **DCGAN_OBJECTIVE))  # ns: g_loss
    end = ev[-1]
    assert end["reason"] == "nan" and "at step 6" in end["message"]    # the 6th step went bad
    assert end["last_checkpoint"] == "network-snapshot-000000.safetensors"
    assert "network-snapshot-000000.safetensors" in end["message"]
    # The good checkpoint was not overwritten with NaN weights.
    G = load_model(run / end["last_checkpoint"]).G
    assert all(torch.isfinite(p).all() for p in G.parameters())
    assert sorted(p.name for p in run.glob("resume-*.pt")) == ["resume-00000004.pt"]


def test_full_disk_is_a_clear_error_without_partial_files(tmp_path, monkeypatch):
    run = tmp_path / "run"

    def full(obj, f, *a, **k):
        Path(f).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(f))
    monkeypatch.setattr(loop.torch, "save", full)
    ev, _ = run_all(tiny(run, kimg=0.032))
    end = ev[-1]
    assert end["reason"] == "error" and "disk is full" in end["message"]
    assert "resume-00000002.pt" in end["message"]
    assert not list(run.glob("resume-*")) and not list(run.glob(".*"))


@pytest.mark.parametrize("amp", [False, True])
def test_stylegan2_tiny_run_with_r1_mixing_and_ada(tmp_path, monkeypatch, amp):
    # amp=True forces the bfloat16 autocast path that GPUs take, whatever this CPU supports.
    monkeypatch.setattr(loop, "amp_enabled", lambda cfg, device: amp)
    run = tmp_path / "sg2"
    cfg = from_preset("stylegan2-64", data="digits", out=str(run), resolution=16, cbase=256, cmax=16,
                      z_dim=16, w_dim=16, batch=4, kimg=0.012, snap_kimg=0.012, r1_interval=2,
                      ada_interval=1, ada_kimg=0.1, grid_size=4, progress=False, threads=1, tick_seconds=0.1)
    ev, res = run_all(cfg)
    assert ev[-1]["reason"] == "done" and res["step"] == 3
    ticks = [e for e in ev if e["type"] == "tick"]
    assert any(t["loss_r1"] is not None for t in ticks) and all(t["aug_p"] is not None for t in ticks)
    model = load_model(run / ev[-1]["last_checkpoint"])
    assert model.G.kind == "stylegan2" and model.G.img_channels == 1
    assert type(model.D).__name__ == "StyleGAN2Discriminator"
    assert torch.isfinite(model.G(torch.randn(2, 16))).all()


@pytest.mark.parametrize("loss", ["lsgan", "wgan-gp", "hinge"])
def test_other_losses_train(tmp_path, loss):
    ev, res = run_all(tiny(tmp_path / loss, kimg=0.032, loss=loss, augment="diffaug"))
    assert ev[-1]["reason"] == "done" and res["step"] == 2


def test_amp_rule_and_its_effect(tmp_path, monkeypatch):
    cpu = torch.device("cpu")
    assert loop.amp_enabled(tiny(tmp_path / "a"), cpu) == loop.bf16_native(cpu)
    assert not loop.amp_enabled(tiny(tmp_path / "a", amp=False), cpu)
    assert loop.amp_enabled(from_preset("stylegan2-64", data="digits", out=str(tmp_path / "b")), cpu) \
        == loop.bf16_native(cpu)
    # Forced on, DCGAN trains in bfloat16 autocast: finite, and not the float32 result.
    weights = {}
    for amp in (False, True):
        monkeypatch.setattr(loop, "amp_enabled", lambda cfg, device, amp=amp: amp)
        ev, res = run_all(tiny(tmp_path / f"amp{amp}", kimg=0.032))
        assert ev[-1]["reason"] == "done" and ev[0]["precision"] == ("bfloat16 autocast" if amp else "float32")
        weights[amp] = torch.cat([p.detach().flatten() for p in res["G"].parameters()])
    assert torch.isfinite(weights[True]).all()
    assert not torch.equal(weights[False], weights[True])


def test_metric_events_during_training(tmp_path):
    ev, _ = run_all(tiny(tmp_path / "m", kimg=0.016, metric_kimg=0.016, metric_samples=10))
    m = [e for e in ev if e["type"] == "metric"]
    assert len(m) == 1 and all(e["fid"] > 0 and e["num_fakes"] == 10 == e["num_reals"] for e in m)


def test_sigterm_saves_and_exits_cleanly(tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "trainer", "--preset", "dcgan-32", "--data", "digits", "--kimg", "50",
            "--resolution", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--threads", "1",
            "--tick-seconds", "0.2", "--no-progress", "--out", str(run)]
    p = subprocess.Popen(args, cwd=ROOT, env=trainer_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        log = run / "events.jsonl"
        if log.exists() and any(e["type"] == "tick" for e in read_events(log)):
            break
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    end = list(read_events(run / "events.jsonl"))[-1]
    assert end["type"] == "end" and end["reason"] == "stopped" and "--resume" in end["message"]
    assert (run / end["last_checkpoint"]).is_file() and "SIGTERM" in out


def test_snapshots_within_one_kimg_get_their_own_names(tmp_path):
    """--snap-kimg below 1: every snapshot keeps its own file (kimg plus the images beyond
    it), and --keep prunes by kimg, not by how the names happen to sort."""
    run = tmp_path / "run"
    ev, res = run_all(tiny(run, kimg=0.128, snap_kimg=0.032, keep=3))
    paths = [e["path"] for e in ev if e["type"] == "checkpoint"]
    assert paths == ["network-snapshot-000000.safetensors", "network-snapshot-000000.064.safetensors",
                     "network-snapshot-000000.096.safetensors", "network-snapshot-000000.128.safetensors"]
    grids = [e["path"] for e in ev if e["type"] == "grid"]
    assert len(set(grids)) == 4
    kept = sorted(p.name for p in run.glob("network-snapshot-*"))
    assert kept == sorted(paths[1:])    # the oldest went, though its name sorts last
    assert sorted(p.name for p in run.glob("resume-*.pt")) == ["resume-00000004.pt", "resume-00000006.pt",
                                                                 "resume-00000008.pt"]
    # Each file holds its own step's weights.
    steps = [load_model(run / p).info["provenance"]["step"] for p in paths[1:]]
    assert steps == [4, 6, 8]
    # When the whole-kimg file was pruned (--keep 1), a later snapshot within that kimg
    # still gets a name that orders after the newest.
    for p in run.glob("network-snapshot-*"):
        p.unlink()
    (run / "network-snapshot-000000.500.safetensors").write_bytes(b"")
    assert loop.kimg_label(run, 900) == "000000.900"
    assert loop.kimg_label(run, 1000) == loop.kimg_label(run, 1064) == "000001"
