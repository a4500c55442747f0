"""Activations: relu family, elu/selu/celu, gelu, silu, mish, sigmoid/tanh/softplus, shrinks, glu, prelu."""

from __future__ import annotations

import math

import numpy as np

from ..._core.batching import BROADCAST
from ..._core.patterns import ELEMENTWISE
from ..._tensor import Tensor, _wrap_dim
from .. import _specfun
from .._declare import defop, inplace, named, renamed, saves_of
from ..elementwise import abs as _abs
from ..elementwise import exp, where
from ..elementwise import relu as _relu_op
from ..elementwise import sigmoid as _sigmoid_op
from ..elementwise import softplus as _softplus_op
from ..special import _erf
from ..trig import tanh as _tanh_op

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _pointwise(name: str, forward, rule, *, grad_name: str | None = None, uses: str = "x"):
    """An elementwise primitive whose VJP and JVP are both ``rule(g, ans, x, **params)`` (g or t)."""
    return defop(name, forward, vjp=(rule,), jvp=(rule,), saves_inputs=saves_of(uses),
                 saves_ans=uses in ("ans", "both"), cast="float", grad_name=grad_name, sparsity=ELEMENTWISE,
                 batch=BROADCAST)


def _maybe_inplace(op_call, input: Tensor, inplace_: bool) -> Tensor:
    """``F.relu(x, inplace=True)`` and friends: write the result into ``input``."""
    return inplace(input, op_call) if inplace_ else op_call(input)


# --------------------------------------------------------------------------- piecewise-linear activations
_leaky_relu = _pointwise(
    "leaky_relu", lambda x, slope: np.where(x > 0, x, x * np.asarray(slope, x.dtype)),
    lambda g, ans, x, slope: where(x > 0, g, g * slope))  # PyTorch: slope at 0


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``.

    >>> import autojac
    >>> autojac.nn.functional.leaky_relu(autojac.tensor([-2., 3.]), 0.1)
    tensor([-0.2000,  3.0000])
    """
    return _maybe_inplace(lambda x: _leaky_relu(x, slope=negative_slope), input, inplace)


_hardtanh = _pointwise(
    "hardtanh", lambda x, lo, hi: np.clip(x, lo, hi),
    lambda g, ans, x, lo, hi: where((x > lo) & (x < hi), g, 0.0))  # no gradient at the bounds, as PyTorch


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``clamp(x, min_val, max_val)``; the gradient is 1 strictly inside, 0 at and beyond the bounds.

    >>> import autojac
    >>> autojac.nn.functional.hardtanh(autojac.tensor([-2., 0.5, 3.]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(lambda x: _hardtanh(x, lo=min_val, hi=max_val), input, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(0, x), 6)``.

    >>> import autojac
    >>> autojac.nn.functional.relu6(autojac.tensor([-1., 3., 7.]))
    tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(0, x)``; its gradient at 0 is 0.

    >>> import autojac
    >>> autojac.nn.functional.relu(autojac.tensor([-1., 2.]))
    tensor([0., 2.])
    """
    return _maybe_inplace(_relu_op, input, inplace)


