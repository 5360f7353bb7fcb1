"""trainer.ship: a finished run becomes a bundled model with its recipe, metrics and floor."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from ganexplorer.models.checkpoint import load_checkpoint
from trainer import ship
from trainer_runs import run_all, tiny


def test_ship_writes_the_model_its_evidence_and_the_floor(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))   # the real-feature cache
    run = tmp_path / "run"
    ev, _ = run_all(tiny(run, kimg=0.032))
    assert ev[-1]["reason"] == "done"
    out = tmp_path / "models"
    assert ship.main([str(run), "--name", "tiny", "--title", "Tiny digits", "--out", str(out),
                      "--num-fakes", "8", "--num-reals", "8"]) == 0

    m = json.loads((out / "tiny" / "metrics.json").read_text())
    assert m["num_fakes"] == 8 and m["num_reals"] == 8 and m["step"] == ev[-1]["step"]
    # an untrained G is far from the data; other reals of the same data are not
    assert 0 <= m["floor"]["fid_real_vs_real"] < m["fid"] and m["floor"]["n"] == 8
    ck = load_checkpoint(out / "tiny.safetensors")
    assert ck.info["name"] == "Tiny digits" and ck.info["metrics"]["fid"] == m["fid"]
    assert "digits" in ck.info["dataset"] and {"G", "D"} <= set(ck.nets)
    for f in ("events.jsonl", "config.json", "samples.png"):
        assert (out / "tiny" / f).is_file(), f


def test_no_floor_where_the_data_has_too_few_images(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "twelve"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(data / f"{i}.png")
    run = tmp_path / "run"
    run_all(tiny(run, data=str(data), batch=4, kimg=0.008))
    out = tmp_path / "models"
    assert ship.main([str(run), "--name", "t", "--title", "T", "--out", str(out),
                      "--num-fakes", "4", "--num-reals", "8"]) == 0   # the floor would need 16
    m = json.loads((out / "t" / "metrics.json").read_text())
    assert "floor" not in m and m["num_reals"] == 8
