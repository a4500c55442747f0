"""``repr`` of tensors, string for string against PyTorch 2.13 (with ``torch.`` read as ``autojac.``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac

nan, inf = float("nan"), float("inf")


def same_repr(make, **printoptions) -> None:
    """``repr(make(T))`` must be PyTorch's, under the same print options."""
    texts = []
    for T in (torch, autojac):
        T.set_printoptions(**printoptions)
        try:
            texts.append(repr(make(T)))
        finally:
            T.set_printoptions(profile="default")
    expected = texts[0].replace("torch.", "autojac.")
    assert texts[1] == expected, f"\nexpected:\n{expected}\ngot:\n{texts[1]}"


VALUES = {
    "ints": lambda T: T.tensor([1, 2, 3]),
    "negative_ints": lambda T: T.tensor([-1, 20, 300]),
    "int_matrix": lambda T: T.tensor([[1, -2], [300, 4]]),
    "floats": lambda T: T.tensor([1.5, 2.25, -3.0]),
    "float64": lambda T: T.tensor([1.5, 2.0], dtype=T.float64),
    "float64_0d": lambda T: T.tensor(3.5, dtype=T.float64),
    "float16": lambda T: T.tensor([1.5, 2.0], dtype=T.float16),
    "int32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "uint8": lambda T: T.tensor([1, 2], dtype=T.uint8),
    "int8": lambda T: T.tensor([1, 2], dtype=T.int8),
    "int16": lambda T: T.tensor([1, 2], dtype=T.int16),
    "integer_floats": lambda T: T.tensor([1.0, 2.0, 3.0]),
    "integer_floats_wide": lambda T: T.tensor([1.0, 1000.0]),
    "integer_floats_sci": lambda T: T.tensor([1.0, 1001.0]),
    "big_integer_float": lambda T: T.tensor([123456789.0]),
    "exactly_1e8": lambda T: T.tensor([1e8]),
    "negative_floats": lambda T: T.tensor([-1.0, -2.5]),
    "mixed_magnitudes": lambda T: T.tensor([1e-5, 1.0, 1e5]),
    "tiny": lambda T: T.tensor([1e-5, 2e-5]),
    "huge": lambda T: T.tensor([1e9, 2e9]),
    "wide_ratio": lambda T: T.tensor([1.5, 1000.0]),
    "narrow_ratio": lambda T: T.tensor([0.1, 100.0]),
    "limit_1e-4": lambda T: T.tensor([1e-4, 1.0]),
    "below_1e-4": lambda T: T.tensor([9.99999e-5, 1.0]),
    "extremes": lambda T: T.tensor([1e20, 1e-20]),
    "precision": lambda T: T.tensor([0.12345678, 1.0]),
    "matrix_sci": lambda T: T.tensor([[0.5, 1e4], [2.0, 3.0]]),
    "nan_and_number": lambda T: T.tensor([nan, 1.0]),
    "inf_and_fraction": lambda T: T.tensor([inf, -inf, 1.5]),
    "only_non_finite": lambda T: T.tensor([nan, inf, -inf]),
    "nan_only": lambda T: T.tensor([nan]),
    "inf_and_integer": lambda T: T.tensor([inf, 2.0]),
    "non_finite_and_tiny": lambda T: T.tensor([0.5, nan, inf, 1e-5]),
    "zeros": lambda T: T.tensor([0.0, 0.0]),
    "zero_and_tiny": lambda T: T.tensor([0.0, 1e-7]),
    "negative_zero": lambda T: T.tensor([-0.0]),
    "scalar_float": lambda T: T.tensor(3.5),
    "scalar_negative": lambda T: T.tensor(-2.0),
    "scalar_tiny": lambda T: T.tensor(1e-10),
    "scalar_nan": lambda T: T.tensor(nan),
    "scalar_int": lambda T: T.tensor(3),
    "scalar_bool": lambda T: T.tensor(True),
    "bools": lambda T: T.tensor([True, False]),
    "bool_matrix": lambda T: T.tensor([[True, False], [False, True]]),
    "complex": lambda T: T.tensor([1 + 2j, -3.5 - 4j, 0j]),
    "complex_sci": lambda T: T.tensor([1e-8 + 1j]),
    "complex64_long": lambda T: T.arange(30.).reshape(3, 10) * (1 + 0.5j),
}
EMPTY = {
    "empty_float": lambda T: T.tensor([]),
    "empty_rows": lambda T: T.zeros(0, 3),
    "empty_cols": lambda T: T.zeros(2, 0),
    "empty_3d": lambda T: T.zeros(3, 0, 2),
    "empty_int64": lambda T: T.zeros(0, dtype=T.int64),
    "empty_float64": lambda T: T.zeros(0, dtype=T.float64),
    "empty_int32_2d": lambda T: T.zeros(0, 2, dtype=T.int32),
    "empty_bool": lambda T: T.zeros(0, dtype=T.bool),
    "empty_arange": lambda T: T.arange(0),
    "empty_requires_grad": lambda T: T.zeros(0, requires_grad=True),
}
LARGE = {
    "summarized_ints": lambda T: T.arange(2000),
    "summarized_floats": lambda T: T.arange(2000.0),
    "summarized_matrix": lambda T: T.arange(1001.0).reshape(7, 143),
    "summarized_3d": lambda T: T.arange(3000.0).reshape(3, 10, 100),
    "summarized_rows": lambda T: T.arange(3000.0).reshape(30, 100),
    "summarized_wide_rows": lambda T: T.arange(2000).reshape(2, 1000),
    "summarized_bools": lambda T: T.arange(1001) > 500,
    "summarized_fractions": lambda T: T.arange(1500.0).reshape(3, 500) + 0.5,
    "wrapped_row": lambda T: T.arange(40.0) * 1.37,
    "wrapped_ints": lambda T: T.arange(40),
    "wrapped_sci": lambda T: T.arange(100.0) * 1e-3,
    "wrapped_big": lambda T: T.arange(25.0) * 1e5,
    "wrapped_linspace": lambda T: T.linspace(0, 1, 30),
    "three_d": lambda T: T.arange(30.0).reshape(2, 3, 5),
    "three_d_negative": lambda T: T.arange(12.0).reshape(2, 2, 3) - 5.5,
    "four_d": lambda T: T.ones(2, 1, 1, 2),
    "fractions_matrix": lambda T: T.arange(20.0).reshape(4, 5) / 3,
}
GRAD = {
    "requires_grad": lambda T: T.tensor([1.5], requires_grad=True),
    "requires_grad_matrix": lambda T: T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
    "requires_grad_0d": lambda T: T.tensor(2.0, requires_grad=True),
    "requires_grad_float64": lambda T: T.tensor([1.5], dtype=T.float64, requires_grad=True),
    "grad_fn_float64": lambda T: T.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=T.float64, requires_grad=True) * 2,
    # the suffix moves to its own line when it would pass 80 columns
    "suffix_wraps": lambda T: T.arange(16.0).requires_grad_() * 1.5,
    "suffix_wraps_18": lambda T: T.arange(18.0).requires_grad_() * 1.1,
    "suffix_fits_17": lambda T: T.arange(17.0).requires_grad_() + 100.25,
    "suffix_after_wrapped_rows": lambda T: T.arange(19.0).requires_grad_() * 1000.5,
    "grad_fn_matrix": lambda T: T.arange(12.0).reshape(3, 4).requires_grad_() * 3,
    "scalar_loss": lambda T: (T.tensor([1.0, 2.0], requires_grad=True) ** 2).sum(),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_repr_values(name):
    same_repr(VALUES[name])


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_repr_empty(name):
    same_repr(EMPTY[name])


