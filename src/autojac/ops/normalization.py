"""``batch_norm`` and the dropouts (``dropout``, ``dropout1d/2d/3d``), composed of ops with rules.

Both are compositions of recorded ops, so every derivative (any order, batched, forward mode)
follows. Dropout draws its mask as PyTorch's CPU ``bernoulli_(1 - p)`` does (one 53-bit uniform
per element from the generator, kept when below ``1 - p``), so a seeded run masks the same
elements as PyTorch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._core.grad_mode import no_grad
from .._random import batched_draw, check_vmap_randomness, default_generator, draw_shape
from .._tensor import Tensor, _wrap
from ._declare import named

__all__ = ["batch_norm", "dropout", "dropout1d", "dropout2d", "dropout3d"]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch and spatial dims, then scale and shift.

    In training the batch statistics are used and the running ones updated in place
    (``running = (1 - momentum) * running + momentum * batch``, the unbiased variance);
    in evaluation the running statistics are used.

    >>> import autojac
    >>> x = autojac.tensor([[1., 2.], [3., 6.]])
    >>> autojac.nn.functional.batch_norm(x, None, None, training=True)
    tensor([[-1.0000, -1.0000],
            [ 1.0000,  1.0000]])
    """
    if input._data.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {input._data.ndim}D input)")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    dims = (0,) + tuple(range(2, input._data.ndim))
    channel = (1, c) + (1,) * (input._data.ndim - 2)
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{input.shape}")
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        y = centered * (var + eps).rsqrt()
        with no_grad():
            if running_mean is not None:
                m = mean._data.reshape(c)
                running_mean.copy_(_wrap((momentum * m + (1 - momentum) * running_mean._data).astype(m.dtype)))
            if running_var is not None:
                v = var._data.reshape(c) * (n / (n - 1))
                running_var.copy_(_wrap((momentum * v + (1 - momentum) * running_var._data).astype(v.dtype)))
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        y = (input - running_mean.reshape(channel)) * (running_var.reshape(channel) + eps).rsqrt()
    if weight is not None:
        y = y * weight.reshape(channel)
    if bias is not None:
        y = y + bias.reshape(channel)
    return named(y, "NativeBatchNormBackward0")


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape: tuple, p: float, dtype: np.dtype) -> Tensor:
    """PyTorch's ``empty(shape).bernoulli_(1 - p).div_(1 - p)`` on the CPU generator (under
    ``vmap(randomness="different")`` one mask per batch element, drawn at once as PyTorch does)."""
    levels = check_vmap_randomness()
    shape = draw_shape(levels, shape)
    keep = default_generator.uniform(math.prod(shape), np.dtype(np.float64)) < 1.0 - p
    return batched_draw(_wrap((keep.astype(dtype) / dtype.type(1.0 - p)).reshape(shape)), levels)


def _apply_noise(input: Tensor, noise_shape: tuple, p: float, training: bool, inplace: bool) -> Tensor:
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    dtype = input._data.dtype
    if dtype.kind not in "fc":
        raise RuntimeError(f'"bernoulli_scalar_cpu_" not implemented for \'{input.dtype}\'')
    noise = _wrap(np.zeros(noise_shape, dtype=dtype)) if p == 1 else _keep_mask(noise_shape, p, dtype)
    if inplace:
        return input.mul_(noise)
    return named(input * noise, "MulBackward0")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only).

    >>> import autojac
    >>> _ = autojac.manual_seed(0)
    >>> autojac.nn.functional.dropout(autojac.ones(8), 0.5)
    tensor([0., 0., 2., 0., 0., 0., 2., 2.])
    """
    return _apply_noise(input, tuple(input.shape), p, training, inplace)


def _feature_dropout(d: int, input: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    nd = input._data.ndim
    name = f"dropout{d}d"
    if nd not in (d + 1, d + 2):
        raise RuntimeError(f"{name}: Expected {d + 1}D or {d + 2}D input, but received a {nd}D input. Note that "
                           f"dropout{d}d exists to provide channel-wise dropout on inputs with {d} spatial "
                           "dimension(s), a channel dimension, and an optional batch dimension (i.e. "
                           f"{d + 1}D or {d + 2}D inputs).")
    if d == 2 and nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. This behavior will change in a future release to interpret the input as one without "
                      "a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=3)
        shape = tuple(input.shape[:2]) + (1,)
    elif nd == d + 1:  # no batch dim: one draw per channel
        shape = (input.shape[0],) + (1,) * d
    else:
        shape = tuple(input.shape[:2]) + (1,) * d
    return _apply_noise(input, shape, p, training, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``input (N, C, L)`` or ``(C, L)`` with probability ``p``.

    >>> import autojac
    >>> _ = autojac.manual_seed(0)
    >>> autojac.nn.functional.dropout1d(autojac.ones(1, 3, 2), 0.5)
    tensor([[[0., 0.],
             [0., 0.],
             [2., 2.]]])
    """
    return _feature_dropout(1, input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``input (N, C, H, W)`` with probability ``p``.

    >>> import autojac
    >>> _ = autojac.manual_seed(0)
    >>> autojac.nn.functional.dropout2d(autojac.ones(1, 2, 1, 2), 0.5)
    tensor([[[[0., 0.]],
    <BLANKLINE>
             [[0., 0.]]]])
    """
    return _feature_dropout(2, input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``input (N, C, D, H, W)`` or ``(C, D, H, W)`` with probability ``p``."""
    return _feature_dropout(3, input, p, training, inplace)
