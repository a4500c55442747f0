"""Sparsity pattern rules: the ``sparsity=`` slot of a primitive (used by ``autojac.sparse``).

A rule says, for each tensor input of a primitive, which input elements each output element
depends on structurally: a boolean matrix ``M_i`` of shape ``(out.numel, input_i.numel)``, the
local Jacobian's pattern. ``autojac.sparse`` propagates the patterns of whole tensors through
the recorded graph as ``P_out = sum_i M_i @ P_i`` (SciPy sparse algebra per node, not per
element). A rule must hold at every point (never read the values of differentiable inputs).
Matrix products and convolutions read a constant operand's zeros (exact for a fixed matrix or
kernel); pointwise ops do not (``x * (x > 0)`` or ``where(x > 0, a, b)``: such masks are
comparisons of ``x``, constants only at the traced point), so they take the union of both sides.

``nonlinear`` lists the pairs of inputs ``(i, j)`` whose mixed second derivative may be
nonzero: Hessian sparsity adds ``R_i^T R_j`` for them, where ``R_i = M_i @ P_i``.

SciPy is imported inside the rules only: declaring ops stays cheap.

>>> import numpy as np
>>> from autojac._core.patterns import SAME, ELEMENTWISE
>>> ELEMENTWISE.local(None, (3,), (np.zeros(3),), {}, (True,))[0] is SAME
True
>>> ELEMENTWISE.local(None, (2, 3), (np.zeros(3),), {}, (True,))[0].toarray().astype(int)
array([[1, 0, 0],
       [0, 1, 0],
       [0, 0, 1],
       [1, 0, 0],
       [0, 1, 0],
       [0, 0, 1]])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

SAME = "same"  # the local pattern is the identity (an elementwise op, input shaped like the output)
ALL = "all"  # every pair of inputs may interact at second order


class Sparsity:
    """A primitive's pattern rule.

    ``local(op, out_shape, args, params, active)`` returns one entry per positional argument:
    ``SAME``, a SciPy sparse matrix ``(out.numel, arg.numel)`` or ``None`` (no dependence);
    ``active[i]`` tells whether argument ``i`` depends on the traced input (constants may be read).
    """

    __slots__ = ("local", "nonlinear")

    def __init__(self, local: Callable, nonlinear: Sequence | str = ()) -> None:
        self.local = local
        self.nonlinear = nonlinear

    def __repr__(self) -> str:
        return f"Sparsity({getattr(self.local, '__name__', self.local)}, nonlinear={self.nonlinear!r})"


# --------------------------------------------------------------------------- building blocks
def _size(a) -> int:
    return int(np.size(a))


def selection(rows: np.ndarray, n_in: int):
    """The pattern picking input element ``rows[o]`` for output ``o`` (``-1``: none)."""
    import scipy.sparse as sp

    rows = np.asarray(rows, dtype=np.int64).ravel()
    keep = rows >= 0
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(keep, out=indptr[1:])
    return sp.csr_array((np.ones(int(indptr[-1]), dtype=bool), rows[keep], indptr), shape=(rows.size, n_in))


def groups(table: np.ndarray, n_in: int):
    """The pattern where output ``o`` depends on the input elements ``table[o, :]`` (``-1`` ignored)."""
    import scipy.sparse as sp

    table = np.asarray(table, dtype=np.int64)
    m = table.shape[0]
    table = table.reshape(m, -1)
    keep = table >= 0
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    return sp.csr_array((np.ones(int(indptr[-1]), dtype=bool), table[keep], indptr), shape=(m, n_in))


def broadcast_local(shape: tuple, out_shape: tuple):
    """``SAME`` or the selection that broadcasts an input of ``shape`` to ``out_shape``."""
    if tuple(shape) == tuple(out_shape):
        return SAME
    n = math.prod(shape)
    ids = np.broadcast_to(np.arange(n).reshape(shape), out_shape)
    return selection(ids, n)


def elementwise_local(op, out_shape, args, params, active):
    """Pointwise ops (any arity, with broadcasting): each output reads its broadcast partners."""
    return tuple(broadcast_local(np.shape(a), out_shape) if act else None for a, act in zip(args, active))


def _first_same_local(op, out_shape, args, params, active):
    return (SAME if active[0] else None,) + (None,) * (len(args) - 1)


def _zero_local(op, out_shape, args, params, active):
    return (None,) * len(args)


def _move_local(op, out_shape, args, params, active):
    """Pure data movement (reshape, permute, index, cat, pad, ...): run the op's own forward on the
    element numbers of the inputs. Exact for any op that only copies elements around.

    Two encodings (+id, -id) tell a moved element from a constant written by the op (padding).
    """
    offsets, enc_pos, enc_neg = [], list(args), list(args)
    start = 1
    for i, (a, act) in enumerate(zip(args, active)):
        if isinstance(a, np.ndarray) and a.dtype.kind in "fcb" and not (a.dtype.kind == "b" and not act):
            n = a.size
            if act:
                ids = np.arange(start, start + n, dtype=np.float64).reshape(a.shape)
                offsets.append((i, start, n))
                start += n
            else:
                ids = np.zeros(a.shape)
            enc_pos[i], enc_neg[i] = ids, -ids
    r1 = np.asarray(op.forward(*enc_pos, **params), dtype=np.float64).ravel()
    r2 = np.asarray(op.forward(*enc_neg, **params), dtype=np.float64).ravel()
    moved = (r1 == -r2) & (r1 > 0)
    code = np.where(moved, r1, 0).astype(np.int64)
    out: list = [None] * len(args)
    for i, s, n in offsets:
        rows = np.where((code >= s) & (code < s + n), code - s, -1)
        out[i] = selection(rows, n)
    return tuple(out)


def _scatter_local(op, out_shape, args, params, active):
    """``index_scatter(g, shape, idx, basic, nb)``: zeros of ``shape`` with ``g`` added at ``idx``
    (repeated positions add up, so the forward cannot run on element numbers: index the output's)."""
    g, shape, idx, basic = args[0], args[1], args[2], args[3]
    if not active[0]:
        return (None,) * len(args)
    import scipy.sparse as sp

    m = math.prod(shape)
    target = np.arange(m).reshape(shape)[idx + (Ellipsis,) if basic else idx]
    target = np.broadcast_to(target, np.shape(g)).ravel()
    M = sp.csr_array((np.ones(target.size, dtype=bool), (target, np.arange(target.size))), shape=(m, target.size))
    return (M,) + (None,) * (len(args) - 1)


def _select_local(op, out_shape, args, params, active):
    """``take(x, idx, ...)`` where ``idx`` was computed from the values (sort, topk, kthvalue, cummax):
    the chosen positions change from point to point, so an output reads its whole fiber along the
    axes whose index is data (a full-shaped array), and matches its own position along the others
    (the sparse grids of ``np.indices``). When that cannot be told apart, the whole input."""
    x, idx = args[0], args[1]
    if not active[0]:
        return (None,) * len(args)
    shape = np.shape(x)
    idx = idx if isinstance(idx, tuple) else (idx,)
    nd = len(shape)
    grid = [len(idx) == nd and isinstance(i, np.ndarray) and i.ndim == nd
            and all(s == 1 for k, s in enumerate(i.shape) if k != a) for a, i in enumerate(idx)]
    if len(idx) != nd or all(grid):
        return _dense_local(op, out_shape, args, params, active)
    free = tuple(a for a in range(nd) if not grid[a])
    kept = [a for a in range(nd) if grid[a]]
    table = fibers(shape, free)
    row = np.ravel_multi_index(tuple(np.broadcast_to(idx[a], out_shape) for a in kept), tuple(shape[a] for a in kept)) \
        if kept else np.zeros(out_shape, dtype=np.int64)
    return (groups(table[np.ravel(row)], _size(x)),) + (None,) * (len(args) - 1)


def _dense_local(op, out_shape, args, params, active):
    """Every output element depends on every element of every active input."""
    m = math.prod(out_shape)
    return tuple(groups(np.broadcast_to(np.arange(_size(a)), (m, _size(a))), _size(a)) if act else None
                 for a, act in zip(args, active))


def fibers(shape: tuple, dims: Sequence[int]) -> np.ndarray:
    """The element numbers of ``shape`` as a table ``(kept positions, reduced positions)``."""
    nd = len(shape)
    dims = tuple(sorted(d % nd for d in dims)) if nd else ()
    kept = tuple(d for d in range(nd) if d not in dims)
    ids = np.arange(math.prod(shape)).reshape(shape).transpose(kept + dims)
    return ids.reshape(math.prod(shape[d] for d in kept), -1)


def _dims_of(x, d) -> tuple:
    if d is None:
        return tuple(range(np.ndim(x)))
    return (d,) if isinstance(d, (int, np.integer)) else tuple(d)


def _owner(table: np.ndarray) -> np.ndarray:
    """For each element number, the row of ``table`` holding it."""
    owner = np.empty(table.size, dtype=np.int64)
    owner[table.ravel()] = np.repeat(np.arange(table.shape[0]), table.shape[1])
    return owner


def reduce_pattern(dims_at: int = 1, nonlinear: Sequence | str = ((0, 0),)) -> Sparsity:
    """A reduction over the dims in argument ``dims_at`` (sum, prod, amax, norms, logsumexp): each
    output reads its fiber."""
    def reduce_local(op, out_shape, args, params, active):
        x = args[0]
        table = fibers(np.shape(x), _dims_of(x, args[dims_at]))
        return (groups(table, _size(x)) if active[0] else None,) + (None,) * (len(args) - 1)
    return Sparsity(reduce_local, nonlinear)


def fiberwise_pattern(dims_at: int = 1, nonlinear: Sequence | str = ((0, 0),)) -> Sparsity:
    """A shape-keeping op along the dims in argument ``dims_at`` (softmax): each output reads its fiber."""
    def fiberwise_local(op, out_shape, args, params, active):
        x = args[0]
        table = fibers(np.shape(x), _dims_of(x, args[dims_at]))
        return (groups(table[_owner(table)], _size(x)) if active[0] else None,) + (None,) * (len(args) - 1)
    return Sparsity(fiberwise_local, nonlinear)


def scan_pattern(dim_at: int = 1, reverse: bool = False, nonlinear: Sequence | str = ((0, 0),)) -> Sparsity:
    """An inclusive scan along the dim in argument ``dim_at`` (cumsum, cumprod): output ``k`` reads
    ``0..k`` of its fiber (``k..end`` when ``reverse``)."""
    def scan_local(op, out_shape, args, params, active):
        x = args[0]
        shape = np.shape(x)
        rest = (None,) * (len(args) - 1)
        if not active[0]:
            return (None,) + rest
        if not shape:
            return (SAME,) + rest
        table = fibers(shape, (args[dim_at],))
        k = table.shape[1]
        i, j = np.arange(k)[:, None], np.arange(k)[None, :]
        tri = j >= i if reverse else j <= i
        pos = np.empty(table.size, dtype=np.int64)
        pos[table.ravel()] = np.tile(np.arange(k), table.shape[0])
        return (groups(np.where(tri[pos], table[_owner(table)], -1), _size(x)),) + rest
    return Sparsity(scan_local, nonlinear)


def _sum_to_local(op, out_shape, args, params, active):
    """Summing a broadcast input back to ``out_shape``: each output reads what broadcast from it."""
    x = args[0]
    if not active[0]:
        return (None,) * len(args)
    import scipy.sparse as sp

    shape = np.shape(x)
    m = math.prod(out_shape)
    lead = len(shape) - len(out_shape)
    owner = np.broadcast_to(np.arange(m).reshape((1,) * lead + tuple(out_shape)), shape).ravel()
    M = sp.csr_array((np.ones(owner.size, dtype=bool), (owner, np.arange(owner.size))), shape=(m, owner.size))
    return (M,) + (None,) * (len(args) - 1)


def _matmul_local(op, out_shape, args, params, active):
    """``a @ b`` with NumPy's matmul shapes: exact when one operand is constant (its zeros are
    structural), the union over the contracted index when both vary. Flags ``ta``/``tb`` (an
    operand read transposed): the pattern of the transposed operand, its columns sent back."""
    flags = params.get("ta", False), params.get("tb", False)
    if not any(flags):
        return _matmul_plain(args[0], args[1], active)
    swapped = [np.swapaxes(x, -1, -2) if f else x for x, f in zip(args[:2], flags)]
    out = list(_matmul_plain(swapped[0], swapped[1], active))
    for i, f in enumerate(flags):
        if f and out[i] is not None:  # column j of the swapped operand is element order[j] of the operand
            order = np.swapaxes(np.arange(args[i].size).reshape(args[i].shape), -1, -2).ravel()
            out[i] = out[i][:, np.argsort(order)]
    return tuple(out)


def _matmul_plain(a, b, active):
    import scipy.sparse as sp

    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    m, k, p = a2.shape[-2], a2.shape[-1], b2.shape[-1]
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    nbat = math.prod(batch)
    ia = np.broadcast_to(np.arange(math.prod(a2.shape[:-2])).reshape(a2.shape[:-2]), batch).ravel()
    ib = np.broadcast_to(np.arange(math.prod(b2.shape[:-2])).reshape(b2.shape[:-2]), batch).ravel()
    a3 = a2.reshape(-1, m, k)
    b3 = b2.reshape(-1, k, p)
    out: list = [None, None]
    if active[0]:  # d out[i, j] / d a[i, k] = b[k, j]
        blocks = []
        for t in range(nbat):
            bs = np.ones((k, p), bool) if active[1] else b3[ib[t]] != 0
            blk = sp.kron(sp.eye_array(m, dtype=bool, format="csr"), sp.csr_array(bs.T), format="coo")
            blocks.append((blk.row + t * m * p, blk.col + ia[t] * m * k))
        out[0] = _coo(blocks, nbat * m * p, a.size)
    if active[1]:  # d out[i, j] / d b[k, j] = a[i, k]
        blocks = []
        for t in range(nbat):
            as_ = np.ones((m, k), bool) if active[0] else a3[ia[t]] != 0
            blk = sp.kron(sp.csr_array(as_), sp.eye_array(p, dtype=bool, format="csr"), format="coo")
            blocks.append((blk.row + t * m * p, blk.col + ib[t] * k * p))
        out[1] = _coo(blocks, nbat * m * p, b.size)
    return tuple(out)


def _coo(blocks: list, m: int, n: int):
    import scipy.sparse as sp

    rows = np.concatenate([r for r, _ in blocks]) if blocks else np.zeros(0, np.int64)
    cols = np.concatenate([c for _, c in blocks]) if blocks else np.zeros(0, np.int64)
    return sp.csr_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(m, n))


