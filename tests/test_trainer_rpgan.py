"""R3GAN's schedules (trainer/schedules.py): their values, the config that asks for them, a run."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from tests.trainer_runs import run_all, tiny
from trainer import schedules
from trainer.__main__ import main
from trainer.config import R3GAN_RECIPE, from_preset


def test_cosine_ramp_start_middle_end():
    assert schedules.cosine_ramp(0, 1000, 2.0, 0.2) == 2.0
    assert schedules.cosine_ramp(500, 1000, 2.0, 0.2) == pytest.approx(1.1)           # half-way
    assert schedules.cosine_ramp(250, 1000, 0.0, 1.0) == pytest.approx((1 - math.cos(math.pi / 4)) / 2)
    assert schedules.cosine_ramp(1000, 1000, 2.0, 0.2) == pytest.approx(0.2)
    assert schedules.cosine_ramp(5000, 1000, 2.0, 0.2) == pytest.approx(0.2)          # held after
    vals = [schedules.cosine_ramp(n, 1000, 1.0, 0.25) for n in range(0, 1001, 50)]
    assert all(a > b for a, b in zip(vals, vals[1:]))                                 # strictly falling


def r3gan_cfg(**kw):
    return from_preset("dcgan-32", data="digits", out="run", kimg=20.0,
                       **{**R3GAN_RECIPE, "r1_gamma": 2.0, "ema_kimg": 1.0, **kw})


def test_schedule_values_at_start_middle_end():
    s = schedules.for_config(r3gan_cfg())
    assert s.length == 20_000                                   # --schedule-kimg 0: the whole run
    assert (s.gamma(0), s.gamma(10_000), s.gamma(20_000)) == pytest.approx((2.0, 1.1, 0.2))
    assert (s.lr_factor(0), s.lr_factor(10_000), s.lr_factor(20_000)) == pytest.approx((1.0, 0.625, 0.25))
    assert (s.beta2_at(0), s.beta2_at(10_000), s.beta2_at(20_000)) == pytest.approx((0.9, 0.945, 0.99))
    assert (s.ema_half_life_kimg(0), s.ema_half_life_kimg(10_000), s.ema_half_life_kimg(20_000)) == \
        pytest.approx((0.0, 0.5, 1.0))
    short = schedules.for_config(r3gan_cfg(schedule_kimg=5.0))
    assert short.length == 5000 and short.gamma(5000) == pytest.approx(0.2) == short.gamma(19_000)


def test_constant_schedule_is_none():
    assert schedules.for_config(from_preset("dcgan-64", data="digits", out="run")) is None


def test_apply_sets_both_optimisers_with_the_lazy_r1_correction():
    cfg = r3gan_cfg(r1_interval=4)
    s = schedules.for_config(cfg)
    G, D = nn.Linear(2, 2), nn.Linear(2, 2)
    opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    gamma = s.apply(opt_G, opt_D, 10_000)
    r = 4 / 5
    assert gamma == pytest.approx(1.1)
    assert opt_G.param_groups[0]["lr"] == pytest.approx(cfg.lr_G * 0.625)
    assert opt_G.param_groups[0]["betas"] == pytest.approx((0.0, 0.945))
    assert opt_D.param_groups[0]["lr"] == pytest.approx(cfg.lr_D * 0.625 * r)
    assert opt_D.param_groups[0]["betas"] == pytest.approx((0.0, 0.945 ** r))


@pytest.mark.parametrize("field,value,flag", [
    ("schedule", "linear", "--schedule"), ("schedule_kimg", -1.0, "--schedule-kimg"),
    ("schedule_kimg", float("inf"), "--schedule-kimg"), ("gamma_end", 0.0, "--gamma-end"),
    ("gamma_end", 1.5, "--gamma-end"), ("lr_end", 0.0, "--lr-end"), ("lr_end", float("nan"), "--lr-end"),
    ("beta2_start", 1.0, "--beta2-start"), ("beta2_start", 0.995, "--beta2-start"),
    ("r1_gamma", 0.0, "--r1-gamma"), ("r1_gamma", -1.0, "--r1-gamma"),
])
def test_validation_names_the_flag(field, value, flag):
    problems = r3gan_cfg(**{field: value}).validate()
    assert problems and any(p.startswith(flag) for p in problems), problems


def test_recipe_is_valid_and_dcgan32s_default():
    assert r3gan_cfg().validate() == []
    default = from_preset("dcgan-32", data="digits", out="run")
    assert (default.loss, default.schedule, default.r1_gamma, default.beta1) == ("rpgan", "cosine", 0.1, 0.0)
    # the StyleGAN2 presets keep their paper's objective
    assert from_preset("stylegan2-64", data="digits", out="run").loss == "ns"


def test_cli_refuses_before_any_work(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--preset", "dcgan-32", "--data", "digits", "--out", str(out), "--loss", "rpgan",
                 "--r1-gamma", "1", "--schedule", "cosine", "--gamma-end", "0"])
    assert code == 2 and not out.exists()
    assert capsys.readouterr().err.splitlines()[0].startswith("ganexplorer-train: error: --gamma-end")


def test_a_run_follows_the_schedule(tmp_path):
    cfg = tiny(tmp_path / "run", kimg=0.16, tick_kimg=0.016, snap_kimg=1.0, loss="rpgan", r1_gamma=1.0,
               r1_interval=1, schedule="cosine", beta1=0.0, beta2=0.99)
    events, result = run_all(cfg)
    assert result["reason"] == "done"
    lrs = [e["lr"] for e in events if e["type"] == "tick"]
    s = schedules.for_config(cfg)
    # a tick after step k reports the lr of step k, set at the images seen before it
    assert lrs[0] == pytest.approx(cfg.lr_G)
    assert lrs[-1] == pytest.approx(cfg.lr_G * s.lr_factor(160 - 16))
    assert all(a >= b for a, b in zip(lrs, lrs[1:])) and lrs[-1] < 0.3 * cfg.lr_G
