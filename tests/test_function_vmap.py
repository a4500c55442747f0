"""``autograd.Function`` under ``vmap`` (the ``vmap`` staticmethod, ``generate_vmap_rule``) against torch 2.13.

The classes are the examples of torch's "Extending torch.func with autograd.Function" notes,
built once per library: NumPy-backed ``NumpySort``/``NumpyTake`` with a ``vmap`` staticmethod,
``MyCube``/``MulSin`` with ``generate_vmap_rule = True``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import autojac
from autojac.func._vmap import VmapFallbackWarning

LIBS = (torch, autojac)


def arr(seed: str, *shape: int) -> np.ndarray:
    return np.random.default_rng(sum(map(ord, seed))).standard_normal(shape)


def close(ours, theirs, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy()), theirs.detach().numpy(), rtol=rtol, atol=atol)


def numpy_classes(T):
    """``NumpySort`` and ``NumpyTake`` of the torch notes (forward reads ``.numpy()``; a ``vmap`` staticmethod)."""

    class NumpyTake(T.autograd.Function):
        @staticmethod
        def forward(x, ind, ind_inv, dim):
            return T.tensor(np.take_along_axis(x.numpy(), ind.numpy(), dim))

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, ind, ind_inv, dim = inputs
            ctx.save_for_backward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None, None, None

        @staticmethod
        def vmap(info, in_dims, x, ind, ind_inv, dim):
            x_bdim, ind_bdim, ind_inv_bdim, _ = in_dims
            logical_dim = x.dim() if x_bdim is None else x.dim() - 1
            dim = dim if dim >= 0 else dim + logical_dim

            def front(t, bdim):
                return t.expand(info.batch_size, *t.shape) if bdim is None else t.movedim(bdim, 0)

            x, ind, ind_inv = front(x, x_bdim), front(ind, ind_bdim), front(ind_inv, ind_inv_bdim)
            return NumpyTake.apply(x, ind, ind_inv, dim + 1), 0

    class NumpySort(T.autograd.Function):
        @staticmethod
        def forward(x, dim):
            ind = np.argsort(x.numpy(), axis=dim)
            ind_inv = np.argsort(ind, axis=dim)
            result = np.take_along_axis(x.numpy(), ind, axis=dim)
            return T.tensor(result), T.tensor(ind), T.tensor(ind_inv)

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, dim = inputs
            _, ind, ind_inv = output
            ctx.mark_non_differentiable(ind, ind_inv)
            ctx.save_for_backward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output, _0, _1):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None

        @staticmethod
        def vmap(info, in_dims, x, dim):
            x_bdim, _ = in_dims
            x = x.movedim(x_bdim, 0)
            dim = dim if dim >= 0 else dim + x.dim() - 1
            return NumpySort.apply(x, dim + 1), (0, 0, 0)

    return NumpySort, NumpyTake


def cube_class(T):
    """``MyCube`` of the torch notes: two outputs, ``generate_vmap_rule = True``."""

    class MyCube(T.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x ** 3, 3 * x ** 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0], output[1])

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x

    return MyCube


def mulsin_class(T):
    """``x * sin(y)`` with ``generate_vmap_rule``, a ``jvp``, and a deliberately scaled backward (so a test
    sees whether the Function's ``backward`` or the derivative of its forward was used)."""

    class MulSin(T.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, y):
            return x * y.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)
            ctx.save_for_forward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return 2 * g * y.sin(), 2 * g * x * y.cos()

        @staticmethod
        def jvp(ctx, tx, ty):
            x, y = ctx.saved_tensors
            return 2 * (tx * y.sin() + ty * x * y.cos())

    return MulSin


def both(make, run):
    """``run(T, classes)`` for torch and autojac."""
    return [run(T, make(T)) for T in LIBS]


@pytest.fixture(autouse=True)
def _no_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("error", VmapFallbackWarning)  # these must vectorize, not loop
        yield


X = arr("x", 4, 5)


def test_numpy_sort_vmap_values_and_dims():
    def run(T, cls):
        sort, _ = cls
        x = T.tensor(X)
        return (T.func.vmap(lambda t: sort.apply(t, 0))(x), T.func.vmap(lambda t: sort.apply(t, -1), in_dims=1)(x),
                T.func.vmap(T.func.vmap(lambda t: sort.apply(t, 0)))(T.tensor(arr("x3", 2, 3, 4))))

    theirs, ours = both(numpy_classes, run)
    for o, t in zip(ours, theirs):
        for a, b in zip(o, t):
            close(a, b)
            assert a.dtype.is_floating_point == b.dtype.is_floating_point


