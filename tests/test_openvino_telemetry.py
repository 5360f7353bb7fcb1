"""OpenVINO's converter sends usage data unless a user opted out, and its sender forks from a
thread (it hung the window on a fresh home folder). Our back end keeps it off."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("openvino")

SCRIPT = """
import sys, torch
from pathlib import Path
sys.path.insert(0, {tests!r})
from tiny_models import save_tiny_dcgan
from ganexplorer.models.registry import load_model
from ganexplorer.render.backends import openvino_rt
G = load_model(save_tiny_dcgan(Path({tmp!r}) / "tiny.safetensors")).G
openvino_rt.convert(G, (1, G.num_ws, G.w_dim), "const", Path({tmp!r}) / "graph")
print("telemetry module:", sys.modules.get("openvino_telemetry"))
"""


def test_converting_a_graph_sends_no_telemetry(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")}
    env["HOME"] = str(home)                     # a fresh user: no opt-out file
    code = SCRIPT.format(tests=os.path.dirname(__file__), tmp=str(tmp_path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "telemetry module: None" in r.stdout
    assert (tmp_path / "graph" / "model.xml").is_file()
    assert not (home / "intel").exists(), "OpenVINO's telemetry wrote its client id into the home folder"
