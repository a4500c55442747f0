"""Sums and counts: sum, mean, prod, all/any/count_nonzero; the axis helpers normalize_dims and unreduce."""

from __future__ import annotations

import builtins as _b

import numpy as np

from ..._core.batching import BROADCAST, Axes, n_batch, shift
from ..._core.broadcast import expand as expand_op
from ..._core.node import Saves
from ..._core.patterns import reduce_pattern
from ..._tensor import Tensor, _wrap, _wrap_dim
from .._declare import conj, defop, linear, renamed
from ..elementwise import where
from ..shape import _reshape_alias_op


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)) and _b.all(isinstance(d, (int, np.integer)) for d in dim):
        dims = tuple(dim)
    else:
        what = type(dim).__name__ if not isinstance(dim, (tuple, list)) else \
            f"{type(dim).__name__} of {', '.join(sorted({type(d).__name__ for d in dim}))}"
        raise TypeError(f"argument 'dim' must be tuple of ints, not {what}")
    if not dims:
        return tuple(range(ndim))
    wrapped = [_wrap_dim(d, ndim) for d in dims]
    out = tuple(sorted(wrapped))
    if ndim == 0:  # a 0-d tensor accepts dim 0 / -1, but has no axis to reduce
        return ()
    if len(set(out)) != len(out):  # torch names the first repeated dim, wrapped
        dup = next(d for i, d in enumerate(wrapped) if d in wrapped[:i])
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return out


