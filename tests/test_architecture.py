"""The architecture as checked rules: the import contracts (pyproject.toml), Qt only in ui,
bundled files through importlib.resources, no optional-module scaffolding, torch as a range."""
import importlib.resources
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_import_contract_is_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())      # import-linter wraps long contract names
    for contract in PYPROJECT["tool"]["importlinter"]["contracts"]:
        assert f"{contract['name']} KEPT" in out, contract["name"]


def test_the_layers_contract_is_the_documented_order():
    layers = [c for c in PYPROJECT["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert len(layers) == 1 and layers[0]["containers"] == ["ganexplorer"]
    # Every CLI module has its place, under cli.py, so a cycle among them breaks `make lint`.
    assert layers[0]["layers"] == ["__main__", "ui | cli", "cli_drag | cli_labelled", "cli_common", "session",
                                   "views", "render", "latent | export", "models", "atomic | resources | runs"]


def test_core_imports_without_qt():
    # Importing the whole core in a fresh interpreter must not pull in PySide6.
    code = ("import sys, ganexplorer.cli, ganexplorer.render.recipes, ganexplorer.latent.directions, "
            "ganexplorer.export.metadata, ganexplorer.models.registry; "
            "sys.exit(1 if any(m.startswith(('PySide6', 'pyqtgraph', 'superqt')) for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_bundled_files_are_found_through_importlib_resources():
    from ganexplorer import resources
    data = importlib.resources.files("ganexplorer") / "bundled"
    assert data.is_dir() and Path(str(data)).resolve() == (ROOT / "resources").resolve()
    assert resources.resources_dir() == (ROOT / "resources").resolve()
    assert resources.icon_path().is_file() and resources.icon_path().suffix == ".svg"
    assert [p.name for p in resources.bundled_models()] == sorted(
        p.name for p in (ROOT / "resources" / "models").glob("*.safetensors"))
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["ganexplorer"]
    assert "bundled/**/*" in patterns and all((ROOT / "ganexplorer" / p.split("/")[0]).exists() for p in patterns)


def test_a_broken_discriminator_module_fails_loudly(monkeypatch):
    # A module that cannot be imported must surface as that ImportError, not as the
    # checkpoint's "unknown class" later on.
    import ganexplorer.models as models
    from ganexplorer.models import networks
    monkeypatch.delattr(models, "discriminator", raising=False)   # as if never imported ...
    monkeypatch.setitem(sys.modules, "ganexplorer.models.discriminator", None)   # ... and unimportable
    with pytest.raises(ImportError, match="discriminator"):
        networks.network_classes()


def test_torch_is_a_range_and_the_pin_lives_in_the_setup():
    deps = PYPROJECT["project"]["dependencies"]
    torch_spec = [d for d in deps if d.split(">")[0].split("=")[0].strip() == "torch"]
    assert torch_spec == ["torch>=2.2"]
    assert "pip install -q torch==2.13.0" in (ROOT / "Makefile").read_text()


def test_pytest_is_strict_about_markers_and_xfails():
    ini = PYPROJECT["tool"]["pytest"]["ini_options"]
    assert "--strict-markers" in ini["addopts"].split() and ini["xfail_strict"] is True
    assert any(m.startswith("slow:") for m in ini["markers"])
