"""Contractions: einsum, tensordot, kron, cdist.

``einsum`` is one primitive per number of operands, on an explicit equation (letters only, no
ellipsis): the public function resolves ``...``, implicit outputs and size-1 broadcasting into
that form once. Its rules are einsums again (differentiable to any order): the VJP of operand
``i`` contracts the cotangent with the other operands into ``i``'s subscripts, with identity
matrices standing in for repeated subscripts (diagonals) and a final expand for subscripts that
only ``i`` has. Batch dims of cotangents and tangents get fresh letters of their own.
"""

from __future__ import annotations

import math
import string

import numpy as np

from .._core.batching import BROADCAST, lift, n_batch
from .._core.node import Saves
from .._core.patterns import CDIST, EINSUM
from .._dtype import torch_name
from .._tensor import Tensor, _wrap, _wrap_dim
from ._declare import conj, defop, linear, named, renamed
from .elementwise import where
from .reduce import _vector_norm

__all__ = ["einsum", "tensordot", "kron", "cdist"]

LETTERS = string.ascii_lowercase + string.ascii_uppercase


# --------------------------------------------------------------------------- the primitive
def _split(eq: str) -> tuple[list, str]:
    lhs, out = eq.split("->")
    return lhs.split(","), out


def _fresh(eq: str, n: int) -> str:
    """``n`` letters that ``eq`` does not use."""
    free = [c for c in LETTERS if c not in eq]
    if n > len(free):
        raise RuntimeError("einsum(): too many dimensions (autojac labels each with one of 52 letters)")
    return "".join(free[:n])


def _einsum_forward(*arrays, eq):
    # BLAS-backed contraction paths pay off beyond toy sizes; below, the plain loop is faster
    big = len(arrays) > 2 or sum(a.size for a in arrays) > 4096
    return np.einsum(eq, *arrays, optimize=big)


def _einsum_vjp(i: int):
    def rule(g, ans, *xs, eq):
        ins, out = _split(eq)
        nb = n_batch(g, ans)
        batch = _fresh(eq, nb)
        target, eyes = [], []
        spare = iter(_fresh(eq + batch, len(ins[i])))
        for pos, c in enumerate(ins[i]):
            if c in target:  # a repeated subscript: a diagonal, embedded back through an identity matrix
                new = next(spare)
                n = xs[i].shape[pos]
                eyes.append((c + new, _wrap(np.eye(n, dtype=g._data.dtype))))
                target.append(new)
            else:
                target.append(c)
        others = [(ins[k], conj(xs[k])) for k in range(len(xs)) if k != i] + eyes  # complex: g times conj(others)
        have = set(out) | {c for s, _ in others for c in s}
        kept = "".join(c for c in target if c in have)
        spec = ",".join([batch + out] + [s for s, _ in others]) + "->" + batch + kept
        r = _einsum_raw(spec, g, *[x for _, x in others])
        if len(kept) < len(target):  # subscripts only operand i has: the gradient is constant along them
            shape = tuple(g.shape[:nb]) + tuple(s if c in have else 1 for c, s in zip(target, xs[i].shape))
            r = r.reshape(shape).expand(tuple(g.shape[:nb]) + tuple(xs[i].shape))
        return r
    return rule


def _einsum_batch(call, args, batched, params, size):
    """``vmap`` rule: the batch dim gets a letter of its own, in front of each batched operand and the output."""
    eq = params["eq"]
    ins, out = eq.split("->")
    b = _fresh(eq, 1)
    ins = ",".join(b + s if bt else s for s, bt in zip(ins.split(","), batched))
    return call(args, {"eq": f"{ins}->{b}{out}"})


_OPS: dict = {}


def _einsum_raw(eq: str, *operands: Tensor) -> Tensor:
    """The primitive on an explicit equation (letters only)."""
    n = len(operands)
    op = _OPS.get(n)
    if op is None:
        op = _OPS[n] = linear("einsum", _einsum_forward, vjp=tuple(_einsum_vjp(i) for i in range(n)),
                              saves_inputs=Saves.INPUTS, sparsity=EINSUM, batch=_einsum_batch)
    return op(*operands, eq=eq)