def unreduce(g: Tensor, x_shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduced cotangent (batch + reduced shape) back to batch + ``x_shape``.

    Calls the reshape and expand primitives directly: the shapes are right by construction,
    and a cotangent is never written in place, so the public methods' checks and view
    bookkeeping are not needed on this hot path (seed 000's Jacobian).
    """
    gs = g._data.shape
    nb = len(gs) - (len(x_shape) if keepdim else len(x_shape) - len(dims))
    batch = gs[:nb]
    kept = tuple(1 if i in dims else s for i, s in enumerate(x_shape))
    if gs[nb:] != kept:
        g = _reshape_alias_op(g, batch + kept)
    target = batch + tuple(x_shape)
    return g if g._data.shape == target else expand_op(g, target)


def _sum_forward(x, dims, keepdim):
    r = np.sum(x, axis=dims, keepdims=keepdim)
    if x.dtype.kind in "bi" and x.dtype != np.int64:
        r = r.astype(np.int64)
    return r


_sum = linear("sum", _sum_forward,
             vjp=(lambda g, ans, x, dims, keepdim: unreduce(g, tuple(x.shape), dims, keepdim),),
             saves_inputs=Saves.NOTHING, sparsity=reduce_pattern(nonlinear=()), batch=Axes(1))
_sum_dim = defop("sum", _sum_forward, vjp=_sum.vjp, jvp=_sum.jvp, saves_inputs=Saves.NOTHING,
                 grad_name="SumBackward1", sparsity=_sum.sparsity, batch=Axes(1))


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over all elements or over ``dim``.

    >>> import autojac
    >>> autojac.tensor([[1., 2.], [3., 4.]]).sum(dim=1)
    tensor([3., 7.])
    """
    if dtype is not None:
        input = input.to(dtype)
    dims = normalize_dims(dim, input._data.ndim)
    return (_sum if dim is None else _sum_dim)(input, dims, keepdim)


def _count(shape: tuple, dims: tuple) -> int:
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _float_check(x: Tensor, name: str) -> None:
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {x.dtype.name.capitalize() if x.dtype.name != 'int64' else 'Long'}"
        )


_mean = linear(
    "mean", lambda x, dims, keepdim: np.mean(x, axis=dims, keepdims=keepdim),
    vjp=(lambda g, ans, x, dims, keepdim:
         unreduce(g, tuple(x.shape), dims, keepdim) / float(_b.max(_count(tuple(x.shape), dims), 1)),),
    saves_inputs=Saves.NOTHING, sparsity=_sum.sparsity, batch=Axes(1)
)
_mean_dim = defop("mean", _mean.forward, vjp=_mean.vjp, jvp=_mean.jvp, saves_inputs=Saves.NOTHING,
                  grad_name="MeanBackward1", sparsity=_sum.sparsity, batch=Axes(1))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over all elements or over ``dim``.

    >>> import autojac
    >>> autojac.tensor([1., 2., 6.]).mean()
    tensor(3.)
    """
    if dtype is not None:
        input = input.to(dtype)
    _float_check(input, "mean")
    dims = normalize_dims(dim, input._data.ndim)
    return (_mean if dim is None else _mean_dim)(input, dims, keepdim)


def _others_last_forward(x: np.ndarray) -> np.ndarray:
    """Product of all other elements along the last axis (exact with zeros, no division)."""
    if not x.shape[-1]:
        return x.copy()
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = np.concatenate([ones, np.cumprod(x, axis=-1)[..., :-1]], axis=-1)
    right = np.concatenate([np.cumprod(x[..., ::-1], axis=-1)[..., :-1][..., ::-1], ones], axis=-1)
    return left * right


def _others_pairs(x: Tensor) -> Tensor:
    """``P[..., j, k]``: the product of all ``x_i`` with ``i`` not in ``{j, k}`` (0 on the diagonal).

    It is d(others_j)/d(x_k); built from ``_others_last`` again, so it is differentiable again.
    """
    n = x.shape[-1]
    eye = _wrap(np.eye(n, dtype=bool))
    rows = where(eye, _wrap(np.ones((), x._data.dtype)), x.unsqueeze(-2))  # row j: x with x_j := 1
    return where(eye, _wrap(np.zeros((), x._data.dtype)), _others_last(rows))


_others_last = defop(
    "prod_others", _others_last_forward,
    vjp=(lambda g, ans, x: (g.unsqueeze(-1) * conj(_others_pairs(x))).sum(-2),),
    jvp=(lambda t, ans, x: (t.unsqueeze(-2) * _others_pairs(x)).sum(-1),),
    grad_name="ProdBackward0", batch=BROADCAST
)


def _prod_others(x: Tensor, dims: tuple) -> Tensor:
    """Product of all other elements of each reduced slice, differentiably (exact with zeros)."""
    keep = [d for d in range(x.ndim) if d not in dims]
    perm = tuple(keep + list(dims))
    xt = x.permute(perm)
    flat = xt.reshape(tuple(xt.shape[:len(keep)]) + (int(np.prod(xt.shape[len(keep):])),))  # no -1: may be empty
    out = _others_last(flat).reshape(tuple(xt.shape))
    return out.permute(tuple(np.argsort(perm).tolist()))


def _prod_vjp(g, ans, x, dims, keepdim):
    ge = unreduce(g, tuple(x.shape), dims, keepdim)
    if not np.any(x._data == 0):
        return ge * conj(unreduce(ans, tuple(x.shape), dims, keepdim)) / conj(x)
    return ge * conj(_prod_others(x, dims))


_prod = defop("prod", lambda x, dims, keepdim: _sum_like_prod(x, dims, keepdim),
              vjp=(_prod_vjp,),
              jvp=(lambda t, ans, x, dims, keepdim: _sum(
                  t * _prod_others(x, dims), shift(dims, n_batch(t, x)), keepdim),),
              saves_ans=True, sparsity=reduce_pattern(), batch=Axes(1))


_prod_dim = renamed(_prod, "ProdBackward1")


def _sum_like_prod(x, dims, keepdim):
    r = np.prod(x, axis=dims, keepdims=keepdim)
    if x.dtype.kind in "bi" and x.dtype != np.int64:
        r = r.astype(np.int64)
    return r


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over all elements or over one ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    return (_prod if dim is None else _prod_dim)(input, normalize_dims(dim, input._data.ndim), keepdim)


# --------------------------------------------------------------------------- logical reductions
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _wrap(np.asarray(np.all(input._data, axis=None if dim is None else normalize_dims(dim, input._data.ndim),
                                   keepdims=keepdim)))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _wrap(np.asarray(np.any(input._data, axis=None if dim is None else normalize_dims(dim, input._data.ndim),
                                   keepdims=keepdim)))


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=dim)).astype(np.int64))
