"""Elementwise ops: arithmetic, powers and roots, exp/log, comparisons, selection, rounding, activation primitives.

Where an elementwise op lives: ops/elementwise.py arithmetic, exp/log, powers and roots, comparisons, selection
(clamp, maximum, where), rounding and the activation primitives sigmoid/relu/softplus; ops/trig.py the
trigonometric and hyperbolic functions and their inverses (atan2 too); ops/special.py the rest: SciPy's special
functions (erf and gamma families, xlogy, logit), hypot, logaddexp, remainder/fmod, frac, sgn.
"""

from __future__ import annotations

import cmath
import sys

import numpy as np

from .._core.batched import Batched
from .._core.batching import BROADCAST, lift
from .._core.node import Saves, nondiff
from .._core.patterns import ALL, ELEMENTWISE, LINEAR, ZERO, binary_pattern
from .._dtype import FROM_NP, get_default_dtype, result_type
from .._tensor import Tensor, _wrap
from ._declare import apply, binary, conj, defop, elementwise, linear, named, operand, renamed
from .creation import tensor

_EMPTY: dict = {}

# --------------------------------------------------------------------------- arithmetic
add_op = defop("add", np.add, vjp=(lambda g, ans, a, b: g, lambda g, ans, a, b: g),
               jvp=(lambda t, ans, a, b: lift(t, a, ans), lambda t, ans, a, b: lift(t, b, ans)),
               saves_inputs=Saves.NOTHING, cast="promote", sparsity=LINEAR, batch=BROADCAST)
sub_op = defop("sub", np.subtract, vjp=(lambda g, ans, a, b: g, lambda g, ans, a, b: -g),
               jvp=(lambda t, ans, a, b: lift(t, a, ans), lambda t, ans, a, b: -lift(t, b, ans)),
               saves_inputs=Saves.NOTHING, cast="promote", sparsity=LINEAR, batch=BROADCAST)
mul_op = linear("mul", np.multiply,
               vjp=(lambda g, ans, a, b: g * conj(b), lambda g, ans, a, b: g * conj(a)),
               saves_inputs=Saves.OTHER_OPERANDS, cast="promote", sparsity=binary_pattern(((0, 1),)), batch=BROADCAST)
div_op = defop("div", np.true_divide,
               vjp=(lambda g, ans, a, b: g / conj(b), lambda g, ans, a, b: -g * conj(a) / conj(b * b)),
               jvp=(lambda t, ans, a, b: lift(t, a, ans) / b, lambda t, ans, a, b: -lift(t, b, ans) * a / (b * b)),
               cast="float", sparsity=binary_pattern(((0, 1), (1, 1))), batch=BROADCAST)
# x / number: PyTorch saves only the number (OTHER_OPERANDS: x's version is not checked, the node is freed
# after backward like PyTorch's), so a later in-place write to x is allowed
_div_number_op = defop("div", np.true_divide, vjp=div_op.vjp, jvp=div_op.jvp, saves_inputs=Saves.OTHER_OPERANDS,
                       cast="float", sparsity=div_op.sparsity, batch=BROADCAST)


def _div(a, b):
    return apply(div_op if type(b) is Tensor or type(a) is not Tensor else _div_number_op, (a, b))


neg = linear("neg", np.negative, vjp=(lambda g, ans, x: -g,), saves_inputs=Saves.NOTHING, sparsity=LINEAR,
             batch=BROADCAST)


def _pow_forward(a, b):
    if type(b) is float and (b == 0.5 or b == -0.5):  # PyTorch's kernel: sqrt/rsqrt, so (-0.)**±0.5 is -0./-inf
        r = np.sqrt(a)
        return r if b > 0 else np.divide(1, r, dtype=r.dtype)
    return np.power(a, b)


def _pow_da(ans, a, b):
    if type(b) is not Tensor:
        if b == 0:
            return 0.0 * a
        if b == 2:
            return 2.0 * a
        return b * a ** (b - 1)
    # PyTorch: zero where the exponent is 0 (else 0 * 0**-1 = nan at a == 0)
    return where(b == 0, 0.0, b * a ** (b - 1))


