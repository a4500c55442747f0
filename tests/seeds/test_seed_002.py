"""Seed 002 (a Jacobian row by row with ``torch.autograd.grad``): its one code cell as a test.

The seed's printed output is missing (its "运行结果" is empty), so the Jacobian is checked against the
mathematically correct one, d(x**2)/dx = diag(2x) = [[4, 0], [0, 6]], and against PyTorch on the same code.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
import torch as real_torch

import autojac

from ._cells import Cells, check_cell, run_both, same_as_torch


def seed_002(torch: ModuleType) -> Cells:
    """The seed's code, ``torch`` bound to ``torch``; records what it prints."""
    c = Cells()
    print = c.print  # records what the seed prints
    c.cell("calculate_jacobian")

    def calculate_jacobian(x, y):
        J = torch.zeros(y.size()[0], x.size()[0])  # 创建全零矩阵J,用于储存Jacobi矩阵
        grad_y = torch.zeros(y.size())  # 创建一个与 y 相同大小的全零向量,用于存储y的梯度
        for i in range(y.size()[0]):  # 遍历 y 的每个元素
            grad_y.zero_()  # 将 grad_y 清零
            grad_y[i] = 1  # 再将grad_y的第i个元素设置为1,表示计算y中第i个元素的偏导数
            x_grads = torch.autograd.grad(y, x, grad_outputs=grad_y, retain_graph=True, create_graph=True)[0]
            # 使用torch.autograd.grad函数计算y关于x的偏导数
            J[i] = x_grads  # 将计算得到的梯度x_grads存储到雅可比矩阵的第i行
        return J

    x = torch.tensor([2.0, 3.0], requires_grad=True)
    y = x**2
    J = calculate_jacobian(x, y)
    print(J)
    c.vars.update(x=x, y=y, J=J)
    return c


@pytest.fixture(scope="module")
def runs() -> tuple[Cells, Cells]:
    return run_both(seed_002)


def test_calculate_jacobian(runs) -> None:
    # J is built by writing create_graph gradients into a zeros tensor: PyTorch shows grad_fn=<CopySlices>.
    check_cell(*runs, "calculate_jacobian", [
        "tensor([[4., 0.],\n"
        "        [0., 6.]], grad_fn=<CopySlices>)",
    ])
    np.testing.assert_array_equal(runs[0].vars["J"].detach().numpy(), [[4.0, 0.0], [0.0, 6.0]])


def test_size_explained_in_the_note(runs) -> None:
    """注 1: ``y.size()`` is the shape tuple and ``y.size()[0]`` its first entry."""
    ours, theirs = runs[0].vars["y"], runs[1].vars["y"]
    same_as_torch(ours.size(), theirs.size())
    assert ours.size() == (2,) and ours.size()[0] == 2 and isinstance(ours.size()[0], int)


def test_jacobian_cannot_be_differentiated_again(runs) -> None:
    """create_graph=True keeps J on the graph, but the seed then modifies grad_y in place (zero_, grad_y[i] = 1),
    which the graph saved: differentiating J again fails in PyTorch, and in autojac the same way."""
    for run, module in zip(runs, (autojac, real_torch)):
        J, x = run.vars["J"], run.vars["x"]
        assert J.requires_grad and not J.is_leaf
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            module.autograd.grad(J.sum(), x)


def test_jacobian_differentiates_again_with_fresh_grad_outputs() -> None:
    """The seed's loop with a fresh one-hot grad_outputs per row keeps J differentiable:
    d(sum J)/dx = d(2*x0 + 2*x1)/dx = [2, 2], as in PyTorch."""
    results = []
    for torch in (autojac, real_torch):
        x = torch.tensor([2.0, 3.0], requires_grad=True)
        y = x**2
        J = torch.stack([torch.autograd.grad(y, x, grad_outputs=torch.eye(2)[i], retain_graph=True,
                                             create_graph=True)[0] for i in range(2)])
        results.append(torch.autograd.grad(J.sum(), x)[0])
    same_as_torch(*results)
    assert results[0].tolist() == [2.0, 2.0]
