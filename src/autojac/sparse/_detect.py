"""Sparsity detection: trace the function once, then propagate patterns through the recorded graph.

Each tensor's pattern is a SciPy boolean CSR matrix ``(numel, n_inputs)``: row ``k`` holds the input
elements that element ``k`` depends on. Nodes are visited from the input to the output; each
applies its primitive's pattern rule (``Op.sparsity``, declared beside the op) as sparse matrix
products ``P_out = sum_i M_i @ P_i``: whole-tensor algebra, no Python loop over elements.

Why a trace at ``x`` rather than an abstract tracer: the recorded graph already holds every
primitive with its exact shapes and parameters, so one forward pass gives all the rule needs and
every op of the library works unchanged. The rules never read the values of traced tensors, so
the pattern holds at every point, as long as the function's Python control flow and index
arrays do not depend on the values of ``x`` (the usual case for residuals and right-hand sides).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from .._core.grad_mode import STATE
from .._core.node import Node
from .._core.patterns import ALL, DENSE, SAME
from .._tensor import Tensor, _wrap

_WARNED: set = set()


def as_input(x) -> Tensor:
    """A fresh float leaf that requires grad: float64 unless ``x`` is already a float tensor."""
    if isinstance(x, Tensor):
        data = x._data
        if data.dtype.kind != "f":
            data = data.astype(np.float64)
    else:
        data = np.asarray(x, dtype=np.float64)
    t = _wrap(np.array(data, copy=True))
    t._requires_grad = True
    return t


def trace(func: Callable, x) -> tuple[Tensor, Tensor]:
    """Run ``func`` once on a leaf copy of ``x`` with recording on; returns ``(leaf, output)``."""
    leaf = as_input(x)
    prev = STATE.enabled
    STATE.enabled = True
    try:
        out = func(leaf)
    finally:
        STATE.enabled = prev
    if not isinstance(out, Tensor):
        raise TypeError(f"jacobian_sparsity: the function must return a Tensor, got {type(out).__name__}")
    return leaf, out


def _topological(root: Node) -> list:
    """The nodes reachable from ``root``, inputs first (iterative: deep graphs must work)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root.next))]
    while stack:
        node, it = stack[-1]
        for nxt in it:
            if isinstance(nxt, Node) and id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append((nxt, iter(nxt.next)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _warn_dense(op) -> None:
    if op.name not in _WARNED:
        _WARNED.add(op.name)
        warnings.warn(f"autojac.sparse: the primitive '{op.name}' declares no sparsity pattern; its outputs are "
                      "taken to depend on all its inputs (a correct but denser pattern)", stacklevel=4)


def _empty(m: int, n: int):
    import scipy.sparse as sp

    return sp.csr_array((m, n), dtype=bool)


def _identity(n: int):
    import scipy.sparse as sp

    return sp.eye_array(n, dtype=bool, format="csr")


def propagate(leaf: Tensor, out: Tensor, hessian: bool = False):
    """The pattern of ``out`` w.r.t. ``leaf`` and, with ``hessian``, the summed second-order pattern."""
    import scipy.sparse as sp

    n = leaf._data.size
    m = out._data.size
    H = [] if hessian else None  # the (rows, cols) of each interaction block, summed once at the end
    if out.grad_fn is None:
        return (_identity(n) if out is leaf else _empty(m, n)), (_empty(n, n) if hessian else None)
    pats: dict = {}
    eye = _identity(n)  # one object: elementwise ops of x with itself are recognized below
    for node in _topological(out.grad_fn):
        ins = []
        for i, nxt in enumerate(node.next):
            if nxt is None:
                ins.append(None)
            elif isinstance(nxt, Node):
                nr = node.next_nr[i] if node.next_nr else 0
                ins.append(pats.get((id(nxt), nr)))
            else:
                ins.append(eye if nxt is leaf else None)
        op = node.op
        rule = op.sparsity
        shapes = node.ans if op.n_out == 1 else None
        out_shapes = [tuple(shapes if isinstance(shapes, tuple) else np.shape(shapes))] if op.n_out == 1 else \
            [tuple(np.shape(a)) for a in node.ans]
        if rule is None or op.n_out > 1:
            if rule is None:
                _warn_dense(op)
            rule = DENSE
        args = tuple(a._data if type(a) is Tensor else a for a in node.inputs)
        active = tuple(p is not None for p in ins)
        for nr, oshape in enumerate(out_shapes):
            locs = rule.local(op, oshape, args, node.params, active)
            R = [None if p is None or loc is None else (p if loc is SAME else _bool(loc @ p))
                 for p, loc in zip(ins, locs)]
            total = None
            for r in R:
                if r is not None and r is not total:  # x * x, sin(x) * x...: one pattern, no union needed
                    total = r if total is None else total + r
            if total is None:
                total = _empty(math.prod(oshape), n)
            pats[(id(node), nr)] = total if type(total) is sp.csr_array else sp.csr_array(total)
            if hessian:
                _second_order(H, rule.nonlinear, R)
    res = pats.get((id(out.grad_fn), out._output_nr if out.grad_fn.op.n_out > 1 else 0))
    if hessian:
        rows = np.concatenate([r for r, _ in H] + [np.zeros(0, np.int64)])
        cols = np.concatenate([c for _, c in H] + [np.zeros(0, np.int64)])
        H = sp.csr_array((np.ones(2 * rows.size, bool), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
                         shape=(n, n))
    return res, H


def _bool(a):
    return a.astype(bool) if a.dtype != bool else a


def _second_order(H: list, nonlinear, R: list) -> None:
    """Collect the pairs of input elements that a nonlinear op mixes: ``R_i^T R_j`` for its nonlinear
    pairs (symmetrized when all are summed)."""
    k = len(R)
    pairs = [(i, j) for i in range(k) for j in range(i, k)] if nonlinear == ALL else nonlinear
    for i, j in pairs:
        if i < k and j < k and R[i] is not None and R[j] is not None:
            C = (R[i].T @ R[j]).tocoo()
            H.append((C.row.astype(np.int64), C.col.astype(np.int64)))


def jacobian_sparsity(func: Callable, x):
    """The structural pattern of the Jacobian of ``func`` at any point shaped like ``x``.

    Returns a SciPy ``csr_array`` of booleans, ``(out.numel, x.numel)``; it holds every entry that
    may be nonzero at some point (found from the graph, not by probing values): ``relu``, ``where``,
    ``max``, ``sort``, ``topk``... take every branch and position. What the trace cannot see is the
    user's own use of values: Python ``if`` on them, or indices computed from them
    (``x[argsort(x)]``), are taken as they were at ``x``.

    >>> import autojac
    >>> from autojac.sparse import jacobian_sparsity
    >>> f = lambda x: autojac.cat([x[1:] - x[:-1], x[:1] ** 2])
    >>> jacobian_sparsity(f, autojac.zeros(3)).toarray().astype(int)
    array([[1, 1, 0],
           [0, 1, 1],
           [1, 0, 0]])
    """
    leaf, out = trace(func, x)
    P, _ = propagate(leaf, out)
    return _sorted(P)


def hessian_sparsity(func: Callable, x):
    """The structural pattern of the Hessian of ``func`` (summed over its outputs if it has several).

    A pair ``(i, j)`` is in it when some nonlinear primitive mixes inputs that depend on ``x[i]`` and
    ``x[j]``; linear primitives add nothing.

    >>> import autojac
    >>> from autojac.sparse import hessian_sparsity
    >>> f = lambda x: (x[1:] * x[:-1]).sum() + x.sum()
    >>> hessian_sparsity(f, autojac.zeros(3)).toarray().astype(int)
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]])
    """
    leaf, out = trace(func, x)
    _, H = propagate(leaf, out, hessian=True)
    return _sorted(H)


def _sorted(P):
    import scipy.sparse as sp

    P = sp.csr_array(P, dtype=bool)
    if not P.data.all():
        P.eliminate_zeros()
    P.sum_duplicates()
    P.sort_indices()
    if P.nnz < 2 ** 31 - 1 and max(P.shape) < 2 ** 31 - 1 and P.indices.dtype != np.int32:
        # SciPy's own index dtype: CSR arrays built later from these indices skip a scan for it
        P = sp.csr_array((P.data, P.indices.astype(np.int32), P.indptr.astype(np.int32)), shape=P.shape)
    return P
