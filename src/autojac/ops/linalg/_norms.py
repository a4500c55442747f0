"""Norms: vector_norm, matrix_norm, norm."""

from __future__ import annotations

import numpy as np

from ..._core.batching import Axes, n_batch
from ..._core.patterns import reduce_pattern
from ..._dtype import to_dtype, torch_name
from ..._tensor import Tensor, _wrap, _wrap_dim
from .._declare import defop
from ..elementwise import abs as _abs
from ..elementwise import sign, where
from ..reduce import _sum_dim, normalize_dims, unreduce
from ._base import _check_matrix, _need_tensor, _tname, _zeros_like_shape
from ._factor import _svd_checked

# --------------------------------------------------------------------------- vector_norm
_INF = float("inf")


def _vnorm_forward(x: np.ndarray, ord: float, dims: tuple, keepdim: bool) -> np.ndarray:
    a = np.abs(x)
    if ord == 2:
        r = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
    elif ord == _INF:
        r = np.max(a, axis=dims, keepdims=keepdim)
    elif ord == -_INF:
        r = np.min(a, axis=dims, keepdims=keepdim)
    elif ord == 0:
        r = np.sum(a != 0, axis=dims, keepdims=keepdim).astype(a.dtype)
    elif ord == 1:
        r = np.sum(a, axis=dims, keepdims=keepdim)
    else:
        r = np.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(r, dtype=a.dtype)


def _vnorm_parts(x: Tensor, ans: Tensor, ord: float, dims: tuple, keepdim: bool):
    """``d norm / dx = f(x) * s(norm)``: PyTorch's ``norm_backward``, factor by factor.

    ``f`` has ``x``'s shape, ``s`` the norm's; ``None`` for ``ord = 0`` (zero gradient). Where
    the norm is 0 the gradient is 0 (ord 2 and p > 1), as PyTorch defines it.
    """
    n = ans._data
    if ord == 0:
        return None, None
    if ord == 1:
        return sign(x), None
    if ord in (_INF, -_INF):
        full = unreduce(ans, tuple(x.shape), dims, keepdim)._data
        mask = (np.abs(x._data) == full) | np.isnan(x._data)
        count = np.sum(mask, axis=dims, keepdims=True)
        return sign(x) * _wrap((mask / count).astype(x._data.dtype)), None
    zero = n == 0
    if ord == 2:
        return x, where(zero, 0.0, 1.0 / ans)
    if ord < 1:
        f = where(x._data == 0, 0.0, _abs(x) ** (ord - 1)) * sign(x)
        return f, ans ** (1 - ord)
    f = _abs(x) ** (ord - 1) * sign(x) if ord < 2 else x * _abs(x) ** (ord - 2)
    return f, where(zero, 0.0, 1.0 / ans ** (ord - 1))


def _vnorm_vjp(g, ans, x, ord, dims, keepdim):
    f, s = _vnorm_parts(x, ans, ord, dims, keepdim)
    if f is None:  # torch's gradient of the 0-"norm" is undefined: x counts as unused, .grad stays None
        return None
    return f * unreduce(g if s is None else g * s, tuple(x.shape), dims, keepdim)


def _vnorm_jvp(t, ans, x, ord, dims, keepdim):
    f, s = _vnorm_parts(x, ans, ord, dims, keepdim)
    nb = n_batch(t, x)
    if f is None:
        return _zeros_like_shape(ans, tuple(t.shape[:nb]) + tuple(ans.shape))
    r = _sum_dim(t * f, tuple(d + nb for d in dims), keepdim)
    return r if s is None else r * s


_vnorm = defop("linalg_vector_norm", _vnorm_forward, vjp=(_vnorm_vjp,), jvp=(_vnorm_jvp,), saves_ans=True,
               grad_name="LinalgVectorNormBackward0", sparsity=reduce_pattern(dims_at=2), batch=Axes(2))

_NARROWER = {"float16": 1, "float32": 2, "float64": 3, "complex64": 2, "complex128": 3}


def _norm_dtype(x: Tensor, dtype, name: str) -> Tensor:
    """Apply a norm's ``dtype=`` (PyTorch's ``check_linalg_norm_dtype``)."""
    if dtype is None:
        return x
    d = to_dtype(dtype)
    target = np.dtype(d.np)
    if target.kind not in "fc":
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got {torch_name(target)}")
    src = x._data.dtype
    if (src.kind == "c") != (target.kind == "c") or _NARROWER.get(target.name, 0) < _NARROWER.get(src.name, 0):
        raise RuntimeError(f"{name}: the dtype of the input ({_tname(x)}) should be convertible without narrowing "
                           f"to the specified dtype ({torch_name(target)})")
    return x.to(d)


def _check_ord(ord, fn: str = "linalg_vector_norm", pos: int = 2) -> float:
    if isinstance(ord, bool) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}(): argument 'ord' (position {pos}) must be Number, not {type(ord).__name__}")
    return float(ord)