def _real_nonneg(b):
    """``b >= 0``; for a complex ``b``, PyTorch's ``imag(b) == 0 and real(b) >= 0``."""
    if b._data.dtype.kind != "c":
        return b >= 0
    return _wrap((b._data.imag == 0) & (b._data.real >= 0))


def _pow_db(ans, a, b):
    # d/db a**b = a**b log a; PyTorch defines it as 0 where a == 0 and b >= 0
    if type(a) is not Tensor:  # a Python scalar base
        if a == 0:
            return where(_real_nonneg(b), 0.0, ans * float("-inf"))
        if type(a) is complex or ans._data.dtype.kind == "c":  # the complex log: log|a| + i arg(a)
            return ans * cmath.log(a)
        return ans * (float(np.log(a)) if a > 0 else float("nan"))
    if ans._data.dtype.kind == "c" and a._data.dtype.kind != "c":
        a = a.to(ans.dtype)  # a negative real base has a complex log
    return where((a == 0) & _real_nonneg(b), 0.0, ans * log(a))


# saved as PyTorch saves them, so that in-place writes it accepts are accepted here too
pow_op = binary("pow", _pow_forward, _pow_da, _pow_db, uses="x")  # tensor ** number: the base only
_pow_tensor_op = binary("pow", _pow_forward, _pow_da, _pow_db, uses="both", grad_name="PowBackward1")
_pow_scalar_base_op = binary("pow", _pow_forward, _pow_da, _pow_db, uses="ans",  # number ** tensor: the result
                             grad_name="PowBackward2")
_rsub_op = renamed(sub_op, "RsubBackward1")  # number - tensor


def _pow(a, b):
    if type(b) is not Tensor and type(a) is Tensor and a._data.dtype.kind in "iub" and isinstance(b, float):
        return pow_op(a.to(_default_float()), b)
    if isinstance(b, int) and not isinstance(b, bool) and b < 0 and type(a) is Tensor and a._data.dtype.kind in "iu":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if type(b) is Tensor:
        return (_pow_tensor_op if type(a) is Tensor else _pow_scalar_base_op)(a, b)
    return pow_op(a, b)


def _default_float():
    return get_default_dtype()


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other``, with broadcasting.

    >>> import autojac
    >>> autojac.add(autojac.tensor([1., 2.]), 10)
    tensor([11., 12.])
    """
    _no_out(out)
    if alpha != 1:
        other = mul_op(other, alpha)
    return add_op(input, other)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    _no_out(out)
    _check_bool_sub(input, other)
    if alpha != 1:
        other = mul_op(other, alpha)
    return sub_op(input, other)


_BOOL = np.dtype(bool)
_TWO_BOOLS = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
              "`logical_xor()` operator instead.")
_ONE_BOOL = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a "
             "mask, use the `~` or `logical_not()` operator instead.")


def _check_bool_sub(a, b) -> None:
    """PyTorch refuses ``-`` on bool tensors (NumPy raises its own TypeError, or silently counts in ints)."""
    a_bool = a._data.dtype is _BOOL if type(a) is Tensor else type(a) is bool
    b_bool = b._data.dtype is _BOOL if type(b) is Tensor else type(b) is bool
    if a_bool and b_bool:
        raise RuntimeError(_TWO_BOOLS)
    if (a_bool and type(a) is Tensor) or (b_bool and type(b) is Tensor):
        raise RuntimeError(_ONE_BOOL)


def mul(input, other, *, out=None):
    """Elementwise product with broadcasting."""
    _no_out(out)
    return mul_op(input, other)


def div(input, other, *, rounding_mode=None, out=None):
    """Elementwise true division (``rounding_mode`` ``"trunc"``/``"floor"`` give no gradient)."""
    _no_out(out)
    if rounding_mode is None:
        return _div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    check_integer_division(input, other)
    q = div_op(input, other).detach()
    q._data = (np.trunc if rounding_mode == "trunc" else np.floor)(q._data)
    if all(type(x) is not Tensor or x._data.dtype.kind in "iub" for x in (input, other)):
        q._data = q._data.astype(np.result_type(*(x._data for x in (input, other) if type(x) is Tensor)))
    return q


def check_integer_division(a, b) -> None:
    """PyTorch's error for an integer ``//``, ``%``, ``fmod`` by zero (NumPy would give 0 and a warning)."""
    if isinstance(a, (float, complex)) or isinstance(b, (float, complex, np.floating, np.complexfloating)):
        return
    if type(a) is Tensor and a._data.dtype.kind not in "iub":
        return
    if type(b) is Tensor:
        if b._data.dtype.kind in "iub" and not b._data.all():
            raise RuntimeError("ZeroDivisionError")
    elif b == 0:
        raise RuntimeError("ZeroDivisionError")


