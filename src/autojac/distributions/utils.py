"""Helpers shared by the distributions, under PyTorch's names (``torch.distributions.utils``).

>>> import autojac
>>> from autojac.distributions.utils import broadcast_all
>>> [t.shape for t in broadcast_all(autojac.zeros(3), 1.0)]
[autojac.Size([3]), autojac.Size([3])]
"""

from __future__ import annotations

from functools import update_wrapper
from numbers import Number

import numpy as np

from .. import _dtype
from .._core.grad_mode import enable_grad
from .._tensor import Size, Tensor
from ..ops.creation import eye, randn, tensor
from ..ops.reduce import softmax
from ..ops.shape import broadcast_tensors

__all__ = ["broadcast_all", "lazy_property", "logits_to_probs", "probs_to_logits", "clamp_probs", "finfo"]


class finfo:  # noqa: N801  (torch.finfo's fields for a float dtype, from NumPy's)
    """``eps``, ``tiny``, ``max`` and ``min`` of a float dtype."""

    def __init__(self, dtype) -> None:
        info = np.finfo(_dtype.to_dtype(dtype).np)
        self.eps, self.tiny, self.max, self.min = float(info.eps), float(info.tiny), float(info.max), float(info.min)


def broadcast_all(*values):
    """Broadcast tensors and numbers to one shape; numbers take the dtype of the first tensor."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), _dtype.get_default_dtype())
        values = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype) for v in values]
    return broadcast_tensors(*values)


def _standard_normal(shape, dtype) -> Tensor:
    return randn(*shape, dtype=dtype)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities clamped to ``[eps, 1 - eps]`` of their dtype."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    return logits.sigmoid() if is_binary else softmax(logits, dim=-1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


def _diag_embed(v: Tensor) -> Tensor:
    """A batch of diagonal matrices from a batch of vectors (``torch.diag_embed``)."""
    return v.unsqueeze(-1) * eye(v.shape[-1], dtype=v.dtype)


def _as_size(shape) -> Size:
    return shape if isinstance(shape, Size) else Size(tuple(shape))


class lazy_property:  # noqa: N801
    """A property computed on first access and then stored on the instance (``torch``'s ``lazy_property``)."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():  # as PyTorch: a lazily computed parameter keeps its graph
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value
