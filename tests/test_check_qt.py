"""The set-up's Qt check (tools/check_qt.py) passes on the PySide6 this project pins (issue 11)."""
import os
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "check_qt.py"


def test_installed_pyside_keeps_its_references_to_none():
    r = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert r.returncode == 0, r.stderr
    assert "no reference leak" in r.stdout or "None is immortal" in r.stdout
