"""Indexing with index *tensors* as operands: the primitives behind ``x[i]``, ``gather``, ``scatter_add``...
when an index is batched under ``vmap``.

``ops/index.py``'s ``take``/``scatter`` carry their index arrays inside a parameter, which suits
constant indices. An index computed per batch element (``vmap(lambda x, i: x[i])``, ``argsort``
inside ``vmap``) is a batched tensor instead: ``take_at``/``scatter_at``/``put_at`` take such indices
as tensor arguments, so the vmap interpreter sees them, and their batching rule adds an
``arange`` over the batch as the leading index (JAX's and functorch's rule for gather). The
index is a *template*: the normalized index tuple (ints, slices, ``None``, constant arrays) with a
``Slot`` where each tensor argument goes; a slot also says how its values are checked, in the
words of the op that made it (the check runs in the forward, which sees the physical values).

The wrappers (``getitem``, ``gather``, ...) take this path only when an index is batched, so
ordinary indexing keeps its constant-index primitives and their speed.

>>> import autojac
>>> rows = autojac.tensor([[3., 1., 2.], [0., 5., 4.]])
>>> autojac.func.vmap(lambda r: r.gather(0, r.argsort()))(rows)  # one gather for the batch, no loop
tensor([[1., 2., 3.],
        [0., 4., 5.]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.batched import Batched, read_batched
from .._core.batching import keep_batch, n_batch
from .._core.node import Saves, nondiff
from .._core.patterns import MOVE, Sparsity
from .._tensor import Tensor, _wrap
from ._batched import materialize, pad_to
from ._declare import defop, linear

__all__ = ["Slot", "take_at", "scatter_at", "put_at", "scatter_extreme", "take_forward", "scatter_forward",
           "has_batched", "take_indexed", "scatter_indexed", "put_indexed", "scatter_extreme_indexed"]


# --------------------------------------------------------------------------- the NumPy forwards
def to_back(a: np.ndarray, nb: int) -> np.ndarray:
    """``a`` with its ``nb`` leading (batch) dims moved last, where an index cannot reach them."""
    # a transpose, not np.moveaxis: this runs on every batched index rule, and moveaxis costs ~10 us
    return a.transpose(tuple(range(nb, a.ndim)) + tuple(range(nb))) if nb else a


def to_front(a: np.ndarray, nb: int) -> np.ndarray:
    """Undo ``to_back``: the last ``nb`` dims of ``a`` go first."""
    return a.transpose(tuple(range(a.ndim - nb, a.ndim)) + tuple(range(a.ndim - nb))) if nb else a


def take_forward(x: np.ndarray, idx: tuple, basic: bool, nb: int) -> np.ndarray:
    """``x[idx]`` past ``nb`` leading batch dims."""
    if basic:  # a trailing Ellipsis makes NumPy return a view even when every dim is indexed
        idx = idx + (Ellipsis,)
    return to_front(to_back(x, nb)[idx], nb)


def scatter_forward(g: np.ndarray, shape: tuple, idx: tuple, basic: bool, nb: int) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added in at ``idx`` (past ``nb`` leading batch dims): the adjoint of ``take``."""
    if not basic and g.size >= _BINCOUNT_FROM and g.dtype.kind == "f" and all(
            type(i) is int or (isinstance(i, np.ndarray) and i.dtype != np.bool_) for i in idx):
        return _scatter_by_bincount(g, tuple(shape), idx, nb)
    batch = g.shape[:nb]
    z = np.zeros(tuple(shape) + batch, dtype=g.dtype)
    gm = to_back(g, nb)
    if basic:
        z[idx] = gm
    else:
        np.add.at(z, idx, gm)
    return to_front(z, nb)


_BINCOUNT_FROM = 512  # elements: below, np.add.at's lower setup cost wins (measured on NumPy 2.4)


def _scatter_by_bincount(g: np.ndarray, shape: tuple, idx: tuple, nb: int) -> np.ndarray:
    """``scatter_forward`` for an index of arrays and integers only (the leading ``len(idx)`` dims), as one
    ``bincount`` over flat positions: 2-3x faster than ``np.add.at`` on large cotangents. The indices were
    checked where they came in, so ``wrap`` only turns negative ones into positions from the end."""
    k = len(idx)
    batch = g.shape[:nb]
    lead, tail = shape[:k], shape[k:] + batch
    rest = math.prod(tail)
    pos = np.ravel_multi_index(np.broadcast_arrays(*(np.asarray(i) for i in idx)), lead, mode="wrap")
    flat = (pos.reshape(pos.shape + (1,)) * rest + np.arange(rest)).ravel()
    weights = np.broadcast_to(to_back(g, nb), pos.shape + tail).reshape(-1)
    out = np.bincount(flat, weights=weights, minlength=math.prod(lead) * rest)
    return to_front(out.astype(g.dtype, copy=False).reshape(lead + tail), nb)