@pytest.mark.parametrize("name", sorted(LARGE))
def test_repr_large_and_wrapped(name):
    same_repr(LARGE[name])


@pytest.mark.parametrize("name", sorted(GRAD))
def test_repr_autograd_suffixes(name):
    same_repr(GRAD[name])


OPTIONS = [
    dict(precision=2), dict(precision=6), dict(sci_mode=True), dict(sci_mode=False), dict(threshold=5),
    dict(edgeitems=1, threshold=5), dict(linewidth=40), dict(profile="short"), dict(profile="full"),
    dict(edgeitems=0, threshold=3),
]
OPTION_CASES = {
    "fractions": lambda T: T.tensor([1.12345, 2.5]),
    "magnitudes": lambda T: T.tensor([1e-5, 1e5]),
    "ints": lambda T: T.arange(10),
    "matrix": lambda T: T.arange(12.0).reshape(3, 4) / 7,
    "integer_floats": lambda T: T.tensor([3.0, 4.0]),
    "with_nan": lambda T: T.tensor([0.0, nan]),
    "large": lambda T: T.arange(2000.0),
}


@pytest.mark.parametrize("options", OPTIONS, ids=[",".join(f"{k}={v}" for k, v in o.items()) for o in OPTIONS])
@pytest.mark.parametrize("name", sorted(OPTION_CASES))
def test_repr_under_print_options(options, name):
    same_repr(OPTION_CASES[name], **options)


