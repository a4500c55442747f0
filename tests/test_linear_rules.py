"""``ops._declare.linear``: the JVP of a linear primitive is the primitive on the tangent.

The rule contract lets a tangent carry any number of leading batch dims; the table tests meet one.
Here each kind of batching metadata the shortcut reads (BROADCAST, Axes, NB, Shape, a rule
function) runs with two batch dims and must equal the rule run on each batch element alone.
"""

from __future__ import annotations

import numpy as np
import pytest

import autojac
from autojac._core.batching import PER_ELEMENT
from autojac.ops._declare import linear

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 4))
V = RNG.normal(size=4)
W = RNG.normal(size=(2, 4, 5))

CASES = {
    "mul_broadcast": (lambda T, x: x * T.tensor(W[:, :1, :4].reshape(2, 1, 4)), X),  # BROADCAST, lifted
    "sum": (lambda T, x: x.sum(1), X),  # Axes
    "cumsum_0d": (lambda T, x: T.cumsum(x, 0), np.array(1.5)),  # Axes on a 0-d input
    "flip": (lambda T, x: x.flip(0), X),
    "index": (lambda T, x: x[1:, ::2], X),  # NB
    "reshape": (lambda T, x: x.reshape(2, 6), X),  # Shape
    "permute": (lambda T, x: x.permute(1, 0), X),  # rule functions from here on
    "roll_flat": (lambda T, x: T.roll(x, 2), X),
    "matmul_vec": (lambda T, x: T.tensor(V) @ x.mT, X),
    "matmul_batched": (lambda T, x: x @ T.tensor(W), X),
    "einsum": (lambda T, x: T.einsum("ij,j->i", x, T.tensor(V)), X),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_two_batch_dims_match_per_element(name):
    fn, x0 = CASES[name]
    x = autojac.tensor(x0, requires_grad=True)
    y = fn(autojac, x)
    node = y.grad_fn
    i = next(k for k, a in enumerate(node.inputs) if getattr(a, "requires_grad", False))
    rule = node.op.jvp[i]
    # the shortcut's rule, not a hand-written one (matmul's runs one product where the tangent's batch dims can
    # lead as its stack dims, else the shortcut's: matmul_batched takes that branch)
    assert rule.__qualname__.startswith(("_linear_jvp", "_stacked_jvp")), rule
    t = autojac.tensor(RNG.normal(size=(2, 3) + tuple(node.inputs[i].shape)))
    got = rule(t, y, *node.inputs, **node.params).numpy()
    want = np.stack([np.stack([rule(t[a, b], y, *node.inputs, **node.params).numpy() for b in range(3)])
                     for a in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_per_element_ops_write_their_jvp_by_hand():
    with pytest.raises(TypeError, match="write the JVP rules by hand"):
        linear("loop", lambda x: x, vjp=(lambda g, ans, x: g,), batch=PER_ELEMENT)
