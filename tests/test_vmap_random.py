"""Random operations inside a vectorized ``vmap``.

Under ``randomness="different"`` a sampler draws one sample per batch element *at once*, a leading
dim per vmap level (outermost first), as torch.func does; under ``"same"`` it draws once, unbatched.
So the numbers equal torch.func.vmap's for the same seed, and no fallback to the per-element loop
happens (``VmapFallbackWarning`` is an error here). A vectorized run that falls back after drawing
rewinds the generator, so the loop draws the same stream.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import autojac
from autojac.func._vmap import VmapFallbackWarning

LIBS = (torch, autojac)

SAMPLERS = {
    "rand": lambda T: (lambda a: a + T.rand(3, dtype=T.float64)),
    "randn_f32": lambda T: (lambda a: a + T.randn(3, dtype=T.float32).double()),
    "randn_like_f64": lambda T: (lambda a: a + T.randn_like(a)),
    "randn_20": lambda T: (lambda a: a.sum() + T.randn(20, dtype=T.float64)),  # torch's vectorized normal path
    "randint": lambda T: (lambda a: a + T.randint(0, 10, (3,))),
    "rand_like": lambda T: (lambda a: a * T.rand_like(a)),
    "normal_tensor_mean": lambda T: (lambda a: T.normal(a, 2.0)),
    "dropout": lambda T: (lambda a: T.nn.functional.dropout(a, 0.5)),
    "dropout1d": lambda T: (lambda a: T.nn.functional.dropout1d(a.reshape(1, 3, 1).expand(1, 3, 4), 0.5)),
    "normal_": lambda T: (lambda a: a.clone().normal_()),
    "uniform_f32": lambda T: (lambda a: a.float().uniform_(-2.0, 3.0).double()),
}


def _run(T, fn, x: np.ndarray, mode: str, seed: int = 0):
    T.manual_seed(seed)
    return T.func.vmap(fn, randomness=mode)(T.tensor(x)).numpy()


def _vectorized(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", VmapFallbackWarning)
        return call()


# torch refuses normal() of a batched mean under "same" (a draw it does not batch; we draw once and add), and
# an in-place fill of a batched tensor under "same" (we loop)
CASES = [(n, m) for n in SAMPLERS for m in ("different", "same")
         if (n, m) != ("normal_tensor_mean", "same") and not (n.startswith(("normal_", "uniform_")) and m == "same")]


@pytest.mark.parametrize("name,mode", CASES)
def test_draws_equal_torch_func(name, mode):
    x = np.tile(np.arange(1, 4, dtype=np.float64) / 7, (6, 1))  # equal rows: outputs differ only by their draws
    want = _run(torch, SAMPLERS[name](torch), x, mode)
    got = _vectorized(lambda: _run(autojac, SAMPLERS[name](autojac), x, mode))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    rows_equal = all(np.array_equal(got[0], r) for r in got[1:])
    assert rows_equal == (mode == "same")


@pytest.mark.parametrize("outer,inner", [("different", "different"), ("different", "same"), ("same", "different"),
                                         ("same", "same")])
def test_nested_levels_draw_in_torch_order(outer, inner):
    x = np.zeros((2, 5, 3))

    def build(T):
        f = T.func.vmap(lambda a: a + T.rand(3, dtype=T.float64), randomness=inner)
        return T.func.vmap(f, randomness=outer)

    torch.manual_seed(3)
    want = build(torch)(torch.tensor(x)).numpy()
    autojac.manual_seed(3)
    got = _vectorized(lambda: build(autojac)(autojac.tensor(x)).numpy())
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_per_sample_gradients_through_dropout_match_torch():
    """Opacus-style per-sample gradients of a model with dropout: one mask per sample, torch's masks."""
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(4, 6)), rng.normal(size=4)
    xs, ys = rng.normal(size=(8, 6)), rng.normal(size=(8, 4))

    def per_sample(T):
        F = T.nn.functional

        def loss(params, x, y):
            h = F.dropout(F.linear(x, params[0], params[1]).tanh(), 0.3)
            return ((h - y) ** 2).sum()

        g = T.func.vmap(T.func.grad(loss), in_dims=(None, 0, 0), randomness="different")
        T.manual_seed(11)
        return g((T.tensor(w), T.tensor(b)), T.tensor(xs), T.tensor(ys))

    want = per_sample(torch)
    got = _vectorized(lambda: per_sample(autojac))
    for u, v in zip(got, want):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)


def test_randomness_error_still_raises_before_drawing():
    autojac.manual_seed(0)
    before = autojac.get_rng_state().numpy().copy()
    with pytest.raises(RuntimeError, match="randomness error mode"):
        autojac.func.vmap(lambda a: a + autojac.rand(3))(autojac.zeros(4, 3))
    np.testing.assert_array_equal(autojac.get_rng_state().numpy(), before)


def test_fallback_after_a_draw_rewinds_the_generator():
    """The function draws, then reads a batched value (``.item()``): vmap falls back to the loop, which
    must draw from where the vectorized attempt started. Uniform doubles are one stream, so the loop's
    per-row draws equal one draw of the whole batch (torch's numbers)."""

    def f(a):
        r = autojac.rand(3, dtype=autojac.float64)
        return r * 0 + r if a.sum().item() > -1 else r

    autojac.manual_seed(4)
    with pytest.warns(VmapFallbackWarning):
        got = autojac.func.vmap(f, randomness="different")(autojac.zeros(6, 3, dtype=autojac.float64)).numpy()
    torch.manual_seed(4)
    np.testing.assert_allclose(got, torch.rand(6, 3, dtype=torch.float64).numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("T", LIBS, ids=["torch", "autojac"])
def test_randperm_and_nested_inplace_fills_differ_per_element(T):
    """Draws with no batched form here (a permutation each, an in-place fill under two vmap levels) still
    give each element its own numbers (autojac runs them through the loop)."""
    T.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VmapFallbackWarning)
        perms = T.func.vmap(lambda a: a + T.randperm(6), randomness="different")(T.zeros(5, 6, dtype=T.int64))
        inner = T.func.vmap(lambda a: a.clone().normal_(), randomness="different")
        fills = T.func.vmap(inner, randomness="different")(T.zeros(5, 2, 3)).reshape(10, 3)
    for out in (perms.numpy(), fills.numpy()):
        assert not all(np.array_equal(out[0], r) for r in out[1:])
    assert all(sorted(r) == list(range(6)) for r in perms.numpy().tolist())
