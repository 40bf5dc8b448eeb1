"""Winograd convolution: the same numbers as the direct convolution, for every kernel shape the models use."""
from __future__ import annotations

from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxtts.models import winograd


def direct(x: np.ndarray, kernel: np.ndarray, dilation: int) -> np.ndarray:
    """torch Conv1d(padding=d·(k−1)/2) in float64: the truth."""
    k = kernel.shape[0]
    half = dilation * (k - 1) // 2
    xp = np.pad(x.astype(np.float64), ((0, 0), (half, half), (0, 0)))
    t = x.shape[1]
    return sum(xp[:, j * dilation: j * dilation + t] @ kernel[j].astype(np.float64) for j in range(k))


@pytest.mark.parametrize("r", [1, 3, 4, 5])
def test_matrices_compute_a_correlation_exactly(r):
    at, g, bt = winograd.matrices(winograd.TILE, r)
    rng = np.random.default_rng(r)
    d = rng.integers(-9, 9, winograd.TILE + r - 1).astype(np.float64)
    w = rng.integers(-9, 9, r).astype(np.float64)
    y = at @ ((g @ w) * (bt @ d))
    np.testing.assert_allclose(y, [d[i: i + r] @ w for i in range(winograd.TILE)], atol=1e-9)
    assert all(Fraction(v).denominator == 1 for v in bt.ravel())  # the per-call side adds integers only


@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7, 9, 11])
@pytest.mark.parametrize("dilation", [1, 2, 5])
@pytest.mark.parametrize("steps", [1, 6, 37])
def test_conv1d_equals_the_direct_convolution(kernel_size, dilation, steps):
    rng = np.random.default_rng(kernel_size * 100 + dilation * 10 + steps)
    x = rng.standard_normal((2, steps, 6)).astype(np.float32)
    kernel = (rng.standard_normal((kernel_size, 6, 5)) / np.sqrt(6 * kernel_size)).astype(np.float32)
    u = winograd.transform(jnp.asarray(kernel))
    y = winograd.conv1d(jnp.asarray(x), u, kernel_size, dilation, jax.lax.Precision.HIGHEST)
    assert y.shape == (2, steps, 5)
    np.testing.assert_allclose(np.asarray(y), direct(x, kernel, dilation), atol=2e-5, rtol=0)


def test_kernels_longer_than_five_taps_are_cut_into_pieces_of_a_tile():
    assert [winograd.pieces(k) for k in (1, 3, 5, 7, 11)] == [(1, 1), (3, 1), (5, 1), (4, 2), (4, 3)]
    assert winograd.transform(jnp.zeros((11, 2, 3))).shape == (7, 3, 2, 3)  # F(4, 4): 7 points, 3 pieces


def test_every_form_of_the_products_gives_the_same_result():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((3, 29, 8)).astype(np.float32))
    u = winograd.transform(jnp.asarray((rng.standard_normal((3, 8, 4)) / np.sqrt(24)).astype(np.float32)))
    hi = jax.lax.Precision.HIGHEST
    per_point = winograd.conv1d(x, u, 3, 2, hi)
    np.testing.assert_allclose(winograd.conv1d(x, tuple(u), 3, 2, hi), per_point, atol=1e-6, rtol=0)
    np.testing.assert_allclose(winograd.conv1d(x, u, 3, 2, hi, batched=True), per_point, atol=1e-5, rtol=0)


def test_batched_products_need_a_single_piece():
    u = winograd.transform(jnp.zeros((7, 2, 2)))
    with pytest.raises(ValueError, match="single-piece"):
        winograd.conv1d(jnp.zeros((1, 8, 2)), u, 7, batched=True)


def test_transform_is_computed_in_float32_for_any_kernel_dtype():
    kernel = jnp.asarray(np.random.default_rng(1).standard_normal((7, 4, 4)), jnp.bfloat16)
    u = winograd.transform(kernel)
    assert u.dtype == jnp.bfloat16
    np.testing.assert_array_equal(u, winograd.transform(kernel.astype(jnp.float32)).astype(jnp.bfloat16))
