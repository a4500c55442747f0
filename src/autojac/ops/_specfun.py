"""Forward kernels of the erf and gamma families: SciPy's (``scipy.special``), with PyTorch's values
at the edges where the two libraries disagree (poles, infinities). float64 in and out.

The derivative rules stay in ``special.py``, written in autojac ops.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sc

__all__ = ["erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma"]

erf = sc.erf
erfc = sc.erfc
erfinv = sc.erfinv


def lgamma(x: np.ndarray) -> np.ndarray:
    """``log |Gamma(x)|``; PyTorch gives +inf at -inf, where SciPy gives -inf."""
    out = sc.gammaln(x)
    return np.where(x == -np.inf, np.inf, out)


def polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) (n = 0: digamma), as torch: poles give +-inf, x = -inf gives nan."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        val = sc.psi(x) if n == 0 else sc.polygamma(n, x)
        val = np.where(x == np.inf, np.inf if n == 0 else 0.0, val)
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
