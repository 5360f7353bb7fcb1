"""Where the bundled files live (icons, .desktop file, shipped checkpoints).

They sit in the repository's top-level `resources/` (the Makefile's desktop install and
the README link there). The package reaches them as its data folder `ganexplorer/bundled`,
a link to `../resources`, through `importlib.resources`: in an editable install that is the
working tree's folder itself, in a wheel setuptools copies the files in (package-data
`bundled/**`), and neither needs a path built from `__file__`.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resources_dir() -> Path:
    """The bundled-files folder as a real path (Qt and the file dialogs need one)."""
    root = files("ganexplorer") / "bundled"
    if not isinstance(root, Path) or not root.is_dir():
        raise FileNotFoundError(f"GAN Explorer's bundled files are missing ({root}); "
                                "reinstall the package from a full checkout")
    return root.resolve()   # the real folder: paths shown to the user read resources/...


def icon_path(name: str = "ganexplorer.svg") -> Path:
    """An application icon by file name."""
    return resources_dir() / "icons" / name


def bundled_models() -> list[Path]:
    """Checkpoints shipped in resources/models/, sorted by name."""
    folder = resources_dir() / "models"
    return sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
