"""The vectorized small-matrix slogdet behind JacobianTransform vs numpy.linalg.slogdet (LAPACK, row swaps)."""

from __future__ import annotations

import numpy as np
import pytest

from autojac.distributions._small_slogdet import slogdet_batch_last


def _cases():
    rng = np.random.default_rng(5)
    n, batch = 6, 40
    dense = rng.normal(size=(batch, n, n))  # many need row swaps: redone by LAPACK
    near_identity = np.eye(n) + 0.3 * rng.normal(size=(batch, n, 1)) * rng.normal(size=(batch, 1, n))
    singular = dense.copy()
    singular[::3, :, 2] = singular[::3, :, 0]  # every third matrix: two equal columns
    singular[1, 0] = 0.0
    singular[1, :, 0] = 0.0  # a zero row and column
    huge = dense * 1e30  # det itself beyond float32's range (1e180), log|det| fine
    return {"dense": dense, "near-identity": near_identity, "singular": singular, "huge": huge}


@pytest.mark.parametrize("name", ["dense", "near-identity", "singular", "huge"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_lapack(name, dtype):
    mats = _cases()[name].astype(dtype)
    sign, logabs = slogdet_batch_last(np.moveaxis(mats, 0, -1))
    want_sign, want_logabs = np.linalg.slogdet(mats)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    exact_zero = want_sign == 0
    np.testing.assert_array_equal(sign[~exact_zero], want_sign[~exact_zero])
    np.testing.assert_allclose(logabs[~exact_zero], want_logabs[~exact_zero], rtol=rtol, atol=rtol)
    # a singular matrix: LAPACK's exact zero, or a tiny rounding residue that both methods find far below the rest
    assert np.all((sign[exact_zero] == 0) | (logabs[exact_zero] < np.median(want_logabs) - 20))
    assert sign.dtype == dtype and logabs.dtype == dtype


def test_non_finite_and_large_or_small_inputs_go_to_lapack():
    rng = np.random.default_rng(6)
    mats = np.eye(3) + 0.1 * rng.normal(size=(8, 3, 3))
    mats[2, 1, 1] = np.nan
    with np.errstate(invalid="ignore"):  # LAPACK warns on the NaN matrix, here as in numpy
        sign, logabs = slogdet_batch_last(np.moveaxis(mats, 0, -1))
        want_sign, want_logabs = np.linalg.slogdet(mats)
    np.testing.assert_allclose(logabs, want_logabs, rtol=1e-12)  # (NaN where LAPACK gives NaN)
    np.testing.assert_array_equal(np.isnan(sign), np.isnan(want_sign))
    big = np.eye(20) + 0.1 * rng.normal(size=(50, 20, 20))  # n above MAX_N: LAPACK throughout
    np.testing.assert_allclose(slogdet_batch_last(np.moveaxis(big, 0, -1))[1], np.linalg.slogdet(big)[1], rtol=1e-12)
