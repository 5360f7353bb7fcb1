"""Where the bundled files live (icons, .desktop file, shipped checkpoints)."""
from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The repository's resources/ folder (the app is installed in editable mode)."""
    return Path(__file__).resolve().parent.parent / "resources"


def bundled_models() -> list[Path]:
    """Checkpoints shipped in resources/models/, sorted by name."""
    folder = resources_dir() / "models"
    return sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
