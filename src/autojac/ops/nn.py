"""Neural-network functions (``torch.nn.functional``): activations, losses, ``linear``, ``normalize``,
``layer_norm``, ``embedding``, ``one_hot``.

Activations are primitives whose VJP and JVP rules are written in autojac ops (so they are
differentiable again), with PyTorch's conventions at kinks (``relu'(0) = 0``, ``leaky_relu'(0) =
slope``, ``hardtanh`` passes no gradient at its bounds). Losses are compositions of primitives; they
show PyTorch's ``grad_fn`` names. Convolutions are in ``ops/conv.py``; ``pad`` in ``ops/shape.py``.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.patterns import ELEMENTWISE, Sparsity, fibers, groups
from .._tensor import Tensor, _wrap, _wrap_dim
from . import _specfun
from ._declare import attach, defop, inplace, named, renamed
from .elementwise import abs as _abs
from .elementwise import exp, log1p, where
from .elementwise import relu as _relu_op
from .elementwise import sigmoid as _sigmoid_op
from .elementwise import softplus as _softplus_op
from .elementwise import tanh as _tanh_op
from .reduce import log_softmax as _log_softmax_fn
from .reduce import softmax as _softmax_fn
from .special import _erf

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "sigmoid",
           "tanh", "hardtanh", "hardsigmoid", "hardswish", "softsign", "tanhshrink", "threshold", "hardshrink",
           "softshrink", "glu", "prelu", "logsigmoid", "softmax", "log_softmax", "softmin", "normalize",
           "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "linear", "layer_norm", "embedding",
           "one_hot"]

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _pointwise(name: str, forward, rule, *, grad_name: str | None = None, uses: str = "x"):
    """An elementwise primitive whose VJP and JVP are both ``rule(g, ans, x, **params)`` (g or t)."""
    return defop(name, forward, vjp=(rule,), jvp=(rule,), saves_inputs=uses in ("x", "both"),
                 saves_ans=uses in ("ans", "both"), cast="float", grad_name=grad_name, sparsity=ELEMENTWISE)


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


# --------------------------------------------------------------------------- softmax family, normalize
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``.

    >>> import autojac
    >>> autojac.nn.functional.softmax(autojac.tensor([0., 0.]), dim=0)
    tensor([0.5000, 0.5000])
    """
    return _softmax_fn(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably.

    >>> import autojac
    >>> autojac.nn.functional.log_softmax(autojac.tensor([0., 0.]), dim=0)
    tensor([-0.6931, -0.6931])
    """
    return _log_softmax_fn(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``.

    >>> import autojac
    >>> autojac.nn.functional.softmin(autojac.tensor([0., 1e9]), dim=0)
    tensor([1., 0.])
    """
    if dtype is not None:
        input = input.to(dtype)
    return _softmax_fn(-input, dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``.

    >>> import autojac
    >>> autojac.nn.functional.normalize(autojac.tensor([[3., 4.]]))
    tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise TypeError("the out= argument is not supported by autojac")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


# --------------------------------------------------------------------------- linear layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``input (*, in)``, ``weight (out, in)``, ``bias (out,)``.

    >>> import autojac
    >>> autojac.nn.functional.linear(autojac.tensor([[1., 2.]]), autojac.tensor([[1., 1.], [0., 1.]]),
    ...                              autojac.tensor([0.5, 0.]))
    tensor([[3.5000, 2.0000]])
    """
    y = input @ weight.t()
    if bias is not None:
        y = y + bias
    nd = input._data.ndim
    if nd == 2:
        return named(y, "AddmmBackward0" if bias is not None else "MmBackward0")
    if nd == 1:
        return named(y, "ViewBackward0" if bias is not None else "SqueezeBackward4")
    return named(y, "ViewBackward0" if bias is not None else "UnsafeViewBackward0")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims (biased variance), then scale and shift.

    >>> import autojac
    >>> autojac.nn.functional.layer_norm(autojac.tensor([[1., 3.]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input._data.ndim - k:]) != shape or k > input._data.ndim:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*, "
                           f"{', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    dims = tuple(range(-k, 0))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    y = centered * (var + eps).rsqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return named(y, "NativeLayerNormBackward0")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``; the row ``padding_idx`` gets no gradient.

    >>> import autojac
    >>> autojac.nn.functional.embedding(autojac.tensor([2, 0]), autojac.arange(6.).reshape(3, 2))
    tensor([[4., 5.],
            [0., 1.]])
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.dtype} instead (while checking arguments for embedding)")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):  # no Python-style negative rows, as in PyTorch
        raise IndexError("index out of range in self")
    if padding_idx is not None and not -n <= padding_idx < n:
        raise AssertionError("Padding_idx must be within num_embeddings")
    rows = weight[input]
    if padding_idx is not None:
        pad = padding_idx % n
        mask = _wrap(np.expand_dims(idx == pad, -1))
        rows = where(mask, rows.detach(), rows)
    return named(rows, "EmbeddingBackward0")


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices to one-hot rows (int64); ``num_classes = -1`` uses ``max + 1``.

    >>> import autojac
    >>> autojac.nn.functional.one_hot(autojac.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes." if idx.min() >= 0
                           else "Class values must be non-negative.")
    return _wrap((idx[..., None] == np.arange(num_classes)).astype(np.int64))


# --------------------------------------------------------------------------- losses
def _reduction(size_average, reduce, reduction: str) -> str:
    """The legacy ``size_average``/``reduce`` flags, as PyTorch's ``_Reduction.legacy_get_string``."""
    if size_average is None and reduce is None:
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str, input: Tensor, by_weight: bool = True) -> Tensor:
    """PyTorch 2.13's elementwise ``weight``: mse_loss/l1_loss divide the weighted sum by ``weight.sum()``
    for ``'mean'``; huber_loss (``by_weight=False``) takes the plain mean of the weighted losses."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _check_target_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        import warnings

        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.", stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean (or sum) of squared differences.

    >>> import autojac
    >>> autojac.nn.functional.mse_loss(autojac.tensor([1., 2.]), autojac.tensor([0., 0.]))
    tensor(2.5000)
    """
    _check_target_size(input, target)
    red = _reduction(size_average, reduce, reduction)
    d = input - target
    loss = _weighted(d * d, weight, red, input)
    return named(loss, "MseLossBackward0") if weight is None else loss


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean (or sum) of absolute differences.

    >>> import autojac
    >>> autojac.nn.functional.l1_loss(autojac.tensor([1., -2.]), autojac.tensor([0., 0.]))
    tensor(1.5000)
    """
    _check_target_size(input, target)
    return _weighted(_abs(input - target), weight, _reduction(size_average, reduce, reduction), input)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - beta/2`` (``d = input - target``).

    >>> import autojac
    >>> autojac.nn.functional.smooth_l1_loss(autojac.tensor([0.5, 3.]), autojac.tensor([0., 0.]))
    tensor(1.3125)
    """
    _check_target_size(input, target)
    red = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=red)
    d = input - target
    ad = _abs(d)
    loss = where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)
    return named(_reduce(loss, red), "SmoothL1LossBackward0")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - delta/2)``.

    >>> import autojac
    >>> autojac.nn.functional.huber_loss(autojac.tensor([0.5, 3.]), autojac.tensor([0., 0.]), delta=2.)
    tensor(2.0625)
    """
    _check_target_size(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    ad = _abs(d)
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    out = _weighted(loss, weight, _reduction(None, None, reduction), input, by_weight=False)
    return named(out, "HuberLossBackward0") if weight is None else out


def _class_dim(input: Tensor) -> int:
    return 1 if input._data.ndim >= 2 else 0


def _check_targets(input: Tensor, target: Tensor, fn: str) -> None:
    nd = input._data.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    expect = (input.shape[0],) + tuple(input.shape[2:]) if nd >= 2 else ()
    if tuple(target.shape) != expect:
        if nd >= 2 and target._data.ndim and target.shape[0] != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({target.shape[0]}).")
        raise RuntimeError(f"{fn}: expected target of size {list(expect)}, got {list(target.shape)}")


def _picked(input: Tensor, t: np.ndarray) -> Tensor:
    """``input[n, t[n, ...], ...]``: the class ``t`` picks along dim 1 (or 0 unbatched)."""
    if input._data.ndim == 1:
        return input[int(t)]
    grids = [_wrap(g) for g in np.indices(t.shape, sparse=True)]
    return input[(grids[0], _wrap(t)) + tuple(grids[1:])]


def _nll(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str) -> Tensor:
    """The class-index negative log likelihood, composed of differentiable gathers."""
    t = target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    c = input.shape[_class_dim(input)]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0)
    w = np.ones(c, input._data.dtype) if weight is None else weight._data.astype(input._data.dtype)
    wt = np.where(valid, w[safe], 0).astype(input._data.dtype)
    loss = -_picked(input, safe) * _wrap(wt)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / _wrap(np.asarray(wt.sum()))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class indices ``target`` under log-probabilities ``input (N, C, ...)``.

    ``weight`` rescales classes; targets equal to ``ignore_index`` count for nothing; ``'mean'`` divides
    by the total weight of the counted targets.

    >>> import autojac
    >>> logp = autojac.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> autojac.nn.functional.nll_loss(logp, autojac.tensor([0, 1]))
    tensor(0.3000)
    """
    red = _reduction(size_average, reduce, reduction)
    _check_targets(input, target, "nll_loss")
    loss = _nll(input, target, weight, ignore_index, red)
    nd = input._data.ndim
    if nd <= 2:
        return named(loss, "NllLossBackward0")
    return named(loss, "ViewBackward0" if red == "none" and nd == 3 else "NllLoss2DBackward0")