def pow(input, exponent, *, out=None):  # noqa: A001
    """``input ** exponent`` elementwise.

    >>> import autojac
    >>> autojac.pow(autojac.tensor([2., 3.]), 2)
    tensor([4., 9.])
    """
    _no_out(out)
    return _pow(input, exponent)


def _no_out(out) -> None:
    if out is not None:
        raise TypeError("the out= argument is not supported by autojac (tensors are immutable in the graph)")


def _public(op, doc: str):
    """The function users call (with PyTorch's signature and a docstring); ``op`` is the primitive."""
    def fn(input: Tensor, *, out=None) -> Tensor:
        _no_out(out)
        return op(input)
    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = doc
    # the caller's module, as collections.namedtuple does, so help() and doctest place it where it is declared
    fn.__module__ = sys._getframe(1).f_globals.get("__name__", fn.__module__)
    return fn


true_divide = divide = div
multiply = mul
subtract = sub
negative = lambda input: neg(input)  # noqa: E731


# --------------------------------------------------------------------------- unary math
def _abs_vjp(g, ans, x):
    if x._data.dtype.kind == "c":  # d|z| = Re(conj(sgn z) dz): the gradient is g * sgn(z), 0 at z = 0
        return g * x.sgn()  # a method: ops/complex.py builds on this module
    return g * sign(x)


def _abs_jvp(t, ans, x):
    if x._data.dtype.kind == "c":
        return (conj(x.sgn()) * t).real
    return t * sign(x)


abs = defop("abs", np.abs, vjp=(_abs_vjp,), jvp=(_abs_jvp,), sparsity=ELEMENTWISE, batch=BROADCAST)  # noqa: A001
absolute = abs
exp = elementwise("exp", np.exp, lambda ans, x: ans, uses="ans")
log = elementwise("log", np.log, lambda ans, x: 1.0 / x)
log2 = elementwise("log2", np.log2, lambda ans, x: 1.0 / (x * float(np.log(2.0))))
log10 = elementwise("log10", np.log10, lambda ans, x: 1.0 / (x * float(np.log(10.0))))
log1p = elementwise("log1p", np.log1p, lambda ans, x: 1.0 / (x + 1.0), grad_name="Log1PBackward0")
expm1 = elementwise("expm1", np.expm1, lambda ans, x: ans + 1.0, uses="ans")
exp2 = elementwise("exp2", np.exp2, lambda ans, x: ans * float(np.log(2.0)), uses="ans")
sqrt = elementwise("sqrt", np.sqrt, lambda ans, x: 0.5 / ans, uses="ans")
rsqrt = elementwise("rsqrt", lambda x: 1.0 / np.sqrt(x), lambda ans, x: -0.5 * ans * ans * ans, uses="ans")
reciprocal = elementwise("reciprocal", lambda x: 1.0 / x, lambda ans, x: -(ans * ans), uses="ans")
square = elementwise("square", np.square, lambda ans, x: 2.0 * x, cast=None, grad_name="PowBackward0")
# A fused backward primitive (PyTorch's sigmoid_backward, as tanh_backward in ops/trig.py): one op in the
# backward pass instead of three, and differentiable again through its own rules.
sigmoid_backward = defop(
    "sigmoid_backward", lambda g, ans: g * ans * (1 - ans),
    vjp=(lambda gg, r, g, ans: sigmoid_backward(gg, ans), lambda gg, r, g, ans: gg * g * (1.0 - 2.0 * ans)),
    jvp=(lambda t, r, g, ans: sigmoid_backward(lift(t, g, r), ans),
         lambda t, r, g, ans: lift(t, ans, r) * g * (1.0 - 2.0 * ans)),
    cast="promote", grad_name="SigmoidBackwardBackward0", sparsity=binary_pattern(), batch=BROADCAST
)


