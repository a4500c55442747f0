"""Parity with torch 2.13 for views and indexing: narrow, index_select, embedding, view(dtype),
view(shape) on non-contiguous tensors, deepcopy of views (issue 8)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autojac
from _parity import same

# --------------------------------------------------------------------------- narrow
NARROW = [(0, -3, 2), (0, 8, 5), (0, 11, 0), (0, -11, 1), (0, 1, -1), (0, 10, 0), (0, -10, 10), (0, 10, 1),
          (1, 0, 1), (-1, -2, 2), (0, 0, 0)]


@pytest.mark.parametrize("dim,start,length", NARROW)
def test_narrow_bounds(dim, start, length):
    same(lambda T: T.arange(10.).narrow(dim, start, length))
    same(lambda T: T.narrow(T.arange(12.).reshape(3, 4) if dim else T.arange(10.), dim, start, length))


def test_narrow_other_arguments():
    same(lambda T: T.tensor(1.).narrow(0, 0, 1))
    same(lambda T: T.arange(10.).narrow(0, T.tensor(2), 3))
    same(lambda T: T.zeros(0).narrow(0, 0, 0))
    same(lambda T: T.ones(3, 4).narrow(-1, -2, 2))


def test_narrow_is_a_view_with_gradient():
    def case(T):
        x = T.arange(6., requires_grad=True)
        y = x * 1
        v = y.narrow(0, -4, 2)
        v.mul_(10)
        y.sum().backward()
        return y, x.grad
    same(case)


# --------------------------------------------------------------------------- index_select, embedding
@pytest.mark.parametrize("shape,dim,index", [((10,), 0, [-1, 2]), ((10,), 0, [10]), ((2, 3), 0, [2]), ((2, 3), 0, [-1]),
                                             ((2, 3), 1, [-1]), ((2, 3, 4), 1, [3]), ((2, 3), 1, [0, 2, 2]),
                                             ((), 0, [1]), ((), 0, [0]), ((10,), 0, [])])
def test_index_select_rejects_negative_and_out_of_range(shape, dim, index):
    same(lambda T: T.index_select(T.ones(shape).cumsum(0) if shape else T.tensor(2.), dim,
                                  T.tensor(index, dtype=T.int64)))


def test_index_select_gradient():
    def case(T):
        x = T.arange(6., requires_grad=True)
        T.index_select(x.reshape(2, 3), 1, T.tensor([2, 0, 2])).pow(2).sum().backward()
        return x.grad
    same(case)


@pytest.mark.parametrize("index", [[-1], [[0, -2]], [3], [0, 2], []])
def test_embedding_rejects_negative_and_out_of_range(index):
    same(lambda T: T.nn.functional.embedding(T.tensor(index, dtype=T.int64), T.arange(6.).reshape(3, 2)))


@pytest.mark.parametrize("padding_idx", [-1, 2, 3, -4])
def test_embedding_padding_idx_range(padding_idx):
    same(lambda T: T.nn.functional.embedding(T.tensor([0, 2]), T.ones(3, 2), padding_idx=padding_idx))


# --------------------------------------------------------------------------- view(dtype)
VIEW_DTYPE = [
    ("float32", (2,), "int32"), ("float32", (2,), "int16"), ("float32", (2,), "float64"), ("float32", (3,), "float64"),
    ("float32", (), "int16"), ("float32", (), "int32"), ("float32", (2, 2), "uint8"), ("float64", (2, 3), "float32"),
    ("complex64", (2,), "float32"), ("float32", (2,), "complex64"), ("float32", (2,), "bool"),
    ("float32", (2, 1), "int16"), ("int64", (2, 2), "float64"), ("float32", (2,), "float32"), ("int32", (4,), "int16"),
]


@pytest.mark.parametrize("src,shape,dst", VIEW_DTYPE)
def test_view_dtype_reinterprets_bits(src, shape, dst):
    values = np.arange(1, 1 + int(np.prod(shape))).reshape(shape) * 1.25
    same(lambda T: T.tensor(values.astype(src) if "complex" not in src else values + 0.5j,
                            dtype=getattr(T, src)).view(getattr(T, dst)))


@pytest.mark.parametrize("make", [
    lambda T: T.ones(2, 3).t().view(T.int16), lambda T: T.ones(2, 3).t().view(T.float32),
    lambda T: T.ones(2, 3, dtype=T.float64)[:, 1:].view(T.float32), lambda T: T.ones(2, 3)[:, 1:].view(T.float64),
    lambda T: T.ones(4)[1:].view(T.float64), lambda T: T.ones(3, 1).expand(3, 2).view(T.int16),
    lambda T: T.ones(3, 1).expand(3, 2).view(T.int32), lambda T: T.ones(2, 4)[::2].view(T.float64),
])
def test_view_dtype_layout_rules(make):
    same(make)


def test_view_dtype_shares_memory_and_version_and_drops_grad():
    def case(T):
        x = T.ones(2, requires_grad=True)
        v, w = x.view(T.int32), x.view(T.float32)
        return v.requires_grad, w.requires_grad, v.grad_fn, w.grad_fn
    same(case)

    def write(T):
        x = T.ones(2)
        v = x.view(T.int32)
        x.add_(1)
        v[0] = 0
        return x, v, v._version
    same(write)


# --------------------------------------------------------------------------- view(shape) needs compatible strides
@pytest.mark.parametrize("make,shape", [
    (lambda T: T.ones(2, 3).t(), (6,)), (lambda T: T.ones(2, 3).t(), (3, 2)), (lambda T: T.ones(2, 3).t(), (3, 1, 2)),
    (lambda T: T.ones(4, 3)[::2], (2, 3)), (lambda T: T.ones(4, 3)[::2], (6,)),
    (lambda T: T.ones(4, 3)[:, :2], (4, 2, 1)),
    (lambda T: T.ones(4, 3)[:, :2], (8,)), (lambda T: T.ones(3, 1).expand(3, 4), (12,)),
    (lambda T: T.ones(3, 1).expand(3, 4), (3, 2, 2)), (lambda T: T.ones(2, 3, 4).permute(1, 0, 2), (3, 8)),
    (lambda T: T.ones(2, 3, 4).permute(1, 0, 2), (6, 4)), (lambda T: T.ones(2, 3, 4).transpose(0, 1), (3, 2, 2, 2)),
    (lambda T: T.ones(2, 3, 4)[:, 1:], (4, 4)), (lambda T: T.ones(2, 3, 4)[:, 1:], (2, 8)),
    (lambda T: T.ones(2, 1, 3).transpose(0, 2), (3, 2)), (lambda T: T.ones(2, 3).t(), (-1,)),
    (lambda T: T.ones(0, 3).t(), (0,)), (lambda T: T.ones(5)[::2], (3, 1)), (lambda T: T.ones(5)[::2], (1, 3)),
    (lambda T: T.ones(6, 4)[::2, ::2], (3, 2)), (lambda T: T.ones(6, 4)[::2, ::2], (6,)),
])
def test_view_shape_on_non_contiguous(make, shape):
    same(lambda T: make(T).view(shape))
    same(lambda T: make(T).view(*shape))
    same(lambda T: make(T).reshape(shape))  # reshape copies where view cannot


def test_view_of_non_contiguous_gradient():
    def case(T):
        x = T.arange(12., requires_grad=True)
        y = x.reshape(3, 4)[:, 1:3].view(3, 2, 1)
        (y * T.arange(6.).reshape(3, 2, 1)).sum().backward()
        return y, x.grad
    same(case)


# --------------------------------------------------------------------------- deepcopy keeps aliasing
def test_deepcopy_keeps_views_aliased():
    def case(T):
        a = T.arange(5.)
        a2, v2 = copy.deepcopy([a, a[1:3]])
        v2[0] = 100
        return a2, v2, a, v2.storage_offset()
    same(case)

    def view_first(T):
        a = T.arange(10.)
        v2, a2 = copy.deepcopy([a[1:3], a])
        v2[0] = 100
        return a2, v2, a
    same(view_first)

    def transposed(T):
        a = T.arange(10.)
        b2, a2 = copy.deepcopy([a.view(2, 5).t(), a])
        a2[1] = -1
        return b2, b2.stride(), b2.is_contiguous()
    same(transposed)


def test_deepcopy_separate_tensors_and_leaves():
    def case(T):
        a, b = T.ones(3, requires_grad=True), T.zeros(2)
        a.grad = T.full((3,), 2.)
        a2, b2 = copy.deepcopy((a, b))
        b2.add_(1)
        return a2, a2.requires_grad, a2.grad, b, b2, a2.is_leaf
    same(case)
    same(lambda T: copy.deepcopy([T.ones(3, requires_grad=True) * 2]), match=r"^Only Tensors created explicitly "
         r"by the user \(graph leaves\) support the deepcopy protocol at the moment\.")


def test_deepcopy_shares_a_version_counter_between_aliases():
    a = autojac.arange(4.)
    a2, v2 = copy.deepcopy([a, a[1:]])
    v2.add_(1)
    assert a2._version == v2._version == 1 and a._version == 0
