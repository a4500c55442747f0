"""Seed 003 (Pytorch中的导数与梯度: derivatives and gradients): every code block as a test.

The seed shows ``print(x.grad)`` = 4.5 everywhere for out = mean(3 (x + 2)^2) at x = 1, and a vector-Jacobian
product ``y.backward(v)`` for y = 2x, whose x.grad is 2v = [0.2, 2., 20.] (not printed by the seed).
"""

from __future__ import annotations

from types import ModuleType

import pytest
import torch as real_torch

import autojac

from ._cells import Cells, check_cell, run_both


def seed_003(torch: ModuleType) -> Cells:
    """The seed's code blocks in order, ``torch`` bound to ``torch``; records what the text says they show."""
    c = Cells()
    print = c.print  # records what the seed prints

    c.cell("ones")
    x = torch.ones(2, 2, requires_grad=True)
    c.show(x)

    c.cell("forward")
    y = x + 2
    z = y * y * 3
    out = z.mean()
    c.show(y)
    c.show(z)
    c.show(out)

    c.cell("backward")
    out.backward()
    print("grad of x: ", x.grad)
    print(x.grad)

    c.cell("vjp")
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    v = torch.tensor([0.1, 1.0, 10], dtype=torch.float)
    y.backward(v)
    print(x.grad)
    c.vars.update(v=v, y=y)
    return c


@pytest.fixture(scope="module")
def runs() -> tuple[Cells, Cells]:
    return run_both(seed_003)


def test_ones_requires_grad(runs) -> None:
    check_cell(*runs, "ones", [
        "tensor([[1., 1.],\n"
        "        [1., 1.]], requires_grad=True)",
    ])


def test_forward(runs) -> None:
    check_cell(*runs, "forward", [
        "tensor([[3., 3.],\n"
        "        [3., 3.]], grad_fn=<AddBackward0>)",
        "tensor([[27., 27.],\n"
        "        [27., 27.]], grad_fn=<MulBackward0>)",
        "tensor(27., grad_fn=<MeanBackward0>)",
    ])


def test_backward_grad_is_4_5(runs) -> None:
    grad = ("tensor([[4.5000, 4.5000],\n"
            "        [4.5000, 4.5000]])")
    check_cell(*runs, "backward", [None, grad])
    assert runs[0].shown["backward"][0].text == "grad of x:  " + grad


def test_vector_jacobian_product(runs) -> None:
    check_cell(*runs, "vjp", ["tensor([ 0.2000,  2.0000, 20.0000])"])
    assert runs[0].vars["v"].dtype == runs[0].vars["y"].dtype
    assert runs[0].shown["vjp"][0].value.tolist() == pytest.approx([0.2, 2.0, 20.0], abs=1e-6)


def test_backward_needs_a_scalar_or_a_vector(runs) -> None:
    """注意: backward() without an argument needs a scalar; y is a vector, so it raises as in PyTorch."""
    for torch in (autojac, real_torch):
        x = torch.ones(3, requires_grad=True)
        y = x * 2
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            y.backward()


def test_integer_tensors_cannot_require_grad() -> None:
    """注意: a matrix whose gradient is tracked must not be of an integer type; PyTorch raises a RuntimeError."""
    for torch in (autojac, real_torch):
        with pytest.raises(RuntimeError, match="floating point"):
            torch.ones(2, 2, dtype=torch.int64, requires_grad=True)