def _einsum_local(op, out_shape, args, params, active):
    """``einsum`` on an explicit equation: output element reads each operand's elements whose shared
    subscripts agree with it (the union over the contracted subscripts)."""
    lhs, rhs = params["eq"].split("->")
    terms = lhs.split(",")
    letters = sorted(set(lhs.replace(",", "")))
    size = {}
    for term, a in zip(terms, args):
        size.update(zip(term, np.shape(a)))
    full = tuple(size[c] for c in letters)

    def ids(term: str, shape: tuple) -> np.ndarray:
        # broadcast an operand's element numbers over the full subscript space (repeated letters: diagonals)
        grid = np.indices(full, sparse=True)
        flat = np.zeros((1,) * len(full), dtype=np.int64)
        stride = 1
        for c, s in reversed(list(zip(term, shape))):
            flat = flat + grid[letters.index(c)] * stride
            stride *= s
        return np.broadcast_to(flat, full)

    out_ids = ids(rhs, tuple(size[c] for c in rhs)).ravel()
    res: list = []
    for term, a, act in zip(terms, args, active):
        if not act:
            res.append(None)
            continue
        # a repeated subscript in a term reads its diagonal: the grid gives both positions one letter
        res.append(_coo([(out_ids, ids(term, np.shape(a)).ravel())],
                        math.prod(out_shape), _size(a)))
    return tuple(res)