# --------------------------------------------------------------------------- fused cross entropy
# One primitive for the common case (class indices, no label smoothing): log-sum-exp minus the picked
# logit, weighted. Its rules are written in softmax and constants, so every order differentiates.
def _ce_forward(x, t, wt, scale, cdim, reduction):
    m = x.max(axis=cdim, keepdims=True)
    if not np.isfinite(m).all():  # rows of -inf (or inf) logits: shift by 0 there, as log_softmax does
        m = np.where(np.isfinite(m), m, 0)
    lse = np.log(np.exp(x - m).sum(axis=cdim, keepdims=True)) + m
    picked = np.take_along_axis(x, t[(slice(None),) * cdim + (None,)], axis=cdim)
    loss = (lse - picked).squeeze(cdim) * wt
    if reduction == "none":
        return loss
    return np.asarray(loss.sum() * scale, dtype=x.dtype)


def _ce_dlogits(ans, x, t, wt, scale, cdim, reduction):
    """``d loss_i / d x_ic = (softmax(x)_ic - [c = t_i]) wt_i``, as a recorded expression of ``x``."""
    onehot = np.zeros(x.shape, dtype=x._data.dtype)
    np.put_along_axis(onehot, np.expand_dims(t, cdim), 1, axis=cdim)
    w = np.expand_dims(wt * (scale if reduction != "none" else 1), cdim).astype(x._data.dtype)
    return (_softmax_fn(x, cdim) - _wrap(onehot)) * _wrap(w)


