"""Hessian sparsity (nonlinear interactions) and star-colored Hessians against torch.func.hessian."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import autojac
from autojac import sparse
from autojac.sparse import coloring


def rosenbrock(T, x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def chained(T, x):  # partially separable: element functions of (x_i, x_{i+1}, x_{i+5})
    return (T.exp(x[:-5] * x[1:-4]) + T.sin(x[:-5] + x[5:]) ** 2).sum() + x.sum()


def arrow(T, x):
    return (x[0] * x ** 2).sum() + (x ** 3).sum() + (2 * x).sum()


def separable_blocks(T, x):
    u = x.reshape(-1, 3)
    return (T.log1p(u ** 2).sum(1) * T.tanh(u[:, 0])).sum() + T.logsumexp(u[:2], 1).sum()


def linear_plus_quadratic(T, x):
    return (x * 3).sum() + (x[::2] * x[1::2]).sum()


TABLE = {"rosenbrock": rosenbrock, "chained": chained, "arrow": arrow, "separable_blocks": separable_blocks,
         "linear_plus_quadratic": linear_plus_quadratic}


def _torch_hessian(fn, x):
    return torch.func.hessian(lambda t: fn(torch, t))(torch.tensor(x, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("name", sorted(TABLE))
def test_hessian_pattern_and_values(name):
    fn = TABLE[name]
    n = 12
    P = sparse.hessian_sparsity(lambda t: fn(autojac, t), np.zeros(n))
    assert isinstance(P, sp.csr_array) and P.shape == (n, n) and (P != P.T).nnz == 0
    plan = sparse.hessian_plan(lambda t: fn(autojac, t), np.zeros(n))
    assert coloring.check_star_coloring(P, plan.colors)
    for seed in (1, 2):
        x = np.random.default_rng(seed).uniform(-1, 1, n)
        H = _torch_hessian(fn, x)
        assert not ((H != 0) & ~P.toarray()).any()
        np.testing.assert_allclose(plan(x).toarray(), H, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(sparse.hessian(lambda t: fn(autojac, t), x).toarray(), H, rtol=1e-11, atol=1e-11)


def test_rosenbrock_in_n_dims_is_tridiagonal_with_three_colors():
    n = 500
    P = sparse.hessian_sparsity(lambda t: rosenbrock(autojac, t), np.zeros(n))
    tri = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1]).astype(bool)
    assert (P != tri).nnz == 0
    plan = sparse.hessian_plan(lambda t: rosenbrock(autojac, t), np.zeros(n))
    assert plan.n_colors == 3
    x = np.random.default_rng(3).uniform(-1, 1, n)
    H = plan(x)
    # exact second derivatives by hand
    d = np.zeros(n)
    d[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    d[1:] += 200
    np.testing.assert_allclose(H.diagonal(), d, rtol=1e-12)
    np.testing.assert_allclose(H.diagonal(1), -400 * x[:-1], rtol=1e-12)


def test_arrowhead_star_coloring_needs_two_colors():
    plan = sparse.hessian_plan(lambda t: arrow(autojac, t), np.zeros(40))
    assert plan.n_colors == 2  # distance-2 coloring would need 40
    assert coloring.column_coloring(plan.sparsity).max() + 1 == 40


def test_linear_ops_add_no_interactions():
    P = sparse.hessian_sparsity(lambda t: (t.reshape(3, 2).T @ autojac.ones(3, dtype=autojac.float64)).sum()
                                + t.cumsum(0).sum() + t[0] * t[5], np.zeros(6))
    expect = np.zeros((6, 6), dtype=bool)
    expect[0, 5] = expect[5, 0] = True
    np.testing.assert_array_equal(P.toarray(), expect)


def test_hessian_plan_checks():
    plan = sparse.hessian_plan(lambda t: rosenbrock(autojac, t), np.zeros(5))
    with pytest.raises(ValueError, match="shape"):
        plan(np.zeros(6))
    with pytest.raises(RuntimeError, match="single element"):
        sparse.hessian(lambda t: t ** 2, np.zeros(3))
    given = sp.eye_array(4, dtype=bool)
    H = sparse.hessian(lambda t: (t ** 4).sum(), np.arange(4.0), sparsity=given)
    np.testing.assert_allclose(H.toarray(), np.diag(12 * np.arange(4.0) ** 2))


def test_star_recovery_rejects_a_plain_distance1_coloring():
    path = sp.diags_array([np.ones(5), np.ones(5)], offsets=[-1, 1]).astype(bool)
    assert not coloring.check_star_coloring(path, np.array([0, 1, 0, 1, 0, 1]))
    assert coloring.check_star_coloring(path, coloring.star_coloring(path))
