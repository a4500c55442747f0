"""``autograd.graph.saved_tensors_hooks``, ``save_on_cpu`` and ``disable_saved_tensors_hooks`` against torch 2.13:
which tensors are packed, what backward computes with the unpacked ones, nesting, threads, Functions."""

from __future__ import annotations

import threading

import pytest

import autojac
from _parity import raises_like, same

OPS = {
    "mul": lambda T, x: x * x, "exp": lambda T, x: x.exp(), "sin": lambda T, x: x.sin(), "add": lambda T, x: x + 1,
    "sum": lambda T, x: x.sum(), "relu": lambda T, x: T.relu(x), "dot": lambda T, x: x @ x, "max": lambda T, x: x.max(),
    "mul_scalar": lambda T, x: x * 2, "tanh": lambda T, x: x.tanh(), "pow": lambda T, x: x ** 2,
    "sigmoid": lambda T, x: x.sigmoid(), "log": lambda T, x: x.log(), "sub": lambda T, x: x - x,
    "mean": lambda T, x: x.mean(), "sqrt": lambda T, x: x.sqrt(),
}


def _x(T):
    return T.tensor([0.5, 1., 2.], dtype=T.float64, requires_grad=True)


@pytest.mark.parametrize("name", list(OPS))
def test_pack_sees_what_each_op_saves(name):
    def case(T):
        x = _x(T)
        calls = []

        def pack(t):
            calls.append(("pack", tuple(t.shape), t is x, t.requires_grad))
            return t

        def unpack(t):
            calls.append(("unpack", tuple(t.shape)))
            return t
        with T.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = OPS[name](T, x)
        n_packed = len(calls)
        y.sum().backward()
        return calls[:n_packed], len(calls) - n_packed, x.grad
    same(case)


def test_unpacked_tensors_are_what_backward_uses():
    def case(T):
        x = _x(T)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t * 0 + 5, lambda t: t):
            y = x * x
        y.sum().backward()
        return x.grad
    same(case)

    def scaled(T):
        x = _x(T)
        with T.autograd.graph.saved_tensors_hooks(lambda t: ("box", t.detach() * 2), lambda p: p[1]):
            y = (x.exp() * x).sum()
        y.backward()
        return x.grad
    same(scaled)


def test_nested_hooks_innermost_wins():
    def case(T):
        x = _x(T)
        log = []
        with T.autograd.graph.saved_tensors_hooks(lambda t: (log.append("outer"), t)[1], lambda t: t):
            with T.autograd.graph.saved_tensors_hooks(lambda t: (log.append("inner"), t)[1], lambda t: t):
                y = x * x
            z = x.sin()
        (y + z).sum().backward()
        return log, x.grad
    same(case)


def test_unpack_runs_on_every_read_and_retain_graph():
    def case(T):
        x = _x(T)
        n = []
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: (n.append(1), t)[1]):
            y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return len(n), x.grad
    same(case)


def test_hooks_with_create_graph():
    def case(T):
        x = _x(T)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = (x.exp() * x.sin()).sum()
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        return g, h
    same(case)


def test_in_place_write_to_a_saved_tensor():
    # a copy made by pack holds the old value: used, as in torch (no error, the gradient at the old value)
    def copied(T):
        x = _x(T)
        a = x * 1
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            y = a * a
        a.mul_(2)
        y.sum().backward()
        return x.grad
    same(copied)

    # pack returning the saved tensor itself: torch silently uses the new value; autojac keeps its check
    def identity(T):
        x = _x(T)
        a = x * 1
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = a * a
        a.mul_(2)
        y.sum().backward()
    raises_like(identity, RuntimeError, r"one of the variables needed for gradient computation has been modified "
                                        r"by an inplace operation: \[autojac.float64 \[3\]\], which is an input of "
                                        r"MulBackward0, is at version 1; expected version 0")

    def output(T):
        x = _x(T)
        with T.autograd.graph.saved_tensors_hooks(lambda t: (t,), lambda p: p[0]):
            y = x.exp()
        y.mul_(2)
        y.sum().backward()
    raises_like(output, RuntimeError, r"which is output 0 of ExpBackward0")


def test_unpack_must_return_a_tensor():
    def case(T):
        x = _x(T)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
            y = x * x
        y.sum().backward()
    same(case, match=r"unpack_hook|Tensor")


def test_save_on_cpu():
    def case(T):
        x = _x(T)
        with T.autograd.graph.save_on_cpu():
            y = (x * x.exp()).sum()
        y.backward()
        return x.grad
    same(case)

    def pinned(T):
        x = _x(T)
        with T.autograd.graph.save_on_cpu(pin_memory=False):
            y = x.tanh().sum()
        a = x.detach()
        a.mul_(1)  # a write to the leaf's memory after the save: the copy keeps the old value
        y.backward()
        return x.grad
    same(pinned)


def test_disable_saved_tensors_hooks():
    def inside(T):
        with T.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
            with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    same(inside)

    def around(T):
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            with T.autograd.graph.disable_saved_tensors_hooks("nope"):
                pass
    same(around)

    def still_differentiates(T):
        x = _x(T)
        with T.autograd.graph.disable_saved_tensors_hooks("no hooks"):
            (x * x).sum().backward()
        with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # usable again after the block
            y = (x * x).sum()
        y.backward()
        return x.grad
    same(still_differentiates)


def test_custom_function_save_for_backward_goes_through_hooks():
    def case(T):
        class Cube(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x ** 3
                ctx.save_for_backward(x, y)
                return y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return g * 3 * y / x

        x = _x(T)
        log = []
        with T.autograd.graph.saved_tensors_hooks(lambda t: (log.append(tuple(t.shape)), t * 2)[1], lambda t: t):
            y = Cube.apply(x)
        y.sum().backward()
        return log, x.grad
    same(case)


def test_hooks_are_per_thread():
    x = autojac.ones(3, requires_grad=True)
    packed = []
    started, done = threading.Event(), threading.Event()

    def other():
        started.wait()
        y = x * x  # no hooks in this thread
        done.set()
        y.sum().backward()

    th = threading.Thread(target=other)
    th.start()
    with autojac.autograd.graph.saved_tensors_hooks(lambda t: (packed.append(1), t)[1], lambda t: t):
        started.set()
        done.wait()
        z = x * x
    th.join()
    z.sum().backward()
    assert len(packed) == 2  # only this thread's x * x
    assert not autojac._core.saved_hooks.ACTIVE


def test_no_hooks_no_bookkeeping():
    x = autojac.ones(3, requires_grad=True)
    y = x * x
    assert y.grad_fn not in autojac._core.saved_hooks.PACKED
