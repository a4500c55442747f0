"""Extremes: amax/amin, max/min (with indices), argmax/argmin, aminmax."""

from __future__ import annotations

import numpy as np

from ..._core.batched import Batched
from ..._core.batching import Axes, n_batch, shift
from ..._core.node import Saves, nondiff
from ..._core.patterns import reduce_pattern
from ..._tensor import Tensor, _wrap, _wrap_dim
from .._declare import defop, named, renamed
from .._return_types import return_type
from ..elementwise import isnan, maximum, minimum, where
from ..shape import _clone
from ._sum import _sum, normalize_dims, unreduce


# --------------------------------------------------------------------------- max / min
def _extreme_vjp(g, ans, x, dims, keepdim):
    # ties share the gradient evenly, as PyTorch's amax/amin/max() do
    # a product with the 0/1 mask, as PyTorch's (a nan cotangent spreads over the slice as there)
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    mask = (x == full)
    count = _sum(mask, dims, True)
    return unreduce(g, tuple(x.shape), dims, keepdim) * where(mask, 1.0, 0.0) / count


def _extreme_all_vjp(g, ans, x, dims, keepdim):
    # max()/min() of everything: a nan result sends the gradient to the nan entries, shared evenly
    # (PyTorch's evenly_distribute_backward), where x == ans would match nothing
    if not np.isnan(ans._data).any() if type(ans) is Tensor else not np.isnan(ans).any():
        return _extreme_vjp(g, ans, x, dims, keepdim)
    mask = isnan(x)
    return unreduce(g, tuple(x.shape), dims, keepdim) * where(mask, 1.0, 0.0) / _sum(mask, dims, True)


def _extreme_jvp(t, ans, x, dims, keepdim):
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    mask = (x == full)
    # where, not mask / count: a bool / int64 division would round the weights to float32
    return _sum(where(mask, t / _sum(mask, dims, True), 0.0), shift(dims, n_batch(t, x)), keepdim)


def _reduce_extreme(fn, name: str):

    def forward(x, dims, keepdim):
        if x.size == 0:
            if x.ndim == len(dims):  # every dim reduced: no dim given
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            for d in dims:
                if x.shape[d] == 0:
                    raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        return fn(x, axis=dims, keepdims=keepdim)
    return forward


