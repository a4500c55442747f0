"""Per-parameter helpers of the optimizers' ``step``: arrays, state, weight decay, Adam's moments.

They work on the NumPy arrays under the tensors, in PyTorch's operation order (see ``_kernels``).

>>> import autojac
>>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
>>> w.grad = autojac.tensor([0.5, 0.5])
>>> decayed_grad(w, maximize=False, lr=0.1, wd=0.1)[0]
array([0.6, 0.3], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from ._kernels import add_scaled, addcmul_, lerp_


def grad_array(p: Tensor, maximize: bool) -> np.ndarray:
    """The gradient's array, negated (a new array) under ``maximize``."""
    g = p._grad._data
    return np.negative(g) if maximize else g


def real(a: np.ndarray) -> np.ndarray:
    """A complex array as interleaved real numbers (``view_as_real``): the adaptive optimizers
    treat real and imaginary parts as separate coordinates, as PyTorch does."""
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


def bump(p: Tensor) -> None:
    """Record an in-place change of ``p`` (autograd's saved-tensor checks read the version)."""
    p._vc[0] += 1


def zeros_state(p: Tensor) -> Tensor:
    """A zero array shaped and typed as ``p``, as a tensor (a state entry)."""
    return _wrap(np.zeros_like(p._data))


def init_state(state: dict, p: Tensor, *zeros: str) -> None:
    """A parameter's first state, in PyTorch's key order: the ``step`` counter, then a zero array
    shaped as ``p`` for each name in ``zeros``."""
    state["step"] = step_tensor()
    for name in zeros:
        state[name] = zeros_state(p)


def step_tensor(value: float = 0.0) -> Tensor:
    """The ``step`` counter PyTorch keeps per parameter: a 0-d tensor of the scalar dtype
    (float32, or float64 when that is the default dtype)."""
    dt = np.float64 if _dtype.get_default_dtype() is _dtype.float64 else np.float32
    return _wrap(np.array(value, dtype=dt))


def incr_step(step_t: Tensor) -> float:
    """``step_t += 1`` in float32, as PyTorch's counter does, and its new value."""
    a = step_t._data
    a += 1
    step_t._vc[0] += 1
    return float(a)


def decayed_grad(p: Tensor, maximize: bool, lr: float, wd: float, decoupled: bool = False):
    """``(gradient, parameter array)`` as interleaved reals (``real``) after PyTorch's weight decay:
    decoupled (AdamW) shrinks the parameter in place, else ``wd * p`` joins the gradient."""
    g = grad_array(p, maximize)
    x = p._data
    if wd != 0:
        if decoupled:
            x *= 1 - lr * wd
        else:
            g = add_scaled(g, x, wd)
    return real(g), real(x)


def adam_moments(exp_avg: np.ndarray, exp_avg_sq: np.ndarray, g: np.ndarray, beta1: float, beta2: float,
                 tmp: np.ndarray) -> None:
    """Adam's running averages of ``g`` and ``g * g``, in place, in PyTorch's operation order."""
    lerp_(exp_avg, g, 1 - beta1, tmp)
    exp_avg_sq *= beta2
    addcmul_(exp_avg_sq, g, g, 1 - beta2, tmp)