def _ce_vjp(g, ans, x, t, wt, scale, cdim, reduction):
    nb = g.ndim - ans.ndim
    if reduction == "none":
        g = g.unsqueeze(nb + cdim)
    else:
        g = g.reshape(tuple(g.shape) + (1,) * x.ndim)
    return g * _ce_dlogits(ans, x, t, wt, scale, cdim, reduction)


def _ce_jvp(tan, ans, x, t, wt, scale, cdim, reduction):
    per = (tan * _ce_dlogits(ans, x, t, wt, scale, cdim, reduction)).sum(cdim - x.ndim)
    if reduction == "none":
        return per
    return per.sum(tuple(range(-(x.ndim - 1), 0))) if x.ndim > 1 else per


def _ce_pattern(op, out_shape, args, params, active):
    """Each loss reads its sample's logits over the classes (every logit when reduced)."""
    x = args[0]
    dims = (params["cdim"],) if params["reduction"] == "none" else tuple(range(np.ndim(x)))
    return (groups(fibers(np.shape(x), dims), int(np.size(x))) if active[0] else None,)


_cross_entropy_op = defop("nll_loss", _ce_forward, vjp=(_ce_vjp,), jvp=(_ce_jvp,), cast="float",
                          sparsity=Sparsity(_ce_pattern, ((0, 0),)))