def _cdist_local(op, out_shape, args, params, active):
    """``cdist(x1, x2)``: ``out[..., i, j]`` reads rows ``x1[..., i, :]`` and ``x2[..., j, :]``."""
    x1, x2 = args[0], args[1]
    nb = np.ndim(x1) - 2
    if np.shape(x1)[:nb] != np.shape(x2)[:nb] or np.ndim(x2) != nb + 2:
        return _dense_local(op, out_shape, args, params, active)
    batch = "abcdefgh"[:nb]
    eq = f"{batch}ik,{batch}jk->{batch}ij"
    return _einsum_local(op, out_shape, args[:2], {"eq": eq}, active[:2]) + (None,) * (len(args) - 2)


def batched_matrix_pattern(cores: Callable | Sequence, out_core: Callable | int) -> Sparsity:
    """Batched linear algebra (inv, det, solve, cholesky, matrix_exp): each output matrix (its last
    ``out_core`` dims) depends on the whole core (last ``cores[i]`` dims; ``None``: not an operand) of
    every input at its own, broadcast, batch index, and on nothing else. ``cores``/``out_core`` may be
    functions of ``(args, params)`` (solve: a vector or a matrix right-hand side)."""
    def local(op, out_shape, args, params, active):
        cs = cores(args, params) if callable(cores) else cores
        oc = out_core(args, params) if callable(out_core) else out_core
        batch = tuple(out_shape[:len(out_shape) - oc])
        per = math.prod(out_shape[len(batch):])
        res: list = []
        for a, act, k in zip(args, active, tuple(cs) + (None,) * len(args)):
            if not act or k is None:
                res.append(None)
                continue
            shape = np.shape(a)
            ib = shape[:len(shape) - k]
            try:
                which = np.broadcast_to(np.arange(math.prod(ib)).reshape(ib), batch).ravel()
            except ValueError:
                return _dense_local(op, out_shape, args, params, active)
            table = np.arange(_size(a)).reshape(math.prod(ib), -1)[which]
            res.append(groups(np.repeat(table, per, axis=0), _size(a)))
        return tuple(res)
    return Sparsity(local, ALL)


