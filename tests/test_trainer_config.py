"""TrainConfig validation and the trainer's command line (no training here)."""
from __future__ import annotations

import json

import pytest

from trainer.__main__ import main
from trainer.config import PRESETS, TrainConfig, from_preset


def test_presets_are_valid():
    for name in PRESETS:
        cfg = from_preset(name, data="digits", out="run")
        assert cfg.validate() == [], name


@pytest.mark.parametrize("field,value,flag", [
    ("batch", 0, "--batch"), ("kimg", -1.0, "--kimg"), ("resolution", 48, "--resolution"),
    ("loss", "bce", "--loss"), ("lr_G", 0.0, "--lr-G"), ("beta2", 1.0, "--beta2"),
    ("augment", "yes", "--augment"), ("device", "tpu", "--device"), ("channels", 2, "--channels"),
    ("r1_gamma", float("nan"), "--r1-gamma"), ("snap_kimg", 0.0, "--snap-kimg"),
    ("diffaug_ops", "color,blur", "--diffaug-ops"), ("style_mixing", 1.5, "--style-mixing"),
])
def test_validation_names_the_flag(field, value, flag):
    cfg = from_preset("dcgan-32", data="digits", out="run", **{field: value})
    problems = cfg.validate()
    assert problems and any(p.startswith(flag) for p in problems), problems


def test_missing_data_and_out():
    problems = TrainConfig().validate()
    assert any(p.startswith("--data") for p in problems)
    assert any(p.startswith("--out") for p in problems)


@pytest.mark.parametrize("argv,needle", [
    (["--preset", "dcgan-32", "--data", "digits", "--out", "x", "--batch", "0"], "--batch"),
    (["--preset", "nope", "--data", "digits", "--out", "x"], "--preset"),
    (["--preset", "dcgan-32", "--data", "digits", "--out", "x", "--batch", "many"], "--batch"),
    (["--preset", "dcgan-32", "--data", "digits", "--out", "x", "--kimg", "0"], "--kimg"),
])
def test_bad_flags_exit_2_with_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as ei:
        code = main(argv)
        raise SystemExit(code)
    assert ei.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert needle in err[0]


def test_dry_run_json(capsys):
    assert main(["--preset", "dcgan-32", "--data", "digits", "--dry-run", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["config"]["preset"] == "dcgan-32" and obj["config"]["resolution"] == 32
    ds = obj["dataset"]
    assert (ds["name"], ds["count"], ds["resolution"], ds["channels"]) == ("digits", 1797, 32, 1)
    assert ds["problems"] == [] and obj["problems"] == []


def test_dry_run_reports_bad_data(tmp_path, capsys):
    assert main(["--preset", "dcgan-32", "--data", str(tmp_path), "--dry-run", "--json"]) == 1
    obj = json.loads(capsys.readouterr().out)
    assert obj["dataset"]["count"] == 0
    assert "no .png" in obj["dataset"]["problems"][0]


def test_dry_run_text(capsys):
    assert main(["--preset", "stylegan2-64", "--data", "digits", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "resolved config" in out and "arch             stylegan2" in out and "count            1797" in out
