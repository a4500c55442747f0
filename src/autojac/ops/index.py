"""Indexing: ``x[idx]`` (basic, advanced, boolean), ``x[idx] = v``, and their adjoints.

Indices are normalized once (no Ellipsis, masks turned into integer arrays), so they
address the leading dims of the unbatched tensor. Batched rules move the batch dims to
the back, where an index cannot reach them, and back again afterwards.
"""

from __future__ import annotations

import numpy as np

from .._core.batched import BATCHING, Batched
from .._core.batching import NB, n_batch
from .._core.forward import has_tangent
from .._core.grad_mode import STATE
from .._core.node import Saves
from .._core.patterns import MOVE, SCATTER
from .._tensor import Tensor, _wrap, _wrap_dim
from ._batched import INPLACE_ON_UNBATCHED, materialize, widths_batch
from ._declare import defop, inplace, linear, named, operand, renamed
from .elementwise import where
from .index_at import has_batched, put_indexed, scatter_indexed, take_indexed
from .index_at import scatter_forward as _scatter_forward
from .index_at import take_forward as _take_forward
from .index_at import to_back as _to_back
from .views import mark_view

__all__ = ["getitem", "index_put", "index_select", "nonzero", "masked_fill", "masked_select"]


# --------------------------------------------------------------------------- index normalization
def _convert(i):
    if isinstance(i, Tensor):
        a = i._data
    elif isinstance(i, (list, np.ndarray)) or (isinstance(i, tuple)):
        a = np.asarray(i._data if isinstance(i, Tensor) else i)
        if a.dtype == object:
            a = np.asarray([x.item() if isinstance(x, Tensor) else x for x in i])
    else:
        return i
    if a.dtype.kind not in "biu":
        if a.size == 0:
            return a.astype(np.int64)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.dtype.kind == "b":
        return a
    return a if a.ndim else int(a)


