"""``forward.record_tape`` / ``forward.replay``: a forward-mode pass recorded once gives the JVP of new tangents
from its saved primals (no primal op reruns), the same as ``torch.func.jvp`` per direction; a tape that cannot
stand for the pass (in-place writes, tangents set by custom Functions) answers None."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac
from autojac._core import forward
from autojac.autograd.forward_ad import make_dual_batched, unpack_batched

RNG = np.random.default_rng(17)
X = RNG.normal(size=(5, 4))
W = RNG.normal(size=(4, 4))

FUNCTIONS = {  # name -> f(T, x), for autojac and torch alike
    "elementwise": lambda T, x: T.tanh(x) * T.exp(-x ** 2) + T.sigmoid(2 * x),
    "matmul-broadcast": lambda T, x: x + T.tanh(x @ T.tensor(W)) @ T.tensor(W).T,
    "reductions": lambda T, x: x * x.sum(-1, keepdim=True) - T.logsumexp(x, -1, keepdim=True),
    "views-and-cat": lambda T, x: T.cat([x[:, :2].flip(-1), (x[:, 2:] * 3).transpose(0, 1).T], -1).reshape(5, 4),
    "multi-output": lambda T, x: x.max(-1, keepdim=True)[0] * x + T.softmax(x, -1),
    "where": lambda T, x: T.where(x > 0, x ** 3, T.sin(x)),
    "identity": lambda T, x: x,
}


def _recorded_pass(f, x, tangent):
    level = forward.enter_level()
    try:
        forward.record_tape(level)
        dual = make_dual_batched(x, tangent, level)
        out = f(dual)
        first = unpack_batched(out, level).tangent
    finally:
        tape = forward.stop_tape(level)
        forward.exit_level(level)
    return tape, dual, out, first


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_replay_equals_torch_jvp_for_new_tangents(name):
    f = FUNCTIONS[name]
    x = autojac.tensor(X)
    t2, t3 = RNG.normal(size=(2,) + X.shape), RNG.normal(size=(3,) + X.shape)
    tape, dual, out, first = _recorded_pass(lambda z: f(autojac, z), x, autojac.tensor(t2))
    got = forward.replay(tape, [(dual, autojac.tensor(t3))], out)  # another number of directions
    assert tuple(got.shape) == t3.shape and not got.requires_grad
    for k in range(3):
        _, want = torch.func.jvp(lambda z: f(torch, z), (torch.tensor(X),), (torch.tensor(t3[k]),))
        np.testing.assert_allclose(got[k].numpy(), want.numpy(), rtol=1e-12, atol=1e-13)
    for k in range(2):  # and the recorded pass itself
        _, want = torch.func.jvp(lambda z: f(torch, z), (torch.tensor(X),), (torch.tensor(t2[k]),))
        np.testing.assert_allclose(first[k].numpy(), want.numpy(), rtol=1e-12, atol=1e-13)


def test_replay_runs_no_primal_op_and_keeps_no_tangent():
    calls = []
    x = autojac.tensor(X)

    def f(z):
        calls.append(1)
        return autojac.tanh(z @ autojac.tensor(W)) * z

    tape, dual, out, _ = _recorded_pass(f, x, autojac.tensor(RNG.normal(size=(1,) + X.shape)))
    assert all(e[3]._fw is None for e in tape)  # stop_tape dropped the pass's tangents
    forward.replay(tape, [(dual, autojac.tensor(RNG.normal(size=(2,) + X.shape)))], out)
    assert len(calls) == 1


def test_replay_refuses_after_an_in_place_write():
    x = autojac.tensor(X)
    holder = {}

    def f(z):
        h = autojac.sin(z)
        holder["h"] = h
        return h * z

    tape, dual, out, _ = _recorded_pass(f, x, autojac.tensor(RNG.normal(size=(1,) + X.shape)))
    tangent = autojac.tensor(RNG.normal(size=(1,) + X.shape))
    assert forward.replay(tape, [(dual, tangent)], out) is not None
    holder["h"].add_(1.0)  # a primal the rules read has changed
    assert forward.replay(tape, [(dual, tangent)], out) is None

    def g(z):  # an in-place op inside the pass: its tangent is set outside propagate
        y = z * 2.0
        y.add_(autojac.sin(z))
        return y * z

    tape, dual, out, _ = _recorded_pass(g, x, autojac.tensor(RNG.normal(size=(1,) + X.shape)))
    assert forward.replay(tape, [(dual, tangent)], out) is None


def test_replay_refuses_a_custom_function_tangent():
    class MulSin(autojac.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_forward(a, b)
            return a * b.sin()

        @staticmethod
        def backward(ctx, g):
            raise NotImplementedError

        @staticmethod
        def jvp(ctx, ta, tb):
            a, b = ctx.saved_tensors
            return ta * b.sin() + tb * a * b.cos()

    x = autojac.tensor(X)
    tape, dual, out, first = _recorded_pass(lambda z: MulSin.apply(z, z) + 1.0, x,
                                            autojac.tensor(RNG.normal(size=(1,) + X.shape)))
    assert first is not None
    assert forward.replay(tape, [(dual, autojac.tensor(RNG.normal(size=(1,) + X.shape)))], out) is None


def test_a_tape_lives_with_its_level_and_its_thread():
    import threading

    level = forward.enter_level()
    forward.record_tape(level)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(forward.stop_tape(level)))  # another thread: no tape
    worker.start()
    worker.join()
    autojac.sin(make_dual_batched(autojac.tensor(X), autojac.tensor(X[None]), level))
    forward.exit_level(level)  # not stopped: dropped with the level
    assert seen == [[]] and forward.stop_tape(level) == []
