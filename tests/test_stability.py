"""Numerical stability at extreme inputs: values, gradients, second derivatives and forward-mode
tangents against PyTorch at +-1000, the float32 exp overflow boundary (+-88/89), 0 and -0,
denormals (1e-310, float32 1e-40) and huge values (1e300, float32 3e38).

The comparison requires the same entries to be nan, the same to be +inf and the same -inf, and
the finite entries to agree to a few ulps. Where autojac deliberately differs (norms that PyTorch
overflows to inf or underflows to 0), the test checks the exact value instead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import autojac

INF = float("inf")
TOL = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-6)}  # rtol, atol: a few roundings (tests/_tol.py)
POINTS = {
    "float64": [-1e300, -1000.0, -89.0, -88.0, -20.0, -1.0, -0.0, 0.0, 1e-310, 1.0, 20.0, 88.0, 89.0, 1000.0, 1e300],
    "float32": [-3e38, -1000.0, -89.0, -88.0, -20.0, -1.0, -0.0, 0.0, 1e-40, 1.0, 20.0, 88.0, 89.0, 1000.0, 3e38],
}
NONNEG = {"float64": [0.0, -0.0, 1e-310, 1e-300, 1.0, 1e300], "float32": [0.0, -0.0, 1e-40, 1e-30, 1.0, 3e38]}
TINY = {"float64": 1e-310, "float32": 1e-40}
HUGE = {"float64": 1e300, "float32": 3e38}


def _softplus(T, x, beta=1.0, threshold=20.0):
    return torch.nn.functional.softplus(x, beta, threshold) if T is torch else autojac.softplus(x, beta, threshold)


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor) and t._is_zerotensor():  # PyTorch's lazy zeros (derivative of abs')
        return np.zeros(tuple(t.shape))
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _derivatives(T, f, vals, dtype: str, second: bool, forward: bool) -> dict:
    """Value, gradient of sum(f), (second derivative of sum(grad)), (forward tangent along ones)."""
    x = T.tensor(vals, dtype=getattr(T, dtype), requires_grad=True)
    y = f(T, x)
    res = {"value": _np(y)}
    (g,) = T.autograd.grad(y.sum(), x, create_graph=second, allow_unused=True)
    res["grad"] = np.zeros(x.shape) if g is None else _np(g)
    if second:
        h = T.autograd.grad(g.sum(), x, allow_unused=True)[0] if g is not None and g.requires_grad else None
        res["grad2"] = np.zeros(x.shape) if h is None else _np(h)
    if forward:
        fwd = T.autograd.forward_ad
        with fwd.dual_level():
            t = fwd.unpack_dual(f(T, fwd.make_dual(x.detach(), T.ones_like(x)))).tangent
        res["jvp"] = np.zeros(y.shape) if t is None else _np(t)
    return res


def assert_like_torch(f, vals, dtype: str, second: bool = True, forward: bool = True, fix=None) -> dict:
    """Compare with PyTorch; ``fix(theirs, x)`` may correct PyTorch's results where they are inexact."""
    ours = _derivatives(autojac, f, vals, dtype, second, forward)
    theirs = _derivatives(torch, f, vals, dtype, second, forward)
    if fix is not None:
        fix(theirs, torch.tensor(vals, dtype=torch.float64))
    rtol, atol = TOL[dtype]
    for key, expected in theirs.items():
        got = ours[key]
        where = f"{key} at {vals} ({dtype})"
        assert got.shape == expected.shape, where
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=f"nan pattern of {where}")
        np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected), err_msg=f"+inf pattern of {where}")
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(expected), err_msg=f"-inf pattern of {where}")
        fin = np.isfinite(expected)
        np.testing.assert_allclose(got[fin], expected[fin], rtol=rtol, atol=atol, err_msg=where)
    return ours


DTYPES = ["float64", "float32"]

# ----------------------------------------------------------------------------- elementwise

ELEMENTWISE = {
    "sigmoid": lambda T, x: T.sigmoid(x),
    "tanh": lambda T, x: T.tanh(x),
    "exp": lambda T, x: T.exp(x),
    "expm1": lambda T, x: T.expm1(x),
    "softplus": lambda T, x: _softplus(T, x),
    "softplus_beta2": lambda T, x: _softplus(T, x, 2.0, 20.0),
    "softplus_beta_half_t5": lambda T, x: _softplus(T, x, 0.5, 5.0),
    "softplus_t1": lambda T, x: _softplus(T, x, 1.0, 1.0),
    "square": lambda T, x: T.square(x),
}


