"""Special functions on NumPy arrays (float64 inside), with no SciPy: erf, erfc, erfinv, lgamma, polygamma.

These are the forward kernels of ``ops/special.py``. They are vectorized (no Python loop over
elements) and accurate to a few ulps in float64:

- ``erf``/``erfc``: Cephes' rational approximations (Moshier, ``ndtr.c``), with ``exp(-x^2)``
  evaluated in two pieces so the rounding of ``x^2`` does not cost digits in the far tail;
- ``erfinv``: an initial guess (Giles, 2010) refined by Halley steps on ``erf``, or on ``erfc``
  near +-1 where ``1 - |y|`` is exact and ``erf`` has no digits left;
- ``lgamma``: ``math.lgamma`` elementwise (C's lgamma, accurate near its zeros at 1 and 2);
- ``polygamma(n, x)`` (``digamma`` is ``n = 0``): recurrence up to x >= 10 + n, then the asymptotic
  series in Bernoulli numbers; reflection for x < 0 (a polynomial in ``cot(pi x)``).
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------- erf / erfc (Cephes ndtr.c)
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0, 4.86371970985681366614e1,
      1.96520832956077098242e2, 5.26445194995477358631e2, 9.34528527171957607540e2, 1.02755188689515710272e3,
      5.57535335369399327526e2)
_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2, 9.75708501743205489753e2,
      1.82390916687909736289e3, 2.24633760818710981792e3, 1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0, 6.16021097993053585195e0,
      7.40974269950448939160e0, 2.97886665372100240670e0)
_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1, 1.70814450747565897222e1,
      9.60896809063285878198e0, 3.36907645100081516050e0)
_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3, 7.00332514112805075473e3,
      5.55923013010394962768e4)
_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3, 2.26290000613890934246e4,
      4.92673942608635921086e4)


def _poly(x: np.ndarray, coefs: tuple) -> np.ndarray:
    """Horner's rule, highest degree first."""
    r = np.full_like(x, coefs[0])
    for c in coefs[1:]:
        r *= x
        r += c
    return r


def _exp_neg_sq(x: np.ndarray) -> np.ndarray:
    """``exp(-x*x)`` for x >= 0 without the error of rounding ``x*x`` (x = hi + lo, hi*hi exact)."""
    hi = np.floor(x * 64.0) / 64.0
    lo = x - hi
    return np.exp(-hi * hi) * np.exp(-lo * (x + hi))


def _erfc_tail(x: np.ndarray) -> np.ndarray:
    """erfc(x) for x >= 1 (not nan)."""
    x = np.minimum(x, 40.0)  # erfc(40) underflows to 0 already; keeps inf/inf out
    p = np.empty_like(x)
    small = x < 8.0
    xs, xl = x[small], x[~small]
    p[small] = _poly(xs, _P) / _poly(xs, _Q)
    p[~small] = _poly(xl, _R) / _poly(xl, _S)
    return _exp_neg_sq(x) * p


