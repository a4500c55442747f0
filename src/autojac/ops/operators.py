"""Tensor's Python operators (``+ - * / ** == < & ~ //`` ...), its in-place methods (``add_``, ``+=``,
``zero_``, ``fill_``) and the Tensor methods of ops/elementwise.py."""

from __future__ import annotations

import numpy as np

from .._core.forward import has_tangent
from .._core.node import nondiff
from .._core.patterns import ZERO
from .._tensor import Tensor
from ._declare import apply, attach, defop, inplace, operand, renamed
from .elementwise import (
    _BOOL,
    _check_bool_sub,
    _div_number_op,
    _pow,
    _rsub_op,
    abs,
    add,
    add_op,
    allclose,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    div,
    div_op,
    eq,
    equal,
    exp,
    exp2,
    expm1,
    floor,
    fmax,
    fmin,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    mul_op,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    sqrt,
    square,
    sub,
    sub_op,
    trunc,
    where,
    zero_grad,
)
from .trig import cos, sin, tan, tanh


# --------------------------------------------------------------------------- Tensor operators
def _binop(op):
    def method(self, other):
        tb = type(other)
        if tb is not Tensor and tb is not float and tb is not int:
            other = operand(other)
            if other is NotImplemented:
                return NotImplemented
        return apply(op, (self, other))
    return method


def _truediv(self, other):
    tb = type(other)
    if tb is not Tensor and tb is not float and tb is not int:
        other = operand(other)
        if other is NotImplemented:
            return NotImplemented
    return apply(div_op if type(other) is Tensor else _div_number_op, (self, other))


def _sub_method(self, other):
    tb = type(other)
    if tb is not Tensor and tb is not float and tb is not int:
        other = operand(other)
        if other is NotImplemented:
            return NotImplemented
    if self._data.dtype is _BOOL or tb is Tensor and other._data.dtype is _BOOL:
        _check_bool_sub(self, other)
    return apply(sub_op, (self, other))


def _rsub_method(self, other):
    other = operand(other)
    if other is NotImplemented:
        return NotImplemented
    _check_bool_sub(other, self)
    return _rsub_op(other, self)


def _rtruediv_method(self, other):
    # number / tensor is reciprocal(tensor) * number in PyTorch: the same graph, the same rounding
    other = operand(other)
    if other is NotImplemented:
        return NotImplemented
    return apply(mul_op, (reciprocal(self), other))


def _neg_method(self):
    if self._data.dtype is _BOOL:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return neg(self)


def _rbinop(op):
    def method(self, other):
        other = operand(other)
        if other is NotImplemented:
            return NotImplemented
        return op(other, self)
    return method


def _cmp(fn):
    def method(self, other):
        other = operand(other)
        if other is NotImplemented:
            return NotImplemented
        return fn(self, other)
    return method


def _bool_op(np_fn, name):
    def method(self, other):
        other = operand(other)
        if other is NotImplemented:
            return NotImplemented
        return nondiff(name, np_fn)(self, other)
    return method


def _inplace_method(fn, saves_self=True):
    def method(self, *args, **kwargs):
        args = tuple(operand(a) for a in args)
        return inplace(self, lambda s, *a: fn(s, *a, **kwargs), *args, saves_self=saves_self)
    return method


def _pow_method(self, exponent):
    exponent = operand(exponent)
    if exponent is NotImplemented:
        return NotImplemented
    return _pow(self, exponent)


def _rpow_method(self, base):
    base = operand(base)
    if base is NotImplemented:
        return NotImplemented
    return _pow(base, self)


# the overwritten value gets a zero gradient (not 0 * g: nan and inf must not leak through)
_fill_op = defop("fill", lambda x, value: np.full_like(x, value),
                 vjp=(lambda g, ans, x, value: zero_grad(g),), jvp=(lambda t, ans, x, value: zero_grad(t),),
                 saves_inputs=False, sparsity=ZERO)
_zero_op = renamed(_fill_op, "ZeroBackward0")


def _zero_(self):
    return _fill(self, 0, _zero_op)


