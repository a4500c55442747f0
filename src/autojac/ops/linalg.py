"""Linear algebra (``torch.linalg``'s names and semantics): det, slogdet/logdet, inv, solve; cholesky,
qr, eigh/eigvalsh, svd/svdvals, vector_norm/matrix_norm/norm, pinv, lstsq, matrix_exp, cross; and
torch's top-level ``cholesky``, ``qr``, ``svd``, ``pinverse``, ``matrix_exp``, ``cross``.

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
- ``cholesky``, ``eigh``: the input's one triangle is read, the gradient is symmetric (torch's
  formulas); their JVPs take the whole tangent, as torch's. ``eigh``/``svd``: vector gradients
  divide by eigenvalue (squared singular value) gaps; eigenvalues/singular values alone do not
  (a zero cotangent is skipped, as torch skips an undefined one). ``qr``: not differentiable for
  ``mode="r"`` or a complete QR of a tall matrix (torch's errors). Norms: zero gradient at 0.
  ``pinv``/``lstsq``: the constant-rank pseudo-inverse derivative. ``matrix_exp``: the Frechet
  derivative as a block of ``exp([[A, E], [0, A]])``.

Gradients of complex matrices are not supported (the rules would need conjugates); complex
forwards work.
"""

from __future__ import annotations

import warnings as _warnings
from collections import namedtuple

import numpy as np

from .._core.grad_mode import STATE
from .._core.patterns import ZERO, batched_matrix_pattern, reduce_pattern
from .._tensor import Tensor, _wrap, _wrap_dim
from ._declare import attach, defop, lift, renamed
from .elementwise import abs as _abs
from .elementwise import sign, where
from .matmul import diagonal, tril, triu
from .reduce import _others_last_forward, _sum_dim, normalize_dims, unreduce
from .shape import cat

__all__ = ["det", "slogdet", "logdet", "inv", "inverse", "solve", "LinAlgError", "cholesky", "qr", "eigh", "eigvalsh",
           "svd", "svdvals", "vector_norm", "matrix_norm", "norm", "pinv", "pinverse", "lstsq", "matrix_exp", "cross"]


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


# --------------------------------------------------------------------------- primitives
def _inv_vjp(g, ans, a):
    return -(ans.mT @ g @ ans.mT)


def _inv_jvp(t, ans, a):
    return -(ans @ t @ ans)


_MATRIX = batched_matrix_pattern((2,), 2)  # a matrix of each batch entry from the matrix at the same entry
_inv = defop("linalg_inv", _inv_forward, vjp=(_inv_vjp,), jvp=(_inv_jvp,), saves_inputs=False,
             saves_ans=True, grad_name="LinalgInvExBackward0", sparsity=_MATRIX)
_inv_lenient = defop("linalg_inv", _inv_or_nan, vjp=(_inv_vjp,), jvp=(_inv_jvp,), saves_inputs=False,
                     saves_ans=True, grad_name="LinalgInvExBackward0", sparsity=_MATRIX)

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
    saves_ans=True, grad_name="LinalgDetBackward0", sparsity=batched_matrix_pattern((2,), 0),
)


