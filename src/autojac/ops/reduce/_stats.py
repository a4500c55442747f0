"""Statistics and norms: var/std (and with mean), norm."""

from __future__ import annotations

import numpy as np

from ..._core.batching import BROADCAST, Axes, n_batch, shift
from ..._core.node import Saves
from ..._core.patterns import ELEMENTWISE, reduce_pattern
from ..._tensor import Tensor
from .._declare import conj, defop, named
from ..complex import real
from ..elementwise import abs as _abs
from ..elementwise import isnan, sign, where
from ._extremes import _amax, _amin
from ._sum import _count, _float_check, _sum, mean, normalize_dims, sum, unreduce


# --------------------------------------------------------------------------- statistics
def _correction(unbiased, correction) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance (Bessel-corrected by default, as in PyTorch).

    >>> import autojac
    >>> autojac.tensor([1., 2., 3., 4.]).var()
    tensor(1.6667)
    """
    if isinstance(dim, bool):  # var(unbiased) positional form
        unbiased, dim = dim, None
    _float_check(input, "var")
    dims = normalize_dims(dim, input._data.ndim)
    n = _count(input._data.shape, dims)
    c = _correction(unbiased, correction)
    centered = input - mean(input, dims, True)
    sq = centered * centered if input._data.dtype.kind != "c" else _abs2(centered)
    return named(sum(sq, dims, keepdim) / float(np.maximum(n - c, 0)), "VarBackward0")


def _abs2(z: Tensor) -> Tensor:
    """``|z|^2`` of a complex tensor, as a real one (var and std of complex tensors are real)."""
    return real(z * conj(z))


def _std_rule(g, ans, v):
    # PyTorch's std backward, (g / (2 std)).masked_fill_(std == 0, 0): zero where std is 0 whatever g is
    # (even nan); the inner where keeps the masked branch finite, so higher derivatives stay 0 too
    zero = ans == 0
    return where(zero, 0.0, g * (0.5 / where(zero, 1.0, ans)))


_std_sqrt = defop("std", np.sqrt, vjp=(_std_rule,), jvp=(_std_rule,), saves_inputs=Saves.NOTHING, saves_ans=True,
                  cast="float", grad_name="StdBackward0", sparsity=ELEMENTWISE, batch=BROADCAST)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation (Bessel-corrected by default)."""
    return _std_sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (named(var(input, dim, unbiased, keepdim, correction=correction), "VarMeanBackward0"),
            named(mean(input, dim, keepdim), "VarMeanBackward0"))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (named(std(input, dim, unbiased, keepdim, correction=correction), "StdMeanBackward0"),
            named(mean(input, dim, keepdim), "StdMeanBackward0"))


def _norm2_forward(x, dims, keepdim):
    r = np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
    return r if _norm_ok(r, 2.0) else _rescaled_norm(x, 2.0, dims, keepdim)


