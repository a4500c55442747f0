"""The functions behind Tensor's Python operators (``+ - * / ** == < & ~ //`` ...) and its in-place
methods (``add_``, ``+=``, ``zero_``, ``fill_``); ``_tensor_methods`` assigns them to Tensor."""

from __future__ import annotations

import numpy as np

from .._core.batching import BROADCAST
from .._core.forward import has_tangent
from .._core.node import Saves, nondiff
from .._core.patterns import ZERO
from .._tensor import Tensor
from ._declare import apply, defop, inplace, operand, renamed
from .elementwise import (
    _BOOL,
    _check_bool_sub,
    _div_number_op,
    _pow,
    _rsub_op,
    add_op,
    clamp,
    div_op,
    mul_op,
    neg,
    reciprocal,
    sub_op,
    zero_grad,
)


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
        return nondiff(name, np_fn, batch=BROADCAST)(self, other)
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
                 saves_inputs=Saves.NOTHING, sparsity=ZERO, batch=BROADCAST)
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
