"""For tests of the render back ends: `needs_openvino`, and `isolated_backends` (autouse once
imported): an own cache folder and settings, no saved preference, a fresh in-memory graph table.

    from backend_fixtures import isolated_backends, needs_openvino  # noqa: F401 (fixture)
"""
from __future__ import annotations

import pytest

from ganexplorer.render.backends import graphs, openvino_rt
from ganexplorer.render.backends import selection as select
from ganexplorer.render.backends import setting

needs_openvino = pytest.mark.skipif(not openvino_rt.available(), reason="OpenVINO is not installed")


@pytest.fixture(autouse=True)
def isolated_backends(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEXPLORER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANEXPLORER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("GANEXPLORER_BACKEND", raising=False)
    monkeypatch.setattr(graphs, "CACHE", graphs.GraphCache())
    monkeypatch.setattr(select, "CACHE", graphs.CACHE)
    setting.set_preference(None)
    yield
    graphs.CACHE.clear()
    setting.set_preference(None)
