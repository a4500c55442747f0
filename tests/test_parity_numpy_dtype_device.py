"""Parity with torch 2.13 for NumPy interop, dtype arguments, integer division by zero and devices.

Each case runs with torch and with autojac (``_parity.same``): same value and dtype, or the same
exception type and message. These were silent wrong answers before (issue 8).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import autojac
from _parity import raises_like, same

# torch's own __array__/__array_wrap__ predate NumPy 2's signatures
pytestmark = [pytest.mark.filterwarnings("ignore:__array_wrap__ must accept:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")]

NEEDS_DETACH = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."


# --------------------------------------------------------------------------- NumPy interop
@pytest.mark.parametrize("convert", [np.asarray, np.array, np.exp, lambda t: np.add(t, 1), lambda t: t.numpy()],
                         ids=["asarray", "array", "exp", "add", "numpy"])
def test_numpy_of_tensor_that_requires_grad_raises(convert):
    err = same(lambda T: convert(T.tensor([1., 2.], requires_grad=True)))
    assert str(err) == NEEDS_DETACH
    same(lambda T: convert(T.tensor([1., 2.], requires_grad=True) * 2))  # a non-leaf too


@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda t: t.numpy()], ids=["asarray", "array", "numpy"])
def test_numpy_under_no_grad_and_after_detach_is_allowed(convert):
    def under_no_grad(T):
        x = T.tensor([1., 2.], requires_grad=True)
        with T.no_grad():
            return T.from_numpy(np.asarray(convert(x)).copy())
    same(under_no_grad)
    same(lambda T: T.from_numpy(np.asarray(convert(T.tensor([1., 2.], requires_grad=True).detach())).copy()))
    same(lambda T: T.tensor([1., 2.], requires_grad=True).numpy(force=True).dtype.name)


def test_numpy_ufunc_on_plain_tensor_returns_tensor():
    same(lambda T: np.exp(T.tensor([1., 2.])))
    same(lambda T: np.exp(T.tensor(1.)))
    same(lambda T: np.add(T.tensor([1., 2.]), 1.5))
    same(lambda T: np.sqrt(T.tensor([4, 9])))
    same(lambda T: np.greater(T.tensor([1., -2.]), 0))  # bool results come back as uint8, as in torch


def test_numpy_in_custom_function_forward():
    # torch's tutorials: a Function's forward may leave for NumPy, since it runs with grad mode off
    def case(T):
        class NumpyExp(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = T.from_numpy(np.exp(x.numpy()))
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

        x = T.tensor([0., 1.], dtype=T.float64, requires_grad=True)
        NumpyExp.apply(x).sum().backward()
        return x.grad
    same(case)


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("pytype", [float, complex, int, bool])
def test_python_types_as_dtype(pytype):
    same(lambda T: T.zeros(2, dtype=pytype))
    same(lambda T: T.ones(2, 3, dtype=pytype))
    same(lambda T: T.tensor([1, 0], dtype=pytype))
    same(lambda T: T.full((2,), 1, dtype=pytype))
    same(lambda T: T.zeros_like(T.ones(2), dtype=pytype))
    same(lambda T: T.ones(2).to(pytype))
    same(lambda T: T.ones(2).to(dtype=pytype))
    same(lambda T: T.ones(2).new_zeros(3, dtype=pytype))


def test_python_float_is_float64_whatever_the_default():
    def case(T):
        T.set_default_dtype(T.float64)
        try:
            return T.ones(1, dtype=complex).dtype, T.ones(1, dtype=float).dtype, T.tensor(1j).dtype
        finally:
            T.set_default_dtype(T.float32)
    same(case)
    same(lambda T: (T.arange(3, dtype=float), T.randn(2, dtype=float).dtype, T.ones(2).sum(dtype=float)))


def test_numpy_dtypes_convert():
    # torch refuses NumPy dtypes in .to(); autojac, a NumPy library, converts (issue 8)
    for d, expected in [(np.float64, torch.float64), (np.dtype("float64"), torch.float64), (np.int32, torch.int32),
                        (np.dtype("complex64"), torch.complex64)]:
        same(lambda T, d=d, expected=expected: T.ones(2).to(d if T is autojac else expected))
        same(lambda T, d=d, expected=expected: T.ones(2).type(d if T is autojac else expected))


def test_dtype_name_string_in_to_is_a_device_error():
    same(lambda T: T.ones(2).to("float64"))


def test_type_with_legacy_names():
    same(lambda T: T.ones(2).type("torch.DoubleTensor"))
    same(lambda T: T.ones(2).type("torch.LongTensor"))
    same(lambda T: (T.ones(2).type(), T.ones(2, dtype=T.int64).type(), T.ones(2).double().type()))


@pytest.mark.parametrize("scalar", [np.float64(0.1), np.float32(1.5), np.int64(3), np.int32(2), np.complex128(1j)],
                         ids=lambda s: type(s).__name__)
def test_numpy_scalars_promote_like_python_scalars(scalar):
    for dt in ("float32", "int32", "float64"):
        same(lambda T, dt=dt: scalar * T.ones(2, dtype=getattr(T, dt)))
        same(lambda T, dt=dt: T.ones(2, dtype=getattr(T, dt)) * scalar)
        same(lambda T, dt=dt: T.ones(2, dtype=getattr(T, dt)) + scalar)
        same(lambda T, dt=dt: scalar - T.ones(2, dtype=getattr(T, dt)))
        same(lambda T, dt=dt: T.mul(T.ones(2, dtype=getattr(T, dt)), scalar))
        same(lambda T, dt=dt: T.add(T.ones(2, dtype=getattr(T, dt)), scalar))


def test_numpy_scalar_keeps_the_graph():
    def case(T):
        x = T.ones(2, requires_grad=True)
        (np.float64(0.5) * x * np.float32(3)).sum().backward()
        return x.grad
    same(case)


# --------------------------------------------------------------------------- integer division by zero
@pytest.mark.parametrize("op", [
    lambda T: T.tensor([3, 4]) // 0, lambda T: T.tensor([3, 4]) % 0,
    lambda T: T.tensor([3, 4]) // T.tensor([1, 0]), lambda T: T.tensor([3, 4]) % T.tensor([1, 0]),
    lambda T: T.remainder(T.tensor([3, 4]), 0), lambda T: T.fmod(T.tensor([3, 4]), 0),
    lambda T: T.div(T.tensor([3, 4]), 0, rounding_mode="floor"),
    lambda T: T.div(T.tensor([3, 4]), 0, rounding_mode="trunc"),
    lambda T: 5 // T.tensor([3, 0]), lambda T: 5 % T.tensor([3, 0]), lambda T: T.tensor([True]) // 0,
    lambda T: T.tensor([3, 4]) // np.int64(0), lambda T: T.tensor([3, 4], dtype=T.int32) % T.tensor(0),
])
def test_integer_division_by_zero_raises(op):
    err = same(op)
    assert type(err) is RuntimeError and str(err) == "ZeroDivisionError"


@pytest.mark.parametrize("op", [
    lambda T: T.tensor([3, 4]) / 0, lambda T: T.tensor([3., 4.]) // 0, lambda T: T.tensor([3, 4]) % 0.,
    lambda T: T.tensor([3., 4.]) % 0, lambda T: T.tensor([3, -4]) // 2, lambda T: T.tensor([3, -4]) % 3,
    lambda T: T.fmod(T.tensor([3, -4]), 3),
])
def test_division_that_does_not_raise(op):
    same(op)


# --------------------------------------------------------------------------- devices
def test_device_objects():
    same(lambda T: [T.device("cpu"), T.device("cpu", 0), T.device("cpu:0"), T.device("cuda"), T.device("cuda:1")])
    same(lambda T: (T.device("cpu").type, T.device("cpu").index, T.device("cpu:0").index, str(T.device("cpu:0"))))
    same(lambda T: (T.device("cpu") == "cpu", T.device("cpu") == T.device("cpu"),
                    T.device("cpu:0") == T.device("cpu"), T.device(T.device("cpu")) == T.device("cpu")))
    same(lambda T: T.device("foo"))
    same(lambda T: T.device("cpu", -1))
    same(lambda T: len({T.device("cpu"), T.device("cpu"), T.device("cpu", 0)}))
    d = pickle.loads(pickle.dumps(autojac.device("cpu", 0)))
    assert d == autojac.device("cpu", 0) and copy.copy(d) == d


def test_tensor_device_and_moves():
    same(lambda T: (T.ones(2).device, T.ones(2).is_cuda, T.ones(2).get_device()))
    same(lambda T: T.ones(2).cpu())
    for target in ("cpu", "cpu:0"):
        same(lambda T, target=target: T.ones(2).to(target))
        same(lambda T, target=target: T.ones(2).to(T.device(target)))
    same(lambda T: T.ones(2).to("cpu", T.float64))
    same(lambda T: T.ones(2).to(T.device("cpu"), float))
    same(lambda T: T.ones(2).to(T.ones(1, dtype=T.float64)))
    same(lambda T: T.ones(2).to(dtype=T.float64, device="cpu"))
    same(lambda T: T.ones(2).to(device=T.device("cpu")))
    same(lambda T: [(lambda a: a.to("cpu") is a)(T.ones(2)), (lambda a: a.to("cpu", copy=True) is a)(T.ones(2)),
                    (lambda a: a.to(T.float32, False, True) is a)(T.ones(2))])


CREATIONS = {
    "tensor": lambda T, d: T.tensor([1., 2.], device=d),
    "as_tensor": lambda T, d: T.as_tensor([1., 2.], device=d),
    "zeros": lambda T, d: T.zeros(2, device=d),
    "ones": lambda T, d: T.ones(2, 3, device=d),
    "empty": lambda T, d: T.empty(2, device=d).shape,
    "full": lambda T, d: T.full((2,), 3., device=d),
    "zeros_like": lambda T, d: T.zeros_like(T.ones(2), device=d),
    "ones_like": lambda T, d: T.ones_like(T.ones(2), device=d),
    "full_like": lambda T, d: T.full_like(T.ones(2), 7, device=d),
    "arange": lambda T, d: T.arange(3, device=d),
    "linspace": lambda T, d: T.linspace(0, 1, 5, device=d),
    "logspace": lambda T, d: T.logspace(0, 1, 3, device=d),
    "eye": lambda T, d: T.eye(2, device=d),
    "rand": lambda T, d: (T.manual_seed(0), T.rand(3, device=d))[1],
    "randn": lambda T, d: (T.manual_seed(0), T.randn(3, device=d))[1],
    "randint": lambda T, d: (T.manual_seed(0), T.randint(0, 5, (3,), device=d))[1],
    "randperm": lambda T, d: (T.manual_seed(0), T.randperm(4, device=d))[1],
    "rand_like": lambda T, d: (T.manual_seed(0), T.rand_like(T.ones(2), device=d))[1],
    "randn_like": lambda T, d: (T.manual_seed(0), T.randn_like(T.ones(2), device=d))[1],
    "scalar_tensor": lambda T, d: T.scalar_tensor(2, device=d),
    "new_zeros": lambda T, d: T.ones(2).new_zeros(3, device=d),
    "new_ones": lambda T, d: T.ones(2).new_ones(3, device=d),
    "new_tensor": lambda T, d: T.ones(2).new_tensor([1, 2], device=d),
    "new_full": lambda T, d: T.ones(2).new_full((2,), 5., device=d),
    "to": lambda T, d: T.ones(2).to(d),
    "to_kw": lambda T, d: T.ones(2).to(device=d),
}


@pytest.mark.parametrize("make", CREATIONS.values(), ids=CREATIONS.keys())
def test_device_argument_everywhere(make):
    for dev in ("cpu", "cpu:0", None):
        same(lambda T, dev=dev: make(T, dev))
    same(lambda T: make(T, T.device("cpu")))
    for dev in ("cuda", "cuda:0"):
        err = same(lambda T, dev=dev: make(T, dev), match=r"^Torch not compiled with CUDA enabled")
        assert type(err) is AssertionError
    same(lambda T: make(T, T.device("cuda")), match=r"^Torch not compiled with CUDA enabled")
    raises_like(lambda T: make(T, "meta"), NotImplementedError, "autojac has no meta tensors")
    raises_like(lambda T: make(T, "mps"), RuntimeError, "not linked with support for mps devices")


def test_cuda_method_raises():
    same(lambda T: T.ones(2).cuda(), match=r"^Torch not compiled with CUDA enabled")


def test_cuda_and_accelerator_modules():
    same(lambda T: (T.cuda.is_available(), T.cuda.device_count(), T.cuda.is_initialized(),
                    T.cuda.manual_seed(0), T.cuda.manual_seed_all(0), T.cuda.seed(), T.cuda.seed_all(),
                    T.cuda.empty_cache()))
    same(lambda T: (T.accelerator.is_available(), T.accelerator.device_count(),
                    T.accelerator.current_accelerator()))
    for fn in ("current_device", "synchronize", "get_device_name"):
        same(lambda T, fn=fn: getattr(T.cuda, fn)(), match=r"^Torch not compiled with CUDA enabled")


def test_device_choice_idiom():
    # the first lines of most tutorials
    def case(T):
        dev = T.device("cuda" if T.cuda.is_available() else "cpu")
        x = T.randn(2, 3, device=dev).to(dev)
        return x.device, x.device == dev, str(dev)
    same(case)