def _cross_entropy_indices(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                           reduction: str) -> Tensor:
    t = target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    cdim = _class_dim(input)
    c = input.shape[cdim]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0).astype(np.intp)
    w = np.ones(c, input._data.dtype) if weight is None else weight._data.astype(input._data.dtype)
    wt = np.where(valid, w[safe], 0).astype(input._data.dtype)
    scale = 1.0 / wt.sum(dtype=np.float64) if reduction == "mean" else 1.0  # mean: over the counted weight
    if reduction == "mean" and not wt.sum():
        scale = np.nan  # every target ignored: 0/0, as torch
    loss = _cross_entropy_op(input, t=safe, wt=wt, scale=scale, cdim=cdim, reduction=reduction)
    nd = input._data.ndim
    if nd <= 2:
        return named(loss, "NllLossBackward0")
    return named(loss, "ViewBackward0" if reduction == "none" and nd == 3 else "NllLoss2DBackward0")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits ``input (N, C, ...)`` and class indices or class probabilities.

    Class indices honour ``weight``, ``ignore_index`` and ``label_smoothing``; probability targets
    (a float tensor shaped like ``input``) honour ``weight`` and ``label_smoothing``.

    >>> import autojac
    >>> logits = autojac.tensor([[2., 0.], [0., 2.]])
    >>> autojac.nn.functional.cross_entropy(logits, autojac.tensor([0, 1]))
    tensor(0.1269)
    >>> autojac.nn.functional.cross_entropy(logits, autojac.tensor([[0.5, 0.5], [0., 1.]]))
    tensor(0.6269)
    """
    red = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = _class_dim(input)
    c = input.shape[cdim]
    if target._data.dtype.kind != "f" and label_smoothing == 0:
        _check_targets(input, target, "cross_entropy")
        return _cross_entropy_indices(input, target, weight, ignore_index, red)
    logp = _log_softmax_fn(input, cdim)
    wshape = (-1,) + (1,) * (input._data.ndim - 2) if input._data.ndim >= 2 else (-1,)
    if target._data.dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        if red == "mean":
            return named(-prod.sum() / (input.numel() / c), "DivBackward1")
        if red == "sum":
            return -prod.sum()
        return -prod.sum(cdim)
    _check_targets(input, target, "cross_entropy")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=red)
    ignored = _wrap(target._data == ignore_index)
    smooth = -(logp * weight.reshape(wshape)).sum(cdim) if weight is not None else -logp.sum(cdim)
    smooth = where(ignored, 0.0, smooth)
    if red == "mean":
        if weight is not None:
            t = target._data
            denom = weight._data[t[t != ignore_index]].sum()
            smooth = smooth.sum() / _wrap(np.asarray(denom, input._data.dtype))
        else:
            smooth = smooth.sum() / _wrap(np.asarray((target._data != ignore_index).sum()))
    elif red == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


_EPS = 1e-12


def _bce_forward(x, t, w):
    with np.errstate(all="ignore"):
        loss = -(t * np.maximum(np.log(x), -100.0) + (1 - t) * np.maximum(np.log1p(-x), -100.0))
    return loss if w is None else loss * w


def _bce_dx(g, ans, x, t, w):
    # PyTorch: (x - t) / max(x (1 - x), eps), times weight
    d = g * (x - t) / (x * (1.0 - x)).clamp_min(_EPS)
    return d if w is None else d * w


def _bce_dt(g, ans, x, t, w):
    d = g * (log1p(-x) - x.log())  # -logit(x)
    return d if w is None else d * w


_bce = defop(
    "binary_cross_entropy", _bce_forward,
    vjp=(_bce_dx, _bce_dt, None),  # no derivative for weight, as in PyTorch
    jvp=(_bce_dx, _bce_dt, None),
    cast="promote",
)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` for probabilities ``x`` (logs clamped at -100).

    >>> import autojac
    >>> autojac.nn.functional.binary_cross_entropy(autojac.tensor([0.8, 0.4]), autojac.tensor([1., 0.]))
    tensor(0.3670)
    """
    red = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    x = input._data
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None and tuple(np.broadcast_shapes(weight.shape, input.shape)) != tuple(input.shape):
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)}, weight: {list(weight.shape)})")
    return named(_reduce(_bce(input, target, weight), red), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits.

    ``pos_weight`` multiplies the positive term (``t log sigmoid(x)``); ``weight`` the whole loss.

    >>> import autojac
    >>> autojac.nn.functional.binary_cross_entropy_with_logits(autojac.tensor([2., -1.]), autojac.tensor([1., 0.]))
    tensor(0.2201)
    """
    red = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    ls = _logsigmoid(input)  # log sigmoid(x); log(1 - sigmoid(x)) = ls - x
    if pos_weight is None:
        loss = (1 - target) * input - ls
    else:
        loss = (1 - target) * input - (1 + (pos_weight - 1) * target) * ls
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, red), "BinaryCrossEntropyWithLogitsBackward0")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``sum target * (log target - input)``, ``input`` being log-probabilities.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right mean).

    >>> import autojac
    >>> p = autojac.tensor([[0.5, 0.5]])
    >>> autojac.nn.functional.kl_div(autojac.tensor([[0.25, 0.75]]).log(), p, reduction="batchmean")
    tensor(0.1438)
    """
    from .special import xlogy

    if size_average is not None or reduce is not None:
        red = _reduction(size_average, reduce, "mean")
    else:
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        red = reduction
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if red == "batchmean":
        s = loss.sum()
        return s / input.shape[0] if input._data.ndim else s
    return _reduce(loss, red)


attach(hardshrink=hardshrink, prelu=prelu)
