"""Error cases: autojac raises the exception type PyTorch 2.13 raises, with a message that says what is wrong.

Each case is ``case(T)`` run with ``torch`` and with ``autojac``. Our message is checked
against a pattern naming the culprit (shapes, dims, dtypes), and must not be a raw NumPy
error leaking from inside.
"""

from __future__ import annotations

import re
import traceback

import numpy as np
import pytest
import torch

import autojac


def raised(case, lib):
    with pytest.raises(Exception) as info:
        case(lib)
    return info


def check_error(case, pattern: str) -> Exception:
    """Both libraries raise; same exception type; our message matches ``pattern``; no NumPy frames."""
    theirs = raised(case, torch)
    ours = raised(case, autojac)
    assert ours.type is theirs.type, f"torch raised {theirs.type.__name__}, autojac {ours.type.__name__}: {ours.value}"
    message = str(ours.value)
    assert re.search(pattern, message), f"message {message!r} does not match {pattern!r}"
    # the error comes from our code, not from deep inside NumPy
    assert not any("/numpy/" in f.filename for f in traceback.extract_tb(ours.tb)[-1:]), message
    assert "inhomogeneous" not in message and "operands could not be broadcast" not in message, message
    return ours.value


# --------------------------------------------------------------------------- autograd errors
def test_backward_of_non_scalar_without_gradient():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        (x * 2).backward()
    check_error(case, r"grad can be implicitly created only for scalar outputs")


def test_grad_of_non_scalar_without_grad_outputs():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        T.autograd.grad(x * 2, x)
    check_error(case, r"only for scalar outputs")


@pytest.mark.parametrize("use_grad", [False, True])
def test_second_backward_through_freed_graph(use_grad):
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x.exp().sum()
        for _ in range(2):
            if use_grad:
                T.autograd.grad(y, x)
            else:
                y.backward()
    check_error(case, r"backward through the graph a second time.*retain_graph=True")


@pytest.mark.parametrize("make", [
    lambda T: T.tensor([1, 2], requires_grad=True),
    lambda T: T.tensor([True], requires_grad=True),
    lambda T: T.zeros(2, dtype=T.int64, requires_grad=True),
    lambda T: T.arange(3, requires_grad=True),
    lambda T: T.tensor([1, 2]).requires_grad_(),
    lambda T: setattr(T.tensor([True, False]), "requires_grad", True),
], ids=["tensor_int", "tensor_bool", "zeros_int", "arange", "requires_grad_", "setter_bool"])
def test_requires_grad_on_integer_or_bool_tensor(make):
    check_error(make, r"(?i)only Tensors of floating point.*can require gradients")


@pytest.mark.parametrize("how", ["backward", "grad", "grad_batched"])
def test_gradient_of_wrong_shape(how):
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        if how == "backward":
            (x * 2).backward(T.ones(3))
        elif how == "grad":
            T.autograd.grad(x * 2, x, T.ones(2, 1))
        else:
            T.autograd.grad(x * 2, x, T.ones(4, 3), is_grads_batched=True)
    check_error(case, r"Mismatch in shape.*grad_output\[0\].*\[.*\].*output\[0\].*\[2\]")


def test_gradient_of_wrong_number():
    def case(T):
        x = T.tensor(1., requires_grad=True)
        T.autograd.grad([x * x, x * 2], x, grad_outputs=[T.tensor(1.)])
    check_error(case, r"1 grad.*2|2.*1 grad")


def test_int_gradient_is_accepted_and_cast():
    # not an error: PyTorch casts a real grad_output of another dtype to the output's dtype
    for T in (torch, autojac):
        x = T.tensor([1., 2.], requires_grad=True)
        (x * 2).backward(T.tensor([1, 3]))
        assert x.grad.tolist() == [2., 6.] and str(x.grad.dtype).endswith("float32")


def test_complex_gradient_for_real_output():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        T.autograd.grad(x * 2, x, T.tensor([1., 3.], dtype=T.complex64))
    check_error(case, r"dtype.*complex64.*float32")


def test_unused_input_without_allow_unused():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        u = T.tensor([1.], requires_grad=True)
        T.autograd.grad((x * 2).sum(), [x, u])
    check_error(case, r"index 1 .*not have been used in the graph.*allow_unused=True")