# --------------------------------------------------------------------------- the rules ops declare
ELEMENTWISE = Sparsity(elementwise_local, nonlinear=((0, 0),))
"""A nonlinear unary pointwise op (exp, sin, ...)."""
LINEAR = Sparsity(elementwise_local)
"""A linear pointwise op (neg, clone, casts; add and sub with any arity)."""
RESHAPE = Sparsity(_first_same_local)
"""reshape, view, squeeze, unsqueeze: C order is kept, so the identity pattern."""
ZERO = Sparsity(_zero_local)
"""A piecewise-constant op (sign, floor, round): its derivative is zero."""
MOVE = Sparsity(_move_local)
SCATTER = Sparsity(_scatter_local)
SELECT = Sparsity(_select_local)
"""Picking elements at indices computed from the values (sort, topk): the whole fiber, globally."""
"""Adding a tensor into zeros at an index (the adjoint of indexing)."""
"""Pure data movement: the pattern comes from the op's own forward on element numbers."""
DENSE = Sparsity(_dense_local, nonlinear=ALL)
"""Every output depends on every input element (the conservative fallback)."""
SUM_TO = Sparsity(_sum_to_local)
"""Summing to a shape (the adjoint of expand)."""
MATMUL = Sparsity(_matmul_local, nonlinear=((0, 1),))
"""matmul / mm / mv / bmm / dot: bilinear."""
EINSUM = Sparsity(_einsum_local, nonlinear=ALL)
CDIST = Sparsity(_cdist_local, nonlinear=ALL)
"""einsum: multilinear (every pair of operands interacts)."""


def binary_pattern(nonlinear: Sequence = ((0, 0), (0, 1), (1, 1))) -> Sparsity:
    """A pointwise binary op with broadcasting; ``nonlinear`` lists its nonzero second partials."""
    return Sparsity(elementwise_local, nonlinear=tuple(nonlinear))
