"""Complex numbers: conj, real, imag, angle, sgn, polar, complex, view_as_real/view_as_complex.

Gradients follow PyTorch's convention (its "Autograd for Complex Numbers" note): for a real loss
``L`` of a complex ``z`` the gradient is ``dL/dz*`` (conjugate Wirtinger), so the VJP of a
holomorphic ``f`` is ``g * conj(f'(z))`` and matrix products take conjugate transposes
(``grad_A = g @ B^H``), while JVPs are plain ``t * f'(z)``. A non-holomorphic function ``s(z)``
(``abs``, ``angle``, ``real``, ``imag``, ``conj``, ``sgn``) has the VJP
``g * conj(ds/dz) + conj(g) * ds/dz*`` and the JVP ``ds/dz * t + ds/dz* * conj(t)``. A complex
gradient that reaches a real input keeps its real part (the engine does that once).

PyTorch returns views from ``conj``, ``real``, ``imag``, ``view_as_real`` and ``view_as_complex``
(``conj`` lazily, with a conjugate bit); autojac returns differentiable copies (real tensors pass
through ``conj``, ``real`` and ``resolve_conj`` unchanged, as in PyTorch), so writing into the
result of one of them in place does not change its input, and ``is_conj()`` is always False.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._core.batching import BROADCAST, lift
from .._core.node import Saves
from .._dtype import torch_name
from .._tensor import Tensor
from ._declare import conj as _cj  # the rules' conjugate: takes Python numbers too, linear
from ._declare import conj_op, defop, linear, named, renamed
from .elementwise import _no_out, where, zero_grad
from .elementwise import abs as _abs
from .trig import cos, sin

__all__ = ["conj", "conj_physical", "resolve_conj", "resolve_neg", "real", "imag", "angle", "polar", "complex",
           "view_as_real", "view_as_complex", "is_conj", "adjoint"]

def _tensor_arg(x, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


# --------------------------------------------------------------------------- real and imaginary parts
_real_op = linear("real", lambda x: np.ascontiguousarray(x.real),
                 vjp=(lambda g, ans, x: real(g),),
                 saves_inputs=Saves.NOTHING, grad_name="SelectBackward0",  # PyTorch: a select of view_as_real
                 batch=BROADCAST)
# s = (z - z*) / 2i: the VJP is g * conj(1/2i) + conj(g) * (-1/2i) = i g for a real g
_imag_op = linear("imag", lambda x: np.ascontiguousarray(x.imag),
                 vjp=(lambda g, ans, x: real(g) * 1j,), saves_inputs=Saves.NOTHING, grad_name="SelectBackward0",
                 batch=BROADCAST)


def real(input: Tensor) -> Tensor:
    """The real part of a complex tensor; a real tensor is returned as it is.

    >>> import autojac
    >>> autojac.real(autojac.tensor([1 + 2j, 3 - 1j]))
    tensor([1., 3.])
    """
    if type(input) is Tensor and input._data.dtype.kind != "c":
        return input
    _tensor_arg(input, "real")
    return _real_op(input)


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor (an error for real tensors, as in PyTorch).

    >>> import autojac
    >>> autojac.imag(autojac.tensor([1 + 2j, 3 - 1j]))
    tensor([ 2., -1.])
    """
    _tensor_arg(input, "imag")
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _imag_op(input)


