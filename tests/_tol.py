"""Tolerances for comparing floating-point results of two different code paths.

Two computations of the same number by different code (batched vs looped, autojac vs torch,
one BLAS kernel vs another: OpenBLAS picks kernels per CPU and per call shape) agree only to
rounding, so no test may ask them to be bit-equal. The floors below allow a few dozen
roundings at each dtype's precision (float32 eps is 1.2e-7, float64 eps 2.2e-16), which covers
the short op chains of the tests; longer chains and ill-conditioned ops pass wider tolerances.
The absolute floor scales with the largest magnitude compared, so a sum that cancels to
nearly zero is judged against the size of what it summed.

Bit-equality stays right for one code path run twice on the same data (RNG streams, copies,
indexing) and for integer and boolean results: ``assert_close`` compares those exactly.

>>> import numpy as np
>>> tolerance(np.float32(1))
(1e-05, 1e-06)
>>> assert_close(np.float32([1, 2]) + np.float32(1e-7), np.float32([1, 2]))
"""

from __future__ import annotations

import numpy as np

# (rtol, atol) floors by the precision of the less precise operand
_FLOORS = {2: (1e-3, 1e-3), 4: (1e-5, 1e-6), 8: (1e-12, 1e-12)}  # float16, float32, float64 (real part size)
FLOAT32 = _FLOORS[4]  # for results stored as float64 but computed in float32 (``x.float() @ y`` then cast back)
FLOAT64 = _FLOORS[8]


def tolerance(*arrays) -> tuple[float, float]:
    """The ``(rtol, atol)`` floor for comparing ``arrays``: that of their least precise floating dtype."""
    sizes = [_real_size(np.asarray(a).dtype) for a in arrays]
    sizes = [s for s in sizes if s]
    return _FLOORS[min(sizes)] if sizes else (0.0, 0.0)


def _real_size(dt: np.dtype) -> int:
    if dt.kind == "f":
        return min(dt.itemsize, 8)
    if dt.kind == "c":
        return min(dt.itemsize // 2, 8)
    return 0  # integers and booleans: exact


def assert_close(actual, expected, rtol: float = 0.0, atol: float = 0.0, err_msg: str = "",
                 equal_nan: bool = True) -> None:
    """``np.testing.assert_allclose`` with ``rtol``/``atol`` raised to at least the dtype's floor
    (``tolerance``), the absolute one scaled by the largest finite magnitude of ``expected``.
    Integer and boolean arrays must be equal."""
    a, e = np.asarray(actual), np.asarray(expected)
    floor_r, floor_a = tolerance(a, e)
    if floor_r == 0.0 and rtol == 0.0 and atol == 0.0:
        np.testing.assert_array_equal(a, e, err_msg=err_msg)
        return
    finite = np.abs(e[np.isfinite(e)]) if e.size else np.zeros(0)
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    np.testing.assert_allclose(a, e, rtol=max(rtol, floor_r), atol=max(atol, floor_a * scale),
                               err_msg=err_msg, equal_nan=equal_nan)
