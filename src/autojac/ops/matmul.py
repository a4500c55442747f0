"""Matrix products and matrix structure: matmul/mm/bmm/mv/dot/outer, diag, diagonal, trace, tril, triu.

VJP rules take cotangents with extra leading batch dims; ``@`` broadcasts over them. For complex
operands they take conjugates (``grad_a = g @ b^H``, ``grad_b = a^H @ g``); JVPs do not.
"""

from __future__ import annotations

import numpy as np

from .._core.node import Saves
from .._core.patterns import MATMUL
from .._tensor import Tensor, _wrap, _wrap_dim
from ._batched import logical_ndim, pad_to
from ._declare import conj, linear, named
from ._gemm import folded_matmul
from .creation import tensor
from .elementwise import where
from .index import index_put, scatter
from .shape import mark_view, reshape, unsqueeze


def _vjp_a(g, ans, a, b, ta=False, tb=False):
    # the op computes op(a) @ op(b), op transposing the last two dims where its flag is set
    b = conj(b)  # b itself when real
    if ta:  # a = (a')^T: grad_a = (g @ op(b)^T)^T = op(b) @ g^T
        if b.ndim == 1:
            return b.unsqueeze(-1) * g.unsqueeze(-2)
        return matmul_t(b, g, ta=tb, tb=True)
    if a.ndim == 1:
        if b.ndim == 1:  # dot: g is batch-only
            return g.unsqueeze(-1) * b
        if b.ndim == 2:  # one product for all batch rows, not one per row
            return matmul_t(g, b, tb=not tb)
        # (k) @ (..., k, n) -> (..., n);  grad_a = (g[..., None, :] @ b^H)[..., 0, :]
        return matmul_t(g.unsqueeze(-2), b, tb=not tb).squeeze(-2)
    if b.ndim == 1:  # (..., m, k) @ (k) -> (..., m)
        return g.unsqueeze(-1) * b
    if a.ndim == 2 and b.ndim > 2:  # the sum over b's stack is one GEMM: (m, B*n) @ (B*n, k)
        extra = g.ndim - b.ndim  # a batched cotangent's own leading dims
        rows = g.movedim(-2, extra).reshape(tuple(g.shape[:extra]) + (g.shape[-2], -1))
        return rows @ (b if tb else b.mT).reshape(-1, a.shape[-1])
    return matmul_t(g, b, tb=not tb)


def _vjp_b(g, ans, a, b, ta=False, tb=False):
    a = conj(a)
    if tb:  # b = (b')^T: grad_b = (op(a)^T @ g)^T = g^T @ op(a)
        if a.ndim == 1:
            return g.unsqueeze(-1) * a
        if b.ndim == 2 and a.ndim > 2 and not ta:  # the sum over a's stack is one GEMM
            extra = g.ndim - a.ndim
            return matmul_t(g.reshape(tuple(g.shape[:extra]) + (-1, g.shape[-1])), a.reshape(-1, a.shape[-1]),
                            ta=True)
        return matmul_t(g, a, ta=True, tb=ta)
    if b.ndim == 1:
        if a.ndim == 1:
            return g.unsqueeze(-1) * a
        if a.ndim == 2:
            return matmul_t(g, a, tb=ta)
        # grad_b[k] = sum_m g[..., m] conj(a[..., m, k])
        return matmul_t(g.unsqueeze(-2), a, tb=ta).squeeze(-2)
    if a.ndim == 1:  # (k) @ (..., k, n): grad_b = conj(a)[:, None] * g[..., None, :]
        return a.unsqueeze(-1) * g.unsqueeze(-2)
    if b.ndim == 2 and a.ndim > 2 and not ta:  # the sum over a's stack is one GEMM: (k, B*m) @ (B*m, n)
        extra = g.ndim - a.ndim
        return matmul_t(a.reshape(-1, a.shape[-1]), g.reshape(tuple(g.shape[:extra]) + (-1, g.shape[-1])), ta=True)
    return matmul_t(a, g, ta=not ta)


def _matmul_forward(a, b, ta=False, tb=False):
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    if a.ndim > 2 and b.ndim >= 2 and a.shape[-1] == 1:  # stacked outer products: a product, not a GEMM each
        return a * b
    if a.ndim >= 2 and b.ndim >= 2 and a.ndim + b.ndim > 4:  # batch dims of one operand fold into its rows/columns
        return folded_matmul(a, b)
    return np.matmul(a, b)


