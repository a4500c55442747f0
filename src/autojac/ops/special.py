"""Special and more elementwise functions: erf family, gamma family, hypot, xlogy, logaddexp, frac, logit, sgn,
remainder/fmod.

Where an elementwise op lives: ops/elementwise.py arithmetic, exp/log, powers and roots, comparisons, selection
(clamp, maximum, where), rounding and the activation primitives sigmoid/relu/softplus; ops/trig.py the
trigonometric and hyperbolic functions and their inverses (atan2 too); ops/special.py the rest: SciPy's special
functions (erf and gamma families, xlogy, logit), hypot, logaddexp, remainder/fmod, frac, sgn.

Each op is one primitive with its VJP and JVP rule written in autojac ops, so derivatives of any
order follow (``lgamma -> digamma -> polygamma(1) -> polygamma(2) ...``). The forward kernels
of the erf and gamma families are SciPy's (``_specfun``), float64 inside.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.batching import BROADCAST, lift
from .._core.node import Saves
from .._core.patterns import ELEMENTWISE, LINEAR, ZERO, binary_pattern
from .._tensor import Tensor
from . import _specfun
from ._declare import binary, defop, elementwise, inplace, operand, renamed
from .complex import csgn
from .elementwise import (
    _no_out,
    _public,
    check_integer_division,
    eq,
    exp,
    floor,
    le,
    logical_and,
    sigmoid,
    trunc,
    where,
    zero_grad,
)
from .trig import cos

__all__ = ["erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "hypot", "xlogy", "logaddexp", "logaddexp2",
           "frac", "logit", "sgn", "sinc", "psi", "remainder", "fmod"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def _in_float64(kernel):
    """A forward that runs ``kernel`` in float64 and returns the input's (float) dtype."""
    def forward(x, *args):
        return kernel(*args, x).astype(x.dtype, copy=False) if args else kernel(x).astype(x.dtype, copy=False)
    return forward


# --------------------------------------------------------------------------- erf family
_erf = elementwise("erf", _in_float64(_specfun.erf), lambda ans, x: _TWO_OVER_SQRT_PI * exp(-(x * x)))
_erfc = elementwise("erfc", _in_float64(_specfun.erfc), lambda ans, x: -_TWO_OVER_SQRT_PI * exp(-(x * x)))
# d erfinv(y) = sqrt(pi)/2 exp(erfinv(y)^2) dy
_erfinv = elementwise("erfinv", _in_float64(_specfun.erfinv), lambda ans, x: _SQRT_PI_OVER_TWO * exp(ans * ans),
                      uses="ans")
erf = _public(_erf, """The Gauss error function ``2/sqrt(pi) * int_0^x exp(-t^2) dt``.

    >>> import autojac
    >>> autojac.erf(autojac.tensor([0., 1., -2.]))
    tensor([ 0.0000,  0.8427, -0.9953])
    """)
erfc = _public(_erfc, """``1 - erf(x)``, accurate where erf is close to 1.

    >>> import autojac
    >>> autojac.erfc(autojac.tensor([0., 10.], dtype=autojac.float64))
    tensor([1.0000e+00, 2.0885e-45], dtype=autojac.float64)
    """)
erfinv = _public(_erfinv, """The inverse of ``erf`` on ``(-1, 1)``; +-inf at +-1, NaN outside.

    >>> import autojac
    >>> autojac.erfinv(autojac.tensor([0., 0.5, 1.]))
    tensor([0.0000, 0.4769,    inf])
    """)

# --------------------------------------------------------------------------- gamma family
_lgamma = elementwise("lgamma", _in_float64(_specfun.lgamma), lambda ans, x: _digamma(x))
_digamma = elementwise("digamma", _in_float64(_specfun.digamma), lambda ans, x: _polygamma_op(x, n=1))
lgamma = _public(_lgamma, """``log |Gamma(x)|``; its derivative is ``digamma``.

    >>> import autojac
    >>> autojac.lgamma(autojac.tensor([1., 5., -0.5]))
    tensor([0.0000, 3.1781, 1.2655])
    """)
digamma = _public(_digamma, """``d/dx log Gamma(x)``; -inf at 0, NaN at negative integers (as PyTorch).

    >>> import autojac
    >>> autojac.digamma(autojac.tensor([1., 0.5]))  # -euler_gamma, -euler_gamma - 2 log 2
    tensor([-0.5772, -1.9635])
    """)
psi = digamma


def _polygamma_forward(x, n):
    return _specfun.polygamma(n, x).astype(x.dtype, copy=False)


_polygamma_op = defop(
    "polygamma", _polygamma_forward,
    vjp=(lambda g, ans, x, n: g * _polygamma_op(x, n=n + 1),),
    jvp=(lambda t, ans, x, n: t * _polygamma_op(x, n=n + 1),),
    cast="float", sparsity=ELEMENTWISE, batch=BROADCAST
)