def normalize_index(idx, shape: tuple) -> tuple[tuple, bool]:
    """Return (index tuple with no Ellipsis and no masks, whether it is basic)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    items = [_convert(i) for i in idx]
    ndim = len(shape)
    used = 0
    for i in items:
        if i is None or i is Ellipsis:
            continue
        if isinstance(i, (bool, np.bool_)):
            continue  # x[True] adds a dim, it indexes none
        used += i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out: list = []
    basic = True
    seen_ellipsis = False
    dim = 0
    for i in items:
        if i is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            out.extend([slice(None)] * (ndim - used))
            dim += ndim - used
        elif i is None:
            out.append(None)
        elif isinstance(i, (bool, np.bool_)) or (isinstance(i, np.ndarray) and i.dtype == np.bool_ and not i.ndim):
            out.append(np.asarray(i))  # x[True] adds a dim; keep NumPy's meaning
            basic = False
        elif isinstance(i, (int, np.integer)):
            size = shape[dim]
            if not -size <= i < size:
                raise IndexError(f"index {int(i)} is out of bounds for dimension {dim} with size {size}")
            out.append(int(i))
            dim += 1
        elif isinstance(i, slice):
            if i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(i)
            dim += 1
        elif isinstance(i, np.ndarray):
            basic = False
            if i.dtype == np.bool_:
                if i.shape != shape[dim:dim + i.ndim]:
                    raise IndexError(
                        f"The shape of the mask {list(i.shape)} at index {dim} does not match the shape "
                        f"of the indexed tensor {list(shape[dim:dim + i.ndim])}"
                    )
                out.extend(i.nonzero())
                dim += i.ndim
            else:
                size = shape[dim]
                if type(i) is Batched:  # a batched index under vmap: its values are checked where they are read
                    out.append(i)
                    dim += 1
                    continue
                if i.size and (i.max() >= size or i.min() < -size):
                    bad = int(i.max() if i.max() >= size else i.min())
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
                out.append(i)
                dim += 1
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                f"valid indices (got {type(i).__name__})"
            )
    return tuple(out), basic


# --------------------------------------------------------------------------- batched helpers
def _fill_forward(g, idx, basic, nb):
    r = g.copy()
    _to_back(r, nb)[idx] = 0
    return r


def _put_forward(x, v, idx, basic):
    r = x.copy()
    r[idx] = v
    return r


def _put_batch(call, args, batched, params, size):
    """``vmap`` rule of ``x[idx] = v``: the batch dim goes last, where the index cannot reach it
    (``v`` broadcasts right-aligned into the region, so an unbatched ``v`` gets a size-1 dim there)."""
    x, v = args[0], args[1]
    x = (x if batched[0] else materialize(x, size)).movedim(0, -1)
    if batched[1]:
        v = v.movedim(0, -1)
    elif type(v) is Tensor:
        v = v.unsqueeze(-1)
    return call([x, v] + list(args[2:]), params).movedim(-1, 0)


take = linear(
    "index", _take_forward,
    vjp=(lambda g, ans, x, idx, basic, nb: scatter(g, tuple(x.shape[nb:]), idx, basic, nb + n_batch(g, ans)),),
    saves_inputs=Saves.NOTHING, sparsity=MOVE, batch=NB(3)
)
scatter = linear(
    "index_scatter", _scatter_forward,
    vjp=(lambda g, ans, x, shape, idx, basic, nb: take(g, idx, basic, nb + n_batch(g, ans)),),
    saves_inputs=Saves.NOTHING, grad_name="IndexBackwardBackward0", sparsity=SCATTER, batch=NB(4)
)
fill_zero = linear(
    "index_fill", _fill_forward,
    vjp=(lambda g, ans, x, idx, basic, nb: fill_zero(g, idx, basic, nb + n_batch(g, ans)),),
    saves_inputs=Saves.NOTHING, grad_name="IndexFillBackward0", sparsity=MOVE, batch=NB(3)
)


def _put_jvp_v(t, ans, x, v, idx, basic):
    nb = n_batch(t, v)
    region = np.zeros(tuple(x.shape), dtype=bool)[idx].shape
    pad = (1,) * (len(region) - v.ndim)  # v broadcasts right-aligned into the region, batch dims stay in front
    te = t.reshape(tuple(t.shape[:nb]) + pad + tuple(v.shape)).expand(tuple(t.shape[:nb]) + region)
    return scatter(te, tuple(x.shape), idx, basic, nb)


put = defop(
    "index_put", _put_forward,
    vjp=(lambda g, ans, x, v, idx, basic: fill_zero(g, idx, basic, n_batch(g, ans)),
         lambda g, ans, x, v, idx, basic: take(g, idx, basic, n_batch(g, ans))),
    jvp=(lambda t, ans, x, v, idx, basic: fill_zero(t, idx, basic, n_batch(t, x)), _put_jvp_v),
    saves_inputs=Saves.NOTHING, grad_name="CopySlices", sparsity=MOVE, batch=_put_batch
)

_index_put_op = renamed(put, "IndexPutBackward0")  # x[advanced] = v; a basic index gives CopySlices
_TAKE_NAMES = {}


def getitem_raw(x: Tensor, idx: tuple) -> Tensor:
    """Index with an already-normalized basic index (used by other rules)."""
    return take(x, idx, True, 0)


def getitem(x: Tensor, idx) -> Tensor:
    """``x[idx]``: basic indexing returns a view; advanced and mask indexing copy.

    >>> import autojac
    >>> x = autojac.arange(6.).reshape(2, 3)
    >>> x[1, ::2], x[x > 3]
    (tensor([3., 5.]), tensor([4., 5.]))
    """
    nidx, basic = normalize_index(idx, x._data.shape)
    if not basic and any(type(i) is int for i in nidx):
        x, nidx = _select_ints_first(x, nidx)
    if not basic and BATCHING and has_batched(nidx):  # an index computed per batch element under vmap
        return take_indexed(x, nidx)
    out = take(x, nidx, basic, 0)
    if out._grad_fn is not None:
        out._grad_fn.op = _named_take(idx, basic)
    if basic:
        mark_view(out, x, lambda b: take(b, nidx, True, 0), lambda b, new: put(b, new, nidx, True))
    return out


def _select_ints_first(x: Tensor, nidx: tuple) -> tuple[Tensor, tuple]:
    """PyTorch applies an advanced index's integers first, as selects, and the arrays to what is left: so
    ``x[0, :, i]`` keeps the slice's dim in front (NumPy, which counts the 0 as an array, puts ``i``'s dims first).
    ``x`` selected at the integers, and the rest of the index."""
    first = tuple(i if type(i) is int else slice(None) for i in nidx
                  if i is not None and not (isinstance(i, np.ndarray) and i.dtype == np.bool_ and not i.ndim))
    return take(x, first, True, 0), tuple(i for i in nidx if type(i) is not int)


def _block_start(items: list, advanced) -> int | None:
    """Where NumPy puts the dims of the advanced items (``advanced(item)``) in ``x[items]``'s result: after the
    slice/None dims before them when they are adjacent, else first; ``None`` when there are none."""
    where = [k for k, i in enumerate(items) if advanced(i)]
    if not where:
        return None
    return where[0] if where[-1] - where[0] + 1 == len(where) else 0


def _torch_layout(value, shape: tuple, nidx: tuple):
    """``value`` laid out for NumPy's ``x[nidx] = value`` when PyTorch's region orders its dims differently.

    PyTorch selects at an index's integers first (see ``_select_ints_first``), so its region may keep slice dims
    in front of the arrays' dims where NumPy, counting integers as arrays, puts the arrays' dims first.
    """
    if not any(type(i) is int for i in nidx) or type(value) is not Tensor or not value._data.ndim or any(
            isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in nidx):
        return value  # (integers are what make the layouts differ)
    def is_array(i):
        return isinstance(i, np.ndarray)
    ours = _block_start(list(nidx), lambda i: is_array(i) or type(i) is int)
    theirs = _block_start([i for i in nidx if type(i) is not int], is_array)
    if ours == theirs:
        return value
    region = np.broadcast_to(np.zeros((), bool), shape)[tuple(
        np.zeros(i.shape, np.int64) if type(i) is Batched else i for i in nidx)].shape
    r = len(np.broadcast_shapes(*(i.shape for i in nidx if is_array(i))))
    rest = [d for d in range(len(region)) if not ours <= d < ours + r]
    torch_order = rest[:theirs] + list(range(ours, ours + r)) + rest[theirs:]  # NumPy's dims, in PyTorch's order
    torch_region = tuple(region[d] for d in torch_order)
    full = value.expand(torch_region) if tuple(value._data.shape) != torch_region else value
    return full.permute(tuple(torch_order.index(d) for d in range(len(region))))


def _named_take(idx, basic: bool):
    """PyTorch's name: it applies a basic index item by item, so the last select/slice/unsqueeze names it."""
    items = [i for i in (idx if isinstance(idx, tuple) else (idx,)) if i is not Ellipsis]
    if not basic:
        name = "IndexBackward0"
    elif not items:
        name = "AliasBackward0"
    elif items[-1] is None:
        name = "UnsqueezeBackward0"
    elif isinstance(items[-1], slice):
        name = "SliceBackward0"
    else:
        name = "SelectBackward0"
    op = _TAKE_NAMES.get(name)
    if op is None:
        op = _TAKE_NAMES[name] = renamed(take, name)
    return op


