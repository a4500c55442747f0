"""Special functions (``ops/special.py``) and the piecewise-constant ops against PyTorch 2.13, float64
finite differences and mpmath (the accuracy of the NumPy-only kernels).

Their op-table rows are in ``table_special.py`` (run by ``test_table.py``); here: the kernels' accuracy
and edge cases: erfinv near +-1, lgamma and digamma at negative non-integers and poles, polygamma
orders, xlogy at 0, zero-gradient ops that keep the graph.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from _tol import assert_close

from . import _checks
from ._case import Case
from ._oracle import autojac, lib_tensors, to_np, torch, vjp

# --------------------------------------------------------------------------- accuracy of the NumPy kernels
mpmath.mp.dps = 30


def _rel(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


def _ours(fn, xs) -> np.ndarray:
    return to_np(fn(autojac.tensor(np.asarray(xs, dtype=np.float64))))


def test_erf_erfc_accuracy() -> None:
    xs = np.concatenate([np.linspace(-6, 6, 241), [-27.0, -1.0, -0.999, 1e-300, 1.0, 8.0, 8.5, 26.0]])
    assert _rel(_ours(autojac.erf, xs), np.array([math.erf(v) for v in xs])) < 4e-16
    want = np.array([float(mpmath.erfc(v)) for v in xs])
    assert _rel(_ours(autojac.erfc, xs), want) < 5e-15  # relative even at erfc(26) ~ 1e-296 (SciPy: 3.4e-15)
    special = _ours(autojac.erfc, [np.inf, -np.inf, np.nan, 40.0])
    assert special[0] == 0 and special[1] == 2 and np.isnan(special[2]) and special[3] == 0
    e = _ours(autojac.erf, [np.inf, -np.inf, np.nan, -0.0])
    assert e[0] == 1 and e[1] == -1 and np.isnan(e[2]) and e[3] == 0 and np.signbit(e[3])


def test_erfinv_near_plus_minus_one() -> None:
    """Full float64 accuracy up to the last double below 1, where erf itself has no digits left."""
    ys = np.concatenate([1 - 10.0 ** -np.arange(1, 17), -1 + 10.0 ** -np.arange(1, 17), [np.nextafter(1, 0)],
                         np.linspace(-0.99, 0.99, 199), [1e-300, 5e-324]])
    want = np.array([float(mpmath.erfinv(mpmath.mpf(float(v)))) for v in ys])
    got = _ours(autojac.erfinv, ys)
    assert _rel(got, want) < 2e-15
    assert got[15] > 5.86  # erfinv(1 - 2^-53) = 5.8636, where a Newton step on erf would stall at ~5.7
    edge = _ours(autojac.erfinv, [1.0, -1.0, 1.5, -2.0, np.nan, 0.0])
    assert edge[0] == np.inf and edge[1] == -np.inf and np.isnan(edge[2:5]).all() and edge[5] == 0
    # torch agrees away from the last few ulps (its own Newton steps lose digits near +-1)
    t = torch.erfinv(torch.tensor(ys[:10])).numpy()
    assert _rel(got[:10], t) < 1e-12
    # the gradient sqrt(pi)/2 exp(erfinv(y)^2) near 1
    y = np.array([0.999999, -0.99999999])
    g = vjp(autojac, lambda T, x: T.erfinv(x), [y], [np.ones(2)])[0]
    x = np.array([float(mpmath.erfinv(v)) for v in y])
    np.testing.assert_allclose(g, math.sqrt(math.pi) / 2 * np.exp(x * x), rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 6])
def test_polygamma_accuracy(n: int) -> None:
    rng = np.random.default_rng(n)
    xs = np.concatenate([rng.uniform(0.01, 30, 200), [1e-6, 0.5, 1.0, 2.0, 9.99, 10.0, 10.01, 1e4, 1e8]])
    want = np.array([float(mpmath.polygamma(n, v)) for v in xs])
    assert _rel(_ours(lambda x: autojac.polygamma(n, x), xs), want) < 5e-14
    neg = -rng.integers(0, 6, 100) - rng.uniform(0.05, 0.95, 100)
    want = np.array([float(mpmath.polygamma(n, v)) for v in neg])
    got = _ours(lambda x: autojac.polygamma(n, x), neg)
    near_root = np.abs(want) < 1e-2  # digamma's roots on the negative axis: absolute accuracy there
    assert _rel(got[~near_root], want[~near_root]) < 5e-12
    np.testing.assert_allclose(got[near_root], want[near_root], atol=1e-13)


def test_lgamma_digamma_negative_non_integers() -> None:
    xs = np.array([-0.5, -1.5, -2.25, -3.7, -10.3, -100.5, 0.5, 3.5])
    assert _rel(_ours(autojac.lgamma, xs), np.array([float(mpmath.log(abs(mpmath.gamma(v)))) for v in xs])) < 1e-13
    assert _rel(_ours(autojac.digamma, xs), np.array([float(mpmath.digamma(v)) for v in xs])) < 1e-12
    # the derivatives chain: lgamma' = digamma, lgamma'' = polygamma(1), against torch's
    for fn in (lambda T, x: T.lgamma(x), lambda T, x: T.digamma(x)):
        got = vjp(autojac, fn, [xs], [np.ones(len(xs))])[0]
        want = vjp(torch, fn, [xs], [np.ones(len(xs))])[0]
        np.testing.assert_allclose(got, want, rtol=1e-8)  # torch's trigamma: ~5e-10
    got = vjp(autojac, lambda T, x: T.digamma(x), [xs], [np.ones(len(xs))])[0]
    assert _rel(got, np.array([float(mpmath.polygamma(1, v)) for v in xs])) < 1e-12


def test_gamma_family_poles_match_torch() -> None:
    xs = [0.0, -0.0, -1.0, -3.0, np.inf, -np.inf, np.nan, 1e-300]
    for name, fn in [("lgamma", lambda T, x: T.lgamma(x)), ("digamma", lambda T, x: T.digamma(x)),
                     ("polygamma2", lambda T, x: T.polygamma(2, x)), ("polygamma3", lambda T, x: T.polygamma(3, x))]:
        got = to_np(fn(autojac, autojac.tensor(xs, dtype=autojac.float64)))
        want = to_np(fn(torch, torch.tensor(xs, dtype=torch.float64)))
        if name.startswith("polygamma"):  # torch: nan at +inf (the limit is 0), +-inf at -inf (undefined)
            got, want = got[[0, 1, 2, 3, 6, 7]], want[[0, 1, 2, 3, 6, 7]]
        assert_close(got, want, err_msg=name)  # same infs and nans; finite values (at 1e-300) to rounding
    p1 = to_np(autojac.polygamma(1, autojac.tensor([0.0, -1.0, np.inf], dtype=autojac.float64)))
    assert p1[0] == np.inf and p1[1] == np.inf and p1[2] == 0  # (torch's value at -1 is a finite artifact)


def test_logaddexp_extreme_arguments() -> None:
    """Far apart arguments: the weights exp(a - ans) stay finite, so the second derivative is 0, not nan."""
    a = autojac.tensor([1000.0, -1000.0, 3.0], dtype=autojac.float64, requires_grad=True)
    b = autojac.tensor([-1000.0, 1000.0, 3.0], dtype=autojac.float64, requires_grad=True)
    y = autojac.logaddexp(a, b)
    np.testing.assert_allclose(to_np(y), [1000.0, 1000.0, 3.0 + math.log(2.0)], rtol=1e-12)
    (ga,) = autojac.autograd.grad(y.sum(), a, create_graph=True)
    np.testing.assert_allclose(to_np(ga), [1.0, 0.0, 0.5], rtol=1e-12, atol=1e-12)
    (h,) = autojac.autograd.grad(ga.sum(), a)
    np.testing.assert_allclose(to_np(h), [0.0, 0.0, 0.25], rtol=1e-12, atol=1e-12)


def test_polygamma_argument_errors() -> None:
    x = autojac.tensor([1.0])
    with pytest.raises(RuntimeError, match="negative n"):
        autojac.polygamma(-1, x)
    assert autojac.polygamma(1, autojac.tensor([1, 2])).dtype == autojac.float32  # integers promote


def test_lgamma_third_derivative_matches_torch() -> None:
    """lgamma -> digamma -> polygamma(1) -> polygamma(2): three nested create_graph backwards."""
    def thrice(T):
        x = T.tensor([0.3, 1.5, 4.0, -1.5], dtype=T.float64, requires_grad=True)
        g = x
        for k in range(3):
            (g,) = T.autograd.grad((T.lgamma(x) if k == 0 else g).sum(), x, create_graph=True)
        return to_np(g)
    np.testing.assert_allclose(thrice(autojac), thrice(torch), rtol=1e-10)


# --------------------------------------------------------------------------- xlogy at 0
def test_xlogy_at_zero() -> None:
    a = autojac.tensor([0.0, 0.0, 0.0, 1.0, 0.0], dtype=autojac.float64, requires_grad=True)
    b = autojac.tensor([0.0, -1.0, np.nan, 0.0, np.inf], dtype=autojac.float64, requires_grad=True)
    y = autojac.xlogy(a, b)
    np.testing.assert_array_equal(to_np(y), [0.0, 0.0, np.nan, -np.inf, 0.0])
    ta = torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0], dtype=torch.float64, requires_grad=True)
    tbb = torch.tensor([0.0, -1.0, np.nan, 0.0, np.inf], dtype=torch.float64, requires_grad=True)
    want = torch.autograd.grad(torch.xlogy(ta, tbb).sum(), (ta, tbb))
    got = autojac.autograd.grad(y.sum(), (a, b))
    for g, w in zip(got, want):
        assert_close(to_np(g), w.numpy())
    assert to_np(autojac.xlogy(autojac.tensor([0.0]), 0.0))[0] == 0.0
    assert to_np(autojac.xlogy(0.0, autojac.tensor([0.0])))[0] == 0.0


def test_rmod_gradient_against_finite_differences() -> None:
    """number % tensor: torch has no derivative for it (an error); ours is -floor(number / b)."""
    b = np.array([0.7, -1.3, 2.2, -0.45])
    case = Case("special", "rmod", lambda T, b: 2.5 % b, (b.shape,), values=(b,))
    v = [np.ones(4)]
    got = vjp(autojac, case.fn, [b], v)[0]
    np.testing.assert_allclose(got, -np.floor(2.5 / b), rtol=1e-12)
    _checks.finite_differences(case)
    _checks.jvp_finite_differences(case)
    y = 2.5 % autojac.tensor(b, requires_grad=True)
    assert_close(to_np(y), torch.remainder(2.5, torch.tensor(b)).numpy())


# --------------------------------------------------------------------------- zero-gradient ops keep the graph
@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign", "sgn"])
def test_piecewise_constant_keeps_graph(name: str) -> None:
    outs = {}
    for T in (autojac, torch):
        x = T.tensor([1.3, -2.5, 0.5], dtype=T.float64, requires_grad=True)
        y = getattr(T, name)(x)
        assert y.requires_grad
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        outs[T] = (to_np(y), to_np(g), y.grad_fn.name() if T is autojac else type(y.grad_fn).__name__)
        (g2,) = T.autograd.grad(y, x, T.tensor([np.inf, 1.0, 1.0], dtype=T.float64))  # zeros_like, not inf * 0
        np.testing.assert_array_equal(to_np(g2), 0.0)
    np.testing.assert_array_equal(outs[autojac][0], outs[torch][0])
    np.testing.assert_array_equal(outs[autojac][1], 0.0)
    assert outs[autojac][2] == outs[torch][2]
    assert autojac.floor(autojac.tensor([1, 2])).dtype == autojac.int64  # integers pass through


def test_inplace_methods_keep_graph() -> None:
    for T in (autojac, torch):
        x = T.tensor([0.3, 0.6], dtype=T.float64, requires_grad=True)
        y = x * 3.0
        y.floor_()
        z = x * 1.0
        z.erf_()
        w = x * 1.0
        w.round_(decimals=1)
        (g,) = T.autograd.grad((y + z + w).sum(), x)
        assert y.requires_grad and w.requires_grad
        np.testing.assert_allclose(to_np(g), 2 / math.sqrt(math.pi) * np.exp(-np.array([0.09, 0.36])), rtol=1e-12)


def test_special_float32_inputs_stay_float32() -> None:
    x = autojac.tensor([0.25, 0.5], requires_grad=True)
    for fn in (autojac.erf, autojac.erfinv, autojac.lgamma, autojac.digamma, autojac.sinh, autojac.logit):
        y = fn(x)
        assert y.dtype == autojac.float32
        (g,) = autojac.autograd.grad(y.sum(), x)
        assert g.dtype == autojac.float32
    xs = lib_tensors(autojac, [np.array([1, 2])], "int64", requires_grad=False)
    assert autojac.erf(xs[0]).dtype == autojac.float32


def test_special_empty_inputs() -> None:
    e = autojac.zeros(0, 3, requires_grad=True)
    for fn in (autojac.erf, autojac.erfc, autojac.erfinv, autojac.lgamma, autojac.digamma, autojac.atanh,
               lambda x: autojac.polygamma(2, x), lambda x: autojac.xlogy(x, x)):
        y = fn(e)
        (g,) = autojac.autograd.grad(y.sum(), e)
        assert tuple(y.shape) == tuple(g.shape) == (0, 3)