def _fill(self, value, op=_fill_op):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if value._requires_grad:
            return inplace(self, lambda s, v: add_op(op(s, value=0), v), value, saves_self=False)
        value = value.item()
    if self._requires_grad or has_tangent(self) or (self._base is not None and has_tangent(self._base[0])):
        return inplace(self, lambda s: op(s, value=value) if s._data.dtype.kind in "fc"
                       else s, saves_self=False)
    if not self._data.flags.writeable and self._data.size:
        raise RuntimeError("unsupported operation: the tensor is a read-only view; clone() it first")
    if self._data.size:
        self._data.fill(value)
    self._vc[0] += 1
    return self


def _clamp_method(self, min=None, max=None):  # noqa: A002
    return clamp(self, min, max)


attach(
    # number + tensor and number * tensor record the tensor first, as PyTorch (the same values: they commute)
    __add__=_binop(add_op), __radd__=_binop(add_op),
    __sub__=_sub_method, __rsub__=_rsub_method,
    __mul__=_binop(mul_op), __rmul__=_binop(mul_op),
    __truediv__=_truediv, __rtruediv__=_rtruediv_method,
    __pow__=_pow_method, __rpow__=_rpow_method,
    __neg__=_neg_method, __pos__=lambda self: self, __abs__=lambda self: abs(self),
    __eq__=_cmp(eq), __ne__=_cmp(ne), __lt__=_cmp(lt), __le__=_cmp(le), __gt__=_cmp(gt), __ge__=_cmp(ge),
    __and__=_bool_op(np.bitwise_and, "bitwise_and"), __or__=_bool_op(np.bitwise_or, "bitwise_or"),
    __xor__=_bool_op(np.bitwise_xor, "bitwise_xor"),
    __rand__=_bool_op(np.bitwise_and, "bitwise_and"), __ror__=_bool_op(np.bitwise_or, "bitwise_or"),
    __invert__=lambda self: nondiff("bitwise_not", np.invert)(self),
    __floordiv__=lambda self, other: div(self, operand(other), rounding_mode="floor"),
    __rfloordiv__=lambda self, other: div(operand(other), self, rounding_mode="floor"),
    __mod__=lambda self, other: nondiff("remainder", np.remainder)(self, operand(other)),
    add=add, sub=sub, mul=mul, div=div, pow=pow, true_divide=div, multiply=mul, subtract=sub, divide=div,
    neg=neg, negative=neg, abs=abs, absolute=abs, exp=exp, log=log, log2=log2, log10=log10, log1p=log1p,
    expm1=expm1, exp2=exp2, sqrt=sqrt, rsqrt=rsqrt, reciprocal=reciprocal, square=square,
    sin=sin, cos=cos, tan=tan, tanh=tanh, sigmoid=sigmoid, relu=relu, sign=sign,
    clamp=_clamp_method, clip=_clamp_method, clamp_min=clamp_min, clamp_max=clamp_max,
    maximum=maximum, minimum=minimum, fmax=fmax, fmin=fmin,
    where=lambda self, condition, other: where(condition, self, other),
    eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, greater=gt, less=lt, greater_equal=ge, less_equal=le,
    not_equal=ne, logical_and=logical_and, logical_or=logical_or, logical_not=logical_not,
    logical_xor=logical_xor, isnan=isnan, isinf=isinf, isfinite=isfinite, floor=floor, ceil=ceil,
    trunc=trunc, round=round, equal=equal, allclose=allclose, isclose=isclose,
    add_=_inplace_method(add, saves_self=False), sub_=_inplace_method(sub, saves_self=False),
    mul_=_inplace_method(mul), div_=_inplace_method(div), pow_=_inplace_method(pow),
    neg_=_inplace_method(neg, saves_self=False), exp_=_inplace_method(exp), log_=_inplace_method(log),
    sqrt_=_inplace_method(sqrt), sin_=_inplace_method(sin), cos_=_inplace_method(cos),
    tanh_=_inplace_method(tanh), sigmoid_=_inplace_method(sigmoid), relu_=_inplace_method(relu),
    abs_=_inplace_method(abs), clamp_=_inplace_method(clamp), clip_=_inplace_method(clamp),
    clamp_min_=_inplace_method(clamp_min), clamp_max_=_inplace_method(clamp_max),
    zero_=_zero_, fill_=_fill,
    __iadd__=_inplace_method(add, saves_self=False), __isub__=_inplace_method(sub, saves_self=False),
    __imul__=_inplace_method(mul), __itruediv__=_inplace_method(div), __ipow__=_inplace_method(pow),
)