def index_put(x: Tensor, value, idx, accumulate: bool = False) -> Tensor:
    """Out-of-place ``x[idx] = value`` (differentiable in both ``x`` and ``value``); with ``accumulate``,
    ``x[idx] += value`` where repeated indices add up.

    >>> import autojac
    >>> autojac.zeros(3).index_put((autojac.tensor([0, 0, 2]),), autojac.tensor([1., 2., 3.]), accumulate=True)
    tensor([3., 0., 3.])
    """
    nidx, basic = normalize_index(idx, x._data.shape)
    if not basic:
        value = _torch_layout(value, tuple(x._data.shape), nidx)
    if accumulate:
        return named(x + _added_at(x, value, nidx, basic), "IndexPutBackward0")
    if not basic and BATCHING and has_batched(nidx):
        return put_indexed(x, value, nidx)
    return _index_put_op(x, value, nidx, basic)


def index_put_(self: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """In-place ``index_put``."""
    if BATCHING:
        nidx, basic = normalize_index(tuple(indices), self._data.shape)
        _refuse_unbatched_write(self, nidx, basic, values)
    return inplace(self, lambda s: index_put(s, values, tuple(indices), accumulate), saves_self=False)


def _refuse_unbatched_write(self: Tensor, nidx: tuple, basic: bool, value) -> None:
    """Under vmap, torch's refusal of an advanced-index write of per-example values, or at per-example places,
    into a tensor that is not batched."""
    if not basic and type(self._data) is not Batched and (
            has_batched(nidx) or type(value) is Tensor and type(value._data) is Batched):
        err = RuntimeError(INPLACE_ON_UNBATCHED.replace("inplace arithmetic", "index_put_"))  # torch's words
        err.vmap_refusal = True  # vmap raises it as is (the loop over the batch would write first)
        raise err


def _added_at(x: Tensor, value, nidx: tuple, basic: bool) -> Tensor:
    """Zeros of ``x``'s shape with ``value`` (broadcast to the region of ``nidx``) added in, repeats adding up."""
    shape = tuple(x._data.shape)
    region = np.broadcast_to(np.zeros((), bool), shape)[tuple(
        np.zeros(i.shape, np.int64) if type(i) is Batched else i for i in nidx)].shape
    if type(value) is not Tensor:
        value = _wrap(np.asarray(value, dtype=x._data.dtype))
    elif value._data.dtype != x._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {x.dtype} for the "
                           f"destination and {value.dtype} for the source.")
    full = value if tuple(value._data.shape) == region else value.expand(region)
    if not basic and BATCHING and has_batched(nidx):
        return scatter_indexed(full, shape, nidx)
    return scatter(full, shape, nidx, basic, 0)