def _sigmoid_forward(x):
    if x.dtype.kind == "c":
        return 1.0 / (1.0 + np.exp(-x))
    # exp of a negative argument only, so no overflow warnings at large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


sigmoid = defop("sigmoid", _sigmoid_forward,
                vjp=(lambda g, ans, x: g * conj(ans * (1 - ans)) if ans._data.dtype.kind == "c"
                     else sigmoid_backward(g, ans),),
                jvp=(lambda t, ans, x: t * (ans * (1 - ans)) if ans._data.dtype.kind == "c"
                     else sigmoid_backward(t, ans),),
                saves_inputs=Saves.NOTHING, saves_ans=True, cast="float", sparsity=ELEMENTWISE, batch=BROADCAST)


def _real_only(x, message: str) -> None:
    """PyTorch's error for an op that has no meaning on complex numbers (NumPy would order them)."""
    if x.dtype.kind == "c":
        raise NotImplementedError(message)


def _relu_forward(x):
    _real_only(x, "clamp is not supported for complex types")
    return np.maximum(x, 0)
# a mask, not a product (PyTorch's threshold_backward): a nan cotangent stays out where the output is <= 0,
# and a nan input (nan output) passes the gradient through, as there. One primitive, linear in the cotangent
# (the mask's own derivative is zero), so relu's backward and double backward are one op each
relu_backward = linear(
    "threshold_backward", lambda g, ans: np.where(ans <= 0, 0, g),
    vjp=(lambda gg, out, g, ans: relu_backward(gg, ans), None), saves_inputs=Saves.OTHER_OPERANDS,
    grad_name="ThresholdBackwardBackward0", sparsity=LINEAR, batch=BROADCAST,
)
relu = defop("relu", _relu_forward, vjp=(lambda g, ans, x: relu_backward(g, ans),),
             jvp=(lambda t, ans, x: relu_backward(t, ans),), saves_inputs=Saves.NOTHING, saves_ans=True,
             sparsity=ELEMENTWISE, batch=BROADCAST)


def _softplus_forward(x, beta=1.0, threshold=20.0):
    bx = x * beta
    soft = np.logaddexp(0, bx) / beta
    return np.where(bx > threshold, x, soft).astype(x.dtype, copy=False)


def _softplus_deriv(g, ans, x, beta=1.0, threshold=20.0):
    bx = x * beta
    return where(bx > threshold, g, g * sigmoid(bx))


softplus = defop("softplus", _softplus_forward,
                 vjp=(_softplus_deriv,), jvp=(_softplus_deriv,), cast="float", sparsity=ELEMENTWISE, batch=BROADCAST)


def sign(input) -> Tensor:
    """-1, 0 or 1 elementwise; recorded, with a zero gradient (piecewise constant), as in PyTorch."""
    return _sign(input)


# PyTorch's zeros_like(grad): the derivative of a piecewise-constant op (0, not nan, for an inf cotangent)
zero_grad = defop("zeros_like", lambda g: np.zeros_like(g), vjp=(lambda gg, ans, g: zero_grad(gg),),
                  jvp=(lambda t, ans, g: zero_grad(t),), saves_inputs=Saves.NOTHING,
                  sparsity=ZERO, batch=BROADCAST)


