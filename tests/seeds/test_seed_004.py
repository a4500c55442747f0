"""Seed 004 (backward, autograd.grad, jacobian and hessian, a Jupyter notebook): every cell as a test.

The notebook's cells are numbered In [..] out of order (it was run out of order and some numbers repeat); they
run here in document order, labelled ``"NN In[k]"`` with NN the cell's position. In document order every cell
displays what the notebook printed, the ``torch.rand(3, 4)`` cell included: In[1] seeds the generator with
``manual_seed(42)`` and no cell in between draws random numbers. Tuples are compared as ``repr`` prints them
(the notebook's tuple display indents continuation lines one more space).
"""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np
import pytest
import torch as real_torch

import autojac

from ._cells import Cells, check_cell, run_both, same_as_torch

RAND_3_4 = ("tensor([[0.8823, 0.9150, 0.3829, 0.9593],\n"
            "        [0.3904, 0.6009, 0.2566, 0.7936],\n"
            "        [0.9408, 0.1332, 0.9346, 0.5936]], requires_grad=True)")
ZEROS_4_4 = ("tensor([[0., 0., 0., 0.],\n"
             "        [0., 0., 0., 0.],\n"
             "        [0., 0., 0., 0.],\n"
             "        [0., 0., 0., 0.]])")
DIAG_0_2_4_6 = ("tensor([[0., 0., 0., 0.],\n"
                "        [0., 2., 0., 0.],\n"
                "        [0., 0., 4., 0.],\n"
                "        [0., 0., 0., 6.]])")


