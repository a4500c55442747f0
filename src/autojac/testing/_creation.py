"""``make_tensor``: a random tensor of a shape and dtype in ``[low, high)``, drawn as PyTorch's.

>>> import autojac
>>> _ = autojac.manual_seed(0)
>>> autojac.testing.make_tensor(3, dtype=autojac.float32, device="cpu")
tensor([-0.0674,  4.8280, -7.4074])
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._random import default_generator
from .._tensor import _wrap
from ..ops.creation import randint

__all__ = ["make_tensor"]


def make_tensor(*shape, dtype, device=None, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None):
    """Uniform values in ``[low, high)`` (default ``[-9, 9)``; integers ``[-9, 10)``; bool ``{0, 1}``)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    d = _dtype.to_dtype(dtype)
    if low is not None and high is not None and low >= high and not (low == high and d.np.kind == "f"):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if requires_grad and d.np.kind in "biu":
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got dtype={d}")
    if d.np.kind == "b":
        lo, hi = (0 if low is None else math.ceil(low)), (2 if high is None else math.ceil(high))
        result = randint(lo, hi, shape, dtype=_dtype.int64)._data.astype(bool)
    elif d.np.kind in "iu":
        lo, hi = (-9 if low is None else math.ceil(low)), (10 if high is None else math.ceil(high))
        result = randint(lo, hi, shape, dtype=d)._data
    else:
        lo, hi = (-9.0 if low is None else low), (9.0 if high is None else high)
        n = int(np.prod(shape, dtype=np.int64)) * (2 if d.np.kind == "c" else 1)
        real = np.float32 if d.np in (np.complex64, np.float32, np.float16) else np.float64
        vals = (default_generator.uniform(n, np.dtype(real)) * (hi - lo) + lo).astype(real)
        result = vals.view(d.np).reshape(shape) if d.np.kind == "c" else vals.astype(d.np).reshape(shape)
        if exclude_zero:
            result[result == 0] = np.finfo(result.real.dtype).eps
    if exclude_zero and d.np.kind in "iu":
        result[result == 0] = 1
    t = _wrap(np.ascontiguousarray(result))
    if requires_grad:
        t.requires_grad_(True)
    return t
