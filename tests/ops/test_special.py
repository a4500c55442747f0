"""Special functions (``ops/special.py``) and the piecewise-constant ops against PyTorch 2.13, float64
finite differences and mpmath (the accuracy of the NumPy-only kernels).

The table runs the op-table checks (see ``_table.py``); then edge cases: erfinv near +-1, lgamma and
digamma at negative non-integers and poles, polygamma orders, xlogy at 0, zero-gradient ops that keep
the graph, clamp with tensor bounds at ties.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from _tol import assert_close

from . import _table as tb
from ._oracle import autojac, lib_tensors, to_np, torch, vjp

CASES: list = []
op = lambda *a, **kw: tb.op(CASES, *a, **kw)  # noqa: E731
at = lambda *a, **kw: tb.at(CASES, *a, **kw)  # noqa: E731

U = [((),), ((5,),), ((2, 3),)]
BIN = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 3))]

# --------------------------------------------------------------------------- erf family
op("erf", lambda T, x: T.erf(x), *U)
op("erf_method", lambda T, x: (x * 2.0).erf(), ((2, 3),))
op("erfc", lambda T, x: T.erfc(x), *U)
op("erfc_tail", lambda T, x: T.erfc(x + 3.0), ((5,),), domain="pos")
op("erfinv", lambda T, x: T.erfinv(x), *U, domain="unit")
op("erfinv_method", lambda T, x: x.erfinv() * x, ((2, 3),), domain="unit")
# --------------------------------------------------------------------------- gamma family
# torch's trigamma (polygamma(1), the derivative of digamma) is accurate to ~5e-10 relative only (ours to ~1e-15,
# see test_polygamma_accuracy): lines that reach it compare with torch at 1e-8
TRI = dict(rtol=1e-8, vtol=1e-8)
op("lgamma", lambda T, x: T.lgamma(x), *U, domain="pos", **TRI)
op("lgamma_neg", lambda T, x: T.lgamma(x), ((2, 3),), domain="negfrac", **TRI)
op("lgamma_big", lambda T, x: T.lgamma(x * 20.0), ((5,),), domain="pos", **TRI)
op("digamma", lambda T, x: T.digamma(x), *U, domain="pos", **TRI)
op("digamma_neg", lambda T, x: x.digamma(), ((2, 3),), domain="negfrac", **TRI)
op("polygamma1", lambda T, x: T.polygamma(1, x), ((2, 3),), domain="pos", **TRI)
op("polygamma1_neg", lambda T, x: T.polygamma(1, x), ((5,),), domain="negfrac", **TRI)
op("polygamma2", lambda T, x: x.polygamma(2), ((2, 3),), domain="pos")
op("polygamma3", lambda T, x: T.polygamma(3, x + 0.5), ((5,),), domain="pos")
op("polygamma0", lambda T, x: T.polygamma(0, x), ((5,),), domain="pos", **TRI)
op("lgamma_chain", lambda T, x: T.lgamma(x).sum() + T.digamma(x * 2.0).sum(), ((2, 3),), domain="pos", **TRI)
# --------------------------------------------------------------------------- hyperbolic and inverse trigonometric
op("sinh", lambda T, x: T.sinh(x), *U)
op("cosh", lambda T, x: x.cosh(), *U)
op("asin", lambda T, x: T.asin(x), *U, domain="unit")
op("acos", lambda T, x: x.acos(), *U, domain="unit")
op("atan", lambda T, x: T.atan(x), *U)
op("asinh", lambda T, x: T.asinh(x), *U)
op("acosh", lambda T, x: x.acosh(), *U, domain="gt1")
op("atanh", lambda T, x: T.atanh(x), *U, domain="unit")
op("arcsin", lambda T, x: T.arcsin(x) + T.arccos(x) * T.arctan(x), ((5,),), domain="unit")
op("arcsinh", lambda T, x: T.arcsinh(x) * T.arctanh(x * 0.5), ((5,),), domain="unit")
op("arccosh", lambda T, x: T.arccosh(x), ((5,),), domain="gt1")
# --------------------------------------------------------------------------- binary
op("atan2", lambda T, a, b: T.atan2(a, b), *BIN, domain=("nz", "nz"))
op("atan2_method", lambda T, a, b: a.atan2(b) + T.arctan2(b, a), ((2, 3), (2, 3)), domain=("nz", "nz"))
op("hypot", lambda T, a, b: T.hypot(a, b), *BIN, domain=("nz", "nz"))
op("hypot_method", lambda T, a, b: a.hypot(b), ((3,), (3,)), domain=("nz", "nz"))
op("logaddexp", lambda T, a, b: T.logaddexp(a, b), *BIN)
op("logaddexp_big", lambda T, a, b: T.logaddexp(a * 50.0, b * 50.0), ((2, 3), (2, 3)))
op("logaddexp2", lambda T, a, b: a.logaddexp2(b), *BIN)
op("xlogy", lambda T, a, b: T.xlogy(a, b), *BIN, domain=("real", "pos"))
op("xlogy_scalar_other", lambda T, a: T.xlogy(a, 3.0), ((2, 3),))
op("xlogy_scalar_self", lambda T, b: T.xlogy(2.0, b), ((2, 3),), domain="pos")
op("xlogy_method", lambda T, a, b: a.xlogy(b), ((3,), (3,)), domain=("real", "pos"))
op("xlogy_self", lambda T, a: T.xlogy(a, a), ((2, 3),), domain="pos")
op("remainder", lambda T, a, b: T.remainder(a, b), *BIN, domain=("real", "nz"))
op("mod_operator", lambda T, a, b: a % b + a % 0.75, ((2, 3), (3,)), domain=("real", "nz"))
op("fmod", lambda T, a, b: T.fmod(a, b), *BIN, domain=("real", "nz"))
op("fmod_scalar", lambda T, a: a.fmod(-0.75) + a.remainder(0.5), ((2, 3),))
# --------------------------------------------------------------------------- frac, logit, zero-gradient ops
op("frac", lambda T, x: T.frac(x * 3.0), *U, domain="away")
op("frac_method", lambda T, x: x.frac() * x, ((2, 3),), domain="away")
op("sinc", lambda T, x: T.sinc(x * 2.0) + x.sinc(), *U)
op("logit", lambda T, x: T.logit(x), *U, domain="prob")
op("logit_eps", lambda T, x: T.logit(x, eps=0.2), ((2, 3),), domain="prob", fd=False)
op("logit_method", lambda T, x: x.logit() * x, ((5,),), domain="prob")
op("floor", lambda T, x: T.floor(x * 3.0) * x, ((2, 3),), domain="away")
op("ceil", lambda T, x: x.ceil() + x, ((2, 3),), domain="away")
op("trunc", lambda T, x: T.trunc(x * 3.0), *U, domain="away")
op("round", lambda T, x: T.round(x) * x, ((2, 3),), domain="away")
op("round_decimals", lambda T, x: T.round(x * 3.0, decimals=1), ((2, 3),), domain="away", fd=False)
op("sign", lambda T, x: T.sign(x), ((2, 3),), domain="nz")
op("sgn", lambda T, x: x.sgn() * x, ((2, 3),), domain="nz")
op("floor_only", lambda T, x: x.floor(), ((5,),), domain="away")
# compositions
op("gaussian_cdf", lambda T, x: 0.5 * (1 + T.erf(x / math.sqrt(2.0))), ((2, 3),))
op("beta_logpdf", lambda T, x, a, b: (T.xlogy(a - 1, x) + T.xlogy(b - 1, 1 - x) + T.lgamma(a + b) - T.lgamma(a)
                                      - T.lgamma(b)).sum(), ((4,), (4,), ()), domain=("prob", "gt1", "gt1"))

# --------------------------------------------------------------------------- special points, against torch only
at("xlogy:zeros", lambda T, a, b: T.xlogy(a, b), [0.0, 0.0, 1.0, 0.0, 2.0], [0.0, 2.0, 0.0, -1.0, 3.0], d2=False)
at("xlogy:zero_x", lambda T, a, b: T.xlogy(a, b), [0.0, 0.0, 0.5], [0.5, 2.0, 1.5])
at("clamp_ties:both", lambda T, x, lo, hi: T.clamp(x, lo, hi), [-0.5, 0.5, 0.0, 1.0, -1.0, 0.3],
   [-0.5, -0.5, -0.5, -0.5, -0.5, 0.6], [0.5, 0.5, 0.5, 0.5, 0.5, 0.2])
at("clamp_ties:min", lambda T, x, lo: T.clamp(x, min=lo), [-0.5, 0.5, 1.0], [-0.5, 0.6, 0.0])
at("clamp_ties:max", lambda T, x, hi: x.clamp(max=hi), [-0.5, 0.5, 1.0], [-0.5, 0.5, 0.0])
at("clamp_ties:clamp_min", lambda T, x, lo: T.clamp_min(x, lo), [-0.5, 0.5, 1.0], [-0.5, 0.6, 0.0])
at("clamp_ties:clamp_max", lambda T, x, hi: T.clamp_max(x, hi), [-0.5, 0.5, 1.0], [-0.5, 0.5, 0.0])
at("clamp_ties:bcast", lambda T, x, lo, hi: T.clamp(x, lo, hi), [[0.0, 1.0], [2.0, 0.5]], [0.0], [[1.0], [1.0]])
at("clamp:scalar_min", lambda T, x: T.clamp_min(x, 0.5), [0.5, 1.0, 0.0])
at("clamp:scalar_max", lambda T, x: T.clamp_max(x, 0.5), [0.5, 1.0, 0.0])
at("floor:integers", lambda T, x: T.floor(x) + T.ceil(x) + T.round(x) + T.trunc(x) + T.sign(x), [0.0, 1.0, -2.0, 2.5])
at("frac:integers", lambda T, x: T.frac(x), [0.0, 1.0, -2.0, 2.5])
at("sinc:zero", lambda T, x: T.sinc(x), [0.0, 1.0, -2.0, 0.5], d2=False)  # torch's 2nd derivative at 0 is nan
at("lgamma:near_poles", lambda T, x: T.lgamma(x), [-0.999, -1.001, -2.5, 0.001], **TRI)
at("digamma:near_poles", lambda T, x: T.digamma(x), [-0.999, -1.001, -2.5, 1e-3], **TRI)
at("erfinv:near_one", lambda T, x: T.erfinv(x), [0.999, -0.999999, 0.99999999], rtol=1e-8)
at("remainder:signs", lambda T, a, b: T.remainder(a, b) + T.fmod(a, b), [5.0, -5.0, 3.0, -3.0, 0.5],
   [-2.5, 2.5, 2.0, -2.0, 3.0])
at("atan2:axes", lambda T, a, b: T.atan2(a, b), [0.0, 1.0, -1.0, 0.0], [1.0, 0.0, 0.0, -1.0])

IDS = tb.ids(CASES)
FD = [c for c in CASES if c.fd]
D2 = [c for c in CASES if c.d2]


# --------------------------------------------------------------------------- the table checks
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value(case, dtype: str) -> None:
    tb.check_value(case, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad(case, dtype: str) -> None:
    tb.check_grad(case, dtype)


@pytest.mark.parametrize("case", D2, ids=[c.id for c in D2])
def test_second_derivative(case) -> None:
    tb.check_second(case)


@pytest.mark.parametrize("case", FD, ids=[c.id for c in FD])
def test_finite_differences(case) -> None:
    tb.check_fd(case)


@pytest.mark.parametrize("order", [1, 2], ids=["vjp", "vjp_of_grad"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_batched_cotangents(case, order: int) -> None:
    tb.check_batched(case, order)


@pytest.mark.parametrize("case", D2, ids=[c.id for c in D2])
def test_batched_create_graph(case) -> None:
    tb.check_batched_create_graph(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_rules(case) -> None:
    tb.check_jvp_rules(case)


@pytest.mark.parametrize("case", FD, ids=[c.id for c in FD])
def test_jvp_finite_differences(case) -> None:
    tb.check_jvp_fd(case)


@pytest.mark.parametrize("case", [c for c in CASES if c.torch_fwd], ids=[c.id for c in CASES if c.torch_fwd])
def test_forward_mode(case) -> None:
    tb.check_forward_mode(case)


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
    case = tb.Case("rmod", lambda T, b: 2.5 % b, (b.shape,), values=(b,))
    v = [np.ones(4)]
    got = vjp(autojac, case.fn, [b], v)[0]
    np.testing.assert_allclose(got, -np.floor(2.5 / b), rtol=1e-12)
    tb.check_fd(case)
    tb.check_jvp_fd(case)
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