_threshold = _pointwise(
    "threshold", lambda x, th, value: np.where(x > th, x, np.asarray(value, x.dtype)),
    lambda g, ans, x, th, value: where(x > th, g, 0.0))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``.

    >>> import autojac
    >>> autojac.nn.functional.threshold(autojac.tensor([0.5, 2.]), 1., -1.)
    tensor([-1.,  2.])
    """
    return _maybe_inplace(lambda x: _threshold(x, th=threshold, value=value), input, inplace)


_hardshrink = _pointwise(
    "hardshrink", lambda x, lambd: np.where((x > lambd) | (x < -lambd), x, np.zeros((), x.dtype)),
    lambda g, ans, x, lambd: where((x > lambd) | (x < -lambd), g, 0.0))
_softshrink = _pointwise(
    "softshrink", lambda x, lambd: np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)).astype(x.dtype),
    lambda g, ans, x, lambd: where((x > lambd) | (x < -lambd), g, 0.0))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0.

    >>> import autojac
    >>> autojac.nn.functional.hardshrink(autojac.tensor([0.3, -1.]))
    tensor([ 0., -1.])
    """
    return _hardshrink(input, lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    >>> import autojac
    >>> autojac.nn.functional.softshrink(autojac.tensor([0.3, -1.]))
    tensor([ 0.0000, -0.5000])
    """
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _softshrink(input, lambd=lambd)


_hardsigmoid = _pointwise(
    "hardsigmoid", lambda x: (np.clip(x, -3.0, 3.0) / 6.0 + 0.5).astype(x.dtype),
    lambda g, ans, x: where((x > -3.0) & (x < 3.0), g / 6.0, 0.0))


def _hardswish_rule(g, ans, x):
    # PyTorch: 0 up to -3, (2x + 3)/6 strictly between, 1 from 3 on
    return where(x <= -3.0, 0.0, where(x < 3.0, g * (x / 3.0 + 0.5), g))


_hardswish = _pointwise("hardswish", lambda x: (x * np.clip(x + 3.0, 0.0, 6.0) / 6.0).astype(x.dtype),
                        _hardswish_rule)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``clamp(x/6 + 1/2, 0, 1)``.

    >>> import autojac
    >>> autojac.nn.functional.hardsigmoid(autojac.tensor([-4., 0., 1.5]))
    tensor([0.0000, 0.5000, 0.7500])
    """
    return _maybe_inplace(_hardsigmoid, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * hardsigmoid(x)`` (MobileNetV3).

    >>> import autojac
    >>> autojac.nn.functional.hardswish(autojac.tensor([-4., 1., 4.]))
    tensor([-0.0000, 0.6667, 4.0000])
    """
    return _maybe_inplace(_hardswish, input, inplace)


# --------------------------------------------------------------------------- smooth activations
def _elu_forward(x, alpha, scale, input_scale):
    neg = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
    return np.where(x > 0, x * scale, neg).astype(x.dtype, copy=False)


def _elu_rule(g, ans, x, alpha, scale, input_scale):
    # PyTorch's elu_backward: alpha*scale*input_scale*exp(x*input_scale) for x <= 0; its double backward is
    # masked by x < 0, so at 0 the factor is a constant (second derivative 0 there)
    c = alpha * scale * input_scale
    return where(x > 0, g * scale, where(x < 0, g * c * exp(x * input_scale), g * c))


_elu = _pointwise("elu", _elu_forward, _elu_rule)
_celu = renamed(_elu, "CeluBackward0")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import autojac
    >>> autojac.nn.functional.elu(autojac.tensor([-1., 2.]))
    tensor([-0.6321,  2.0000])
    """
    return _maybe_inplace(lambda x: _elu(x, alpha=alpha, scale=1.0, input_scale=1.0), input, inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Self-normalizing ELU: ``scale * elu(x, alpha)`` with the constants of Klambauer et al. (2017).

    >>> import autojac
    >>> autojac.selu(autojac.tensor([-1., 2.]))
    tensor([-1.1113,  2.1014])
    """
    return _maybe_inplace(lambda x: _elu(x, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0), input, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    >>> import autojac
    >>> autojac.celu(autojac.tensor([-1., 2.]), alpha=2.)
    tensor([-0.7869,  2.0000])
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(lambda x: _celu(x, alpha=alpha, scale=1.0, input_scale=1.0 / alpha), input, inplace)


def _gelu_forward(x, approximate):
    if approximate == "tanh":
        inner = _GELU_K * (x + _GELU_C * x * x * x)
        return (0.5 * x * (1.0 + np.tanh(inner))).astype(x.dtype, copy=False)
    return (0.5 * x * (1.0 + _specfun.erf(x.astype(np.float64) * _SQRT1_2))).astype(x.dtype, copy=False)


def _gelu_rule(g, ans, x, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = _tanh_op(_GELU_K * (x + _GELU_C * x2 * x))
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * (_GELU_K * (1.0 + 3.0 * _GELU_C * x2)))
    cdf = 0.5 * (1.0 + _erf(x * _SQRT1_2))
    pdf = exp(-0.5 * x * x) * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


_gelu = _pointwise("gelu", _gelu_forward, _gelu_rule)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (``Phi`` the standard normal CDF); ``approximate='tanh'`` uses the tanh formula.

    >>> import autojac
    >>> autojac.nn.functional.gelu(autojac.tensor([-1., 1.]))
    tensor([-0.1587,  0.8413])
    >>> autojac.nn.functional.gelu(autojac.tensor([-1., 1.]), approximate="tanh")
    tensor([-0.1588,  0.8412])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _gelu(input, approximate=approximate)


def _sigmoid_np(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _silu_rule(g, ans, x):
    s = _sigmoid_op(x)
    return g * (s * (1.0 + x * (1.0 - s)))


_silu = _pointwise("silu", lambda x: x * _sigmoid_np(x), _silu_rule)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish).

    >>> import autojac
    >>> autojac.nn.functional.silu(autojac.tensor([-1., 2.]))
    tensor([-0.2689,  1.7616])
    """
    return _maybe_inplace(_silu, input, inplace)


def _mish_rule(g, ans, x):
    t = _tanh_op(_softplus_op(x))
    return g * (t + x * _sigmoid_op(x) * (1.0 - t * t))


_mish = _pointwise("mish", lambda x: (x * np.tanh(np.logaddexp(0, x))).astype(x.dtype, copy=False), _mish_rule)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``.

    >>> import autojac
    >>> autojac.nn.functional.mish(autojac.tensor([-1., 2.]))
    tensor([-0.3034,  1.9440])
    """
    return _maybe_inplace(_mish, input, inplace)


def _logsigmoid_forward(x):
    return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


_logsigmoid = _pointwise("log_sigmoid", _logsigmoid_forward, lambda g, ans, x: g * _sigmoid_op(-x),
                         grad_name="LogSigmoidBackward0")


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed without overflow.

    >>> import autojac
    >>> autojac.nn.functional.logsigmoid(autojac.tensor([-100., 0.]))
    tensor([-100.0000,   -0.6931])
    """
    return _logsigmoid(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``.

    >>> import autojac
    >>> autojac.nn.functional.softplus(autojac.tensor([0., 30.]))
    tensor([ 0.6931, 30.0000])
    """
    return _softplus_op(input, beta=beta, threshold=threshold)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``.

    >>> import autojac
    >>> autojac.nn.functional.sigmoid(autojac.tensor([0., 2.]))
    tensor([0.5000, 0.8808])
    """
    return _sigmoid_op(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent.

    >>> import autojac
    >>> autojac.nn.functional.tanh(autojac.tensor([0., 1.]))
    tensor([0.0000, 0.7616])
    """
    return _tanh_op(input)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``.

    >>> import autojac
    >>> autojac.nn.functional.softsign(autojac.tensor([-1., 3.]))
    tensor([-0.5000,  0.7500])
    """
    return input / (_abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``.

    >>> import autojac
    >>> autojac.nn.functional.tanhshrink(autojac.tensor([0., 1.]))
    tensor([0.0000, 0.2384])
    """
    return input - _tanh_op(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``dim`` in halves ``a, b`` and return ``a * sigmoid(b)``.

    >>> import autojac
    >>> autojac.nn.functional.glu(autojac.tensor([1., 2., 0., 0.]))
    tensor([0.5000, 1.0000])
    """
    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input._data.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return named(a * _sigmoid_op(b), "GluBackward0")


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` for ``x > 0``, else ``weight * x``, with one weight or one per channel (dim 1).

    >>> import autojac
    >>> autojac.prelu(autojac.tensor([[-2., 3.]]), autojac.tensor([0.25]))
    tensor([[-0.5000,  3.0000]])
    """
    w = weight
    if weight.numel() != 1:
        if input._data.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input._data.ndim >= 2 else input.shape[0]
        if weight.numel() != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {channels}.")
        w = weight.reshape((-1,) + (1,) * (input._data.ndim - 2)) if input._data.ndim >= 2 else weight
    elif input._data.ndim:
        w = weight.reshape(())
    return named(where(input > 0, input, w * input), "PreluKernelBackward0")
