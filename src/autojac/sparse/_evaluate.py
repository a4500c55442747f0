"""Compressed evaluation: one batched pass over the colors, then decompression by index arrays.

A plan detects the pattern and colors it once; each call at a new point pushes the ``k`` seed
vectors (one per color) through ``func`` as one batched forward pass (tangents), reverse pass
(cotangents) or forward-over-reverse pass (Hessian), then gathers the nonzeros from the compressed
result with one precomputed index array and wraps them in a CSR array built from the pattern's
own ``indices``/``indptr``. No Python loop runs over the nonzeros.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.engine import run_backward
from .._core.grad_mode import STATE
from .._tensor import Tensor, _wrap
from ..autograd.forward_ad import make_dual_batched
from ..autograd.functional import _autograd_grad, _DualLevel
from . import coloring as _coloring
from ._detect import _sorted, as_input, hessian_sparsity, jacobian_sparsity

_MODES = ("auto", "fwd", "rev")


def _seeds(colors: np.ndarray, k: int, shape: tuple, dtype) -> np.ndarray:
    """``(k, *shape)``: seed ``c`` is 1 at the elements of color ``c``."""
    S = np.zeros((k, colors.size), dtype=dtype)
    S[colors, np.arange(colors.size)] = 1
    return S.reshape((k,) + tuple(shape))


def _pattern(sparsity, shape: tuple | None, name: str):
    import scipy.sparse as sp

    if not (sp.issparse(sparsity) or isinstance(sparsity, np.ndarray)):
        raise TypeError(f"{name}(): sparsity must be 'auto' or a boolean matrix (scipy.sparse or numpy), "
                        f"got {type(sparsity).__name__}")
    P = _sorted(sp.csr_array(sparsity))
    if shape is not None and P.shape[1] != shape[1]:
        raise ValueError(f"{name}(): sparsity has {P.shape[1]} columns, expected {shape[1]} (the number of "
                         "elements of x)")
    return P


def _tangent(t: Tensor, level: int):
    fw = t._fw
    return None if fw is None else fw.get(level)


def _as_array(x, dtype) -> np.ndarray:
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    return data.astype(dtype, copy=False)


def _plan_pattern(plan, func: Callable, x, sparsity, detect: Callable, shape: Callable, name: str):
    """Set a plan's function, input shape and dtype; the pattern (detected, or checked when given), ``n`` and
    whether it was detected."""
    leaf = as_input(x)
    plan.func = func
    plan.shape = tuple(leaf._data.shape)
    plan.dtype = leaf._data.dtype
    n = leaf._data.size
    if isinstance(sparsity, str):
        if sparsity != "auto":
            raise ValueError(f"{name}(): sparsity must be 'auto' or a pattern, got '{sparsity}'")
        return detect(func, leaf), n, True
    return _pattern(sparsity, shape(n), name), n, False


class JacobianPlan:
    """The sparse Jacobian of ``func`` at any point shaped like ``x``: pattern and coloring found once.

    Attributes: ``sparsity`` (boolean CSR ``(m, n)``), ``mode`` (``"fwd"``: one tangent per column
    color, ``"rev"``: one cotangent per row color), ``colors`` and ``n_colors``.

    >>> import autojac, numpy as np
    >>> from autojac.sparse import jacobian_plan
    >>> plan = jacobian_plan(lambda x: x[1:] - x[:-1] ** 2, np.zeros(4))
    >>> plan.n_colors, plan.mode
    (2, 'fwd')
    >>> plan(np.array([1., 2., 3., 4.])).toarray()
    array([[-2.,  1.,  0.,  0.],
           [ 0., -4.,  1.,  0.],
           [ 0.,  0., -6.,  1.]])
    """

    def __init__(self, func: Callable, x, sparsity="auto", mode: str = "auto") -> None:
        if mode not in _MODES:
            raise ValueError(f"jacobian_plan(): mode must be one of 'auto', 'fwd', 'rev', got '{mode}'")
        P, n, _ = _plan_pattern(self, func, x, sparsity, jacobian_sparsity, lambda n: (None, n), "jacobian_plan")
        self.sparsity = P
        m = P.shape[0]
        rows = np.repeat(np.arange(m), np.diff(P.indptr))
        cols = P.indices
        if mode == "auto":
            cc = _coloring.column_coloring(P)
            nc = int(cc.max(initial=-1)) + 1
            col_bound = int(np.diff(P.tocsc().indptr).max(initial=0))
            if nc > col_bound:  # the row coloring may do better: its lower bound is lower
                rc = _coloring.row_coloring(P)
                nr = int(rc.max(initial=-1)) + 1
                if nr < nc:
                    mode, colors = "rev", rc
            if mode == "auto":
                mode, colors = "fwd", cc
        else:
            colors = _coloring.column_coloring(P) if mode == "fwd" else _coloring.row_coloring(P)
        self.mode = mode
        self.colors = colors
        self.n_colors = k = int(colors.max(initial=-1)) + 1
        if mode == "fwd":  # compressed (k, m): J[i, j] = B[c(j), i]
            self._seeds = _seeds(colors, k, self.shape, self.dtype) if k else None
            self._take = colors[cols] * m + rows
        else:  # compressed (k, n): J[i, j] = C[c(i), j]
            self._seeds = np.zeros((k, m), dtype=self.dtype)
            self._seeds[colors, np.arange(m)] = 1
            self._take = colors[rows] * n + cols

    def __repr__(self) -> str:
        m, n = self.sparsity.shape
        return (f"JacobianPlan(shape=({m}, {n}), nnz={self.sparsity.nnz}, mode='{self.mode}', "
                f"n_colors={self.n_colors})")

    def compressed(self, x) -> np.ndarray:
        """The compressed Jacobian at ``x``: ``(n_colors, m)`` (forward) or ``(n_colors, n)`` (reverse)."""
        data = _as_array(x, self.dtype)
        if data.shape != self.shape:
            raise ValueError(f"the plan was made for x of shape {list(self.shape)}, got {list(data.shape)}")
        m, n = self.sparsity.shape
        k = self.n_colors
        if k == 0:
            return np.zeros((0, m if self.mode == "fwd" else n), dtype=self.dtype)
        if self.mode == "fwd":
            with _DualLevel() as level:
                out = self.func(make_dual_batched(_wrap(data), _wrap(self._seeds), level))
                t = _tangent(out, level)
            if t is None:
                return np.zeros((k, m), dtype=self.dtype)
            return np.broadcast_to(t._data, (k,) + tuple(out._data.shape)).reshape(k, m)
        leaf = _wrap(data.copy())
        leaf._requires_grad = True
        prev = STATE.enabled
        STATE.enabled = True
        try:
            out = self.func(leaf)
            if out._data.size != m:
                raise ValueError(f"the plan was made for {m} outputs, the function returned {out._data.size}")
            if not out._requires_grad:
                return np.zeros((k, n), dtype=self.dtype)
            cot = _wrap(self._seeds.reshape((k,) + tuple(out._data.shape)).astype(out._data.dtype, copy=False))
            got = run_backward((out,), (cot,), retain_graph=False, create_graph=False, targets=[leaf],
                               accumulate=False, nb=1)
        finally:
            STATE.enabled = prev
        g = got.get(id(leaf))
        if g is None:
            return np.zeros((k, n), dtype=self.dtype)
        return np.broadcast_to(g._data, (k,) + self.shape).reshape(k, n)

    def __call__(self, x):
        """The Jacobian at ``x`` as a SciPy ``csr_array`` ``(m, n)``."""
        import scipy.sparse as sp

        B = self.compressed(x)
        vals = B.ravel()[self._take]
        P = self.sparsity
        return sp.csr_array((vals, P.indices, P.indptr), shape=P.shape)


class HessianPlan:
    """The sparse Hessian of a scalar ``func``: pattern and star coloring found once; each call is one
    batched forward-over-reverse pass (Hessian-vector products with the ``n_colors`` seeds).

    >>> import autojac, numpy as np
    >>> from autojac.sparse import hessian_plan
    >>> plan = hessian_plan(lambda x: (x[1:] * x[:-1]).sum(), np.zeros(4))
    >>> plan.n_colors  # a path: a star coloring needs 3
    3
    >>> plan(np.ones(4)).toarray()
    array([[0., 1., 0., 0.],
           [1., 0., 1., 0.],
           [0., 1., 0., 1.],
           [0., 0., 1., 0.]])
    """

    mode = "fwd-over-rev"

    def __init__(self, func: Callable, x, sparsity="auto") -> None:
        P, n, detected = _plan_pattern(self, func, x, sparsity, hessian_sparsity, lambda n: (n, n), "hessian_plan")
        if not detected:  # a given pattern: made symmetric, as the Hessian is
            P = _sorted(P + P.T)
        self.sparsity = P
        self.colors = colors = _coloring.star_coloring(P)
        self.n_colors = k = int(colors.max(initial=-1)) + 1
        r, c = _coloring.star_recovery(P, colors)
        self._take = c * n + r  # H[i, j] = (H S)[r, c] = T[c, r] with T = (H S)^T, the batched HVPs
        self._seeds = _seeds(colors, k, self.shape, self.dtype) if k else None

    def __repr__(self) -> str:
        n = self.sparsity.shape[0]
        return f"HessianPlan(shape=({n}, {n}), nnz={self.sparsity.nnz}, n_colors={self.n_colors})"

    def compressed(self, x) -> np.ndarray:
        """``(n_colors, n)``: the Hessian-vector products with the color seeds at ``x``."""
        data = _as_array(x, self.dtype)
        if data.shape != self.shape:
            raise ValueError(f"the plan was made for x of shape {list(self.shape)}, got {list(data.shape)}")
        n = data.size
        k = self.n_colors
        if k == 0:
            return np.zeros((0, n), dtype=self.dtype)
        leaf = _wrap(data.copy())
        leaf._requires_grad = True
        prev = STATE.enabled
        STATE.enabled = True
        try:
            with _DualLevel() as level:
                dual = make_dual_batched(leaf, _wrap(self._seeds), level)
                out = self.func(dual)
                if out._data.size != 1:
                    raise RuntimeError("The Tensor returned by the function given to hessian should contain a "
                                       "single element")
                (g,) = _autograd_grad((out.reshape(()),), (dual,))
                t = None if g is None else _tangent(g, level)
        finally:
            STATE.enabled = prev
        if t is None:
            return np.zeros((k, n), dtype=self.dtype)
        return np.broadcast_to(t._data, (k,) + self.shape).reshape(k, n)

    def __call__(self, x):
        """The Hessian at ``x`` as a SciPy ``csr_array`` ``(n, n)``."""
        import scipy.sparse as sp

        vals = self.compressed(x).ravel()[self._take]
        P = self.sparsity
        return sp.csr_array((vals, P.indices, P.indptr), shape=P.shape)


def jacobian_plan(func: Callable, x, sparsity="auto", mode: str = "auto") -> JacobianPlan:
    """Detect (or take) the Jacobian's pattern and color it, once; call the plan at new points."""
    return JacobianPlan(func, x, sparsity=sparsity, mode=mode)