# --------------------------------------------------------------------------- conjugates
_conj_physical_op = renamed(conj_op, "ConjPhysicalBackward0")


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (a real tensor is returned as it is).

    >>> import autojac
    >>> autojac.conj(autojac.tensor([1 + 2j, 3 - 1j]))
    tensor([1.-2.j, 3.+1.j])
    """
    _tensor_arg(input, "conj")
    return _cj(input)


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate, computed now (autojac has no lazy conjugation: the same as ``conj``)."""
    _tensor_arg(input, "conj_physical")
    return _conj_physical_op(input) if input._data.dtype.kind == "c" else input


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: autojac's conjugates are never lazy, so there is nothing to resolve."""
    _tensor_arg(input, "resolve_conj")
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: autojac has no lazy negation."""
    _tensor_arg(input, "resolve_neg")
    return input


def is_conj(input: Tensor) -> bool:
    """Always False: autojac's conjugates are materialized, never a lazy bit."""
    return False


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (``input.mH``).

    >>> import autojac
    >>> autojac.adjoint(autojac.tensor([[1 + 1j, 2j]]))
    tensor([[1.-1.j],
            [0.-2.j]])
    """
    return _cj(input.mT)


# --------------------------------------------------------------------------- sgn, abs and angle of complex numbers
def _csgn_forward(x):
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a)).astype(x.dtype, copy=False)


def _safe_abs(x: Tensor):
    """``|x|`` with 1 where it is 0 (the masked branch of a where stays finite: no nan * 0
    in higher derivatives), and the mask."""
    a = _abs(x)
    zero = a == 0
    return where(zero, 1.0, a), zero


def _csgn_rule(g, ans, x):
    # s = z/|z|: ds/dz = 1/(2|z|), ds/dz* = -s^2/(2|z|); both the VJP and the JVP come to
    # (g - s Re(conj(s) g)) / |z|, and 0 at z = 0 as in PyTorch
    a, zero = _safe_abs(x)
    return where(zero, 0.0, (g - ans * real(_cj(ans) * g)) / a)


csgn = defop("sgn", _csgn_forward, vjp=(_csgn_rule,), jvp=(_csgn_rule,), saves_ans=True, batch=BROADCAST)


def _angle_vjp(g, ans, x):
    if x._data.dtype.kind != "c":
        return zero_grad(g)  # 0 or pi: piecewise constant
    # d angle = Im(conj(z) dz) / |z|^2, so the gradient is i z / |z|^2 (0 at z = 0)
    a, zero = _safe_abs(x)
    return where(zero, 0.0, g * x * 1j / (a * a))


def _angle_jvp(t, ans, x):
    if x._data.dtype.kind != "c":
        return zero_grad(t)
    a, zero = _safe_abs(x)
    return where(zero, 0.0, imag(_cj(x) * t) / (a * a))


def _angle_forward(x):
    if x.dtype.kind == "c":
        return np.angle(x)
    r = np.where(x < 0, np.pi, 0.0).astype(x.dtype if x.dtype.kind == "f" else _dtype.get_default_dtype().np)
    return np.where(np.isnan(x), x, r) if x.dtype.kind == "f" else r


angle_op = defop("angle", _angle_forward, vjp=(_angle_vjp,), jvp=(_angle_jvp,), batch=BROADCAST)


def angle(input: Tensor, *, out=None) -> Tensor:
    """The argument of each element, in radians (``pi`` for negative reals, 0 otherwise).

    >>> import autojac
    >>> autojac.angle(autojac.tensor([1j, -1 + 0j]))
    tensor([1.5708, 3.1416])
    """
    _no_out(out)
    _tensor_arg(input, "angle")
    return angle_op(input)


# --------------------------------------------------------------------------- building complex tensors
def _complex_forward(a, b):
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), np.result_type(a.dtype, np.complex64))
    out.real, out.imag = a, b  # not a + 1j * b: 1j * inf would put a nan in the real part
    return out


_complex_op = defop(
    "complex", _complex_forward,
    vjp=(lambda g, ans, a, b: real(g), lambda g, ans, a, b: imag(g)),
    jvp=(lambda t, ans, a, b: lift(t, a, ans), lambda t, ans, a, b: lift(t, b, ans) * 1j),
    saves_inputs=Saves.NOTHING, batch=BROADCAST
)


def complex(real: Tensor, imag: Tensor, *, out=None) -> Tensor:  # noqa: A001
    """A complex tensor ``real + i imag`` from two real tensors of the same float dtype (broadcast).

    >>> import autojac
    >>> autojac.complex(autojac.tensor([1., 2.]), autojac.tensor([0.5, -1.]))
    tensor([1.+0.5000j, 2.-1.0000j])
    """
    _no_out(out)
    for name, x in (("real", real), ("imag", imag)):
        if not isinstance(x, Tensor):
            raise TypeError(f"complex(): argument '{name}' must be Tensor, not {type(x).__name__}")
    dr, di = real._data.dtype, imag._data.dtype
    if dr.kind != "f" or di.kind != "f":
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{torch_name(real.dtype)} and {torch_name(imag.dtype)}")
    if dr != di:
        raise RuntimeError(f"Expected object of scalar type {torch_name(real.dtype)} but got scalar type "
                           f"{torch_name(imag.dtype)} "
                           "for second argument")
    return _complex_op(real, imag)


def polar(abs: Tensor, angle: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """The complex tensor ``abs * (cos(angle) + i sin(angle))``.

    >>> import autojac
    >>> autojac.polar(autojac.tensor([2.]), autojac.tensor([0.]))
    tensor([2.+0.j])
    """
    _no_out(out)
    for name, x in (("abs", abs), ("angle", angle)):
        if not isinstance(x, Tensor):
            raise TypeError(f"polar(): argument '{name}' must be Tensor, not {type(x).__name__}")
    if abs._data.dtype.kind != "f" or abs._data.dtype != angle._data.dtype:
        complex(abs, angle)  # raises PyTorch's error
    return named(_complex_op(abs * cos(angle), abs * sin(angle)), "PolarBackward0")


# --------------------------------------------------------------------------- view_as_real / view_as_complex
def _as_real_forward(x):
    return np.stack([x.real, x.imag], axis=-1)


def _as_complex_forward(x):
    return np.ascontiguousarray(x).view(np.result_type(x.dtype, np.complex64))[..., 0]


# (not ``linear``: they change the rank, so a batched tangent must not be lined up with the output first)
_view_as_real_op = defop("view_as_real", _as_real_forward, vjp=(lambda g, ans, x: _view_as_complex_op(g),),
                         jvp=(lambda t, ans, x: _view_as_real_op(t),), saves_inputs=Saves.NOTHING, batch=BROADCAST)
_view_as_complex_op = defop("view_as_complex", _as_complex_forward, vjp=(lambda g, ans, x: _view_as_real_op(g),),
                            jvp=(lambda t, ans, x: _view_as_complex_op(t),), saves_inputs=Saves.NOTHING,
                            batch=BROADCAST)


def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor as a real one with a last dimension of 2 (real, imaginary); a copy here.

    >>> import autojac
    >>> autojac.view_as_real(autojac.tensor([1 + 2j]))
    tensor([[1., 2.]])
    """
    _tensor_arg(input, "view_as_real")
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _view_as_real_op(input)


def view_as_complex(input: Tensor) -> Tensor:
    """The inverse of ``view_as_real``: a float tensor whose last dimension is 2; a copy here.

    >>> import autojac
    >>> autojac.view_as_complex(autojac.tensor([[1., 2.]]))
    tensor([1.+2.j])
    """
    _tensor_arg(input, "view_as_complex")
    d = input._data
    if d.dtype not in (np.float32, np.float64):
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a tensor of "
                           f"scalar type: {torch_name(input.dtype)}")
    if d.ndim == 0 or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return _view_as_complex_op(input)


def _real_prop(self: Tensor) -> Tensor:
    return real(self)


def _imag_prop(self: Tensor) -> Tensor:
    return imag(self)
