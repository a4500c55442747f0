"""Factorizations: cholesky, qr, eigh/eigvalsh, svd/svdvals."""

from __future__ import annotations

import warnings as _warnings

import numpy as np

from ..._core.batching import BROADCAST
from ..._core.node import Saves
from ..._tensor import Tensor
from .._declare import defop, renamed
from .._return_types import return_type
from ..matmul import tril, triu
from ..shape import cat
from ._base import (
    LinAlgError,
    _check_matrix,
    _diag,
    _diag_embed,
    _gaps,
    _live,
    _mT,
    _need_tensor,
    _tname,
    _zeros_like_shape,
)
from ._det import _MATRIX, _tri_solve


# --------------------------------------------------------------------------- cholesky
def _chol_failure(m: np.ndarray) -> int:
    """The order of the first leading minor that is not positive-definite (LAPACK potrf's info)."""
    a = np.asarray(m, dtype=np.complex128 if m.dtype.kind == "c" else np.float64)
    n = a.shape[-1]
    L = np.zeros_like(a)
    for j in range(n):
        d = (a[j, j] - L[j, :j] @ L[j, :j].conj()).real
        if not d > 0:
            return j + 1
        L[j, j] = np.sqrt(d)
        L[j + 1:, j] = (a[j + 1:, j] - L[j + 1:, :j] @ L[j, :j].conj()) / L[j, j]
    return n