_amax = defop("amax", _reduce_extreme(np.max, "amax"), vjp=(_extreme_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
              # the whole fiber, not just the current maximum: valid everywhere
              sparsity=reduce_pattern(), batch=Axes(1))
_amin = defop("amin", _reduce_extreme(np.min, "amin"), vjp=(_extreme_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
              sparsity=reduce_pattern(), batch=Axes(1))
_max_all = defop("max", _reduce_extreme(np.max, "max"), vjp=(_extreme_all_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
                 grad_name="MaxBackward1", sparsity=_amax.sparsity, batch=Axes(1))
_min_all = defop("min", _reduce_extreme(np.min, "min"), vjp=(_extreme_all_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
                 grad_name="MinBackward1", sparsity=_amax.sparsity, batch=Axes(1))


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims by default); ties share the gradient."""
    return _amax(input, normalize_dims(dim, input._data.ndim), keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims by default); ties share the gradient."""
    return _amin(input, normalize_dims(dim, input._data.ndim), keepdim)


MaxResult = return_type("max")
MinResult = return_type("min")


def _select_vjp(g, ans, x, idx, dim, keepdim):
    """Route the cotangent to the selected index along ``dim`` (max/min with dim, sort...)."""
    gk = g if keepdim else g.unsqueeze(dim - x.ndim)
    n = x.shape[dim]
    # comparisons, not NumPy on the indices: they batch under vmap (and record nothing)
    onehot = idx == _wrap(np.arange(n).reshape((n,) + (1,) * (x.ndim - dim - 1)))
    return where(onehot, gk, 0.0)


def _dim_extreme(np_arg, name: str):
    def forward(x, idx, dim, keepdim):
        v = np.take_along_axis(x, idx, axis=dim)
        return v if keepdim else np.squeeze(v, axis=dim)

    return defop(name, forward,
                 vjp=(_select_vjp, None),
                 jvp=(lambda t, ans, x, idx, dim, keepdim: _sum(
                     _select_vjp(t, ans, x, idx, dim, True), (n_batch(t, x) + dim,), keepdim), None),
                 # the fiber, not the argmax at x
                 saves_inputs=Saves.NOTHING, sparsity=reduce_pattern(dims_at=2), batch=Axes(2))


_ARG = {fn: nondiff(f"{fn.__name__}_keepdim", lambda x, d, fn=fn: np.expand_dims(fn(x, axis=d), d), batch=Axes(1))
        for fn in (np.argmax, np.argmin)}
_max_dim = _dim_extreme(np.argmax, "max")
_min_dim = _dim_extreme(np.argmin, "min")
_PICK_0D = {_max_dim: renamed(_clone, "MaxBackward0"), _min_dim: renamed(_clone, "MinBackward0")}


def _extreme(input, dim, keepdim, other, all_op, dim_op, np_arg, result, pair):
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return pair(input, other)
    if dim is None:
        return all_op(input, tuple(range(input._data.ndim)), False)
    d = _wrap_dim(dim, input._data.ndim)
    if input._data.shape and input._data.shape[d] == 0:
        raise IndexError(f"max(): Expected reduction dim {d} to have non-zero size.")
    if input._data.ndim == 0:  # a new tensor with its own grad_fn, as in PyTorch, not the input itself
        return result(_PICK_0D[dim_op](input), _wrap(np.array(0)))
    idx = _ARG[np_arg](input, d)  # an op: it batches under vmap
    values = dim_op(input, idx, d, keepdim)
    return result(values, idx if keepdim else idx.squeeze(d))


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Largest element; with ``dim``, a ``(values, indices)`` pair; with a tensor, ``maximum``.

    >>> import autojac
    >>> autojac.tensor([[1., 5.], [7., 2.]]).max(dim=1)
    autojac.return_types.max(
    values=tensor([5., 7.]),
    indices=tensor([1, 0]))
    """
    return _extreme(input, dim, keepdim, other, _max_all, _max_dim, np.argmax, MaxResult, maximum)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Smallest element; with ``dim``, a ``(values, indices)`` pair; with a tensor, ``minimum``."""
    return _extreme(input, dim, keepdim, other, _min_all, _min_dim, np.argmin, MinResult, minimum)


def _arg(np_fn):
    name = np_fn.__name__
    # an op (vmap runs it on the whole batch: a shifted dim), so what is gathered at its result stays vectorized
    index_op = nondiff(name, lambda x, dim, keepdim: np.asarray(np_fn(x, axis=dim, keepdims=keepdim)).astype(
        np.int64, copy=False), batch=Axes("dim"))

    def fn(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        x = input._data
        if x.size == 0:
            if dim is None:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            d = _wrap_dim(dim, x.ndim)
            if x.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        if dim is None:
            if type(x) is not Batched:  # (under vmap, the flattening is an op of its own)
                r = np.asarray(np_fn(x.reshape(-1)))
                return _wrap((r.reshape((1,) * x.ndim) if keepdim else r).astype(np.int64))
            r = index_op(input.reshape(-1), dim=0, keepdim=False)
            return r.reshape((1,) * x.ndim) if keepdim else r
        d = _wrap_dim(dim, x.ndim)
        return index_op(input, dim=d, keepdim=keepdim) if x.ndim else _wrap(np.asarray(0, np.int64))
    return fn


argmax = _arg(np.argmax)
argmin = _arg(np.argmin)


def aminmax(input: Tensor, *, dim=None, keepdim=False):
    dims = () if dim is None else dim
    return named(amin(input, dims, keepdim), "AminmaxBackward0"), named(amax(input, dims, keepdim), "AminmaxBackward0")
