"""Linear algebra: det, slogdet/logdet, inv, solve (``torch.linalg``'s names and semantics).

Forwards run in NumPy (LAPACK) over leading batch dimensions. Rules are written in autojac
ops, so they are differentiable again; cotangents and tangents may carry extra leading batch
dimensions (DESIGN.md decision 3), which ``@`` and right-aligned broadcasting pass through.

- ``det``: ``d det = <cof(A), dA>`` with the cofactor matrix ``cof(A) = det(A) A^{-T}``. Where
  ``|det A| < 100 eps`` (PyTorch's threshold) the cofactor comes from the SVD instead, as in
  PyTorch's ``linalg_det_backward``, so a rank n-1 matrix gets its true, non-zero gradient.
  PyTorch itself returns zeros there when the LU factorization hits an exact zero pivot and no
  graph is built (``create_graph=False``); with ``create_graph=True`` it returns the cofactor, as
  we always do. Second derivatives at singular matrices are exact (a closed form through the
  SVD); third and higher derivatives there raise ``NotImplementedError``.
- ``slogdet``: ``d logabsdet = tr(A^{-1} dA)``; ``sign`` has no derivative (real inputs). At an
  exactly singular matrix the gradient of ``logabsdet`` is NaN (PyTorch's holds infs and
  LAPACK leftovers there).
- ``inv``: ``d inv = -inv dA inv``. ``solve``: ``dX = A^{-1}(dB - dA X)`` (``left=False``:
  ``(dB - X dA) A^{-1}``).

Gradients of complex matrices are not supported (the rules would need conjugates); complex
forwards work.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._core.grad_mode import STATE
from .._tensor import Tensor
from ._declare import attach, defop
from .elementwise import where
from .reduce import _others_last_forward

__all__ = ["det", "slogdet", "logdet", "inv", "inverse", "solve", "LinAlgError"]


class LinAlgError(RuntimeError):
    """A matrix is singular where an invertible one is needed (``torch.linalg.LinAlgError``)."""


# --------------------------------------------------------------------------- argument checks
_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "uint8": "Byte", "bool": "Bool"}


def _tname(x: Tensor) -> str:
    return _TORCH_NAMES.get(x._data.dtype.name, x._data.dtype.name)


def _need_tensor(x, fn: str, arg: str, pos: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _check_matrix(A: Tensor, name: str, *, half: str = "low precision") -> None:
    """PyTorch's checks, in its order: dtype, at least 2-D, square."""
    kind = A._data.dtype.kind
    if kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_tname(A)}")
    if A._data.dtype == np.float16:
        if half == "lu":  # PyTorch's det and solve fail in the LU kernel, inv/slogdet/logdet check first
            raise NotImplementedError("\"lu_cpu\" not implemented for 'Half'")
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    rows, cols = A._data.shape[-2:]
    if rows != cols:
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


# --------------------------------------------------------------------------- primitives
def _inv_vjp(g, ans, a):
    return -(ans.mT @ g @ ans.mT)


def _inv_jvp(t, ans, a):
    return -(ans @ t @ ans)


_inv = defop("linalg_inv", _inv_forward, vjp=(_inv_vjp,), jvp=(_inv_jvp,), saves_inputs=False,
             saves_ans=True, grad_name="LinalgInvExBackward0")
_inv_lenient = defop("linalg_inv", _inv_or_nan, vjp=(_inv_vjp,), jvp=(_inv_jvp,), saves_inputs=False,
                     saves_ans=True, grad_name="LinalgInvExBackward0")

_det_hess = defop(
    "det_hessian", _det_hess_forward,
    vjp=(lambda g, ans, G, A: _det_hess(g, A), _no_third),
    jvp=(lambda t, ans, G, A: _det_hess(t, A), _no_third),
    grad_name="LinalgDetBackwardBackward0",
)
_cofactor = defop(
    "cofactor", _cofactor_forward,
    vjp=(lambda g, ans, A: _det_hess(g, A),),
    jvp=(lambda t, ans, A: _det_hess(t, A),),
    grad_name="LinalgDetBackwardBackward0",
)


