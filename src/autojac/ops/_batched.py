"""Helpers for the batching rules that ops declare (``batch=`` functions; see ``_core.batching``).

A rule receives physical tensors, batch dimension first; these give them the shapes an op needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from .._core.broadcast import expand
from .._tensor import Tensor
from .shape import reshape, stack

__all__ = ["logical_ndim", "pad_to", "materialize", "run_per_element"]


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


_WARNED: set = set()


def run_per_element(call: Callable, args: list, batched: list, params: dict, size: int, name: str | None = None):
    """The op once per batch element, outputs stacked: the rule of ops without a vectorized one.

    ``name`` (the op's) is named in a warning, once per op, as functorch warns.
    """
    if name is not None and name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"There is a performance drop because we have not yet implemented the batching rule for "
                      f"{name}. autojac's vmap runs it once per batch element.", UserWarning, stacklevel=5)
    results = [call([a[i] if b else a for a, b in zip(args, batched)], params) for i in range(size)]
    if type(results[0]) is tuple:
        return tuple(stack([r[k] for r in results]) for k in range(len(results[0])))
    return stack(results)
