"""``autojac.utils.checkpoint`` against PyTorch 2.13 and against running without checkpoints.

Gradients (first and higher order, several inputs/outputs, non-tensor arguments, closure
parameters, random ops) must equal PyTorch's and the un-checkpointed ones; a 200-layer chain
must keep far fewer bytes alive; warnings and errors follow PyTorch's.
"""

from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint
from tests.ops._oracle import rng_for

import autojac
import autojac.utils.checkpoint

LIBS = (torch, autojac)


def ck(T):
    return T.utils.checkpoint.checkpoint


def arr(key: str, *shape: int) -> np.ndarray:
    return rng_for(key).standard_normal(shape)


def close(ours, theirs, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    if theirs is None:
        assert ours is None
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def block(T, w):
    """A function with two tensor inputs, a number, a keyword and two outputs, using a closure leaf."""

    def f(x, y, s, power=2):
        h = (x @ w).tanh() * s + y
        return h ** power, (x * y).sum()

    return f


@pytest.mark.parametrize("reentrant", [False, True])
def test_gradients_match_torch_and_plain(reentrant):
    x, y, w = arr("ck-x", 3, 4), arr("ck-y", 3, 4), arr("ck-w", 4, 4)
    results = []
    for T in LIBS:
        tx, ty, tw = (T.tensor(v, requires_grad=True) for v in (x, y, w))
        a = tx * 1.5  # a non-leaf input
        kwargs = {} if reentrant else {"power": 3}
        h, s = ck(T)(block(T, tw), a, ty, 0.5, use_reentrant=reentrant, **kwargs)
        ((h * h).sum() + s).backward()
        results.append((h, s, tx.grad, ty.grad, tw.grad))
    plain = []
    tx, ty, tw = (autojac.tensor(v, requires_grad=True) for v in (x, y, w))
    h, s = block(autojac, tw)(tx * 1.5, ty, 0.5, **({} if reentrant else {"power": 3}))
    ((h * h).sum() + s).backward()
    plain = (h, s, tx.grad, ty.grad, tw.grad)
    for ours, theirs, ref in zip(results[1], results[0], plain):
        close(ours, theirs)
        close(ours, ref, rtol=1e-12, atol=1e-12)  # the same ops, but gradients may be summed in another order


def test_grad_fn_is_one_node_with_edges_to_inputs_and_parameters():
    w = autojac.ones(2, requires_grad=True)
    x = autojac.ones(2, requires_grad=True)
    y = ck(autojac)(lambda t: t * w, x * 2, use_reentrant=False)
    assert y.grad_fn.name() == "CheckpointFunctionBackward"
    names = [f.name() for f, _ in y.grad_fn.next_functions]
    assert names == ["MulBackward0", "torch::autograd::AccumulateGrad"]
    assert y.grad_fn.next_functions[1][0].variable is w


def test_autograd_grad_and_parameters_only_in_the_closure():
    w = autojac.tensor(arr("cl-w", 3), requires_grad=True)
    x = autojac.tensor(arr("cl-x", 3))  # does not require grad
    y = ck(autojac)(lambda t: (t * w).sin(), x, use_reentrant=False)
    (gw,) = autojac.autograd.grad(y.sum(), w)
    np.testing.assert_allclose(gw.numpy(), np.cos(x.numpy() * w.detach().numpy()) * x.numpy(), rtol=1e-12)


def test_create_graph_higher_derivatives_match_torch():
    x, w = arr("hg-x", 2, 3), arr("hg-w", 3, 3)
    results = []
    for T in LIBS:
        tx, tw = T.tensor(x, requires_grad=True), T.tensor(w, requires_grad=True)
        a = tx.sin()
        y = ck(T)(lambda t, tw=tw: ((t @ tw).tanh() ** 2).sum(), a, use_reentrant=False)
        gx, gw = T.autograd.grad(y, (tx, tw), create_graph=True)
        hx, hw = T.autograd.grad((gx ** 2).sum() + (gw * gw).sum(), (tx, tw), create_graph=True)
        (kx,) = T.autograd.grad(hx.sum() + hw.sum(), tx)
        results.append((gx, gw, hx, hw, kx))
    for ours, theirs in zip(*reversed(results)):
        close(ours, theirs, rtol=1e-9, atol=1e-11)


def test_inputs_that_depend_on_each_other_are_not_counted_twice():
    x = arr("dep-x", 4)
    for create_graph in (False, True):
        grads = []
        for use_ck in (True, False):
            tx = autojac.tensor(x, requires_grad=True)
            x1 = tx.exp()
            x2 = x1 * x1  # depends on x1, and both go into the checkpoint
            f = lambda a, b: (a * b).sin()  # noqa: E731
            out = ck(autojac)(f, x1, x2, use_reentrant=False) if use_ck else f(x1, x2)
            (g,) = autojac.autograd.grad(out.sum(), tx, create_graph=create_graph)
            h = autojac.autograd.grad(g.sum(), tx)[0] if create_graph else None
            grads.append((g, h))
        close(grads[0][0], grads[1][0])
        if create_graph:
            close(grads[0][1], grads[1][1], rtol=1e-9)


def test_jacobians_hessian_and_vmap_through_checkpoint():
    x = autojac.tensor(arr("tr-x", 3))
    f = lambda t: t.exp() * t.sum()  # noqa: E731
    g = lambda t: ck(autojac)(f, t, use_reentrant=False)  # noqa: E731
    for transform in (autojac.func.jacrev, autojac.func.jacfwd):
        np.testing.assert_allclose(transform(g)(x).numpy(), transform(f)(x).numpy(), rtol=1e-12)
    ours = autojac.autograd.functional.jacobian(g, x, vectorize=True)
    theirs = torch.autograd.functional.jacobian(
        lambda t: torch.utils.checkpoint.checkpoint(lambda u: u.exp() * u.sum(), t, use_reentrant=False),
        torch.tensor(x.numpy()))
    close(ours, theirs)
    s = lambda t: f(t).sum()  # noqa: E731
    sc = lambda t: g(t).sum()  # noqa: E731
    for h in (autojac.func.hessian, lambda fn: autojac.func.jacrev(autojac.func.jacrev(fn))):
        np.testing.assert_allclose(h(sc)(x).numpy(), h(s)(x).numpy(), rtol=1e-12)
    xb = autojac.tensor(arr("tr-b", 4, 3))
    np.testing.assert_allclose(autojac.func.vmap(autojac.func.grad(sc))(xb).numpy(),
                               autojac.func.vmap(autojac.func.grad(s))(xb).numpy(), rtol=1e-12)


def dropout(T):
    def f(t):
        return t * (T.rand(t.shape, dtype=t.dtype) > 0.5) * 2.0

    return f


@pytest.mark.parametrize("preserve", [True, False])
def test_random_ops_replay_like_torch(preserve):
    x = arr("rng-x", 2, 5)
    results = []
    for T in LIBS:
        T.manual_seed(7)
        tx = T.tensor(x, requires_grad=True)
        y = ck(T)(dropout(T), tx, use_reentrant=False, preserve_rng_state=preserve)
        (y * tx).sum().backward()
        after = T.rand(3, dtype=T.float64)  # the caller's random stream after the backward
        results.append((y, tx.grad, after))
    for ours, theirs in zip(results[1], results[0]):  # torch's stream exactly: a wrong mask is off by O(1)
        close(ours, theirs, rtol=1e-12, atol=1e-12)
    if preserve:  # the recomputed mask is the forward's: d/dx (2 m x * x) = 4 m x = 2 y
        y, gx, _ = results[1]
        np.testing.assert_allclose(gx.numpy(), 2 * y.detach().numpy(), rtol=1e-12)


def test_no_grad_and_non_tensor_outputs():
    x = autojac.ones(2, requires_grad=True)
    with autojac.no_grad():
        y = ck(autojac)(lambda t: t * 2, x, use_reentrant=False)
    assert y.grad_fn is None and not y.requires_grad
    out, tag = ck(autojac)(lambda t: (t * 3, "tag"), x, use_reentrant=False)
    assert tag == "tag"
    out.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_in_place_change_of_a_saved_input_is_caught():
    for T in LIBS:
        x = T.ones(3, requires_grad=True)
        a = x * 1
        y = ck(T)(lambda t: t.sin(), a, use_reentrant=True)
        with T.no_grad():
            a.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_warnings_and_errors_follow_torch():
    msgs = []
    for T in LIBS:
        x = T.ones(2, requires_grad=True)
        with pytest.warns(UserWarning) as rec:
            y = ck(T)(lambda t: t * 2, x)
        msgs.append(str(rec[0].message))
        assert y.requires_grad
        with pytest.raises(ValueError) as e:
            ck(T)(lambda t, k: t * k, x, k=2, use_reentrant=True)
        msgs.append(str(e.value))
        w = T.ones(2, requires_grad=True)
        with pytest.warns(UserWarning) as rec:
            y = ck(T)(lambda t, w=w: t * w, T.ones(2), use_reentrant=True)
        msgs.append(str(rec[0].message))
        msgs.append(y.requires_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = ck(T)(lambda t, w=w: t * w, T.ones(2), use_reentrant=False)  # the non-reentrant one sees w
        msgs.append(y.requires_grad)
    assert msgs[:5] == msgs[5:]
    assert msgs[3] is False and msgs[4] is True


def test_recomputation_that_changes_shape_is_reported():
    calls = []

    def f(t):
        calls.append(1)
        return t[: len(calls) + 1] * 2

    x = autojac.ones(4, requires_grad=True)
    y = ck(autojac)(f, x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="different metadata"):
        y.sum().backward()


def test_checkpoint_sequential_matches_torch():
    x = arr("seq", 3)
    results = []
    for T in LIBS:
        tx = T.tensor(x, requires_grad=True)
        fns = [T.sin, T.exp, lambda t: t * 2, T.tanh, T.cos]
        y = T.utils.checkpoint.checkpoint_sequential(fns, 2, tx, use_reentrant=False)
        y.sum().backward()
        results.append((y, tx.grad))
    for ours, theirs in zip(results[1], results[0]):
        close(ours, theirs)


# --------------------------------------------------------------------------- memory
def _chain(x, n: int, segment: int | None):
    def layers(k):
        def f(t):
            for _ in range(k):
                t = (t * 1.001 + 0.01).tanh()
            return t

        return f

    if segment is None:
        return layers(n)(x)
    for _ in range(n // segment):
        x = ck(autojac)(layers(segment), x, use_reentrant=False)
    return x


def _measure(segment: int | None) -> tuple[int, int, np.ndarray]:
    """Bytes the graph holds after the forward, peak bytes during backward, and the gradient."""
    x = autojac.tensor(arr("mem", 8192), requires_grad=True)  # 64 KiB per array
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = _chain(x, 200, segment).sum()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return held, peak, x.grad.numpy()


def test_deep_chain_keeps_far_less_memory_with_the_same_gradient():
    held_plain, peak_plain, g_plain = _measure(None)
    held_ck, peak_ck, g_ck = _measure(10)
    array = 8192 * 8
    assert held_plain > 200 * array  # every layer keeps at least one array alive
    assert held_ck < 30 * array  # 20 checkpoints keep their inputs (plus the forward's last output)
    assert held_ck * 10 < held_plain and peak_ck * 5 < peak_plain
    np.testing.assert_allclose(g_ck, g_plain, rtol=1e-12, atol=1e-12)
