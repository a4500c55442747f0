"""``autograd.Function`` (custom differentiable functions) against PyTorch 2.13.

Each custom Function is written once as a factory ``make(T)`` and built for both libraries
(``T`` is ``torch`` or ``autojac``: same API), then values, gradients, second derivatives,
forward-mode tangents, ctx behaviour and error messages are compared; float64 finite
differences check the gradients independently, and Jacobian transforms check batched use.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.ops._oracle import fd_vjp, rng_for

import autojac

LIBS = (torch, autojac)


def arr(key: str, *shape: int) -> np.ndarray:
    return rng_for(key).standard_normal(shape)


def both(a: np.ndarray, requires_grad: bool = True, dtype: str = "float64") -> tuple:
    return tuple(T.tensor(a, dtype=getattr(T, dtype), requires_grad=requires_grad) for T in LIBS)


def close(ours, theirs, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    if theirs is None:
        assert ours is None
        return
    assert ours is not None
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def raises_same(fn_torch, fn_ours) -> str:
    """Both raise the same exception type with the same message; returns the message."""
    with pytest.raises(Exception) as theirs:
        fn_torch()
    with pytest.raises(Exception) as ours:
        fn_ours()
    assert type(ours.value).__name__ == type(theirs.value).__name__
    assert str(ours.value) == str(theirs.value)
    return str(ours.value)


# --------------------------------------------------------------------------- the Functions, for both libraries
def make_exp(T):
    class MyExp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    return MyExp


def make_linear(T):
    """Two outputs: an affine map and a per-row squared norm; one non-tensor argument."""

    class Linear2(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b, scale):
            ctx.save_for_backward(x, w)
            ctx.scale = scale
            return x @ w.T * scale + b, (x * x).sum(-1)

        @staticmethod
        def backward(ctx, gy, gn):
            x, w = ctx.saved_tensors
            s = ctx.scale
            gx = gy @ w * s + 2 * x * gn.unsqueeze(-1)
            gw = gy.transpose(-1, -2) @ x * s
            return gx, gw, gy.sum(0), None

    return Linear2


def make_mulsin(T):
    """``x * sin(y)`` with its gradients written in ops (differentiable again)."""

    class MulSin(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)
            return x * y.sin()

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y.sin(), g * x * y.cos()

        @staticmethod
        def jvp(ctx, tx, ty):
            x, y = ctx.saved_tensors
            return tx * y.sin() + ty * x * y.cos()

    return MulSin


def make_sort(T):
    class Sort(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            v, i = x.sort()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(i)
            return v, i

        @staticmethod
        def backward(ctx, gv, gi):
            (i,) = ctx.saved_tensors
            ctx.seen = (tuple(gi.shape), str(gi.dtype).split(".")[-1], float(gi.abs().sum()))
            return T.zeros_like(gv).scatter(-1, i, gv)

    return Sort


def make_double_(T):
    class Double_(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    return Double_


def make_setup(T):
    class Scale(T.autograd.Function):
        @staticmethod
        def forward(x, k=2.0, power=1):
            return x ** power * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k, power = inputs
            ctx.save_for_backward(x)
            ctx.k, ctx.power = k, power
            ctx.n_inputs = len(inputs)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.k * ctx.power * x ** (ctx.power - 1), None, None

    return Scale


# --------------------------------------------------------------------------- values, gradients, repr
def test_exp_value_grad_and_repr():
    a = arr("exp", 2, 3)
    theirs_x, ours_x = both(a, dtype="float32")
    outs = [make_exp(T).apply(x) for T, x in zip(LIBS, (theirs_x, ours_x))]
    assert outs[1].grad_fn.name() == outs[0].grad_fn.name() == "MyExpBackward"
    assert repr(outs[1]).split("grad_fn=")[1] == repr(outs[0]).split("grad_fn=")[1] == "<MyExpBackward>)"
    assert "<autojac.autograd.function.MyExpBackward object at 0x" in repr(outs[1].grad_fn)  # torch's form
    close(outs[1], outs[0], rtol=1e-6)
    for o in outs:
        o.sum().backward()
    close(ours_x.grad, theirs_x.grad, rtol=1e-6)
    assert [type(f).__name__ for f, _ in outs[1].grad_fn.next_functions] == ["AccumulateGrad"]


def test_exp_second_and_third_derivative_with_create_graph():
    a = arr("exp2", 4)
    xs = both(a)
    res = []
    for T, x in zip(LIBS, xs):
        y = make_exp(T).apply(x * 0.5)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = T.autograd.grad((g * g).sum(), x, create_graph=True)
        (k,) = T.autograd.grad(h.sum(), x)
        res.append((g, h, k))
    for ours, theirs in zip(res[1], res[0]):
        close(ours, theirs)


def test_two_outputs_against_torch_and_finite_differences():
    x, w, b = arr("lin-x", 4, 3), arr("lin-w", 2, 3), arr("lin-b", 2)
    cy, cn = arr("lin-cy", 4, 2), arr("lin-cn", 4)
    grads = []
    for T in LIBS:
        tx, tw, tb = (T.tensor(v, requires_grad=True) for v in (x, w, b))
        y, n = make_linear(T).apply(tx, tw, tb, 0.5)
        assert y.grad_fn is n.grad_fn and (y.output_nr, n.output_nr) == (0, 1)
        T.autograd.backward((y, n), (T.tensor(cy), T.tensor(cn)))
        grads.append((tx.grad, tw.grad, tb.grad))
    for ours, theirs in zip(grads[1], grads[0]):
        close(ours, theirs)

    def fn(T, x, w, b):
        return make_linear(T).apply(x, w, b, 0.5)

    fd = fd_vjp(fn, [x, w, b], [cy, cn])
    for ours, expected in zip(grads[1], fd):
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_unused_output_gets_materialized_zeros_or_none():
    x = arr("mat", 3)

    def make(T, materialize):
        class Two(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                ctx.log = [None if g is None else g.tolist() for g in (g1, g2)]
                return (0 if g1 is None else g1 * 2) + (0 if g2 is None else g2 * 3)

        return Two

    for materialize in (True, False):
        logs, grads = [], []
        for T in LIBS:
            tx = T.tensor(x, requires_grad=True)
            fn = make(T, materialize)
            _, q = fn.apply(tx)
            node_logs = []
            orig = fn.backward

            def spy(ctx, *gs, orig=orig, node_logs=node_logs):
                r = orig(ctx, *gs)
                node_logs.append(ctx.log)
                return r

            fn.backward = staticmethod(spy)
            q.sum().backward()
            logs.append(node_logs)
            grads.append(tx.grad)
        assert logs[1] == logs[0]
        close(grads[1], grads[0])


def test_non_differentiable_output():
    a = arr("sort", 2, 5)
    theirs_x, ours_x = both(a)
    outs = [make_sort(T).apply(x) for T, x in zip(LIBS, (theirs_x, ours_x))]
    for (v, i) in outs:
        assert not i.requires_grad and i.grad_fn is None
        assert v.grad_fn.name() == "SortBackward"
    close(outs[1][0], outs[0][0])
    assert outs[1][1].tolist() == outs[0][1].tolist()
    for v, _ in outs:
        (v * v).sum().backward()
    close(ours_x.grad, theirs_x.grad)


def test_non_tensor_outputs_and_kwargs_pass_through():
    def make(T):
        class WithInfo(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, k=3.0):
                return x * k, "info", 7

            @staticmethod
            def backward(ctx, g, g_info, g_int):
                ctx.extra = (g_info, g_int)
                return g * 2, None, None  # trailing extra Nones are allowed

        return WithInfo

    xs = both(arr("nt", 3))
    for T, x in zip(LIBS, xs):
        y, info, n = make(T).apply(x, k=2.0)
        assert (info, n) == ("info", 7)
        np.testing.assert_allclose(y.detach().numpy(), 2 * x.detach().numpy())
        y.sum().backward()
    close(xs[1].grad, xs[0].grad)


def test_setup_context_form_binds_defaults_and_keywords():
    xs = both(arr("setup", 3))
    for kwargs in ({}, {"k": 3.0}, {"power": 3}):
        outs = []
        for T, x in zip(LIBS, xs):
            x.grad = None
            y = make_setup(T).apply(x, **kwargs)
            assert y.grad_fn.name() == "ScaleBackward"
            y.sum().backward()
            outs.append((y, x.grad))
        close(outs[1][0], outs[0][0])
        close(outs[1][1], outs[0][1])


def test_needs_input_grad():
    def make(T, log):
        class Probe(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                log.append(ctx.needs_input_grad)
                return x * y * k

            @staticmethod
            def backward(ctx, g):
                log.append(ctx.needs_input_grad)
                return g, g, None

        return Probe

    logs = []
    for T in LIBS:
        log: list = []
        x = T.ones(2, requires_grad=True)
        y = T.ones(2)
        make(T, log).apply(x, y, 2.0).sum().backward()
        with T.no_grad():
            make(T, log).apply(x, y, 2.0)
        make(T, log).apply(y, y, 2.0)
        logs.append(log)
    assert logs[1] == logs[0] == [(True, False, False)] * 3 + [(False, False, False)]


def test_returning_an_input_gives_a_new_view_with_the_grad_fn():
    def make(T):
        class Ident(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5

        return Ident

    for T in LIBS:
        x = T.ones(3, requires_grad=True)
        y = make(T).apply(x)
        assert y is not x and y.grad_fn.name() == "IdentBackward" and x.grad_fn is None
        y.sum().backward()
        assert x.grad.tolist() == [5.0, 5.0, 5.0]
        with T.no_grad():
            z = make(T).apply(x)
        assert z is not x and not z.requires_grad


def test_vjp_may_be_defined_instead_of_backward():
    def make(T):
        class Sq(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def vjp(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        return Sq

    xs = both(arr("vjp", 3))
    for T, x in zip(LIBS, xs):
        make(T).apply(x).sum().backward()
    close(xs[1].grad, xs[0].grad)


# --------------------------------------------------------------------------- mark_dirty (in-place forward)
def test_mark_dirty_in_place_forward():
    a = arr("dirty", 3)
    results = []
    for T in LIBS:
        x = T.tensor(a, requires_grad=True)
        b = x * 3
        v0 = b._version
        out = make_double_(T).apply(b)
        assert out is b
        assert b.grad_fn.name() == "Double_Backward"
        results.append((b._version - v0, out.detach().clone(), x))
        (out * out).sum().backward()
    assert results[1][0] == results[0][0] == 2  # the in-place op, then marking dirty
    close(results[1][1], results[0][1])
    close(results[1][2].grad, results[0][2].grad)


def test_mark_dirty_errors():
    leaves = [T.ones(3, requires_grad=True) for T in LIBS]
    raises_same(lambda: make_double_(torch).apply(leaves[0]), lambda: make_double_(autojac).apply(leaves[1]))

    def make(T):
        class NotReturned(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                x.add_(1)
                ctx.mark_dirty(x)
                return y * 2

            @staticmethod
            def backward(ctx, g):
                return None, 2 * g

        return NotReturned

    args = [(T.ones(2, requires_grad=True) * 1, T.ones(2, requires_grad=True)) for T in LIBS]
    raises_same(lambda: make(torch).apply(*args[0]), lambda: make(autojac).apply(*args[1]))


# --------------------------------------------------------------------------- saved tensors
def test_modifying_a_saved_tensor_in_place_raises_at_backward():
    for T in LIBS:
        x = T.ones(3, requires_grad=True)
        y = make_exp(T).apply(x)  # saves its output
        with T.no_grad():
            y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        a = x * 1
        z = make_mulsin(T).apply(a, x)  # saves its inputs
        with T.no_grad():
            a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_saved_tensors_freed_after_backward_unless_retained():
    for T in LIBS:
        x = T.ones(2, requires_grad=True)
        s = make_exp(T).apply(x).sum()
        s.backward(retain_graph=True)
        s.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            s.backward()
        assert x.grad.tolist() == pytest.approx([2 * np.e] * 2)
    msgs = []
    for T in LIBS:
        bad = T.ones(2, requires_grad=True)

        class Bad(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x

        with pytest.raises(TypeError) as e:
            Bad.apply(bad)
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0]


def test_function_saving_nothing_can_backward_twice():
    def make(T):
        class Twice(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        return Twice

    for T in LIBS:
        x = T.ones(2, requires_grad=True)
        s = make(T).apply(x).sum()
        s.backward()
        s.backward()
        assert x.grad.tolist() == [4.0, 4.0]


# --------------------------------------------------------------------------- errors with PyTorch's words
def _make_bad_backward(T, result):
    class Foo(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return result(T, g)

    return Foo


@pytest.mark.parametrize("name,result", [
    ("too few", lambda T, g: g),
    ("grad for a number", lambda T, g: (g, T.ones(1))),
    ("not a tensor", lambda T, g: (3, None)),
    ("a list", lambda T, g: [g, None]),
    ("wrong shape", lambda T, g: (T.ones(4), None)),
    ("not expandable", lambda T, g: (T.ones(1), None)),
])
def test_backward_result_errors(name, result):
    def run(T):
        x = T.ones(3, requires_grad=True)
        _make_bad_backward(T, result).apply(x, 2.0).sum().backward()

    msg = raises_same(lambda: run(torch), lambda: run(autojac))
    assert "Foo" in msg or "expected Variable" in msg


def test_missing_methods_and_legacy_call():
    def no_forward(T):
        class NoFw(T.autograd.Function):
            pass

        return NoFw.apply(T.ones(1))

    def no_backward(T):
        class NoBw(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        NoBw.apply(T.ones(1, requires_grad=True)).sum().backward()

    def legacy(T):
        class Old(T.autograd.Function):
            pass

        with pytest.warns(DeprecationWarning):
            f = Old()
        f(T.ones(1))

    for case in (no_forward, no_backward, legacy):
        raises_same(lambda c=case: c(torch), lambda c=case: c(autojac))


# --------------------------------------------------------------------------- once_differentiable
def make_once(T):
    class OnceExp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @T.autograd.function.once_differentiable
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    return OnceExp


def test_once_differentiable():
    res = []
    for T in LIBS:
        x = T.tensor([0.0, 1.0], dtype=T.float64, requires_grad=True)
        y = make_once(T).apply(x)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        assert not g.requires_grad  # the cotangent (ones) does not require grad: as PyTorch
        v = T.ones(2, dtype=T.float64, requires_grad=True)
        (g2,) = T.autograd.grad(make_once(T).apply(x), x, v, create_graph=True)
        assert g2.requires_grad
        res.append((g, g2))
    close(res[1][0], res[0][0])

    raises_same(lambda: res[0][1].sum().backward(), lambda: res[1][1].sum().backward())


# --------------------------------------------------------------------------- forward mode (jvp)
def test_jvp_forward_mode_against_torch():
    x, y, tx, ty = arr("jx", 3), arr("jy", 3), arr("jtx", 3), arr("jty", 3)
    res = []
    for T in LIBS:
        fw = T.autograd.forward_ad
        with fw.dual_level():
            dx = fw.make_dual(T.tensor(x), T.tensor(tx))
            dy = fw.make_dual(T.tensor(y), T.tensor(ty))
            both_t = fw.unpack_dual(make_mulsin(T).apply(dx, dy)).tangent
            only_x = fw.unpack_dual(make_mulsin(T).apply(dx, T.tensor(y))).tangent  # ty materialized as zeros
            res.append((both_t, only_x))
    for ours, theirs in zip(res[1], res[0]):
        close(ours, theirs)


def test_jvp_sees_materialized_tangents_and_forward_saved_tensors():
    def make(T, log):
        class P(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                ctx.save_for_forward(x, y)
                return x * y * k

            @staticmethod
            def jvp(ctx, tx, ty, tk):
                x, y = ctx.saved_tensors
                log.append((tx.tolist(), ty.tolist(), tk))
                return (tx * y + ty * x) * 2.0

            @staticmethod
            def backward(ctx, g):
                return g, g, None

        return P

    logs = []
    for T in LIBS:
        log: list = []
        fw = T.autograd.forward_ad
        with fw.dual_level():
            dx = fw.make_dual(T.tensor([1.0, 2.0]), T.tensor([1.0, 0.0]))
            make(T, log).apply(dx, T.tensor([3.0, 4.0]), 2.0)
        logs.append(log)
    assert logs[1] == logs[0] == [([1.0, 0.0], [0.0, 0.0], None)]


def test_missing_jvp_raises_in_forward_mode():
    def run(T):
        fw = T.autograd.forward_ad
        with fw.dual_level():
            make_exp(T).apply(fw.make_dual(T.ones(2), T.ones(2)))

    raises_same(lambda: run(torch), lambda: run(autojac))


def test_jvp_of_the_function_matches_finite_differences_and_jacfwd():
    x, y = arr("fdj-x", 2, 3), arr("fdj-y", 2, 3)
    tx, ty = arr("fdj-tx", 2, 3), arr("fdj-ty", 2, 3)
    eps = 1e-6
    fd = ((x + eps * tx) * np.sin(y + eps * ty) - (x - eps * tx) * np.sin(y - eps * ty)) / (2 * eps)
    _, t = autojac.func.jvp(make_mulsin(autojac).apply, (autojac.tensor(x), autojac.tensor(y)),
                            (autojac.tensor(tx), autojac.tensor(ty)))
    np.testing.assert_allclose(t.numpy(), fd, rtol=1e-6, atol=1e-8)
    jf = autojac.func.jacfwd(make_mulsin(autojac).apply, argnums=(0, 1))(autojac.tensor(x), autojac.tensor(y))
    jr = autojac.func.jacrev(lambda a, b: a * b.sin(), argnums=(0, 1))(autojac.tensor(x), autojac.tensor(y))
    for ours, ref in zip(jf, jr):
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- transforms: batched cotangents, vmap
def test_jacobian_transforms_loop_a_per_sample_backward():
    calls = []

    class Counted(autojac.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y.sin()

        @staticmethod
        def backward(ctx, g):
            calls.append(tuple(g.shape))
            x, y = ctx.saved_tensors
            return g * y.sin(), g * x * y.cos()

    x, y = arr("jac-x", 2, 3), arr("jac-y", 3)
    tx, ty = autojac.tensor(x), autojac.tensor(y)
    ref = autojac.func.jacrev(lambda a, b: a * b.sin(), argnums=(0, 1))(tx, ty)
    got = autojac.func.jacrev(Counted.apply, argnums=(0, 1))(tx, ty)
    assert calls == [(2, 3)] * 6  # one call per basis cotangent
    for ours, r in zip(got, ref):
        np.testing.assert_allclose(ours.numpy(), r.numpy(), rtol=1e-12)
    theirs = torch.autograd.functional.jacobian(make_mulsin(torch).apply, (torch.tensor(x), torch.tensor(y)))
    ours = autojac.autograd.functional.jacobian(Counted.apply, (tx, ty), vectorize=True)
    for o, t in zip(ours, theirs):
        close(o, t)


def test_batched_backward_flag_takes_the_whole_batch_at_once():
    calls = []

    class Batched(autojac.autograd.Function):
        batched_backward = True

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            calls.append(tuple(g.shape))
            (y,) = ctx.saved_tensors
            return g * y

    x = autojac.tensor(arr("bb", 4))
    j = autojac.func.jacrev(Batched.apply)(x)
    assert calls == [(4, 4)]
    np.testing.assert_allclose(j.numpy(), np.diag(np.exp(x.numpy())), rtol=1e-12)
    xs = autojac.tensor(arr("bb2", 3), requires_grad=True)
    (g,) = autojac.autograd.grad(Batched.apply(xs), xs, autojac.eye(3, dtype=autojac.float64), is_grads_batched=True)
    np.testing.assert_allclose(g.numpy(), np.diag(np.exp(xs.detach().numpy())), rtol=1e-12)


def test_hessian_and_vmap_through_a_custom_function():
    x = arr("hess", 3)
    f_ours = lambda t: make_mulsin(autojac).apply(t, t * 2).sum()  # noqa: E731
    f_ref = lambda t: (t * (t * 2).sin()).sum()  # noqa: E731
    for h in (autojac.func.hessian, lambda f: autojac.func.jacrev(autojac.func.jacrev(f))):
        np.testing.assert_allclose(h(f_ours)(autojac.tensor(x)).numpy(), h(f_ref)(autojac.tensor(x)).numpy(),
                                   rtol=1e-12, atol=1e-12)
    xb = arr("vmap", 4, 3)
    v = autojac.func.vmap(make_exp(autojac).apply)(autojac.tensor(xb))
    np.testing.assert_allclose(v.numpy(), np.exp(xb), rtol=1e-12)
    gv = autojac.func.vmap(autojac.func.grad(lambda t: make_exp(autojac).apply(t).sum()))(autojac.tensor(xb))
    np.testing.assert_allclose(gv.numpy(), np.exp(xb), rtol=1e-12)


def test_second_derivative_of_two_output_function_against_torch():
    x, w, b = arr("l2-x", 3, 2), arr("l2-w", 2, 2), arr("l2-b", 2)
    res = []
    for T in LIBS:
        tx, tw, tb = (T.tensor(v, requires_grad=True) for v in (x, w, b))
        y, n = make_linear(T).apply(tx, tw, tb, 1.5)
        loss = (y.tanh() ** 2).sum() + (n * n).sum()
        gx, gw = T.autograd.grad(loss, (tx, tw), create_graph=True)
        hx, hw = T.autograd.grad((gx ** 2).sum() + gw.sum(), (tx, tw))
        res.append((gx, gw, hx, hw))
    for ours, theirs in zip(res[1], res[0]):
        close(ours, theirs, rtol=1e-9)


def test_jacobian_of_a_two_output_function_against_torch():
    x, w, b = arr("jl-x", 2, 3), arr("jl-w", 2, 3), arr("jl-b", 2)
    res = []
    for T in LIBS:
        tb = T.tensor(b)
        fn = make_linear(T)
        res.append(T.autograd.functional.jacobian(lambda a, c, fn=fn, tb=tb: fn.apply(a, c, tb, 0.5),
                                                  (T.tensor(x), T.tensor(w)), vectorize=T is autojac))
    for ours_row, theirs_row in zip(res[1], res[0]):
        for ours, theirs in zip(ours_row, theirs_row):
            close(ours, theirs)