def test_materialize_grads_with_allow_unused_false():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        T.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)
    check_error(case, r"allow_unused")


@pytest.mark.parametrize("how", ["grad", "backward", "grad_of_grad"])
def test_output_that_does_not_require_grad(how):
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        if how == "grad":
            T.autograd.grad(T.tensor(1.), x)
        elif how == "backward":
            T.tensor(1.).backward()
        else:
            (g,) = T.autograd.grad((x * x).sum(), x)  # no create_graph: g is a constant
            T.autograd.grad(g.sum(), x)
    check_error(case, r"element 0 of tensors does not require grad")


def test_input_that_does_not_require_grad():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        c = T.tensor([1., 2.])
        T.autograd.grad((x * c).sum(), c)
    check_error(case, r"does not require grad")


def test_backward_with_empty_inputs():
    def case(T):
        x = T.tensor(1., requires_grad=True)
        (x * x).backward(inputs=[])
    check_error(case, r"inputs.*cannot be empty")


def test_in_place_change_of_saved_tensor():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2
        z = y * y
        y.add_(1)
        z.sum().backward()
    err = check_error(case, r"modified by an inplace operation.*version 1; expected version 0")
    assert "[2]" in str(err)  # names the tensor's shape


def test_in_place_on_leaf_requiring_grad():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        x.add_(1)
    check_error(case, r"leaf Variable that requires grad.*in-place")


def test_setitem_on_leaf_requiring_grad():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        x[0] = 5.0
    check_error(case, r"leaf Variable that requires grad.*in-place")


def test_in_place_on_view_of_leaf_requiring_grad():
    def case(T):
        x = T.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        x[0].mul_(2)
    check_error(case, r"view of a leaf Variable that requires grad")


def test_requires_grad_false_on_non_leaf():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        (x * 2).requires_grad_(False)
    check_error(case, r"only change requires_grad flags of leaf variables")


def test_retain_grad_and_hook_on_tensor_without_grad():
    check_error(lambda T: T.ones(2).retain_grad(), r"can't retain_grad.*requires_grad=False")
    check_error(lambda T: T.ones(2).register_hook(lambda g: g), r"hook on a tensor that doesn't require gradient")


def test_hook_changing_the_gradient_shape():
    def case(T):
        x = T.ones(2, requires_grad=True)
        x.register_hook(lambda g: T.ones(3))
        x.sum().backward()
    check_error(case, r"hook '<lambda>' has changed the size of value")


def test_detach_in_place_of_view():
    def case(T):
        x = T.ones(2, 2, requires_grad=True)
        x[0].detach_()
    check_error(case, r"Can't detach views in-place")


def test_assigning_grad_of_wrong_shape():
    def case(T):
        x = T.ones(2, requires_grad=True)
        x.grad = T.ones(3)
    check_error(case, r"\[3\].*\[2\]|\[2\].*\[3\]")


def test_numpy_of_tensor_requiring_grad():
    check_error(lambda T: T.ones(3, requires_grad=True).numpy(), r"requires grad.*detach\(\)")


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("a,b", [((2, 3), (4,)), ((2, 3), (3, 2)), ((5, 2, 3), (4, 1, 3)), ((3,), (2,))])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "maximum"])
def test_shapes_that_do_not_broadcast(a, b, op):
    def case(T):
        x = T.ones(*a, requires_grad=True)
        getattr(T, op)(x, T.ones(*b))
    err = check_error(case, r"size of tensor a \(\d+\) must match the size of tensor b \(\d+\) "
                            r"at non-singleton dimension")
    assert str(list(a)) in str(err) and str(list(b)) in str(err), f"both shapes should be named: {err}"


def test_in_place_result_that_does_not_fit():
    def case(T):
        x = T.zeros(3)
        x.add_(T.ones(2, 3))
    check_error(case, r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]")


def test_expand_to_incompatible_size():
    check_error(lambda T: T.ones(3).expand(2, 4), r"expanded size.*\(4\).*existing size \(3\)")