def test_printoptions_context_manager_and_get():
    # PyTorch keeps these in torch._tensor_str; autojac in autojac._format
    from autojac._format import get_printoptions, printoptions

    with printoptions(precision=2):
        assert repr(autojac.tensor([1.12345])) == "tensor([1.12])"
        assert get_printoptions()["precision"] == 2
    assert repr(autojac.tensor([1.12345])) == "tensor([1.1235])"
    assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_set_default_dtype_changes_the_dtype_suffix():
    for T in (torch, autojac):
        T.set_default_dtype(T.float64)
    try:
        same_repr(lambda T: T.tensor([1.5, 2.0]))
        same_repr(lambda T: T.tensor([1.5, 2.0], dtype=T.float32))
        same_repr(lambda T: T.zeros(0))
        same_repr(lambda T: T.tensor([1j]))
    finally:
        for T in (torch, autojac):
            T.set_default_dtype(T.float32)


# --------------------------------------------------------------------------- grad_fn names
def _inputs(T):
    g = T.Generator().manual_seed(0)
    x = T.rand(2, 3, generator=g, requires_grad=True)
    y = T.rand(2, 3, generator=g, requires_grad=True)
    w = T.rand(3, 2, generator=g, requires_grad=True)
    v = T.rand(3, generator=g, requires_grad=True)
    return x, y, w, v


GRAD_FNS = {
    "x + y": lambda T, x, y, w, v: x + y,
    "x + 1": lambda T, x, y, w, v: x + 1,
    "1 + x": lambda T, x, y, w, v: 1 + x,
    "x - y": lambda T, x, y, w, v: x - y,
    "x * y": lambda T, x, y, w, v: x * y,
    "2 * x": lambda T, x, y, w, v: 2 * x,
    "x / y": lambda T, x, y, w, v: x / y,
    "x / 2": lambda T, x, y, w, v: x / 2,
    "x ** 2": lambda T, x, y, w, v: x ** 2,
    "-x": lambda T, x, y, w, v: -x,
    "x @ w": lambda T, x, y, w, v: x @ w,
    "mm": lambda T, x, y, w, v: x.mm(w),
    "mv": lambda T, x, y, w, v: x @ v,
    "dot": lambda T, x, y, w, v: v @ v,
    "sum": lambda T, x, y, w, v: x.sum(),
    "sum(0)": lambda T, x, y, w, v: x.sum(0),
    "sum keepdim": lambda T, x, y, w, v: x.sum(dim=1, keepdim=True),
    "mean": lambda T, x, y, w, v: x.mean(),
    "mean(0)": lambda T, x, y, w, v: x.mean(0),
    "exp": lambda T, x, y, w, v: x.exp(),
    "log": lambda T, x, y, w, v: x.log(),
    "sin": lambda T, x, y, w, v: x.sin(),
    "cos": lambda T, x, y, w, v: x.cos(),
    "tanh": lambda T, x, y, w, v: x.tanh(),
    "sigmoid": lambda T, x, y, w, v: x.sigmoid(),
    "relu": lambda T, x, y, w, v: x.relu(),
    "sqrt": lambda T, x, y, w, v: x.sqrt(),
    "abs": lambda T, x, y, w, v: x.abs(),
    "pow": lambda T, x, y, w, v: x.pow(3),
    "view": lambda T, x, y, w, v: x.view(6),
    "reshape": lambda T, x, y, w, v: x.reshape(3, 2),
    "flatten": lambda T, x, y, w, v: x.flatten(),
    "select": lambda T, x, y, w, v: x[0],
    "select2": lambda T, x, y, w, v: x[0, 1],
    "select_column": lambda T, x, y, w, v: x[:, 1],
    "slice": lambda T, x, y, w, v: x[0:1],
    "step_slice": lambda T, x, y, w, v: x[:, ::2],
    "advanced_index": lambda T, x, y, w, v: x[[0, 1]],
    "mask": lambda T, x, y, w, v: x[x > 0.5],
    "stack": lambda T, x, y, w, v: T.stack([x, y]),
    "cat": lambda T, x, y, w, v: T.cat([x, y]),
    "t": lambda T, x, y, w, v: x.t(),
    "T": lambda T, x, y, w, v: x.T,
    "transpose": lambda T, x, y, w, v: x.transpose(0, 1),
    "permute": lambda T, x, y, w, v: x.permute(1, 0),
    "unsqueeze": lambda T, x, y, w, v: x.unsqueeze(0),
    "squeeze": lambda T, x, y, w, v: x.squeeze(),
    "expand": lambda T, x, y, w, v: x.expand(2, 2, 3),
    "clone": lambda T, x, y, w, v: x.clone(),
    "amax": lambda T, x, y, w, v: x.amax(0),
    "max(0)": lambda T, x, y, w, v: x.max(0)[0],
    "prod": lambda T, x, y, w, v: x.prod(),
    "softmax": lambda T, x, y, w, v: x.softmax(0),
    "log_softmax": lambda T, x, y, w, v: x.log_softmax(1),
    "where": lambda T, x, y, w, v: T.where(x > 0.5, x, y),
    "float64": lambda T, x, y, w, v: x.double(),
    "to": lambda T, x, y, w, v: x.to(T.float64),
    "outer": lambda T, x, y, w, v: T.outer(v, v),
    "neg": lambda T, x, y, w, v: x.neg(),
    "reciprocal": lambda T, x, y, w, v: x.reciprocal(),
    "rsqrt": lambda T, x, y, w, v: x.rsqrt(),
    "expm1": lambda T, x, y, w, v: x.expm1(),
    "maximum": lambda T, x, y, w, v: x.maximum(y),
    "logsumexp": lambda T, x, y, w, v: x.logsumexp(0),
    "narrow": lambda T, x, y, w, v: x.narrow(1, 0, 2),
    "movedim": lambda T, x, y, w, v: x.movedim(0, 1),
    "square": lambda T, x, y, w, v: x.square(),
    "ravel": lambda T, x, y, w, v: x.ravel(),
    "hstack": lambda T, x, y, w, v: T.hstack([x, y]),
    "vstack": lambda T, x, y, w, v: T.vstack([x, y]),
    "setitem": lambda T, x, y, w, v: _setitem(T, x),
}


