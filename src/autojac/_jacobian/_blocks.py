"""Blocks of a Jacobian as NumPy arrays: rows by reverse mode, columns by forward mode.

``reverse_rows`` pushes rows ``start:stop`` of the identity (over all outputs' elements) back
through an already recorded graph in one batched pass; ``forward_cols`` runs the function
once on dual inputs whose tangents are columns ``start:stop`` of the identity (over all
inputs' elements). Both return a ``(stop - start, width)`` array: row ``k`` is the flattened
gradient (reverse) or flattened output tangent (forward) of basis vector ``start + k``.

``ReverseTask`` / ``ForwardTask`` hold a function of the flat inputs and the input arrays;
called with ``(start, stop)`` they rebuild everything (trace, graph) and return that block,
which is what a worker process or machine runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._core import forward
from .._core.engine import run_backward
from .._core.grad_mode import enable_grad
from .._tensor import Tensor, _wrap
from ..ops.shape import alias
from ._basis import basis_rows


def _flat_dtype(tensors: Sequence[Tensor]) -> np.dtype:
    return np.result_type(*[t._data.dtype for t in tensors]) if tensors else np.dtype(np.float64)


def _write(block: np.ndarray, parts: Sequence, tensors: Sequence[Tensor]) -> np.ndarray:
    """Flatten each part (None = zeros) to ``(c, numel)`` into its columns of ``block``."""
    off = 0
    c = block.shape[0]
    for p, t in zip(parts, tensors):
        m = t._data.size
        if p is not None:
            block[:, off:off + m] = p._data.reshape(c, m)
        off += m
    return block


def reverse_rows(outs: Sequence[Tensor], ins: Sequence[Tensor], start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of the flattened Jacobian of ``outs`` w.r.t. ``ins`` (one backward pass,
    the graph retained for the next chunk)."""
    block = np.zeros((stop - start, sum(x._data.size for x in ins)), _flat_dtype(ins))
    cots = basis_rows(outs, start, stop)
    pairs = [(o, c) for o, c in zip(outs, cots) if o._requires_grad]
    if pairs and stop > start:
        roots, grads = zip(*pairs)
        captured = run_backward(roots, grads, retain_graph=True, create_graph=False, targets=list(ins),
                                accumulate=False, nb=1)
        _write(block, [captured.get(id(x)) for x in ins], ins)
    return block


def forward_cols(func: Callable, primals: Sequence[Tensor], start: int, stop: int,
                 out_dtype: np.dtype | None = None) -> np.ndarray:
    """Columns ``start:stop`` of the flattened Jacobian of ``func`` (flat tensors in, a list of
    tensors out) at ``primals``, as a ``(stop - start, total output numel)`` array: one pass of
    ``func`` at a fresh dual level."""
    level = forward.enter_level()
    try:
        duals = []
        for p, t in zip(primals, basis_rows(primals, start, stop)):
            d = alias(p)  # a dual view of p, as forward_ad.make_dual makes it
            forward.set_tangent(d, level, t)
            duals.append(d)
        outs = func(*duals)
        tans = [forward.tangent_of(o, level) for o in outs]
    finally:
        forward.exit_level(level)
    block = np.zeros((stop - start, sum(o._data.size for o in outs)), out_dtype or _flat_dtype(outs))
    return _write(block, tans, outs)


def _in_passes(block_of: Callable, start: int, stop: int, pass_rows: int) -> np.ndarray:
    """``block_of(s, e)`` over ``start:stop`` in passes of ``pass_rows``, stacked."""
    if stop - start <= pass_rows:
        return block_of(start, stop)
    parts = [block_of(s, min(s + pass_rows, stop)) for s in range(start, stop, pass_rows)]
    return np.concatenate(parts, axis=0)


class ReverseTask:
    """Rows of the Jacobian of ``func`` (flat input tensors -> list of output tensors) at the
    arrays ``primals``, rebuilt from scratch: what a worker runs for its chunk. One forward
    pass per task, then batched backward passes of ``pass_rows`` rows over its graph."""

    def __init__(self, func: Callable, primals: Sequence[np.ndarray], pass_rows: int | None = None) -> None:
        self.func = func
        self.primals = list(primals)
        self.pass_rows = pass_rows

    def __call__(self, start: int, stop: int) -> np.ndarray:
        with enable_grad():
            ins = [_wrap(p, True) for p in self.primals]
            outs = self.func(*ins)
        return _in_passes(lambda s, e: reverse_rows(outs, ins, s, e), start, stop, self.pass_rows or stop - start)


class ForwardTask:
    """Columns (as rows of the transposed block) of the Jacobian of ``func`` at ``primals``,
    in forward passes of ``pass_rows`` columns."""

    def __init__(self, func: Callable, primals: Sequence[np.ndarray], pass_rows: int | None = None) -> None:
        self.func = func
        self.primals = list(primals)
        self.pass_rows = pass_rows

    def __call__(self, start: int, stop: int) -> np.ndarray:
        primals = [_wrap(p) for p in self.primals]
        return _in_passes(lambda s, e: forward_cols(self.func, primals, s, e), start, stop,
                          self.pass_rows or stop - start)