@pytest.mark.parametrize("a,b,fn", [
    ((2, 3), (2, 3), "matmul"),
    ((2, 3), (4, 3), "mm"),
    ((3,), (4,), "dot"),
    ((2, 2, 3), (3, 3, 2), "bmm"),
])
def test_matmul_shape_mismatch(a, b, fn):
    err = check_error(lambda T: getattr(T, fn)(T.ones(*a), T.ones(*b)), r".")
    text = str(err)
    assert any(str(n) in text for n in (3, 4)), text


def test_matmul_message_names_both_shapes():
    err = check_error(lambda T: T.ones(2, 3) @ T.ones(2, 3),
                      r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)")
    assert "2x3" in str(err)


def test_matrix_vector_mismatch():
    check_error(lambda T: T.ones(2, 3) @ T.ones(2), r"2.*3|3.*2")


@pytest.mark.parametrize("call", [
    lambda T: T.ones(2, 3).sum(2),
    lambda T: T.ones(2, 3).softmax(-3),
    lambda T: T.ones(2, 3).transpose(0, 2),
    lambda T: T.ones(2, 3).unsqueeze(3),
    lambda T: T.cat([T.ones(2), T.ones(2)], 1),
    lambda T: T.ones(2, 3).size(2),
    lambda T: T.ones(2, 3).mean(dim=-3),
    lambda T: T.ones(2, 3).max(dim=5),
    lambda T: T.ones(2, 3).squeeze(4),
    lambda T: T.ones(2, 3).permute(0, 3),
    lambda T: T.ones(2, 3).flatten(0, 4),
    lambda T: T.stack([T.ones(2), T.ones(2)], 3),
], ids=["sum", "softmax", "transpose", "unsqueeze", "cat", "size", "mean", "max", "squeeze", "permute",
        "flatten", "stack"])
def test_bad_dim(call):
    check_error(call, r"Dimension out of range \(expected to be in range of \[-\d, \d\], but got -?\d\)")


@pytest.mark.parametrize("shape", [(4, 2), (5,), (-1, 4), (-1, -1)])
@pytest.mark.parametrize("method", ["reshape", "view"])
def test_reshape_to_a_wrong_size(shape, method):
    pattern = r"only one dimension can be inferred" if shape == (-1, -1) else \
        re.escape(f"shape '{list(shape)}' is invalid for input of size 6")
    check_error(lambda T: getattr(T.ones(2, 3), method)(*shape), pattern)


def test_stack_and_cat_of_mismatched_sizes():
    check_error(lambda T: T.stack([T.ones(2), T.ones(3)]), r"stack expects each tensor to be equal size.*\[2\].*\[3\]")
    check_error(lambda T: T.cat([T.ones(2, 2), T.ones(3, 3)]), r"Sizes of tensors must match except in dimension 0")


# --------------------------------------------------------------------------- indexing
@pytest.mark.parametrize("index,pattern", [
    (2, r"index 2 is out of bounds for dimension 0 with size 2"),
    ((0, 3), r"index 3 is out of bounds for dimension 1 with size 3"),
    ((slice(None), -4), r"index -4 is out of bounds for dimension 1 with size 3"),
    ((0, 0, 0), r"too many indices for tensor of dimension 2"),
    (1.5, r"only integers, slices"),
], ids=["row", "column", "negative", "too_many", "float"])
def test_index_out_of_bounds(index, pattern):
    check_error(lambda T: T.ones(2, 3)[index], pattern)


def test_tensor_index_out_of_bounds():
    check_error(lambda T: T.ones(2, 3)[T.tensor([0, 5])], r"index 5 is out of bounds for dimension 0 with size 2")


def test_mask_of_wrong_shape():
    check_error(lambda T: T.ones(3)[T.tensor([True, False])], r"shape of the mask \[2\].*indexed tensor \[3\]")


def test_setitem_out_of_bounds():
    def case(T):
        x = T.ones(2, 3)
        x[3] = 1.0
    check_error(case, r"index 3 is out of bounds for dimension 0 with size 2")


def test_setitem_value_of_wrong_shape():
    def case(T):
        x = T.zeros(2, 3)
        x[0] = T.ones(2)
    err = check_error(case, r"\[2\].*\[3\]|\[3\].*\[2\]")
    assert "broadcast" in str(err) or "size" in str(err)