# --------------------------------------------------------------------------- parsing PyTorch's equations
def _parse_term(term: str, ndim: int, k: int, offset: int) -> tuple[list, int]:
    """Labels of one operand's subscripts (``...`` stays as the marker ``None``) and how many dims ``...`` spans."""
    labels: list = []
    i = 0
    while i < len(term):
        if term.startswith("...", i):
            if None in labels:
                raise RuntimeError(f"einsum(): found '.' for operand {k} for which an ellipsis was already found")
            labels.append(None)
            i += 3
            continue
        c = term[i]
        if c not in LETTERS:
            if c == ".":
                raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any ellipsis")
            raise RuntimeError(f"einsum(): invalid subscript given at index {offset + i} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
        labels.append(c)
        i += 1
    n = len(labels) - (None in labels)
    if None not in labels and n != ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does not match the number of "
                           f"dimensions ({ndim}) for operand {k} and no ellipsis was given")
    if n > ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) is more than the number of "
                           f"dimensions ({ndim}) for operand {k}")
    return labels, ndim - n


def _canonical(equation: str, operands: list) -> tuple[str, list]:
    """PyTorch's einsum equation as an explicit one, with operands squeezed where they broadcast."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    parsed, offset = [], 0
    for k, (term, x) in enumerate(zip(terms, operands)):
        parsed.append(_parse_term(term, x._data.ndim, k, offset))
        offset += len(term) + 1
    width = max((w for labels, w in parsed if None in labels), default=0)
    ell = [("...", j) for j in range(width)]  # ellipsis dims, right-aligned across operands
    subs = []
    for labels, w in parsed:
        s = []
        for lab in labels:
            s.extend(ell[width - w:] if lab is None else [lab])
        subs.append(s)
    sizes: dict = {}
    for k, (s, x) in enumerate(zip(subs, operands)):
        mine: dict = {}
        for lab, n in zip(s, x._data.shape):
            if lab in mine and mine[lab] != n:
                raise RuntimeError(f"einsum(): subscript {lab} is repeated for operand {k} but the sizes don't match, "
                                   f"{n} != {mine[lab]}")
            mine[lab] = n
            seen = sizes.get(lab)
            if seen is not None and seen != n and seen != 1 and n != 1:
                name = lab if isinstance(lab, str) else "..."
                raise RuntimeError(f"einsum(): subscript {name} has size {n} for operand {k} which does not broadcast "
                                   f"with previously seen size {seen}")
            sizes[lab] = n if seen is None or seen == 1 else seen
    if arrow:
        out = []
        j = 0
        while j < len(rhs):
            if rhs.startswith("...", j):
                out.extend(ell)
                j += 3
                continue
            c = rhs[j]
            if c not in LETTERS:
                raise RuntimeError(f"einsum(): invalid subscript given at index {len(lhs) + 2 + j} in the equation "
                                   "string, subscripts must be in [a-zA-Z]")
            if c in out:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
            out.append(c)
            j += 1
    else:
        counts: dict = {}
        for s in subs:
            for lab in s:
                counts[lab] = counts.get(lab, 0) + 1
        out = ell + sorted(lab for lab, c in counts.items() if isinstance(lab, str) and c == 1)
    # size-1 dims that broadcast against a larger size leave the operand (a reshape, differentiable)
    new_ops = []
    for k, (s, x) in enumerate(zip(subs, operands)):
        drop = [j for j, (lab, n) in enumerate(zip(s, x._data.shape)) if n == 1 and sizes[lab] != 1]
        if drop:
            x = x.reshape(tuple(n for j, n in enumerate(x._data.shape) if j not in drop))
            subs[k] = [lab for j, lab in enumerate(s) if j not in drop]
        new_ops.append(x)
    letters: dict = {}
    for lab in [lab for s in subs for lab in s] + out:
        if lab not in letters:
            if len(letters) == len(LETTERS):
                raise RuntimeError("einsum(): too many subscripts (autojac supports 52)")
            letters[lab] = LETTERS[len(letters)]
    spec = ",".join("".join(letters[lab] for lab in s) for s in subs) + "->" + "".join(letters[lab] for lab in out)
    return spec, new_ops


def einsum(*args) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    Supports ``...`` (broadcast batch dims), the implicit output (sorted labels that appear once),
    repeated subscripts (diagonals), size-1 broadcasting, operands given as one list, and the
    sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    >>> import autojac
    >>> a = autojac.tensor([[1., 2.], [3., 4.]])
    >>> autojac.einsum("ij,j->i", a, autojac.tensor([1., 1.]))
    tensor([3., 7.])
    >>> autojac.einsum("ii", a)
    tensor(5.)
    """
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    for x in operands:
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operands must be Tensors, not {type(x).__name__}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    dt = operands[0]._data.dtype
    for x in operands[1:]:
        if x._data.dtype != dt:
            raise RuntimeError(f"expected scalar type {torch_name(operands[0].dtype)} but found "
                               f"{torch_name(x.dtype)}")
    spec, operands = _canonical(equation, operands)
    return _einsum_raw(spec, *operands)


