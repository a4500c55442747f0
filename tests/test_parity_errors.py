"""Errors in torch's words instead of raw NumPy tracebacks or silent wrong answers (issue 8): vmap writing in
place into a captured tensor, non-integer dims, integers beyond int64, empty argmax, huge allocations."""

from __future__ import annotations

import traceback

import numpy as np
import pytest

import autojac
from _parity import raises_like, same

INPLACE = r"^vmap: inplace arithmetic\(self, \*extra_args\) is not possible because there exists a Tensor `other`"


# --------------------------------------------------------------------------- vmap and captured tensors
@pytest.mark.parametrize("write", [lambda a, x: a.copy_(x), lambda a, x: a.__setitem__(0, x.sum()),
                                   lambda a, x: a.mul_(x.sum()), lambda a, x: a[1:].copy_(x[1:])],
                         ids=["copy_", "setitem", "mul_", "view_copy_"])
def test_vmap_inplace_into_captured_tensor_raises(write):
    def case(T):
        a = T.zeros(3)

        def f(x):
            write(a, x)
            return x * 2
        return T.func.vmap(f)(T.ones(2, 3))
    same(case, match=INPLACE)


def test_vmap_inplace_add_into_captured_tensor_raises():
    # torch raises a shape message here ("output with shape [3] doesn't match the broadcast shape [2, 3]")
    a = autojac.zeros(3)

    def f(x):
        a.add_(x)
        return x
    with pytest.raises(RuntimeError, match=INPLACE):
        autojac.func.vmap(f)(autojac.ones(2, 3))


CAPTURED = autojac.zeros(3)


def _writes_global(x):
    CAPTURED.copy_(x)
    return x


class _Holder:
    def __init__(self):
        self.buf = autojac.zeros(3)

    def step(self, x):
        self.buf.copy_(x)
        return x


def test_vmap_finds_captured_globals_attributes_and_partials():
    import functools

    with pytest.raises(RuntimeError, match=INPLACE):
        autojac.func.vmap(_writes_global)(autojac.ones(2, 3))
    with pytest.raises(RuntimeError, match=INPLACE):
        autojac.func.vmap(_Holder().step)(autojac.ones(2, 3))
    b = autojac.zeros(3)
    with pytest.raises(RuntimeError, match=INPLACE):
        autojac.func.vmap(functools.partial(lambda buf, x: buf.copy_(x), b))(autojac.ones(2, 3))


def test_vmap_inplace_on_inputs_and_locals_is_fine():
    def case(T):
        c = T.arange(3.)

        def f(x, y):
            z = x.clone()
            z.mul_(2)
            y.add_(1)  # an input slice, in place: fine in torch too
            return z + c + y
        y = T.zeros(2, 3)
        return T.func.vmap(f)(T.ones(2, 3), y), y
    same(case)


# --------------------------------------------------------------------------- non-integer dims
@pytest.mark.parametrize("call", [
    lambda t: t.sum(dim=0.5), lambda t: t.mean(dim=0.5), lambda t: t.amax(dim=0.5), lambda t: t.std(dim=0.5),
    lambda t: t.sum(dim=(0.5,)), lambda t: t.argmax(dim=0.5), lambda t: t.softmax(dim=0.5),
    lambda t: t.cumsum(dim=0.5), lambda t: t.max(dim=0.5), lambda t: t.sum(dim="a"), lambda t: t.size(0.5),
])
def test_non_integer_dim_is_a_type_error(call):
    same(lambda T: call(T.ones(2, 3)), match=r"dim.{0,40}(float|str|tuple)")


def test_numpy_integer_dims_work():
    same(lambda T: T.ones(2, 3).sum(dim=np.int64(1)))
    same(lambda T: T.ones(2, 3).sum(dim=[0, np.int64(1)]))
    same(lambda T: T.ones(2, 3).argmax(dim=np.int32(1)))


# --------------------------------------------------------------------------- integers beyond int64
@pytest.mark.parametrize("make", [
    lambda T: T.tensor(2**64), lambda T: T.tensor(2**63), lambda T: T.tensor(-2**63), lambda T: T.tensor(-2**63 - 1),
    lambda T: T.tensor([1, 2**64]), lambda T: T.tensor([[1], [2**70]]), lambda T: T.tensor([2**63]),
    lambda T: T.tensor([2**63 - 1]), lambda T: T.tensor(2**64, dtype=T.float64), lambda T: T.tensor([1.5, 2**64]),
    lambda T: T.tensor([1, 2**64], dtype=T.float64), lambda T: T.tensor([1, 2**64], dtype=T.int32),
    lambda T: T.tensor(2**64, dtype=T.int64), lambda T: T.as_tensor([2**64]),
])
def test_integers_beyond_int64(make):
    same(make)


# --------------------------------------------------------------------------- empty reductions
@pytest.mark.parametrize("make", [
    lambda T: T.zeros(0).argmax(), lambda T: T.zeros(0).argmin(), lambda T: T.zeros(0, 3).argmax(dim=0),
    lambda T: T.zeros(0, 3).argmax(dim=1), lambda T: T.zeros(0, 3).argmin(dim=-2, keepdim=True),
    lambda T: T.zeros(0).min(), lambda T: T.zeros(0).max(), lambda T: T.zeros(0, 3).max(dim=0),
    lambda T: T.argmax(T.zeros(2, 0)),
])
def test_empty_argmax_and_max(make):
    same(make)


# --------------------------------------------------------------------------- allocations that cannot happen
@pytest.mark.parametrize("make", [
    lambda T: T.zeros(2**62), lambda T: T.ones(2**31, 2**31, 4), lambda T: T.empty(2**62, dtype=T.float64),
    lambda T: T.zeros(size=(2**40, 2**40)),
])
def test_allocation_overflow(make):
    same(make)


@pytest.mark.parametrize("make", [
    lambda T: T.zeros(2**40), lambda T: T.ones(2**20, 2**20), lambda T: T.full((2**41,), 1.),
    lambda T: T.randn(2**40), lambda T: T.rand(2**40), lambda T: T.empty(2**40),
    lambda T: T.randint(0, 3, (2**40,)), lambda T: T.ones(2).new_zeros(2**40),
])
def test_allocation_beyond_memory(make):
    # torch asks the allocator and fails; autojac checks first and never tries (same type, same words)
    err = same(make, match=r"DefaultCPUAllocator: can't allocate memory: you tried to allocate \d+ bytes")
    assert isinstance(err, RuntimeError)
    info = pytest.raises(RuntimeError, make, autojac)
    assert not any("/numpy/" in f.filename for f in traceback.extract_tb(info.tb))


def test_negative_sizes():
    raises_like(lambda T: T.zeros(-1), RuntimeError, "negative dimension -1")
