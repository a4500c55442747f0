"""NumPy-facing derivative callables built from autojac functions (for SciPy's solvers).

User functions receive float64 autojac tensors and return tensors (or numbers); SciPy receives
NumPy arrays. Dense or sparse (a plan from ``autojac.sparse``) depending on size and pattern.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import sparse as _sparse
from .._core.grad_mode import no_grad
from .._tensor import Tensor, _wrap
from ..autograd.functional import hvp
from ..autograd.functional import jacobian as _jacobian
from ..func import grad_and_value
from ..func import hessian as _hessian

SPARSE_MIN_N = 100  # below this a dense Jacobian costs less than detecting and coloring
SPARSE_MAX_DENSITY = 0.1


def tensor(x) -> Tensor:
    """A float64 tensor holding a copy of ``x`` (SciPy may reuse its arrays)."""
    return _wrap(np.array(x, dtype=np.float64))


def to_numpy(y) -> np.ndarray:
    if isinstance(y, Tensor):
        return y._data
    return np.asarray(y, dtype=np.float64)


def bind(fun: Callable, args: tuple = ()) -> Callable:
    """``x -> fun(x, *args)`` on tensors."""
    return (lambda x: fun(x, *args)) if args else fun


def values(fun: Callable) -> Callable:
    """The NumPy function ``x -> fun(x)``, run without recording."""
    def f(x):
        with no_grad():
            return np.array(to_numpy(fun(tensor(x))), dtype=np.float64)
    return f


def scalar_and_grad(fun: Callable) -> Callable:
    """``x -> (fun(x), grad fun(x))`` for ``jac=True``: one forward and one backward pass."""
    gv = grad_and_value(lambda t: _scalar(fun(t)))

    def f(x):
        g, v = gv(tensor(x))
        return float(v._data), np.array(g._data, dtype=np.float64)
    return f


def _scalar(y) -> Tensor:
    if not isinstance(y, Tensor):
        raise TypeError(f"the objective must return a Tensor, got {type(y).__name__}")
    if y._data.size != 1:
        raise ValueError(f"the objective must return a single element, got shape {list(y._data.shape)}")
    return y.reshape(())


def hessp(fun: Callable) -> Callable:
    """``(x, p) -> H(x) p`` by forward-over-reverse (one pass, no Hessian formed)."""
    def f(x, p):
        _, hv = hvp(lambda t: _scalar(fun(t)), tensor(x), tensor(p))
        return np.array(hv._data, dtype=np.float64)
    return f


def _worth_sparse(P, sparse) -> bool:
    if sparse is True or sparse == "always":
        return True
    if sparse is False or sparse == "never":
        return False
    m, n = P.shape
    return n >= SPARSE_MIN_N and P.nnz <= SPARSE_MAX_DENSITY * m * n


def hessian(fun: Callable, x0: np.ndarray, sparse="auto", dense_output: bool = False) -> Callable:
    """``x -> Hessian`` of the scalar ``fun``: a star-colored plan when large and sparse, else dense."""
    scalar = lambda t: _scalar(fun(t))  # noqa: E731
    if sparse is not False and np.size(x0) >= (1 if sparse is True else SPARSE_MIN_N):
        P = _sparse.hessian_sparsity(scalar, x0)
        if _worth_sparse(P, sparse):
            plan = _sparse.hessian_plan(scalar, x0, sparsity=P)
            return (lambda x: plan(x).toarray()) if dense_output else plan
    h = _hessian(scalar)
    n = np.size(x0)
    return lambda x: np.array(h(tensor(x))._data, dtype=np.float64).reshape(n, n)


def jacobian(fun: Callable, x0: np.ndarray, sparse="auto", sparsity=None, dense_output: bool = False) -> Callable:
    """``x -> Jacobian`` ``(m, n)`` of ``fun``: a colored plan when the pattern is large and sparse (or
    ``sparsity`` is given), else one dense batched pass (forward or reverse, whichever is narrower)."""
    n = np.size(x0)
    if sparsity is not None or (sparse is not False and n >= (1 if sparse is True else SPARSE_MIN_N)):
        P = _sparse.jacobian_sparsity(fun, x0) if sparsity is None else sparsity
        if sparsity is not None or _worth_sparse(P, sparse):
            plan = _sparse.jacobian_plan(fun, x0, sparsity=P)
            return (lambda x: plan(x).toarray()) if dense_output else plan
    with no_grad():
        m = np.size(to_numpy(fun(tensor(x0))))
    strategy = "forward-mode" if m > n else "reverse-mode"
    return lambda x: np.array(_jacobian(fun, tensor(x), strategy=strategy)._data, dtype=np.float64).reshape(m, n)


def vector_hessian(fun: Callable, x0: np.ndarray) -> Callable:
    """``(x, v) -> sum_i v_i Hessian(fun_i)(x)``: the Hessian of ``v . fun(x)`` (for constraints)."""
    n = np.size(x0)

    def h(x, v):
        vt = tensor(v)
        H = _hessian(lambda t: (fun(t).reshape(-1) * vt).sum())(tensor(x))
        return np.array(H._data, dtype=np.float64).reshape(n, n)
    return h