def test_numpy_sort_gradients_through_vmap():
    def run(T, cls):
        sort, _ = cls
        x, w = T.tensor(X), T.tensor(arr("w", 5))
        per = lambda t: (sort.apply(t, 0)[0] * w).sum()  # noqa: E731
        g_of_v = T.func.grad(lambda t: T.func.vmap(lambda r: sort.apply(r, 0)[0])(t).mul(w).sum())(x)
        v_of_g = T.func.vmap(T.func.grad(per))(x)
        jac = T.func.jacrev(lambda t: T.func.vmap(lambda r: sort.apply(r, 0)[0])(t))(T.tensor(arr("j", 2, 3)))
        return g_of_v, v_of_g, jac

    theirs, ours = both(numpy_classes, run)
    for o, t in zip(ours, theirs):
        close(o, t)


def test_numpy_sort_with_vmap_options_and_autograd_grad():
    def run(T, cls):
        sort, _ = cls
        first = lambda r: sort.apply(r, 0)[0]  # noqa: E731
        x = T.tensor(X, requires_grad=True)
        chunked = T.func.vmap(first, chunk_size=3, out_dims=1)(x)
        (g,) = T.autograd.grad(chunked.mul(T.arange(4.0)).sum(), x)
        nested = T.func.vmap(T.func.grad(lambda r: (T.func.vmap(first)(r) * T.arange(4.0)).sum()))(
            T.tensor(arr("q", 2, 3, 4)))
        return chunked, g, nested

    theirs, ours = both(numpy_classes, run)
    for o, t in zip(ours, theirs):
        close(o, t)


def test_numpy_take_with_an_unbatched_index():
    def run(T, cls):
        _, take = cls
        ind = T.tensor(np.argsort(arr("i", 5)))
        inv = T.argsort(ind)
        x = T.tensor(X)
        f = lambda t: take.apply(t, ind, inv, 0)  # noqa: E731
        return T.func.vmap(f)(x), T.func.vmap(T.func.grad(lambda t: (f(t) ** 2).sum()))(x)

    theirs, ours = both(numpy_classes, run)
    for o, t in zip(ours, theirs):
        close(o, t)


def test_my_cube_generated_rule():
    def run(T, cube):
        x = T.tensor(arr("c", 6))
        vals = T.func.vmap(cube.apply)(x)
        g = T.func.vmap(T.func.grad(lambda t: cube.apply(t)[0]))(x)
        gg = T.func.vmap(T.func.grad(T.func.grad(lambda t: cube.apply(t)[0])))(x)
        gv = T.func.grad(lambda t: T.func.vmap(cube.apply)(t)[0].sum())(x)
        hess = T.func.jacrev(T.func.jacrev(lambda t: T.func.vmap(cube.apply)(t)[0].sum()))(x[:4])
        return (*vals, g, gg, gv, hess)

    theirs, ours = both(cube_class, run)
    for o, t in zip(ours, theirs):
        close(o, t)


def test_generated_rule_uses_the_functions_backward_and_jvp():
    def run(T, mulsin):
        x, y = T.tensor(arr("mx", 3, 4)), T.tensor(arr("my", 4))
        f = lambda a, b: mulsin.apply(a, b).sum()  # noqa: E731
        v = T.func.vmap(mulsin.apply, in_dims=(0, None))(x, y)
        vg = T.func.vmap(T.func.grad(f, argnums=(0, 1)), in_dims=(0, None))(x, y)
        gv = T.func.grad(lambda a, b: T.func.vmap(mulsin.apply, in_dims=(0, None))(a, b).sum(), argnums=(0, 1))(x, y)
        _, jv = T.func.jvp(lambda a: T.func.vmap(mulsin.apply, in_dims=(0, None))(a, y), (x,), (T.ones_like(x),))
        vj = T.func.vmap(lambda a: T.func.jvp(lambda s: mulsin.apply(s, y), (a,), (T.ones_like(a),))[1])(x)
        jr = T.func.jacrev(lambda a: T.func.vmap(mulsin.apply, in_dims=(0, None))(a, y))(x)
        jf = T.func.jacfwd(lambda a: T.func.vmap(mulsin.apply)(a, a.cos()))(y)
        nested = T.func.grad(lambda a: T.func.vmap(T.func.vmap(mulsin.apply))(a, a.cos()).sum())(x)
        return (v, *vg, *gv, jv, vj, jr, jf, nested)

    theirs, ours = both(mulsin_class, run)
    for o, t in zip(ours, theirs):
        close(o, t)