def _given_or(i: int):
    """A forward that returns part ``i`` of ``slogdet`` when precomputed, else computes it."""
    def forward(a: np.ndarray, pre: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(np.linalg.slogdet(a)[i] if pre is None else pre)
    return forward


# slogdet as two single-output ops sharing one LAPACK call; sign has no derivative (rule None)
_sign = defop("linalg_slogdet_sign", _given_or(0), vjp=(None, None), jvp=(None, None), saves_inputs=False,
              grad_name="LinalgSlogdetBackward0", sparsity=ZERO)
_logabsdet = defop(
    "linalg_slogdet", _given_or(1),
    vjp=(lambda g, ans, A, pre=None: g.unsqueeze(-1).unsqueeze(-1) * _inv_lenient(A).mT, None),
    jvp=(lambda t, ans, A, pre=None: (_inv_lenient(A).mT * t).sum((-2, -1)), None),
    grad_name="LinalgSlogdetBackward0", sparsity=batched_matrix_pattern((2, None), 0),
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


def _vec(args: tuple, params: dict) -> bool:
    """Whether ``linalg_solve``'s right-hand side is a (batch of) vector(s)."""
    return bool(params["vec"] if "vec" in params else (args[3] if len(args) > 3 else False))


_solve = defop("linalg_solve", _solve_forward, vjp=(_solve_vjp_a, _solve_vjp_b), jvp=(_solve_jvp_a, _solve_jvp_b),
               saves_ans=True, grad_name="LinalgSolveExBackward0",
               sparsity=batched_matrix_pattern(lambda args, p: (2, 1 if _vec(args, p) else 2),
                                               lambda args, p: 1 if _vec(args, p) else 2))


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


def _tri_solve(A: Tensor, B: Tensor, left: bool = True) -> Tensor:
    """``A^{-1} B`` (``B A^{-1}`` when not ``left``) for a triangular ``A``, differentiably."""
    return _solve(A, B, left=left, vec=False)


def _return_type(name: str, fields: list):
    """A namedtuple printed like ``torch.return_types.<name>``."""
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"autojac.return_types.{name}(\n{body})"

    return type(f"_Return_{name}", (base,), {"__slots__": (), "__repr__": __repr__})


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
                  saves_inputs=False, saves_ans=True, grad_name="LinalgCholeskyExBackward0", sparsity=_MATRIX)
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
QRResult = _return_type("linalg_qr", ["Q", "R"])
_QRTop = _return_type("qr", ["Q", "R"])

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
            grad_name="LinalgQrBackward0")


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
EighResult = _return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])


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
              jvp=(_eigh_jvp,), n_out=2, saves_inputs=False, saves_ans=True, grad_name="LinalgEighBackward0")


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
SVDResult = _return_type("linalg_svd", ["U", "S", "Vh"])
_SVDTop = _return_type("svd", ["U", "S", "V"])


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
             vjp=(_svd_vjp,), jvp=(_svd_jvp,), n_out=3, saves_inputs=False, saves_ans=True,
             grad_name="LinalgSvdBackward0")


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
    nb = t.ndim - x.ndim
    if f is None:
        return _zeros_like_shape(ans, tuple(t.shape[:nb]) + tuple(ans.shape))
    r = _sum_dim(t * f, tuple(d + nb for d in dims), keepdim)
    return r if s is None else r * s


_vnorm = defop("linalg_vector_norm", _vnorm_forward, vjp=(_vnorm_vjp,), jvp=(_vnorm_jvp,), saves_ans=True,
               grad_name="LinalgVectorNormBackward0", sparsity=reduce_pattern(dims_at=2))

_NARROWER = {"float16": 1, "float32": 2, "float64": 3, "complex64": 2, "complex128": 3}


def _norm_dtype(x: Tensor, dtype, name: str) -> Tensor:
    """Apply a norm's ``dtype=`` (PyTorch's ``check_linalg_norm_dtype``)."""
    if dtype is None:
        return x
    from .._dtype import to_dtype

    d = to_dtype(dtype)
    target = np.dtype(d.np)
    if target.kind not in "fc":
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got {_TORCH_NAMES[target.name]}")
    src = x._data.dtype
    if (src.kind == "c") != (target.kind == "c") or _NARROWER.get(target.name, 0) < _NARROWER.get(src.name, 0):
        raise RuntimeError(f"{name}: the dtype of the input ({_tname(x)}) should be convertible without narrowing "
                           f"to the specified dtype ({_TORCH_NAMES[target.name]})")
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
    saves_ans=True, grad_name="LinalgPinvBackward0",
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
LstsqResult = _return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
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
            shape = tuple(gX.shape[:gX.ndim - X.ndim]) + tuple((A if which == 0 else Bm).shape)
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
            t = _pad_batch(t, A, 2, batch)
            dX = _pinv_jvp_formula(t, P, A) @ Bm
        else:
            t = _pad_batch(_as_mat(t, vec), Bm, 2, batch)
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
               grad_name="LinalgLstsqBackward0")


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


# --------------------------------------------------------------------------- matrix_exp
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152  # Higham (2005): Pade [13/13] is exact to double precision below this 1-norm


