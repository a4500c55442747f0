"""Scans along a dimension: cumsum, cumprod, logcumsumexp, cummax/cummin, diff.

Each primitive stores its ``dim`` non-negative (for the unbatched tensor); rules shift it past
the ``nb`` leading batch dims of a cotangent or tangent.
"""

from __future__ import annotations

import numpy as np

from .._core.batching import Axes, n_batch
from .._core.node import Saves, nondiff
from .._core.patterns import SELECT, scan_pattern
from .._dtype import torch_name
from .._tensor import Tensor, _wrap, _wrap_dim
from ._declare import conj, defop, linear, renamed
from ._return_types import return_type
from .elementwise import exp, log, where
from .gather import pick
from .index import take
from .reduce import _others_last
from .shape import _clone, cat, narrow

__all__ = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "diff"]


def _int_to_long(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # PyTorch accumulates integer and bool scans in int64
    return out.astype(np.int64) if x.dtype.kind in "biu" and out.dtype != np.int64 else out


# --------------------------------------------------------------------------- cumsum
def _cumsum_forward(x, dim):
    return _int_to_long(x, np.cumsum(x, axis=dim) if x.ndim else x.copy())


def _rcumsum_forward(x, dim):
    if not x.ndim:
        return x.copy()
    return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)


_cumsum = linear("cumsum", _cumsum_forward,
                vjp=(lambda g, ans, x, dim: _rcumsum(g, dim + n_batch(g, x)) if x.ndim else g,),
                saves_inputs=Saves.NOTHING, sparsity=scan_pattern(nonlinear=()), batch=Axes(1))
# reverse cumsum (sum over k >= j): cumsum's adjoint, and the other way round
_rcumsum = linear("reverse_cumsum", _rcumsum_forward,
                 vjp=(lambda g, ans, x, dim: _cumsum(g, dim + n_batch(g, x)) if x.ndim else g,),
                 saves_inputs=Saves.NOTHING, grad_name="CumsumBackward0",
                 sparsity=scan_pattern(reverse=True, nonlinear=()),
                 batch=Axes(1))


def _prepare(input: Tensor, dim: int, dtype) -> tuple[Tensor, int]:
    if dtype is not None:
        input = input.to(dtype)
    return input, _wrap_dim(dim, input._data.ndim)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim`` (integer and bool inputs give int64).

    >>> import autojac
    >>> autojac.cumsum(autojac.tensor([1., 2., 3.]), dim=0)
    tensor([1., 3., 6.])
    """
    return _cumsum(*_prepare(input, dim, dtype))


# --------------------------------------------------------------------------- cumprod
def _cumprod_forward(x, dim):
    return _int_to_long(x, np.cumprod(x, axis=dim) if x.ndim else x.copy())


def _last(x: Tensor, ax: int) -> Tensor:
    return x.movedim(ax, -1)


def _cumprod_jacobian(x: Tensor, dim: int) -> Tensor:
    """``M[..., k, j] = d out_k / d x_j = prod_{i <= k, i != j} x_i`` (0 for j > k), ``dim`` moved last.

    Built from products that leave one factor out (no division): exact where ``x`` has zeros, and
    differentiable again. O(n^2) per slice, so it is used only when ``x`` has zeros.
    """
    xl = _last(x, dim)
    n = xl.shape[-1]
    after = _wrap(np.triu(np.ones((n, n), dtype=bool), 1))  # row k: factors i > k are left out (set to 1)
    rows = where(after, _wrap(np.ones((), x._data.dtype)), xl.unsqueeze(-2))
    return where(_wrap(np.tril(np.ones((n, n), dtype=bool))), _others_last(rows), _wrap(np.zeros((), x._data.dtype)))


def _cumprod_vjp(g, ans, x, dim):
    if not x.ndim:
        return g
    ax = dim + n_batch(g, x)
    if not np.any(x._data == 0):  # complex: g times the conjugate Jacobian
        return _rcumsum(g * conj(ans), ax) / conj(x)
    m = conj(_cumprod_jacobian(x, dim))
    return (_last(g, ax).unsqueeze(-1) * m).sum(-2).movedim(-1, ax)


def _cumprod_jvp(t, ans, x, dim):
    if not x.ndim:
        return t
    ax = dim + n_batch(t, x)
    if not np.any(x._data == 0):
        return ans * _cumsum(t / x, ax)
    m = _cumprod_jacobian(x, dim)
    return (_last(t, ax).unsqueeze(-2) * m).sum(-1).movedim(-1, ax)


_cumprod = defop("cumprod", _cumprod_forward, vjp=(_cumprod_vjp,), jvp=(_cumprod_jvp,), saves_ans=True,
                 sparsity=scan_pattern(), batch=Axes(1))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim``; its gradient is exact where the input has zeros.

    >>> import autojac
    >>> x = autojac.tensor([2., 0., 3.], requires_grad=True)
    >>> autojac.cumprod(x, 0).sum().backward(); x.grad
    tensor([1., 8., 0.])
    """
    return _cumprod(*_prepare(input, dim, dtype))


# --------------------------------------------------------------------------- logcumsumexp
def _lcse_forward(x, dim):
    if not x.ndim:
        return x.copy()
    return np.logaddexp.accumulate(x, axis=dim)


def _rlcse(x: Tensor, ax: int) -> Tensor:
    """``log sum_{k >= j} exp(x_k)`` (the reversed scan)."""
    return _lcse(x.flip(ax), ax).flip(ax)


