"""Helpers for the batching rules that ops declare (``batch=`` functions; see ``_core.batching``).

A rule receives physical tensors, batch dimension first; these give them the shapes an op needs.
"""

from __future__ import annotations

from .._core.broadcast import expand
from .._tensor import Tensor
from .shape import reshape

__all__ = ["logical_ndim", "pad_to", "materialize"]


def logical_ndim(x, batched: bool) -> int:
    """The per-example rank of an argument (0 for a number)."""
    if type(x) is not Tensor:
        return 0
    return x._data.ndim - 1 if batched else x._data.ndim


def pad_to(x: Tensor, ndim: int) -> Tensor:
    """Physical ``x`` (batch dim first) with size-1 dims after the batch dim up to logical rank ``ndim``."""
    shape = tuple(x._data.shape)
    k = len(shape) - 1
    if k >= ndim:
        return x
    return reshape(x, shape[:1] + (1,) * (ndim - k) + shape[1:])


def materialize(x: Tensor, size: int) -> Tensor:
    """An unbatched tensor given the batch dim (a broadcast view, no copy)."""
    shape = tuple(x._data.shape)
    return expand(reshape(x, (1,) + shape), (size,) + shape)