def _empty_norm_check(x: Tensor, p: float, dim) -> None:
    """PyTorch's errors for an inf or negative-order norm over an empty dimension."""
    head = f"linalg.vector_norm cannot compute the {p:g} norm on "
    if dim is None or dim == () or dim == []:
        raise RuntimeError(head + "an empty tensor because the operation does not have an identity")
    for d in ([dim] if isinstance(dim, int) else dim):
        d = _wrap_dim(d, x._data.ndim)
        if x._data.shape[d] == 0:  # (sic: torch's message has no space before "because")
            raise RuntimeError(head + f"the dimension {d}because this dimension is empty and the operation does not "
                               "have an identity")


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Vector ``ord``-norm over ``dim`` (all elements when None): ``sum(|x|^ord)^(1/ord)``,
    ``max|x|`` for ``inf``, ``min|x|`` for ``-inf``, the count of non-zeros for 0.

    At a zero vector the gradient is 0, as in PyTorch.

    >>> import autojac
    >>> autojac.linalg.vector_norm(autojac.tensor([3., -4.]))
    tensor(5.)
    >>> autojac.linalg.vector_norm(autojac.tensor([3., -4.]), float("inf"))
    tensor(4.)
    """
    _need_tensor(x, "linalg_vector_norm", "input", 1)
    p = _check_ord(ord)
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_tname(x)}")
    x = _norm_dtype(x, dtype, "linalg.vector_norm")
    dims = normalize_dims(dim, x._data.ndim)
    if x._data.size == 0 and (p < 0 or p == _INF):  # max/min-like reductions: no identity
        _empty_norm_check(x, p, dim)
    if x._data.dtype.kind == "c":  # every p-norm depends on |x| only; abs gives the complex gradient
        x = _abs(x)
    return _vnorm(x, p, dims, bool(keepdim))


# --------------------------------------------------------------------------- matrix_norm / norm
def _matrix_dims(A: Tensor, dim) -> tuple:
    dims = [dim] if isinstance(dim, int) else list(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {', '.join(map(str, dims))}")
    nd = A._data.ndim
    d0, d1 = (_wrap_dim(d, nd) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    return d0, d1


def _to_back(A: Tensor, d0: int, d1: int) -> tuple:
    """``A`` with dims ``d0, d1`` moved last, and the permutation that was applied."""
    perm = [d for d in range(A._data.ndim) if d not in (d0, d1)] + [d0, d1]
    return A.permute(*perm), perm


def _from_back(r: Tensor, perm: list) -> Tensor:
    """Undo ``_to_back`` on a result whose last two dims were reduced to size 1."""
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return r.permute(*inverse)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """Matrix norm over the two dims ``dim``: ``"fro"``, ``"nuc"`` (sum of singular values),
    ``2``/``-2`` (largest/smallest singular value), ``1``/``-1`` (max/min column sum of |A|),
    ``inf``/``-inf`` (max/min row sum of |A|).

    >>> import autojac
    >>> autojac.linalg.matrix_norm(autojac.tensor([[1., -2.], [3., 4.]]), 1)
    tensor(6.)
    """
    _need_tensor(A, "linalg_matrix_norm", "input", 1)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    else:
        p = _check_ord(ord, "linalg_matrix_norm")
        if abs(p) not in (1.0, 2.0, _INF):
            raise RuntimeError(f"linalg.matrix_norm: Order {p:g} not supported.")
    low = ord in ("fro", "nuc") or abs(p) != 2.0
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    _check_matrix(A, "linalg.matrix_norm", half="ok" if low else "low precision", square=False)
    d0, d1 = _matrix_dims(A, dim)
    A = _norm_dtype(A, dtype, "linalg.matrix_norm")
    if ord == "fro":
        return _vnorm(A, 2.0, tuple(sorted((d0, d1))), bool(keepdim))
    if ord == "nuc" or abs(p) == 2.0:
        moved, perm = _to_back(A, d0, d1)
        s = _svd_checked(moved, False)[1]
        if ord == "nuc":
            r = s.sum(-1, keepdim=bool(keepdim))
        else:
            r = s.amax(-1, keepdim=bool(keepdim)) if p > 0 else s.amin(-1, keepdim=bool(keepdim))
        return _from_back(r.unsqueeze(-1), perm) if keepdim else r
    if abs(p) == _INF:  # the inf-norm is the 1-norm of the transpose
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    cols = _vnorm(A, 1.0, (d0,), bool(keepdim))
    return cols.amax(d1, keepdim=bool(keepdim)) if p > 0 else cols.amin(d1, keepdim=bool(keepdim))


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``torch.linalg.norm``: a vector norm (1-D input, ``dim`` an int, or ``ord`` None) or a
    matrix norm (2-D input with ``ord`` given, or ``dim`` a 2-tuple).

    >>> import autojac
    >>> autojac.linalg.norm(autojac.tensor([[1., 2.], [2., 4.]]))
    tensor(5.)
    >>> autojac.linalg.norm(autojac.tensor([[1., 2.], [2., 4.]]), "nuc")
    tensor(5.)
    """
    _need_tensor(A, "linalg_norm", "input", 1)
    nd = A._data.ndim
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dims}")
    elif ord is not None and nd not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {nd}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    if ord is not None and ((dim is not None and len(dims) == 2) or (dim is None and nd == 2)):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
