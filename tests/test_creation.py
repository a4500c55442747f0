"""Tensor creation, dtype inference, random sampling, conversions and metadata, against PyTorch 2.13.

Random functions must draw PyTorch's numbers for the same seed: identical for ``rand``,
``randint`` and ``randperm``, within 1e-6 for ``randn`` (PyTorch's float kernel rounds
differently in the last bit).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac
from _tol import assert_close


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


def assert_same_tensor(expected: torch.Tensor, actual: autojac.Tensor, rtol: float = 0.0, atol: float = 0.0) -> None:
    assert isinstance(actual, autojac.Tensor), type(actual)
    assert dtype_name(actual.dtype) == dtype_name(expected.dtype), (actual.dtype, expected.dtype)
    assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
    assert actual.requires_grad == expected.requires_grad
    e, a = expected.detach().numpy(), actual.detach().numpy()
    assert_close(a, e, rtol, atol)  # floats to their dtype's rounding (two implementations), integers exactly


def check(make, **tol) -> None:
    assert_same_tensor(make(torch), make(autojac), **tol)


@pytest.fixture
def float64_default():
    for T in (torch, autojac):
        T.set_default_dtype(T.float64)
    yield
    for T in (torch, autojac):
        T.set_default_dtype(T.float32)


# --------------------------------------------------------------------------- tensor(): dtype inference
DATA = {
    "ints": lambda T: [1, 2, 3],
    "floats": lambda T: [1.5, 2.0],
    "int_and_float": lambda T: [1, 2.5],
    "nested_ints": lambda T: [[1, 2], [3, 4]],
    "nested_mixed": lambda T: [[1, 2], [3, 4.5]],
    "bools": lambda T: [True, False],
    "bool_and_int": lambda T: [True, 1],
    "complex": lambda T: [1, 2j],
    "int_scalar": lambda T: 3,
    "float_scalar": lambda T: 3.0,
    "bool_scalar": lambda T: True,
    "empty": lambda T: [],
    "empty_nested": lambda T: [[], []],
    "tuple": lambda T: (1, 2),
    "range": lambda T: range(4),
    "deep": lambda T: [[[1.0], [2.0]], [[3.0], [4.0]]],
    "np_int32_array": lambda T: np.array([1, 2], dtype=np.int32),
    "np_float64_array": lambda T: np.array([1.0, 2.0]),
    "np_0d_array": lambda T: np.array(3.5),
    "np_float64_scalar": lambda T: np.float64(2.5),
    "np_float32_scalar": lambda T: np.float32(2.5),
    "np_int32_scalar": lambda T: np.int32(2),
    "np_bool_scalar": lambda T: np.bool_(True),
    "list_of_np_float64": lambda T: [np.float64(1.0), 2.0],
    "list_of_np_float32": lambda T: [np.float32(1.0), 2.0],
    "list_of_np_int32": lambda T: [1, np.int32(2)],
    "np_int_and_float": lambda T: [np.int64(1), 2.5],
    "np_float32_and_float64": lambda T: [np.float32(1.0), np.float64(2.0)],
    "list_and_array": lambda T: [[1, 2], np.array([3.0, 4.0])],
    "list_of_0d_tensors": lambda T: [T.tensor(1.0), T.tensor(2.0)],
    "list_of_float64_tensor": lambda T: [T.tensor(1.0, dtype=T.float64), 2.0],
    "int_tensor_and_float": lambda T: [T.tensor(1), 2.5],
    "int32_tensor_and_int": lambda T: [T.tensor(2, dtype=T.int32), 2],
    "int_and_float_tensor": lambda T: [1, T.tensor(2.0)],
}


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")  # torch's advice
@pytest.mark.parametrize("name", list(DATA))
def test_tensor_dtype_inference(name):
    check(lambda T: T.tensor(DATA[name](T)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "float16", "uint8"])
def test_tensor_with_explicit_dtype(dtype):
    check(lambda T: T.tensor([[1.7, -1.2], [0.0, 3.0]] if dtype != "uint8" else [[1.7, 1.2], [0.0, 3.0]],
                             dtype=getattr(T, dtype)))


def test_tensor_requires_grad():
    check(lambda T: T.tensor([1.0, 2.0], requires_grad=True))
    check(lambda T: T.tensor(3.0, dtype=T.float64, requires_grad=True))


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = autojac.tensor(a)
    a[0] = 10.0
    assert t.tolist() == [1.0, 2.0]
    src = autojac.tensor([1.0, 2.0])
    copy = autojac.tensor(src.detach())
    src.add_(1)
    assert copy.tolist() == [1.0, 2.0]


def test_from_numpy_and_as_tensor_share_memory():
    for T in (torch, autojac):
        a = np.array([1.0, 2.0, 3.0])
        f, s = T.from_numpy(a), T.as_tensor(a)
        a[0] = 10.0
        assert f[0].item() == 10.0 and s[0].item() == 10.0
        f.add_(1)  # writes through to the array
        assert a.tolist() == [11.0, 3.0, 4.0]
        assert dtype_name(f.dtype) == "float64"
        c = T.as_tensor(a, dtype=T.float32)  # a dtype change must copy
        a[1] = -1.0
        assert c[1].item() == 3.0
        i32 = T.from_numpy(np.array([1, 2], dtype=np.int32))
        assert dtype_name(i32.dtype) == "int32"


def test_as_tensor_of_tensor_and_list():
    for T in (torch, autojac):
        x = T.tensor([1.0, 2.0])
        assert T.as_tensor(x) is x
        assert dtype_name(T.as_tensor(x, dtype=T.float64).dtype) == "float64"
    check(lambda T: T.as_tensor([1, 2]))
    check(lambda T: T.as_tensor([1, 2], dtype=T.float64))
    check(lambda T: T.asarray([[1.5, 2.0]]))


def test_numpy_shares_memory_both_ways():
    for T in (torch, autojac):
        t = T.zeros(3)
        a = t.numpy()
        a[1] = 5.0
        assert t[1].item() == 5.0
        t.add_(1)
        assert a.tolist() == [1.0, 6.0, 1.0]
        assert t.detach().numpy().dtype == np.float32


# --------------------------------------------------------------------------- filled tensors
FILLED = {
    "zeros": lambda T: T.zeros(2, 3),
    "zeros_tuple": lambda T: T.zeros((2, 3)),
    "zeros_list": lambda T: T.zeros([2, 3]),
    "zeros_size": lambda T: T.zeros(T.ones(4, 1).shape),
    "zeros_int": lambda T: T.zeros(2, 3, dtype=T.int64),
    "zeros_bool": lambda T: T.zeros(2, dtype=T.bool),
    "zeros_0d": lambda T: T.zeros([]),
    "zeros_empty": lambda T: T.zeros(0, 3),
    "ones": lambda T: T.ones(3),
    "ones_0d": lambda T: T.ones(()),
    "ones_float64": lambda T: T.ones(2, 2, dtype=T.float64),
    "ones_requires_grad": lambda T: T.ones(2, requires_grad=True),
    "full_int": lambda T: T.full((2,), 3),
    "full_float": lambda T: T.full((2,), 3.0),
    "full_bool": lambda T: T.full((2,), True),
    "full_dtype": lambda T: T.full([2, 2], 1.5, dtype=T.float64),
    "full_int_size": lambda T: T.full((3,), -1),
    "zeros_like_int": lambda T: T.zeros_like(T.ones(2, dtype=T.int64)),
    "ones_like_float64": lambda T: T.ones_like(T.ones(2, dtype=T.float64)),
    "zeros_like_dtype": lambda T: T.zeros_like(T.ones(2), dtype=T.float64),
    "ones_like_grad": lambda T: T.ones_like(T.ones(2, requires_grad=True)),
    "full_like": lambda T: T.full_like(T.ones(2), 7),
    "full_like_int_truncates": lambda T: T.full_like(T.ones(2, dtype=T.int64), 2.7),
    "new_zeros": lambda T: T.ones(2, dtype=T.float64).new_zeros(3),
    "new_ones": lambda T: T.ones(2, dtype=T.int32).new_ones((2, 2)),
    "new_full": lambda T: T.ones(2).new_full((2,), 3),
    "new_tensor": lambda T: T.ones(2, dtype=T.float64).new_tensor([1, 2]),
    "eye": lambda T: T.eye(3),
    "eye_rect": lambda T: T.eye(2, 3),
    "eye_int": lambda T: T.eye(2, dtype=T.int64),
    "scalar_tensor": lambda T: T.scalar_tensor(3),
}


@pytest.mark.parametrize("name", list(FILLED))
def test_filled(name):
    check(FILLED[name])


@pytest.mark.parametrize("make", [
    lambda T: T.empty(2, 3), lambda T: T.empty((4,), dtype=T.int64), lambda T: T.empty_like(T.ones(2, 3)),
    lambda T: T.empty(0), lambda T: T.ones(2).new_empty(3),
], ids=["empty", "empty_int", "empty_like", "empty_0", "new_empty"])
def test_empty_has_shape_and_dtype(make):
    t, a = make(torch), make(autojac)
    assert tuple(a.shape) == tuple(t.shape) and dtype_name(a.dtype) == dtype_name(t.dtype)


def test_filled_results_are_independent_storage():
    a, b = autojac.zeros(3), autojac.zeros(3)
    a.add_(1)
    assert b.tolist() == [0.0, 0.0, 0.0]


# --------------------------------------------------------------------------- ranges
ARANGE = [(5,), (5.0,), (1, 4), (0, 1, 0.25), (0, 1, 0.1), (1, 10, 3), (10, 0, -3), (0.5, 3), (-1.0, 1.0, 0.3),
          (0,), (3, 3), (0, 10, 2.5), (-5, 5, 0.7), (2, -2, -0.5), (0, 100)]


@pytest.mark.parametrize("args", ARANGE, ids=[str(a) for a in ARANGE])
def test_arange(args):
    check(lambda T: T.arange(*args))


def test_arange_dtype_and_tensor_bounds():
    check(lambda T: T.arange(5, dtype=T.float32))
    check(lambda T: T.arange(0, 3, dtype=T.float64))
    check(lambda T: T.arange(T.tensor(3)))
    check(lambda T: T.arange(4.0, requires_grad=True))


LINSPACE = [(0, 1, 5), (-1, 1, 7), (0, 10, 11), (3, -3, 4), (0.1, 0.9, 9), (-5, 5, 15), (0, 1, 1), (0, 10, 0),
            (2.5, 2.5, 3), (-0.37, 12.9, 13), (1e-3, 7.0, 6)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32"])
@pytest.mark.parametrize("args", LINSPACE, ids=[str(a) for a in LINSPACE])
def test_linspace_is_bit_identical_up_to_15_points(args, dtype):
    check(lambda T: T.linspace(*args, dtype=getattr(T, dtype)))


@pytest.mark.parametrize("args", [(0, 1, 16), (0, 1, 100), (-1, 1, 1000), (-12.2, 36.0, 40), (0, 1000, 1001)])
def test_linspace_long(args):
    check(lambda T: T.linspace(*args), rtol=1e-6, atol=1e-6)
    check(lambda T: T.linspace(*args, dtype=T.float64), rtol=1e-12, atol=1e-12)


def test_linspace_prints_like_torch():
    assert repr(autojac.linspace(-1, 1, 7)) == repr(torch.linspace(-1, 1, 7)).replace("torch.", "autojac.")


def test_logspace():
    check(lambda T: T.logspace(0, 2, 3), rtol=1e-6)
    check(lambda T: T.logspace(-1, 1, 5, base=2.0), rtol=1e-6)


# --------------------------------------------------------------------------- random numbers
SIZES = [1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 100, 257, 1000, 4099]


def seeded(make, seed: int = 1234):
    def run(T):
        T.manual_seed(seed)
        return make(T)
    return run


@pytest.mark.parametrize("n", SIZES)
def test_rand_is_identical_to_torch(n):
    check(seeded(lambda T: T.rand(n)))
    check(seeded(lambda T: T.rand(n, dtype=T.float64), seed=7))
    check(seeded(lambda T: T.rand(n, dtype=T.float16), seed=99))


@pytest.mark.parametrize("n", SIZES)
def test_randn_matches_torch(n):
    check(seeded(lambda T: T.randn(n)), rtol=1e-6, atol=1e-6)
    check(seeded(lambda T: T.randn(n, dtype=T.float64), seed=5), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", SIZES)
def test_randint_is_identical_to_torch(n):
    check(seeded(lambda T: T.randint(0, 10, (n,))))
    check(seeded(lambda T: T.randint(-5, 2 ** 40, (n,)), seed=3))


@pytest.mark.parametrize("high", [2, 2 ** 16, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 62])
def test_randint_across_the_64_bit_threshold(high):
    check(seeded(lambda T: T.randint(0, high, (6,))))
    check(seeded(lambda T: T.randint(-high, high, (5,)), seed=11))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 17, 100, 1000])
def test_randperm_is_identical_to_torch(n):
    check(seeded(lambda T: T.randperm(n)))


def test_random_streams_interleave_like_torch():
    def draws(T):
        return T.cat([T.rand(5), T.randn(3), T.randn(20), T.rand(17), T.randn(1), T.randn(1),
                      T.randint(0, 100, (4,)).float(), T.randn(2, 8).flatten(), T.rand(3, 4).flatten()])
    check(seeded(draws), rtol=1e-6, atol=1e-6)


def test_random_shapes_and_like_variants():
    check(seeded(lambda T: T.rand(2, 3)))
    check(seeded(lambda T: T.randn(4, 5)), rtol=1e-6, atol=1e-6)
    check(seeded(lambda T: T.randn(3, 3, 3)), rtol=1e-6, atol=1e-6)
    check(seeded(lambda T: T.randint(5, (3, 3))))
    check(seeded(lambda T: T.randint(3, 10, (2, 2))))
    check(seeded(lambda T: T.rand_like(T.ones(3, 3))))
    check(seeded(lambda T: T.randn_like(T.ones(17, dtype=T.float64))), rtol=1e-12)
    check(seeded(lambda T: T.randint_like(T.ones(4), 10)))
    check(seeded(lambda T: T.rand(3, requires_grad=True)))


def test_in_place_samplers():
    check(seeded(lambda T: T.empty(5).uniform_(-2, 3)), rtol=1e-6, atol=1e-6)
    check(seeded(lambda T: T.empty(20).normal_(1, 2)), rtol=1e-6, atol=1e-5)
    check(seeded(lambda T: T.empty(5).normal_()), rtol=1e-6, atol=1e-6)
    check(seeded(lambda T: T.normal(2.0, 3.0, (100,))), rtol=1e-6, atol=1e-5)


def test_manual_seed_generator_objects_and_state():
    check(lambda T: T.rand(3, generator=T.Generator().manual_seed(5)))
    for T in (torch, autojac):
        T.manual_seed(3)
        assert T.initial_seed() == 3
        state = T.get_rng_state()
        a = T.rand(5)
        T.set_rng_state(state)
        assert T.equal(a, T.rand(5))
        g = T.Generator().manual_seed(8)
        b = T.randn(20, generator=g)
        g.manual_seed(8)
        assert T.equal(b, T.randn(20, generator=g))


def test_default_seed_stream_matches_torch_after_manual_seed_zero():
    check(seeded(lambda T: T.randn(3), seed=0), rtol=1e-6)
    check(seeded(lambda T: T.rand(2), seed=42))


# --------------------------------------------------------------------------- default dtype
def test_set_default_dtype(float64_default):
    for make in [lambda T: T.tensor([1.5]), lambda T: T.tensor([1, 2.5]), lambda T: T.zeros(2),
                 lambda T: T.arange(3.0), lambda T: T.linspace(0, 1, 4), lambda T: T.tensor([1, 2]) / 2,
                 lambda T: T.ones(2, dtype=T.float32) + 1.5, lambda T: T.tensor(1j), lambda T: T.eye(2)]:
        check(make)
    check(seeded(lambda T: T.rand(5)))
    check(seeded(lambda T: T.randn(20)), rtol=1e-12)
    assert autojac.get_default_dtype() is autojac.float64


def test_default_dtype_restored():
    assert autojac.get_default_dtype() is autojac.float32
    assert autojac.tensor([1.5]).dtype is autojac.float32


# --------------------------------------------------------------------------- conversions
CONVERSIONS = {
    "long": lambda T: T.tensor([1.5, -2.5]).long(),
    "int": lambda T: T.tensor([1.5, -2.5]).int(),
    "float": lambda T: T.tensor([1, 2]).float(),
    "double": lambda T: T.tensor([1, 2]).double(),
    "bool": lambda T: T.tensor([0.0, 2.0]).bool(),
    "half": lambda T: T.tensor([1.5]).half(),
    "to_dtype": lambda T: T.tensor([1, 2]).to(T.float64),
    "to_dtype_kw": lambda T: T.tensor([1.5]).to(dtype=T.int32),
    "to_device": lambda T: T.tensor([1.5]).to("cpu"),
    "to_device_dtype": lambda T: T.tensor([1.5]).to("cpu", T.float64),
    "to_tensor": lambda T: T.tensor([1, 2]).to(T.ones(1, dtype=T.float64)),
    "type_as": lambda T: T.tensor([1, 2]).type_as(T.ones(1, dtype=T.float64)),
    "type_dtype": lambda T: T.tensor([1.5]).type(T.float64),
    "cpu": lambda T: T.tensor([1.5]).cpu(),
    "grad_through_double": lambda T: T.tensor([1.5], requires_grad=True).double(),
    "float_keeps_grad": lambda T: T.tensor([3.0], requires_grad=True).float(),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversions(name):
    check(CONVERSIONS[name])


def test_to_same_dtype_returns_self_and_casts_are_differentiable():
    for T in (torch, autojac):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        assert x.to(T.float32) is x and x.float() is x
        y = x.double() * T.tensor([3.0, 4.0], dtype=T.float64)
        y.sum().backward()
        assert dtype_name(x.grad.dtype) == "float32" and x.grad.tolist() == [3.0, 4.0]


def test_clone_is_independent_and_differentiable():
    def case(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        c = x.clone()
        (c * c).sum().backward()
        d = x.detach().clone()
        d.add_(1)
        return c, x.grad, x.detach(), d
    for e, a in zip(case(torch), case(autojac)):
        assert_same_tensor(e, a)


def test_contiguous():
    for T in (torch, autojac):
        x = T.arange(6.0).reshape(2, 3)
        assert x.is_contiguous() and x.contiguous() is x
        t = x.t()
        assert not t.is_contiguous()
        c = t.contiguous()
        assert c.is_contiguous() and c.tolist() == t.tolist()
        c[0, 0] = 100.0  # a copy: the original is untouched
        assert x[0, 0].item() == 0.0


# --------------------------------------------------------------------------- element access and metadata
def test_item_tolist_len_iter():
    for T in (torch, autojac):
        assert T.tensor(2.5).item() == 2.5 and isinstance(T.tensor(2.5).item(), float)
        assert T.tensor([2]).item() == 2 and isinstance(T.tensor([2]).item(), int)
        assert T.tensor([[True]]).item() is True
        assert T.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
        assert T.tensor(2.5).tolist() == 2.5
        assert len(T.ones(4, 2)) == 4
        rows = list(T.tensor([[1, 2], [3, 4]]))
        assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]
        assert int(T.tensor(3.7)) == 3 and float(T.tensor(3)) == 3.0
        assert [1, 2, 3][T.tensor(1)] == 2  # __index__


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy")  # torch's __array__
def test_numpy_interop():
    for T in (torch, autojac):
        assert T.tensor([1.5, 2.5]).numpy().dtype == np.float32
        assert np.asarray(T.tensor([1, 2])).dtype == np.int64
        np.testing.assert_array_equal(np.array(T.tensor([1.0, 2.0]), dtype=np.float64), [1.0, 2.0])
        assert T.tensor([1.0, 2.0], requires_grad=True).detach().numpy().tolist() == [1.0, 2.0]
    x = autojac.tensor([1.0, 2.0])
    assert np.asarray(x) is x.numpy() or np.shares_memory(np.asarray(x), x.numpy())
    assert np.add(x, 1).tolist() == [2.0, 3.0]


METADATA = {
    "size": lambda T: T.ones(2, 3).size(),
    "size_dim": lambda T: T.ones(2, 3).size(1),
    "size_negative": lambda T: T.ones(2, 3).size(-1),
    "dim": lambda T: T.ones(2, 3).dim(),
    "numel": lambda T: T.ones(2, 3).numel(),
    "numel_fn": lambda T: T.numel(T.ones(3, 2)),
    "shape": lambda T: tuple(T.ones(2, 3).shape),
    "shape_0d": lambda T: tuple(T.tensor(1.0).shape),
    "ndim": lambda T: T.ones(2, 3, 4).ndim,
    "T": lambda T: T.arange(6).reshape(2, 3).T.tolist(),
    "mT": lambda T: T.arange(24).reshape(2, 3, 4).mT.tolist(),
    "mT_2d": lambda T: tuple(T.ones(2, 3).mT.shape),
    "is_floating_point": lambda T: (T.tensor([1, 2]).is_floating_point(), T.ones(2).is_floating_point()),
    "is_tensor": lambda T: (T.is_tensor(T.ones(1)), T.is_tensor(1)),
    "element_size": lambda T: (T.ones(1).element_size(), T.ones(1, dtype=T.float64).element_size()),
    "dtype_flags": lambda T: (T.float64.is_floating_point, T.int64.is_floating_point, T.complex64.is_complex),
    "shape_equality": lambda T: (T.ones(2, 3).shape == (2, 3), T.ones(2, 3).shape[1]),
    "size_numel": lambda T: T.Size([2, 3]).numel(),
    "get_default_dtype": lambda T: dtype_name(T.get_default_dtype()),
}


@pytest.mark.parametrize("name", list(METADATA))
def test_metadata(name):
    assert METADATA[name](autojac) == METADATA[name](torch)


def test_transposes_are_views_and_differentiable():
    def case(T):
        x = T.arange(6.0).reshape(2, 3).requires_grad_()
        y = x.T * T.tensor([[1.0, 2.0]])
        y.sum().backward()
        return y, x.grad
    for e, a in zip(case(torch), case(autojac)):
        assert_same_tensor(e, a)