def _integer_indexed(idx) -> bool:
    """Whether ``x[idx] = v`` is PyTorch's index_put, which requires ``v``'s dtype, even for a one-element
    ``v``: an integer index array (or a 0-d bool tensor) is in ``idx``. With only masks, ints and slices,
    a one-element ``v`` is cast (a masked fill); a larger one must match too."""
    for i in idx if isinstance(idx, tuple) else (idx,):
        if isinstance(i, (Tensor, np.ndarray, list)):
            a = i._data if isinstance(i, Tensor) else np.asarray(i)
            if a.dtype != np.bool_ or a.ndim == 0:
                return True
    return False


def _setitem(self: Tensor, idx, value) -> None:
    value = operand(value)
    if value is NotImplemented:
        raise TypeError(f"can't assign a {type(value).__name__} to a Tensor")
    nidx, basic = normalize_index(idx, self._data.shape)
    vt = type(value) is Tensor
    if vt and value._data.ndim and value._data.shape[0] == 1:  # PyTorch drops a value's leading 1-dims
        shape = value._data.shape
        k = next((i for i, n in enumerate(shape) if n != 1), len(shape))
        value = value.reshape(shape[k:])
    if vt and not basic:
        value = _torch_layout(value, tuple(self._data.shape), nidx)
    if vt and not basic and value._data.dtype != self._data.dtype and (
            value._data.ndim or _integer_indexed(idx)):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {self.dtype} for "
                           f"the destination and {value.dtype} for the source.")
    if BATCHING:
        _refuse_unbatched_write(self, nidx, basic, value)
    if (not STATE.enabled or not (self._requires_grad or (vt and value._requires_grad))) and \
            not has_tangent(self, value) and not (self._base is not None and has_tangent(self._base[0])) and \
            not (BATCHING and (type(self._data) is Batched or vt and type(value._data) is Batched)):
        if self._requires_grad and self._grad_fn is None and STATE.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if not self._data.flags.writeable and self._data.size:
            raise RuntimeError("unsupported operation: the tensor is a read-only view; clone() it first")
        data = self._data if self._data.size else self._data.copy()  # an empty expanded view is writable too
        try:
            data[nidx] = value._data if vt else value
        except ValueError as e:
            region = np.zeros(self._data.shape, dtype=bool)[nidx].shape
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(value._data.shape) if vt else []} cannot be "
                f"broadcast to indexing result of shape {list(region)}"
            ) from e
        self._vc[0] += 1
        return
    if not basic and BATCHING and has_batched(nidx):  # an index computed per batch element under vmap
        op = lambda s, v, nidx, basic: put_indexed(s, v, nidx)  # noqa: E731
    else:
        op = put if basic else _index_put_op
    if vt:
        inplace(self, lambda s, v: op(s, v, nidx, basic), value, saves_self=False)
    else:
        inplace(self, lambda s: op(s, value, nidx, basic), saves_self=False)


# --------------------------------------------------------------------------- padding (cat's JVP)
def _pad_forward(x, widths):
    return np.pad(x, widths)


