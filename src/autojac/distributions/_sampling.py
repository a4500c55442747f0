"""Samplers that draw from autojac's generator the way PyTorch's CPU kernels do, and the
implicit-reparameterization ops that give Gamma / Dirichlet samples their gradients.

PyTorch's gamma sampler (Marsaglia-Tsang with the alpha < 1 boost, one element after another,
uniforms and normals in double) and its Dirichlet sampler (normalized double gammas) are
reproduced draw for draw, so seeded ``Gamma``/``Beta``/``Dirichlet`` samples equal PyTorch's.
Their gradients are implicit: ``dx/dalpha = -(dF/dalpha)(x; alpha) / p(x; alpha)`` with ``F``
the CDF (``scipy.special.gammainc`` / ``betainc``, differentiated in alpha by central
differences); PyTorch's ``_standard_gamma_grad`` / ``_dirichlet_grad`` compute the same
derivative with series approximations.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .._core.batching import BROADCAST
from .._core.node import defop
from .._random import default_generator
from .._tensor import _wrap
from ..ops.special import lgamma, xlogy


class _Stream:
    """PyTorch's double uniforms and normals, read in blocks from a copy of a generator's stream.

    One numpy call per block instead of one per draw; ``close`` advances the generator by exactly
    the words consumed and hands back the cached second normal, so the stream continues as if
    every draw had been taken from the generator itself.
    """

    _BLOCK = 4096

    def __init__(self, gen) -> None:
        self.gen = gen
        self.bits = np.random.MT19937()
        self.bits.state = gen._bits.state
        self.words: list[int] = []
        self.pos = 0
        self.used = 0
        self.next_normal = gen._next_normal

    def uniform(self) -> float:
        """``uniform_real_distribution<double>(0, 1)``: 53 bits of two 32-bit words."""
        if self.pos + 2 > len(self.words):
            self.words = self.words[self.pos:] + self.bits.random_raw(self._BLOCK).tolist()
            self.pos = 0
        hi, lo = self.words[self.pos], self.words[self.pos + 1]
        self.pos += 2
        self.used += 2
        return (((hi << 32) | lo) & _MASK53) * _TWO_M53

    def normal(self) -> float:
        """``normal_distribution<double>``: Box-Muller, the second value cached for the next call."""
        if self.next_normal is not None:
            v, self.next_normal = self.next_normal, None
            return v
        u1, u2 = self.uniform(), self.uniform()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.next_normal = r * math.sin(theta)
        return r * math.cos(theta)

    def close(self) -> None:
        if self.used:
            self.gen._bits.random_raw(self.used)
        self.gen._next_normal = self.next_normal


_MASK53 = (1 << 53) - 1
_TWO_M53 = 2.0 ** -53
# PyTorch writes these constants as float literals (1.0f / 3.0f, 0.0331f): their float32 values count
_THIRD_F32 = float(np.float32(1.0) / np.float32(3.0))
_C_F32 = float(np.float32(0.0331))


def _sample_gamma(alpha: float, draws: _Stream, f32: bool) -> float:
    """One draw of PyTorch's ``sample_gamma`` (ATen/native/Distributions.h) in double precision."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        inv = float(np.float32(1.0) / np.float32(alpha)) if f32 else 1.0 / alpha
        scale *= (1.0 - draws.uniform()) ** inv
        alpha = float(np.float32(alpha) + np.float32(1.0)) if f32 else alpha + 1.0
    d = alpha - _THIRD_F32
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1.0 - draws.uniform()
        xx = x * x
        if u < 1.0 - _C_F32 * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _gammas(flat: np.ndarray, gen, f32: bool) -> np.ndarray:
    draws = _Stream(default_generator if gen is None else gen)
    try:
        return np.array([_sample_gamma(a, draws, f32) for a in flat.tolist()], dtype=np.float64)
    finally:
        draws.close()


def standard_gamma_array(alpha: np.ndarray, gen=None) -> np.ndarray:
    """Standard gamma draws of concentration ``alpha`` (PyTorch's ``_standard_gamma`` on CPU)."""
    f32 = alpha.dtype == np.float32
    out = _gammas(np.ascontiguousarray(alpha).reshape(-1), gen, f32).astype(alpha.dtype)
    return np.maximum(out, np.finfo(alpha.dtype).tiny).reshape(alpha.shape)


def dirichlet_array(alpha: np.ndarray, gen=None) -> np.ndarray:
    """Dirichlet draws along the last axis (PyTorch's ``_sample_dirichlet``: double gammas, normalized)."""
    gam = _gammas(np.ascontiguousarray(alpha, dtype=np.float64).reshape(-1), gen, False)
    gam = np.maximum(gam, np.finfo(np.float64).tiny).reshape(alpha.shape)
    out = (gam / gam.sum(-1, keepdims=True)).astype(alpha.dtype)
    return np.maximum(out, np.finfo(alpha.dtype).tiny)