def _pnorm_forward(x, p, dims, keepdim):
    r = np.sum(np.abs(x) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    return r if _norm_ok(r, p) else _rescaled_norm(x, p, dims, keepdim)


def _norm_ok(r: np.ndarray, p: float) -> bool:
    """Whether no power |x|^p can have overflowed, or underflowed enough to matter (PyTorch's
    naive sum overflows to inf from |x| ~ 1e154 in float64, 1e19 in float32)."""
    fi = np.finfo(r.dtype)
    lo = (float(fi.tiny) / float(fi.eps)) ** (1.0 / p) if p > 0 else 0.0
    return bool(np.all((r >= lo) & (r < np.inf)))


def _rescaled_norm(x, p, dims, keepdim):
    """The p-norm computed as ``m * ||x / m||`` with ``m`` the largest magnitude: no overflow or
    underflow of the powers (the slow path, taken only when the plain sum went out of range)."""
    a = np.abs(x)
    if a.size:
        m = np.max(a, axis=dims, keepdims=True)
        m = np.where((m > 0) & (m < np.inf), m, np.ones((), a.dtype))
    else:
        m = np.ones((1,) * a.ndim, a.dtype)
    s = a / m
    r = (np.sqrt(np.sum(s * s, axis=dims, keepdims=True)) if p == 2.0 else
         np.sum(s ** p, axis=dims, keepdims=True) ** (1.0 / p)) * m
    return r if keepdim else np.squeeze(r, axis=dims)


def _norm2_vjp(g, ans, x, dims, keepdim):
    # zero gradient at a zero norm, as PyTorch defines it
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    return unreduce(g, tuple(x.shape), dims, keepdim) * where(full == 0, 0.0, x / full)


def _norm2_jvp(t, ans, x, dims, keepdim):
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    return _sum(t * where(full == 0, 0.0, x / full), shift(dims, n_batch(t, x)), keepdim)


_norm2 = defop("norm", _norm2_forward, vjp=(_norm2_vjp,), jvp=(_norm2_jvp,), saves_ans=True,
               saves_inputs=Saves.INPUTS, grad_name="NormBackward1", sparsity=reduce_pattern(), batch=Axes(1))


# General p: d||x||_p/dx = sgn(x) (|x| / ||x||)^(p-1) (PyTorch's norm_backward/norm_jvp). For p >= 2
# it is computed from the ratio |x|/||x|| <= 1, so no power overflows or underflows at extreme
# magnitudes; zero at a zero norm for p > 1; for p < 1 as |x|^(p-1) ||x||^(1-p), zero where x == 0
# (an inner where keeps that masked branch finite: higher derivatives are not poisoned by 0 * inf).
def _pnorm_factor(ans, x, p, dims, keepdim):
    n = unreduce(ans, tuple(x.shape), dims, keepdim)
    if p < 1.0:
        xz = x == 0
        return sign(x) * where(xz, 0.0, where(xz, 1.0, _abs(x)) ** (p - 1.0)) * n ** (1.0 - p)
    if p < 2.0:  # powers below 1 of |x| and of the norm stay in range; the ratio's would spread nan
        nz = n == 0  # (d r^(p-1)/dr is infinite at r = 0) from one entry to all in higher derivatives
        return sign(x) * _abs(x) ** (p - 1.0) * where(nz, 0.0, 1.0 / where(nz, 1.0, n) ** (p - 1.0))
    return sign(x) * (_abs(x) / where(n == 0, 1.0, n)) ** (p - 1.0)


def _pnorm_vjp(g, ans, x, p, dims, keepdim):
    return unreduce(g, tuple(x.shape), dims, keepdim) * _pnorm_factor(ans, x, p, dims, keepdim)


def _pnorm_jvp(t, ans, x, p, dims, keepdim):
    return _sum(t * _pnorm_factor(ans, x, p, dims, keepdim), shift(dims, n_batch(t, x)), keepdim)


_pnorm = defop("norm", _pnorm_forward, vjp=(_pnorm_vjp,), jvp=(_pnorm_jvp,), saves_ans=True,
               saves_inputs=Saves.INPUTS, grad_name="NormBackward1", sparsity=reduce_pattern(dims_at=2), batch=Axes(2))


# p = +-inf: the largest (smallest) |x|. PyTorch's rule: sgn(x) * g / count on a mask of the entries equal
# to the norm or nan, so a nan entry takes the gradient times sgn(nan), which PyTorch makes 0
def _inf_norm_factor(ans, x, dims, keepdim):
    ax = _abs(x)
    mask = (ax == unreduce(ans, tuple(x.shape), dims, keepdim)) | isnan(ax)
    return where(mask, where(isnan(x), 0.0, sign(x)), 0.0) / _sum(mask, dims, True)


def _inf_norm_vjp(g, ans, x, dims, keepdim):
    return unreduce(g, tuple(x.shape), dims, keepdim) * _inf_norm_factor(ans, x, dims, keepdim)


def _inf_norm_jvp(t, ans, x, dims, keepdim):
    return _sum(t * _inf_norm_factor(ans, x, dims, keepdim), shift(dims, n_batch(t, x)), keepdim)


def _abs_extreme(fn):
    def forward(x, dims, keepdim):
        return fn(np.abs(x), dims, keepdim)
    return forward


_inf_norm = defop("norm", _abs_extreme(_amax.forward), vjp=(_inf_norm_vjp,), jvp=(_inf_norm_jvp,), saves_ans=True,
                  grad_name="NormBackward1", batch=Axes(1))
_neg_inf_norm = defop("norm", _abs_extreme(_amin.forward), vjp=(_inf_norm_vjp,), jvp=(_inf_norm_jvp,),
                      saves_ans=True, grad_name="NormBackward1", batch=Axes(1))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm (2 by default) over all elements or over ``dim``.

    >>> import autojac
    >>> autojac.tensor([3., 4.]).norm()
    tensor(5.)
    """
    if dtype is not None:
        input = input.to(dtype)
    _float_check(input, "norm")
    if input._data.dtype.kind == "c":  # every p-norm depends on |z| only; abs gives the complex gradient
        input = _abs(input)
    if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:  # PyTorch: a matrix norm then
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    return named(_vector_norm(input, p, normalize_dims(dim, input._data.ndim), keepdim), "LinalgVectorNormBackward0")


def _vector_norm(input: Tensor, p, dims: tuple, keepdim: bool) -> Tensor:
    if p in ("fro", 2, 2.0, None):
        return _norm2(input, dims, keepdim)
    if p in (float("inf"), "inf"):
        return _inf_norm(input, dims, keepdim)
    if p in (float("-inf"), "-inf"):
        return _neg_inf_norm(input, dims, keepdim)
    if p == 0:
        return sum(input != 0, dims, keepdim).to(input.dtype)
    if p == 1:
        return sum(_abs(input), dims, keepdim)
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    return _pnorm(input, float(p), dims, keepdim)