# --------------------------------------------------------------------------- slots and their checks
@dataclass(frozen=True)
class Slot:
    """Where an index tensor goes in a template, and PyTorch's check of its values for the op that made it.

    ``check``: ``"index"`` (``x[i]``: ``-size <= i < size``, IndexError), ``"gather"`` (gather, scatter,
    index_add: ``0 <= i < size``, RuntimeError), ``"index_select"``, ``"index_copy"`` or ``"take"`` (their own
    words).
    ``dim`` and ``size`` are those of the per-example tensor, as the message names them.
    """

    dim: int
    size: int
    check: str = "index"


def _check(a: np.ndarray, slot: Slot) -> None:
    size, kind = slot.size, slot.check
    if not a.size:
        return
    low = -size if kind in ("index", "take") else 0
    lo, hi = a.min(), a.max()
    if lo >= low and hi < size:
        return
    flat = a.reshape(-1)
    bad = int(flat[np.argmax((flat < low) | (flat >= size))])
    if kind == "index":
        raise IndexError(f"index {bad} is out of bounds for dimension {slot.dim} with size {size}")
    if kind == "take":
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} elements.")
    if kind == "index_copy":
        raise IndexError(f"index_copy_(): index {bad} is out of bounds for dimension {slot.dim} with size {size}")
    if kind == "index_select":
        if slot.dim == 0:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
    raise RuntimeError(f"index {bad} is out of bounds for dimension {slot.dim} with size {size}")


def _fill(template: tuple, arrays: tuple) -> tuple:
    """The NumPy index: ``template`` with each slot replaced by the next of ``arrays`` (checked)."""
    it = iter(arrays)
    out = []
    for item in template:
        if type(item) is Slot:
            a = next(it)
            _check(a, item)
            out.append(a)
        else:
            out.append(item)
    return tuple(out)


# --------------------------------------------------------------------------- the batching rules
def _is_advanced(item) -> bool:
    return type(item) is Slot or isinstance(item, (int, np.integer, np.ndarray))


def _batched_template(template: tuple, arrays: list, batched: list, size: int) -> tuple[tuple, list, tuple | None]:
    """The template of the batched call (an ``arange`` over the batch as the leading index), its index tensors
    (batched ones padded to the rank of the index block) and the permutation that puts the index block of the
    result back where the per-example result has it (``None``: already there).

    NumPy puts the dims of an index block in place when its advanced indices are adjacent, else first: with the
    ``arange`` in front they come first, right after the batch dim, so a per-example block that stood after
    ``k`` slice/None dims is moved back behind them.
    """
    if any(isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in template):
        read_batched("a boolean scalar index beside a batched index")
    shapes = []
    it = iter(zip(arrays, batched))
    for item in template:
        if type(item) is Slot:
            a, b = next(it)
            shapes.append(tuple(a.shape)[1:] if b else tuple(a.shape))
        elif isinstance(item, np.ndarray):
            shapes.append(item.shape)
    rank = len(np.broadcast_shapes(*shapes))
    arange = np.arange(size).reshape((size,) + (1,) * rank)
    padded = [pad_to(a, rank) if b else a for a, b in zip(arrays, batched)]
    where = [k for k, item in enumerate(template) if _is_advanced(item)]
    first = where[0]
    perm = None
    if first and where[-1] - first + 1 == len(where):  # adjacent, after `first` slice/None dims: move it back
        n = 1 + rank + sum(1 for item in template if not _is_advanced(item))
        perm = (0,) + tuple(range(1 + rank, 1 + rank + first)) + tuple(range(1, 1 + rank)) + \
            tuple(range(1 + rank + first, n))
    return (arange,) + tuple(template), padded, perm


def _inverse(perm: tuple) -> tuple:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def _take_at_batch(call, args, batched, params, size):
    """``vmap`` rule of ``take_at``: shared indices leave the batch dim to ``nb``; batched ones get an ``arange``."""
    nb = params["nb"]
    if not any(batched[1:]):
        return call(args, {**params, "nb": nb + 1})
    x = args[0] if batched[0] else materialize(args[0], size)
    if nb:  # the vmap dim goes behind the op's own batch dims, to be indexed by the arange
        x = x.movedim(0, nb)
    template, arrays, perm = _batched_template(params["template"], list(args[1:]), list(batched[1:]), size)
    out = call([x, *arrays], {"template": template, "nb": nb})
    if perm is not None:
        out = out.permute(keep_batch(perm, nb))
    return out.movedim(nb, 0) if nb else out