def polygamma(n: int, input: Tensor, *, out=None) -> Tensor:
    """The ``n``-th derivative of the digamma function (``n = 0`` is digamma itself).

    >>> import autojac
    >>> autojac.polygamma(1, autojac.tensor([1., 2.]))  # pi^2/6, pi^2/6 - 1
    tensor([1.6449, 0.6449])
    """
    _no_out(out)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _polygamma_op(input, n=n)


# --------------------------------------------------------------------------- binary
_hypot_op = binary("hypot", np.hypot, lambda ans, a, b: a / ans, lambda ans, a, b: b / ans, uses="both",
                   cast="float")
# d/da log(e^a + e^b) = sigmoid(a - b): never overflows, and reads only the inputs (PyTorch saves
# the inputs, not the result: writing to the result in place afterwards is allowed)
_LN2 = math.log(2.0)
_logaddexp_op = binary("logaddexp", np.logaddexp, lambda ans, a, b: sigmoid(a - b), lambda ans, a, b: sigmoid(b - a),
                       uses="x", cast="float")
_logaddexp2_op = binary("logaddexp2", np.logaddexp2, lambda ans, a, b: sigmoid((a - b) * _LN2),
                        lambda ans, a, b: sigmoid((b - a) * _LN2), uses="x", cast="float")


def hypot(input, other, *, out=None) -> Tensor:
    """``sqrt(input^2 + other^2)`` without overflow or underflow.

    >>> import autojac
    >>> autojac.hypot(autojac.tensor([3.]), autojac.tensor([4.]))
    tensor([5.])
    """
    _no_out(out)
    return _hypot_op(input, other)


def logaddexp(input, other, *, out=None) -> Tensor:
    """``log(exp(input) + exp(other))``, computed stably.

    >>> import autojac
    >>> autojac.logaddexp(autojac.tensor([1000.]), autojac.tensor([1000.]))
    tensor([1000.6932])
    """
    _no_out(out)
    return _logaddexp_op(input, other)


def logaddexp2(input, other, *, out=None) -> Tensor:
    """``log2(2**input + 2**other)``, computed stably."""
    _no_out(out)
    return _logaddexp2_op(input, other)


# --------------------------------------------------------------------------- xlogy: 0 where x == 0
def _xlogy_forward(x, y):
    dt = np.result_type(*(a for a in (x, y) if isinstance(a, np.ndarray)))  # a Python scalar operand is weak
    with np.errstate(all="ignore"):
        r = (x * np.log(y)).astype(dt, copy=False)
    return np.where((x == 0) & ~np.isnan(y), np.zeros((), dt), r)


def _xlogy_dx(g, ans, x, y):
    # PyTorch: xlogy(g, y), zeroed where x == 0 and y <= 0 (log(y) is -inf or nan there)
    r = _xlogy(g, y)
    if type(x) is not Tensor:
        return r
    at_zero = eq(x, 0) if type(y) is not Tensor else logical_and(eq(x, 0), le(y, 0))
    if type(y) is not Tensor and y > 0:
        return r
    return where(at_zero, 0.0, r)


def _xlogy_dy(g, ans, x, y):
    return g * x / y


_xlogy_op = defop(
    "xlogy", _xlogy_forward,
    vjp=(_xlogy_dx, _xlogy_dy),
    jvp=(lambda t, ans, x, y: _xlogy_dx(lift(t, x, ans), ans, x, y),
         lambda t, ans, x, y: _xlogy_dy(lift(t, y, ans), ans, x, y)),
    cast="float", sparsity=binary_pattern(), batch=BROADCAST
)
_xlogy_scalar_self = renamed(_xlogy_op, "XlogyBackward1")  # xlogy(number, tensor)
_xlogy_scalar_other = renamed(_xlogy_op, "XlogyBackward2")  # xlogy(tensor, number)


def _xlogy(x, y):
    return _xlogy_op(x, y)


def xlogy(input, other, *, out=None) -> Tensor:
    """``input * log(other)``, and 0 where ``input == 0`` (unless ``other`` is NaN).

    >>> import autojac
    >>> autojac.xlogy(autojac.tensor([0., 2.]), autojac.tensor([0., 1.]))
    tensor([0., 0.])
    """
    _no_out(out)
    a, b = operand(input), operand(other)
    if type(a) is not Tensor:
        return _xlogy_scalar_self(float(a), b)
    if type(b) is not Tensor:
        return _xlogy_scalar_other(a, float(b))
    return _xlogy_op(a, b)


# --------------------------------------------------------------------------- sinc
# d sinc(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (the limit; PyTorch masks it there the same way)
_sinc = elementwise("sinc", np.sinc, lambda ans, x: where(
    x == 0, 0.0, (cos(x * math.pi) - _sinc(x)) / where(x == 0, 1.0, x)))
