"""The matrix exponential and the cross product: matrix_exp, cross."""

from __future__ import annotations

import warnings as _warnings

import numpy as np

from ..._core.batching import BROADCAST, Axes, lift
from ..._tensor import Tensor, _wrap_dim
from .._declare import defop
from ..shape import cat
from ._base import _check_matrix, _need_tensor, _tname, _zeros_like_shape
from ._det import _MATRIX, _batch_broadcast

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
                    grad_name="LinalgMatrixExpBackward0", sparsity=_MATRIX, batch=BROADCAST)


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
    grad_name="LinalgCrossBackward0", batch=Axes("dim")
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
