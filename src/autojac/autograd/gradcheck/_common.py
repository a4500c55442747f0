"""What the gradcheck modules share: the error, the options, input and output checks, comparisons."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..._tensor import Tensor, _wrap


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when a check fails."""


@dataclass
class _Opts:
    eps: float
    atol: float
    rtol: float
    nondet_tol: float
    check_undefined_grad: bool
    check_grad_dtypes: bool
    check_batched_grad: bool
    check_batched_forward_grad: bool
    check_forward_ad: bool
    check_backward_ad: bool
    fast_mode: bool
    masked: bool


def _check_flags(modes: dict, needs: dict) -> None:
    """torch's errors for contradicting flags: both ``modes`` (name -> bool) off, or a flag of ``needs``
    (name -> (value, the mode it needs)) set while its mode is off."""
    if not any(modes.values()):
        raise AssertionError(f"Expected at least one of {' or '.join(modes)} to be True")
    for flag, (value, mode) in needs.items():
        if value and not modes[mode]:
            raise AssertionError(f"Setting {flag}=True requires {mode} to be True")


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _requires_grad(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _differentiable_outputs(x) -> tuple:
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _check_inputs(tupled: tuple) -> None:
    found = False
    for idx, x in enumerate(tupled):
        if not _requires_grad(x):
            continue
        if x._data.dtype != np.float64 and x._data.dtype != np.complex128:
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ", stacklevel=4)
        d = x._data
        if d.size and not all(st > 0 or sz <= 1 for st, sz in zip(d.strides, d.shape)):
            raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs that "
                               "are non-overlapping to be able to compute the numerical gradients correctly. You "
                               "should call .contiguous on the input before passing it to gradcheck.")
        found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _check_not_complex(tupled: tuple, outs: tuple) -> None:
    for t in tupled + outs:
        if isinstance(t, Tensor) and t._data.dtype.kind == "c":
            raise NotImplementedError("autojac's gradcheck does not support complex inputs or outputs yet")


def _is_float(t) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind == "f"


def _zeros_like(t: Tensor) -> Tensor:
    return _wrap(np.zeros(t._data.shape, t._data.dtype))


def _t(a: np.ndarray) -> Tensor:
    return _wrap(np.array(a, copy=True, order="C"))


def _allclose(a: np.ndarray, n: np.ndarray, rtol: float, atol: float) -> bool:
    """``torch.allclose(a, n)`` after type promotion: NaN never matches, equal infinities do."""
    dt = np.promote_types(a.dtype, n.dtype)
    return a.shape == n.shape and bool(np.allclose(a.astype(dt), n.astype(dt), rtol=rtol, atol=atol))


def _mismatch_msg(a, n, out_idx: int, in_idx: int, forward_ad: bool = False) -> str:
    mode = "computed with forward mode " if forward_ad else ""
    return (f"Jacobian {mode}mismatch for output {out_idx:d} with respect to input {in_idx:d},\n"
            f"numerical:{n}\nanalytical:{a}\n")
