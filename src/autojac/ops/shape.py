"""Shape ops: reshape/view, squeeze, transpose/permute, expand, cat/stack/split, clone, casts.

Rules see cotangents with ``nb = g.ndim - ans.ndim`` leading batch dims; axes are
shifted past them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import _dtype
from .._core.broadcast import expand as _expand_op
from .._core.patterns import LINEAR, MOVE, RESHAPE
from .._device import check_device, device
from .._tensor import Tensor, _wrap, _wrap_dim
from ._declare import attach, conj, defop, named

__all__ = [
    "reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes",
    "permute", "movedim", "expand", "broadcast_to", "cat", "concat", "concatenate", "stack",
    "split", "chunk", "unbind", "clone", "t", "hstack", "vstack", "narrow", "ravel",
]


def _nb(g, ans) -> int:
    return g.ndim - ans.ndim


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def mark_view(out: Tensor, base: Tensor, view_fn, unview_fn) -> Tensor:
    """Record that ``out`` shares ``base``'s storage (for in-place ops through views)."""
    out._vc = base._vc
    if base._base is not None:  # compose with the base's own view relation
        root, fn0, unfn0 = base._base
        out._base = (root, lambda r: view_fn(fn0(r)),
                     lambda r, new: unfn0(r, unview_fn(fn0(r), new)))
    else:
        out._base = (base, view_fn, unview_fn)
    if "_multi_view" in base.__dict__:  # a view of a split/unbind output is just as restricted
        out._multi_view = True
    from .views import register_view

    register_view(out._base[0], out)
    return out


# --------------------------------------------------------------------------- reshape family
def _reshape_op(name: str, grad_name: str):
    return defop(
        name, lambda x, shape: x.reshape(shape),
        vjp=(lambda g, ans, x, shape: g.reshape(tuple(g.shape[:_nb(g, ans)]) + tuple(x.shape)),),
        jvp=(lambda t, ans, x, shape: t.reshape(tuple(t.shape[:t.ndim - x.ndim]) + tuple(shape)),),
        saves_inputs=False, grad_name=grad_name, sparsity=RESHAPE,
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


_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
               "complex128": "ComplexDouble", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
               "uint8": "Byte", "bool": "Bool"}


def _view_dtype(input: Tensor, d: _dtype.dtype) -> Tensor:
    """The bits of ``input`` read as ``d`` (PyTorch's ``view(dtype)``): shares memory and the version counter,
    not differentiable; a size change of the elements scales the last dim."""
    a = input._data
    if d.np == a.dtype:
        return input.detach()  # PyTorch: not differentiable even to the same dtype
    old_size, new_size = a.itemsize, d.itemsize
    if old_size != new_size:
        what = f"to view {_TYPE_NAMES[input.dtype.name]} as {_TYPE_NAMES[d.name]} (different element sizes)"
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


def _shift(nb: int, perm: Sequence[int]) -> tuple:
    return tuple(range(nb)) + tuple(nb + p for p in perm)


