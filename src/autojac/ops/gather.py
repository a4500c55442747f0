"""Index-driven ops along a dimension: gather/scatter, index_add/copy/fill, take, masked_scatter.

Every op here is a view onto the indexing primitives of ``ops/index.py`` (``take``: advanced
indexing, whose adjoint ``scatter`` adds with ``np.add.at``; ``put``: out-of-place assignment;
``fill_zero``), built with an index tuple that addresses the leading dims of the unbatched
tensor. Their rules already move batch dims out of an index's reach, so gradients, JVPs,
batched cotangents and higher derivatives come for free; this file adds PyTorch's names,
signatures, checks and error messages.
"""

from __future__ import annotations

import numpy as np

from .._core.batched import BATCHING, Batched, read_batched
from .._dtype import torch_name
from .._tensor import Tensor, _wrap, _wrap_dim
from ._declare import inplace, named, renamed
from .elementwise import where
from .index import getitem_raw, put
from .index import scatter as _scatter_add_op
from .index import take as _take_op
from .index_at import put_indexed, scatter_extreme_indexed, scatter_indexed, take_indexed

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "take",
           "take_along_dim", "masked_scatter"]

_gather_op = renamed(_take_op, "GatherBackward0")
_take_flat_op = renamed(_take_op, "TakeBackward0")
_scatter_op = renamed(put, "ScatterBackward0")
_scatter_value_op = renamed(put, "ScatterBackward1")
_index_copy_op = renamed(put, "IndexCopyBackward0")
_masked_scatter_op = renamed(put, "MaskedScatterBackward0")


# --------------------------------------------------------------------------- helpers
def along(index: np.ndarray, dim: int) -> tuple:
    """The advanced index that picks ``index[p]`` along ``dim`` at every position ``p`` of ``index``.

    ``x[along(i, d)]`` is ``torch.gather(x, d, i)``; its shape is ``i.shape``.
    """
    grids = np.indices(index.shape, sparse=True)
    return tuple(index if d == dim else g for d, g in enumerate(grids))


def pick(op, input: Tensor, index: Tensor, dim: int) -> Tensor:
    """``input`` gathered at ``index`` along ``dim`` by ``op`` (``take`` under its ``grad_fn`` name), for the ops
    that compute their indices (sort, topk, cummax): ``index`` has ``input``'s ndim, or one less (``dim`` dropped).

    Under vmap the index is batched when the values are: the pick is then one ``take_at``.
    """
    a = index._data
    if a.ndim == input._data.ndim:
        at = along(a, dim)
    else:
        grids = np.indices(a.shape, sparse=True)
        at = tuple(grids[:dim]) + (a,) + tuple(grids[dim:])
    if type(a) is Batched:
        return named(take_indexed(input, at), op.grad_name)
    return op(input, at, False, 0)


def _tname(t: Tensor) -> str:
    return torch_name(t.dtype)


def _index_array(index, name: str, kinds: str = "il") -> np.ndarray:
    a = index._data if isinstance(index, Tensor) else np.asarray(index)
    if a.dtype.kind not in "iu" or (a.dtype != np.int64 and "i" not in kinds):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index" if "i" in kinds
                           else f"{name}(): Expected dtype int64 for index")
    if type(a) is Batched:  # an index computed per batch element under vmap (see ops/index_at.py)
        return a
    return a.astype(np.int64, copy=False)


def _flat(index, a: np.ndarray) -> Tensor:
    """The index flattened, as a tensor (a batched one stays batched)."""
    return index.reshape(-1) if type(a) is Batched else _wrap(a.reshape(-1))


def _check_bounds(index: np.ndarray, size: int, dim: int) -> None:
    if type(index) is Batched:  # checked by the op that reads it (ops/index_at.py)
        return
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.reshape(-1)[np.argmax((index.reshape(-1) < 0) | (index.reshape(-1) >= size))]
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {dim} with size {size}")


def _check_gather_shapes(x: np.ndarray, index: np.ndarray, dim: int) -> None:
    if index.ndim != max(x.ndim, 1) and not (index.ndim == 0 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                               f"larger than self {list(x.shape)} apart from dimension {dim}")