def _expm_forward(a: np.ndarray) -> np.ndarray:
    """``exp(A)`` by scaling and squaring with the [13/13] Pade approximant (Higham 2005),
    batched, in double precision whatever the input's (then cast back)."""
    work = np.complex128 if a.dtype.kind == "c" else np.float64
    x = np.asarray(a, dtype=work)
    n = x.shape[-1]
    if x.size == 0:
        return np.asarray(x, dtype=a.dtype)
    norm = np.abs(x).sum(-2).max(-1)  # the 1-norm of each matrix
    with np.errstate(divide="ignore"):
        s = np.maximum(0, np.ceil(np.log2(np.maximum(norm, 1e-300) / _THETA13))).astype(np.int64)
    s = np.where(np.isfinite(norm), s, 0)
    x = x / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = np.eye(n, dtype=work)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for i in range(int(s.max(initial=0))):
        r = np.where((s > i)[..., None, None], r @ r, r)
    return np.asarray(r, dtype=a.dtype)


def _expm_block(A: Tensor, E: Tensor) -> Tensor:
    """The upper-right block of ``exp([[A, E], [0, A]])``: the Frechet derivative of exp at ``A``
    along ``E`` (``E`` may carry leading batch dims)."""
    n = A._data.shape[-1]
    Ab = A.expand(*E.shape)
    top = cat([Ab, E], -1)
    bottom = cat([_zeros_like_shape(E, tuple(E.shape)), Ab], -1)
    return _matrix_exp(cat([top, bottom], -2))[..., :n, n:]


_matrix_exp = defop("linalg_matrix_exp", _expm_forward,
                    vjp=(lambda g, ans, A: _expm_block(A.mT, g),),
                    jvp=(lambda t, ans, A: _expm_block(A, t),),
                    grad_name="LinalgMatrixExpBackward0", sparsity=_MATRIX)


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential ``sum_k A^k / k!`` of a (batch of) square matrices.

    >>> import autojac
    >>> autojac.linalg.matrix_exp(autojac.tensor([[0., 1.], [0., 0.]]))
    tensor([[1., 1.],
            [0., 1.]])
    """
    _need_tensor(A, "linalg_matrix_exp", "input", 1)
    _check_matrix(A, "linalg.matrix_exp", half="ok")
    return _matrix_exp(A)


# --------------------------------------------------------------------------- cross
_cross = defop(
    "linalg_cross", lambda a, b, dim: np.cross(a, b, axis=dim),
    vjp=(lambda g, ans, a, b, dim: _cross(b, g, dim=dim), lambda g, ans, a, b, dim: _cross(g, a, dim=dim)),
    jvp=(lambda t, ans, a, b, dim: _cross(lift(t, a, ans), b, dim=dim),
         lambda t, ans, a, b, dim: _cross(a, lift(t, b, ans), dim=dim)),
    grad_name="LinalgCrossBackward0",
)


def _cross_checks(input: Tensor, other: Tensor) -> tuple:
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"expected scalar type {_tname(input)} but found {_tname(other)}")
    a, b = input._data.shape, other._data.shape
    if len(a) != len(b):
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    _batch_broadcast(tuple(a), tuple(b))
    return np.broadcast_shapes(a, b)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim``, broadcasting the other dims.

    >>> import autojac
    >>> autojac.linalg.cross(autojac.tensor([1., 0., 0.]), autojac.tensor([0., 1., 0.]))
    tensor([0., 0., 1.])
    """
    _need_tensor(input, "linalg_cross", "input", 1)
    _need_tensor(other, "linalg_cross", "other", 2)
    shape = _cross_checks(input, other)
    d = _wrap_dim(dim, len(shape))
    na, nb_ = input._data.shape[d], other._data.shape[d]
    if na != 3 or nb_ != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {na} and {nb_}")
    return _cross(input, other, dim=d - len(shape))


def _cross_top(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """``torch.cross``: without ``dim``, the first dimension of size 3 (deprecated in PyTorch).

    >>> import autojac
    >>> autojac.cross(autojac.tensor([0., 1., 0.]), autojac.tensor([0., 0., 1.]), dim=0)
    tensor([1., 0., 0.])
    """
    _need_tensor(input, "cross", "input", 1)
    _need_tensor(other, "cross", "other", 2)
    if dim is None:
        _warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                       "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                       "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = _cross_checks(input, other)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return cross(input, other, dim=dim)


attach(cholesky=_cholesky_top, qr=_qr_top, svd=_svd_top, pinverse=pinverse, matrix_exp=matrix_exp, cross=_cross_top)