def _sublist_equation(args: tuple) -> tuple[str, list]:
    """``einsum(op1, sub1, op2, sub2, ..., [out])`` with integer (or Ellipsis) subscripts."""
    out = None
    if len(args) % 2:
        out, args = args[-1], args[:-1]
    ops, subs = list(args[0::2]), list(args[1::2])

    def term(s) -> str:
        parts = []
        for v in s:
            if v is Ellipsis:
                parts.append("...")
            elif not 0 <= int(v) < len(LETTERS):
                raise RuntimeError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
            else:
                parts.append(LETTERS[int(v)])
        return "".join(parts)

    eq = ",".join(term(s) for s in subs)
    if out is not None:
        eq += "->" + term(out)
    return eq, ops


# --------------------------------------------------------------------------- tensordot, kron
def _dims_list(d) -> list:
    if isinstance(d, Tensor):
        d = d.tolist()
    return [int(d)] if isinstance(d, (int, np.integer)) else [int(v) for v in d]


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract ``a``'s last ``dims`` dims with ``b``'s first ones (or the given lists of dims).

    >>> import autojac
    >>> autojac.tensordot(autojac.ones(2, 3), autojac.ones(3, 4), dims=1).shape
    autojac.Size([2, 4])
    """
    if isinstance(dims, Tensor) and dims._data.ndim == 0:
        dims = int(dims.item())
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists of dims")
        da, db = _dims_list(dims[0]), _dims_list(dims[1])
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    sa, sb = a._data.shape, b._data.shape
    na = [_wrap_dim(d, a._data.ndim) for d in da]
    nbd = [_wrap_dim(d, b._data.ndim) for d in db]
    for d1, d2, i, j in zip(da, db, na, nbd):
        if sa[i] != sb[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[i]} in dim {d1} and "
                               f"second has size {sb[j]} in dim {d2}")
    free_a = [d for d in range(a._data.ndim) if d not in na]
    free_b = [d for d in range(b._data.ndim) if d not in nbd]
    k = math.prod(sa[d] for d in na)
    pa = a.permute(free_a + na).reshape(math.prod(sa[d] for d in free_a), k)
    pb = b.permute(nbd + free_b).reshape(k, math.prod(sb[d] for d in free_b))
    return (pa @ pb).reshape(tuple(sa[d] for d in free_a) + tuple(sb[d] for d in free_b))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: block ``(i, j)`` of the result is ``input[i, j] * other``.

    >>> import autojac
    >>> autojac.kron(autojac.tensor([1., 2.]), autojac.tensor([1., 10.]))
    tensor([ 1., 10.,  2., 20.])
    """
    nd = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (nd - input._data.ndim) + input._data.shape
    sb = (1,) * (nd - other._data.ndim) + other._data.shape
    a = input.reshape(tuple(v for s in sa for v in (s, 1)))
    b = other.reshape(tuple(v for s in sb for v in (1, s)))
    return named((a * b).reshape(tuple(x * y for x, y in zip(sa, sb))), "UnsafeViewBackward0")