def _setitem(T, x):
    z = T.zeros(2, 3)
    z[0] = x[1]
    return z


@pytest.mark.parametrize("expr", list(GRAD_FNS))
def test_grad_fn_names(expr):
    names = []
    for T in (torch, autojac):
        out = GRAD_FNS[expr](T, *_inputs(T))
        names.append(out.grad_fn.name().rsplit("::", 1)[-1])
        names.append(repr(out).rsplit("grad_fn=", 1)[-1])
    assert names[2:] == names[:2]


def test_grad_fn_introspection():
    x = autojac.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert y.grad_fn.name() == "SumBackward0"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    acc = mul.next_functions[0][0]
    assert acc.variable is x and "AccumulateGrad" in acc.name()
    assert repr(y.grad_fn).startswith("<SumBackward0 object at 0x")


# --------------------------------------------------------------------------- Size, tuples, str
def test_size_repr():
    same_repr(lambda T: T.ones(2, 3).shape)
    same_repr(lambda T: T.tensor(1.0).shape)
    same_repr(lambda T: T.Size([4, 5]))
    same_repr(lambda T: T.ones(2, 3).size())
    for T in (torch, autojac):
        assert str(T.ones(2, 3).shape).endswith("Size([2, 3])")
        assert T.ones(2, 3).shape == (2, 3) and T.Size([2, 3]).numel() == 6


def test_print_of_tuple_of_tensors(capsys):
    outputs = []
    for T in (torch, autojac):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        print((x * 2, T.tensor(3), [T.zeros(2, dtype=T.float64)]))
        print(x.sum(), x.shape, sep=" | ")
        outputs.append(capsys.readouterr().out)
    assert outputs[1] == outputs[0].replace("torch.", "autojac.")


def test_str_equals_repr_and_format():
    def case(T):
        x = T.tensor([1.0, 2.0])
        loss = (T.tensor(1.5, requires_grad=True) * 2)
        with pytest.raises(TypeError):
            f"{x:.2f}"
        return [str(x) == repr(x), f"{T.tensor(1.23456):.2f}", f"{T.tensor(3)}", f"{loss}", format(x),
                f"{T.tensor(True)}", f"{T.tensor(2.5, dtype=T.float64):>8}"]
    assert case(autojac) == [s.replace("torch.", "autojac.") if isinstance(s, str) else s for s in case(torch)]


def test_repr_does_not_change_data_or_record_anything():
    x = autojac.tensor([1.5, np.nan], requires_grad=True)
    before = x._version
    repr(x)
    assert x._version == before and x.grad_fn is None
