"""--init: a run whose first weights come from a checkpoint (StyleGAN2-ADA's resume from a pickle)."""
from __future__ import annotations

import pytest
import torch

from ganexplorer.models.checkpoint import load_checkpoint
from trainer.__main__ import config_from_args
from trainer.config import from_preset
from trainer.loop import TrainError
from trainer_runs import run_all, tiny


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    run = tmp_path_factory.mktemp("first") / "run"
    ev, _ = run_all(tiny(run, kimg=0.032))
    assert ev[-1]["reason"] == "done"
    return run / ev[-1]["last_checkpoint"]


def test_init_starts_from_the_checkpoints_G_and_D(tmp_path, snapshot):
    ckpt = load_checkpoint(snapshot)
    # lr 1e-12: one step leaves the weights where they started, to float tolerance
    ev, res = run_all(tiny(tmp_path / "two", kimg=0.016, init=str(snapshot), lr_G=1e-12, lr_D=1e-12, ema_kimg=0))
    assert ev[-1]["reason"] == "done" and res["step"] == 1
    for name, net in (("G", res["G"]), ("G", res["G_ema"]), ("D", res["D"])):
        theirs = ckpt.nets[name].state_dict()
        for k, v in net.state_dict().items():
            if v.is_floating_point() and "running" not in k:       # BatchNorm stats move in train mode
                assert torch.allclose(v.float(), theirs[k].float(), atol=1e-6), (name, k)
    # without --init the same seed starts elsewhere
    _, fresh = run_all(tiny(tmp_path / "fresh", kimg=0.016, lr_G=1e-12, lr_D=1e-12, ema_kimg=0))
    k = next(iter(ckpt.nets["G"].state_dict()))
    assert not torch.allclose(fresh["G"].state_dict()[k], ckpt.nets["G"].state_dict()[k])


def test_init_with_other_networks_names_the_flag(tmp_path, snapshot):
    with pytest.raises(TrainError, match=r"--init .*does not match this run's networks.*config.json"):
        run_all(tiny(tmp_path / "wide", kimg=0.016, init=str(snapshot), ngf=16))


def test_init_of_a_missing_or_damaged_file_is_refused(tmp_path):
    problems = tiny(tmp_path / "x", init=str(tmp_path / "nope.safetensors")).validate()
    assert any("--init" in p and "no such checkpoint" in p for p in problems)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(TrainError, match="--init bad.safetensors"):
        run_all(tiny(tmp_path / "y", kimg=0.016, init=str(bad)))


def test_ada_p_sets_the_starting_augmentation(tmp_path):
    cfg = from_preset("stylegan2-64", data="digits", out=str(tmp_path / "sg2"), resolution=16, cbase=256, cmax=16,
                      z_dim=16, w_dim=16, batch=4, kimg=0.008, ada_p=0.5, ada_kimg=1e5, grid_size=4,
                      progress=False, threads=1, tick_seconds=0.01)
    ev, _ = run_all(cfg)
    ticks = [e for e in ev if e["type"] == "tick"]
    assert ticks and all(abs(t["aug_p"] - 0.5) < 1e-3 for t in ticks)
    assert any("--ada-p" in p for p in from_preset("stylegan2-64", data="digits", out="o", ada_p=1.5).validate())


def test_a_resumed_run_no_longer_needs_its_init_file(tmp_path, snapshot):
    import shutil
    first = tmp_path / "first.safetensors"
    shutil.copy(snapshot, first)
    run = tmp_path / "ft"
    ev, _ = run_all(tiny(run, kimg=0.016, init=str(first)))
    assert ev[-1]["reason"] == "done"
    first.unlink()                  # the weights now live in the run's resume state
    cfg = config_from_args(["--resume", str(run), "--kimg", "0.032"])
    assert cfg.init == str(first) and cfg.validate() == []
    ev, res = run_all(cfg)
    assert ev[-1]["reason"] == "done" and res["step"] == 2


def test_init_keeps_the_ema_half_life_from_the_first_step(tmp_path, snapshot):
    """From scratch the EMA ramp-up makes G_ema follow G early; a trained start must not lose
    its average that way (half-life 10 kimg: one step of 16 images barely moves G_ema)."""
    ckpt = load_checkpoint(snapshot).nets["G"].state_dict()
    _, res = run_all(tiny(tmp_path / "ft", kimg=0.016, init=str(snapshot), lr_G=1e-2, ema_kimg=10, ema_rampup=0.05))
    moved = ema_moved = 0.0
    for k, v in res["G"].state_dict().items():
        if v.is_floating_point() and "running" not in k:
            moved += (v.float() - ckpt[k].float()).abs().sum().item()
            ema_moved += (res["G_ema"].state_dict()[k].float() - ckpt[k].float()).abs().sum().item()
    assert moved > 0 and ema_moved < 0.01 * moved
