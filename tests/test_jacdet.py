"""jacdet / slogjacdet against torch.linalg.det(torch.func.jacrev(f)(x)) and analytic determinants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import autojac
from autojac.func import jacdet, slogjacdet, vmap

RNG = np.random.default_rng(11)


def arr(*shape):
    return RNG.standard_normal(shape)


def close(a, b, tol=1e-9):
    np.testing.assert_allclose(np.asarray(a.detach()), np.asarray(b.detach() if hasattr(b, "detach") else b),
                               rtol=tol, atol=tol)


FUNCS = {
    "affine": lambda T, p: (lambda x: p["A"] @ x + p["b"]),
    "tanh_mix": lambda T, p: (lambda x: T.tanh(p["A"] @ x) + 2 * x),
    "elementwise": lambda T, p: (lambda x: x.exp() * (1 + x ** 2)),
    "matrix_input": lambda T, p: (lambda X: (X @ p["M"]).sin() + X),
}


PARAMS = {"A": arr(3, 3), "b": arr(3), "M": arr(2, 2)}


def params(T):
    return {k: T.tensor(v) for k, v in PARAMS.items()}


@pytest.mark.parametrize("name", list(FUNCS))
def test_jacdet_matches_torch(name):
    x0 = arr(2, 2) if name == "matrix_input" else arr(3)
    pa, pt = params(autojac), params(torch)
    fa, ft = FUNCS[name](autojac, pa), FUNCS[name](torch, pt)
    xa, xt = autojac.tensor(x0), torch.tensor(x0)
    n = xt.numel()
    jt = torch.func.jacrev(ft)(xt).reshape(n, n)
    close(jacdet(fa)(xa), torch.linalg.det(jt))
    sign, logabs = slogjacdet(fa)(xa)
    st, lt = torch.linalg.slogdet(jt)
    close(sign, st)
    close(logabs, lt)


def test_affine_map_is_det_A():
    A = autojac.tensor(arr(4, 4))
    close(jacdet(lambda x: A @ x + 1.0)(autojac.tensor(arr(4))), np.linalg.det(A.numpy()))


def test_planar_flow_analytic():
    # f(z) = z + u * tanh(w.z + b): det J = 1 + u . (1 - tanh^2(w.z + b)) w
    u, w, b = autojac.tensor(arr(3)), autojac.tensor(arr(3)), 0.3
    z = autojac.tensor(arr(3))
    f = lambda z: z + u * autojac.tanh((w * z).sum() + b)  # noqa: E731
    h = math.tanh(float((w * z).sum()) + b)
    expected = 1 + float((u * w).sum()) * (1 - h * h)
    close(jacdet(f)(z), expected)
    close(slogjacdet(f)(z)[1], math.log(abs(expected)))


def test_slogjacdet_trains_through_parameters():
    # a normalizing-flow log-likelihood: gradient w.r.t. the flow's parameters, against torch
    x0, A0 = arr(5, 3), arr(3, 3) + 3 * np.eye(3)
    def log_likelihood_grad(T, vm, logdet_of):
        A = T.tensor(A0, requires_grad=True)

        def f(z):
            return T.tanh(A @ z) + z

        logdet = vm(lambda z: logdet_of(f, z))(T.tensor(x0))
        ll = (-0.5 * (vm(f)(T.tensor(x0)) ** 2).sum(1) + logdet).sum()
        return T.autograd.grad(ll, A)[0]

    ours = log_likelihood_grad(autojac, vmap, lambda f, z: slogjacdet(f)(z)[1])
    theirs = log_likelihood_grad(torch, torch.func.vmap,
                                 lambda f, z: torch.linalg.slogdet(torch.func.jacrev(f)(z))[1])
    close(ours, theirs, 1e-8)


def test_batched_per_sample_under_vmap():
    A = autojac.tensor(arr(3, 3))
    xs = autojac.tensor(arr(6, 3))
    f = lambda x: autojac.tanh(A @ x) * x + x  # noqa: E731
    batched = vmap(jacdet(f))(xs)
    loop = autojac.stack([jacdet(f)(xs[i]) for i in range(6)])
    close(batched, loop)


def test_no_graph_when_nothing_requires_grad():
    out = jacdet(lambda x: x * 2)(autojac.ones(3))
    assert not out.requires_grad


def test_non_square_jacobian_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"input of shape \[3\].*output of shape \[2\]"):
        jacdet(lambda x: x[:2] * 2)(autojac.ones(3))
    with pytest.raises(TypeError, match="argnums must be an int"):
        jacdet(lambda x, y: x * y, argnums=(0, 1))(autojac.ones(2), autojac.ones(2))