def hessian_plan(func: Callable, x, sparsity="auto") -> HessianPlan:
    """Detect (or take) the Hessian's pattern and star-color it, once; call the plan at new points."""
    return HessianPlan(func, x, sparsity=sparsity)


def jacobian(func: Callable, x, sparsity="auto", mode: str = "auto"):
    """The Jacobian of ``func`` at ``x`` as a SciPy ``csr_array`` ``(out.numel, x.numel)``, exact, from
    one batched pass over the colors of its (detected or given) pattern.

    >>> import autojac, numpy as np
    >>> from autojac import sparse
    >>> sparse.jacobian(lambda x: x.sin() * 2, np.zeros(3)).toarray()
    array([[2., 0., 0.],
           [0., 2., 0.],
           [0., 0., 2.]])
    """
    return JacobianPlan(func, x, sparsity=sparsity, mode=mode)(x)


def hessian(func: Callable, x, sparsity="auto"):
    """The Hessian of the scalar ``func`` at ``x`` as a SciPy ``csr_array``, exact, from one batched
    forward-over-reverse pass over the star colors of its pattern.

    >>> import autojac, numpy as np
    >>> from autojac import sparse
    >>> sparse.hessian(lambda x: (x ** 3).sum(), np.array([1., 2.])).toarray()
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return HessianPlan(func, x, sparsity=sparsity)(x)