def _matmul_batch(call, args, batched, params, size):
    """``vmap`` rule: make both operands matrices (a vector ``a`` a row, ``b`` a column), line the
    batched one's own batch dims up with the other's, multiply, then drop the added dims."""
    a, b = args
    ka, kb = logical_ndim(a, batched[0]), logical_ndim(b, batched[1])
    if ka == 1 and kb == 2 and not batched[1]:  # a batch of vectors times one matrix: (B, k) @ op(b)
        return call([a, b], params)
    if kb == 1 and ka == 2 and not batched[0]:  # op(a) @ a batch of vectors: (B, k) @ op(a)^T
        return call([b, a], {"tb": True} if not params.get("ta", False) else {})
    if ka == 1:
        a = unsqueeze(a, -2)
    if kb == 1:
        b = unsqueeze(b, -1)
    n = max(logical_ndim(a, batched[0]), logical_ndim(b, batched[1]))
    out = call([pad_to(a, n) if batched[0] else a, pad_to(b, n) if batched[1] else b], params)
    if ka == 1 and kb == 1:
        return reshape(out, tuple(out.shape[:-2]))
    if ka == 1 or kb == 1:
        return out.squeeze(-2 if ka == 1 else -1)
    return out


def _matmul_op(grad_name: str):
    # OTHER_OPERANDS: each rule reads only the other operand, so, as PyTorch, a write to an operand that
    # requires grad is fine when the other does not
    op = linear("matmul", _matmul_forward, vjp=(_vjp_a, _vjp_b), cast="promote", grad_name=grad_name,
                saves_inputs=Saves.OTHER_OPERANDS, sparsity=MATMUL, batch=_matmul_batch)
    op.jvp = tuple(_stacked_jvp(op, i, rule) for i, rule in enumerate(op.jvp))
    return op


def _stacked_jvp(op, i: int, generic):
    """The JVP of operand ``i`` as one product when the tangent's batch dims can lead as matmul's own stack
    dims (``a``'s tangent against ``b`` of at most ``max(a.ndim, 2)`` dims; ``b``'s against a vector ``a`` or
    one of at most ``b.ndim`` dims); otherwise the batching rule (``linear``'s default)."""
    def rule(t, ans, a, b, **flags):
        na, nb = a._data.ndim, b._data.ndim
        if i == 0 and nb <= max(na, 2):
            return op(t, b, **flags)
        if i == 1 and nb >= 2 and (na == 1 or na <= nb):
            return op(a, t, **flags)
        return generic(t, ans, a, b, **flags)
    return rule


_mm = _matmul_op("MmBackward0")
_mv = _matmul_op("MvBackward0")
_dot = _matmul_op("DotBackward0")
_bmm = _matmul_op("BmmBackward0")
_matmul = _matmul_op("UnsafeViewBackward0")
_matmul_1d_2d = _matmul_op("SqueezeBackward4")
_matmul_2d_nd = _matmul_op("CloneBackward0")


def _shape_error(a: Tensor, b: Tensor) -> RuntimeError:
    sa, sb = list(a._data.shape), list(b._data.shape)
    if a._data.ndim == 1 and b._data.ndim == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have "
                            f"the same number of elements, but got {sa[0]} and {sb[0]} elements respectively")
    ra = f"{sa[-2] if len(sa) > 1 else 1}x{sa[-1]}"
    rb = f"{sb[-2] if len(sb) > 1 else sb[0]}x{sb[-1] if len(sb) > 1 else 1}"
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ra} and {rb}): shapes {sa} and {sb}")


def _same_dtype(a: Tensor, b: Tensor) -> None:
    # PyTorch's matrix products do not promote
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics (1-D operands, broadcast batch dims).

    >>> import autojac
    >>> a = autojac.tensor([[1., 2.], [3., 4.]])
    >>> a @ autojac.tensor([1., 1.])
    tensor([3., 7.])
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(other).__name__}")
    na, nb = input._data.ndim, other._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    _same_dtype(input, other)
    ka = input._data.shape[-1]
    kb = other._data.shape[-2] if nb > 1 else other._data.shape[0]
    if ka != kb:
        raise _shape_error(input, other)
    return _op_for(na, nb)(input, other)


