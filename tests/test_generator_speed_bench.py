"""Smoke test of bench/generator_speed.py at a tiny size: the correctness columns (each
back end's and the peer's max abs difference from the eager reference) and the table's
shape. Timings are not asserted (benchmarks are not timed tests)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "generator_speed.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("generator_speed", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_rows_report_exact_backends_and_peer(bench, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GANEXPLORER_CACHE_DIR", str(tmp_path))
    assert bench.main(["--json", "--models", "tiny-dcgan,tiny-sg2", "--rounds", "2", "--threads", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["model"]: r for r in data["rows"]}
    dc, sg = rows["tiny-dcgan"], rows["tiny-sg2"]
    # The re-created pytorch/examples G holds the same weights: the same image, bit for bit.
    assert dc["peer_name"] == "pytorch/examples G" and dc["peer"]["max_abs_diff"] == 0
    for row in (dc, sg):
        assert row["reference"]["max_abs_diff"] == 0 and row["gflop"] > 0
        assert row["backends"]["eager"]["max_abs_diff"] == 0
        assert row["reference"]["p95_ms"] >= row["reference"]["median_ms"] > 0
        ov = row["backends"].get("openvino")
        if ov is not None and ov["state"] == "ready":
            assert 0 < ov["max_abs_diff"] <= data["meta"]["tolerance"]
            assert ov["speedup_vs_reference"] > 0
    assert "speedup_vs_peer" in dc["backends"]["eager"] and "peer" not in sg


def test_unknown_model_is_a_usage_error(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--models", "dcgan65"])
    assert "unknown dcgan65" in capsys.readouterr().err
