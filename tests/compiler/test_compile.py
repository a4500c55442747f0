"""``autojac.compile``: transforms compiled vs eager, guards and retracing, every graph-break cause
with its warning, ``fullgraph``, captured tensors read live, gradients through a compiled call
(one ``CompiledFunctionBackward`` node), and threads.

Compiled results are compared with eager at a few ulps: the replay runs the same NumPy calls, but
NumPy's SIMD reductions may pair terms by memory alignment.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import torch

import autojac as A
from autojac import func

ULP64 = dict(rtol=1e-14, atol=1e-14)


def close(a, b, **tol) -> None:
    np.testing.assert_allclose(A.tensor(a).numpy() if not isinstance(a, A.Tensor) else a.detach().numpy(),
                               b.detach().numpy() if isinstance(b, A.Tensor) else b, **(tol or ULP64))


def points(n: int = 3, size: int = 4, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [A.tensor(rng.standard_normal(size)) for _ in range(n)]


def f_scalar(x):
    return (A.tanh(x) * x.exp()).sum() + (x ** 3).mean()


def f_vector(x):
    return A.stack([x[0] ** 2, x[0] * x[1], x.sin().sum(), (x * x).sum()])


@pytest.mark.parametrize("make", [
    lambda: f_scalar, lambda: func.grad(f_scalar), lambda: func.jacrev(f_vector), lambda: func.jacfwd(f_vector),
    lambda: func.hessian(f_scalar), lambda: func.vmap(f_scalar), lambda: func.vmap(func.grad(f_scalar)),
    lambda: (lambda x: func.jvp(f_vector, (x,), (A.ones_like(x),))[1]),
    lambda: (lambda x: func.vjp(f_vector, x)[1](A.ones(4, dtype=A.float64))[0]),
    lambda: (lambda x: A.autograd.functional.jacobian(f_vector, x)),
    lambda: (lambda x: A.autograd.functional.hessian(f_scalar, x)),
], ids=["f", "grad", "jacrev", "jacfwd", "hessian", "vmap", "vmap_grad", "jvp", "vjp", "functional.jacobian",
        "functional.hessian"])
def test_transforms_compiled_match_eager(make) -> None:
    fn = make()
    compiled = A.compile(fn, fullgraph=True)
    for x in points():
        close(compiled(x), fn(x))
    assert len(compiled._cache) == 1  # one trace, then replays


def test_vmap_over_a_batch_is_replayed() -> None:
    g = A.compile(func.vmap(func.grad(f_scalar)), fullgraph=True)
    for x in points(3, 12):
        b = x.reshape(3, 4)
        close(g(b), func.vmap(func.grad(f_scalar))(b))


def test_custom_function_and_checkpoint_compile() -> None:
    class Cube(A.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    def loss(x):
        h = A.utils.checkpoint.checkpoint(lambda t: t.sin() * 2, x, use_reentrant=False)
        return (Cube.apply(h) + x).sum()

    g = A.compile(func.grad(loss))
    for x in points():
        close(g(x), func.grad(loss)(x))


def test_new_shapes_dtypes_and_grad_mode_retrace() -> None:
    calls = []

    def f(x):
        calls.append(1)
        return x * 2

    c = A.compile(f)
    c(A.ones(3))
    c(A.zeros(3))
    assert len(calls) == 1 and len(c._cache) == 1
    c(A.ones(4))
    c(A.ones(3, dtype=A.float64))
    with A.no_grad():
        c(A.ones(3))
    assert len(c._cache) == 4
    out = c(A.tensor([1.0, 2.0, 3.0]))
    close(out, A.tensor([2.0, 4.0, 6.0]))


def test_closed_over_numbers_are_guarded_by_value() -> None:
    scale = 2.0

    def f(x):
        return x * scale

    c = A.compile(f)
    close(c(A.ones(2)), A.full((2,), 2.0))
    scale = 3.0
    close(c(A.ones(2)), A.full((2,), 3.0))
    assert len(c._cache) == 2


def test_captured_tensors_are_read_live() -> None:
    w = A.tensor([1.0, 2.0])
    c = A.compile(lambda x: x * w)
    c(A.ones(2))
    with A.no_grad():
        w.mul_(10)  # an optimizer-style in-place update
    close(c(A.ones(2)), A.tensor([10.0, 20.0]))


def test_bounded_cache_falls_back_with_a_warning(monkeypatch) -> None:
    monkeypatch.setattr(A.compiler._compiled, "cache_size_limit", 2)
    c = A.compile(lambda x: x + 1)
    c(A.ones(1))
    c(A.ones(2))
    with pytest.warns(UserWarning, match="cache_size_limit"):
        out = c(A.ones(3))
    close(out, A.full((3,), 2.0))


def _item(x):
    return x * x.sum().item()


def _branch(x):
    return x * 2 if x.sum() > 0 else x * 3


def _numpy(x):
    return A.tensor(np.sin(x.numpy())) * x


def _random(x):
    return x + A.randn(x.shape)


W = A.zeros(3)


def _write_captured(x):
    W.add_(x)
    return x * 1


def _np_ufunc(x):
    return A.tensor(np.exp(x)) + x


@pytest.mark.parametrize("fn,cause", [
    (_item, r"\.item\(\) of a tensor"), (_branch, r"bool\(\) of a tensor"), (_numpy, r"\.numpy\(\) of a tensor"),
    (_random, "random number generation"), (_write_captured, "in-place write into a tensor captured"),
    (_np_ufunc, "NumPy reading a tensor"),
], ids=["item", "bool", "numpy", "random", "inplace_captured", "numpy_ufunc"])
def test_graph_breaks_fall_back_with_cause_and_line(fn, cause: str) -> None:
    c = A.compile(fn)
    xs = [A.tensor([0.5, -1.0, 2.0]), A.tensor([-3.0, 1.0, 0.25])]
    with pytest.warns(UserWarning, match=cause) as record:
        c(xs[0])
    assert "test_compile.py:" in str(record[0].message)  # the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning comes once
        for x in xs:
            if fn is _random:
                A.manual_seed(0)
                got = c(x)
                A.manual_seed(0)
                close(got, fn(x))
            elif fn is _write_captured:
                before = W.clone()
                c(x)
                close(W, before + x, rtol=1e-6)
            else:
                close(c(x), fn(x), rtol=1e-6)
    with pytest.raises(A.compiler.CompileError, match="fullgraph=True"):
        A.compile(fn, fullgraph=True)(xs[0])


def test_gradients_flow_through_a_compiled_call_into_leaves() -> None:
    w = A.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=A.float64, requires_grad=True)

    def f(x):
        return (A.tanh(w @ x) * x).sum()

    c = A.compile(f)
    for k in range(3):
        x = A.tensor([0.3 * k + 0.1, -1.0 + k], dtype=A.float64, requires_grad=True)
        w.grad = None
        y = c(x)
        y.backward()
        got_x, got_w = x.grad.clone(), w.grad.clone()
        x.grad = None
        w.grad = None
        f(x).backward()
        close(got_x, x.grad)
        close(got_w, w.grad)
        if k:
            assert y.grad_fn.name() == "CompiledFunctionBackward"


def test_create_graph_through_a_compiled_call_differentiates_eagerly() -> None:
    c = A.compile(lambda x: (x.sin() * x).sum())
    x0 = A.tensor([0.2, 0.9], dtype=A.float64, requires_grad=True)
    c(x0)
    x = A.tensor([0.3, 0.7], dtype=A.float64, requires_grad=True)
    (g,) = A.autograd.grad(c(x), x, create_graph=True)
    (h,) = A.autograd.grad(g.sum(), x)
    t = torch.tensor([0.3, 0.7], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad((t.sin() * t).sum(), t, create_graph=True)
    (ht,) = torch.autograd.grad(gt.sum(), t)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-12)


def test_replay_from_many_threads_and_eager_beside_a_trace() -> None:
    g = A.compile(func.grad(f_scalar))
    xs = points(8, 4, seed=3)
    want = [func.grad(f_scalar)(x).numpy() for x in xs]
    errors = []

    def body(i: int) -> None:
        try:
            for _ in range(50):
                np.testing.assert_allclose(g(xs[i]).numpy(), want[i], **ULP64)
                np.testing.assert_allclose(func.grad(f_scalar)(xs[i]).numpy(), want[i], **ULP64)
        except BaseException as e:  # noqa: BLE001 (re-raised below)
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(g._cache) == 1


def test_compile_signature_and_decorator_forms() -> None:
    @A.compile
    def f(x):
        return x + 1

    @A.compile(mode="reduce-overhead", dynamic=False)
    def h(x):
        return x * 2

    close(f(A.ones(2)), A.full((2,), 2.0))
    close(h(A.ones(2)), A.full((2,), 2.0))
    assert A.compile(lambda x: x, disable=True)(3) == 3
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        A.compile(f, mode="fast")
    assert not A.compiler.is_compiling()
    A.compiler.reset()
    assert not f._cache


def test_returned_constants_are_fresh_at_every_call() -> None:
    c = A.compile(lambda x: (x * 2, A.zeros(3)))
    c(A.ones(3))
    first = c(A.ones(3))[1]
    first.add_(5)  # the caller writes into what it got
    np.testing.assert_array_equal(c(A.ones(3))[1].numpy(), np.zeros(3))


def test_constants_written_in_place_start_fresh_at_every_call() -> None:
    def f(x):
        z = A.zeros(3)
        z[0] = x[0]
        return z + x

    c = A.compile(f)
    for v in ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]):
        x = A.tensor(v)
        close(c(x), f(x))
