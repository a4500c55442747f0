"""Determinants, inverses and solves: det, slogdet/logdet, inv/inverse, solve."""

from __future__ import annotations

import numpy as np

from ..._core.batched import Batched
from ..._core.batching import BROADCAST, PER_ELEMENT, pad_batch
from ..._core.grad_mode import STATE
from ..._core.node import Saves
from ..._core.patterns import ZERO, batched_matrix_pattern
from ..._tensor import Tensor
from .._batched import logical_ndim, pad_to
from .._declare import defop
from .._return_types import return_type
from ..elementwise import where
from ._base import (
    _check_matrix,
    _cofactor_forward,
    _det_hess_forward,
    _inv_forward,
    _inv_or_nan,
    _is_singular,
    _need_tensor,
    _no_third,
    _solve_forward,
    _tname,
)


# --------------------------------------------------------------------------- primitives
def _inv_vjp(g, ans, a):
    return -(ans.mT @ g @ ans.mT)


def _inv_jvp(t, ans, a):
    return -(ans @ t @ ans)


_MATRIX = batched_matrix_pattern((2,), 2)  # a matrix of each batch entry from the matrix at the same entry
_inv = defop("linalg_inv", _inv_forward, vjp=(_inv_vjp,), jvp=(_inv_jvp,), saves_inputs=Saves.NOTHING,
             saves_ans=True, grad_name="LinalgInvExBackward0", sparsity=_MATRIX, batch=BROADCAST)
_inv_lenient = defop("linalg_inv", _inv_or_nan, vjp=(_inv_vjp,), jvp=(_inv_jvp,), saves_inputs=Saves.NOTHING,
                     saves_ans=True, grad_name="LinalgInvExBackward0", sparsity=_MATRIX, batch=BROADCAST)

_det_hess = defop(
    "det_hessian", _det_hess_forward,
    vjp=(lambda g, ans, G, A: _det_hess(g, A), _no_third),
    jvp=(lambda t, ans, G, A: _det_hess(t, A), _no_third),
    grad_name="LinalgDetBackwardBackward0", batch=PER_ELEMENT
)
_cofactor = defop(
    "cofactor", _cofactor_forward,
    vjp=(lambda g, ans, A: _det_hess(g, A),),
    jvp=(lambda t, ans, A: _det_hess(t, A),),
    grad_name="LinalgDetBackwardBackward0", batch=BROADCAST
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
    saves_ans=True, grad_name="LinalgDetBackward0", sparsity=batched_matrix_pattern((2,), 0), batch=BROADCAST
)


def _given_or(i: int):
    """A forward that returns part ``i`` of ``slogdet`` when precomputed, else computes it."""
    def forward(a: np.ndarray, pre: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(np.linalg.slogdet(a)[i] if pre is None else pre)
    return forward


# slogdet as two single-output ops sharing one LAPACK call; sign has no derivative (rule None)
_sign = defop("linalg_slogdet_sign", _given_or(0), vjp=(None, None), jvp=(None, None), saves_inputs=Saves.NOTHING,
              grad_name="LinalgSlogdetBackward0", sparsity=ZERO, batch=BROADCAST)
_logabsdet = defop(
    "linalg_slogdet", _given_or(1),
    vjp=(lambda g, ans, A, pre=None: g.unsqueeze(-1).unsqueeze(-1) * _inv_lenient(A).mT, None),
    jvp=(lambda t, ans, A, pre=None: (_inv_lenient(A).mT * t).sum((-2, -1)), None),
    grad_name="LinalgSlogdetBackward0", sparsity=batched_matrix_pattern((2, None), 0), batch=BROADCAST
)


def _solve_vjp_b(g, ans, A, B, left, vec):
    return _solve(A.mT, g, left=left, vec=vec)


def _solve_vjp_a(g, ans, A, B, left, vec):
    gb = _solve(A.mT, g, left=left, vec=vec)
    if vec:
        return -(gb.unsqueeze(-1) * ans.unsqueeze(-2))
    return -(gb @ ans.mT) if left else -(ans.mT @ gb)


def _solve_jvp_a(t, ans, A, B, left, vec):
    t = pad_batch(t, A, ans.ndim - (1 if vec else 2) + 2)  # A is a matrix: the output batch + 2
    if vec:
        rhs = -(t @ ans.unsqueeze(-1)).squeeze(-1)
    else:
        rhs = -(t @ ans) if left else -(ans @ t)
    return _solve(A, rhs, left=left, vec=vec)


def _solve_jvp_b(t, ans, A, B, left, vec):
    return _solve(A, pad_batch(t, B, ans.ndim), left=left, vec=vec)


def _vec(args: tuple, params: dict) -> bool:
    """Whether ``linalg_solve``'s right-hand side is a (batch of) vector(s)."""
    return bool(params["vec"] if "vec" in params else (args[3] if len(args) > 3 else False))


def _solve_batch(call, args, batched, params, size):
    """``vmap`` rule: give the batched operands as many leading batch dims as the other's, so the vmap
    batch dim stays apart (a vector right-hand side has one matrix dim, a matrix two)."""
    a, b = args[0], args[1]
    vec = _vec(args, params)
    ka, kb = logical_ndim(a, batched[0]) - 2, logical_ndim(b, batched[1]) - (1 if vec else 2)
    n = max(ka, kb)
    a = pad_to(a, n + 2) if batched[0] else a
    b = pad_to(b, n + (1 if vec else 2)) if batched[1] else b
    return call([a, b] + list(args[2:]), params)


_solve = defop("linalg_solve", _solve_forward, vjp=(_solve_vjp_a, _solve_vjp_b), jvp=(_solve_jvp_a, _solve_jvp_b),
               saves_ans=True, grad_name="LinalgSolveExBackward0",
               sparsity=batched_matrix_pattern(lambda args, p: (2, 1 if _vec(args, p) else 2),
                                               lambda args, p: 1 if _vec(args, p) else 2), batch=_solve_batch)


# --------------------------------------------------------------------------- public functions
SlogdetResult = return_type("linalg_slogdet", ("sign", "logabsdet"))
_SlogdetResult = return_type("slogdet", ("sign", "logabsdet"), "_ReturnSlogdet")  # torch.slogdet's name


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
    if type(A._data) is Batched:  # inside vmap: each part computes itself (their ops batch)
        return _sign(A), _logabsdet(A)
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
    return SlogdetResult(*_slogdet_parts(A))


def _slogdet_top(input: Tensor) -> SlogdetResult:
    """``torch.slogdet``: as ``linalg.slogdet``, returned as ``return_types.slogdet``."""
    _need_tensor(input, "slogdet", "input", 1)
    _check_matrix(input, "linalg.slogdet")
    return _SlogdetResult(*_slogdet_parts(input))


def logdet(input: Tensor) -> Tensor:
    """Log-determinant: ``nan`` where the determinant is negative, ``-inf`` where it is 0.

    >>> import autojac
    >>> autojac.logdet(autojac.tensor([[2., 0.], [0., 3.]]))
    tensor(1.7918)
    """
    _need_tensor(input, "logdet", "input", 1)
    _check_matrix(input, "logdet")
    sign, lad = _slogdet_parts(input)
    return where(sign < 0, float("nan"), lad)  # a comparison op: it batches under vmap


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


def _tri_solve(A: Tensor, B: Tensor, left: bool = True) -> Tensor:
    """``A^{-1} B`` (``B A^{-1}`` when not ``left``) for a triangular ``A``, differentiably."""
    return _solve(A, B, left=left, vec=False)