def test_refusals_match_torch():
    def fn_class(T, generate=False, rule=False, setup=True):
        body = {"backward": staticmethod(lambda ctx, g: g), "generate_vmap_rule": generate}
        if setup:
            body["forward"] = staticmethod(lambda x: x * 2)
            body["setup_context"] = staticmethod(lambda ctx, inputs, output: None)
        else:
            body["forward"] = staticmethod(lambda ctx, x: x * 2)
        if rule:
            body["vmap"] = staticmethod(lambda info, in_dims, x: (x * 2, 0))
        return type("Twice", (T.autograd.Function,), body)

    def bad_rule(T, returns):
        return type("Bad", (T.autograd.Function,), {
            "forward": staticmethod(lambda x: x * 2), "setup_context": staticmethod(lambda ctx, i, o: None),
            "backward": staticmethod(lambda ctx, g: g), "vmap": staticmethod(lambda info, in_dims, x: returns(x))})

    cases = [dict(), dict(generate=True, rule=True), dict(setup=False, rule=True), dict(setup=False, generate=True)]
    for kw in cases:
        msgs = []
        for T in LIBS:
            with pytest.raises(RuntimeError) as e:
                T.func.vmap(fn_class(T, **kw).apply)(T.ones(3, 2))
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1], kw
    for returns in (lambda x: x, lambda x: (x, 0, 0), lambda x: ((x, x), (0, 0, 0))):
        msgs = []
        for T in LIBS:
            with pytest.raises(RuntimeError) as e:
                T.func.vmap(bad_rule(T, returns).apply)(T.ones(3, 2))
            msgs.append(str(e.value))
        ours = msgs[1].replace("autojac._tensor.Tensor", "torch.Tensor")
        head = ours.split(" out_dims has structure")[0].split(" For more details")[0]  # torch prints pytree specs
        assert msgs[0].startswith(head) and len(head) > 100
    for T in LIBS:
        with pytest.raises(NotImplementedError, match="you must either override the vmap staticmethod"):
            T.autograd.Function.vmap(None, (0,), T.ones(2))


def test_vmap_info_and_in_dims():
    seen = []

    def make(T):
        class Spy(T.autograd.Function):
            @staticmethod
            def forward(x, y, k):
                return x * y * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, g):
                return g, g, None

            @staticmethod
            def vmap(info, in_dims, x, y, k):
                seen.append((info.batch_size, info.randomness, tuple(d is None for d in in_dims)))
                return Spy.apply(x, y.movedim(in_dims[1], 0), k) if in_dims[0] is None else x * k, 0

        return Spy

    outs = []
    for T in LIBS:
        outs.append(T.func.vmap(make(T).apply, in_dims=(None, 1, None), randomness="same")(
            T.tensor(arr("vx", 3)), T.tensor(arr("vy", 3, 4)), 2.0))
    close(outs[1], outs[0])
    assert seen[0] == seen[1] == (4, "same", (True, False, True))  # torch may pass y's bdim as 1; ours is 0


def numpy_exp_class(T):
    """A NumPy-backed ``exp`` with ``jvp`` and a ``vmap`` staticmethod that puts the batch dim last."""

    class NumpyExp(T.autograd.Function):
        @staticmethod
        def forward(x):
            return T.tensor(np.exp(x.numpy()))

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)
            ctx.save_for_forward(output)

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

        @staticmethod
        def jvp(ctx, t):
            (y,) = ctx.saved_tensors
            return t * y

        @staticmethod
        def vmap(info, in_dims, x):
            return NumpyExp.apply(x.movedim(in_dims[0], -1)), -1

    return NumpyExp


def test_vmap_staticmethod_with_forward_mode():
    def run(T, e):
        x, t = T.tensor(X), T.tensor(arr("t", 4, 5))
        _, jv = T.func.jvp(T.func.vmap(e.apply), (x,), (t,))
        vj = T.func.vmap(lambda a, b: T.func.jvp(e.apply, (a,), (b,))[1])(x, t)
        jf = T.func.jacfwd(T.func.vmap(e.apply))(x[:2, :3])
        gv = T.func.grad(lambda a: T.func.vmap(e.apply, in_dims=1, out_dims=1)(a).sum())(x)
        return jv, vj, jf, gv

    theirs, ours = both(numpy_exp_class, run)
    for o, t in zip(ours, theirs):
        close(o, t)