def seed_004(torch: ModuleType) -> Cells:
    """The notebook's cells in document order, ``torch`` bound to ``torch``; records what each displays."""
    c = Cells()
    print = c.print  # records what the seed prints

    c.cell("01 In[1]")
    c.show(torch.manual_seed(42))

    c.cell("02 In[11]")
    x = torch.arange(3., requires_grad=True)
    y = x*x

    c.cell("03 In[4]")
    # y.backward()

    c.cell("04 In[12]")
    y.backward(gradient=torch.ones_like(x), retain_graph=True)
    c.show(x.grad)

    c.cell("05 In[13]")
    y.backward(gradient=torch.tensor([1., 2., 3.]), retain_graph=True)
    c.show(x.grad)

    c.cell("06 In[28]")
    a = torch.tensor([1., 2.], requires_grad=True)
    b = torch.tensor([2., 3.], requires_grad=True)
    Q = 3*a**3 - b**2

    c.cell("07 In[40]")
    Q.backward(gradient=torch.ones(2, dtype=torch.float32), retain_graph=True)
    print(a.grad)
    print(b.grad)
    a.grad.zero_()
    c.show(b.grad.zero_())

    c.cell("08 In[42]")
    x = torch.arange(4., requires_grad=True)
    y = x*x
    u = y
    z = u*x
    z.sum().backward()

    c.cell("09 In[44]")
    c.show(x.grad)

    c.cell("10 In[45]")
    x = torch.arange(4., requires_grad=True)
    y = x*x
    u = y.detach()
    z = u*x
    z.sum().backward()

    c.cell("11 In[46]")
    c.show(x.grad)

    c.cell("12 In[47]")
    c.show(u)

    c.cell("13 In[8]")
    x = torch.rand(3, 4)
    # in_place
    c.show(x.requires_grad_())

    c.cell("14 In[9]")
    c.show(torch.autograd.grad(x.sum(), x))

    c.cell("15 In[15]")
    x = torch.tensor([2.0, 3.0], requires_grad=True)

    # Define the multi-output function: y = [x0^2, x1^2]
    y = x ** 2
    c.show(torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))[0])

    c.cell("16 In[17]")
    c.show(torch.autograd.functional.jacobian(lambda x: x**2, x))

    c.cell("17 In[19]")
    c.show(x)

    c.cell("18 In[28]")
    y = torch.stack([x[0]**2, x[0]*x[1], x[1]**2])
    print(torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y), retain_graph=True))
    print(torch.autograd.grad(y, x, grad_outputs=torch.tensor([1., 2., 3.])))

    c.cell("19 In[22]")
    # torch.autograd.functional.jacobian(lambda x: torch.tensor([x[0]**2, x[0]*x[1], x[1]**2], requires_grad=True), x)
    c.show(torch.autograd.functional.jacobian(lambda x: torch.stack([x[0]**2, x[0]*x[1], x[1]**2]), x))

    c.cell("20 In[44]")

    def flat_grad(y, x, retain_graph=False, create_graph=False):
        if create_graph:
            retain_graph = True

        g = torch.autograd.grad(y, x, retain_graph=retain_graph, create_graph=create_graph)
        g = torch.cat([t.view(-1) for t in g])
        return g

    c.cell("21 In[52]")

    def f(x):
        return (x**2).sum()

    c.cell("22 In[53]")
    x = torch.arange(4, dtype=torch.float32, requires_grad=True)
    c.show(x)

    c.cell("23 In[54]")
    c.show(flat_grad(f(x), x))

    c.cell("24 In[55]")
    f(x).backward()
    c.show(x.grad)

    c.cell("25 In[2]")

    def f(x):  # noqa: F811  (the notebook redefines f)
        return x * x * torch.arange(4, dtype=torch.float)

    c.cell("26 In[17]")

    def jacobian(y, x, create_graph=False):
        jac = []
        flat_y = y.reshape(-1)
        grad_y = torch.zeros_like(flat_y)
        for i in range(len(flat_y)):
            grad_y[i] = 1.
            grad_x, = torch.autograd.grad(flat_y, x, grad_y, retain_graph=True, create_graph=create_graph)
            # print(flat_y, x, i, grad_x)
            jac.append(grad_x.reshape(x.shape))
            grad_y[i] = 0.
        return torch.stack(jac).reshape(y.shape + x.shape)

    c.cell("27 In[18]")
    x = torch.ones(4, requires_grad=True)
    c.show(x)

    c.cell("28 In[40]")
    c.show(f(x))

    c.cell("29 In[43]")
    c.show(f(x).reshape(-1).shape)

    c.cell("30 In[22]")
    J = torch.autograd.functional.jacobian(f, x)
    c.show(J)

    c.cell("31 In[20]")
    c.show(jacobian(f(x), x))

    c.cell("32 In[23]")

    def hessian(y, x):
        return jacobian(jacobian(y, x, create_graph=True), x)

    c.cell("33 In[24]")
    c.show(hessian(f(x), x))

    c.cell("34 In[35]")

    def f_0(x):
        return (x * x * torch.arange(4, dtype=torch.float32))[0]

    def f_1(x):
        return (x * x * torch.arange(4, dtype=torch.float32))[1]

    def f_2(x):
        return (x * x * torch.arange(4, dtype=torch.float32))[2]

    def f_3(x):
        return (x * x * torch.arange(4, dtype=torch.float32))[3]

    c.cell("35 In[37]")
    print(torch.autograd.functional.hessian(f_0, x))
    print(torch.autograd.functional.hessian(f_1, x))
    print(torch.autograd.functional.hessian(f_2, x))
    print(torch.autograd.functional.hessian(f_3, x))

    c.cell("36 In[39]")
    from functools import partial

    def f_i(x, i):
        return (x*x*torch.arange(4, dtype=torch.float))[i]

    c.show(torch.autograd.functional.hessian(partial(f_i, i=3), x))
    return c


@pytest.fixture(scope="module")
def runs() -> tuple[Cells, Cells]:
    return run_both(seed_004)


# ---- tensor.backward -------------------------------------------------------------------------------------

def test_01_manual_seed_returns_the_default_generator(runs) -> None:
    ours, theirs = runs[0].shown["01 In[1]"][0].value, runs[1].shown["01 In[1]"][0].value
    assert theirs is real_torch.default_generator
    assert ours is autojac.default_generator and isinstance(ours, autojac.Generator)
    assert ours.initial_seed() == theirs.initial_seed() == 42
    assert "Generator" in repr(ours)  # PyTorch: <torch._C.Generator at 0x...>, an address that varies


@pytest.mark.parametrize("label", ["02 In[11]", "03 In[4]", "06 In[28]", "08 In[42]", "10 In[45]", "20 In[44]",
                                   "21 In[52]", "25 In[2]", "26 In[17]", "32 In[23]", "34 In[35]"])
