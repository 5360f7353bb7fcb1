"""Fixtures for the Qt-free explorer core: a tiny DCGAN opened once per module, and an
Explorer on it whose submitted requests are kept in `core.sent`. Import them by name:

    from core_fixtures import core, model  # noqa: F401 (pytest fixtures)
"""
from __future__ import annotations

import pytest
from tiny_models import save_tiny_dcgan

from ganexplorer.models.registry import load_model
from ganexplorer.session.explorer import Explorer, InlineJobs


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(save_tiny_dcgan(tmp_path_factory.mktemp("m") / "tiny.safetensors"))


@pytest.fixture
def core(model, tmp_path):
    sent = []
    c = Explorer(InlineJobs(), submit=sent.append, recovery_dir=tmp_path / "recovery")
    c.sent = sent
    c.model_loaded(model)
    return c
