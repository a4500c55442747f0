"""Finite differences: central differences per input entry and along a direction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._tensor import Tensor
from ._common import _as_tuple, _is_float

# ----------------------------------------------------------------------------- finite differences


def _evaluate(func: Callable, tupled: tuple) -> list:
    """The float outputs of ``func`` as float64 copies (None for other outputs)."""
    return [o._data.astype(np.float64, copy=True) if _is_float(o) else None for o in _as_tuple(func(*tupled))]


def _check_same(a: list, b: list, eps: float, idx=None) -> None:
    on = f"on index {idx} " if idx is not None else ""
    for x, y in zip(a, b):
        if x is None or y is None:
            continue
        if x.shape != y.shape:
            raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs are perturbed "
                                 f"{on}by {eps}, but got: shapes {x.shape} and {y.shape}.")


def _central(func: Callable, tupled: tuple, x: Tensor, perturb, eps: float, idx=None) -> list:
    """``(f(x + d) - f(x - d)) / (2 eps)`` per float output, flattened; ``perturb(arr, sign)``
    writes ``x``'s value moved by ``sign * d`` into the array ``arr`` and returns a function
    that restores it."""
    lo_out = _with_value(func, tupled, x, perturb, -1)
    hi_out = _with_value(func, tupled, x, perturb, 1)
    _check_same(lo_out, hi_out, eps, idx)
    return [None if lo is None else ((hi - lo) / (2.0 * eps)).reshape(-1) for lo, hi in zip(lo_out, hi_out)]


def _with_value(func: Callable, tupled: tuple, x: Tensor, perturb, sign: int) -> list:
    """Evaluate ``func`` with ``x``'s data perturbed in place (as PyTorch perturbs ``x.data``),
    or on a perturbed copy when the data is read-only; restored afterwards, bit for bit."""
    arr = x._data
    own = arr if arr.flags.writeable else arr.copy()
    restore = perturb(own, sign)
    try:
        x._data = own
        return _evaluate(func, tupled)
    finally:
        restore()
        x._data = arr


def _numerical_jacobians(func: Callable, tupled: tuple, diff: list, eps: float) -> list:
    """``J[k][pos]``: (numel of input ``diff[k]``, numel of output ``pos``) in float64, for float outputs."""
    res = []
    for k in diff:
        x = tupled[k]
        cols = []
        for flat in range(x._data.size):
            idx = tuple(int(i) for i in np.unravel_index(flat, x._data.shape))

            def perturb(arr, sign, idx=idx):
                old = arr[idx]
                arr[idx] = old + sign * eps
                return lambda: arr.__setitem__(idx, old)

            cols.append(_central(func, tupled, x, perturb, eps, idx=idx))
        res.append(_stack_cols(cols, func, tupled))
    return res


def _stack_cols(cols: list, func: Callable, tupled: tuple) -> list:
    if cols:
        return [None if c0 is None else np.stack([c[p] for c in cols]) for p, c0 in enumerate(cols[0])]
    outs = _evaluate(func, tupled)  # an empty input: a Jacobian with no rows per output
    return [None if o is None else np.zeros((0, o.size)) for o in outs]


def _numerical_ju(func: Callable, tupled: tuple, k: int, u: np.ndarray, eps: float) -> list:
    """The directional derivative along ``u`` (a flat unit vector) of input ``k``, per float output."""
    x = tupled[k]
    step = (u * eps).reshape(x._data.shape)

    def perturb(arr, sign):
        saved = arr.copy()
        np.copyto(arr, saved + sign * step, casting="unsafe")
        return lambda: np.copyto(arr, saved)

    return _central(func, tupled, x, perturb, eps)
