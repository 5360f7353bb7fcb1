"""Where the shared checkpoint fixtures live: the repository is cloned beside `shared/`
(…/main and …/shared), so no conftest is needed to find them."""
from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
EVIL = FIXTURES / "evil"


def fixture(name: str) -> Path:
    """Path of a shared fixture file; skips the test with the reason when it is absent."""
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"shared fixture {name} not found under {FIXTURES} "
                    "(clone the repository beside the shared/ folder)")
    return path


def have_fixtures() -> bool:
    return (FIXTURES / "manifest.json").is_file()
