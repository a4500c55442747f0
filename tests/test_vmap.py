"""vmap against torch.func.vmap and against a Python loop; per-sample gradients; errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac
from _tol import assert_close
from autojac.func import grad, jacrev, vmap

RNG = np.random.default_rng(7)


def pair(*shape):
    a = RNG.standard_normal(shape)
    return autojac.tensor(a), torch.tensor(a)


def close(a, t, tol=1e-10):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(t)
        for x, y in zip(a, t):
            close(x, y, tol)
        return
    assert_close(np.asarray(a.detach()), t.detach().numpy(), tol, tol)  # at least the dtype's rounding
    assert tuple(a.shape) == tuple(t.shape)


CASES = [
    ("sum", lambda T: (lambda x: x.sum()), [(4, 3)], 0, 0),
    ("softmax", lambda T: (lambda x: T.softmax(x, dim=-1)), [(5, 4)], 0, 0),
    ("matvec_unbatched_w", lambda T: (lambda x, w: T.tanh(w @ x)), [(6, 3), (2, 3)], (0, None), 0),
    ("in_dim_1", lambda T: (lambda x: x.exp().mean(0)), [(3, 5, 2)], 1, 0),
    ("out_dim_1", lambda T: (lambda x: x * 2), [(4, 3)], 0, 1),
    ("negative_dims", lambda T: (lambda x: x.T @ x), [(2, 3, 4)], -1, -1),
    ("tuple_out", lambda T: (lambda x, y: (x + y, (x * y).sum())), [(4, 3), (4, 3)], 0, 0),
    ("index", lambda T: (lambda x: x[1:, 0] ** 2), [(5, 3, 2)], 0, 0),
    ("nested_tuple_input", lambda T: (lambda xy: xy[0] * xy[1]), [((4, 2), (4, 2))], (0,), 0),
]


def _make(shape):
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
        pairs = [pair(*s) for s in shape]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    return pair(*shape)


@pytest.mark.parametrize("name,make,shapes,in_dims,out_dims", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_torch(name, make, shapes, in_dims, out_dims):
    args = [_make(s) for s in shapes]
    ours = vmap(make(autojac), in_dims=in_dims, out_dims=out_dims)(*[a for a, _ in args])
    theirs = torch.func.vmap(make(torch), in_dims=in_dims, out_dims=out_dims)(*[t for _, t in args])
    close(ours, theirs)


def test_vmap_equals_loop_and_is_differentiable():
    x, _ = pair(5, 3)
    x.requires_grad_()
    f = lambda r: (r.sin() * r).sum()  # noqa: E731
    out = vmap(f)(x)
    loop = autojac.stack([f(x[i]) for i in range(5)])
    close(out, torch.tensor(loop.detach().numpy()))
    (g,) = autojac.autograd.grad(out.sum(), x)
    close(g, torch.tensor((x.detach().sin() + x.detach() * x.detach().cos()).numpy()))


def test_per_sample_gradients():
    wa, wt = pair(3)
    xa, xt = pair(8, 3)
    ya, yt = pair(8)

    def loss(T):
        return lambda w, x, y: ((T.tanh(x @ w) - y) ** 2)

    ours = vmap(grad(loss(autojac)), in_dims=(None, 0, 0))(wa, xa, ya)
    theirs = torch.func.vmap(torch.func.grad(loss(torch)), in_dims=(None, 0, 0))(wt, xt, yt)
    close(ours, theirs)


def test_vmap_of_jacrev_batched_jacobians():
    xa, xt = pair(4, 3)
    A, At = pair(2, 3)
    ours = vmap(jacrev(lambda x: autojac.tanh(A @ x)))(xa)
    theirs = torch.func.vmap(torch.func.jacrev(lambda x: torch.tanh(At @ x)))(xt)
    close(ours, theirs)


def test_nested_vmap():
    xa, xt = pair(3, 4, 2)
    ours = vmap(vmap(lambda r: r.norm()))(xa)
    theirs = torch.func.vmap(torch.func.vmap(lambda r: r.norm()))(xt)
    close(ours, theirs)


def test_randomness_modes():
    x = autojac.zeros(3, 2)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: r + autojac.rand(2))(x)
    same = vmap(lambda r: r + autojac.rand(2), randomness="same")(x)
    assert np.allclose(same[0].numpy(), same[1].numpy())
    diff = vmap(lambda r: r + autojac.rand(2), randomness="different")(x)
    assert not np.allclose(diff[0].numpy(), diff[1].numpy())
    with pytest.raises(RuntimeError, match="randomness"):
        vmap(lambda r: r, randomness="sometimes")


@pytest.mark.parametrize("call,match", [
    (lambda: vmap(lambda a, b: a + b)(autojac.ones(3), autojac.ones(4)), "same size in the mapped dimension"),
    (lambda: vmap(lambda a: a, in_dims=(0, 0))(autojac.ones(3)), "in_dims is not compatible"),
    (lambda: vmap(lambda a: a, in_dims=2)(autojac.ones(3, 2)), "dimensionality 2"),
    (lambda: vmap(lambda a: a, in_dims=None)(autojac.ones(3)), "expected `in_dims` to be int"),
    (lambda: vmap(lambda a: a, in_dims=(None,))(autojac.ones(3)), "at least one Tensor to vmap over"),
    (lambda: vmap(lambda a: 3.0)(autojac.ones(3)), "must only return Tensors"),
    (lambda: vmap(lambda a, k: a * k, in_dims=(0, 0))(autojac.ones(3), 2.0), "non-Tensor arguments"),
])
def test_vmap_errors(call, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        call()
