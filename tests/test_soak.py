"""A day of use compressed: 20,000 slider moves and more on the real window (issue 11).

The window runs in a subprocess (tests/soak_driver.py) started through the app's own entry
point, so an interpreter abort (PySide6 6.12.0 on CPython 3.11 dies with "none_dealloc" after
about 5,000 Qt calls) fails this test with the figures so far instead of killing pytest.

Figures on this 2-core machine (PySide6 6.11.3, Python 3.11.7): 20,274 moves in 78 s idle
(133 s with other jobs running), RSS ~490 MB at start, 720-825 MB after warm-up, within 50 MB of
that at the end. With PySide6 6.12.0 the window aborts after ~1,000 moves (None's count falls
from 68,577 to 4,456 by move 1,000, then "none_dealloc", exit -6).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ganexplorer import resources

HERE = Path(__file__).resolve().parent
MOVES = 20_000
CYCLES = 8                       # model switches DCGAN <-> StyleGAN2, alternating
WARMUP_CYCLES = 2                # both models open and every view shown once
RSS_GROWTH_MB = 150              # allowed after warm-up (measured: 36-53 MB)
NONE_DROP = 200                  # allowed dip of None's count between model switches


def _models() -> tuple[Path, Path]:
    by_kind = {p.stem: p for p in resources.bundled_models()}
    dcgan = next((p for s, p in by_kind.items() if "dcgan" in s), None)
    sg2 = next((p for s, p in by_kind.items() if "stylegan2" in s), None)
    if dcgan is None or sg2 is None:
        pytest.fail(f"the bundled DCGAN and StyleGAN2 models are missing from {resources.resources_dir()}")
    return dcgan, sg2


def run_soak(tmp_path: Path, moves: int = MOVES, cycles: int = CYCLES, timeout: int = 300) -> dict:
    report = tmp_path / "soak.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    cmd = [sys.executable, str(HERE / "soak_driver.py"), "--moves", str(moves), "--cycles", str(cycles),
           "--report", str(report), *map(str, _models())]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    progress = "\n".join(line for line in r.stdout.splitlines() if line.startswith("{"))
    tail = "\n".join(line for line in r.stderr.splitlines() if "Fatal" in line or "Error" in line)
    assert r.returncode == 0, f"the window died (exit {r.returncode}) during the soak:\n{progress}\n{tail}"
    assert report.is_file(), f"the soak ended without its report:\n{progress}\n{tail}"
    out = json.loads(report.read_text())
    out["progress"] = progress
    return out


@pytest.mark.slow
def test_a_day_of_use_does_not_kill_or_bloat_the_window(tmp_path):
    r = run_soak(tmp_path)
    figures = (f"{r['moves']} moves in {r['seconds']} s, PySide6 {r['pyside']} on Python {r['python']}, "
               f"None refs {r['none_refs']}, RSS MB {r['rss_mb']}")
    print(figures)
    assert r["moves"] >= MOVES
    assert r["model_switches"] == CYCLES - 1 and r["tab_switches"] > 100
    assert r["discard_dialogs"] == CYCLES - 1               # each switch asked about the unsaved work
    assert r["undos"] > 100 and r["redos"] > 30
    seen = "\n".join(r["sliders_seen"])
    for where in ("SamplePanel/QSlider", "InterpolatePanel/QSlider", "ArithmeticPanel/QSlider",
                  "MixingPanel/QRangeSlider", "DirectionsPanel/QSlider", "DirectionsPanel/QRangeSlider"):
        assert where in seen, f"no slider of {where} was moved; seen:\n{seen}"
    if sys.version_info < (3, 12):           # from 3.12 None is immortal: its count never moves
        after_warmup = r["none_refs"][WARMUP_CYCLES]
        assert min(r["none_refs"][WARMUP_CYCLES:]) >= after_warmup - NONE_DROP, \
            f"references to None are being lost: {figures}"
    rss = r["rss_mb"]
    assert rss[-1] - rss[WARMUP_CYCLES] < RSS_GROWTH_MB, f"memory grows after warm-up: {figures}"