def _check_scatter_shapes(x: np.ndarray, index: np.ndarray, src, dim: int) -> None:
    if index.ndim != max(x.ndim, 1) and not (index.ndim == 0 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    s = src._data.shape if isinstance(src, Tensor) else None
    if s is not None and len(s) != index.ndim and not (index.ndim <= 1 and len(s) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    bad = any(d != dim and index.shape[d] > x.shape[d] for d in range(min(index.ndim, x.ndim)))
    bad = bad or (s is not None and any(index.shape[d] > s[d] for d in range(min(index.ndim, len(s)))))
    if bad:
        tail = f" and to be no larger size than src {list(s)}" if s is not None else ""
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(x.shape)} apart "
                           f"from dimension {dim}{tail}")


def _scatter_args(input: Tensor, dim: int, index, src, name: str) -> tuple:
    """The int64 index array and the wrapped ``dim`` of a scatter, after torch's checks of their dtype and shapes."""
    idx = _index_array(index, name, kinds="l")
    d = _wrap_dim(dim, input._data.ndim)
    _check_scatter_shapes(input._data, idx, src, d)
    return idx, d


def _as_1d(x: Tensor) -> Tensor:
    return x.reshape(1) if x._data.ndim == 0 else x


def _crop(src: Tensor, shape: tuple) -> Tensor:
    """``src`` restricted to the leading ``shape`` block (PyTorch reads only that part of ``src``)."""
    if tuple(src._data.shape) == tuple(shape):
        return src
    return getitem_raw(src, tuple(slice(0, s) for s in shape))


def _same_dtype(x: Tensor, src: Tensor, name: str) -> None:
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")


