"""Views: reshape/view, flatten, squeeze/unsqueeze, permute/transpose/movedim, expand/broadcast_to."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ... import _dtype
from ..._core.batching import Shape, batch_shape, keep_batch, n_batch
from ..._core.broadcast import expand as _expand_op
from ..._core.node import Saves
from ..._core.patterns import MOVE, RESHAPE
from ..._dtype import torch_name
from ..._tensor import Size, Tensor, _wrap, _wrap_dim
from .._declare import linear
from ..views import mark_view


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


# --------------------------------------------------------------------------- reshape family
def _reshape_op(name: str, grad_name: str):
    return linear(
        name, lambda x, shape: x.reshape(shape),
        vjp=(lambda g, ans, x, shape: g.reshape(batch_shape(g, ans) + tuple(x.shape)),),
        saves_inputs=Saves.NOTHING, grad_name=grad_name, sparsity=RESHAPE, batch=Shape(1)
    )


_view_op = _reshape_op("view", "ViewBackward0")
_reshape_alias_op = _reshape_op("reshape", "ReshapeAliasBackward0")
_squeeze_op = _reshape_op("squeeze", "SqueezeBackward0")
_squeeze_dim_op = _reshape_op("squeeze", "SqueezeBackward1")
_squeeze_dims_op = _reshape_op("squeeze", "SqueezeBackward2")
_unsqueeze_op = _reshape_op("unsqueeze", "UnsqueezeBackward0")
_unsafe_view_op = _reshape_op("unsafe_view", "UnsafeViewBackward0")


def _infer_shape(shape: tuple, numel: int, src_shape: tuple) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _reshape_with(op, x: Tensor, shape: tuple) -> Tensor:
    shape = _infer_shape(shape, x._data.size, x._data.shape)
    out = op(x, shape)
    if not out._data.size or np.may_share_memory(out._data, x._data):  # PyTorch views any empty tensor
        src = tuple(x._data.shape)
        mark_view(out, x, lambda b: _view_op(b, shape), lambda b, new: _view_op(new, src))
    return out


def reshape(input: Tensor, *shape) -> Tensor:
    """A tensor with the same data and a new shape (one dimension may be -1).

    >>> import autojac
    >>> autojac.arange(6.).reshape(2, 3)
    tensor([[0., 1., 2.],
            [3., 4., 5.]])
    """
    return _reshape_with(_view_op, input, _shape_arg(shape))


def view(input: Tensor, *shape) -> Tensor:
    """The same data under a new shape, or its bits read as another dtype (``view(autojac.int32)``).

    As in PyTorch, a shape view never copies: it raises where the strides cannot express it.

    >>> import autojac
    >>> autojac.tensor([1., 2.]).view(autojac.int32)
    tensor([1065353216, 1073741824], dtype=autojac.int32)
    """
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        return _view_dtype(input, _dtype.to_dtype(shape[0]))
    new = _infer_shape(_shape_arg(shape), input._data.size, input._data.shape)
    if not _view_strides_exist(input._data, new):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return _reshape_with(_view_op, input, new)


def _view_strides_exist(a: np.ndarray, new: tuple) -> bool:
    """Whether ``new`` can view ``a``'s memory with strides (PyTorch's rule: each run of dims that is
    contiguous in memory may be regrouped, but no new dim may span two such runs)."""
    old, strides = a.shape, [st // a.itemsize for st in a.strides]
    if not old or a.size == 0 or a.flags.c_contiguous:
        return True
    v = len(new) - 1
    base = strides[-1]
    run = view_run = 1
    for d in range(len(old) - 1, -1, -1):
        run *= old[d]
        # a run of memory-contiguous dims ends here (size-1 dims never break one)
        if d == 0 or (old[d - 1] != 1 and strides[d - 1] != run * base):
            while v >= 0 and (view_run < run or new[v] == 1):
                view_run *= new[v]
                v -= 1
            if view_run != run:
                return False
            if d > 0:
                base, run, view_run = strides[d - 1], 1, 1
    return v == -1


def _view_dtype(input: Tensor, d: _dtype.dtype) -> Tensor:
    """The bits of ``input`` read as ``d`` (PyTorch's ``view(dtype)``): shares memory and the version counter,
    not differentiable; a size change of the elements scales the last dim."""
    a = input._data
    if d.np == a.dtype:
        return input.detach()  # PyTorch: not differentiable even to the same dtype
    old_size, new_size = a.itemsize, d.itemsize
    if old_size != new_size:
        what = f"to view {torch_name(input.dtype)} as {torch_name(d)} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if a.shape[-1] != 1 and a.strides[-1] != old_size:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {a.strides[-1] // old_size}")
        if new_size > old_size:
            ratio = new_size // old_size
            if a.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got {a.shape[-1]}")
            if input.storage_offset() % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, but got "
                                   f"{input.storage_offset()}")
            for i, st in enumerate(a.strides[:-1]):
                if (st // old_size) % ratio:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {what}, but got "
                                       f"{st // old_size}")
    if a.shape and a.shape[-1] == 1 and a.strides[-1] != a.itemsize:  # NumPy wants a unit last stride
        a = np.lib.stride_tricks.as_strided(a, strides=a.strides[:-1] + (a.itemsize,))
    out = _wrap(a.view(d.np))
    out._vc = input._vc  # the same memory: an in-place write to either bumps both
    return out


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    shp = input._data.shape
    if not shp:
        return reshape(input, 1)
    s, e = _wrap_dim(start_dim, len(shp)), _wrap_dim(end_dim, len(shp))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    new = shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:]
    return reshape(input, new)


def ravel(input: Tensor) -> Tensor:
    return reshape(input, -1)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    shp = input._data.shape
    d = _wrap_dim(dim, len(shp))
    sizes = _infer_shape(tuple(sizes), shp[d], (shp[d],))
    return reshape(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dims of size 1 (all, or those in ``dim``)."""
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        drop = {_wrap_dim(d, len(shp)) for d in dims}
        new = tuple(s for i, s in enumerate(shp) if not (i in drop and s == 1))
    op = _squeeze_op if dim is None else _squeeze_dims_op if isinstance(dim, (tuple, list)) else _squeeze_dim_op
    return _reshape_with(op, input, new)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim``."""
    shp = input._data.shape
    d = _wrap_dim(dim, len(shp) + 1)
    return _reshape_with(_unsqueeze_op, input, shp[:d] + (1,) + shp[d:])


# --------------------------------------------------------------------------- permutations
def _inverse(perm: Sequence[int]) -> tuple:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _permute_batch(call, args, batched, params, size):
    """``vmap`` rule: the batch dim stays first."""
    n = args[0].ndim - 1
    return call([args[0], (0,) + tuple((d % n if n else 0) + 1 for d in args[1])], params)


def _permute_op(grad_name: str):
    return linear(
        "permute", lambda x, dims: x.transpose(dims),
        vjp=(lambda g, ans, x, dims: _permute_raw(g, keep_batch(_inverse(dims), n_batch(g, ans))),),
        saves_inputs=Saves.NOTHING, grad_name=grad_name, sparsity=MOVE, batch=_permute_batch
    )


_permute = _permute_op("PermuteBackward0")
_transpose = _permute_op("TransposeBackward0")
_tt = _permute_op("TBackward0")


def _permute_raw(x: Tensor, dims: tuple) -> Tensor:
    return _permute_with(_permute, x, dims)


def _permute_with(op, x: Tensor, dims: tuple) -> Tensor:
    out = op(x, dims)
    inv = _inverse(dims)
    return mark_view(out, x, lambda b: _permute(b, dims), lambda b, new: _permute(new, inv))


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions.

    >>> import autojac
    >>> autojac.zeros(2, 3, 4).permute(2, 0, 1).shape
    autojac.Size([4, 2, 3])
    """
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = {n} is "
                           f"not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permute_with(_permute, input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    n = input._data.ndim
    a, b = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    if n == 0:  # still a new tensor with its own grad_fn, as in PyTorch
        return _permute_with(_transpose, input, ())
    perm = list(range(n))
    perm[a], perm[b] = perm[b], perm[a]
    return _permute_with(_transpose, input, tuple(perm))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dimensions."""
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return _permute_with(_tt, input, (1, 0) if n == 2 else tuple(range(n)))


def movedim(input: Tensor, source, destination) -> Tensor:
    n = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_wrap_dim(s, n) for s in src]
    dst = [_wrap_dim(d, n) for d in dst]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def _T(self: Tensor) -> Tensor:
    n = self._data.ndim
    return self if n < 2 else permute(self, tuple(range(n - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(self, -2, -1)


# --------------------------------------------------------------------------- expand
def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying (-1 keeps a dimension).

    >>> import autojac
    >>> autojac.tensor([1., 2.]).expand(3, 2).shape
    autojac.Size([3, 2])
    """
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _shape_arg(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(shp)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shp)})"
        )
    lead = len(sizes) - len(shp)
    target = []
    for i, s in enumerate(sizes):
        if s == -1:
            if i < lead:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            s = shp[i - lead]
        elif i >= lead and shp[i - lead] != 1 and shp[i - lead] != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({shp[i - lead]}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}"
            )
        target.append(s)
    target = tuple(target)
    if target == shp:
        return input
    out = _expand_op(input, target)
    src = tuple(shp)
    if out._data.size == input._data.size:  # nothing repeated: a writable view, as in PyTorch
        out._data = input._data.reshape(target)
        unview = lambda b, new: _view_op(new, src)  # noqa: E731
    else:
        unview = _no_write
    # a view: it shares the input's version counter, and reads the input's new graph after writes to it
    return mark_view(out, input, lambda b: _expand_op(b, target), unview)


def _no_write(base, new):
    if not new._data.size:  # nothing is written
        return base
    raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                       "single memory location. Please clone() the tensor before performing the operation.")


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    return Size(np.broadcast_shapes(*shapes))
