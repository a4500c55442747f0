"""PyTorch's CPU ``uniform_(a, b)`` and ``normal_(mean, std)`` transformations, to the bit.

PyTorch's kernels end in a fused multiply-add (``x * (b - a) + a`` and ``z * std + mean`` are
contracted to one FMA in the AVX2 build), so we emulate a correctly rounded FMA in NumPy:
error-free products and sums, then round-to-odd before the final rounding (Boldo and
Melquiond, "Emulation of FMA and correctly rounded sums", 2008).

>>> import numpy as np
>>> float(fma(np.array([0.1]), np.array([10.0]), np.array([-1.0]))[0])  # exact: 2**-54 + ...
5.551115123125783e-17
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._dtype import torch_name

if TYPE_CHECKING:
    from ._random import Generator

_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitter for doubles


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = a * b
    ca, cb = _SPLIT * a, _SPLIT * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _round_odd_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` rounded to odd: an inexact result gets the neighbour with an odd last bit."""
    s, err = _two_sum(a, b)
    fix = (err != 0) & ((s.view(np.int64) & 1) == 0)
    if fix.any():
        s = s.copy()
        s[fix] = np.nextafter(s[fix], np.where(err[fix] > 0, np.inf, -np.inf))
    return s


def fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``a * b + c`` in float64 with a single rounding."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    ph, pl = _two_prod(a, b)
    uh, ul = _two_sum(c, ph)
    return uh + _round_odd_sum(ul, pl)


def fma32(a, b, c, tiny: bool = True) -> np.ndarray:
    """``a * b + c`` of float32 values with a single rounding to float32.

    The float64 product is exact (24 + 24 bits) and its float64 sum rounds to the same float32 as
    the exact sum unless it lands exactly on a float32 midpoint (or is subnormal in float32); only
    those rare values take the round-to-odd path (53 >= 2*24 + 2 bits makes that exact). Callers
    whose sums cannot be float32-subnormal pass ``tiny=False`` to skip that check.
    """
    s = np.multiply(a, b, dtype=np.float64)
    s += c
    low = s.view(np.int64) & 0x1FFFFFFF
    low -= 0x10000000  # zero exactly at a float32 midpoint
    risky = None
    if np.count_nonzero(low) != low.size:
        risky = low == 0
    if tiny:
        small = np.abs(s) < 2.0 ** -126  # the float32-subnormal grid is coarser
        if small.any():
            risky = small if risky is None else risky | small
    if risky is not None:
        p, c = np.broadcast_arrays(np.multiply(a, b, dtype=np.float64), np.asarray(c, dtype=np.float64))
        s[risky] = _round_odd_sum(p[risky], c[risky])
    return s.astype(np.float32)


def uniform(gen: Generator, n: int, dtype: np.dtype, low: float, high: float) -> np.ndarray:
    """``n`` values of ``Tensor.uniform_(low, high)``, as PyTorch's uniform_kernel draws them."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise NotImplementedError(f'"check_uniform_bounds" not implemented for \'{torch_name(dtype)}\'')
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    if dtype == np.float64:
        x = gen.uniform(n, np.float64)
        out = fma(x, np.float64(high) - np.float64(low), np.float64(low))
        top, bottom = np.float64(high), np.float64(low)
    else:  # float32 arithmetic (half draws in float too, then rounds)
        lo, hi = np.float32(low), np.float32(high)
        out = fma32(gen.uniform(n, np.float32), hi - lo, lo).astype(dtype)
        top, bottom = dtype.type(high), dtype.type(low)
    out[out == top] = bottom  # a value rounded up to the open end wraps to the start, as PyTorch
    return out


def normal(gen: Generator, n: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """``n`` values of ``Tensor.normal_(mean, std)`` on a contiguous tensor, as PyTorch's normal_kernel."""
    dtype = np.dtype(dtype)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    z = gen.normal(n, np.float64 if dtype == np.float64 else np.float32 if n >= 16 else np.float64)
    if n >= 16 and dtype != np.float64:  # normal_fill in float32 (AVX2: fused radius*cos*std + mean)
        return fma32(z.astype(np.float32), np.float32(std), np.float32(mean)).astype(dtype)
    if n >= 16 or mean != 0.0 or std != 1.0:
        z = fma(z, np.float64(std), np.float64(mean))
    return z.astype(dtype)
