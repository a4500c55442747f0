"""Pseudo-inverses and least squares: pinv/pinverse, lstsq."""

from __future__ import annotations

import numpy as np

from ..._core.batching import PER_ELEMENT, batch_shape, pad_batch
from ..._tensor import Tensor, _wrap
from .._declare import defop
from .._return_types import return_type
from ._base import _check_matrix, _live, _mT, _need_tensor, _tname, _zeros_like_shape
from ._det import _batch_broadcast
from ._factor import _eigh_parts


# --------------------------------------------------------------------------- pinv
def _pinv_vjp_formula(G: Tensor, X: Tensor, A: Tensor) -> Tensor:
    """VJP of ``X = pinv(A)`` (constant rank): ``-X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)``."""
    Gt = G.mT
    return (-(X.mT @ G @ X.mT) + (Gt - A @ (X @ Gt)) @ (X @ X.mT) + (X.mT @ X) @ (Gt - (Gt @ X) @ A))


def _pinv_jvp_formula(T: Tensor, X: Tensor, A: Tensor) -> Tensor:
    """JVP of ``X = pinv(A)``: ``-X T X + X X^T T^T (I - A X) + (I - X A) T^T X^T X``."""
    Tt = T.mT
    return -(X @ T @ X) + (X @ X.mT) @ (Tt - (Tt @ A) @ X) + (Tt - X @ (A @ Tt)) @ (X.mT @ X)


def _pinv_forward(a: np.ndarray, atol: np.ndarray, rtol: np.ndarray, hermitian: bool) -> np.ndarray:
    m, n = a.shape[-2:]
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (n, m), a.dtype)
    atol, rtol = atol[..., None], rtol[..., None]
    if hermitian:
        w, v = np.linalg.eigh(a)
        s = np.abs(w)
        tol = np.maximum(atol, rtol * s.max(-1, keepdims=True))
        inv = np.where(s > tol, 1 / np.where(s > tol, w, 1), 0).astype(a.dtype)
        return (v * inv[..., None, :]) @ _mT(v).conj()
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    tol = np.maximum(atol, rtol * s[..., :1])
    inv = np.where(s > tol, 1 / np.where(s > tol, s, 1), 0).astype(a.dtype)
    return (_mT(vh).conj() * inv[..., None, :]) @ _mT(u).conj()


_pinv = defop(
    "linalg_pinv", _pinv_forward,
    vjp=(lambda g, ans, A, atol, rtol, hermitian: _pinv_vjp_formula(g, ans, A), None, None),
    jvp=(lambda t, ans, A, atol, rtol, hermitian: _pinv_jvp_formula(t, ans, A), None, None),
    saves_ans=True, grad_name="LinalgPinvBackward0", batch=PER_ELEMENT
)


def _tolerance(x) -> np.ndarray:
    return np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.float64)


def _default_rtol(A: Tensor) -> float:
    m, n = A._data.shape[-2:]
    return float(np.finfo(A._data.dtype).eps) * max(m, n)


def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:
    """Moore-Penrose pseudo-inverse through the SVD (``eigh`` when ``hermitian``). Singular values
    at most ``max(atol, rtol * s_max)`` count as zero; ``rtol`` defaults to ``eps * max(m, n)``
    (0 when ``atol > 0``). The positional ``rcond`` is NumPy's name for ``rtol``.

    The gradient assumes the rank is locally constant, as PyTorch's.

    >>> import autojac
    >>> autojac.linalg.pinv(autojac.tensor([[1., 0.], [0., 2.], [0., 0.]]))
    tensor([[1.0000, 0.0000, 0.0000],
            [0.0000, 0.5000, 0.0000]])
    """
    _need_tensor(A, "linalg_pinv", "input", 1)
    if A._data.ndim < 2 or A._data.dtype.kind not in "fc" or A._data.dtype == np.float16:
        shape = ", ".join(map(str, A._data.shape))
        raise RuntimeError(f"linalg.pinv({_tname(A)}{{[{shape}]}}): expected a tensor with 2 or more dimensions of "
                           "float, double, cfloat or cdouble types")
    if hermitian:
        _eigh_parts(A, "L")  # its checks (square) and errors, as torch's
    _check_matrix(A, "linalg.pinv", square=False)
    if rcond is not None:
        atol, rtol = 0.0, rcond
    a = _tolerance(0.0 if atol is None else atol)
    if rtol is not None:
        r = _tolerance(rtol)
    else:
        r = np.where(a > 0, 0.0, _default_rtol(A)) if atol is not None else np.asarray(_default_rtol(A))
    return _pinv(A, a, r, bool(hermitian))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with ``rtol = rcond``.

    >>> import autojac
    >>> autojac.pinverse(autojac.tensor([[2., 0.]]))
    tensor([[0.5000],
            [0.0000]])
    """
    _need_tensor(input, "pinverse", "input", 1)
    return pinv(input, rcond)


# --------------------------------------------------------------------------- lstsq
LstsqResult = return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_numpy(a: np.ndarray, b: np.ndarray, rcond, driver: str, vec: bool) -> tuple:
    """Solution, residuals, rank and singular values as PyTorch's CPU drivers return them."""
    m, n = a.shape[-2:]
    if vec:
        b = b[..., None]
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    if rcond is None:
        rcond = float(np.finfo(a.dtype).eps) * max(m, n)
    keep = s > rcond * s[..., :1] if s.shape[-1] else s > 0
    sinv = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype)
    x = _mT(vh).conj() @ (sinv[..., None] * (_mT(u).conj() @ b))
    rank = np.sum(keep, axis=-1).astype(np.int64)
    full = driver == "gels" or bool(np.all(rank == n))
    if m > n and driver != "gelsy" and full:
        res = np.sum(np.abs(a @ x - b) ** 2, axis=-2).astype(s.dtype)
    else:
        res = np.empty((0,), s.dtype)
    if driver == "gels":
        rank = np.empty((0,), np.int64)
    sv = s if driver in ("gelsd", "gelss") else np.empty((0,), s.dtype)
    return (x[..., 0] if vec else x), res, rank, sv