def _permute_op(grad_name: str):
    return defop(
        "permute", lambda x, dims: x.transpose(dims),
        vjp=(lambda g, ans, x, dims: _permute_raw(g, _shift(_nb(g, ans), _inverse(dims))),),
        jvp=(lambda t, ans, x, dims: _permute_raw(t, _shift(t.ndim - x.ndim, dims)),),
        saves_inputs=False, grad_name=grad_name, sparsity=MOVE,
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
    from .._tensor import Size

    return Size(np.broadcast_shapes(*shapes))


# --------------------------------------------------------------------------- cat / stack / split
def _slice_along(g: Tensor, axis: int, start: int, stop: int) -> Tensor:
    from .index import getitem_raw

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
        nb = _nb(g, ans)
        if _legacy(xs[i], ans.ndim):
            return _wrap(np.zeros(tuple(g.shape[:nb]) + (0,), g._data.dtype))
        start = sum(x.shape[dim] for x in xs[:i] if not _legacy(x, ans.ndim))
        return _slice_along(g, nb + dim, start, start + xs[i].shape[dim])
    return rule


def _cat_jvp(i: int):
    def rule(t, ans, *xs, dim):
        nb = t.ndim - xs[i].ndim
        if _legacy(xs[i], ans.ndim):
            return _wrap(np.zeros(tuple(t.shape[:nb]) + tuple(ans.shape), t._data.dtype))
        start = sum(x.shape[dim] for x in xs[:i] if not _legacy(x, ans.ndim))
        total = ans.shape[dim]
        width = [(0, 0)] * t.ndim
        width[nb + dim] = (start, total - start - xs[i].shape[dim])
        from .index import pad_zeros

        return pad_zeros(t, tuple(width))
    return rule


_cat_ops: dict = {}


def _cat_op(n: int):
    op = _cat_ops.get(n)
    if op is None:
        op = _cat_ops[n] = defop("cat", _cat_forward, vjp=tuple(_cat_vjp(i) for i in range(n)),
                                 jvp=tuple(_cat_jvp(i) for i in range(n)), saves_inputs=False, sparsity=MOVE)
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
    from .._core.node import Op

    named = _stack_names.get(op)
    if named is None:
        named = _stack_names[op] = Op("stack", op.forward, op.vjp, op.jvp, saves_inputs=False,
                                      grad_name="StackBackward0", sparsity=op.sparsity)
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
    from .index import getitem

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
    from .index import getitem

    d = _wrap_dim(dim, input._data.ndim)
    return tuple(_multi_view(named(getitem(input, (slice(None),) * d + (i,)), "UnbindBackward0"))
                 for i in range(input._data.shape[d]))


# --------------------------------------------------------------------------- copies and casts
_clone = defop("clone", lambda x: x.copy(), vjp=(lambda g, ans, x: g,), jvp=(lambda t, ans, x: t,),
               saves_inputs=False, sparsity=LINEAR)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of the data that stays in the graph."""
    return _clone(input)


def _cast_forward(x, dtype):
    return x.astype(dtype)


_cast = defop("to", _cast_forward,
              vjp=(lambda g, ans, x, dtype: _cast_to(g, x.dtype),),
              jvp=(lambda t, ans, x, dtype: _cast_to(t, _dtype.FROM_NP[dtype]),),
              saves_inputs=False, grad_name="ToCopyBackward0", sparsity=LINEAR)


def _cast_to(x: Tensor, d: _dtype.dtype) -> Tensor:
    if x._data.dtype == d.np:
        return x
    if x._data.dtype.kind in "fc" and d.category >= 2:
        return _cast(x, d.np)
    return _wrap(x._data.astype(d.np))  # to an integer type: no gradient


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """Convert to a dtype; ``device`` may be given (a string, ``autojac.device`` or a tensor's) but only the
    CPU exists. ``to(dtype)``, ``to(device, dtype)``, ``to(other)``, ``to(dtype=..., device=..., copy=...)``.

    >>> import autojac
    >>> autojac.ones(2).to("cpu", float).dtype
    autojac.float64
    """
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    check_device(kwargs.pop("device", None))
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    flags = [a for a in args[1:] if isinstance(a, bool)]  # non_blocking, copy passed positionally
    if len(flags) >= 2:
        copy = flags[1]
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device)):
            check_device(a)
        elif not (i and isinstance(a, bool)):
            dtype = a
    if dtype is None:
        return clone(self) if copy else self
    out = _cast_to(self, _dtype.to_dtype(dtype))
    return clone(out) if copy and out is self else out


def _cuda(self: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    check_device("cuda")


_LEGACY_TYPE_NAMES = {f"torch.{k}Tensor": v for k, v in (
    ("Float", _dtype.float32), ("Double", _dtype.float64), ("Half", _dtype.float16), ("Long", _dtype.int64),
    ("Int", _dtype.int32), ("Short", _dtype.int16), ("Char", _dtype.int8), ("Byte", _dtype.uint8),
    ("Bool", _dtype.bool), ("ComplexFloat", _dtype.complex64), ("ComplexDouble", _dtype.complex128))}


def _caster(d: _dtype.dtype):
    def method(self: Tensor, memory_format=None) -> Tensor:
        return _cast_to(self, d)
    return method


def _type(self: Tensor, dtype=None, non_blocking: bool = False, **kwargs):
    if isinstance(dtype, str) and dtype in _LEGACY_TYPE_NAMES:
        dtype = _LEGACY_TYPE_NAMES[dtype]
    if dtype is None:
        return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "int64": "torch.LongTensor",
                "int32": "torch.IntTensor", "bool": "torch.BoolTensor", "float16": "torch.HalfTensor"}.get(
            self.dtype.name, self.dtype.name)
    return to(self, dtype)


attach(
    reshape=reshape, view=view, flatten=flatten, ravel=ravel, unflatten=unflatten, squeeze=squeeze,
    unsqueeze=unsqueeze, permute=permute, transpose=transpose, swapaxes=transpose, swapdims=transpose,
    t=t, movedim=movedim, moveaxis=movedim, expand=expand, expand_as=expand_as, broadcast_to=broadcast_to,
    split=split, chunk=chunk, unbind=unbind, narrow=narrow, clone=clone, to=to,
    float=_caster(_dtype.float32), double=_caster(_dtype.float64), half=_caster(_dtype.float16),
    long=_caster(_dtype.int64), int=_caster(_dtype.int32), bool=_caster(_dtype.bool),
    short=_caster(_dtype.int16), byte=_caster(_dtype.uint8), char=_caster(_dtype.int8),
    cuda=_cuda, get_device=lambda self: -1,
    type=_type, type_as=lambda self, other: to(self, other.dtype),
    view_as=lambda self, other: view(self, other._data.shape),
    reshape_as=lambda self, other: reshape(self, other._data.shape),
    T=property(_T), mT=property(_mT),
    H=property(lambda self: conj(_T(self))), mH=property(lambda self: conj(_mT(self))),  # conjugate transposes
)


# The same storage under a new tensor object (in the graph, identity rules): what
# make_dual/unpack_dual return, as PyTorch returns views there.
alias = defop("alias", lambda x: x.view(), vjp=(lambda g, ans, x: g,), jvp=(lambda t, ans, x: t,),
              saves_inputs=False, grad_name="AliasBackward0", sparsity=LINEAR)


# =========================================================================== flip, roll, repeat, rot90, pad
# Rules see cotangents/tangents with nb leading batch dims: the dims of these ops are stored
# non-negative (for the unbatched tensor) and shifted by nb.
__all__ += ["flip", "fliplr", "flipud", "roll", "repeat", "tile", "repeat_interleave", "rot90", "pad"]


def _dims_arg(dims, ndim: int, name: str = "flip") -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        seen = [d for i, d in enumerate(out) if d in out[:i]][0]
        raise RuntimeError(f"dim {seen} appears multiple times in the list of dims")
    return out if ndim else ()


def _plus(dims: tuple, nb: int) -> tuple:
    return tuple(d + nb for d in dims)


_flip = defop(
    "flip", lambda x, dims: np.flip(x, dims).copy() if dims else x.copy(),
    vjp=(lambda g, ans, x, dims: _flip(g, _plus(dims, _nb(g, ans))),),
    jvp=(lambda t, ans, x, dims: _flip(t, _plus(dims, t.ndim - x.ndim)),),
    saves_inputs=False, sparsity=MOVE,
)


def flip(input: Tensor, *dims, **kwargs) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch): ``flip(x, [1])``,
    ``x.flip(0, 1)`` or ``flip(x, dims=(1,))``.

    >>> import autojac
    >>> autojac.flip(autojac.tensor([[1., 2.], [3., 4.]]), [1])
    tensor([[2., 1.],
            [4., 3.]])
    """
    if kwargs:
        if set(kwargs) != {"dims"} or dims:
            bad = next((k for k in kwargs if k != "dims"), "dims")
            raise TypeError(f"flip() got an unexpected keyword argument '{bad}'" if bad != "dims" else
                            "flip() got multiple values for argument 'dims'")
        dims = (kwargs["dims"],)
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    return _flip(input, _dims_arg(dims, input._data.ndim))


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1) of a tensor of at least 2 dimensions."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return _flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0) of a tensor of at least 1 dimension."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return _flip(input, (0,))


def _roll_forward(x, shifts, dims):
    return np.roll(x, shifts, dims) if dims is not None else np.roll(x, shifts)


def _roll_batched(g: Tensor, shifts: tuple, dims, nb: int) -> Tensor:
    if dims is not None:
        return _roll(g, shifts, _plus(dims, nb))
    if nb == 0:
        return _roll(g, shifts, None)
    flat = g.reshape(tuple(g.shape[:nb]) + (-1,))  # roll the flattened trailing (unbatched) part
    return _roll(flat, shifts, (nb,)).reshape(tuple(g.shape))


_roll = defop(
    "roll", _roll_forward,
    vjp=(lambda g, ans, x, shifts, dims: _roll_batched(g, tuple(-s for s in shifts), dims, _nb(g, ans)),),
    jvp=(lambda t, ans, x, shifts, dims: _roll_batched(t, shifts, dims, t.ndim - x.ndim),),
    saves_inputs=False, sparsity=MOVE,
)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along ``dims`` (the flattened tensor when ``dims`` is None).

    >>> import autojac
    >>> autojac.roll(autojac.tensor([1., 2., 3., 4.]), 1)
    tensor([4., 1., 2., 3.])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return _roll(input, shifts, None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    nd = input._data.ndim
    if nd == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    return _roll(input, shifts, tuple(_wrap_dim(d, nd) for d in dims))


def _repeat_vjp(g, ans, x, reps):
    nb = _nb(g, ans)
    batch = tuple(g.shape[:nb])
    xs = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    split = batch + tuple(v for r, s in zip(reps, xs) for v in (r, s))
    summed = g.reshape(split).sum(tuple(nb + 2 * i for i in range(len(reps)))) if reps else g
    return summed.reshape(batch + tuple(x.shape))


def _repeat_jvp(t, ans, x, reps):
    nb = t.ndim - x.ndim
    batch = tuple(t.shape[:nb])
    lined = t.reshape(batch + (1,) * (len(reps) - x.ndim) + tuple(x.shape))  # batch dims stay in front
    return _repeat(lined, (1,) * nb + tuple(reps))


_repeat = defop("repeat", lambda x, reps: np.tile(x, reps), vjp=(_repeat_vjp,), jvp=(_repeat_jvp,),
                saves_inputs=False, sparsity=MOVE)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (``sizes`` may add leading dims).

    >>> import autojac
    >>> autojac.tensor([1., 2.]).repeat(2, 2)
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    reps = _shape_arg(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in reps):
        padded = (1,) * (len(reps) - input._data.ndim) + input._data.shape
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: "
                           f"{[r * s for r, s in zip(reps, padded)]}")
    return _repeat(input, reps)


def tile(input: Tensor, dims) -> Tensor:
    """Like ``repeat``, with ``dims`` padded with leading ones when shorter than the tensor's dims.

    >>> import autojac
    >>> autojac.tile(autojac.tensor([[1., 2.]]), (2,))
    tensor([[1., 2., 1., 2.]])
    """
    reps = _shape_arg((dims,) if isinstance(dims, int) else tuple(dims))
    reps = (1,) * (input._data.ndim - len(reps)) + reps
    return repeat(input, reps)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along ``dim``
    (over the flattened tensor when ``dim`` is None).

    >>> import autojac
    >>> autojac.tensor([1., 2.]).repeat_interleave(2)
    tensor([1., 1., 2., 2.])
    >>> autojac.repeat_interleave(autojac.tensor([[1., 2.], [3., 4.]]), autojac.tensor([1, 2]), dim=0)
    tensor([[1., 2.],
            [3., 4.],
            [3., 4.]])
    """
    if repeats is None:  # repeat_interleave(counts): the index of each repeated position
        counts = input._data
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return _wrap(np.repeat(np.arange(counts.shape[0] if counts.ndim else 1), counts.reshape(-1)))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _wrap_dim(dim, x._data.ndim)
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor) and (repeats._data.ndim > 0 and repeats._data.size != 1):
        counts = repeats._data
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if counts.shape[0] != n:
            raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{counts.shape[0]} and input.size({d}) = {n}")
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeats can not be negative")
        from .index import index_select

        return index_select(x, d, _wrap(np.repeat(np.arange(n), counts)))
    r = int(repeats.item() if isinstance(repeats, Tensor) else repeats)
    if r < 0:
        raise RuntimeError("repeats can not be negative")
    shp = x._data.shape
    wide = expand(unsqueeze(x, d + 1), shp[:d + 1] + (r,) + shp[d + 1:])
    return reshape(wide, shp[:d] + (n * r,) + shp[d + 1:])


def _rot90_forward(x, k, dims):
    return np.rot90(x, k, dims).copy()


_rot90 = defop(
    "rot90", _rot90_forward,
    vjp=(lambda g, ans, x, k, dims: _rot90(g, -k, _plus(dims, _nb(g, ans))),),
    jvp=(lambda t, ans, x, k, dims: _rot90(t, k, _plus(dims, t.ndim - x.ndim)),),
    saves_inputs=False, sparsity=MOVE,
)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second).

    >>> import autojac
    >>> autojac.rot90(autojac.tensor([[1., 2.], [3., 4.]]))
    tensor([[2., 4.],
            [1., 3.]])
    """
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    a, b = _wrap_dim(dims[0], nd), _wrap_dim(dims[1], nd)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    return _rot90(input, int(k) % 4, (a, b))


# --------------------------------------------------------------------------- pad (torch.nn.functional.pad)
def _cpad_forward(x, widths, value):
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(widths, x.shape))
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    return np.pad(x[crop], grow, constant_values=np.asarray(value).astype(x.dtype))


