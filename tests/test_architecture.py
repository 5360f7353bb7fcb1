"""House rule 1: the core never imports Qt (import-linter contract in pyproject.toml)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_only_ui_imports_qt():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "KEPT" in r.stdout


def test_core_imports_without_qt():
    # Importing the whole core in a fresh interpreter must not pull in PySide6.
    code = ("import sys, ganexplorer.cli, ganexplorer.render.recipes, ganexplorer.latent.directions, "
            "ganexplorer.export.metadata, ganexplorer.models.registry; "
            "sys.exit(1 if any(m.startswith(('PySide6', 'pyqtgraph', 'superqt')) for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
