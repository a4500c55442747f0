"""Batched matrix products with the batch dims folded into the matrices.

``np.matmul`` broadcasts leading (batch) dims by running one GEMM per broadcast pair. Under
``vmap`` most of those dims belong to one operand only (per-example inputs against shared weights,
or two nested vmaps over different operands), and a stack of small GEMMs is far slower than
one big one. ``batch_roles`` sorts the broadcast batch dims by who varies along them: dims only
``a`` varies along fold into its rows, dims only ``b`` varies along into its columns, and only
dims both vary along stay a stack. ``arrange`` lays an operand's batch dims out that way.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["BatchRoles", "arrange", "batch_roles", "folded_matmul"]

_SMALL = 1 << 18  # a GEMM this small (m*k*n) costs about what a copy of its operands does


class BatchRoles:
    """The broadcast batch dims of two operands by role: indices into the ``ndim``-long broadcast batch.

    >>> r = batch_roles((5, 1, 3), (5, 4, 1))
    >>> r.shape, r.shared, r.a_only, r.b_only
    ((5, 4, 3), [0], [2], [1])
    """

    __slots__ = ("shape", "shared", "a_only", "b_only")

    def __init__(self, shape: tuple, shared: list, a_only: list, b_only: list):
        self.shape, self.shared, self.a_only, self.b_only = shape, shared, a_only, b_only

    def size(self, dims: list) -> int:
        return math.prod(self.shape[i] for i in dims)


@functools.lru_cache(maxsize=1024)
def batch_roles(a: tuple, b: tuple) -> BatchRoles:
    """Sort the broadcast of batch shapes ``a`` and ``b`` into dims both, only ``a``, only ``b`` vary along
    (cached: the result is shared, read it only)."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    shared, a_only, b_only = [], [], []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != 1 and q != 1:
            if p != q:
                raise ValueError(f"batch shapes {a} and {b} do not broadcast")
            shared.append(i)
        elif p != 1:
            a_only.append(i)
        elif q != 1:
            b_only.append(i)
    return BatchRoles(tuple(q if p == 1 else p for p, q in zip(a, b)), shared, a_only, b_only)  # 0 beats 1


def arrange(a: np.ndarray, nbatch: int, ndim: int, *groups: list) -> np.ndarray:
    """A view of ``a`` with its ``nbatch`` leading dims broadcast to ``ndim`` and its dims in the order of ``groups``.

    Indices count in the broadcast array (batch dims ``0..ndim-1``, core dims after); batch dims in
    no group must have size 1 and are dropped; core dims in no group follow in their order.

    >>> arrange(np.zeros((2, 1, 3, 7)), 3, 3, [2], [0]).shape
    (3, 2, 7)
    >>> arrange(np.zeros((2, 5, 7)), 1, 1, [0, 2], [1]).shape
    (2, 7, 5)
    """
    order, dims = _order(a.ndim + ndim - nbatch, ndim, tuple(tuple(g) for g in groups))
    if order is None:  # already in that order, nothing to drop
        return a
    a = a.reshape((1,) * (ndim - nbatch) + a.shape) if ndim > nbatch else a
    shape = a.shape
    return a.transpose(order).reshape(tuple(shape[i] for i in dims))  # drops size-1 dims: a view


@functools.lru_cache(maxsize=1024)
def _order(total: int, ndim: int, groups: tuple) -> tuple:
    """``arrange``'s transpose and the dims it keeps; ``(None, None)`` where it is the identity."""
    dims = [i for g in groups for i in g]
    dims += [i for i in range(ndim, total) if i not in dims]
    order = dims + [i for i in range(ndim) if i not in dims]
    if dims == list(range(total)):
        return None, None
    return tuple(order), tuple(dims)


def folded_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)`` for ``a (*ba, m, k)`` and ``b (*bb, k, n)`` as one GEMM per shared batch index:
    batch dims only ``a`` varies along fold into its rows, those only ``b`` varies along into its columns.

    The result is C-contiguous, as ``np.matmul``'s.

    >>> a, b = np.arange(6.).reshape(3, 1, 1, 2), np.arange(8.).reshape(2, 2, 2)
    >>> bool(np.allclose(folded_matmul(a, b), np.matmul(a, b)))
    True
    """
    na, nb = a.ndim - 2, b.ndim - 2
    r = batch_roles(a.shape[:-2], b.shape[:-2])
    m, k, p = a.shape[-2], a.shape[-1], b.shape[-1]
    if r.a_only and not r.b_only and not r.shared and k:  # a stack times one matrix: the rows fold by a reshape
        return np.matmul(a.reshape(-1, k), b.reshape(k, p)).reshape(r.shape + (m, p))
    mixed = (r.a_only and r.b_only) or (r.shared and (r.a_only or r.b_only))
    if not mixed and not (r.b_only and m * k * p <= _SMALL):  # one stack or none: np.matmul's loop is the GEMMs
        return np.matmul(a, b)
    n = len(r.shape)
    s, sa, sb = r.size(r.shared), r.size(r.a_only), r.size(r.b_only)
    am = arrange(a, na, n, r.shared, r.a_only).reshape(s, sa * m, k)
    bm = arrange(b, nb, n, r.shared, [n], r.b_only).reshape(s, k, sb * p)
    z = np.matmul(am, bm)
    out = np.empty(r.shape + (m, p), dtype=z.dtype)
    view = arrange(out, n, n, r.shared, r.a_only, [n], r.b_only, [n + 1])
    np.copyto(view, z.reshape(view.shape))
    return out