def test_index_select_out_of_range():
    check_error(lambda T: T.ones(3).index_select(0, T.tensor([4])), r"index")


# --------------------------------------------------------------------------- conversions and creation
def test_item_of_several_elements():
    check_error(lambda T: T.ones(3).item(), r"a Tensor with 3 elements cannot be converted to Scalar")


def test_bool_of_several_elements():
    check_error(lambda T: bool(T.ones(3)), r"Boolean value of Tensor with more than one value is ambiguous")


def test_len_and_iter_of_0d():
    check_error(lambda T: len(T.tensor(1.)), r"len\(\) of a 0-d tensor")
    check_error(lambda T: iter(T.tensor(1.)), r"iteration over a 0-d tensor")


def test_in_place_result_of_wider_dtype():
    def case(T):
        x = T.zeros(3, dtype=T.int64)
        x.add_(T.ones(3))
    check_error(case, r"result type .*[Ff]loat.* can't be cast to the desired output type .*([Ll]ong|int64)")


@pytest.mark.parametrize("data,pattern", [
    ([[1, 2], [3]], r"expected sequence of length 2 at dim 1 \(got 1\)"),
    ([[1, 2], [3, 4, 5]], r"expected sequence of length 2 at dim 1 \(got 3\)"),
    ([[[1, 2], [3, 4]], [[1, 2], [3]]], r"expected sequence of length 2 at dim 2 \(got 1\)"),
    ([[1, 2], []], r"expected sequence of length 2 at dim 1 \(got 0\)"),
], ids=["short_row", "long_row", "deep", "empty_row"])
def test_ragged_nested_lists(data, pattern):
    check_error(lambda T: T.tensor(data), pattern)


@pytest.mark.parametrize("data", [[1, [2]], [[1], 2]], ids=["number_then_list", "list_then_number"])
def test_mixed_numbers_and_lists(data):
    check_error(lambda T: T.tensor(data), r"sequence|number")


def test_non_numeric_data():
    check_error(lambda T: T.tensor("abc"), r"str")
    check_error(lambda T: T.tensor([1, "a"]), r"str")
    check_error(lambda T: T.tensor([None]), r"Could not infer dtype of NoneType")


def test_negative_size():
    check_error(lambda T: T.zeros(-1), r"negative")


def test_from_numpy_of_non_array():
    check_error(lambda T: T.from_numpy([1, 2]), r"expected np.ndarray")


def test_operator_with_unsupported_operand():
    check_error(lambda T: T.ones(2) * "a", r".")


def test_randint_with_empty_range():
    check_error(lambda T: T.randint(5, 5, (2,)), r"from.*less than.*to|from=5.*to=5")


def test_set_default_dtype_to_integer():
    check_error(lambda T: T.set_default_dtype(T.int64), r"floating")


def test_no_numpy_warning_leaks_from_errors():
    # bad input must fail cleanly: an error, not a NumPy warning followed by nonsense
    with np.errstate(all="raise"):
        with pytest.raises(RuntimeError):
            autojac.ones(2, 3) + autojac.ones(4)


def test_arange_with_step_of_the_wrong_sign():
    check_error(lambda T: T.arange(0, 10, -1), r"upper bound and lower bound inconsistent with step sign")
    check_error(lambda T: T.arange(0, 1, 0), r"step must be nonzero")


def test_eye_of_negative_size():
    check_error(lambda T: T.eye(-1), r"n must be greater or equal to 0, got -1")
    check_error(lambda T: T.eye(2, -3), r"m must be greater or equal to 0, got -3")


@pytest.mark.parametrize("call", [
    lambda T: T.where(T.tensor([True, False]), T.ones(2, 3), T.ones(2, 3)),
    lambda T: T.ones(2, 3).masked_fill(T.tensor([True, False]), 0.0),
], ids=["where", "masked_fill"])
def test_mask_that_does_not_broadcast(call):
    err = check_error(call, r"size of tensor a \(2\) must match the size of tensor b \(3\)")
    assert "[2]" in str(err) and "[2, 3]" in str(err)