def _as_mat(t: Tensor, vec: bool) -> Tensor:
    return t.unsqueeze(-1) if vec else t


def _lstsq_pinv(A: Tensor) -> Tensor:
    return _pinv(A, np.asarray(0.0), np.asarray(_default_rtol(A)), False)


def _lstsq_vjp(which: int):
    def rule(g, ans, A, B, pre, vec):
        gX, gRes = g
        X, res = ans
        Bm, Xm, gXm = _as_mat(B, vec), _as_mat(X, vec), _as_mat(gX, vec)
        out = None
        if _live(gX):
            P = _lstsq_pinv(A)
            out = _pinv_vjp_formula(gXm @ Bm.mT, P, A) if which == 0 else P.mT @ gXm
        if res._data.size and _live(gRes):
            r = A @ Xm - Bm
            w = gRes.unsqueeze(-2) * r
            term = 2.0 * (w @ Xm.mT) if which == 0 else -2.0 * w
            out = term if out is None else out + term
        if out is None:
            shape = batch_shape(gX, X) + tuple((A if which == 0 else Bm).shape)
            out = _zeros_like_shape(A, shape)
        return out.squeeze(-1) if which == 1 and vec else out
    return rule


def _lstsq_jvp(which: int):
    def rule(t, ans, A, B, pre, vec):
        X, res = ans
        Bm, Xm = _as_mat(B, vec), _as_mat(X, vec)
        batch = max(A.ndim - 2, Bm.ndim - 2)
        P = _lstsq_pinv(A)
        if which == 0:
            t = pad_batch(t, A, batch + 2)
            dX = _pinv_jvp_formula(t, P, A) @ Bm
        else:
            t = pad_batch(_as_mat(t, vec), Bm, batch + 2)
            dX = P @ t
        dRes = None
        if res._data.size:
            r = A @ Xm - Bm
            change = A @ dX + (t @ Xm if which == 0 else -t)
            dRes = 2.0 * (r * change).sum(-2)
        return (dX.squeeze(-1) if vec else dX), dRes
    return rule


_lstsq = defop("linalg_lstsq", lambda a, b, pre, vec: pre, vjp=(_lstsq_vjp(0), _lstsq_vjp(1), None),
               jvp=(_lstsq_jvp(0), _lstsq_jvp(1), None), n_out=2, saves_ans=True,
               grad_name="LinalgLstsqBackward0", batch=PER_ELEMENT)


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None) -> LstsqResult:
    """Least-squares solution of ``A X = B`` (minimum norm when rank-deficient): the namedtuple
    ``(solution, residuals, rank, singular_values)`` as PyTorch's CPU drivers fill it
    (``driver`` ``"gelsy"`` by default: no residuals, no singular values).

    The solution and the residuals are differentiable (the solution through ``pinv(A) B``).

    >>> import autojac
    >>> A = autojac.tensor([[1., 0.], [0., 1.], [1., 1.]])
    >>> autojac.linalg.lstsq(A, autojac.tensor([[1.], [2.], [3.]])).solution
    tensor([[1.0000],
            [2.0000]])
    """
    _need_tensor(A, "linalg_lstsq", "self", 1)
    _need_tensor(B, "linalg_lstsq", "b", 2)
    if driver is not None and driver not in _LSTSQ_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A._data.dtype.kind not in "fc" or B._data.dtype.kind not in "fc":
        raise RuntimeError("This function doesn't handle types other than float and double")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_tname(A)} and other's dtype {_tname(B)}")
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    na, nb = A._data.ndim, B._data.ndim
    if not (na >= nb and na - nb <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    vec = na == nb + 1
    _batch_broadcast(tuple(A._data.shape[:-2]), tuple(B._data.shape[:-1] if vec else B._data.shape[:-2]))
    if (B._data.shape[-1] if vec else B._data.shape[-2]) != A._data.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    _check_matrix(A, "linalg.lstsq", square=False)
    x, res, rank, sv = _lstsq_numpy(A._data, B._data, rcond, driver or "gelsy", vec)
    solution, residuals = _lstsq(A, B, (x, res), vec=vec)
    return LstsqResult(solution, residuals, _wrap(rank), _wrap(sv))