SOFTPLUS_KNOTS = {"softplus": (1.0, 20.0), "softplus_beta2": (2.0, 20.0), "softplus_beta_half_t5": (0.5, 5.0),
                  "softplus_t1": (1.0, 1.0)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_extremes(name: str, dtype: str) -> None:
    # second derivatives are compared away from the softplus thresholds: PyTorch's double
    # backward masks with x*beta < threshold while its backward uses x*beta > threshold
    pts = POINTS[dtype]
    second = not name.startswith("softplus")
    assert_like_torch(ELEMENTWISE[name], pts, dtype, second=second)
    if not second:
        beta, threshold = SOFTPLUS_KNOTS[name]
        assert_like_torch(ELEMENTWISE[name], [p for p in pts if p * beta != threshold], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_softplus_saturate_cleanly(dtype: str) -> None:
    x = autojac.tensor([-1000.0, 1000.0], dtype=getattr(autojac, dtype), requires_grad=True)
    s = autojac.sigmoid(x)
    (gs,) = autojac.autograd.grad(s.sum(), x)
    assert s.tolist() == [0.0, 1.0] and gs.tolist() == [0.0, 0.0]
    sp = autojac.softplus(x)
    (gsp,) = autojac.autograd.grad(sp.sum(), x)
    assert sp.tolist() == [0.0, 1000.0] and gsp.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sqrt", "rsqrt", "log", "log2", "log1p", "reciprocal"])
def test_roots_and_logs_at_zero(name: str, dtype: str) -> None:
    f = lambda T, x: getattr(T, name)(x)  # noqa: E731
    ours = assert_like_torch(f, NONNEG[dtype], dtype)
    if name == "sqrt":  # d sqrt(x)/dx at 0 is +inf, at -0. it is -inf (1 / (2 * -0.)), as in PyTorch
        assert ours["grad"][0] == INF and ours["grad"][1] == -INF and ours["value"][1] == 0.0


# ----------------------------------------------------------------------------- pow with a zero base

EXPONENTS = [0, 0.0, 1, 2, 2.0, 3, 0.5, 1.5, -1, -2, -0.5, -1.5]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("e", EXPONENTS, ids=[repr(e) for e in EXPONENTS])
def test_pow_zero_base_scalar_exponent(e, dtype: str) -> None:
    bases = [0.0, -0.0, TINY[dtype], 1.0, -1.0, 2.0]
    ours = assert_like_torch(lambda T, x: x ** e, bases, dtype)
    if e == 0:  # 0**0 = 1 with zero gradient
        assert ours["value"][0] == 1.0 and ours["grad"][0] == 0.0
    if e in (2, 2.0, 3, 1.5):  # a finite zero gradient at 0
        assert ours["grad"][0] == 0.0
    if e == 1:
        assert ours["grad"][0] == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_zero_base_tensor_exponent(dtype: str) -> None:
    exps = [0.0, 0.5, 1.0, 2.0, -1.0, 0.0, -0.5, 3.0]
    bases = [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -0.0, -0.0]
    # the gradient with respect to the base, and with respect to the exponent (zero at 0**b, b >= 0)
    assert_like_torch(lambda T, x: x ** T.tensor(exps, dtype=x.dtype), bases, dtype)
    assert_like_torch(lambda T, e: T.tensor(bases, dtype=e.dtype) ** e, exps, dtype)
    for base in (0, 0.0, 2.0, -2.0, 1.0):  # a Python number as the base
        assert_like_torch(lambda T, e, base=base: base ** e, [0.0, 0.5, 1.0, 2.0, -1.0, -0.5], dtype)


# ----------------------------------------------------------------------------- reductions

ROWS = [
    [[-1000.0, 0.0, 1000.0]],
    [[-INF, 0.0, 1.0]],
    [[-INF, -INF, -INF]],  # an all -inf row: logsumexp -inf, softmax nan (as PyTorch)
    [[INF, 0.0, 1.0]],
    [[89.0, 88.0, -89.0]],
    [[-1000.0, -1000.0, -1000.0]],
    [[0.0, 0.0, 0.0]],
    [["huge", "huge", 0.0]],
    [["tiny", 0.0, "-tiny"]],
]
REDUCTIONS = {
    "logsumexp": lambda T, x: T.logsumexp(x, 1),
    "logsumexp_keepdim0": lambda T, x: T.logsumexp(x, 0, keepdim=True),
    "log_softmax": lambda T, x: T.log_softmax(x, 1) * T.tensor([[1.0, 2.0, 3.0]], dtype=x.dtype),
    "softmax": lambda T, x: T.softmax(x, 1) * T.tensor([[1.0, 2.0, 3.0]], dtype=x.dtype),
}


def _row(row, dtype: str) -> list:
    sub = {"huge": HUGE[dtype], "tiny": TINY[dtype], "-tiny": -TINY[dtype]}
    return [[sub.get(v, v) if isinstance(v, str) else v for v in r] for r in row]


def _lse_exact(dim: int):
    """PyTorch's logsumexp backward, exp(x - logsumexp(x)), loses the small terms of logsumexp to
    rounding ([1e300, 1e300] gets gradient [1, 1]; float32 rows near -1000 are off by 2e-5); ours is
    softmax(x) normalized directly (as PyTorch's own forward-mode rule is). So the expected gradient
    is softmax(x), and the second derivative of sum(grad) = sum(softmax) = 1 is 0 where finite."""
    def fix(theirs: dict, x) -> None:
        sm = torch.softmax(x, dim).numpy()
        theirs["grad"] = np.where(np.isfinite(sm), sm, theirs["grad"])
        theirs["grad2"] = np.where(np.isfinite(theirs["grad2"]), 0.0, theirs["grad2"])
    return fix


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_extremes(name: str, dtype: str) -> None:
    fix = {"logsumexp": _lse_exact(1), "logsumexp_keepdim0": _lse_exact(0)}.get(name)
    for row in ROWS:
        assert_like_torch(REDUCTIONS[name], _row(row, dtype), dtype, fix=fix)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_values(dtype: str) -> None:
    x = autojac.tensor([[-1000.0, 0.0, 1000.0], [-INF, -INF, -INF], [-1000.0, -1000.0, -1000.0]],
                       dtype=getattr(autojac, dtype), requires_grad=True)
    y = autojac.logsumexp(x, 1)
    (g,) = autojac.autograd.grad(y.sum(), x)
    assert y[0].item() == 1000.0 and y[1].item() == -INF
    assert y[2].item() == pytest.approx(-1000.0 + math.log(3.0), rel=1e-6)
    assert g[0].tolist() == [0.0, 0.0, 1.0] and np.isnan(g[1]._data).all()
    np.testing.assert_allclose(g[2]._data, [1 / 3] * 3, rtol=1e-7)  # PyTorch's float32: 2e-5 off
    z = autojac.tensor([[1e300, 1e300, 0.0]], dtype=autojac.float64, requires_grad=True)
    (gz,) = autojac.autograd.grad(autojac.logsumexp(z, 1).sum(), z)
    assert gz.tolist() == [[0.5, 0.5, 0.0]]  # PyTorch: [1, 1, 0]


NORMS = {
    "norm2": lambda T, x: x.norm(),
    "norm2_dim": lambda T, x: x.norm(dim=1),
    "norm3": lambda T, x: x.norm(p=3),
    "norm1.5": lambda T, x: x.norm(p=1.5),
    "norm0.5": lambda T, x: x.norm(p=0.5),
    "norm1": lambda T, x: x.norm(p=1),
    "norm_inf": lambda T, x: x.norm(p=INF),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(NORMS))
def test_norm_at_zero_and_ordinary_points(name: str, dtype: str) -> None:
    # zero gradient at a zero norm (and, for p < 1, where x == 0), as in PyTorch
    for row in ([[0.0, 0.0, 0.0]], [[0.0, 3.0, -4.0]], [[-1000.0, 0.0, 1000.0]], [[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]):
        # second derivatives where the norm is not differentiable (0, or x == 0 for p < 1): PyTorch's
        # are nan for p = 2 and p < 1, ours 0 for p = 2 (the masked branch is kept finite)
        second = name != "norm0.5" and not (name.startswith("norm2") and row[0] == [0.0, 0.0, 0.0])
        ours = assert_like_torch(NORMS[name], row, dtype, second=second)
        if row[0] == [0.0, 0.0, 0.0]:
            assert not ours["grad"][0].any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 3.0, 1.5, 0.5])
def test_norm_no_overflow_or_underflow(p: float, dtype: str) -> None:
    # Deliberately better than PyTorch, whose plain sum of |x|^p overflows to inf (gradient 0 or
    # nan) from 1e154 (float64) and underflows to 0 below 1e-154: we rescale by max|x|.
    for scale in (HUGE[dtype], 1e200 if dtype == "float64" else 1e30, 1e-200 if dtype == "float64" else 1e-30,
                  TINY[dtype]):
        vals = [scale / 2, -scale / 2, 0.0] if p != 0.5 else [scale / 8, -scale / 8, 0.0]
        x = autojac.tensor(vals, dtype=getattr(autojac, dtype), requires_grad=True)
        y = x.norm(p=p)
        (g,) = autojac.autograd.grad(y, x)
        exact = 2 ** (1 / p) * abs(vals[0])  # two equal magnitudes and a zero
        rel = 1e-12 if dtype == "float64" else 1e-5
        if scale == TINY[dtype]:
            rel = 1e-4  # denormal inputs carry few significant bits
        assert y.item() == pytest.approx(exact, rel=rel), (scale, p)
        expected_g = [2 ** ((1 - p) / p), -(2 ** ((1 - p) / p)), 0.0]  # sgn(x) (|x|/||x||)^(p-1)
        np.testing.assert_allclose(g._data, expected_g, rtol=max(rel, 1e-6))


@pytest.mark.parametrize("dtype", DTYPES)
def test_norm_of_inf_and_nan(dtype: str) -> None:
    for row in ([[INF, 1.0, 0.0]], [[float("nan"), 1.0, 0.0]]):
        for name in ("norm2", "norm2_dim", "norm3", "norm1"):
            assert_like_torch(NORMS[name], row, dtype, second=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_var_std_of_constant_rows(dtype: str) -> None:
    # std is sqrt(var): its gradient at var == 0 is 0 in PyTorch, not 0 * inf
    for row in ([[1.0, 1.0, 1.0]], [[0.0, 0.0, 0.0]], [[1000.0, 1000.0, 1000.0]]):
        assert_like_torch(lambda T, x: x.std(1), row, dtype, second=False)
        assert_like_torch(lambda T, x: x.var(1), row, dtype)
