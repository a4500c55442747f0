"""What the linalg modules share: argument checks, LAPACK error messages, NumPy kernels, rule helpers."""

from __future__ import annotations

import numpy as np

from ..._core.grad_mode import STATE
from ..._dtype import torch_name
from ..._tensor import Tensor, _wrap
from ..matmul import diagonal
from ..reduce import _others_last_forward


class LinAlgError(RuntimeError):
    """A matrix is singular where an invertible one is needed (``torch.linalg.LinAlgError``)."""


# --------------------------------------------------------------------------- argument checks
def _tname(x: Tensor) -> str:
    return torch_name(x._data.dtype)


def _need_tensor(x, fn: str, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _check_matrix(A: Tensor, name: str, *, half: str = "low precision", square: bool = True) -> None:
    """PyTorch's checks, in its order: dtype, at least 2-D, square.

    ``half``: how float16 fails: "low precision" (a check), "lu" or a kernel name such as
    "cholesky_cpu" (PyTorch's kernel has no Half version); "ok" lets it through.
    """
    kind = A._data.dtype.kind
    if kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_tname(A)}")
    if A._data.dtype == np.float16 and half != "ok":
        if half == "lu" or half.endswith("_cpu"):  # det and solve fail in the LU kernel, inv/slogdet/logdet check first
            raise NotImplementedError(f"\"{'lu_cpu' if half == 'lu' else half}\" not implemented for 'Half'")
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    rows, cols = A._data.shape[-2:]
    if square and rows != cols:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {rows} by {cols} matrices")
    if kind == "c" and STATE.enabled and A._requires_grad:
        raise NotImplementedError(f"{name}: gradients of complex matrices are not supported by autojac")


# --------------------------------------------------------------------------- singular-matrix errors
def _first_zero_pivot(m: np.ndarray) -> int:
    """LAPACK getrf's ``info`` for one matrix: the 1-based index of the first zero pivot of its
    partially pivoted LU factorization, or 0 when there is none (only called on failure)."""
    a = np.array(m, dtype=np.complex128 if m.dtype.kind == "c" else np.float64)
    n = a.shape[0]
    for j in range(n):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        if a[p, j] == 0:
            return j + 1
        a[[j, p]] = a[[p, j]]
        a[j + 1:, j] /= a[j, j]
        a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return 0


def _singular_elements(a: np.ndarray):
    """The flat batch indices of the matrices NumPy cannot invert."""
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        try:
            np.linalg.inv(m)
        except np.linalg.LinAlgError:
            yield i, m


def _inv_error(a: np.ndarray) -> LinAlgError:
    i, m = next(_singular_elements(a), (0, a.reshape((-1,) + a.shape[-2:])[0]))
    k = _first_zero_pivot(m) or m.shape[-1]  # rounding may hide the zero from our own LU: name the last
    batch = f"(Batch element {i}): " if a.ndim > 2 else ""
    return LinAlgError(f"linalg.inv: {batch}The diagonal element {k} is zero, the inversion could not be "
                       "completed because the input matrix is singular.")


def _solve_error(a: np.ndarray) -> LinAlgError:
    i, _ = next(_singular_elements(a), (0, None))
    batch = f"(Batch element {i}): " if a.ndim > 2 else ""
    return LinAlgError(f"torch.linalg.solve: {batch}The solver failed because the input matrix is singular.")