def _piecewise_constant(name: str, forward, **kw):
    """An op whose output is recorded (``requires_grad`` like its input) with a zero gradient."""
    def fwd(x, **params):
        return x.copy() if x.dtype.kind in "iub" else forward(x, **params)  # integers are already integral
    return defop(name, fwd, vjp=(lambda g, ans, x, **p: zero_grad(g),), jvp=(lambda t, ans, x, **p: zero_grad(t),),
                 saves_inputs=Saves.NOTHING, sparsity=ZERO, **kw, batch=BROADCAST)


def _sign_forward(x):
    _real_only(x, "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead.")
    r = np.asarray(np.sign(x))  # a 0-d input gives a NumPy scalar
    if r.dtype.kind == "f":
        np.copyto(r, 0, where=r != r)  # PyTorch's sign(nan) is 0 (so abs'(nan) is 0 too)
    return r


_sign_op = defop("sign", _sign_forward, vjp=(lambda g, ans, x: zero_grad(g),), jvp=(lambda t, ans, x: zero_grad(t),),
                 saves_inputs=Saves.NOTHING, sparsity=ZERO, batch=BROADCAST)


def _sign(x):
    return _sign_op(x)


# --------------------------------------------------------------------------- clamp / max / where
def _clamp_forward(x, lo, hi):
    _real_only(x, "clamp is not supported for complex types")
    if lo is not None:
        x = np.maximum(x, lo)
    if hi is not None:
        x = np.minimum(x, hi)
    return x


def _clamp_mask(x, lo, hi):
    m = None
    if lo is not None:
        m = x >= lo
    if hi is not None:
        m2 = x <= hi
        m = m2 if m is None else (m & m2)
    return m


def _clamp_vjp(g, ans, x, lo, hi):
    return where(_clamp_mask(x, lo, hi), g, 0.0)


clamp_op = defop("clamp", _clamp_forward, vjp=(_clamp_vjp, None, None), jvp=(_clamp_vjp, None, None),
                 cast="promote", grad_name="ClampBackward1", sparsity=ELEMENTWISE, batch=BROADCAST)
_clamp_min_op = renamed(clamp_op, "ClampMinBackward0")
_clamp_max_op = renamed(clamp_op, "ClampMaxBackward0")


# Tensor bounds, PyTorch's clamp_backward_min_max: x keeps the gradient at ties (x == min or x == max);
# a bound gets it only where it is strictly the result (with min > max, max wins everywhere).
def _lo_wins(x, lo, hi):
    m = x < lo
    return m if hi is None else logical_and(m, lo < hi)


def _hi_wins(x, lo, hi):
    m = x > hi
    return m if lo is None else logical_or(m, hi < lo)


