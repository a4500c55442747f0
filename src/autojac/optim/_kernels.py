"""In-place array arithmetic in PyTorch's operation order, shared by the optimizers.

Each helper mirrors one ATen pointwise kernel on NumPy arrays, so that float64 trajectories
agree with PyTorch's to rounding and float32 ones to float32 rounding (Python scalars act as
the array's dtype, as PyTorch's ``alpha``/``value`` do). ``tmp``, where accepted, is a scratch
array of the operands' shape that the helper may overwrite (it saves allocating one per call).
"""

from __future__ import annotations

import numpy as np


def add_scaled(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """``a.add(b, alpha=alpha)``: a new array ``a + alpha * b``."""
    out = np.multiply(b, alpha)
    out += a
    return out


def add_scaled_(a: np.ndarray, b: np.ndarray, alpha: float, tmp: np.ndarray | None = None) -> None:
    """``a.add_(b, alpha=alpha)`` in place (``alpha == 1`` adds ``b`` itself, as PyTorch's kernel rounds)."""
    if alpha == 1:
        a += b
    else:
        a += np.multiply(b, alpha, out=tmp)


def addcmul_(a: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float, tmp: np.ndarray | None = None) -> None:
    """``a.addcmul_(t1, t2, value=value)``: ``a + (value * t1) * t2`` in place."""
    tmp = np.multiply(t1, value, out=tmp)
    tmp *= t2
    a += tmp


def addcdiv_(a: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float, tmp: np.ndarray | None = None) -> None:
    """``a.addcdiv_(t1, t2, value=value)``: ``a + (value * t1) / t2`` in place."""
    tmp = np.multiply(t1, value, out=tmp)
    tmp /= t2
    a += tmp


def lerp_(a: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray | None = None) -> None:
    """``a.lerp_(end, weight)`` with PyTorch's two-sided formula (exact at both ends)."""
    diff = np.subtract(end, a, out=tmp)
    if abs(weight) < 0.5:
        diff *= weight
        a += diff
    else:
        diff *= 1 - weight
        np.subtract(end, diff, out=a)


class Scratch:
    """Reusable scratch arrays, one flat buffer per (dtype, slot) sized to the largest request,
    so an optimizer step allocates no parameter-sized temporaries after its first call."""

    def __init__(self) -> None:
        self._bufs: dict = {}

    def get(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        key = (like.dtype, slot)
        buf = self._bufs.get(key)
        if buf is None or buf.size < like.size:
            buf = self._bufs[key] = np.empty(like.size, dtype=like.dtype)
        return buf[:like.size].reshape(like.shape)