def _d_alpha(cdf, a: np.ndarray) -> np.ndarray:
    """d cdf(a) / da by a central difference with a step relative to ``a``."""
    h = 1e-5 * np.maximum(a, 1e-3)
    return (cdf(a + h) - cdf(a - h)) / (2 * h)


def standard_gamma_grad_array(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``d x / d alpha`` of a standard gamma sample ``x`` held at its CDF level."""
    a = alpha.astype(np.float64)
    xx = x.astype(np.float64)
    dcdf = _d_alpha(lambda s: special.gammainc(s, xx), a)
    log_pdf = special.xlogy(a - 1, xx) - xx - special.gammaln(a)
    return (-dcdf / np.exp(log_pdf)).astype(x.dtype)


def dirichlet_grad_array(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """PyTorch's ``_dirichlet_grad``: ``(d x_i / d alpha_i) / (1 - x_i)`` of the marginal
    ``x_i ~ Beta(alpha_i, total - alpha_i)`` held at its CDF level (the other ``alpha_j`` fixed).

    The other coordinates give way in proportion to their size, so ``d x_j / d alpha_i =
    -x_j * dirichlet_grad_i`` and the coordinates keep summing to one.
    """
    a = alpha.astype(np.float64)
    b = a.sum(-1, keepdims=True) - a
    xx = np.clip(x.astype(np.float64), 1e-300, 1.0)
    dcdf = _d_alpha(lambda s: special.betainc(s, b, xx), a)
    log_pdf = special.xlogy(a - 1, xx) + special.xlog1py(b - 1, -xx) - special.betaln(a, b)
    return (-dcdf / np.exp(log_pdf) / (1.0 - xx)).astype(x.dtype)


def _gamma_vjp(g, ans, alpha, x):
    return g * _wrap(standard_gamma_grad_array(alpha._data, x._data))


# forward returns the drawn sample; its only derivative is the implicit one in alpha
reparam_standard_gamma = defop("standard_gamma", lambda alpha, x: x.copy(),
                               vjp=(_gamma_vjp, None), jvp=(_gamma_vjp, None), batch=BROADCAST)


def _dirichlet_vjp(g, ans, alpha, x):
    d = _wrap(dirichlet_grad_array(x._data, alpha._data))
    return d * (g - (x * g).sum(-1, keepdim=True))


def _dirichlet_jvp(t, ans, alpha, x):
    tx = _wrap(dirichlet_grad_array(x._data, alpha._data)) * t
    return tx - x * tx.sum(-1, keepdim=True)


reparam_dirichlet = defop("dirichlet", lambda alpha, x: x.copy(), vjp=(_dirichlet_vjp, None),
                          jvp=(_dirichlet_jvp, None), grad_name="_DirichletBackward", batch=BROADCAST)


def _gammainc_vjp_x(g, ans, a, x):
    return g * (xlogy(a - 1, x) - x - lgamma(a)).exp()


def _no_a_grad(g, ans, a, x):
    raise NotImplementedError("the derivative of gammainc with respect to its first argument (a) is not implemented")


gammainc = defop("gammainc", lambda a, x: special.gammainc(a, x), vjp=(_no_a_grad, _gammainc_vjp_x),
                 jvp=(_no_a_grad, lambda t, ans, a, x: _gammainc_vjp_x(t, ans, a, x)), cast="promote",
                 grad_name="SpecialGammaincBackward0", batch=BROADCAST)


def categorical_array(probs: np.ndarray, n_sample: int, gen=None) -> np.ndarray:
    """Category indices, ``(n_dist, n_sample)``, drawn as PyTorch's CPU ``multinomial(probs, n, True)``.

    One sample per row uses PyTorch's fast path ``argmax(p / q)`` with exponential ``q`` (drawn
    from double uniforms); more samples per row use its inverse-CDF search, row after row.
    """
    gen = default_generator if gen is None else gen
    n_dist, k = probs.shape
    if n_sample == 1:
        u = gen.uniform(n_dist * k, np.float64)
        q = (-np.log1p(-u)).astype(probs.dtype).reshape(n_dist, k)
        return np.argmax(probs / q, axis=-1).reshape(n_dist, 1).astype(np.int64)
    out = np.empty((n_dist, n_sample), dtype=np.int64)
    for i in range(n_dist):
        cum = np.cumsum(probs[i])
        total = cum[-1]
        if total > 0:
            cum = cum / total
        cum[-1] = 1
        u = gen.uniform(n_sample, np.float64)
        out[i] = np.searchsorted(cum.astype(np.float64), u, side="left")
    return out
