"""Every seed example through the calculator: the printed matrices hold the seed's numbers and PyTorch's.

Each example is one ``python -m autojac`` run; the numbers are read back from the aligned table it
prints and compared twice: with the numbers the seed printed (to the seed's 4 decimals; seed 000's
inputs are themselves rounded to 4 decimals, hence 2e-4) and with PyTorch 2.13 on the same inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ._run import autojac_in_process, autojac_many, table_numbers

A = "[[0.7477, -1.0058, -2.2361], [-0.2903, -0.3600, -0.5330]]"
B = "[[-2.1878, 0.5005], [0.2652, -1.4495], [-0.5458, 0.8088]]"
X000 = "[[-1.1897, 0.1149, -0.7102], [2.3557, -0.0798, -1.4557]]"


def _t(text: str) -> torch.Tensor:
    return torch.tensor(eval(text))  # our own literals above, for the oracle


def _jac(f, *xs):
    out = torch.autograd.functional.jacobian(f, xs)
    n = f(*xs).numel()
    return np.concatenate([j.reshape(n, -1).numpy() for j in out], axis=1)


def _vjp(f, v, *xs):
    return [g.numpy() for g in torch.autograd.functional.vjp(f, xs, v)[1]]


def _x2(x):
    return torch.stack([x[0] ** 2, x[0] * x[1], x[1] ** 2])


# (id, calculator arguments, the seed's printed numbers per block, PyTorch's numbers per block)
EXAMPLES = [
    ("000 In[4] jacobian of x.exp().sum(dim=1)", ("jacobian", "x.exp().sum(dim=1)", "--at", f"x={X000}"),
     [[0.3043, 1.1217, 0.4915, 0, 0, 0, 0, 0, 0, 10.5456, 0.9233, 0.2332]],
     lambda: [_jac(lambda x: x.exp().sum(dim=1), _t(X000))]),
    ("000 In[6] jacobian of a+x", ("jacobian", "a+x", "--at", "a=[-0.9941, 0.0499, -0.8455]",
                                   "--at", "x=[0.1459, 0.0730, -1.1449]", "--wrt", "x"),
     [np.eye(3).ravel().tolist()], lambda: [np.eye(3)]),
    ("000 In[16] a.grad and b.grad of a @ b", ("vjp", "a @ b", "--at", f"a={A}", "--at", f"b={B}", "--v", "ones(2, 2)"),
     [[-1.6873, -1.1843, 0.2631] * 2, [0.4575, 0.4575, -1.3658, -1.3658, -2.7692, -2.7692]],
     lambda: _vjp(torch.matmul, torch.ones(2, 2), _t(A), _t(B))),
    ("000 In[19] the gradient of a's first row", ("vjp", "a[0] @ b", "--at", f"a={A}", "--at", f"b={B}", "--wrt", "a",
                                                  "--v", "ones(2)"),
     [[-1.6873, -1.1843, 0.2631, 0, 0, 0]],
     lambda: _vjp(lambda a: a[0] @ _t(B), torch.ones(2), _t(A))),
    ("002 calculate_jacobian of x**2", ("jacobian", "x**2", "--at", "x=[2.0, 3.0]"),
     [[4, 0, 0, 6]], lambda: [_jac(lambda x: x ** 2, torch.tensor([2.0, 3.0]))]),
    ("003 grad of out = z.mean()", ("grad", "y = x + 2; z = y * y * 3; out = z.mean()", "--at", "x=ones(2, 2)"),
     [[4.5] * 4], lambda: _vjp(lambda x: (3 * (x + 2) ** 2).mean(), None, torch.ones(2, 2))),
    ("003 y.backward(v)", ("vjp", "x * 2", "--at", "x=ones(3)", "--v", "[0.1, 1.0, 10]"),
     [[0.2, 2.0, 20.0]], lambda: _vjp(lambda x: x * 2, torch.tensor([0.1, 1.0, 10]), torch.ones(3))),
    ("004 In[12] y.backward(ones)", ("vjp", "x*x", "--at", "x=arange(3.)", "--v", "ones_like(x)"),
     [[0, 2, 4]], lambda: _vjp(lambda x: x * x, torch.ones(3), torch.arange(3.))),
    ("004 In[28] jacobian J_Q", ("jacobian", "3*a**3 - b**2", "--at", "a=[1., 2.]", "--at", "b=[2., 3.]"),
     [[9, 0, -4, 0, 0, 36, 0, -6]],
     lambda: [_jac(lambda a, b: 3 * a ** 3 - b ** 2, torch.tensor([1., 2.]), torch.tensor([2., 3.]))]),
    ("004 In[40] Q.backward(ones)", ("vjp", "3*a**3 - b**2", "--at", "a=[1., 2.]", "--at", "b=[2., 3.]",
                                     "--v", "ones(2, dtype=float32)"),
     [[9, 36], [-4, -6]],
     lambda: _vjp(lambda a, b: 3 * a ** 3 - b ** 2, torch.ones(2), torch.tensor([1., 2.]), torch.tensor([2., 3.]))),
    ("004 In[42] z = u*x with u = y", ("grad", "y = x*x; u = y; z = u*x; z.sum()", "--at", "x=arange(4.)"),
     [[0, 3, 12, 27]], lambda: _vjp(lambda x: (x * x * x).sum(), None, torch.arange(4.))),
    ("004 In[45] z = u*x with u = y.detach()", ("grad", "y = x*x; u = y.detach(); z = u*x; z.sum()",
                                                "--at", "x=arange(4.)"),
     [[0, 1, 4, 9]], lambda: _vjp(lambda x: ((x * x).detach() * x).sum(), None, torch.arange(4.))),
    ("004 In[15] autograd.grad with grad_outputs", ("vjp", "x ** 2", "--at", "x=[2.0, 3.0]", "--v", "ones(2)"),
     [[4, 6]], lambda: _vjp(lambda x: x ** 2, torch.ones(2), torch.tensor([2.0, 3.0]))),
    ("004 In[28] vjp of stack with ones", ("vjp", "stack([x[0]**2, x[0]*x[1], x[1]**2])", "--at", "x=[2.0, 3.0]",
                                           "--v", "ones(3)"),
     [[7, 8]], lambda: _vjp(_x2, torch.ones(3), torch.tensor([2.0, 3.0]))),
    ("004 In[28] vjp of stack with [1, 2, 3]", ("vjp", "stack([x[0]**2, x[0]*x[1], x[1]**2])",
                                                "--at", "x=[2.0, 3.0]", "--v", "[1., 2., 3.]"),
     [[10, 22]], lambda: _vjp(_x2, torch.tensor([1., 2., 3.]), torch.tensor([2.0, 3.0]))),
    ("004 In[22] jacobian of stack", ("jacobian", "stack([x[0]**2, x[0]*x[1], x[1]**2])", "--at", "x=[2.0, 3.0]"),
     [[4, 0, 3, 2, 0, 6]], lambda: [_jac(_x2, torch.tensor([2.0, 3.0]))]),
    ("004 In[54] flat_grad of (x**2).sum()", ("grad", "(x**2).sum()", "--at", "x=arange(4, dtype=float32)"),
     [[0, 2, 4, 6]], lambda: _vjp(lambda x: (x ** 2).sum(), None, torch.arange(4.))),
    ("004 In[22] J of x * x * arange(4)", ("jacobian", "x * x * arange(4, dtype=float)", "--at", "x=ones(4)"),
     [np.diag([0., 2, 4, 6]).ravel().tolist()],
     lambda: [_jac(lambda x: x * x * torch.arange(4, dtype=torch.float), torch.ones(4))]),
    ("004 In[37] hessian of f_2", ("hessian", "(x * x * arange(4, dtype=float32))[2]", "--at", "x=ones(4)"),
     [np.diag([0., 0, 4, 0]).ravel().tolist()],
     lambda: [torch.autograd.functional.hessian(lambda x: (x * x * torch.arange(4.))[2], torch.ones(4)).numpy()]),
    ("004 In[39] hessian of partial(f_i, i=3)", ("hessian", "(x*x*arange(4, dtype=float))[i]", "--at", "x=ones(4)",
                                                 "--at", "i=3"),
     [np.diag([0., 0, 0, 6]).ravel().tolist()],
     lambda: [torch.autograd.functional.hessian(lambda x: (x * x * torch.arange(4.))[3], torch.ones(4)).numpy()]),
]


# one example of each command runs as a real `python -m autojac` subprocess, the others through main()
AS_SUBPROCESS = {"000 In[4] jacobian of x.exp().sum(dim=1)", "000 In[16] a.grad and b.grad of a @ b",
                 "004 In[45] z = u*x with u = y.detach()", "004 In[39] hessian of partial(f_i, i=3)"}


@pytest.fixture(scope="module")
def runs() -> dict:
    chosen = [e for e in EXAMPLES if e[0] in AS_SUBPROCESS]
    procs = autojac_many([args for _, args, _, _ in chosen])
    return {name: p for (name, *_), p in zip(chosen, procs)}


@pytest.mark.parametrize("name,args,seed_numbers,oracle", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_seed_example_prints_the_seeds_numbers(runs, name, args, seed_numbers, oracle) -> None:
    p = runs[name] if name in AS_SUBPROCESS else autojac_in_process(*args)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout.startswith("f = ")
    printed = table_numbers(p.stdout)
    assert len(printed) == len(seed_numbers), p.stdout
    for got, seed, want in zip(printed, seed_numbers, oracle()):
        np.testing.assert_allclose(got, seed, rtol=0, atol=2e-4)  # the seed's printed numbers
        np.testing.assert_allclose(got, np.ravel(want), rtol=0, atol=5.1e-5)  # PyTorch's, to 4 decimals