def _scatter_at_batch(call, args, batched, params, size):
    """``vmap`` rule of ``scatter_at`` (``take_at``'s, run backwards)."""
    nb = params["nb"]
    if not any(batched[1:]):
        return call(args, {**params, "nb": nb + 1})
    g = args[0] if batched[0] else materialize(args[0], size)
    if nb:
        g = g.movedim(0, nb)
    template, arrays, perm = _batched_template(params["template"], list(args[1:]), list(batched[1:]), size)
    if perm is not None:
        g = g.permute(keep_batch(_inverse(perm), nb))
    out = call([g, *arrays], {"shape": (size,) + tuple(params["shape"]), "template": template, "nb": nb})
    return out.movedim(nb, 0) if nb else out


def _put_at_batch(call, args, batched, params, size):
    """``vmap`` rule of ``put_at``: like ``take_at``'s, with the value lined up with the indexed region."""
    x = args[0] if batched[0] else materialize(args[0], size)
    v = args[1]
    if not any(batched[2:]):  # shared indices: the batch dim goes last, where they cannot reach it
        if batched[1]:
            v = v.movedim(0, -1)
        elif type(v) is Tensor:
            v = v.unsqueeze(-1)
        return call([x.movedim(0, -1), v, *args[2:]], params).movedim(-1, 0)
    template, arrays, perm = _batched_template(params["template"], list(args[2:]), list(batched[2:]), size)
    if type(v) is Tensor:
        region = _region(x.shape[1:], params["template"], [a.shape[1:] if b else a.shape
                                                         for a, b in zip(args[2:], batched[2:])])
        if batched[1]:  # right-aligned into the per-example region, batch dim in front
            v = pad_to(v, len(region)).expand((size,) + region)
        else:
            v = v.expand(region).unsqueeze(0).expand((size,) + region)
        if perm is not None:
            v = v.permute(_inverse(perm))
    return call([x, v, *arrays], {"template": template})


def _region(shape: tuple, template: tuple, slot_shapes: list) -> tuple:
    """The shape of ``x[template]`` for ``x`` of ``shape``, each slot an index of the given shape."""
    it = iter(slot_shapes)
    idx = tuple(np.zeros(next(it), np.int64) if type(i) is Slot else i for i in template)
    return np.broadcast_to(np.zeros((), bool), tuple(shape))[idx].shape


# --------------------------------------------------------------------------- the primitives
def _take_at_forward(x, *arrays, template, nb):
    return take_forward(x, _fill(template, arrays), False, nb)


def _scatter_at_forward(g, *arrays, shape, template, nb):
    return scatter_forward(g, shape, _fill(template, arrays), False, nb)


def _put_at_forward(x, v, *arrays, template):
    r = x.copy()
    r[_fill(template, arrays)] = v
    return r


def _scatter_at_local(op, out_shape, args, params, active):
    """The pattern of ``scatter_at``: each element of ``g`` lands on the output position its index names."""
    if not active[0]:
        return (None,) * len(args)
    import scipy.sparse as sp  # noqa: PLC0415  (sparsity patterns only)

    g, shape = args[0], params["shape"]
    m = math.prod(shape)
    target = np.arange(m).reshape(shape)[_fill(params["template"], args[1:])]
    target = np.broadcast_to(target, np.shape(g)).ravel()
    M = sp.csr_array((np.ones(target.size, dtype=bool), (target, np.arange(target.size))), shape=(m, target.size))
    return (M,) + (None,) * (len(args) - 1)


take_at = linear(
    "index_at", _take_at_forward,
    vjp=(lambda g, ans, x, *arrays, template, nb: scatter_at(
        g, *arrays, shape=tuple(x.shape[nb:]), template=template, nb=nb + n_batch(g, ans)),),
    saves_inputs=Saves.NOTHING, grad_name="IndexBackward0", sparsity=MOVE, batch=_take_at_batch
)
scatter_at = linear(
    "index_at_scatter", _scatter_at_forward,
    vjp=(lambda g, ans, x, *arrays, shape, template, nb: take_at(
        g, *arrays, template=template, nb=nb + n_batch(g, ans)),),
    saves_inputs=Saves.NOTHING, grad_name="IndexBackwardBackward0", sparsity=Sparsity(_scatter_at_local),
    batch=_scatter_at_batch
)