# --------------------------------------------------------------------------- NumPy kernels
def _mT(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _is_singular(det: np.ndarray) -> np.ndarray:
    """PyTorch's switch to the SVD formula in det's backward: ``|det| < 100 eps``."""
    eps = np.finfo(det.dtype).eps
    return np.abs(det) < 100 * eps


def _inv_forward(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _inv_error(a) from None


def _inv_or_nan(a: np.ndarray) -> np.ndarray:
    """The inverse, NaN for the singular matrices of the batch (inside rules: never raises)."""
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        flat = a.reshape((-1,) + a.shape[-2:])
        out = np.full_like(flat, np.nan)
        for i, m in enumerate(flat):
            try:
                out[i] = np.linalg.inv(m)
            except np.linalg.LinAlgError:
                pass
        return out.reshape(a.shape)


def _svd_parts(a: np.ndarray):
    """``U, S, Vh`` and ``alpha = det(U) det(Vh)``, so that ``cof(A) = alpha U cof(S) Vh``."""
    u, s, vh = np.linalg.svd(a)
    return u, s, vh, np.linalg.det(u) * np.linalg.det(vh)


def _pairs(s: np.ndarray) -> np.ndarray:
    """``P[..., i, k] = prod_{m not in {i, k}} s_m``, 0 on the diagonal (exact with zeros)."""
    n = s.shape[-1]
    eye = np.eye(n, dtype=bool)
    rows = np.where(eye, np.ones((), s.dtype), s[..., None, :])  # row i: s with s_i := 1
    return np.where(eye, np.zeros((), s.dtype), _others_last_forward(rows))


def _cofactor_svd(a: np.ndarray) -> np.ndarray:
    """``cof(A) = alpha U diag(prod_{j != i} s_j) Vh``: no division, valid at singular A."""
    u, s, vh, alpha = _svd_parts(a)
    others = _others_last_forward(s) if s.shape[-1] else s
    return alpha[..., None, None] * ((u * others[..., None, :]) @ vh)


def _cofactor_forward(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix ``det(A) A^{-T}``, through the SVD where ``A`` is singular."""
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    det = np.linalg.det(flat)
    sing = _is_singular(det)
    out = np.empty_like(flat)
    if not sing.all():
        ok = ~sing
        out[ok] = det[ok][:, None, None] * _mT(np.linalg.inv(flat[ok]))
    if sing.any():
        out[sing] = _cofactor_svd(flat[sing])
    return out.reshape(a.shape)


def _det_hess_forward(g: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The VJP (and JVP: the map is self-adjoint) of the cofactor matrix at any ``A``.

    With ``A = U S V^T`` and ``cof(A) = alpha U cof(S) V^T``, the derivative of ``cof`` at the
    diagonal ``S`` along ``E`` is ``diag(P diag(E)) - P * E^T``, ``P`` from ``_pairs(S)``.
    ``g`` may carry leading batch dims beyond ``a``'s.
    """
    u, s, vh, alpha = _svd_parts(a)
    p = _pairs(s)
    gt = _mT(u) @ g @ _mT(vh)
    d = np.diagonal(gt, axis1=-2, axis2=-1)
    h = (p @ d[..., None]) * np.eye(s.shape[-1], dtype=p.dtype) - p * _mT(gt)
    return alpha[..., None, None] * (u @ h @ vh)


def _no_third(*args, **kwargs):
    raise NotImplementedError("autojac.linalg.det: derivatives of order 3 and above at a singular matrix "
                              "(|det| < 100 eps) are not implemented")


def _solve_forward(a: np.ndarray, b: np.ndarray, left: bool = True, vec: bool = False) -> np.ndarray:
    if vec:
        b = b[..., None]
    if not left:  # X A = B  <=>  A^T X^T = B^T
        a, b = _mT(a), _mT(b)
    try:
        x = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise _solve_error(a) from None
    if not left:
        x = _mT(x)
    return x[..., 0] if vec else x


# =========================================================================== factorizations, norms, and the rest
# cholesky, qr, eigh/eigvalsh, svd/svdvals, vector/matrix norms, pinv, lstsq, matrix_exp, cross.
# Every rule follows PyTorch's derivative formula (FunctionsManual.cpp), so gradients agree with
# torch's also where a formula picks one of several valid answers (the symmetric gradient of
# cholesky/eigh, the zero gradient of a norm at 0, the gauge of singular vectors).

# --------------------------------------------------------------------------- rule helpers (autojac ops)
def _eye(x: Tensor, n: int) -> Tensor:
    return _wrap(np.eye(n, dtype=x._data.dtype))


def _diag(X: Tensor) -> Tensor:
    return diagonal(X, 0, -2, -1)


def _diag_embed(d: Tensor) -> Tensor:
    return d.unsqueeze(-1) * _eye(d, d._data.shape[-1])


def _live(g: Tensor) -> bool:
    """Whether a cotangent of a multi-output op can be non-zero. The engine fills the cotangents
    of unused outputs with zeros; PyTorch leaves them undefined and skips their terms, which
    matters where those terms divide by eigenvalue gaps (eigvalsh, svdvals of repeated values)."""
    return bool(g._requires_grad or g._fw is not None or g._data.any())


def _gaps(lam: Tensor) -> Tensor:
    """``E[..., i, j] = lam_j - lam_i``, with ones on the diagonal (PyTorch's ``E``)."""
    n = lam._data.shape[-1]
    return lam.unsqueeze(-2) - lam.unsqueeze(-1) + _eye(lam, n)


def _zeros_like_shape(x: Tensor, shape: tuple) -> Tensor:
    return _wrap(np.zeros(shape, dtype=x._data.dtype))