def _op_for(na: int, nb: int):
    """The matmul op of operands of ranks ``na``, ``nb``: each carries the grad_fn name PyTorch's matmul
    leaves behind on that path."""
    if na == 2:
        return _mm if nb == 2 else _mv if nb == 1 else _matmul_2d_nd
    if na == 1:
        return _dot if nb == 1 else _matmul_1d_2d if nb == 2 else _matmul
    return _matmul


def matmul_t(a: Tensor, b: Tensor, ta: bool = False, tb: bool = False) -> Tensor:
    """``op(a) @ op(b)``, ``op`` swapping the last two dims where its flag is set (a flagged operand
    has at least 2), as one primitive: BLAS reads a transposed operand in place, and the graph
    holds no transpose nodes (the derivative rules of ``matmul`` and ``F.linear`` use it).
    Operands must already agree in shape and dtype.

    >>> import autojac
    >>> from autojac.ops.matmul import matmul_t
    >>> matmul_t(autojac.tensor([[1., 2.]]), autojac.tensor([[1., 0.], [0., 1.], [1., 1.]]), tb=True)
    tensor([[1., 2., 3.]])
    """
    op = _op_for(a.ndim, b.ndim)
    if ta or tb:
        return op(a, b, ta=ta, tb=tb)
    return op(a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only)."""
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError("self must be a matrix" if input._data.ndim != 2 else "mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of 3-D tensors with equal batch sizes."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._data.shape[0]}, {input._data.shape[2]}] but got: "
                           f"[{mat2._data.shape[0]}, {mat2._data.shape[1]}].")
    if input._data.shape[2] != mat2._data.shape[1]:
        raise _shape_error(input, mat2)
    _same_dtype(input, mat2)
    return _bmm(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, {vec._data.ndim}")
    return matmul(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {tensor._data.ndim}D tensors")
    return matmul(input, tensor)


inner = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


# --------------------------------------------------------------------------- structure
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as the last dimension."""
    n = input._data.ndim
    d1, d2 = _wrap_dim(dim1, n), _wrap_dim(dim2, n)
    x = input.movedim((d1, d2), (-2, -1)) if (d1, d2) != (n - 2, n - 1) else input
    rows, cols = x._data.shape[-2], x._data.shape[-1]
    if offset >= 0:
        k = max(0, min(rows, cols - offset))
        r, c = np.arange(k), np.arange(k) + offset
    else:
        k = max(0, min(rows + offset, cols))
        r, c = np.arange(k) - offset, np.arange(k)
    out = named(x[(Ellipsis, r, c)], "DiagonalBackward0")
    if x._data.flags.writeable:  # a view, as in PyTorch: writes to it reach the input
        view = np.diagonal(x._data, offset, -2, -1)
        view.flags.writeable = True
        out._data = view
        idx = (Ellipsis, r, c)
        mark_view(out, x, lambda b: b[idx], lambda b, new: index_put(b, new, idx))
    return out


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """Diagonal of a matrix, or a diagonal matrix from a vector.

    >>> import autojac
    >>> autojac.diag(autojac.tensor([1., 2.]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    nd = input._data.ndim
    if nd == 2:
        return named(globals()["diagonal"](input, diagonal), "DiagonalBackward0_copy")  # PyTorch's name
    if nd != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + str(nd) + "D")
    n = input._data.shape[0]
    size = n + abs(diagonal)
    i = np.arange(n)
    r, c = (i, i + diagonal) if diagonal >= 0 else (i - diagonal, i)
    return named(scatter(input, (size, size), (r, c), False, 0), "DiagEmbedBackward0")


def trace(input: Tensor) -> Tensor:
    """Sum of the diagonal of a matrix."""
    if input._data.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input._data.ndim))
    return named(diagonal(input).sum(), "TraceBackward0")


def _tri(keep_lower: bool):
    def fn(input: Tensor, diagonal: int = 0) -> Tensor:
        if input._data.ndim < 2:
            raise RuntimeError(f"{'tril' if keep_lower else 'triu'}: input tensor must have at least 2 dimensions")
        rows, cols = input._data.shape[-2:]
        mask = (np.tri(rows, cols, diagonal, dtype=bool) if keep_lower
                else ~np.tri(rows, cols, diagonal - 1, dtype=bool))
        out = where(_wrap(mask), input, _wrap(np.zeros((), input._data.dtype)))
        return named(out, "TrilBackward0" if keep_lower else "TriuBackward0")
    return fn


tril = _tri(True)
triu = _tri(False)


def _as_tensor(x) -> Tensor:
    return tensor(x)