def _erf_core(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 1."""
    z = x * x
    return x * _poly(z, _T) / _poly(z, _U)


def erf(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    out = np.array(x, dtype=np.float64, copy=True)  # nan stays nan
    inner = ax <= 1.0
    outer = ax > 1.0
    out[inner] = _erf_core(x[inner])
    out[outer] = np.copysign(1.0 - _erfc_tail(ax[outer]), x[outer])
    return out


def erfc(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    out = np.array(x, dtype=np.float64, copy=True)  # nan stays nan
    inner = ax < 1.0
    outer = ax >= 1.0
    out[inner] = 1.0 - _erf_core(x[inner])
    tail = _erfc_tail(ax[outer])
    out[outer] = np.where(x[outer] < 0, 2.0 - tail, tail)
    return out


# --------------------------------------------------------------------------- erfinv
_GILES_CENTER = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                 -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
               0.00943887047, 1.00167406, 2.83297682)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erfinv(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    a = np.abs(y)
    out = np.where(a == 1.0, np.inf, np.nan)  # |y| > 1 and nan give nan
    center = a <= 0.5
    near = (a > 0.5) & (a < 1.0)
    out[center] = _erfinv_center(a[center])
    out[near] = _erfinv_near(a[near])
    return np.copysign(out, y)


def _giles(a: np.ndarray) -> np.ndarray:
    """Giles' single-precision erfinv, the starting guess."""
    w = -np.log((1.0 - a) * (1.0 + a))
    return np.where(w < 5.0, _poly(w - 2.5, _GILES_CENTER), _poly(np.sqrt(np.maximum(w, 5.0)) - 3.0, _GILES_TAIL)) * a


def _erfinv_center(a: np.ndarray) -> np.ndarray:
    """Halley steps on f = erf(x) - a (f''/f' = -2x); cubic convergence from Giles' guess."""
    x = _giles(a)
    for _ in range(2):
        f = erf(x) - a
        fp = _TWO_OVER_SQRT_PI * _exp_neg_sq(np.abs(x))
        x = x - f / (fp + f * x)
    return x


def _erfinv_near(a: np.ndarray) -> np.ndarray:
    """Halley steps on h = log(erfc(x) / c), c = 1 - a exact: nearly linear in x even far in the tail."""
    c = 1.0 - a
    x = _giles(a)
    for _ in range(3):
        e = erfc(x)
        h = np.log(e / c)
        hp = -_TWO_OVER_SQRT_PI * _exp_neg_sq(x) / e
        step = h / (hp + 0.5 * h * (2.0 * x + hp))  # h''/h' = -2x - h'
        x = np.where(np.isfinite(step), x - step, x)
    return x


# --------------------------------------------------------------------------- lgamma
def _lgamma1(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole: 0 or a negative integer
        return math.inf


_lgamma_scalar = np.frompyfunc(_lgamma1, 1, 1)


def lgamma(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(_lgamma_scalar(x), dtype=np.float64).reshape(x.shape)


# --------------------------------------------------------------------------- polygamma / digamma
# B_2k for k = 1..12
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330,
              854513 / 138, -236364091 / 2730)


def _asymptotic(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) for large x > 0 from the Stirling-type series."""
    inv = 1.0 / x
    if n == 0:
        # log x - 1/(2x) - sum_k B_2k / (2k x^2k), by Horner in 1/x^2
        s = np.zeros_like(x)
        z = inv * inv
        for k in range(len(_BERNOULLI), 0, -1):
            s = (s + _BERNOULLI[k - 1] / (2 * k)) * z
        return np.log(x) - 0.5 * inv - s
    # (-1)^(n+1) [ (n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B_2k (2k+n-1)!/(2k)! / x^(2k+n) ]
    total = math.factorial(n - 1) * inv ** n + math.factorial(n) * 0.5 * inv ** (n + 1)
    z = inv * inv
    term = inv ** n
    for k in range(1, len(_BERNOULLI) + 1):
        term = term * z
        total = total + _BERNOULLI[k - 1] * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * term
    return total if n % 2 == 1 else -total


def _cot_derivative_poly(n: int) -> np.polynomial.Polynomial:
    """P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)): P_0 = c, P_{k+1} = -(1 + c^2) P_k'."""
    p = np.polynomial.Polynomial([0.0, 1.0])
    one_plus_c2 = np.polynomial.Polynomial([1.0, 0.0, 1.0])
    for _ in range(n):
        p = -one_plus_c2 * p.deriv()
    return p


def _polygamma_positive(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) for x > 0: shift x up by the recurrence, then the asymptotic series."""
    threshold = 10.0 + n
    steps = int(np.max(np.ceil(threshold - x), initial=0)) if x.size else 0
    acc = np.zeros_like(x)
    shifted = x.copy()
    sign = 1.0 if n % 2 == 1 else -1.0  # psi^(n)(x) = psi^(n)(x+1) + (-1)^(n+1) n! / x^(n+1)
    scale = sign * math.factorial(n)
    for _ in range(steps):
        move = shifted < threshold
        if not move.any():
            break
        acc = acc + np.where(move, scale / shifted ** (n + 1), 0.0)
        shifted = np.where(move, shifted + 1.0, shifted)
    return acc + _asymptotic(n, shifted)


def polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) (n = 0: digamma), as torch: poles give +-inf, x = -inf gives nan."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        neg = x < 0
        xp = np.where(neg, 1.0 - x, x)  # reflection: psi^(n)(x) = (-1)^n psi^(n)(1-x) - pi^(n+1) P_n(cot(pi x))
        ok = np.isfinite(xp) & (xp > 0)
        body = np.where(ok, xp, 1.0)
        val = _polygamma_positive(n, body)
        if neg.any():
            frac = x - np.floor(x)  # cot(pi x) has period 1; reduce first so large |x| keeps its digits
            cot = np.cos(np.pi * frac) / np.sin(np.pi * frac)
            refl = (-1.0) ** n * val - np.pi ** (n + 1) * _cot_derivative_poly(n)(cot)
            val = np.where(neg, refl, val)
        val = np.where(x == np.inf, np.log(x) if n == 0 else 0.0, val)
        pole = (x <= 0) & (x == np.floor(x))
        if n == 0:
            pole_val = np.where(x == 0, np.copysign(np.inf, -x), np.nan)  # torch: -inf at +0, +inf at -0
        else:
            pole_val = np.inf if n % 2 == 1 else -np.inf
        val = np.where(pole, pole_val, val)
        val = np.where(np.isnan(x) | (x == -np.inf), np.nan, val)
    return val


def digamma(x: np.ndarray) -> np.ndarray:
    return polygamma(0, x)