def _cpad_adjoint(g, widths: tuple, nb: int):
    """Negated widths: cropping what was padded, zero-filling what was cropped."""
    return _cpad(g, ((0, 0),) * nb + tuple((-lo, -hi) for lo, hi in widths), 0)


_cpad = defop(
    "constant_pad_nd", _cpad_forward,
    vjp=(lambda g, ans, x, widths, value: _cpad_adjoint(g, widths, _nb(g, ans)),),
    jvp=(lambda t, ans, x, widths, value: _cpad(t, ((0, 0),) * (t.ndim - x.ndim) + tuple(widths), 0),),
    saves_inputs=False, sparsity=MOVE,
)

_PAD_SUPPORT = "\n".join([
    "Supported combinations for non-constant padding:",
    "  - 2D or 3D input: padding size = 2 (pads last dimension)",
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)",
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)",
])


def _pad_source(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """For each position of a padded dim, the position of the input it copies."""
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    # circular: negative widths crop first; the wrap-around reads from what is left
    start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
    return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right)`` for the last dim, then the one before...

    Modes: ``"constant"`` (``value``, default 0; negative widths crop), ``"reflect"``, ``"replicate"``,
    ``"circular"``, as ``torch.nn.functional.pad``.

    >>> import autojac
    >>> from autojac.ops.shape import pad
    >>> pad(autojac.tensor([[1., 2., 3.]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pad = tuple(int(p) for p in pad)
    nd = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    pairs = [(0, 0)] * (nd - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]
    if mode == "constant":
        for (lo, hi), s in zip(pairs, input._data.shape):
            if s + lo + hi < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        return _cpad(input, tuple(pairs), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if (mode != "circular" and (nd, k) not in ((2, 1), (3, 1), (3, 2), (4, 2), (4, 3), (5, 3))) or \
            (mode == "circular" and not 0 < k < nd):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n{_PAD_SUPPORT}")
    shape = input._data.shape
    for d in range(nd - k, nd):
        lo, hi = pairs[d]
        if mode == "reflect" and (lo >= shape[d] or hi >= shape[d]):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(shape)}")
        if mode == "circular" and (lo > shape[d] or hi > shape[d]):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if shape[d] + lo + hi < 0:
            raise RuntimeError(f"input tensor is too small for padding {pad} at dimension {d}")
    from .index import take

    src = np.ix_(*[_pad_source(mode, shape[d], *pairs[d]) for d in range(nd - k, nd)])
    out = take(input, (slice(None),) * (nd - k) + tuple(src), False, 0)
    name = "CopySlices" if mode == "circular" else \
        f"{'ReflectionPad' if mode == 'reflect' else 'ReplicationPad'}{k}DBackward0"
    return named(out, name)


attach(flip=flip, fliplr=fliplr, flipud=flipud, roll=roll, repeat=repeat, tile=tile,
       repeat_interleave=repeat_interleave, rot90=rot90)