def _is_pd(m: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return False
    return True


def _cholesky_error(a: np.ndarray, name: str) -> LinAlgError:
    flat = a.reshape((-1,) + a.shape[-2:])
    i = next((j for j, m in enumerate(flat) if not _is_pd(m)), 0)
    batch = f"(Batch element {i}): " if a.ndim > 2 else ""
    return LinAlgError(f"{name}: {batch}The factorization could not be completed because the input is not "
                       f"positive-definite (the leading minor of order {_chol_failure(flat[i])} is not "
                       "positive-definite).")


def _cholesky_forward(a: np.ndarray, upper: bool) -> np.ndarray:
    # LAPACK potrf, as PyTorch calls it, reads one triangle: the upper one when ``upper``
    b = _mT(a).conj() if upper else a
    try:
        L = np.linalg.cholesky(b)  # NumPy reads the lower triangle
    except np.linalg.LinAlgError:
        raise _cholesky_error(b, "linalg.cholesky") from None
    return _mT(L).conj() if upper else L


def _cholesky_vjp(g, ans, A, upper):
    # gA = L^{-T} Phi L^{-1}, Phi = sym(tril(L^T gL)) with the diagonal halved: symmetric, as torch's
    L, gL = (ans.mT, g.mT) if upper else (ans, g)
    P = tril(L.mT @ gL)
    P = (P + tril(P, -1).mT) * 0.5
    return _tri_solve(L, _tri_solve(L.mT, P), left=False)


def _cholesky_jvp(t, ans, A, upper):
    # dL = L Phi(L^{-1} dA L^{-T}), Phi: the lower triangle with the diagonal halved; the whole
    # tangent enters, untransposed also when ``upper`` (as in torch's cholesky_jvp)
    L = ans.mT if upper else ans
    phi = _tri_solve(L, _tri_solve(L, t).mT).mT
    phi = tril(phi) - _diag_embed(_diag(phi)) * 0.5
    dL = L @ phi
    return dL.mT if upper else dL


_cholesky = defop("linalg_cholesky", _cholesky_forward, vjp=(_cholesky_vjp,), jvp=(_cholesky_jvp,),
                  saves_inputs=Saves.NOTHING, saves_ans=True, grad_name="LinalgCholeskyExBackward0", sparsity=_MATRIX,
                  batch=BROADCAST)
_cholesky_old = renamed(_cholesky, "CholeskyBackward0")


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """Cholesky factor ``L`` of a symmetric positive-definite ``A = L L^T`` (``U = L^T`` if ``upper``).

    Only the lower triangle of ``A`` is read; the gradient is symmetric, as PyTorch's.

    >>> import autojac
    >>> autojac.linalg.cholesky(autojac.tensor([[4., 2.], [2., 5.]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    _need_tensor(A, "linalg_cholesky", "input", 1)
    _check_matrix(A, "linalg.cholesky", half="cholesky_cpu")
    return _cholesky(A, upper=bool(upper))


def _cholesky_top(input: Tensor, upper: bool = False) -> Tensor:
    """``torch.cholesky`` (deprecated in PyTorch in favour of ``linalg.cholesky``).

    >>> import autojac
    >>> autojac.cholesky(autojac.tensor([[4., 2.], [2., 5.]]), upper=True)
    tensor([[2., 1.],
            [0., 2.]])
    """
    _need_tensor(input, "cholesky", "input", 1)
    _check_matrix(input, "cholesky", half="cholesky_cpu")
    try:
        return _cholesky_old(input, upper=bool(upper))
    except LinAlgError as e:
        raise LinAlgError(str(e).replace("linalg.cholesky:", "cholesky:", 1)) from None


# --------------------------------------------------------------------------- qr
QRResult = return_type("linalg_qr", ["Q", "R"])
_QRTop = return_type("qr", ["Q", "R"])

_QR_MODES = ("reduced", "complete", "r")


def _qr_forward(a: np.ndarray, mode: str):
    if mode == "r":
        return np.empty((0,), a.dtype), np.linalg.qr(a, mode="r")
    return tuple(np.linalg.qr(a, mode=mode))


def _qr_check(A: Tensor, mode: str) -> None:
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                           "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    m, n = A._data.shape[-2:]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")


def _syminv(X: Tensor) -> Tensor:
    """The upper triangle of ``X`` with its diagonal halved (inverts ``U -> U + U^T``)."""
    return triu(X) - _diag_embed(_diag(X)) * 0.5


def _qr_vjp(g, ans, A, mode):
    _qr_check(A, mode)
    gQ, gR = g
    Q, R = ans
    m, n = A._data.shape[-2:]
    gA = gR @ R.mT - Q.mT @ gQ
    if m >= n:
        sym = triu(gA) + triu(gA, 1).mT
        return _tri_solve(R.mT, Q @ sym + gQ, left=False)
    X = -gA
    gA = _tri_solve(R[..., :m].mT, Q @ tril(X - X.mT), left=False)
    gA = cat([gA, _zeros_like_shape(gA, tuple(gA.shape[:-1]) + (n - m,))], -1)
    return gA + Q @ gR


def _qr_square_jvp(t, Q, R):
    dX = _tri_solve(R, t, left=False)  # dA R^{-1}
    C = Q.mT @ dX
    dR = _syminv(C + C.mT)  # Q^T dQ = C - dR R^{-1} must be skew
    return dX - Q @ dR, dR @ R


def _qr_jvp(t, ans, A, mode):
    _qr_check(A, mode)
    Q, R = ans
    m, n = A._data.shape[-2:]
    if m >= n:
        return _qr_square_jvp(t, Q, R)
    dQ, dR1 = _qr_square_jvp(t[..., :m], Q, R[..., :m])
    dR2 = Q.mT @ (t[..., m:] - dQ @ R[..., m:])
    return dQ, cat([dR1, dR2], -1)


_qr = defop("linalg_qr", _qr_forward, vjp=(_qr_vjp,), jvp=(_qr_jvp,), n_out=2, saves_ans=True,
            grad_name="LinalgQrBackward0", batch=BROADCAST)


def _qr_parts(A: Tensor, mode: str) -> tuple:
    if not isinstance(mode, str) or mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
    _check_matrix(A, "linalg.qr", half="geqrf_cpu", square=False)
    return _qr(A, mode=mode)


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """QR decomposition ``A = Q R``: ``mode`` is ``"reduced"``, ``"complete"`` or ``"r"`` (empty ``Q``).

    >>> import autojac
    >>> Q, R = autojac.linalg.qr(autojac.tensor([[3., 1.], [4., 2.]]))
    >>> R
    tensor([[-5.0000, -2.2000],
            [ 0.0000,  0.4000]])
    """
    _need_tensor(A, "linalg_qr", "A", 1)
    return QRResult(*_qr_parts(A, mode))


def _qr_top(input: Tensor, some: bool = True) -> QRResult:
    """``torch.qr(input, some=True)``: ``linalg.qr`` with mode ``"reduced"`` (``"complete"`` if not ``some``).

    >>> import autojac
    >>> autojac.qr(autojac.tensor([[3.], [4.]]), some=False).Q.shape
    autojac.Size([2, 2])
    """
    _need_tensor(input, "qr", "input", 1)
    _warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                   "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
                   "Q, R = torch.qr(A, some)\nshould be replaced with\n"
                   "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')", UserWarning, stacklevel=2)
    return _QRTop(*_qr_parts(input, "reduced" if some else "complete"))


# --------------------------------------------------------------------------- eigh / eigvalsh
EighResult = return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])


def _eigh_vjp(g, ans, A, UPLO):
    # gA = V (skew(V^T gV) / 2E + diag(gL)) V^T, E_ij = L_j - L_i: symmetric, as torch's
    gL, gV = g
    L, V = ans
    if not _live(gV):
        return (V * gL.unsqueeze(-2)) @ V.mT
    VhgV = V.mT @ gV
    gA = (VhgV - VhgV.mT) * 0.5 / _gaps(L) + _diag_embed(gL)
    return V @ gA @ V.mT


def _eigh_jvp(t, ans, A, UPLO):
    # the whole tangent, not its symmetric part, enters (as in torch): dP = V^T dA V
    L, V = ans
    dP = V.mT @ t @ V
    dL = _diag(dP)
    return dL, V @ ((dP - _diag_embed(dL)) / _gaps(L))


_eigh = defop("linalg_eigh", lambda a, UPLO: tuple(np.linalg.eigh(a, UPLO=UPLO)), vjp=(_eigh_vjp,),
              jvp=(_eigh_jvp,), n_out=2, saves_inputs=Saves.NOTHING, saves_ans=True, grad_name="LinalgEighBackward0",
              batch=BROADCAST)


def _eigh_parts(A: Tensor, UPLO: str) -> tuple:
    uplo = UPLO.upper() if isinstance(UPLO, str) else UPLO
    if uplo not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if A._data.ndim < 2:
        raise RuntimeError("linalg.eigh: The input tensor A must have at least 2 dimensions.")
    rows, cols = A._data.shape[-2:]
    if rows != cols:
        raise RuntimeError(f"linalg.eigh: A must be batches of square matrices, but they are {rows} by {cols} matrices")
    if A._data.dtype.kind not in "fc" or A._data.dtype == np.float16:
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{_tname(A)}'")
    _check_matrix(A, "linalg.eigh")
    return _eigh(A, UPLO=uplo)


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix; reads one triangle.

    The eigenvectors' gradient divides by eigenvalue gaps: finite only for distinct eigenvalues,
    and only for losses that do not depend on each eigenvector's sign (as PyTorch documents).

    >>> import autojac
    >>> autojac.linalg.eigh(autojac.tensor([[2., 1.], [1., 2.]])).eigenvalues
    tensor([1., 3.])
    """
    _need_tensor(A, "linalg_eigh", "A", 1)
    return EighResult(*_eigh_parts(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues (ascending) of a symmetric matrix.

    >>> import autojac
    >>> autojac.linalg.eigvalsh(autojac.tensor([[2., 1.], [1., 2.]]))
    tensor([1., 3.])
    """
    _need_tensor(A, "linalg_eigvalsh", "A", 1)
    return _eigh_parts(A, UPLO)[0]


# --------------------------------------------------------------------------- svd / svdvals
SVDResult = return_type("linalg_svd", ["U", "S", "Vh"])
_SVDTop = return_type("svd", ["U", "S", "V"])


def _thin(U: Tensor, Vh: Tensor, k: int) -> tuple:
    """The first ``k`` columns of ``U`` and rows of ``Vh`` (what a full SVD adds is arbitrary)."""
    if U._data.shape[-1] != k:
        U = U[..., :k]
    if Vh._data.shape[-2] != k:
        Vh = Vh[..., :k, :]
    return U, Vh


def _svd_vjp(g, ans, A, full_matrices):
    gU, gS, gVh = g
    U, S, Vh = ans
    m, n = A._data.shape[-2:]
    k = S._data.shape[-1]
    U, Vh = _thin(U, Vh, k)
    gU, gVh = _thin(gU, gVh, k)
    use_u, use_v = _live(gU), _live(gVh)
    if not use_u and not use_v:
        return U @ (gS.unsqueeze(-1) * Vh)
    E = _gaps(S * S)
    if use_u and use_v:
        gA = (_skew(U.mT @ gU) * S.unsqueeze(-2) + S.unsqueeze(-1) * _skew(Vh @ gVh.mT)) / E
    elif use_u:
        gA = (_skew(U.mT @ gU) / E) * S.unsqueeze(-2)
    else:
        gA = S.unsqueeze(-1) * (_skew(Vh @ gVh.mT) / E)
    gA = gA + _diag_embed(gS)
    if m > n and use_u:  # the part of gU outside span(U)
        gUSinv = gU / S.unsqueeze(-2)
        return (U @ gA + gUSinv - U @ (U.mT @ gUSinv)) @ Vh
    if m < n and use_v:
        SinvgVh = gVh / S.unsqueeze(-1)
        return U @ (gA @ Vh + SinvgVh - (SinvgVh @ Vh.mT) @ Vh)
    return U @ gA @ Vh


def _skew(X: Tensor) -> Tensor:
    return X - X.mT


def _svd_jvp(t, ans, A, full_matrices):
    U, S, Vh = ans
    m, n = A._data.shape[-2:]
    k = S._data.shape[-1]
    U, Vh = _thin(U, Vh, k)
    V = Vh.mT
    dP = U.mT @ t @ V
    dS = _diag(dP)
    dP = dP - _diag_embed(dS)
    E = _gaps(S * S)
    dU = U @ ((dP * S.unsqueeze(-2) + (dP * S.unsqueeze(-2)).mT) / E)
    SdP = S.unsqueeze(-1) * dP
    dVh = -(((SdP + SdP.mT) / E) @ Vh)
    if m > n:
        dAVSinv = t @ (V / S.unsqueeze(-2))
        dU = dU + dAVSinv - U @ (U.mT @ dAVSinv)
        if full_matrices:  # the extra columns get no tangent (as in torch)
            dU = cat([dU, _zeros_like_shape(dU, tuple(dU.shape[:-1]) + (m - n,))], -1)
    elif m < n:
        UhdASinv = (U.mT / S.unsqueeze(-1)) @ t
        dVh = dVh + UhdASinv - (UhdASinv @ V) @ Vh
        if full_matrices:
            dVh = cat([dVh, _zeros_like_shape(dVh, tuple(dVh.shape[:-2]) + (n - m, n))], -2)
    return dU, dS, dVh


_svd = defop("linalg_svd", lambda a, full_matrices: tuple(np.linalg.svd(a, full_matrices=full_matrices)),
             vjp=(_svd_vjp,), jvp=(_svd_jvp,), n_out=3, saves_inputs=Saves.NOTHING, saves_ans=True,
             grad_name="LinalgSvdBackward0", batch=BROADCAST)


def _svd_checked(A: Tensor, full_matrices: bool) -> tuple:
    _check_matrix(A, "linalg.svd", half="linalg_svd_cpu", square=False)
    return _svd(A, full_matrices=bool(full_matrices))


def svd(A: Tensor, full_matrices: bool = True, *, driver=None) -> SVDResult:
    """Singular value decomposition ``A = U diag(S) Vh``, singular values descending.

    Gradients through ``U``/``Vh`` need distinct singular values and a loss that does not depend
    on the singular vectors' signs; with ``full_matrices`` the extra columns/rows get no gradient.

    >>> import autojac
    >>> autojac.linalg.svd(autojac.tensor([[3., 0.], [0., -4.]])).S
    tensor([4., 3.])
    """
    _need_tensor(A, "linalg_svd", "A", 1)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")
    return SVDResult(*_svd_checked(A, full_matrices))


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """Singular values, descending.

    >>> import autojac
    >>> autojac.linalg.svdvals(autojac.tensor([[3., 0.], [0., -4.]]))
    tensor([4., 3.])
    """
    _need_tensor(A, "linalg_svdvals", "A", 1)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")
    return _svd_checked(A, False)[1]


def _svd_top(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVDResult:
    """``torch.svd``: returns ``V`` (not ``Vh``); zero ``U``, ``V`` when not ``compute_uv``.

    >>> import autojac
    >>> U, S, V = autojac.svd(autojac.tensor([[0., 2.], [1., 0.]]))
    >>> S, (U * S) @ V.mT
    (tensor([2., 1.]), tensor([[0., 2.],
            [1., 0.]]))
    """
    _need_tensor(input, "svd", "input", 1)
    if input._data.ndim < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has {input._data.ndim} "
                           "dimensions instead")
    U, S, Vh = _svd_checked(input, not some)
    if not compute_uv:
        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        return _SVDTop(_zeros_like_shape(U, batch + (m, m)), S, _zeros_like_shape(Vh, batch + (n, n)))
    return _SVDTop(U, S, Vh.mT)