def _log_parts(w: Tensor, shift: Tensor):
    """``(log(w+) - shift, log(w-) - shift)`` with ``-inf`` where a part is 0 or ``shift`` is ``-inf``.

    Signed weights enter a log-domain scan split by sign. Every ``log`` and subtraction sees safe
    arguments (the double-``where`` idiom), so no ``inf * 0`` reaches a derivative.
    """
    fin = _wrap(np.isfinite(shift._data)) if not np.isfinite(shift._data).all() else None
    s = shift if fin is None else where(fin, shift, 0.0)
    out = []
    for part, mag in ((w > 0, w), (w < 0, -w)):
        keep = part if fin is None else part & fin
        out.append(where(keep, log(where(part, mag, 1.0)) - s, float("-inf")))
    return out


def _lcse_vjp(g, ans, x, dim):
    # d out_k / d x_j = exp(x_j - out_k) for j <= k: grad_j = sum_{k >= j} g_k exp(x_j - out_k)
    if not x.ndim:
        return g
    ax = dim + n_batch(g, x)
    pos, neg = _log_parts(g, ans)
    return exp(x + _rlcse(pos, ax)) - exp(x + _rlcse(neg, ax))


def _lcse_jvp(t, ans, x, dim):
    # out_t_k = sum_{j <= k} t_j exp(x_j - out_k)
    if not x.ndim:
        return t
    ax = dim + n_batch(t, x)
    zero = _wrap(np.zeros((), x._data.dtype))
    pos, neg = _log_parts(t, zero)
    fin = np.isfinite(ans._data)
    a = ans if fin.all() else where(_wrap(fin), ans, 0.0)
    return exp(_lcse(x + pos, ax) - a) - exp(_lcse(x + neg, ax) - a)


_lcse = defop("logcumsumexp", _lcse_forward, vjp=(_lcse_vjp,), jvp=(_lcse_jvp,), saves_ans=True, cast="float",
              sparsity=scan_pattern(), batch=Axes(1))


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, computed without overflow.

    >>> import autojac
    >>> autojac.logcumsumexp(autojac.tensor([0., 0., 10.]), 0)
    tensor([ 0.0000,  0.6931, 10.0001])
    """
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{torch_name(input.dtype)}'")
    return _lcse(input, _wrap_dim(dim, input._data.ndim))


# --------------------------------------------------------------------------- cummax / cummin
CummaxResult = return_type("cummax")
CumminResult = return_type("cummin")


def _cum_extreme_indices(x: np.ndarray, dim: int, largest: bool) -> np.ndarray:
    """PyTorch's indices: the last position where the running extreme was reached (NaN wins and sticks)."""
    run = (np.maximum if largest else np.minimum).accumulate(x, axis=dim)
    update = (x == run) | np.isnan(x) if x.dtype.kind == "f" else (x == run)
    shape = [1] * x.ndim
    shape[dim] = x.shape[dim]
    pos = np.where(update, np.arange(x.shape[dim]).reshape(shape), 0)
    return np.maximum.accumulate(pos, axis=dim)


# the indices as an op (vmap runs it on the whole batch: a shifted dim), so the pick sees batched indices
_cum_extreme_op = nondiff("cum_extreme_indices", _cum_extreme_indices, batch=Axes("dim"))


def _cum_extreme(input: Tensor, dim: int, largest: bool):
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    result = CummaxResult if largest else CumminResult
    op = _CUM_OPS[largest]
    if nd == 0:
        return result(_CUM_0D[largest](input), _wrap(np.array(0)))
    idx = _cum_extreme_op(input, dim=d, largest=largest)
    return result(pick(op, input, idx, d), idx)


def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim`` and where it was reached: ``(values, indices)``.

    The gradient goes to the index reported (the last of tied maxima, as PyTorch picks).

    >>> import autojac
    >>> autojac.cummax(autojac.tensor([1., 3., 2., 3.]), 0).indices
    tensor([0, 1, 1, 3])
    """
    return _cum_extreme(input, dim, True)


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim`` and where it was reached: ``(values, indices)``.

    >>> import autojac
    >>> autojac.cummin(autojac.tensor([3., 1., 2., 1.]), 0).values
    tensor([3., 1., 1., 1.])
    """
    return _cum_extreme(input, dim, False)


def _cum_ops() -> tuple[dict, dict]:
    return ({True: renamed(take, "CummaxBackward0"), False: renamed(take, "CumminBackward0")},
            {True: renamed(_clone, "CummaxBackward0"), False: renamed(_clone, "CumminBackward0")})


_CUM_OPS, _CUM_0D = _cum_ops()
for _op in _CUM_OPS.values():
    _op.sparsity = SELECT  # where the running extreme sits depends on the values


# --------------------------------------------------------------------------- diff
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim``, after concatenating ``prepend``/``append``.

    >>> import autojac
    >>> autojac.diff(autojac.tensor([1., 4., 9., 16.]))
    tensor([3., 5., 7.])
    """
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, nd)
    for p in (prepend, append):
        if p is not None and p._data.ndim != nd:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    parts = [p for p in (prepend,) if p is not None] + [input] + [p for p in (append,) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        size = x._data.shape[d]
        if size == 0:
            break
        hi, lo = narrow(x, d, 1, size - 1), narrow(x, d, 0, size - 1)
        x = hi ^ lo if x._data.dtype == np.bool_ else hi - lo
    return x
