"""Trigonometric and hyperbolic functions and their inverses: sin, cos, tan, sinh, cosh, tanh, asin, acos,
atan, asinh, acosh, atanh (with the ``arc*`` aliases), atan2.

Where an elementwise op lives: ops/elementwise.py arithmetic, exp/log, powers and roots, comparisons, selection
(clamp, maximum, where), rounding and the activation primitives sigmoid/relu/softplus; ops/trig.py the
trigonometric and hyperbolic functions and their inverses (atan2 too); ops/special.py the rest: SciPy's special
functions (erf and gamma families, xlogy, logit), hypot, logaddexp, remainder/fmod, frac, sgn.
"""

from __future__ import annotations

import numpy as np

from .._core.batching import BROADCAST, lift
from .._core.node import Saves
from .._core.patterns import ELEMENTWISE, binary_pattern
from .._tensor import Tensor
from ._declare import binary, conj, defop, elementwise
from .elementwise import _no_out, _public, isinf, sqrt, where

__all__ = ["sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
           "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2"]


# --------------------------------------------------------------------------- trigonometric
sin = elementwise("sin", np.sin, lambda ans, x: cos(x))
cos = elementwise("cos", np.cos, lambda ans, x: -sin(x))
tan = elementwise("tan", np.tan, lambda ans, x: 1.0 + ans * ans, uses="ans")
# A fused backward primitive (PyTorch's tanh_backward, as sigmoid_backward in ops/elementwise.py): one op
# in the backward pass instead of three, and differentiable again through its own rules.
tanh_backward = defop(
    "tanh_backward", lambda g, ans: g * (1 - ans * ans),
    vjp=(lambda gg, r, g, ans: tanh_backward(gg, ans), lambda gg, r, g, ans: -2.0 * gg * g * ans),
    jvp=(lambda t, r, g, ans: tanh_backward(lift(t, g, r), ans), lambda t, r, g, ans: -2.0 * lift(t, ans, r) * g * ans),
    cast="promote", grad_name="TanhBackwardBackward0", sparsity=binary_pattern(), batch=BROADCAST
)
# (complex values take the composite formula: the fused kernels' own rules are written for real ones)
tanh = defop("tanh", np.tanh,
             vjp=(lambda g, ans, x: g * conj(1 - ans * ans) if ans._data.dtype.kind == "c" else tanh_backward(g, ans),),
             jvp=(lambda t, ans, x: t * (1 - ans * ans) if ans._data.dtype.kind == "c" else tanh_backward(t, ans),),
             saves_inputs=Saves.NOTHING, saves_ans=True, cast="float", sparsity=ELEMENTWISE, batch=BROADCAST)


# --------------------------------------------------------------------------- hyperbolic and inverse trigonometric
_sinh = elementwise("sinh", np.sinh, lambda ans, x: _cosh(x))
_cosh = elementwise("cosh", np.cosh, lambda ans, x: _sinh(x))
_asin = elementwise("asin", np.arcsin, lambda ans, x: 1.0 / sqrt(1.0 - x * x))
_acos = elementwise("acos", np.arccos, lambda ans, x: -1.0 / sqrt(1.0 - x * x))
_atan = elementwise("atan", np.arctan, lambda ans, x: 1.0 / (1.0 + x * x))
_asinh = elementwise("asinh", np.arcsinh, lambda ans, x: 1.0 / sqrt(x * x + 1.0))
_acosh = elementwise("acosh", np.arccosh, lambda ans, x: 1.0 / sqrt(x * x - 1.0))
_atanh = elementwise("atanh", np.arctanh, lambda ans, x: 1.0 / (1.0 - x * x))
sinh = _public(_sinh, """Hyperbolic sine.

    >>> import autojac
    >>> autojac.sinh(autojac.tensor([0., 1.]))
    tensor([0.0000, 1.1752])
    """)
cosh = _public(_cosh, """Hyperbolic cosine.

    >>> import autojac
    >>> autojac.cosh(autojac.tensor([0., 1.]))
    tensor([1.0000, 1.5431])
    """)
asin = _public(_asin, """Inverse sine, in ``[-pi/2, pi/2]``; NaN outside ``[-1, 1]``.

    >>> import autojac
    >>> autojac.asin(autojac.tensor([0., 1.]))
    tensor([0.0000, 1.5708])
    """)
acos = _public(_acos, """Inverse cosine, in ``[0, pi]``; NaN outside ``[-1, 1]``.

    >>> import autojac
    >>> autojac.acos(autojac.tensor([1., 0.]))
    tensor([0.0000, 1.5708])
    """)
atan = _public(_atan, """Inverse tangent, in ``(-pi/2, pi/2)``.

    >>> import autojac
    >>> autojac.atan(autojac.tensor([0., 1.]))
    tensor([0.0000, 0.7854])
    """)
asinh = _public(_asinh, """Inverse hyperbolic sine.

    >>> import autojac
    >>> autojac.asinh(autojac.tensor([0., 1.]))
    tensor([0.0000, 0.8814])
    """)
acosh = _public(_acosh, """Inverse hyperbolic cosine, for ``x >= 1``.

    >>> import autojac
    >>> autojac.acosh(autojac.tensor([1., 2.]))
    tensor([0.0000, 1.3170])
    """)
atanh = _public(_atanh, """Inverse hyperbolic tangent, on ``(-1, 1)``; +-inf at +-1.

    >>> import autojac
    >>> autojac.atanh(autojac.tensor([0., 0.5]))
    tensor([0.0000, 0.5493])
    """)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


# --------------------------------------------------------------------------- atan2
def _sq_norm(a, b):
    return a * a + b * b


def _masked_recip(a, b):
    # PyTorch's atan2 backward: 1 / (a^2 + b^2), with 0 where that is infinite (the origin), so
    # the gradient at (0, 0) is 0; the inner where keeps higher derivatives finite there
    s = _sq_norm(a, b)
    inf = isinf(1.0 / s.detach())
    return where(inf, 0.0, 1.0 / where(inf, 1.0, s))


_atan2_op = binary("atan2", np.arctan2, lambda ans, a, b: b / _sq_norm(a, b), lambda ans, a, b: -a / _sq_norm(a, b),
                   cast="float")
# the VJP masks the origin (as PyTorch's); the JVP keeps 0/0 = nan there, as PyTorch's does
_atan2_op.vjp = (lambda g, ans, a, b: g * b * _masked_recip(a, b), lambda g, ans, a, b: g * -a * _masked_recip(a, b))


def atan2(input, other, *, out=None) -> Tensor:
    """The angle of the point ``(other, input)``, elementwise, in ``(-pi, pi]``.

    >>> import autojac
    >>> autojac.atan2(autojac.tensor([1., -1.]), autojac.tensor([0., 0.]))
    tensor([ 1.5708, -1.5708])
    """
    _no_out(out)
    return _atan2_op(input, other)


arctan2 = atan2