def _put_jvp_v(t, ans, x, v, *arrays, template):
    nb = n_batch(t, v)
    region = _region(tuple(x.shape), template, [a.shape for a in arrays])
    pad = (1,) * (len(region) - v.ndim)  # v broadcasts right-aligned into the region, batch dims stay in front
    te = t.reshape(tuple(t.shape[:nb]) + pad + tuple(v.shape)).expand(tuple(t.shape[:nb]) + region)
    return scatter_at(te, *arrays, shape=tuple(x.shape), template=template, nb=nb)


def _kept(x, arrays, template) -> Tensor:
    """True where ``put_at`` leaves ``x`` as it was (the write's positions False), as a mask of ``x``'s shape."""
    ones = _wrap(np.ones(tuple(x.shape), dtype=bool))
    return put_at(ones, _wrap(np.zeros((), bool)), *arrays, template=template)


put_at = defop(
    "index_put_at", _put_at_forward,
    vjp=(lambda g, ans, x, v, *arrays, template: g * _kept(x, arrays, template),
         lambda g, ans, x, v, *arrays, template: take_at(g, *arrays, template=template, nb=n_batch(g, ans))),
    jvp=(lambda t, ans, x, v, *arrays, template: t * _kept(x, arrays, template), _put_jvp_v),
    saves_inputs=Saves.NOTHING, grad_name="IndexPutBackward0", sparsity=MOVE, batch=_put_at_batch
)


def _scatter_extreme_forward(x, src, *arrays, template, largest):
    r = x.copy()
    (np.maximum if largest else np.minimum).at(r, _fill(template, arrays), src)
    return r


def _scatter_extreme_batch(call, args, batched, params, size):
    """``vmap`` rule of ``scatter_extreme``: every operand given the batch dim, an ``arange`` in front of the index
    (its template is a gather's, every item an array: the region's dims lead, right after the batch dim)."""
    x = args[0] if batched[0] else materialize(args[0], size)
    src = args[1] if batched[1] else materialize(args[1], size)
    template, arrays, perm = _batched_template(params["template"], list(args[2:]), list(batched[2:]), size)
    if perm is not None:
        read_batched("scatter_reduce with a split index")
    return call([x, src, *arrays], {**params, "template": template})


# ``x`` with the largest (smallest) of it and the ``src`` values landing on each position: scatter_reduce's value
scatter_extreme = nondiff("scatter_extreme", _scatter_extreme_forward, batch=_scatter_extreme_batch)


# --------------------------------------------------------------------------- entry points for the wrappers
def has_batched(items) -> bool:
    """Whether a normalized index holds a batched array (a vmap placeholder), so the wrappers take this path."""
    return any(type(i) is Batched for i in items)


def _split(items: tuple, shape: tuple, check: str) -> tuple[tuple, list]:
    """The template and the index tensors of a normalized index into a tensor of ``shape``: each batched array
    becomes a slot (checked as ``check`` says) and a tensor argument; everything else stays in the template."""
    template, tensors = [], []
    dim = 0
    for item in items:
        if type(item) is Batched:
            template.append(Slot(dim, shape[dim], check))
            tensors.append(_wrap(item))
        else:
            template.append(item)
        if item is not None and not (isinstance(item, np.ndarray) and item.dtype == np.bool_):
            dim += 1
    return tuple(template), tensors


def take_indexed(x: Tensor, items: tuple, check: str = "index") -> Tensor:
    """``x[items]`` for a normalized index holding batched arrays, their values checked as ``check`` says."""
    template, tensors = _split(items, tuple(x.shape), check)
    return take_at(x, *tensors, template=template, nb=0)


def scatter_indexed(g: Tensor, shape: tuple, items: tuple, check: str = "index") -> Tensor:
    """Zeros of ``shape`` with ``g`` added in at ``items`` (a normalized index holding batched arrays)."""
    template, tensors = _split(items, tuple(shape), check)
    return scatter_at(g, *tensors, shape=tuple(shape), template=template, nb=0)


def scatter_extreme_indexed(x: Tensor, src: Tensor, items: tuple, largest: bool) -> Tensor:
    """``x`` with the extreme of it and the ``src`` values at ``items`` (a gather's index, checked as gather's)."""
    template, tensors = _split(items, tuple(x.shape), "gather")
    return scatter_extreme(x, src, *tensors, template=template, largest=largest)


def put_indexed(x: Tensor, v, items: tuple, check: str = "index") -> Tensor:
    """Out-of-place ``x[items] = v`` (a normalized index holding batched arrays)."""
    template, tensors = _split(items, tuple(x.shape), check)
    return put_at(x, v, *tensors, template=template)
