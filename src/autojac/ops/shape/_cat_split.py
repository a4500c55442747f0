"""Joining and splitting: cat/stack/hstack/vstack, narrow, split/chunk/unbind."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ... import _dtype
from ..._core.batching import Axes, n_batch
from ..._core.node import Op, Saves
from ..._core.patterns import MOVE
from ..._tensor import Tensor, _wrap, _wrap_dim
from .._declare import defop, named
from ..index import getitem, getitem_raw, pad_zeros
from ._casts import clone
from ._reshape import _reshape_with, _unsqueeze_op, reshape


# --------------------------------------------------------------------------- cat / stack / split
def _slice_along(g: Tensor, axis: int, start: int, stop: int) -> Tensor:
    idx = (slice(None),) * axis + (slice(start, stop),)
    return getitem_raw(g, idx)


def _legacy(x, ndim: int) -> bool:
    """A 1-D empty tensor among n-D ones: PyTorch's cat skips it (but keeps it in the graph)."""
    return len(x.shape) == 1 and x.shape[0] == 0 and ndim != 1


def _cat_forward(*xs, dim):
    ndim = max(x.ndim for x in xs)
    return np.concatenate([x for x in xs if not _legacy(x, ndim)] or xs[:1], axis=dim)


def _cat_vjp(i: int):
    def rule(g, ans, *xs, dim):
        nb = n_batch(g, ans)
        if _legacy(xs[i], ans.ndim):
            return _wrap(np.zeros(tuple(g.shape[:nb]) + (0,), g._data.dtype))
        start = sum(x.shape[dim] for x in xs[:i] if not _legacy(x, ans.ndim))
        return _slice_along(g, nb + dim, start, start + xs[i].shape[dim])
    return rule


def _cat_jvp(i: int):
    def rule(t, ans, *xs, dim):
        nb = n_batch(t, xs[i])
        if _legacy(xs[i], ans.ndim):
            return _wrap(np.zeros(tuple(t.shape[:nb]) + tuple(ans.shape), t._data.dtype))
        start = sum(x.shape[dim] for x in xs[:i] if not _legacy(x, ans.ndim))
        total = ans.shape[dim]
        width = [(0, 0)] * t.ndim
        width[nb + dim] = (start, total - start - xs[i].shape[dim])
        return pad_zeros(t, tuple(width))
    return rule


_cat_ops: dict = {}


def _cat_op(n: int):
    op = _cat_ops.get(n)
    if op is None:
        op = _cat_ops[n] = defop("cat", _cat_forward, vjp=tuple(_cat_vjp(i) for i in range(n)),
                                 jvp=tuple(_cat_jvp(i) for i in range(n)), saves_inputs=Saves.NOTHING, sparsity=MOVE,
                                 batch=Axes("dim"))
    return op


def _common_dtype(tensors: Sequence[Tensor]) -> Sequence[Tensor]:
    dts = {t._data.dtype for t in tensors}
    if len(dts) == 1:
        return tensors
    rt = _dtype.FROM_NP[np.result_type(*dts)]
    if any(t._data.dtype.kind in "fc" for t in tensors) and rt.category < 2:
        rt = _dtype.get_default_dtype()
    return [t.to(rt) for t in tensors]


def _check_tensors(tensors, name: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                            f"but found element of type {type(x).__name__} at pos {i}")
    return list(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension.

    >>> import autojac
    >>> autojac.cat([autojac.ones(2), autojac.zeros(1)])
    tensor([1., 1., 0.])
    """
    tensors = _check_tensors(tensors, "cat")
    # PyTorch skips legacy empty 1-D tensors in the shape checks (the op keeps them in the graph)
    shaped = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = shaped[0]
    n = ref._data.ndim
    if n == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, n)
    for i, x in enumerate(shaped):
        if x._data.ndim != n:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {n} and {x._data.ndim}")
        for k in range(n):
            if k != d and x._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref._data.shape[k]} but got size {x._data.shape[k]} for tensor number {i} in the list."
                )
    tensors = _common_dtype(tensors)
    if len(tensors) == 1:
        return clone(tensors[0])
    return _cat_op(len(tensors))(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dimension.

    >>> import autojac
    >>> autojac.stack([autojac.ones(2), autojac.zeros(2)])
    tensor([[1., 1.],
            [0., 0.]])
    """
    tensors = _check_tensors(tensors, "stack")
    shp = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 "
                               f"and {list(x._data.shape)} at entry {i}")
    d = _wrap_dim(dim, len(shp) + 1)
    tensors = _common_dtype(tensors)
    out = cat([_reshape_with(_unsqueeze_op, x, shp[:d] + (1,) + shp[d:]) for x in tensors], d)
    if out._grad_fn is not None:
        out._grad_fn.op = _stack_name(out._grad_fn.op)
    return out


def _stack_name(op):
    # Same rules as cat; only the name shown in grad_fn differs
    named = _stack_names.get(op)
    if named is None:
        named = _stack_names[op] = Op("stack", op.forward, op.vjp, op.jvp, saves_inputs=Saves.NOTHING,
                                      grad_name="StackBackward0", sparsity=op.sparsity, batch=op.batch)
    return named


_stack_names: dict = {}


def hstack(tensors) -> Tensor:
    tensors = _check_tensors(tensors, "hstack")
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    tensors = [t if t._data.ndim >= 2 else reshape(t, 1, -1) for t in _check_tensors(tensors, "vstack")]
    return cat(tensors, 0)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries along ``dim`` from ``start`` (negative counts from the end), as a view.

    >>> import autojac
    >>> autojac.arange(10.).narrow(0, -3, 2)
    tensor([7., 8.])
    """
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input._data.ndim)
    if isinstance(start, Tensor):
        start = start.item()
    for name, v in (("start", start), ("length", length)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"narrow(): argument '{name}' must be int, not {type(v).__name__}")
    n = input._data.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks of a given size (or a list of sizes) along ``dim``."""
    d = _wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    name = "SplitBackward0" if isinstance(split_size_or_sections, int) else "SplitWithSizesBackward0"
    for s in sizes:
        out.append(_multi_view(named(narrow(tensor, d, start, s), name)))
        start += s
    return tuple(out)


def _multi_view(out: Tensor) -> Tensor:
    """Mark an output of split/chunk/unbind: PyTorch forbids in-place writes to it that involve grad."""
    if out._base is not None:
        out._multi_view = True
    return out


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` nearly equal pieces along ``dim``."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input._data.shape[_wrap_dim(dim, input._data.ndim)]
    return split(input, max(1, -(-n // chunks)), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    d = _wrap_dim(dim, input._data.ndim)
    return tuple(_multi_view(named(getitem(input, (slice(None),) * d + (i,)), "UnbindBackward0"))
                 for i in range(input._data.shape[d]))