pad_zeros = linear(
    "constant_pad_nd", _pad_forward,
    vjp=(lambda g, ans, x, widths: take(
        g, tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape)), True, n_batch(g, ans)),),
    saves_inputs=Saves.NOTHING, sparsity=MOVE, batch=widths_batch
)


# --------------------------------------------------------------------------- selection helpers
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Pick entries ``index`` along ``dim``."""
    d = _wrap_dim(dim, input._data.ndim)
    ia = index._data if isinstance(index, Tensor) else np.asarray(index)
    if ia.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if ia.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    if type(ia) is Batched:  # an index computed per batch element under vmap: checked where it is read
        return named(_select_batched(input, d, index), "IndexSelectBackward0")
    n = input._data.shape[d] if input._data.ndim else 1
    bad = ia[(ia < 0) | (ia >= n)]  # no Python-style negative indices, as in PyTorch
    if bad.size:
        if d == 0:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad.flat[0]} axis_dim={n}")
    if input._data.ndim == 0:  # a 0-dim tensor is a one-entry vector here, and stays 0-dim
        picked = getitem(input.reshape(1), (ia.reshape(-1),))
        return named(picked.reshape(() if ia.size == 1 else -1), "IndexSelectBackward0")
    return named(getitem(input, (slice(None),) * d + (ia.reshape(-1),)), "IndexSelectBackward0")


def _select_batched(input: Tensor, d: int, index: Tensor) -> Tensor:
    """``index_select`` with a batched ``index`` (a vmap placeholder): one ``take_at``."""
    flat = index.reshape(-1)._data
    if input._data.ndim:
        return take_indexed(input, (slice(None),) * d + (flat,), "index_select")
    picked = take_indexed(input.reshape(1), (flat,), "index_select")  # a 0-dim input stays 0-dim for one index
    return picked.reshape(() if index._data.size == 1 else (-1,))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    nz = np.nonzero(input._data)
    if as_tuple:
        return tuple(_wrap(a.astype(np.int64)) for a in nz)
    return _wrap(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """Replace entries where ``mask`` is True by ``value``."""
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        value = value.to(input.dtype) if value._data.ndim == 0 else value
    if isinstance(value, Tensor):
        return named(where(mask, value, input), "MaskedFillBackward1")
    return named(where(mask, _wrap(np.asarray(value, dtype=input._data.dtype)), input), "MaskedFillBackward0")


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    x = input.expand(shape) if input._data.shape != shape else input
    m = np.broadcast_to(mask._data, shape)
    return named(getitem(x, _wrap(np.ascontiguousarray(m))), "MaskedSelectBackward0")


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (a view, one dimension fewer).

    >>> import autojac
    >>> autojac.arange(6.).reshape(2, 3).select(1, 2)
    tensor([2., 5.])
    """
    d = _wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} "
                         f"at dimension {dim}")
    return getitem(input, (slice(None),) * d + (index,))


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Write ``src`` (broadcast, cast to ``self``'s dtype) into ``self``; differentiable in ``src``."""
    shape = np.shape(src._data if isinstance(src, Tensor) else src)
    try:
        full = np.broadcast_shapes(shape, self._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self._data.shape}) must match the size of tensor b "
                           f"({shape})") from None
    if full != self._data.shape:  # no leading 1-dims dropped here (setitem drops them)
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(full)}")
    _setitem(self, Ellipsis, src)
    return named(self, "CopyBackwards") if self._base is None else self


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal in place (all dims equal, or a matrix); with ``wrap``, a
    tall matrix's diagonal restarts every ``cols + 1`` rows, as PyTorch's.

    >>> import autojac
    >>> autojac.zeros(2, 3).fill_diagonal_(7.)
    tensor([[7., 0., 0.],
            [0., 7., 0.]])
    """
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(shape, dtype=bool)
    if len(shape) == 2:
        rows, cols = shape
        step = cols + 1
        n = -(-rows * cols // step) if wrap and rows > cols + 1 else min(rows, cols)
        mask.reshape(-1)[np.arange(n) * step] = True
    else:
        mask[(np.arange(shape[0]),) * len(shape)] = True
    return inplace(self, lambda s: masked_fill(s, _wrap(mask), fill_value), saves_self=False)
