"""The softmax family: logsumexp, softmax, log_softmax."""

from __future__ import annotations

import numpy as np

from ..._core.batched import Batched
from ..._core.batching import Axes, n_batch, shift
from ..._core.node import Saves, nondiff
from ..._core.patterns import fiberwise_pattern, reduce_pattern
from ..._tensor import Tensor, _wrap, _wrap_dim
from .._declare import conj, defop, named
from ..elementwise import exp
from ._sum import _sum, normalize_dims, unreduce


def _lse_forward(x, dims, keepdim):
    m = np.max(x.real, axis=dims, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=dims)


def _lse_weights(ans, x, dims, keepdim):
    """softmax(x) over ``dims``, normalized directly rather than as exp(x - logsumexp(x)): that
    form loses the small terms of logsumexp to rounding (exp(1e300 - 1e300) = 1 for both entries
    of [1e300, 1e300]; float32 rows near -1000 get 2e-5 relative errors). The shift ``m`` is a
    constant: softmax does not depend on it, so higher derivatives stay exact."""
    xd = x._data
    shift_ = _lse_shift(x, dims=dims) if type(xd) is Batched else _wrap(_shift_of(xd, dims))  # (vmap: an op)
    e = exp(x - shift_)
    return e / _sum(e, dims, True)


def _shift_of(xd: np.ndarray, dims: tuple) -> np.ndarray:
    """The largest real part over ``dims`` (0 where it is not finite): the shift that keeps exp in range."""
    m = np.max(xd.real, axis=dims, keepdims=True) if xd.size else np.zeros((1,) * xd.ndim, xd.dtype)
    return np.where(np.isfinite(m), m, 0).astype(xd.dtype, copy=False)


_lse_shift = nondiff("logsumexp_shift", _shift_of, batch=Axes("dims"))


_lse = defop(
    "logsumexp", _lse_forward,
    vjp=(lambda g, ans, x, dims, keepdim:
         unreduce(g, tuple(x.shape), dims, keepdim) * conj(_lse_weights(ans, x, dims, keepdim)),),
    jvp=(lambda t, ans, x, dims, keepdim:
         _sum(t * _lse_weights(ans, x, dims, keepdim), shift(dims, n_batch(t, x)), keepdim),),
    saves_ans=True, cast="float", sparsity=reduce_pattern(), batch=Axes(1)
)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow."""
    return _lse(input, normalize_dims(dim, input._data.ndim), keepdim)


def _complex_kernel_check(x, name: str) -> None:
    if x.dtype.kind == "c":
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{'ComplexFloat' if x.dtype == np.complex64 else 'ComplexDouble'}'")


def _softmax_forward(x, dim):
    _complex_kernel_check(x, "softmax_lastdim_kernel_impl")
    if x.size == 0:  # np.max has no identity for an empty axis; the result is just as empty
        return x.copy()
    m = np.max(x, axis=dim, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=dim, keepdims=True)


def _softmax_rule(g, ans, x, dim):
    d = dim - x.ndim  # negative, so it addresses the same axis with or without batch dims
    return ans * (g - _sum(g * ans, (g.ndim + d,), True))


_softmax = defop("softmax", _softmax_forward, vjp=(_softmax_rule,), jvp=(_softmax_rule,),
                 saves_inputs=Saves.NOTHING, saves_ans=True, cast="float", sparsity=fiberwise_pattern(),
                     batch=Axes(1))


def _log_softmax_forward(x, dim):
    _complex_kernel_check(x, "log_softmax_lastdim_kernel_impl")
    if x.size == 0:
        return x.copy()
    m = np.max(x, axis=dim, keepdims=True)
    s = x - m
    return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))


def _log_softmax_vjp(g, ans, x, dim):
    d = dim - x.ndim
    return g - exp(ans) * _sum(g, (g.ndim + d,), True)


def _log_softmax_jvp(t, ans, x, dim):
    d = dim - x.ndim
    return t - _sum(t * exp(ans), (t.ndim + d,), True)


_log_softmax = defop("log_softmax", _log_softmax_forward, vjp=(_log_softmax_vjp,), jvp=(_log_softmax_jvp,),
                     saves_inputs=Saves.NOTHING, saves_ans=True, cast="float", sparsity=fiberwise_pattern(),
                     batch=Axes(1))


def _softmax_dim(input: Tensor, dim, dtype) -> tuple:
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = 0 if input._data.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return input, _wrap_dim(dim, input._data.ndim)


def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``.

    >>> import autojac
    >>> autojac.softmax(autojac.tensor([0., 0.]), dim=0)
    tensor([0.5000, 0.5000])
    """
    input, d = _softmax_dim(input, dim, dtype)
    if input._data.ndim == 0:
        return named(_softmax(input.reshape(1), 0).reshape(()), "SoftmaxBackward0")
    return _softmax(input, d)


def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    input, d = _softmax_dim(input, dim, dtype)
    if input._data.ndim == 0:
        return named(_log_softmax(input.reshape(1), 0).reshape(()), "LogSoftmaxBackward0")
    return _log_softmax(input, d)