# --------------------------------------------------------------------------- cdist
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _cdist2_forward(x1, x2, mm):
    if mm:  # PyTorch's matmul form: |a|^2 + |b|^2 - 2 a.b in one product, clamped at 0
        n1 = np.sum(x1 * x1, axis=-1, keepdims=True)
        n2 = np.sum(x2 * x2, axis=-1, keepdims=True)
        a = np.concatenate([-2 * x1, n1, np.ones_like(n1)], axis=-1)
        b = np.concatenate([x2, np.ones_like(n2), n2], axis=-1)
        return np.sqrt(np.maximum(a @ np.swapaxes(b, -1, -2), 0))
    d = x1[..., :, None, :] - x2[..., None, :, :]
    return np.sqrt(np.sum(d * d, axis=-1))


def _weights(g, ans):
    """``g / d``, 0 where the distance is 0 (PyTorch's gradient there)."""
    zero = ans == 0
    if not zero._data.any():
        return g / ans
    return where(zero, 0.0, g / where(zero, 1.0, ans))


def _cdist2_vjp1(g, ans, x1, x2, mm):
    w = _weights(g, ans)
    return w.sum(-1).unsqueeze(-1) * x1 - w @ x2


def _cdist2_vjp2(g, ans, x1, x2, mm):
    w = _weights(g, ans)
    return w.sum(-2).unsqueeze(-1) * x2 - w.mT @ x1


def _cdist2_jvp1(t, ans, x1, x2, mm):
    t = lift(t, x1, ans)
    return _weights((t * x1).sum(-1).unsqueeze(-1) - t @ x2.mT, ans)


def _cdist2_jvp2(t, ans, x1, x2, mm):
    t = lift(t, x2, ans)
    return _weights((t * x2).sum(-1).unsqueeze(-2) - x1 @ t.mT, ans)


_cdist2 = defop("cdist", _cdist2_forward, vjp=(_cdist2_vjp1, _cdist2_vjp2), jvp=(_cdist2_jvp1, _cdist2_jvp2),
                saves_ans=True, sparsity=CDIST, batch=BROADCAST)
_cdist2_mm = renamed(_cdist2, "ViewBackward0")  # PyTorch's matmul form ends in a view of its result


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between the rows of ``x1`` (``B x P x M``) and of ``x2`` (``B x R x M``).

    ``p=2`` is one primitive: the values as PyTorch computes them (through a matrix product when
    ``P`` or ``R`` exceeds 25, per ``compute_mode``), the gradient from the differences, 0 at a
    zero distance, in O(PR + PM + RM) memory. Other ``p`` go through the ``B x P x R x M`` differences.

    >>> import autojac
    >>> autojac.cdist(autojac.tensor([[0., 0.], [3., 4.]]), autojac.tensor([[0., 0.]]))
    tensor([[0.],
            [5.]])
    """
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x._data.ndim}D")
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {torch_name(x.dtype)}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected scalar type {torch_name(x1.dtype)} but found {torch_name(x2.dtype)}")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} "
                           f"X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p == 2:
        rows, cols = x1._data.shape[-2], x2._data.shape[-2]
        mm = compute_mode == _CDIST_MODES[1] or (compute_mode == _CDIST_MODES[0] and (rows > 25 or cols > 25))
        return (_cdist2_mm if mm else _cdist2)(x1, x2, mm)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return named(_vector_norm(diff, float(p), (diff._data.ndim - 1,), False), "CdistBackward0")
