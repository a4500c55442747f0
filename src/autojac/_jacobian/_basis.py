"""The identity basis a Jacobian is pushed through: cotangents (reverse) or tangents (forward).

One batched pass over rows ``start:stop`` of the identity (over all the tensors' elements
together) gives that many rows (or columns) of the Jacobian: DESIGN.md decision 3.

>>> import autojac
>>> [b.shape for b in basis_rows([autojac.zeros(2), autojac.zeros(1, 2)], 0, 4)]
[autojac.Size([4, 2]), autojac.Size([4, 1, 2])]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .._tensor import Tensor, _wrap


@lru_cache(maxsize=64)
def _eye(n: int, dtype: np.dtype) -> np.ndarray:
    e = np.eye(n, dtype=dtype)
    e.flags.writeable = False  # shared between calls: never handed out writable
    return e


def basis_rows(tensors: Sequence[Tensor], start: int, stop: int, shared: bool = False) -> list[Tensor]:
    """Rows ``start:stop`` of the identity over all ``tensors``' elements, split per tensor and
    shaped ``(stop - start,) + tensor.shape``, in each tensor's dtype.

    ``shared=True`` lets the whole basis of a single tensor be a read-only view of a cached
    identity (no allocation per call); the caller must then copy whatever it hands out that
    may still be that view."""
    if shared and len(tensors) == 1 and start == 0 and stop == tensors[0]._data.size:
        d = tensors[0]._data
        return [_wrap(_eye(stop, d.dtype).reshape((stop,) + d.shape))]
    rows, off = [], 0
    for t in tensors:
        m = t._data.size
        c = np.zeros((stop - start, m), t._data.dtype)
        k = np.arange(max(start, off), min(stop, off + m))
        c[k - start, k - off] = 1
        rows.append(_wrap(c.reshape((stop - start,) + t._data.shape)))
        off += m
    return rows
