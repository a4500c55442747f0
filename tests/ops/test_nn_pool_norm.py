"""Pooling, batch norm and dropout beyond the op table (tests/ops/test_nn.py holds their rows):
errors, NaN and -inf windows, ``return_indices``, running statistics, and dropout's mask drawn
from the generator exactly as PyTorch's CPU ``bernoulli_``.
"""

from __future__ import annotations

import numpy as np
import pytest

from ._oracle import autojac, rng_for, to_np, torch


def F(T):
    return T.nn.functional


def both(fn, *arrays, dtype="float64"):
    """``fn`` run in autojac and torch on the same arrays: (result or exception) per library."""
    out = []
    for T in (autojac, torch):
        xs = [T.tensor(a, dtype=getattr(T, dtype)) for a in arrays]
        try:
            out.append(fn(T, *xs))
        except Exception as e:  # noqa: BLE001 (compared below)
            out.append(e)
    return out


@pytest.mark.parametrize("call", [
    lambda T, x: F(T).max_pool2d(x, 3, padding=2),
    lambda T, x: F(T).max_pool2d(x, 5),
    lambda T, x: F(T).max_pool2d(x, 0),
    lambda T, x: F(T).max_pool2d(x, 2, stride=0),
    lambda T, x: F(T).avg_pool2d(x, 3, padding=2),
    lambda T, x: F(T).max_pool2d(x[0, 0, 0], 2),
    lambda T, x: F(T).avg_pool1d(x, 2),
], ids=["pad_too_big", "output_too_small", "kernel_zero", "stride_zero", "avg_pad_too_big", "1d_input",
        "avg1d_on_4d"])
def test_pooling_errors_match_torch(call) -> None:
    got, want = both(call, np.zeros((1, 2, 4, 4)))
    assert isinstance(want, Exception) and type(got) is type(want), (got, want)


def test_max_pool_picks_torchs_element_with_nan_and_ties() -> None:
    x = np.array([[[[1.0, np.nan, 3.0, np.nan], [3.0, 3.0, 0.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.0, 5.0, 5.0, 1.0]]]])
    (ya, ia), (yt, it) = both(lambda T, x: F(T).max_pool2d(x, 2, return_indices=True), x)
    np.testing.assert_array_equal(to_np(ia), to_np(it))
    np.testing.assert_allclose(to_np(ya), to_np(yt), equal_nan=True)
    assert ia.dtype == autojac.int64


def test_max_pool_window_of_minus_infinity_keeps_an_input_element() -> None:
    x = np.full((1, 1, 3, 3), -np.inf)
    x[0, 0, 2, 2] = 1.0
    (_, ia), (_, it) = both(lambda T, x: F(T).max_pool2d(x, 2, stride=2, padding=1, return_indices=True), x)
    np.testing.assert_array_equal(to_np(ia), to_np(it))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_mask_is_torchs_for_a_seed(dtype: str, p: float) -> None:
    x = rng_for(f"drop{p}").standard_normal((7, 33))
    results = []
    for T in (autojac, torch):
        T.manual_seed(1234)
        a = F(T).dropout(T.tensor(x, dtype=getattr(T, dtype)), p)
        b = F(T).dropout(T.tensor(x, dtype=getattr(T, dtype)), p)  # the stream moved on as torch's
        results.append((to_np(a), to_np(b)))
    (a1, b1), (a2, b2) = results
    np.testing.assert_array_equal(a1 == 0, a2 == 0)
    np.testing.assert_array_equal(b1 == 0, b2 == 0)
    rtol = 1e-6 if dtype == "float32" else 1e-15
    np.testing.assert_allclose(a1, a2, rtol=rtol)
    np.testing.assert_allclose(b1, b2, rtol=rtol)


def test_dropout_gradient_is_the_mask_and_edge_probabilities() -> None:
    x = autojac.ones(50, requires_grad=True)
    autojac.manual_seed(0)
    y = F(autojac).dropout(x, 0.4)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), to_np(y.detach()))
    assert F(autojac).dropout(x, 0.0) is x and F(autojac).dropout(x, 0.7, training=False) is x
    assert (to_np(F(autojac).dropout(x, 1.0)) == 0).all()
    for T in (autojac, torch):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            F(T).dropout(T.ones(3), 1.5)


def test_dropout_inplace_writes_the_input() -> None:
    written = []
    for T in (autojac, torch):
        x = T.ones(4, 5)
        T.manual_seed(3)
        y = F(T).dropout(x, 0.5, inplace=True)
        assert y is x
        written.append(to_np(x))
    np.testing.assert_array_equal(written[0], written[1])
    assert 0 < (written[0] == 0).sum() < 20


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_updates_running_stats_as_torch(momentum: float) -> None:
    rng = rng_for(f"bn{momentum}")
    xs = [rng.standard_normal((6, 3, 4)) for _ in range(3)]
    stats = {}
    for T in (autojac, torch):
        rm, rv = T.zeros(3, dtype=T.float64), T.ones(3, dtype=T.float64)
        for x in xs:
            F(T).batch_norm(T.tensor(x), rm, rv, training=True, momentum=momentum)
        stats[T.__name__] = (to_np(rm), to_np(rv))
    for a, t in zip(stats["autojac"], stats["torch"]):
        np.testing.assert_allclose(a, t, rtol=1e-12)


def test_batch_norm_errors_match_torch() -> None:
    for T in (autojac, torch):
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
            F(T).batch_norm(T.ones(1, 3), None, None, training=True)
    got, want = both(lambda T, x: F(T).batch_norm(x, T.zeros(4), T.ones(4)), np.zeros((2, 3)))
    assert isinstance(want, RuntimeError) and isinstance(got, RuntimeError)


def test_pooled_cnn_hessian_matches_torch() -> None:
    """Second derivatives through conv, max pool, avg pool and batch norm together."""
    rng = rng_for("cnn_hessian")
    x = rng.standard_normal((2, 1, 6, 6))
    w = rng.standard_normal((2, 1, 3, 3))

    def loss(T):
        def f(w):
            h = F(T).conv2d(T.tensor(x), w, padding=1)
            h = F(T).batch_norm(h, None, None, training=True)
            h = F(T).max_pool2d(T.tanh(h), 2) + F(T).avg_pool2d(h, 2)
            return F(T).adaptive_avg_pool2d(h, 1).pow(2).sum()
        return f

    ha = autojac.autograd.functional.hessian(loss(autojac), autojac.tensor(w))
    ht = torch.autograd.functional.hessian(loss(torch), torch.tensor(w))
    np.testing.assert_allclose(to_np(ha), to_np(ht), rtol=1e-9, atol=1e-11)
