"""Seed 000 (deep_thoughts, P_11: vector and matrix derivatives, Jacobians): every cell as a test.

The seed drew its inputs with ``torch.randn`` and no seed; its printed inputs are used as literals instead,
so outputs match the printed ones to about 2e-4 (the inputs were rounded to 4 decimals): ``atol=5e-4``.
"""

from __future__ import annotations

from types import ModuleType

import pytest

import autojac

from ._cells import Cells, check_cell, run_both

ROUNDED = {"atol": 5e-4, "exact": False}  # outputs of inputs the seed printed rounded to 4 decimals


def seed_000(torch: ModuleType) -> Cells:
    """The seed's cells in order, ``torch`` bound to ``torch``; records what each cell displays."""
    c = Cells()
    print = c.print  # records what the seed prints

    c.cell("In[4]")
    jacobian = torch.autograd.functional.jacobian  # seed: from torch.autograd.functional import jacobian

    def func(x):
        return x.exp().sum(dim=1)

    x = torch.tensor([[-1.1897, 0.1149, -0.7102],
                      [2.3557, -0.0798, -1.4557]])  # seed: x = torch.randn(2,3), printed value
    print(x)
    y = func(x)
    print(y)
    c.show(jacobian(func, x))

    c.cell("In[6]")
    a = torch.tensor([-0.9941, 0.0499, -0.8455])  # seed: a = torch.randn(3), printed value
    print(a)

    def func(x):  # noqa: F811  (the seed redefines func)
        return a+x

    x = torch.tensor([0.1459, 0.0730, -1.1449])  # seed: x = torch.randn(3), printed value
    print(x)

    c.show(jacobian(func, x))

    c.cell("In[7]")
    # seed: x = torch.randn(3, requires_grad=True), not printed: recovered as the printed y minus the printed a
    x = torch.tensor([-0.1856, -1.3303, -1.8820], requires_grad=True)

    y = func(x)
    print(y)
    y.backward(torch.ones_like(y))
    print(x.grad)

    c.cell("In[10]")
    c.show(torch.ones_like(y) @ jacobian(func, x))  # @矩阵相乘

    c.cell("In[11]")
    # seed: a = torch.randn(2, 3, requires_grad=True); b = torch.randn(3, 2, requires_grad=True), printed values
    a = torch.tensor([[0.7477, -1.0058, -2.2361],
                      [-0.2903, -0.3600, -0.5330]], requires_grad=True)
    b = torch.tensor([[-2.1878, 0.5005],
                      [0.2652, -1.4495],
                      [-0.5458, 0.8088]], requires_grad=True)
    print(a)
    print(b)

    c.cell("In[13]")
    y = a @ b
    print(y)

    c.cell("In[15]")
    y.backward(torch.ones_like(y))

    c.cell("In[16]")
    print(a.grad)
    print(b.grad)

    c.cell("In[19]")

    def func(a):  # noqa: F811
        return a @ b

    c.show(torch.ones_like(func(a[0])) @ jacobian(func, a[0]))  # 求a的第一行梯度

    c.cell("In[18]")
    c.show(torch.ones_like(func(a[1])) @ jacobian(func, a[1]))  # 求a的第二行梯度

    c.cell("In[20]")

    def func(b):  # noqa: F811
        return a @ b

    c.show(torch.ones_like(func(b[:, 0])) @ jacobian(func, b[:, 0]))  # 求b的第一列梯度

    c.cell("In[21]")
    c.show(torch.ones_like(func(b[:, 1])) @ jacobian(func, b[:, 1]))  # 求b的第二列梯度
    return c


@pytest.fixture(scope="module")
def runs() -> tuple[Cells, Cells]:
    return run_both(seed_000)


def test_import_line() -> None:
    """The seed's import, spelled for autojac, gives the same function."""
    from autojac.autograd.functional import jacobian
    assert jacobian is autojac.autograd.functional.jacobian


def test_in4_vector_to_vector_jacobian(runs) -> None:
    check_cell(*runs, "In[4]", [
        "tensor([[-1.1897,  0.1149, -0.7102],\n"
        "        [ 2.3557, -0.0798, -1.4557]])",
        "tensor([ 1.9176, 11.7021])",
        "tensor([[[ 0.3043,  1.1217,  0.4915],\n"
        "         [ 0.0000,  0.0000,  0.0000]],\n"
        "\n"
        "        [[ 0.0000,  0.0000,  0.0000],\n"
        "         [10.5456,  0.9233,  0.2332]]])",
    ], **ROUNDED)


def test_in6_jacobian_of_a_plus_x(runs) -> None:
    check_cell(*runs, "In[6]", [
        "tensor([-0.9941,  0.0499, -0.8455])",
        "tensor([ 0.1459,  0.0730, -1.1449])",
        "tensor([[1., 0., 0.],\n"
        "        [0., 1., 0.],\n"
        "        [0., 0., 1.]])",
    ])


def test_in7_backward_with_ones(runs) -> None:
    check_cell(*runs, "In[7]", [
        "tensor([-1.1797, -1.2804, -2.7275], grad_fn=<AddBackward0>)",
        "tensor([1., 1., 1.])",
    ])


def test_in10_ones_times_jacobian(runs) -> None:
    check_cell(*runs, "In[10]", ["tensor([1., 1., 1.])"])


def test_in11_matrix_inputs(runs) -> None:
    check_cell(*runs, "In[11]", [
        "tensor([[ 0.7477, -1.0058, -2.2361],\n"
        "        [-0.2903, -0.3600, -0.5330]], requires_grad=True)",
        "tensor([[-2.1878,  0.5005],\n"
        "        [ 0.2652, -1.4495],\n"
        "        [-0.5458,  0.8088]], requires_grad=True)",
    ])


def test_in13_matmul(runs) -> None:
    check_cell(*runs, "In[13]", [
        "tensor([[-0.6822,  0.0234],\n"
        "        [ 0.8305, -0.0546]], grad_fn=<MmBackward0>)",
    ], **ROUNDED)


def test_in15_backward_displays_nothing(runs) -> None:
    check_cell(*runs, "In[15]", [])


def test_in16_matrix_gradients(runs) -> None:
    check_cell(*runs, "In[16]", [
        "tensor([[-1.6873, -1.1843,  0.2631],\n"
        "        [-1.6873, -1.1843,  0.2631]])",
        "tensor([[ 0.4575,  0.4575],\n"
        "        [-1.3658, -1.3658],\n"
        "        [-2.7692, -2.7692]])",
    ], **ROUNDED)


@pytest.mark.parametrize("label", ["In[19]", "In[18]"])
def test_in19_in18_rows_of_a_grad(runs, label: str) -> None:
    check_cell(*runs, label, ["tensor([-1.6873, -1.1843,  0.2631])"], **ROUNDED)
    ours = runs[0]
    assert ours.shown[label][0].value.tolist() == ours.shown["In[16]"][0].value[0].tolist()


@pytest.mark.parametrize("label, column", [("In[20]", 0), ("In[21]", 1)])
def test_in20_in21_columns_of_b_grad(runs, label: str, column: int) -> None:
    check_cell(*runs, label, ["tensor([ 0.4575, -1.3658, -2.7692])"], **ROUNDED)
    ours = runs[0]
    assert ours.shown[label][0].value.tolist() == ours.shown["In[16]"][1].value[:, column].tolist()