def _cof(A: Tensor, det: Tensor) -> Tensor:
    """``cof(A) = det(A) A^{-T}``, differentiably; through the SVD when a matrix is singular."""
    if _is_singular(np.asarray(det._data)).any():
        return _cofactor(A)
    return det.unsqueeze(-1).unsqueeze(-1) * _inv(A).mT


_det = defop(
    "linalg_det", lambda a: np.linalg.det(a),
    vjp=(lambda g, ans, A: g.unsqueeze(-1).unsqueeze(-1) * _cof(A, ans),),
    jvp=(lambda t, ans, A: (_cof(A, ans) * t).sum((-2, -1)),),
    saves_ans=True, grad_name="LinalgDetBackward0",
)


def _given_or(i: int):
    """A forward that returns part ``i`` of ``slogdet`` when precomputed, else computes it."""
    def forward(a: np.ndarray, pre: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(np.linalg.slogdet(a)[i] if pre is None else pre)
    return forward


# slogdet as two single-output ops sharing one LAPACK call; sign has no derivative (rule None)
_sign = defop("linalg_slogdet_sign", _given_or(0), vjp=(None, None), jvp=(None, None), saves_inputs=False,
              grad_name="LinalgSlogdetBackward0")
_logabsdet = defop(
    "linalg_slogdet", _given_or(1),
    vjp=(lambda g, ans, A, pre=None: g.unsqueeze(-1).unsqueeze(-1) * _inv_lenient(A).mT, None),
    jvp=(lambda t, ans, A, pre=None: (_inv_lenient(A).mT * t).sum((-2, -1)), None),
    grad_name="LinalgSlogdetBackward0",
)


def _pad_batch(t: Tensor, x: Tensor, core: int, batch: int) -> Tensor:
    """Give the tangent ``t`` of ``x`` (``core`` matrix/vector dims) ``batch`` batch dims after its
    own leading ones, so right-aligned broadcasting cannot pair them with the output's batch."""
    nb = t.ndim - x.ndim
    k = batch - (x.ndim - core)
    if nb == 0 or k <= 0:
        return t
    return t.reshape(tuple(t.shape[:nb]) + (1,) * k + tuple(x.shape))


def _solve_vjp_b(g, ans, A, B, left, vec):
    return _solve(A.mT, g, left=left, vec=vec)


def _solve_vjp_a(g, ans, A, B, left, vec):
    gb = _solve(A.mT, g, left=left, vec=vec)
    if vec:
        return -(gb.unsqueeze(-1) * ans.unsqueeze(-2))
    return -(gb @ ans.mT) if left else -(ans.mT @ gb)


def _solve_jvp_a(t, ans, A, B, left, vec):
    t = _pad_batch(t, A, 2, ans.ndim - (1 if vec else 2))
    if vec:
        rhs = -(t @ ans.unsqueeze(-1)).squeeze(-1)
    else:
        rhs = -(t @ ans) if left else -(ans @ t)
    return _solve(A, rhs, left=left, vec=vec)


def _solve_jvp_b(t, ans, A, B, left, vec):
    return _solve(A, _pad_batch(t, B, 1 if vec else 2, ans.ndim - (1 if vec else 2)), left=left, vec=vec)


_solve = defop("linalg_solve", _solve_forward, vjp=(_solve_vjp_a, _solve_vjp_b), jvp=(_solve_jvp_a, _solve_jvp_b),
               saves_ans=True, grad_name="LinalgSolveExBackward0")


# --------------------------------------------------------------------------- public functions
SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


class _ReturnLinalgSlogdet(SlogdetResult):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"autojac.return_types.linalg_slogdet(\nsign={self.sign!r},\nlogabsdet={self.logabsdet!r})"


class _ReturnSlogdet(namedtuple("slogdet", ["sign", "logabsdet"])):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"autojac.return_types.slogdet(\nsign={self.sign!r},\nlogabsdet={self.logabsdet!r})"


def det(A: Tensor) -> Tensor:
    """Determinant of a (batch of) square matrices.

    >>> import autojac
    >>> autojac.linalg.det(autojac.tensor([[1., 2.], [3., 4.]]))
    tensor(-2.)
    """
    _need_tensor(A, "linalg_det", "A", 1)
    _check_matrix(A, "linalg.det", half="lu")
    return _det(A)


def _slogdet_parts(A: Tensor) -> tuple[Tensor, Tensor]:
    sign, lad = np.linalg.slogdet(A._data)
    return _sign(A, np.asarray(sign)), _logabsdet(A, np.asarray(lad))


def slogdet(A: Tensor) -> SlogdetResult:
    """Sign and log of the absolute value of the determinant: ``(sign, logabsdet)``.

    >>> import autojac
    >>> autojac.linalg.slogdet(autojac.tensor([[-2., 0.], [0., 4.]])).logabsdet
    tensor(2.0794)
    """
    _need_tensor(A, "linalg_slogdet", "A", 1)
    _check_matrix(A, "linalg.slogdet")
    return _ReturnLinalgSlogdet(*_slogdet_parts(A))


def _slogdet_top(input: Tensor) -> SlogdetResult:
    """``torch.slogdet``: as ``linalg.slogdet``, returned as ``return_types.slogdet``."""
    _need_tensor(input, "slogdet", "input", 1)
    _check_matrix(input, "linalg.slogdet")
    return _ReturnSlogdet(*_slogdet_parts(input))


def logdet(input: Tensor) -> Tensor:
    """Log-determinant: ``nan`` where the determinant is negative, ``-inf`` where it is 0.

    >>> import autojac
    >>> autojac.logdet(autojac.tensor([[2., 0.], [0., 3.]]))
    tensor(1.7918)
    """
    _need_tensor(input, "logdet", "input", 1)
    _check_matrix(input, "logdet")
    sign, lad = _slogdet_parts(input)
    return where(sign._data < 0, float("nan"), lad)


def inv(A: Tensor) -> Tensor:
    """Inverse of a (batch of) square matrices; raises ``LinAlgError`` if one is singular.

    >>> import autojac
    >>> autojac.linalg.inv(autojac.tensor([[2., 0.], [0., 4.]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    _need_tensor(A, "linalg_inv", "A", 1)
    _check_matrix(A, "linalg.inv")
    return _inv(A)


def inverse(input: Tensor) -> Tensor:
    """``torch.inverse``: the same as ``linalg.inv``."""
    _need_tensor(input, "inverse", "input", 1)
    _check_matrix(input, "linalg.inv")
    return _inv(input)


def _batch_broadcast(b_batch: tuple, a_batch: tuple) -> None:
    """PyTorch's error for batch dims that do not broadcast (tensor a is B, tensor b is A)."""
    n = max(len(a_batch), len(b_batch))
    pb, pa = (1,) * (n - len(b_batch)) + b_batch, (1,) * (n - len(a_batch)) + a_batch
    for i in range(n - 1, -1, -1):
        if pb[i] != pa[i] and pb[i] != 1 and pa[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pb[i]}) must match the size of tensor b ({pa[i]}) at "
                               f"non-singleton dimension {i}")


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left=False``), batched and broadcast.

    ``B`` is a vector (or a batch of vectors) when it is 1-D or has exactly ``A.shape[:-1]``.

    >>> import autojac
    >>> autojac.linalg.solve(autojac.tensor([[2., 0.], [0., 4.]]), autojac.tensor([1., 1.]))
    tensor([0.5000, 0.2500])
    """
    _need_tensor(A, "linalg_solve", "A", 1)
    _need_tensor(B, "linalg_solve", "B", 2)
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.solve: Expected a floating point or complex tensor as input. Got {_tname(A)}")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {_tname(A)} "
                           f"and B of type {_tname(B)} instead")
    _check_matrix(A, "linalg.solve", half="lu")
    a, b = A._data.shape, B._data.shape
    vec = len(b) == 1 or (len(b) == len(a) - 1 and b == a[:-1])
    if not vec and len(b) < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    rows, cols = (b[-1], 1) if vec else b[-2:]
    n = a[-1]
    if vec and not left or (rows if left else cols) != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})")
    if not vec:
        _batch_broadcast(tuple(b[:-2]), tuple(a[:-2]))
    if B._data.dtype.kind == "c" and STATE.enabled and B._requires_grad:
        raise NotImplementedError("linalg.solve: gradients of complex matrices are not supported by autojac")
    return _solve(A, B, left=left, vec=vec)


attach(det=det, logdet=logdet, slogdet=_slogdet_top, inverse=inverse)
