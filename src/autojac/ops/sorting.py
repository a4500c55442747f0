"""Sorting and selection: sort, argsort, msort, topk, kthvalue.

The order is computed once in NumPy (always stable: ties keep their input order, NaN counts as
the largest value, as in PyTorch); the values are then gathered at those indices with the
indexing primitive, so the gradient routes each cotangent to the selected index.

PyTorch's ``sort`` is stable on small inputs and with ``stable=True``; its ``topk`` and
``kthvalue`` pick among tied values by the internals of ``std::nth_element``. autojac always
picks the first tied index in input order (what a stable sort gives).
"""

from __future__ import annotations

import numpy as np

from .._core.batching import Axes
from .._core.node import nondiff
from .._core.patterns import SELECT
from .._tensor import Tensor, _wrap, _wrap_dim
from ._declare import renamed
from ._return_types import return_type
from .gather import pick
from .index import take
from .shape import _clone

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue"]

_sort_op = renamed(take, "SortBackward0")
_sort_stable_op = renamed(take, "SortBackward1")  # the overload with a ``stable`` argument
_topk_op = renamed(take, "TopkBackward0")
_kth_op = renamed(take, "KthvalueBackward0")
for _op in (_sort_op, _sort_stable_op, _topk_op, _kth_op):
    _op.sparsity = SELECT  # the positions depend on the values: a global pattern reads the whole fiber


SortResult = return_type("sort")
TopkResult = return_type("topk")
KthvalueResult = return_type("kthvalue")


def order(x: np.ndarray, dim: int, descending: bool = False) -> np.ndarray:
    """Stable sort indices along ``dim``: NaN last ascending, first descending (PyTorch's order)."""
    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    if x.dtype.kind == "f":
        # primary key: NaN first; then larger first. lexsort is stable.
        xm = np.moveaxis(x, dim, -1)
        idx = np.lexsort((-xm, ~np.isnan(xm)), axis=-1)
        return np.moveaxis(idx, -1, dim)
    if x.dtype == np.bool_:
        return np.argsort(~x, axis=dim, kind="stable")
    return np.argsort(~x, axis=dim, kind="stable")  # ~ reverses integer order without overflow


def select(x: np.ndarray, k: int, dim: int, largest: bool = True) -> np.ndarray:
    """``order(x, dim, largest)`` cut to its first ``k`` along ``dim``, in O(n + k log k) per slice.

    A partition finds the k-th value; all better values and the first (in input order) of those
    equal to it make up the k; a stable sort of these gives the same indices as the full sort.
    """
    n = x.shape[dim]
    if k == 0 or 8 * k > n:
        return np.take(order(x, dim, largest), np.arange(k), axis=dim)
    xm = np.moveaxis(x, dim, -1)
    thr = np.partition(xm, n - k if largest else k - 1, axis=-1)[..., n - k if largest else k - 1][..., None]
    better = xm > thr if largest else xm < thr
    equal = xm == thr
    if xm.dtype.kind == "f":  # NaN is the largest value
        nan, tnan = np.isnan(xm), np.isnan(thr)
        better |= (nan & ~tnan) if largest else (~nan & tnan)
        equal |= nan & tnan
    need = k - better.sum(-1, keepdims=True)
    chosen = better | (equal & (np.cumsum(equal, axis=-1) <= need))
    # exactly k chosen per slice: their positions, in input order (nonzero walks rows in order)
    idx = np.nonzero(chosen)[-1].reshape(chosen.shape[:-1] + (k,))
    ranked = np.take_along_axis(idx, order(np.take_along_axis(xm, idx, -1), -1, largest), -1)
    return np.moveaxis(ranked, -1, dim)


def _order_indices(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    return order(x, dim, descending).astype(np.int64, copy=False)


def _select_indices(x: np.ndarray, k: int, dim: int, largest: bool) -> np.ndarray:
    return select(x, k, dim, largest).astype(np.int64, copy=False)


def _kth_indices(x: np.ndarray, k: int, dim: int, keepdim: bool) -> np.ndarray:
    idx = np.take(order(x, dim), [k - 1], axis=dim).astype(np.int64, copy=False)
    return idx if keepdim else np.squeeze(idx, dim)


# the orders as ops (vmap runs them on the whole batch: a shifted dim), so the picks see batched indices
_sort_indices = nondiff("sort_indices", _order_indices, batch=Axes("dim"))
_topk_indices = nondiff("topk_indices", _select_indices, batch=Axes("dim"))
_kthvalue_indices = nondiff("kthvalue_indices", _kth_indices, batch=Axes("dim"))


def _scalar_pick(op, input: Tensor) -> Tensor:
    return renamed(_clone, op.grad_name)(input)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool | None = None):
    """Sort along ``dim``: ``(values, indices)``; ties keep their input order.

    >>> import autojac
    >>> autojac.sort(autojac.tensor([3., 1., 2.]))
    autojac.return_types.sort(
    values=tensor([1., 2., 3.]),
    indices=tensor([1, 2, 0]))
    """
    d = _wrap_dim(dim, input._data.ndim)
    op = _sort_op if stable is None else _sort_stable_op
    if input._data.ndim == 0:
        return SortResult(_scalar_pick(op, input), _wrap(np.zeros((), np.int64)))
    idx = _sort_indices(input, dim=d, descending=descending)
    return SortResult(pick(op, input, idx, d), idx)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (stable).

    >>> import autojac
    >>> autojac.argsort(autojac.tensor([3., 1., 2.]), descending=True)
    tensor([0, 2, 1])
    """
    d = _wrap_dim(dim, input._data.ndim)
    return _sort_indices(input, dim=d, descending=descending)


def msort(input: Tensor) -> Tensor:
    """Sorted along dim 0 (the values of ``sort(input, dim=0)``).

    >>> import autojac
    >>> autojac.msort(autojac.tensor([[2., 1.], [0., 3.]]))
    tensor([[0., 1.],
            [2., 3.]])
    """
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``.

    Among tied values the first in input order is taken (PyTorch leaves that choice unspecified).

    >>> import autojac
    >>> autojac.topk(autojac.tensor([1., 5., 3., 4.]), 2).indices
    tensor([1, 3])
    """
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    size = input._data.shape[d] if nd else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if nd == 0:
        return TopkResult(_scalar_pick(_topk_op, input), _wrap(np.zeros((), np.int64)))
    idx = _topk_indices(input, k=k, dim=d, largest=largest)
    return TopkResult(pick(_topk_op, input, idx, d), idx)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest element along ``dim`` and its index: ``(values, indices)``.

    >>> import autojac
    >>> autojac.kthvalue(autojac.tensor([4., 1., 3.]), 2)
    autojac.return_types.kthvalue(
    values=tensor(3.),
    indices=tensor(2))
    """
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    size = input._data.shape[d] if nd else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if nd == 0:
        return KthvalueResult(_scalar_pick(_kth_op, input), _wrap(np.zeros((), np.int64)))
    idx = _kthvalue_indices(input, k=k, dim=d, keepdim=keepdim)
    return KthvalueResult(pick(_kth_op, input, idx, d), idx)