# --------------------------------------------------------------------------- gather / take
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[index[i][j]][j]`` for ``dim=0``.

    The gradient adds up over repeated indices.

    >>> import autojac
    >>> x = autojac.tensor([[1., 2.], [3., 4.]])
    >>> autojac.gather(x, 1, autojac.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    idx = _index_array(index, "gather")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    _check_gather_shapes(input._data, idx, d)
    if nd == 0:
        return gather(input.reshape(1), 0, _flat(index, idx)).reshape(idx.shape)
    _check_bounds(idx, input._data.shape[d], d)
    if type(idx) is Batched:
        return named(take_indexed(input, along(idx, d), "gather"), "GatherBackward0")
    return _gather_op(input, along(idx, d), False, 0)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` with ``input`` and ``indices`` broadcast against each other outside ``dim``;
    with ``dim=None``, indices into the flattened input.

    >>> import autojac
    >>> x = autojac.tensor([[10., 30., 20.], [60., 40., 50.]])
    >>> autojac.take_along_dim(x, x.argsort(dim=1), dim=1)
    tensor([[10., 20., 30.],
            [40., 50., 60.]])
    """
    a = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if a.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {_tname(_wrap(a))}")
    if dim is None:
        return gather(input.reshape(-1), 0, _flat(indices, a))
    nd = input._data.ndim
    if a.ndim != nd:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {nd} dimensions for input, and {a.ndim} dimensions for indices")
    d = _wrap_dim(dim, nd)
    xs, js = list(input._data.shape), list(a.shape)
    xs[d], js[d] = 1, 1
    common = np.broadcast_shapes(tuple(xs), tuple(js))
    xt = tuple(common[:d]) + (input._data.shape[d],) + tuple(common[d + 1:])
    it = tuple(common[:d]) + (a.shape[d],) + tuple(common[d + 1:])
    x = input if tuple(input._data.shape) == xt else input.expand(xt)
    if type(a) is Batched:
        return gather(x, d, indices if tuple(a.shape) == it else indices.expand(it))
    return gather(x, d, _wrap(np.broadcast_to(a, it)))


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (negative indices count from the end).

    >>> import autojac
    >>> autojac.take(autojac.tensor([[1., 2.], [3., 4.]]), autojac.tensor([0, -1]))
    tensor([1., 4.])
    """
    a = _index_array(index, "take", kinds="l")
    n = input._data.size
    if type(a) is Batched:
        return named(take_indexed(input.reshape(-1), (a,), "take"), "TakeBackward0")
    if a.size and (a.max() >= n or a.min() < -n):
        bad = int(a.max() if a.max() >= n else a.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return _take_flat_op(input.reshape(-1), (a % max(n, 1),), False, 0)


# --------------------------------------------------------------------------- scatter family
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """Out-of-place ``self[index[i][j]][j] = src[i][j]`` (for ``dim=0``); ``src`` may be a number.

    Gradients: ``input`` gets the cotangent where nothing was written, ``src`` gathers it back.
    With repeated indices, which write wins is unspecified (as in PyTorch).

    >>> import autojac
    >>> autojac.zeros(2, 3).scatter(0, autojac.tensor([[1, 0, 1]]), autojac.tensor([[5., 6., 7.]]))
    tensor([[0., 6., 0.],
            [5., 0., 7.]])
    """
    if src is None:
        src = value
    if reduce is not None:
        mode = {"add": "sum", "multiply": "prod"}.get(reduce)
        if mode is None:
            raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
        if not isinstance(src, Tensor):
            src = _wrap(np.full(_index_array(index, "scatter").shape, src, dtype=input._data.dtype))
        return scatter_reduce(input, dim, index, src, mode)
    idx, d = _scatter_args(input, dim, index, src, "scatter")
    if input._data.ndim == 0:
        s = _as_1d(src) if isinstance(src, Tensor) else src
        return scatter(input.reshape(1), 0, _flat(index, idx), s).reshape(())
    _check_bounds(idx, input._data.shape[d], d)
    if isinstance(src, Tensor):
        _same_dtype(input, src, "scatter")
    if type(idx) is Batched:
        s = _crop(src, idx.shape) if isinstance(src, Tensor) else src
        return named(put_indexed(input, s, along(idx, d), "gather"), "ScatterBackward0")
    if isinstance(src, Tensor):
        return _scatter_op(input, _crop(src, idx.shape), along(idx, d), False)
    return _scatter_value_op(input, src, along(idx, d), False)


def _scatter_sum(src: Tensor, shape: tuple, index: tuple) -> Tensor:
    """Zeros of ``shape`` with ``src`` added in at ``index`` (the adjoint of ``take``); a batched index
    (under vmap) is checked by the op, as gather's."""
    if any(type(i) is Batched for i in index):
        return scatter_indexed(src, tuple(shape), index, "gather")
    return _scatter_add_op(src, tuple(shape), index, False, 0)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out-of-place ``self[index[i][j]][j] += src[i][j]`` (for ``dim=0``); repeated indices add up.

    >>> import autojac
    >>> autojac.zeros(3).scatter_add(0, autojac.tensor([0, 2, 0]), autojac.tensor([1., 2., 3.]))
    tensor([4., 0., 2.])
    """
    idx, d = _scatter_args(input, dim, index, src, "scatter_add")
    _same_dtype(input, src, "scatter_add")
    if input._data.ndim == 0:
        return scatter_add(input.reshape(1), 0, _flat(index, idx), _as_1d(src)).reshape(())
    _check_bounds(idx, input._data.shape[d], d)
    out = input + _scatter_sum(_crop(src, idx.shape), input._data.shape, along(idx, d))
    return named(out, "ScatterAddBackward0")


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim``: ``"sum"``, ``"mean"``, ``"amax"``,
    ``"amin"`` or ``"prod"``; ``include_self=False`` leaves ``input``'s own value out where written.

    ``amax``/``amin`` share the gradient evenly among the values equal to the result, as PyTorch does.

    >>> import autojac
    >>> autojac.tensor([1., 1.]).scatter_reduce(0, autojac.tensor([0, 0, 1]), autojac.tensor([5., 2., 0.]), "amax")
    tensor([5., 1.])
    """
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    idx, d = _scatter_args(input, dim, index, src, "scatter_reduce")
    _same_dtype(input, src, "scatter_reduce")
    if input._data.ndim == 0:
        return scatter_reduce(input.reshape(1), 0, _wrap(idx.reshape(-1)), _as_1d(src), reduce,
                              include_self=include_self).reshape(())
    _check_bounds(idx, input._data.shape[d], d)
    at = along(idx, d)
    src = _crop(src, idx.shape)
    if type(idx) is Batched:  # under vmap: the masks from the batched index, by the op that reads (and checks) it
        if reduce == "prod" or (reduce == "mean" and input._data.dtype.kind not in "fc"):
            read_batched(f"scatter_reduce '{reduce}' with a batched index")  # (value-dependent rounds or rounding)
        touched = put_indexed(_wrap(np.zeros(input._data.shape, dtype=bool)), True, at, "gather")
        own = touched.logical_not() if not include_self else _wrap(np.ones(input._data.shape, dtype=bool))
        return named(_REDUCERS[reduce](input, src, at, touched, own), "ScatterReduceBackward0")
    touched = np.zeros(input._data.shape, dtype=bool)
    touched[at] = True
    own = ~touched if not include_self else np.ones_like(touched)  # where input's own value takes part
    return named(_REDUCERS[reduce](input, src, at, _wrap(touched), _wrap(own)), "ScatterReduceBackward0")


def _reduce_sum(input, src, at, touched, own):
    if type(own._data) is not Batched and own._data.all():
        base = input
    else:
        base = where(own, input, _wrap(np.zeros((), input._data.dtype)))
    return base + _scatter_sum(src, input._data.shape, at)


def _count(shape: tuple, at: tuple, weights, dtype) -> np.ndarray:
    """How many (weighted) entries of ``at`` land on each position of ``shape``."""
    c = np.zeros(shape, dtype=dtype)
    np.add.at(c, at, weights)
    return c


def _reduce_mean(input, src, at, touched, own):
    x = input._data
    total = _reduce_sum(input, src, at, touched, own)
    if type(touched._data) is Batched:  # the counts by the same scatter as the sum
        n = (_scatter_sum(_wrap(np.ones(src._data.shape, x.dtype)), x.shape, at) + own).clamp(min=1)
        return where(touched, total / n, input)
    n = np.maximum(_count(x.shape, at, 1, x.dtype) + own._data, 1)
    if x.dtype.kind in "iub":  # integer means round down, as PyTorch's do
        return _wrap(np.where(touched._data, total._data // n, x))
    return where(touched, total / _wrap(n), input)


def _identity(kind: str, dtype: np.dtype):
    big = np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    return np.array(-big if kind == "amax" else big).astype(dtype)


def _batched_at(*parts) -> bool:
    """Whether any tensor among ``parts`` (or an index array of the tuple ``parts[-1]``) is batched under vmap."""
    return any(type(p._data) is Batched for p in parts[:-1]) or any(type(i) is Batched for i in parts[-1])


def _picked(x: Tensor, at: tuple) -> Tensor:
    """``x[at]`` for a gather's index (batched or not)."""
    if any(type(i) is Batched for i in at):
        return take_indexed(x, at, "gather")
    return _take_op(x, at, False, 0)


def _reduce_extreme_batched(kind: str, input, src, at, own):
    """``amax``/``amin`` under vmap: the value by ``scatter_extreme`` (an op), the gradient shared among ties by
    tensor ops, as outside vmap."""
    x = input._data
    r0 = scatter_extreme_indexed(where(own, input, _wrap(_identity(kind, x.dtype))), src, at, kind == "amax")
    if x.dtype.kind not in "fc":
        return r0
    hit_in = own & (input == r0)
    hit_src = src == _picked(r0, at)
    one, zero = _wrap(np.ones((), x.dtype)), _wrap(np.zeros((), x.dtype))
    n = (_scatter_sum(where(hit_src, one, zero), x.shape, at) + hit_in).clamp(min=1)
    expr = (where(hit_in, input, 0.0) + _scatter_sum(where(hit_src, src, 0.0), x.shape, at)) / n
    return r0 + (expr - expr.detach())


def _reduce_extreme(kind: str):
    def reducer(input, src, at, touched, own):
        if BATCHING and _batched_at(input, src, own, at):
            return _reduce_extreme_batched(kind, input, src, at, own)
        x = input._data
        r0 = np.where(own._data, x, _identity(kind, x.dtype))
        (np.maximum if kind == "amax" else np.minimum).at(r0, at, src._data)
        if x.dtype.kind not in "fc":
            return _wrap(r0)
        # the value is r0 exactly; the gradient is that of the mean of the values equal to it (ties share)
        hit_in = own._data & (x == r0)
        hit_src = src._data == r0[at]
        n = _wrap(np.maximum(_count(x.shape, at, hit_src, x.dtype) + hit_in, 1))
        expr = (where(_wrap(hit_in), input, 0.0) + _scatter_sum(where(_wrap(hit_src), src, 0.0), x.shape, at)) / n
        return _wrap(r0) + (expr - expr.detach())
    return reducer


def _occurrence(pos: np.ndarray) -> np.ndarray:
    """For each entry of ``pos``, how many equal entries come before it."""
    order = np.argsort(pos, kind="stable")
    sp = pos[order]
    start = np.r_[0, np.nonzero(np.diff(sp))[0] + 1] if sp.size else np.zeros(0, np.int64)
    first = np.repeat(start, np.diff(np.r_[start, sp.size]))
    rank = np.empty_like(pos)
    rank[order] = np.arange(sp.size) - first
    return rank


def _reduce_prod(input, src, at, touched, own):
    # Multiply the factors in rounds (round r: each position's r-th factor): plain products, so the
    # gradient is exact with zeros too, with no division.
    x = input._data
    out = input if own._data.all() else where(own, input, _wrap(np.ones((), x.dtype)))
    flat = [a.reshape(-1) for a in np.broadcast_arrays(*at)]
    rank = _occurrence(np.ravel_multi_index(flat, x.shape))
    s = src.reshape(-1)
    ones = _wrap(np.ones(x.shape, x.dtype))
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        sel = np.nonzero(rank == r)[0]
        out = out * put(ones, _take_op(s, (sel,), False, 0), tuple(f[sel] for f in flat), False)
    return out


_REDUCERS = {"sum": _reduce_sum, "mean": _reduce_mean, "amax": _reduce_extreme("amax"),
             "amin": _reduce_extreme("amin"), "prod": _reduce_prod}


# --------------------------------------------------------------------------- index_* along a dim
def _index_vector(index, name: str, nd_max: int = 1) -> np.ndarray:
    a = index._data if isinstance(index, Tensor) else np.asarray(index)
    if a.ndim > nd_max:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {a.ndim} with type: "
                         f"{_tname(_wrap(a))} and size: {list(a.shape)}")
    if a.dtype.kind not in "iu":
        raise IndexError(f"{name}(): Expected dtype int32/int64 for index but got: {_tname(_wrap(a))}")
    if type(a) is Batched:  # an index computed per batch element under vmap (see ops/index_at.py)
        return index.reshape(-1)._data
    return a.reshape(-1).astype(np.int64)


def _check_index_bounds(a: np.ndarray, size: int, dim: int, prefix: str | None = None) -> None:
    """PyTorch's checks: index_fill wraps negative indices; index_add (RuntimeError) and index_copy
    (IndexError, ``prefix`` names it) take only ``0 <= i < size``."""
    low = -size if prefix is None else 0
    if type(a) is Batched:  # checked by the op that reads it (ops/index_at.py)
        return
    if a.size and (a.max() >= size or a.min() < low):
        bad = int(a.reshape(-1)[np.argmax((a.reshape(-1) >= size) | (a.reshape(-1) < low))])
        msg = f"index {bad} is out of bounds for dimension {dim} with size {size}"
        if prefix is None:
            raise IndexError(msg)
        raise (RuntimeError(msg) if not prefix else IndexError(f"{prefix}(): {msg}"))


def _wrapped(a: np.ndarray, size: int) -> np.ndarray:
    """Indices in ``[-size, size)`` as non-negative ones (a batched index as it is: NumPy's indexing wraps it)."""
    return a if type(a) is Batched else a % size


def _along_dim(a: np.ndarray, d: int) -> tuple:
    return (slice(None),) * d + (a,)


def _check_source(input: Tensor, source: Tensor, d: int, n: int, name: str) -> None:
    xs, ss = input._data.shape, source._data.shape
    if len(ss) != len(xs) and not (len(xs) <= 1 and len(ss) <= 1):
        raise IndexError(f"{name}(): When source and destination are not scalars, their dimensionality must "
                         f"match. Source dimensionality ({len(ss)}), destination dimensionality ({len(xs)})")
    if xs and (ss[:d] + ss[d + 1:] != xs[:d] + xs[d + 1:]):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(xs)} source.shape = {list(ss)}")
    if (ss[d] if ss else 1) != n:
        raise IndexError(f"{name}(): Number of indices ({n}) should be equal to source.size(dim) "
                         f"({ss[d] if ss else 1})")


def _checked_source(input: Tensor, source: Tensor, d: int, a: np.ndarray, name: str, prefix: str) -> tuple:
    """``(size of dim d, source as at least 1-d)`` after the bounds and source checks of index_add/index_copy."""
    size = input._data.shape[d]
    _check_index_bounds(a, size, d, prefix)
    if source._data.ndim == 0:
        source = source.reshape(1)
    _check_source(input, source, d, a.size, name)
    return size, source


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """Out-of-place ``self.select(dim, index[i]) += alpha * source.select(dim, i)``.

    >>> import autojac
    >>> autojac.zeros(3, 2).index_add(0, autojac.tensor([0, 2, 0]), autojac.ones(3, 2))
    tensor([[2., 2.],
            [0., 0.],
            [1., 1.]])
    """
    a = _index_vector(index, "index_add_")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    if nd == 0:
        return index_add(input.reshape(1), 0, _wrap(a), _as_1d(source), alpha=alpha).reshape(())
    size, source = _checked_source(input, source, d, a, "index_add_", "")
    s = source if alpha == 1 else source * alpha
    return named(input + _scatter_sum(s, input._data.shape, _along_dim(_wrapped(a, size), d)), "IndexAddBackward0")


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """Out-of-place ``self.select(dim, index[i]) = source.select(dim, i)``.

    >>> import autojac
    >>> autojac.zeros(3).index_copy(0, autojac.tensor([2, 0]), autojac.tensor([5., 6.]))
    tensor([6., 0., 5.])
    """
    a = _index_vector(index, "index_copy_")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    if nd == 0:
        return index_copy(input.reshape(1), 0, _wrap(a), _as_1d(source)).reshape(())
    size, source = _checked_source(input, source, d, a, "index_copy_", "index_copy_")
    _same_dtype(input, source, "index_copy")
    if type(a) is Batched:
        return named(put_indexed(input, source, _along_dim(a, d), "index_copy"), "IndexCopyBackward0")
    return _index_copy_op(input, source, _along_dim(a % size, d), False)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number or a 0-d tensor).

    >>> import autojac
    >>> autojac.ones(2, 3).index_fill(1, autojac.tensor([0, 2]), -1.)
    tensor([[-1.,  1., -1.],
            [-1.,  1., -1.]])
    """
    a = _index_vector(index, "index_fill_")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    size = input._data.shape[d] if nd else 1
    _check_index_bounds(a, size, d)
    if type(a) is Batched and nd:  # the mask from the batched index, by the op that reads it
        mask = put_indexed(_wrap(np.zeros(input._data.shape, dtype=bool)), True, _along_dim(a, d), "index")._data
    else:
        mask = np.zeros(input._data.shape, dtype=bool)
        mask[_along_dim(a % size, d) if nd else ()] = bool(a.size) if not nd else True
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return named(where(_wrap(mask), value.to(input.dtype), input), "IndexFillBackward1")
    return named(where(_wrap(mask), _wrap(np.asarray(value, dtype=input._data.dtype)), input), "IndexFillBackward0")


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the positions where ``mask`` holds filled, in order, from ``source``'s elements.

    >>> import autojac
    >>> autojac.zeros(4).masked_scatter(autojac.tensor([True, False, True, False]), autojac.tensor([1., 2., 3.]))
    tensor([1., 0., 2., 0.])
    """
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {_tname(_wrap(m))}")
    shape = np.broadcast_shapes(input._data.shape, m.shape)
    x = input if tuple(input._data.shape) == shape else input.expand(shape)
    mb = np.broadcast_to(m, shape)
    pos = np.nonzero(mb) if shape else ()
    k = pos[0].size if shape else int(mb.item())
    if source._data.size < k:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    _same_dtype(input, source, "masked_scatter")
    flat = source.reshape(-1)
    vals = flat if flat._data.shape[0] == k else flat[:k]
    if not shape:
        return named(x.clone() if not k else vals.reshape(()).clone(), "MaskedScatterBackward0")
    return _masked_scatter_op(x, vals, pos, False)


# --------------------------------------------------------------------------- Tensor methods
def _inplace(fn):
    def method(self, *args, **kwargs):
        return inplace(self, lambda s, *a: fn(s, *args, **kwargs), saves_self=False)
    return method
