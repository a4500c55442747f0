"""Helpers for the batching rules that ops declare (``batch=`` functions; see ``_core.batching``).

A rule receives physical tensors, batch dimension first; these give them the shapes an op needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from .._core.batched import Batched, read_batched
from .._core.broadcast import expand
from .._tensor import Tensor
from .views import take_graph

__all__ = ["logical_ndim", "pad_to", "materialize", "run_per_element", "store", "widths_batch"]


def logical_ndim(x, batched: bool) -> int:
    """The per-example rank of an argument (a tensor, an array an op takes as is, or a number: 0)."""
    t = type(x)
    if t is Tensor:
        n = x._data.ndim
    elif t is float or t is int:
        return 0
    elif isinstance(x, np.ndarray):
        n = x.ndim
    else:
        return 0
    return n - 1 if batched else n


def pad_to(x, ndim: int):
    """Physical ``x`` (batch dim first) with size-1 dims after the batch dim up to logical rank ``ndim``."""
    k = (x._data.ndim if type(x) is Tensor else x.ndim) - 1
    if k >= ndim:
        return x
    shape = tuple(x.shape)
    return x.reshape(shape[:1] + (1,) * (ndim - k) + shape[1:])


def materialize(x: Tensor, size: int) -> Tensor:
    """An unbatched tensor given the batch dim (a broadcast view, no copy)."""
    shape = tuple(x._data.shape)
    return expand(x.reshape((1,) + shape), (size,) + shape)


def widths_batch(call: Callable, args: list, batched: list, params: dict, size: int):
    """``vmap`` rule of the padding ops (``widths``, one pair per dim, at position 1): the batch dim is not padded."""
    return call([args[0], ((0, 0),) + tuple(args[1])] + list(args[2:]), params)


_WARNED: set = set()


def run_per_element(call: Callable, args: list, batched: list, params: dict, size: int, name: str | None = None):
    """The op once per batch element, outputs stacked: the rule of ops without a vectorized one.

    ``name`` (the op's) is named in a warning, once per op, as functorch warns.
    """
    if name is not None and name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"There is a performance drop because we have not yet implemented the batching rule for "
                      f"{name}. autojac's vmap runs it once per batch element.", UserWarning, stacklevel=5)
    from .shape import stack  # noqa: PLC0415  (shape's rules use this module's helpers)

    results = [call([a[i] if b else a for a, b in zip(args, batched)], params) for i in range(size)]
    if type(results[0]) is tuple:
        return tuple(stack([r[k] for r in results]) for k in range(len(results[0])))
    return stack(results)


INPLACE_ON_UNBATCHED = (
    "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor `other` in "
    "extra_args that has more elements than `self`. This happened due to `other` being vmapped over but `self` "
    "not being vmapped over in a vmap. Please try to use out-of-place operators instead of inplace arithmetic. "
    "If said operator is being called inside the PyTorch framework, please file a bug report instead."
)


def store(self: Tensor, result: Tensor, store_plain: Callable) -> None:
    """The in-place write of ``result`` into ``self`` when either is batched: into ``self``'s physical tensor.

    A batched value cannot go into an unbatched tensor (torch's error). When the physical tensors take part
    in an enclosing differentiation, the physical tensor takes over the graph of the physical result (as
    ``inplace`` does for a plain tensor); a leaf or a view there is left to the loop over the batch, which
    records it exactly (``BatchedRead``).
    """
    sd, rd = self._data, result._data
    level = max(d.level for d in (sd, rd) if type(d) is Batched)
    if not (type(sd) is Batched and sd.level == level):
        err = RuntimeError(INPLACE_ON_UNBATCHED)
        err.vmap_refusal = True  # vmap raises it as is: the loop over the batch would write before refusing
        raise err
    ps = sd.phys
    pr = rd.phys if type(rd) is Batched and rd.level == level else materialize(result, sd.bsize)
    if ps._requires_grad or pr._requires_grad:
        if ps._grad_fn is None and ps._requires_grad or ps._base is not None:
            read_batched("an in-place write into a batched leaf or view an enclosing transform differentiates")
        pr = pad_to(pr, sd.ndim)
        if tuple(pr.shape) != tuple(ps.shape):
            pr = pr.expand(tuple(ps.shape))
        store_plain(ps, pr)
        if pr._fw is not None:  # before the views are refreshed from it
            ps._fw = pr._fw
        take_graph(ps, pr)
    else:
        store_plain(ps, pad_to(pr, sd.ndim))
    if self._vc is not ps._vc:
        self._vc[0] += 1