clamp_tensor_op = defop(
    "clamp", _clamp_forward,
    vjp=(lambda g, ans, x, lo, hi: where(_clamp_mask(x, lo, hi), g, 0.0),
         lambda g, ans, x, lo, hi: where(_lo_wins(x, lo, hi), g, 0.0),
         lambda g, ans, x, lo, hi: where(_hi_wins(x, lo, hi), g, 0.0)),
    jvp=(lambda t, ans, x, lo, hi: where(_clamp_mask(x, lo, hi), lift(t, x, ans), 0.0),
         lambda t, ans, x, lo, hi: where(_lo_wins(x, lo, hi), lift(t, lo, ans), 0.0),
         lambda t, ans, x, lo, hi: where(_hi_wins(x, lo, hi), lift(t, hi, ans), 0.0)),
    cast="promote", grad_name="ClampBackward0", sparsity=binary_pattern(ALL), batch=BROADCAST
)


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max``.

    >>> import autojac
    >>> autojac.clamp(autojac.tensor([-2., 0.5, 3.]), min=0., max=1.)
    tensor([0.0000, 0.5000, 1.0000])
    """
    _no_out(out)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return clamp_tensor_op(input, min, max)
    return clamp_op(input, min, max)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    if isinstance(min, Tensor):
        return named(clamp_tensor_op(input, min, None), "ClampMinBackward1")
    return _clamp_min_op(input, min, None)


def clamp_max(input, max):  # noqa: A002
    if isinstance(max, Tensor):
        return named(clamp_tensor_op(input, None, max), "ClampMaxBackward1")
    return _clamp_max_op(input, None, max)


def _max_partial(g, ans, a, b, mine, other):
    # ties share the gradient equally, as in PyTorch
    return where(mine == other, g * 0.5, where(mine > other, g, 0.0))


def _max_vjp(g, ans, a, b, mine, other):
    # PyTorch's formula, where(mine == other, g / 2, g).masked_fill(mine < other, 0): where a NaN is
    # compared, both inputs get the whole gradient
    return where(mine == other, g * 0.5, where(mine < other, 0.0, g))


maximum_op = defop("maximum", np.maximum,
                   vjp=(lambda g, ans, a, b: _max_vjp(g, ans, a, b, a, b),
                        lambda g, ans, a, b: _max_vjp(g, ans, a, b, b, a)),
                   jvp=(lambda t, ans, a, b: _max_partial(lift(t, a, ans), ans, a, b, a, b),
                        lambda t, ans, a, b: _max_partial(lift(t, b, ans), ans, a, b, b, a)),
                   cast="promote", sparsity=binary_pattern(), batch=BROADCAST)
minimum_op = defop("minimum", np.minimum,
                   vjp=(lambda g, ans, a, b: _max_vjp(g, ans, a, b, b, a),
                        lambda g, ans, a, b: _max_vjp(g, ans, a, b, a, b)),
                   jvp=(lambda t, ans, a, b: _max_partial(lift(t, a, ans), ans, a, b, b, a),
                        lambda t, ans, a, b: _max_partial(lift(t, b, ans), ans, a, b, a, b)),
                   cast="promote", sparsity=binary_pattern(), batch=BROADCAST)


def maximum(input, other, *, out=None) -> Tensor:
    """Elementwise maximum; at ties each input gets half the gradient."""
    _no_out(out)
    _no_complex(input, other, "maximum")
    return maximum_op(input, other)


def minimum(input, other, *, out=None) -> Tensor:
    """Elementwise minimum; at ties each input gets half the gradient."""
    _no_out(out)
    _no_complex(input, other, "minimum")
    return minimum_op(input, other)


def _no_complex(a, b, name: str) -> None:
    if any(type(x) is Tensor and x._data.dtype.kind == "c" for x in (a, b)):
        raise RuntimeError(f"{name} not implemented for complex tensors.")


def _nan_aware(name: str, forward, wins):
    """fmax/fmin: NaN-ignoring; the whole gradient goes to ``a`` where it wins or ties, or ``b`` is NaN."""
    def takes_a(a, b):
        return logical_or(wins(a, b), isnan(b))
    return defop(
        name, forward,
        vjp=(lambda g, ans, a, b: where(takes_a(a, b), g, 0.0), lambda g, ans, a, b: where(takes_a(a, b), 0.0, g)),
        jvp=(lambda t, ans, a, b: where(takes_a(a, b), lift(t, a, ans), 0.0),
             lambda t, ans, a, b: where(takes_a(a, b), 0.0, lift(t, b, ans))),
        cast="promote", sparsity=binary_pattern(), batch=BROADCAST
    )


_fmax_op = _nan_aware("fmax", np.fmax, lambda a, b: ge(a, b))
_fmin_op = _nan_aware("fmin", np.fmin, lambda a, b: le(a, b))


def fmax(input, other, *, out=None) -> Tensor:
    """Elementwise maximum that ignores NaN; at ties ``input`` gets the gradient, as in PyTorch."""
    _no_out(out)
    return _fmax_op(input, other)


def fmin(input, other, *, out=None) -> Tensor:
    """Elementwise minimum that ignores NaN; at ties ``input`` gets the gradient, as in PyTorch."""
    _no_out(out)
    return _fmin_op(input, other)

where_op = defop(
    "where", lambda c, a, b: np.where(c, a, b),
    vjp=(None, lambda g, ans, c, a, b: where(c, g, 0.0), lambda g, ans, c, a, b: where(c, 0.0, g)),
    jvp=(None, lambda t, ans, c, a, b: where(c, lift(t, a, ans), 0.0),
         lambda t, ans, c, a, b: where(c, 0.0, lift(t, b, ans))),
    # both branches, whatever the condition: valid at every point
    saves_inputs=Saves.NOTHING, sparsity=LINEAR, batch=BROADCAST,
)


def where(condition, input=None, other=None) -> Tensor:
    """Pick ``input`` where ``condition`` holds, else ``other`` (broadcasting all three).

    >>> import autojac
    >>> x = autojac.tensor([-1., 2.])
    >>> autojac.where(x > 0, x, 0.)
    tensor([0., 2.])
    """
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)  # a method: ops/index.py builds on this module
    cd = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cd.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {cd.dtype}")
    a, b = operand(input), operand(other)
    if type(a) is not Tensor and type(b) is not Tensor:
        a = tensor(a)
    if type(a) is Tensor and type(b) is Tensor and a._data.dtype != b._data.dtype:
        def lvl(t):
            return 2 if t._data.ndim else 1
        rt = result_type(FROM_NP[a._data.dtype], lvl(a), FROM_NP[b._data.dtype], lvl(b))
        a, b = a.to(rt), b.to(rt)
    elif type(b) is not Tensor and a._data.dtype.kind in "iub" and isinstance(b, float):
        a = a.to(_default_float())
    elif type(a) is not Tensor and b._data.dtype.kind in "iub" and isinstance(a, float):
        b = b.to(_default_float())
    # inside vmap the condition goes as a tensor: its rules must see the batch (its data holds no values)
    return where_op(condition if type(cd) is Batched else cd, a, b)


# --------------------------------------------------------------------------- comparisons
eq = nondiff("eq", np.equal, batch=BROADCAST)
ne = nondiff("ne", np.not_equal, batch=BROADCAST)
lt = nondiff("lt", np.less, batch=BROADCAST)
le = nondiff("le", np.less_equal, batch=BROADCAST)
gt = nondiff("gt", np.greater, batch=BROADCAST)
ge = nondiff("ge", np.greater_equal, batch=BROADCAST)
logical_and = nondiff("logical_and", np.logical_and, batch=BROADCAST)
logical_or = nondiff("logical_or", np.logical_or, batch=BROADCAST)
logical_not = nondiff("logical_not", np.logical_not, batch=BROADCAST)
logical_xor = nondiff("logical_xor", np.logical_xor, batch=BROADCAST)
isnan = nondiff("isnan", np.isnan, batch=BROADCAST)
isinf = nondiff("isinf", np.isinf, batch=BROADCAST)
isfinite = nondiff("isfinite", np.isfinite, batch=BROADCAST)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
floor = _piecewise_constant("floor", np.floor)
ceil = _piecewise_constant("ceil", np.ceil)
trunc = _piecewise_constant("trunc", np.trunc)
_round0 = _piecewise_constant("round", np.round)
_round_decimals = _piecewise_constant("round", lambda x, decimals: np.round(x, decimals), grad_name="RoundBackward1")


def round(input, *, decimals: int = 0):  # noqa: A001
    """Round half to even (to ``decimals`` places); recorded with a zero gradient, as in PyTorch.

    >>> import autojac
    >>> autojac.round(autojac.tensor([0.5, 1.5, 1.26]), decimals=1)
    tensor([0.5000, 1.5000, 1.3000])
    """
    return _round0(input) if decimals == 0 else _round_decimals(input, decimals=decimals)


def _bitwise(np_fn, name):
    def fn(a, b):
        if any(type(x) is Tensor and x._data.dtype.kind == "f" for x in (a, b)):
            raise RuntimeError(f"\"{name}\" not implemented for floating-point tensors")
        return nondiff(name, np_fn, batch=BROADCAST)(a, b)
    return fn


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    close = nondiff("isclose", lambda a, b: np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan),
                    batch=BROADCAST)
    return close(input, other)
