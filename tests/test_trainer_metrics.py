"""FID/KID: the Inception file from the wheel, its checks, and the statistics."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer import metrics


def test_inception_file_verified_and_features_shape():
    path = metrics.inception_path()
    assert path.name == "default_1.pt"
    f = metrics.features(torch.randint(0, 256, (2, 1, 32, 32), dtype=torch.uint8), torch.device("cpu"))
    assert f.shape == (2, 2048) and np.isfinite(f).all()


def test_wrong_hash_is_refused(monkeypatch):
    monkeypatch.setattr(metrics, "SHA256", "0" * 64)
    monkeypatch.setattr(metrics, "_model_cache", {})
    with pytest.raises(metrics.MetricError, match="sha256"):
        metrics.load_inception(torch.device("cpu"))


def test_nv_bilinear_keeps_constant_images():
    x = torch.full((1, 3, 8, 8), 0.25)
    y = metrics.nv_bilinear(x)
    assert y.shape == (1, 3, 299, 299) and torch.allclose(y, x.mean().expand_as(y))


def test_fid_and_kid_statistics():
    rng = np.random.RandomState(0)
    a, b = rng.randn(400, 8), rng.randn(400, 8)
    shifted = b + 3.0
    assert metrics.fid_from_features(a, b) < 0.5
    assert abs(metrics.fid_from_features(a, shifted) - 8 * 9.0) < 3.0   # |mu diff|^2 = 8 * 3^2
    assert abs(metrics.kid_from_features(a, b, num_subsets=5, max_subset_size=200)) < 0.05
    assert metrics.kid_from_features(a, shifted, num_subsets=5, max_subset_size=200) > 1.0