def test_cells_that_display_nothing(runs, label: str) -> None:
    check_cell(*runs, label, [])


def test_03_commented_out_backward_of_a_vector_raises() -> None:
    """In[4] keeps ``# y.backward()`` commented out: y = x*x is not a scalar, so PyTorch raises."""
    for torch in (autojac, real_torch):
        x = torch.arange(3., requires_grad=True)
        y = x*x
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            y.backward()


def test_04_backward_with_ones(runs) -> None:
    check_cell(*runs, "04 In[12]", ["tensor([0., 2., 4.])"])


def test_05_backward_accumulates(runs) -> None:
    check_cell(*runs, "05 In[13]", ["tensor([ 0.,  6., 16.])"])


def test_07_multi_input_tensors(runs) -> None:
    check_cell(*runs, "07 In[40]", ["tensor([ 9., 36.])", "tensor([-4., -6.])", "tensor([0., 0.])"])
    # a.grad / b.grad were printed before zero_(), and zero_() works in place on the same tensors
    a_grad, b_grad, zeroed = (shot.value for shot in runs[0].shown["07 In[40]"])
    assert zeroed is b_grad and a_grad.tolist() == b_grad.tolist() == [0.0, 0.0]


def test_09_gradient_through_an_alias(runs) -> None:
    check_cell(*runs, "09 In[44]", ["tensor([ 0.,  3., 12., 27.])"])


def test_11_12_detach(runs) -> None:
    check_cell(*runs, "11 In[46]", ["tensor([0., 1., 4., 9.])"])
    check_cell(*runs, "12 In[47]", ["tensor([0., 1., 4., 9.])"])


# ---- torch.autograd.grad -----------------------------------------------------------------------------------

def test_13_rand_after_manual_seed_42(runs) -> None:
    """In document order In[1]'s manual_seed(42) is the last seeding and nothing in between draws numbers."""
    check_cell(*runs, "13 In[8]", [RAND_3_4])


def test_13_rand_in_a_fresh_generator_state() -> None:
    """In[8] as the notebook ran it, right after In[1] in a fresh process: the exact values PyTorch draws."""
    autojac.manual_seed(42)
    x = autojac.rand(3, 4)
    assert repr(x.requires_grad_()) == RAND_3_4
    real_torch.manual_seed(42)
    assert x.tolist() == real_torch.rand(3, 4).tolist()  # bit for bit


def test_14_grad_of_sum(runs) -> None:
    check_cell(*runs, "14 In[9]", [
        "(tensor([[1., 1., 1., 1.],\n"
        "        [1., 1., 1., 1.],\n"
        "        [1., 1., 1., 1.]]),)",
    ])


def test_15_grad_with_grad_outputs(runs) -> None:
    check_cell(*runs, "15 In[15]", ["tensor([4., 6.])"])


def test_16_functional_jacobian(runs) -> None:
    check_cell(*runs, "16 In[17]", ["tensor([[4., 0.],\n"
                                    "        [0., 6.]])"])


def test_17_input_unchanged(runs) -> None:
    check_cell(*runs, "17 In[19]", ["tensor([2., 3.], requires_grad=True)"])


def test_18_grad_of_stacked_outputs(runs) -> None:
    check_cell(*runs, "18 In[28]", ["(tensor([7., 8.]),)", "(tensor([10., 22.]),)"])


def test_19_jacobian_of_stacked_outputs(runs) -> None:
    check_cell(*runs, "19 In[22]", ["tensor([[4., 0.],\n"
                                    "        [3., 2.],\n"
                                    "        [0., 6.]])"])


