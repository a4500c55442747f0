"""``ops.matmul.matmul_t``: ``op(a) @ op(b)`` with transpose flags, the product the derivative rules of
``matmul`` and ``F.linear`` use so their graphs hold no transpose nodes.

Every flag pair, on plain, stacked and broadcast operands, real and complex: values against torch
(``a.mT @ b`` spelled out), first and second derivatives by float64 gradcheck, forward mode and
batched cotangents against the same derivatives taken through torch, vmap against torch.func.vmap,
and the Jacobian sparsity pattern against the dense Jacobian's nonzeros.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import autojac
from autojac.autograd import gradcheck, gradgradcheck
from autojac.ops.matmul import matmul_t
from autojac.sparse import jacobian_sparsity

RNG = np.random.default_rng(11)
FLAGS = list(itertools.product((False, True), repeat=2))
# (shape of op(a), shape of op(b)): the product's logical shapes
SHAPES = {
    "matrix": ((3, 4), (4, 2)),
    "stacked": ((2, 3, 4), (2, 4, 5)),
    "a_stacked_b_matrix": ((2, 3, 4), (4, 5)),
    "a_matrix_b_stacked": ((3, 4), (2, 4, 5)),
    "broadcast": ((2, 1, 3, 4), (3, 4, 2)),
    "vector_a": ((4,), (4, 3)),
    "vector_a_stacked_b": ((4,), (2, 4, 3)),
    "vector_b": ((2, 3, 4), (4,)),
    "matrix_vector": ((3, 4), (4,)),
}


def _stored(shape: tuple, flag: bool) -> tuple:
    return shape[:-2] + (shape[-1], shape[-2]) if flag else shape


def _operands(name: str, ta: bool, tb: bool, dtype=np.float64):
    sa, sb = SHAPES[name]
    assert not (ta and len(sa) < 2) and not (tb and len(sb) < 2), "flags are set on matrices only"
    a = RNG.normal(size=_stored(sa, ta))
    b = RNG.normal(size=_stored(sb, tb))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.normal(size=a.shape)
        b = b + 1j * RNG.normal(size=b.shape)
    return a.astype(dtype), b.astype(dtype)


def _torch_t(x: torch.Tensor, flag: bool) -> torch.Tensor:
    return x.mT if flag else x


CASES = [(n, ta, tb) for n in SHAPES for ta, tb in FLAGS
         if not (ta and len(SHAPES[n][0]) < 2) and not (tb and len(SHAPES[n][1]) < 2)]


@pytest.mark.parametrize("name,ta,tb", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_value_and_grads_match_torch(name, ta, tb, dtype):
    a, b = _operands(name, ta, tb, dtype)
    xa, xb = autojac.tensor(a, requires_grad=True), autojac.tensor(b, requires_grad=True)
    ya, yb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    got = matmul_t(xa, xb, ta=ta, tb=tb)
    want = _torch_t(ya, ta) @ _torch_t(yb, tb)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.normal(size=tuple(want.shape)).astype(dtype)
    ga = autojac.autograd.grad(got, (xa, xb), autojac.tensor(g))
    gt = torch.autograd.grad(want, (ya, yb), torch.tensor(g))
    for u, v in zip(ga, gt):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,ta,tb", CASES)
def test_first_and_second_derivatives_by_gradcheck(name, ta, tb):
    a, b = _operands(name, ta, tb)
    xa, xb = autojac.tensor(a, requires_grad=True), autojac.tensor(b, requires_grad=True)

    def f(p, q):
        return matmul_t(p, q, ta=ta, tb=tb)

    assert gradcheck(f, (xa, xb))
    assert gradgradcheck(f, (xa, xb))
    assert gradcheck(f, (xa, xb), check_forward_ad=True, check_backward_ad=False)


@pytest.mark.parametrize("name,ta,tb", CASES)
def test_batched_cotangents_match_torch(name, ta, tb):
    """``is_grads_batched``: the VJP rules meet cotangents with a leading batch dim of their own."""
    a, b = _operands(name, ta, tb)
    xa, xb = autojac.tensor(a, requires_grad=True), autojac.tensor(b, requires_grad=True)
    ya, yb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    got = matmul_t(xa, xb, ta=ta, tb=tb)
    want = _torch_t(ya, ta) @ _torch_t(yb, tb)
    g = RNG.normal(size=(3,) + tuple(want.shape))
    ga = autojac.autograd.grad(got, (xa, xb), autojac.tensor(g), is_grads_batched=True)
    gt = torch.autograd.grad(want, (ya, yb), torch.tensor(g), is_grads_batched=True)
    for u, v in zip(ga, gt):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,ta,tb", CASES)
def test_vmap_over_either_operand_matches_torch(name, ta, tb):
    a, b = _operands(name, ta, tb)
    a4, b4 = np.stack([a * (i + 1) for i in range(4)]), np.stack([b - i for i in range(4)])
    for dims, args in (((0, None), (a4, b)), ((None, 0), (a, b4)), ((0, 0), (a4, b4))):
        got = autojac.func.vmap(lambda p, q: matmul_t(p, q, ta=ta, tb=tb), in_dims=dims)(
            *(autojac.tensor(x) for x in args))
        want = torch.func.vmap(lambda p, q: _torch_t(p, ta) @ _torch_t(q, tb), in_dims=dims)(
            *(torch.tensor(x) for x in args))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,ta,tb", CASES)
def test_sparsity_pattern_matches_the_dense_jacobian(name, ta, tb):
    a, b = _operands(name, ta, tb)
    b[..., 0] = 0.0  # the constant operand's zeros are structural: the pattern leaves them out
    b_const = autojac.tensor(b)

    def f(x):
        return matmul_t(x, b_const, ta=ta, tb=tb)

    pattern = jacobian_sparsity(f, autojac.tensor(a)).toarray()
    dense = autojac.autograd.functional.jacobian(f, autojac.tensor(a)).numpy().reshape(pattern.shape)
    np.testing.assert_array_equal(pattern, dense != 0)


def test_linear_has_no_transpose_node_and_matches_torch():
    x, w, b = RNG.normal(size=(5, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=4)
    xa, wa, ba = (autojac.tensor(v, requires_grad=True) for v in (x, w, b))
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    ya = autojac.nn.functional.linear(xa, wa, ba)
    yt = torch.nn.functional.linear(xt, wt, bt)
    assert ya.grad_fn.name() == yt.grad_fn.name() == "AddmmBackward0"
    names = set()
    stack = [ya.grad_fn]
    while stack:
        node = stack.pop()
        names.add(node.name())
        stack.extend(n for n, _ in node.next_functions if n is not None)
    assert not any("Transpose" in n or n == "TBackward0" for n in names), names
    for u, v in zip(autojac.autograd.grad(ya.sum(), (xa, wa, ba)), torch.autograd.grad(yt.sum(), (xt, wt, bt))):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,ta,tb", CASES)
def test_jacfwd_batched_tangents_match_torch(name, ta, tb):
    """jacfwd pushes a batch of tangents through at once: the JVP rules meet tangents with a leading batch dim."""
    a, b = _operands(name, ta, tb)
    for argnums in (0, 1):
        got = autojac.func.jacfwd(lambda p, q: matmul_t(p, q, ta=ta, tb=tb), argnums=argnums)(
            autojac.tensor(a), autojac.tensor(b))
        want = torch.func.jacfwd(lambda p, q: _torch_t(p, ta) @ _torch_t(q, tb), argnums=argnums)(
            torch.tensor(a), torch.tensor(b))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
