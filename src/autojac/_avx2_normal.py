"""PyTorch's float32 Box-Muller on AVX2 CPUs, to the bit: ``log256_ps`` and ``sincos256_ps``.

PyTorch fills float32 normals 16 at a time with Cephes-style polynomial ``log``/``sin``/``cos``
(``avx_mathfun.h``), compiled with fused multiply-adds where a product feeds a sum. We run the same
polynomials in float32 NumPy arithmetic, fusing the same products (``fma32``), which reproduces
PyTorch's ``randn``/``normal_`` bit for bit on AVX2 machines (checked on 1.6 million draws).

>>> import numpy as np
>>> z = box_muller16(np.linspace(0.01, 0.99, 16).reshape(1, 16))
>>> z.dtype, z.shape
(dtype('float32'), (1, 16))
"""

from __future__ import annotations

import numpy as np

from ._random_fill import fma32 as _fma32

_f = np.float32


def fma32(a, b, c) -> np.ndarray:
    # every sum here is 0 or far above float32's subnormal range (|reduced angle| >= 2**-50)
    return _fma32(a, b, c, tiny=False)

_MIN_NORM = np.array([0x00800000], np.int32).view(_f)[0]
_HALF_BITS = np.array([0.5], _f).view(np.int32)[0]
_LOG_P = [_f(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
                          -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_DP = [_f(v) for v in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)]
_COS = [_f(v) for v in (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)]
_SIN = [_f(v) for v in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]


def log256(x: np.ndarray) -> np.ndarray:
    """``log`` of positive float32 values as ``log256_ps`` computes it."""
    x = np.maximum(x.astype(_f), _MIN_NORM)
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_f) + _f(1)
    x = ((bits & np.int32(~0x7F800000)) | _HALF_BITS).view(_f)  # mantissa in [0.5, 1)
    small = x < _f(0.707106781186547524)
    x = x - _f(1) + np.where(small, x, _f(0))
    e = e - small.astype(_f)
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = fma32(y, x, p)
    y = fma32(y * x, z, e * _f(-2.12194440e-4))
    y = fma32(-z, _f(0.5), y)
    return fma32(e, _f(0.693359375), x + y)


def sincos256(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sin, cos)`` of float32 values as ``sincos256_ps`` computes them."""
    x = x.astype(_f)
    negative = np.signbit(x)
    x = np.abs(x)
    j = (x * _f(1.27323954473516)).astype(np.int32)  # octant of x, made even: (j + 1) & ~1
    j = (j + 1) & ~1
    y = j.astype(_f)
    for dp in _DP:  # x - j * pi/4 in three exact pieces
        x = fma32(y, dp, x)
    use_sin_poly = (j & 2) == 0
    sin_negative = negative ^ ((j & 4) != 0)
    cos_negative = (~(j - 2) & 4) != 0
    z = x * x
    c = fma32(_COS[0], z, _COS[1])
    c = fma32(c, z, _COS[2])
    c = fma32(c * z, z, -(z * _f(0.5))) + _f(1)
    s = fma32(_SIN[0], z, _SIN[1])
    s = fma32(s, z, _SIN[2])
    s = fma32(s * z, x, x)
    sin = np.where(use_sin_poly, s, c)
    cos = np.where(use_sin_poly, c, s)
    return np.where(sin_negative, -sin, sin), np.where(cos_negative, -cos, cos)


def box_muller16(u: np.ndarray) -> np.ndarray:
    """Rows of 16 uniforms -> 16 float32 normals: radii from the first 8, angles from the last 8."""
    u = u.astype(_f)
    radius = np.sqrt(_f(-2) * log256(_f(1) - np.ascontiguousarray(u[:, :8])))
    sin, cos = sincos256(_f(2 * np.pi) * np.ascontiguousarray(u[:, 8:]))
    return np.concatenate([radius * cos, radius * sin], axis=1)