def test_19_commented_out_torch_tensor_line() -> None:
    """In[22]'s commented-out variant builds the output with ``torch.tensor([...], requires_grad=True)``: a new
    leaf, cut from x. PyTorch (warning about converting a tensor that requires grad) returns a zero Jacobian;
    autojac returns the same."""
    results = []
    for torch in (autojac, real_torch):
        x = torch.tensor([2.0, 3.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            results.append(torch.autograd.functional.jacobian(
                lambda x: torch.tensor([x[0]**2, x[0]*x[1], x[1]**2], requires_grad=True), x))  # noqa: B023
    same_as_torch(*results)
    assert repr(results[0]) == ("tensor([[0., 0.],\n"
                                "        [0., 0.],\n"
                                "        [0., 0.]])")


def test_19_commented_out_line_strict_raises() -> None:
    """With strict=True the same cut output is an error in both (the output does not depend on the input)."""
    for torch in (autojac, real_torch):
        x = torch.tensor([2.0, 3.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with pytest.raises(RuntimeError):
                torch.autograd.functional.jacobian(
                    lambda x: torch.tensor([x[0]**2, x[0]*x[1], x[1]**2], requires_grad=True),  # noqa: B023
                    x, strict=True)


# ---- flat_grad ---------------------------------------------------------------------------------------------

def test_22_arange_float32(runs) -> None:
    check_cell(*runs, "22 In[53]", ["tensor([0., 1., 2., 3.], requires_grad=True)"])


def test_23_24_flat_grad_and_backward_agree(runs) -> None:
    check_cell(*runs, "23 In[54]", ["tensor([0., 2., 4., 6.])"])
    check_cell(*runs, "24 In[55]", ["tensor([0., 2., 4., 6.])"])


# ---- jacobian ----------------------------------------------------------------------------------------------

def test_27_ones(runs) -> None:
    check_cell(*runs, "27 In[18]", ["tensor([1., 1., 1., 1.], requires_grad=True)"])


def test_28_forward(runs) -> None:
    check_cell(*runs, "28 In[40]", ["tensor([0., 1., 2., 3.], grad_fn=<MulBackward0>)"])


def test_29_shape(runs) -> None:
    """``torch.Size([4])``; autojac names its own module in the repr: ``autojac.Size([4])``."""
    check_cell(*runs, "29 In[43]", ["torch.Size([4])"])


def test_30_31_functional_and_handwritten_jacobian(runs) -> None:
    check_cell(*runs, "30 In[22]", [DIAG_0_2_4_6])
    check_cell(*runs, "31 In[20]", [DIAG_0_2_4_6])


# ---- hessian -----------------------------------------------------------------------------------------------

def test_33_handwritten_hessian(runs) -> None:
    blocks = []
    for k in range(4):
        rows = ["[" + ", ".join(f"{2 * k if (i == j == k) else 0}." for j in range(4)) + "]" for i in range(4)]
        blocks.append("[" + ",\n         ".join(rows) + "]")
    printed = "tensor([" + ",\n\n        ".join(blocks) + "])"
    check_cell(*runs, "33 In[24]", [printed])
    expected = np.zeros((4, 4, 4), dtype=np.float32)
    for k in range(4):
        expected[k, k, k] = 2 * k
    np.testing.assert_array_equal(runs[0].shown["33 In[24]"][0].value.numpy(), expected)


def test_35_functional_hessians_of_each_output(runs) -> None:
    check_cell(*runs, "35 In[37]", [
        ZEROS_4_4,
        ("tensor([[0., 0., 0., 0.],\n"
         "        [0., 2., 0., 0.],\n"
         "        [0., 0., 0., 0.],\n"
         "        [0., 0., 0., 0.]])"),
        ("tensor([[0., 0., 0., 0.],\n"
         "        [0., 0., 0., 0.],\n"
         "        [0., 0., 4., 0.],\n"
         "        [0., 0., 0., 0.]])"),
        ("tensor([[0., 0., 0., 0.],\n"
         "        [0., 0., 0., 0.],\n"
         "        [0., 0., 0., 0.],\n"
         "        [0., 0., 0., 6.]])"),
    ])


def test_36_hessian_of_a_partial(runs) -> None:
    check_cell(*runs, "36 In[39]", [("tensor([[0., 0., 0., 0.],\n"
                                     "        [0., 0., 0., 0.],\n"
                                     "        [0., 0., 0., 0.],\n"
                                     "        [0., 0., 0., 6.]])")])


def test_every_cell_is_checked(runs) -> None:
    """All 36 cells of the notebook ran, in order, under both libraries."""
    assert list(runs[0].shown) == list(runs[1].shown)
    assert len(runs[0].shown) == 36
