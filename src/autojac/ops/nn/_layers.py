"""Softmax family and layer glue: softmax/log_softmax/softmin, normalize, linear, layer_norm, embedding, one_hot."""

from __future__ import annotations

import numpy as np

from ..._core.batched import Batched
from ..._core.batching import BROADCAST
from ..._core.node import nondiff
from ..._tensor import Tensor, _wrap
from .._declare import named
from ..elementwise import where
from ..index_at import take_indexed
from ..matmul import matmul_t
from ..reduce import log_softmax as _log_softmax_fn
from ..reduce import softmax as _softmax_fn


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
    if (type(input) is Tensor and type(weight) is Tensor and weight._data.ndim == 2 and input._data.ndim
            and input._data.shape[-1] == weight._data.shape[1] and input._data.dtype == weight._data.dtype):
        y = matmul_t(input, weight, tb=True)  # no transpose node: BLAS reads weight transposed in place
    else:  # matmul's checks and messages
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
    batched = type(idx) is Batched  # indices computed per batch element under vmap: checked where they are read
    if not batched and idx.size and (idx.min() < 0 or idx.max() >= n):  # no Python-style negative rows (PyTorch)
        raise IndexError("index out of range in self")
    if padding_idx is not None and not -n <= padding_idx < n:
        raise AssertionError("Padding_idx must be within num_embeddings")
    rows = take_indexed(weight, (idx,), "index_select") if batched else weight[input]
    if padding_idx is not None:
        pad = padding_idx % n
        mask = (input == pad).unsqueeze(-1) if batched else _wrap(np.expand_dims(idx == pad, -1))
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
    return _one_hot(tensor, num_classes=num_classes)


def _one_hot_forward(idx: np.ndarray, num_classes: int) -> np.ndarray:
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes." if idx.min() >= 0
                           else "Class values must be non-negative.")
    return (idx[..., None] == np.arange(num_classes)).astype(np.int64)


# an op, checks included: under vmap it runs on the whole batch of indices (a new last dim)
_one_hot = nondiff("one_hot", _one_hot_forward, batch=BROADCAST)