sinc = _public(_sinc, """The normalized sinc function ``sin(pi x) / (pi x)``, 1 at 0.

    >>> import autojac
    >>> autojac.sinc(autojac.tensor([0.0, 0.5, -0.5]))
    tensor([1.0000, 0.6366, 0.6366])
    """)


# --------------------------------------------------------------------------- frac, logit, sgn
_frac = defop("frac", lambda x: x - np.trunc(x), vjp=(lambda g, ans, x: g,), jvp=(lambda t, ans, x: t,),
              saves_inputs=Saves.NOTHING, sparsity=LINEAR, batch=BROADCAST)
frac = _public(_frac, """``x - trunc(x)``: the fractional part, with the sign of ``x``; its gradient is 1.

    >>> import autojac
    >>> autojac.frac(autojac.tensor([-1.5, 2.25]))
    tensor([-0.5000,  0.2500])
    """)


def _logit_forward(x, eps):
    if eps is not None:
        x = np.clip(x, eps, 1.0 - eps)
    with np.errstate(all="ignore"):
        return np.log(x / (1.0 - x))


def _logit_rule(g, ans, x, eps):
    d = g / (x * (1.0 - x))
    if eps is None:
        return d
    # PyTorch: zero outside [eps, 1 - eps], where the input was clamped
    return where(logical_and(x >= eps, x <= 1.0 - eps), d, 0.0)


_logit_op = defop("logit", _logit_forward, vjp=(_logit_rule,), jvp=(_logit_rule,), cast="float",
                  sparsity=ELEMENTWISE, batch=BROADCAST)


def logit(input: Tensor, eps: float | None = None, *, out=None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``.

    >>> import autojac
    >>> autojac.logit(autojac.tensor([0.5, 0.75]))
    tensor([0.0000, 1.0986])
    """
    _no_out(out)
    return _logit_op(input, eps=eps)


_sgn_op = defop("sgn", np.sign, vjp=(lambda g, ans, x: zero_grad(g),), jvp=(lambda t, ans, x: zero_grad(t),),
                saves_inputs=Saves.NOTHING, sparsity=ZERO, batch=BROADCAST)


def sgn(input: Tensor, *, out=None) -> Tensor:
    """The sign of real numbers (zero gradient), ``z / |z|`` of complex ones (0 at 0).

    >>> import autojac
    >>> autojac.sgn(autojac.tensor([3 + 4j, 0j]))
    tensor([0.6000+0.8000j, 0.0000+0.0000j])
    """
    _no_out(out)
    if input._data.dtype.kind == "c":
        return csgn(input)
    return _sgn_op(input)


# --------------------------------------------------------------------------- remainder, fmod
# d/da = 1, d/db = -floor(a/b) (remainder, the sign of b) or -trunc(a/b) (fmod, the sign of a), as PyTorch
def _remainder_forward(a, b):
    # PyTorch's: fmod, moved to the sign of b (so 5 % -2.5 is +0.0, where NumPy gives -0.0)
    m = np.fmod(a, b)
    return np.where((m != 0) & ((np.asarray(b) < 0) != (m < 0)), m + b, m)


_remainder_op = binary("remainder", _remainder_forward, lambda ans, a, b: 1.0, lambda ans, a, b: -floor(a / b),
                       cast="promote", grad_name="RemainderBackward1")
_remainder_scalar = renamed(_remainder_op, "RemainderBackward0")
_fmod_op = binary("fmod", np.fmod, lambda ans, a, b: 1.0, lambda ans, a, b: -trunc(a / b), cast="promote",
                  grad_name="FmodBackward1")
_fmod_scalar = renamed(_fmod_op, "FmodBackward0")


def remainder(input, other, *, out=None) -> Tensor:
    """Python's modulus: ``input - floor(input / other) * other``, with the sign of ``other``.

    >>> import autojac
    >>> autojac.remainder(autojac.tensor([-3., 3.]), 2)
    tensor([1., 1.])
    """
    _no_out(out)
    a, b = operand(input), operand(other)
    check_integer_division(a, b)
    return (_remainder_op if type(b) is Tensor else _remainder_scalar)(a, b)


def fmod(input, other, *, out=None) -> Tensor:
    """C's fmod: ``input - trunc(input / other) * other``, with the sign of ``input``.

    >>> import autojac
    >>> autojac.fmod(autojac.tensor([-3., 3.]), 2)
    tensor([-1.,  1.])
    """
    _no_out(out)
    a, b = operand(input), operand(other)
    check_integer_division(a, b)
    return (_fmod_op if type(b) is Tensor else _fmod_scalar)(a, b)


def _mod_method(self, other):
    other = operand(other)
    return NotImplemented if other is NotImplemented else remainder(self, other)


def _rmod_method(self, other):
    other = operand(other)
    if other is NotImplemented:
        return NotImplemented
    check_integer_division(other, self)
    return _remainder_op(other, self)


# --------------------------------------------------------------------------- Tensor methods
def _inplace_unary(fn):
    def method(self):
        return inplace(self, fn)
    return method
