"""Properties of the latent math (no model, no Qt)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from ganexplorer.latent import arithmetic, interp, stylemix
from ganexplorer.latent.directions import apply_direction
from ganexplorer.latent.sampling import class_labels, parse_seeds, seed_to_z, seeds_to_z

finite = st.floats(-10, 10, allow_nan=False, width=32)
vec = arrays(np.float64, 8, elements=finite)
unit_t = st.floats(0, 1)


def test_seed_matches_nvidia_convention():
    # gen_images.py: np.random.RandomState(seed).randn(1, z_dim)
    for seed in (0, 1, 123, 2**32 - 1):
        expected = np.random.RandomState(seed).randn(1, 512)[0].astype(np.float32)
        np.testing.assert_array_equal(seed_to_z(seed, 512), expected)
    np.testing.assert_array_equal(seeds_to_z([3, 4], 7)[1], seed_to_z(4, 7))


def test_seed_out_of_range():
    with pytest.raises(ValueError, match="seed"):
        seed_to_z(-1, 4)
    with pytest.raises(ValueError):
        seed_to_z(2**32, 4)


def test_parse_seeds():
    assert parse_seeds("0-3,7,10-11") == [0, 1, 2, 3, 7, 10, 11]
    assert parse_seeds(" 5 ") == [5]
    for bad, words in [("5-2", "backwards"), ("a", "not a seed"), ("", "no seeds"), ("1,,2", "not a seed")]:
        with pytest.raises(ValueError, match=words):
            parse_seeds(bad)


def test_class_labels_one_hot():
    c = class_labels([0, 1, 5], 3)
    np.testing.assert_array_equal(c.argmax(1), [0, 1, 2])
    assert c.sum() == 3


@given(vec, vec)
def test_lerp_and_slerp_exact_at_ends(a, b):
    for f in (interp.lerp, interp.slerp):
        np.testing.assert_array_equal(f(a, b, 0.0), a)
        np.testing.assert_array_equal(f(a, b, 1.0), b)


@given(vec, unit_t)
def test_slerp_identical_vectors_stay_put(a, t):
    np.testing.assert_allclose(interp.slerp(a, a, t), a, atol=1e-9)


@given(vec.filter(lambda v: np.linalg.norm(v) > 1e-3), unit_t)
def test_slerp_opposite_vectors_keeps_norm_and_is_finite(a, t):
    out = interp.slerp(a, -a, t)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(np.linalg.norm(out), np.linalg.norm(a), rtol=1e-9)


@given(vec.filter(lambda v: np.linalg.norm(v) > 1e-3), vec.filter(lambda v: np.linalg.norm(v) > 1e-3), unit_t)
def test_slerp_norm_is_linear_and_direction_on_the_arc(a, b, t):
    out = interp.slerp(a, b, t)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    np.testing.assert_allclose(np.linalg.norm(out), (1 - t) * na + t * nb, rtol=1e-7, atol=1e-9)
    # The angle to a grows linearly with t along the great circle.
    ua, ub, uo = a / na, b / nb, out / max(np.linalg.norm(out), 1e-12)
    omega = np.arccos(np.clip(ua @ ub, -1, 1))
    if 1e-3 < omega < np.pi - 1e-3:
        np.testing.assert_allclose(np.arccos(np.clip(ua @ uo, -1, 1)), t * omega, atol=1e-6)


@given(vec, vec, unit_t)
def test_lerp_is_affine(a, b, t):
    np.testing.assert_allclose(interp.lerp(a, b, t), a + t * (b - a), atol=1e-9)


def test_slerp_is_different_from_lerp_between_orthogonal_vectors():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(interp.slerp(a, b, 0.5), [np.sqrt(0.5)] * 2)
    np.testing.assert_allclose(interp.lerp(a, b, 0.5), [0.5, 0.5])


@given(st.integers(2, 5), st.integers(2, 30), st.booleans(), st.sampled_from(["lerp", "slerp"]))
@settings(max_examples=40)
def test_path_hits_its_points(n_points, steps, loop, method):
    pts = [np.random.RandomState(i).randn(6).astype(np.float32) for i in range(n_points)]
    frames = interp.path(pts, steps, method, loop)
    assert frames.shape == (steps, 6)
    np.testing.assert_allclose(frames[0], pts[0], atol=1e-6)
    if not loop:
        np.testing.assert_allclose(frames[-1], pts[-1], atol=1e-6)


def test_path_needs_two_points():
    with pytest.raises(ValueError):
        interp.path([np.zeros(3)], 5)


@given(arrays(np.float64, (3, 4), elements=finite), arrays(np.float64, (2, 4), elements=finite))
def test_arithmetic_is_signed_sum_of_means(g1, g2):
    out = arithmetic.arithmetic([g1, g2], [1, -1])
    np.testing.assert_allclose(out, g1.mean(0) - g2.mean(0), atol=1e-9)


def test_neighbours_reproducible_and_scaled():
    c = np.ones(16, np.float32)
    a = arithmetic.neighbours(c, 8, 0.5, seed=3)
    np.testing.assert_array_equal(a, arithmetic.neighbours(c, 8, 0.5, seed=3))
    assert a.shape == (8, 16)
    assert not np.array_equal(a, arithmetic.neighbours(c, 8, 0.5, seed=4))
    np.testing.assert_allclose((a - c).std(), 0.5, rtol=0.2)
    np.testing.assert_array_equal(arithmetic.neighbours(c, 3, 0.0), np.ones((3, 16)))


def test_style_ranges_follow_the_paper():
    # 1024x1024: 18 ws; coarse 0-3, middle 4-7, fine 8-17 (Karras et al. 2019).
    assert stylemix.layer_ranges(18, 1024) == {"coarse": (0, 4), "middle": (4, 8), "fine": (8, 18)}
    assert stylemix.layer_ranges(8, 32) == {"coarse": (0, 4), "middle": (4, 8)}
    assert stylemix.layer_ranges(10, 64)["fine"] == (8, 10)
    # One style per resolution (lucidrains): 64x64 has 5 ws at 4, 8, 16, 32, 64.
    assert stylemix.layer_ranges(5, 64, per_res=1) == {"coarse": (0, 2), "middle": (2, 4), "fine": (4, 5)}


def test_resolve_layers_and_errors():
    assert stylemix.resolve_layers("2-5", 10, 64) == (2, 6)
    assert stylemix.resolve_layers("3", 10, 64) == (3, 4)
    assert stylemix.resolve_layers("Middle", 10, 64) == (4, 8)
    with pytest.raises(ValueError, match="no fine"):
        stylemix.resolve_layers("fine", 8, 32)
    with pytest.raises(ValueError, match="outside"):
        stylemix.resolve_layers("5-12", 10, 64)
    with pytest.raises(ValueError, match="single latent"):
        stylemix.resolve_layers("coarse", 1, 64)
    with pytest.raises(ValueError, match="range"):
        stylemix.resolve_layers("top", 10, 64)


@given(st.integers(0, 9), st.integers(1, 10))
def test_mix_copies_only_the_range(start, length):
    stop = min(start + length, 10)
    a, b = np.zeros((10, 4)), np.ones((10, 4))
    out = stylemix.mix(a, b, (start, stop))
    assert out[start:stop].min() == 1 and out[:start].max(initial=0) == 0 and out[stop:].max(initial=0) == 0
    assert a.max() == 0  # input untouched


def test_apply_direction_on_layer_range():
    ws = np.zeros((1, 6, 3), np.float32)
    d = np.array([1, 0, 0], np.float32)
    out = apply_direction(ws, d, 2.0, (1, 3))
    assert out[0, 1:3, 0].tolist() == [2, 2] and out[0, [0, 3, 4, 5], 0].tolist() == [0, 0, 0, 0]
