"""Sparsity detection, coloring and compressed evaluation against dense Jacobians (ours and torch's)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import autojac
from autojac import sparse
from autojac.sparse import coloring

RNG = np.random.default_rng(12)
N = 12
A_CONST = np.where(RNG.random((N, N)) < 0.2, RNG.standard_normal((N, N)), 0.0)
B_BLOCK = RNG.standard_normal((3, 3))
MASK = RNG.random(N) < 0.5
IDX = np.array([3, 0, 7, 7, 11])
W_CONV = np.array([[[1.0, 0.0, -2.0]]])
SCALE = RNG.standard_normal((2, 1))


def _t(T, a):
    """A constant array as a tensor of the module ``T`` (autojac or torch), float64."""
    return T.tensor(a, dtype=T.float64) if a.dtype.kind == "f" else T.tensor(a)


def tridiagonal(T, x):
    xp = T.nn.functional.pad(x, (1, 1))
    return xp[:-2] - 2 * x + xp[2:] + 0.1 * T.sin(x) * x


def tridiagonal_setitem(T, x):
    y = T.zeros_like(x)
    y[1:-1] = x[:-2] - 2 * x[1:-1] + x[2:] + 0.1 * T.sin(x[1:-1]) * x[1:-1]
    y[0] = x[0] ** 2
    return y


def stencil(T, x, shape: tuple = (3, 4)):
    u = x.reshape(shape)
    p = T.nn.functional.pad(u.unsqueeze(0), (1, 1, 1, 1)).squeeze(0)
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u
    return (lap + u ** 3).reshape(-1)


def block_diagonal(T, x):
    return (T.tanh(x.reshape(4, 3)) @ _t(T, B_BLOCK)).reshape(-1)


def arrowhead(T, x):
    return x * x[0] + T.cat([x[:1].sum(0, keepdim=True) * 0 + x.sum(), x[1:] ** 2 * 0])


def banded5(T, x):
    return x + x.roll(2) * x.roll(-2) - T.cos(x.roll(1))


TABLE = {
    "tridiagonal": tridiagonal,
    "tridiagonal_setitem": tridiagonal_setitem,
    "stencil": stencil,
    "block_diagonal": block_diagonal,
    "arrowhead": arrowhead,
    "elementwise": lambda T, x: T.exp(T.sin(x)) * x ** 2 / (1 + x * x) - T.sqrt(x * x + 1),
    "shapes": lambda T, x: (x.reshape(3, 4).T.flip(0) * 2).reshape(-1).roll(3),
    "cat_stack": lambda T, x: T.cat([x.roll(1) * x, T.stack([x[:3], x[3:6]], 1).reshape(-1)]),
    "reductions": lambda T, x: T.cat([x.reshape(3, 4).sum(1), x.reshape(3, 4).mean(0), x.reshape(4, 3).prod(1),
                                      x.reshape(3, 4).amax(1), x.reshape(2, 6).max(1).values]),
    "softmax": lambda T, x: T.cat([T.softmax(x.reshape(3, 4), 1).reshape(-1),
                                   T.log_softmax(x.reshape(4, 3), 0).reshape(-1)]),
    "scans": lambda T, x: T.cumsum(x, 0) * x + T.cumprod(x.reshape(3, 4), 1).reshape(-1),
    "matmul_const": lambda T, x: _t(T, A_CONST) @ x + T.mv(_t(T, A_CONST.T), x ** 2),
    "matmul_both": lambda T, x: (x.reshape(3, 4) @ x.reshape(4, 3)).reshape(-1),
    "einsum": lambda T, x: T.einsum("ij,ij->i", x.reshape(3, 4), T.sin(x).reshape(3, 4)),
    "where": lambda T, x: T.where(_t(T, MASK), T.sin(x), T.cos(x.roll(1))),
    "relu_abs_clamp": lambda T, x: T.relu(x) + T.abs(x.roll(1)) + T.clamp(x, -0.5, 0.5) * T.maximum(x, x.flip(0)),
    "indexing": lambda T, x: T.cat([x[_t(T, IDX)], T.index_select(x, 0, _t(T, IDX)), x[::3] * x[1::3]]),
    "gather": lambda T, x: T.gather(x.reshape(3, 4), 1, _t(T, np.array([[0, 3], [1, 1], [2, 0]]))).reshape(-1),
    "conv1d": lambda T, x: T.nn.functional.conv1d(x.reshape(1, 1, N), _t(T, W_CONV), padding=1).reshape(-1),
    "expand": lambda T, x: (x.unsqueeze(0).expand(2, N) * _t(T, SCALE)).sum(0),
    "activations": lambda T, x: T.sigmoid(x) * T.nn.functional.softplus(x.roll(4)) + x.norm() * 0.1,
    "banded5": banded5,
    "pooling_cross_entropy": lambda T, x: T.cat([
        T.nn.functional.max_pool1d(x.reshape(1, N), 3, stride=2, padding=1).reshape(-1),
        T.nn.functional.max_pool2d(x.reshape(1, 3, 4), 2, stride=1).reshape(-1),
        T.nn.functional.cross_entropy(x.reshape(4, 3), _t(T, np.array([0, 2, 1, 1])), reduction="none")]),
    "sorting": lambda T, x: T.cat([T.sort(x.reshape(3, 4), 1).values.reshape(-1), T.topk(x, 3).values,
                                   T.cummax(x, 0).values, T.kthvalue(x.reshape(4, 3), 2, 0).values]),
}
EXACT = ("tridiagonal", "tridiagonal_setitem", "stencil", "block_diagonal", "arrowhead", "banded5", "conv1d")


def _point(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.2, 1.5, N) * np.where(np.arange(N) % 2, 1, -1)


def _dense(fn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ours = autojac.func.jacrev(lambda t: fn(autojac, t))(autojac.tensor(x, dtype=autojac.float64)).numpy()
    theirs = torch.func.jacrev(lambda t: fn(torch, t))(torch.tensor(x, dtype=torch.float64)).numpy()
    return ours.reshape(-1, x.size), theirs.reshape(-1, x.size)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_pattern_contains_every_nonzero(name):
    fn = TABLE[name]
    with warnings.catch_warnings():  # every primitive of the table declares its pattern
        warnings.filterwarnings("error", message="autojac.sparse")
        P = sparse.jacobian_sparsity(lambda t: fn(autojac, t), _point(0))
    assert isinstance(P, sp.csr_array) and P.dtype == bool
    for seed in (1, 2):
        ours, theirs = _dense(fn, _point(seed))
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
        missed = (theirs != 0) & ~P.toarray()
        assert not missed.any(), f"{name}: pattern misses {np.argwhere(missed)[:5].tolist()}"
        if name in EXACT:
            np.testing.assert_array_equal(P.toarray(), theirs != 0)


@pytest.mark.parametrize("name", sorted(TABLE))
@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_sparse_values_equal_dense(name, mode):
    fn = TABLE[name]
    x = _point(3)
    J = sparse.jacobian(lambda t: fn(autojac, t), x, mode=mode)
    assert isinstance(J, sp.csr_array) and J.dtype == np.float64
    _, theirs = _dense(fn, x)
    np.testing.assert_allclose(J.toarray(), theirs, rtol=1e-12, atol=1e-12)


def test_plan_reused_at_new_points():
    plan = sparse.jacobian_plan(lambda t: stencil(autojac, t), _point(0))
    assert plan.n_colors == 5 and plan.colors.shape == (N,)
    for seed in (4, 5, 6):
        x = _point(seed)
        np.testing.assert_allclose(plan(x).toarray(), _dense(stencil, x)[1], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        plan(np.zeros(N + 1))


def test_given_pattern_is_used():
    x = _point(1)
    n = x.size
    P = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1]).astype(bool)
    J = sparse.jacobian(lambda t: tridiagonal(autojac, t), x, sparsity=P)
    np.testing.assert_allclose(J.toarray(), _dense(tridiagonal, x)[1], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="columns"):
        sparse.jacobian(lambda t: tridiagonal(autojac, t), x, sparsity=sp.csr_array(P)[:, :-1])
    with pytest.raises(ValueError, match="mode"):
        sparse.jacobian(lambda t: t, x, mode="both")


def test_colors_tridiagonal_and_stencil_large():
    n = 10_000
    P = sparse.jacobian_sparsity(lambda t: tridiagonal(autojac, t), np.zeros(n))
    assert P.nnz == 3 * n - 2
    plan = sparse.jacobian_plan(lambda t: tridiagonal(autojac, t), np.zeros(n))
    assert plan.n_colors == 3
    k = 100
    S = sparse.jacobian_sparsity(lambda t: stencil(autojac, t, (k, k)), np.zeros(k * k))
    assert S.nnz == 5 * k * k - 4 * k
    cc, rc = coloring.column_coloring(S), coloring.row_coloring(S)
    assert cc.max() + 1 == 5 and rc.max() + 1 == 5
    assert coloring.check_column_coloring(S, cc) and coloring.check_column_coloring(S.T, rc)
    x = np.random.default_rng(0).standard_normal(k * k)
    J = sparse.jacobian_plan(lambda t: stencil(autojac, t, (k, k)), x)(x)
    u = x.reshape(k, k)
    np.testing.assert_allclose(J.diagonal(), -4 + 3 * u.reshape(-1) ** 2, rtol=1e-12)


@pytest.mark.parametrize("order", ["natural", "largest_first", "smallest_last"])
def test_greedy_orders_are_valid_colorings(order):
    P = sparse.jacobian_sparsity(lambda t: TABLE["matmul_const"](autojac, t), _point(0))
    for Q in (P, P.T):
        c = coloring.column_coloring(Q, order=order)
        assert coloring.check_column_coloring(Q, c)
        assert c.max() + 1 <= Q.shape[1]
    tri = sp.diags_array([np.ones(99), np.ones(100), np.ones(99)], offsets=[-1, 0, 1]).astype(bool)
    assert coloring.column_coloring(tri, order=order).max() + 1 == 3
    with pytest.raises(ValueError, match="order"):
        coloring.column_coloring(tri, order="random")


def test_mode_auto_picks_fewer_colors():
    # one dense row: reverse mode needs 2 colors, forward mode n
    f = lambda t: autojac.cat([t.sum().reshape(1), t * 2])  # noqa: E731
    plan = sparse.jacobian_plan(f, np.ones(30))
    assert plan.mode == "rev" and plan.n_colors == 2
    # one dense column: forward mode
    g = lambda t: t * t[0]  # noqa: E731
    plan = sparse.jacobian_plan(g, np.ones(30))
    assert plan.mode == "fwd" and plan.n_colors == 2
    np.testing.assert_allclose(plan(np.arange(30.0)).toarray(),
                               torch.func.jacrev(lambda t: t * t[0])(torch.arange(30.0, dtype=torch.float64)))


def test_fallback_warns_naming_the_primitive():
    from autojac._core.node import defop

    mystery = defop("mystery_op", lambda a: np.cumsum(a[::-1])[::-1].copy(),
                    vjp=(lambda g, ans, a: g,), jvp=(lambda t, ans, a: t,))
    with pytest.warns(UserWarning, match="mystery_op"):
        P = sparse.jacobian_sparsity(lambda t: mystery(t[:4]) * 2, np.ones(6))
    assert P.toarray()[:, :4].all() and not P.toarray()[:, 4:].any()
    with warnings.catch_warnings():  # once per primitive
        warnings.simplefilter("error")
        sparse.jacobian_sparsity(lambda t: mystery(t), np.ones(3))


def test_global_patterns_do_not_depend_on_the_point():
    # relu, where, max and abs: the union of both branches wherever x is
    fn = lambda t: autojac.relu(t[:3]) + autojac.where(t[3:6] > 0, t[6:9], t[9:12]) + t.reshape(3, 4).amax(1)  # noqa: E731
    pats = [sparse.jacobian_sparsity(fn, s * np.ones(N)) for s in (-1.0, 1.0)]
    assert (pats[0] != pats[1]).nnz == 0
    assert pats[0].toarray()[0, [0, 6, 9]].all()
    # sort, topk, cummax: where the values land depends on them, so each output reads its fiber
    sorting = lambda t: TABLE["sorting"](autojac, t)  # noqa: E731
    ascending, shuffled = np.arange(N, dtype=float), RNG.permutation(N).astype(float)
    pats = [sparse.jacobian_sparsity(sorting, x) for x in (ascending, shuffled, -ascending)]
    assert (pats[0] != pats[1]).nnz == 0 and (pats[0] != pats[2]).nnz == 0
    assert pats[0].toarray()[0, :4].all() and not pats[0].toarray()[0, 4:].any()


def test_constant_output_and_identity():
    P = sparse.jacobian_sparsity(lambda t: t, np.ones(4))
    np.testing.assert_array_equal(P.toarray(), np.eye(4, dtype=bool))
    J = sparse.jacobian(lambda t: autojac.ones(3, dtype=autojac.float64) + t.detach().sum(), np.ones(4))
    assert J.shape == (3, 4) and J.nnz == 0


@pytest.mark.parametrize("half_width", [1, 2, 3, 4])
def test_banded_patterns_get_optimal_colors(half_width):
    n = 1000
    band = sp.diags_array([np.ones(n - abs(k)) for k in range(-half_width, half_width + 1)],
                          offsets=list(range(-half_width, half_width + 1))).astype(bool)
    for colors in (coloring.column_coloring(band), coloring.row_coloring(band)):
        assert colors.max() + 1 == 2 * half_width + 1
        assert coloring.check_column_coloring(band, colors)


CONV_W = np.random.default_rng(7).standard_normal((4, 2, 3, 3)) * (np.arange(9).reshape(3, 3) % 4 != 0)
CONV_X = np.random.default_rng(8).standard_normal((1, 4, 5, 6))
CONV_CASES = {
    "conv2d_x": (lambda T, t: T.nn.functional.conv2d(t, _t(T, CONV_W[:, :, :2].copy()), stride=(2, 1),
                                                     padding=1, groups=2), CONV_X),
    "conv2d_w": (lambda T, t: T.nn.functional.conv2d(_t(T, CONV_X), t.repeat(1, 2, 1, 1), padding=(0, 1),
                                                     dilation=(1, 2)), CONV_W),
    "conv_transpose2d_x": (lambda T, t: T.nn.functional.conv_transpose2d(t, _t(T, CONV_W), stride=2, padding=1,
                                                                         groups=2), CONV_X),
    "conv_transpose2d_w": (lambda T, t: T.nn.functional.conv_transpose2d(_t(T, CONV_X), t, dilation=2, groups=2),
                           CONV_W),
}


@pytest.mark.parametrize("name", sorted(CONV_CASES))
def test_convolution_patterns_are_exact(name):
    fn, x = CONV_CASES[name]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="autojac.sparse")
        P = sparse.jacobian_sparsity(lambda t: fn(autojac, t), x)
    J = torch.func.jacrev(lambda t: fn(torch, t))(torch.tensor(x)).numpy().reshape(P.shape)
    np.testing.assert_array_equal(P.toarray(), J != 0)
    np.testing.assert_allclose(sparse.jacobian(lambda t: fn(autojac, t), x).toarray(), J, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_hessian_pattern_contains_every_nonzero(name):
    fn = TABLE[name]
    m = sparse.jacobian_sparsity(lambda t: fn(autojac, t), _point(0)).shape[0]
    weights = np.random.default_rng(9).uniform(0.5, 1.5, m)

    def scalar(T, t):
        return (fn(T, t).reshape(-1) * _t(T, weights)).sum()

    H = sparse.hessian_sparsity(lambda t: scalar(autojac, t), _point(0)).toarray()
    for seed in (1, 2):
        dense = torch.func.hessian(lambda t: scalar(torch, t))(torch.tensor(_point(seed))).numpy()
        missed = (dense != 0) & ~H
        assert not missed.any(), f"{name}: Hessian pattern misses {np.argwhere(missed)[:5].tolist()}"


@pytest.mark.parametrize("mode", ["direct", "use_mm_for_euclid_dist"])
def test_cdist_pattern_against_finite_differences(mode):
    # (torch.func.jacrev drops x2's part when x1 and x2 are slices of one tensor, so float64 central
    # differences are the reference here)
    def f(t):
        return autojac.cdist(t[:, :2], t[:, 1:] * 2, compute_mode=mode if mode != "direct" else
                             "donot_use_mm_for_euclid_dist").reshape(-1)

    x = np.random.default_rng(4).uniform(0.1, 1.0, (2, 4, 3))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="autojac.sparse")
        P = sparse.jacobian_sparsity(f, x).toarray()
    eps = 1e-6
    fd = np.stack([(f(autojac.tensor(x + e, dtype=autojac.float64)) - f(autojac.tensor(x - e, dtype=autojac.float64)))
                   .numpy() / (2 * eps) for e in np.eye(x.size).reshape((-1,) + x.shape) * eps], 1)
    assert not ((np.abs(fd) > 1e-7) & ~P).any()
    np.testing.assert_allclose(sparse.jacobian(f, x).toarray(), fd, atol=1e-6)


A_BATCH = np.random.default_rng(5).standard_normal((3, 3, 3)) + 3 * np.eye(3)
LINALG = {
    "inv": lambda T, x: T.linalg.inv(x.reshape(3, 3, 3)).reshape(-1),
    "det": lambda T, x: T.linalg.det(x.reshape(3, 3, 3)),
    "slogdet": lambda T, x: T.linalg.slogdet(x.reshape(3, 3, 3))[1],
    "solve_vector": lambda T, x: T.linalg.solve(_t(T, A_BATCH), x[:9].reshape(3, 3)).reshape(-1),
    "solve_matrix": lambda T, x: T.linalg.solve(x.reshape(3, 3, 3), _t(T, A_BATCH[:, :, :2])).reshape(-1),
    "solve_right": lambda T, x: T.linalg.solve(x.reshape(3, 3, 3), _t(T, A_BATCH[:, :2]), left=False).reshape(-1),
    "matrix_exp": lambda T, x: T.linalg.matrix_exp(x.reshape(3, 3, 3) * 0.3).reshape(-1),
    "cholesky": lambda T, x: T.linalg.cholesky(x.reshape(3, 3, 3) @ x.reshape(3, 3, 3).mT
                                               + 3 * T.eye(3, dtype=T.float64)).reshape(-1),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_batched_linear_algebra_patterns_are_block_diagonal(name):
    fn = LINALG[name]
    x = np.random.default_rng(6).standard_normal(27) * 0.3 + np.tile(np.eye(3).ravel(), 3) * 2
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="autojac.sparse")
        P = sparse.jacobian_sparsity(lambda t: fn(autojac, t), x).toarray()
    J = torch.func.jacrev(lambda t: fn(torch, t))(torch.tensor(x)).numpy().reshape(P.shape)
    assert not ((J != 0) & ~P).any()
    if name != "cholesky":  # a triangular factor: the pattern holds the whole matrix
        np.testing.assert_array_equal(P, J != 0)
    np.testing.assert_allclose(sparse.jacobian(lambda t: fn(autojac, t), x).toarray(), J, rtol=1e-10, atol=1e-10)
